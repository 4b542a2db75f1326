"""Render template cases with ibek's own Jinja setup (the differential oracle).

Reads cases from the file named on the command line: blocks separated by a
line holding only `----`; a block's first line is `typ=<type>` (may be empty).
Prints one JSON object per case: {"ok": true, "out": repr-ish} or {"ok": false}.
"""
import json
import sys

from ibek.utils import UTILS


def context():
    return {
        "n": 7, "f": 2.5, "s": "abc", "b": True, "l": [1, 2, "x"],
        "d": {"a": 1, "b": [1.5, None]}, "nothing": None, "neg": -3,
        "big": 1e16, "tiny": 1.1e-06, "text": "line one\nline two\n",
        "name": "Stage_X", "port": "ty_40_1", "empty": [], "zero": 0,
    }


def describe(v):
    if isinstance(v, str):
        return "str:" + v
    return type(v).__name__ + ":" + repr(v)


def main():
    blocks = open(sys.argv[1]).read().split("\n----\n")
    results = []
    for block in blocks:
        head, _, text = block.partition("\n")
        typ = head.removeprefix("typ=")
        UTILS.__reset__()
        try:
            v = UTILS.render(context(), text, typ)
            results.append({"ok": True, "out": describe(v)})
        except Exception as e:  # noqa: BLE001 - any failure is a verdict
            results.append({"ok": False, "err": str(e).splitlines()[-1]})
    json.dump(results, sys.stdout)


main()
