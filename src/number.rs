//! Number text and order, in two kinds: rounded for people (the table and
//! the screen: whole seconds or one decimal) and exact for machines (TSV and
//! JSON: the shortest text that reads back as the same float).
//!
//! Rounded: `format!("{:.1}", v)` is correct but slow on many values (it
//! falls back to bignum arithmetic), and a table of 100,000 sessions prints
//! 400,000 of them. For the magnitudes a session has, the exact binary value
//! of `v` times 10^d fits in 64 bits, so it can be rounded half-to-even with
//! integer arithmetic: the same digits Rust and Python print.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// Python's spelling of non-finite floats, which the worker's users know.
pub fn nonfinite(v: f64) -> &'static str {
    if v.is_nan() {
        "nan"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// Total order on floats with NaN below every number (and -0 equal to 0).
pub fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// The exact value, as the shortest text that reads back as the same float;
/// non-finite values as Python spells them (`nan`, `inf`, `-inf`).
pub fn push_exact(out: &mut String, v: f64) {
    if v.is_finite() {
        push_exact_finite(out, v);
    } else {
        out.push_str(nonfinite(v));
    }
}

/// A finite float as the shortest text that reads back as the same value:
/// plain decimals in the everyday range, exponent notation outside it (as
/// Python's repr), so `1e300` never becomes 301 digits that a reader would
/// take for an exact integer.
pub fn push_exact_finite(out: &mut String, v: f64) {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let _ = write!(out, "{v:e}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Append `v` rounded to `decimals` (0 or 1) digits after the point, as
/// `format!("{v:.decimals$}")` would; non-finite values as Python spells them.
pub fn push_rounded(out: &mut String, v: f64, decimals: u32) {
    debug_assert!(decimals <= 1);
    if !v.is_finite() {
        out.push_str(nonfinite(v));
        return;
    }
    let a = v.abs();
    if a >= 1e15 {
        let _ = write!(out, "{v:.prec$}", prec = decimals as usize);
        return;
    }
    let bits = a.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | 1 << 52, exp - 1075) };
    let scale: u64 = if decimals == 1 { 10 } else { 1 };
    // m < 2^53, so m * 10 < 2^57: the exact product fits 64 bits.
    let mm = m * scale;
    // q = v * 10^d rounded half to even, computed exactly.
    let q: u64 = if e >= 0 {
        mm << e // a < 1e15 keeps this in range
    } else {
        let s = (-e) as u32;
        if s >= 64 {
            // mm < 2^57 <= 2^(s-1): below half, so it rounds to 0.
            0
        } else {
            let q = mm >> s;
            let r = mm - (q << s);
            let half = 1u64 << (s - 1);
            if r > half || (r == half && q & 1 == 1) { q + 1 } else { q }
        }
    };
    if v.is_sign_negative() {
        out.push('-');
    }
    let (int, fraction) = (q / scale, q % scale);
    push_digits(out, int);
    if decimals == 1 {
        out.push('.');
        out.push(char::from(b'0' + fraction as u8));
    }
}

/// Decimal digits of `n`, without the formatting machinery.
fn push_digits(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &buf[i..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: f64) {
        if !v.is_finite() {
            return; // spelled the Python way; see non_finite()
        }
        for d in [0u32, 1] {
            let mut ours = String::new();
            push_rounded(&mut ours, v, d);
            let std = format!("{v:.prec$}", prec = d as usize);
            assert_eq!(ours, std, "{v:e} with {d} decimals");
        }
    }

    #[test]
    fn ties_round_to_even_on_the_exact_binary_value() {
        for v in [0.25, 0.35, 0.05, 0.15, 2.5, 3.5, 0.5, 1.5, -0.5, -2.5, 182.55, 0.45, 1e-300, 5e-324, -0.0, 0.0, 999999999999999.9, 123456789.05] {
            check(v);
        }
    }

    #[test]
    fn matches_std_on_many_values() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Realistic magnitudes, and raw bit patterns across the range.
            let scaled = (x % 100_000_000) as f64 / [1.0, 10.0, 100.0, 1000.0][(x >> 60) as usize % 4];
            check(scaled);
            check(f64::from_bits(x >> 1));
            check(-(x as f64) / 1e6);
        }
    }

    #[test]
    fn non_finite() {
        let mut s = String::new();
        push_rounded(&mut s, f64::NAN, 1);
        push_rounded(&mut s, f64::NEG_INFINITY, 0);
        push_exact(&mut s, f64::INFINITY);
        assert_eq!(s, "nan-infinf");
    }

    #[test]
    fn exact_numbers_read_back_as_the_same_float() {
        for (v, s) in [(2.3, "2.3"), (40.0, "40"), (0.0, "0"), (-0.5, "-0.5"), (1e300, "1e300"), (1e16, "1e16"), (1.5e-7, "1.5e-7"), (25276059648.0, "25276059648"), (4.027744909000035, "4.027744909000035")] {
            let mut out = String::new();
            push_exact(&mut out, v);
            assert_eq!(out, s);
            assert_eq!(out.parse::<f64>().unwrap(), v);
        }
    }

    #[test]
    fn nan_sorts_below_numbers() {
        assert_eq!(cmp_f64(f64::NAN, f64::NEG_INFINITY), Ordering::Less);
        assert_eq!(cmp_f64(-0.0, 0.0), Ordering::Equal);
    }
}
