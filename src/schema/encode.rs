//! YAML values as pydantic writes them into a schema.
//!
//! A default or an enum value in ibek's schema is the Python object ruamel
//! built from the YAML, passed through pydantic's `to_jsonable_python`:
//! dates become ISO strings, dict keys become strings (`true`, `None`,
//! `1e+16`), and a non-finite float stays `Infinity` at the top but turns
//! into `null` inside a list or dict. Python dict semantics apply on the way
//! (`1 == 1.0 == True` are one key; the first key keeps its place, the last
//! value wins).

use std::sync::LazyLock;

use indexmap::IndexMap;
use regex::Regex;

use super::json::Json;
use crate::jinja::pyfmt::float_repr;
use crate::source::{Node, NodeKind};

/// A default value, or an enum member's value, as pydantic writes it in the schema.
pub fn encode_value(node: &Node) -> Json {
    encode(node, false)
}

fn encode(node: &Node, nested: bool) -> Json {
    match &node.kind {
        NodeKind::Null => Json::Null,
        NodeKind::Bool(b) => Json::Bool(*b),
        NodeKind::Int(i) => Json::Int(*i),
        // pydantic's serializer turns inf/nan into null inside containers only
        NodeKind::Float(f) if nested && !f.is_finite() => Json::Null,
        NodeKind::Float(f) => Json::Float(*f),
        NodeKind::Str(s) => Json::Str(s.clone()),
        NodeKind::Timestamp(t) => {
            Json::Str(Timestamp::parse(t).map_or_else(|| t.clone(), |t| t.isoformat()))
        }
        NodeKind::Seq(items) => Json::Array(items.iter().map(|n| encode(n, true)).collect()),
        NodeKind::Map(entries) => {
            let mut out: IndexMap<String, Json> = IndexMap::new();
            for (k, v) in py_dict(entries) {
                out.insert(json_key(k), encode(v, true));
            }
            Json::Object(out)
        }
    }
}

/// The string pydantic makes of a dict key.
fn json_key(key: &Node) -> String {
    match &key.kind {
        NodeKind::Null => "None".into(),
        NodeKind::Bool(true) => "true".into(),
        NodeKind::Bool(false) => "false".into(),
        NodeKind::Int(i) => i.to_string(),
        // a non-finite float serializes to null first, and null keys print as None
        NodeKind::Float(f) if !f.is_finite() => "None".into(),
        NodeKind::Float(f) => float_repr(*f),
        NodeKind::Str(s) => s.clone(),
        NodeKind::Timestamp(t) => Timestamp::parse(t).map_or_else(|| t.clone(), |t| t.isoformat()),
        NodeKind::Seq(_) | NodeKind::Map(_) => key.key_text(),
    }
}

/// Python's `str()` of a YAML scalar (how ibek names enum members).
pub fn py_str(node: &Node) -> String {
    match &node.kind {
        NodeKind::Null => "None".into(),
        NodeKind::Bool(true) => "True".into(),
        NodeKind::Bool(false) => "False".into(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => float_repr(*f),
        NodeKind::Str(s) => s.clone(),
        NodeKind::Timestamp(t) => Timestamp::parse(t).map_or_else(|| t.clone(), |t| t.py_str()),
        NodeKind::Seq(_) | NodeKind::Map(_) => node.key_text(),
    }
}

/// The entries of a YAML mapping as a Python dict holds them: keys equal
/// under Python's `==` merge, keeping the first key's place and the last value.
pub fn py_dict(entries: &[(Node, Node)]) -> Vec<(&Node, &Node)> {
    let mut out: Vec<(&Node, &Node)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        match out.iter_mut().find(|(seen, _)| py_key_eq(seen, k)) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// Python `==` between two YAML scalars used as dict keys.
fn py_key_eq(left: &Node, right: &Node) -> bool {
    /// A number as Python compares it: exactly as an int when it is one.
    enum Num {
        Int(i128),
        Float(f64),
    }
    fn num(node: &Node) -> Option<Num> {
        match node.kind {
            NodeKind::Bool(flag) => Some(Num::Int(i128::from(flag))),
            NodeKind::Int(int) => Some(Num::Int(int)),
            NodeKind::Float(float) => Some(Num::Float(float)),
            _ => None,
        }
    }
    match (&left.kind, &right.kind) {
        (NodeKind::Null, NodeKind::Null) => true,
        (NodeKind::Str(l), NodeKind::Str(r)) => l == r,
        (NodeKind::Timestamp(l), NodeKind::Timestamp(r)) => {
            match (Timestamp::parse(l), Timestamp::parse(r)) {
                (Some(lt), Some(rt)) => lt.isoformat() == rt.isoformat(),
                _ => l == r,
            }
        }
        _ => match (num(left), num(right)) {
            (Some(Num::Int(l)), Some(Num::Int(r))) => l == r,
            // int against float: equal only when the float is that exact integer
            (Some(Num::Int(int)), Some(Num::Float(float)))
            | (Some(Num::Float(float)), Some(Num::Int(int))) => {
                float.is_finite()
                    && float.fract() == 0.0
                    && (float as i128) == int
                    && float == int as f64
            }
            (Some(Num::Float(l)), Some(Num::Float(r))) => l == r,
            _ => false,
        },
    }
}

static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)?$",
    )
    .expect("static regex")
});

/// A YAML timestamp as ruamel's `create_timestamp` builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timestamp {
    date: (i64, u32, u32),
    /// Hour, minute, second, microsecond.
    time: Option<(u32, u32, u32, u32)>,
    /// UTC offset in minutes, when the timestamp has a zone.
    offset: Option<i32>,
}

impl Timestamp {
    fn parse(text: &str) -> Option<Timestamp> {
        let c = TIMESTAMP.captures(text)?;
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let year = i64::from(num(1)?);
        let date = (year, num(2)?, num(3)?);
        let Some(hour) = num(4) else {
            return Some(Timestamp {
                date,
                time: None,
                offset: None,
            });
        };
        let (minute, second) = (num(5)?, num(6)?);
        let mut micro = 0;
        let mut carry = false;
        if let Some(frac) = c.get(7).map(|m| m.as_str()).filter(|f| !f.is_empty()) {
            // ruamel keeps six digits and rounds on the seventh
            let six: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
            micro = six.parse::<u32>().ok()?;
            if frac.as_bytes().get(6).is_some_and(|d| *d > b'4') {
                micro += 1;
            }
            if micro > 999_999 {
                micro = 0;
                carry = true;
            }
        }
        let offset = match c.get(8).map(|m| m.as_str()) {
            None => None,
            Some("Z") => Some(0),
            Some(_) => {
                let h = i32::try_from(num(10)?).ok()?;
                let m = i32::try_from(num(11).unwrap_or(0)).ok()?;
                let sign = if c.get(9).map(|m| m.as_str()) == Some("-") {
                    -1
                } else {
                    1
                };
                Some(sign * (h * 60 + m))
            }
        };
        let mut ts = Timestamp {
            date,
            time: Some((hour, minute, second, micro)),
            offset,
        };
        if carry {
            ts.add_second();
        }
        Some(ts)
    }

    /// ruamel adds a second when the rounded fraction overflows.
    fn add_second(&mut self) {
        let Some((hour, minute, second, micro)) = self.time else {
            return;
        };
        let total = (hour * 3600 + minute * 60 + second) + 1;
        if total < 86_400 {
            self.time = Some((total / 3600, total % 3600 / 60, total % 60, micro));
            return;
        }
        self.time = Some((0, 0, 0, micro));
        let (year, month, day) = self.date;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        self.date = if day < days {
            (year, month, day + 1)
        } else if month < 12 {
            (year, month + 1, 1)
        } else {
            (year + 1, 1, 1)
        };
    }

    fn date_text(&self) -> String {
        let (y, m, d) = self.date;
        format!("{y:04}-{m:02}-{d:02}")
    }

    fn time_text(&self) -> String {
        let Some((h, m, s, us)) = self.time else {
            return String::new();
        };
        if us == 0 {
            format!("{h:02}:{m:02}:{s:02}")
        } else {
            format!("{h:02}:{m:02}:{s:02}.{us:06}")
        }
    }

    fn offset_text(offset: i32) -> String {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.abs();
        format!("{sign}{:02}:{:02}", a / 60, a % 60)
    }

    /// pydantic's JSON form: `2024-01-01T10:00:00.500000+01:00`, UTC as `Z`.
    fn isoformat(&self) -> String {
        if self.time.is_none() {
            return self.date_text();
        }
        let zone = match self.offset {
            None => String::new(),
            Some(0) => "Z".into(),
            Some(o) => Self::offset_text(o),
        };
        format!("{}T{}{zone}", self.date_text(), self.time_text())
    }

    /// Python's `str()` of the date or datetime.
    fn py_str(&self) -> String {
        if self.time.is_none() {
            return self.date_text();
        }
        let zone = self.offset.map(Self::offset_text).unwrap_or_default();
        format!("{} {}{zone}", self.date_text(), self.time_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse;

    fn node(yaml: &str) -> Node {
        parse(yaml).expect("test yaml")
    }

    #[test]
    fn containers_null_non_finite_floats_but_top_level_keeps_them() {
        assert_eq!(encode_value(&node(".inf")), Json::Float(f64::INFINITY));
        let list = encode_value(&node("[.inf, 1.5, 2024-01-01]"));
        assert_eq!(
            list,
            Json::Array(vec![Json::Null, Json::Float(1.5), Json::str("2024-01-01")])
        );
    }

    #[test]
    fn dict_keys_become_strings_as_pydantic_writes_them() {
        let d = encode_value(&node(
            "{1e16: a, false: b, null: c, 2: d, .nan: e, 1.0e-7: f}",
        ));
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["1e+16", "false", "None", "2", "1e-07"]);
        assert_eq!(d.get("None"), Some(&Json::str("e")));
    }

    #[test]
    fn timestamps_follow_ruamel_and_pydantic() {
        let iso = |t: &str| Timestamp::parse(t).unwrap().isoformat();
        assert_eq!(iso("2024-1-2 3:04:05"), "2024-01-02T03:04:05");
        assert_eq!(iso("2024-01-01T10:00:00Z"), "2024-01-01T10:00:00Z");
        assert_eq!(
            iso("2024-01-01 10:00:00 +01:00"),
            "2024-01-01T10:00:00+01:00"
        );
        assert_eq!(
            iso("2024-01-01t10:00:00.123456789-5"),
            "2024-01-01T10:00:00.123457-05:00"
        );
        assert_eq!(iso("2024-12-31 23:59:59.9999999"), "2025-01-01T00:00:00");
        assert_eq!(
            Timestamp::parse("2024-01-01 10:00:00.5").unwrap().py_str(),
            "2024-01-01 10:00:00.500000"
        );
    }

    #[test]
    fn python_dict_merges_equal_keys() {
        let entries: Vec<(Node, Node)> = ["1", "x", "1.0", "true"]
            .iter()
            .zip(["a", "b", "c", "d"])
            .map(|(k, v)| (node(k), node(v)))
            .collect();
        let d = py_dict(&entries);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].1.as_str(), Some("d"));
    }
}
