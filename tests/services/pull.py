"""Pulls charts from an OCI registry with the real Helm engine and renders them.

Usage: python pull.py DEST NAME=oci://HOST:PORT/PATH/NAME@VERSION...

Each chart is pulled as `helm pull oci://... --version VERSION --plain-http`
pulls it (helm-python-sdk, Helm v4 as a shared library) into DEST/NAME-VERSION/,
loaded from the pulled archive and rendered on its own, with no values given
(the layered values are in the chart), as release NAME.
Prints JSON: {NAME@VERSION: {"metadata": {...}, "manifests": {template: manifest}}
| {"error": message}}.
"""

import json
import os
import sys

import helm_python as helm
from helm_python import registry


def pull_and_render(dest, name, ref, version):
    folder = os.path.join(dest, f"{name}-{version}")
    os.makedirs(folder, exist_ok=True)
    registry.pull(ref, destination=folder, version=version, plain_http=True)
    archives = [f for f in os.listdir(folder) if f.endswith(".tgz")]
    if len(archives) != 1:
        raise RuntimeError(f"expected one archive in {folder}, found {archives}")
    chart = helm.Chart.load(os.path.join(folder, archives[0]))
    manifests = chart.render({}, name=name, namespace="services", is_install=True)
    return {"metadata": chart.metadata, "manifests": manifests}


def main():
    dest = sys.argv[1]
    out = {}
    for arg in sys.argv[2:]:
        name, rest = arg.split("=", 1)
        ref, version = rest.rsplit("@", 1)
        try:
            out[f"{name}@{version}"] = pull_and_render(dest, name, ref, version)
        except Exception as e:  # a failed pull or render is a result the test reports
            out[f"{name}@{version}"] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
