"""A `helm` command for the tests, on the real Helm engine (helm-python-sdk).

tests/services_check.rs puts a `helm` script running this first on PATH, so
`iocforge services check` runs Helm v4 itself through the commands it uses:

  helm dependency build CHART
  helm lint CHART [--values FILE]...
  helm template NAME CHART [--values FILE]...

Output and exit codes follow the helm program's: lint findings as
`[SEVERITY] path: message` lines on stdout and a summary with exit 1 when
any is an error; template manifests on stdout; failures as `Error: ...` on
stderr with exit 1. Each call is logged to $HELM_SHIM_LOG when it is set.
"""

import os
import sys

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


def parse(args):
    """Positional arguments and the merged --values files."""
    positional, values = [], {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--values", "-f"):
            with open(args[i + 1], encoding="utf-8") as f:
                values = merge(values, helm.values_from_yaml(f.read()) or {})
            i += 2
        elif arg.startswith("--values="):
            with open(arg.split("=", 1)[1], encoding="utf-8") as f:
                values = merge(values, helm.values_from_yaml(f.read()) or {})
            i += 1
        elif arg.startswith("-"):
            raise SystemExit(f"helm shim: unsupported flag {arg}")
        else:
            positional.append(arg)
            i += 1
    return positional, values


SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def lint(args):
    (chart,), values = parse(args)
    report = helm.lint(chart, values)
    print(f"==> Linting {chart}")
    failed = False
    for m in report.get("messages") or []:
        sev = m.get("severity", 0)
        failed = failed or sev == 3
        print(f"[{SEVERITY.get(sev, sev)}] {m.get('path', '')}: {m.get('error', '')}")
    failed = failed or bool(report.get("errors"))
    if failed:
        print("Error: 1 chart(s) linted, 1 chart(s) failed", file=sys.stderr)
        return 1
    print("1 chart(s) linted, 0 chart(s) failed")
    return 0


def template(args):
    (name, chart), values = parse(args)
    manifests = helm.Chart.load(chart).render(
        values, name=name, namespace="default", is_install=True
    )
    for path in sorted(manifests):
        text = manifests[path]
        if text.strip() and not os.path.basename(path).startswith("_"):
            print(f"---\n# Source: {path}\n{text.rstrip()}")
    return 0


def main(argv):
    log = os.environ.get("HELM_SHIM_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(" ".join(argv) + "\n")
    try:
        if argv[:2] == ["dependency", "build"]:
            helm.dependency_build(argv[2])
            return 0
        if argv[:1] == ["lint"]:
            return lint(argv[1:])
        if argv[:1] == ["template"]:
            return template(argv[1:])
    except helm.HelmError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    print(f"helm shim: unsupported command {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
