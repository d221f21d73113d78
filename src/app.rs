//! The live view's state and what keys do to it. Pure: no terminal, no
//! socket. A key handler changes state and returns an `Effect`; only the
//! loop acts on effects.

use termion::event::Key;

use crate::snapshot::Snapshot;
use crate::view::{self, Query};

/// What the loop should do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing visible changed.
    None,
    /// Draw again from the current snapshot.
    Redraw,
    /// Fetch a new snapshot now, then draw.
    Refetch,
    Quit,
}

#[derive(Debug, Default)]
pub struct App {
    pub query: Query,
    /// The last good snapshot; kept on screen while the worker is away.
    pub snap: Snapshot,
    /// Whether any snapshot has arrived yet.
    pub loaded: bool,
    /// Why the last fetch failed (shown as a banner; the table is then stale).
    pub problem: Option<String>,
    /// Indices into `snap.sessions`, in display order.
    pub order: Vec<usize>,
    /// The session the cursor is on, once the user has moved it: the cursor
    /// follows it through re-sorts. `None`: the cursor stays on its row.
    pub selected: Option<Box<str>>,
    pub cursor: usize,
    /// First row on screen.
    pub scroll: usize,
    /// Rows the table had room for at the last draw.
    pub page: usize,
}

impl App {
    pub fn new(query: Query) -> App {
        App { query, page: 1, ..App::default() }
    }

    pub fn set_snapshot(&mut self, snap: Snapshot) {
        self.snap = snap;
        self.loaded = true;
        self.problem = None;
        self.reorder();
    }

    pub fn set_problem(&mut self, why: String) {
        self.problem = Some(why);
    }

    pub fn stale(&self) -> bool {
        self.problem.is_some()
    }

    /// Recompute the order and put the cursor back on the selected session,
    /// or, when it has gone, on the row nearest to where it was.
    pub fn reorder(&mut self) {
        self.order = view::order(&self.snap.sessions, &self.query, &[]);
        if let Some(id) = &self.selected {
            if let Some(pos) = self.order.iter().position(|&i| self.snap.sessions[i].session_id == *id) {
                self.cursor = pos;
            }
        }
        self.clamp();
        if self.selected.is_some() {
            self.selected = self.selected_session_id().map(Into::into);
        }
    }

    fn clamp(&mut self) {
        self.cursor = self.cursor.min(self.order.len().saturating_sub(1));
    }

    pub fn selected_session_id(&self) -> Option<&str> {
        self.order.get(self.cursor).map(|&i| &*self.snap.sessions[i].session_id)
    }

    /// Keep the cursor on screen for a table of `page` rows.
    pub fn fit(&mut self, page: usize) {
        self.page = page.max(1);
        let len = self.order.len();
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        } else if self.cursor >= self.scroll + self.page {
            self.scroll = self.cursor + 1 - self.page;
        }
        // No blank rows below the last session while there are rows above.
        self.scroll = self.scroll.min(len.saturating_sub(self.page));
    }

    fn move_cursor(&mut self, to: isize) -> Effect {
        if self.order.is_empty() {
            return Effect::None;
        }
        let last = self.order.len() as isize - 1;
        self.cursor = to.clamp(0, last) as usize;
        self.selected = self.selected_session_id().map(Into::into);
        Effect::Redraw
    }

    pub fn key(&mut self, key: Key) -> Effect {
        let page = self.page as isize;
        let cur = self.cursor as isize;
        match key {
            Key::Char('q') | Key::Ctrl('c') => Effect::Quit,
            Key::Char('r') => Effect::Refetch,
            Key::Char('s') => {
                self.query.sort = self.query.sort.next_sort();
                self.reorder();
                Effect::Redraw
            }
            Key::Char('f') => {
                self.query.status = self.query.status.next();
                self.reorder();
                Effect::Redraw
            }
            Key::Up | Key::Char('k') => self.move_cursor(cur - 1),
            Key::Down | Key::Char('j') => self.move_cursor(cur + 1),
            Key::PageUp => {
                self.scroll = self.scroll.saturating_sub(self.page);
                self.move_cursor(cur - page)
            }
            Key::PageDown => {
                self.scroll += self.page;
                self.move_cursor(cur + page)
            }
            Key::Home => self.move_cursor(0),
            Key::End => self.move_cursor(isize::MAX),
            _ => Effect::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Column;
    use crate::snapshot::decode;

    fn app(n: usize) -> App {
        let rows: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"session_id": "s{i:03}", "mem_mb": {}, "cpu_pct": {}, "status": "{}"}}"#, i, n - i, if i % 2 == 0 { "active" } else { "slow" }))
            .collect();
        let mut a = App::new(Query::default());
        a.set_snapshot(decode(format!("[{}]", rows.join(", ")).as_bytes()).unwrap());
        a.fit(5);
        a
    }

    fn ids(a: &App) -> Vec<&str> {
        a.order.iter().map(|&i| &*a.snap.sessions[i].session_id).collect()
    }

    #[test]
    fn quit_and_refresh() {
        let mut a = app(3);
        assert_eq!(a.key(Key::Char('q')), Effect::Quit);
        assert_eq!(a.key(Key::Ctrl('c')), Effect::Quit);
        assert_eq!(a.key(Key::Char('r')), Effect::Refetch);
        assert_eq!(a.key(Key::Char('x')), Effect::None);
        assert_eq!(a.key(Key::F(5)), Effect::None);
    }

    #[test]
    fn s_and_f_cycle_and_reorder() {
        let mut a = app(4);
        assert_eq!(ids(&a), ["s003", "s002", "s001", "s000"]);
        assert_eq!(a.key(Key::Char('s')), Effect::Redraw);
        assert_eq!(a.query.sort, Column::Cpu);
        assert_eq!(ids(&a), ["s000", "s001", "s002", "s003"]);
        a.key(Key::Char('f'));
        a.key(Key::Char('f'));
        assert_eq!(a.query.status.name(), "slow");
        assert_eq!(ids(&a), ["s001", "s003"]);
    }

    #[test]
    fn scrolling_keys_move_through_long_tables() {
        let mut a = app(20);
        assert_eq!((a.cursor, a.scroll), (0, 0));
        a.key(Key::Down);
        a.fit(5);
        assert_eq!((a.cursor, a.scroll), (1, 0));
        a.key(Key::PageDown);
        a.fit(5);
        assert_eq!((a.cursor, a.scroll), (6, 5));
        a.key(Key::End);
        a.fit(5);
        assert_eq!((a.cursor, a.scroll), (19, 15));
        a.key(Key::PageUp);
        a.fit(5);
        assert_eq!((a.cursor, a.scroll), (14, 10));
        a.key(Key::Home);
        a.fit(5);
        assert_eq!((a.cursor, a.scroll), (0, 0));
        a.key(Key::Up);
        assert_eq!(a.cursor, 0);
    }

    #[test]
    fn cursor_follows_its_session_through_a_resort() {
        let mut a = app(10);
        a.key(Key::Down);
        a.key(Key::Down);
        assert_eq!(a.selected.as_deref(), Some("s007"));
        a.key(Key::Char('s')); // cpu: ascending ids now
        assert_eq!(a.selected_session_id(), Some("s007"));
        assert_eq!(a.cursor, 7);
    }

    #[test]
    fn when_the_session_ends_the_cursor_takes_the_nearest_row() {
        let mut a = app(10);
        a.key(Key::End);
        assert_eq!(a.selected.as_deref(), Some("s000"));
        let next = decode(br#"[{"session_id": "s005", "mem_mb": 5}, {"session_id": "s009", "mem_mb": 9}]"#).unwrap();
        a.set_snapshot(next);
        assert_eq!(a.selected_session_id(), Some("s005"));
        assert_eq!(a.selected.as_deref(), Some("s005"));
    }

    #[test]
    fn untouched_cursor_stays_on_the_top_row() {
        let mut a = app(5);
        a.key(Key::Char('s'));
        assert_eq!(a.cursor, 0);
        assert_eq!(a.selected, None);
    }

    #[test]
    fn empty_tables_are_safe() {
        let mut a = App::new(Query::default());
        for k in [Key::Up, Key::Down, Key::PageDown, Key::End, Key::Home, Key::Char('s')] {
            a.key(k);
            a.fit(3);
        }
        assert_eq!((a.cursor, a.scroll), (0, 0));
    }
}
