//! A pool as Prometheus metrics: OpenMetrics 1.0 or the Prometheus text
//! format 0.0.4 (the two a scraper accepts), for `--format openmetrics`,
//! `--format prometheus` and the exporter (`serve`).
//!
//! Per worker: whether it answered, what its worker block says, how long
//! its fetch took. Per worker, agent, tenant (and status for the count):
//! session counts and sums of the memory and CPU shares. The host's CPU,
//! memory, swap, load and network are left to node_exporter, which reads
//! them itself; the payload has nothing else about the host. Per-session
//! series only on request (`--per-session N`): ids are unbounded.
//!
//! Label values are the worker's strings with what the format requires
//! escaped (backslash, double quote, newline); no output of ours carries a
//! control character raw, so the other controls (and bidi controls and the
//! line separators) are written as `\u{1b}` text, as on screen. Nothing a
//! worker sends can end a label value early or start a line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::model::column::Column;
use crate::number;
use crate::model::{Pool, Status};
use crate::text;
use crate::view::{self, Query};

/// Which exposition, and how many per-session series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exposition {
    /// OpenMetrics 1.0; else the Prometheus text format 0.0.4.
    pub openmetrics: bool,
    /// Series for the N busiest sessions by CPU share (0: none).
    pub per_session: usize,
}

/// The content type of each exposition, for HTTP.
pub const OPENMETRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
}

/// One metric family: its name (a counter's without `_total`), type, unit
/// (OpenMetrics `# UNIT`; the name ends with it) and help.
struct Family {
    name: &'static str,
    kind: Kind,
    unit: &'static str,
    help: &'static str,
}

const fn gauge(name: &'static str, unit: &'static str, help: &'static str) -> Family {
    Family { name, kind: Kind::Gauge, unit, help }
}

const fn counter(name: &'static str, help: &'static str) -> Family {
    Family { name, kind: Kind::Counter, unit: "", help }
}

/// Every family, in the order written.
const UP: Family = gauge("openrtc_up", "", "Whether the worker answered this scrape (1) or not (0); one series per configured or found socket.");
const FETCH: Family = gauge("openrtc_fetch_duration_seconds", "seconds", "How long fetching the worker's snapshot took.");
const BLOCKED: Family = gauge("openrtc_loop_blocked_seconds", "seconds", "How long the worker's loop has not answered (0 when it answered): a session blocking it.");
const BLOCKS: Family = counter("openrtc_loop_blocks", "Blocks of the worker's loop this exporter has seen.");
const UPTIME: Family = gauge("openrtc_worker_uptime_seconds", "seconds", "How long the worker has been up.");
const MAX: Family = gauge("openrtc_sessions_max", "", "The most sessions the worker takes.");
const STARTED: Family = counter("openrtc_sessions_started", "Sessions the worker has started.");
const FAILED: Family = counter("openrtc_sessions_failed", "Sessions that failed to start.");
const DRAINING: Family = gauge("openrtc_worker_draining", "", "Whether the worker is draining (1) or not (0).");
const SAVED: Family = gauge("openrtc_worker_saved_bytes", "bytes", "Memory the worker reports saved by running sessions as coroutines.");
const SESSIONS: Family = gauge("openrtc_sessions", "", "Live sessions by worker, agent, tenant and status.");
const SLOW: Family = gauge("openrtc_slow_sessions", "", "Sessions currently marked slow (blocking the loop), by worker, agent and tenant.");
const MEM: Family = gauge("openrtc_session_memory_share_bytes", "bytes", "Sum of the sessions' equal shares of the worker's memory (its RSS), by worker, agent and tenant.");
const CPU: Family = gauge("openrtc_session_cpu_share_percent", "percent", "Sum of the sessions' shares of the worker's sampled CPU time, by worker, agent and tenant.");
const ONE_CPU: Family = gauge("openrtc_busiest_session_cpu_share_percent", "percent", "CPU share of each of the busiest sessions (--per-session).");
const ONE_MEM: Family = gauge("openrtc_busiest_session_memory_share_bytes", "bytes", "Memory share of each of the busiest sessions (--per-session).");
const ONE_DURATION: Family = gauge("openrtc_busiest_session_duration_seconds", "seconds", "How long each of the busiest sessions has been live (--per-session).");

/// The worker's "MB" are MiB (openrtc's session_memory.py divides by 1024
/// * 1024); the metric is in bytes, the base unit Prometheus names want.
const MIB: f64 = 1024.0 * 1024.0;

/// A family's series as they are written: label pairs and a value.
struct Series<'a> {
    family: &'a Family,
    lines: Vec<(Vec<(&'static str, &'a str)>, f64)>,
}

impl<'a> Series<'a> {
    fn new(family: &'a Family) -> Self {
        Series { family, lines: Vec::new() }
    }

    fn add(&mut self, labels: Vec<(&'static str, &'a str)>, v: f64) {
        self.lines.push((labels, v));
    }
}

/// Per worker, agent and tenant: slow count and share sums, and the most
/// decimals any summed share had (the sum is printed to those: one-decimal
/// shares summed as binary fractions printed `6.300000000000001`).
#[derive(Default)]
struct Shares {
    slow: usize,
    mem: f64,
    cpu: f64,
    mem_places: u32,
    cpu_places: u32,
}

/// How many decimals `v` has as the worker wrote it (at most 9): the
/// fewest that give it back.
fn places(v: f64) -> u32 {
    (0..9).find(|&k| {
        let x = v * 10f64.powi(k as i32);
        (x - x.round()).abs() <= 1e-9 * x.abs()
    })
    .unwrap_or(9)
}

/// `v` rounded to `k` decimals; 9 (a share with no short decimal form)
/// leaves it exact.
fn to_places(v: f64, k: u32) -> f64 {
    if k >= 9 {
        return v;
    }
    let p = 10f64.powi(k as i32);
    (v * p).round() / p
}

/// The exposition of `pool` into `out`, whole.
pub fn write(out: &mut dyn Write, pool: &Pool, how: Exposition) -> io::Result<()> {
    let mut families: Vec<Series> = Vec::new();
    let label = |i: usize| pool.workers[i].label.as_str();

    let mut up = Series::new(&UP);
    let mut fetch = Series::new(&FETCH);
    let (mut blocked, mut blocks) = (Series::new(&BLOCKED), Series::new(&BLOCKS));
    let mut uptime = Series::new(&UPTIME);
    let mut max = Series::new(&MAX);
    let mut started = Series::new(&STARTED);
    let mut failed = Series::new(&FAILED);
    let mut draining = Series::new(&DRAINING);
    let mut saved = Series::new(&SAVED);
    for (i, w) in pool.workers.iter().enumerate() {
        let l = vec![("worker", label(i))];
        up.add(l.clone(), if w.state.up() { 1.0 } else { 0.0 });
        if let Some(t) = w.took {
            fetch.add(l.clone(), t.as_secs_f64());
        }
        blocked.add(l.clone(), w.state.blocked().map_or(0.0, |b| b.waited.as_secs_f64()));
        blocks.add(l.clone(), f64::from(w.blocks));
        // A worker that did not answer has no figures this time.
        let Some(b) = w.block.as_ref().filter(|_| w.state.up()) else { continue };
        for (series, v) in [(&mut uptime, b.uptime_s), (&mut max, b.max_sessions), (&mut started, b.started), (&mut failed, b.failed), (&mut saved, b.saved_bytes)] {
            if let Some(v) = v {
                series.add(l.clone(), v);
            }
        }
        if let Some(d) = b.draining {
            draining.add(l.clone(), if d { 1.0 } else { 0.0 });
        }
    }
    families.extend([up, fetch, blocked, blocks, uptime, max, started, failed, draining, saved]);

    // Group sessions; BTreeMap keys put the series in a stable order
    // (workers in label order, then agent, tenant, status).
    let mut counts: BTreeMap<(u16, &str, &str, &str), usize> = BTreeMap::new();
    let mut shares: BTreeMap<(u16, &str, &str), Shares> = BTreeMap::new();
    for s in pool.sessions.iter().filter(|s| pool.answered(s)) {
        let (agent, tenant) = (&*s.agent_name, s.tenant.as_deref().unwrap_or(""));
        *counts.entry((s.worker, agent, tenant, s.status.as_str())).or_default() += 1;
        let g = shares.entry((s.worker, agent, tenant)).or_default();
        g.slow += usize::from(s.status == Status::Slow);
        let (m, c) = (Column::Mem.number(s), Column::Cpu.number(s));
        if m.is_finite() {
            g.mem += m;
            g.mem_places = g.mem_places.max(places(m));
        }
        if c.is_finite() {
            g.cpu += c;
            g.cpu_places = g.cpu_places.max(places(c));
        }
    }
    let mut sessions = Series::new(&SESSIONS);
    for (&(w, agent, tenant, status), &n) in &counts {
        sessions.add(vec![("worker", label(usize::from(w))), ("agent", agent), ("tenant", tenant), ("status", status)], n as f64);
    }
    let (mut slow, mut mem, mut cpu) = (Series::new(&SLOW), Series::new(&MEM), Series::new(&CPU));
    for (&(w, agent, tenant), g) in &shares {
        let l = vec![("worker", label(usize::from(w))), ("agent", agent), ("tenant", tenant)];
        slow.add(l.clone(), g.slow as f64);
        mem.add(l.clone(), to_places(to_places(g.mem, g.mem_places) * MIB, g.mem_places));
        cpu.add(l, to_places(g.cpu, g.cpu_places));
    }
    families.extend([sessions, slow, mem, cpu]);

    if how.per_session > 0 {
        let q = Query { sort: Column::Cpu, ..Query::default() };
        let (mut one_cpu, mut one_mem, mut one_dur) = (Series::new(&ONE_CPU), Series::new(&ONE_MEM), Series::new(&ONE_DURATION));
        let busiest = view::order(pool, &q, &[]).into_iter().map(|i| &pool.sessions[i]).filter(|s| pool.answered(s)).take(how.per_session);
        for s in busiest {
            let l = vec![
                ("worker", label(usize::from(s.worker))),
                ("session", &*s.session_id),
                ("agent", &*s.agent_name),
                ("tenant", s.tenant.as_deref().unwrap_or("")),
            ];
            one_cpu.add(l.clone(), Column::Cpu.number(s));
            one_mem.add(l.clone(), Column::Mem.number(s) * MIB);
            one_dur.add(l, Column::Duration.number(s));
        }
        families.extend([one_cpu, one_mem, one_dur]);
    }

    let mut buf = String::with_capacity(4096);
    for f in families.iter().filter(|f| !f.lines.is_empty()) {
        family(&mut buf, f, how.openmetrics);
        if buf.len() > 64 * 1024 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    if how.openmetrics {
        buf.push_str("# EOF\n");
    }
    out.write_all(buf.as_bytes())
}

/// One family: its metadata lines, then its samples.
fn family(b: &mut String, f: &Series, openmetrics: bool) {
    let fam = f.family;
    let counter = fam.kind == Kind::Counter;
    // OpenMetrics names the family without `_total`; the 0.0.4 format
    // types the sample name itself.
    let typed = if counter && !openmetrics { format!("{}_total", fam.name) } else { fam.name.to_string() };
    let _ = writeln!(b, "# HELP {typed} {}", fam.help);
    let _ = writeln!(b, "# TYPE {typed} {}", if counter { "counter" } else { "gauge" });
    if openmetrics && !fam.unit.is_empty() {
        let _ = writeln!(b, "# UNIT {typed} {}", fam.unit);
    }
    for (labels, v) in &f.lines {
        b.push_str(fam.name);
        if counter {
            b.push_str("_total");
        }
        if !labels.is_empty() {
            b.push('{');
            for (n, (k, v)) in labels.iter().enumerate() {
                if n > 0 {
                    b.push(',');
                }
                b.push_str(k);
                b.push_str("=\"");
                label_value(b, v);
                b.push('"');
            }
            b.push('}');
        }
        b.push(' ');
        value(b, *v);
        b.push('\n');
    }
}

/// A label value: `\`, `"` and newline escaped as both formats require;
/// other controls, bidi controls and line separators as `\u{hex}` text
/// (its backslash escaped in turn), never raw.
pub fn label_value(b: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => b.push_str("\\\\"),
            '"' => b.push_str("\\\""),
            '\n' => b.push_str("\\n"),
            c if c.is_control() || text::is_unsafe(c) => {
                let _ = write!(b, "\\\\u{{{:x}}}", c as u32);
            }
            c => b.push(c),
        }
    }
}

/// A sample value: the shortest exact decimal; `NaN`, `+Inf`, `-Inf`.
fn value(b: &mut String, v: f64) {
    if v.is_nan() {
        b.push_str("NaN");
    } else if v.is_infinite() {
        b.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        number::push_exact_finite(b, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::model::{Snapshot, Update, WorkerState};
    use std::time::Duration;

    fn pool(parts: &[(&str, &str, WorkerState)]) -> Pool {
        let mut p = Pool::default();
        let updates = parts
            .iter()
            .enumerate()
            .map(|(k, (label, payload, state))| Update {
                key: k as u32,
                label: label.to_string(),
                socket: format!("/s/{label}.sock").into(),
                state: state.clone(),
                took: Some(Duration::from_millis(5)),
                pid: None,
                stack: None,
                blocks: 0,
                fresh: state.up().then(|| decode(payload.as_bytes()).unwrap()).or(Some(Snapshot::default())),
            })
            .collect();
        p.advance(updates);
        p
    }

    fn expo(p: &Pool, openmetrics: bool, per_session: usize) -> String {
        let mut out = Vec::new();
        write(&mut out, p, Exposition { openmetrics, per_session }).unwrap();
        String::from_utf8(out).unwrap()
    }

    const W1: &str = r#"{"worker": {"name": "w1", "uptime_s": 12.5, "max_sessions": 8, "started": 3, "failed": 1, "draining": false}, "sessions": [
        {"session_id": "a", "agent_name": "support", "tenant": "acme", "mem_mb": 10.5, "cpu_pct": 2, "status": "active"},
        {"session_id": "b", "agent_name": "support", "tenant": "acme", "mem_mb": 4.5, "cpu_pct": 40, "status": "slow"},
        {"session_id": "c", "agent_name": "sales", "tenant": null, "mem_mb": NaN, "cpu_pct": 1, "status": "active"}]}"#;

    #[test]
    fn families_in_both_formats() {
        let p = pool(&[("w1", W1, WorkerState::Up), ("w2", "", WorkerState::Stale("sent nothing".into()))]);
        let t = expo(&p, false, 0);
        let want = [
            "# HELP openrtc_up Whether",
            "# TYPE openrtc_up gauge",
            "openrtc_up{worker=\"w1\"} 1",
            "openrtc_up{worker=\"w2\"} 0",
            "openrtc_fetch_duration_seconds{worker=\"w1\"} 0.005",
            "openrtc_worker_uptime_seconds{worker=\"w1\"} 12.5",
            "# TYPE openrtc_sessions_started_total counter",
            "openrtc_sessions_started_total{worker=\"w1\"} 3",
            "openrtc_sessions_failed_total{worker=\"w1\"} 1",
            "openrtc_worker_draining{worker=\"w1\"} 0",
            "openrtc_sessions{worker=\"w1\",agent=\"sales\",tenant=\"\",status=\"active\"} 1",
            "openrtc_sessions{worker=\"w1\",agent=\"support\",tenant=\"acme\",status=\"active\"} 1",
            "openrtc_sessions{worker=\"w1\",agent=\"support\",tenant=\"acme\",status=\"slow\"} 1",
            "openrtc_slow_sessions{worker=\"w1\",agent=\"support\",tenant=\"acme\"} 1",
            "openrtc_session_memory_share_bytes{worker=\"w1\",agent=\"sales\",tenant=\"\"} 0",
            "openrtc_session_memory_share_bytes{worker=\"w1\",agent=\"support\",tenant=\"acme\"} 15728640",
            "openrtc_session_cpu_share_percent{worker=\"w1\",agent=\"support\",tenant=\"acme\"} 42",
        ];
        for line in want {
            assert!(t.lines().any(|l| l.starts_with(line)), "{line} missing from:\n{t}");
        }
        assert!(!t.contains("# UNIT") && !t.contains("# EOF") && !t.contains("worker=\"w2\"} 0\nopenrtc_fetch"), "{t}");
        let om = expo(&p, true, 0);
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("# TYPE openrtc_sessions_started counter\n") && om.contains("openrtc_sessions_started_total{worker=\"w1\"} 3"), "{om}");
        assert!(om.contains("# UNIT openrtc_session_memory_share_bytes bytes\n"), "{om}");
        assert!(!om.contains("busiest"));
    }

    #[test]
    fn the_busiest_sessions_only_on_request() {
        let p = pool(&[("w1", W1, WorkerState::Up)]);
        let t = expo(&p, true, 2);
        let busiest: Vec<&str> = t.lines().filter(|l| l.starts_with("openrtc_busiest_session_cpu_share_percent{")).collect();
        assert_eq!(busiest, ["openrtc_busiest_session_cpu_share_percent{worker=\"w1\",session=\"b\",agent=\"support\",tenant=\"acme\"} 40", "openrtc_busiest_session_cpu_share_percent{worker=\"w1\",session=\"a\",agent=\"support\",tenant=\"acme\"} 2"]);
        assert!(t.contains("openrtc_busiest_session_memory_share_bytes{worker=\"w1\",session=\"b\",agent=\"support\",tenant=\"acme\"} 4718592"));
    }

    #[test]
    fn hostile_labels_cannot_break_a_line_or_forge_a_series() {
        let payload = r#"[{"session_id": "x", "agent_name": "a\"} 1\nopenrtc_up{worker=\"forged\"} 1\n# EOF", "tenant": "t\\\u001b[2J\r\u2028{#}", "status": "slow"}]"#;
        let p = pool(&[("w\"\n", payload, WorkerState::Up)]);
        for om in [false, true] {
            let t = expo(&p, om, 1);
            for line in t.lines() {
                assert!(line.starts_with("# ") || line.starts_with("openrtc_"), "{line:?}");
                assert!(!line.starts_with("openrtc_up{worker=\"forged\"}"), "{t}");
                assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
            }
            assert_eq!(t.lines().filter(|l| *l == "# EOF").count(), usize::from(om), "{t}");
            assert!(t.contains(r#"agent="a\"} 1\nopenrtc_up{worker=\"forged\"} 1\n# EOF""#), "{t}");
            assert!(t.contains(r#"tenant="t\\\\u{1b}[2J\\u{d}\\u{2028}{#}""#), "{t}");
            assert!(t.contains(r#"worker="w\"\n""#), "{t}");
        }
    }

    #[test]
    fn sums_print_at_the_precision_of_what_was_summed() {
        assert_eq!((places(2.1), places(3.0), places(0.125), places(1e-12)), (1, 0, 3, 9));
        // 2.1 + 2.1 + 2.1 is 6.300000000000001 in binary; the sum says 6.3.
        let mut b = String::new();
        value(&mut b, to_places(2.1 + 2.1 + 2.1, 1));
        assert_eq!(b, "6.3");
        let mut b = String::new();
        value(&mut b, to_places(to_places(2.1 + 2.1 + 2.1, 1) * MIB, 1));
        assert_eq!(b, "6606028.8");
    }

    #[test]
    fn values_are_exact_and_non_finite_values_are_spelt_as_the_formats_do() {
        let mut b = String::new();
        for v in [0.1, 3.0, 1e300, -2.5e-7, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            value(&mut b, v);
            b.push(' ');
        }
        assert_eq!(b, "0.1 3 1e300 -2.5e-7 NaN +Inf -Inf ");
    }
}
