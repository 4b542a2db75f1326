"""Shared harness: run ibek (persistent in-process worker, or the real CLI) and iocforge."""
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import os as _os
_ROOT = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
_TOOLS = _os.environ.get("IOCFORGE_TOOLS", _os.path.join(_ROOT, ".tools"))
IBEK_PY = _os.path.join(_TOOLS, "ibek/bin/python")
IBEK_CLI = _os.path.join(_TOOLS, "ibek/bin/ibek")
IOCFORGE = _os.environ.get("IOCFORGE_BIN", _os.path.join(_ROOT, "target/release/iocforge"))
HERE = Path(__file__).resolve().parent

EPICS_ROOT = tempfile.mkdtemp(prefix="fuzz-epics-root-")
ENV = dict(os.environ)
ENV.update(IOC="/epics/ioc", RUNTIME_DIR="/epics/runtime", IOC_NAME="fuzz-ioc",
           EPICS_ROOT=EPICS_ROOT)
ENV.pop("PYTHONPATH", None)

OUT_FILES = ("st.cmd", "ioc.subst", "wait_list.yaml")


class Worker:
    def __init__(self):
        self.p = None

    def start(self):
        self.p = subprocess.Popen([IBEK_PY, str(HERE / "ibek_worker.py")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=ENV, text=True, cwd=WORKDIR)

    def stop(self):
        if self.p:
            try:
                self.p.kill()
                self.p.wait()
            except Exception:
                pass
            self.p = None

    def call(self, req, timeout=30):
        if self.p is None or self.p.poll() is not None:
            self.start()
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        import select
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            self.stop()
            return {"rc": "timeout", "err": "timeout"}
        line = self.p.stdout.readline()
        if not line:
            self.stop()
            return {"rc": "crash", "err": "worker died"}
        return json.loads(line)


WORKDIR = tempfile.mkdtemp(prefix="fuzz-cwd-")
WORKER = Worker()


def read_out(d):
    res = {}
    d = Path(d)
    if d.is_dir():
        for f in sorted(d.iterdir()):
            res[f.name] = f.read_bytes()
    return res


def run_ibek(instance, defs, out, cli=False, probe=False):
    shutil.rmtree(out, ignore_errors=True)
    if cli:
        t = time.time()
        p = subprocess.run([IBEK_CLI, "runtime", "generate", str(instance), *map(str, defs), "-o", str(out),
                            "--no-pvi"], env=ENV, cwd=WORKDIR, capture_output=True, timeout=120)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace"), read_out(out)
    req = {"instance": str(instance), "defs": list(map(str, defs)), "out": str(out)}
    if probe:
        req["probe"] = True
    r = WORKER.call(req)
    if probe:
        return r
    return r["rc"], r["err"], read_out(out)


def run_forge(instance, defs, out):
    shutil.rmtree(out, ignore_errors=True)
    try:
        p = subprocess.run([IOCFORGE, "runtime", "generate", str(instance), *map(str, defs), "-o", str(out),
                            "--no-pvi"], env=ENV, cwd=WORKDIR, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "timeout", "timeout", {}
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace"), read_out(out)


def ok(rc):
    return rc == 0


def compare(a, b):
    """a, b = (rc, msg, files). Return None if equivalent, else description."""
    if ok(a[0]) != ok(b[0]):
        return "status ibek=%s iocforge=%s" % (a[0], b[0])
    if ok(a[0]) and a[2] != b[2]:
        names = sorted(set(a[2]) | set(b[2]))
        diffs = [n for n in names if a[2].get(n) != b[2].get(n)]
        return "output differs: " + ",".join(diffs)
    return None


def save_finding(dirname, support_text, ioc_text, readme, extra_defs=()):
    """Write a finding directory with real-CLI ibek output and iocforge output."""
    d = HERE / "findings" / dirname
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    (d / "x.ibek.support.yaml").write_text(support_text)
    (d / "ioc.yaml").write_text(ioc_text)
    a = run_ibek(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "ibek.out", cli=True)
    b = run_forge(d / "ioc.yaml", [d / "x.ibek.support.yaml"], d / "iocforge.out")
    for name, r in (("ibek.out", a), ("iocforge.out", b)):
        (d / name).mkdir(exist_ok=True)
        (d / name / "exit_status").write_text(str(r[0]) + "\n")
        if r[1].strip():
            (d / name / "stderr").write_text(r[1])
    (d / "README").write_text(readme.rstrip() + "\n")
    return compare(a, b)
