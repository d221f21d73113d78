//! A recorded sample (`--record`), read by the same reader and row reader
//! as a worker's payload. Format 2 (`{"v": 2, "time", "workers": [{"label",
//! "socket", "pid", "state", "blocked_s", "why", "stack", "worker",
//! "error"}], "sessions": [{"worker": label, ...}]}`) is what the recorder
//! writes: every worker with its state, whether it answered or not. Lines
//! without a version are what `--format json` batch output wrote before:
//! one worker (`{"time", "worker", "sessions"}`) or several, each up or
//! failed with its error.

use std::rc::Rc;
use std::time::Duration;

use crate::decode::reader::{Kind, Read, Reader};
use crate::decode::{self, DecodeError, rows, worker};
use crate::model::fields::Field;
use crate::model::{Blocked, Session, Stack, Taken, Worker, WorkerState};

/// One worker as a sample lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedWorker {
    pub label: String,
    pub socket: String,
    pub block: Option<Worker>,
    /// How it was when recorded.
    pub state: WorkerState,
    pub pid: Option<u32>,
    pub stack: Option<Taken>,
}

impl Default for RecordedWorker {
    fn default() -> Self {
        RecordedWorker { label: String::new(), socket: String::new(), block: None, state: WorkerState::Up, pid: None, stack: None }
    }
}

/// A sample: its format, its workers, and its sessions, each indexing
/// `workers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// 2 for what the recorder writes now, 1 for lines without a version.
    pub version: u32,
    pub workers: Vec<RecordedWorker>,
    pub sessions: Vec<Session>,
}

/// Read one recorded line.
pub fn sample(bytes: &[u8]) -> Result<Sample, DecodeError> {
    match decode::read(bytes, read)? {
        Some(s) => Ok(s),
        None => Err(DecodeError("a recorded sample is a JSON object".into())),
    }
}

/// A sample, or `None` for JSON of another shape.
fn read(rd: &mut Reader) -> Read<Option<Sample>> {
    if rd.kind()? != Kind::Object {
        return rd.skip().map(|()| None);
    }
    let mut single: Option<Option<Worker>> = None;
    let mut version = 1;
    let mut listed: Vec<RecordedWorker> = Vec::new();
    let mut labels: Vec<Rc<str>> = Vec::new();
    let mut sessions = Vec::new();
    rd.object(|rd, key| {
        match key {
            Field::V => version = rd.num()?.map_or(1, |v| v as u32),
            Field::Worker => single = Some(rd.maybe_object(worker)?),
            Field::Workers => {
                rd.maybe_array(|rd| {
                    if rd.kind()? != Kind::Object {
                        return Err(rd.cannot("not JSON: expected '{'".into()));
                    }
                    listed.push(recorded(rd)?);
                    Ok(())
                })?;
            }
            Field::Sessions => sessions = rows(rd, Some(&mut labels))?,
            _ => rd.skip()?,
        }
        Ok(())
    })?;
    if listed.is_empty() {
        // One worker: every row is its.
        let block = single.flatten();
        let label = block.as_ref().and_then(|b| b.name.clone()).unwrap_or_default();
        for s in &mut sessions {
            s.worker = 0;
        }
        return Ok(Some(Sample { version, workers: vec![RecordedWorker { label, block, ..RecordedWorker::default() }], sessions }));
    }
    // Several: rows index `labels` as they were met; point them at the
    // listed worker of that label (a label not listed gets a worker of its
    // own, with no block).
    let mut to_listed: Vec<u16> = Vec::with_capacity(labels.len());
    for l in &labels {
        if !listed.iter().any(|w| *w.label == **l) {
            listed.push(RecordedWorker { label: l.to_string(), ..RecordedWorker::default() });
        }
        to_listed.extend(listed.iter().position(|w| *w.label == **l).map(|i| i as u16));
    }
    sessions.retain(|s| usize::from(s.worker) < to_listed.len());
    for s in &mut sessions {
        s.worker = to_listed[usize::from(s.worker)];
    }
    Ok(Some(Sample { version, workers: listed, sessions }))
}

/// One worker of a sample's list, its state made from its word (format 2)
/// or from its error (before).
fn recorded(rd: &mut Reader) -> Read<RecordedWorker> {
    let mut w = RecordedWorker::default();
    let (mut word, mut error, mut why, mut waited) = (None, None, String::new(), 0.0);
    rd.object(|rd, key| {
        match key {
            Field::Label => w.label = rd.text(str::to_string)?.unwrap_or_default(),
            Field::Socket => w.socket = rd.text(str::to_string)?.unwrap_or_default(),
            Field::Worker => w.block = rd.maybe_object(worker)?,
            Field::Error => error = rd.text(str::to_string)?,
            Field::State => word = rd.text(str::to_string)?,
            Field::Pid => w.pid = rd.num()?.filter(|p| (0.0..=f64::from(u32::MAX)).contains(p)).map(|p| p as u32),
            Field::BlockedS => waited = rd.num()?.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(0.0).min(1e9),
            Field::Why => why = rd.text(str::to_string)?.unwrap_or_default(),
            Field::Stack => w.stack = rd.maybe_object(taken)?.flatten(),
            _ => rd.skip()?,
        }
        Ok(())
    })?;
    w.state = match (word.as_deref(), error) {
        (Some("blocked"), _) => WorkerState::Blocked(Blocked { waited: Duration::from_secs_f64(waited), why, given_up: false }),
        (Some("gone"), _) => WorkerState::Gone,
        (Some("waiting"), _) => WorkerState::Waiting,
        (Some("answered"), _) | (None, None) => WorkerState::Up,
        (_, e) => WorkerState::Stale(e.unwrap_or_default()),
    };
    Ok(w)
}

/// A recorded stack: when, and its frames or why there were none.
fn taken(rd: &mut Reader) -> Read<Option<Taken>> {
    let (mut at, mut summary, mut text, mut error) = (None, None, String::new(), None);
    rd.object(|rd, key| {
        match key {
            Field::At => at = rd.text(|t| crate::clock::parse_iso8601(t))?.flatten(),
            Field::Summary => summary = rd.text(str::to_string)?,
            Field::Text => text = rd.text(str::to_string)?.unwrap_or_default(),
            Field::Error => error = rd.text(str::to_string)?,
            _ => rd.skip()?,
        }
        Ok(())
    })?;
    let stack = match (summary, error) {
        (Some(summary), _) => Ok(Stack { summary, text }),
        (None, e) => Err(e.unwrap_or_default()),
    };
    Ok(at.map(|at| Taken { at, stack }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes() {
        let one = sample(br#"{"time": "2026-11-28T03:00:00.000Z", "worker": {"name": "w"}, "sessions": [{"session_id": "a"}]}"#).unwrap();
        assert_eq!((one.workers.len(), one.workers[0].label.as_str(), one.sessions[0].worker), (1, "w", 0));
        let many = sample(
            br#"{"time": "T", "workers": [{"label": "b", "socket": "/s/b.sock", "worker": {"name": "b", "max_sessions": 4}, "error": null},
                {"label": "a", "socket": "/s/a.sock", "worker": null, "error": "sent nothing"}],
                "sessions": [{"worker": "b", "session_id": "x"}, {"worker": "z", "session_id": "y"}, {"session_id": "no label"}]}"#,
        )
        .unwrap();
        let labels: Vec<&str> = many.workers.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(labels, ["b", "a", "z"]);
        assert_eq!(many.workers[1].state, WorkerState::Stale("sent nothing".into()));
        assert_eq!(many.version, 1);
        assert_eq!(many.workers[0].block.as_ref().and_then(|b| b.max_sessions), Some(4.0));
        let rows: Vec<(&str, u16)> = many.sessions.iter().map(|s| (&*s.session_id, s.worker)).collect();
        assert_eq!(rows, [("x", 0), ("y", 2), ("no label", 0)]);
        assert!(sample(b"[1]").is_err() && sample(b"{").is_err());
    }

    /// Format 2: every worker's state, pid, block and stack as recorded.
    #[test]
    fn format_two_keeps_each_workers_state() {
        let s = sample(
            br#"{"v": 2, "time": "T", "workers": [{"label": "a", "socket": "/s/a", "pid": 41, "state": "answered", "worker": null, "error": null},
                {"label": "b", "socket": "/s/b", "pid": 42, "state": "blocked", "blocked_s": 4.2, "why": "main thread on CPU", "stack": {"at": "2026-11-28T03:00:01.500Z", "summary": "f <- g", "text": "Thread 42"}, "worker": null, "error": null},
                {"label": "c", "socket": "/s/c", "pid": null, "state": "failed", "stack": {"at": "2026-11-28T03:00:01Z", "error": "py-spy is not installed"}, "worker": null, "error": "closed without sending a snapshot"}],
                "sessions": [{"worker": "a", "session_id": "x"}]}"#,
        )
        .unwrap();
        assert_eq!(s.version, 2);
        assert_eq!((s.workers[0].state.clone(), s.workers[0].pid), (WorkerState::Up, Some(41)));
        let b = s.workers[1].state.blocked().unwrap();
        assert_eq!((b.waited, b.why.as_str()), (Duration::from_millis(4200), "main thread on CPU"));
        let t = s.workers[1].stack.as_ref().unwrap();
        assert_eq!((t.at, t.stack.as_ref().map(|s| s.summary.as_str())), (crate::clock::parse_iso8601("2026-11-28T03:00:01.500Z").unwrap(), Ok("f <- g")));
        assert_eq!(s.workers[2].state, WorkerState::Stale("closed without sending a snapshot".into()));
        assert_eq!(s.workers[2].stack.as_ref().map(|t| t.stack.clone()), Some(Err("py-spy is not installed".into())));
    }
}
