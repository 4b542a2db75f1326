"""Random support YAML + IOC instance generator (YAML typing, pydantic coercion, databases,
env_vars, defines, sub_entities, repeat, globals, when: first, comments)."""
import json
import random

R = random.Random()


def pick(x):
    return R.choice(x)


EXOTIC = 0.06


def pk(pool, nsafe):
    """pick from the first nsafe (safe) entries most of the time"""
    if R.random() < EXOTIC:
        return pick(pool)
    return pick(pool[:nsafe])


def yq(s):
    return json.dumps(s, ensure_ascii=False)


# raw YAML scalars (as they'd appear after "key: ")
Y_INT = ["5", "-3", "0", "0x1F", "0o17", "017", "1_000", "1e3", "1.0", "1.5", '"5"', '" 5 "', "true", "false",
         '"{{ 3 + 4 }}"', '"{{ \'abc\' }}"', "~", "null", ".inf", '"0x10"', "+5", "'1_000'", "5.0", '"5.0"',
         "2019-01-01", "[1]", "{a: 1}", "yes", "No", "08", "0b101", "12345678901234567890", '"{{ n }}"',
         '"{{ f }}"', '"{{ 7 / 2 }}"', '"{{ 6 / 2 }}"', '"{{ true }}"', "-0", "'-5'", '"+5"', "1e400",
         "9223372036854775808", '"{{ 10 ** 20 }}"', '"{{ s }}"', "0.0", "-1.0", "3.0000000001"]
Y_FLOAT = ["2.5", "1", "-2", '"3.14"', "1e3", ".5", "1.", ".inf", "-.inf", ".nan", '"nan"', '"inf"', "true",
           "1_000.5", '"{{ 1/3 }}"', "0x10", '"1e400"', "1e400", '"{{ n * 2 }}"', '"{{ f }}"', "1e-05", "1e16",
           "-0.0", "0.1", "100", "12345678901234567890", '" 2.5 "', '"2.5e-3"', "6.02E23", "+1.5", "~",
           '"{{ \'x\' }}"', '"1_0.5"', "25.0", "0.30000000000000004", "1.7976931348623157e308", "5e-324",
           "123456789.123456789", '"{{ 2 ** 0.5 }}"', '"1e5"']
Y_STR = ["abc", "123", "1.5", "true", "null", "~", '"{{ n + 1 }}"', "[a]", "0x1F", "2020-01-01", '"multi\\nline"',
         "yes", "'quoted'", '""', "' lead'", '"trail "', '"héllo ✓"', "'it''s'", '"a\\"b"', "-", "1e3",
         "2001-12-14t21:59:43.10-05:00", "12:30:00", "0o17", ".inf", "No", "off", '"{{ s | upper }}"',
         '"{{ f }}"', '"{{ [1, 2] }}"', '"{{ n }} | int }}"', "{a: 1}", "017", "1_000", '"{{ obj }}"',
         '"{%raw%}{{x}}{%endraw%}"', "'$(P)$(R)'", '"%s"', "'tab\\there'", '"tab\\there"', "=", "!!str 5",
         "!!int '7'", "!!float 3", '"{{ name }}"', "0.1e1", "+1", "'0'", "ON"]
Y_BOOL = ["true", "false", "yes", "No", "on", '"true"', '"yes"', '"1"', "1", "0", "2", '"t"', '"on"',
          '"{{ n > 3 }}"', "1.0", '"False"', "null", '"TRUE"', '"y"', '"n"', "0.0", "'off'", '" true"',
          '"{{ 1 }}"', '"{{ b }}"', '"{{ \'yes\' }}"', "True", "FALSE", "[true]", '"0"', "-1", "1.5"]
Y_LIST = ["[1, 2]", '"{{ [1, 2] }}"', '"{{ range(3) | list }}"', "a", "[]", "[a, 1.5, null]", '"[1, 2]"',
          '"{{ l }}"', "{a: 1}", "~", '"{{ [1] + [2] }}"', '"{{ (1, 2) }}"', "[[1], {b: 2}]",
          '"{{ \'a,b\'.split(\',\') }}"', '"{{ [1, 2] | list }}"', "!!set {a, b}"]
Y_DICT = ["{a: 1}", '"{{ {\'a\': 1} }}"', "{}", "[1]", "~", '"{{ d }}"', "{1: a, b: [1, 2]}",
          '"{\'a\': 1}"', '"{{ dict(x=1) }}"', '"{{ {\'k\': n} | dict }}"', "{a: {b: c}}"]
Y_ID = ["abc", "P1", "123", "1.5", '"dev.{{ n }}"', "true", '""', "a b", "~"]

SAFE_N = {"int": 2, "float": 2, "str": 1, "bool": 2, "list": 3, "dict": 1, "id": 2}
Y_INT = ["5", "-3", '"{{ 3 + 4 }}"', '"{{ P | length }}"'] + Y_INT
Y_FLOAT = ["2.5", "-1.5", "1", '"{{ 1/3 }}"'] + Y_FLOAT
Y_STR = ["abc", '"A:B"', '"{{ P }}_x"', "'x y'"] + Y_STR
Y_BOOL = ["true", "false"] + Y_BOOL
Y_LIST = ["[1, 2]", "[a, b]", '"{{ [1, 2] }}"'] + Y_LIST
Y_DICT = ["{a: 1}", "{}"] + Y_DICT
Y_ID = ["abc", "P1"] + Y_ID
SAFE_N = {"int": 4, "float": 4, "str": 4, "bool": 2, "list": 3, "dict": 2, "id": 2}
TYPE_POOLS = {"int": Y_INT, "float": Y_FLOAT, "str": Y_STR, "bool": Y_BOOL, "list": Y_LIST, "dict": Y_DICT,
              "id": Y_ID}

ENUM_VALUES = ["{A: 1, B: two, C: null}", "{a: , b: , c: }", '{"1": one, "2": two}', "{1: one, 2: two}",
               "{on: 1, off: 0}", "{x: 1.5, y: [1], z: {k: v}}", "{NONE: null, ONE: 1}",
               "{'yes': Y, 'no': N}", "{.1 second: , 1 second: , I/O Intr: }", "{true: T, false: F}",
               "{0: zero, 1: one}", "{A: '{{ n }}'}", "{1.5: f, 2: i}"]


def enum_pick(values):
    table = {
        "{A: 1, B: two, C: null}": ["A", "B", "C", "D", "1", "two"],
        "{a: , b: , c: }": ["a", "b", "c", "A"],
        '{"1": one, "2": two}': ["1", '"1"', "2", "one"],
        "{1: one, 2: two}": ["1", '"1"', "one", "2"],
        "{on: 1, off: 0}": ["on", '"on"', "true", "'True'", "1"],
        "{x: 1.5, y: [1], z: {k: v}}": ["x", "y", "z"],
        "{NONE: null, ONE: 1}": ["NONE", "ONE", "null"],
        "{'yes': Y, 'no': N}": ["yes", '"yes"', "true", "no"],
        "{.1 second: , 1 second: , I/O Intr: }": ['".1 second"', "1 second", "I/O Intr", '"{{ \'I/O Intr\' }}"'],
        "{true: T, false: F}": ["true", '"True"', "yes", "T"],
        "{0: zero, 1: one}": ["0", "1", '"0"', "false", "zero"],
        "{A: '{{ n }}'}": ["A"],
        "{1.5: f, 2: i}": ["1.5", '"1.5"', "2", "2.0"],
    }
    return pick(table[values])


SHOW = [
    "{{ %s }}", "{{ %s }}", "{{ %s }}|{{ %s is string }}{{ %s is integer }}{{ %s is float }}{{ %s is boolean }}"
    "{{ %s is none }}{{ %s is mapping }}", "{{ %s ~ '' }}", "{{ '%%s' %% (%s,) }}", "{{ [%s] }}",
    "{{ %s | tojson }}", "{{ %s == 1 }}", "{{ %s }}", "{{ %s | string | length }}"]

DB_VALUES = [None, None, None, '"{{ P }}:x"', "lit", '"with space"', '"q\\"uote"', '"héllo"', '""',
             '"a, b"', "'$(P)'", '"ü✓"', "x" * 30, '"{{ P | length }}"', "5", "1.5", "true"]
ENABLED = ['"True"', '"true"', '"yes"', '"1"', '"False"', '"{{ P == 1 }}"', '"{{ P | length > 3 }}"', "True", "no",
           '" true"', '"YES"', '"on"', '"{{ 0 }}"', "1", '"{{ true }}"', '"0"', '"T"']


class Case:
    def __init__(self):
        self.models = []  # list of yaml text
        self.entities = []
        self.ids = []
        self.model_params = {}


def gen_param(name, typ, with_default):
    lines = ["      %s:" % name, "        type: %s" % typ, "        description: %s" % name]
    if typ == "enum":
        vals = pick(ENUM_VALUES)
        lines.append("        values: %s" % vals)
        if with_default:
            lines.append("        default: %s" % enum_pick(vals))
        return lines, vals
    if with_default and typ != "object":
        pool = TYPE_POOLS.get(typ, Y_STR)
        lines.append("        default: %s" % pk(pool, SAFE_N.get(typ, 1)))
    return lines, None


def gen_support(case):
    nmodels = R.randint(1, 3)
    out = ["module: x", "entity_models:"]
    for mi in range(nmodels):
        mname = "M%d" % mi
        params = {}
        body = ["  - name: %s" % mname, "    description: model %d" % mi]
        if R.random() < 0.25:
            body.append("    pre_defines:")
            for k in range(R.randint(1, 2)):
                body += define_lines("pre%d" % k, ["n", "s"] if False else [])
        body.append("    parameters:")
        plist = [("P", "str")]
        if R.random() < 0.6:
            plist.append(("name", "id"))
        for k in range(R.randint(1, 4)):
            plist.append(("p%d" % k, pick(["int", "float", "str", "bool", "enum", "list", "dict", "int", "float",
                                          "object" if mi > 0 else "str"])))
        for (pn, pt) in plist:
            lines, ev = gen_param(pn, pt, R.random() < 0.4 and pn != "name")
            body += lines
            params[pn] = (pt, ev, any(ln.startswith("        default:") for ln in lines))
        if R.random() < 0.3:
            body.append("    post_defines:")
            for k in range(R.randint(1, 3)):
                body += define_lines("post%d" % k, list(params))
        pnames = list(params) + [ln.strip()[:-1] for ln in body if ln.startswith("      pre") or
                                 ln.startswith("      post")]
        if R.random() < 0.25:
            body.append("    validate:")
            body.append("      - assert: %s" % yq(pick(["P", "true", "P | length > 0", "%s is defined" % pick(pnames),
                                                        "%s" % pick(pnames), "%s != 'bad'" % pick(pnames)])))
            body.append("        message: %s" % yq(pick(["bad {{ P }}", "nope"])))
        if R.random() < 0.35:
            body.append("    env_vars:")
            for k in range(R.randint(1, 2)):
                body.append("      - name: %s" % pk(["E%d" % k, '"{{ P }}_E"', "EPICS_X", "5"], 3))
                body.append("        value: %s" % pk(['"{{ %s }}"' % pick(pnames), "plain", '"a b"', '""',
                                                      '"{{ %s }} | int }}"' % pick(pnames),
                                                      '"{{ _global.incrementor(\'ev\') }}"', "5", "true"], 6))
        body.append("    pre_init:")
        for k in range(R.randint(1, 3)):
            body += script_item(pnames)
        if R.random() < 0.4:
            body.append("    post_init:")
            for k in range(R.randint(1, 2)):
                body += script_item(pnames)
        if R.random() < 0.6:
            body.append("    databases:")
            for k in range(R.randint(1, 2)):
                body.append("      - file: %s" % pick(["a.db", "$(X)/b.template", '"{{ P }}.db"', "a.db",
                                                       '"a.db\\n"', "'c d.db'"]))
                if R.random() < 0.3:
                    body.append("        enabled: %s" % pk(ENABLED, 7))
                body.append("        args:")
                keys = R.sample(pnames + [".*", "p.*", "P?", "X", "ZZ", "_global", "p[0-9]"], R.randint(1, 4))
                for key in keys:
                    v = pk(DB_VALUES, 14)
                    body.append("          %s:%s" % (yq(key) if R.random() < 0.3 else key, "" if v is None else " " + v))
        if R.random() < 0.2 and mi > 0:
            body.append("    sub_entities:")
            body.append("      - type: x.M0")
            body.append("        P: %s" % pick(['"{{ P }}_sub"', "sub", '"{{ %s }}"' % pick(pnames)]))
            for pn, (pt, ev, hasdef) in case.model_params["M0"].items():
                if pn == "P":
                    continue
                if pn == "name":
                    body.append('        name: "{{ P }}_sub%d"' % R.randint(0, 9))
                elif not hasdef or R.random() < 0.5:
                    body.append("        %s: %s" % (pn, value_for(pt, ev, case, mi)))
        case.model_params[mname] = params
        out += body
    return "\n".join(out) + "\n"


def define_lines(name, pnames):
    ref = pick(pnames) if pnames else "ioc_name"
    typ = pick([None, None, "str", "int", "float", "bool", "list", "null"])
    val = pick(['"{{ %s }}"' % ref, '"{{ %s }} | int }}"' % ref, '"{{ %s | int }}"' % ref, "5", "[1, 2]",
                '"{{ [%s] }}"' % ref, "null", '"{{ _global.incrementor(\'c\') }}"', '"{{ %s ~ \'x\' }}"' % ref,
                '"{{ 1.5 }}"', '"{{ \'1e3\' }}"', '"{{ \'0x10\' }}"', '"{{ true }}"', '"True"', '"{{ \' 5\' }}"',
                '"{{ 10 ** 20 }}"', "1.5", "true", '"{{ \'[1, 2]\' }}"', '"{{ %s | float }}"' % ref,
                '"{{ _global.set(\'g\', %s) }}"' % ref, '"{{ _global.get(\'g\', \'none\') }}"', "{a: 1}",
                '"{{ \'1_000\' }}"', '"{{ \'(1, 2)\' }}"', '"{{ \'yes\' }}"', '"{{ \'-0.0\' }}"'])
    lines = ["      %s:" % name, "        description: d", "        value: %s" % val]
    if typ:
        lines.append("        type: %s" % typ)
    return lines


def script_item(pnames):
    typ = pick(["text", "text", "comment", None])
    when = pick([None, None, "first", "every"])
    ref = pick(pnames + ["ioc_name", "ioc_yaml_file_name", "_global.incrementor('c')",
                         "_global.incrementor('c', 10, 5)", "_global.get('g', 'none')",
                         "_global.get_env('IOC_NAME')", "env.IOC_NAME", "__NONE__"])
    shows = pick(SHOW)
    val = shows.replace("%%", "\0").replace("%s", ref).replace("\0", "%")
    if "__NONE__" in val:
        val = pick(["plain text", "", "line1\nline2\n", "  indented\n\n", "# hash", "x\n\n", "\n", "   "])
    style = pick(["quoted", "quoted", "block", "blockstrip", "blockkeep", "folded"])
    lines = []
    first = "      - "
    if typ:
        lines.append(first + "type: %s" % typ)
        first = "        "
    if when:
        lines.append(first + "when: %s" % when)
        first = "        "
    if style == "quoted":
        lines.append(first + "value: %s" % yq(val))
    else:
        ind = {"block": "|", "blockstrip": "|-", "blockkeep": "|+", "folded": ">"}[style]
        lines.append(first + "value: " + ind)
        for ln in (val.split("\n") if val else [""]):
            if ln.strip() == "":
                lines.append("")
            else:
                lines.append("          " + ln)
    return lines


def value_for(pt, ev, case, mi, own=None):
    if pt == "enum":
        return enum_pick(ev)
    ids = [i for i in case.ids if i != own]
    if pt == "object":
        return pick(ids) if ids and R.random() < 0.9 else pick(["nope", "~", '"{{ \'x\' }}"'])
    return pk(TYPE_POOLS.get(pt, Y_STR), SAFE_N.get(pt, 1))


def gen_ioc(case):
    lines = ["ioc_name: %s" % pick(["fuzz", '"{{ _global.get_env(\'IOC_NAME\') }}"', "my-ioc", "x_1",
                                     '"{{ \'abc\' | upper }}"']),
             "description: %s" % pk(["test", "'x'", "5"], 2), "entities:"]
    nents = R.randint(1, 4)
    count = 0
    for _ in range(nents):
        mi = R.randrange(len(case.model_params))
        mname = "M%d" % mi
        params = case.model_params[mname]
        ent = ["  - type: x.%s" % mname]
        if R.random() < 0.1:
            ent.append("    entity_enabled: %s" % pick(["false", "true", '"false"', "0", "no"]))
        for pn, (pt, ev, hasdef) in params.items():
            if hasdef and R.random() < 0.5:
                continue
            if pn == "name":
                v = "e%d" % count
                case.ids.append(v)
            elif pn == "P":
                v = pk(["P%d" % count, '"A:B"', "'$(X)'", '"{{ ioc_name }}"', "'x y'", "5"], 5)
            else:
                v = value_for(pt, ev, case, mi, own="e%d" % count)
            ent.append("    %s: %s" % (pn, v))
        if R.random() < 0.03:
            ent.append("    bogus: 1")
        count += 1
        if R.random() < 0.15:
            # wrap in a repeat
            var = pick(["index", "i", "n"])
            vals = pick(["[1, 2]", '"{{ range(2) | list }}"', "[a, b]", "[]", '"{{ [1.5, \'x\'] }}"', "[~, 0]"])
            rep = ["  - type: ibek.repeat", "    variable: %s" % var, "    values: %s" % vals, "    entity:"]
            for ln in ent:
                if ln.startswith("  - type"):
                    rep.append("      " + ln[4:])
                    continue
                if ln.startswith("    ") and "name: e" in ln:
                    ln = ln.rstrip() + "_{{ %s }}" % var
                    ln = ln.replace("name: e", 'name: "e') + '"'
                elif ln.startswith("    P:"):
                    ln = '    P: "P{{ %s }}_{{ %s_num }}"' % (var, var)
                rep.append("  " + ln)
            ent = rep
        lines += ent
    if R.random() < 0.1:
        lines += ["  - type: ibek.wait_ip", "    device: %s" % pick(["dev", "'a b'"]),
                  "    address: %s" % pick(['"1.2.3.4:5"', "host"]), "    timeout: %s" % pick(["5", "0", '"7"'])]
    return "\n".join(lines) + "\n"


def gen_case():
    case = Case()
    sup = gen_support(case)
    ioc = gen_ioc(case)
    return sup, ioc
