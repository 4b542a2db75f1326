"""Differential fuzzing of Jinja expressions: many expressions per run, one pre_init item each."""
import json
import re
import sys
import time
from pathlib import Path

import gen_expr
import harness as H

R = gen_expr.R
TMP = Path(H.WORKDIR) / "expr"
TMP.mkdir(exist_ok=True)
LOG = H.HERE / "logs" / "expr.jsonl"
LOG.parent.mkdir(exist_ok=True)

VALS = {
    "n": ["7", "0", "-3", "255", "13", "100000000000000000000", "1"],
    "m": ["2", "5", "-1", "3"],
    "f": ["2.5", "-0.0", "1e-05", "1e16", "0.1", "3.0", "1.5e300", "100.0", "-2.75"],
    "g": ["0.5", "1.0", "25.0", "1e+16", "123.456"],
    "s": ['"abc"', '"Stage_X"', '" a b "', '"ty_40_1"', '""', '"héllo wörld"', '"A,B;C"', '"12"', '"3.5"',
          '"line one\\nline two\\n"', '"%d"', '"it\'s"'],
    "t": ['"xyz"', '"Hello World"', '"10"', '"a_b_c"'],
    "b": ["true", "false"],
    "l": ["[1, 2, x]", "[]", "[3, 1, 2]", "[a, b]", "[1.5, null, true]", "[[1, 2], {a: 1}]"],
    "d": ["{a: 1, b: [1.5, null]}", "{}", "{b: 2, a: x}", "{1: one, x: 2.5}"],
}

SUPPORT = """module: x
entity_models:
  - name: Base
    description: base
    parameters:
      name: {{type: id, description: id}}
      n: {{type: int, description: n, default: 5}}
      f: {{type: float, description: f, default: 1.5}}
  - name: Dev
    description: dev
    pre_defines:
      nothing: {{description: none value, value: null}}
    parameters:
      name: {{type: id, description: id}}
      n: {{type: int, description: n}}
      m: {{type: int, description: m}}
      f: {{type: float, description: f}}
      g: {{type: float, description: g}}
      s: {{type: str, description: s}}
      t: {{type: str, description: t}}
      b: {{type: bool, description: b}}
      l: {{type: list, description: l}}
      d: {{type: dict, description: d}}
      e:
        type: enum
        description: e
        values: {{A: 1, B: two, "3": null, X: 2.5}}
      obj: {{type: object, description: o}}
    pre_init:
{items}
"""

IOC = """ioc_name: fuzz_{ioc}
description: expr fuzz
entities:
  - type: x.Base
    name: base1
    n: 42
    f: 0.25
  - type: x.Dev
    name: {name}
    n: {n}
    m: {m}
    f: {f}
    g: {g}
    s: {s}
    t: {t}
    b: {b}
    l: {l}
    d: {d}
    e: {e}
    obj: base1
"""


def yq(s):
    return json.dumps(s, ensure_ascii=False)


def item_yaml(i, tmpl, marker=True):
    v = ("@@K%d@@" % i + tmpl + "@@E@@") if marker else tmpl
    return "      - type: text\n        value: %s\n" % yq(v)


def make_vals():
    v = {k: R.choice(opts) for k, opts in VALS.items()}
    v["name"] = R.choice(["dev1", "Dev_A", "x"])
    v["e"] = R.choice(["A", "B", '"3"', "X"])
    v["ioc"] = R.choice(["a", "b"])
    return v


def write_case(d, vals, exprs, marker=True):
    d.mkdir(parents=True, exist_ok=True)
    items = "".join(item_yaml(i, e, marker) for i, e in enumerate(exprs))
    sup = SUPPORT.format(items=items.rstrip("\n"))
    ioc = IOC.format(**vals)
    (d / "x.ibek.support.yaml").write_text(sup)
    (d / "ioc.yaml").write_text(ioc)
    return sup, ioc


MRE = re.compile(r"@@K(\d+)@@(.*?)@@E@@", re.S)


def split(out):
    st = out.get("st.cmd", b"").decode(errors="replace")
    return {int(k): v for k, v in MRE.findall(st)}


def log(rec):
    with LOG.open("a") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def run_batch(bn, k=80):
    vals = make_vals()
    exprs = [gen_expr.expr() for _ in range(k)]
    d = TMP / "b"
    write_case(d, vals, exprs)
    pr = H.run_ibek(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "ib", probe=True)
    if pr["rc"] != 0:
        # entity construction failed; compare status only
        b = H.run_forge(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "fo")
        if b[0] == 0:
            log({"kind": "construct", "vals": vals, "ibek": pr["err"], "forge": "ok"})
        return 0, 0
    fails = set(pr["fails"].get("1", []))
    good = [e for i, e in enumerate(exprs) if i not in fails]
    bad = [e for i, e in enumerate(exprs) if i in fails]
    ndiff = 0
    if good:
        write_case(d, vals, good)
        a = H.run_ibek(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "ib")
        b = H.run_forge(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "fo")
        if a[0] != 0:
            log({"kind": "ibek-batch-fail", "vals": vals, "err": a[1], "exprs": good})
        elif b[0] != 0:
            # find which expression makes iocforge fail: run individually
            for e in good:
                write_case(d, vals, [e])
                b1 = H.run_forge(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "fo")
                if b1[0] != 0:
                    a1 = H.run_ibek(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "ib")
                    if a1[0] == 0 and not re.search(r"(?i)generator object| at 0x[0-9a-f]+", split(a1[2]).get(0) or ""):
                        ndiff += 1
                        log({"kind": "forge-fails", "vals": vals, "expr": e,
                             "ibek": split(a1[2]).get(0), "forge": b1[1][:600]})
        else:
            sa, sb = split(a[2]), split(b[2])
            for i, e in enumerate(good):
                if sa.get(i) != sb.get(i) and not re.search(r"(?i)generator object| at 0x[0-9a-f]+", sa.get(i) or ""):
                    ndiff += 1
                    log({"kind": "differ", "vals": vals, "expr": e, "ibek": sa.get(i), "forge": sb.get(i)})
            if not ndiff and a[2] != b[2] and not re.search(r"(?i)generator object", a[2].get("st.cmd", b"").decode(errors="replace")):
                ndiff += 1
                log({"kind": "whole-differ", "vals": vals, "exprs": good,
                     "ibek": a[2].get("st.cmd", b"").decode(errors="replace")[-3000:],
                     "forge": b[2].get("st.cmd", b"").decode(errors="replace")[-3000:]})
    for e in bad:
        write_case(d, vals, [e])
        b = H.run_forge(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "fo")
        if b[0] == 0:
            a = H.run_ibek(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "ib")
            if a[0] != 0:
                ndiff += 1
                log({"kind": "forge-accepts", "vals": vals, "expr": e, "ibek": a[1][-600:],
                     "forge": split(b[2]).get(0)})
    return k, ndiff


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else int(time.time())
    nb = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    R.seed(seed)
    tot = diffs = 0
    t0 = time.time()
    for bn in range(nb):
        k, nd = run_batch(bn)
        tot += k
        diffs += nd
        print("batch %d: total exprs %d diffs %d (%.0fs)" % (bn, tot, diffs, time.time() - t0), flush=True)
    H.WORKER.stop()
