"""Persistent in-process ibek runner (screening only; findings are confirmed with the real CLI).
Protocol: one JSON request per stdin line {"instance":..., "defs":[...], "out":..., "probe": bool}
reply one JSON line {"rc":0|1, "err":"..."}.
probe: build entities, then render each pre_init item of each entity separately and
report which item indexes fail: {"rc":0, "fails": {entity_index: [item indexes]}}"""
import contextlib
import io
import json
import sys
import traceback
from pathlib import Path

sys.setrecursionlimit(5000)
from ibek import ioc as ibek_ioc  # noqa: E402
from ibek.entity_factory import EntityFactory  # noqa: E402
from ibek.ioc_factory import IocFactory  # noqa: E402
from ibek.runtime_cmds.commands import do_generate  # noqa: E402
from ibek.utils import UTILS  # noqa: E402


def reset():
    UTILS.__reset__()
    UTILS.file_name = ""
    UTILS.ioc_name = ""
    ibek_ioc.id_to_entity.clear()


def probe(req):
    inst = Path(req["instance"])
    UTILS.set_file_name(inst)
    ef = EntityFactory()
    models = ef.make_entity_models([Path(d) for d in req["defs"]])
    ioc = IocFactory().deserialize_ioc(inst, models)
    ents = ef.resolve_sub_entities(ioc.entities, {})
    fails = {}
    for ei, ent in enumerate(ents):
        if not hasattr(ent, "_model"):
            continue
        bad = []
        for ii, item in enumerate(ent._model.pre_init):
            saved = dict(UTILS.variables)
            try:
                UTILS.render(ent, item.value, "str")
            except Exception:
                bad.append(ii)
            UTILS.variables = saved
        fails[ei] = bad
    return fails


real_stdout = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    reset()
    buf = io.StringIO()
    rc = 0
    err = ""
    out = {}
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            if req.get("probe"):
                out["fails"] = probe(req)
            else:
                do_generate([Path(req["instance"])], [Path(d) for d in req["defs"]], Path(req["out"]), False)
    except BaseException as e:  # noqa
        rc = 1
        err = "".join(traceback.format_exception_only(type(e), e))[-3000:]
    out.update(rc=rc, err=err)
    real_stdout.write(json.dumps(out) + "\n")
    real_stdout.flush()
