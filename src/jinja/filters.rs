//! Jinja2's filters where minijinja's differ from them.
//!
//! Each filter here follows `jinja2/filters.py` (3.1) on `CPython`: `int`
//! falls back to `int(float(x))` and then to its default, `format` is
//! Python's `%`, `join` and `string` print with Python's `str()`, and so on.
//! Filters whose minijinja versions already agree (`first`, `sort`, `map`,
//! `select`, ...) are left as they are.

use minijinja::value::{Kwargs, Rest, Tuple, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::literal::{parse_float_str, parse_int_str, to_list, truthy};
use super::pyfmt::{as_num, float_repr, percent_format, py_str, type_name, Num};

fn check_defined(v: &Value) -> Result<(), Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "undefined value passed to a filter",
        ));
    }
    Ok(())
}

fn do_int(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_defined(&value)?;
    let default = kwargs
        .get::<Option<Value>>("default")?
        .or_else(|| args.first().cloned())
        .unwrap_or(Value::from(0));
    let base = kwargs
        .get::<Option<u32>>("base")?
        .or_else(|| {
            args.get(1)
                .and_then(minijinja::Value::as_i64)
                .map(|b| b as u32)
        })
        .unwrap_or(10);
    kwargs.assert_all_used()?;
    if let Some(s) = value.as_str() {
        let as_int = if base == 10 {
            parse_int_str(s).ok()
        } else {
            let t = s.trim().to_ascii_lowercase();
            let t = t
                .strip_prefix("0x")
                .filter(|_| base == 16)
                .or_else(|| t.strip_prefix("0o").filter(|_| base == 8))
                .or_else(|| t.strip_prefix("0b").filter(|_| base == 2))
                .unwrap_or(&t)
                .replace('_', "");
            i128::from_str_radix(&t, base).ok()
        };
        if let Some(i) = as_int {
            return Ok(Value::from(i));
        }
        return Ok(parse_float_str(s)
            .ok()
            .filter(|f| f.is_finite())
            .map_or(default, |f| Value::from(f.trunc() as i128)));
    }
    Ok(match as_num(&value) {
        Some(Num::Int(i)) => Value::from(i),
        Some(Num::Float(f)) if f.is_finite() => Value::from(f.trunc() as i128),
        Some(Num::Float(f)) if f.is_nan() => default,
        Some(Num::Float(_)) => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "cannot convert float infinity to integer",
            ))
        }
        None => default,
    })
}

fn do_float(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_defined(&value)?;
    let default = kwargs
        .get::<Option<Value>>("default")?
        .or_else(|| args.first().cloned())
        .unwrap_or(Value::from(0.0));
    kwargs.assert_all_used()?;
    if let Some(s) = value.as_str() {
        return Ok(parse_float_str(s).map_or(default, Value::from));
    }
    Ok(match as_num(&value) {
        Some(Num::Int(i)) => Value::from(i as f64),
        Some(Num::Float(f)) => Value::from(f),
        None => default,
    })
}

fn do_string(value: Value) -> Result<Value, Error> {
    check_defined(&value)?;
    Ok(Value::from(py_str(&value)?))
}

fn do_list(value: Value) -> Result<Value, Error> {
    check_defined(&value)?;
    to_list(&value).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.0))
}

fn do_join(state: &State, value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_defined(&value)?;
    let sep = kwargs
        .get::<Option<Value>>("d")?
        .or_else(|| args.first().cloned())
        .map(|v| py_str(&v))
        .transpose()?
        .unwrap_or_default();
    let attribute = kwargs
        .get::<Option<Value>>("attribute")?
        .or_else(|| args.get(1).cloned());
    kwargs.assert_all_used()?;
    let items: Vec<Value> = if let Some(s) = value.as_str() {
        s.chars().map(|c| Value::from(c.to_string())).collect()
    } else {
        value.try_iter()?.collect()
    };
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        let item = match &attribute {
            Some(a) => match a.as_str() {
                Some(name) => item.get_path_or_attr(state, name)?,
                None => item.get_item(a)?,
            },
            None => item,
        };
        parts.push(py_str(&item)?);
    }
    Ok(Value::from(parts.join(&sep)))
}

trait PathAttr {
    fn get_path_or_attr(&self, state: &State, path: &str) -> Result<Value, Error>;
}

impl PathAttr for Value {
    fn get_path_or_attr(&self, _state: &State, path: &str) -> Result<Value, Error> {
        let mut v = self.clone();
        for part in path.split('.') {
            v = match part.parse::<i64>() {
                Ok(i) => v.get_item(&Value::from(i))?,
                Err(_) => v.get_attr(part)?,
            };
        }
        Ok(v)
    }
}

fn do_format(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_defined(&value)?;
    let fmt = py_str(&value)?;
    let kw: Vec<&str> = kwargs.args().collect();
    if !args.is_empty() && !kw.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "can't handle positional and keyword arguments at the same time",
        ));
    }
    let arg = if kw.is_empty() {
        Value::from(Tuple::from(args.0.clone()))
    } else {
        let pairs: Vec<(Value, Value)> = kw
            .iter()
            .map(|k| Ok((Value::from(*k), kwargs.get::<Value>(k)?)))
            .collect::<Result<_, Error>>()?;
        super::literal::dict_from_pairs(pairs)
    };
    percent_format(&fmt, &arg).map(Value::from)
}

fn do_length(value: Value) -> Result<Value, Error> {
    check_defined(&value)?;
    if let Some(s) = value.as_str() {
        return Ok(Value::from(s.chars().count() as i64));
    }
    value.len().map(|n| Value::from(n as i64)).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("object of type '{}' has no len()", type_name(&value)),
        )
    })
}

fn do_default(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let default = kwargs
        .get::<Option<Value>>("default_value")?
        .or_else(|| args.first().cloned())
        .unwrap_or(Value::from(""));
    let boolean = kwargs
        .get::<Option<bool>>("boolean")?
        .or_else(|| args.get(1).map(Value::is_true))
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    if value.is_undefined() || (boolean && !truthy(&value)) {
        Ok(default)
    } else {
        Ok(value)
    }
}

fn str_filter(value: &Value) -> Result<String, Error> {
    check_defined(value)?;
    py_str(value)
}

/// Jinja2's `title`: capitalizes after `-`, whitespace and opening brackets.
fn jinja_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        let boundary = c == '-' || c.is_whitespace() || matches!(c, '(' | '{' | '[' | '<');
        if boundary {
            out.push(c);
            at_start = true;
        } else if at_start {
            out.extend(c.to_uppercase());
            at_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn do_indent(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let s = str_filter(&value)?;
    let width = kwargs
        .get::<Option<Value>>("width")?
        .or_else(|| args.first().cloned())
        .unwrap_or(Value::from(4));
    let first = kwargs
        .get::<Option<bool>>("first")?
        .or_else(|| args.get(1).map(Value::is_true))
        .unwrap_or(false);
    let blank = kwargs
        .get::<Option<bool>>("blank")?
        .or_else(|| args.get(2).map(Value::is_true))
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    let indention = match width.as_str() {
        Some(w) => w.to_string(),
        None => " ".repeat(width.as_i64().unwrap_or(4).max(0) as usize),
    };
    let text = format!("{s}\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut rv = if blank {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut it = lines.iter();
        let mut rv = it.next().map(|l| (*l).to_string()).unwrap_or_default();
        let rest: Vec<String> = it
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indention}{l}")
                }
            })
            .collect();
        if !rest.is_empty() {
            rv.push('\n');
            rv.push_str(&rest.join("\n"));
        }
        rv
    };
    if first {
        rv = format!("{indention}{rv}");
    }
    Ok(Value::from(rv))
}

/// Python's `round(x, n)`: correctly rounded, ties to even.
fn py_round(f: f64, digits: i64) -> f64 {
    if !f.is_finite() {
        return f;
    }
    if digits >= 0 {
        let s = format!("{:.*}", digits as usize, f);
        s.parse().unwrap_or(f)
    } else {
        let scale = 10f64.powi((-digits) as i32);
        let q = f / scale;
        let r = q.round();
        let r = if (q - q.trunc()).abs() == 0.5 {
            2.0 * (q / 2.0).round()
        } else {
            r
        };
        r * scale
    }
}

fn do_round(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_defined(&value)?;
    let precision = kwargs
        .get::<Option<i64>>("precision")?
        .or_else(|| args.first().and_then(Value::as_i64))
        .unwrap_or(0);
    let method = kwargs
        .get::<Option<String>>("method")?
        .or_else(|| args.get(1).and_then(|m| m.as_str().map(str::to_string)))
        .unwrap_or_else(|| "common".into());
    kwargs.assert_all_used()?;
    let num = as_num(&value).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("type {} doesn't define __round__ method", type_name(&value)),
        )
    })?;
    match method.as_str() {
        "common" => Ok(match num {
            Num::Int(i) => Value::from(i),
            Num::Float(f) => Value::from(py_round(f, precision)),
        }),
        "ceil" | "floor" => {
            let f = match num {
                Num::Int(i) => i as f64,
                Num::Float(f) => f,
            };
            let scale = 10f64.powi(precision as i32);
            let scaled = f * scale;
            let r = if method == "ceil" {
                scaled.ceil()
            } else {
                scaled.floor()
            };
            Ok(Value::from(r / scale))
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "method must be common, ceil or floor",
        )),
    }
}

fn json_dump(out: &mut String, v: &Value) -> Result<(), Error> {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => match as_num(v) {
            Some(Num::Int(i)) => out.push_str(&i.to_string()),
            Some(Num::Float(f)) if f.is_nan() => out.push_str("NaN"),
            Some(Num::Float(f)) if f.is_infinite() => {
                out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
            }
            Some(Num::Float(f)) => out.push_str(&float_repr(f)),
            None => out.push_str("null"),
        },
        ValueKind::String => {
            out.push('"');
            for c in v.as_str().unwrap_or_default().chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '<' => out.push_str("\\u003c"),
                    '>' => out.push_str("\\u003e"),
                    '&' => out.push_str("\\u0026"),
                    '\'' => out.push_str("\\u0027"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        ValueKind::Map if !v.is_tuple() => {
            let mut keys: Vec<Value> = v.try_iter()?.collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_dump(out, &Value::from(py_str(k)?))?;
                out.push_str(": ");
                json_dump(out, &v.get_item(k)?)?;
            }
            out.push('}');
        }
        _ => {
            out.push('[');
            for (i, item) in v.try_iter()?.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_dump(out, &item)?;
            }
            out.push(']');
        }
    }
    Ok(())
}

fn do_tojson(value: Value) -> Result<Value, Error> {
    let mut out = String::new();
    json_dump(&mut out, &value)?;
    Ok(Value::from_safe_string(out))
}

fn do_center(value: Value, width: Option<i64>) -> Result<Value, Error> {
    let s = str_filter(&value)?;
    super::methods::str_method(&s, "center", &[Value::from(width.unwrap_or(80))])
}

fn do_replace(value: Value, old: Value, new: Value, count: Option<i64>) -> Result<Value, Error> {
    let s = str_filter(&value)?;
    let mut args = vec![Value::from(py_str(&old)?), Value::from(py_str(&new)?)];
    if let Some(c) = count {
        args.push(Value::from(c));
    }
    super::methods::str_method(&s, "replace", &args)
}

fn do_trim(value: Value, chars: Option<String>) -> Result<Value, Error> {
    let s = str_filter(&value)?;
    let args: Vec<Value> = chars.into_iter().map(Value::from).collect();
    super::methods::str_method(&s, "strip", &args)
}

fn do_pprint(value: Value) -> Result<Value, Error> {
    check_defined(&value)?;
    super::pyfmt::py_repr(&value).map(Value::from)
}

fn do_abs(value: Value) -> Result<Value, Error> {
    match as_num(&value) {
        Some(Num::Int(i)) => Ok(Value::from(i.abs())),
        Some(Num::Float(f)) => Ok(Value::from(f.abs())),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("bad operand type for abs(): '{}'", type_name(&value)),
        )),
    }
}

/// Registers the Jinja2-compatible filters, replacing minijinja's.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("int", do_int);
    env.add_filter("float", do_float);
    env.add_filter("string", do_string);
    env.add_filter("list", do_list);
    env.add_filter("join", do_join);
    env.add_filter("format", do_format);
    env.add_filter("length", do_length);
    env.add_filter("count", do_length);
    env.add_filter("default", do_default);
    env.add_filter("d", do_default);
    env.add_filter("upper", |v: Value| str_filter(&v).map(|s| s.to_uppercase()));
    env.add_filter("lower", |v: Value| str_filter(&v).map(|s| s.to_lowercase()));
    env.add_filter("title", |v: Value| str_filter(&v).map(|s| jinja_title(&s)));
    env.add_filter("capitalize", |v: Value| {
        let s = str_filter(&v)?;
        super::methods::str_method(&s, "capitalize", &[])
    });
    env.add_filter("trim", do_trim);
    env.add_filter("replace", do_replace);
    env.add_filter("indent", do_indent);
    env.add_filter("round", do_round);
    env.add_filter("tojson", do_tojson);
    env.add_filter("center", do_center);
    env.add_filter("pprint", do_pprint);
    env.add_filter("abs", do_abs);
    env.add_filter("wordcount", |v: Value| {
        str_filter(&v).map(|s| {
            s.split(|c: char| !c.is_alphanumeric() && c != '_')
                .filter(|w| !w.is_empty())
                .count() as i64
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_splits_like_jinja2() {
        assert_eq!(
            jinja_title("hello wORLD-foo (bar)"),
            "Hello World-Foo (Bar)"
        );
        assert_eq!(jinja_title("it's"), "It's");
    }

    #[test]
    fn round_is_bankers_on_exact_ties() {
        assert_eq!(py_round(2.5, 0), 2.0);
        assert_eq!(py_round(3.5, 0), 4.0);
        assert_eq!(py_round(2.675, 2), 2.67);
    }
}
