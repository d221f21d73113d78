//! Numbers, in one grammar: JSON's, with the non-finite tokens Python's
//! `json.dumps` writes (`NaN`, `Infinity`, `-Infinity`); and the numeric
//! strings a worker might send, read as Python's `float()` reads them.

/// The number at the start of `s`: its length in bytes and its value; or
/// where it stops being one, and what the reader says then (`invalid
/// number`, or `invalid literal` for a misspelt `NaN` or `Infinity`).
///
/// A plain decimal of at most 15 digits is computed directly, as an exact
/// integer divided by an exact power of ten: one correctly rounded
/// operation, so the same bits as `str::parse` at a third of its cost (a
/// test holds the two equal). Anything longer, or with an exponent, goes to
/// `str::parse`. An integer is an integer to Python, so `-0` is 0.
#[inline(always)]
pub fn scan(b: &[u8]) -> Result<(usize, f64), (usize, &'static str)> {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let word = |at: usize, w: &str, v: f64| if b[at..].starts_with(w.as_bytes()) { Ok((at + w.len(), v)) } else { Err((at, "invalid literal")) };
    match b.get(i) {
        Some(b'I') => return word(i, "Infinity", if neg { f64::NEG_INFINITY } else { f64::INFINITY }),
        Some(b'N') if !neg => return word(0, "NaN", f64::NAN),
        Some(b'0'..=b'9') => {}
        _ => return Err((i, "invalid number")),
    }
    // The digits' value (all of them, the point aside), their count, and
    // how many come after the point. At least one integer digit, and no
    // other after a leading zero.
    let (mut m, mut count, mut frac) = (0u64, 0usize, 0usize);
    let zero = b[i] == b'0';
    while let Some(&c @ b'0'..=b'9') = b.get(i) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        count += 1;
        i += 1;
        if zero {
            break;
        }
    }
    let dot = b.get(i) == Some(&b'.');
    if dot {
        i += 1;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            count += 1;
            frac += 1;
            i += 1;
        }
        if frac == 0 {
            return Err((i, "invalid number"));
        }
    }
    let exponent = matches!(b.get(i), Some(b'e' | b'E'));
    if exponent {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let at = i;
        while let Some(b'0'..=b'9') = b.get(i) {
            i += 1;
        }
        if i == at {
            return Err((i, "invalid number"));
        }
    }
    let v = if !exponent && count <= 15 {
        // m < 10^15 < 2^53 and 10^frac are exact doubles.
        let v = m as f64 / POW10[frac];
        if neg { -v } else { v }
    } else {
        // A number by the grammar (ASCII) always parses (too large is
        // infinite).
        std::str::from_utf8(&b[..i]).ok().and_then(|t| t.parse::<f64>().ok()).unwrap_or(f64::NAN)
    };
    Ok((i, if !dot && !exponent { v + 0.0 } else { v }))
}

/// Python's `float(str)` for the forms a worker could plausibly send.
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ if t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) => t.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON's number grammar, written from RFC 8259's rules as a
    /// reference (not as `scan` reads it): does all of `t` form a number?
    fn is_json_number(t: &str) -> bool {
        if ["NaN", "Infinity", "-Infinity"].contains(&t) {
            return true;
        }
        let t = t.strip_prefix('-').unwrap_or(t);
        let (int, rest) = t.split_at(t.find(['.', 'e', 'E']).unwrap_or(t.len()));
        let int_ok = int == "0" || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|c| c.is_ascii_digit()));
        let (frac, exp) = match rest.strip_prefix('.') {
            Some(r) => r.split_at(r.find(['e', 'E']).unwrap_or(r.len())),
            None => ("", rest),
        };
        let frac_ok = !rest.starts_with('.') || (!frac.is_empty() && frac.bytes().all(|c| c.is_ascii_digit()));
        let exp_ok = exp.is_empty() || {
            let e = exp[1..].strip_prefix(['+', '-']).unwrap_or(&exp[1..]);
            !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
        };
        int_ok && frac_ok && exp_ok
    }

    /// Every short string of number characters: `scan` reads all of it as
    /// a number exactly when the grammar says it is one.
    #[test]
    fn the_grammar_is_jsons_with_pythons_tokens() {
        const CHARS: &[u8] = b"0123456789-+.eEx";
        let mut n = 0u64;
        for len in 1..=5u32 {
            for mut k in 0..(CHARS.len() as u64).pow(len) {
                let mut c = String::new();
                for _ in 0..len {
                    c.push(CHARS[(k % CHARS.len() as u64) as usize] as char);
                    k /= CHARS.len() as u64;
                }
                for t in [c.clone(), format!("-{c}"), "NaN".into(), "Infinity".into(), "-Infinity".into(), "-NaN".into(), "Nan".into()] {
                    let whole = scan(format!("{t}]").as_bytes()).is_ok_and(|(len, _)| len == t.len());
                    assert_eq!(whole, is_json_number(&t), "{t}");
                    n += 1;
                }
            }
        }
        assert!(n > 1_000_000);
        assert_eq!(scan(b"01"), Ok((1, 0.0)), "a leading zero ends the number");
        assert_eq!(scan(b"-x"), Err((1, "invalid number")));
        assert_eq!(scan(b"-Infinit"), Err((1, "invalid literal")));
        assert_eq!(scan(b"1.e5"), Err((2, "invalid number")));
    }

    /// The direct path for plain decimals gives the same bits as `str::parse`.
    #[test]
    fn numbers_read_exactly() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases: Vec<String> = ["0", "-0", "0.0", "-0.0", "7", "-12", "0.1", "0.3", "2.675", "1e5", "1E-3", "-2.5e+3",
            "123456789012345", "1234567890123456", "99999999999999.9", "0.000000000000001", "0.1234567890123456789",
            "12345678901234567890", "18446744073709551616", "4.027744909000035", "1.7976931348623157e308", "5e-324"]
            .iter().map(|s| s.to_string()).collect();
        for _ in 0..200_000 {
            let r = next();
            let int = r % 10u64.pow((r >> 60) as u32 % 16);
            let frac_digits = (r >> 56) as usize % 8;
            let frac = format!("{:0w$}", (r >> 20) % 10u64.pow(frac_digits as u32), w = frac_digits);
            let sign = if r & 1 == 1 { "-" } else { "" };
            cases.push(if frac_digits == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") });
        }
        for c in &cases {
            let integral = !c.contains(['.', 'e', 'E']);
            let want = c.parse::<f64>().map(|v| if integral { v + 0.0 } else { v }).unwrap();
            let (len, got) = scan(format!("{c}, ").as_bytes()).unwrap();
            assert_eq!(len, c.len(), "{c}");
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
    }
}
