//! Fixed-point number text, fast and exactly rounded.
//!
//! `format!("{:.1}", v)` is correct but slow on many values (it falls back
//! to bignum arithmetic), and a table of 100,000 sessions prints 400,000 of
//! them. For the magnitudes a session has, the exact binary value of `v`
//! times 10^d fits in 128 bits, so it can be rounded half-to-even with
//! integer arithmetic: the same digits Rust and Python print.

use std::fmt::Write as _;

/// Append `v` with `decimals` (0 or 1) digits after the point, as
/// `format!("{v:.decimals$}")` would; non-finite values as Python spells them.
pub fn push(out: &mut String, v: f64, decimals: u32) {
    debug_assert!(decimals <= 1);
    if !v.is_finite() {
        out.push_str(crate::column::nonfinite(v));
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
            push(&mut ours, v, d);
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
        push(&mut s, f64::NAN, 1);
        push(&mut s, f64::NEG_INFINITY, 0);
        assert_eq!(s, "nan-inf");
    }
}
