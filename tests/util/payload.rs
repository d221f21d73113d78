//! The one payload builder: sessions and worker blocks as plain test-side
//! structs, written to the wire by a JSON writer of its own, in the shape
//! `json.dumps` gives them (`", "` and `": "` separators, non-ASCII as
//! `\uXXXX` with surrogate pairs, controls escaped). It shares no code with
//! the crate: the bytes a test serves are not written by the code under
//! test (`output::json`), which the crate's own decoder would then read.

use std::fmt::Write as _;

use super::Rng;

/// A session row with all nine fields, as a worker sends them.
#[derive(Debug, Clone)]
pub struct Row {
    pub session_id: String,
    pub agent_name: String,
    pub tenant: Option<String>,
    pub duration_s: f64,
    pub mem_mb: f64,
    pub peak_mb: f64,
    pub cpu_pct: f64,
    pub status: String,
    pub pinned: bool,
}

/// A worker block: a name, session counts and an uptime (other fields null).
#[derive(Debug, Clone)]
pub struct Block {
    pub name: String,
    pub uptime_s: f64,
    pub active_sessions: usize,
    pub max_sessions: usize,
}

pub fn session(id: &str, agent: &str, tenant: Option<&str>, mem: f64, cpu: f64, status: &str) -> Row {
    Row {
        session_id: id.into(),
        agent_name: agent.into(),
        tenant: tenant.map(Into::into),
        duration_s: 60.0,
        mem_mb: mem,
        peak_mb: mem,
        cpu_pct: cpu,
        status: status.into(),
        pinned: false,
    }
}

pub fn worker(name: &str, active: usize, max: usize) -> Block {
    Block { name: name.into(), uptime_s: 10.0, active_sessions: active, max_sessions: max }
}

/// A JSON string as Python's `json.dumps` writes it (ensure_ascii).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A number as Python's `repr` of a float writes it in the everyday range
/// (integral values with `.0`, the shortest digits that read back) and its
/// non-finite tokens; outside that range, exponent notation (Python would
/// write `1e+300` where this writes `1e300`: both are JSON).
fn number(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if v != 0.0 && !(1e-4..1e16).contains(&v.abs()) {
        let _ = write!(out, "{v:e}");
    } else if v == v.trunc() {
        let _ = write!(out, "{v:.1}");
    } else {
        let _ = write!(out, "{v}");
    }
}

fn row(out: &mut String, r: &Row) {
    out.push_str("{\"session_id\": ");
    string(out, &r.session_id);
    out.push_str(", \"agent_name\": ");
    string(out, &r.agent_name);
    out.push_str(", \"tenant\": ");
    match &r.tenant {
        Some(t) => string(out, t),
        None => out.push_str("null"),
    }
    for (k, v) in [("duration_s", r.duration_s), ("mem_mb", r.mem_mb), ("peak_mb", r.peak_mb), ("cpu_pct", r.cpu_pct)] {
        let _ = write!(out, ", \"{k}\": ");
        number(out, v);
    }
    out.push_str(", \"status\": ");
    string(out, &r.status);
    out.push_str(if r.pinned { ", \"pinned\": true}" } else { ", \"pinned\": false}" });
}

fn block(out: &mut String, b: &Block) {
    out.push_str("{\"name\": ");
    string(out, &b.name);
    out.push_str(", \"uptime_s\": ");
    number(out, b.uptime_s);
    let _ = write!(
        out,
        ", \"active_sessions\": {}, \"max_sessions\": {}, \"started\": null, \"failed\": null, \"draining\": null, \"system\": null, \"cpu_history\": []}}",
        b.active_sessions, b.max_sessions
    );
}

/// One payload line (with its newline) for this worker block and these rows,
/// in this order: `{"worker": ..., "sessions": [...]}`.
pub fn encode(worker: Option<Block>, sessions: Vec<Row>) -> Vec<u8> {
    let mut out = String::with_capacity(64 + 200 * sessions.len());
    out.push_str("{\"worker\": ");
    match &worker {
        Some(b) => block(&mut out, b),
        None => out.push_str("null"),
    }
    out.push_str(", \"sessions\": [");
    for (i, r) in sessions.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        row(&mut out, r);
    }
    out.push_str("]}\n");
    out.into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_json_dumps_writes() {
        let mut s = String::new();
        string(&mut s, "a\"\\\n\u{1b}\u{e9}\u{1f600}");
        assert_eq!(s, r#""a\"\\\n\u001b\u00e9\ud83d\ude00""#);
        let mut n = String::new();
        for v in [40.0, 2.25, f64::NAN, f64::NEG_INFINITY, 1e300] {
            number(&mut n, v);
            n.push(' ');
        }
        assert_eq!(n, "40.0 2.25 NaN -Infinity 1e300 ");
    }
}
