//! A byte cursor over guarded JSON: the tokens a payload is made of are
//! read in place, and nanoserde's tokenizer reads the rest (see `bump`).

use std::rc::Rc;

use nanoserde::{DeJsonState, DeJsonTok};

use super::fields::Field;
use super::guard;
use super::DecodeError;

/// Tokens of guarded text: the input has passed `guard`, so every token
/// sequence here is well-formed JSON; or, in the strict pass (`strict`),
/// text the guard has not seen, where every token is checked by its rules
/// as it is read.
///
/// Punctuation, literals, keys and strings without escapes and numbers are
/// read in place from a byte position (see `bump` and `key`); nanoserde
/// reads strings with escapes. The current token is `st.tok`, and `pos`
/// is the first byte after it.
pub struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    /// Whether `bump` and `key` may read in place (always, outside tests).
    fast: bool,
    /// The strict pass over unguarded text (see `decode`): everything read
    /// is checked by the guard's rules as it is read, and anything they
    /// would refuse, or that this pass does not check itself, is an error
    /// (the caller then guards the text and reads it again).
    strict: bool,
    /// The reader refused what the text holds (see `refuse`).
    refused: bool,
    st: DeJsonState,
    /// Recently seen agents and tenants, to share rather than copy.
    recent: Recent,
    /// The current string token, when read in place (see `str`).
    plain: Option<&'a str>,
    /// The current string token's contents as written, escapes and all,
    /// while they have not been decoded (see `str`).
    escaped: Option<&'a str>,
    /// The keys of the last row read raw, as written (from the quote to
    /// the colon), by position (see `row_key`).
    row_keys: Vec<(&'a str, Field)>,
}

/// The last few distinct agent and tenant strings, replaced round-robin,
/// each under its text as the payload wrote it (escapes and all): a string
/// seen before is shared without decoding it again.
#[derive(Default)]
struct Recent {
    items: Vec<(Rc<str>, Rc<str>)>,
    next: usize,
}

impl Recent {
    fn find(&self, raw: &str) -> Option<Rc<str>> {
        self.items.iter().find(|(r, _)| **r == *raw).map(|(_, v)| Rc::clone(v))
    }

    fn add(&mut self, raw: Rc<str>, value: Rc<str>) {
        if self.items.len() < RECENT {
            self.items.push((raw, value));
        } else {
            self.items[self.next] = (raw, value);
            self.next = (self.next + 1) % RECENT;
        }
    }
}

/// How many distinct agents and tenants `Lexer::shared` remembers.
const RECENT: usize = 16;

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str, fast: bool) -> Result<Self, DecodeError> {
        let mut lx = Lexer::at_start(text, fast, false);
        lx.bump()?;
        Ok(lx)
    }

    fn at_start(text: &'a str, fast: bool, strict: bool) -> Self {
        let (st, recent) = (DeJsonState::default(), Recent::default());
        Lexer { text, pos: 0, fast, strict, refused: false, st, recent, plain: None, escaped: None, row_keys: Vec::new() }
    }

    /// A lexer for the strict pass over text the guard has not seen; it
    /// starts on a `{` or `[` (a document of any other shape is the
    /// guard's).
    pub(super) fn strict(text: &'a str) -> Result<Self, DecodeError> {
        let mut lx = Lexer::at_start(text, true, true);
        lx.bump()?;
        match lx.st.tok {
            DeJsonTok::CurlyOpen | DeJsonTok::BlockOpen => Ok(lx),
            _ => Err(not_strict()),
        }
    }

    /// An error for what the text holds rather than how it is written (a
    /// pass behind the guard would reach the same one).
    pub(super) fn refuse(&mut self, why: String) -> DecodeError {
        self.refused = true;
        DecodeError(why)
    }

    pub(super) fn refused(&self) -> bool {
        self.refused
    }

    /// The end of the strict pass: nothing but whitespace left.
    pub(super) fn finish(&self) -> Result<(), DecodeError> {
        if self.strict && self.st.tok != DeJsonTok::Eof {
            return Err(not_strict());
        }
        Ok(())
    }

    /// In the strict pass, where the value at `at` ends by the guard's
    /// rules (containers nested at most a few levels below the snapshot's
    /// own four, so that the guard's cap over the whole document holds).
    fn checked_end(&self, at: usize) -> Option<usize> {
        guard::value_end(self.text.as_bytes(), at, guard::MAX_DEPTH - 8)
    }

    pub(super) fn tok(&self) -> &DeJsonTok {
        &self.st.tok
    }

    /// The position of the next byte that is not JSON whitespace.
    fn skip_ws(&self) -> usize {
        self.skip_ws_from(self.pos)
    }

    /// The position of the first byte from `i` on that is not JSON
    /// whitespace.
    fn skip_ws_from(&self, mut i: usize) -> usize {
        let b = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
            i += 1;
        }
        i
    }

    /// Move to the next token.
    ///
    /// nanoserde reads a `Chars` a character at a time, decodes strings and
    /// numbers into buffers with line and column bookkeeping per
    /// character, and keeps a character of lookahead; at 100,000 sessions
    /// that was most of the decoding time, and a cursor kept in its terms
    /// cost about 150 instructions a token. Here a token is found from its
    /// first byte: punctuation and the literals (which the guard has
    /// checked) in one step, a string without escapes borrowed in one
    /// piece, a number parsed straight from the text (every value is read
    /// as an f64 anyway). Strings with escapes stay nanoserde's, where
    /// getting JSON's rules right matters more than speed. Numbers
    /// nanoserde cannot read at all (Python's `NaN`, `Infinity`,
    /// `-Infinity`, `1e+16`, integers of 19 digits and more) are read here
    /// on the reference path too.
    pub(super) fn bump(&mut self) -> Result<(), DecodeError> {
        let i = self.skip_ws();
        self.pos = i;
        self.plain = None;
        self.escaped = None;
        let b = self.text.as_bytes();
        let Some(&c) = b.get(i) else {
            self.st.tok = DeJsonTok::Eof;
            return Ok(());
        };
        let (len, tok) = match c {
            b'-' | b'0'..=b'9' | b'N' | b'I' => {
                let here = &self.text[i..];
                let (len, v, valid) = number_at(here);
                if self.strict && !valid {
                    return Err(not_strict());
                }
                match v.filter(|_| self.fast || !nanoserde_reads(&here[..len])) {
                    Some(v) => (len, DeJsonTok::F64(v)),
                    None => return self.nanoserde(),
                }
            }
            _ if !self.fast => return self.nanoserde(),
            b'"' => {
                let rest = &self.text[i + 1..];
                if let Some(text) = guard::plain_string(rest) {
                    self.plain = Some(text);
                    (text.len() + 2, DeJsonTok::Str)
                } else if let Some(end) = guard::string_end(b, i) {
                    // Decoded only if asked for (see `str`).
                    self.escaped = Some(&self.text[i + 1..end - 1]);
                    (end - i, DeJsonTok::Str)
                } else {
                    return self.nanoserde();
                }
            }
            b'{' => (1, DeJsonTok::CurlyOpen),
            b'}' => (1, DeJsonTok::CurlyClose),
            b'[' => (1, DeJsonTok::BlockOpen),
            b']' => (1, DeJsonTok::BlockClose),
            b',' => (1, DeJsonTok::Comma),
            b':' => (1, DeJsonTok::Colon),
            b't' if b[i..].starts_with(b"true") => (4, DeJsonTok::Bool(true)),
            b'f' if b[i..].starts_with(b"false") => (5, DeJsonTok::Bool(false)),
            b'n' if b[i..].starts_with(b"null") => (4, DeJsonTok::Null),
            _ => return self.nanoserde(),
        };
        self.st.tok = tok;
        self.pos = i + len;
        Ok(())
    }

    /// The token at `pos`, read by nanoserde's tokenizer. It takes one
    /// character of lookahead (into `st.cur`) past the token, so the token
    /// ends that character before what it leaves unread.
    fn nanoserde(&mut self) -> Result<(), DecodeError> {
        if self.strict {
            return Err(not_strict());
        }
        self.plain = None;
        self.escaped = None;
        let mut it = self.text[self.pos..].chars();
        self.st.next(&mut it);
        let read = self.st.next_tok(&mut it);
        let rest = it.as_str().len();
        // At the end of the input the lookahead is nanoserde's NUL, which
        // takes no bytes (the guard refuses a real one).
        let ahead = if rest == 0 && self.st.cur == '\0' { 0 } else { self.st.cur.len_utf8() };
        self.pos = self.text.len().saturating_sub(rest + ahead);
        read.map_err(|e| DecodeError(format!("not JSON: {e}")))
    }

    /// The current string token's text: borrowed from the payload when it
    /// had no escapes (no copy, however long), else nanoserde's decoding,
    /// done here the first time it is asked for: a skipped string, or an
    /// agent or tenant seen before (see `shared`), is never decoded.
    fn str(&mut self) -> Result<&str, DecodeError> {
        if let Some(raw) = self.escaped.take() {
            // The token with its quotes, which are ASCII.
            let start = raw.as_ptr() as usize - self.text.as_ptr() as usize - 1;
            let mut it = self.text[start..start + raw.len() + 2].chars();
            self.st.next(&mut it);
            self.st.next_tok(&mut it).map_err(|e| DecodeError(format!("not JSON: {e}")))?;
        }
        Ok(self.plain.unwrap_or(&self.st.strbuf))
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
        if self.strict {
            // A scalar was checked as it was read; a container is checked
            // (and passed over) by the guard from its opening bracket.
            match self.st.tok {
                DeJsonTok::CurlyOpen | DeJsonTok::BlockOpen => {
                    self.pos = self.checked_end(self.pos - 1).ok_or_else(not_strict)?;
                }
                DeJsonTok::Str | DeJsonTok::F64(_) | DeJsonTok::Bool(_) | DeJsonTok::Null => {}
                _ => return Err(not_strict()),
            }
            return self.bump();
        }
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
                DeJsonTok::Comma if self.strict && self.text.as_bytes().get(self.skip_ws()) != Some(&b'"') => {
                    return Err(not_strict());
                }
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
        if self.fast {
            if let Some(key) = self.raw_key() {
                self.bump()?;
                return Ok(Some(key));
            }
        }
        self.bump()?;
        match self.st.tok {
            DeJsonTok::CurlyClose => Ok(None),
            DeJsonTok::Str => {
                let key = Field::of(self.str()?);
                self.bump()?;
                self.expect(DeJsonTok::Colon, "':'")?;
                Ok(Some(key))
            }
            _ => Err(DecodeError("not JSON: expected a key".into())),
        }
    }

    // Raw reading, for `decode::session_fast`: straight from the text
    // after the current token, without making tokens. Each returns `None`
    // where the text is not the simple form it reads (nothing is consumed
    // then that matters: the caller goes back to its `mark`).

    /// Whether raw reading may be used (not on the reference path).
    pub(super) fn fast(&self) -> bool {
        self.fast
    }

    /// Where raw reading stands, to come back to.
    pub(super) fn mark(&self) -> usize {
        self.pos
    }

    /// Back to `mark`; the current token is as it was there.
    pub(super) fn reset(&mut self, mark: usize) {
        self.pos = mark;
    }

    /// A key without escapes and its colon: its field (`key`'s fast path;
    /// nothing is consumed when it is not one).
    pub(super) fn raw_key(&mut self) -> Option<Field> {
        let i = self.skip_ws();
        let rest = self.text.get(i + 1..).filter(|_| self.text.as_bytes().get(i) == Some(&b'"'))?;
        let name = guard::plain_string(rest)?;
        let colon = self.skip_ws_from(i + name.len() + 2);
        (self.text.as_bytes().get(colon) == Some(&b':')).then_some(())?;
        self.pos = colon + 1;
        Some(Field::of(name))
    }

    /// The `n`th key of a row read raw: rows repeat their keys in the same
    /// order, so the text is first compared with the key the last row had
    /// there, which is cheaper than scanning it (a fifth of the keys' cost).
    pub(super) fn row_key(&mut self, n: usize) -> Option<Field> {
        let i = self.skip_ws();
        if let Some(&(seen, field)) = self.row_keys.get(n) {
            if self.text.as_bytes().get(i..).is_some_and(|rest| rest.starts_with(seen.as_bytes())) {
                self.pos = i + seen.len();
                return Some(field);
            }
        }
        let field = self.raw_key()?;
        let key = (&self.text[i..self.pos], field);
        match n.cmp(&self.row_keys.len()) {
            std::cmp::Ordering::Less => self.row_keys[n] = key,
            std::cmp::Ordering::Equal if n < 32 => self.row_keys.push(key),
            _ => {}
        }
        Some(field)
    }

    /// A string value without escapes.
    pub(super) fn raw_str(&mut self) -> Option<&'a str> {
        let i = self.skip_ws();
        let rest = self.text.get(i + 1..).filter(|_| self.text.as_bytes().get(i) == Some(&b'"'))?;
        let text = guard::plain_string(rest)?;
        self.pos = i + text.len() + 2;
        Some(text)
    }

    /// A number value (Python's non-finite names included).
    pub(super) fn raw_number(&mut self) -> Option<f64> {
        let i = self.skip_ws();
        let (len, v, valid) = number_at(self.text.get(i..)?);
        if self.strict && !valid {
            return None;
        }
        self.pos = i + len;
        v.filter(|_| len > 0)
    }

    /// `true`, `false` or `null` (`Some(None)`).
    pub(super) fn raw_literal(&mut self) -> Option<Option<bool>> {
        let i = self.skip_ws();
        let rest = &self.text.as_bytes()[i.min(self.text.len())..];
        let (len, v) = if rest.starts_with(b"true") {
            (4, Some(true))
        } else if rest.starts_with(b"false") {
            (5, Some(false))
        } else if rest.starts_with(b"null") {
            (4, None)
        } else {
            return None;
        };
        self.pos = i + len;
        Some(v)
    }

    /// `,` (`true`: another member follows) or `}` (`false`: the object
    /// ends, and the token after it is made current).
    pub(super) fn raw_next(&mut self) -> Option<bool> {
        let i = self.skip_ws();
        let more = match self.text.as_bytes().get(i)? {
            b',' => true,
            b'}' => false,
            _ => return None,
        };
        self.pos = i + 1;
        Some(more)
    }

    /// A string value shared with earlier rows (`shared`): escapes and all,
    /// since one seen before is found by its text as written.
    pub(super) fn raw_shared(&mut self) -> Option<Rc<str>> {
        let i = self.skip_ws();
        let rest = self.text.get(i + 1..).filter(|_| self.text.as_bytes().get(i) == Some(&b'"'))?;
        if let Some(text) = guard::plain_string(rest) {
            self.pos = i + text.len() + 2;
            return Some(self.share(text));
        }
        let end = guard::string_end(self.text.as_bytes(), i)?;
        self.pos = end;
        self.share_escaped(&self.text[i + 1..end - 1]).ok()
    }

    /// A string with escapes (`raw`, as written) shared with earlier rows:
    /// found by its text as written, or decoded by `str` and remembered.
    /// The current token is left as it was.
    fn share_escaped(&mut self, raw: &'a str) -> Result<Rc<str>, DecodeError> {
        if let Some(r) = self.recent.find(raw) {
            return Ok(r);
        }
        let (tok, plain) = (self.st.tok.clone(), self.plain.take());
        self.escaped = Some(raw);
        let value = self.str().map(Rc::from);
        (self.st.tok, self.plain) = (tok, plain);
        let value = value?;
        self.recent.add(Rc::from(raw), Rc::clone(&value));
        Ok(value)
    }

    /// `shared` for a string read raw.
    pub(super) fn share(&mut self, text: &str) -> Rc<str> {
        match self.recent.find(text) {
            Some(r) => r,
            None => {
                let value: Rc<str> = Rc::from(text);
                self.recent.add(Rc::clone(&value), Rc::clone(&value));
                value
            }
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
                if self.strict && self.st.tok == DeJsonTok::BlockClose {
                    return Err(not_strict());
                }
            } else if self.strict && self.st.tok != DeJsonTok::BlockClose {
                return Err(not_strict());
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
        self.text.len() - self.pos
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
        let v = read(self.str()?);
        self.bump()?;
        Ok(Some(v))
    }

    /// `text`, shared with earlier rows holding the same text.
    pub(super) fn shared(&mut self) -> Result<Option<Rc<str>>, DecodeError> {
        if self.st.tok != DeJsonTok::Str {
            return self.skip().map(|()| None);
        }
        let r = match self.escaped {
            Some(raw) => self.share_escaped(raw)?,
            None => match self.plain {
                Some(text) => self.share(text),
                None => {
                    // Decoded by nanoserde (on the reference path).
                    let text = std::mem::take(&mut self.st.strbuf);
                    let r = self.share(&text);
                    self.st.strbuf = text;
                    r
                }
            },
        };
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
            DeJsonTok::Str => parse_float(self.str()?),
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

/// What the strict pass gives up with (its caller reads the text again
/// behind the guard, which says what is wrong, if anything is).
fn not_strict() -> DecodeError {
    DecodeError("not read by the strict pass".into())
}

/// Whether nanoserde's tokenizer reads the number `t` (the reference path
/// leaves it to nanoserde then): not Python's non-finite names, no `e+`,
/// and an integer of at most 18 digits (it parses integers as u64/i64).
fn nanoserde_reads(t: &str) -> bool {
    let integral = !t.contains(['.', 'e', 'E']);
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    !(t.contains(['N', 'I', '+']) || integral && digits >= 19)
}

/// The number at the start of `s`, its length in bytes, and whether it
/// is one by the guard's rules (which the strict pass needs; after the
/// guard it always is), Python's `NaN`, `Infinity` and `-Infinity`
/// included. Checking here, as it is read, rather than reading it twice
/// (once by the guard) saved a tenth of the strict pass. A plain decimal of at most 15 digits is computed directly, as
/// an exact integer divided by an exact power of ten (one correctly rounded
/// operation, so the same bits as `str::parse`, a third of the cost);
/// anything else goes to `str::parse`. An integer is an integer to
/// nanoserde and Python, so `-0` is 0.
fn number_at(s: &str) -> (usize, Option<f64>, bool) {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let b = s.as_bytes();
    // (Only a number starting with a letter, or `-` and one, is a name.)
    if b.get(usize::from(b.first() == Some(&b'-'))).is_some_and(u8::is_ascii_alphabetic) {
        for (name, v) in [("NaN", f64::NAN), ("Infinity", f64::INFINITY), ("-Infinity", f64::NEG_INFINITY)] {
            if s.starts_with(name) {
                return (name.len(), Some(v), true);
            }
        }
    }
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let (mut m, mut digits, mut frac) = (0u64, 0usize, 0usize);
    while let Some(&c @ b'0'..=b'9') = b.get(i) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        digits += 1;
        i += 1;
    }
    // JSON: at least one integer digit, and no leading zero before another.
    let mut valid = digits == 1 || digits > 1 && b.get(usize::from(neg)) != Some(&b'0');
    let dot = b.get(i) == Some(&b'.');
    if dot {
        i += 1;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            digits += 1;
            frac += 1;
            i += 1;
        }
        valid &= frac > 0;
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
        valid &= i > at;
    }
    let integral = !dot && !exponent;
    let v = if !exponent && digits <= 15 {
        // m < 10^15 < 2^53 and 10^frac are exact doubles.
        let v = m as f64 / POW10[frac];
        Some(if neg { -v } else { v })
    } else {
        s.get(..i).and_then(|t| t.parse::<f64>().ok())
    };
    (i, v.map(|v| if integral { v + 0.0 } else { v }), valid)
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

    /// A number is valid to `number_at` exactly when the guard reads the
    /// same bytes as one: every short string of number characters.
    #[test]
    fn number_validity_is_the_guards() {
        const CHARS: &[u8] = b"0123456789-+.eEx";
        let mut n = 0u64;
        for len in 1..=5u32 {
            for mut k in 0..(CHARS.len() as u64).pow(len) {
                let mut c = String::new();
                for _ in 0..len {
                    c.push(CHARS[(k % CHARS.len() as u64) as usize] as char);
                    k /= CHARS.len() as u64;
                }
                for t in [c.clone(), format!("-{c}"), "NaN".into(), "Infinity".into(), "-Infinity".into(), "-NaN".into()] {
                    let doc = format!("{t}]");
                    let guard = guard::value_end(doc.as_bytes(), 0, 1) == Some(t.len());
                    let (len, _, valid) = number_at(&doc);
                    assert_eq!(guard, valid && len == t.len(), "{t}");
                    n += 1;
                }
            }
        }
        assert!(n > 1_000_000);
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
            let (len, got, _) = number_at(&format!("{c}, "));
            assert_eq!(len, c.len(), "{c}");
            assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{c}");
        }
    }
}
