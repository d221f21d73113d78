//! A recorded sample (`--record`): what `--format json` batch output
//! writes, for one worker (`{"time", "worker", "sessions"}`) or several
//! (`{"time", "workers": [{"label", "socket", "worker", "error"}],
//! "sessions": [{"worker": label, ...}]}`). Read by the same reader and
//! row reader as a worker's payload.

use std::rc::Rc;

use crate::model::fields::Field;
use super::reader::{Kind, Read, Reader};
use super::{DecodeError, rows, worker};
use crate::model::{Session, Worker};

/// One worker as a sample lists it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordedWorker {
    pub label: String,
    pub socket: String,
    pub block: Option<Worker>,
    /// Why it did not answer (`None`: it did).
    pub error: Option<String>,
}

/// A sample: its workers, and its sessions, each indexing `workers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub workers: Vec<RecordedWorker>,
    pub sessions: Vec<Session>,
}

/// Read one recorded line.
pub fn sample(bytes: &[u8]) -> Result<Sample, DecodeError> {
    match super::read(bytes, read)? {
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
    let mut listed: Vec<RecordedWorker> = Vec::new();
    let mut labels: Vec<Rc<str>> = Vec::new();
    let mut sessions = Vec::new();
    rd.object(|rd, key| {
        match key {
            Field::Worker => single = Some(rd.maybe_object(worker)?),
            Field::Workers => {
                rd.maybe_array(|rd| {
                    if rd.kind()? != Kind::Object {
                        return Err(rd.cannot("not JSON: expected '{'".into()));
                    }
                    let mut w = RecordedWorker::default();
                    rd.object(|rd, key| {
                        match key {
                            Field::Label => w.label = rd.text(str::to_string)?.unwrap_or_default(),
                            Field::Socket => w.socket = rd.text(str::to_string)?.unwrap_or_default(),
                            Field::Worker => w.block = rd.maybe_object(worker)?,
                            Field::Error => w.error = rd.text(str::to_string)?,
                            _ => rd.skip()?,
                        }
                        Ok(())
                    })?;
                    listed.push(w);
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
        return Ok(Some(Sample { workers: vec![RecordedWorker { label, block, ..RecordedWorker::default() }], sessions }));
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
    Ok(Some(Sample { workers: listed, sessions }))
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
        assert_eq!(many.workers[1].error.as_deref(), Some("sent nothing"));
        assert_eq!(many.workers[0].block.as_ref().and_then(|b| b.max_sessions), Some(4.0));
        let rows: Vec<(&str, u16)> = many.sessions.iter().map(|s| (&*s.session_id, s.worker)).collect();
        assert_eq!(rows, [("x", 0), ("y", 2), ("no label", 0)]);
        assert!(sample(b"[1]").is_err() && sample(b"{").is_err());
    }
}
