//! The pool: every worker configured or found, each with its state and
//! the sessions of its last good snapshot, merged round by round
//! (`Pool::advance`).

use std::path::PathBuf;
use std::time::Duration;

use super::{Session, SessionId, Snapshot, Worker};

/// What the views and writers read: every worker configured or found, and
/// all their sessions, each tagged with its worker. One source gives a pool
/// of one worker, shown exactly as a single snapshot.
///
/// Workers are kept in label order (labels are unique) and each worker's
/// sessions together, in that order and in payload order: so the index of
/// a session orders by worker label, which the sort's tiebreak relies on.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    pub workers: Vec<WorkerEntry>,
    pub sessions: Vec<Session>,
    /// Shown as several workers whatever their number: its sources can
    /// change (a directory, `--all`), so scripts see one shape throughout.
    pub several: bool,
}

/// What one source gave this round, for `Pool::advance`.
#[derive(Debug)]
pub struct Update {
    pub key: u32,
    pub label: String,
    pub socket: PathBuf,
    pub state: WorkerState,
    /// How long its last fetch took (to its end, answered or not).
    pub took: Option<Duration>,
    /// Its process, once connected to.
    pub pid: Option<u32>,
    /// The last stack taken of it.
    pub stack: Option<Taken>,
    /// How many times its loop has been seen blocked.
    pub blocks: u32,
    /// A new snapshot, or `None`: keep the sessions and block it had.
    pub fresh: Option<Snapshot>,
}

impl Update {
    /// The one worker of a pool of one, up, named by its own name.
    pub fn single(snap: Snapshot, socket: PathBuf) -> Update {
        let label = snap.worker.as_ref().and_then(|w| w.name.clone()).unwrap_or_default();
        Update { key: 0, label, socket, state: WorkerState::Up, took: None, pid: None, stack: None, blocks: 0, fresh: Some(snap) }
    }
}

impl Pool {
    /// A pool of one worker serving `snap` from `socket`.
    pub fn single(snap: Snapshot, socket: PathBuf) -> Pool {
        let mut pool = Pool::default();
        pool.advance(vec![Update::single(snap, socket)]);
        pool
    }

    /// The next pool: the workers of `updates` (in label order), each with
    /// its fresh snapshot or else what it had here before (moved, not
    /// copied). A worker left out of `updates` is dropped with its sessions.
    pub fn advance(&mut self, mut updates: Vec<Update>) {
        // (Keys are unique, so the order is total: no need for a stable sort.)
        crate::sort::sort_by(&mut updates, |a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
        let mut old = std::mem::take(self);
        self.several = old.several;
        // The old sessions' memory holds the new ones (a megabyte at 9,600
        // sessions, freed and faulted in again every refresh otherwise).
        let mut recycled = std::mem::take(&mut old.sessions);
        // The block and sessions of each worker without a new snapshot,
        // moved out of the old pool; the rest of it is dropped.
        let keep: Vec<u32> = updates.iter().filter(|u| u.fresh.is_none()).map(|u| u.key).collect();
        let keys: Vec<u32> = old.workers.iter().map(|w| w.key).collect();
        let mut kept: super::vecmap::VecMap<u32, (Option<Worker>, Vec<Session>)> =
            old.workers.into_iter().filter(|w| keep.contains(&w.key)).map(|w| (w.key, (w.block, Vec::new()))).collect();
        for s in recycled.drain(..) {
            if let Some(k) = keys.get(usize::from(s.worker)).and_then(|k| kept.get_mut(k)) {
                k.1.push(s);
            }
        }
        self.sessions = recycled;
        let total: usize = updates
            .iter()
            .map(|u| u.fresh.as_ref().map_or_else(|| kept.get(&u.key).map_or(0, |k| k.1.len()), |f| f.sessions.len()))
            .sum();
        for (i, u) in updates.into_iter().enumerate() {
            let fresh = u.fresh.is_some();
            let (block, sessions) = match u.fresh {
                Some(snap) => (snap.worker, snap.sessions),
                None => kept.remove(&u.key).unwrap_or_default(),
            };
            // Copied into the recycled memory even when one worker's
            // sessions are all there are: their own buffer, freed, is where
            // the next snapshot's rows are decoded, already faulted in.
            let at = self.sessions.len();
            self.sessions.reserve_exact(total - at);
            self.sessions.extend(sessions);
            for s in &mut self.sessions[at..] {
                s.worker = i as u16;
            }
            self.workers.push(WorkerEntry { key: u.key, label: u.label, socket: u.socket, block, state: u.state, took: u.took, pid: u.pid, stack: u.stack, blocks: u.blocks, fresh });
        }
        // A pool that shrank a lot gives the memory back.
        if self.sessions.capacity() > 2 * self.sessions.len() + 1024 {
            self.sessions.shrink_to_fit();
        }
    }

    /// More than one worker (or sources that may be: `several`): the views
    /// add a worker column and per-worker lines, the JSON output its
    /// multi-worker shape.
    pub fn multi(&self) -> bool {
        self.several || self.workers.len() > 1
    }

    /// The worker block of a single-worker pool (the header and title of
    /// one worker, as before there were several).
    pub fn block(&self) -> Option<&Worker> {
        match self.workers.as_slice() {
            [w] => w.block.as_ref(),
            _ => None,
        }
    }

    /// The worker that served `s`.
    pub fn worker_of(&self, s: &Session) -> Option<&WorkerEntry> {
        self.workers.get(usize::from(s.worker))
    }

    /// Whether `s` is current: its worker answered its last fetch.
    pub fn answered(&self, s: &Session) -> bool {
        self.worker_of(s).is_some_and(|w| w.state.up())
    }

    /// What identifies `s` across refreshes: its worker and its id.
    pub fn key_of(&self, s: &Session) -> SessionKey {
        SessionKey { worker: self.worker_of(s).map_or(0, |w| w.key), id: s.session_id.clone() }
    }

    /// Whether `s` is the session `key` names.
    pub fn is(&self, s: &Session, key: &SessionKey) -> bool {
        s.session_id == key.id && self.worker_of(s).is_some_and(|w| w.key == key.worker)
    }

    /// The session `key` names, if it is still here.
    pub fn find(&self, key: &SessionKey) -> Option<&Session> {
        let w = self.workers.iter().position(|w| w.key == key.worker)? as u16;
        self.sessions.iter().find(|s| s.worker == w && s.session_id == key.id)
    }
}

/// A session as the views know it: ids are unique only within a worker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    /// The worker's `WorkerEntry::key`.
    pub worker: u32,
    pub id: SessionId,
}

/// The key of a session of the first worker (tests).
#[cfg(test)]
impl From<&str> for SessionKey {
    fn from(id: &str) -> SessionKey {
        SessionKey { worker: 0, id: id.into() }
    }
}

/// One worker of a pool, and how its last fetch went.
#[derive(Debug, Clone)]
pub struct WorkerEntry {
    /// Stable while the source is known (never reused for another).
    pub key: u32,
    /// What it is called here: its own `name` when that is unique among
    /// the sources, else its socket's stem (untrusted text).
    pub label: String,
    pub socket: PathBuf,
    /// The worker block of its last snapshot (`None`: a legacy payload, or
    /// none yet).
    pub block: Option<Worker>,
    pub state: WorkerState,
    /// How long its last fetch took.
    pub took: Option<Duration>,
    /// Its process, as the socket's peer credentials say (0: in another
    /// pid namespace), once it has been connected to.
    pub pid: Option<u32>,
    /// The last stack taken of it (py-spy), and when.
    pub stack: Option<Taken>,
    /// Its sessions came with this round (not kept from an earlier one).
    pub fresh: bool,
    /// How many times its loop has been seen blocked.
    pub blocks: u32,
}

/// A worker whose loop does not answer: the kernel queued the connection,
/// and nothing (or only part of its answer) has come for longer than its
/// answers take (`source::Source::threshold`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// How long it has not answered, when this was said.
    pub waited: Duration,
    /// Why, from /proc, in one line ("" when that cannot be said).
    pub why: String,
    /// Past the bound it is waited for: no longer waited for; the next
    /// refresh connects again.
    pub given_up: bool,
}

/// A stack taken (or asked for and not taken), and when (wall-clock ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub at: i64,
    pub stack: Result<Stack, String>,
}

impl Taken {
    /// In a few words: its frames, or why there is none (untrusted text).
    pub fn words(&self) -> String {
        match &self.stack {
            Ok(s) => format!("stack {}", s.summary),
            Err(why) => format!("no stack: {why}"),
        }
    }
}

/// A Python stack as py-spy printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// The main thread's frames, innermost first, joined by ` <- `.
    pub summary: String,
    /// Everything py-spy printed (untrusted text).
    pub text: String,
}

/// How a worker's last fetch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerState {
    /// It answered: its sessions are current.
    Up,
    /// Its first fetch has not ended yet.
    Waiting,
    /// Its last fetch failed, for this reason: its sessions (if it ever
    /// answered) are the last it sent.
    Stale(String),
    /// Its socket went away from the directory it was found in.
    Gone,
    /// The trust checks refused it: never read.
    Refused(String),
    /// Connected, and its loop has not answered (see `Blocked`): its
    /// sessions are the last it sent.
    Blocked(Blocked),
}

impl WorkerEntry {
    /// Whether `--worker NAME` means this worker: its label or its
    /// socket's stem (which a script can know before any worker answers).
    pub fn called(&self, name: &str) -> bool {
        self.label == name || self.socket.file_stem().is_some_and(|s| s.to_string_lossy() == name)
    }
}

impl Pool {
    /// `--worker NAME` matching no worker: the message, listing the labels.
    pub fn no_such_worker(&self, name: &str) -> Option<String> {
        if self.workers.iter().any(|w| w.called(name)) {
            return None;
        }
        let labels: Vec<String> = self.workers.iter().map(|w| format!("'{}'", crate::text::in_message(&w.label))).collect();
        Some(format!(
            "--worker '{}' matches no worker (a label, or a socket's name without .sock): the workers are {}",
            crate::text::in_message(name),
            if labels.is_empty() { "none yet".to_string() } else { labels.join(", ") }
        ))
    }
}

impl WorkerState {
    pub fn up(&self) -> bool {
        *self == WorkerState::Up
    }

    pub fn gone(&self) -> bool {
        *self == WorkerState::Gone
    }

    pub fn blocked(&self) -> Option<&Blocked> {
        match self {
            WorkerState::Blocked(b) => Some(b),
            _ => None,
        }
    }

    /// Why it is not up, for messages and the worker lines.
    pub fn reason(&self) -> Option<&str> {
        match self {
            WorkerState::Up | WorkerState::Gone | WorkerState::Waiting => None,
            WorkerState::Stale(why) | WorkerState::Refused(why) => Some(why),
            WorkerState::Blocked(b) => Some(&b.why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(ids: &[&str]) -> Snapshot {
        let sessions = ids.iter().map(|&id| Session { session_id: id.into(), ..Session::default() }).collect();
        Snapshot { worker: Some(Worker { name: Some(ids.join("+")), ..Worker::default() }), sessions }
    }

    fn update(key: u32, label: &str, fresh: Option<Snapshot>) -> Update {
        let state = if fresh.is_some() { WorkerState::Up } else { WorkerState::Stale("late".into()) };
        Update { key, label: label.into(), socket: PathBuf::from(label), state, took: None, pid: None, stack: None, blocks: 0, fresh }
    }

    fn shape(p: &Pool) -> Vec<(String, String)> {
        p.sessions.iter().map(|s| (p.workers[usize::from(s.worker)].label.clone(), s.session_id.to_string())).collect()
    }

    #[test]
    fn a_pool_keeps_workers_in_label_order_and_stale_workers_their_sessions() {
        let mut p = Pool::default();
        p.advance(vec![update(1, "b", Some(snap(&["x", "y"]))), update(2, "a", Some(snap(&["z"])))]);
        assert_eq!(shape(&p), [("a".into(), "z".into()), ("b".into(), "x".into()), ("b".into(), "y".into())]);
        // b misses this round: it keeps its sessions and block; a is new.
        p.advance(vec![update(1, "b", None), update(2, "a", Some(snap(&["w"])))]);
        assert_eq!(shape(&p), [("a".into(), "w".into()), ("b".into(), "x".into()), ("b".into(), "y".into())]);
        assert_eq!(p.workers[1].block.as_ref().and_then(|b| b.name.as_deref()), Some("x+y"));
        assert!(!p.workers[1].state.up());
        let key = p.key_of(&p.sessions[2]);
        assert_eq!((key.worker, &*key.id), (1, "y"));
        assert!(p.find(&key).is_some() && p.is(&p.sessions[2], &key) && !p.is(&p.sessions[1], &key));
        // A worker left out is dropped with its sessions.
        p.advance(vec![update(1, "b", None)]);
        assert_eq!(shape(&p), [("b".into(), "x".into()), ("b".into(), "y".into())]);
        assert!(p.find(&SessionKey { worker: 2, id: "w".into() }).is_none());
        assert!(!p.multi() && p.block().is_some());
    }
}
