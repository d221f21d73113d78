//! Which sessions are shown, in what order: pure filter and sort.

use std::cmp::Ordering;

use crate::column::{Column, StatusFilter};
use crate::snapshot::Session;

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
        }
    }
}

impl Query {
    pub fn matches(&self, s: &Session) -> bool {
        self.status.matches(&s.status)
            && self.agent.as_deref().is_none_or(|a| *s.agent_name == *a)
            && self.tenant.as_deref().is_none_or(|t| tenant_matches(s.tenant.as_deref(), t))
            && self.search.as_deref().is_none_or(|q| search_matches(s, q))
    }

    /// The full ordering: the column (possibly reversed), then the session id,
    /// so equal rows never swap places between refreshes.
    pub fn compare(&self, a: &Session, b: &Session) -> Ordering {
        let primary = self.sort.compare(a, b);
        let primary = if self.reverse { primary.reverse() } else { primary };
        primary.then_with(|| a.session_id.cmp(&b.session_id))
    }
}

pub fn tenant_matches(tenant: Option<&str>, wanted: &str) -> bool {
    match tenant {
        Some(t) => t == wanted,
        None => wanted == "-",
    }
}

/// Case-insensitive substring match over the identifying fields.
pub fn search_matches(s: &Session, needle: &str) -> bool {
    let hay = [Some(&*s.session_id), Some(&*s.agent_name), s.tenant.as_deref()];
    hay.into_iter().flatten().any(|h| contains_ci(h, needle))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// A session's place in the order, precomputed so that most comparisons are
/// two integer compares: the primary value as order-preserving bits (or the
/// first 8 bytes of its text), then the first 8 bytes of the session id. Only
/// ties on those fall back to comparing the strings.
struct SortKey {
    primary: u64,
    id: u64,
    index: u32,
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

fn primary_bits(col: Column, s: &Session) -> u64 {
    if col.numeric() {
        descending_bits(col.number(s))
    } else if col == Column::Pin {
        u64::from(!s.pinned)
    } else {
        col.text(s).map_or(0, prefix)
    }
}

/// Indices of the sessions to show, in display order. Client pins (live view)
/// come first in the order they were pinned, whatever the sort.
pub fn order(sessions: &[Session], q: &Query, pins: &[Box<str>]) -> Vec<usize> {
    let mut keys: Vec<SortKey> = (0..sessions.len())
        .filter(|&i| q.matches(&sessions[i]))
        .map(|i| SortKey { primary: primary_bits(q.sort, &sessions[i]), id: prefix(&sessions[i].session_id), index: i as u32 })
        .collect();
    let text = !q.sort.numeric() && q.sort != Column::Pin;
    // The same order as `Query::compare`, with the payload index last so that
    // even rows equal on every key (duplicate ids) have one fixed place.
    keys.sort_unstable_by(|a, b| {
        let (sa, sb) = (&sessions[a.index as usize], &sessions[b.index as usize]);
        let primary = a.primary.cmp(&b.primary).then_with(|| if text { q.sort.compare(sa, sb) } else { Ordering::Equal });
        let primary = if q.reverse { primary.reverse() } else { primary };
        primary
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| sa.session_id.cmp(&sb.session_id))
            .then_with(|| a.index.cmp(&b.index))
    });
    let mut idx: Vec<usize> = keys.into_iter().map(|k| k.index as usize).collect();
    if !pins.is_empty() {
        let rank = |i: usize| pins.iter().position(|p| *p == sessions[i].session_id);
        let (mut pinned, rest): (Vec<usize>, Vec<usize>) = idx.into_iter().partition(|&i| rank(i).is_some());
        pinned.sort_by_key(|&i| rank(i));
        pinned.extend(rest);
        idx = pinned;
    }
    idx
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::snapshot::Status;

    pub fn row(id: &str, agent: &str, tenant: Option<&str>, mem: f64, cpu: f64, dur: f64, status: &str) -> Session {
        Session {
            session_id: id.into(),
            agent_name: agent.into(),
            tenant: tenant.map(Into::into),
            duration_s: dur,
            mem_mb: mem,
            peak_mb: mem * 2.0,
            cpu_pct: cpu,
            status: Status::parse(status),
            pinned: false,
        }
    }

    pub fn sample() -> Vec<Session> {
        vec![
            row("c", "support", Some("acme"), 10.0, 5.0, 30.0, "active"),
            row("a", "booking", None, 30.0, 1.0, 10.0, "slow"),
            row("b", "sales", Some("globex"), 10.0, 9.0, 20.0, "active"),
            row("d", "support", Some("acme"), 20.0, 5.0, 40.0, "draining"),
            row("e", "Booking", Some("initech"), f64::NAN, 0.0, 0.0, "errored"),
        ]
    }

    fn ids<'a>(s: &'a [Session], q: &Query) -> Vec<&'a str> {
        order(s, q, &[]).into_iter().map(|i| &*s[i].session_id).collect()
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
    }

    #[test]
    fn equal_rows_keep_payload_order() {
        let s = vec![row("x", "a", None, 1.0, 0.0, 0.0, "active"), row("x", "b", None, 1.0, 0.0, 0.0, "active")];
        let o = order(&s, &Query::default(), &[]);
        assert_eq!(o, [0, 1]);
    }

    #[test]
    fn precomputed_order_matches_query_compare() {
        // Every column and direction, on rows built to tie on prefixes and values.
        let mut s = Vec::new();
        for i in 0..60 {
            let mut r = row(
                &format!("AJ_sameprefix_{:02}", (i * 37) % 60),
                ["support", "support-long-name", "s", ""][i % 4],
                [None, Some("acme"), Some("acme-corporation"), Some("")][i % 4],
                [0.0, -0.0, 1.5, f64::NAN, f64::INFINITY, -2.0][i % 6],
                (i % 7) as f64,
                (i % 5) as f64,
                ["active", "slow", "draining", "x"][i % 4],
            );
            r.pinned = i % 3 == 0;
            s.push(r);
        }
        for sort in Column::ALL {
            for reverse in [false, true] {
                let q = Query { sort, reverse, ..Query::default() };
                let mut want: Vec<usize> = (0..s.len()).collect();
                want.sort_by(|&a, &b| q.compare(&s[a], &s[b]).then(a.cmp(&b)));
                assert_eq!(order(&s, &q, &[]), want, "{sort:?} reverse={reverse}");
            }
        }
    }

    #[test]
    fn pins_come_first_in_pin_order() {
        let s = sample();
        let pins: Vec<Box<str>> = vec!["e".into(), "c".into(), "gone".into()];
        let o: Vec<&str> = order(&s, &Query::default(), &pins).into_iter().map(|i| &*s[i].session_id).collect();
        assert_eq!(o, ["e", "c", "a", "d", "b"]);
    }
}
