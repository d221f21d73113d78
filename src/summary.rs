//! Figures of a pool by worker and in total: what the worker lines of the
//! live view and the title show. Pure sums over the pool, made once per
//! new pool (`Summary::of`), not once per frame.

use crate::model::column::Column;
use crate::model::{Pool, Status, System, WorkerEntry};

/// A pool's figures: each worker's and the totals.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub workers: Vec<WorkerFigures>,
    pub totals: Totals,
}

impl Summary {
    pub fn of(pool: &Pool) -> Summary {
        let workers = by_worker(pool);
        let totals = totals(&workers);
        Summary { workers, totals }
    }
}

/// One worker's figures. Session shares are summed over the rows it sent
/// (non-finite values left out, as a sum must stay a number); the counts
/// from its worker block are `None` when it sent none.
#[derive(Debug, Clone)]
pub struct WorkerFigures {
    /// Its index in `Pool::workers`.
    pub index: usize,
    /// It answered its last fetch.
    pub up: bool,
    /// Its loop does not answer.
    pub blocked: bool,
    /// Rows it sent (its last snapshot's, when stale).
    pub rows: usize,
    /// Its block's active count, else its row count.
    pub active: f64,
    pub max: Option<f64>,
    pub cpu_pct: f64,
    pub mem_mb: f64,
    pub slow: usize,
    pub failed: Option<f64>,
    pub started: Option<f64>,
    pub draining: Option<bool>,
}

impl WorkerFigures {
    /// Worth a line of its own in a condensed list: not up, slow sessions,
    /// or draining.
    pub fn notable(&self) -> bool {
        !self.up || self.slow > 0 || self.draining == Some(true)
    }

    /// Its entry in `pool` (the pool it was made from).
    pub fn of<'a>(&self, pool: &'a Pool) -> &'a WorkerEntry {
        &pool.workers[self.index]
    }
}

/// Each worker's figures, in the pool's (label) order.
pub fn by_worker(pool: &Pool) -> Vec<WorkerFigures> {
    let mut out: Vec<WorkerFigures> = pool
        .workers
        .iter()
        .enumerate()
        .map(|(index, w)| {
            let b = w.block.as_ref();
            WorkerFigures {
                index,
                up: w.state.up(),
                blocked: w.state.blocked().is_some(),
                rows: 0,
                active: f64::NAN,
                max: b.and_then(|b| b.max_sessions),
                cpu_pct: 0.0,
                mem_mb: 0.0,
                slow: 0,
                failed: b.and_then(|b| b.failed),
                started: b.and_then(|b| b.started),
                draining: b.and_then(|b| b.draining),
            }
        })
        .collect();
    for s in &pool.sessions {
        let Some(f) = out.get_mut(usize::from(s.worker)) else { continue };
        f.rows += 1;
        f.slow += usize::from(s.status == Status::Slow);
        if Column::Cpu.number(s).is_finite() {
            f.cpu_pct += Column::Cpu.number(s);
        }
        if Column::Mem.number(s).is_finite() {
            f.mem_mb += Column::Mem.number(s);
        }
    }
    for (f, w) in out.iter_mut().zip(&pool.workers) {
        f.active = w.block.as_ref().and_then(|b| b.active_sessions).filter(|a| a.is_finite()).unwrap_or(f.rows as f64);
    }
    out
}

/// The whole pool's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Totals {
    pub workers: usize,
    pub up: usize,
    pub blocked: usize,
    pub active: f64,
    /// The sum of every worker's maximum, when each has one.
    pub max: Option<f64>,
    pub cpu_pct: f64,
    pub mem_mb: f64,
    pub slow: usize,
    pub failed: f64,
    pub started: f64,
    pub draining: usize,
}

pub fn totals(figures: &[WorkerFigures]) -> Totals {
    let mut t = Totals { workers: figures.len(), max: Some(0.0), ..Totals::default() };
    for f in figures {
        t.up += usize::from(f.up);
        t.blocked += usize::from(f.blocked);
        t.active += f.active;
        t.max = t.max.zip(f.max).map(|(a, b)| a + b);
        t.cpu_pct += f.cpu_pct;
        t.mem_mb += f.mem_mb;
        t.slow += f.slow;
        t.failed += f.failed.filter(|v| v.is_finite()).unwrap_or(0.0);
        t.started += f.started.filter(|v| v.is_finite()).unwrap_or(0.0);
        t.draining += usize::from(f.draining == Some(true));
    }
    t
}

/// The host's vitals as the pool last reported them: every worker on a host
/// samples the same machine, so the first one up that has them speaks for
/// all (then any that has them).
pub fn host(pool: &Pool) -> Option<(&System, &[f64])> {
    let has = |w: &&WorkerEntry| w.block.as_ref().is_some_and(|b| b.system.as_ref().is_some_and(|s| s.available != Some(false)));
    let w = pool.workers.iter().filter(|w| w.state.up()).find(has).or_else(|| pool.workers.iter().find(has))?;
    let b = w.block.as_ref()?;
    Some((b.system.as_ref()?, &b.cpu_history))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Session, Snapshot, Update, Worker, WorkerState};

    #[test]
    fn figures_sum_each_workers_rows_and_leave_out_non_finite_shares() {
        let row = |cpu: f64, mem: f64, slow: bool| Session {
            nums: [0.0, mem, 0.0, cpu],
            status: if slow { Status::Slow } else { Status::Active },
            ..Session::default()
        };
        let block = Worker { active_sessions: Some(5.0), max_sessions: Some(10.0), failed: Some(2.0), draining: Some(true), ..Worker::default() };
        let mut pool = Pool::default();
        pool.advance(vec![
            Update { key: 1, label: "b".into(), socket: "b".into(), state: WorkerState::Up, took: None, pid: None, stack: None, blocks: 0, fresh: Some(Snapshot { worker: Some(block), sessions: vec![row(10.0, 1.5, true), row(f64::NAN, 2.0, false)] }) },
            Update { key: 2, label: "a".into(), socket: "a".into(), state: WorkerState::Stale("late".into()), took: None, pid: None, stack: None, blocks: 0, fresh: Some(Snapshot { worker: None, sessions: vec![row(1.0, f64::INFINITY, false)] }) },
        ]);
        let f = by_worker(&pool);
        assert_eq!((f[0].of(&pool).label.as_str(), f[0].rows, f[0].active, f[0].max, f[0].cpu_pct, f[0].mem_mb), ("a", 1, 1.0, None, 1.0, 0.0));
        assert_eq!((f[1].rows, f[1].active, f[1].cpu_pct, f[1].mem_mb, f[1].slow, f[1].failed), (2, 5.0, 10.0, 3.5, 1, Some(2.0)));
        assert!(f[0].notable() && f[1].notable());
        let t = totals(&f);
        assert_eq!((t.workers, t.up, t.active, t.max, t.slow, t.failed, t.draining), (2, 1, 6.0, None, 1, 2.0, 1));
    }
}
