//! Untrusted text made safe for a terminal or a pipe, and its display width.
//!
//! Session ids, agent names and tenants are chosen by whoever started a
//! session. What reaches the reader must be what is there:
//! - no C0/C1 control or DEL reaches the terminal raw (an ESC starts a
//!   sequence that can retitle, recolour or rewrite the screen);
//! - nothing invisible passes as nothing: format characters (zero-width
//!   spaces, joiners, bidi controls, tags), whitespace other than the ASCII
//!   space, variation selectors and fillers are written as `\u{200b}`, so
//!   `AJ_vic\u{200b}tim` never looks like `AJ_victim` (`classes.rs`, made
//!   from Unicode's data, lists them);
//! - a character whose width cannot be known (unassigned, private use) or
//!   that terminals draw differently (regional indicators) is `?` on screen;
//! - where the locale is not UTF-8 every output is ASCII (no byte of a
//!   multi-byte character, 0x9B among them, reaches an 8-bit terminal): the
//!   screen shows other characters as `?` (as ps does), the plain table as
//!   `\u{e9}`.
//!
//! The plain table's fields are injective: every character that is not a
//! visible non-space character is escaped, and `\` is doubled, so two
//! different ids never print the same.

mod classes;

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_width::UnicodeWidthChar;

pub use classes::UNICODE_VERSION;

/// The visible stand-in for a character whose width is unknown.
pub const SUBSTITUTE: char = '?';

/// What the output's reader can take: all of Unicode, or only ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    #[default]
    Utf8,
    Ascii,
}

impl Charset {
    /// The locale's charset, as the C library decides it: the first of
    /// LC_ALL, LC_CTYPE and LANG that is set and non-empty names UTF-8
    /// (`C.UTF-8`, `en_US.utf8`), else ASCII (`C`, `POSIX`, unset).
    pub fn from_env() -> Charset {
        Charset::from_locale(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    pub fn from_locale(get: impl Fn(&str) -> Option<String>) -> Charset {
        let name = ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|k| get(k).filter(|v| !v.is_empty()));
        let utf8 = name.is_some_and(|n| {
            let n = n.to_ascii_lowercase();
            n.contains("utf-8") || n.contains("utf8")
        });
        if utf8 { Charset::Utf8 } else { Charset::Ascii }
    }

    pub fn unicode(self) -> bool {
        self == Charset::Utf8
    }

    /// The mark at the end of cut text.
    pub fn ellipsis(self) -> char {
        if self.unicode() { '…' } else { '~' }
    }
}

/// How a code point that is not shown as itself is shown instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Drawn as nothing or as blank: written as `\u{...}`.
    Invisible,
    /// Unassigned or private use: no width can be known.
    Unknown,
    /// Drawn 1 or 2 columns wide, depending on the terminal.
    Ambiguous,
}

/// The class of `c`, when it is not shown as itself.
pub fn class(c: char) -> Option<Class> {
    let u = c as u32;
    if u < 0x7f {
        return (u < 0x20).then_some(Class::Invisible);
    }
    let i = classes::HIDDEN.partition_point(|&(_, hi, _)| hi < u);
    classes::HIDDEN.get(i).filter(|&&(lo, _, _)| lo <= u).map(|&(_, _, c)| c)
}

/// C0, DEL, C1, and the bidi controls that reorder what follows them, and
/// the line and paragraph separators: what JSON and TSV escape although
/// their formats could carry them, so that a terminal, `splitlines()` and
/// a line-oriented tool see one line per record.
pub fn is_unsafe(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x1F | 0x7F..=0x9F | 0x061C | 0x200E | 0x200F | 0x2028 | 0x2029 | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// `\u{hex}`, the escape both the screen and the plain table use.
fn push_escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// Untrusted text for the screen (and for messages): controls and invisible
/// characters escaped, `\` doubled, unknown and ambiguous ones `?`, other
/// non-ASCII `?` when the charset is ASCII.
pub fn display(s: &str, cs: Charset) -> Cow<'_, str> {
    if plain(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match (c, class(c)) {
            ('\\', _) => out.push_str("\\\\"),
            (_, Some(Class::Invisible)) => push_escape(&mut out, c),
            (_, Some(_)) => out.push(SUBSTITUTE),
            (c, None) if !c.is_ascii() && !cs.unicode() => out.push(SUBSTITUTE),
            (c, None) => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Printable ASCII without `\\`: text `display` shows as it is, one
/// column a byte.
pub fn plain(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\')
}

/// Untrusted text inside a message (stderr, the live view's banner), for
/// the locale's charset, which is read once.
pub fn in_message(s: &str) -> Cow<'_, str> {
    static CHARSET: std::sync::OnceLock<Charset> = std::sync::OnceLock::new();
    display(s, *CHARSET.get_or_init(Charset::from_env))
}

/// Printable ASCII other than space and `\`: a field as it is.
fn plain_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\')
}

/// A single whitespace-free, non-empty, injective field for ps-style
/// output: every character that is not a visible non-space character
/// (whitespace, controls, invisible, unknown and ambiguous ones, and any
/// non-ASCII one when the charset is ASCII) as `\u{hex}`, `\` doubled; an
/// empty value `-`, and a value that is `-` itself `\u{2d}`.
pub fn field(s: &str, cs: Charset) -> Cow<'_, str> {
    if s.is_empty() {
        return Cow::Borrowed("-");
    }
    if s == "-" {
        return Cow::Borrowed("\\u{2d}");
    }
    if plain_ascii(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_whitespace() || class(c).is_some() || (!c.is_ascii() && !cs.unicode()) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `field(s)` and its width in columns, measured only when it is not plain
/// printable ASCII (where the width is the length).
#[inline(always)]
pub fn field_and_width(s: &str, cs: Charset) -> (Cow<'_, str>, usize) {
    if !s.is_empty() && s != "-" && plain_ascii(s) {
        return (Cow::Borrowed(s), s.len());
    }
    let f = field(s, cs);
    let w = width(&f);
    (f, w)
}

/// Terminal columns taken by `c` once shown (controls and invisible
/// characters have been escaped by then), by the `unicode-width` crate:
/// East Asian Width per UAX #11 (wide and fullwidth 2, combining and
/// default-ignorable 0), at Unicode 18.0.
pub fn char_width(c: char) -> usize {
    if (c as u32) < 0x7f {
        return 1;
    }
    UnicodeWidthChar::width(c).unwrap_or(1)
}

/// Terminal columns taken by `s`.
pub fn width(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char_width).sum()
}

/// `s` cut to at most `max` columns, ending in the charset's ellipsis when
/// cut.
pub fn truncate(s: &str, max: usize, cs: Charset) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push(cs.ellipsis());
    Cow::Owned(out)
}

/// `s` cut in the middle to at most `max` columns (a path whose end matters
/// as much as its start).
pub fn truncate_middle(s: &str, max: usize, cs: Charset) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max < 3 {
        return truncate(s, max, cs);
    }
    let keep = max - 1;
    let (head_w, tail_w) = (keep - keep / 2, keep / 2);
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + char_width(c) > head_w {
            break;
        }
        used += char_width(c);
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        if used + char_width(c) > tail_w {
            break;
        }
        used += char_width(c);
        tail.push(c);
    }
    head.push(cs.ellipsis());
    head.extend(tail.into_iter().rev());
    Cow::Owned(head)
}

/// `n` spaces, a slice at a time (pushing them as chars one by one was a
/// measurable share of a 100,000-row table).
#[inline(always)]
pub fn spaces(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: Charset = Charset::Utf8;
    const A: Charset = Charset::Ascii;

    #[test]
    fn controls_are_escaped_everywhere() {
        for u in (0u32..0x20).chain(0x7F..0xA0) {
            let c = char::from_u32(u).unwrap();
            let s = format!("a{c}b");
            let want = format!("a\\u{{{u:x}}}b");
            assert_eq!(display(&s, U), want, "U+{u:04X}");
            assert_eq!(field(&s, U), want, "U+{u:04X}");
        }
        assert_eq!(display("\u{202E}evil", U), "\\u{202e}evil");
        assert_eq!(display("\x1b]0;title\x07", U), "\\u{1b}]0;title\\u{7}");
    }

    #[test]
    fn invisible_characters_are_shown() {
        for (s, shown) in [
            ("AJ_vic\u{200b}tim", "AJ_vic\\u{200b}tim"),
            ("a\u{feff}b", "a\\u{feff}b"),
            ("a\u{2028}b\u{2029}", "a\\u{2028}b\\u{2029}"),
            ("a\u{e0041}", "a\\u{e0041}"),
            ("a\u{34f}b\u{180e}", "a\\u{34f}b\\u{180e}"),
            ("x\u{fe0f}", "x\\u{fe0f}"),
            ("x\u{3000}y", "x\\u{3000}y"),
        ] {
            assert_eq!(display(s, U), shown, "{s:?}");
        }
        // The ASCII space stays a space on screen.
        assert_eq!(display("a b", U), "a b");
    }

    #[test]
    fn unknown_and_ambiguous_are_question_marks_on_screen() {
        assert_eq!(display("a\u{378}b\u{e000}c\u{1f1e9}\u{1f1ea}", U), "a?b?c??");
        assert_eq!(class('\u{10ffff}'), Some(Class::Unknown));
        assert_eq!(class('é'), None);
        assert_eq!(class('中'), None);
    }

    #[test]
    fn ascii_charset_shows_non_ascii_as_question_marks() {
        assert_eq!(display("münchen 中", A), "m?nchen ?");
        assert_eq!(display("ü\u{200b}", A), "?\\u{200b}");
        assert!(display("\u{db}\u{9b}", A).is_ascii());
        assert_eq!(field("münchen", A), "m\\u{fc}nchen");
    }

    #[test]
    fn plain_fields_are_injective_words() {
        assert_eq!(field("", U), "-");
        assert_eq!(field("-", U), "\\u{2d}");
        assert_eq!(field("a b\tc\nd\u{3000}e\u{a0}f", U), "a\\u{20}b\\u{9}c\\u{a}d\\u{3000}e\\u{a0}f");
        assert_eq!(field("back\\slash", U), "back\\\\slash");
        assert!(matches!(field("plain", U), Cow::Borrowed(_)));
        // The pair: different ids, different fields.
        assert_ne!(field("AJ_0000 blocker", U), field("AJ_0000\u{3000}blocker", U));
        let ids = ["a b", "a_b", "a\\u{20}b", "a\u{200b}b", "ab", "a\\b", "a\\\\b", "-", "", "\\u{2d}", "a?b", "a\u{378}b"];
        let shown: std::collections::HashSet<_> = ids.iter().map(|i| field(i, U).into_owned()).collect();
        assert_eq!(shown.len(), ids.len(), "two ids print the same: {shown:?}");
        for f in &shown {
            assert!(!f.contains(char::is_whitespace) && !f.is_empty(), "{f:?}");
        }
    }

    #[test]
    fn locale_names() {
        let env = |pairs: &'static [(&str, &str)]| move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string());
        assert_eq!(Charset::from_locale(env(&[("LANG", "en_US.UTF-8")])), U);
        assert_eq!(Charset::from_locale(env(&[("LANG", "C.utf8")])), U);
        assert_eq!(Charset::from_locale(env(&[("LC_ALL", "C"), ("LANG", "C.UTF-8")])), A);
        assert_eq!(Charset::from_locale(env(&[("LC_ALL", ""), ("LC_CTYPE", "de_DE.UTF-8")])), U);
        assert_eq!(Charset::from_locale(env(&[])), A);
        assert_eq!(Charset::from_locale(env(&[("LANG", "POSIX")])), A);
    }

    #[test]
    fn widths() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("中文"), 4);
        assert_eq!(width("😀"), 2);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(width("café"), 4);
        // Wider or narrower than the blocks the first table knew.
        assert_eq!(width("\u{1aff0}\u{16fe0}\u{18b00}\u{4dc0}"), 8);
        assert_eq!(width("\u{0bb5}\u{0bcd}"), 1, "a Tamil virama takes no column");
    }

    #[test]
    fn truncation_respects_wide_characters() {
        assert_eq!(truncate("abcdef", 6, U), "abcdef");
        assert_eq!(truncate("abcdef", 4, U), "abc…");
        assert_eq!(truncate("abcdef", 4, A), "abc~");
        assert_eq!(truncate("中文字符", 5, U), "中文…");
        assert_eq!(width(&truncate("中文字符", 4, U)), 3);
        assert_eq!(truncate("abc", 0, U), "");
        assert_eq!(truncate("abc", 1, U), "…");
        assert_eq!(truncate_middle("/run/user/1000/openrtc-1000/top.sock", 20, U), "/run/user/…/top.sock");
        assert_eq!(width(&truncate_middle("/run/user/1000/openrtc-1000/top.sock", 20, U)), 20);
    }
}
