//! Where snapshots come from, for both loops (`--once` and the live view):
//! every worker socket configured or found (`discover`), each fetched
//! without blocking (`socket`) and decoded (`decode`), all on one thread:
//! a round starts a fetch on every source, then poll(2) waits on all of
//! their sockets (and the terminal) at once, so a hung worker costs the
//! others nothing. A worker that fails keeps its last snapshot, marked.

pub mod discover;
pub mod fetch;
pub mod message;
pub mod path;
pub mod recording;
pub mod replay;
pub mod target;
pub mod trust;

use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::decode;
use crate::poll::{Poll, Want};
use crate::model::{Snapshot, Update, WorkerState};
use discover::Spec;
use fetch::{Fetch, Payload, Step};
pub use target::Target;
pub use message::{Banner, Failure, FetchError};

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

/// A worker whose socket left its directory is dropped this long after.
pub const GONE_AFTER: Duration = Duration::from_secs(60);

/// One socket and what became of its fetches.
#[derive(Debug)]
struct Source {
    /// Stable for as long as the source is known (`WorkerEntry::key`).
    key: u32,
    target: Target,
    /// Found by scanning a directory (so it can go away from it).
    found: bool,
    /// The worker's own name, from its last snapshot.
    name: Option<String>,
    state: WorkerState,
    fetch: Option<Fetch>,
    /// When its fetch in flight started, and how long its last one took.
    started: Option<Instant>,
    took: Option<Duration>,
    /// Its fetch was started by the latest round (not one still in flight
    /// from an earlier round: a slow worker does not hold up the others).
    in_round: bool,
    /// A snapshot not yet handed out.
    fresh: Option<Snapshot>,
    /// The state changed since it was last handed out.
    news: bool,
    last_error: Option<Failure>,
    /// Payload bytes of its last snapshot (the pool's budget counts them:
    /// the decoded snapshot is kept).
    held: usize,
    /// The last payload's buffer, emptied, for the next fetch (counted in
    /// the budget again once that fetch holds it).
    spare: Vec<u8>,
    gone_since: Option<Instant>,
}

impl Source {
    fn new(key: u32, target: Target, found: bool) -> Source {
        Source {
            key,
            target,
            found,
            name: None,
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
        }
    }

    /// A fetch ended: take its snapshot, or say why there is none.
    fn finish(&mut self, got: Result<Payload, FetchError>) {
        self.fetch = None;
        self.in_round = false;
        self.took = self.started.take().map(|t| t.elapsed());
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
        match decoded {
            Ok(snap) => {
                self.name = snap.worker.as_ref().and_then(|w| w.name.clone());
                self.fresh = Some(snap);
                self.held = size;
                self.state = WorkerState::Up;
                self.last_error = None;
            }
            Err(f) => {
                let why = f.reason();
                self.state = match &f {
                    Failure::Fetch(e) if e.refusal() => WorkerState::Refused(why),
                    _ => WorkerState::Stale(why),
                };
                self.last_error = Some(f);
            }
        }
    }
}

/// A directory that could not be listed (or was refused), and why.
#[derive(Debug)]
struct DirProblem {
    path: PathBuf,
    failure: Failure,
}

/// What woke `Sources::wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wake {
    /// The extra descriptor (the terminal) is readable.
    pub input: bool,
    /// A signal interrupted the wait.
    pub signal: bool,
}

/// Every source, and the round of fetches in progress.
#[derive(Debug)]
pub struct Sources {
    specs: Vec<Spec>,
    list: Vec<Source>,
    next_key: u32,
    dirs: Vec<DirProblem>,
    /// Sockets left out of a scan past `discover::MAX`.
    pub overflow: usize,
    /// Whether each worker's read buffer is kept for its next fetch (see
    /// `keep_buffers`).
    keep: bool,
}

impl Sources {
    pub fn new(specs: Vec<Spec>) -> Sources {
        let mut s = Sources { specs, list: Vec::new(), next_key: 0, dirs: Vec::new(), overflow: 0, keep: false };
        for spec in s.specs.clone() {
            if let Spec::Socket(t) = spec {
                s.add(t, false);
            }
        }
        s
    }

    fn add(&mut self, target: Target, found: bool) {
        self.list.push(Source::new(self.next_key, target, found));
        self.next_key += 1;
    }

    /// Keep each worker's read buffer for its next fetch: for the loops
    /// that fetch again and again (the live view, batch mode, the recorder,
    /// the exporter), where a fresh buffer each time was faulted in page
    /// by page. A single `--once` does not: there the buffer would only
    /// add to the peak while the table is written.
    pub fn keep_buffers(&mut self) {
        self.keep = true;
    }

    /// Where the sources come from, as given.
    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// One socket given (or the default one): messages, the banner and
    /// the exit status are then those of one worker.
    pub fn single(&self) -> bool {
        matches!(self.specs.as_slice(), [Spec::Socket(_)])
    }

    /// Scan the directories again: sockets that appeared become sources,
    /// ones that went away are marked gone (and dropped after
    /// `GONE_AFTER`), ones that came back are sources again.
    fn rescan(&mut self, now: Instant) {
        self.dirs.clear();
        self.overflow = 0;
        // The sockets found, and the directories that could be listed (a
        // socket of a directory that could not be is not taken for gone).
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut scanned: Vec<PathBuf> = Vec::new();
        for spec in &self.specs {
            let Spec::Dir { path, check } = spec else { continue };
            let listed = match check {
                true => trust::check_dir(path).map_err(Failure::Fetch),
                false => Ok(()),
            }
            .and_then(|()| discover::scan(path).map_err(|e| Failure::Fetch(dir_error(e))));
            match listed {
                Ok(found) => {
                    seen.extend(found);
                    scanned.push(path.clone());
                }
                Err(failure) => self.dirs.push(DirProblem { path: path.clone(), failure }),
            }
        }
        let explicit = self.list.iter().filter(|s| !s.found).count();
        for path in &seen {
            if let Some(s) = self.list.iter_mut().find(|s| s.target.path == *path) {
                if s.gone_since.take().is_some() {
                    s.state = WorkerState::Waiting;
                    s.news = true;
                }
            } else if self.list.len() - explicit < discover::MAX {
                self.add(Target { path: path.clone(), default: false }, true);
            } else {
                self.overflow += 1;
            }
        }
        for s in &mut self.list {
            let left = s.found && s.target.path.parent().is_some_and(|d| scanned.iter().any(|x| x == d)) && !seen.contains(&s.target.path);
            if left && s.gone_since.is_none() {
                s.gone_since = Some(now);
                s.state = WorkerState::Gone;
                s.fetch = None;
                s.news = true;
            }
        }
        self.list.retain(|s| s.gone_since.is_none_or(|t| now.saturating_duration_since(t) < GONE_AFTER));
    }

    /// Start a round: scan the directories, then start a fetch on every
    /// source that has none in flight (a slow one keeps its fetch and its
    /// deadline; it is not asked twice).
    pub fn start_round(&mut self, now: Instant) {
        self.rescan(now);
        for s in self.list.iter_mut().filter(|s| s.fetch.is_none() && s.gone_since.is_none()) {
            s.started = Some(now);
            match Fetch::start(&s.target, now, s.held, std::mem::take(&mut s.spare)) {
                Ok(f) => {
                    s.fetch = Some(f);
                    s.in_round = true;
                }
                Err(e) => s.finish(Err(e)),
            }
        }
        self.step(now);
    }

    /// Whether any fetch is still in flight.
    pub fn busy(&self) -> bool {
        self.list.iter().any(|s| s.fetch.is_some())
    }

    /// Whether a fetch the latest round started is still in flight.
    pub fn round_busy(&self) -> bool {
        self.list.iter().any(|s| s.in_round)
    }

    /// Whether anything changed since the last `updates`.
    pub fn news(&self) -> bool {
        self.list.iter().any(|s| s.news)
    }

    /// Move every fetch on as far as it goes now.
    fn step(&mut self, now: Instant) {
        let mut used: usize = self.list.iter().map(|s| s.held + s.fetch.as_ref().map_or(0, Fetch::held)).sum();
        for s in &mut self.list {
            let Some(f) = s.fetch.as_mut() else { continue };
            let before = f.held();
            let room = target::POOL_BUDGET.saturating_sub(used - before);
            match f.step(now, &s.target.path, room) {
                Step::Pending => used = used - before + f.held(),
                Step::Done(got) => {
                    used -= before;
                    s.finish(got);
                    if !self.keep {
                        s.spare = Vec::new();
                    }
                }
            }
        }
    }

    /// Wait until `until` for the fetches in flight, moving them on as
    /// their sockets become readable, or until `extra` (the terminal) is
    /// readable or a signal arrives. Returns after one wake-up.
    pub fn wait(&mut self, extra: Option<RawFd>, until: Instant) -> io::Result<Wake> {
        let mut p = Poll::new();
        let input = p.watch(extra.unwrap_or(-1), Want::Read, None);
        p.wake_by(until);
        for f in self.list.iter().filter_map(|s| s.fetch.as_ref()) {
            p.watch(f.poll_fd().unwrap_or(-1), Want::Read, Some(f.wake_at()));
        }
        let wake = match p.wait()? {
            true => Wake { input: p.ready(input), signal: false },
            false => Wake { input: false, signal: true },
        };
        self.step(Instant::now());
        Ok(wake)
    }

    /// Wait for the round in flight to end (`--once`); `abort` is asked
    /// after a signal.
    pub fn finish_round(&mut self, abort: &dyn Fn() -> bool) -> io::Result<bool> {
        while self.busy() {
            let far = Instant::now() + Duration::from_secs(3600);
            if self.wait(None, far)?.signal && abort() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every source as the pool takes it: its label (see
    /// `discover::labels`), its state, and its new snapshot if it has one.
    pub fn updates(&mut self) -> Vec<Update> {
        let named: Vec<(Option<&str>, &std::path::Path)> =
            self.list.iter().map(|s| (s.name.as_deref(), s.target.path.as_path())).collect();
        let labels = discover::labels(&named);
        self.list
            .iter_mut()
            .zip(labels)
            .map(|(s, label)| {
                s.news = false;
                Update { key: s.key, label, socket: s.target.path.clone(), state: s.state.clone(), took: s.took, fresh: s.fresh.take() }
            })
            .collect()
    }

    /// How many sources answered in their last fetch, of how many.
    pub fn answered(&self) -> (usize, usize) {
        (self.list.iter().filter(|s| s.state.up()).count(), self.list.len())
    }

    /// The failures to report: one line each, naming the socket (or the
    /// directory), and the hint when one applies to any of them.
    pub fn failures(&self) -> (Vec<String>, Option<&'static str>) {
        let mut lines: Vec<String> = self.dirs.iter().map(|d| d.failure.message_for(&d.path)).collect();
        let mut hint = self.dirs.iter().find_map(|d| d.failure.hint());
        for s in &self.list {
            if let Some(f) = s.last_error.as_ref().filter(|_| !s.state.up()) {
                lines.push(f.message(&s.target));
                hint = hint.or(f.hint());
            } else if s.state.gone() {
                lines.push(format!("the worker at {} is gone: its socket left the directory", s.target.shown()));
            }
        }
        if self.list.is_empty() && self.dirs.is_empty() {
            let dirs: Vec<String> = self.specs.iter().map(Spec::shown).collect();
            lines.push(format!("no running openrtc pool in {} (no sockets there)", dirs.join(", ")));
            hint = Some(message::NO_POOL_HINT);
        }
        (lines, hint)
    }

    /// The live view's banner: one worker's failure as it always was; for
    /// several, only when none is up (each worker's line says the rest).
    pub fn banner(&self) -> Option<Banner> {
        if self.single() {
            let s = self.list.first()?;
            return s.last_error.as_ref().filter(|_| !s.state.up()).map(|f| f.banner(&s.target));
        }
        if self.answered().0 > 0 || self.busy() {
            return None;
        }
        let (lines, _) = self.failures();
        let dirs: Vec<String> = self.specs.iter().map(Spec::shown).collect();
        let text = match (self.list.len(), lines.first()) {
            (0, Some(why)) => format!("{why}: retrying"),
            (n, _) => format!("no openrtc worker answered ({n} sockets from {}): retrying", dirs.join(", ")),
        };
        Some(Banner::around(text, ""))
    }
}

/// A directory that cannot be listed, as a fetch error.
fn dir_error(e: io::Error) -> FetchError {
    match e.kind() {
        io::ErrorKind::NotFound => FetchError::NoSocket,
        io::ErrorKind::PermissionDenied => FetchError::PermissionDenied,
        _ => FetchError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn a_socket_that_leaves_its_directory_is_gone_then_dropped_and_may_come_back() {
        let d = std::env::temp_dir().join(format!("ortop-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        let l = UnixListener::bind(d.join("a.sock")).unwrap();
        let mut s = Sources::new(vec![Spec::Dir { path: d.clone(), check: false }]);
        let t0 = Instant::now();
        s.start_round(t0);
        assert_eq!(s.list.len(), 1);
        assert!(s.busy(), "a listener that never accepts: the fetch waits");
        drop(l);
        std::fs::remove_file(d.join("a.sock")).unwrap();
        s.start_round(t0 + Duration::from_secs(1));
        assert_eq!(s.list[0].state, WorkerState::Gone);
        assert!(!s.busy(), "a gone worker is not fetched");
        s.start_round(t0 + Duration::from_secs(30));
        assert_eq!(s.list.len(), 1, "kept for a minute");
        let _l = UnixListener::bind(d.join("a.sock")).unwrap();
        s.start_round(t0 + Duration::from_secs(40));
        assert_eq!((s.list.len(), s.list[0].key), (1, 0), "back, as the same worker");
        assert!(s.list[0].state != WorkerState::Gone);
        drop(_l);
        std::fs::remove_file(d.join("a.sock")).unwrap();
        s.start_round(t0 + Duration::from_secs(41));
        s.start_round(t0 + Duration::from_secs(41) + GONE_AFTER);
        assert!(s.list.is_empty(), "dropped after a minute gone");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
