//! The live view's state and what keys do to it. Pure: no terminal, no
//! socket. A key handler changes state and returns an `Effect`; only the
//! loop acts on effects.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use termion::event::Key;

use crate::snapshot::SessionId;
use crate::snapshot::{Session, Snapshot};
use crate::view::{self, Group, GroupRow, Query};

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

/// Every key of the live view, for `--help`, the `?` overlay and the README.
pub const KEYS: &[(&str, &str)] = &[
    ("q, Ctrl-C", "quit"),
    ("r", "refresh now"),
    ("s", "cycle the sort column (mem_mb, cpu_pct, duration_s, agent, session)"),
    ("S", "reverse the sort direction"),
    ("f", "cycle the status filter (all, active, slow, draining, errored)"),
    ("a", "cycle the agent filter through the agents present"),
    ("t", "cycle the tenant filter through the tenants present"),
    ("Up/Down, j/k", "move the selection"),
    ("PgUp/PgDn, Home/End", "move the selection by a page, to the ends"),
    ("p", "pin or unpin the selected session (kept at the top)"),
    ("/", "search id, agent, tenant (Enter keeps it, Esc clears it)"),
    ("Enter", "details of the selected session (Enter or Esc closes); in a group view, show that group"),
    ("g", "per-agent view on or off"),
    ("G", "per-tenant view on or off"),
    ("Esc", "leave a group view, or clear the search"),
    ("?, h", "this help (any key closes it)"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Table,
    /// Typing a search; the query follows every keystroke.
    Search,
    /// The detail pane for this session.
    Detail(SessionId),
    Help,
}

/// Up to a minute of one session's CPU and memory, as the client saw them:
/// at most one sample a second (61 in all), whatever the refresh rate.
#[derive(Debug, Default, Clone)]
pub struct Trend {
    pub samples: std::collections::VecDeque<(Instant, f64, f64)>,
    /// The refresh that last saw the session.
    seen: u64,
}

/// Samples closer together than this replace each other.
const TREND_STEP: Duration = Duration::from_secs(1);

/// How long trends reach back.
pub const TREND_SPAN: Duration = Duration::from_secs(60);
/// Above this many sessions only the selected session's trend is kept, so a
/// huge pool costs no more than a small one.
pub const TREND_ALL_UP_TO: usize = 10_000;

#[derive(Debug)]
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
    /// Natural widths of the text columns over `order` (see `render::layout`).
    pub text_widths: [usize; 9],
    /// Client-side pins, in the order pinned.
    pub pins: Vec<SessionId>,
    /// The per-agent or per-tenant view, when on, and its rows.
    pub group: Option<Group>,
    pub groups: Vec<GroupRow>,
    pub mode: Mode,
    /// The last snapshot's copy of the session in the detail pane, so the pane
    /// can still show it after the session ends.
    pub detail_last: Option<Session>,
    pub trends: HashMap<SessionId, Trend>,
    /// Counts snapshots, to drop the trends of sessions that have ended.
    refreshes: u64,
    /// The row the cursor is on, once the user has moved it: the cursor follows
    /// it (a session id, or a group name) through re-sorts. `None`: the cursor
    /// stays on its row.
    pub selected: Option<SessionId>,
    pub cursor: usize,
    /// First row on screen.
    pub scroll: usize,
    /// Rows the table had room for at the last draw.
    pub page: usize,
}

impl App {
    pub fn new(query: Query) -> App {
        App {
            query,
            snap: Snapshot::default(),
            loaded: false,
            problem: None,
            order: Vec::new(),
            text_widths: [0; 9],
            pins: Vec::new(),
            group: None,
            groups: Vec::new(),
            mode: Mode::Table,
            detail_last: None,
            trends: HashMap::new(),
            refreshes: 0,
            selected: None,
            cursor: 0,
            scroll: 0,
            page: 1,
        }
    }

    pub fn set_snapshot(&mut self, snap: Snapshot, now: Instant) {
        self.snap = snap;
        self.loaded = true;
        self.problem = None;
        // A pinned session that has ended will not come back (ids are jobs).
        let sessions = &self.snap.sessions;
        self.pins.retain(|p| sessions.iter().any(|s| s.session_id == *p));
        if let Mode::Detail(id) = &self.mode {
            if let Some(s) = sessions.iter().find(|s| s.session_id == *id) {
                self.detail_last = Some(s.clone());
            }
        }
        // Order first: everything after it indexes the new snapshot through it.
        self.reorder();
        self.record_trends(now);
    }

    /// Add this snapshot to the trends, keep a minute of each, and forget
    /// sessions that have ended (unless the detail pane shows one): a pool
    /// that churns fast must not leave a minute of dead trends behind.
    fn record_trends(&mut self, now: Instant) {
        self.refreshes += 1;
        let refresh = self.refreshes;
        let all = self.snap.sessions.len() <= TREND_ALL_UP_TO;
        let detail: Option<SessionId> = match &self.mode {
            Mode::Detail(id) => Some(id.clone()),
            _ => None,
        };
        let focus = detail.clone().or_else(|| self.selected_session_id().map(Into::into));
        for s in &self.snap.sessions {
            if !all && focus.as_deref() != Some(&*s.session_id) {
                continue;
            }
            let t = match self.trends.get_mut(&s.session_id) {
                Some(t) => t,
                None => self.trends.entry(s.session_id.clone()).or_default(),
            };
            t.seen = refresh;
            // The newest sample is a live slot, replaced until a second has
            // passed since the one before it.
            let n = t.samples.len();
            if n >= 2 && now.saturating_duration_since(t.samples[n - 2].0) < TREND_STEP {
                t.samples.pop_back();
            }
            t.samples.push_back((now, s.cpu_pct, s.mem_mb));
        }
        let cutoff = now.checked_sub(TREND_SPAN);
        self.trends.retain(|id, t| {
            while t.samples.front().is_some_and(|&(at, _, _)| cutoff.is_some_and(|c| at < c)) {
                t.samples.pop_front();
            }
            !t.samples.is_empty() && (t.seen == refresh || detail.as_deref() == Some(&**id))
        });
    }

    pub fn set_problem(&mut self, why: String) {
        self.problem = Some(why);
    }

    pub fn stale(&self) -> bool {
        self.problem.is_some()
    }

    /// Rows in the current view: sessions, or groups.
    pub fn len(&self) -> usize {
        if self.group.is_some() { self.groups.len() } else { self.order.len() }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key that identifies row `i`: a session id or a group name.
    fn key_at(&self, i: usize) -> Option<&str> {
        if self.group.is_some() {
            self.groups.get(i).map(|g| &*g.name)
        } else {
            self.order.get(i).map(|&s| &*self.snap.sessions[s].session_id)
        }
    }

    /// Recompute the order and put the cursor back on the selected row, or,
    /// when it has gone, on the row nearest to where it was.
    pub fn reorder(&mut self) {
        self.order = view::order(&self.snap.sessions, &self.query, &self.pins);
        self.text_widths = crate::tui::render::natural_widths(&self.snap, &self.order, false);
        self.groups = match self.group {
            Some(by) => view::groups(&self.snap.sessions, &self.order, by, &self.query),
            None => Vec::new(),
        };
        if let Some(key) = self.selected.clone() {
            if let Some(pos) = (0..self.len()).find(|&i| self.key_at(i) == Some(&*key)) {
                self.cursor = pos;
            }
        }
        self.cursor = self.cursor.min(self.len().saturating_sub(1));
        if self.selected.is_some() {
            self.selected = self.key_at(self.cursor).map(Into::into);
        }
    }

    pub fn selected_session_id(&self) -> Option<&str> {
        if self.group.is_some() {
            return None;
        }
        self.key_at(self.cursor)
    }

    /// The session the detail pane shows: live if it still is, else as last seen.
    pub fn detail(&self) -> Option<(&Session, bool)> {
        let Mode::Detail(id) = &self.mode else { return None };
        match self.snap.sessions.iter().find(|s| s.session_id == *id) {
            Some(s) => Some((s, true)),
            None => self.detail_last.as_ref().map(|s| (s, false)),
        }
    }

    /// Keep the cursor on screen for a table of `page` rows.
    pub fn fit(&mut self, page: usize) {
        self.page = page.max(1);
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        } else if self.cursor >= self.scroll + self.page {
            self.scroll = self.cursor + 1 - self.page;
        }
        // No blank rows below the last row while there are rows above.
        self.scroll = self.scroll.min(self.len().saturating_sub(self.page));
    }

    fn move_cursor(&mut self, to: isize) -> Effect {
        if self.is_empty() {
            return Effect::None;
        }
        let last = self.len() as isize - 1;
        self.cursor = to.clamp(0, last) as usize;
        self.selected = self.key_at(self.cursor).map(Into::into);
        if let Mode::Detail(_) = self.mode {
            self.open_detail();
        }
        Effect::Redraw
    }

    fn open_detail(&mut self) {
        if let Some(id) = self.selected_session_id().map(SessionId::from) {
            self.detail_last = self.snap.sessions.iter().find(|s| s.session_id == id).cloned();
            self.selected = Some(id.clone());
            self.mode = Mode::Detail(id);
        }
    }

    /// Next value of a filter cycling through the values present, in order:
    /// all, each value, all again. (The smallest value after the current one,
    /// in one pass.)
    fn cycle<'a>(current: &Option<String>, values: impl Iterator<Item = &'a str>) -> Option<String> {
        values.filter(|v| current.as_deref().is_none_or(|c| *v > c)).min().map(String::from)
    }

    fn refilter(&mut self) -> Effect {
        self.reorder();
        Effect::Redraw
    }

    pub fn key(&mut self, key: Key) -> Effect {
        if key == Key::Ctrl('c') {
            return Effect::Quit;
        }
        match self.mode {
            Mode::Search => self.search_key(key),
            Mode::Help => {
                self.mode = Mode::Table;
                if key == Key::Char('q') { Effect::Quit } else { Effect::Redraw }
            }
            Mode::Detail(_) => match key {
                Key::Char('\n') | Key::Esc => {
                    self.mode = Mode::Table;
                    Effect::Redraw
                }
                Key::Char('q') => Effect::Quit,
                Key::Char('r') => Effect::Refetch,
                Key::Up | Key::Down | Key::Char('j') | Key::Char('k') => self.table_key(key),
                _ => Effect::None,
            },
            Mode::Table => self.table_key(key),
        }
    }

    fn search_key(&mut self, key: Key) -> Effect {
        let text = self.query.search.get_or_insert_with(String::new);
        match key {
            Key::Char('\n') => {
                self.mode = Mode::Table;
                if text.is_empty() {
                    self.query.search = None;
                }
            }
            Key::Esc => {
                self.mode = Mode::Table;
                self.query.search = None;
            }
            Key::Backspace => {
                text.pop();
            }
            Key::Char(c) if !c.is_control() => text.push(c),
            Key::Up | Key::Down | Key::PageUp | Key::PageDown => return self.table_key(key),
            _ => return Effect::None,
        }
        self.refilter()
    }

    fn table_key(&mut self, key: Key) -> Effect {
        let page = self.page as isize;
        let cur = self.cursor as isize;
        match key {
            Key::Char('q') => Effect::Quit,
            Key::Char('r') => Effect::Refetch,
            Key::Char('s') => {
                self.query.sort = self.query.sort.next_sort();
                self.refilter()
            }
            Key::Char('S') => {
                self.query.reverse = !self.query.reverse;
                self.refilter()
            }
            Key::Char('f') => {
                self.query.status = self.query.status.next();
                self.refilter()
            }
            Key::Char('a') => {
                let agents = self.snap.sessions.iter().map(|s| &*s.agent_name);
                self.query.agent = App::cycle(&self.query.agent, agents);
                self.refilter()
            }
            Key::Char('t') => {
                let tenants = self.snap.sessions.iter().map(|s| s.tenant.as_deref().unwrap_or("-"));
                self.query.tenant = App::cycle(&self.query.tenant, tenants);
                self.refilter()
            }
            Key::Char('p') => match self.selected_session_id().map(SessionId::from) {
                Some(id) => {
                    match self.pins.iter().position(|p| *p == id) {
                        Some(i) => {
                            self.pins.remove(i);
                        }
                        None => self.pins.push(id.clone()),
                    }
                    self.selected = Some(id);
                    self.refilter()
                }
                None => Effect::None,
            },
            Key::Char('/') => {
                self.mode = Mode::Search;
                self.query.search.get_or_insert_with(String::new);
                Effect::Redraw
            }
            Key::Char('?') | Key::Char('h') => {
                self.mode = Mode::Help;
                Effect::Redraw
            }
            Key::Char('g') => self.toggle_group(Group::Agent),
            Key::Char('G') => self.toggle_group(Group::Tenant),
            Key::Char('\n') => match self.group {
                // Enter on a group narrows the table to it.
                Some(by) => {
                    let Some(name) = self.key_at(self.cursor).map(String::from) else { return Effect::None };
                    match by {
                        Group::Agent => self.query.agent = Some(name),
                        Group::Tenant => self.query.tenant = Some(name),
                    }
                    self.toggle_group(by)
                }
                None => {
                    self.open_detail();
                    Effect::Redraw
                }
            },
            Key::Esc => {
                if let Some(by) = self.group {
                    self.toggle_group(by)
                } else if self.query.search.take().is_some() {
                    self.refilter()
                } else {
                    Effect::None
                }
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

    /// Switch to the group view `by`, or back to sessions; the cursor starts
    /// at the top of the new view.
    fn toggle_group(&mut self, by: Group) -> Effect {
        self.group = if self.group == Some(by) { None } else { Some(by) };
        self.cursor = 0;
        self.scroll = 0;
        self.selected = None;
        self.refilter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Column;
    use crate::decode::decode;

    fn snap(n: usize) -> Snapshot {
        let rows: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"session_id": "s{i:03}", "agent_name": "{}", "tenant": {}, "mem_mb": {}, "cpu_pct": {}, "status": "{}"}}"#,
                    ["alpha", "beta", "gamma"][i % 3],
                    if i % 4 == 0 { "null".to_string() } else { format!("\"t{}\"", i % 2) },
                    i,
                    n - i,
                    if i % 2 == 0 { "active" } else { "slow" }
                )
            })
            .collect();
        decode(format!("[{}]", rows.join(", ")).as_bytes()).unwrap()
    }

    fn app(n: usize) -> App {
        let mut a = App::new(Query::default());
        a.set_snapshot(snap(n), Instant::now());
        a.fit(5);
        a
    }

    fn ids(a: &App) -> Vec<&str> {
        a.order.iter().map(|&i| &*a.snap.sessions[i].session_id).collect()
    }

    fn keys(a: &mut App, ks: &str) {
        for c in ks.chars() {
            a.key(Key::Char(c));
        }
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
        keys(&mut a, "ff");
        assert_eq!(a.query.status.name(), "slow");
        assert_eq!(ids(&a), ["s001", "s003"]);
    }

    #[test]
    fn shift_s_reverses() {
        let mut a = app(4);
        keys(&mut a, "S");
        assert!(a.query.reverse);
        assert_eq!(ids(&a), ["s000", "s001", "s002", "s003"]);
        keys(&mut a, "S");
        assert_eq!(ids(&a), ["s003", "s002", "s001", "s000"]);
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
        a.set_snapshot(next, Instant::now());
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
        for k in [Key::Up, Key::Down, Key::PageDown, Key::End, Key::Home, Key::Char('s'), Key::Char('p'), Key::Char('\n'), Key::Char('g'), Key::Char('\n'), Key::Char('a'), Key::Char('t')] {
            a.key(k);
            a.fit(3);
        }
        assert_eq!((a.cursor, a.scroll), (0, 0));
    }

    #[test]
    fn pins_stay_on_top_in_pin_order_and_survive_refreshes() {
        let mut a = app(6);
        keys(&mut a, "jjj"); // s002
        keys(&mut a, "p");
        assert_eq!(ids(&a)[0], "s002");
        assert_eq!(a.selected.as_deref(), Some("s002"));
        a.key(Key::End); // s000
        keys(&mut a, "p");
        assert_eq!(&ids(&a)[..2], ["s002", "s000"]);
        keys(&mut a, "s"); // any sort: pins first
        assert_eq!(&ids(&a)[..2], ["s002", "s000"]);
        a.set_snapshot(snap(6), Instant::now());
        assert_eq!(&ids(&a)[..2], ["s002", "s000"]);
        // Unpin (cursor is on s000), then a session that ends loses its pin.
        keys(&mut a, "p");
        assert_eq!(a.pins, vec![SessionId::from("s002")]);
        a.set_snapshot(decode(br#"[{"session_id": "s001"}]"#).unwrap(), Instant::now());
        assert!(a.pins.is_empty());
    }

    #[test]
    fn incremental_search_enter_keeps_esc_clears() {
        let mut a = app(12);
        keys(&mut a, "/s01");
        assert_eq!(a.mode, Mode::Search);
        assert_eq!(ids(&a), ["s011", "s010"]);
        a.key(Key::Backspace);
        a.key(Key::Backspace);
        assert_eq!(ids(&a).len(), 12);
        keys(&mut a, "0Q"); // q and capitals are text while searching
        assert_eq!(a.query.search.as_deref(), Some("s0Q"));
        assert!(ids(&a).is_empty());
        a.key(Key::Backspace);
        keys(&mut a, "05");
        a.key(Key::Char('\n'));
        assert_eq!(a.mode, Mode::Table);
        assert_eq!(ids(&a), ["s005"]);
        a.key(Key::Char('/'));
        a.key(Key::Esc);
        assert_eq!(a.query.search, None);
        assert_eq!(ids(&a).len(), 12);
        keys(&mut a, "/BETA\n");
        assert_eq!(ids(&a).len(), 4);
        a.key(Key::Esc);
        assert_eq!(ids(&a).len(), 12);
    }

    #[test]
    fn a_and_t_cycle_through_present_values() {
        let mut a = app(8);
        let mut seen = vec![];
        for _ in 0..4 {
            keys(&mut a, "a");
            seen.push(a.query.agent.clone());
        }
        assert_eq!(seen, [Some("alpha".into()), Some("beta".into()), Some("gamma".into()), None]);
        keys(&mut a, "t");
        assert_eq!(a.query.tenant.as_deref(), Some("-"));
        assert_eq!(ids(&a), ["s004", "s000"]);
        keys(&mut a, "t");
        assert_eq!(a.query.tenant.as_deref(), Some("t0"));
        keys(&mut a, "tt");
        assert_eq!(a.query.tenant, None);
    }

    #[test]
    fn detail_opens_on_enter_follows_the_selection_and_outlives_the_session() {
        let mut a = app(5);
        a.key(Key::Down);
        a.key(Key::Char('\n'));
        assert_eq!(a.mode, Mode::Detail("s003".into()));
        assert_eq!(a.detail().map(|(s, live)| (&*s.session_id, live)), Some(("s003", true)));
        a.key(Key::Down);
        assert_eq!(a.mode, Mode::Detail("s002".into()));
        a.set_snapshot(decode(br#"[{"session_id": "s000"}]"#).unwrap(), Instant::now());
        assert_eq!(a.detail().map(|(s, live)| (&*s.session_id, live)), Some(("s002", false)));
        a.key(Key::Esc);
        assert_eq!(a.mode, Mode::Table);
        a.key(Key::Char('\n'));
        a.key(Key::Char('\n'));
        assert_eq!(a.mode, Mode::Table);
    }

    #[test]
    fn a_smaller_snapshot_after_a_bigger_one_is_safe() {
        let mut a = app(30);
        a.key(Key::End);
        a.set_snapshot(snap(2), Instant::now());
        assert_eq!(a.cursor, 1);
        a.set_snapshot(Snapshot::default(), Instant::now());
        assert_eq!((a.cursor, a.len()), (0, 0));
    }

    #[test]
    fn trends_keep_a_minute() {
        let mut a = app(3);
        let t0 = Instant::now();
        for k in 0..90 {
            a.set_snapshot(snap(3), t0 + Duration::from_secs(k));
        }
        let t = &a.trends["s001"];
        assert_eq!(t.samples.len(), 61);
        let next = decode(br#"[{"session_id": "s001"}]"#).unwrap();
        a.set_snapshot(next.clone(), t0 + Duration::from_secs(200));
        assert_eq!(a.trends.len(), 1, "ended sessions are forgotten");
        // Ten refreshes a second keep one sample a second.
        for k in 0..50 {
            a.set_snapshot(next.clone(), t0 + Duration::from_secs(201) + Duration::from_millis(100 * k));
        }
        let s = &a.trends["s001"].samples;
        assert!((6..=8).contains(&s.len()), "{}", s.len());
        let gaps: Vec<Duration> = s.iter().zip(s.iter().skip(1)).map(|(x, y)| y.0 - x.0).collect();
        assert!(gaps[..gaps.len() - 1].iter().all(|g| *g >= Duration::from_millis(900)), "{gaps:?}");
    }

    #[test]
    fn a_churning_pool_leaves_no_trends_behind() {
        let mut a = app(3);
        let t0 = Instant::now();
        for k in 0..100u64 {
            let rows: Vec<String> = (0..50).map(|i| format!(r#"{{"session_id": "gen{k}-{i}"}}"#)).collect();
            a.set_snapshot(decode(format!("[{}]", rows.join(", ")).as_bytes()).unwrap(), t0 + Duration::from_millis(100 * k));
        }
        assert_eq!(a.trends.len(), 50);
    }

    #[test]
    fn the_detail_pane_keeps_its_trend_after_the_session_ends() {
        let mut a = app(3);
        a.key(Key::Char('\n'));
        let id = a.selected_session_id().unwrap().to_string();
        a.set_snapshot(decode(br#"[{"session_id": "other"}]"#).unwrap(), Instant::now());
        assert!(a.trends.contains_key(id.as_str()));
        assert_eq!(a.detail().map(|(s, live)| (s.session_id.to_string(), live)), Some((id, false)));
    }

    #[test]
    fn group_views_toggle_sort_and_drill_down() {
        let mut a = app(9);
        keys(&mut a, "g");
        assert_eq!(a.group, Some(Group::Agent));
        let names: Vec<&str> = a.groups.iter().map(|g| &*g.name).collect();
        // mem_mb: by memory share sum, biggest first.
        assert_eq!(names, ["gamma", "beta", "alpha"]);
        assert_eq!((a.groups[0].sessions, a.groups[0].slow), (3, 1));
        keys(&mut a, "j\n"); // beta
        assert_eq!(a.group, None);
        assert_eq!(a.query.agent.as_deref(), Some("beta"));
        assert_eq!(ids(&a).len(), 3);
        keys(&mut a, "G");
        assert_eq!(a.group, Some(Group::Tenant));
        keys(&mut a, "G");
        assert_eq!(a.group, None);
        keys(&mut a, "g");
        a.key(Key::Esc);
        assert_eq!(a.group, None);
    }

    #[test]
    fn help_closes_on_any_key() {
        let mut a = app(3);
        keys(&mut a, "?");
        assert_eq!(a.mode, Mode::Help);
        assert_eq!(a.key(Key::Char('x')), Effect::Redraw);
        assert_eq!(a.mode, Mode::Table);
        keys(&mut a, "h");
        assert_eq!(a.key(Key::Char('q')), Effect::Quit);
    }
}
