//! A strict pre-pass in front of nanoserde's JSON tokenizer.
//!
//! nanoserde 0.2 is fast but trusts its input: an unknown field holding an
//! unterminated array makes its skipper loop forever at end of input, a stray
//! `,` in value position hits an `unimplemented!`, and a raw NUL reads as end of
//! input. Python's `json.dumps` also writes things nanoserde cannot read:
//! `NaN`/`Infinity`, exponents with `+`, integers wider than 64 bits and lone
//! surrogate escapes. This pass validates the whole document (iteratively, with
//! a depth cap), accepting those; the lexer reads the numbers among them
//! itself, and only lone surrogates, which sit inside strings nanoserde
//! decodes, are rewritten (to U+FFFD, as the same six bytes `\ufffd`, in a
//! copy made only when there is one). So nanoserde only ever sees
//! well-formed JSON it can read, and memory is at most the payload twice.

use std::borrow::Cow;
use std::fmt;

/// Deeper nesting than this is refused: the snapshot itself is four levels deep.
pub const MAX_DEPTH: usize = 128;

/// Why a payload is not acceptable JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardError {
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

/// Validate `input`; return it unchanged, or a copy with each lone
/// surrogate escape replaced by `\ufffd` when it has any.
pub fn check(input: &str) -> Result<Cow<'_, str>, GuardError> {
    let mut g = Guard { b: input.as_bytes(), i: 0, lone_surrogate: false };
    g.document(true, MAX_DEPTH)?;
    if !g.lone_surrogate {
        return Ok(Cow::Borrowed(input));
    }
    Ok(Cow::Owned(replace_lone_surrogates(input)))
}

/// Where the one value at `at` ends, by the rules `check` applies, when
/// it needs no rewriting; nested at most `depth` deep. For the decoder's
/// strict pass (see `decode`), which checks each token it reads itself and
/// hands the rest here.
pub fn value_end(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    let mut g = Guard { b, i: at, lone_surrogate: false };
    g.document(false, depth).ok()?;
    (!g.lone_surrogate).then_some(g.i)
}

/// `input` (valid JSON, so every backslash is an escape inside a string)
/// with each `\uD800`-`\uDFFF` escape that is not half of a pair replaced
/// by `\ufffd`: the same length, the rest unchanged.
fn replace_lone_surrogates(input: &str) -> String {
    let b = input.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex4 = |at: usize| b.get(at..at + 4).and_then(|h| u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            out.extend_from_slice(&b[i..(i + 2).min(b.len())]);
            i += 2;
            continue;
        }
        match hex4(i + 2) {
            Some(0xD800..=0xDBFF) if b.get(i + 6..i + 8) == Some(b"\\u") && matches!(hex4(i + 8), Some(0xDC00..=0xDFFF)) => {
                out.extend_from_slice(&b[i..i + 12]);
                i += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                i += 6;
            }
            _ => {
                out.extend_from_slice(&b[i..(i + 6).min(b.len())]);
                i += 6;
            }
        }
    }
    // Only ASCII escapes were replaced by ASCII of the same length.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

struct Guard<'a> {
    b: &'a [u8],
    i: usize,
    /// A lone surrogate escape was seen (nanoserde refuses those).
    lone_surrogate: bool,
}

impl Guard<'_> {
    fn err<T>(&self, what: &'static str) -> Result<T, GuardError> {
        Err(GuardError { offset: self.i, what })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// A whole document (`whole`: nothing but whitespace may follow), or
    /// one value, ending at `i`.
    fn document(&mut self, whole: bool, depth: usize) -> Result<(), GuardError> {
        // The stack holds the open containers; iteration instead of recursion
        // keeps a hostile nesting depth from reaching the call stack.
        let mut stack: Vec<u8> = Vec::new();
        'value: loop {
            self.ws();
            match self.peek() {
                Some(b'{') => {
                    self.open(&mut stack, b'{', depth)?;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        stack.pop();
                    } else {
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.open(&mut stack, b'[', depth)?;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        stack.pop();
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => self.string()?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal("true")?,
                Some(b'f') => self.literal("false")?,
                Some(b'n') => self.literal("null")?,
                Some(b'N') => self.literal("NaN")?,
                Some(b'I') => self.literal("Infinity")?,
                Some(_) => return self.err("unexpected character"),
                None => return self.err("unexpected end of input"),
            }
            // After a complete value: close containers or move to the next item.
            loop {
                self.ws();
                match (stack.last(), self.peek()) {
                    (None, _) if !whole => return Ok(()),
                    (None, None) => return Ok(()),
                    (None, Some(_)) => return self.err("trailing data after the document"),
                    (Some(b'{'), Some(b',')) => {
                        self.i += 1;
                        self.key()?;
                        continue 'value;
                    }
                    (Some(b'['), Some(b',')) => {
                        self.i += 1;
                        continue 'value;
                    }
                    (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']')) => {
                        self.i += 1;
                        stack.pop();
                    }
                    (Some(_), None) => return self.err("unexpected end of input"),
                    (Some(b'{'), Some(_)) => return self.err("expected ',' or '}'"),
                    (Some(_), Some(_)) => return self.err("expected ',' or ']'"),
                }
            }
        }
    }

    fn open(&mut self, stack: &mut Vec<u8>, c: u8, depth: usize) -> Result<(), GuardError> {
        if stack.len() >= depth {
            return self.err("nested too deeply");
        }
        stack.push(c);
        self.i += 1;
        Ok(())
    }

    /// An object key and its colon.
    #[inline(always)]
    fn key(&mut self) -> Result<(), GuardError> {
        self.ws();
        if self.peek() != Some(b'"') {
            return self.err("expected a string key");
        }
        self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return self.err("expected ':'");
        }
        self.i += 1;
        Ok(())
    }

    fn literal(&mut self, word: &'static str) -> Result<(), GuardError> {
        if !self.b[self.i..].starts_with(word.as_bytes()) {
            return self.err("invalid literal");
        }
        self.i += word.len();
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), GuardError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            if self.peek() == Some(b'I') {
                return self.literal("Infinity");
            }
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        Ok(())
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let s = self.b.get(at..at + 4)?;
        let mut v = 0u32;
        for &c in s {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        Some(v)
    }

    #[inline(always)]
    fn string(&mut self) -> Result<(), GuardError> {
        self.i += 1; // opening quote
        loop {
            self.i += ordinary_run(&self.b[self.i..]);
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => self.escape()?,
                Some(_) => return self.err("raw control character in string"),
            }
        }
    }

    fn escape(&mut self) -> Result<(), GuardError> {
        match self.b.get(self.i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.i += 2;
                Ok(())
            }
            Some(b'u') => {
                let Some(unit) = self.hex4(self.i + 2) else {
                    return self.err("invalid \\u escape");
                };
                self.i += 6;
                let lone = match unit {
                    0xD800..=0xDBFF => {
                        let paired = self.b.get(self.i..self.i + 2) == Some(b"\\u")
                            && matches!(self.hex4(self.i + 2), Some(0xDC00..=0xDFFF));
                        if paired {
                            self.i += 6;
                        }
                        !paired
                    }
                    0xDC00..=0xDFFF => true,
                    _ => false,
                };
                // Python writes lone surrogates it cannot encode; nanoserde
                // rejects the whole document for one, so it becomes U+FFFD.
                self.lone_surrogate |= lone;
                Ok(())
            }
            _ => self.err("invalid escape in string"),
        }
    }
}

/// How many bytes at the start of `b` need no attention inside a string: up
/// to the first quote, backslash or control byte (or all of `b`). Scans a
/// block at a time; the input is UTF-8, so multi-byte characters pass.
#[inline]
fn ordinary_run(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(block) = b.get(i..i + 16) {
        match first_special(block.try_into().unwrap_or([b'"'; 16])) {
            Some(at) => return i + at,
            None => i += 16,
        }
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// The text of a string whose opening quote has been read, when it has no
/// escapes: `s` is what follows the quote, the result ends before the
/// closing quote. `None` when an escape (or anything odd) comes first.
#[inline]
pub fn plain_string(s: &str) -> Option<&str> {
    let n = ordinary_run(s.as_bytes());
    // A quote is ASCII, so `n` is a character boundary.
    (s.as_bytes().get(n) == Some(&b'"')).then(|| s.get(..n)).flatten()
}

/// Where the string whose opening quote is at `at` ends (just past its
/// closing quote), by the rules `check` applies, when it needs no
/// rewriting (no lone surrogate). For the lexer's strings with escapes, in
/// either pass.
pub fn string_end(b: &[u8], at: usize) -> Option<usize> {
    let mut g = Guard { b, i: at, lone_surrogate: false };
    g.string().ok()?;
    (!g.lone_surrogate).then_some(g.i)
}

/// Where the first `"`, `\\` or byte below 0x20 of `block` is, if any.
#[cfg(target_arch = "x86_64")]
fn first_special(block: [u8; 16]) -> Option<usize> {
    use std::arch::x86_64::*;
    #[allow(unused_unsafe)]
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads 16 bytes
    // from a 16-byte array.
    let mask = unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned v < 0x20, as a signed compare after flipping the top bit.
        let control = _mm_cmplt_epi8(_mm_xor_si128(v, _mm_set1_epi8(i8::MIN)), _mm_set1_epi8((0x20 ^ 0x80) as u8 as i8));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    };
    (mask != 0).then(|| mask.trailing_zeros() as usize)
}

/// Portable version: eight bytes at a time, then byte by byte.
#[cfg(not(target_arch = "x86_64"))]
fn first_special(block: [u8; 16]) -> Option<usize> {
    for half in 0..2 {
        let w = u64::from_le_bytes(block[half * 8..half * 8 + 8].try_into().unwrap_or([0; 8]));
        if has_special(w) {
            return block[half * 8..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|p| p + half * 8);
        }
    }
    None
}

/// Might a byte of `w` be `"`, `\\` or below 0x20? (No false negatives; a
/// borrow can flag a neighbour, which the byte loop then sorts out.)
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn has_special(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    (zero(w ^ (LO * b'"' as u64)) | zero(w ^ (LO * b'\\' as u64)) | below_space) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        check(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).into_owned()
    }

    fn bad(s: &str) -> GuardError {
        check(s).expect_err(s)
    }

    #[test]
    fn accepts_plain_json_without_copying() {
        let s = r#"{"a": [1, -2.5e-3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"], "b": {}}"#;
        assert!(matches!(check(s), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn accepts_python_isms_and_rewrites_only_lone_surrogates() {
        for s in ["[NaN, Infinity, -Infinity]", "[1e+16, 2E+3]", "[12345678901234567890]", r#"["\ud83d\ude00"]"#] {
            assert!(matches!(check(s), Ok(Cow::Borrowed(_))), "{s}");
        }
        assert_eq!(ok(r#"["a\ud83db", "\ude00", "\\ud800", "\ud83d\ude00\ud800"]"#), r#"["a\ufffdb", "\ufffd", "\\ud800", "\ud83d\ude00\ufffd"]"#);
    }

    #[test]
    fn refuses_what_would_hang_or_panic_nanoserde() {
        // Unterminated containers: nanoserde's whole_field() loops forever at EOF.
        assert_eq!(bad(r#"{"zz": [1, 2"#).what, "unexpected end of input");
        assert_eq!(bad(r#"{"sessions": [{"x": {"#).what, "expected a string key");
        // A comma in value position: nanoserde's whole_field() hits unimplemented!().
        assert_eq!(bad(r#"{"zz": , "sessions": []}"#).what, "unexpected character");
        // A raw NUL reads as end of input to nanoserde.
        assert_eq!(bad("[1,\0 2]").what, "unexpected character");
        assert_eq!(bad("[\"a\0b\"]").what, "raw control character in string");
    }

    #[test]
    fn refuses_malformed_documents() {
        for s in [
            "", " ", "{", "[", "}", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\" 1}",
            "{1: 2}", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]", "[tru]", "[nan]",
            "[\"\\x\"]", "[\"\\u12\"]", "\"abc", "[1] [2]", "// c\n[]", "[Infinit]",
        ] {
            bad(s);
        }
    }

    #[test]
    fn caps_depth() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(bad(&deep).what, "nested too deeply");
        let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        ok(&fine);
    }

    #[test]
    fn word_scan_never_misses_a_special_byte() {
        for special in [b'"', b'\\', 0u8, 0x1f, b'\n'] {
            for at in 0..8 {
                let mut w = *b"abcdefgh";
                w[at] = special;
                assert!(has_special(u64::from_le_bytes(w)), "{special:#x} at {at}");
            }
        }
        assert!(!has_special(u64::from_le_bytes(*b"ordinary")));
        assert!(!has_special(u64::from_le_bytes("caf\u{e9}\u{4e2d}".as_bytes().try_into().unwrap())));
        for special in [b'"', b'\\', 0u8, 0x1f] {
            for at in 0..16 {
                let mut b = *b"abcdefghijklmnop";
                b[at] = special;
                assert_eq!(first_special(b), Some(at), "{special:#x} at {at}");
                b[15] = b'"';
                assert_eq!(first_special(b), Some(at));
            }
        }
        assert_eq!(first_special(*b"abcdefghij\xc3\xa9\xe4\xb8\xadz"), None);
        // Strings with specials at every offset still validate exactly.
        for at in 0..20 {
            let mut s = "x".repeat(20);
            s.insert_str(at, "\\n");
            assert!(check(&format!("[\"{s}\"]")).is_ok());
            let mut bad = "x".repeat(20);
            bad.insert(at, '\u{1}');
            assert!(check(&format!("[\"{bad}\"]")).is_err());
        }
    }

    #[test]
    fn reports_offsets() {
        assert_eq!(bad("[1, x]").offset, 4);
    }
}
