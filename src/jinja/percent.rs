//! Python's `%` formatting: `'%03d' % n`, `'%(name)s' % mapping`.
//!
//! Widths and precisions come from templates, so each is checked against
//! `max-len` before anything is padded (`bounds.rs`); precisions past a
//! double's exact expansion are padded with zeros (`pyfmt::fixed`).

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::pyfmt::{
    as_num, fixed, general, py_repr, py_str, sci, special_float, str_repr, type_error, type_name,
    Num,
};

// ---------------------------------------------------------------------------
// printf-style formatting: "%03d" % x

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(body: String, sign: &str, spec: &Spec, numeric: bool) -> String {
    let len = body.chars().count() + sign.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return format!("{sign}{body}");
    }
    let fill = width - len;
    if spec.minus {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    }
}

fn sign_of(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn int_for_percent(v: &Value, conv: char) -> Result<i128, Error> {
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i),
        Some(Num::Float(f)) if matches!(conv, 'd' | 'i' | 'u') => {
            if f.is_nan() {
                Err(type_error("cannot convert float NaN to integer"))
            } else if f.is_infinite() {
                Err(type_error("cannot convert float infinity to integer"))
            } else {
                Ok(f.trunc() as i128)
            }
        }
        Some(Num::Float(_)) => Err(type_error(format!(
            "%{conv} format: an integer is required, not float"
        ))),
        None => Err(type_error(format!(
            "%{conv} format: a real number is required, not {}",
            type_name(v)
        ))),
    }
}

fn float_for_percent(v: &Value, conv: char) -> Result<f64, Error> {
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i as f64),
        Some(Num::Float(f)) => Ok(f),
        None => Err(type_error(format!(
            "must be real number, not {} (in %{conv})",
            type_name(v)
        ))),
    }
}

fn format_one(v: &Value, conv: char, spec: &Spec) -> Result<String, Error> {
    Ok(match conv {
        's' | 'r' | 'a' => {
            let mut s = if conv == 's' { py_str(v)? } else { py_repr(v)? };
            if let Some(p) = spec.prec {
                s = s.chars().take(p).collect();
            }
            pad(s, "", spec, false)
        }
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
            let i = int_for_percent(v, conv)?;
            let mag = i.unsigned_abs();
            let mut digits = match conv {
                'x' => format!("{mag:x}"),
                'X' => format!("{mag:X}"),
                'o' => format!("{mag:o}"),
                _ => mag.to_string(),
            };
            if let Some(p) = spec.prec {
                if digits.len() < p {
                    digits = format!("{}{}", "0".repeat(p - digits.len()), digits);
                }
            }
            let prefix = match (spec.alt, conv) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, 'o') => "0o",
                _ => "",
            };
            let sign = format!("{}{prefix}", sign_of(i < 0, spec));
            pad(digits, &sign, spec, true)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let f = float_for_percent(v, conv)?;
            let upper = conv.is_ascii_uppercase();
            let prec = spec.prec.unwrap_or(6);
            let body = match special_float(f.abs(), upper) {
                Some(s) => s,
                None => match conv.to_ascii_lowercase() {
                    'e' => {
                        let s = sci(f.abs(), prec, upper);
                        if spec.alt && prec == 0 {
                            s.replacen(['e', 'E'], if upper { ".E" } else { ".e" }, 1)
                        } else {
                            s
                        }
                    }
                    'f' => {
                        let s = fixed(f.abs(), prec);
                        if spec.alt && prec == 0 {
                            format!("{s}.")
                        } else {
                            s
                        }
                    }
                    _ => general(f.abs(), prec, upper, spec.alt),
                },
            };
            let neg = f.is_sign_negative() && !f.is_nan();
            pad(body, sign_of(neg, spec), spec, f.is_finite())
        }
        'c' => {
            let s = match (v.as_str(), as_num(v)) {
                (Some(s), _) if s.chars().count() == 1 => s.to_string(),
                (_, Some(Num::Int(i))) => char::from_u32(i as u32)
                    .ok_or_else(|| type_error("%c arg not in range(0x110000)"))?
                    .to_string(),
                _ => return Err(type_error("%c requires int or char")),
            };
            pad(s, "", spec, false)
        }
        other => {
            return Err(type_error(format!(
                "unsupported format character '{other}' (0x{:x})",
                other as u32
            )))
        }
    })
}

/// Python's `fmt % args`. A tuple supplies positional arguments, a mapping
/// supplies `%(name)s` arguments, anything else is the single argument.
pub fn percent_format(fmt: &str, args: &Value) -> Result<String, Error> {
    let positional: Vec<Value> = if args.is_tuple() {
        args.try_iter()?.collect()
    } else {
        vec![args.clone()]
    };
    let is_mapping = args.kind() == ValueKind::Map && !args.is_tuple();
    let mut next = 0usize;
    let mut used_mapping = false;
    let mut out = String::with_capacity(fmt.len() + 8);
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let key = if chars.peek() == Some(&'(') {
            chars.next();
            Some(parse_key(&mut chars)?)
        } else {
            None
        };
        let spec = parse_spec(&mut chars, &positional, &mut next)?;
        let conv = chars
            .next()
            .ok_or_else(|| type_error("incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let value = match &key {
            Some(k) => {
                if !is_mapping {
                    return Err(type_error("format requires a mapping"));
                }
                used_mapping = true;
                let v = args.get_item(&Value::from(k.as_str()))?;
                if v.is_undefined() {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("KeyError: {}", str_repr(k)),
                    ));
                }
                v
            }
            None => take_arg(&positional, &mut next)?,
        };
        out.push_str(&format_one(&value, conv, &spec)?);
    }
    if next < positional.len() && !(is_mapping && (used_mapping || next == 0)) {
        return Err(type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

/// Reads a `%(name)` key after its `(`, up to the matching `)`.
fn parse_key(chars: &mut Chars) -> Result<String, Error> {
    let mut depth = 1;
    let mut name = String::new();
    for c in chars.by_ref() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        name.push(c);
    }
    if depth != 0 {
        return Err(type_error("incomplete format key"));
    }
    Ok(name)
}

/// Reads the flags, width, precision and length modifier of a `%` field,
/// taking `*` widths and precisions from the positional arguments.
fn parse_spec(chars: &mut Chars, positional: &[Value], next: &mut usize) -> Result<Spec, Error> {
    let mut spec = Spec::default();
    while let Some(&f) = chars.peek() {
        match f {
            '-' => spec.minus = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '0' => spec.zero = true,
            '#' => spec.alt = true,
            _ => break,
        }
        chars.next();
    }
    if chars.peek() == Some(&'*') {
        chars.next();
        let w = take_arg(positional, next)?;
        let w = w.as_i64().ok_or_else(|| type_error("* wants int"))?;
        if w < 0 {
            spec.minus = true;
        }
        spec.width = Some(w.unsigned_abs() as usize);
    } else {
        let mut w = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            w.push(d);
            chars.next();
        }
        if !w.is_empty() {
            spec.width = Some(w.parse().unwrap_or(usize::MAX));
        }
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        if chars.peek() == Some(&'*') {
            chars.next();
            let p = take_arg(positional, next)?;
            spec.prec = Some(p.as_i64().ok_or_else(|| type_error("* wants int"))?.max(0) as usize);
        } else {
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            spec.prec = Some(if p.is_empty() {
                0
            } else {
                p.parse().unwrap_or(usize::MAX)
            });
        }
    }
    if let Some(w) = spec.width {
        super::bounds::check_width("the width of a `%` field", w as u128)?;
    }
    if let Some(p) = spec.prec {
        super::bounds::check_width("the precision of a `%` field", p as u128)?;
    }
    while matches!(chars.peek(), Some('h' | 'l' | 'L')) {
        chars.next();
    }
    Ok(spec)
}

/// The next positional argument, counted by `next`.
fn take_arg(positional: &[Value], next: &mut usize) -> Result<Value, Error> {
    let v = positional
        .get(*next)
        .cloned()
        .ok_or_else(|| type_error("not enough arguments for format string"))?;
    *next += 1;
    Ok(v)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::value::Value;

    fn tuple(v: Vec<Value>) -> Value {
        Value::from(minijinja::value::Tuple::from(v))
    }

    #[test]
    fn percent_formatting() {
        let f = |fmt: &str, v: Value| percent_format(fmt, &v).unwrap();
        assert_eq!(f("%02d", Value::from(5)), "05");
        assert_eq!(f("%03d", Value::from(1.857)), "001");
        assert_eq!(
            f("ty_%02d_%d", tuple(vec![Value::from(3), Value::from(4)])),
            "ty_03_4"
        );
        assert_eq!(f("%x", Value::from(255)), "ff");
        assert_eq!(f("%#x", Value::from(255)), "0xff");
        assert_eq!(f("%5.2f", Value::from(1.23456)), " 1.23");
        assert_eq!(f("%-4s|", Value::from("a")), "a   |");
        assert_eq!(f("%e", Value::from(1.5)), "1.500000e+00");
        assert_eq!(f("%g", Value::from(0.0001)), "0.0001");
        assert_eq!(f("%g", Value::from(1e-5)), "1e-05");
        assert_eq!(f("%g", Value::from(123_456_789.0)), "1.23457e+08");
        assert_eq!(f("%s", Value::from(true)), "True");
        assert_eq!(f("100%%", tuple(vec![])), "100%");
        assert_eq!(f("%+d", Value::from(3)), "+3");
        assert!(percent_format("%d", &Value::from("x")).is_err());
        assert!(percent_format("%d", &tuple(vec![Value::from(1), Value::from(2)])).is_err());
    }
}
