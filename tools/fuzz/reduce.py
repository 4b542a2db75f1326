"""Line-based delta-debugging reducer for a (support, ioc) pair.
usage: python3 reduce.py CASE_DIR [OUT_DIR] [--match REGEX]
Keeps the difference kind (forge-fails / forge-accepts / differ) and, with --match,
requires REGEX to be found in iocforge's stderr+outputs."""
import re
import sys
from pathlib import Path

import fuzz_struct as F
import harness as H


def sig(sup, ioc, match):
    a, b = F.run_pair(sup, ioc)
    k = F.kind(a, b)
    if k and match:
        text = b[1] + "".join(v.decode(errors="replace") for v in b[2].values())
        if not re.search(match, text):
            return None
    if k and match and k == "differ":
        pass
    return k


def ddmin_lines(lines, test):
    n = 2
    while len(lines) >= 2:
        chunk = max(1, len(lines) // n)
        reduced = False
        for i in range(0, len(lines), chunk):
            cand = lines[:i] + lines[i + chunk:]
            if test(cand):
                lines = cand
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(lines), n * 2)
    return lines


def reduce(sup, ioc, match=None):
    target = sig(sup, ioc, match)
    assert target, "no difference"
    s_lines = sup.split("\n")
    i_lines = ioc.split("\n")
    for _ in range(3):
        s_lines = ddmin_lines(s_lines, lambda c: sig("\n".join(c), "\n".join(i_lines), match) == target)
        i_lines = ddmin_lines(i_lines, lambda c: sig("\n".join(s_lines), "\n".join(c), match) == target)
    return "\n".join(s_lines), "\n".join(i_lines), target


if __name__ == "__main__":
    d = Path(sys.argv[1])
    match = None
    if "--match" in sys.argv:
        match = sys.argv[sys.argv.index("--match") + 1]
    sup, ioc, k = reduce((d / "x.ibek.support.yaml").read_text(), (d / "ioc.yaml").read_text(), match)
    out = Path(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else d / "min"
    out.mkdir(parents=True, exist_ok=True)
    (out / "x.ibek.support.yaml").write_text(sup)
    (out / "ioc.yaml").write_text(ioc)
    print(k)
    print(sup)
    print("-----")
    print(ioc)
    H.WORKER.stop()
