//! The one reader of payload bytes: a single pass over the text that
//! checks JSON's grammar as it reads (with what Python's `json.dumps`
//! writes besides: `NaN`, `Infinity`, `-Infinity`, long integers, lone
//! surrogate escapes), nesting capped at `MAX_DEPTH`, iteratively where a
//! value is passed over. What it reports is the first thing wrong, where
//! it is, in the grammar's words.
//!
//! The payload's two readers, each with its own domain:
//! - this reader: every byte of the payload, once. Punctuation, keys,
//!   numbers and strings without escapes are read in place (a string is
//!   borrowed, a key matched against the known fields without a copy);
//! - nanoserde's tokenizer: the contents of one string with escapes, which
//!   this reader has already checked, decoded only when the value is used
//!   (every non-ASCII name is such a string, as `json.dumps` escapes it). A
//!   lone surrogate, which nanoserde refuses, is first written as `\ufffd`
//!   in a copy of that one string.
//!
//! nanoserde never sees anything else: it loops forever on an unterminated
//! container, panics on a stray `,` and reads a raw NUL as the end, and
//! its `NaN` and wrong-type handling are not the reference client's.

use std::borrow::Cow;
use std::rc::Rc;

use nanoserde::DeJsonState;

use crate::model::fields::Field;
use super::number;

/// Deeper nesting than this is refused: the snapshot itself is four deep.
pub const MAX_DEPTH: usize = 128;

/// Reading stopped; the reader keeps why (`Reader::why`). A marker, so
/// that what every step returns stays a register's worth: the reasons in
/// the results themselves cost a sixth of decoding in copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Not JSON: what the grammar found, and at which byte.
    Syntax(usize, &'static str),
    /// Read as JSON so far, but not to be read on (more rows than the
    /// payload's size allows, say): said only if the rest is JSON too.
    Cannot(String),
}

pub type Read<T> = Result<T, Stop>;

/// What a value is, by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    Str,
    /// A number, or `NaN` / `Infinity` / `-Infinity`.
    Num,
    /// `true`, `false` or `null`.
    Lit,
}

/// A string as written, quotes and all.
#[derive(Debug, Clone, Copy)]
pub struct Str<'a> {
    quoted: &'a str,
    escaped: bool,
    /// It holds a lone surrogate escape.
    lone: bool,
}

impl<'a> Str<'a> {
    /// The text between the quotes, as written.
    fn raw(&self) -> &'a str {
        &self.quoted[1..self.quoted.len() - 1]
    }
}

pub struct Reader<'a> {
    pub text: &'a str,
    pub i: usize,
    /// Containers open around the position.
    depth: usize,
    /// nanoserde's tokenizer, for strings with escapes.
    st: DeJsonState,
    recent: Recent,
    why: Option<Why>,
    /// The keys last met at each member's place in an object (the text
    /// from the quote to the colon, and its field): rows repeat their keys
    /// in one order, so each key is first compared with the one the row
    /// before had there, which costs less than scanning and looking it up
    /// (a third of decoding a row). The text was checked when first met,
    /// and the same bytes are the same key.
    keys: Vec<(&'a str, Field)>,
}

/// The last few distinct agents and tenants, each under its text as
/// written (escapes and all), replaced round-robin: one seen before is
/// shared, not decoded and allocated again for every row.
#[derive(Default)]
struct Recent {
    items: Vec<(Rc<str>, Rc<str>)>,
    next: usize,
}

/// How many distinct agents and tenants `Recent` remembers.
const RECENT: usize = 16;

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { text, i: 0, depth: 0, st: DeJsonState::default(), recent: Recent::default(), why: None, keys: Vec::new() }
    }

    /// Why reading stopped (after a `Stop`).
    pub fn why(self) -> Why {
        self.why.unwrap_or(Why::Syntax(self.i, "stopped"))
    }

    /// Stop for what the text holds rather than how it is written.
    pub fn cannot(&mut self, why: String) -> Stop {
        self.why = Some(Why::Cannot(why));
        Stop
    }

    #[cold]
    #[inline(never)]
    fn fail<T>(&mut self, what: &'static str) -> Read<T> {
        self.why = Some(Why::Syntax(self.i, what));
        Err(Stop)
    }

    /// The next byte that is not whitespace (the position moved onto it).
    fn ws(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.i) {
            self.i += 1;
        }
        b.get(self.i).copied()
    }

    /// What the next value is; an error where there is none.
    #[inline(always)]
    pub fn kind(&mut self) -> Read<Kind> {
        match self.ws() {
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(b'"') => Ok(Kind::Str),
            Some(b'-' | b'0'..=b'9' | b'N' | b'I') => Ok(Kind::Num),
            Some(b't' | b'f' | b'n') => Ok(Kind::Lit),
            Some(_) => self.fail("unexpected character"),
            None => self.fail("unexpected end of input"),
        }
    }

    /// After the document: nothing but whitespace.
    pub fn finish(&mut self) -> Read<()> {
        match self.ws() {
            Some(_) => self.fail("trailing data after the document"),
            None => Ok(()),
        }
    }

    /// The container at the position (`{` or `[`), `each` called with the
    /// place of each member or element, which it must read whole.
    fn container(&mut self, object: bool, mut each: impl FnMut(&mut Self, usize) -> Read<()>) -> Read<()> {
        if self.depth >= MAX_DEPTH {
            return self.fail("nested too deeply");
        }
        let close = if object { b'}' } else { b']' };
        self.depth += 1;
        self.i += 1;
        let mut n = 0;
        if self.ws() != Some(close) {
            loop {
                each(self, n)?;
                n += 1;
                match self.ws() {
                    Some(b',') => self.i += 1,
                    Some(c) if c == close => break,
                    None => return self.fail("unexpected end of input"),
                    Some(_) if object => return self.fail("expected ',' or '}'"),
                    Some(_) => return self.fail("expected ',' or ']'"),
                }
            }
        }
        self.i += 1;
        self.depth -= 1;
        Ok(())
    }

    /// The object at the position, `member` called with each key's field
    /// and the position on its value, which it must read.
    pub fn object(&mut self, mut member: impl FnMut(&mut Self, Field) -> Read<()>) -> Read<()> {
        self.container(true, |rd, n| {
            let field = rd.field(n)?;
            member(rd, field)
        })
    }

    /// The array at the position, `item` called on each element, which it
    /// must read.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Read<()>) -> Read<()> {
        self.container(false, |rd, _| item(rd))
    }

    /// The key of an object's `n`th member and its colon, as a field.
    #[inline(always)]
    fn field(&mut self, n: usize) -> Read<Field> {
        self.ws();
        let at = self.i;
        if let Some(&(seen, field)) = self.keys.get(n) {
            if self.text.as_bytes().get(at..at + seen.len()) == Some(seen.as_bytes()) {
                self.i += seen.len();
                return Ok(field);
            }
        }
        let key = self.key()?;
        let field = if key.escaped { Field::of(&self.decode(key)?) } else { Field::of(key.raw()) };
        let seen = (&self.text[at..self.i], field);
        match self.keys.get_mut(n) {
            Some(k) => *k = seen,
            None if n < 32 => self.keys.push(seen),
            None => {}
        }
        Ok(field)
    }

    /// A key and its colon.
    fn key(&mut self) -> Read<Str<'a>> {
        if self.ws() != Some(b'"') {
            return self.fail("expected a string key");
        }
        let key = self.string()?;
        if self.ws() != Some(b':') {
            return self.fail("expected ':'");
        }
        self.i += 1;
        Ok(key)
    }

    /// The string at the position (`kind` has moved it onto the quote).
    #[inline(always)]
    pub fn string(&mut self) -> Read<Str<'a>> {
        let b = self.text.as_bytes();
        let start = self.i;
        self.i += 1;
        let (mut escaped, mut lone) = (false, false);
        loop {
            self.i += ordinary_run(&b[self.i..]);
            match b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Str { quoted: &self.text[start..self.i], escaped, lone });
                }
                Some(b'\\') => {
                    escaped = true;
                    lone |= self.escape()?;
                }
                Some(_) => return self.fail("raw control character in string"),
                None => return self.fail("unterminated string"),
            }
        }
    }

    /// One escape (at its backslash); whether it is a lone surrogate.
    fn escape(&mut self) -> Read<bool> {
        let b = self.text.as_bytes();
        let hex4 = |at| hex4(b, at);
        match b.get(self.i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.i += 2;
                Ok(false)
            }
            Some(b'u') => {
                let Some(unit) = hex4(self.i + 2) else { return self.fail("invalid \\u escape") };
                self.i += 6;
                Ok(match unit {
                    0xD800..=0xDBFF => {
                        let paired = b.get(self.i..self.i + 2) == Some(b"\\u") && matches!(hex4(self.i + 2), Some(0xDC00..=0xDFFF));
                        self.i += if paired { 6 } else { 0 };
                        !paired
                    }
                    0xDC00..=0xDFFF => true,
                    _ => false,
                })
            }
            _ => self.fail("invalid escape in string"),
        }
    }

    /// The number at the position.
    #[inline(always)]
    pub fn number(&mut self) -> Read<f64> {
        match number::scan(&self.text.as_bytes()[self.i..]) {
            Ok((len, v)) => {
                self.i += len;
                Ok(v)
            }
            Err((at, what)) => {
                self.i += at;
                self.fail(what)
            }
        }
    }

    /// `true`, `false` (a flag) or `null` (none) at the position.
    fn literal(&mut self) -> Read<Option<bool>> {
        let rest = &self.text.as_bytes()[self.i..];
        let (len, v) = match rest.first() {
            Some(b't') if rest.starts_with(b"true") => (4, Some(true)),
            Some(b'f') if rest.starts_with(b"false") => (5, Some(false)),
            Some(b'n') if rest.starts_with(b"null") => (4, None),
            _ => return self.fail("invalid literal"),
        };
        self.i += len;
        Ok(v)
    }

    /// Pass over one value of any shape, checking it. (Recursive, through
    /// `object` and `array`: the depth is capped, so the stack is too.)
    pub fn skip(&mut self) -> Read<()> {
        match self.kind()? {
            Kind::Object => self.object(|rd, _| rd.skip()),
            Kind::Array => self.array(Self::skip),
            Kind::Str => self.string().map(drop),
            Kind::Num => self.number().map(drop),
            Kind::Lit => self.literal().map(drop),
        }
    }

    /// A string's text: borrowed when written without escapes, else
    /// decoded by nanoserde.
    pub fn decode(&mut self, s: Str<'a>) -> Read<Cow<'a, str>> {
        if !s.escaped {
            return Ok(Cow::Borrowed(s.raw()));
        }
        self.unescape(s).map(Cow::Owned)
    }

    /// nanoserde's decoding of a string with escapes.
    #[inline(never)]
    fn unescape(&mut self, s: Str<'a>) -> Read<String> {
        let fixed;
        let quoted = if s.lone {
            fixed = without_lone_surrogates(s.quoted);
            &fixed
        } else {
            s.quoted
        };
        let mut chars = quoted.chars();
        self.st.next(&mut chars);
        match self.st.next_tok(&mut chars) {
            Ok(()) => Ok(std::mem::take(&mut self.st.strbuf)),
            Err(e) => Err(self.cannot(format!("not JSON: {e}"))),
        }
    }

    /// A string, shared with the earlier rows that hold the same text.
    fn share(&mut self, s: Str<'a>) -> Read<Rc<str>> {
        let raw = s.raw();
        if let Some((_, v)) = self.recent.items.iter().find(|(r, _)| **r == *raw) {
            return Ok(Rc::clone(v));
        }
        let value: Rc<str> = Rc::from(&*self.decode(s)?);
        let key = if s.escaped { Rc::from(raw) } else { Rc::clone(&value) };
        let r = &mut self.recent;
        if r.items.len() < RECENT {
            r.items.push((key, Rc::clone(&value)));
        } else {
            r.items[r.next] = (key, Rc::clone(&value));
            r.next = (r.next + 1) % RECENT;
        }
        Ok(value)
    }

    // The values a field may hold, each read with the reference client's
    // tolerance: a value of another kind is passed over (checked) and
    // reads as none.

    /// A value of kind `want`, read by `read`; none for another kind.
    fn value<T>(&mut self, want: Kind, read: impl FnOnce(&mut Self) -> Read<Option<T>>) -> Read<Option<T>> {
        if self.kind()? == want { read(self) } else { self.skip().map(|()| None) }
    }

    /// An object read by `f`.
    pub fn maybe_object<T>(&mut self, f: fn(&mut Self) -> Read<T>) -> Read<Option<T>> {
        self.value(Kind::Object, |rd| f(rd).map(Some))
    }

    /// The elements of an array, each read by `item`; nothing for another
    /// kind.
    pub fn maybe_array(&mut self, item: impl FnMut(&mut Self) -> Read<()>) -> Read<()> {
        self.value(Kind::Array, |rd| rd.array(item).map(Some)).map(drop)
    }

    /// A number, or a string that Python's `float()` reads as one.
    #[inline(always)]
    pub fn num(&mut self) -> Read<Option<f64>> {
        match self.kind()? {
            Kind::Num => self.number().map(Some),
            _ => self.text(number::parse_float).map(Option::flatten),
        }
    }

    /// A string, read by `read`.
    pub fn text<T>(&mut self, read: impl FnOnce(&str) -> T) -> Read<Option<T>> {
        self.value(Kind::Str, |rd| {
            let s = rd.string()?;
            Ok(Some(read(&rd.decode(s)?)))
        })
    }

    /// A string shared with the rows before (agents and tenants repeat).
    #[inline(always)]
    pub fn shared(&mut self) -> Read<Option<Rc<str>>> {
        self.value(Kind::Str, |rd| {
            let s = rd.string()?;
            rd.share(s).map(Some)
        })
    }

    /// `true` or `false`.
    pub fn flag(&mut self) -> Read<Option<bool>> {
        self.value(Kind::Lit, Self::literal)
    }
}

/// A checked string (quotes and all) with each `\uD800`-`\uDFFF` escape
/// that is not half of a pair written `\ufffd`: the same length, the rest
/// unchanged.
fn without_lone_surrogates(quoted: &str) -> String {
    let b = quoted.as_bytes();
    let hex4 = |at| hex4(b, at);
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while let Some(at) = quoted[i..].find('\\').map(|k| i + k) {
        out.push_str(&quoted[i..at]);
        let len = match (hex4(at + 2), b.get(at + 1)) {
            (Some(0xD800..=0xDBFF), Some(b'u')) if b.get(at + 6..at + 8) == Some(b"\\u") && matches!(hex4(at + 8), Some(0xDC00..=0xDFFF)) => 12,
            (Some(0xD800..=0xDFFF), Some(b'u')) => {
                out.push_str("\\ufffd");
                i = at + 6;
                continue;
            }
            (_, Some(b'u')) => 6,
            _ => 2,
        };
        out.push_str(&quoted[at..at + len]);
        i = at + len;
    }
    out.push_str(&quoted[i..]);
    out
}

/// The four hex digits at `b[at..]` as a number.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.iter().try_fold(0, |v, &c| Some(v * 16 + char::from(c).to_digit(16)?))
}

/// How many bytes at the start of `b` need no attention inside a string: up
/// to the first quote, backslash or control byte (or all of `b`).
fn ordinary_run(b: &[u8]) -> usize {
    b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), (usize, &'static str)> {
        let mut rd = Reader::new(s);
        match rd.skip().and_then(|()| rd.finish()) {
            Ok(()) => Ok(()),
            Err(Stop) => match rd.why() {
                Why::Syntax(at, what) => Err((at, what)),
                other => panic!("{other:?}"),
            },
        }
    }

    #[test]
    fn accepts_json_and_what_json_dumps_writes() {
        for s in [
            r#"{"a": [1, -2.5e-3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"], "b": {}}"#,
            "[NaN, Infinity, -Infinity, 1e+16, 2E+3, 12345678901234567890]",
            r#"["\ud83d\ude00", "lone \ud800", "\udc00"]"#,
            " [ ] ",
            "42",
        ] {
            assert_eq!(check(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn says_what_is_wrong_and_where() {
        for (s, at, what) in [
            (r#"{"zz": [1, 2"#, 12, "unexpected end of input"),
            (r#"{"sessions": [{"x": {"#, 21, "expected a string key"),
            (r#"{"zz": , "sessions": []}"#, 7, "unexpected character"),
            ("[1,\0 2]", 3, "unexpected character"),
            ("[\"a\0b\"]", 3, "raw control character in string"),
            ("[1, x]", 4, "unexpected character"),
            ("", 0, "unexpected end of input"),
            ("[1] [2]", 4, "trailing data after the document"),
            ("{\"a\" 1}", 5, "expected ':'"),
            ("{\"a\": 1 2}", 8, "expected ',' or '}'"),
            ("[1 2]", 3, "expected ',' or ']'"),
            ("[tru]", 1, "invalid literal"),
            ("[nan]", 1, "invalid literal"),
            ("[-]", 2, "invalid number"),
            ("\"abc", 4, "unterminated string"),
            ("[\"\\x\"]", 2, "invalid escape in string"),
            ("[\"\\u12\"]", 2, "invalid \\u escape"),
        ] {
            assert_eq!(check(s), Err((at, what)), "{s:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(check(&deep), Err((MAX_DEPTH, "nested too deeply")));
        assert_eq!(check(&("[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH))), Ok(()));
        let objects = "{\"a\": ".repeat(MAX_DEPTH) + "1" + &"}".repeat(MAX_DEPTH);
        assert_eq!(check(&objects), Ok(()));
    }

    #[test]
    fn strings_decode_and_lone_surrogates_become_the_replacement() {
        let text = r#"["a\ud83db", "\ude00", "\\ud800", "\ud83d\ude00\ud800", "plain", "\u001b\n"]"#;
        let mut rd = Reader::new(text);
        let mut got = Vec::new();
        rd.array(|rd| {
            got.extend(rd.text(str::to_string)?);
            Ok(())
        })
        .unwrap();
        assert_eq!(got, ["a\u{fffd}b", "\u{fffd}", "\\ud800", "\u{1f600}\u{fffd}", "plain", "\u{1b}\n"]);
    }

    #[test]
    fn strings_end_at_their_quote_and_refuse_raw_controls() {
        for at in 0..40 {
            let mut s = "x".repeat(40);
            s.insert_str(at, "\\n");
            assert_eq!(check(&format!("[\"{s}\"]")), Ok(()));
            let mut bad = "x".repeat(40);
            bad.insert(at, '\u{1}');
            assert_eq!(check(&format!("[\"{bad}\"]")), Err((2 + at, "raw control character in string")));
        }
    }
}
