//! What is on the terminal, and the bytes that turn it into the next frame.
//!
//! The first frame (and any frame after a resize) clears and draws every
//! line; after that only lines that changed are rewritten, so an unchanged
//! frame costs nothing and a frame with one changed row costs one line.
//! A changed line shorter than the width ends in erase-to-end-of-line, so
//! whatever the terminal drew there before is gone even when it measures a
//! character narrower than we do; a line that fills the width does not (the
//! cursor then sits on the last column, and an erase there would eat that
//! character). Autowrap is off while the view runs (`term`), so a line the
//! terminal measures wider than we do is clipped at the edge instead of
//! spilling onto the next row.

use std::fmt::Write as _;

use termion::{clear, cursor};

#[derive(Debug, Default)]
pub struct Screen {
    lines: Vec<String>,
    size: Option<(u16, u16)>,
}

impl Screen {
    /// The escapes and text that draw `next` (exactly `h` lines of at most
    /// `w` columns) over what is on screen now.
    pub fn update(&mut self, next: Vec<String>, size: (u16, u16)) -> String {
        let mut out = String::new();
        let full = self.size != Some(size);
        if full {
            let _ = write!(out, "{}{}", termion::style::Reset, clear::All);
        }
        for (i, line) in next.iter().enumerate() {
            if !full && self.lines.get(i) == Some(line) {
                continue;
            }
            if full && line.is_empty() {
                continue; // already blank
            }
            let _ = write!(out, "{}{}", cursor::Goto(1, i as u16 + 1), line);
            if visible_width(line) < usize::from(size.0) {
                let _ = write!(out, "{}", clear::UntilNewline);
            }
        }
        self.lines = next;
        self.size = Some(size);
        out
    }

    /// Forget what is on screen (the next update redraws everything).
    pub fn invalidate(&mut self) {
        self.size = None;
    }
}

/// Columns a frame line takes, skipping our own CSI sequences. Frame lines
/// hold no other escapes: untrusted text is sanitized before it gets here.
pub fn visible_width(line: &str) -> usize {
    let mut w = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            w += crate::text::char_width(c);
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn first_frame_draws_everything_then_only_changes() {
        let mut s = Screen::default();
        let first = s.update(lines(&["ab", "", "cd"]), (4, 3));
        assert!(first.starts_with("\x1b[m\x1b[2J"));
        assert!(first.contains("\x1b[1;1Hab\x1b[K") && first.contains("\x1b[3;1Hcd\x1b[K"));
        assert!(!first.contains("\x1b[2;1H"));
        assert_eq!(s.update(lines(&["ab", "", "cd"]), (4, 3)), "");
        assert_eq!(s.update(lines(&["ab", "x", "cd"]), (4, 3)), "\x1b[2;1Hx\x1b[K");
        // A line as wide as the screen gets no erase after it.
        assert_eq!(s.update(lines(&["ab", "wxyz", "cd"]), (4, 3)), "\x1b[2;1Hwxyz");
    }

    #[test]
    fn a_resize_redraws_everything() {
        let mut s = Screen::default();
        s.update(lines(&["ab"]), (4, 1));
        let out = s.update(lines(&["ab"]), (5, 1));
        assert!(out.contains("\x1b[2J") && out.contains("ab\x1b[K"));
        s.invalidate();
        assert!(s.update(lines(&["ab"]), (5, 1)).contains("\x1b[2J"));
    }

    #[test]
    fn widths_skip_escapes_and_count_wide_chars() {
        assert_eq!(visible_width("\x1b[1mab\x1b[m中"), 4);
        assert_eq!(visible_width("\x1b[38;5;2mok\x1b[m"), 2);
    }
}
