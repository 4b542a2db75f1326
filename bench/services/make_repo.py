"""Writes a services repository of N motorSim IOC services for bench/services/run.sh.

Usage: python3 make_repo.py OUT N SAMPLES
SAMPLES is the ibek-samples folder of the shared conformance corpus.
"""
import os
import shutil
import sys

out, n, samples = sys.argv[1], int(sys.argv[2]), sys.argv[3]
shared = os.path.join(out, ".helm-shared")
os.makedirs(os.path.join(shared, "templates"))
with open(os.path.join(shared, "Chart.yaml"), "w") as f:
    f.write(
        "apiVersion: v2\nname: ec-service\nversion: 1.0.0\ndependencies:\n"
        "  - name: ioc-instance\n    version: 5.5.0\n"
        "    repository: oci://ghcr.io/epics-containers/charts\n"
    )
with open(os.path.join(shared, "templates", "ioc_instance.yaml"), "w") as f:
    f.write('{{ include "ioc-instance" . }}\n')
os.makedirs(os.path.join(out, "services"))
with open(os.path.join(out, "services", "values.yaml"), "w") as f:
    f.write("global:\n  domain: b01\nioc-instance:\n  hostNetwork: true\n")
with open(os.path.join(samples, "iocs", "motorSim.ibek.ioc.yaml")) as f:
    instance = f.read()
for i in range(n):
    svc = os.path.join(out, "services", f"bl01b-mo-ioc-{i:03d}")
    os.makedirs(os.path.join(svc, "config"))
    with open(os.path.join(svc, "values.yaml"), "w") as f:
        f.write("ioc-instance:\n  image: ghcr.io/epics-containers/ioc-motorsim-runtime:1.0\n")
    with open(os.path.join(svc, "config", "ioc.yaml"), "w") as f:
        f.write(instance.replace("IBEK-MO-TST-01:", f"BL01B-MO-IOC-{i:03d}:"))
    os.symlink("../../.helm-shared/Chart.yaml", os.path.join(svc, "Chart.yaml"))
    os.symlink("../../.helm-shared/templates", os.path.join(svc, "templates"))
defs = os.path.join(out, "ibek-defs")
os.makedirs(defs)
for name in ["epics", "asyn", "motorSim"]:
    shutil.copy(os.path.join(samples, "support", f"{name}.ibek.support.yaml"), defs)
