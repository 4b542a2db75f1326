//! Python's text forms of values: `str()`, `repr()` and numbers as Python
//! spells them; `%` formatting is in `percent.rs`,
//! `str.format` in `pyformat.rs`.
//!
//! ibek renders with Jinja2 on `CPython`, so everything a template prints goes
//! through Python's `str()`: `25.0`, `1e-05`, `True`, `None`, `['a', 1]`.
//! Byte-identical output needs the same spelling here.

use std::fmt::Write as _;

use minijinja::value::{ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::objects::{PyList, PyRange, Record};

pub(super) fn type_error(msg: impl Into<String>) -> Error {
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
    let plain = |b: u8| {
        (b' '..=b'~').contains(&b)
            && b != b'"'
            && b != b'\\'
            && !(html_safe && matches!(b, b'<' | b'>' | b'&' | b'\''))
    };
    let mut rest = s;
    while !rest.is_empty() {
        // copy runs of plain ASCII in one go (schemas can hold megabytes of names)
        let run = rest.bytes().position(|b| !plain(b)).unwrap_or(rest.len());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
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

pub(super) fn group_digits(digits: &str, sep: char, every: usize) -> String {
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
pub(super) fn fixed(f: f64, prec: usize) -> String {
    if prec > EXACT_DIGITS {
        let mut s = format!("{f:.EXACT_DIGITS$}");
        s.extend(std::iter::repeat_n('0', prec - EXACT_DIGITS));
        return s;
    }
    format!("{f:.prec$}")
}

/// Scientific notation with Python's exponent form (`1.500000e+00`).
pub(super) fn sci(f: f64, prec: usize, upper: bool) -> String {
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
pub(super) fn general(f: f64, prec: usize, upper: bool, alt: bool) -> String {
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

pub(super) fn special_float(f: f64, upper: bool) -> Option<String> {
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

pub use super::percent::percent_format;
pub use super::pyformat::{format_value, str_format};

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
}
