//! A screen line under construction: styles from termion's SGR escapes,
//! a width it never grows past, and how it is painted (`Paint`).
//!
//! What the screen shows is what is there, even where a terminal measures
//! characters differently from us: a row holding any non-ASCII text places
//! each cell at its absolute column and erases the cell first (CHA + ECH,
//! `StyledLine::cell_at`), so a character drawn wider than counted cannot
//! push the next cell out of place and one drawn narrower leaves no stale
//! text behind. ASCII rows, whose widths are certain, are written plainly
//! (fewer bytes per frame).

use std::fmt::Write as _;

use termion::{color, style};

use crate::text::{self, Charset};

/// How lines are painted: with colour or not, for a UTF-8 reader or an
/// ASCII one (bars, sparklines, arrows and the ellipsis fall back to ASCII,
/// and untrusted non-ASCII text shows as `?`), and whether a line may move
/// the cursor along its row to place cells (the live view, which owns the
/// screen; not `--once`, whose frame may go to a file or `less -R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint {
    pub color: bool,
    pub charset: Charset,
    pub place: bool,
}

impl Paint {
    /// For `--once`: no cursor movement.
    pub fn new(color: bool, charset: Charset) -> Paint {
        Paint { color, charset, place: false }
    }

    /// For the live view: cells of non-ASCII rows are placed.
    pub fn live(color: bool, charset: Charset) -> Paint {
        Paint { color, charset, place: true }
    }

    pub fn unicode(self) -> bool {
        self.charset.unicode()
    }

    /// The sort arrow: descending or ascending.
    pub fn arrow(self, down: bool) -> char {
        match (self.unicode(), down) {
            (true, true) => '↓',
            (true, false) => '↑',
            (false, true) => 'v',
            (false, false) => '^',
        }
    }
}

/// A screen line under construction, with styles, that never grows past
/// its width (the plain table's line is `output::PlainRow`).
pub struct StyledLine {
    s: String,
    used: usize,
    max: usize,
    paint: Paint,
    /// An attribute is on, so a reset is owed.
    styled: bool,
}

impl StyledLine {
    pub fn new(max: usize, paint: Paint) -> StyledLine {
        StyledLine { s: String::with_capacity(max + 32), used: 0, max, paint, styled: false }
    }

    pub fn charset(&self) -> Charset {
        self.paint.charset
    }

    pub fn room(&self) -> usize {
        self.max - self.used
    }

    pub fn used(&self) -> usize {
        self.used
    }

    /// Trusted or already sanitized text, cut with an ellipsis at the edge.
    pub fn text(&mut self, t: &str) -> &mut Self {
        let cut = text::truncate(t, self.room(), self.paint.charset);
        self.used += text::width(&cut);
        self.s.push_str(&cut);
        self
    }

    /// Untrusted text: sanitized, then cut.
    pub fn untrusted(&mut self, t: &str) -> &mut Self {
        self.text(&text::display(t, self.paint.charset))
    }

    /// A whole item or nothing: numbers and labelled figures are never cut,
    /// they are left out when they do not fit. True when it was written.
    pub fn item(&mut self, t: &str) -> bool {
        if text::width(t) > self.room() {
            return false;
        }
        self.text(t);
        true
    }

    /// Move to column `col` (0-based) and erase the `width` columns there:
    /// the start of a cell placed absolutely.
    pub fn cell_at(&mut self, col: usize, width: usize) -> &mut Self {
        if col >= self.max {
            return self;
        }
        let width = width.min(self.max - col);
        let _ = write!(self.s, "\x1b[{}G", col + 1);
        if width > 0 {
            let _ = write!(self.s, "\x1b[{width}X");
        }
        self.used = col;
        self
    }

    /// An SGR attribute; attributes (bold, inverse) are always allowed.
    /// (Trait objects, not generics: one copy of this code, not one per style.)
    pub fn attr(&mut self, sgr: &dyn std::fmt::Display) -> &mut Self {
        let _ = write!(self.s, "{sgr}");
        self.styled = true;
        self
    }

    /// A colour, dropped when colour is off.
    pub fn fg(&mut self, c: &dyn color::Color) -> &mut Self {
        if self.paint.color {
            let _ = write!(self.s, "{}", color::Fg(c));
            self.styled = true;
        }
        self
    }

    pub fn reset(&mut self) -> &mut Self {
        if self.styled {
            let _ = write!(self.s, "{}", style::Reset);
            self.styled = false;
        }
        self
    }

    pub fn pad(&mut self, to: usize) -> &mut Self {
        let fill = to.min(self.max).saturating_sub(self.used);
        text::spaces(&mut self.s, fill);
        self.used += fill;
        self
    }

    pub fn finish(mut self) -> String {
        self.reset();
        self.s
    }
}

/// A faint line of `t`: what a pane says when it has nothing to show.
pub fn faint(w: usize, paint: Paint, t: &str) -> String {
    let mut l = StyledLine::new(w, paint);
    l.attr(&style::Faint).text(t);
    l.finish()
}

/// Frame text without its escapes (SGR, and the CHA/ECH of placed cells),
/// for tests that read what is shown.
#[cfg(test)]
pub(crate) fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in s.chars() {
        match (esc, c) {
            (false, '\x1b') => esc = true,
            (true, c) if c.is_ascii_alphabetic() => esc = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

