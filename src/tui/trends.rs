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

use crate::model::column::Column;
use crate::model::{Pool, SessionKey};

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
#[derive(Debug)]
pub struct Trends {
    /// Oldest first; the newest is a live slot, replaced by each refresh
    /// until a second has passed since the frame before it.
    frames: VecDeque<Frame>,
    /// Random per run, so keys cannot be chosen to collide.
    seed: u64,
}

impl Default for Trends {
    fn default() -> Self {
        Trends { frames: VecDeque::new(), seed: RandomState::new().hash_one(0x5eed_u64) }
    }
}

impl Trends {
    /// A session's key: a keyed 64-bit hash of its worker and id, a
    /// folded 128-bit multiply per 8 bytes (as wyhash does). Not SipHash
    /// (a map's hash, which a hostile worker must not be able to flood):
    /// nothing here is a hash table, and at 9,600 sessions SipHash was a
    /// fifth of recording a frame. A collision would cost a sparkline.
    fn key(&self, worker: u32, id: &str) -> u64 {
        const P: [u64; 3] = [0xa076_1d64_78bd_642f, 0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3];
        let mum = |a: u64, b: u64| {
            let r = u128::from(a) * u128::from(b);
            r as u64 ^ (r >> 64) as u64
        };
        let b = id.as_bytes();
        let mut h = mum(self.seed ^ P[0], (u64::from(worker) << 32 | b.len() as u64) ^ P[1]);
        let mut words = b.chunks_exact(8);
        // (The word is mixed with a secret, so an id cannot be made of the
        // one word that would zero the product.)
        let secret = self.seed.rotate_left(32) ^ P[2];
        for w in &mut words {
            h = mum(h ^ P[0], u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) ^ secret);
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        mum(h ^ P[1], u64::from_le_bytes(last) ^ secret)
    }

    /// The samples of one session (time, CPU %, memory MB), oldest first,
    /// from every frame that has it: at most one a second (61 in all),
    /// whatever the refresh rate; none for a session not seen. A session
    /// keeps its place in the pool's order from one snapshot to the next,
    /// so each frame is first tried where the one before held it.
    pub fn get(&self, key: &SessionKey) -> Vec<(Instant, f64, f64)> {
        let k = self.key(key.worker, &key.id);
        let mut hint = 0;
        self.frames
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
            .collect()
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
            frame.rows.push((self.key(worker, &s.session_id), Column::Cpu.number(s), Column::Mem.number(s)));
        }
        // A frame much larger than the pool (a pool that shrank) gives its
        // memory back.
        if frame.rows.capacity() > 2 * frame.rows.len() + 64 {
            frame.rows.shrink_to_fit();
        }
        self.frames.push_back(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of distinct sessions are distinct: ids of every length up to
    /// 40 (around the 8-byte steps), ids differing in one byte anywhere,
    /// and one id under several workers.
    #[test]
    fn keys_are_distinct() {
        let t = Trends::default();
        let mut seen = std::collections::HashSet::new();
        let mut n = 0;
        for len in 0..=40usize {
            for k in 0..2_000u32 {
                let mut id: Vec<u8> = (0..len).map(|i| b'a' + ((i * 7 + 3) % 26) as u8).collect();
                if len > 0 {
                    let at = (k as usize * 13) % len;
                    id[at] = id[at].wrapping_add(1 + (k / len as u32 % 200) as u8) % 128;
                }
                let id = String::from_utf8_lossy(&id).into_owned();
                for worker in [0, 1, u32::MAX] {
                    n += usize::from(seen.insert((worker, id.clone())));
                }
            }
        }
        let keys: std::collections::HashSet<u64> = seen.iter().map(|(w, id)| t.key(*w, id)).collect();
        assert_eq!(keys.len(), n);
        assert_ne!(Trends::default().key(0, "x"), t.key(0, "x"), "the key is seeded per run");
    }
}
