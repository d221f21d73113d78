//! Up to a minute of each session's CPU and memory, as this client saw it,
//! for the detail pane's sparklines.
//!
//! Kept as frames, one per second: each frame holds every session's
//! figures in one array, in the pool's order. Only the detail pane reads a
//! trend, and only for one session, while every refresh writes one for
//! each; so writing is one sequential pass and reading searches. (The
//! first version kept a map of per-session queues: every refresh then
//! touched three scattered cache lines per session, a sixth of the live
//! view's time at 9,600 sessions.)

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::snapshot::{Pool, SessionKey};

/// One session's samples, oldest first: at most one a second (61 in all),
/// whatever the refresh rate.
#[derive(Debug, Default, Clone)]
pub struct Trend {
    pub samples: Vec<(Instant, f64, f64)>,
}

/// Frames closer together than this replace each other.
const STEP: Duration = Duration::from_secs(1);

/// How far trends reach back.
pub const SPAN: Duration = Duration::from_secs(60);

/// Above this many sessions only the focused session's trend is kept, so a
/// huge pool costs no more than a small one.
pub const ALL_UP_TO: usize = 10_000;

/// The sessions' figures at one moment: (key, CPU %, memory MB) each.
#[derive(Debug)]
struct Frame {
    at: Instant,
    rows: Vec<(u64, f64, f64)>,
}

/// Trends by session, keyed by a (randomly keyed) hash of its worker's key
/// and its id rather than the id: an id can be megabytes long, and a key
/// kept from an earlier snapshot would keep that snapshot's copy alive.
/// Two sessions of one hash would share a sparkline, nothing worse.
#[derive(Debug, Default)]
pub struct Trends {
    /// Oldest first; the newest is a live slot, replaced by each refresh
    /// until a second has passed since the frame before it.
    frames: VecDeque<Frame>,
    hasher: RandomState,
}

impl Trends {
    fn key(&self, worker: u32, id: &str) -> u64 {
        self.hasher.hash_one((worker, id))
    }

    /// The samples of one session, from every frame that has it. A session
    /// keeps its place in the pool's order from one snapshot to the next,
    /// so each frame is first tried where the one before held it.
    pub fn get(&self, key: &SessionKey) -> Option<Trend> {
        let k = self.key(key.worker, &key.id);
        let mut hint = 0;
        let samples: Vec<(Instant, f64, f64)> = self
            .frames
            .iter()
            .filter_map(|f| {
                let at = match f.rows.get(hint) {
                    Some(r) if r.0 == k => hint,
                    _ => f.rows.iter().position(|r| r.0 == k)?,
                };
                hint = at;
                let (_, cpu, mem) = f.rows[at];
                Some((f.at, cpu, mem))
            })
            .collect();
        (!samples.is_empty()).then_some(Trend { samples })
    }

    /// How many sessions the newest frame holds.
    pub fn len(&self) -> usize {
        self.frames.back().map_or(0, |f| f.rows.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples held in all (what the memory grows with).
    pub fn held(&self) -> usize {
        self.frames.iter().map(|f| f.rows.len()).sum()
    }

    /// Forget everything (a replay jumped).
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// Forget the frames after `to` (a replay stepped back).
    pub fn rewind(&mut self, to: Instant) {
        while self.frames.back().is_some_and(|f| f.at > to) {
            self.frames.pop_back();
        }
    }

    /// Add a snapshot taken at `now` and keep a minute of frames. A session
    /// that has ended drops out as its frames age; the detail pane's keeps
    /// the samples it had. Above `ALL_UP_TO` sessions only `focus` is
    /// recorded.
    pub fn record(&mut self, pool: &Pool, now: Instant, focus: Option<&SessionKey>) {
        let n = self.frames.len();
        let cutoff = now.checked_sub(SPAN);
        // The live slot is replaced, or a frame that has aged out reused
        // (its memory is already the pool's size), or a new one made.
        let mut frame = if n >= 2 && now.saturating_duration_since(self.frames[n - 2].at) < STEP {
            self.frames.pop_back()
        } else if self.frames.front().is_some_and(|f| cutoff.is_some_and(|c| f.at < c)) {
            self.frames.pop_front()
        } else {
            None
        }
        .unwrap_or(Frame { at: now, rows: Vec::new() });
        frame.at = now;
        frame.rows.clear();
        while self.frames.front().is_some_and(|f| cutoff.is_some_and(|c| f.at < c)) {
            self.frames.pop_front();
        }
        let all = pool.sessions.len() <= ALL_UP_TO;
        let keys: Vec<u32> = pool.workers.iter().map(|w| w.key).collect();
        if all {
            frame.rows.reserve_exact(pool.sessions.len());
        }
        for s in &pool.sessions {
            let worker = keys.get(usize::from(s.worker)).copied().unwrap_or(u32::MAX);
            if !all && focus.is_none_or(|f| f.worker != worker || f.id != s.session_id) {
                continue;
            }
            frame.rows.push((self.key(worker, &s.session_id), s.cpu_pct, s.mem_mb));
        }
        // A frame much larger than the pool (a pool that shrank) gives its
        // memory back.
        if frame.rows.capacity() > 2 * frame.rows.len() + 64 {
            frame.rows.shrink_to_fit();
        }
        self.frames.push_back(frame);
    }
}
