"""Renders every service of services repositories with the real Helm engine.

Usage: python render.py CHARTS_DIR TREE...
       python render.py --archives RELEASE=ARCHIVE...

Each TREE is a copy of a services repository (one commit). Every folder
services/NAME/ with a Chart.yaml is copied with symlinks followed (as
`cp -L` in services CI), its dependencies are taken from CHARTS_DIR/NAME-VERSION
(the stand-in for the OCI chart registry, so a dependency version counts as
Helm resolves it), and it is rendered as
`helm template NAME --values services/values.yaml --values services/NAME/values.yaml`
renders it, through helm-python-sdk (Helm v4 as a shared library).
Prints JSON: {TREE: {NAME: {template: manifest} | {"error": message}}}.
With --archives, each packaged chart is rendered on its own, with no values
given (what `services package` layered in must suffice):
{ARCHIVE: {template: manifest} | {"error": message}}.
"""

import json
import os
import shutil
import sys
import tempfile

import helm_python as helm


def merge(base, over):
    """Helm's merge of successive --values files: maps merge, the later value wins."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_values(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return helm.values_from_yaml(f.read()) or {}


def render_service(charts, tree, name, shared, work):
    src = os.path.join(tree, "services", name)
    dest = os.path.join(work, name)
    shutil.copytree(src, dest, symlinks=False)
    meta = load_values(os.path.join(dest, "Chart.yaml"))
    deps = meta.get("dependencies") or []
    if deps:
        os.makedirs(os.path.join(dest, "charts"), exist_ok=True)
    for dep in deps:
        shutil.copytree(
            os.path.join(charts, f"{dep['name']}-{dep['version']}"),
            os.path.join(dest, "charts", dep.get("alias") or dep["name"]),
        )
    values = merge(shared, load_values(os.path.join(dest, "values.yaml")))
    chart = helm.Chart.load(dest)
    return chart.render(values, name=name, namespace="services", is_install=True)


def render_tree(charts, tree):
    out = {}
    services = os.path.join(tree, "services")
    shared = load_values(os.path.join(services, "values.yaml"))
    with tempfile.TemporaryDirectory() as work:
        for name in sorted(os.listdir(services)):
            folder = os.path.join(services, name)
            if name.startswith(".") or not os.path.isfile(os.path.join(folder, "Chart.yaml")):
                continue
            try:
                out[name] = render_service(charts, tree, name, shared, work)
            except Exception as e:  # a failed render is a result the test reports
                out[name] = {"error": f"{type(e).__name__}: {e}"}
    return out


def render_archives(pairs):
    out = {}
    for pair in pairs:
        release, archive = pair.split("=", 1)
        try:
            chart = helm.Chart.load(archive)
            out[archive] = chart.render({}, name=release, namespace="services", is_install=True)
        except Exception as e:  # a failed render is a result the test reports
            out[archive] = {"error": f"{type(e).__name__}: {e}"}
    return out


def main():
    if sys.argv[1] == "--archives":
        json.dump(render_archives(sys.argv[2:]), sys.stdout, sort_keys=True)
        return
    charts = sys.argv[1]
    result = {tree: render_tree(charts, tree) for tree in sys.argv[2:]}
    json.dump(result, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
