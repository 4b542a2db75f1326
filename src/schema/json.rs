//! JSON values as Python holds them, and Python's way of printing them.
//!
//! ibek builds its schemas as Python dicts and prints them with
//! `json.dumps(indent=2)`. Matching that byte for byte needs what
//! `serde_json::Value` cannot hold: integers beyond 64 bits, `NaN` and
//! `Infinity` (Python prints them), and floats that stay floats (`5.0`).
//! [`Json`] keeps all of these; [`to_pretty`] prints like `json.dumps`
//! (ASCII only, `\uXXXX` escapes, float `repr`), and [`pydantic_sort`]
//! orders keys the way pydantic does before it hands the dict over.

use indexmap::IndexMap;

use crate::jinja::pyfmt::float_repr;

/// A JSON value with Python's number model.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null` (`None`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer (Python's are unbounded; YAML gives at most 128 bits).
    Int(i128),
    /// A float, printed with Python's `repr`; may be non-finite.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    Array(Vec<Json>),
    /// A dict, in insertion order.
    Object(IndexMap<String, Json>),
}

impl Json {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// A dict from key/value pairs, in the order given (a later duplicate replaces the value).
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An empty dict.
    pub fn empty_object() -> Json {
        Json::Object(IndexMap::new())
    }

    /// The entries of a dict.
    pub fn as_object(&self) -> Option<&IndexMap<String, Json>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The entries of a dict, for changing them.
    pub fn as_object_mut(&mut self) -> Option<&mut IndexMap<String, Json>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Looks a key up in a dict.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object()?.get(key)
    }

    /// Sets a key of a dict (appended when new); does nothing to other values.
    pub fn insert(&mut self, key: impl Into<String>, value: Json) {
        if let Json::Object(m) = self {
            m.insert(key.into(), value);
        }
    }

    /// The value as `serde_json` holds it.
    ///
    /// Lossy where `serde_json` has no room: `NaN` and `±Infinity` become
    /// `null`, and integers outside 64 bits become the nearest float.
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => {
                if let Ok(n) = i64::try_from(*i) {
                    Value::from(n)
                } else if let Ok(n) = u64::try_from(*i) {
                    Value::from(n)
                } else {
                    serde_json::Number::from_f64(*i as f64).map_or(Value::Null, Value::Number)
                }
            }
            Json::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_serde).collect()),
            Json::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect())
            }
        }
    }

    /// Equality as Python's `==` sees two JSON-like values: dict order does
    /// not matter, `1 == 1.0 == True`, and `NaN` equals nothing.
    ///
    /// pydantic compares candidate `$defs` this way when it shortens their names.
    pub fn py_eq(&self, other: &Json) -> bool {
        fn num(v: &Json) -> Option<f64> {
            match v {
                Json::Bool(b) => Some(f64::from(u8::from(*b))),
                Json::Int(i) => Some(*i as f64),
                Json::Float(f) => Some(*f),
                _ => None,
            }
        }
        match (self, other) {
            (Json::Int(a), Json::Int(b)) => a == b,
            (Json::Bool(a), Json::Bool(b)) => a == b,
            (Json::Null, Json::Null) => true,
            (Json::Str(a), Json::Str(b)) => a == b,
            (Json::Array(a), Json::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y))
            }
            (Json::Object(a), Json::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.py_eq(w)))
            }
            _ => match (num(self), num(other)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl From<&serde_json::Value> for Json {
    fn from(v: &serde_json::Value) -> Json {
        use serde_json::Value;
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Json::Int(i128::from(i))
                } else if let Some(u) = n.as_u64() {
                    Json::Int(i128::from(u))
                } else {
                    Json::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Json::Str(s.clone()),
            Value::Array(items) => Json::Array(items.iter().map(Json::from).collect()),
            Value::Object(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.into())).collect())
            }
        }
    }
}

/// pydantic's `GenerateJsonSchema.sort`: every dict's keys in code point
/// order, except the dicts directly under a `properties` or `default` key,
/// which keep their order (field order, and defaults as written).
///
/// List items inherit their list's key, so the dicts inside a `default` list
/// keep their order too, while a dict nested one level deeper is sorted.
pub fn pydantic_sort(value: Json) -> Json {
    sort_under(value, None)
}

fn sort_under(value: Json, parent_key: Option<&str>) -> Json {
    match value {
        Json::Object(map) => {
            let keep = matches!(parent_key, Some("properties" | "default"));
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            if !keep {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let v = sort_under(v, Some(&k));
                        (k, v)
                    })
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| sort_under(v, parent_key))
                .collect(),
        ),
        other => other,
    }
}

/// Prints a value as Python's `json.dumps(value, indent=2)` does (no trailing newline).
pub fn to_pretty(value: &Json) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

fn newline_indent(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, value: &Json, level: usize) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Int(i) => out.push_str(&i.to_string()),
        Json::Float(f) => out.push_str(&float_text(*f)),
        Json::Str(s) => write_str(out, s),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, level + 1);
                write_value(out, item, level + 1);
            }
            newline_indent(out, level);
            out.push(']');
        }
        Json::Object(map) if map.is_empty() => out.push_str("{}"),
        Json::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, level + 1);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, v, level + 1);
            }
            newline_indent(out, level);
            out.push('}');
        }
    }
}

/// Python's `float.__repr__`, with `json`'s spellings of the non-finite values.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(f)
    }
}

fn write_str(out: &mut String, s: &str) {
    crate::jinja::pyfmt::write_json_str(out, s, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_python_json_dumps_indent_2() {
        let v = Json::object([
            (
                "b",
                Json::Array(vec![Json::Int(1), Json::Float(5.0), Json::Null]),
            ),
            ("a", Json::empty_object()),
            ("c", Json::Array(vec![])),
            ("d", Json::object([("x", Json::Bool(true))])),
        ]);
        let want = "{\n  \"b\": [\n    1,\n    5.0,\n    null\n  ],\n  \"a\": {},\n  \"c\": [],\n  \"d\": {\n    \"x\": true\n  }\n}";
        assert_eq!(to_pretty(&v), want);
    }

    #[test]
    fn escapes_like_ensure_ascii() {
        let v = Json::str("a\"b\\c\nü—😀\u{7f}\u{1}");
        assert_eq!(
            to_pretty(&v),
            r#""a\"b\\c\n\u00fc\u2014\ud83d\ude00\u007f\u0001""#
        );
    }

    #[test]
    fn floats_use_python_repr() {
        let text = |f: f64| to_pretty(&Json::Float(f));
        assert_eq!(text(1e16), "1e+16");
        assert_eq!(text(1e-7), "1e-07");
        assert_eq!(text(180.0), "180.0");
        assert_eq!(text(f64::NAN), "NaN");
        assert_eq!(text(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(
            to_pretty(&Json::Int(123_456_789_012_345_678_901_234_567_890)),
            "123456789012345678901234567890"
        );
    }

    #[test]
    fn sort_keeps_properties_and_defaults_in_order() {
        let v = Json::object([
            ("type", Json::str("object")),
            (
                "properties",
                Json::object([
                    (
                        "z",
                        Json::object([
                            ("title", Json::str("Z")),
                            (
                                "default",
                                Json::object([
                                    ("b", Json::Int(1)),
                                    (
                                        "a",
                                        Json::object([("y", Json::Int(1)), ("x", Json::Int(2))]),
                                    ),
                                ]),
                            ),
                        ]),
                    ),
                    ("a", Json::object([("type", Json::str("string"))])),
                ]),
            ),
        ]);
        let sorted = pydantic_sort(v);
        let props = sorted.get("properties").unwrap().as_object().unwrap();
        assert_eq!(props.keys().collect::<Vec<_>>(), ["z", "a"]);
        let z = props.get("z").unwrap().as_object().unwrap();
        assert_eq!(z.keys().collect::<Vec<_>>(), ["default", "title"]);
        let d = z.get("default").unwrap().as_object().unwrap();
        assert_eq!(d.keys().collect::<Vec<_>>(), ["b", "a"]);
        let inner = d.get("a").unwrap().as_object().unwrap();
        assert_eq!(inner.keys().collect::<Vec<_>>(), ["x", "y"]);
    }

    #[test]
    fn python_equality_ignores_order_and_number_kinds() {
        let a = Json::object([
            ("x", Json::Int(1)),
            ("y", Json::Array(vec![Json::Bool(true)])),
        ]);
        let b = Json::object([
            ("y", Json::Array(vec![Json::Float(1.0)])),
            ("x", Json::Float(1.0)),
        ]);
        assert!(a.py_eq(&b));
        assert!(!Json::Float(f64::NAN).py_eq(&Json::Float(f64::NAN)));
        assert!(!Json::str("1").py_eq(&Json::Int(1)));
    }

    #[test]
    fn serde_conversion_is_lossy_only_where_serde_has_no_room() {
        let v = Json::object([
            ("n", Json::Int(5)),
            ("f", Json::Float(5.0)),
            ("nan", Json::Float(f64::NAN)),
            ("big", Json::Int(1 << 70)),
        ]);
        let serde = v.to_serde();
        assert_eq!(serde["n"], serde_json::json!(5));
        assert!(serde["f"].is_f64());
        assert!(serde["nan"].is_null());
        assert_eq!(serde["big"].as_f64(), Some(2f64.powi(70)));
        let back = Json::from(&serde_json::json!({"a": [1, 2.5, null, "x"]}));
        assert_eq!(
            to_pretty(&back),
            "{\n  \"a\": [\n    1,\n    2.5,\n    null,\n    \"x\"\n  ]\n}"
        );
    }
}
