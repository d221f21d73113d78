//! Untrusted text made safe for a terminal or a pipe, and its display width.
//!
//! Session ids, agent names and tenants are chosen by whoever started a
//! session. No C0/C1 control or DEL from them may reach the terminal raw (an
//! ESC starts a sequence that can retitle, recolour or rewrite the screen),
//! and bidi overrides could make one id look like another; all become `?`.

use std::borrow::Cow;

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

/// Terminal columns taken by `c` (after sanitizing: no controls left).
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    if u < 0x300 {
        return 1;
    }
    if in_ranges(u, ZERO_WIDTH) {
        0
    } else if in_ranges(u, WIDE) {
        2
    } else {
        1
    }
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

fn in_ranges(u: u32, ranges: &[(u32, u32)]) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < u {
                std::cmp::Ordering::Less
            } else if lo > u {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Combining marks and zero-width characters (the common blocks).
const ZERO_WIDTH: &[(u32, u32)] = &[
    (0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05BD), (0x05BF, 0x05BF),
    (0x05C1, 0x05C2), (0x05C4, 0x05C5), (0x05C7, 0x05C7), (0x0610, 0x061A),
    (0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06DC), (0x06DF, 0x06E4),
    (0x06E7, 0x06E8), (0x06EA, 0x06ED), (0x0900, 0x0902), (0x093A, 0x093A),
    (0x093C, 0x093C), (0x0941, 0x0948), (0x094D, 0x094D), (0x0951, 0x0957),
    (0x0E31, 0x0E31), (0x0E34, 0x0E3A), (0x0E47, 0x0E4E), (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF), (0x200B, 0x200D), (0x20D0, 0x20FF), (0xFE00, 0xFE0F),
    (0xFE20, 0xFE2F), (0xFEFF, 0xFEFF), (0xE0100, 0xE01EF),
];

/// East Asian Wide and Fullwidth characters, and emoji shown two columns wide.
const WIDE: &[(u32, u32)] = &[
    (0x1100, 0x115F), (0x231A, 0x231B), (0x2329, 0x232A), (0x23E9, 0x23EC),
    (0x23F0, 0x23F0), (0x23F3, 0x23F3), (0x25FD, 0x25FE), (0x2614, 0x2615),
    (0x2648, 0x2653), (0x267F, 0x267F), (0x2693, 0x2693), (0x26A1, 0x26A1),
    (0x26AA, 0x26AB), (0x26BD, 0x26BE), (0x26C4, 0x26C5), (0x26CE, 0x26CE),
    (0x26D4, 0x26D4), (0x26EA, 0x26EA), (0x26F2, 0x26F3), (0x26F5, 0x26F5),
    (0x26FA, 0x26FA), (0x26FD, 0x26FD), (0x2705, 0x2705), (0x270A, 0x270B),
    (0x2728, 0x2728), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755),
    (0x2757, 0x2757), (0x2795, 0x2797), (0x27B0, 0x27B0), (0x27BF, 0x27BF),
    (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x2E80, 0x303E),
    (0x3041, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xA4CF),
    (0xA960, 0xA97F), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFE10, 0xFE19),
    (0xFE30, 0xFE6F), (0xFF00, 0xFF60), (0xFFE0, 0xFFE6), (0x16FE0, 0x16FE4),
    (0x17000, 0x18AFF), (0x1B000, 0x1B2FF), (0x1F004, 0x1F004), (0x1F0CF, 0x1F0CF),
    (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F200, 0x1F202), (0x1F210, 0x1F23B),
    (0x1F240, 0x1F248), (0x1F250, 0x1F251), (0x1F260, 0x1F265), (0x1F300, 0x1F320),
    (0x1F32D, 0x1F335), (0x1F337, 0x1F37C), (0x1F37E, 0x1F393), (0x1F3A0, 0x1F3CA),
    (0x1F3CF, 0x1F3D3), (0x1F3E0, 0x1F3F0), (0x1F3F4, 0x1F3F4), (0x1F3F8, 0x1F43E),
    (0x1F440, 0x1F440), (0x1F442, 0x1F4FC), (0x1F4FF, 0x1F53D), (0x1F54B, 0x1F54E),
    (0x1F550, 0x1F567), (0x1F57A, 0x1F57A), (0x1F595, 0x1F596), (0x1F5A4, 0x1F5A4),
    (0x1F5FB, 0x1F64F), (0x1F680, 0x1F6C5), (0x1F6CC, 0x1F6CC), (0x1F6D0, 0x1F6D2),
    (0x1F6D5, 0x1F6D7), (0x1F6DC, 0x1F6DF), (0x1F6EB, 0x1F6EC), (0x1F6F4, 0x1F6FC),
    (0x1F7E0, 0x1F7EB), (0x1F7F0, 0x1F7F0), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945),
    (0x1F947, 0x1F9FF), (0x1FA70, 0x1FAFF), (0x20000, 0x2FFFD), (0x30000, 0x3FFFD),
];

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
