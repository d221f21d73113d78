//! nanoserde's JSON tokenizer with a tolerant reader on top, and the fast
//! paths that read keys, plain strings and numbers in place (see `decode`).

use std::rc::Rc;
use std::str::Chars;

use nanoserde::{DeJsonState, DeJsonTok};

use super::fields::Field;
use super::guard;
use super::DecodeError;

/// nanoserde's tokenizer with a tolerant reader on top. The input has passed
/// `guard`, so every token sequence here is well-formed JSON.
///
/// Keys, strings without escapes and numbers are read in place (see `bump`
/// and `key`); nanoserde reads everything else. nanoserde keeps one
/// character of lookahead in `st.cur`, already taken from `it`.
pub struct Lexer<'a> {
    text: &'a str,
    /// Whether `bump` and `key` may read in place (always, outside tests).
    fast: bool,
    st: DeJsonState,
    it: Chars<'a>,
    /// Recently seen agents and tenants, to share rather than copy.
    recent: Recent,
    /// The current string token, when read in place (see `str`).
    plain: Option<&'a str>,
}

/// The last few distinct agent and tenant strings, replaced round-robin.
#[derive(Default)]
struct Recent {
    items: Vec<Rc<str>>,
    next: usize,
}

impl Recent {
    fn share(&mut self, text: &str) -> Rc<str> {
        if let Some(r) = self.items.iter().find(|r| ***r == *text) {
            return Rc::clone(r);
        }
        let r: Rc<str> = Rc::from(text);
        if self.items.len() < RECENT {
            self.items.push(Rc::clone(&r));
        } else {
            self.items[self.next] = Rc::clone(&r);
            self.next = (self.next + 1) % RECENT;
        }
        r
    }
}

/// How many distinct agents and tenants `Lexer::shared` remembers.
const RECENT: usize = 16;

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str, fast: bool) -> Result<Self, DecodeError> {
        let mut lx =
            Lexer { text, fast, st: DeJsonState::default(), it: text.chars(), recent: Recent::default(), plain: None };
        lx.st.next(&mut lx.it);
        lx.bump()?;
        Ok(lx)
    }

    pub(super) fn tok(&self) -> &DeJsonTok {
        &self.st.tok
    }

    /// nanoserde's `next` without its line and column bookkeeping (only its
    /// error messages use them, and the guard leaves it none to report).
    fn advance(&mut self) {
        self.st.cur = self.it.next().unwrap_or('\0');
    }

    fn skip_ws(&mut self) {
        while let ' ' | '\t' | '\n' | '\r' = self.st.cur {
            self.advance();
        }
    }

    /// The text from the lookahead character on; only called when that
    /// character is a real one (not nanoserde's end-of-input NUL).
    fn here(&self) -> &'a str {
        &self.text[self.text.len() - self.it.as_str().len() - self.st.cur.len_utf8()..]
    }

    /// Continue at `rest`, a suffix of the text.
    fn seek(&mut self, rest: &'a str) {
        self.it = rest.chars();
        self.advance();
    }

    /// Move to the next token.
    ///
    /// nanoserde decodes and appends strings and numbers to a buffer a
    /// character at a time (with line and column bookkeeping per
    /// character); at 100,000 sessions that was most of the decoding time.
    /// A string without escapes is therefore copied in one piece, and a
    /// number parsed straight from the text (every value is read as an f64
    /// anyway); escapes, literals and punctuation stay nanoserde's. Numbers
    /// nanoserde cannot read at all (Python's `NaN`, `Infinity`,
    /// `-Infinity`, `1e+16`, integers of 19 digits and more) are read here
    /// on the reference path too.
    pub(super) fn bump(&mut self) -> Result<(), DecodeError> {
        self.skip_ws();
        match self.st.cur {
            '-' | '0'..='9' | 'N' | 'I' if !self.fast => {
                let here = self.here();
                let (len, v) = number_at(here);
                if let Some(v) = v.filter(|_| !nanoserde_reads(&here[..len])) {
                    self.st.tok = DeJsonTok::F64(v);
                    self.seek(&here[len..]);
                    return Ok(());
                }
            }
            _ if !self.fast => {}
            '"' => {
                let rest = self.it.as_str();
                if let Some(text) = guard::plain_string(rest) {
                    self.plain = Some(text);
                    self.st.tok = DeJsonTok::Str;
                    self.seek(&rest[text.len() + 1..]);
                    return Ok(());
                }
            }
            '-' | '0'..='9' | 'N' | 'I' => {
                let here = self.here();
                let (len, v) = number_at(here);
                if let Some(v) = v {
                    self.st.tok = DeJsonTok::F64(v);
                    self.seek(&here[len..]);
                    return Ok(());
                }
            }
            _ => {}
        }
        self.plain = None;
        self.st
            .next_tok(&mut self.it)
            .map_err(|e| DecodeError(format!("not JSON: {e}")))
    }

    /// The current string token's text: borrowed from the payload when it
    /// had no escapes (no copy, however long), else nanoserde's decoding.
    fn str(&self) -> &str {
        self.plain.unwrap_or(&self.st.strbuf)
    }

    pub(super) fn expect(&mut self, tok: DeJsonTok, what: &str) -> Result<(), DecodeError> {
        if self.st.tok != tok {
            return Err(DecodeError(format!("not JSON: expected {what}")));
        }
        self.bump()
    }

    /// Skip one value of any shape. Iterative, and an end of input inside a
    /// container is an error rather than the endless loop nanoserde's own
    /// `whole_field` falls into.
    pub(super) fn skip(&mut self) -> Result<(), DecodeError> {
        let mut depth = 0usize;
        loop {
            match self.st.tok {
                DeJsonTok::CurlyOpen | DeJsonTok::BlockOpen => depth += 1,
                DeJsonTok::CurlyClose | DeJsonTok::BlockClose => {
                    depth = depth.checked_sub(1).ok_or_else(|| {
                        DecodeError("not JSON: unbalanced brackets".into())
                    })?
                }
                DeJsonTok::Eof => return Err(DecodeError("not JSON: unexpected end".into())),
                _ => {}
            }
            self.bump()?;
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// Walk an object, calling `field` with the lexer positioned on each value;
    /// `field` must consume exactly that value.
    pub(super) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, Field) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if self.st.tok != DeJsonTok::CurlyOpen {
            return Err(DecodeError("not JSON: expected '{'".into()));
        }
        // Positioned just after the `{` (and below, after each `,`).
        while let Some(key) = self.key()? {
            field(self, key)?;
            match self.st.tok {
                DeJsonTok::Comma => {}
                DeJsonTok::CurlyClose => break,
                _ => return Err(DecodeError("not JSON: expected ',' or '}'".into())),
            }
        }
        self.bump()
    }

    /// The next key of an object, read from just after its `{` or `,`, and
    /// the lexer moved onto the first token of the key's value; `None` at
    /// the closing `}` (left as the current token).
    ///
    /// A key is only ever compared with the names the decoder knows, so one
    /// without escapes (every key a worker writes) is matched in place:
    /// nanoserde would copy it into a buffer a character at a time, which
    /// was the largest single cost of decoding. Keys with escapes take
    /// nanoserde's path. The guard has checked the syntax either way.
    pub(super) fn key(&mut self) -> Result<Option<Field>, DecodeError> {
        self.skip_ws();
        if self.fast && self.st.cur == '"' {
            let rest = self.it.as_str();
            if let Some(name) = guard::plain_string(rest) {
                // (ASCII whitespace includes form feed, which JSON does not,
                // but the guard has refused any that stood here.)
                if let Some(value) = rest[name.len() + 1..].trim_ascii_start().strip_prefix(':') {
                    let key = Field::of(name);
                    self.seek(value);
                    self.bump()?;
                    return Ok(Some(key));
                }
            }
        }
        self.bump()?;
        match self.st.tok {
            DeJsonTok::CurlyClose => Ok(None),
            DeJsonTok::Str => {
                let key = Field::of(self.str());
                self.bump()?;
                self.expect(DeJsonTok::Colon, "':'")?;
                Ok(Some(key))
            }
            _ => Err(DecodeError("not JSON: expected a key".into())),
        }
    }

    /// An object decoded by `f`, or `None` (value skipped) for any other type.
    pub(super) fn maybe_object<T>(
        &mut self,
        f: fn(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.st.tok == DeJsonTok::CurlyOpen {
            f(self).map(Some)
        } else {
            self.skip().map(|()| None)
        }
    }

    /// Walk an array, calling `item` on each element; false when not an array.
    pub(super) fn array(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), DecodeError>,
    ) -> Result<bool, DecodeError> {
        if self.st.tok != DeJsonTok::BlockOpen {
            self.skip()?;
            return Ok(false);
        }
        self.bump()?;
        while self.st.tok != DeJsonTok::BlockClose {
            item(self)?;
            if self.st.tok == DeJsonTok::Comma {
                self.bump()?;
            }
        }
        self.bump()?;
        Ok(true)
    }

    /// Bytes of the whole text.
    pub(super) fn len(&self) -> usize {
        self.text.len()
    }

    /// Bytes of text not yet read (for sizing what is read next).
    pub(super) fn remaining(&self) -> usize {
        self.it.as_str().len()
    }

    /// The last `keep` numbers of an array (other elements are skipped):
    /// memory stays bounded by `keep`, not by the array.
    pub(super) fn numbers(&mut self, keep: usize) -> Result<Vec<f64>, DecodeError> {
        let mut out = Vec::new();
        self.array(|lx| {
            if let Some(v) = lx.number()? {
                if out.len() == 2 * keep {
                    out.drain(..keep);
                }
                out.push(v);
            }
            Ok(())
        })?;
        let extra = out.len().saturating_sub(keep);
        out.drain(..extra);
        Ok(out)
    }

    /// A string value, read by `read` while it is the current token; `None`
    /// (value skipped) for null or any other type.
    pub(super) fn text<T>(&mut self, read: impl FnOnce(&str) -> T) -> Result<Option<T>, DecodeError> {
        if self.st.tok != DeJsonTok::Str {
            return self.skip().map(|()| None);
        }
        let v = read(self.str());
        self.bump()?;
        Ok(Some(v))
    }

    /// `text`, shared with earlier rows holding the same text. (Spelled out:
    /// `text`'s closure cannot borrow `recent` beside `&mut self`.)
    pub(super) fn shared(&mut self) -> Result<Option<Rc<str>>, DecodeError> {
        if self.st.tok != DeJsonTok::Str {
            return self.skip().map(|()| None);
        }
        let text = self.plain.unwrap_or(&self.st.strbuf);
        let r = self.recent.share(text);
        self.bump()?;
        Ok(Some(r))
    }

    /// A number, or a numeric string as Python's `float()` reads it (the guard
    /// turns `NaN`/`Infinity` tokens into such strings); `None` otherwise.
    pub(super) fn number(&mut self) -> Result<Option<f64>, DecodeError> {
        let v = match self.st.tok {
            DeJsonTok::U64(v) => Some(v as f64),
            DeJsonTok::I64(v) => Some(v as f64),
            DeJsonTok::F64(v) => Some(v),
            DeJsonTok::Str => parse_float(self.str()),
            _ => return self.skip().map(|()| None),
        };
        self.bump()?;
        Ok(v)
    }

    /// A flag: `true` or `false`; `None` (value skipped) for anything else.
    pub(super) fn flag(&mut self) -> Result<Option<bool>, DecodeError> {
        let DeJsonTok::Bool(b) = self.st.tok else { return self.skip().map(|()| None) };
        self.bump()?;
        Ok(Some(b))
    }
}

/// Whether nanoserde's tokenizer reads the number `t` (the reference path
/// leaves it to nanoserde then): not Python's non-finite names, no `e+`,
/// and an integer of at most 18 digits (it parses integers as u64/i64).
fn nanoserde_reads(t: &str) -> bool {
    let integral = !t.contains(['.', 'e', 'E']);
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    !(t.contains(['N', 'I', '+']) || integral && digits >= 19)
}

/// The number at the start of `s` (the guard has checked its syntax) and
/// its length in bytes, Python's `NaN`, `Infinity` and `-Infinity`
/// included. A plain decimal of at most 15 digits is computed directly, as
/// an exact integer divided by an exact power of ten (one correctly rounded
/// operation, so the same bits as `str::parse`, a third of the cost);
/// anything else goes to `str::parse`. An integer is an integer to
/// nanoserde and Python, so `-0` is 0.
fn number_at(s: &str) -> (usize, Option<f64>) {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    for (name, v) in [("NaN", f64::NAN), ("Infinity", f64::INFINITY), ("-Infinity", f64::NEG_INFINITY)] {
        if s.starts_with(name) {
            return (name.len(), Some(v));
        }
    }
    let b = s.as_bytes();
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let (mut m, mut digits, mut frac) = (0u64, 0usize, 0usize);
    while let Some(&c @ b'0'..=b'9') = b.get(i) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        digits += 1;
        i += 1;
    }
    let dot = b.get(i) == Some(&b'.');
    if dot {
        i += 1;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            digits += 1;
            frac += 1;
            i += 1;
        }
    }
    let exponent = matches!(b.get(i), Some(b'e' | b'E'));
    if exponent {
        i += 1;
        while let Some(b'+' | b'-' | b'0'..=b'9') = b.get(i) {
            i += 1;
        }
    }
    let integral = !dot && !exponent;
    let v = if !exponent && digits <= 15 {
        // m < 10^15 < 2^53 and 10^frac are exact doubles.
        let v = m as f64 / POW10[frac];
        Some(if neg { -v } else { v })
    } else {
        s.get(..i).and_then(|t| t.parse::<f64>().ok())
    };
    (i, v.map(|v| if integral { v + 0.0 } else { v }))
}

/// Python's `float(str)` for the forms a worker could plausibly send.
fn parse_float(s: &str) -> Option<f64> {
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
            let (len, got) = number_at(&format!("{c}, "));
            assert_eq!(len, c.len(), "{c}");
            assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{c}");
        }
    }
}
