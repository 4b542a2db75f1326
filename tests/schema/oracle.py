"""Runs ibek 4.8.2's `ioc generate-schema` for many definition sets in one process.

Usage: python oracle.py JOBS.json
JOBS.json is a list of {"definitions": [paths], "output": path}. For each job
the body of ibek's command runs as `ibek ioc generate-schema --no-ibek-defs
DEFINITIONS... --output OUTPUT` would run it. Prints a JSON list with
{"ok": bool, "error": str} per job.
"""

import contextlib
import io
import json
import sys
from pathlib import Path

from ibek.ioc_cmds.commands import generate_schema


def main() -> None:
    jobs = json.loads(Path(sys.argv[1]).read_text())
    results = []
    for job in jobs:
        definitions = [Path(d) for d in job["definitions"]]
        try:
            # ibek prints "VALIDATION ERROR READING ..." on failures; keep stdout for results
            with contextlib.redirect_stdout(io.StringIO()):
                generate_schema(
                    definitions=definitions,
                    output=Path(job["output"]),
                    ibek_defs=False,
                )
            results.append({"ok": True, "error": ""})
        except Exception as e:  # noqa: BLE001 - any failure is a result to compare
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
