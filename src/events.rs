//! What happened, as this run saw it: the incidents read off successive
//! pools (`Events::observe`). A worker's loop blocked (from when, for how
//! long, why, its stack when one was taken, and the sessions slow in the
//! two snapshots after it: openrtc marks the session that blocked its loop
//! `slow` only in the second), a session that turned slow and for how long,
//! a worker gone and back, a worker's `failed` count going up. The live
//! view's events pane (`e`), a replay's, and `--replay FILE --events` read
//! the same log. Pure: pools and wall-clock times in.
//!
//! Bounded: the live view keeps the last `KEEP` incidents, and tracks only
//! the sessions slow now (so memory follows the pool, never the run's
//! length).

use std::collections::{HashMap, VecDeque};

use crate::model::vecmap::VecMap;

use crate::model::{Pool, SessionKey, Status, Taken, WorkerState};

/// How many incidents the live view keeps.
pub const KEEP: usize = 256;

/// How many snapshots after a block its slow sessions are taken from.
const AFTER: u8 = 2;

/// The most session ids kept as slow after one block.
const MAX_AFTER: usize = 16;

/// One incident. Times are ms since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Its place in the run (newer is larger).
    pub seq: u64,
    /// The worker's label (untrusted text).
    pub worker: String,
    /// When it began, as far as could be seen.
    pub at: i64,
    /// When it ended, or (while `open`) when it was last seen going on.
    pub until: i64,
    pub open: bool,
    pub what: What,
}

impl Incident {
    /// How long it lasted, or has lasted so far, in seconds.
    pub fn secs(&self) -> f64 {
        (self.until - self.at).max(0) as f64 / 1000.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// The worker's loop did not answer.
    Blocked {
        /// Why, from /proc (the last explanation seen).
        why: String,
        pid: Option<u32>,
        /// The stack taken during it.
        stack: Option<Taken>,
        /// Sessions slow in the snapshots right after it.
        after: Vec<String>,
        /// How it ended when not by an answer (its process went away...).
        end: Option<String>,
    },
    /// A session reported slow (it blocked the worker's loop).
    Slow { session: String },
    /// The worker stopped answering (refused, went away, broke its
    /// payload); `back` once it answered again.
    Gone { why: String, back: bool },
    /// The worker's count of failed sessions went up.
    Failed { from: f64, to: f64 },
}

impl What {
    /// One word for its kind (the `event` column of `--events`).
    pub fn kind(&self) -> &'static str {
        match self {
            What::Blocked { .. } => "blocked",
            What::Slow { .. } => "slow",
            What::Gone { .. } => "gone",
            What::Failed { .. } => "failed",
        }
    }
}

/// What is being followed of one worker.
#[derive(Debug, Default)]
struct Track {
    /// The block going on, and the one whose slow sessions are still being
    /// collected (with how many snapshots are left).
    block: Option<u64>,
    after: Option<(u64, u8)>,
    gone: Option<u64>,
    answered: bool,
    failed: Option<f64>,
    /// Observations ago it was in the pool (0: this one).
    seen: u64,
}

/// The log, and what is followed to extend it.
#[derive(Debug)]
pub struct Events {
    log: VecDeque<Incident>,
    keep: usize,
    next: u64,
    workers: VecMap<u32, Track>,
    /// Sessions slow now: their incident, and the observation that last saw
    /// them slow.
    slow: HashMap<SessionKey, (u64, u64)>,
    round: u64,
}

impl Default for Events {
    fn default() -> Self {
        Events::keeping(KEEP)
    }
}

impl Events {
    /// A log that keeps the last `keep` incidents.
    pub fn keeping(keep: usize) -> Events {
        Events { log: VecDeque::new(), keep: keep.max(1), next: 0, workers: VecMap::default(), slow: HashMap::new(), round: 0 }
    }

    /// The incidents kept, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Incident> + ExactSizeIterator {
        self.log.iter()
    }

    pub fn len(&self) -> usize {
        self.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// The `seq` the next incident will get (how many there have been).
    pub fn count(&self) -> u64 {
        self.next
    }

    fn get(&mut self, seq: u64) -> Option<&mut Incident> {
        let first = self.log.front()?.seq;
        self.log.get_mut(usize::try_from(seq.checked_sub(first)?).ok()?)
    }

    fn push(&mut self, worker: &str, at: i64, now: i64, what: What) -> u64 {
        let seq = self.next;
        self.next += 1;
        self.log.push_back(Incident { seq, worker: worker.to_string(), at: at.min(now), until: now, open: true, what });
        if self.log.len() > self.keep {
            self.log.pop_front();
        }
        seq
    }

    /// Forget what began after `t` (a replay stepped back before it).
    pub fn rewind(&mut self, t: i64) {
        self.log.retain(|i| i.at <= t);
    }

    /// Read the pool of `now`: what began, went on or ended since the last.
    pub fn observe(&mut self, pool: &Pool, now: i64) {
        self.round += 1;
        let round = self.round;
        for w in self.workers.values_mut() {
            w.seen += 1;
        }
        for (index, w) in pool.workers.iter().enumerate() {
            let mut t = self.workers.remove(&w.key).unwrap_or_default();
            t.seen = 0;
            let label = w.label.as_str();
            match &w.state {
                WorkerState::Blocked(b) => {
                    let seq = match t.block {
                        Some(seq) => seq,
                        None => {
                            let at = now - b.waited.as_millis().min(i64::MAX as u128) as i64;
                            let what = What::Blocked { why: String::new(), pid: w.pid, stack: None, after: Vec::new(), end: None };
                            self.push(label, at, now, what)
                        }
                    };
                    t.block = Some(seq);
                    if let Some(i) = self.get(seq) {
                        i.until = now;
                        if let What::Blocked { why, pid, stack, .. } = &mut i.what {
                            // The first why measured over half a second or
                            // more (it says the CPU share) stands for the
                            // block: the last is read as the loop wakes, when
                            // the thread is often just runnable.
                            if !b.why.is_empty() && !why.contains("% CPU") {
                                why.clone_from(&b.why);
                            }
                            *pid = w.pid.or(*pid);
                            let at = i.at;
                            if let Some(s) = w.stack.as_ref().filter(|s| s.at >= at) {
                                *stack = Some(s.clone());
                            }
                        }
                    }
                }
                WorkerState::Up => {
                    if let Some(seq) = t.block.take() {
                        self.close(seq, now, None);
                        t.after = Some((seq, AFTER));
                    }
                    if let Some(seq) = t.gone.take() {
                        self.close(seq, now, None);
                    }
                    t.answered = true;
                    if w.fresh {
                        self.fresh(pool, index, w.key, &mut t, now, round);
                    }
                }
                WorkerState::Waiting => {}
                WorkerState::Stale(_) | WorkerState::Refused(_) | WorkerState::Gone => {
                    let why = w.state.reason().unwrap_or("its socket left the directory").to_string();
                    if let Some(seq) = t.block.take() {
                        self.close(seq, now, Some(why.clone()));
                    }
                    if t.gone.is_none() && t.answered {
                        t.gone = Some(self.push(label, now, now, What::Gone { why, back: false }));
                    }
                    if let Some(i) = t.gone.and_then(|seq| self.get(seq)) {
                        i.until = now;
                    }
                }
            }
            self.workers.insert(w.key, t);
        }
        // Workers no longer in the pool: what they had going on ends here.
        let dropped: Vec<u32> = self.workers.iter().filter(|(_, t)| t.seen > 0).map(|(&k, _)| k).collect();
        for key in dropped {
            let t = self.workers.remove(&key).unwrap_or_default();
            for seq in t.block.into_iter().chain(t.gone) {
                self.close(seq, now, Some("no longer watched".into()));
            }
        }
        let fresh: Vec<u32> = pool.workers.iter().filter(|w| w.fresh).map(|w| w.key).collect();
        let known = &self.workers;
        let ended: Vec<(SessionKey, u64)> = self
            .slow
            .iter()
            .filter(|(k, (_, last))| *last != round && (fresh.contains(&k.worker) || !known.contains_key(&k.worker)))
            .map(|(k, (seq, _))| (k.clone(), *seq))
            .collect();
        for (k, seq) in ended {
            self.slow.remove(&k);
            self.close(seq, now, None);
        }
    }

    /// A worker's new snapshot: its slow sessions, the sessions slow after
    /// its last block, its failed count.
    fn fresh(&mut self, pool: &Pool, index: usize, key: u32, t: &mut Track, now: i64, round: u64) {
        let label = &pool.workers[index].label;
        let mut slow_now: Vec<&str> = Vec::new();
        for s in pool.sessions.iter().filter(|s| usize::from(s.worker) == index && s.status == Status::Slow) {
            slow_now.push(&s.session_id);
            let k = SessionKey { worker: key, id: s.session_id.clone() };
            let seq = match self.slow.get_mut(&k) {
                Some(e) => {
                    e.1 = round;
                    e.0
                }
                None => {
                    let seq = self.push(label, now, now, What::Slow { session: s.session_id.to_string() });
                    self.slow.insert(k, (seq, round));
                    seq
                }
            };
            if let Some(i) = self.get(seq) {
                i.until = now;
            }
        }
        if let Some((seq, left)) = t.after.take() {
            if let Some(What::Blocked { after, .. }) = self.get(seq).map(|i| &mut i.what) {
                for id in slow_now {
                    if after.len() < MAX_AFTER && !after.iter().any(|a| a == id) {
                        after.push(id.to_string());
                    }
                }
            }
            t.after = (left > 1).then_some((seq, left - 1));
        }
        let failed = pool.workers[index].block.as_ref().and_then(|b| b.failed).filter(|f| f.is_finite());
        if let (Some(from), Some(to)) = (t.failed, failed) {
            if to > from {
                let seq = self.push(label, now, now, What::Failed { from, to });
                self.close(seq, now, None);
            }
        }
        t.failed = failed.or(t.failed);
    }

    fn close(&mut self, seq: u64, now: i64, end: Option<String>) {
        let Some(i) = self.get(seq) else { return };
        i.open = false;
        i.until = now;
        match &mut i.what {
            What::Blocked { end: e, .. } => *e = end,
            What::Gone { back, .. } => *back = end.is_none(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Blocked, Session, Snapshot, Stack, Update, Worker};
    use std::path::PathBuf;
    use std::time::Duration;

    fn row(id: &str, slow: bool) -> Session {
        Session { session_id: id.into(), status: if slow { Status::Slow } else { Status::Active }, ..Session::default() }
    }

    fn up(key: u32, rows: Vec<Session>, failed: f64) -> Update {
        let snap = Snapshot { worker: Some(Worker { failed: Some(failed), ..Worker::default() }), sessions: rows };
        Update { key, label: format!("w{key}"), socket: PathBuf::new(), state: WorkerState::Up, took: None, pid: Some(7), stack: None, blocks: 0, fresh: Some(snap) }
    }

    fn state(key: u32, state: WorkerState, stack: Option<Taken>) -> Update {
        Update { key, label: format!("w{key}"), socket: PathBuf::new(), state, took: None, pid: Some(7), stack, blocks: 0, fresh: None }
    }

    fn blocked(ms: u64) -> WorkerState {
        WorkerState::Blocked(Blocked { waited: Duration::from_millis(ms), why: "main thread sleeping".into(), given_up: false })
    }

    /// Each pool in turn, one second apart from t=100 s.
    fn run(rounds: Vec<Vec<Update>>) -> Events {
        let (mut pool, mut e) = (Pool::default(), Events::default());
        for (n, u) in rounds.into_iter().enumerate() {
            pool.advance(u);
            e.observe(&pool, 100_000 + 1000 * n as i64);
        }
        e
    }

    #[test]
    fn a_block_its_length_why_stack_and_the_sessions_slow_after_it() {
        let stack = Taken { at: 101_500, stack: Ok(Stack { summary: "sleep <- body".into(), text: String::new() }) };
        let e = run(vec![
            vec![up(1, vec![row("a", false), row("b", false)], 0.0)],
            vec![state(1, blocked(600), None)],
            vec![state(1, blocked(1600), Some(stack.clone()))],
            // The answer that ends it is built before openrtc's detector ran.
            vec![up(1, vec![row("a", false), row("b", false)], 0.0)],
            vec![up(1, vec![row("a", true), row("b", false)], 0.0)],
            vec![up(1, vec![row("a", true), row("b", true)], 0.0)],
        ]);
        let all: Vec<&Incident> = e.iter().collect();
        assert_eq!(all.len(), 3, "{all:#?}");
        let b = all[0];
        assert_eq!((b.at, b.until, b.open, b.secs()), (100_400, 103_000, false, 2.6));
        let What::Blocked { why, stack: s, after, end, pid } = &b.what else { panic!() };
        assert_eq!((why.as_str(), s.as_ref(), after.as_slice(), end, *pid), ("main thread sleeping", Some(&stack), &["a".to_string()][..], &None, Some(7)));
        // a: slow from 104 s on, still at the end; b from 105 s.
        assert_eq!((&all[1].what, all[1].at, all[1].until, all[1].open), (&What::Slow { session: "a".into() }, 104_000, 105_000, true));
        assert_eq!(all[2].what, What::Slow { session: "b".into() });
    }

    #[test]
    fn a_slow_session_ends_when_it_is_no_longer_slow_or_gone() {
        let e = run(vec![
            vec![up(1, vec![row("a", true)], 0.0), up(2, vec![row("a", true)], 0.0)],
            vec![up(1, vec![row("a", true)], 0.0), state(2, WorkerState::Stale("late".into()), None)],
            vec![up(1, vec![row("a", false)], 0.0), state(2, WorkerState::Stale("late".into()), None)],
            vec![up(1, vec![], 0.0), up(2, vec![], 0.0)],
        ]);
        let slow: Vec<(String, i64, i64, bool)> =
            e.iter().filter(|i| i.what.kind() == "slow").map(|i| (i.worker.clone(), i.at, i.until, i.open)).collect();
        // w2's session is not known to have ended while w2 did not answer.
        assert_eq!(slow, [("w1".into(), 100_000, 102_000, false), ("w2".into(), 100_000, 103_000, false)]);
        let gone: Vec<&Incident> = e.iter().filter(|i| i.what.kind() == "gone").collect();
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].at, gone[0].until, &gone[0].what), (101_000, 103_000, &What::Gone { why: "late".into(), back: true }));
    }

    #[test]
    fn failures_going_up_a_process_gone_mid_block_and_a_worker_dropped() {
        let e = run(vec![
            vec![up(1, vec![], 2.0), up(2, vec![], 0.0)],
            vec![up(1, vec![], 3.0), state(2, blocked(300), None)],
            vec![up(1, vec![], 3.0), state(2, WorkerState::Stale("its process 9 is gone".into()), None)],
            vec![up(1, vec![], 3.0)],
        ]);
        let all: Vec<&Incident> = e.iter().collect();
        assert_eq!(all[0].what, What::Failed { from: 2.0, to: 3.0 });
        assert!(!all[0].open);
        let What::Blocked { end, .. } = &all[1].what else { panic!("{all:#?}") };
        assert_eq!(end.as_deref(), Some("its process 9 is gone"));
        assert_eq!(all[2].what, What::Gone { why: "its process 9 is gone".into(), back: false });
        assert!(!all[2].open, "dropped from the pool: no longer watched");
    }

    #[test]
    fn the_log_is_bounded_and_a_flood_of_slow_sessions_costs_no_more() {
        let mut e = Events::keeping(4);
        let mut pool = Pool::default();
        for n in 0..10 {
            let rows = (0..100).map(|i| row(&format!("s{n}-{i}"), true)).collect();
            pool.advance(vec![up(1, rows, 0.0)]);
            e.observe(&pool, n * 1000);
        }
        assert_eq!((e.len(), e.count()), (4, 1000));
        assert_eq!(e.slow.len(), 100, "only the sessions slow now are followed");
        assert!(e.iter().all(|i| i.seq >= 996));
    }

    #[test]
    fn a_worker_never_up_is_not_gone_and_rewinding_forgets_the_future() {
        let mut e = run(vec![vec![state(1, WorkerState::Stale("refused".into()), None)], vec![up(1, vec![row("x", true)], 0.0)]]);
        assert_eq!(e.len(), 1);
        e.rewind(100_500);
        assert!(e.is_empty());
    }
}
