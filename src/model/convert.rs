//! YAML nodes to template values, and pydantic's lax conversions.
//!
//! ibek validates with pydantic 2 in lax mode: `"12"` is accepted for an
//! int, `12.0` too but not `12.5`, `yes`/`off` for a bool, and a `str`
//! field takes only strings. These functions reproduce those rules so the
//! same documents are accepted and the same values come out.

use std::sync::LazyLock;

use minijinja::value::Value;
use regex::Regex;

use crate::jinja::literal::dict_from_pairs;
use crate::jinja::PyList;
use crate::source::{Node, NodeKind};

/// ibek's `JINJA` pattern: a string that pydantic accepts in place of a typed value.
static JINJA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r".*\{\{.*\}\}.*").expect("static regex"));

/// Whether a string counts as Jinja for typed fields (`{{ ... }}` on one line).
pub fn is_jinja(s: &str) -> bool {
    JINJA.is_match(s)
}

/// The Python value ruamel would build for a node.
pub fn to_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::from(()),
        NodeKind::Bool(b) => Value::from(*b),
        NodeKind::Int(i) => match i64::try_from(*i) {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(*i),
        },
        NodeKind::Float(f) => Value::from(*f),
        NodeKind::Str(s) | NodeKind::Timestamp(s) => Value::from(s.as_str()),
        NodeKind::Seq(items) => PyList::new_value(items.iter().map(to_value).collect()),
        NodeKind::Map(entries) => dict_from_pairs(
            entries
                .iter()
                .map(|(k, v)| (to_value(k), to_value(v)))
                .collect(),
        ),
    }
}

/// Why a lax conversion failed, phrased for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaxError(pub String);

/// How a value is named in messages: `the string 'abc'`, `null`, `a list`.
pub fn describe(v: &Value) -> String {
    use minijinja::value::ValueKind;
    if let Some(s) = v.as_str() {
        return format!("the string {}", crate::jinja::pyfmt::str_repr(s));
    }
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => "null".to_string(),
        ValueKind::Map => "a mapping".to_string(),
        ValueKind::Seq | ValueKind::Iterable => "a list".to_string(),
        _ => format!(
            "{} `{}`",
            crate::jinja::pyfmt::type_name(v),
            crate::jinja::pyfmt::py_str(v).unwrap_or_default()
        ),
    }
}

/// pydantic's lax `int`.
pub fn lax_int(v: &Value) -> Result<i128, LaxError> {
    use crate::jinja::pyfmt::{as_num, Num};
    if let Some(s) = v.as_str() {
        return str_to_int(s)
            .ok_or_else(|| LaxError(format!("expects an int, got {}", describe(v))));
    }
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i),
        // pydantic's int is 64-bit for floats (int_parsing_size beyond)
        Some(Num::Float(f))
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18 =>
        {
            Ok(f as i128)
        }
        Some(Num::Float(f)) if f.is_finite() && f.fract() == 0.0 => Err(LaxError(
            "expects an int, got a number too large for an int".into(),
        )),
        Some(Num::Float(f)) if f.is_finite() => Err(LaxError(format!(
            "expects an int, got a number with a fractional part ({})",
            crate::jinja::pyfmt::float_repr(f)
        ))),
        _ => Err(LaxError(format!("expects an int, got {}", describe(v)))),
    }
}

fn str_to_int(s: &str) -> Option<i128> {
    let t = s.trim();
    if let Ok(i) = crate::jinja::literal::parse_int_str(t) {
        return Some(i);
    }
    // "12.0" is accepted: pydantic strips a fraction of zeros, nothing more
    let (whole, frac) = t.split_once('.')?;
    if !frac.chars().all(|c| c == '0') {
        return None;
    }
    crate::jinja::literal::parse_int_str(whole).ok()
}

fn float_str(s: &str) -> Option<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => {}
        body => {
            if body.is_empty()
                || !body
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-' | '_'))
            {
                return None;
            }
        }
    }
    crate::jinja::literal::parse_float_str(t).ok()
}

/// pydantic's lax `float`.
pub fn lax_float(v: &Value) -> Result<f64, LaxError> {
    use crate::jinja::pyfmt::{as_num, Num};
    if let Some(s) = v.as_str() {
        return float_str(s)
            .ok_or_else(|| LaxError(format!("expects a float, got {}", describe(v))));
    }
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i as f64),
        Some(Num::Float(f)) => Ok(f),
        None => Err(LaxError(format!("expects a float, got {}", describe(v)))),
    }
}

/// pydantic's lax `bool`.
pub fn lax_bool(v: &Value) -> Result<bool, LaxError> {
    use crate::jinja::pyfmt::{as_num, Num};
    use minijinja::value::ValueKind;
    let bad = || LaxError(format!("expects a bool, got {}", describe(v)));
    if v.kind() == ValueKind::Bool {
        return Ok(v.is_true());
    }
    if let Some(s) = v.as_str() {
        return match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            _ => Err(bad()),
        };
    }
    match as_num(v) {
        Some(Num::Int(i)) if i == 0 || i == 1 => Ok(i == 1),
        Some(Num::Float(f)) if f == 0.0 || f == 1.0 => Ok(f == 1.0),
        _ => Err(bad()),
    }
}

/// A strict `str` (pydantic does not turn numbers into strings).
pub fn strict_str(v: &Value) -> Result<&str, LaxError> {
    v.as_str()
        .ok_or_else(|| LaxError(format!("expects a string, got {}", describe(v))))
}

/// Python `==` between two values (`1 == 1.0 == True`).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    use crate::jinja::pyfmt::{as_num, Num};
    let num = |v: &Value| -> Option<f64> {
        if v.as_str().is_some() {
            return None;
        }
        match as_num(v)? {
            Num::Int(i) => Some(i as f64),
            Num::Float(f) => Some(f),
        }
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn n(kind: NodeKind) -> Value {
        to_value(&Node {
            kind,
            span: Span::default(),
        })
    }

    #[test]
    fn ints_follow_pydantic_lax_mode() {
        assert_eq!(lax_int(&n(NodeKind::Bool(true))), Ok(1));
        assert_eq!(lax_int(&n(NodeKind::Float(12.0))), Ok(12));
        assert!(lax_int(&n(NodeKind::Float(12.5))).is_err());
        assert_eq!(lax_int(&n(NodeKind::Str(" 12 ".into()))), Ok(12));
        assert_eq!(lax_int(&n(NodeKind::Str("12.0".into()))), Ok(12));
        assert_eq!(lax_int(&n(NodeKind::Str("1_000".into()))), Ok(1000));
        assert!(lax_int(&n(NodeKind::Str("0x10".into()))).is_err());
        assert!(lax_int(&n(NodeKind::Str("1e3".into()))).is_err());
        assert!(lax_int(&n(NodeKind::Null)).is_err());
    }

    #[test]
    fn bools_and_floats_follow_pydantic_lax_mode() {
        assert_eq!(lax_bool(&n(NodeKind::Str("OFF".into()))), Ok(false));
        assert_eq!(lax_bool(&n(NodeKind::Float(1.0))), Ok(true));
        assert!(lax_bool(&n(NodeKind::Str("true ".into()))).is_err());
        assert!(lax_bool(&n(NodeKind::Int(2))).is_err());
        assert_eq!(lax_float(&n(NodeKind::Str("1_0.5".into()))), Ok(10.5));
        assert!(lax_float(&n(NodeKind::Str("abc".into()))).is_err());
    }

    #[test]
    fn jinja_pattern_needs_braces_on_one_line() {
        assert!(is_jinja("a{{x}}\nb"));
        assert!(!is_jinja("{{\nx}}"));
        assert!(!is_jinja("12"));
    }
}
