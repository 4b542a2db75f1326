"""Writes the validation cases: mutations of base.yaml, one file per case.

Run from this folder: python3 make_cases.py. The files are committed; this
script documents how they were made. Each starts with a comment saying what
was changed; ibek's verdict is computed live by the tests.
"""
from pathlib import Path

base = Path("base.yaml").read_text()
cases = {}


def rep(name, desc, old, new, count=1):
    assert old in base, (name, old)
    cases[name] = (desc, base.replace(old, new, count))


def text(name, desc, body):
    cases[name] = (desc, body)


rep("valid_base", "the base instance, unchanged", "", "")
rep("valid_int_as_string", "an int given as a numeric string", "axes: 2", 'axes: "2"')
rep("valid_int_as_float", "an int given as an integral float", "axes: 2", "axes: 2.0")
rep("valid_bool_as_word", "a bool given as yes", "    eos: CRLF", "    eos: CRLF\n    noAutoConnect: yes")
rep("valid_float_as_int", "a float given as an int", "VELO: 2.5", "VELO: 3")
rep("valid_float_as_string", "a float given as a string in exponent form", "VELO: 2.5", 'VELO: "2.5e-1"')
rep("valid_jinja_int", "an int given as a Jinja expression", "axes: 2", 'axes: "{{ 1 + 1 }}"')
rep("valid_jinja_str", "a string built with Jinja", 'M: ":X"', "M: \":{{ 'X' | lower }}\"")
rep("valid_list_param", "a list parameter", 'M: ":Y"', 'M: ":Y"\n    enabled_limits: [hi]')
rep("valid_dict_param", "a dict parameter", "axes: 2", "axes: 2\n    options: {mode: fast}")
rep("valid_disabled", "a disabled entity", 'M: ":Y"', 'M: ":Y"\n    entity_enabled: false')
rep("valid_anchor_merge", "a merge key reusing an anchor",
    "  - type: motion.Axis\n    controller: CTRL1\n    M: \":X\"",
    "  - &axis\n    type: motion.Axis\n    controller: CTRL1\n    M: \":X\"")
rep("valid_repeat", "ibek.repeat of axes", "  - type: motion.Axis\n    controller: CTRL1\n    M: \":Y\"\n    EGU: deg\n",
    "  - type: ibek.repeat\n    values: [Y]\n    entity:\n      type: motion.Axis\n      controller: CTRL1\n      M: \":{{ index }}\"\n")
rep("valid_wait_ip", "an ibek.wait_ip entity", "  - type: motion.Controller", "  - type: ibek.wait_ip\n    device: PORT1\n    address: 192.168.0.10:4001\n  - type: motion.Controller")
rep("bad_int_word", "a word for an int", "axes: 2", "axes: two")
rep("bad_int_fraction", "a fractional number for an int", "axes: 2", "axes: 2.5")
rep("bad_bool_for_int_list", "a list for an int", "axes: 2", "axes: [2]")
rep("bad_float_word", "a word for a float", "VELO: 2.5", "VELO: fast")
rep("bad_bool_word", "a word that is not a bool", "    eos: CRLF", "    eos: CRLF\n    noAutoConnect: maybe")
rep("bad_bool_two", "2 for a bool", "    eos: CRLF", "    eos: CRLF\n    noAutoConnect: 2")
rep("bad_str_int", "an int for a str", 'M: ":X"', "M: 12")
rep("bad_str_null", "null for a str", 'M: ":X"', "M:")
rep("bad_id_int", "an int for an id", "name: CTRL1", "name: 7")
rep("bad_list_word", "a plain word for a list", 'M: ":Y"', 'M: ":Y"\n    enabled_limits: hi')
rep("bad_dict_list", "a list for a dict", "axes: 2", "axes: 2\n    options: [a]")
rep("bad_unknown_param", "an unknown parameter", "VELO: 2.5", "VELO: 2.5\n    VELOCITY: 3")
rep("bad_typo_param", "a parameter name typo", "VELO: 2.5", "VLEO: 2.5")
rep("bad_missing_required", "a required parameter left out", '    M: ":X"\n', "")
rep("bad_missing_address", "the port's required address left out", "    address: 192.168.0.10:4001\n", "")
rep("bad_enum_case", "an enum key in the wrong case", "EGU: deg", "EGU: Deg")
rep("bad_enum_value", "an enum value instead of its key", "EGU: deg", "EGU: degrees")
rep("bad_enum_missing", "an enum key that does not exist", "eos: CRLF", "eos: CR-LF")
rep("bad_object_dangling", "an object reference to no entity", "port: PORT1", "port: PORT2")
rep("bad_object_typo", "an object reference with a typo", "controller: CTRL1", "controller: CTRL", 1)
rep("bad_object_forward", "an object reference to a later entity",
    "  - type: port.IpPort\n    name: PORT1\n    address: 192.168.0.10:4001\n    eos: CRLF\n  - type: motion.Controller\n    name: CTRL1\n    port: PORT1\n    P: BL01-MO-CTRL-01\n    axes: 2\n",
    "  - type: motion.Controller\n    name: CTRL1\n    port: PORT1\n    P: BL01-MO-CTRL-01\n    axes: 2\n  - type: port.IpPort\n    name: PORT1\n    address: 192.168.0.10:4001\n    eos: CRLF\n")
rep("bad_duplicate_id", "two entities with the same id", "name: CTRL1", "name: PORT1")
rep("bad_unknown_type", "an entity type that does not exist", "type: motion.Axis", "type: motion.Axes", 1)
rep("bad_unknown_module", "a module that is not loaded", "type: port.IpPort", "type: asyn.AsynIP")
rep("bad_no_type", "an entity without type", "  - type: port.IpPort\n    name: PORT1", "  - name: PORT1")
rep("bad_counter_stop", "more axes than the controller has", "  - type: motion.Axis\n    controller: CTRL1\n    M: \":Y\"\n    EGU: deg\n",
    "  - type: motion.Axis\n    controller: CTRL1\n    M: \":Y\"\n    EGU: deg\n  - type: motion.Axis\n    controller: CTRL1\n    M: \":Z\"\n")
rep("bad_jinja_syntax", "a Jinja syntax error", 'M: ":X"', 'M: "{{ 1 + }}"')
rep("bad_jinja_undefined", "a Jinja name that is undefined", 'M: ":X"', 'M: "{{ prefix }}"')
rep("bad_jinja_int_result", "Jinja for an int that renders a word", "axes: 2", "axes: \"{{ 'two' }}\"")
rep("bad_entity_not_mapping", "an entity that is a string", "  - type: port.IpPort\n    name: PORT1", "  - port.IpPort\n  - type: port.IpPort\n    name: PORT1")
rep("bad_top_unknown_key", "an unknown top-level key", "description:", "generic_ioc_image: ghcr.io/x/y:1.0\ndescription:")
rep("bad_description_missing", "no description", "description: a motion IOC used as the base of the validation cases\n", "")
rep("bad_entities_not_list", "entities as a mapping", "entities:\n  - type: port.IpPort", "entities:\n  first:\n    type: port.IpPort", 1)
rep("bad_ioc_name_missing", "no ioc_name", "ioc_name: \"{{ _global.get_env('IOC_NAME') }}\"\n", "")
rep("bad_duplicate_key", "a duplicate key in an entity", "VELO: 2.5", "VELO: 2.5\n    VELO: 3.5")
rep("bad_yaml_indent", "malformed YAML", "    P: BL01-MO-CTRL-01", "   P: BL01-MO-CTRL-01")
rep("bad_yaml_unclosed", "an unclosed flow sequence", 'M: ":Y"', 'M: ":Y"\n    enabled_limits: [hi, lo')
text("bad_empty", "an empty file", "")
text("bad_comment_only", "only a comment", "# nothing here\n")
text("bad_top_list", "a list at the top level", "- ioc_name: x\n")
text("bad_top_scalar", "a scalar at the top level", "just text\n")

out = Path("cases")
out.mkdir(exist_ok=True)
for old in out.glob("*.yaml"):
    old.unlink()
for i, (name, (desc, body)) in enumerate(sorted(cases.items())):
    (out / f"{name}.yaml").write_text(f"# {desc}\n{body}")
print(len(cases), "cases")
