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
            int_in_base(s, base)
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

/// Python's `int(text, base)` for bases 0 (prefix decides) and 2 to 36.
fn int_in_base(s: &str, base: u32) -> Option<i128> {
    let t = s.trim().to_ascii_lowercase();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t.as_str()),
    };
    let prefixed = |p: &str, b: u32| {
        t.strip_prefix(p)
            .filter(|_| base == b || base == 0)
            .map(|r| (r, b))
    };
    let (digits, radix) = prefixed("0x", 16)
        .or_else(|| prefixed("0o", 8))
        .or_else(|| prefixed("0b", 2))
        .unwrap_or((t, if base == 0 { 10 } else { base }));
    if !(2..=36).contains(&radix)
        || digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    // base 0 does not allow leading zeros in decimal, as Python's literals
    if base == 0
        && radix == 10
        && digits.len() > 1
        && digits.starts_with('0')
        && digits.chars().any(|c| c != '0' && c != '_')
    {
        return None;
    }
    let v = i128::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    Some(if neg { -v } else { v })
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
    let indention = if let Some(w) = width.as_str() {
        w.to_string()
    } else {
        let w = width.as_i64().unwrap_or(4).max(0);
        " ".repeat(super::bounds::check_width("the indent", w as u128)?)
    };
    let lines_n = s.matches('\n').count() as u128 + 2;
    super::bounds::check_len(
        "the indented string",
        s.len() as u128 + lines_n.saturating_mul(indention.len() as u128),
    )?;
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
        // past a double's exact decimal expansion rounding changes nothing
        if digits > 1_100 {
            return f;
        }
        let s = format!("{:.*}", digits as usize, f);
        s.parse().unwrap_or(f)
    } else if digits < -400 {
        // every finite double is below 10**309: rounds to a zero of its sign
        0.0f64.copysign(f)
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

fn json_string(out: &mut String, s: &str) {
    super::pyfmt::write_json_str(out, s, true);
}

/// Jinja2's `htmlsafe_json_dumps`: Python's `json.dumps(sort_keys=True, indent=...)`
/// with `<`, `>`, `&` and `'` escaped.
fn json_dump(out: &mut String, v: &Value, indent: Option<&str>, level: usize) -> Result<(), Error> {
    let newline = |out: &mut String, level: usize| {
        if let Some(ind) = indent {
            out.push('\n');
            out.push_str(&ind.repeat(level));
        }
    };
    // Python's json gives up on cycles and deep nesting; so do we, before the stack does
    if level > 400 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "ValueError: Circular reference detected (or nesting deeper than 400)",
        ));
    }
    super::bounds::check_len("the JSON text", out.len() as u128)?;
    let item_sep = if indent.is_some() { "," } else { ", " };
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
        ValueKind::String => json_string(out, v.as_str().unwrap_or_default()),
        ValueKind::Map if !v.is_tuple() => {
            let mut keys: Vec<Value> = v.try_iter()?.collect();
            keys.sort();
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, level + 1);
                json_string(out, &py_str(k)?);
                out.push_str(": ");
                json_dump(out, &v.get_item(k)?, indent, level + 1)?;
            }
            newline(out, level);
            out.push('}');
        }
        _ => {
            let items: Vec<Value> = v.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, level + 1);
                json_dump(out, item, indent, level + 1)?;
            }
            newline(out, level);
            out.push(']');
        }
    }
    Ok(())
}

/// A filter argument given by position or by name.
fn arg(args: &[Value], kwargs: &Kwargs, i: usize, name: &str) -> Result<Option<Value>, Error> {
    Ok(kwargs
        .get::<Option<Value>>(name)?
        .or_else(|| args.get(i).cloned()))
}

fn do_tojson(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = arg(&args, &kwargs, 0, "indent")?;
    kwargs.assert_all_used()?;
    let indent = match indent {
        Some(v) if v.is_none() => None,
        Some(v) => Some(if let Some(s) = v.as_str() {
            s.to_string()
        } else {
            let w = v.as_i64().unwrap_or(0).max(0);
            " ".repeat(super::bounds::check_width("the JSON indent", w as u128)?)
        }),
        None => None,
    };
    let mut out = String::new();
    json_dump(&mut out, &value, indent.as_deref(), 0)?;
    Ok(Value::from_safe_string(out))
}

fn do_dictsort(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let case_sensitive = arg(&args, &kwargs, 0, "case_sensitive")?.is_some_and(|v| v.is_true());
    let by = arg(&args, &kwargs, 1, "by")?
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "key".into());
    let reverse = arg(&args, &kwargs, 2, "reverse")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;
    let pos = match by.as_str() {
        "key" => 0,
        "value" => 1,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "You can only sort by either \"key\" or \"value\"",
            ))
        }
    };
    let mut pairs: Vec<(Value, Value)> = value
        .try_iter()?
        .map(|k| {
            let v = value.get_item(&k).unwrap_or_default();
            (k, v)
        })
        .collect();
    let key_of = |p: &(Value, Value)| {
        let v = if pos == 0 { p.0.clone() } else { p.1.clone() };
        match (case_sensitive, v.as_str()) {
            (false, Some(s)) => Value::from(s.to_lowercase()),
            _ => v,
        }
    };
    pairs.sort_by_key(key_of);
    if reverse {
        pairs.reverse();
    }
    Ok(super::objects::PyList::new_value(
        pairs
            .into_iter()
            .map(|(k, v)| Value::from(Tuple::from(vec![k, v])))
            .collect(),
    ))
}

fn do_batch_or_slice(
    value: Value,
    args: Rest<Value>,
    kwargs: Kwargs,
    slices: bool,
) -> Result<Value, Error> {
    let n = arg(
        &args,
        &kwargs,
        0,
        if slices { "slices" } else { "linecount" },
    )?
    .and_then(|v| v.as_i64())
    .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "missing count"))?
    .max(1);
    let n = super::bounds::check_items("the slices", n as u128)?;
    let fill = arg(&args, &kwargs, 1, "fill_with")?.filter(|v| !v.is_none());
    kwargs.assert_all_used()?;
    let items: Vec<Value> = value.try_iter()?.collect();
    let list = super::objects::PyList::new_value;
    let mut out = Vec::new();
    if slices {
        let per = items.len() / n;
        let extra = items.len() % n;
        let mut offset = 0;
        for i in 0..n {
            let start = offset + i * per;
            if i < extra {
                offset += 1;
            }
            let end = offset + (i + 1) * per;
            let mut chunk: Vec<Value> =
                items[start.min(items.len())..end.min(items.len())].to_vec();
            if let Some(f) = &fill {
                if i >= extra && extra > 0 {
                    chunk.push(f.clone());
                }
            }
            out.push(list(chunk));
        }
    } else {
        for chunk in items.chunks(n) {
            let mut c = chunk.to_vec();
            if let Some(f) = &fill {
                c.resize(n, f.clone());
            }
            out.push(list(c));
        }
    }
    Ok(list(out))
}

fn do_center(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let width = arg(&args, &kwargs, 0, "width")?.unwrap_or(Value::from(80));
    kwargs.assert_all_used()?;
    let s = str_filter(&value)?;
    super::methods::str_method(&s, "center", &[width])
}

fn do_replace(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let old = arg(&args, &kwargs, 0, "old")?.unwrap_or_default();
    let new = arg(&args, &kwargs, 1, "new")?.unwrap_or_default();
    let count = arg(&args, &kwargs, 2, "count")?.filter(|c| !c.is_none());
    kwargs.assert_all_used()?;
    let s = str_filter(&value)?;
    let mut margs = vec![Value::from(py_str(&old)?), Value::from(py_str(&new)?)];
    if let Some(c) = count {
        margs.push(c);
    }
    super::methods::str_method(&s, "replace", &margs)
}

fn do_trim(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let chars = arg(&args, &kwargs, 0, "chars")?.filter(|c| !c.is_none());
    kwargs.assert_all_used()?;
    let s = str_filter(&value)?;
    let margs: Vec<Value> = chars.into_iter().collect();
    super::methods::str_method(&s, "strip", &margs)
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
    env.add_filter("dictsort", do_dictsort);
    env.add_filter("batch", |v: Value, a: Rest<Value>, k: Kwargs| {
        do_batch_or_slice(v, a, k, false)
    });
    env.add_filter("slice", |v: Value, a: Rest<Value>, k: Kwargs| {
        do_batch_or_slice(v, a, k, true)
    });
    // minijinja filters and tests that Jinja2 does not have: ibek fails on them
    for name in ["bool", "split", "lines", "chain", "zip"] {
        env.remove_filter(name);
    }
    for name in ["int", "safe"] {
        env.remove_test(name);
    }
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
