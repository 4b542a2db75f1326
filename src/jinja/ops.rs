//! Python's arithmetic operators, called by rewritten templates.
//!
//! The rewrite turns `a % b` into `__ifg_mod(a, b)` and likewise for the
//! other operators (see `rewrite.rs`), so that `'%03d' % n` formats, `~`
//! prints floats as Python does, lists concatenate into new mutable lists,
//! and modulo and floor division round towards negative infinity.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::bounds::{check_items, check_len};
use super::objects::PyList;
use super::pyfmt::{as_num, percent_format, py_str, type_name, Num};

fn unsupported(op: &str, a: &Value, b: &Value) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "unsupported operand type(s) for {op}: '{}' and '{}'",
            type_name(a),
            type_name(b)
        ),
    )
}

fn overflow(op: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("OverflowError: the result of `{op}` does not fit iocforge's 128-bit integers"),
    )
}

fn zero_division(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("ZeroDivisionError: {what}"),
    )
}

fn from_i128(i: i128) -> Value {
    match i64::try_from(i) {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(i),
    }
}

fn items_of(v: &Value) -> Option<Vec<Value>> {
    if let Some(l) = v.downcast_object_ref::<PyList>() {
        return Some(l.snapshot());
    }
    // slices and filter results are plain sequences or iterables; Python has lists there
    if matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable)
        && !v.is_tuple()
        && v.downcast_object_ref::<super::objects::PyRange>().is_none()
    {
        return v.try_iter().ok().map(Iterator::collect);
    }
    None
}

/// CPython's `float_divmod`: `(floor quotient, remainder)` with the
/// remainder taking the divisor's sign, computed from `fmod` as Python does
/// (so `1 // 0.1` is `9.0`, not `10.0`).
fn float_divmod(vx: f64, wx: f64) -> (f64, f64) {
    let mut m = vx % wx;
    let mut div = (vx - m) / wx;
    if m == 0.0 {
        m = 0.0f64.copysign(wx);
    } else if (wx < 0.0) != (m < 0.0) {
        m += wx;
        div -= 1.0;
    }
    let floordiv = if div == 0.0 {
        0.0f64.copysign(vx / wx)
    } else {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    };
    (floordiv, m)
}

fn int_pair(a: &Value, b: &Value) -> Option<(i128, i128)> {
    match (as_num(a)?, as_num(b)?) {
        (Num::Int(x), Num::Int(y)) => Some((x, y)),
        _ => None,
    }
}

fn float_pair(a: &Value, b: &Value) -> Option<(f64, f64)> {
    let f = |n: Num| match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    };
    Some((f(as_num(a)?), f(as_num(b)?)))
}

fn check_undefined(a: &Value, b: &Value) -> Result<(), Error> {
    if a.is_undefined() || b.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "undefined value in an expression",
        ));
    }
    Ok(())
}

/// `a + b`.
pub fn add(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        check_len("the sum of two strings", x.len() as u128 + y.len() as u128)?;
        return Ok(Value::from(format!("{x}{y}")));
    }
    if let (Some(mut x), Some(y)) = (items_of(a), items_of(b)) {
        check_items("the sum of two lists", x.len() as u128 + y.len() as u128)?;
        x.extend(y);
        return Ok(PyList::new_value(x));
    }
    if a.is_tuple() && b.is_tuple() {
        let mut x: Vec<Value> = a.try_iter()?.collect();
        x.extend(b.try_iter()?);
        return Ok(Value::from(minijinja::value::Tuple::from(x)));
    }
    if let Some((x, y)) = int_pair(a, b) {
        return x
            .checked_add(y)
            .map(from_i128)
            .ok_or_else(|| unsupported("+", a, b));
    }
    float_pair(a, b)
        .map(|(x, y)| Value::from(x + y))
        .ok_or_else(|| unsupported("+", a, b))
}

/// `a - b`.
pub fn sub(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    if let Some((x, y)) = int_pair(a, b) {
        return x
            .checked_sub(y)
            .map(from_i128)
            .ok_or_else(|| unsupported("-", a, b));
    }
    float_pair(a, b)
        .map(|(x, y)| Value::from(x - y))
        .ok_or_else(|| unsupported("-", a, b))
}

/// `a * b`, including sequence repetition.
pub fn mul(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    let repeat = |seq: &Value, n: &Value| -> Option<Result<Value, Error>> {
        if seq.as_str().is_none() && items_of(seq).is_none() {
            return None;
        }
        let count = match as_num(n)? {
            Num::Int(i) => i.max(0).unsigned_abs(),
            Num::Float(_) => return Some(Err(unsupported("*", seq, n))),
        };
        if let Some(s) = seq.as_str() {
            let total = (s.len() as u128).saturating_mul(count);
            return Some(
                check_len("the repeated string", total)
                    .map(|_| Value::from(s.repeat(count as usize))),
            );
        }
        let items = items_of(seq)?;
        let total = (items.len() as u128).saturating_mul(count);
        if let Err(e) = check_items("the repeated list", total) {
            return Some(Err(e));
        }
        let mut out = Vec::with_capacity(total as usize);
        for _ in 0..count {
            out.extend(items.iter().cloned());
        }
        Some(Ok(PyList::new_value(out)))
    };
    if let Some(r) = repeat(a, b).or_else(|| repeat(b, a)) {
        return r;
    }
    if let Some((x, y)) = int_pair(a, b) {
        return x
            .checked_mul(y)
            .map(from_i128)
            .ok_or_else(|| unsupported("*", a, b));
    }
    float_pair(a, b)
        .map(|(x, y)| Value::from(x * y))
        .ok_or_else(|| unsupported("*", a, b))
}

/// `a / b`: always a float, as in Python 3.
pub fn truediv(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    let (x, y) = float_pair(a, b).ok_or_else(|| unsupported("/", a, b))?;
    if y == 0.0 {
        return Err(zero_division("division by zero"));
    }
    Ok(Value::from(x / y))
}

/// `a // b`: floor division.
pub fn floordiv(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    if let Some((x, y)) = int_pair(a, b) {
        if y == 0 {
            return Err(zero_division("integer division or modulo by zero"));
        }
        // i128::MIN // -1 is the one quotient that does not fit
        let q = x.checked_div_euclid(y).ok_or_else(|| overflow("//"))?;
        let r = x.checked_rem_euclid(y).ok_or_else(|| overflow("//"))?;
        return Ok(from_i128(q - i128::from(y < 0 && r != 0)));
    }
    let (x, y) = float_pair(a, b).ok_or_else(|| unsupported("//", a, b))?;
    if y == 0.0 {
        return Err(zero_division("float floor division by zero"));
    }
    Ok(Value::from(float_divmod(x, y).0))
}

/// `a % b`: string formatting for a string, floored modulo for numbers.
pub fn modulo(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    if let Some(fmt) = a.as_str() {
        return percent_format(fmt, b).map(Value::from);
    }
    if let Some((x, y)) = int_pair(a, b) {
        if y == 0 {
            return Err(zero_division("integer modulo by zero"));
        }
        // i128::MIN % -1 overflows in Rust although the remainder is 0
        let r = x.checked_rem(y).unwrap_or(0);
        return Ok(from_i128(if r != 0 && ((r < 0) != (y < 0)) {
            r + y
        } else {
            r
        }));
    }
    let (x, y) = float_pair(a, b).ok_or_else(|| unsupported("%", a, b))?;
    if y == 0.0 {
        return Err(zero_division("float modulo"));
    }
    Ok(Value::from(float_divmod(x, y).1))
}

/// `a ** b`.
pub fn pow(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    if let Some((x, y)) = int_pair(a, b) {
        if y >= 0 {
            if let Ok(e) = u32::try_from(y) {
                if let Some(r) = x.checked_pow(e) {
                    return Ok(from_i128(r));
                }
            }
            return Ok(Value::from((x as f64).powf(y as f64)));
        }
        if x == 0 {
            return Err(zero_division("0.0 cannot be raised to a negative power"));
        }
        return Ok(Value::from((x as f64).powf(y as f64)));
    }
    let (x, y) = float_pair(a, b).ok_or_else(|| unsupported("** or pow()", a, b))?;
    if x == 0.0 && y < 0.0 {
        return Err(zero_division("0.0 cannot be raised to a negative power"));
    }
    Ok(Value::from(x.powf(y)))
}

/// `a ~ b`: Jinja2 joins the Python `str()` of both sides.
pub fn concat(a: &Value, b: &Value) -> Result<Value, Error> {
    check_undefined(a, b)?;
    let mut s = py_str(a)?;
    let t = py_str(b)?;
    check_len("the joined string", s.len() as u128 + t.len() as u128)?;
    s.push_str(&t);
    Ok(Value::from(s))
}

/// `-a` on a bool makes an int in Python.
pub fn neg(a: &Value) -> Result<Value, Error> {
    match as_num(a) {
        Some(Num::Int(i)) => i.checked_neg().map(from_i128).ok_or_else(|| overflow("-")),
        Some(Num::Float(f)) => Ok(Value::from(-f)),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("bad operand type for unary -: '{}'", type_name(a)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::pyfmt::py_repr;

    fn r(v: Result<Value, Error>) -> String {
        py_repr(&v.unwrap()).unwrap()
    }

    #[test]
    fn modulo_and_floordiv_floor() {
        assert_eq!(r(modulo(&Value::from(-7), &Value::from(3))), "2");
        assert_eq!(r(modulo(&Value::from(7), &Value::from(-3))), "-2");
        assert_eq!(r(floordiv(&Value::from(7), &Value::from(-2))), "-4");
        assert_eq!(r(floordiv(&Value::from(-7), &Value::from(2))), "-4");
        assert_eq!(r(floordiv(&Value::from(7), &Value::from(2))), "3");
        assert_eq!(r(modulo(&Value::from(7.5), &Value::from(2))), "1.5");
    }

    #[test]
    fn mul_mixes_ints_and_floats() {
        assert_eq!(r(mul(&Value::from(1.5), &Value::from(2))), "3.0");
        assert_eq!(r(mul(&Value::from(2), &Value::from(1.5))), "3.0");
        assert_eq!(r(mul(&Value::from(2), &Value::from("ab"))), "'abab'");
    }

    #[test]
    fn float_floor_division_follows_cpython() {
        assert_eq!(r(floordiv(&Value::from(1), &Value::from(0.1))), "9.0");
        assert_eq!(r(floordiv(&Value::from(100), &Value::from(0.01))), "9999.0");
        assert_eq!(r(modulo(&Value::from(-6.0), &Value::from(3))), "0.0");
        assert_eq!(r(modulo(&Value::from(6.0), &Value::from(-3))), "-0.0");
    }

    #[test]
    fn division_and_power() {
        assert_eq!(r(truediv(&Value::from(4), &Value::from(2))), "2.0");
        assert_eq!(r(pow(&Value::from(2), &Value::from(10))), "1024");
        assert_eq!(r(pow(&Value::from(2), &Value::from(-1))), "0.5");
        assert_eq!(r(add(&Value::from(true), &Value::from(1))), "2");
    }

    #[test]
    fn concat_uses_python_str() {
        assert_eq!(
            r(concat(&Value::from(1e-5), &Value::from(true))),
            "'1e-05True'"
        );
    }
}
