"""Random Jinja expression generator with Python-semantics hot spots."""
import random

R = random.Random()

INTS = ["0", "1", "-1", "2", "3", "7", "13", "42", "255", "-17", "1000000", "65", "9223372036854775808",
        "100000000000000000000", "-0", "10", "8", "1_000"]
FLOATS = ["0.0", "-0.0", "2.5", "1e-05", "1e16", "0.1", "3.0", "-2.75", "123456789.123", "1e100", "1.5e300",
          "0.5", "1.0e-4", "100.0", "2.675", "1e15", "12345678901234567.0", "0.000123", "-1.5", "1E3"]
STRS = ["'abc'", "''", "' a b '", "'Hello World'", "'ty_40_1'", "'x,y,,z'", "'12'", "'-3.5'", "'héllo'",
        "'ß'", "'a\\tb'", "'ABC def'", "'%d'", "'{}'", "'a\\nb\\n'", "'  '", "'0x1F'", "'1e3'", "'True'",
        "'hello world foo'", "'aaa'", "'ǅx'", "'İ'", "'ﬁ'", "'a-b_c d'", "'3'", "' 42 '", "'1_000'",
        "'١٢'", "'²'", "'nan'", "'inf'", "'-0'", "'+5'", "'0b101'", "'0o17'", "'ab' ~ 'c'"]
OTHERS = ["true", "false", "True", "none", "None", "[1, 2, 3]", "[]", "['b', 'a', 'c']", "[1, 'x', 2.5]",
          "[[1, 2], [3]]", "(1, 2)", "(1,)", "()", "{'a': 1, 'b': 2}", "{}", "{'b': [1.5, none], 'a': 'x'}",
          "[3, 1, 2, 1]", "[0.5, 2, -1]", "['B', 'a', 'C']", "[true, 0, '', none]", "range(5)",
          "range(2, 10, 3)", "[1, [2, [3]]]"]
VARS = ["n", "m", "f", "g", "s", "t", "b", "l", "d", "name", "e", "nothing", "obj"]
STR_VARS = ["s", "t", "name"]


def pick(x):
    return R.choice(x)


def atom(kind=None):
    kind = kind or pick(["int", "int", "float", "float", "str", "str", "other", "var", "var", "var"])
    if kind == "int":
        return pick(INTS)
    if kind == "float":
        return pick(FLOATS)
    if kind == "str":
        return pick(STRS + STR_VARS)
    if kind == "other":
        return pick(OTHERS)
    return pick(VARS)


def num():
    return pick(INTS + FLOATS + ["n", "m", "f", "g", "b", "true", "false"])


def small():
    return pick(["0", "1", "2", "3", "5", "-1", "-2", "10", "n", "m", "4"])


def paren(x):
    return "(" + x + ")"


def pct_spec():
    flags = "".join(R.sample("-+ #0", R.randint(0, 2))) if R.random() < 0.5 else ""
    width = pick(["", "", "3", "8", "1", "05", "*", "12"])
    prec = pick(["", "", "", ".2", ".0", ".5", ".*", ".", ".10"])
    conv = pick(list("diouxXeEfFgGcrsa%") + ["d", "s", "f", "x", "g"])
    if R.random() < 0.05:
        conv = pick(["z", "b", "ld", "hd", "L"])
    return "%" + flags + width + prec + conv


def pct_expr():
    n = R.choice([1, 1, 1, 2, 3])
    specs = [pct_spec() for _ in range(n)]
    lit = pick(["", "x", "_", " ", "ty_", "-"])
    fmt = lit + "".join(s + pick(["", "_", " ", ":"]) for s in specs)
    nargs = sum(1 + s.count("*") for s in specs if not s.endswith("%"))
    if R.random() < 0.1:
        nargs += pick([-1, 1])
    args = []
    for s in specs:
        if s.endswith("%"):
            continue
        args += [small() for _ in range(s.count("*"))]
        c = s[-1]
        if c in "diouxXc":
            args.append(pick(INTS + ["n", "m", "f", "b", "true", "'a'", "65", "1.9", "-2.5", "s", "1e16"]))
        elif c in "eEfFgG":
            args.append(pick(FLOATS + INTS + ["f", "g", "n", "b", "'1.5'"]))
        else:
            args.append(atom())
    args = args[:max(nargs, 0)] + [atom() for _ in range(max(0, nargs - len(args)))]
    q = "'" if "'" not in fmt else '"'
    f = q + fmt + q
    if R.random() < 0.08:
        key = pick(["a", "b", "x"])
        return "'%%(%s)%s' %% %s" % (key, pct_spec()[1:], pick(["d", "{'a': 1, 'b': 2.5}", "{'x': 'y'}"]))
    if len(args) == 1 and R.random() < 0.7:
        return f + " % " + (args[0] if R.random() < 0.8 else paren(args[0]))
    if len(args) == 1 and R.random() < 0.5:
        return f + " % (" + args[0] + ",)"
    return f + " % (" + ", ".join(args) + ")"


def fmt_spec():
    fill = pick(["", "", "", "*", "0", "_", " "])
    align = pick(["", "", "<", ">", "^", "="]) if True else ""
    if fill and not align:
        fill = ""
    sign = pick(["", "", "+", "-", " "])
    alt = pick(["", "", "#"])
    zero = pick(["", "", "0"])
    width = pick(["", "", "5", "10", "1", "3"])
    group = pick(["", "", "", ",", "_"])
    prec = pick(["", "", ".2", ".0", ".3", ".10"])
    typ = pick(["", "", "d", "f", "e", "g", "x", "X", "o", "b", "s", "%", "n", "c", "E", "G", "F"])
    return fill + align + sign + alt + zero + width + group + prec + typ


def format_expr():
    n = R.choice([1, 1, 2])
    parts = []
    args = []
    mode = pick(["auto", "auto", "idx", "kw"])
    for i in range(n):
        conv = pick(["", "", "", "!r", "!s", "!a"])
        spec = (":" + fmt_spec()) if R.random() < 0.8 else ""
        field = {"auto": "", "idx": str(i), "kw": "k%d" % i}[mode]
        parts.append(pick(["", "x", "_", "-"]) + "{" + field + conv + spec + "}")
        args.append(num() if R.random() < 0.7 else atom())
    fs = "'" + "".join(parts) + pick(["", "!", "{{}}"]) + "'"
    if mode == "kw":
        a = ", ".join("k%d=%s" % (i, x) for i, x in enumerate(args))
    else:
        a = ", ".join(args)
    if R.random() < 0.3:
        return "%s | format(%s)" % (pct_expr().split(" % ")[0], a) if R.random() < 0.5 else fs + ".format(" + a + ")"
    return fs + ".format(" + a + ")"


STR_METHODS = [
    ("upper", 0), ("lower", 0), ("title", 0), ("capitalize", 0), ("swapcase", 0), ("casefold", 0),
    ("strip", "c"), ("lstrip", "c"), ("rstrip", "c"), ("split", "sep"), ("rsplit", "sep"),
    ("splitlines", "b"), ("partition", "s1"), ("rpartition", "s1"), ("center", "wf"), ("ljust", "wf"),
    ("rjust", "wf"), ("zfill", "w"), ("find", "sub"), ("rfind", "sub"), ("index", "sub"), ("rindex", "sub"),
    ("count", "sub"), ("replace", "rep"), ("startswith", "pre"), ("endswith", "pre"), ("isdigit", 0),
    ("isalpha", 0), ("isalnum", 0), ("isupper", 0), ("islower", 0), ("isspace", 0), ("istitle", 0),
    ("isnumeric", 0), ("isdecimal", 0), ("isidentifier", 0), ("expandtabs", "w"), ("removeprefix", "s1"),
    ("removesuffix", "s1"), ("join", "seq"), ("format", "fa"), ("encode", 0), ("__len__", 0),
    ("isascii", 0), ("isprintable", 0), ("__contains__", "s1"),
]
SUBS = ["'a'", "'b'", "''", "' '", "','", "'_'", "'l'", "'o'", "'ab'", "'x'", "'_1'", "'H'", "s"]


def str_method_expr():
    m, kind = pick(STR_METHODS)
    base = pick(STRS + STR_VARS)
    if base.startswith("'") and R.random() < 0.5:
        base = base
    elif " ~ " in base:
        base = paren(base)
    args = ""
    if kind == "c":
        args = pick(["", "", "'a'", "' a'", "'_1'", "none", "'xyz'"])
    elif kind == "sep":
        args = pick(["", "','", "' '", "'_'", "none, 1", "',', 1", "'_', -1", "maxsplit=1", "' ', 0", "''"])
    elif kind == "b":
        args = pick(["", "true", "keepends=true"])
    elif kind == "s1":
        args = pick(SUBS)
    elif kind == "wf":
        args = pick(["10", "3", "0", "-2", "11, '*'", "7, '-'", "n", "9, 'ab'"])
    elif kind == "w":
        args = pick(["5", "10", "0", "-1", "2", ""])
    elif kind == "sub":
        args = pick(SUBS + ["'a', 1", "'a', -3", "'a', 1, 3", "'o', 5"])
    elif kind == "rep":
        args = pick(["'a', 'X'", "'', '-'", "'_', ''", "' ', '_', 1", "'l', 'L', -1", "'o', '0', 0", "'ab', 'ba'"])
    elif kind == "pre":
        args = pick(SUBS + ["('a', 'H')", "('x', 'y')", "()", "'a', 1", "['a']", "'b', 1, 2"])
    elif kind == "seq":
        args = pick(["['a', 'b']", "l", "'xyz'", "[1, 2]", "[]", "('p', 'q')", "s"])
    elif kind == "fa":
        args = pick(["1", "", "1, 2"])
    e = base + "." + m + "(" + args + ")"
    if R.random() < 0.2:
        e += pick(["[0]", "[-1]", "[1:]", " | length", " | list", " | join('|')", "[::2]"])
    return e


BINOPS = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "~", "and", "or", "in",
          "not in"]


def arith_expr():
    op = pick(BINOPS + ["+", "-", "*", "/", "//", "%", "~"])
    a = num() if R.random() < 0.75 else atom()
    b = num() if R.random() < 0.75 else atom()
    if op == "**":
        b = pick(["0", "1", "2", "3", "-1", "-2", "0.5", "10", "n if n < 50 else 2", "2.5", "-0.5", "true"])
        if a in ("1.5e300", "1e100", "100000000000000000000", "9223372036854775808"):
            a = "2"
    e = "%s %s %s" % (a, op, b)
    r = R.random()
    if r < 0.15:
        e = "-" + paren(e)
    elif r < 0.3:
        e = paren(e) + " " + pick(["+", "*", "/", "//", "%", "~"]) + " " + num()
    elif r < 0.35:
        e = "not " + e
    elif r < 0.45:
        e = "-" + a + " " + op + " " + b
    return e


FILTERS = [
    ("int", ["", "", "0", "'x'", "base=16", "8"]), ("float", ["", "", "1.5"]), ("round", ["", "1", "2, 'floor'", "0, 'ceil'", "1, 'common'"]),
    ("join", ["", "','", "' - '", "attribute='a'"]), ("default", ["'dflt'", "'d', true", "0"]),
    ("length", [""]), ("count", [""]), ("list", [""]), ("string", [""]), ("abs", [""]),
    ("first", [""]), ("last", [""]), ("sum", ["", "start=10"]), ("min", ["", "case_sensitive=true"]), ("max", [""]),
    ("sort", ["", "reverse=true", "case_sensitive=true"]), ("unique", ["", "case_sensitive=true"]),
    ("reverse", [""]), ("upper", [""]), ("lower", [""]), ("title", [""]), ("capitalize", [""]),
    ("trim", ["", "'a'"]), ("center", ["", "10", "9"]), ("indent", ["", "2", "4, true", "2, true, true", "'>>'"]),
    ("replace", ["'a', 'b'", "'', '-'", "'a', 'X', 1"]), ("tojson", ["", "2"]), ("batch", ["2", "2, 'x'"]),
    ("slice", ["2", "3, 0"]), ("dictsort", ["", "false, 'value'", "true", "reverse=true"]),
    ("wordcount", [""]), ("format", ["1", "'x'", "1, 2"]), ("map", ["'string'", "'int'", "'upper'", "'float'", "'abs'", "attribute='a'"]),
    ("select", ["'odd'", "'even'", "'number'", "'string'", "", "'divisibleby', 3", "'>', 1", "'equalto', 1"]),
    ("reject", ["'odd'", "", "'none'"]), ("truncate", ["5", "9, true", "3, false, '..'"]),
    ("wordwrap", ["5", "3, false"]), ("striptags", [""]), ("escape", [""]), ("e", [""]), ("safe", [""]),
    ("urlencode", [""]), ("pprint", [""]), ("items", [""]), ("filesizeformat", ["", "true"]),
    ("xmlattr", [""]), ("forceescape", [""]), ("bool", [""]), ("groupby", ["0"]), ("random", []),
    ("selectattr", ["'a'"]), ("attr", ["'real'", "'imag'"]), ("d", ["'q'"]),
]


def filter_expr():
    f, args = pick(FILTERS)
    if not args:
        f, args = "string", [""]
    a = pick(args)
    base = atom() if R.random() < 0.8 else paren(arith_expr())
    e = base + " | " + f + (("(" + a + ")") if a or R.random() < 0.3 else "")
    if R.random() < 0.3:
        f2, args2 = pick(FILTERS)
        if args2:
            a2 = pick(args2)
            e += " | " + f2 + (("(" + a2 + ")") if a2 else "")
    return e


TESTS = ["defined", "undefined", "none", "number", "string", "sequence", "mapping", "odd", "even",
         "divisibleby(3)", "divisibleby 2", "integer", "float", "boolean", "true", "false", "iterable",
         "callable", "sameas(none)", "eq 1", "lt(3)", "ge 2", "in [1, 2, 'abc']", "upper", "lower",
         "escaped", "filter", "test", "equalto 7", "ne 0", "gt 1"]


def test_expr():
    return atom() + " is " + pick(["", "", "not "]) + pick(TESTS)


def slice_expr():
    base = pick(STRS + STR_VARS + ["l", "[1, 2, 3, 4, 5]", "range(10)", "(1, 2, 3)", "name"])
    idx = pick(["[0]", "[-1]", "[1:]", "[:-1]", "[::-1]", "[1:3]", "[::2]", "[-2:]", "[5:1]", "[1:10:3]",
                "[n:]", "[:0]", "[10]", "[-10:]", "[::-2]", "[1.0]", "[true]", "[-100:100]", "[0:1:0]"])
    return base + idx


def call_expr():
    return pick([
        "l.append(4)", "l.index(2)", "l.count(1)", "d.items()", "d.keys()", "d.values()", "d.get('a')",
        "d.get('zz', 5)", "d.a", "d['b']", "d | length", "l[1:] + [9]", "l + l", "l * 2", "[0] * 3",
        "'ab' * 3", "3 * 'x'", "d.items() | list", "dict(a=1, b=2)", "dict(d, c=3)", "range(3) | list",
        "range(-3) | list", "lipsum(1, false, 3, 5)", "namespace(a=1).a", "cycler(1, 2).next()",
        "joiner(',')()", "l.pop()", "l.copy()", "d.copy()", "l.insert(0, 9)", "l.extend([7])",
        "l.reverse()", "l | reverse | list", "n.bit_length()", "f.is_integer()", "f.as_integer_ratio()",
        "n.real", "f.hex()", "(1).__class__.__name__", "s.__class__", "name.__len__()", "[1,2][1:]",
        "{'a': 1}.a", "{'a': 1}['a']", "(1, 2)[0]", "d | dictsort | first", "obj", "obj.name",
        "obj.n", "obj.f + 1", "obj.type", "obj.entity_enabled", "obj | string", "ioc_name",
        "ioc_yaml_file_name", "env.IOC_NAME", "env['IOC']", "env.get('NOPE', 'x')", "_global.get_env('IOC')",
        "_global.get_env('NOPE')", "_global.get('zz')", "_global.get('zz', 3)", "_global.set('k', 5)",
        "_global.incrementor('c')", "_global.incrementor('c', 10, 5)", "_global.incrementor('c', start=2)",
        "_global.set('k', [1]) + [2]", "e", "e ~ 'x'", "e + 1", "e is string", "e is number",
        "nothing", "nothing is none", "b + 1", "b * 'x'", "true + true", "not nothing", "n // 0",
        "f / 0", "n % 0", "1 / 0.0", "l | sum", "l[2] ~ l[0]", "[n, f, s]", "(n, f)", "{'k': n, 'f': f}",
        "{1: 2, 'a': none}", "[none, true, false]", "(n,)", "[1.0, 2.50, 1e20, 1e-7]", "[-0.0]",
        "{'x': (1, 2)}", "[s, name]", "d", "l", "t", "g", "m", "f", "n", "s",
        "'%s' % l", "'%s' % d", "'%r' % s", "'%s %s' % (l, d)", "'%s' % ((1, 2),)", "'%s' % (1, 2)",
        "'%d%%' % n", "'%5s|%-5s|' % ('ab', 'cd')", "'%c' % 'ab'", "'%c' % 1114112", "'%.3s' % s",
        "'%(a)s-%(b)s' % d", "'%*d' % (5, n)", "'%-*.*f' % (9, 2, f)", "'%x' % -255", "'%#o' % 0",
        "'%e' % 0", "'%g' % 1e-5", "'%g' % 123456789", "'%.0f' % 0.5", "'%.0f' % 1.5", "'%.0f' % 2.5",
        "'%i' % 3.99", "'%d' % -0.5", "'%s' % none", "'%s' % true", "'%d' % true", "'%f' % 1e300",
        "'%.1f' % 0.05", "'%.2f' % 2.675", "'%r' % 1e16", "'%s' % 1e16", "'%s' % 1e15", "'%a' % 'é'",
        "'%s' % -0.0", "'%d' % 1e16", "'%g' % -0.0", "'%+.3e' % 12345.6789", "'%05.1f' % -2.5",
        "'% d' % 5", "'%#x' % 0", "'%#.3g' % 1", "'%G' % 1e-10", "'%F' % 1e300",
        "'{:,}'.format(1234567.891)", "'{:_x}'.format(2**40)", "'{:%}'.format(0.25)", "'{:.1%}'.format(1/3)",
        "'{:e}'.format(0)", "'{:g}'.format(1e16)", "'{}'.format(1e16)", "'{:n}'.format(1234)",
        "'{!r}'.format('a')", "'{0[0]}'.format(l)", "'{0.a}'.format(d)", "'{0[a]}'.format(d)", "'{:>{w}}'.format(s, w=8)",
        "'{:c}'.format(65)", "'{:#b}'.format(5)", "'{:=+8.2f}'.format(-3.14159)", "'{:08.3f}'.format(-1.5)",
        "'{:s}'.format(s)", "'{:d}'.format(true)", "'{:.3}'.format(s)", "'{:.3}'.format(3.14159)", "'{:10}'.format(n)",
        "'{:10}'.format(s)", "'{:10}'.format(true)", "'{:f}'.format(n)", "'{}'.format(none)", "'{}'.format(l)",
        "'{}'.format(-0.0)", "'{:.0f}'.format(2.5)", "'{:g}'.format(0.0001)", "'{:G}'.format(1e-5)",
        "'{:x}'.format(-1)", "'{{}}'.format()", "'{}{}'.format(1)", "'{:d}'.format(1.0)",
        "1e16", "1e15", "1e-5", "1.0", "25.0", "-0.0", "1e22", "123456789012345678.0", "0.1 + 0.2",
        "1/3", "2/3", "10/4", "7/7", "1e300 * 1e10", "-1e300 * 1e10", "(1e300 * 1e10) - (1e300 * 1e10)",
        "2 ** 64", "2 ** 0.5", "(-8) ** (1/3)", "-2 ** 2", "2 ** -2", "0 ** 0", "0.0 ** -1", "7 // -2",
        "-7 % 3", "7.5 // 2", "-7.5 % 2", "7 % -2.5", "1e16 // 3", "2**53 + 1.0", "9007199254740993 / 1",
        "10 ** 20 / 3", "10 ** 20 // 3", "(10 ** 20) | float", "100000000000000000000 | string",
        "3 == 3.0", "1 == true", "'1' == 1", "[1] == [1.0]", "none == none", "1 < 2 < 3", "1 < 2 > 1",
        "'a' < 'b'", "[1, 2] < [1, 3]", "'b' in 'abc'", "1 in [1.0]", "'a' in d", "1 in d", "true in [1]",
        "n if n else 'zero'", "'y' if s else 'n'", "'y' if l else 'n'", "'y' if d else 'n'", "'y' if 0.0 else 'n'",
        "'y' if '0' else 'n'", "(n > 3) ~ ''", "n ~ f ~ b ~ nothing", "[] ~ {}", "(1, 2) ~ ''",
        "-n", "+n", "--n", "-s", "not s", "not not n", "~n" if False else "n ~ ''", "n.__abs__()",
        "s[0] | upper", "s | first", "s | list", "s | batch(2) | list", "s | unique | list",
        "s | sort | join", "s | reverse", "s | map('upper') | list", "s | center(9) ~ '|'", "s | int",
        "s | float", "s | round", "s | length", "s | wordcount", "s | title", "s | capitalize",
        "'  x  ' | trim ~ '|'", "'a\\nb' | indent(2)", "'a\\n\\nb\\n' | indent(2, true)", "'%s' | format(s)",
        "[3, 1, 2] | sort | first", "[3, 1, 2] | max", "['b', 'A', 'c'] | sort", "['b', 'A', 'c'] | max",
        "['b', 'A', 'a'] | unique | list", "[1, 2, 3] | sum / 2", "[1.5, 2] | sum", "[] | sum", "[] | first",
        "[] | max", "[1, 2, 3] | map('string') | join('-')", "[1, 2, 3, 4] | select('odd') | list",
        "[1, 2, 3, 4] | batch(3) | list", "[1, 2, 3, 4] | slice(3) | list", "{'b': 1, 'a': 2} | dictsort",
        "{'b': 1, 'a': 2} | tojson", "{'b': 1, 'a': 2} | list", "[1, 'a', none, true, 1.5] | tojson",
        "'é<>&\\'' | tojson", "1e16 | tojson", "-0.0 | tojson", "[1,2] | tojson(indent=2)",
        "2.5 | round", "3.5 | round", "-2.5 | round", "2.675 | round(2)", "1.5 | round(0, 'floor')",
        "7 | round", "1e16 | round", "-0.4 | round", "2.5 | int", "-2.5 | int", "'3.9' | int", "'0x1F' | int",
        "'0x1F' | int(base=16)", "'1_000' | int", "'  7 ' | int", "'1e3' | int", "'1e3' | float",
        "'inf' | float", "'nan' | float", "'abc' | float", "true | int", "none | int", "none | string",
        "1e16 | int", "1e100 | int", "'12' | float | int", "3 | float", "n | float", "f | int", "f | string",
        "-3 | abs", "-0.0 | abs", "-2.5 | abs", "'x' | default('d')", "nothing | default('d')",
        "nothing | default('d', true)", "'' | default('d', true)", "0 | default('d', true)",
        "undefined_v | default(n)", "nothing | d", "l | length", "d | length", "'ü' | length",
        "l | join", "[1, none] | join(',')", "[1.0, 2.5e-7] | join(',')", "l | list | string",
        "range(3) | string", "d.items() | string", "d.keys() | string", "(l | first) ~ ''",
        "'Hello World' | wordcount", "'hello-world foo_bar' | title", "'hELLO wORLD' | capitalize",
        "\"it's\" | title", "'ǆemal' | title", "'ß' | upper", "'İ' | lower", "'ﬁx' | upper", "'ﬁx' | title",
        "'a b' | replace(' ', '')", "'aaa' | replace('a', 'b', 2)", "'abc' | center(6)", "'abc' | center(6) | length",
        "[1, 2, 3] | reverse | list", "'abc' | reverse", "(1, 2) | reverse | list", "[[1, 2], [3, 4]] | map('first') | list",
        "[1, 2, 2, 3] | unique | list | length", "[3, 2] | min", "'cab' | min", "'cab' | sort | join",
        "{'a': 1} | items | list", "l | map('string') | map('upper') | list",
        "[{'a': 2}, {'a': 1}] | sort(attribute='a') | map(attribute='a') | list",
        "[1, 2] | sum(start=0.5)", "'%.2f' % ('1.5' | float)", "'%03d' % ('7' | int)",
        "'1 2 3'.split() | map('int') | sum", "s.split('_') | last", "'a,b,c'.split(',', 1)",
        "'a,b,c'.rsplit(',', 1)", "' a  b '.split(' ')", "' a  b '.split()", "'a\\nb\\r\\nc'.splitlines()",
        "'abc'.partition('b')", "'abc'.rpartition('x')", "'abc'.center(6, '*')", "'abc'.center(7)",
        "'abc'.ljust(6, '.')", "'-42'.zfill(6)", "'+4'.zfill(4)", "'abc'.zfill(2)", "'ab cd'.title()",
        "\"they're bill's\".title()", "'ab1cd'.title()", "'aBC dEF'.capitalize()", "'abc'.find('c', -1)",
        "'abcabc'.count('')", "'abcabc'.count('b', 2)", "'abc'.replace('', '-')", "'a.b.c'.replace('.', '', 1)",
        "'abc'.startswith(('x', 'a'))", "'abc'.endswith('c', 0, 2)", "'abc'.startswith('')", "'x'.join(['a', 'b'])",
        "'x'.join('abc')", "','.join(l | map('string'))", "'tab\\tx'.expandtabs(4)", "'12'.isdigit()",
        "'²'.isdigit()", "'²'.isdecimal()", "'١'.isdigit()", "''.isdigit()", "'Ab'.istitle()", "'ABC'.isupper()",
        "'a_1'.isidentifier()", "'  '.isspace()", "'abc'.upper().lower()", "'abc'[1]", "'abc'[-1:]",
        "'abc'[::-1]", "'abc'[5:]", "'héllo'[1]", "'héllo'[1:3]", "'héllo' | length", "'héllo'.upper()",
        "'héllo'.center(9, '*')", "'%-6s|' % 'hé'", "'{:>6}'.format('hé')", "'héllo'.find('l')",
        "'x' ~ 1.0", "'x' ~ 1e16", "'x' ~ none", "'x' ~ l", "'x' ~ d", "'x' ~ (1,)", "'x' ~ true",
        "1 ~ 2", "1.5 ~ -0.0", "l ~ d", "[1, 'a'] ~ ''", "{'a': 'b'} ~ ''", "['it\\'s'] ~ ''", "['a\"b'] ~ ''",
        "['a\\nb'] ~ ''", "['é'] ~ ''", "[1e16, 1e-5, 0.1] ~ ''", "[true, none] ~ ''", "((1, 2), [3]) ~ ''",
        "{'a': (1,)} ~ ''", "['\\\\'] ~ ''", "[\"'\"] ~ ''", "[\"'\\\"\"] ~ ''", "['\\t'] ~ ''", "['\\x00'] ~ ''",
        "['\\x7f'] ~ ''", "['\\u200b'] ~ ''", "range(3) ~ ''", "d.values() ~ ''",
    ])


def stmt_template():
    """Statement-level templates (loops, set, macros, whitespace control)."""
    return pick([
        "{% for x in l %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
        "{% for x in l %}{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.length }};{% endfor %}",
        "{% for x in [1,2,3] %}{{ loop.cycle('a', 'b') }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.depth }}|{% endfor %}",
        "{% for x in [1,1,2] %}{{ loop.changed(x) }}{% endfor %}",
        "{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}",
        "{% for k in d %}{{ k }}{% endfor %}",
        "{% for x in range(3) if x != 1 %}{{ x }}{% else %}none{% endfor %}",
        "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}",
        "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}",
        "{% for x in s %}{{ x }}.{% endfor %}",
        "{% for i in range(n if n < 10 else 3) %}{{ i }}{% endfor %}",
        "{% set x = n * 2 %}{{ x }}",
        "{% set x, y = 1, 2 %}{{ x }}{{ y }}",
        "{% set ns = namespace(c=0) %}{% for i in l %}{% set ns.c = ns.c + 1 %}{% endfor %}{{ ns.c }}",
        "{% set c = 0 %}{% for i in l %}{% set c = c + 1 %}{% endfor %}{{ c }}",
        "{% set acc = [] %}{% for i in range(3) %}{% set _ = acc.append(i * 2) %}{% endfor %}{{ acc }}",
        "{% set acc = [] %}{% for i in range(3) %}{{ acc.append(i) }}{% endfor %}{{ acc }}",
        "{% set x %}block {{ n }}{% endset %}[{{ x }}]",
        "{% set x | upper %}block{% endset %}{{ x }}",
        "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(3, b=4) }}",
        "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}",
        "{% macro m(a) %}[{{ caller() }}{{ a }}]{% endmacro %}{% call m(5) %}in{% endcall %}",
        "{% if n > 5 %}big{% elif n > 0 %}small{% else %}neg{% endif %}",
        "{% if s %}S{% endif %}{% if not l %}E{% endif %}",
        "a\n  {%- if true %}\n  b\n  {%- endif %}\nc",
        "a\n{% if true -%}\n   b\n{%- endif %}\nc\n",
        "x {{- ' y ' -}} z",
        "x\n{{ n }}\n{# comment #}\ny",
        "{% raw %}{{ n }}{% endraw %}",
        "line1\n\n\nline2\n",
        "  indented\n\ttab\n",
        "{{ n }}\n{% for x in l %}\n  {{ x }}\n{% endfor %}\n",
        "{%- for x in l -%}\n{{ x }}\n{%- endfor -%}",
        "{% for x in l %}{{ x }}{% break %}{% endfor %}",
        "{% filter upper %}abc {{ s }}{% endfilter %}",
        "{% with a = 1 %}{{ a }}{% endwith %}",
        "{{ self }}",
        "{% for x in l | batch(2) %}{{ x }}{% endfor %}",
        "{% for x in d | dictsort %}{{ x }}{% endfor %}",
        "{{ 'a' }}{{ '' }}{{ none }}{{ 'b' }}",
        "{{ '{{' }} {{ '}}' }}",
        "{% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{{ loop.depth }}{% endfor %};{% endfor %}",
        "{% set l2 = l | list %}{% do l2.append(1) %}{{ l2 }}",
        "{{ n | int }}", "{{ s }} | int }}", "trailing space   ", "\n\nleading newlines", "{{ '\\n' }}",
        "{{ f }}{# x #}\n", "text with unicode ü ✓",
        "{% for x in l recursive %}{{ x }}{% endfor %}",
        "{% for x in [[1,[2]],[3]] recursive %}{% if x is iterable %}({{ loop(x) }}){% else %}{{ x }}{% endif %}{% endfor %}",
    ])


NUM_RATE = 0.25


def expr():
    if R.random() < NUM_RATE:
        return "{{ " + num_expr() + " }}"
    r = R.random()
    if r < 0.20:
        e = pct_expr()
    elif r < 0.32:
        e = format_expr()
    elif r < 0.45:
        e = str_method_expr()
    elif r < 0.57:
        e = arith_expr()
    elif r < 0.70:
        e = filter_expr()
    elif r < 0.75:
        e = test_expr()
    elif r < 0.80:
        e = slice_expr()
    elif r < 0.92:
        e = call_expr()
    else:
        return stmt_template()
    return "{{ " + e + " }}"


def rnd_int():
    r = R.random()
    if r < 0.3:
        return str(R.randint(-20, 20))
    if r < 0.6:
        return str(R.randint(-100000, 100000))
    if r < 0.8:
        return str(R.randint(-10**12, 10**12))
    return str(R.choice([2**31 - 1, 2**31, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -2**63, 10**18, 10**19]))


def rnd_float():
    r = R.random()
    if r < 0.3:
        # decimal literal with few digits
        ip = R.randint(0, 10**R.randint(0, 6))
        fp = R.randint(0, 10**R.randint(1, 4))
        s = "%d.%s" % (ip, str(fp))
    elif r < 0.55:
        s = repr(R.uniform(-1e6, 1e6))
    elif r < 0.75:
        s = "%de%d" % (R.randint(1, 99), R.randint(-20, 20))
        if "e-" not in s and R.random() < 0.5:
            s = s.replace("e", ".5e")
    elif r < 0.9:
        s = repr(R.choice([0.5, 1.5, 2.5, 0.125, 0.375, 1.005, 2.675, 0.045, 1e-4, 9.995, 99.995, 0.05, 1234.5,
                           1e15, 9.999999999999999e15, 1e16, 1e21, 1e22, 123456789012345.6, 0.1, 0.7, 1 / 3]))
    else:
        s = repr(R.uniform(-1, 1) * 10 ** R.randint(-10, 25))
    if R.random() < 0.3 and not s.startswith("-"):
        s = "-" + s
    return s


def num_expr():
    a = rnd_float() if R.random() < 0.6 else rnd_int()
    b = rnd_float() if R.random() < 0.4 else rnd_int()
    if b.lstrip("-") in ("0", "0.0"):
        b = "3"
    r = R.random()
    if r < 0.2:
        op = pick(["+", "-", "*", "/", "//", "%"])
        e = "%s %s (%s)" % (a, op, b)
    elif r < 0.45:
        spec = "%" + pick(["", "", "+", "-", "0", " ", "#"]) + pick(["", "", "8", "12", "1"]) + \
            pick(["", ".0", ".1", ".2", ".3", ".6", ".10", ".15", ".17", ".20"]) + pick(list("eEfFgGdiu") + ["s", "r", "f", "g"])
        e = "'%s' %% (%s)" % (spec, a)
    elif r < 0.7:
        spec = pick(["", "", ">12", "<8", "^9", "0=10", "+", " "]) + pick(["", ",", "_"]) + \
            pick(["", ".0", ".1", ".2", ".3", ".6", ".12", ".17"]) + pick(["", "e", "E", "f", "F", "g", "G", "%", "n"])
        e = "'{:%s}'.format(%s)" % (spec, a)
    elif r < 0.8:
        e = "%s | round(%s%s)" % (paren(a), pick(["0", "1", "2", "3", "-1", "5"]), pick(["", ", 'floor'", ", 'ceil'", ", 'common'"]))
    elif r < 0.9:
        e = "(%s) | %s" % (a, pick(["int", "float", "string", "abs", "round"]))
    else:
        e = "[%s, %s] | %s" % (a, b, pick(["sum", "max", "min", "sort", "string", "join('/')"]))
    return e
