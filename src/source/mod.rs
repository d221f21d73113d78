//! Where snapshots come from, for every loop: every worker socket
//! configured or found (`discover`), each fetched without blocking
//! (`fetch`) and decoded, all on one thread: a round starts a fetch on
//! every source, then poll(2) waits on all of their sockets (and the
//! terminal, and py-spy's pipes) at once, so a hung worker costs the others
//! nothing. A worker that fails keeps its last snapshot, marked; one whose
//! loop is blocked is waited for and explained (`worker`, `block`).

mod block;
pub mod discover;
pub mod fetch;
pub mod message;
pub mod path;
pub mod proc;
pub mod recording;
pub mod replay;
pub mod sample;
mod spawn;
pub mod stack;
pub mod target;
pub mod trust;
mod worker;

use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::model::{Update, WorkerState};
use crate::poll::{Poll, Want};
use discover::Spec;
use fetch::{Fetch, Step};
pub use message::{Banner, Failure, FetchError};
pub use target::Target;
use worker::Source;

/// How long the live view (and the recorder) wait for a worker whose loop
/// is blocked before they call it not answering and connect again: the
/// worker answers the queued connection as soon as its loop runs, so a
/// new connection would only queue behind it.
pub const BOUND: Duration = Duration::from_secs(60);

/// A worker whose socket left its directory is dropped this long after.
pub const GONE_AFTER: Duration = Duration::from_secs(60);

/// The most stacks taken at once, over all workers (one per worker).
pub const MAX_TAKING: usize = 4;

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
    /// How long a fetch waits for its answer once connected.
    wait: Duration,
    /// py-spy, when given; and whether each block's stack is taken at once.
    py_spy: Option<PathBuf>,
    auto_stacks: bool,
    proc: proc::Proc,
}

impl Sources {
    pub fn new(specs: Vec<Spec>) -> Sources {
        let (wait, proc) = (target::TIMEOUT, proc::Proc::default());
        let mut s = Sources { specs, list: Vec::new(), next_key: 0, dirs: Vec::new(), overflow: 0, keep: false, wait, py_spy: None, auto_stacks: false, proc };
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

    /// Wait up to `wait` for each answer once connected (`--timeout` for
    /// `--once`, `BOUND` for the loops that run on).
    pub fn set_wait(&mut self, wait: Duration) {
        self.wait = wait;
    }

    /// Where py-spy is (`None`: on PATH), and whether to take the stack of
    /// every block at once (`--stacks`).
    pub fn set_stacks(&mut self, py_spy: Option<PathBuf>, auto: bool) {
        (self.py_spy, self.auto_stacks) = (py_spy, auto);
    }

    /// Where the sources come from, as given.
    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// One socket given (or the default one): messages, the banner, the
    /// exit status and the output's shape are then those of one worker (a
    /// directory or `--all` is several, however many it holds now).
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
        let mut seen: Vec<(PathBuf, bool)> = Vec::new();
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
                    seen.extend(found.into_iter().map(|f| (f, *check)));
                    scanned.push(path.clone());
                }
                Err(failure) => self.dirs.push(DirProblem { path: path.clone(), failure }),
            }
        }
        let explicit = self.list.iter().filter(|s| !s.found).count();
        for (path, checked) in &seen {
            if let Some(s) = self.list.iter_mut().find(|s| s.target.path == *path) {
                if s.gone_since.take().is_some() {
                    s.state = WorkerState::Waiting;
                    s.news = true;
                }
            } else if self.list.len() - explicit < discover::MAX || self.drop_oldest_gone() {
                self.add(Target { path: path.clone(), checked: *checked }, true);
            } else {
                self.overflow += 1;
            }
        }
        for s in &mut self.list {
            let left = s.found && s.target.path.parent().is_some_and(|d| scanned.iter().any(|x| x == d)) && !seen.iter().any(|(p, _)| *p == s.target.path);
            if left && s.gone_since.is_none() {
                s.gone_since = Some(now);
                s.state = WorkerState::Gone;
                s.fetch = None;
                s.news = true;
            }
        }
        self.list.retain(|s| s.gone_since.is_none_or(|t| now.saturating_duration_since(t) < GONE_AFTER));
    }

    /// Make room for a socket that appeared: a gone one is kept for
    /// `GONE_AFTER` to be shown as gone, but never in a live one's place
    /// (under churn, 256 gone sockets left the live ones out). False when
    /// none is gone.
    fn drop_oldest_gone(&mut self) -> bool {
        let oldest = self.list.iter().enumerate().filter_map(|(i, s)| Some((s.gone_since?, i))).min();
        oldest.map(|(_, i)| self.list.remove(i)).is_some()
    }

    /// Start a round: scan the directories, then start a fetch on every
    /// source that has none in flight (a slow one keeps its fetch and its
    /// deadline; it is not asked twice).
    pub fn start_round(&mut self, now: Instant) {
        self.rescan(now);
        let (wait, proc) = (self.wait, &self.proc);
        for s in self.list.iter_mut().filter(|s| s.gone_since.is_none()) {
            match s.fetch.is_some() {
                // Still waited for: a blocked loop is looked at again (and,
                // started by an earlier round, it holds this one up in nothing).
                true => {
                    s.refresh_block(now, proc);
                    s.in_round = false;
                }
                false => {
                    s.start(now, wait, proc);
                    s.in_round = s.fetch.is_some();
                }
            }
        }
        self.advance(now);
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

    /// Move every fetch (and every stack being taken) on as far as it goes
    /// now.
    fn advance(&mut self, now: Instant) {
        let mut used: usize = self.list.iter().map(|s| s.held + s.fetch.as_ref().map_or(0, Fetch::held)).sum();
        let mut taking = self.list.iter().filter(|s| s.taking.is_some()).count();
        let (wait, proc, keep) = (self.wait, &self.proc, self.keep);
        for s in &mut self.list {
            if let Some(t) = s.taking.as_mut().and_then(|t| t.step(now)) {
                (s.stack, s.taking, s.news) = (Some(t), None, true);
                taking -= 1;
            }
            let Some(f) = s.fetch.as_mut() else { continue };
            let before = f.held();
            let room = target::POOL_BUDGET.saturating_sub(used - before);
            let was = s.watch.is_some();
            match f.step(now, &s.target.path, room) {
                Step::Pending => {
                    used = used - before + f.held();
                    s.watch_for_block(now, proc);
                }
                Step::Done(got) => {
                    used -= before;
                    s.finish(got, now, proc);
                    if !keep {
                        s.spare = Vec::new();
                    }
                    // A block just ended: ask again at once, outside the round.
                    if std::mem::take(&mut s.again) {
                        s.start(now, wait, proc);
                    }
                }
            }
            // A block just noticed (while waiting, or as the wait ran out):
            // its stack, with --stacks.
            if !was && s.watch.is_some() && self.auto_stacks && taking < MAX_TAKING {
                s.take_stack(self.py_spy.as_deref(), now, proc);
                taking += usize::from(s.taking.is_some());
            }
        }
    }

    /// Take the stack of the worker `key` (the `y` key).
    pub fn take_stack(&mut self, key: u32) {
        let (py_spy, proc) = (self.py_spy.clone(), &self.proc);
        if let Some(s) = self.list.iter_mut().find(|s| s.key == key) {
            s.take_stack(py_spy.as_deref(), Instant::now(), proc);
        }
    }

    /// openrtc-top was stopped (Ctrl-Z) for `by`: that time is not the
    /// workers'.
    pub fn resumed(&mut self, by: Duration) {
        for s in &mut self.list {
            s.shift(by);
        }
    }

    /// How many workers are blocked now.
    pub fn blocked(&self) -> usize {
        self.list.iter().filter(|s| s.state.blocked().is_some()).count()
    }

    /// Add every fetch in flight (and every stack being taken) to `p`, with
    /// their deadlines and the moments a quiet worker turns blocked; after
    /// the wait, `step` moves them on. (For a loop that waits on more than
    /// one descriptor of its own: the exporter.)
    pub fn watch(&self, p: &mut Poll) {
        for s in &self.list {
            if let Some(f) = s.fetch.as_ref() {
                p.watch(f.poll_fd().unwrap_or(-1), Want::Read, Some(f.wake_at()));
                // Past its threshold it is noticed as blocked, on time.
                if let (Some(q), None) = (f.quiet_since(), &s.watch) {
                    p.wake_by(q + s.threshold());
                }
            }
            if let Some(t) = s.taking.as_ref() {
                p.watch(t.capture.poll_fd(), Want::Read, Some(t.capture.deadline()));
            }
        }
    }

    /// Move every fetch and stack on as far as it goes at `now` (after a
    /// wait that `watch` set up).
    pub fn step(&mut self, now: Instant) {
        self.advance(now);
    }

    /// Wait until `until` for the fetches in flight, moving them on as
    /// their sockets become readable, or until `extra` (the terminal) is
    /// readable or a signal arrives. Returns after one wake-up.
    pub fn wait(&mut self, extra: Option<RawFd>, until: Instant) -> io::Result<Wake> {
        let mut p = Poll::new();
        let input = p.watch(extra.unwrap_or(-1), Want::Read, None);
        p.wake_by(until);
        self.watch(&mut p);
        let wake = match p.wait()? {
            true => Wake { input: p.ready(input), signal: false },
            false => Wake { input: false, signal: true },
        };
        self.advance(Instant::now());
        Ok(wake)
    }

    /// Start a round and wait for what it started, up to `grace`: a worker
    /// whose loop is blocked holds nothing up (its fetch goes on into the
    /// next round, and it is not asked twice). False when `abort` says a
    /// signal ends the wait.
    pub fn round(&mut self, grace: Duration, abort: &dyn Fn() -> bool) -> io::Result<bool> {
        let now = Instant::now();
        self.start_round(now);
        while self.round_busy() && Instant::now() < now + grace {
            if self.wait(None, now + grace)?.signal && abort() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Wait for the round in flight to end (`--once`); `abort` is asked
    /// after a signal.
    pub fn finish_round(&mut self, abort: &dyn Fn() -> bool) -> io::Result<bool> {
        while self.busy() || self.list.iter().any(|s| s.taking.is_some()) {
            let far = Instant::now() + Duration::from_secs(3600);
            if self.wait(None, far)?.signal && abort() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every source as the pool takes it: its label, its state, and its
    /// new snapshot if it has one. A label (see `discover::labels`) is
    /// fixed at the worker's first answer (when its name is known; until
    /// then it is its socket's stem) and kept while its socket is known,
    /// answering or not, so the table, `openrtc_up{worker}` and a
    /// recording follow one name (it was `demo-2` while it answered and
    /// `worker-2` whenever it did not). It is fixed when no other source
    /// is still on its first fetch, so two workers of one name are both
    /// `name@stem`; one fixed later never takes a fixed one's label.
    pub fn updates(&mut self) -> Vec<Update> {
        let named: Vec<(Option<&str>, &std::path::Path)> =
            self.list.iter().map(|s| (s.name.as_deref(), s.target.path.as_path())).collect();
        let mut labels = discover::labels(&named);
        // Fixed only when no source is still on its first fetch: two
        // workers of one name are then both `name@stem` (the first to
        // answer was `name`, alone, and kept it).
        let settled = !self.list.iter().any(|s| s.state == WorkerState::Waiting);
        for i in 0..self.list.len() {
            if let Some(l) = &self.list[i].label {
                labels[i] = l.clone();
                continue;
            }
            let taken = |l: &str, list: &[Source]| list.iter().enumerate().any(|(j, o)| j != i && o.label.as_deref() == Some(l));
            let base = labels[i].clone();
            let mut k = 1;
            while taken(&labels[i], &self.list) || labels[..i].contains(&labels[i]) {
                k += 1;
                labels[i] = format!("{base}~{k}");
            }
            if settled && self.list[i].fresh.is_some() {
                self.list[i].label = Some(labels[i].clone());
            }
        }
        self.list
            .iter_mut()
            .zip(labels)
            .map(|(s, label)| {
                s.news = false;
                let socket = s.target.path.clone();
                Update { key: s.key, label, socket, state: s.state.clone(), took: s.took, pid: s.pid, stack: s.stack.clone(), blocks: s.blocks, fresh: s.fresh.take() }
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
            if let Some(b) = s.state.blocked() {
                lines.push(message::blocked(&s.target, s.pid, b, s.stack.as_ref()));
            } else if let Some(f) = s.last_error.as_ref().filter(|_| !s.state.up()) {
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
            if let Some(b) = s.state.blocked() {
                return Some(Banner::around(message::blocked(&s.target, s.pid, b, s.stack.as_ref()), &s.target.shown()));
            }
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
