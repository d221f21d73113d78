//! Reading a payload: bytes in, a `Snapshot` out, never a panic or a hang.
//!
//! Three parts, each in its own file:
//! 1. `guard` holds the rules: strict JSON plus the Python-isms `json.dumps`
//!    writes, nesting capped, checked iteratively; it rewrites the one
//!    Python-ism nanoserde cannot read (lone surrogate escapes). nanoserde
//!    0.2 trusts its input: it loops forever on an unterminated container
//!    inside an unknown field, hits an `unimplemented!` on a stray `,` in
//!    value position, and reads a raw NUL as end of input. It only ever
//!    sees well-formed JSON.
//! 2. `lexer` walks the tokens from a byte position. Which inputs go where:
//!    - read in place: punctuation, literals, keys without escapes
//!      (matched against `fields`, never copied), strings without escapes
//!      (borrowed) and numbers (parsed from the text). These are nearly
//!      all of a real payload, and nanoserde reads them a character at a
//!      time into a buffer, which was most of the decoding time at 100,000
//!      sessions. Rows in the shape workers write them are read raw, with
//!      no tokens between (`session_fast`).
//!    - decoded by nanoserde's tokenizer: every string with an escape
//!      (`\uXXXX`, surrogate pairs, `\n`, ...), and only when it is used:
//!      rarer, and where getting JSON's rules right matters more than
//!      speed. nanoserde alone is the reference tests hold the rest to.
//! 3. the functions below turn tokens into rows with the reference client's
//!    tolerance: both payload shapes, defaults for missing fields, non-object
//!    rows dropped, a non-object worker absent. A field of the wrong type
//!    takes its default instead of failing the snapshot, and numeric fields
//!    accept numeric strings as Python's `float()` does. Only text that is
//!    not JSON at all is an error, so an operator sees garbage reported, not
//!    an empty pool.
//!
//! A payload is read in one pass when it can be (`strict`: each token
//! checked by the guard's rules as it is read), else behind the guard (the
//! guard's pass over the whole text first); the result is the same either
//! way, which a test holds.

pub mod fields;
pub mod guard;

mod lexer;
pub mod sample;

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

use nanoserde::DeJsonTok;

use crate::model::{Session, SessionId, Snapshot, Status, System, Worker};
use fields::Field;
use lexer::Lexer;

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
    guarded(bytes, document)
}

/// `decode` of a payload it may consume: when the guard has to rewrite it,
/// the original goes before the rewritten copy is read, so the two are
/// never held beside the rows being built. When the strict pass read it,
/// its buffer comes back emptied, for the next fetch from the same worker
/// (a fresh buffer each refresh was faulted in page by page each time).
pub fn decode_owned(bytes: Vec<u8>) -> (Result<Snapshot, DecodeError>, Option<Vec<u8>>) {
    if let Err(e) = utf8(&bytes) {
        return (Err(e), None);
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return (Err(DecodeError(format!("not UTF-8 text ({e})"))), None),
    };
    match strict(&text, document) {
        Strict::Read(snap) => {
            let mut buf = text.into_bytes();
            buf.clear();
            return (Ok(snap), Some(buf));
        }
        Strict::Refused(e) => return (guard::check(&text).map_err(not_json).and(Err(e)), None),
        Strict::GaveUp => {}
    }
    let read = || match guard::check(&text).map_err(not_json)? {
        Cow::Borrowed(_) => document(&mut Lexer::new(&text, true)?),
        Cow::Owned(fixed) => {
            drop(text);
            document(&mut Lexer::new(&fixed, true)?)
        }
    };
    (read(), None)
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError(format!("not UTF-8 text (invalid byte at {})", e.valid_up_to())))
}

fn not_json(e: guard::GuardError) -> DecodeError {
    DecodeError(format!("not JSON: {e}"))
}

/// `decode`, optionally without the lexer's fast paths: nanoserde alone, the
/// reference that tests hold the fast paths to.
#[cfg(test)]
fn decode_with(bytes: &[u8], fast: bool) -> Result<Snapshot, DecodeError> {
    let text = guard::check(utf8(bytes)?).map_err(not_json)?;
    document(&mut Lexer::new(&text, fast)?)
}

/// Read `bytes` with `read` (the snapshot reader, or the sample reader of
/// `sample`): the strict pass, or else guarded.
fn guarded<T>(bytes: &[u8], read: fn(&mut Lexer) -> Result<T, DecodeError>) -> Result<T, DecodeError> {
    let text = utf8(bytes)?;
    match strict(text, read) {
        Strict::Read(v) => return Ok(v),
        Strict::Refused(e) => return guard::check(text).map_err(not_json).and(Err(e)),
        Strict::GaveUp => {}
    }
    let text = guard::check(text).map_err(not_json)?;
    read(&mut Lexer::new(&text, true)?)
}

/// The strict pass: `text` read once, each token checked by the guard's
/// rules as it is read (see `Lexer::strict`). A payload as workers write
/// it passes, and the guard's own pass over the whole text is saved (a
/// quarter of decoding). Anything else, whether the guard would refuse it,
/// rewrite it or only the strict pass does not check it, is an error here,
/// and the caller reads the text again behind the guard; so the result is
/// always the guarded one, which a test holds it to.
fn strict<T>(text: &str, read: fn(&mut Lexer) -> Result<T, DecodeError>) -> Strict<T> {
    let Ok(mut lx) = Lexer::strict(text) else { return Strict::GaveUp };
    match read(&mut lx).and_then(|v| lx.finish().map(|()| v)) {
        Ok(v) => Strict::Read(v),
        Err(e) if lx.refused() => Strict::Refused(e),
        Err(_) => Strict::GaveUp,
    }
}

/// What the strict pass made of a text.
enum Strict<T> {
    Read(T),
    /// Refused for what it holds, not how it is written (more rows than
    /// its size allows): reading it again behind the guard would build
    /// the same rows to refuse it again, so only the guard looks again,
    /// for the error it would report first.
    Refused(DecodeError),
    /// Something the strict pass does not read: the guarded pass decides.
    GaveUp,
}

/// `decode` without the strict pass: guarded, always.
#[cfg(test)]
fn decode_guarded(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
    let text = guard::check(utf8(bytes)?).map_err(not_json)?;
    document(&mut Lexer::new(&text, true)?)
}

/// A payload, over the lexer of its guarded text: the document's two shapes.
fn document(lx: &mut Lexer) -> Result<Snapshot, DecodeError> {
    let snapshot = match lx.tok() {
        DeJsonTok::CurlyOpen => {
            let mut snap = Snapshot::default();
            lx.object(|lx, key| {
                match key {
                    Field::Worker => snap.worker = lx.maybe_object(worker)?,
                    Field::Sessions => snap.sessions = rows(lx, None)?,
                    _ => lx.skip()?,
                }
                Ok(())
            })?;
            snap
        }
        DeJsonTok::BlockOpen => Snapshot { worker: None, sessions: rows(lx, None)? },
        _ => Snapshot::default(),
    };
    Ok(snapshot)
}

/// Session rows; non-object elements are dropped, a non-array is empty.
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

/// `labels`: a recording of several workers tags each row with its
/// worker's label; the rows then index this list of the labels seen.
fn rows(lx: &mut Lexer, mut labels: Option<&mut Vec<Rc<str>>>) -> Result<Vec<Session>, DecodeError> {
    let budget = (lx.len() / MIN_ROW_BYTES).max(MIN_ROWS);
    // A real row takes 140 to 190 bytes of payload: reserve once for the
    // most rows that could be (not by doubling, which copies). What is not
    // used is never touched, so it costs address space, not memory; and
    // not trimming it keeps the allocation the same size from one refresh
    // to the next, which the allocator then hands back already faulted in.
    let mut rows = Vec::with_capacity((lx.remaining() / 140).min(1 << 20));
    lx.array(|lx| {
        if *lx.tok() == DeJsonTok::CurlyOpen {
            if rows.len() == budget {
                return Err(lx.refuse(format!(
                    "more rows than {MIN_ROW_BYTES} bytes each ({} in {} bytes), smaller than any real row: refused",
                    rows.len() + 1,
                    lx.len()
                )));
            }
            // Decoded in place: a row is 112 bytes, not worth moving twice.
            rows.push(Session::default());
            if let Some(row) = rows.last_mut() {
                if !session_fast(lx, row, labels.as_deref_mut())? {
                    session(lx, row, labels.as_deref_mut())?;
                }
            }
            Ok(())
        } else {
            lx.skip()
        }
    })?;
    Ok(rows)
}

pub(super) fn worker(lx: &mut Lexer) -> Result<Worker, DecodeError> {
    let mut w = Worker::default();
    lx.object(|lx, key| {
        match key {
            Field::Name => w.name = lx.text(|t| t.to_string())?,
            Field::UptimeS => w.uptime_s = lx.number()?,
            Field::ActiveSessions => w.active_sessions = lx.number()?,
            Field::MaxSessions => w.max_sessions = lx.number()?,
            Field::Started => w.started = lx.number()?,
            Field::Failed => w.failed = lx.number()?,
            Field::Draining => w.draining = lx.flag()?,
            Field::SavedBytes => w.saved_bytes = lx.number()?,
            Field::System => w.system = lx.maybe_object(system)?,
            Field::CpuHistory => w.cpu_history = lx.numbers(MAX_HISTORY)?,
            _ => lx.skip()?,
        }
        Ok(())
    })?;
    Ok(w)
}

fn system(lx: &mut Lexer) -> Result<System, DecodeError> {
    let mut s = System::default();
    lx.object(|lx, key| {
        let slot = match key {
            Field::Available => {
                s.available = lx.flag()?;
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
            _ => return lx.skip(),
        };
        *slot = lx.number()?;
        Ok(())
    })?;
    Ok(s)
}

/// One row in the shape workers write it: known keys without escapes,
/// each with a value of its field's type, strings without escapes (but
/// agents and tenants with them). Read straight from the text, with no tokens
/// between: per key and value, the tokenizer's dispatch and error plumbing
/// were most of what a row cost (at 9,600 sessions, half the live view's
/// refresh). Anything else (an unknown key, an escape in an id or a
/// status, a number in a string, a null where a value belongs) is `false` with the row and the
/// lexer as they were, for `session` to read; a test holds the two to the
/// same rows.
fn session_fast(lx: &mut Lexer, r: &mut Session, mut labels: Option<&mut Vec<Rc<str>>>) -> Result<bool, DecodeError> {
    if !lx.fast() {
        return Ok(false);
    }
    let mark = lx.mark();
    let read = (|| {
        // An empty object is left to `session`.
        let mut n = 0;
        loop {
            let bit = match lx.row_key(n)? {
                Field::Worker if labels.is_some() => {
                    let label = lx.raw_shared()?;
                    r.worker = label_index(labels.as_deref_mut()?, label);
                    0
                }
                Field::SessionId => {
                    r.session_id = SessionId::new(lx.raw_str()?);
                    Session::ID
                }
                Field::AgentName => {
                    r.agent_name = lx.raw_shared()?;
                    Session::AGENT
                }
                Field::Tenant => {
                    r.tenant = match lx.raw_literal() {
                        Some(None) => None,
                        Some(Some(_)) => return None,
                        None => Some(lx.raw_shared()?),
                    };
                    0
                }
                key @ (Field::DurationS | Field::MemMb | Field::PeakMb | Field::CpuPct) => {
                    let v = lx.raw_number()?;
                    let (slot, bit) = number_slot(r, key)?;
                    *slot = v;
                    bit
                }
                Field::Status => {
                    r.status = Status::parse(lx.raw_str()?);
                    Session::STATUS
                }
                Field::Pinned => {
                    r.pinned = lx.raw_literal()??;
                    Session::PINNED
                }
                _ => return None,
            };
            r.missing &= !bit;
            n += 1;
            if !lx.raw_next()? {
                return Some(());
            }
        }
    })();
    if read.is_none() {
        lx.reset(mark);
        *r = Session::default();
        return Ok(false);
    }
    // The token after the row's `}` becomes the current one.
    lx.bump()?;
    #[cfg(test)]
    FAST_ROWS.with(|n| n.set(n.get() + 1));
    Ok(true)
}

#[cfg(test)]
thread_local! {
    /// Rows `session_fast` has read (tests check that real rows take it).
    static FAST_ROWS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A row's numeric field: where its value goes and its missing bit (both
/// row readers use this one table).
fn number_slot(r: &mut Session, key: Field) -> Option<(&mut f64, u16)> {
    let c = crate::model::column::Column::of_field(key)?;
    match c.kind() {
        crate::model::column::Kind::Num { slot, .. } => Some((&mut r.nums[slot], c.bit())),
        _ => None,
    }
}

/// Where `label` is in the labels seen so far (added when new; `u16::MAX`
/// past the most a row can index).
fn label_index(seen: &mut Vec<Rc<str>>, label: Rc<str>) -> u16 {
    match seen.iter().position(|l| *l == label) {
        Some(i) => i as u16,
        None if seen.len() < usize::from(u16::MAX) => {
            seen.push(label);
            (seen.len() - 1) as u16
        }
        None => u16::MAX,
    }
}

/// One row. A value of the field's type sets the field; anything else
/// (null, another type) leaves it missing with its default, also when an
/// earlier duplicate key had set it (the last key wins, as in Python).
fn session(lx: &mut Lexer, r: &mut Session, mut labels: Option<&mut Vec<Rc<str>>>) -> Result<(), DecodeError> {
    lx.object(|lx, key| {
        let (bit, found) = match key {
            Field::Worker if labels.is_some() => {
                if let (Some(label), Some(seen)) = (lx.shared()?, labels.as_deref_mut()) {
                    r.worker = label_index(seen, label);
                }
                return Ok(());
            }
            Field::SessionId => (Session::ID, set(&mut r.session_id, lx.text(SessionId::new)?)),
            Field::AgentName => (Session::AGENT, set(&mut r.agent_name, lx.shared()?)),
            Field::Tenant => {
                r.tenant = lx.shared()?;
                return Ok(());
            }
            Field::DurationS | Field::MemMb | Field::PeakMb | Field::CpuPct => {
                let v = lx.number()?;
                let Some((slot, bit)) = number_slot(r, key) else { return Ok(()) };
                (bit, set(slot, v))
            }
            Field::Status => (Session::STATUS, set(&mut r.status, lx.text(Status::parse)?)),
            Field::Pinned => (Session::PINNED, set(&mut r.pinned, lx.flag()?)),
            _ => return lx.skip(),
        };
        if found { r.missing &= !bit } else { r.missing |= bit }
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

    #[test]
    fn fixture_v020() {
        let s = dec(V020);
        let w = s.worker.as_ref().unwrap();
        assert_eq!(w.name.as_deref(), Some("harness-worker"));
        assert_eq!(w.uptime_s, Some(4.027744909000035));
        assert_eq!((w.active_sessions, w.max_sessions), (Some(12.0), Some(24.0)));
        assert_eq!((w.started, w.failed, w.draining), (Some(12.0), Some(0.0), Some(false)));
        assert_eq!(w.saved_bytes, None);
        assert_eq!(w.cpu_history, vec![29.1]);
        let sys = w.system.as_ref().unwrap();
        assert_eq!(sys.available, Some(true));
        assert_eq!(sys.mem_total_bytes, Some(25276059648.0));
        assert_eq!(sys.load15, Some(0.09619140625));
        assert_eq!(sys.net_rate_bps, None);
        assert_eq!(s.sessions.len(), 12);
        let first = &s.sessions[0];
        assert_eq!(&*first.session_id, "AJ_0000_blocker");
        assert_eq!(&*first.agent_name, "booking");
        assert_eq!(first.tenant, None);
        assert_eq!(first.status, Status::Slow);
        assert_eq!((Column::Duration.number(&first), Column::Mem.number(&first), Column::Peak.number(&first), Column::Cpu.number(&first)), (4.0, 2.3, 2.3, 21.5));
        assert_eq!(s.sessions[1].tenant.as_deref(), Some("acme-1"));
        assert_eq!(s.sessions.iter().filter(|r| r.status == Status::Slow).count(), 4);
    }

    /// Payloads as the real workers write them take the strict pass (and
    /// a recorded sample of several workers too).
    #[test]
    fn real_payloads_pass_the_strict_pass() {
        for doc in [V020, V020_EMPTY, V03] {
            assert!(matches!(strict(doc.trim_end(), document), Strict::Read(_)), "{doc}");
        }
        let big = format!("{{\"worker\": {{\"name\": \"w\", \"system\": {{\"available\": true, \"net_rate_bps\": null}}, \"cpu_history\": [1.5, NaN]}}, \"future\": {{\"a\": [1, {{\"b\": \"\\u00e9\"}}]}}, \"sessions\": [{}]}}",
            (0..50).map(|i| format!("{{\"session_id\": \"AJ_{i}\", \"agent_name\": \"a\\u00e9\", \"tenant\": null, \"duration_s\": {i}.5, \"mem_mb\": -1e+3, \"peak_mb\": 0, \"cpu_pct\": Infinity, \"status\": \"slow\", \"pinned\": true, \"extra\": [1, 2]}}")).collect::<Vec<_>>().join(", "));
        assert!(matches!(strict(&big, document), Strict::Read(_)));
        assert_eq!(format!("{:?}", decode(big.as_bytes())), format!("{:?}", decode_guarded(big.as_bytes())));
    }

    /// The strict pass gives what the guarded pass gives, on every input:
    /// the random documents of `fast_paths_agree_with_nanoserde`'s kind,
    /// and a real payload with bytes replaced, inserted and removed
    /// anywhere and cut short (most of them no longer JSON, or JSON the
    /// guard must rewrite).
    #[test]
    fn the_strict_pass_agrees_with_the_guard() {
        let same = |doc: &[u8]| {
            assert_eq!(format!("{:?}", decode(doc)), format!("{:?}", decode_guarded(doc)), "{}", String::from_utf8_lossy(doc));
        };
        let base = format!("{{\"worker\": {{\"name\": \"w\", \"active_sessions\": 3, \"system\": {{\"available\": true, \"cpu_pct\": 1e2}}, \"cpu_history\": [1.5, 2]}}, \"x\": [[{{}}], \"\\ud83d\\ude00\"], \"sessions\": [{}]}}",
            (0..3).map(|i| format!("{{\"session_id\": \"AJ_{i}\", \"agent_name\": \"a\\u00e9\", \"tenant\": \"t\", \"duration_s\": {i}.5, \"mem_mb\": -0.25, \"peak_mb\": 10, \"cpu_pct\": NaN, \"status\": \"active\", \"pinned\": false}}")).collect::<Vec<_>>().join(", "));
        same(base.as_bytes());
        let mut seed = 0x1234_5678_9abc_def1_u64;
        let mut pick = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const SUBST: &[u8] = b"{}[],:\" 0-9eE.+-tfnNIxu\\\n\t\x0c\x01\x00";
        for _ in 0..30_000 {
            let mut b = base.as_bytes().to_vec();
            for _ in 0..1 + pick(2) {
                let at = pick(b.len());
                match pick(3) {
                    0 => b[at] = SUBST[pick(SUBST.len())],
                    1 => {
                        b.remove(at);
                    }
                    _ => b.insert(at, SUBST[pick(SUBST.len())]),
                }
            }
            if pick(8) == 0 {
                b.truncate(pick(b.len()));
            }
            same(&b);
        }
    }

    /// A payload refused for its row count is not read twice, and gives
    /// the guarded answer: the refusal, or the guard's error when the text
    /// is also broken further on.
    #[test]
    fn too_many_rows_are_refused_once_with_the_guarded_answer() {
        let rows = vec![r#"{"session_id": "a"}"#; MIN_ROWS + 1].join(",");
        for doc in [format!("[{rows}]"), format!("[{rows}, x]"), format!("[{rows}, \"\\ud800\"]")] {
            let got = decode(doc.as_bytes());
            assert!(got.is_err());
            assert_eq!(format!("{got:?}"), format!("{:?}", decode_guarded(doc.as_bytes())), "{doc}");
            let (owned, _) = decode_owned(doc.clone().into_bytes());
            assert_eq!(format!("{owned:?}"), format!("{got:?}"));
        }
        assert!(matches!(strict(&format!("[{rows}]"), document), Strict::Refused(_)));
    }

    /// Every row the real workers wrote takes the direct path.
    #[test]
    fn real_rows_are_read_directly() {
        for (doc, n) in [(V020, 12), (V03, 3)] {
            let before = FAST_ROWS.with(|c| c.get());
            assert_eq!(dec(doc).sessions.len(), n);
            assert_eq!(FAST_ROWS.with(|c| c.get()) - before, n);
        }
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

    /// The lexer's fast paths must read exactly what nanoserde alone reads.
    #[test]
    fn fast_paths_agree_with_nanoserde() {
        let same = |doc: &str| {
            let fast = decode_with(doc.as_bytes(), true);
            let slow = decode_with(doc.as_bytes(), false);
            // Debug, not ==, so that NaN compares equal to itself.
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{doc}");
            // And the strict pass (`decode`) reads them the same.
            assert_eq!(format!("{:?}", decode(doc.as_bytes())), format!("{slow:?}"), "{doc}");
        };
        for doc in [V020, V020_EMPTY, V03] {
            same(doc.trim_end());
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut pick = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const KEYS: [&str; 14] = [
            "session_id", "agent_name", "tenant", "duration_s", "mem_mb", "peak_mb", "cpu_pct",
            "status", "pinned", "zz", r"session\u005fid", r#"st\"atus"#, "", "caf\u{e9}",
        ];
        const VALUES: [&str; 28] = [
            "0", "-0", "7", "-12", "0.5", "-0.0", "1e5", "1E-3", "-2.5e+3", "12345678901234567890",
            "18446744073709551615", "3.14159265358979", "NaN", "-Infinity", "true", "false", "null",
            r#""""#, r#""active""#, r#""slow""#, r#""AJ_x\ny""#, r#""m\u00fcnchen""#, r#""\ud83d\ude00""#,
            r#""\ud800""#, "\"\u{4e2d}\u{6587}\"", r#""2.5""#, r#"[1, {"a": [null]}, "x"]"#, r#"{"k": {}}"#,
        ];
        const WS: [&str; 5] = ["", " ", "  ", "\n", "\t\r\n "];
        const STRINGS: [&str; 6] = [r#""""#, r#""active""#, r#""slow""#, r#""AJ_0001""#, "\"caf\u{e9} \u{4e2d}\"", r#""support""#];
        const NUMBERS: [&str; 8] = ["0", "-0", "7", "0.5", "1e5", "-2.5e+3", "NaN", "3.14159265358979"];
        for _ in 0..5_000 {
            let mut doc = String::from("{\"sessions\":");
            doc.push_str(WS[pick(WS.len())]);
            doc.push('[');
            for r in 0..pick(4) {
                if r > 0 {
                    doc.push(',');
                    doc.push_str(WS[pick(WS.len())]);
                }
                doc.push('{');
                for f in 0..pick(8) {
                    if f > 0 {
                        doc.push(',');
                    }
                    doc.push_str(WS[pick(WS.len())]);
                    let key = KEYS[pick(KEYS.len())];
                    doc.push_str(&format!("\"{key}\""));
                    doc.push_str(WS[pick(WS.len())]);
                    doc.push(':');
                    doc.push_str(WS[pick(WS.len())]);
                    // Half the time a value of the key's own type, so that
                    // whole rows take `session_fast` and others leave it
                    // at every point.
                    let typed: &[&str] = match key {
                        "session_id" | "agent_name" | "status" => &STRINGS,
                        "tenant" => &[r#""acme""#, "null", r#""m\u00fcnchen""#],
                        "pinned" => &["true", "false"],
                        "zz" | "" => &VALUES,
                        _ => &NUMBERS,
                    };
                    doc.push_str(if pick(2) == 0 { typed[pick(typed.len())] } else { VALUES[pick(VALUES.len())] });
                    doc.push_str(WS[pick(WS.len())]);
                }
                doc.push('}');
            }
            doc.push_str("], \"worker\": {\"name\": ");
            doc.push_str(VALUES[pick(VALUES.len())]);
            doc.push_str(", \"cpu_history\": [");
            doc.push_str(VALUES[pick(VALUES.len())]);
            doc.push_str("]}}");
            same(&doc);
        }
    }

}
