//! The session table's columns and the status filter: one place for headers,
//! alignment, sort direction, sort-key names and the `s`/`f` cycles.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::number::{self, cmp_f64};
use crate::model::{Pool, Session, Status, WorkerState};
use crate::text::{self, Charset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// The worker's label: shown (first) only when the pool has several.
    Worker,
    Session,
    Agent,
    Tenant,
    Duration,
    Mem,
    Peak,
    Cpu,
    Status,
    Pin,
}

impl Column {
    /// Display order, as in the reference (the worker column leads when the
    /// pool has several workers, and is left out otherwise).
    pub const ALL: [Column; N] = [
        Column::Worker,
        Column::Session,
        Column::Agent,
        Column::Tenant,
        Column::Duration,
        Column::Mem,
        Column::Peak,
        Column::Cpu,
        Column::Status,
        Column::Pin,
    ];

    /// The `s` key's cycle, exactly as the reference documents it.
    pub const SORT_CYCLE: [Column; 5] =
        [Column::Mem, Column::Cpu, Column::Duration, Column::Agent, Column::Session];

    pub fn header(self) -> &'static str {
        match self {
            Column::Worker => "worker",
            Column::Session => "session",
            Column::Agent => "agent",
            Column::Tenant => "tenant",
            Column::Duration => "dur(s)",
            Column::Mem => "mem(MB)",
            Column::Peak => "peak",
            Column::Cpu => "cpu%",
            Column::Status => "status",
            Column::Pin => "pin",
        }
    }

    /// The canonical `--sort` name (shown in the title), then accepted aliases.
    pub fn sort_names(self) -> &'static [&'static str] {
        match self {
            Column::Worker => &["worker"],
            Column::Session => &["session", "session_id"],
            Column::Agent => &["agent", "agent_name"],
            Column::Tenant => &["tenant"],
            Column::Duration => &["duration_s"],
            Column::Mem => &["mem_mb"],
            Column::Peak => &["peak_mb"],
            Column::Cpu => &["cpu_pct"],
            Column::Status => &["status"],
            Column::Pin => &[],
        }
    }

    pub fn sort_name(self) -> &'static str {
        self.sort_names().first().copied().unwrap_or("")
    }

    pub fn from_sort_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.sort_names().contains(&name))
    }

    /// Every accepted `--sort` value, for help and error messages: the `s`
    /// cycle first, then the other columns, then the aliases.
    pub fn all_sort_names() -> impl Iterator<Item = &'static str> {
        let canonical = Column::SORT_CYCLE
            .into_iter()
            .chain(Column::ALL.into_iter().filter(|c| !Column::SORT_CYCLE.contains(c)))
            .filter_map(|c| c.sort_names().first().copied());
        let aliases = Column::ALL.into_iter().flat_map(|c| c.sort_names().iter().skip(1).copied());
        canonical.chain(aliases)
    }

    /// Numbers are right-aligned and sort biggest first (htop-style).
    pub fn numeric(self) -> bool {
        matches!(self, Column::Duration | Column::Mem | Column::Peak | Column::Cpu)
    }

    /// The next key for `s`; a key outside the cycle starts it again (as the
    /// reference does for an unknown key).
    pub fn next_sort(self) -> Column {
        let cycle = Column::SORT_CYCLE;
        match cycle.iter().position(|&c| c == self) {
            Some(i) => cycle[(i + 1) % cycle.len()],
            None => cycle[0],
        }
    }

    /// The column's bit in `Session::missing` (0: it cannot be missing; a
    /// missing tenant is an unset one, and the worker is always known).
    pub fn bit(self) -> u16 {
        match self {
            Column::Session => Session::ID,
            Column::Agent => Session::AGENT,
            Column::Duration => Session::DURATION,
            Column::Mem => Session::MEM,
            Column::Peak => Session::PEAK,
            Column::Cpu => Session::CPU,
            Column::Status => Session::STATUS,
            Column::Pin => Session::PINNED,
            Column::Worker | Column::Tenant => 0,
        }
    }

    /// Whether a session lacks this column's field (see `Session::missing`).
    pub fn missing(self, s: &Session) -> bool {
        s.lacks(self.bit())
    }

    /// The columns a pool is shown with: the worker column only when it has
    /// several workers.
    pub fn shown(pool: &Pool) -> impl Iterator<Item = Column> + '_ {
        Column::ALL.into_iter().filter(move |&c| c != Column::Worker || pool.multi())
    }

    /// The value a numeric column sorts and prints by.
    pub fn number(self, s: &Session) -> f64 {
        match self {
            Column::Duration => s.duration_s,
            Column::Mem => s.mem_mb,
            Column::Peak => s.peak_mb,
            Column::Cpu => s.cpu_pct,
            _ => 0.0,
        }
    }

    /// The raw text of a text column (`None` for an unset tenant), the
    /// worker's label looked up in `pool`.
    pub fn text<'a>(self, pool: &'a Pool, s: &'a Session) -> Option<&'a str> {
        match self {
            Column::Worker => pool.worker_of(s).map(|w| w.label.as_str()),
            Column::Session => Some(&s.session_id),
            Column::Agent => Some(&s.agent_name),
            Column::Tenant => s.tenant.as_deref(),
            Column::Status => Some(s.status.as_str()),
            _ => None,
        }
    }

    /// Display text of a numeric cell, rounded: whole seconds or one decimal.
    pub fn rounded(self, v: f64) -> String {
        let mut s = String::new();
        self.push_rounded(&mut s, v);
        s
    }

    /// `rounded`, appended to `out`.
    pub fn push_rounded(self, out: &mut String, v: f64) {
        number::push_rounded(out, v, if self == Column::Duration { 0 } else { 1 });
    }

    /// The narrowest a layout may shrink this column to.
    pub fn min_width(self) -> usize {
        match self {
            Column::Session => 8,
            Column::Worker => 6,
            c => c.header().len(),
        }
    }

    /// The widest a layout lets this column's natural width grow.
    pub fn max_width(self) -> usize {
        match self {
            Column::Session => 40,
            Column::Agent | Column::Tenant | Column::Worker => 24,
            Column::Status => 10,
            _ => usize::MAX,
        }
    }

    /// A cell's text on screen, before fitting: numbers rounded, text
    /// sanitized, `*` for a pin (the worker's or `client_pin`), else blank;
    /// a worker that did not answer this round is marked after its label.
    /// (The plain table's cell is `output::plain_cell`.)
    pub fn screen_text<'a>(self, pool: &'a Pool, s: &'a Session, client_pin: bool, cs: Charset) -> Cow<'a, str> {
        match self {
            Column::Pin => (if s.pinned || client_pin { "*" } else { "" }).into(),
            Column::Worker => {
                let Some(w) = pool.worker_of(s) else { return "-".into() };
                let label = text::display(&w.label, cs);
                match &w.state {
                    WorkerState::Up => label,
                    WorkerState::Gone => format!("{label} (gone)").into(),
                    _ => format!("{label} (stale)").into(),
                }
            }
            c if c.missing(s) => "-".into(),
            c if c.numeric() => c.rounded(c.number(s)).into(),
            c => text::display(c.text(pool, s).unwrap_or("-"), cs),
        }
    }

    /// Compare two sessions of `pool` on this column in its natural
    /// direction (numbers descending, text ascending); ties are left to the
    /// caller.
    pub fn compare(self, pool: &Pool, a: &Session, b: &Session) -> Ordering {
        if self.numeric() {
            cmp_f64(self.number(b), self.number(a))
        } else if self == Column::Pin {
            b.pinned.cmp(&a.pinned)
        } else {
            self.text(pool, a).cmp(&self.text(pool, b))
        }
    }
}

/// How many columns there are.
pub const N: usize = 10;

/// Natural widths of the numeric (or else the text) columns over `rows`:
/// the widest screen cell, capped, at least the header; 0 for the other
/// kind (and for the worker column of a one-worker pool). Text widths span
/// every shown row, so the live view measures them once per reorder
/// (`App::text_widths`), not on every frame.
pub fn natural_widths(pool: &Pool, rows: &[usize], numeric: bool, cs: Charset) -> [usize; N] {
    Column::ALL.map(|c| {
        if c.numeric() != numeric || (c == Column::Worker && !pool.multi()) {
            return 0;
        }
        let widest = if numeric || c == Column::Pin {
            rows.iter().map(|&i| text::width(&c.screen_text(pool, &pool.sessions[i], false, cs))).max().unwrap_or(0)
        } else if c == Column::Session {
            // Ids are one per row: nothing to remember, and nearly all are
            // printable ASCII, one column a byte.
            rows.iter()
                .map(|&i| match &pool.sessions[i] {
                    s if !c.missing(s) && text::plain(&s.session_id) => s.session_id.len(),
                    s => text::width(&c.screen_text(pool, s, false, cs)),
                })
                .max()
                .unwrap_or(0)
        } else {
            c.widest_text(pool, rows, cs)
        };
        widest.min(c.max_width()).max(c.header().len())
    })
}

impl Column {
    /// The widest screen cell of this text column over `rows`. Agents and
    /// tenants are shared strings (one allocation for many rows: decode's
    /// `Recent`) and a worker's cells are all alike, so a cell is measured
    /// only when its text is not one of the last few measured: sanitising
    /// and measuring a non-ASCII tenant on every row was a tenth of the
    /// live view's refresh at 9,600 sessions. A text is known by its
    /// address and length, which no other live string shares.
    fn widest_text(self, pool: &Pool, rows: &[usize], cs: Charset) -> usize {
        // Direct-mapped by address: each worker decodes its own copies of
        // the agents and tenants, so 32 workers bring hundreds of distinct
        // strings in rows sorted across them.
        const MEMO: usize = 1024;
        let mut memo = vec![(usize::MAX, usize::MAX, 0usize); MEMO];
        let mut widest = 0;
        for &i in rows {
            let s = &pool.sessions[i];
            let id = match self.text(pool, s) {
                _ if self == Column::Worker => (usize::from(s.worker), usize::MAX - 1),
                Some(t) if !self.missing(s) => (t.as_ptr() as usize, t.len()),
                _ => (0, 0),
            };
            let slot = &mut memo[((id.0 ^ id.1.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize % MEMO];
            if (slot.0, slot.1) != id {
                *slot = (id.0, id.1, text::width(&self.screen_text(pool, s, false, cs)));
            }
            widest = widest.max(slot.2);
        }
        widest
    }
}

/// The status filter and the `f` key's cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Active,
    Slow,
    Draining,
    Errored,
}

impl StatusFilter {
    pub const CYCLE: [StatusFilter; 5] = [
        StatusFilter::All,
        StatusFilter::Active,
        StatusFilter::Slow,
        StatusFilter::Draining,
        StatusFilter::Errored,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Active => "active",
            StatusFilter::Slow => "slow",
            StatusFilter::Draining => "draining",
            StatusFilter::Errored => "errored",
        }
    }

    pub fn parse(s: &str) -> Option<StatusFilter> {
        StatusFilter::CYCLE.into_iter().find(|f| f.name() == s)
    }

    pub fn next(self) -> StatusFilter {
        let i = StatusFilter::CYCLE.iter().position(|&f| f == self).unwrap_or(0);
        StatusFilter::CYCLE[(i + 1) % StatusFilter::CYCLE.len()]
    }

    pub fn matches(self, status: &Status) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Active => *status == Status::Active,
            StatusFilter::Slow => *status == Status::Slow,
            StatusFilter::Draining => *status == Status::Draining,
            StatusFilter::Errored => *status == Status::Errored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memoised text widths are the widths measured row by row: shared
    /// and unshared strings, wide and hidden characters, missing values,
    /// and workers up, stale and gone.
    #[test]
    fn text_widths_match_measuring_every_row() {
        use crate::model::{Pool, Update, WorkerState};
        let rows = |n: usize, k: usize| -> String {
            let items: Vec<String> = (0..n)
                .map(|i| {
                    let tenant = ["\"acme\"", "\"m\\u00fcnchen-gmbh\"", "null", "\"\\u4e2d\\u6587-very-long-tenant-name\"", "\"a\\u200bb\""][(i + k) % 5];
                    let agent = if i % 7 == 0 { String::new() } else { format!(", \"agent_name\": \"agent-{}\"", (i * k) % 11) };
                    format!("{{\"session_id\": \"s{k}-{}{}\"{agent}, \"tenant\": {tenant}, \"status\": \"{}\"}}", "x".repeat(i % 23), ["", "\\u4e2d", "a\\\\b", "\\u0007", "\\u200b", " "][i % 6], ["active", "slow", "weird\\u0007"][i % 3])
                })
                .collect();
            format!("[{}]", items.join(", "))
        };
        let mut pool = Pool::default();
        let states = [WorkerState::Up, WorkerState::Stale("hung".into()), WorkerState::Gone];
        let updates = (0..3u32)
            .map(|k| Update {
                key: k,
                label: format!("w\u{e9}{k}"),
                socket: Default::default(),
                state: states[k as usize].clone(),
                took: None,
                fresh: Some(crate::decode::decode(rows(40 + 13 * k as usize, k as usize).as_bytes()).unwrap()),
            })
            .collect();
        pool.advance(updates);
        let order: Vec<usize> = (0..pool.sessions.len()).rev().collect();
        for cs in [Charset::Utf8, Charset::Ascii] {
            let got = natural_widths(&pool, &order, false, cs);
            for c in Column::ALL.into_iter().filter(|c| !c.numeric()) {
                let plain = order.iter().map(|&i| text::width(&c.screen_text(&pool, &pool.sessions[i], false, cs))).max().unwrap_or(0);
                assert_eq!(got[c as usize], plain.min(c.max_width()).max(c.header().len()), "{c:?} {cs:?}");
            }
        }
    }

    #[test]
    fn sort_cycle_matches_the_reference() {
        let mut c = Column::Mem;
        let mut seen = vec![c.sort_name()];
        for _ in 0..5 {
            c = c.next_sort();
            seen.push(c.sort_name());
        }
        assert_eq!(seen, ["mem_mb", "cpu_pct", "duration_s", "agent", "session", "mem_mb"]);
        assert_eq!(Column::Peak.next_sort(), Column::Mem);
    }

    #[test]
    fn status_cycle_matches_the_reference() {
        let mut f = StatusFilter::All;
        let mut seen = vec![f.name()];
        for _ in 0..5 {
            f = f.next();
            seen.push(f.name());
        }
        assert_eq!(seen, ["all", "active", "slow", "draining", "errored", "all"]);
    }

    #[test]
    fn sort_names_and_aliases() {
        for (name, col) in [
            ("mem_mb", Column::Mem),
            ("cpu_pct", Column::Cpu),
            ("duration_s", Column::Duration),
            ("agent", Column::Agent),
            ("agent_name", Column::Agent),
            ("session", Column::Session),
            ("session_id", Column::Session),
            ("peak_mb", Column::Peak),
            ("tenant", Column::Tenant),
        ] {
            assert_eq!(Column::from_sort_name(name), Some(col), "{name}");
        }
        assert_eq!(Column::from_sort_name("pin"), None);
        assert_eq!(Column::from_sort_name("MEM_MB"), None);
    }

    #[test]
    fn all_lists_the_columns_in_their_declared_order() {
        // Widths are arrays indexed by `column as usize`.
        for (i, c) in Column::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
        }
    }

    #[test]
    fn each_field_column_has_its_own_missing_bit() {
        let bits: Vec<u16> = Column::ALL.iter().map(|c| c.bit()).filter(|&b| b != 0).collect();
        assert_eq!(bits.iter().fold(0, |a, b| a | b), Session::ALL, "every bit has a column");
        assert_eq!(bits.len(), 8, "one column per bit");
        assert_eq!((Column::Tenant.bit(), Column::Worker.bit()), (0, 0));
    }

    #[test]
    fn number_formats() {
        assert_eq!(Column::Duration.rounded(312.4), "312");
        assert_eq!(Column::Mem.rounded(182.55), "182.6");
        assert_eq!(Column::Cpu.rounded(f64::NAN), "nan");
        assert_eq!(Column::Cpu.rounded(f64::NEG_INFINITY), "-inf");
    }
}
