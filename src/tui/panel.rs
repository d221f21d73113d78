//! A scrolling list with a cursor, as htop's Panel: which row the cursor is
//! on, the first row on screen, the rows that fit, and the row the cursor
//! follows once the user has moved it. It knows rows only by position and
//! by key; what the rows are is the caller's business.

use crate::model::SessionKey;

/// What identifies a row through re-sorts and refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Session(SessionKey),
    /// A group view row: the agent, tenant or worker name.
    Group(Box<str>),
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub cursor: usize,
    /// First row on screen.
    pub scroll: usize,
    /// Rows that had room at the last draw.
    pub page: usize,
    /// The row the cursor is on once the user has moved it: the cursor
    /// follows it. `None`: the cursor stays at its position.
    pub selected: Option<RowKey>,
}

impl Default for Panel {
    fn default() -> Self {
        Panel { cursor: 0, scroll: 0, page: 1, selected: None }
    }
}

impl Panel {
    /// Back to the top, following nothing (a new kind of list).
    pub fn reset(&mut self) {
        *self = Panel { page: self.page, ..Panel::default() };
    }

    /// After the rows changed: put the cursor back on the selected row, or,
    /// when it has gone, on the row nearest to where it was.
    pub fn follow(&mut self, len: usize, position_of: impl Fn(&RowKey) -> Option<usize>, key_at: impl Fn(usize) -> Option<RowKey>) {
        if let Some(pos) = self.selected.as_ref().and_then(&position_of) {
            self.cursor = pos;
        }
        self.cursor = self.cursor.min(len.saturating_sub(1));
        if self.selected.is_some() {
            self.selected = key_at(self.cursor);
        }
    }

    /// Move the cursor to `to` (clamped to the rows) and follow that row.
    /// False when there are no rows.
    pub fn move_to(&mut self, to: isize, len: usize, key_at: impl Fn(usize) -> Option<RowKey>) -> bool {
        if len == 0 {
            return false;
        }
        self.cursor = to.clamp(0, len as isize - 1) as usize;
        self.selected = key_at(self.cursor);
        true
    }

    /// A page up or down: the view scrolls by a page, and the cursor with it.
    pub fn page_by(&mut self, pages: isize, len: usize, key_at: impl Fn(usize) -> Option<RowKey>) -> bool {
        let page = self.page as isize;
        if pages < 0 {
            self.scroll = self.scroll.saturating_sub(self.page);
        } else {
            self.scroll += self.page;
        }
        self.move_to(self.cursor as isize + pages * page, len, key_at)
    }

    /// Keep the cursor on screen for a list of `len` rows, `page` of them shown.
    pub fn fit(&mut self, page: usize, len: usize) {
        self.page = page.max(1);
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        } else if self.cursor >= self.scroll + self.page {
            self.scroll = self.cursor + 1 - self.page;
        }
        // No blank rows below the last row while there are rows above.
        self.scroll = self.scroll.min(len.saturating_sub(self.page));
    }

    /// The rows on screen, as a range of positions.
    pub fn visible(&self, len: usize) -> std::ops::Range<usize> {
        self.scroll.min(len)..(self.scroll + self.page).min(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Option<RowKey> {
        Some(RowKey::Group(i.to_string().into()))
    }

    #[test]
    fn moves_clamp_and_follow_the_row() {
        let mut p = Panel::default();
        p.fit(5, 20);
        assert!(p.move_to(3, 20, key));
        assert_eq!((p.cursor, p.selected.clone()), (3, key(3)));
        assert!(p.move_to(99, 20, key));
        assert_eq!(p.cursor, 19);
        p.fit(5, 20);
        assert_eq!(p.scroll, 15);
        assert!(!p.move_to(0, 0, key));
    }

    #[test]
    fn follow_finds_the_row_or_keeps_the_place() {
        let mut p = Panel::default();
        p.move_to(4, 10, key);
        p.follow(10, |_| Some(7), key);
        assert_eq!(p.cursor, 7);
        p.follow(3, |_| None, key);
        assert_eq!((p.cursor, p.selected.clone()), (2, key(2)));
        let mut untouched = Panel::default();
        untouched.follow(10, |_| Some(5), key);
        assert_eq!((untouched.cursor, untouched.selected), (0, None));
    }

    #[test]
    fn pages_scroll_with_the_cursor() {
        let mut p = Panel::default();
        p.fit(5, 20);
        p.move_to(1, 20, key);
        p.page_by(1, 20, key);
        p.fit(5, 20);
        assert_eq!((p.cursor, p.scroll), (6, 5));
        p.page_by(-1, 20, key);
        p.fit(5, 20);
        assert_eq!((p.cursor, p.scroll), (1, 0));
        assert_eq!(p.visible(20), 0..5);
        assert_eq!(p.visible(3), 0..3);
    }
}
