//! A recording as a source (`--replay`): the sample shown, the moves
//! through the recording, and the pool updates each sample gives, with
//! worker keys that stay the same from sample to sample (so selection and
//! pins follow a session through time as they do live).

use crate::model::vecmap::VecMap;
use std::io;
use std::path::Path;

use super::recording::{Mark, OpenError, Recording};
use super::sample::{Sample, sample};
use crate::model::{Snapshot, Update};

#[derive(Debug)]
pub struct Replay {
    pub rec: Recording,
    /// The sample shown.
    pub at: Mark,
    keys: VecMap<String, u32>,
    /// What the last move had to say (the recording shrank).
    pub note: Option<String>,
}

/// A move through the recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Move {
    /// This many samples forward (or back, negative).
    Step(i64),
    /// To the last sample at or before this time (ms).
    To(i64),
}

impl Replay {
    pub fn open(path: &Path) -> Result<Replay, OpenError> {
        let rec = Recording::open(path)?;
        let at = rec.first();
        Ok(Replay { rec, at, keys: VecMap::default(), note: None })
    }

    /// Move; whether the sample shown changed.
    pub fn go(&mut self, m: Move) -> io::Result<bool> {
        let before = self.at;
        if let Err(e) = self.moved(m) {
            self.recover(e)?;
        }
        Ok(self.at != before)
    }

    /// After a read failed: a recording that shrank (truncated while it is
    /// replayed) goes on with what is left, at the last sample at or before
    /// the one shown; any other failure names the recording.
    fn recover(&mut self, e: io::Error) -> io::Result<()> {
        if !self.rec.shrank()? {
            return Err(match e.get_ref().is_some_and(|r| r.is::<super::recording::ReadError>()) {
                true => e,
                false => self.rec.error(format!("cannot be read: {e}")),
            });
        }
        self.note = Some("the recording shrank: going on with what is left".into());
        self.at = self.rec.at(self.at.time)?;
        Ok(())
    }

    fn moved(&mut self, m: Move) -> io::Result<()> {
        match m {
            Move::Step(n) => {
                for _ in 0..n.unsigned_abs() {
                    let next = if n > 0 { self.rec.next(self.at)? } else { self.rec.prev(self.at)? };
                    match next {
                        Some(x) => self.at = x,
                        None => break,
                    }
                }
            }
            Move::To(t) => self.at = self.rec.at(t)?,
        }
        Ok(())
    }

    /// The sample shown, read and decoded. A line that does not decode is
    /// counted bad and passed over (forward, else back); `None` when no
    /// line in the file decodes.
    pub fn load(&mut self) -> io::Result<Option<Sample>> {
        match self.load_at() {
            Err(e) => {
                self.recover(e)?;
                self.load_at()
            }
            r => r,
        }
    }

    fn load_at(&mut self) -> io::Result<Option<Sample>> {
        let mut forward = true;
        loop {
            let bytes = self.rec.read(self.at)?;
            if let Ok(s) = sample(&bytes) {
                return Ok(Some(s));
            }
            self.rec.mark_bad(self.at.offset);
            let next = if forward { self.rec.next(self.at)? } else { None };
            match next.or(self.rec.prev(self.at)?) {
                Some(m) => {
                    forward &= next.is_some();
                    self.at = m;
                }
                None => return Ok(None),
            }
        }
    }

    /// A sample as pool updates: each worker it lists, as it was recorded,
    /// with its sessions. From format 2 on, a worker that did not answer
    /// keeps the rows it had in the samples before, as it did live.
    pub fn updates(&mut self, s: Sample) -> Vec<Update> {
        let keep_rows = s.version >= 2;
        let mut per: Vec<Vec<crate::model::Session>> = vec![Vec::new(); s.workers.len()];
        for row in s.sessions {
            if let Some(v) = per.get_mut(usize::from(row.worker)) {
                v.push(row);
            }
        }
        s.workers
            .into_iter()
            .zip(per)
            .map(|(w, sessions)| {
                let n = self.keys.len() as u32;
                let key = *self.keys.get_or_insert_with(w.label.clone(), || n);
                let fresh = (!keep_rows || w.state.up()).then(|| Snapshot { worker: w.block, sessions });
                Update { key, label: w.label, socket: w.socket.into(), state: w.state, took: None, pid: w.pid, stack: w.stack, blocks: 0, fresh }
            })
            .collect()
    }

    /// Up to `count` samples before the one shown, at least `gap` ms apart,
    /// oldest first: the history a jump lands without (for the trends).
    pub fn before(&mut self, count: usize, gap: i64) -> io::Result<Vec<(i64, Sample)>> {
        let mut marks = Vec::new();
        let mut m = self.at;
        // A clock stepped back makes samples before stamped after: the
        // walk is bounded in samples too.
        for _ in 0..count * 64 {
            if marks.len() >= count {
                break;
            }
            let Some(p) = self.rec.prev(m)? else { break };
            if marks.last().is_none_or(|l: &Mark| l.time - p.time >= gap) && self.at.time - p.time >= gap {
                marks.push(p);
            }
            m = p;
            if self.at.time - p.time > count as i64 * gap {
                break;
            }
        }
        let mut out = Vec::with_capacity(marks.len());
        for m in marks.into_iter().rev() {
            if let Ok(s) = sample(&self.rec.read(m)?) {
                out.push((m.time, s));
            }
        }
        Ok(out)
    }
}
