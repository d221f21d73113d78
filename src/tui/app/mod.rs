//! The live view's state, and (`act`) what keys do to it. Pure: no
//! terminal, no socket. `App` coordinates the query and the rows it
//! selects, the cursor (`Panel`), the trends (`Trends`), pins, the group
//! view and the mode.

mod act;

use std::path::PathBuf;
use std::time::Instant;

use super::panel::{Panel, RowKey};
use super::trends::Trends;
use crate::model::column;
use crate::model::{Pool, Session, SessionKey, Snapshot, Update};
use crate::events::Events;
use crate::source::Banner;
use crate::summary::Summary;
use crate::text::Charset;
use crate::view::{self, Group, GroupRow, Query};

/// What the loop must do after a key (the screen is redrawn after every
/// batch of keys anyway, and a frame that did not change costs nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Fetch a new snapshot now.
    Refetch,
    /// Give the terminal back and stop (Ctrl-Z).
    Suspend,
    Quit,
    /// Move through the recording (a replay).
    Travel(Travel),
    /// Take the stack of this worker (its `WorkerEntry::key`) now.
    TakeStack(u32),
}

/// A move a replay's keys ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Travel {
    /// Samples forward (back, negative).
    Step(i64),
    /// Minutes forward (back, negative).
    Minutes(i64),
    PlayPause,
    Faster,
    Slower,
    /// To the time typed (not yet read).
    To(String),
}

/// What the title says of a replay.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplayView {
    /// The sample shown (ms since the epoch).
    pub time: i64,
    pub playing: bool,
    pub speed: f64,
    /// Bad lines met so far.
    pub bad: usize,
    /// What the last move had to say (a time that could not be read...).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Table,
    /// Typing a search; the query follows every keystroke.
    Search,
    /// The detail pane for this session.
    Detail(SessionKey),
    Help,
    /// Typing a time to go to (a replay).
    Goto,
    /// The events pane.
    Events,
    /// The stack of this worker (its `WorkerEntry::key`).
    Stack(u32),
}

#[derive(Debug)]
pub struct App {
    pub query: Query,
    /// Every worker and the sessions of its last good snapshot (kept on
    /// screen while a worker is away).
    pub pool: Pool,
    /// Whether any snapshot has arrived yet.
    pub loaded: bool,
    /// When the last snapshot arrived, and the time of the latest update
    /// (wall clock, ms): the title's clock and how long it has been stale.
    pub last_fresh: Option<i64>,
    /// That snapshot's local time, `HH:MM:SS`: made once a snapshot, not
    /// once a frame.
    pub clock: Option<String>,
    pub wall: i64,
    /// Why the last fetch failed (shown as a banner; the table is then stale).
    pub problem: Option<Banner>,
    /// Indices into `pool.sessions`, in display order.
    pub order: Vec<usize>,
    /// Natural widths of the text columns over `order` (see
    /// `crate::present::cells::natural_widths`), measured once per reorder, not per frame.
    pub text_widths: [usize; column::N],
    /// Client-side pins, in the order pinned.
    pub pins: Vec<SessionKey>,
    /// The per-agent, per-tenant or per-worker view, when on, and its rows.
    pub group: Option<Group>,
    pub groups: Vec<GroupRow>,
    pub mode: Mode,
    /// The last snapshot's copy of the session in the detail pane, so the pane
    /// can still show it after the session ends.
    pub detail_last: Option<Session>,
    pub trends: Trends,
    pub panel: Panel,
    /// What the terminal can show (widths of escaped text depend on it).
    pub charset: Charset,
    /// The search text changed since the last re-filter (see `settle`).
    dirty: bool,
    /// Entered from a group view (Enter on a group): the view and the
    /// filter it replaced, for Esc to go back to.
    drilled: Option<(Group, Option<String>)>,
    /// Replaying a recording: where, and how.
    pub replay: Option<ReplayView>,
    /// The time being typed (`T`).
    pub goto: String,
    /// Recording (`--record`): whether the last line went to the file.
    pub recording: Option<bool>,
    /// Several workers: their figures, summed once per new pool (the
    /// worker lines and the title read them every frame).
    pub summary: Summary,
    /// What happened in this run (the events pane).
    pub events: Events,
    /// Incidents from this `seq` on have not been seen in the pane.
    pub events_seen: u64,
    /// How far the events or stack pane is scrolled.
    pub pane_scroll: usize,
    /// A stack asked for (`y`) and not yet come: the worker, and the time
    /// of the stack it had when asked (the new one replaces it).
    pub asked: Option<(u32, Option<i64>)>,
    /// What the last key has to say (the footer shows it until the next).
    pub note: Option<String>,
}

impl App {
    pub fn new(query: Query, charset: Charset) -> App {
        App {
            charset,
            query,
            pool: Pool::default(),
            loaded: false,
            last_fresh: None,
            clock: None,
            wall: 0,
            problem: None,
            order: Vec::new(),
            text_widths: crate::present::cells::natural_widths(&Pool::default(), &[], false, charset),
            pins: Vec::new(),
            group: None,
            groups: Vec::new(),
            mode: Mode::Table,
            detail_last: None,
            trends: Trends::default(),
            panel: Panel::default(),
            dirty: false,
            drilled: None,
            replay: None,
            goto: String::new(),
            recording: None,
            summary: Summary::default(),
            events: Events::default(),
            events_seen: 0,
            pane_scroll: 0,
            asked: None,
            note: None,
        }
    }

    /// One worker's snapshot: the pool of one (tests and tools).
    pub fn set_snapshot(&mut self, snap: Snapshot, now: Instant) {
        self.update(vec![Update::single(snap, PathBuf::new())], now, crate::clock::now_ms());
    }

    /// What every source gave this round (see `Pool::advance`): workers
    /// that missed it keep their last sessions. `wall`: the time it stands
    /// for, in ms since the epoch (the events are dated by it).
    pub fn update(&mut self, updates: Vec<Update>, now: Instant, wall: i64) {
        let first = !self.loaded;
        let fresh = updates.iter().any(|u| u.fresh.is_some());
        self.loaded |= fresh;
        self.wall = wall;
        if fresh {
            self.last_fresh = Some(wall);
            self.clock = Some(crate::clock::local_hms(wall));
        }
        self.pool.advance(updates);
        if first && self.loaded {
            if let Some(why) = self.query.worker.as_deref().and_then(|w| self.pool.no_such_worker(w)) {
                self.note = Some(why);
            }
        }
        self.events.observe(&self.pool, wall);
        if self.mode == Mode::Events {
            self.events_seen = self.events.count();
        }
        // The stack asked for has come (or could not be taken).
        if let Some((key, had)) = self.asked {
            let now_has = self.pool.workers.iter().find(|w| w.key == key).map(|w| w.stack.as_ref().map(|t| t.at));
            if now_has.is_none_or(|at| at != had) {
                self.asked = None;
            }
        }
        self.summary = if self.pool.multi() { Summary::of(&self.pool) } else { Summary::default() };
        self.problem = None;
        // A pinned session that has ended will not come back (ids are jobs).
        // Pins and the detail pane take this snapshot's ids: an old copy of
        // a long id must not outlive its snapshot.
        let pool = &self.pool;
        let current = |k: &SessionKey| pool.find(k).map(|s| pool.key_of(s));
        self.pins = self.pins.iter().filter_map(current).collect();
        if let Mode::Detail(key) = &self.mode {
            if let Some(s) = pool.find(key) {
                self.detail_last = Some(s.clone());
                self.mode = Mode::Detail(pool.key_of(s));
            }
        }
        // Order first: everything after it indexes the new snapshot through it.
        self.reorder();
        let detail = match &self.mode {
            Mode::Detail(key) => Some(key.clone()),
            _ => None,
        };
        let cursor = self.order.get(self.panel.cursor).filter(|_| self.group.is_none());
        let focus = detail.or_else(|| cursor.map(|&i| self.pool.key_of(&self.pool.sessions[i])));
        self.trends.record(&self.pool, now, focus.as_ref());
    }

    pub fn set_problem(&mut self, why: Banner) {
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

    /// What identifies row `i`: its session, or its group.
    fn key_at(&self, i: usize) -> Option<RowKey> {
        if self.group.is_some() {
            self.groups.get(i).map(|g| RowKey::Group(g.name.clone()))
        } else {
            self.order.get(i).map(|&s| RowKey::Session(self.pool.key_of(&self.pool.sessions[s])))
        }
    }

    /// Where the row identified by `key` is in the current view.
    fn position_of(&self, key: &RowKey) -> Option<usize> {
        match (key, self.group.is_some()) {
            (RowKey::Group(name), true) => self.groups.iter().position(|g| g.name == *name),
            (RowKey::Session(key), false) => self.order.iter().position(|&i| self.pool.is(&self.pool.sessions[i], key)),
            _ => None,
        }
    }

    /// Re-filter now if typing changed the search since the last time.
    /// Typing only marks the view stale: a paste of thousands of characters
    /// costs one re-filter (here, before the next draw or the next key
    /// that needs the rows), not one per character.
    pub fn settle(&mut self) {
        if self.dirty {
            self.reorder();
        }
    }

    /// Recompute the order (and the group rows) and put the cursor back on
    /// the row it follows.
    pub fn reorder(&mut self) {
        self.dirty = false;
        self.order = view::order(&self.pool, &self.query, &self.pins);
        self.text_widths = crate::present::cells::natural_widths(&self.pool, &self.order, false, self.charset);
        self.groups = match self.group {
            Some(by) => view::groups(&self.pool, &self.order, by, &self.query),
            None => Vec::new(),
        };
        let mut panel = std::mem::take(&mut self.panel);
        panel.follow(self.len(), |k| self.position_of(k), |i| self.key_at(i));
        self.panel = panel;
    }

    /// The selected session, as a key sharing the snapshot's id.
    fn selected_key(&self) -> Option<SessionKey> {
        if self.group.is_some() {
            return None;
        }
        self.order.get(self.panel.cursor).map(|&i| self.pool.key_of(&self.pool.sessions[i]))
    }

    pub fn selected_session_id(&self) -> Option<&str> {
        if self.group.is_some() {
            return None;
        }
        self.order.get(self.panel.cursor).map(|&i| &*self.pool.sessions[i].session_id)
    }

    /// The session the detail pane shows: live if it still is, else as last
    /// seen; and its key.
    pub fn detail(&self) -> Option<(&Session, bool, &SessionKey)> {
        let Mode::Detail(key) = &self.mode else { return None };
        match self.pool.find(key) {
            Some(s) => Some((s, true, key)),
            None => self.detail_last.as_ref().map(|s| (s, false, key)),
        }
    }

    /// Whether the session at `i` of the pool is shown as stale: the view
    /// is, or its worker did not answer this round.
    pub fn row_stale(&self, i: usize) -> bool {
        self.stale() || !self.pool.answered(&self.pool.sessions[i])
    }

    /// The worker the stack key means: the selected session's; in the
    /// per-worker view, the selected worker; with one worker, that one.
    pub fn stack_worker(&self) -> Option<u32> {
        if let Some(k) = self.detail().map(|(_, _, k)| k.clone()).or_else(|| self.selected_key()) {
            return Some(k.worker);
        }
        let row = self.groups.get(self.panel.cursor).filter(|_| self.group == Some(Group::Worker));
        match row {
            Some(g) => self.pool.workers.iter().find(|w| w.label == *g.name).map(|w| w.key),
            None if self.pool.workers.len() == 1 => Some(self.pool.workers[0].key),
            None => None,
        }
    }

    /// Incidents not yet seen in the events pane.
    pub fn new_events(&self) -> u64 {
        let kept = self.events.len() as u64;
        (self.events.count() - self.events_seen).min(kept)
    }

    /// Keep the cursor on screen for a view of `page` rows.
    pub fn fit(&mut self, page: usize) {
        self.panel.fit(page, self.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use termion::event::Key;
    use crate::model::column::Column;
    use std::time::Duration;
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
        let mut a = App::new(Query::default(), Charset::Utf8);
        a.set_snapshot(snap(n), Instant::now());
        a.fit(5);
        a
    }

    /// The rows as the next frame would show them (the loop settles first).
    fn ids(a: &mut App) -> Vec<&str> {
        a.settle();
        a.order.iter().map(|&i| &*a.pool.sessions[i].session_id).collect()
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
        assert_eq!(ids(&mut a), ["s003", "s002", "s001", "s000"]);
        assert_eq!(a.key(Key::Char('s')), Effect::None);
        assert_eq!(a.query.sort, Column::Cpu);
        assert_eq!(ids(&mut a), ["s000", "s001", "s002", "s003"]);
        keys(&mut a, "ff");
        assert_eq!(a.query.status.name(), "slow");
        assert_eq!(ids(&mut a), ["s001", "s003"]);
    }

    #[test]
    fn shift_s_reverses() {
        let mut a = app(4);
        keys(&mut a, "S");
        assert!(a.query.reverse);
        assert_eq!(ids(&mut a), ["s000", "s001", "s002", "s003"]);
        keys(&mut a, "S");
        assert_eq!(ids(&mut a), ["s003", "s002", "s001", "s000"]);
    }

    #[test]
    fn scrolling_keys_move_through_long_tables() {
        let mut a = app(20);
        assert_eq!((a.panel.cursor, a.panel.scroll), (0, 0));
        a.key(Key::Down);
        a.fit(5);
        assert_eq!((a.panel.cursor, a.panel.scroll), (1, 0));
        a.key(Key::PageDown);
        a.fit(5);
        assert_eq!((a.panel.cursor, a.panel.scroll), (6, 5));
        a.key(Key::End);
        a.fit(5);
        assert_eq!((a.panel.cursor, a.panel.scroll), (19, 15));
        a.key(Key::PageUp);
        a.fit(5);
        assert_eq!((a.panel.cursor, a.panel.scroll), (14, 10));
        a.key(Key::Home);
        a.fit(5);
        assert_eq!((a.panel.cursor, a.panel.scroll), (0, 0));
        a.key(Key::Up);
        assert_eq!(a.panel.cursor, 0);
    }

    #[test]
    fn cursor_follows_its_session_through_a_resort() {
        let mut a = app(10);
        a.key(Key::Down);
        a.key(Key::Down);
        assert_eq!(a.panel.selected, Some(RowKey::Session("s007".into())));
        a.key(Key::Char('s')); // cpu: ascending ids now
        assert_eq!(a.selected_session_id(), Some("s007"));
        assert_eq!(a.panel.cursor, 7);
    }

    #[test]
    fn when_the_session_ends_the_cursor_takes_the_nearest_row() {
        let mut a = app(10);
        a.key(Key::End);
        assert_eq!(a.panel.selected, Some(RowKey::Session("s000".into())));
        let next = decode(br#"[{"session_id": "s005", "mem_mb": 5}, {"session_id": "s009", "mem_mb": 9}]"#).unwrap();
        a.set_snapshot(next, Instant::now());
        assert_eq!(a.selected_session_id(), Some("s005"));
        assert_eq!(a.panel.selected, Some(RowKey::Session("s005".into())));
    }

    #[test]
    fn untouched_cursor_stays_on_the_top_row() {
        let mut a = app(5);
        a.key(Key::Char('s'));
        assert_eq!(a.panel.cursor, 0);
        assert_eq!(a.panel.selected, None);
    }

    #[test]
    fn empty_tables_are_safe() {
        let mut a = App::new(Query::default(), Charset::Utf8);
        for k in [Key::Up, Key::Down, Key::PageDown, Key::End, Key::Home, Key::Char('s'), Key::Char('p'), Key::Char('\n'), Key::Char('g'), Key::Char('\n'), Key::Char('a'), Key::Char('t')] {
            a.key(k);
            a.fit(3);
        }
        assert_eq!((a.panel.cursor, a.panel.scroll), (0, 0));
    }

    #[test]
    fn pins_stay_on_top_in_pin_order_and_survive_refreshes() {
        let mut a = app(6);
        keys(&mut a, "jjj"); // s002
        keys(&mut a, "p");
        assert_eq!(ids(&mut a)[0], "s002");
        assert_eq!(a.panel.selected, Some(RowKey::Session("s002".into())));
        a.key(Key::End); // s000
        keys(&mut a, "p");
        assert_eq!(&ids(&mut a)[..2], ["s002", "s000"]);
        keys(&mut a, "s"); // any sort: pins first
        assert_eq!(&ids(&mut a)[..2], ["s002", "s000"]);
        a.set_snapshot(snap(6), Instant::now());
        assert_eq!(&ids(&mut a)[..2], ["s002", "s000"]);
        // Unpin (cursor is on s000), then a session that ends loses its pin.
        keys(&mut a, "p");
        assert_eq!(a.pins, vec![SessionKey::from("s002")]);
        a.set_snapshot(decode(br#"[{"session_id": "s001"}]"#).unwrap(), Instant::now());
        assert!(a.pins.is_empty());
    }

    #[test]
    fn incremental_search_enter_keeps_esc_clears() {
        let mut a = app(12);
        keys(&mut a, "/s01");
        assert_eq!(a.mode, Mode::Search);
        assert_eq!(ids(&mut a), ["s011", "s010"]);
        a.key(Key::Backspace);
        a.key(Key::Backspace);
        assert_eq!(ids(&mut a).len(), 12);
        keys(&mut a, "0Q"); // q and capitals are text while searching
        assert_eq!(a.query.search.as_deref(), Some("s0Q"));
        assert!(ids(&mut a).is_empty());
        a.key(Key::Backspace);
        keys(&mut a, "05");
        a.key(Key::Char('\n'));
        assert_eq!(a.mode, Mode::Table);
        assert_eq!(ids(&mut a), ["s005"]);
        a.key(Key::Char('/'));
        a.key(Key::Esc);
        assert_eq!(a.query.search, None);
        assert_eq!(ids(&mut a).len(), 12);
        keys(&mut a, "/BETA\n");
        assert_eq!(ids(&mut a).len(), 4);
        a.key(Key::Esc);
        assert_eq!(ids(&mut a).len(), 12);
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
        assert_eq!(ids(&mut a), ["s004", "s000"]);
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
        assert_eq!(a.detail().map(|(s, live, _)| (&*s.session_id, live)), Some(("s003", true)));
        a.key(Key::Down);
        assert_eq!(a.mode, Mode::Detail("s002".into()));
        a.set_snapshot(decode(br#"[{"session_id": "s000"}]"#).unwrap(), Instant::now());
        assert_eq!(a.detail().map(|(s, live, _)| (&*s.session_id, live)), Some(("s002", false)));
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
        assert_eq!(a.panel.cursor, 1);
        a.set_snapshot(Snapshot::default(), Instant::now());
        assert_eq!((a.panel.cursor, a.len()), (0, 0));
    }

    #[test]
    fn trends_keep_a_minute() {
        let mut a = app(3);
        let t0 = Instant::now();
        for k in 0..90 {
            a.set_snapshot(snap(3), t0 + Duration::from_secs(k));
        }
        assert_eq!(a.trends.get(&"s001".into()).len(), 61);
        let next = decode(br#"[{"session_id": "s001"}]"#).unwrap();
        a.set_snapshot(next.clone(), t0 + Duration::from_secs(200));
        assert_eq!(a.trends.len(), 1, "ended sessions are forgotten");
        // Ten refreshes a second keep one sample a second.
        for k in 0..50 {
            a.set_snapshot(next.clone(), t0 + Duration::from_secs(201) + Duration::from_millis(100 * k));
        }
        let s = a.trends.get(&"s001".into());
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
        // The first snapshot's 3 sessions, then ten seconds at 10 Hz: a
        // frame a second and the live one, each of the 50 sessions of its
        // moment.
        assert_eq!(a.trends.held(), 3 + 11 * 50);
    }

    #[test]
    fn the_detail_pane_keeps_its_trend_after_the_session_ends() {
        let mut a = app(3);
        a.key(Key::Char('\n'));
        let id = a.selected_session_id().unwrap().to_string();
        a.set_snapshot(decode(br#"[{"session_id": "other"}]"#).unwrap(), Instant::now());
        assert!(!a.trends.get(&SessionKey::from(id.as_str())).is_empty());
        assert_eq!(a.detail().map(|(s, live, _)| (s.session_id.to_string(), live)), Some((id, false)));
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
        assert_eq!(ids(&mut a).len(), 3);
        keys(&mut a, "G");
        assert_eq!(a.group, Some(Group::Tenant));
        keys(&mut a, "G");
        assert_eq!(a.group, None);
        keys(&mut a, "g");
        a.key(Key::Esc);
        assert_eq!(a.group, None);
    }

    #[test]
    fn help_closes_on_any_key_and_that_key_does_nothing_else() {
        let mut a = app(3);
        for k in [Key::Char('x'), Key::Char('q'), Key::Char('s'), Key::Esc, Key::Left] {
            keys(&mut a, "?");
            assert_eq!(a.mode, Mode::Help);
            assert_eq!(a.key(k), Effect::None, "{k:?}");
            assert_eq!((a.mode.clone(), a.query.sort, a.panel.cursor), (Mode::Table, Column::Mem, 0), "{k:?}");
        }
        // Its own keys scroll it, within its lines, and move nothing else.
        keys(&mut a, "?");
        let page = a.panel.page.max(1);
        let last = crate::tui::keys::help_lines(false).count() - page;
        for (k, want) in [(Key::Char('j'), 1), (Key::Down, 2), (Key::Char('k'), 1), (Key::Up, 0), (Key::Up, 0), (Key::PageDown, page)] {
            a.key(k);
            assert_eq!((a.mode.clone(), a.pane_scroll, a.panel.cursor), (Mode::Help, want.min(last), 0), "{k:?}");
        }
        for _ in 0..100 {
            a.key(Key::PageDown);
        }
        assert_eq!(a.pane_scroll, last, "the last page shows the last line");
        a.key(Key::Char('k'));
        assert_eq!(a.pane_scroll, last - 1, "and one k moves back up at once");
    }

    #[test]
    fn esc_after_a_drill_down_returns_to_the_group_view() {
        let mut a = app(9);
        keys(&mut a, "a"); // an agent filter first: the drill-down replaces it, Esc restores it
        keys(&mut a, "a");
        let before = a.query.agent.clone();
        keys(&mut a, "a");
        keys(&mut a, "a");
        assert_eq!(a.query.agent, None);
        a.query.agent = before.clone();
        a.reorder();
        keys(&mut a, "g");
        keys(&mut a, "\n");
        assert_eq!(a.group, None);
        let drilled = a.query.agent.clone();
        a.key(Key::Esc);
        assert_eq!(a.group, Some(Group::Agent));
        assert_eq!(a.query.agent, before);
        assert_eq!(a.panel.selected, drilled.map(|d| RowKey::Group(d.into())));
        // With a search typed after the drill-down, Esc clears that first.
        keys(&mut a, "\n/s0");
        a.key(Key::Char('\n'));
        a.key(Key::Esc);
        assert_eq!((a.group, a.query.search.clone()), (None, None));
        a.key(Key::Esc);
        assert_eq!(a.group, Some(Group::Agent));
        // A group view opened by g is left by Esc as before.
        a.key(Key::Esc);
        assert_eq!(a.group, None);
        a.key(Key::Esc);
        assert_eq!(a.group, None);
    }

    /// The one worker again, its loop blocked for `ms`, with `stack`.
    fn blocked(a: &mut App, ms: u64, stack: Option<crate::model::Taken>) {
        let b = crate::model::Blocked { waited: Duration::from_millis(ms), why: "main thread sleeping".into(), given_up: false };
        let u = Update { key: 0, label: String::new(), socket: PathBuf::new(), state: crate::model::WorkerState::Blocked(b), took: None, pid: Some(42), stack, blocks: 0, fresh: None };
        a.update(vec![u], Instant::now(), 1_000_000 + ms as i64);
    }

    #[test]
    fn y_takes_the_stack_of_the_selected_sessions_worker_and_waits_for_it() {
        let mut a = app(3);
        assert_eq!(a.key(Key::Char('y')), Effect::TakeStack(0));
        assert_eq!((a.mode.clone(), a.asked), (Mode::Stack(0), Some((0, None))));
        blocked(&mut a, 500, None);
        assert!(a.asked.is_some(), "no stack yet");
        let t = crate::model::Taken { at: 5, stack: Err("py-spy is not installed".into()) };
        blocked(&mut a, 900, Some(t));
        assert_eq!(a.asked, None, "the stack came");
        // Again: a new one is asked for, replacing the one it has.
        assert_eq!(a.key(Key::Char('y')), Effect::TakeStack(0));
        assert_eq!(a.asked, Some((0, Some(5))));
        a.key(Key::Esc);
        assert_eq!(a.mode, Mode::Table);
        // A replay shows the stack recorded: nothing to take.
        a.replay = Some(ReplayView::default());
        assert_eq!(a.key(Key::Char('y')), Effect::None);
        assert_eq!(a.mode, Mode::Stack(0));
        // Several workers and no session selected: say what y needs.
        let mut empty = App::new(Query::default(), Charset::Utf8);
        assert_eq!(empty.key(Key::Char('y')), Effect::None);
        assert!(empty.note.as_deref().is_some_and(|n| n.contains("select a session")));
        empty.key(Key::Char('x'));
        assert_eq!(empty.note, None, "the note lasts until the next key");
    }

    #[test]
    fn e_opens_the_events_and_clears_what_is_new() {
        let mut a = app(3); // s001 is slow
        assert_eq!(a.new_events(), 1);
        blocked(&mut a, 700, None);
        assert_eq!(a.new_events(), 2);
        a.key(Key::Char('e'));
        assert_eq!((a.mode.clone(), a.new_events()), (Mode::Events, 0));
        blocked(&mut a, 900, None);
        assert_eq!(a.new_events(), 0, "seen while the pane is open");
        keys(&mut a, "jjj");
        assert_eq!(a.pane_scroll, 3, "j scrolls the pane, not the table");
        assert_eq!(a.panel.cursor, 0);
        a.key(Key::Home);
        assert_eq!(a.pane_scroll, 0);
        a.key(Key::Char('e'));
        assert_eq!(a.mode, Mode::Table);
    }
}
