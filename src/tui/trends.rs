//! Up to a minute of each session's CPU and memory, as this client saw it,
//! for the detail pane's sparklines.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::snapshot::{Pool, SessionKey};

/// One session's samples: at most one a second (61 in all), whatever the
/// refresh rate.
#[derive(Debug, Default, Clone)]
pub struct Trend {
    pub samples: VecDeque<(Instant, f64, f64)>,
    /// The refresh that last saw the session.
    seen: u64,
}

/// Samples closer together than this replace each other.
const STEP: Duration = Duration::from_secs(1);

/// How far trends reach back.
pub const SPAN: Duration = Duration::from_secs(60);

/// Above this many sessions only the focused session's trend is kept, so a
/// huge pool costs no more than a small one.
pub const ALL_UP_TO: usize = 10_000;

/// Trends by session, keyed by a (randomly keyed) hash of its worker's key
/// and its id rather than the id: an id can be megabytes long, and a key
/// kept from an earlier snapshot would keep that snapshot's copy alive.
#[derive(Debug, Default)]
pub struct Trends {
    map: HashMap<u64, Trend>,
    hasher: RandomState,
    /// Counts snapshots, to drop the trends of sessions that have ended.
    refreshes: u64,
}

impl Trends {
    fn key(&self, worker: u32, id: &str) -> u64 {
        self.hasher.hash_one((worker, id))
    }

    pub fn get(&self, key: &SessionKey) -> Option<&Trend> {
        self.map.get(&self.key(key.worker, &key.id))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forget everything (a replay jumped).
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Forget the samples after `to` (a replay stepped back).
    pub fn rewind(&mut self, to: Instant) {
        self.map.retain(|_, t| {
            while t.samples.back().is_some_and(|&(at, _, _)| at > to) {
                t.samples.pop_back();
            }
            !t.samples.is_empty()
        });
    }

    /// Add a snapshot taken at `now`, keep a minute of each session, and
    /// forget sessions that have ended unless `keep` names one (the detail
    /// pane's): a pool that churns fast must not leave a minute of dead
    /// trends behind. Above `ALL_UP_TO` sessions only `focus` is recorded.
    pub fn record(&mut self, pool: &Pool, now: Instant, focus: Option<&SessionKey>, keep: Option<&SessionKey>) {
        self.refreshes += 1;
        let refresh = self.refreshes;
        let all = pool.sessions.len() <= ALL_UP_TO;
        let keep = keep.map(|k| self.key(k.worker, &k.id));
        let keys: Vec<u32> = pool.workers.iter().map(|w| w.key).collect();
        for s in &pool.sessions {
            let worker = keys.get(usize::from(s.worker)).copied().unwrap_or(u32::MAX);
            if !all && focus.is_none_or(|f| f.worker != worker || f.id != s.session_id) {
                continue;
            }
            let key = self.key(worker, &s.session_id);
            let t = self.map.entry(key).or_default();
            t.seen = refresh;
            // The newest sample is a live slot, replaced until a second has
            // passed since the one before it.
            let n = t.samples.len();
            if n >= 2 && now.saturating_duration_since(t.samples[n - 2].0) < STEP {
                t.samples.pop_back();
            }
            t.samples.push_back((now, s.cpu_pct, s.mem_mb));
        }
        let cutoff = now.checked_sub(SPAN);
        self.map.retain(|id, t| {
            while t.samples.front().is_some_and(|&(at, _, _)| cutoff.is_some_and(|c| at < c)) {
                t.samples.pop_front();
            }
            !t.samples.is_empty() && (t.seen == refresh || keep == Some(*id))
        });
    }
}
