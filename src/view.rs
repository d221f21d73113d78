//! Which sessions are shown, in what order: pure filter and sort.

use std::cmp::Ordering;

use crate::model::column::Column;
use crate::model::{Pool, Session, SessionKey, Status};

/// How a snapshot is narrowed and ordered; shared by `--once` and the live view.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub sort: Column,
    /// Flip the column's natural direction (the `S` key).
    pub reverse: bool,
    pub status: StatusFilter,
    /// Exact agent name.
    pub agent: Option<String>,
    /// Exact tenant; `-` also matches an unset tenant (it is shown as `-`).
    pub tenant: Option<String>,
    /// Case-insensitive substring of session id, agent or tenant.
    pub search: Option<String>,
    /// Exact worker label (several workers).
    pub worker: Option<String>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            sort: Column::Mem,
            reverse: false,
            status: StatusFilter::All,
            agent: None,
            tenant: None,
            search: None,
            worker: None,
        }
    }
}

impl Query {
    /// The filter, ready to test sessions: the search needle is lowercased
    /// here, once, not per session (a paste into the search at 100,000
    /// sessions lowercased it 300,000 times per character).
    /// The worker filter is resolved to the pool's index for that label.
    pub fn filter(&self, pool: &Pool) -> Filter<'_> {
        // A label no worker has matches nothing, as an absent agent does.
        let worker = self.worker.as_deref().map(|l| pool.workers.iter().position(|w| w.called(l)).map_or(u16::MAX, |i| i as u16));
        let needle = self.search.as_deref().filter(|n| !n.is_empty()).map(|n| {
            let lowered = n.to_lowercase();
            let ascii = lowered.is_ascii();
            (lowered, ascii)
        });
        Filter { q: self, needle, worker }
    }

    /// The full ordering, spelled out: the column (possibly reversed), then
    /// the session id, then the worker's label, so equal rows never swap
    /// places between refreshes. `order` implements it with precomputed keys
    /// and is tested against it.
    #[cfg(test)]
    pub fn compare(&self, pool: &Pool, a: &Session, b: &Session) -> Ordering {
        let primary = self.sort.compare(pool, a, b);
        let primary = if self.reverse { primary.reverse() } else { primary };
        let label = |s: &Session| pool.worker_of(s).map(|w| w.label.clone());
        let cpu = if self.sort != Column::Cpu { Column::Cpu.compare(pool, a, b) } else { Ordering::Equal };
        primary.then(cpu).then_with(|| a.session_id.cmp(&b.session_id)).then_with(|| label(a).cmp(&label(b)))
    }
}

pub fn tenant_matches(tenant: Option<&str>, wanted: &str) -> bool {
    match tenant {
        Some(t) => t == wanted,
        None => wanted == "-",
    }
}

/// A query with its search needle lowercased (see `Query::filter`).
pub struct Filter<'a> {
    q: &'a Query,
    /// The lowercased needle, and whether it is ASCII.
    needle: Option<(String, bool)>,
    /// The index of the one worker shown, when filtered.
    worker: Option<u16>,
}

impl Filter<'_> {
    pub fn matches(&self, s: &Session) -> bool {
        let q = self.q;
        q.status.matches(&s.status)
            && self.worker.is_none_or(|w| s.worker == w)
            && q.agent.as_deref().is_none_or(|a| *s.agent_name == *a)
            && q.tenant.as_deref().is_none_or(|t| tenant_matches(s.tenant.as_deref(), t))
            && self.needle.as_ref().is_none_or(|(n, ascii)| search_matches(s, n, *ascii))
    }
}

/// Case-insensitive substring match of a lowercased needle over the
/// identifying fields.
fn search_matches(s: &Session, needle: &str, ascii: bool) -> bool {
    let hay = [Some(&*s.session_id), Some(&*s.agent_name), s.tenant.as_deref()];
    hay.into_iter().flatten().any(|h| contains_lowered(h, needle, ascii))
}

fn contains_lowered(hay: &str, needle: &str, ascii_needle: bool) -> bool {
    if hay.is_ascii() {
        // An ASCII text cannot hold a non-ASCII needle.
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return ascii_needle && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle)
}

/// The first 8 bytes of `s`, big-endian, so integer order is byte order.
fn prefix(s: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = s.len().min(8);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    u64::from_be_bytes(b)
}

/// `v` as bits whose unsigned order is the column's natural order (numbers
/// descending, NaN last, -0 equal to 0).
fn descending_bits(v: f64) -> u64 {
    if v.is_nan() {
        return u64::MAX;
    }
    let v = if v == 0.0 { 0.0 } else { v };
    let b = v.to_bits();
    let ascending = if b >> 63 == 1 { !b } else { b | 1 << 63 };
    !ascending
}

fn primary_bits(col: Column, pool: &Pool, s: &Session) -> u64 {
    if col.numeric() {
        descending_bits(col.number(s))
    } else if col == Column::Pin {
        u64::from(!s.pinned)
    } else {
        col.text(pool, s).map_or(0, prefix)
    }
}

/// Indices into `pool.sessions` of the sessions to show, in display order.
/// Client pins (live view) come first in the order they were pinned,
/// whatever the sort.
pub fn order(pool: &Pool, q: &Query, pins: &[SessionKey]) -> Vec<usize> {
    let sessions = &pool.sessions;
    // Each session's place as integers: the primary value as
    // order-preserving bits (or the first 8 bytes of its text), flipped for a
    // reverse sort; then its CPU share (highest first: every session of a
    // worker has the same memory share, its equal part of the worker's RSS,
    // so sorting by memory alone was sorting by id within a worker; 0 for a
    // sort by CPU); then the first 8 bytes of its id. Sorting those is plain
    // integer comparison; only rows the integers cannot tell apart are then
    // compared in full. (32 bytes a row. Measured at 100,000 sessions, the
    // sort: 8.6 ms before the CPU key; 26.9 ms with the CPU bits in place of
    // the id's bytes, thousands of sessions at 0% then ordered by full ids;
    // 43.5 ms with half of each in one word, 4 bytes of `AJ_...` ids saying
    // little; 4.9 ms so.)
    let flip = if q.reverse { u64::MAX } else { 0 };
    let by_cpu = q.sort != Column::Cpu;
    let cpu = |s: &Session| if by_cpu { descending_bits(Column::Cpu.number(s)) } else { 0 };
    let filter = q.filter(pool);
    let mut keys: Vec<(u64, u64, u64, u32)> = (0..sessions.len())
        .filter(|&i| filter.matches(&sessions[i]))
        .map(|i| (primary_bits(q.sort, pool, &sessions[i]) ^ flip, cpu(&sessions[i]), prefix(&sessions[i].session_id), i as u32))
        .collect();
    keys.sort_unstable();
    // The same order as `Query::compare`, with the index last: a pool keeps
    // its workers in label order and each worker's sessions together in
    // payload order, so the index orders by worker label and then gives
    // even rows equal on every key (duplicate ids) one fixed place.
    // Equal numbers have equal bits, so for them a run of equal keys only
    // needs the full ids; a text prefix says nothing about what follows it,
    // so a run of equal text prefixes is ordered in full (by the text, the
    // CPU bits, then the id).
    let text = !q.sort.numeric() && q.sort != Column::Pin;
    let run = |a: &(u64, u64, u64, u32), b: &(u64, u64, u64, u32)| a.0 == b.0 && (text || (a.1 == b.1 && a.2 == b.2));
    for tied in keys.chunk_by_mut(run).filter(|r| r.len() > 1) {
        tied.sort_unstable_by(|a, b| {
            let (x, y) = (&sessions[a.3 as usize], &sessions[b.3 as usize]);
            let primary = if text { q.sort.compare(pool, x, y) } else { Ordering::Equal };
            let primary = if q.reverse { primary.reverse() } else { primary };
            primary.then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)).then_with(|| x.session_id.cmp(&y.session_id)).then(a.3.cmp(&b.3))
        });
    }
    let mut idx: Vec<usize> = keys.into_iter().map(|(_, _, _, i)| i as usize).collect();
    if !pins.is_empty() {
        // A handful of pins: take each out of the order, in pin order.
        let mut pinned = Vec::with_capacity(pins.len() + idx.len());
        for p in pins {
            if let Some(at) = idx.iter().position(|&i| pool.is(&sessions[i], p)) {
                pinned.push(idx.remove(at));
            }
        }
        pinned.extend(idx);
        idx = pinned;
    }
    idx
}

/// The per-agent (`g`), per-tenant (`G`) and per-worker (`W`) views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Agent,
    Tenant,
    Worker,
}

impl Group {
    pub fn header(self) -> &'static str {
        match self {
            Group::Agent => "agent",
            Group::Tenant => "tenant",
            Group::Worker => "worker",
        }
    }

    /// The group a session belongs to (`-` for an unset tenant, as shown).
    pub fn of<'a>(self, pool: &'a Pool, s: &'a Session) -> &'a str {
        match self {
            Group::Agent => &s.agent_name,
            Group::Tenant => s.tenant.as_deref().unwrap_or("-"),
            Group::Worker => pool.worker_of(s).map_or("-", |w| w.label.as_str()),
        }
    }
}

/// One row of a group view.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub name: Box<str>,
    pub sessions: usize,
    pub slow: usize,
    /// Sum of the sessions' memory shares.
    pub mem_mb: f64,
    /// Mean of the sessions' CPU shares.
    pub cpu_pct: f64,
}

/// Aggregate the shown sessions (`order`, filters applied) by `by`, sorted as
/// the table is: memory or peak by the share sum, CPU by the mean, duration by
/// the session count, status by the slow count (all biggest first), names
/// ascending; `S` reverses; ties by name.
pub fn groups(pool: &Pool, order: &[usize], by: Group, q: &Query) -> Vec<GroupRow> {
    let mut rows: Vec<GroupRow> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for &i in order {
        let s = &pool.sessions[i];
        let name = by.of(pool, s);
        let k = *at.entry(name).or_insert_with(|| {
            rows.push(GroupRow { name: name.into(), sessions: 0, slow: 0, mem_mb: 0.0, cpu_pct: 0.0 });
            rows.len() - 1
        });
        let g = &mut rows[k];
        g.sessions += 1;
        g.slow += usize::from(s.status == Status::Slow);
        g.mem_mb += Column::Mem.number(s);
        g.cpu_pct += Column::Cpu.number(s);
    }
    for g in &mut rows {
        g.cpu_pct /= g.sessions as f64;
    }
    // Names are distinct, so the order is total and need not be stable.
    crate::sort::sort_by(&mut rows, |a, b| {
        let primary = match q.sort {
            Column::Mem | Column::Peak => crate::number::cmp_f64(b.mem_mb, a.mem_mb),
            Column::Cpu => crate::number::cmp_f64(b.cpu_pct, a.cpu_pct),
            Column::Duration => b.sessions.cmp(&a.sessions),
            Column::Status => b.slow.cmp(&a.slow),
            _ => a.name.cmp(&b.name),
        };
        let primary = if q.reverse { primary.reverse() } else { primary };
        primary.then_with(|| a.name.cmp(&b.name))
    });
    rows
}

crate::named! {
    /// The status filter, and the `f` key's cycle (in this order, as the
    /// reference has it).
    pub enum StatusFilter {
        All = "all",
        Active = "active",
        Slow = "slow",
        Draining = "draining",
        Errored = "errored",
    }
}

impl StatusFilter {
    pub fn next(self) -> StatusFilter {
        let i = StatusFilter::ALL.iter().position(|&f| f == self).unwrap_or(0);
        StatusFilter::ALL[(i + 1) % StatusFilter::ALL.len()]
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
pub(crate) mod tests {
    use super::*;
    use crate::model::{Snapshot, Update, WorkerState};

    pub fn row(id: &str, agent: &str, tenant: Option<&str>, mem: f64, cpu: f64, dur: f64, status: &str) -> Session {
        Session {
            session_id: id.into(),
            agent_name: agent.into(),
            tenant: tenant.map(Into::into),
            nums: [dur, mem, mem * 2.0, cpu],
            status: Status::parse(status),
            pinned: false,
            missing: 0,
            worker: 0,
        }
    }

    /// One worker's pool of `sessions`.
    pub fn pool(sessions: Vec<Session>) -> Pool {
        Pool::single(crate::model::Snapshot { worker: None, sessions }, "w.sock".into())
    }

    pub fn sample() -> Pool {
        pool(vec![
            row("c", "support", Some("acme"), 10.0, 5.0, 30.0, "active"),
            row("a", "booking", None, 30.0, 1.0, 10.0, "slow"),
            row("b", "sales", Some("globex"), 10.0, 9.0, 20.0, "active"),
            row("d", "support", Some("acme"), 20.0, 5.0, 40.0, "draining"),
            row("e", "Booking", Some("initech"), f64::NAN, 0.0, 0.0, "errored"),
        ])
    }

    fn ids<'a>(p: &'a Pool, q: &Query) -> Vec<&'a str> {
        order(p, q, &[]).into_iter().map(|i| &*p.sessions[i].session_id).collect()
    }

    fn by(sort: Column) -> Query {
        Query { sort, ..Query::default() }
    }

    #[test]
    fn numeric_columns_sort_descending_with_id_tiebreak() {
        let s = sample();
        assert_eq!(ids(&s, &by(Column::Mem)), ["a", "d", "b", "c", "e"]);
        assert_eq!(ids(&s, &by(Column::Cpu)), ["b", "c", "d", "a", "e"]);
        assert_eq!(ids(&s, &by(Column::Duration)), ["d", "c", "b", "a", "e"]);
        assert_eq!(ids(&s, &by(Column::Peak)), ["a", "d", "b", "c", "e"]);
    }

    #[test]
    fn text_columns_sort_ascending_with_id_tiebreak() {
        let s = sample();
        assert_eq!(ids(&s, &by(Column::Agent)), ["e", "a", "b", "c", "d"]);
        assert_eq!(ids(&s, &by(Column::Session)), ["a", "b", "c", "d", "e"]);
        // An unset tenant sorts first.
        assert_eq!(ids(&s, &by(Column::Tenant)), ["a", "c", "d", "b", "e"]);
    }

    #[test]
    fn reverse_flips_the_column_but_not_the_tiebreak() {
        let s = sample();
        let q = Query { reverse: true, ..by(Column::Mem) };
        assert_eq!(ids(&s, &q), ["e", "b", "c", "d", "a"]);
    }

    #[test]
    fn filters() {
        let s = sample();
        let q = |f: fn(&mut Query)| {
            let mut q = Query::default();
            f(&mut q);
            q
        };
        assert_eq!(ids(&s, &q(|q| q.status = StatusFilter::Slow)), ["a"]);
        assert_eq!(ids(&s, &q(|q| q.status = StatusFilter::Active)), ["b", "c"]);
        assert_eq!(ids(&s, &q(|q| q.status = StatusFilter::Draining)), ["d"]);
        assert_eq!(ids(&s, &q(|q| q.status = StatusFilter::Errored)), ["e"]);
        assert_eq!(ids(&s, &q(|q| q.agent = Some("support".into()))), ["d", "c"]);
        assert_eq!(ids(&s, &q(|q| q.agent = Some("booking".into()))), ["a"]);
        assert_eq!(ids(&s, &q(|q| q.tenant = Some("acme".into()))), ["d", "c"]);
        assert_eq!(ids(&s, &q(|q| q.tenant = Some("-".into()))), ["a"]);
        assert_eq!(ids(&s, &q(|q| q.search = Some("BOOK".into()))), ["a", "e"]);
        assert_eq!(ids(&s, &q(|q| q.search = Some("glob".into()))), ["b"]);
        // The Kelvin sign lowercases to an ASCII k.
        assert_eq!(ids(&s, &q(|q| q.search = Some("\u{212a}".into()))), ["a", "e"]);
    }

    #[test]
    fn equal_rows_keep_payload_order() {
        let s = pool(vec![row("x", "a", None, 1.0, 0.0, 0.0, "active"), row("x", "b", None, 1.0, 0.0, 0.0, "active")]);
        let o = order(&s, &Query::default(), &[]);
        assert_eq!(o, [0, 1]);
    }

    #[test]
    fn precomputed_order_matches_query_compare() {
        // Every column and direction, on rows built to tie on prefixes and
        // values, spread over three workers that share ids.
        let mut rows: [Vec<Session>; 3] = Default::default();
        for i in 0..90 {
            let mut r = row(
                // Half share an 8-byte id prefix, half differ within it.
                &if i % 2 == 0 { format!("AJ_sameprefix_{:02}", (i * 37) % 60) } else { format!("{:02}", (i * 37) % 60) },
                ["support", "support-long-name", "s", ""][i % 4],
                [None, Some("acme"), Some("acme-corporation"), Some("")][i % 4],
                [0.0, -0.0, 1.5, f64::NAN, f64::INFINITY, -2.0][i % 6],
                // CPU shares equal, and equal but for their lowest bits
                // (which the integer key's high half cannot tell apart).
                [(i % 7) as f64, 1.0 + 1e-12 * (i % 5) as f64, -0.0, f64::NAN][i % 4],
                (i % 5) as f64,
                ["active", "slow", "draining", "x"][i % 4],
            );
            r.pinned = i % 3 == 0;
            rows[i % 3].push(r);
        }
        let mut s = Pool::default();
        let updates = rows.into_iter().zip(["w-2", "w-10", "a"]).enumerate().map(|(k, (sessions, label))| Update {
            key: 7 - k as u32,
            label: label.into(),
            socket: label.into(),
            state: WorkerState::Up,
            took: None, pid: None, stack: None, blocks: 0,
            fresh: Some(Snapshot { worker: None, sessions }),
        });
        s.advance(updates.collect());
        for sort in Column::ALL {
            for reverse in [false, true] {
                let q = Query { sort, reverse, ..Query::default() };
                let mut want: Vec<usize> = (0..s.sessions.len()).collect();
                // Index last: rows of one worker equal on every key keep
                // their payload order.
                want.sort_by(|&a, &b| q.compare(&s, &s.sessions[a], &s.sessions[b]).then(a.cmp(&b)));
                assert_eq!(order(&s, &q, &[]), want, "{sort:?} reverse={reverse}");
            }
        }
    }

    #[test]
    fn the_worker_filter_and_group() {
        let mut s = Pool::default();
        let mk = |key: u32, label: &str, ids: &[&str]| Update {
            key,
            label: label.into(),
            socket: label.into(),
            state: WorkerState::Up,
            took: None, pid: None, stack: None, blocks: 0,
            fresh: Some(Snapshot { worker: None, sessions: ids.iter().map(|id| row(id, "x", None, 1.0, 1.0, 1.0, "slow")).collect() }),
        };
        s.advance(vec![mk(1, "w2", &["a", "b"]), mk(2, "w1", &["a"])]);
        let q = Query { worker: Some("w2".into()), ..Query::default() };
        let shown: Vec<(&str, &str)> = order(&s, &q, &[]).into_iter().map(|i| (Group::Worker.of(&s, &s.sessions[i]), &*s.sessions[i].session_id)).collect();
        assert_eq!(shown, [("w2", "a"), ("w2", "b")]);
        assert!(order(&s, &Query { worker: Some("none".into()), ..Query::default() }, &[]).is_empty());
        // The same id on two workers: label order.
        let all: Vec<&str> = order(&s, &Query::default(), &[]).into_iter().map(|i| Group::Worker.of(&s, &s.sessions[i])).collect();
        assert_eq!(all, ["w1", "w2", "w2"]);
        let g = groups(&s, &order(&s, &Query::default(), &[]), Group::Worker, &Query::default());
        let g: Vec<(&str, usize, usize)> = g.iter().map(|g| (&*g.name, g.sessions, g.slow)).collect();
        assert_eq!(g, [("w2", 2, 2), ("w1", 1, 1)]);
    }

    #[test]
    fn groups_aggregate_the_shown_sessions() {
        let s = sample();
        let all = order(&s, &Query::default(), &[]);
        let g = groups(&s, &all, Group::Agent, &Query::default());
        let names: Vec<&str> = g.iter().map(|r| &*r.name).collect();
        // support 30 MB, booking 30 MB (ties by name), sales 10, Booking NaN.
        assert_eq!(names, ["booking", "support", "sales", "Booking"]);
        let support = g.iter().find(|r| &*r.name == "support").unwrap();
        assert_eq!((support.sessions, support.slow, support.mem_mb, support.cpu_pct), (2, 0, 30.0, 5.0));
        let by_cpu = groups(&s, &all, Group::Agent, &Query { sort: Column::Cpu, ..Query::default() });
        assert_eq!(&*by_cpu[0].name, "sales");
        let by_name = groups(&s, &all, Group::Tenant, &Query { sort: Column::Tenant, ..Query::default() });
        let tenants: Vec<&str> = by_name.iter().map(|r| &*r.name).collect();
        assert_eq!(tenants, ["-", "acme", "globex", "initech"]);
        let slow_only = order(&s, &Query { status: StatusFilter::Slow, ..Query::default() }, &[]);
        let g = groups(&s, &slow_only, Group::Agent, &Query::default());
        assert_eq!((g.len(), g[0].slow), (1, 1));
    }

    #[test]
    fn pins_come_first_in_pin_order() {
        let s = sample();
        let key = |id: &str| SessionKey { worker: 0, id: id.into() };
        let pins = vec![key("e"), key("c"), key("gone"), SessionKey { worker: 9, id: "a".into() }];
        let o: Vec<&str> = order(&s, &Query::default(), &pins).into_iter().map(|i| &*s.sessions[i].session_id).collect();
        assert_eq!(o, ["e", "c", "a", "d", "b"]);
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
}
