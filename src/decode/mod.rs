//! Reading a payload: bytes in, a `Snapshot` out, never a panic or a hang.
//!
//! `reader` is the one pass over the bytes (the grammar checked as it
//! reads; nanoserde decodes the strings with escapes, see there), `number`
//! its number grammar, `fields` the key lookup. What is here turns what it
//! reads into rows with the reference client's tolerance: both payload
//! shapes, defaults for missing fields, non-object rows dropped, a
//! non-object worker absent. A field of the wrong type takes its default
//! instead of failing the snapshot, and numeric fields accept numeric
//! strings as Python's `float()` does. Only text that is not JSON at all
//! is an error, so an operator sees garbage reported, not an empty pool.
//! (`source::sample` reads a recorded line with the same reader and rows.)


mod number;
pub(crate) mod reader;

use std::fmt;
use std::rc::Rc;

use crate::model::column::{Column, Kind as Cell};
use crate::model::{Session, SessionId, Snapshot, Status, System, Worker};
use crate::model::fields::Field;
use reader::{Kind, Read, Reader, Why};

/// A payload that could not be read as JSON at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decode one payload line (without its newline).
pub fn decode(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
    read(bytes, document)
}

/// Read all of `bytes` as one document with `doc` (a payload, or a
/// recorded sample). A document that holds what it may not (see
/// `Stop::Cannot`) is checked to its end before that is said, so a text
/// that is not JSON is always reported as such, where it first fails.
pub(crate) fn read<T>(bytes: &[u8], doc: fn(&mut Reader) -> Read<T>) -> Result<T, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DecodeError(format!("not UTF-8 text (invalid byte at {})", e.valid_up_to())))?;
    let not_json = |at: usize, what: &str| DecodeError(format!("not JSON: {what} at byte {at}"));
    let mut rd = Reader::new(text);
    if let Ok(v) = doc(&mut rd).and_then(|v| rd.finish().map(|()| v)) {
        return Ok(v);
    }
    match rd.why() {
        Why::Syntax(at, what) => Err(not_json(at, what)),
        Why::Cannot(why) => {
            let mut all = Reader::new(text);
            match all.skip().and_then(|()| all.finish()).map_err(|_| all.why()) {
                Err(Why::Syntax(at, what)) => Err(not_json(at, what)),
                _ => Err(DecodeError(why)),
            }
        }
    }
}

/// A payload: an object with a worker block and sessions, or a bare array
/// of sessions (openrtc 0.3); anything else is an empty snapshot.
fn document(rd: &mut Reader) -> Read<Snapshot> {
    Ok(match rd.kind()? {
        Kind::Object => {
            let mut snap = Snapshot::default();
            rd.object(|rd, key| {
                match key {
                    Field::Worker => snap.worker = rd.maybe_object(worker)?,
                    Field::Sessions => snap.sessions = rows(rd, None)?,
                    _ => rd.skip()?,
                }
                Ok(())
            })?;
            snap
        }
        Kind::Array => Snapshot { worker: None, sessions: rows(rd, None)? },
        _ => {
            rd.skip()?;
            Snapshot::default()
        }
    })
}

/// The fewest payload bytes a row may average. A real row is all nine
/// fields, 140 bytes and more (160-190 from openrtc 0.20.1); a decoded row
/// takes 112 bytes of memory, so rows much smaller than real ones would let
/// a payload multiply itself in memory (21 million `{}` in 60 MB once took
/// 3.6 GB). Above `MIN_ROWS`, a payload with more rows than its size allows
/// for at this rate is refused as soon as the count passes it.
pub const MIN_ROW_BYTES: usize = 96;

/// Any payload may hold this many rows, however short.
pub const MIN_ROWS: usize = 1000;

/// The most `cpu_history` values kept (the last ones): the worker sends at
/// most 60.
pub const MAX_HISTORY: usize = 600;

/// Session rows: non-object elements are dropped, a non-array is none.
/// `labels`: a recording of several workers tags each row with its
/// worker's label; the rows then index this list of the labels seen.
pub(crate) fn rows(rd: &mut Reader, mut labels: Option<&mut Vec<Rc<str>>>) -> Read<Vec<Session>> {
    let len = rd.text.len();
    let budget = (len / MIN_ROW_BYTES).max(MIN_ROWS);
    // A real row takes 140 to 190 bytes of payload: reserve once for the
    // most rows that could be (not by doubling, which copies). What is not
    // used is never touched, so it costs address space, not memory; and
    // not trimming it keeps the allocation the same size from one refresh
    // to the next, which the allocator then hands back already faulted in.
    let mut rows = Vec::with_capacity(((len - rd.i) / 140).min(1 << 20));
    // Each row starts as a copy of one empty row: its empty agent shared,
    // not allocated and freed for every row (1.5% of decoding 100,000).
    let empty = Session::default();
    rd.maybe_array(|rd| {
        if rd.kind()? != Kind::Object {
            return rd.skip();
        }
        if rows.len() == budget {
            let n = rows.len() + 1;
            return Err(rd.cannot(format!("more rows than {MIN_ROW_BYTES} bytes each ({n} in {len} bytes), smaller than any real row: refused")));
        }
        // Decoded in place: a row is 112 bytes, not worth moving twice.
        rows.push(empty.clone());
        let n = rows.len() - 1;
        session(rd, &mut rows[n], labels.as_deref_mut())
    })?;
    Ok(rows)
}

/// One row, each field through the column that shows it. A value of the
/// field's type sets it; anything else (null, another type) leaves it
/// missing with its default, also when an earlier duplicate key had set it
/// (the last key wins, as in Python).
fn session(rd: &mut Reader, r: &mut Session, mut labels: Option<&mut Vec<Rc<str>>>) -> Read<()> {
    rd.object(|rd, key| {
        let Some(col) = Column::of_field(key) else { return rd.skip() };
        let found = match col.kind() {
            // Only a recording's rows name their worker.
            Cell::Worker => {
                match (labels.as_deref_mut(), rd.shared()?) {
                    (Some(seen), Some(label)) => r.worker = label_index(seen, label),
                    _ => {}
                }
                return Ok(());
            }
            Cell::Tenant => {
                r.tenant = rd.shared()?;
                return Ok(());
            }
            Cell::Id => set(&mut r.session_id, rd.text(SessionId::new)?),
            Cell::Agent => set(&mut r.agent_name, rd.shared()?),
            Cell::Num { slot, .. } => set(&mut r.nums[slot], rd.num()?),
            Cell::Status => set(&mut r.status, rd.text(Status::parse)?),
            Cell::Pin => set(&mut r.pinned, rd.flag()?),
        };
        if found { r.missing &= !col.bit() } else { r.missing |= col.bit() }
        Ok(())
    })
}

/// Store a value read, or the type's default for one that was not;
/// whether it was.
fn set<T: Default>(slot: &mut T, value: Option<T>) -> bool {
    let found = value.is_some();
    *slot = value.unwrap_or_default();
    found
}

/// Where `label` is in the labels seen so far (added when new; `u16::MAX`
/// past the most a row can index).
fn label_index(seen: &mut Vec<Rc<str>>, label: Rc<str>) -> u16 {
    let i = seen.iter().position(|l| *l == label).unwrap_or(seen.len());
    if i == seen.len() && i < usize::from(u16::MAX) {
        seen.push(label);
    }
    u16::try_from(i).unwrap_or(u16::MAX)
}

pub(crate) fn worker(rd: &mut Reader) -> Read<Worker> {
    let mut w = Worker::default();
    rd.object(|rd, key| {
        match key {
            Field::Name => w.name = rd.text(str::to_string)?,
            Field::UptimeS => w.uptime_s = rd.num()?,
            Field::ActiveSessions => w.active_sessions = rd.num()?,
            Field::MaxSessions => w.max_sessions = rd.num()?,
            Field::Started => w.started = rd.num()?,
            Field::Failed => w.failed = rd.num()?,
            Field::Draining => w.draining = rd.flag()?,
            Field::SavedBytes => w.saved_bytes = rd.num()?,
            Field::System => w.system = rd.maybe_object(system)?,
            Field::CpuHistory => w.cpu_history = history(rd)?,
            _ => rd.skip()?,
        }
        Ok(())
    })?;
    Ok(w)
}

/// The last `MAX_HISTORY` numbers of an array (other elements are passed
/// over): memory stays bounded by that, not by the array.
fn history(rd: &mut Reader) -> Read<Vec<f64>> {
    let mut out = Vec::new();
    rd.maybe_array(|rd| {
        if let Some(v) = rd.num()? {
            if out.len() == 2 * MAX_HISTORY {
                out.drain(..MAX_HISTORY);
            }
            out.push(v);
        }
        Ok(())
    })?;
    out.drain(..out.len().saturating_sub(MAX_HISTORY));
    Ok(out)
}

fn system(rd: &mut Reader) -> Read<System> {
    let mut s = System::default();
    rd.object(|rd, key| {
        let slot = match key {
            Field::Available => {
                s.available = rd.flag()?;
                return Ok(());
            }
            Field::CpuPct => &mut s.cpu_pct,
            Field::Vcpus => &mut s.vcpus,
            Field::MemUsedBytes => &mut s.mem_used_bytes,
            Field::MemTotalBytes => &mut s.mem_total_bytes,
            Field::SwapUsedBytes => &mut s.swap_used_bytes,
            Field::SwapTotalBytes => &mut s.swap_total_bytes,
            Field::Load1 => &mut s.load1,
            Field::Load5 => &mut s.load5,
            Field::Load15 => &mut s.load15,
            Field::NetRateBps => &mut s.net_rate_bps,
            _ => return rd.skip(),
        };
        *slot = rd.num()?;
        Ok(())
    })?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::column::Column;
    use std::rc::Rc;

    const V020: &str = include_str!("../../tests/fixtures/snapshot-v020.jsonl");
    const V020_EMPTY: &str = include_str!("../../tests/fixtures/snapshot-v020-empty.jsonl");
    const V03: &str = include_str!("../../tests/fixtures/snapshot-v03-list.jsonl");

    fn dec(s: &str) -> Snapshot {
        decode(s.trim_end().as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }
    /// A payload refused for its row count says so only when all of it is
    /// JSON: else what is wrong with it, where.
    #[test]
    fn too_many_rows_are_refused_unless_the_text_is_not_json() {
        let rows = vec![r#"{"session_id": "a"}"#; MIN_ROWS + 1].join(",");
        let refused = |doc: String| decode(doc.as_bytes()).unwrap_err().to_string();
        assert!(refused(format!("[{rows}]")).contains("more rows than 96 bytes each (1001 in"));
        assert!(refused(format!("[{rows}, \"\\ud800\"]")).contains("more rows than"), "a lone surrogate is JSON as Python writes it");
        let at = rows.len() + 3;
        assert_eq!(refused(format!("[{rows}, x]")), format!("not JSON: unexpected character at byte {at}"));
    }

    #[test]
    fn fixture_v020_empty() {
        let s = dec(V020_EMPTY);
        assert!(s.sessions.is_empty());
        assert_eq!(s.worker.unwrap().cpu_history, vec![10.2]);
    }

    #[test]
    fn fixture_v03_bare_array() {
        let s = dec(V03);
        assert!(s.worker.is_none());
        assert_eq!(s.sessions.len(), 3);
        assert_eq!(&*s.sessions[0].session_id, "job-c1d550");
        assert_eq!(Column::Peak.number(&s.sessions[0]), 240.1);
        assert!(s.sessions[2].pinned);
        assert_eq!(s.sessions[2].tenant.as_deref(), Some("globex"));
    }

    #[test]
    fn tolerance_rules_of_the_reference() {
        // Neither object nor array: empty. Non-array sessions: empty.
        for s in ["42", "\"x\"", "null", "true", r#"{"sessions": 5}"#, r#"{"sessions": {"a": 1}}"#, "{}"] {
            assert_eq!(dec(s), Snapshot::default(), "{s}");
        }
        // Non-object rows dropped; non-object worker absent.
        let s = dec(r#"{"worker": [1], "sessions": [1, "x", null, [], {"session_id": "a"}]}"#);
        assert!(s.worker.is_none());
        assert_eq!(s.sessions.len(), 1);
        // Missing fields take defaults.
        let r = &s.sessions[0];
        assert_eq!((&*r.agent_name, r.tenant.as_deref(), Column::Mem.number(&r), r.pinned), ("", None, 0.0, false));
        assert_eq!(r.status.as_str(), "");
    }

    #[test]
    fn one_rule_for_wrong_types_a_numeric_string_is_a_number() {
        let s = dec(r#"[{"session_id": 7, "tenant": 3, "mem_mb": "12.5", "cpu_pct": "x", "duration_s": [1, {"a": 2}], "pinned": 1, "status": null, "agent_name": "a", "peak_mb": null}]"#);
        let r = &s.sessions[0];
        assert_eq!((&*r.session_id, r.tenant.as_deref(), Column::Mem.number(&r), Column::Cpu.number(&r), Column::Duration.number(&r)), ("", None, 12.5, 0.0, 0.0));
        assert!(!r.pinned);
        for (bit, name) in [(Session::ID, "id"), (Session::CPU, "cpu"), (Session::DURATION, "duration"), (Session::PINNED, "pinned"), (Session::STATUS, "status"), (Session::PEAK, "peak")] {
            assert!(r.lacks(bit), "{name} should be missing");
        }
        assert!(!r.lacks(Session::MEM) && !r.lacks(Session::AGENT));
        // Non-finite tokens are numbers: in a text field they are a wrong type.
        let s = dec(r#"[{"status": NaN, "session_id": -Infinity, "agent_name": Infinity, "mem_mb": NaN}]"#);
        let r = &s.sessions[0];
        assert!(r.lacks(Session::STATUS) && r.lacks(Session::ID) && r.lacks(Session::AGENT), "{r:?}");
        assert_eq!(r.status.as_str(), "");
        assert!(Column::Mem.number(&r).is_nan() && !r.lacks(Session::MEM));
        // A later duplicate of the wrong type leaves the field missing.
        let r = &dec(r#"[{"mem_mb": 5, "mem_mb": "n/a"}]"#).sessions[0];
        assert!(r.lacks(Session::MEM) && Column::Mem.number(&r) == 0.0);
        let w = dec(r#"{"worker": {"system": 1, "cpu_history": [1, "2", null, "z", 3.5, NaN], "draining": "yes", "name": 5}, "sessions": []}"#).worker.unwrap();
        assert_eq!((w.system, w.draining, w.name), (None, None, None));
        assert_eq!(&w.cpu_history[..3], [1.0, 2.0, 3.5]);
        assert!(w.cpu_history[3].is_nan());
        let w = dec(r#"{"worker": {"draining": true, "system": {"available": 1}}}"#).worker.unwrap();
        assert_eq!((w.draining, w.system.unwrap().available), (Some(true), None));
    }

    #[test]
    fn a_complete_row_misses_nothing() {
        let s = dec(V020);
        assert!(s.sessions.iter().all(|r| r.missing == 0));
        assert_eq!(dec(r#"[{}]"#).sessions[0].missing, Session::ALL);
    }

    #[test]
    fn rows_smaller_than_any_real_row_are_refused_past_the_budget() {
        // 1,000 empty rows are fine however small the payload ...
        let ok = format!("[{}]", vec!["{}"; MIN_ROWS].join(","));
        assert_eq!(dec(&ok).sessions.len(), MIN_ROWS);
        // ... one more is not, when the payload is that small.
        let over = format!("[{}]", vec!["{}"; MIN_ROWS + 1].join(","));
        let e = decode(over.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("more rows than 96 bytes each (1001 in 3004 bytes)"), "{e}");
        // Real rows are far above the rate.
        let real = r#"{"session_id": "AJ_x", "agent_name": "a", "tenant": null, "duration_s": 1.0, "mem_mb": 1.0, "peak_mb": 1.0, "cpu_pct": 1.0, "status": "active", "pinned": false}"#;
        assert!(real.len() >= MIN_ROW_BYTES * 3 / 2);
        let many = format!("[{}]", vec![real; 5 * MIN_ROWS].join(", "));
        assert_eq!(dec(&many).sessions.len(), 5 * MIN_ROWS);
        // Other elements are not rows and cost no memory.
        let ones = format!("[{}]", vec!["1"; 10 * MIN_ROWS].join(","));
        assert!(dec(&ones).sessions.is_empty());
    }

    #[test]
    fn cpu_history_keeps_its_last_values() {
        let values: Vec<String> = (0..2500).map(|i| i.to_string()).collect();
        let w = dec(&format!(r#"{{"worker": {{"cpu_history": [{}]}}}}"#, values.join(", "))).worker.unwrap();
        assert_eq!(w.cpu_history.len(), MAX_HISTORY);
        assert_eq!((w.cpu_history[0], w.cpu_history[MAX_HISTORY - 1]), (1900.0, 2499.0));
    }

    #[test]
    fn non_finite_tokens_and_ints_for_floats() {
        let s = dec(r#"[{"mem_mb": NaN, "peak_mb": Infinity, "cpu_pct": -Infinity, "duration_s": 40}]"#);
        let r = &s.sessions[0];
        assert!(Column::Mem.number(&r).is_nan());
        assert_eq!((Column::Peak.number(&r), Column::Cpu.number(&r), Column::Duration.number(&r)), (f64::INFINITY, f64::NEG_INFINITY, 40.0));
        let w = dec(r#"{"worker": {"uptime_s": 1e+16, "failed": 123456789012345678901234, "system": {"cpu_pct": -0.5e-1}}}"#).worker.unwrap();
        assert_eq!(w.uptime_s, Some(1e16));
        assert_eq!(w.failed, Some(1.2345678901234568e23));
        assert_eq!(w.system.unwrap().cpu_pct, Some(-0.05));
    }

    #[test]
    fn unicode_escapes_and_surrogates() {
        let s = dec(r#"[{"session_id": "caf\u00e9 \ud83d\ude00 \u001b[31m", "agent_name": "\u4e2d\u6587", "tenant": "lone \ud800 x"}]"#);
        let r = &s.sessions[0];
        assert_eq!(&*r.session_id, "café 😀 \u{1b}[31m");
        assert_eq!(&*r.agent_name, "中文");
        assert_eq!(r.tenant.as_deref(), Some("lone \u{fffd} x"));
    }

    #[test]
    fn unknown_fields_of_any_shape_are_ignored() {
        let s = dec(r#"{"future": {"a": [1, {"b": [[], {}]}]}, "sessions": [{"x": [1, [2, [3]]], "session_id": "a", "y": {"z": null}}], "more": "x"}"#);
        assert_eq!(&*s.sessions[0].session_id, "a");
    }


    #[test]
    fn repeated_agents_and_tenants_are_shared() {
        let mut rows = Vec::new();
        for i in 0..40 {
            rows.push(format!(r#"{{"session_id": "s{i}", "agent_name": "a{}", "tenant": "t{}"}}"#, i % 3, i % 10));
        }
        let s = dec(&format!("[{}]", rows.join(", ")));
        assert!(Rc::ptr_eq(&s.sessions[0].agent_name, &s.sessions[3].agent_name));
        // 14 rows and the decoder's own memory of it, dropped with the lexer.
        assert_eq!(Rc::strong_count(&s.sessions[0].agent_name), 14);
        // More distinct values than remembered: still right, just not shared.
        let mut rows = Vec::new();
        for i in 0..100 {
            rows.push(format!(r#"{{"agent_name": "a{}", "tenant": "t{}"}}"#, i % 3, i % 50));
        }
        let s = dec(&format!("[{}]", rows.join(", ")));
        for (i, r) in s.sessions.iter().enumerate() {
            assert_eq!(&*r.agent_name, format!("a{}", i % 3));
            assert_eq!(r.tenant.as_deref(), Some(format!("t{}", i % 50).as_str()));
        }
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let s = dec(r#"[{"session_id": "a", "session_id": "b"}]"#);
        assert_eq!(&*s.sessions[0].session_id, "b");
    }

    #[test]
    fn malformed_input_is_an_error_value() {
        for bad in [&b"{\"sessions\": ["[..], b"\xff\xfe", b"not json", b"", b"{\"zz\": , }", b"[1, 2"] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ten_thousand_sessions() {
        let mut s = String::from("{\"worker\": null, \"sessions\": [");
        for i in 0..10_000 {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!(
                "{{\"session_id\": \"AJ_{i:05}\", \"agent_name\": \"a{}\", \"tenant\": null, \"duration_s\": {i}.5, \"mem_mb\": 2.3, \"peak_mb\": 2.3, \"cpu_pct\": 0.1, \"status\": \"active\", \"pinned\": false}}",
                i % 4
            ));
        }
        s.push_str("]}");
        let snap = dec(&s);
        assert_eq!(snap.sessions.len(), 10_000);
        assert_eq!(&*snap.sessions[9_999].session_id, "AJ_09999");
        assert_eq!(Column::Duration.number(&snap.sessions[9_999]), 9_999.5);
    }
}
