//! Python methods on strings, lists and dicts, called from templates.
//!
//! Jinja2 on `CPython` exposes every Python method, and support YAML uses
//! them: `'axes_{}'.format(name)`, `text.splitlines()`, `l.append(x)`.
//! minijinja has none of these; its unknown-method hook lands here.

use std::sync::Arc;

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::objects::{PyDict, PyList};
use super::pyfmt::{py_str, str_format, type_name};

fn attr_error(v: &Value, method: &str) -> Error {
    Error::new(
        ErrorKind::UnknownMethod,
        format!("'{}' object has no attribute '{method}'", type_name(v)),
    )
}

fn arg_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Splits positional arguments from a trailing keyword-argument map.
pub fn split_kwargs(args: &[Value]) -> (&[Value], Option<Kwargs>) {
    match args.last() {
        Some(last) if last.is_kwargs() => {
            (&args[..args.len() - 1], Kwargs::try_from(last.clone()).ok())
        }
        _ => (args, None),
    }
}

fn str_arg(args: &[Value], i: usize, what: &str) -> Result<Option<String>, Error> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| arg_error(format!("{what} arg must be None or str"))),
    }
}

fn int_arg(args: &[Value], i: usize) -> Result<Option<i64>, Error> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) if v.kind() == ValueKind::Bool => Ok(Some(i64::from(v.is_true()))),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| arg_error("'int' object expected")),
    }
}

fn strings(items: Vec<String>) -> Value {
    PyList::new_value(items.into_iter().map(Value::from).collect())
}

fn py_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let max = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    match sep {
        Some("") => Err(arg_error("empty separator")),
        Some(sep) => {
            let mut out = Vec::new();
            let mut rest = s;
            while out.len() < max {
                match rest.find(sep) {
                    Some(p) => {
                        out.push(rest[..p].to_string());
                        rest = &rest[p + sep.len()..];
                    }
                    None => break,
                }
            }
            out.push(rest.to_string());
            Ok(out)
        }
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if out.len() >= max {
                    out.push(rest.to_string());
                    return Ok(out);
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(rest[..end].to_string());
                rest = rest[end..].trim_start();
            }
            Ok(out)
        }
    }
}

fn py_rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    if maxsplit < 0 {
        return py_split(s, sep, maxsplit);
    }
    let max = maxsplit as usize;
    let mut out = Vec::new();
    match sep {
        Some("") => return Err(arg_error("empty separator")),
        Some(sep) => {
            let mut rest = s;
            while out.len() < max {
                match rest.rfind(sep) {
                    Some(p) => {
                        out.push(rest[p + sep.len()..].to_string());
                        rest = &rest[..p];
                    }
                    None => break,
                }
            }
            out.push(rest.to_string());
        }
        None => {
            let mut rest = s.trim_end();
            while !rest.is_empty() {
                if out.len() >= max {
                    out.push(rest.to_string());
                    break;
                }
                let start = rest.rfind(char::is_whitespace).map_or(0, |p| {
                    p + rest[p..].chars().next().map_or(1, char::len_utf8)
                });
                out.push(rest[start..].to_string());
                rest = rest[..start].trim_end();
            }
        }
    }
    out.reverse();
    Ok(out)
}

fn splitlines(s: &str, keepends: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            let mut end = pos + c.len_utf8();
            if c == '\r' && chars.get(i + 1).map(|x| x.1) == Some('\n') {
                end += 1;
                i += 1;
            }
            out.push(
                if keepends {
                    &s[start..end]
                } else {
                    &s[start..pos]
                }
                .to_string(),
            );
            start = end;
        }
        i += 1;
    }
    if start < s.len() {
        out.push(s[start..].to_string());
    }
    out
}

fn strip_chars<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let pred = |c: char| match chars {
        Some(set) => set.contains(c),
        None => c.is_whitespace(),
    };
    let mut out = s;
    if left {
        out = out.trim_start_matches(pred);
    }
    if right {
        out = out.trim_end_matches(pred);
    }
    out
}

fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

fn py_capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn pad_to(s: &str, width: usize, fill: char, how: char) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let n = width - len;
    let f = |k: usize| fill.to_string().repeat(k);
    match how {
        '<' => format!("{s}{}", f(n)),
        '>' => format!("{}{s}", f(n)),
        _ => {
            // CPython's centre puts the extra fill on the left when width and length are both odd
            let left = n / 2 + (n & width & 1);
            format!("{}{s}{}", f(left), f(n - left))
        }
    }
}

fn fill_arg(args: &[Value]) -> Result<char, Error> {
    match args.get(1).and_then(Value::as_str) {
        None => Ok(' '),
        Some(s) if s.chars().count() == 1 => Ok(s.chars().next().unwrap_or(' ')),
        Some(_) => Err(arg_error(
            "The fill character must be exactly one character long",
        )),
    }
}

fn find_index(s: &str, sub: &str, args: &[Value], reverse: bool) -> Result<i64, Error> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let norm = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
    let start = int_arg(args, 1)?.map_or(0, norm) as usize;
    let end = int_arg(args, 2)?.map_or(n, norm) as usize;
    if start > end || (sub.is_empty() && start > chars.len()) {
        return Ok(-1);
    }
    let hay: String = chars[start..end].iter().collect();
    let found = if reverse {
        hay.rfind(sub)
    } else {
        hay.find(sub)
    };
    Ok(found.map_or(-1, |b| (hay[..b].chars().count() + start) as i64))
}

/// Python methods of `str`.
pub fn str_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, kwargs) = split_kwargs(args);
    for group in [
        format_method,
        case_method,
        edit_method,
        search_method,
        layout_method,
        predicate_method,
    ] {
        if let Some(v) = group(s, method, pos, kwargs.as_ref())? {
            return Ok(v);
        }
    }
    Err(attr_error(&Value::from(s), method))
}

fn first_str_arg(pos: &[Value], method: &str) -> Result<String, Error> {
    pos.first()
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| arg_error(format!("{method}() argument must be str")))
}

/// `str.format` and `str.format_map`.
fn format_method(
    s: &str,
    method: &str,
    pos: &[Value],
    kwargs: Option<&Kwargs>,
) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "format" => Value::from(str_format(s, pos, kwargs)?),
        "format_map" => {
            let map = pos.first().cloned().unwrap_or_default();
            let kw: Kwargs = map
                .try_iter()?
                .filter_map(|k| {
                    let v = map.get_item(&k).ok()?;
                    Some((k.as_str()?.to_string(), v))
                })
                .collect();
            Value::from(str_format(s, &[], Some(&kw))?)
        }
        _ => return Ok(None),
    }))
}

/// Case changes: `upper`, `lower`, `title`, ...
fn case_method(
    s: &str,
    method: &str,
    _pos: &[Value],
    _kwargs: Option<&Kwargs>,
) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "upper" => Value::from(s.to_uppercase()),
        "lower" | "casefold" => Value::from(s.to_lowercase()),
        "title" => Value::from(py_title(s)),
        "capitalize" => Value::from(py_capitalize(s)),
        "swapcase" => Value::from(
            s.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect::<Vec<_>>()
                    }
                })
                .collect::<String>(),
        ),
        _ => return Ok(None),
    }))
}

/// Methods that cut, join or replace: `strip`, `split`, `join`, `replace`, ...
fn edit_method(
    s: &str,
    method: &str,
    pos: &[Value],
    kwargs: Option<&Kwargs>,
) -> Result<Option<Value>, Error> {
    let first_str = || first_str_arg(pos, method);
    Ok(Some(match method {
        "strip" | "lstrip" | "rstrip" => {
            let chars = str_arg(pos, 0, method)?;
            Value::from(strip_chars(
                s,
                chars.as_deref(),
                method != "rstrip",
                method != "lstrip",
            ))
        }
        "split" | "rsplit" => split_method(s, method, pos, kwargs)?,
        "splitlines" => {
            let keep = kwargs
                .as_ref()
                .and_then(|k| k.peek::<bool>("keepends").ok())
                .or_else(|| pos.first().map(Value::is_true))
                .unwrap_or(false);
            strings(splitlines(s, keep))
        }
        "join" => join(s, pos)?,
        "replace" => replace(s, pos)?,
        "partition" | "rpartition" => {
            let sep = first_str()?;
            let found = if method == "partition" {
                s.find(&sep)
            } else {
                s.rfind(&sep)
            };
            let parts = match found {
                Some(p) => vec![&s[..p], sep.as_str(), &s[p + sep.len()..]],
                None if method == "partition" => vec![s, "", ""],
                None => vec!["", "", s],
            };
            Value::from(minijinja::value::Tuple::from(
                parts.into_iter().map(Value::from).collect::<Vec<_>>(),
            ))
        }
        "removeprefix" => {
            let p = first_str()?;
            Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
        }
        "removesuffix" => {
            let p = first_str()?;
            Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
        }
        _ => return Ok(None),
    }))
}

/// `split` and `rsplit`, with `sep` and `maxsplit` given by position or keyword.
fn split_method(
    s: &str,
    method: &str,
    pos: &[Value],
    kwargs: Option<&Kwargs>,
) -> Result<Value, Error> {
    let sep = match kwargs.and_then(|k| k.peek::<Value>("sep").ok()) {
        Some(v) if !v.is_none() => Some(v.as_str().unwrap_or_default().to_string()),
        Some(_) => None,
        None => str_arg(pos, 0, "sep")?,
    };
    let max = match kwargs.and_then(|k| k.peek::<i64>("maxsplit").ok()) {
        Some(m) => m,
        None => int_arg(pos, 1)?.unwrap_or(-1),
    };
    if method == "split" {
        Ok(strings(py_split(s, sep.as_deref(), max)?))
    } else {
        Ok(strings(py_rsplit(s, sep.as_deref(), max)?))
    }
}

/// `s.join(items)`, which takes strings only.
fn join(s: &str, pos: &[Value]) -> Result<Value, Error> {
    let items = pos
        .first()
        .ok_or_else(|| arg_error("join() takes exactly one argument (0 given)"))?;
    let mut parts = Vec::new();
    for (i, item) in items.try_iter()?.enumerate() {
        match item.as_str() {
            Some(p) => parts.push(p.to_string()),
            None => {
                return Err(arg_error(format!(
                    "sequence item {i}: expected str instance, {} found",
                    type_name(&item)
                )))
            }
        }
    }
    Ok(Value::from(parts.join(s)))
}

/// `s.replace(old, new[, count])`, refusing results over the length limit.
fn replace(s: &str, pos: &[Value]) -> Result<Value, Error> {
    let old = first_str_arg(pos, "replace")?;
    let new = pos
        .get(1)
        .and_then(Value::as_str)
        .ok_or_else(|| arg_error("replace() argument 2 must be str"))?;
    let count = int_arg(pos, 2)?.unwrap_or(-1);
    let hits = if old.is_empty() {
        s.chars().count() as u128 + 1
    } else {
        s.matches(old.as_str()).count() as u128
    };
    let hits = if count < 0 {
        hits
    } else {
        hits.min(count as u128)
    };
    super::bounds::check_len(
        "the replaced string",
        s.len() as u128 + hits.saturating_mul(new.len() as u128),
    )?;
    if count < 0 {
        Ok(Value::from(s.replace(&old, new)))
    } else {
        Ok(Value::from(s.replacen(&old, new, count as usize)))
    }
}

/// Methods that look for a substring: `startswith`, `find`, `count`, ...
fn search_method(
    s: &str,
    method: &str,
    pos: &[Value],
    _kwargs: Option<&Kwargs>,
) -> Result<Option<Value>, Error> {
    let first_str = || first_str_arg(pos, method);
    Ok(Some(match method {
        "startswith" | "endswith" => {
            let test = |p: &str| {
                if method == "startswith" {
                    s.starts_with(p)
                } else {
                    s.ends_with(p)
                }
            };
            let arg = pos.first().cloned().unwrap_or_default();
            let ok = if arg.is_tuple() {
                arg.try_iter()?.any(|p| p.as_str().is_some_and(test))
            } else {
                test(&first_str()?)
            };
            Value::from(ok)
        }
        "find" | "rfind" | "index" | "rindex" => {
            let sub = first_str()?;
            let i = find_index(s, &sub, pos, method.starts_with('r'))?;
            if i < 0 && method.ends_with("index") {
                return Err(arg_error("substring not found"));
            }
            Value::from(i)
        }
        "count" => {
            let sub = first_str()?;
            if sub.is_empty() {
                Value::from(s.chars().count() as i64 + 1)
            } else {
                Value::from(s.matches(sub.as_str()).count() as i64)
            }
        }
        _ => return Ok(None),
    }))
}

/// Padding and tabs: `zfill`, `ljust`, `center`, `expandtabs` (sizes checked against `max-len`).
fn layout_method(
    s: &str,
    method: &str,
    pos: &[Value],
    kwargs: Option<&Kwargs>,
) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "zfill" => {
            let width = int_arg(pos, 0)?.unwrap_or(0).max(0);
            let width = super::bounds::check_width("the width of zfill()", width as u128)?;
            let len = s.chars().count();
            if len >= width {
                Value::from(s)
            } else {
                let (sign, rest) = match s.chars().next() {
                    Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                    _ => (String::new(), s),
                };
                Value::from(format!("{sign}{}{rest}", "0".repeat(width - len)))
            }
        }
        "ljust" | "rjust" | "center" => {
            let width = int_arg(pos, 0)?.unwrap_or(0).max(0);
            let width = super::bounds::check_width("the padded width", width as u128)?;
            let how = match method {
                "ljust" => '<',
                "rjust" => '>',
                _ => '^',
            };
            Value::from(pad_to(s, width, fill_arg(pos)?, how))
        }
        "expandtabs" => {
            let size = match kwargs.and_then(|k| k.peek::<i64>("tabsize").ok()) {
                Some(t) => t,
                None => int_arg(pos, 0)?.unwrap_or(8),
            };
            let tabs = s.matches('\t').count() as u128;
            super::bounds::check_len(
                "the expanded string",
                s.len() as u128 + tabs.saturating_mul(size.max(0).unsigned_abs().into()),
            )?;
            let mut out = String::new();
            let mut col = 0i64;
            for c in s.chars() {
                match c {
                    '\t' => {
                        if size > 0 {
                            let n = size - col % size;
                            out.extend(std::iter::repeat_n(' ', n as usize));
                            col += n;
                        }
                    }
                    '\n' | '\r' => {
                        out.push(c);
                        col = 0;
                    }
                    c => {
                        out.push(c);
                        col += 1;
                    }
                }
            }
            Value::from(out)
        }
        _ => return Ok(None),
    }))
}

/// The `is…` tests.
fn predicate_method(
    s: &str,
    method: &str,
    _pos: &[Value],
    _kwargs: Option<&Kwargs>,
) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "isdigit" | "isdecimal" | "isnumeric" => {
            Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c.is_numeric()))
        }
        "isalpha" => Value::from(!s.is_empty() && s.chars().all(char::is_alphabetic)),
        "isalnum" => Value::from(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
        "isspace" => Value::from(!s.is_empty() && s.chars().all(char::is_whitespace)),
        "isupper" => {
            Value::from(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
        }
        "islower" => {
            Value::from(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
        }
        "isidentifier" => Value::from(
            s.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_alphanumeric() || c == '_'),
        ),
        "istitle" => {
            let mut seen_cased = false;
            let mut prev_cased = false;
            let mut ok = true;
            for c in s.chars() {
                if c.is_uppercase() {
                    if prev_cased {
                        ok = false;
                    }
                    prev_cased = true;
                    seen_cased = true;
                } else if c.is_lowercase() {
                    if !prev_cased {
                        ok = false;
                    }
                    prev_cased = true;
                    seen_cased = true;
                } else {
                    prev_cased = false;
                }
            }
            Value::from(ok && seen_cased)
        }
        "isascii" => Value::from(s.is_ascii()),
        "isprintable" => Value::from(s.chars().all(|c| !c.is_control())),

        _ => return Ok(None),
    }))
}

fn list_arg<'a>(args: &'a [Value], i: usize, method: &str) -> Result<&'a Value, Error> {
    args.get(i)
        .ok_or_else(|| arg_error(format!("{method}() takes exactly one argument (0 given)")))
}

/// Python methods of `list`, mutating in place.
pub fn list_method(list: &Arc<PyList>, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, _) = split_kwargs(args);
    match method {
        "append" => {
            let v = list_arg(pos, 0, method)?.clone();
            list.lock().push(v);
            Ok(Value::from(()))
        }
        "extend" => {
            let items: Vec<Value> = list_arg(pos, 0, method)?.try_iter()?.collect();
            list.lock().extend(items);
            Ok(Value::from(()))
        }
        "insert" => {
            let idx = int_arg(pos, 0)?.ok_or_else(|| arg_error("insert expected 2 arguments"))?;
            let v = pos
                .get(1)
                .cloned()
                .ok_or_else(|| arg_error("insert expected 2 arguments"))?;
            let mut items = list.lock();
            let n = items.len() as i64;
            let at = if idx < 0 {
                (idx + n).max(0)
            } else {
                idx.min(n)
            } as usize;
            items.insert(at, v);
            Ok(Value::from(()))
        }
        "pop" => {
            let mut items = list.lock();
            if items.is_empty() {
                return Err(arg_error("pop from empty list"));
            }
            let n = items.len() as i64;
            let idx = int_arg(pos, 0)?.unwrap_or(-1);
            let at = if idx < 0 { idx + n } else { idx };
            if !(0..n).contains(&at) {
                return Err(arg_error("pop index out of range"));
            }
            Ok(items.remove(at as usize))
        }
        "remove" => {
            let v = list_arg(pos, 0, method)?;
            let mut items = list.lock();
            let at = items
                .iter()
                .position(|x| x == v)
                .ok_or_else(|| arg_error("list.remove(x): x not in list"))?;
            items.remove(at);
            Ok(Value::from(()))
        }
        "index" => {
            let v = list_arg(pos, 0, method)?;
            let items = list.lock();
            items
                .iter()
                .position(|x| x == v)
                .map(|p| Value::from(p as i64))
                .ok_or_else(|| {
                    arg_error(format!("{} is not in list", py_str(v).unwrap_or_default()))
                })
        }
        "count" => {
            let v = list_arg(pos, 0, method)?;
            Ok(Value::from(
                list.lock().iter().filter(|x| *x == v).count() as i64
            ))
        }
        "copy" => Ok(PyList::new_value(list.snapshot())),
        "clear" => {
            list.lock().clear();
            Ok(Value::from(()))
        }
        "reverse" => {
            list.lock().reverse();
            Ok(Value::from(()))
        }
        "sort" => {
            let mut items = list.lock();
            items.sort();
            Ok(Value::from(()))
        }
        _ => Err(attr_error(&PyList::new_value(Vec::new()), method)),
    }
}

fn pairs_of(v: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if let Some(d) = v.downcast_object_ref::<PyDict>() {
        return Ok(d.snapshot());
    }
    if v.kind() == ValueKind::Map && !v.is_tuple() {
        return v
            .try_iter()?
            .map(|k| {
                let val = v.get_item(&k)?;
                Ok((k, val))
            })
            .collect();
    }
    let mut out = Vec::new();
    for (i, item) in v.try_iter()?.enumerate() {
        let parts: Vec<Value> = item.try_iter()?.collect();
        if parts.len() != 2 {
            return Err(arg_error(format!(
                "dictionary update sequence element #{i} has length {}; 2 is required",
                parts.len()
            )));
        }
        let mut it = parts.into_iter();
        out.push((it.next().unwrap_or_default(), it.next().unwrap_or_default()));
    }
    Ok(out)
}

fn tuple2(k: Value, v: Value) -> Value {
    Value::from(minijinja::value::Tuple::from(vec![k, v]))
}

/// Python methods of `dict`, mutating in place.
pub fn dict_method(dict: &Arc<PyDict>, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, kwargs) = split_kwargs(args);
    let key_error = |k: &Value| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("KeyError: {}", super::pyfmt::py_repr(k).unwrap_or_default()),
        )
    };
    Ok(match method {
        "get" => {
            let key = pos.first().cloned().unwrap_or_default();
            dict.lock()
                .get(&key)
                .cloned()
                .unwrap_or_else(|| pos.get(1).cloned().unwrap_or(Value::from(())))
        }
        "keys" => PyList::new_value(dict.lock().keys().cloned().collect()),
        "values" => PyList::new_value(dict.lock().values().cloned().collect()),
        "items" => PyList::new_value(
            dict.snapshot()
                .into_iter()
                .map(|(k, v)| tuple2(k, v))
                .collect(),
        ),
        "copy" => PyDict::new_value(dict.snapshot()),
        "update" => {
            let mut new = Vec::new();
            if let Some(other) = pos.first() {
                new = pairs_of(other)?;
            }
            if let Some(kw) = &kwargs {
                for k in kw.args() {
                    new.push((Value::from(k), kw.get::<Value>(k)?));
                }
            }
            let mut items = dict.lock();
            for (k, v) in new {
                items.insert(k, v);
            }
            Value::from(())
        }
        "setdefault" => {
            let key = list_arg(pos, 0, method)?.clone();
            let default = pos.get(1).cloned().unwrap_or(Value::from(()));
            dict.lock().entry(key).or_insert(default).clone()
        }
        "pop" => {
            let key = list_arg(pos, 0, method)?.clone();
            match dict.lock().shift_remove(&key) {
                Some(v) => v,
                None => pos.get(1).cloned().ok_or_else(|| key_error(&key))?,
            }
        }
        "popitem" => {
            let (k, v) = dict
                .lock()
                .pop()
                .ok_or_else(|| arg_error("popitem(): dictionary is empty"))?;
            tuple2(k, v)
        }
        "clear" => {
            dict.lock().clear();
            Value::from(())
        }
        _ => return Err(attr_error(&PyDict::new_value([]), method)),
    })
}

fn num_method(v: &Value, method: &str) -> Result<Value, Error> {
    use super::pyfmt::{as_num, Num};
    Ok(match (as_num(v), method) {
        (Some(Num::Int(i)), "bit_length") => {
            Value::from(i64::from(128 - i.unsigned_abs().leading_zeros() as i32))
        }
        (Some(Num::Int(i)), "conjugate" | "real" | "numerator") => Value::from(i),
        (Some(Num::Int(_)), "imag") => Value::from(0),
        (Some(Num::Int(_)), "denominator") => Value::from(1),
        (Some(Num::Float(f)), "is_integer") => Value::from(f.is_finite() && f.fract() == 0.0),
        (Some(Num::Float(f)), "conjugate" | "real") => Value::from(f),
        (Some(Num::Float(_)), "imag") => Value::from(0.0),
        _ => return Err(attr_error(v, method)),
    })
}

fn map_method(map: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, _) = split_kwargs(args);
    Ok(match method {
        "get" => {
            let key = pos.first().cloned().unwrap_or_default();
            let v = map.get_item(&key)?;
            if v.is_undefined() {
                pos.get(1).cloned().unwrap_or(Value::from(()))
            } else {
                v
            }
        }
        "keys" => PyList::new_value(map.try_iter()?.collect()),
        "values" => PyList::new_value(pairs_of(map)?.into_iter().map(|(_, v)| v).collect()),
        "items" => PyList::new_value(
            pairs_of(map)?
                .into_iter()
                .map(|(k, v)| tuple2(k, v))
                .collect(),
        ),
        "copy" => PyDict::new_value(pairs_of(map)?),
        _ => return Err(attr_error(map, method)),
    })
}

/// minijinja's unknown-method hook: dispatches to the Python method of the value's type.
pub fn unknown_method(
    _state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("cannot call `{method}` on an undefined value"),
        ));
    }
    if let Some(s) = value.as_str() {
        return str_method(s, method, args);
    }
    if value.kind() == ValueKind::Map && !value.is_tuple() {
        return map_method(value, method, args);
    }
    if matches!(value.kind(), ValueKind::Number | ValueKind::Bool) {
        return num_method(value, method);
    }
    if matches!(value.kind(), ValueKind::Seq) {
        let (pos, _) = split_kwargs(args);
        let items: Vec<Value> = value.try_iter()?.collect();
        return match method {
            "count" => Ok(Value::from(
                items.iter().filter(|x| Some(*x) == pos.first()).count() as i64,
            )),
            "index" => items
                .iter()
                .position(|x| Some(x) == pos.first())
                .map(|p| Value::from(p as i64))
                .ok_or_else(|| arg_error("tuple.index(x): x not in tuple")),
            _ => Err(attr_error(value, method)),
        };
    }
    Err(attr_error(value, method))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::pyfmt::py_repr;

    fn call(s: &str, m: &str, args: &[Value]) -> String {
        py_repr(&str_method(s, m, args).unwrap()).unwrap()
    }

    #[test]
    fn split_and_lines_match_python() {
        assert_eq!(call(" a  b ", "split", &[]), "['a', 'b']");
        assert_eq!(call("a,,b", "split", &[Value::from(",")]), "['a', '', 'b']");
        assert_eq!(
            call("a,b,c", "rsplit", &[Value::from(","), Value::from(1)]),
            "['a,b', 'c']"
        );
        assert_eq!(call("a\nb\r\nc\n", "splitlines", &[]), "['a', 'b', 'c']");
        assert_eq!(call("", "splitlines", &[]), "[]");
    }

    #[test]
    fn case_and_padding_match_python() {
        assert_eq!(call("hello wORLD", "title", &[]), "'Hello World'");
        assert_eq!(call("hELLO", "capitalize", &[]), "'Hello'");
        assert_eq!(call("ab", "center", &[Value::from(5)]), "'  ab '");
        assert_eq!(call("abc", "center", &[Value::from(6)]), "' abc  '");
        assert_eq!(call("-5", "zfill", &[Value::from(4)]), "'-005'");
        assert_eq!(call("xxaxx", "strip", &[Value::from("x")]), "'a'");
        assert_eq!(call("abcabc", "rfind", &[Value::from("b")]), "4");
    }
}
