//! Python's `str.format` and `format(value, spec)` with CPython's
//! format-spec mini-language (`{:>8.3f}`, `{0:{1}}`, `{:,}`).
//!
//! Widths and precisions are checked against `max-len` (`bounds.rs`).

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::pyfmt::{
    as_num, fixed, float_repr, general, group_digits, py_repr, py_str, sci, special_float,
    str_repr, type_error, type_name, Num,
};

// ---------------------------------------------------------------------------
// str.format and format(value, spec)

struct FormatSpec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    prec: Option<usize>,
    ty: Option<char>,
}

fn parse_format_spec(spec: &str) -> Result<FormatSpec, Error> {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut out = FormatSpec {
        fill: ' ',
        align: None,
        sign: '-',
        alt: false,
        zero: false,
        width: 0,
        grouping: None,
        prec: None,
        ty: None,
    };
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        out.fill = chars[0];
        out.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        out.align = Some(chars[0]);
        i = 1;
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        out.sign = chars[i];
        i += 1;
    }
    if i < chars.len() && chars[i] == 'z' {
        i += 1;
    }
    if i < chars.len() && chars[i] == '#' {
        out.alt = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '0' {
        out.zero = true;
        i += 1;
    }
    let start = i;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        out.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(usize::MAX);
        super::bounds::check_width("the width of a format field", out.width as u128)?;
    }
    if i < chars.len() && matches!(chars[i], ',' | '_') {
        out.grouping = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(type_error("Format specifier missing precision"));
        }
        let prec = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(usize::MAX);
        super::bounds::check_width("the precision of a format field", prec as u128)?;
        out.prec = Some(prec);
    }
    if i < chars.len() {
        out.ty = Some(chars[i]);
        i += 1;
    }
    if i != chars.len() {
        return Err(type_error("Invalid format specifier"));
    }
    Ok(out)
}

fn align_text(body: &str, sign: &str, spec: &FormatSpec, default_align: char) -> String {
    let len = body.chars().count() + sign.chars().count();
    if len >= spec.width {
        return format!("{sign}{body}");
    }
    let fill_n = spec.width - len;
    let (fill, align) = if spec.zero && spec.align.is_none() {
        ('0', '=')
    } else {
        (spec.fill, spec.align.unwrap_or(default_align))
    };
    let f = |n: usize| fill.to_string().repeat(n);
    match align {
        '<' => format!("{sign}{body}{}", f(fill_n)),
        '^' => format!("{}{sign}{body}{}", f(fill_n / 2), f(fill_n - fill_n / 2)),
        '=' => format!("{sign}{}{body}", f(fill_n)),
        _ => format!("{}{sign}{body}", f(fill_n)),
    }
}

/// The width zero padding must fill (`0` flag without an explicit alignment), else 0.
fn zero_pad_width(fs: &FormatSpec, sign: &str) -> usize {
    if fs.zero && fs.align.is_none() {
        fs.width.saturating_sub(sign.chars().count())
    } else {
        0
    }
}

/// Groups the digits; with zero padding, CPython groups the padding zeros
/// too, and never starts with a separator (`'{:08,}'.format(1234)` is `0,001,234`).
fn grouped_padded(int_digits: &str, rest: &str, sep: char, every: usize, width: usize) -> String {
    let mut digits = int_digits.to_string();
    loop {
        let g = group_digits(&digits, sep, every);
        if g.chars().count() + rest.chars().count() >= width {
            return format!("{g}{rest}");
        }
        digits.insert(0, '0');
    }
}

/// Python's `format(value, spec)`.
pub fn format_value(v: &Value, spec: &str) -> Result<String, Error> {
    let fs = parse_format_spec(spec)?;
    let num = if v.kind() == ValueKind::String {
        None
    } else {
        as_num(v)
    };
    match (num, fs.ty) {
        (None, _) if v.kind() != ValueKind::String && spec.is_empty() => py_str(v),
        (None, None | Some('s')) => {
            let mut s = py_str(v)?;
            if let Some(p) = fs.prec {
                s = s.chars().take(p).collect();
            }
            Ok(align_text(&s, "", &fs, '<'))
        }
        (None, Some(t)) => Err(type_error(format!(
            "Unknown format code '{t}' for object of type '{}'",
            type_name(v)
        ))),
        (Some(Num::Int(i)), None | Some('d' | 'b' | 'o' | 'x' | 'X' | 'c' | 'n')) => {
            format_int(v, i, spec, &fs)
        }
        (Some(n), t) => format_float(v, n, t, &fs),
    }
}

/// `format(i, spec)` for an integer presentation type (`d`, `b`, `o`, `x`,
/// `X`, `c`, `n` or none).
fn format_int(v: &Value, i: i128, spec: &str, fs: &FormatSpec) -> Result<String, Error> {
    if v.kind() == ValueKind::Bool && spec.is_empty() {
        return py_str(v);
    }
    let mag = i.unsigned_abs();
    let ty = fs.ty.unwrap_or('d');
    let (mut digits, prefix) = match ty {
        'b' => (format!("{mag:b}"), "0b"),
        'o' => (format!("{mag:o}"), "0o"),
        'x' => (format!("{mag:x}"), "0x"),
        'X' => (format!("{mag:X}"), "0X"),
        'c' => {
            return Ok(align_text(
                &char::from_u32(i as u32).unwrap_or('\u{fffd}').to_string(),
                "",
                fs,
                '<',
            ))
        }
        _ => (mag.to_string(), ""),
    };
    let sign = match (i < 0, fs.sign) {
        (true, _) => "-",
        (false, '+') => "+",
        (false, ' ') => " ",
        _ => "",
    };
    let sign = if fs.alt {
        format!("{sign}{prefix}")
    } else {
        sign.to_string()
    };
    if let Some(g) = fs.grouping {
        let every = if ty == 'd' || ty == 'n' { 3 } else { 4 };
        digits = grouped_padded(&digits, "", g, every, zero_pad_width(fs, &sign));
    }
    Ok(align_text(&digits, &sign, fs, '>'))
}

/// `format(n, spec)` for a float presentation type, or none with a float.
fn format_float(v: &Value, n: Num, t: Option<char>, fs: &FormatSpec) -> Result<String, Error> {
    let f = match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    };
    let upper = t.is_some_and(|c| c.is_ascii_uppercase());
    let body = match special_float(f.abs(), upper) {
        Some(s) => s,
        None => match t {
            Some('e' | 'E') => sci(f.abs(), fs.prec.unwrap_or(6), upper),
            Some('f' | 'F') => fixed(f.abs(), fs.prec.unwrap_or(6)),
            Some('%') => format!("{}%", fixed(f.abs() * 100.0, fs.prec.unwrap_or(6))),
            Some('g' | 'G' | 'n') => general(f.abs(), fs.prec.unwrap_or(6), upper, fs.alt),
            None => match fs.prec {
                None => match n {
                    Num::Int(i) => i.unsigned_abs().to_string(),
                    Num::Float(_) => float_repr(f.abs()),
                },
                Some(p) => {
                    let g = general(f.abs(), p, false, fs.alt);
                    if g.contains(['.', 'e']) || matches!(n, Num::Int(_)) {
                        g
                    } else {
                        format!("{g}.0")
                    }
                }
            },
            Some(other) => {
                return Err(type_error(format!(
                    "Unknown format code '{other}' for object of type '{}'",
                    type_name(v)
                )))
            }
        },
    };
    let body = if fs.alt && !body.contains('.') && matches!(t, Some('e' | 'E' | 'f' | 'F' | '%')) {
        // the alternate form keeps the decimal point
        match body.find(['e', 'E', '%']) {
            Some(p) => format!("{}.{}", &body[..p], &body[p..]),
            None => format!("{body}."),
        }
    } else {
        body
    };
    let neg = f.is_sign_negative() && !f.is_nan() && !(f == 0.0 && matches!(n, Num::Int(_)));
    let sign = match (neg, fs.sign) {
        (true, _) => "-",
        (false, '+') => "+",
        (false, ' ') => " ",
        _ => "",
    };
    let body = match fs.grouping {
        Some(g) => {
            let (int_part, rest) = body
                .find(|c: char| !c.is_ascii_digit())
                .map_or((body.as_str(), ""), |p| body.split_at(p));
            grouped_padded(int_part, rest, g, 3, zero_pad_width(fs, sign))
        }
        None => body,
    };
    Ok(align_text(&body, sign, fs, '>'))
}

/// Python's `fmt.format(*args, **kwargs)`.
pub fn str_format(fmt: &str, args: &[Value], kwargs: Option<&Kwargs>) -> Result<String, Error> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut auto = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(type_error("Single '}' encountered in format string"));
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        // find the matching close brace (nested braces only inside the spec)
        let mut depth = 1;
        let mut j = i + 1;
        while j < chars.len() && depth > 0 {
            match chars[j] {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            j += 1;
        }
        if depth != 0 {
            return Err(type_error("Single '{' encountered in format string"));
        }
        let field: String = chars[i + 1..j - 1].iter().collect();
        i = j;
        let (name_conv, spec) = match field.find(':') {
            Some(p) => (&field[..p], &field[p + 1..]),
            None => (field.as_str(), ""),
        };
        let (name, conv) = match name_conv.find('!') {
            Some(p) => (&name_conv[..p], Some(&name_conv[p + 1..])),
            None => (name_conv, None),
        };
        let value = field_value(name, args, kwargs, &mut auto)?;
        let value = match conv {
            None => value,
            Some("s") => Value::from(py_str(&value)?),
            Some("r" | "a") => Value::from(py_repr(&value)?),
            Some(other) => return Err(type_error(format!("Unknown conversion specifier {other}"))),
        };
        let spec = if spec.contains('{') {
            str_format(spec, args, kwargs)?
        } else {
            spec.to_string()
        };
        out.push_str(&format_value(&value, &spec)?);
    }
    Ok(out)
}

/// The value a replacement field's name picks: an automatic or explicit
/// index into `args` or a keyword, then any `.attr` and `[key]` steps.
fn field_value(
    name: &str,
    args: &[Value],
    kwargs: Option<&Kwargs>,
    auto: &mut usize,
) -> Result<Value, Error> {
    let first_end = name.find(['.', '[']).unwrap_or(name.len());
    let (head, mut rest) = name.split_at(first_end);
    let mut value = if head.is_empty() {
        let v = args.get(*auto).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "IndexError: Replacement index {auto} out of range for positional args tuple"
                ),
            )
        })?;
        *auto += 1;
        v
    } else if let Ok(idx) = head.parse::<usize>() {
        args.get(idx).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "IndexError: Replacement index {idx} out of range for positional args tuple"
                ),
            )
        })?
    } else {
        kwargs
            .and_then(|k| k.peek::<Value>(head).ok())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("KeyError: {}", str_repr(head)),
                )
            })?
    };
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            value = value.get_attr(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| type_error("Missing ']' in format string"))?;
            let key = &r[..end];
            let key_v = key
                .parse::<i64>()
                .map_or_else(|_| Value::from(key), Value::from);
            value = value.get_item(&key_v)?;
            rest = &r[end + 1..];
        } else {
            return Err(type_error(
                "Only '.' or '[' may follow ']' in format field specifier",
            ));
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_method() {
        let f = |fmt: &str, args: Vec<Value>| str_format(fmt, &args, None).unwrap();
        assert_eq!(f("axes_{}", vec![Value::from("c1")]), "axes_c1");
        assert_eq!(f("{0}-{0}", vec![Value::from(1)]), "1-1");
        assert_eq!(f("{:03d}", vec![Value::from(7)]), "007");
        assert_eq!(f("{:.2f}", vec![Value::from(1.0 / 3.0)]), "0.33");
        assert_eq!(f("{:>5}", vec![Value::from("ab")]), "   ab");
        assert_eq!(f("{:x}", vec![Value::from(255)]), "ff");
        assert_eq!(f("{}", vec![Value::from(2.0)]), "2.0");
        assert_eq!(f("{!r}", vec![Value::from("a")]), "'a'");
        assert_eq!(f("{:,}", vec![Value::from(1_234_567)]), "1,234,567");
        assert_eq!(f("{{}}", vec![]), "{}");
        assert_eq!(f("{:.3}", vec![Value::from(1.23456)]), "1.23");
    }
}
