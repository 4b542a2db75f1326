//! Writing YAML strings as ruamel.yaml's round-trip dumper writes them, for
//! the files ibek writes with ruamel (`wait_list.yaml`, `runtime-lock.yaml`).
//!
//! The reader's plain-scalar resolution ([`super::scalar::resolve_plain`])
//! decides when a string may stay plain: exactly when it reads back as the
//! same string.

use std::fmt::Write as _;

use super::{scalar::resolve_plain, NodeKind};

/// How ruamel writes a string scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As it is.
    Plain,
    /// In single quotes, `'` doubled.
    Single,
    /// In double quotes with escapes (control and special characters).
    Double,
}

/// The style ruamel picks: plain when that reads back as the same string,
/// else single-quoted, or double-quoted when it holds characters that need escapes.
pub fn style(s: &str) -> Style {
    let special =
        |c: char| c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}');
    if s.chars().any(special) {
        return Style::Double;
    }
    let first = s.chars().next();
    let second = s.chars().nth(1);
    let plain = !s.is_empty()
        && matches!(resolve_plain(s), NodeKind::Str(_))
        && s != "<<"
        && s != "="
        && !s.starts_with("---")
        && !s.starts_with("...")
        && !s.starts_with(char::is_whitespace)
        && !s.ends_with(char::is_whitespace)
        && !first.is_some_and(|c| "#,[]{}&*!|>'\"%@`".contains(c))
        && !(first.is_some_and(|c| "-?:".contains(c)) && second.is_none_or(|c| c == ' '))
        && !s.contains(": ")
        && !s.ends_with(':')
        && !s.contains(" #");
    if plain {
        Style::Plain
    } else if s.starts_with('\'') {
        Style::Double
    } else {
        Style::Single
    }
}

/// `s` in double quotes with ruamel's escapes.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x100 && (c.is_control() || c == '\u{85}') => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as one scalar in ruamel's style (no line folding).
pub fn scalar(s: &str) -> String {
    match style(s) {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Double => double_quoted(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_like_ruamel() {
        assert_eq!(scalar("1.0"), "'1.0'");
        assert_eq!(scalar("2025.11.1"), "2025.11.1");
        assert_eq!(scalar("*x"), "'*x'");
        assert_eq!(scalar("a: b"), "'a: b'");
        assert_eq!(scalar("-a"), "-a");
        assert_eq!(scalar("it's"), "it's");
        assert_eq!(scalar("'x"), "\"'x\"");
        assert_eq!(scalar("2001-01-01"), "'2001-01-01'");
        assert_eq!(scalar("x\ty"), "\"x\\ty\"");
        assert_eq!(scalar("DIRTY # why"), "'DIRTY # why'");
    }
}
