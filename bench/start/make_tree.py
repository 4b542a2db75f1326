"""Builds an /epics-style tree for the runtime start benchmark.

usage: make_tree.py ROOT N_ENTITIES

The instance has the shape of a real areaDetector IOC: N entities from
bench/generate's definitions (ports, controllers, axes, detectors with
plugin banks), and every database template exists, plugin templates
including a base template of ~60 records as ADCore's do, so that ioc.db
expansion does the work it does in production.
"""
import subprocess
import sys
from pathlib import Path

root = Path(sys.argv[1])
n = int(sys.argv[2])
here = Path(__file__).resolve().parent
gen = here.parent / "generate" / "make_large.py"
work = root / "_gen"
subprocess.run([sys.executable, str(gen), str(work), str(n)], check=True)

defs = root / "ibek-defs"
defs.mkdir(parents=True, exist_ok=True)
(defs / "bench.ibek.support.yaml").write_text((work / "bench.ibek.support.yaml").read_text())
config = root / "ioc" / "config"
config.mkdir(parents=True, exist_ok=True)
(config / "ioc.yaml").write_text((work / "ioc.yaml").read_text())


def records(prefix, count, kind="ao"):
    out = []
    for i in range(count):
        out.append(
            f'record({kind}, "{prefix}REC{i:03d}") {{\n'
            f'    field(DESC, "record {i} of $(PORT=none)")\n'
            f'    field(DTYP, "Soft Channel")\n'
            f'    field(VAL, "{i}")\n'
            f"}}\n"
        )
    return "".join(out)


for module, files in {
    "motor": {"controller.template": records("$(P):CTRL:", 10),
              "basic_asyn_motor.db": records("$(P)$(M):", 25)},
    "ADCore": {"NDPluginBase.template": records("$(P)$(R)BASE:", 60),
               "NDPlugin.template": 'include "NDPluginBase.template"\n' + records("$(P)$(R)", 40)},
}.items():
    db = root / "support" / module / "db"
    db.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (db / name).write_text(text)
    (db / "basic_asyn_motor_settings.req").write_text("$(P)$(M):REC001\n$(P)$(M):REC002\n")

cfg = root / "support" / "configure"
cfg.mkdir(parents=True, exist_ok=True)
(cfg / "RELEASE.shell").write_text(
    f'export MOTOR="{root}/support/motor"\nexport ADCORE="{root}/support/ADCore"\n'
)
