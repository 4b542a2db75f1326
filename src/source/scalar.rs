//! Typing of plain YAML scalars with the YAML 1.2 rules of ruamel.yaml's safe loader.
//!
//! ibek loads every file with `YAML(typ="safe")`, whose 1.2 resolver differs
//! from the spec's core schema in small ways that users rely on: `_` is
//! allowed inside numbers, a leading `0` does not make an octal, `1e3` is a
//! float, and `yes`/`no`/`on`/`off` are strings.

use std::sync::LazyLock;

use regex::Regex;

use super::NodeKind;

static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .expect("static regex")
});

static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
        .expect("static regex")
});

static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    )
    .expect("static regex")
});

/// Types a plain (unquoted, non-block) scalar.
pub fn resolve_plain(text: &str) -> NodeKind {
    let first = text.chars().next();
    match first {
        None => return NodeKind::Null,
        Some('~' | 'n' | 'N') if matches!(text, "~" | "null" | "Null" | "NULL") => {
            return NodeKind::Null
        }
        Some('t' | 'T') if matches!(text, "true" | "True" | "TRUE") => return NodeKind::Bool(true),
        Some('f' | 'F') if matches!(text, "false" | "False" | "FALSE") => {
            return NodeKind::Bool(false)
        }
        _ => {}
    }
    let Some(first) = first else {
        return NodeKind::Null;
    };
    // ruamel tries its resolvers in registration order: float before int
    if "-+0123456789.".contains(first) && FLOAT.is_match(text) {
        if let Some(f) = construct_float(text) {
            return NodeKind::Float(f);
        }
    }
    if "-+0123456789".contains(first) && INT.is_match(text) {
        if let Some(i) = construct_int(text) {
            return NodeKind::Int(i);
        }
    }
    if first.is_ascii_digit() && TIMESTAMP.is_match(text) {
        return NodeKind::Timestamp(text.to_string());
    }
    NodeKind::Str(text.to_string())
}

/// Builds an int the way `SafeConstructor.construct_yaml_int` does for YAML 1.2.
pub fn construct_int(text: &str) -> Option<i128> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let (sign, digits) = match cleaned.as_bytes().first()? {
        b'-' => (-1, &cleaned[1..]),
        b'+' => (1, &cleaned[1..]),
        _ => (1, cleaned.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let value = if digits == "0" {
        0
    } else if let Some(rest) = digits.strip_prefix("0b") {
        i128::from_str_radix(rest, 2).ok()?
    } else if let Some(rest) = digits.strip_prefix("0x") {
        i128::from_str_radix(rest, 16).ok()?
    } else if let Some(rest) = digits.strip_prefix("0o") {
        i128::from_str_radix(rest, 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(sign * value)
}

/// Builds a float the way `SafeConstructor.construct_yaml_float` does.
pub fn construct_float(text: &str) -> Option<f64> {
    let cleaned: String = text
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, body) = match cleaned.as_bytes().first()? {
        b'-' => (-1.0, &cleaned[1..]),
        b'+' => (1.0, &cleaned[1..]),
        _ => (1.0, cleaned.as_str()),
    };
    match body {
        ".inf" => Some(sign * f64::INFINITY),
        ".nan" => Some(f64::NAN),
        _ => {
            // Python's float() accepts "1." and ".5"; Rust's parser does too
            body.parse::<f64>().ok().map(|f| sign * f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_2_keeps_yes_no_as_strings() {
        assert_eq!(resolve_plain("No"), NodeKind::Str("No".into()));
        assert_eq!(resolve_plain("yes"), NodeKind::Str("yes".into()));
        assert_eq!(resolve_plain("off"), NodeKind::Str("off".into()));
        assert_eq!(resolve_plain("True"), NodeKind::Bool(true));
    }

    #[test]
    fn numbers_follow_ruamel() {
        assert_eq!(resolve_plain("017"), NodeKind::Int(17));
        assert_eq!(resolve_plain("0o17"), NodeKind::Int(15));
        assert_eq!(resolve_plain("0x1F"), NodeKind::Int(31));
        assert_eq!(resolve_plain("1_000"), NodeKind::Int(1000));
        assert_eq!(resolve_plain("1e3"), NodeKind::Float(1000.0));
        assert_eq!(resolve_plain("1."), NodeKind::Float(1.0));
        assert_eq!(resolve_plain(".5"), NodeKind::Float(0.5));
        assert_eq!(resolve_plain("-.inf"), NodeKind::Float(f64::NEG_INFINITY));
        assert_eq!(resolve_plain("0x"), NodeKind::Str("0x".into()));
        assert_eq!(resolve_plain("1.2.3"), NodeKind::Str("1.2.3".into()));
        assert_eq!(resolve_plain(""), NodeKind::Null);
        assert_eq!(resolve_plain("~"), NodeKind::Null);
    }

    #[test]
    fn dates_are_timestamps() {
        assert_eq!(
            resolve_plain("2024-01-31"),
            NodeKind::Timestamp("2024-01-31".into())
        );
    }
}
