//! One source: a socket, what became of its fetches (its state, its last
//! snapshot, the fetch in flight), its answer times, and its loop when it
//! is blocked (`block`): noticed past its threshold, waited for up to the
//! bound, looked at in /proc each refresh, its stack taken when asked.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use super::block::{self, Taking, Watch};
use super::fetch::{Fetch, Payload};
use super::message::{Failure, FetchError};
use super::proc::{Proc, Seen};
use super::target::Target;
use crate::decode;
use crate::model::{Snapshot, Taken, WorkerState};

#[derive(Debug)]
pub(super) struct Source {
    /// Stable for as long as the source is known (`WorkerEntry::key`).
    pub key: u32,
    pub target: Target,
    /// Found by scanning a directory (so it can go away from it).
    pub found: bool,
    /// The worker's own name, from its last snapshot.
    pub name: Option<String>,
    /// Its label, fixed at its first answer and kept while the socket is
    /// known (see `Sources::updates`).
    pub label: Option<String>,
    pub state: WorkerState,
    pub fetch: Option<Fetch>,
    /// When its fetch in flight started, and how long its last one took.
    pub started: Option<Instant>,
    pub took: Option<Duration>,
    /// Its fetch was started by the latest round (not one still in flight
    /// from an earlier round: a slow worker does not hold up the others).
    pub in_round: bool,
    /// A snapshot not yet handed out.
    pub fresh: Option<Snapshot>,
    /// The state changed since it was last handed out.
    pub news: bool,
    pub last_error: Option<Failure>,
    /// Payload bytes of its last snapshot (the pool's budget counts them:
    /// the decoded snapshot is kept).
    pub held: usize,
    /// The last payload's buffer, emptied, for the next fetch (counted in
    /// the budget again once that fetch holds it).
    pub spare: Vec<u8>,
    pub gone_since: Option<Instant>,
    /// The listener's pid, from its last connection.
    pub pid: Option<u32>,
    /// How long its last answers took, newest last (its threshold).
    answers: VecDeque<Duration>,
    /// Its loop, while blocked; and how many blocks it has had.
    pub watch: Option<Watch>,
    pub blocks: u32,
    /// Its process as first seen, kept from block to block.
    seen: Option<Seen>,
    /// A stack being taken, and the last one taken.
    pub taking: Option<Taking>,
    pub stack: Option<Taken>,
    /// How long its fetch in flight may wait for the answer.
    wait: Duration,
    /// A block just ended: fetch again at once (the snapshot that ends a
    /// block is built before the worker's own slow-session detector has
    /// run; the next one names the session that blocked it).
    pub again: bool,
}

impl Source {
    pub fn new(key: u32, target: Target, found: bool) -> Source {
        Source {
            key,
            target,
            found,
            name: None,
            label: None,
            state: WorkerState::Waiting,
            fetch: None,
            started: None,
            took: None,
            in_round: false,
            fresh: None,
            news: true,
            last_error: None,
            held: 0,
            spare: Vec::new(),
            gone_since: None,
            pid: None,
            answers: VecDeque::new(),
            watch: None,
            blocks: 0,
            seen: None,
            taking: None,
            stack: None,
            wait: Duration::ZERO,
            again: false,
        }
    }

    /// Start a fetch at `now`, to be waited for up to `wait`.
    pub fn start(&mut self, now: Instant, wait: Duration, proc: &Proc) {
        (self.started, self.wait) = (Some(now), wait);
        match Fetch::start(&self.target, now, self.held, std::mem::take(&mut self.spare), wait) {
            Ok(f) => self.fetch = Some(f),
            Err(e) => self.finish(Err(e), now, proc),
        }
    }

    /// A fetch still in flight at `now`: notice when the worker has been
    /// quiet past its threshold (its loop is blocked).
    pub fn watch_for_block(&mut self, now: Instant, proc: &Proc) {
        let Some(f) = self.fetch.as_ref() else { return };
        self.pid = f.pid().or(self.pid);
        let Some(quiet) = f.quiet_since() else { return };
        if self.watch.is_none() && now.saturating_duration_since(quiet) >= self.threshold() {
            let w = Watch::begin(self.pid, self.seen, self.made(), quiet, now, proc);
            self.seen = w.seen().or(self.seen);
            self.state = WorkerState::Blocked(w.state(now));
            self.watch = Some(w);
            self.blocks += 1;
            self.news = true;
        }
    }

    /// When its socket was made (bound): its modification time.
    fn made(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(&self.target.path).and_then(|m| m.modified()).ok()
    }

    /// How long it may be quiet before it counts as blocked.
    pub fn threshold(&self) -> Duration {
        let (a, b) = self.answers.as_slices();
        block::threshold(&[a, b].concat())
    }

    /// Each refresh while blocked: why, again, and for how long; a process
    /// that has gone ends the wait.
    pub fn refresh_block(&mut self, now: Instant, proc: &Proc) {
        // A new worker on the same path: the old connection is not waited for.
        if self.fetch.as_ref().is_some_and(|f| !f.same_socket(&self.target.path)) {
            self.watch = None;
            self.finish(Err(FetchError::Replaced), now, proc);
            return;
        }
        let Some(w) = self.watch.as_mut() else { return };
        if !w.look(now, proc) && self.fetch.is_some() {
            let pid = w.pid.unwrap_or(0);
            self.finish(Err(FetchError::ProcessGone(pid)), now, proc);
            return;
        }
        self.state = WorkerState::Blocked(w.state(now));
        self.news = true;
    }

    /// A fetch ended: take its snapshot, or say why there is none.
    pub fn finish(&mut self, got: Result<Payload, FetchError>, now: Instant, proc: &Proc) {
        let fetch = self.fetch.take();
        self.pid = fetch.as_ref().and_then(Fetch::pid).or(self.pid);
        // Connected and not answered in all the time it was given: blocked,
        // however soon that was (never "no running pool").
        if let (Err(FetchError::Silent | FetchError::Stalled(_)), None, Some(quiet)) = (&got, &self.watch, fetch.as_ref().and_then(Fetch::quiet_since)) {
            let w = Watch::begin(self.pid, self.seen, self.made(), quiet, now, proc);
            self.seen = w.seen().or(self.seen);
            self.watch = Some(w);
            self.blocks += 1;
        }
        self.in_round = false;
        self.took = self.started.take().map(|t| now.saturating_duration_since(t));
        self.news = true;
        let size = got.as_ref().map_or(0, |p| p.bytes.len());
        let decoded = match got {
            Ok(p) => {
                let (snap, buf) = decode_payload(p);
                // Kept unless far larger than what the worker now sends.
                self.spare = buf.filter(|b| b.capacity() <= 2 * size + 64 * 1024).unwrap_or_default();
                snap
            }
            Err(e) => Err(Failure::Fetch(e)),
        };
        let waited_out = matches!(&decoded, Err(Failure::Fetch(FetchError::Silent | FetchError::Stalled(_))));
        match decoded {
            Ok(snap) => {
                self.name = snap.worker.as_ref().and_then(|w| w.name.clone());
                self.fresh = Some(snap);
                self.held = size;
                self.state = WorkerState::Up;
                self.last_error = None;
                if let Some(took) = self.took {
                    if self.answers.len() == block::HISTORY {
                        self.answers.pop_front();
                    }
                    self.answers.push_back(took);
                }
                self.again = self.watch.take().is_some();
            }
            // Waited for as long as it may be: a block goes on, and the
            // next refresh connects again.
            Err(f) if waited_out && self.watch.is_some() => {
                if let Some(w) = self.watch.as_mut() {
                    w.look(now, proc);
                    // (`--once` waits its `--timeout`, and only says blocked.)
                    w.given_up = self.wait >= super::BOUND;
                    self.state = WorkerState::Blocked(w.state(now));
                }
                self.last_error = Some(f);
            }
            Err(f) => {
                self.watch = None;
                let why = f.reason();
                self.state = match &f {
                    Failure::Fetch(e) if e.refusal() => WorkerState::Refused(why),
                    _ => WorkerState::Stale(why),
                };
                self.last_error = Some(f);
            }
        }
    }

    /// Take its stack (`py-spy`), unless one is being taken.
    pub fn take_stack(&mut self, py_spy: Option<&Path>, now: Instant, proc: &Proc) {
        if self.taking.is_some() {
            return;
        }
        match Taking::start(py_spy, self.pid, now, proc) {
            Ok(t) => self.taking = Some(t),
            Err(failed) => {
                self.stack = Some(failed);
                self.news = true;
            }
        }
    }

    /// Move its times `by` later (openrtc-top was stopped meanwhile).
    pub fn shift(&mut self, by: Duration) {
        if let Some(f) = self.fetch.as_mut() {
            f.shift(by);
        }
        if let Some(w) = self.watch.as_mut() {
            w.shift(by);
        }
        if let Some(t) = self.started.as_mut() {
            *t += by;
        }
    }
}

/// Decode a fetched payload; its buffer back, emptied, when it was read
/// (for the next fetch from the same worker: a fresh buffer each refresh
/// was faulted in page by page each time).
fn decode_payload(p: Payload) -> (Result<Snapshot, Failure>, Option<Vec<u8>>) {
    let (len, newline) = (p.bytes.len(), p.newline);
    let snap = decode::decode(&p.bytes);
    let buf = snap.is_ok().then(|| {
        let mut b = p.bytes;
        b.clear();
        b
    });
    let snap = snap.map_err(|e| {
        // No newline and no valid document: the worker went away mid-write.
        if newline { Failure::Decode(e) } else { Failure::Fetch(FetchError::CutOff(len)) }
    });
    (snap, buf)
}
