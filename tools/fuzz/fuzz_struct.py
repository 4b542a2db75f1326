"""Differential fuzzing of whole support/instance files."""
import json
import shutil
import sys
import time
from pathlib import Path

import gen_struct
import harness as H

TMP = Path(H.WORKDIR) / "struct"
TMP.mkdir(exist_ok=True)
SAVE = H.HERE / "logs" / "struct"
SAVE.mkdir(parents=True, exist_ok=True)


def run_pair(sup, ioc, d=None, cli=False):
    d = d or TMP / "c"
    d.mkdir(parents=True, exist_ok=True)
    (d / "x.ibek.support.yaml").write_text(sup)
    (d / "ioc.yaml").write_text(ioc)
    a = H.run_ibek(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "ib", cli=cli)
    b = H.run_forge(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "fo")
    return a, b


def kind(a, b):
    if H.ok(a[0]) and not H.ok(b[0]):
        return "forge-fails"
    if not H.ok(a[0]) and H.ok(b[0]):
        return "forge-accepts"
    if H.ok(a[0]) and a[2] != b[2]:
        return "differ"
    return None


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else int(time.time())
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    gen_struct.R.seed(seed)
    stats = {}
    t0 = time.time()
    for i in range(n):
        sup, ioc = gen_struct.gen_case()
        a, b = run_pair(sup, ioc)
        k = kind(a, b)
        key = (H.ok(a[0]), k)
        stats[str(key)] = stats.get(str(key), 0) + 1
        if k:
            dd = SAVE / ("%d-%04d-%s" % (seed, i, k))
            dd.mkdir(parents=True, exist_ok=True)
            shutil.copy(TMP / "c" / "x.ibek.support.yaml", dd)
            shutil.copy(TMP / "c" / "ioc.yaml", dd)
            (dd / "ibek.txt").write_text("rc=%s\n%s\n" % (a[0], a[1]) +
                                         "".join("=== %s\n%s" % (f, c.decode(errors="replace")) for f, c in a[2].items()))
            (dd / "forge.txt").write_text("rc=%s\n%s\n" % (b[0], b[1]) +
                                          "".join("=== %s\n%s" % (f, c.decode(errors="replace")) for f, c in b[2].items()))
        if i % 50 == 49:
            print(i + 1, stats, "%.0fs" % (time.time() - t0), flush=True)
    print(n, stats, "%.0fs" % (time.time() - t0), flush=True)
    H.WORKER.stop()
