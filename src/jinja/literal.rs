//! Python's `ast.literal_eval` and the builtin casts ibek applies after it.
//!
//! ibek turns a rendered template back into a typed value with
//! `cast_type(ast.literal_eval(text))` when the parameter is typed or the
//! template ends in `| int }}` (and float, bool, list, dict). This module
//! parses the same literal grammar and applies the same casts.

use minijinja::value::{Tuple, Value, ValueKind};

use super::objects::PyList;
use super::pyfmt::{as_num, py_str, type_name, Num};

/// Why a literal or cast failed, in Python's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralError(pub String);

impl std::fmt::Display for LiteralError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Res<T> = Result<T, LiteralError>;

fn err<T>(msg: impl Into<String>) -> Res<T> {
    Err(LiteralError(msg.into()))
}

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    /// bracket nesting: newlines are insignificant inside brackets
    depth: usize,
}

/// Evaluates a Python literal: numbers, strings, `True`/`False`/`None`,
/// lists, tuples, dicts and sets of those, with unary `+`/`-`.
pub fn literal_eval(text: &str) -> Res<Value> {
    let trimmed = text.trim_start_matches([' ', '\t']);
    let mut p = Parser {
        src: trimmed.as_bytes(),
        text: trimmed,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.at_end() {
        return err("invalid syntax (<unknown>, line 1)");
    }
    let first = p.parse_expr()?;
    p.skip_ws();
    let value = if p.peek() == Some(b',') {
        // a bare tuple: `1, 2`
        let mut items = vec![first];
        while p.eat(b',') {
            p.skip_ws();
            if p.at_end() {
                break;
            }
            items.push(p.parse_expr()?);
            p.skip_ws();
        }
        Value::from(Tuple::from(items))
    } else {
        first
    };
    p.skip_ws();
    if !p.at_end() {
        return err("invalid syntax (<unknown>, line 1)");
    }
    Ok(value)
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\x0c' | b'\n' | b'\r' => self.pos += 1,
                b'\\' if matches!(self.src.get(self.pos + 1), Some(b'\n')) => self.pos += 2,
                b'#' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn parse_expr(&mut self) -> Res<Value> {
        // the only binary operators literal_eval allows build complex numbers,
        // which nothing in ibek can use; everything else is a unary chain
        let v = self.parse_unary()?;
        self.skip_ws();
        if matches!(self.peek(), Some(b'+' | b'-')) {
            return err("malformed node or string: complex numbers are not supported");
        }
        Ok(v)
    }

    fn parse_unary(&mut self) -> Res<Value> {
        self.skip_ws();
        match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                let v = self.parse_unary()?;
                negate(&v)
            }
            Some(b'+') => {
                self.pos += 1;
                let v = self.parse_unary()?;
                match as_num(&v) {
                    Some(_) if v.kind() == ValueKind::Number => Ok(v),
                    _ => err(format!(
                        "malformed node or string: {}",
                        py_str(&v).unwrap_or_default()
                    )),
                }
            }
            _ => self.parse_atom(),
        }
    }

    fn parse_atom(&mut self) -> Res<Value> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return err("invalid syntax (<unknown>, line 1)");
        };
        match c {
            b'[' => {
                self.pos += 1;
                let items = self.parse_items(b']')?;
                Ok(PyList::new_value(items))
            }
            b'(' => {
                self.pos += 1;
                self.depth += 1;
                self.skip_ws();
                if self.eat(b')') {
                    self.depth -= 1;
                    return Ok(Value::from(Tuple::from(Vec::new())));
                }
                let first = self.parse_expr()?;
                self.skip_ws();
                if self.eat(b')') {
                    self.depth -= 1;
                    return Ok(first);
                }
                if !self.eat(b',') {
                    return err("invalid syntax (<unknown>, line 1)");
                }
                let mut items = vec![first];
                loop {
                    self.skip_ws();
                    if self.eat(b')') {
                        break;
                    }
                    items.push(self.parse_expr()?);
                    self.skip_ws();
                    if self.eat(b')') {
                        break;
                    }
                    if !self.eat(b',') {
                        return err("invalid syntax (<unknown>, line 1)");
                    }
                }
                self.depth -= 1;
                Ok(Value::from(Tuple::from(items)))
            }
            b'{' => {
                self.pos += 1;
                self.parse_brace()
            }
            b'\'' | b'"' => self.parse_strings(),
            b'0'..=b'9' | b'.' => self.parse_number(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                if matches!(self.peek(), Some(b'\'' | b'"')) && is_string_prefix(word) {
                    self.pos = start;
                    return self.parse_strings();
                }
                match word {
                    "True" => Ok(Value::from(true)),
                    "False" => Ok(Value::from(false)),
                    "None" => Ok(Value::from(())),
                    "set" => {
                        self.skip_ws();
                        if self.eat(b'(') {
                            self.skip_ws();
                            if self.eat(b')') {
                                return Ok(PyList::new_value(Vec::new()));
                            }
                        }
                        err("malformed node or string: set(...)")
                    }
                    _ => {
                        // a name: what literal_eval reports for `abc`
                        self.skip_ws();
                        if !self.at_end()
                            && !matches!(self.peek(), Some(b',' | b')' | b']' | b'}' | b':'))
                        {
                            return err("invalid syntax (<unknown>, line 1)");
                        }
                        err(format!("malformed node or string: <ast.Name {word}>"))
                    }
                }
            }
            _ => err("invalid syntax (<unknown>, line 1)"),
        }
    }

    fn parse_items(&mut self, close: u8) -> Res<Vec<Value>> {
        self.depth += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(close) {
                break;
            }
            items.push(self.parse_expr()?);
            self.skip_ws();
            if self.eat(close) {
                break;
            }
            if !self.eat(b',') {
                return err("invalid syntax (<unknown>, line 1)");
            }
        }
        self.depth -= 1;
        Ok(items)
    }

    fn parse_brace(&mut self) -> Res<Value> {
        self.depth += 1;
        self.skip_ws();
        if self.eat(b'}') {
            self.depth -= 1;
            return Ok(Value::from_pairs(Vec::<(Value, Value)>::new()));
        }
        let first = self.parse_expr()?;
        self.skip_ws();
        if self.eat(b':') {
            let mut pairs = Vec::new();
            let v = self.parse_expr()?;
            check_hashable(&first)?;
            pairs.push((first, v));
            loop {
                self.skip_ws();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return err("invalid syntax (<unknown>, line 1)");
                }
                self.skip_ws();
                if self.eat(b'}') {
                    break;
                }
                let k = self.parse_expr()?;
                self.skip_ws();
                if !self.eat(b':') {
                    return err("invalid syntax (<unknown>, line 1)");
                }
                let v = self.parse_expr()?;
                check_hashable(&k)?;
                pairs.push((k, v));
            }
            self.depth -= 1;
            return Ok(dict_from_pairs(pairs));
        }
        // a set literal; Python sets are unordered, ibek never prints one
        let mut items = vec![first];
        loop {
            self.skip_ws();
            if self.eat(b'}') {
                break;
            }
            if !self.eat(b',') {
                return err("invalid syntax (<unknown>, line 1)");
            }
            self.skip_ws();
            if self.eat(b'}') {
                break;
            }
            items.push(self.parse_expr()?);
        }
        self.depth -= 1;
        let mut unique: Vec<Value> = Vec::new();
        for i in items {
            if !unique.contains(&i) {
                unique.push(i);
            }
        }
        Ok(PyList::new_value(unique))
    }

    fn parse_number(&mut self) -> Res<Value> {
        let start = self.pos;
        let bytes = self.src;
        if bytes[start] == b'0'
            && matches!(
                bytes.get(start + 1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            )
        {
            let radix = match bytes[start + 1] {
                b'x' | b'X' => 16,
                b'o' | b'O' => 8,
                _ => 2,
            };
            self.pos += 2;
            let ds = self.pos;
            while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                self.pos += 1;
            }
            let digits: String = self.text[ds..self.pos]
                .chars()
                .filter(|c| *c != '_')
                .collect();
            return i128::from_str_radix(&digits, radix)
                .map(Value::from)
                .or_else(|_| err("invalid syntax (<unknown>, line 1)"));
        }
        let mut is_float = false;
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' | b'_' => self.pos += 1,
                b'.' if !is_float => {
                    is_float = true;
                    self.pos += 1;
                }
                b'e' | b'E' => {
                    is_float = true;
                    self.pos += 1;
                    if matches!(self.peek(), Some(b'+' | b'-')) {
                        self.pos += 1;
                    }
                }
                b'j' | b'J' => {
                    return err("malformed node or string: complex numbers are not supported")
                }
                _ => break,
            }
        }
        let raw: String = self.text[start..self.pos]
            .chars()
            .filter(|c| *c != '_')
            .collect();
        if matches!(self.peek(), Some(c) if c.is_ascii_alphabetic()) {
            return err("invalid decimal literal (<unknown>, line 1)");
        }
        if is_float {
            raw.parse::<f64>()
                .map(Value::from)
                .or_else(|_| err("invalid syntax (<unknown>, line 1)"))
        } else {
            if raw.len() > 1 && raw.starts_with('0') && raw.chars().any(|c| c != '0') {
                return err("leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers (<unknown>, line 1)");
            }
            raw.parse::<i128>()
                .map(Value::from)
                .or_else(|_| err("invalid syntax (<unknown>, line 1)"))
        }
    }

    fn parse_strings(&mut self) -> Res<Value> {
        // adjacent literals concatenate, as in Python source
        let mut out = String::new();
        let mut any = false;
        loop {
            self.skip_ws_inline();
            let start = self.pos;
            while matches!(self.peek(), Some(c) if c.is_ascii_alphabetic()) {
                self.pos += 1;
            }
            let prefix = self.text[start..self.pos].to_ascii_lowercase();
            if !matches!(self.peek(), Some(b'\'' | b'"')) || !is_string_prefix(&prefix) {
                self.pos = start;
                break;
            }
            if prefix.contains('f') {
                return err("malformed node or string: f-strings are not literals");
            }
            if prefix.contains('b') {
                return err("malformed node or string: bytes literals are not supported");
            }
            let raw = prefix.contains('r');
            out.push_str(&self.parse_one_string(raw)?);
            any = true;
        }
        if !any {
            return err("invalid syntax (<unknown>, line 1)");
        }
        Ok(Value::from(out))
    }

    fn skip_ws_inline(&mut self) {
        if self.depth > 0 {
            self.skip_ws();
        } else {
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
        }
    }

    fn parse_one_string(&mut self, raw: bool) -> Res<String> {
        let q = self.peek().expect("caller checked the quote");
        let triple =
            self.src.get(self.pos + 1) == Some(&q) && self.src.get(self.pos + 2) == Some(&q);
        self.pos += if triple { 3 } else { 1 };
        let mut out = String::new();
        let rest = &self.text[self.pos..];
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == q as char {
                if triple {
                    if rest[i..].starts_with(&format!("{0}{0}{0}", q as char)) {
                        self.pos += i + 3;
                        return Ok(out);
                    }
                } else {
                    self.pos += i + 1;
                    return Ok(out);
                }
                out.push(c);
                continue;
            }
            if c == '\n' && !triple {
                return err("unterminated string literal (detected at line 1) (<unknown>, line 1)");
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\n' => {}
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\x0b'),
                '0'..='7' => {
                    let mut n = e.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.peek() {
                            Some((_, d)) if d.is_digit(8) => {
                                n = n * 8 + d.to_digit(8).unwrap_or(0);
                                chars.next();
                            }
                            _ => break,
                        }
                    }
                    out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                }
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut hex = String::new();
                    for _ in 0..len {
                        match chars.next() {
                            Some((_, d)) if d.is_ascii_hexdigit() => hex.push(d),
                            _ => return err("(unicode error) truncated escape"),
                        }
                    }
                    let n = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                    out.push(char::from_u32(n).ok_or_else(|| {
                        LiteralError("(unicode error) illegal Unicode character".into())
                    })?);
                }
                'N' => return err("(unicode error) named escapes are not supported"),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        err("unterminated string literal (detected at line 1) (<unknown>, line 1)")
    }
}

fn is_string_prefix(p: &str) -> bool {
    matches!(
        p.to_ascii_lowercase().as_str(),
        "" | "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
    )
}

fn check_hashable(v: &Value) -> Res<()> {
    if v.downcast_object_ref::<PyList>().is_some() || v.kind() == ValueKind::Map {
        return err(format!("unhashable type: '{}'", type_name(v)));
    }
    Ok(())
}

fn negate(v: &Value) -> Res<Value> {
    if v.kind() != ValueKind::Number {
        return err(format!(
            "malformed node or string: {}",
            py_str(v).unwrap_or_default()
        ));
    }
    match as_num(v) {
        Some(Num::Int(i)) => Ok(Value::from(-i)),
        Some(Num::Float(f)) => Ok(Value::from(-f)),
        None => err("bad operand type for unary -"),
    }
}

/// A Python dict from pairs; a repeated key keeps its first position and last value.
pub fn dict_from_pairs(pairs: Vec<(Value, Value)>) -> Value {
    super::objects::PyDict::new_value(pairs)
}

// ---------------------------------------------------------------------------
// the builtin casts

/// Python's `int(x)` on a `literal_eval` result.
pub fn to_int(v: &Value) -> Res<Value> {
    match v.kind() {
        ValueKind::Bool => Ok(Value::from(i64::from(v.is_true()))),
        ValueKind::Number => match as_num(v) {
            Some(Num::Int(_)) => Ok(v.clone()),
            Some(Num::Float(f)) if f.is_nan() => err("cannot convert float NaN to integer"),
            Some(Num::Float(f)) if f.is_infinite() => {
                err("cannot convert float infinity to integer")
            }
            Some(Num::Float(f)) => Ok(Value::from(f.trunc() as i128)),
            None => err("bad number"),
        },
        ValueKind::String => parse_int_str(v.as_str().unwrap_or_default()).map(Value::from),
        _ => err(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            type_name(v)
        )),
    }
}

/// Python's `int(str)`: surrounding whitespace, a sign and `_` separators allowed.
pub fn parse_int_str(s: &str) -> Res<i128> {
    let t = s.trim();
    let bad = || {
        LiteralError(format!(
            "invalid literal for int() with base 10: {}",
            super::pyfmt::str_repr(s)
        ))
    };
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return Err(bad());
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let n: i128 = clean.parse().map_err(|_| bad())?;
    Ok(if neg { -n } else { n })
}

/// Python's `float(str)`.
pub fn parse_float_str(s: &str) -> Res<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let (sign, body) = match lower.as_bytes().first() {
        Some(b'-') => (-1.0, &lower[1..]),
        Some(b'+') => (1.0, &lower[1..]),
        _ => (1.0, lower.as_str()),
    };
    let bad = || {
        LiteralError(format!(
            "could not convert string to float: {}",
            super::pyfmt::str_repr(s)
        ))
    };
    match body {
        "inf" | "infinity" => return Ok(sign * f64::INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-' | '_'))
    {
        return Err(bad());
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    clean.parse::<f64>().map(|f| sign * f).map_err(|_| bad())
}

/// Python's `float(x)` on a `literal_eval` result.
pub fn to_float(v: &Value) -> Res<Value> {
    match v.kind() {
        ValueKind::Bool => Ok(Value::from(if v.is_true() { 1.0 } else { 0.0 })),
        ValueKind::Number => match as_num(v) {
            Some(Num::Int(i)) => Ok(Value::from(i as f64)),
            Some(Num::Float(_)) => Ok(v.clone()),
            None => err("bad number"),
        },
        ValueKind::String => parse_float_str(v.as_str().unwrap_or_default()).map(Value::from),
        _ => err(format!(
            "float() argument must be a string or a real number, not '{}'",
            type_name(v)
        )),
    }
}

/// Python's truthiness.
pub fn truthy(v: &Value) -> bool {
    if let Some(list) = v.downcast_object_ref::<PyList>() {
        return !list.lock().is_empty();
    }
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => false,
        ValueKind::Bool => v.is_true(),
        ValueKind::Number => match as_num(v) {
            Some(Num::Int(i)) => i != 0,
            Some(Num::Float(f)) => f != 0.0,
            None => false,
        },
        ValueKind::String => !v.as_str().unwrap_or_default().is_empty(),
        _ => v.len().is_none_or(|n| n > 0),
    }
}

/// Python's `list(x)`: a new list of the items (characters of a string, keys of a dict).
pub fn to_list(v: &Value) -> Res<Value> {
    if let Some(s) = v.as_str() {
        return Ok(PyList::new_value(
            s.chars().map(|c| Value::from(c.to_string())).collect(),
        ));
    }
    match v.kind() {
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => v
            .try_iter()
            .map(|it| PyList::new_value(it.collect()))
            .map_err(|e| LiteralError(e.to_string())),
        _ => err(format!("'{}' object is not iterable", type_name(v))),
    }
}

/// Python's `dict(x)`.
pub fn to_dict(v: &Value) -> Res<Value> {
    if v.kind() == ValueKind::Map && !v.is_tuple() {
        let pairs: Vec<(Value, Value)> = v
            .try_iter()
            .map_err(|e| LiteralError(e.to_string()))?
            .map(|k| {
                let val = v.get_item(&k).unwrap_or_default();
                (k, val)
            })
            .collect();
        return Ok(dict_from_pairs(pairs));
    }
    if matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable) {
        let mut pairs = Vec::new();
        for (i, item) in v
            .try_iter()
            .map_err(|e| LiteralError(e.to_string()))?
            .enumerate()
        {
            let parts: Vec<Value> = match item.kind() {
                ValueKind::Seq | ValueKind::String => item
                    .try_iter()
                    .map_err(|e| LiteralError(e.to_string()))?
                    .collect(),
                _ => {
                    return err(format!(
                        "cannot convert dictionary update sequence element #{i} to a sequence"
                    ))
                }
            };
            if parts.len() != 2 {
                return err(format!(
                    "dictionary update sequence element #{i} has length {}; 2 is required",
                    parts.len()
                ));
            }
            let mut it = parts.into_iter();
            pairs.push((it.next().unwrap_or_default(), it.next().unwrap_or_default()));
        }
        return Ok(dict_from_pairs(pairs));
    }
    err(format!("'{}' object is not iterable", type_name(v)))
}

/// `cast_type(ast.literal_eval(text))` for ibek's five coercible types.
pub fn coerce(text: &str, typ: &str) -> Res<Value> {
    let v = literal_eval(text)?;
    match typ {
        "int" => to_int(&v),
        "float" => to_float(&v),
        "bool" => Ok(Value::from(truthy(&v))),
        "list" => to_list(&v),
        "dict" => to_dict(&v),
        _ => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::pyfmt::py_repr;

    fn ev(s: &str) -> String {
        py_repr(&literal_eval(s).unwrap()).unwrap()
    }

    #[test]
    fn literals_parse_like_python() {
        assert_eq!(ev("5"), "5");
        assert_eq!(ev("  -5\n"), "-5");
        assert_eq!(ev("1_000"), "1000");
        assert_eq!(ev("0x1f"), "31");
        assert_eq!(ev("2.5e3"), "2500.0");
        assert_eq!(ev("'a' \"b\""), "'ab'");
        assert_eq!(ev("[1, 'x', None, True]"), "[1, 'x', None, True]");
        assert_eq!(ev("(1,)"), "(1,)");
        assert_eq!(ev("1, 2"), "(1, 2)");
        assert_eq!(ev("{'a': [1, 2], 'b': {}}"), "{'a': [1, 2], 'b': {}}");
        assert_eq!(ev("'\\x41\\n'"), "'A\\n'");
        assert_eq!(ev("[]"), "[]");
    }

    #[test]
    fn non_literals_fail() {
        assert!(literal_eval("abc").is_err());
        assert!(literal_eval("").is_err());
        assert!(literal_eval("1 2").is_err());
        assert!(literal_eval("012").is_err());
        assert!(literal_eval("epicsEnvSet X 5").is_err());
        assert!(literal_eval("f(1)").is_err());
    }

    #[test]
    fn casts_follow_python() {
        assert_eq!(py_repr(&coerce("3.9", "int").unwrap()).unwrap(), "3");
        assert_eq!(py_repr(&coerce("'12'", "int").unwrap()).unwrap(), "12");
        assert_eq!(py_repr(&coerce("2", "float").unwrap()).unwrap(), "2.0");
        assert_eq!(py_repr(&coerce("0", "bool").unwrap()).unwrap(), "False");
        assert_eq!(
            py_repr(&coerce("'ab'", "list").unwrap()).unwrap(),
            "['a', 'b']"
        );
        assert_eq!(
            py_repr(&coerce("[('a', 1)]", "dict").unwrap()).unwrap(),
            "{'a': 1}"
        );
        assert!(coerce("'x'", "int").is_err());
    }
}
