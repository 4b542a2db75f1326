//! Python's text forms of values: `str()`, `repr()`, `%` formatting and
//! `str.format`.
//!
//! ibek renders with Jinja2 on `CPython`, so everything a template prints goes
//! through Python's `str()`: `25.0`, `1e-05`, `True`, `None`, `['a', 1]`.
//! Byte-identical output needs the same spelling here.

use std::fmt::Write as _;

use minijinja::value::{Kwargs, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::objects::{PyList, PyRange, Record};

fn type_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Python's `repr(float)`: shortest round-trip digits, exponent outside `[1e-4, 1e16)`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let decpt = exp + 1;
        let body = if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(decpt as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let n = c as u32;
                if n < 0x100 {
                    let _ = write!(out, "\\x{n:02x}");
                } else if n < 0x10000 {
                    let _ = write!(out, "\\u{n:04x}");
                } else {
                    let _ = write!(out, "\\U{n:08x}");
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Close to Python's `str.isprintable` for the characters YAML lets through.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // unassigned / format / surrogate / private-use characters print escaped in Python
    !matches!(c as u32, 0xAD | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xE000..=0xF8FF)
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii=True`):
/// printable ASCII as is, everything else escaped, characters beyond the BMP
/// as a surrogate pair. `html_safe` also escapes `<`, `>`, `&` and `'`, as
/// Jinja2's `tojson` does.
pub fn write_json_str(out: &mut String, s: &str, html_safe: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\'' if html_safe => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Appends Python's `str()` of a value.
pub fn write_str(out: &mut String, v: &Value) -> Result<(), Error> {
    match v.kind() {
        ValueKind::String => out.push_str(v.as_str().unwrap_or_default()),
        _ => write_repr_inner(out, v, false)?,
    }
    Ok(())
}

/// Python's `str()` of a value.
pub fn py_str(v: &Value) -> Result<String, Error> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_string());
    }
    let mut out = String::new();
    write_str(&mut out, v)?;
    Ok(out)
}

/// Python's `repr()` of a value.
pub fn py_repr(v: &Value) -> Result<String, Error> {
    let mut out = String::new();
    write_repr_inner(&mut out, v, true)?;
    Ok(out)
}

fn write_seq<'a>(
    out: &mut String,
    open: &str,
    close: &str,
    items: impl IntoIterator<Item = &'a Value>,
    single_comma: bool,
) -> Result<(), Error> {
    out.push_str(open);
    let mut n = 0;
    for item in items {
        if n > 0 {
            out.push_str(", ");
        }
        write_repr_inner(out, item, true)?;
        n += 1;
    }
    if single_comma && n == 1 {
        out.push(',');
    }
    out.push_str(close);
    Ok(())
}

fn write_repr_inner(out: &mut String, v: &Value, quote_strings: bool) -> Result<(), Error> {
    match v.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "undefined value printed",
            ))
        }
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if v.is_integer() {
                let i = i128::try_from(v.clone()).map_err(|_| type_error("integer too large"))?;
                let _ = write!(out, "{i}");
            } else {
                let f = f64::try_from(v.clone()).map_err(|_| type_error("bad float"))?;
                out.push_str(&float_repr(f));
            }
        }
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            if quote_strings {
                out.push_str(&str_repr(s));
            } else {
                out.push_str(s);
            }
        }
        ValueKind::Bytes => {
            let bytes = v.as_bytes().unwrap_or_default();
            out.push_str("b'");
            for b in bytes {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    b'\'' => out.push_str("\\'"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    0x20..=0x7e => out.push(*b as char),
                    _ => {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
            }
            out.push('\'');
        }
        _ => write_object(out, v)?,
    }
    Ok(())
}

thread_local! {
    // the mutable containers being printed, innermost last: a list that
    // contains itself prints as `[...]`, as in Python
    static PRINTING: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Python's repr gives up at its recursion limit; so do we, well before the stack does.
const MAX_PRINT_DEPTH: usize = 400;

struct PrintGuard;

impl PrintGuard {
    /// Enters a container; `None` when it is already being printed (a cycle).
    fn enter(id: usize) -> Result<Option<PrintGuard>, Error> {
        PRINTING.with(|p| {
            let mut p = p.borrow_mut();
            if p.contains(&id) {
                return Ok(None);
            }
            if p.len() >= MAX_PRINT_DEPTH {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "RecursionError: maximum recursion depth exceeded while getting the repr of an object",
                ));
            }
            p.push(id);
            Ok(Some(PrintGuard))
        })
    }
}

impl Drop for PrintGuard {
    fn drop(&mut self) {
        PRINTING.with(|p| {
            p.borrow_mut().pop();
        });
    }
}

fn write_object(out: &mut String, v: &Value) -> Result<(), Error> {
    if v.downcast_object_ref::<super::EnvMap>().is_some() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "iocforge does not print the whole `env` mapping (it would copy every variable of \
             the container into the output); look up one variable: `env.NAME` or `env['NAME']`",
        ));
    }
    let container = v
        .downcast_object_ref::<PyList>()
        .map(|l| std::ptr::from_ref(l) as usize)
        .or_else(|| {
            v.downcast_object_ref::<super::PyDict>()
                .map(|d| std::ptr::from_ref(d) as usize)
        });
    let mut _guard = None;
    if let Some(id) = container {
        if let Some(g) = PrintGuard::enter(id)? {
            _guard = Some(g);
        } else {
            out.push_str(if v.downcast_object_ref::<PyList>().is_some() {
                "[...]"
            } else {
                "{...}"
            });
            return Ok(());
        }
    }
    if let Some(list) = v.downcast_object_ref::<PyList>() {
        let items = list.snapshot();
        return write_seq(out, "[", "]", &items, false);
    }
    if let Some(range) = v.downcast_object_ref::<PyRange>() {
        out.push_str(&range.describe());
        return Ok(());
    }
    if let Some(record) = v.downcast_object_ref::<Record>() {
        let id = record.describe()?;
        return write_str(out, &id);
    }
    if v.is_tuple() {
        let items: Vec<Value> = v.try_iter()?.collect();
        return write_seq(out, "(", ")", &items, true);
    }
    let repr = v.as_object().map(minijinja::value::DynObject::repr);
    match (v.kind(), repr) {
        (ValueKind::Map, _) | (_, Some(ObjectRepr::Map)) => {
            out.push('{');
            let mut first = true;
            for key in v.try_iter()? {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                let val = v.get_item(&key)?;
                write_repr_inner(out, &key, true)?;
                out.push_str(": ");
                write_repr_inner(out, &val, true)?;
            }
            out.push('}');
        }
        (ValueKind::Seq | ValueKind::Iterable, _) => {
            let items: Vec<Value> = v.try_iter()?.collect();
            write_seq(out, "[", "]", &items, false)?;
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// numbers as Python sees them

/// A Python number, for formatting.
#[derive(Debug, Clone, Copy)]
pub enum Num {
    /// `int` (and `bool`, which is an int in Python).
    Int(i128),
    /// `float`.
    Float(f64),
}

/// The number in a value, treating `bool` as an int as Python does.
pub fn as_num(v: &Value) -> Option<Num> {
    match v.kind() {
        ValueKind::Bool => Some(Num::Int(i128::from(v.is_true()))),
        ValueKind::Number if v.is_integer() => i128::try_from(v.clone()).ok().map(Num::Int),
        ValueKind::Number => f64::try_from(v.clone()).ok().map(Num::Float),
        _ => None,
    }
}

/// Python's type name of a value, for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "Undefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Map => "dict",
        _ if v.is_tuple() => "tuple",
        _ if v.downcast_object_ref::<PyRange>().is_some() => "range",
        _ if v.downcast_object_ref::<Record>().is_some() => "Entity",
        ValueKind::Seq => "list",
        _ => "object",
    }
}

fn group_digits(digits: &str, sep: char, every: usize) -> String {
    let mut out = String::new();
    let n = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % every == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Past this many digits a double has no more non-zero decimals (its exact
/// expansion has at most 1,074 after the point and 767 significant), so
/// longer precisions are printed with this and padded with zeros: Rust's
/// formatter refuses precisions over 65,535, CPython does not.
const EXACT_DIGITS: usize = 1_100;

/// Fixed-point digits with Python's rounding (correctly rounded, like `'%.*f'`).
fn fixed(f: f64, prec: usize) -> String {
    if prec > EXACT_DIGITS {
        let mut s = format!("{f:.EXACT_DIGITS$}");
        s.extend(std::iter::repeat_n('0', prec - EXACT_DIGITS));
        return s;
    }
    format!("{f:.prec$}")
}

/// Scientific notation with Python's exponent form (`1.500000e+00`).
fn sci(f: f64, prec: usize, upper: bool) -> String {
    let s = if prec > EXACT_DIGITS {
        let s = format!("{f:.EXACT_DIGITS$e}");
        let (m, e) = s.split_once('e').expect("exponent present");
        format!("{m}{}e{e}", "0".repeat(prec - EXACT_DIGITS))
    } else {
        format!("{f:.prec$e}")
    };
    let (m, e) = s.split_once('e').expect("exponent present");
    let e: i32 = e.parse().expect("exponent is an integer");
    let esign = if e < 0 { '-' } else { '+' };
    let out = format!("{m}e{esign}{:02}", e.abs());
    if upper {
        out.to_uppercase()
    } else {
        out
    }
}

/// Python's `%g` / `'g'`: precision significant digits, trailing zeros removed unless `alt`.
fn general(f: f64, prec: usize, upper: bool, alt: bool) -> String {
    // without `#` trailing zeros go, so digits past a double's exact expansion change nothing
    let prec = if alt { prec } else { prec.min(EXACT_DIGITS) };
    let p = if prec == 0 { 1 } else { prec };
    if f == 0.0 {
        let s = if alt {
            fixed(0.0, p - 1)
        } else {
            "0".to_string()
        };
        return if f.is_sign_negative() {
            format!("-{s}")
        } else {
            s
        };
    }
    let e = {
        let s = format!("{:.*e}", (p - 1).min(EXACT_DIGITS), f);
        let (_, e) = s.split_once('e').expect("exponent present");
        e.parse::<i32>().expect("exponent is an integer")
    };
    let mut s = if e >= -4 && e < p as i32 {
        fixed(f, (p as i64 - 1 - i64::from(e)).max(0) as usize)
    } else {
        sci(f, p - 1, upper)
    };
    if alt && !s.contains('.') {
        match s.find(['e', 'E']) {
            Some(p) => s.insert(p, '.'),
            None => s.push('.'),
        }
    }
    if !alt {
        if let Some(epos) = s.find(['e', 'E']) {
            let (m, ex) = s.split_at(epos);
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            s = format!("{m}{ex}");
        } else if s.contains('.') {
            s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        }
    }
    s
}

fn special_float(f: f64, upper: bool) -> Option<String> {
    let s = if f.is_nan() {
        "nan"
    } else if f.is_infinite() {
        if f > 0.0 {
            "inf"
        } else {
            "-inf"
        }
    } else {
        return None;
    };
    Some(if upper {
        s.to_uppercase()
    } else {
        s.to_string()
    })
}

// ---------------------------------------------------------------------------
// printf-style formatting: "%03d" % x

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(body: String, sign: &str, spec: &Spec, numeric: bool) -> String {
    let len = body.chars().count() + sign.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return format!("{sign}{body}");
    }
    let fill = width - len;
    if spec.minus {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    }
}

fn sign_of(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn int_for_percent(v: &Value, conv: char) -> Result<i128, Error> {
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i),
        Some(Num::Float(f)) if matches!(conv, 'd' | 'i' | 'u') => {
            if f.is_nan() {
                Err(type_error("cannot convert float NaN to integer"))
            } else if f.is_infinite() {
                Err(type_error("cannot convert float infinity to integer"))
            } else {
                Ok(f.trunc() as i128)
            }
        }
        Some(Num::Float(_)) => Err(type_error(format!(
            "%{conv} format: an integer is required, not float"
        ))),
        None => Err(type_error(format!(
            "%{conv} format: a real number is required, not {}",
            type_name(v)
        ))),
    }
}

fn float_for_percent(v: &Value, conv: char) -> Result<f64, Error> {
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i as f64),
        Some(Num::Float(f)) => Ok(f),
        None => Err(type_error(format!(
            "must be real number, not {} (in %{conv})",
            type_name(v)
        ))),
    }
}

fn format_one(v: &Value, conv: char, spec: &Spec) -> Result<String, Error> {
    Ok(match conv {
        's' | 'r' | 'a' => {
            let mut s = if conv == 's' { py_str(v)? } else { py_repr(v)? };
            if let Some(p) = spec.prec {
                s = s.chars().take(p).collect();
            }
            pad(s, "", spec, false)
        }
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
            let i = int_for_percent(v, conv)?;
            let mag = i.unsigned_abs();
            let mut digits = match conv {
                'x' => format!("{mag:x}"),
                'X' => format!("{mag:X}"),
                'o' => format!("{mag:o}"),
                _ => mag.to_string(),
            };
            if let Some(p) = spec.prec {
                if digits.len() < p {
                    digits = format!("{}{}", "0".repeat(p - digits.len()), digits);
                }
            }
            let prefix = match (spec.alt, conv) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, 'o') => "0o",
                _ => "",
            };
            let sign = format!("{}{prefix}", sign_of(i < 0, spec));
            pad(digits, &sign, spec, true)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let f = float_for_percent(v, conv)?;
            let upper = conv.is_ascii_uppercase();
            let prec = spec.prec.unwrap_or(6);
            let body = match special_float(f.abs(), upper) {
                Some(s) => s,
                None => match conv.to_ascii_lowercase() {
                    'e' => {
                        let s = sci(f.abs(), prec, upper);
                        if spec.alt && prec == 0 {
                            s.replacen(['e', 'E'], if upper { ".E" } else { ".e" }, 1)
                        } else {
                            s
                        }
                    }
                    'f' => {
                        let s = fixed(f.abs(), prec);
                        if spec.alt && prec == 0 {
                            format!("{s}.")
                        } else {
                            s
                        }
                    }
                    _ => general(f.abs(), prec, upper, spec.alt),
                },
            };
            let neg = f.is_sign_negative() && !f.is_nan();
            pad(body, sign_of(neg, spec), spec, f.is_finite())
        }
        'c' => {
            let s = match (v.as_str(), as_num(v)) {
                (Some(s), _) if s.chars().count() == 1 => s.to_string(),
                (_, Some(Num::Int(i))) => char::from_u32(i as u32)
                    .ok_or_else(|| type_error("%c arg not in range(0x110000)"))?
                    .to_string(),
                _ => return Err(type_error("%c requires int or char")),
            };
            pad(s, "", spec, false)
        }
        other => {
            return Err(type_error(format!(
                "unsupported format character '{other}' (0x{:x})",
                other as u32
            )))
        }
    })
}

/// Python's `fmt % args`. A tuple supplies positional arguments, a mapping
/// supplies `%(name)s` arguments, anything else is the single argument.
pub fn percent_format(fmt: &str, args: &Value) -> Result<String, Error> {
    let positional: Vec<Value> = if args.is_tuple() {
        args.try_iter()?.collect()
    } else {
        vec![args.clone()]
    };
    let is_mapping = args.kind() == ValueKind::Map && !args.is_tuple();
    let mut next = 0usize;
    let mut used_mapping = false;
    let mut out = String::with_capacity(fmt.len() + 8);
    let mut chars = fmt.chars().peekable();
    let take_arg = |next: &mut usize| -> Result<Value, Error> {
        let v = positional
            .get(*next)
            .cloned()
            .ok_or_else(|| type_error("not enough arguments for format string"))?;
        *next += 1;
        Ok(v)
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key: Option<String> = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut depth = 1;
            let mut name = String::new();
            for c in chars.by_ref() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                name.push(c);
            }
            if depth != 0 {
                return Err(type_error("incomplete format key"));
            }
            key = Some(name);
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                '#' => spec.alt = true,
                _ => break,
            }
            chars.next();
        }
        if chars.peek() == Some(&'*') {
            chars.next();
            let w = take_arg(&mut next)?;
            let w = w.as_i64().ok_or_else(|| type_error("* wants int"))?;
            if w < 0 {
                spec.minus = true;
            }
            spec.width = Some(w.unsigned_abs() as usize);
        } else {
            let mut w = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                w.push(d);
                chars.next();
            }
            if !w.is_empty() {
                spec.width = Some(w.parse().unwrap_or(usize::MAX));
            }
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            if chars.peek() == Some(&'*') {
                chars.next();
                let p = take_arg(&mut next)?;
                spec.prec =
                    Some(p.as_i64().ok_or_else(|| type_error("* wants int"))?.max(0) as usize);
            } else {
                let mut p = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    p.push(d);
                    chars.next();
                }
                spec.prec = Some(if p.is_empty() {
                    0
                } else {
                    p.parse().unwrap_or(usize::MAX)
                });
            }
        }
        if let Some(w) = spec.width {
            super::bounds::check_width("the width of a `%` field", w as u128)?;
        }
        if let Some(p) = spec.prec {
            super::bounds::check_width("the precision of a `%` field", p as u128)?;
        }
        while matches!(chars.peek(), Some('h' | 'l' | 'L')) {
            chars.next();
        }
        let conv = chars
            .next()
            .ok_or_else(|| type_error("incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let value = match &key {
            Some(k) => {
                if !is_mapping {
                    return Err(type_error("format requires a mapping"));
                }
                used_mapping = true;
                let v = args.get_item(&Value::from(k.as_str()))?;
                if v.is_undefined() {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("KeyError: {}", str_repr(k)),
                    ));
                }
                v
            }
            None => take_arg(&mut next)?,
        };
        out.push_str(&format_one(&value, conv, &spec)?);
    }
    if next < positional.len() && !(is_mapping && (used_mapping || next == 0)) {
        return Err(type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// str.format and format(value, spec)

struct FormatSpec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    prec: Option<usize>,
    ty: Option<char>,
}

fn parse_format_spec(spec: &str) -> Result<FormatSpec, Error> {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut out = FormatSpec {
        fill: ' ',
        align: None,
        sign: '-',
        alt: false,
        zero: false,
        width: 0,
        grouping: None,
        prec: None,
        ty: None,
    };
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        out.fill = chars[0];
        out.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        out.align = Some(chars[0]);
        i = 1;
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        out.sign = chars[i];
        i += 1;
    }
    if i < chars.len() && chars[i] == 'z' {
        i += 1;
    }
    if i < chars.len() && chars[i] == '#' {
        out.alt = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '0' {
        out.zero = true;
        i += 1;
    }
    let start = i;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        out.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(usize::MAX);
        super::bounds::check_width("the width of a format field", out.width as u128)?;
    }
    if i < chars.len() && matches!(chars[i], ',' | '_') {
        out.grouping = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(type_error("Format specifier missing precision"));
        }
        let prec = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(usize::MAX);
        super::bounds::check_width("the precision of a format field", prec as u128)?;
        out.prec = Some(prec);
    }
    if i < chars.len() {
        out.ty = Some(chars[i]);
        i += 1;
    }
    if i != chars.len() {
        return Err(type_error("Invalid format specifier"));
    }
    Ok(out)
}

fn align_text(body: &str, sign: &str, spec: &FormatSpec, default_align: char) -> String {
    let len = body.chars().count() + sign.chars().count();
    if len >= spec.width {
        return format!("{sign}{body}");
    }
    let fill_n = spec.width - len;
    let (fill, align) = if spec.zero && spec.align.is_none() {
        ('0', '=')
    } else {
        (spec.fill, spec.align.unwrap_or(default_align))
    };
    let f = |n: usize| fill.to_string().repeat(n);
    match align {
        '<' => format!("{sign}{body}{}", f(fill_n)),
        '^' => format!("{}{sign}{body}{}", f(fill_n / 2), f(fill_n - fill_n / 2)),
        '=' => format!("{sign}{}{body}", f(fill_n)),
        _ => format!("{}{sign}{body}", f(fill_n)),
    }
}

/// The width zero padding must fill (`0` flag without an explicit alignment), else 0.
fn zero_pad_width(fs: &FormatSpec, sign: &str) -> usize {
    if fs.zero && fs.align.is_none() {
        fs.width.saturating_sub(sign.chars().count())
    } else {
        0
    }
}

/// Groups the digits; with zero padding, CPython groups the padding zeros
/// too, and never starts with a separator (`'{:08,}'.format(1234)` is `0,001,234`).
fn grouped_padded(int_digits: &str, rest: &str, sep: char, every: usize, width: usize) -> String {
    let mut digits = int_digits.to_string();
    loop {
        let g = group_digits(&digits, sep, every);
        if g.chars().count() + rest.chars().count() >= width {
            return format!("{g}{rest}");
        }
        digits.insert(0, '0');
    }
}

/// Python's `format(value, spec)`.
pub fn format_value(v: &Value, spec: &str) -> Result<String, Error> {
    let fs = parse_format_spec(spec)?;
    let num = if v.kind() == ValueKind::String {
        None
    } else {
        as_num(v)
    };
    match (num, fs.ty) {
        (None, _) if v.kind() != ValueKind::String && spec.is_empty() => py_str(v),
        (None, None | Some('s')) => {
            let mut s = py_str(v)?;
            if let Some(p) = fs.prec {
                s = s.chars().take(p).collect();
            }
            Ok(align_text(&s, "", &fs, '<'))
        }
        (None, Some(t)) => Err(type_error(format!(
            "Unknown format code '{t}' for object of type '{}'",
            type_name(v)
        ))),
        (Some(Num::Int(i)), None | Some('d' | 'b' | 'o' | 'x' | 'X' | 'c' | 'n')) => {
            if v.kind() == ValueKind::Bool && spec.is_empty() {
                return py_str(v);
            }
            let mag = i.unsigned_abs();
            let ty = fs.ty.unwrap_or('d');
            let (mut digits, prefix) = match ty {
                'b' => (format!("{mag:b}"), "0b"),
                'o' => (format!("{mag:o}"), "0o"),
                'x' => (format!("{mag:x}"), "0x"),
                'X' => (format!("{mag:X}"), "0X"),
                'c' => {
                    return Ok(align_text(
                        &char::from_u32(i as u32).unwrap_or('\u{fffd}').to_string(),
                        "",
                        &fs,
                        '<',
                    ))
                }
                _ => (mag.to_string(), ""),
            };
            let sign = match (i < 0, fs.sign) {
                (true, _) => "-",
                (false, '+') => "+",
                (false, ' ') => " ",
                _ => "",
            };
            let sign = if fs.alt {
                format!("{sign}{prefix}")
            } else {
                sign.to_string()
            };
            if let Some(g) = fs.grouping {
                let every = if ty == 'd' || ty == 'n' { 3 } else { 4 };
                digits = grouped_padded(&digits, "", g, every, zero_pad_width(&fs, &sign));
            }
            Ok(align_text(&digits, &sign, &fs, '>'))
        }
        (Some(n), t) => {
            let f = match n {
                Num::Int(i) => i as f64,
                Num::Float(f) => f,
            };
            let upper = t.is_some_and(|c| c.is_ascii_uppercase());
            let body = match special_float(f.abs(), upper) {
                Some(s) => s,
                None => match t {
                    Some('e' | 'E') => sci(f.abs(), fs.prec.unwrap_or(6), upper),
                    Some('f' | 'F') => fixed(f.abs(), fs.prec.unwrap_or(6)),
                    Some('%') => format!("{}%", fixed(f.abs() * 100.0, fs.prec.unwrap_or(6))),
                    Some('g' | 'G' | 'n') => general(f.abs(), fs.prec.unwrap_or(6), upper, fs.alt),
                    None => match fs.prec {
                        None => match n {
                            Num::Int(i) => i.unsigned_abs().to_string(),
                            Num::Float(_) => float_repr(f.abs()),
                        },
                        Some(p) => {
                            let g = general(f.abs(), p, false, fs.alt);
                            if g.contains(['.', 'e']) || matches!(n, Num::Int(_)) {
                                g
                            } else {
                                format!("{g}.0")
                            }
                        }
                    },
                    Some(other) => {
                        return Err(type_error(format!(
                            "Unknown format code '{other}' for object of type '{}'",
                            type_name(v)
                        )))
                    }
                },
            };
            let body = if fs.alt
                && !body.contains('.')
                && matches!(t, Some('e' | 'E' | 'f' | 'F' | '%'))
            {
                // the alternate form keeps the decimal point
                match body.find(['e', 'E', '%']) {
                    Some(p) => format!("{}.{}", &body[..p], &body[p..]),
                    None => format!("{body}."),
                }
            } else {
                body
            };
            let neg =
                f.is_sign_negative() && !f.is_nan() && !(f == 0.0 && matches!(n, Num::Int(_)));
            let sign = match (neg, fs.sign) {
                (true, _) => "-",
                (false, '+') => "+",
                (false, ' ') => " ",
                _ => "",
            };
            let body = match fs.grouping {
                Some(g) => {
                    let (int_part, rest) = body
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or((body.as_str(), ""), |p| body.split_at(p));
                    grouped_padded(int_part, rest, g, 3, zero_pad_width(&fs, sign))
                }
                None => body,
            };
            Ok(align_text(&body, sign, &fs, '>'))
        }
    }
}

/// Python's `fmt.format(*args, **kwargs)`.
pub fn str_format(fmt: &str, args: &[Value], kwargs: Option<&Kwargs>) -> Result<String, Error> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut auto = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(type_error("Single '}' encountered in format string"));
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        // find the matching close brace (nested braces only inside the spec)
        let mut depth = 1;
        let mut j = i + 1;
        while j < chars.len() && depth > 0 {
            match chars[j] {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            j += 1;
        }
        if depth != 0 {
            return Err(type_error("Single '{' encountered in format string"));
        }
        let field: String = chars[i + 1..j - 1].iter().collect();
        i = j;
        let (name_conv, spec) = match field.find(':') {
            Some(p) => (&field[..p], &field[p + 1..]),
            None => (field.as_str(), ""),
        };
        let (name, conv) = match name_conv.find('!') {
            Some(p) => (&name_conv[..p], Some(&name_conv[p + 1..])),
            None => (name_conv, None),
        };
        let first_end = name.find(['.', '[']).unwrap_or(name.len());
        let (head, mut rest) = name.split_at(first_end);
        let mut value = if head.is_empty() {
            let v = args.get(auto).cloned().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("IndexError: Replacement index {auto} out of range for positional args tuple"),
                )
            })?;
            auto += 1;
            v
        } else if let Ok(idx) = head.parse::<usize>() {
            args.get(idx).cloned().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("IndexError: Replacement index {idx} out of range for positional args tuple"),
                )
            })?
        } else {
            kwargs
                .and_then(|k| k.peek::<Value>(head).ok())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("KeyError: {}", str_repr(head)),
                    )
                })?
        };
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                value = value.get_attr(&r[..end])?;
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r
                    .find(']')
                    .ok_or_else(|| type_error("Missing ']' in format string"))?;
                let key = &r[..end];
                let key_v = key
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(key), Value::from);
                value = value.get_item(&key_v)?;
                rest = &r[end + 1..];
            } else {
                return Err(type_error(
                    "Only '.' or '[' may follow ']' in format field specifier",
                ));
            }
        }
        let value = match conv {
            None => value,
            Some("s") => Value::from(py_str(&value)?),
            Some("r" | "a") => Value::from(py_repr(&value)?),
            Some(other) => return Err(type_error(format!("Unknown conversion specifier {other}"))),
        };
        let spec = if spec.contains('{') {
            str_format(spec, args, kwargs)?
        } else {
            spec.to_string()
        };
        out.push_str(&format_value(&value, &spec)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python() {
        assert_eq!(float_repr(25.0), "25.0");
        assert_eq!(float_repr(-2e-05), "-2e-05");
        assert_eq!(float_repr(1.1e-06), "1.1e-06");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1e15), "1000000000000000.0");
        assert_eq!(float_repr(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float_repr(123.456), "123.456");
        assert_eq!(float_repr(1.5e300), "1.5e+300");
    }

    #[test]
    fn str_repr_picks_quotes_like_python() {
        assert_eq!(str_repr("a"), "'a'");
        assert_eq!(str_repr("b'c"), "\"b'c\"");
        assert_eq!(str_repr("b'c\""), "'b\\'c\"'");
        assert_eq!(str_repr("a\nb"), "'a\\nb'");
    }

    fn tuple(v: Vec<Value>) -> Value {
        Value::from(minijinja::value::Tuple::from(v))
    }

    #[test]
    fn percent_formatting() {
        let f = |fmt: &str, v: Value| percent_format(fmt, &v).unwrap();
        assert_eq!(f("%02d", Value::from(5)), "05");
        assert_eq!(f("%03d", Value::from(1.857)), "001");
        assert_eq!(
            f("ty_%02d_%d", tuple(vec![Value::from(3), Value::from(4)])),
            "ty_03_4"
        );
        assert_eq!(f("%x", Value::from(255)), "ff");
        assert_eq!(f("%#x", Value::from(255)), "0xff");
        assert_eq!(f("%5.2f", Value::from(1.23456)), " 1.23");
        assert_eq!(f("%-4s|", Value::from("a")), "a   |");
        assert_eq!(f("%e", Value::from(1.5)), "1.500000e+00");
        assert_eq!(f("%g", Value::from(0.0001)), "0.0001");
        assert_eq!(f("%g", Value::from(1e-5)), "1e-05");
        assert_eq!(f("%g", Value::from(123_456_789.0)), "1.23457e+08");
        assert_eq!(f("%s", Value::from(true)), "True");
        assert_eq!(f("100%%", tuple(vec![])), "100%");
        assert_eq!(f("%+d", Value::from(3)), "+3");
        assert!(percent_format("%d", &Value::from("x")).is_err());
        assert!(percent_format("%d", &tuple(vec![Value::from(1), Value::from(2)])).is_err());
    }

    #[test]
    fn format_method() {
        let f = |fmt: &str, args: Vec<Value>| str_format(fmt, &args, None).unwrap();
        assert_eq!(f("axes_{}", vec![Value::from("c1")]), "axes_c1");
        assert_eq!(f("{0}-{0}", vec![Value::from(1)]), "1-1");
        assert_eq!(f("{:03d}", vec![Value::from(7)]), "007");
        assert_eq!(f("{:.2f}", vec![Value::from(1.0 / 3.0)]), "0.33");
        assert_eq!(f("{:>5}", vec![Value::from("ab")]), "   ab");
        assert_eq!(f("{:x}", vec![Value::from(255)]), "ff");
        assert_eq!(f("{}", vec![Value::from(2.0)]), "2.0");
        assert_eq!(f("{!r}", vec![Value::from("a")]), "'a'");
        assert_eq!(f("{:,}", vec![Value::from(1_234_567)]), "1,234,567");
        assert_eq!(f("{{}}", vec![]), "{}");
        assert_eq!(f("{:.3}", vec![Value::from(1.23456)]), "1.23");
    }
}
