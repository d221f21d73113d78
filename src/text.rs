//! Untrusted text made safe for a terminal or a pipe, and its display width.
//!
//! Session ids, agent names and tenants are chosen by whoever started a
//! session. No C0/C1 control or DEL from them may reach the terminal raw (an
//! ESC starts a sequence that can retitle, recolour or rewrite the screen),
//! and bidi overrides could make one id look like another; all become `?`.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

/// The visible stand-in for a character that must not be written raw.
pub const SUBSTITUTE: char = '?';

/// The ellipsis that marks cut text.
pub const ELLIPSIS: char = '…';

/// C0, DEL, C1, and the bidi controls that reorder what follows them.
pub fn is_unsafe(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x1F | 0x7F..=0x9F | 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Replace unsafe characters by the substitute (for the terminal and messages).
pub fn display(s: &str) -> Cow<'_, str> {
    map_chars(s, |c| if is_unsafe(c) { Some(SUBSTITUTE) } else { None })
}

/// A single whitespace-free, non-empty field for ps-style output: whitespace
/// becomes `_`, unsafe characters `?`, an empty value `-`.
pub fn field(s: &str) -> Cow<'_, str> {
    if s.is_empty() {
        return Cow::Borrowed("-");
    }
    // The common case: printable ASCII without spaces needs no look at chars.
    if s.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    map_chars(s, |c| {
        if c.is_whitespace() {
            Some('_')
        } else if is_unsafe(c) {
            Some(SUBSTITUTE)
        } else {
            None
        }
    })
}

/// `field(s)` and its width in columns, measured only when it is not plain
/// printable ASCII (where the width is the length).
pub fn field_and_width(s: &str) -> (Cow<'_, str>, usize) {
    if !s.is_empty() && s.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return (Cow::Borrowed(s), s.len());
    }
    let f = field(s);
    let w = width(&f);
    (f, w)
}

/// Rewrite only when some character needs it; the common case borrows.
fn map_chars(s: &str, f: impl Fn(char) -> Option<char>) -> Cow<'_, str> {
    match s.char_indices().find(|&(_, c)| f(c).is_some()) {
        None => Cow::Borrowed(s),
        Some((at, _)) => {
            let mut out = String::with_capacity(s.len());
            out.push_str(&s[..at]);
            out.extend(s[at..].chars().map(|c| f(c).unwrap_or(c)));
            Cow::Owned(out)
        }
    }
}

/// Terminal columns taken by `c` (after sanitizing: no controls left), by
/// the `unicode-width` crate: East Asian Width per UAX #11 (wide and
/// fullwidth 2, combining and default-ignorable 0), at Unicode 18.0.
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

/// `s` cut to at most `max` columns, ending in an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
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
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// `n` spaces, a slice at a time (pushing them as chars one by one was a
/// measurable share of a 100,000-row table).
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

    #[test]
    fn every_control_is_substituted() {
        for u in (0u32..0x20).chain(0x7F..0xA0) {
            let c = char::from_u32(u).unwrap();
            let s = format!("a{c}b");
            assert_eq!(display(&s), "a?b", "U+{u:04X}");
            let f = field(&s);
            assert!(f == "a?b" || f == "a_b", "U+{u:04X}: {f}");
            assert!(!f.chars().any(|c| c.is_control()));
        }
        assert_eq!(display("\u{202E}evil"), "?evil");
        assert_eq!(display("\x1b]0;title\x07"), "?]0;title?");
    }

    #[test]
    fn fields_have_no_whitespace_and_are_never_empty() {
        assert_eq!(field(""), "-");
        assert_eq!(field("a b\tc\nd\u{3000}e\u{a0}f"), "a_b_c_d_e_f");
        assert!(matches!(field("plain"), Cow::Borrowed(_)));
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
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("中文字符", 5), "中文…");
        assert_eq!(width(&truncate("中文字符", 4)), 3);
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate("abc", 1), "…");
    }
}
