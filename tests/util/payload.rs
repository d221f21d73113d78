//! The one payload builder: sessions and worker blocks as the crate's own
//! types, written to the wire by the same JSON writer `--format json` uses
//! (so a test payload is exactly what our JSON output would be, and what a
//! worker sends, field for field).

use openrtc_top::output;
use openrtc_top::model::{Pool, Session, Snapshot, Status, Worker};

use super::Rng;

/// A session with all nine fields set, as a worker sends them.
pub fn session(id: &str, agent: &str, tenant: Option<&str>, mem: f64, cpu: f64, status: &str) -> Session {
    Session {
        session_id: id.into(),
        agent_name: agent.into(),
        tenant: tenant.map(Into::into),
        duration_s: 60.0,
        mem_mb: mem,
        peak_mb: mem,
        cpu_pct: cpu,
        status: Status::parse(status),
        pinned: false,
        missing: 0,
        worker: 0,
    }
}

/// A worker block with a name and session counts (other fields null).
pub fn worker(name: &str, active: usize, max: usize) -> Worker {
    Worker {
        name: Some(name.into()),
        uptime_s: Some(10.0),
        active_sessions: Some(active as f64),
        max_sessions: Some(max as f64),
        ..Worker::default()
    }
}

/// One payload line (with its newline) for this worker block and these rows,
/// in this order.
pub fn encode(worker: Option<Worker>, sessions: Vec<Session>) -> Vec<u8> {
    let order: Vec<usize> = (0..sessions.len()).collect();
    let pool = Pool::single(Snapshot { worker, sessions }, "".into());
    let mut out = Vec::new();
    output::json(&mut out, &pool, &order, output::Plain::default()).expect("writing to a Vec");
    out
}

/// `n` sessions across five agents and seven tenants, one in ten slow, with
/// values drawn from a seeded RNG, under a worker named "big".
pub fn big(n: usize) -> Vec<u8> {
    let mut rng = Rng(0x5eed);
    let rows = (0..n)
        .map(|i| {
            let mut s = session(
                &format!("AJ_{i:06}"),
                &format!("agent{}", i % 5),
                Some(&format!("t{}", i % 7)),
                (rng.below(97) as f64) + 0.25,
                (rng.below(1000) as f64) / 10.0,
                if i % 10 == 0 { "slow" } else { "active" },
            );
            s.duration_s = (i % 1000) as f64 + 0.5;
            s.peak_mb = 99.0;
            s
        })
        .collect();
    encode(Some(worker("big", n, n)), rows)
}
