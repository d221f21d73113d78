//! JSON for pipes and recordings: one line per snapshot, the worker's own
//! `", "`/`": "` separators, strings escaped exactly (jq reads back the
//! worker's strings unchanged) and never a control character raw.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Plain;
use crate::model::column::{Column, Kind};
use crate::model::{Pool, Session, System, Taken, Worker, WorkerEntry, WorkerState};
use crate::number;
use crate::text::{self, Charset};

/// One line of JSON: `{"pid": N, "state": "answered", "worker": ...,
/// "sessions": [...]}` (with a leading `time` in batch mode; a blocked
/// worker's state says for how long and why). Non-finite numbers, which JSON cannot hold, are
/// null. Several workers: `{"workers": [{"label", "socket", "worker",
/// "error"}, ...], "sessions": [...]}`, each session led by its worker's
/// label.
pub fn json(out: &mut dyn Write, pool: &Pool, order: &[usize], opt: Plain) -> io::Result<()> {
    let Plain { stamp, charset, sample, .. } = opt;
    let mut buf = String::with_capacity(256);
    buf.push('{');
    if sample {
        buf.push_str("\"v\": 2, ");
    }
    if let Some(t) = stamp {
        buf.push_str("\"time\": ");
        json_str(&mut buf, t, charset);
        buf.push_str(", ");
    }
    let multi = pool.multi() || sample;
    if multi {
        buf.push_str("\"workers\": [");
        for (n, w) in pool.workers.iter().enumerate() {
            if n > 0 {
                buf.push_str(", ");
            }
            worker_entry(&mut buf, w, charset);
        }
        buf.push(']');
    } else {
        // One worker: its pid and state, then its block, at the top level.
        let mut o = JsonObject::fields(&mut buf, charset);
        if let Some(w) = pool.workers.first() {
            if let Some(pid) = w.pid {
                o.num("pid", Some(f64::from(pid)));
            }
            state(&mut o, w, charset);
        }
        o.key("worker");
        match pool.block() {
            Some(w) => json_worker(&mut buf, w, charset),
            None => buf.push_str("null"),
        }
    }
    buf.push_str(", \"sessions\": [");
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            buf.push_str(", ");
        }
        json_session(&mut buf, pool, multi, &pool.sessions[i], charset);
        // Flush as we go: a large pool stays out of one giant buffer.
        if buf.len() > 64 * 1024 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    buf.push_str("]}\n");
    out.write_all(buf.as_bytes())
}

/// A worker of several: its label, socket and pid, its state (`answered`,
/// `blocked` with for how long and why, `failed` with its error, `gone`,
/// `waiting`), its last stack when one was taken, and its worker block.
fn worker_entry(buf: &mut String, w: &WorkerEntry, cs: Charset) {
    let mut o = JsonObject::new(buf, cs);
    o.str("label", Some(&w.label));
    o.str("socket", Some(&w.socket.to_string_lossy()));
    o.num("pid", w.pid.map(f64::from));
    state(&mut o, w, cs);
    o.key("worker");
    match &w.block {
        Some(b) => json_worker(o.buf(), b, cs),
        None => o.buf().push_str("null"),
    }
    let error = match &w.state {
        WorkerState::Blocked(_) => None,
        s => s.reason().or(s.gone().then_some("its socket is gone")),
    };
    o.str("error", error);
    o.end();
}

/// A worker's `state` (and, blocked, for how long and why), and its last
/// stack when one was taken.
fn state(o: &mut JsonObject, w: &WorkerEntry, cs: Charset) {
    o.str("state", Some(state_word(&w.state)));
    if let WorkerState::Blocked(b) = &w.state {
        o.num("blocked_s", Some((b.waited.as_secs_f64() * 10.0).round() / 10.0));
        o.str("why", Some(&b.why));
    }
    if let Some(t) = &w.stack {
        stack(o, t, cs);
    }
}

/// `"stack": {"at", "summary", "text"}`, or `"error"` for a stack that
/// could not be taken.
pub(super) fn stack(o: &mut JsonObject, t: &Taken, cs: Charset) {
    o.key("stack");
    let mut st = JsonObject::new(o.buf(), cs);
    st.str("at", Some(&crate::clock::stamp(t.at)));
    match &t.stack {
        Ok(s) => {
            st.str("summary", Some(&s.summary));
            st.str("text", Some(&s.text));
        }
        Err(why) => st.str("error", Some(why)),
    }
    st.end();
}

/// A worker state's word in JSON and recordings.
pub fn state_word(s: &WorkerState) -> &'static str {
    match s {
        WorkerState::Up => "answered",
        WorkerState::Blocked(_) => "blocked",
        WorkerState::Stale(_) | WorkerState::Refused(_) => "failed",
        WorkerState::Gone => "gone",
        WorkerState::Waiting => "waiting",
    }
}

fn json_session(b: &mut String, pool: &Pool, multi: bool, s: &Session, cs: Charset) {
    let mut o = JsonObject::new(b, cs);
    for c in Column::ALL.into_iter().filter(|&c| c != Column::Worker || multi) {
        let (key, missing) = (c.key(), c.missing(s));
        match c.kind() {
            Kind::Num { .. } => o.num(key, (!missing).then(|| c.number(s))),
            Kind::Pin => o.bool(key, (!missing).then_some(s.pinned)),
            _ => o.str(key, c.text(pool, s).filter(|_| !missing)),
        }
    }
    o.end();
}

fn json_worker(b: &mut String, w: &Worker, cs: Charset) {
    let mut o = JsonObject::new(b, cs);
    o.str("name", w.name.as_deref());
    o.num("uptime_s", w.uptime_s);
    o.num("active_sessions", w.active_sessions);
    o.num("max_sessions", w.max_sessions);
    o.num("started", w.started);
    o.num("failed", w.failed);
    o.bool("draining", w.draining);
    o.num("saved_bytes", w.saved_bytes);
    o.key("system");
    match &w.system {
        Some(s) => json_system(o.buf(), s, cs),
        None => o.buf().push_str("null"),
    }
    o.key("cpu_history");
    o.buf().push('[');
    for (n, &v) in w.cpu_history.iter().enumerate() {
        if n > 0 {
            o.buf().push_str(", ");
        }
        json_num(o.buf(), Some(v));
    }
    o.buf().push(']');
    o.end();
}

fn json_system(b: &mut String, s: &System, cs: Charset) {
    let mut o = JsonObject::new(b, cs);
    o.bool("available", s.available);
    o.num("cpu_pct", s.cpu_pct);
    o.num("vcpus", s.vcpus);
    o.num("mem_used_bytes", s.mem_used_bytes);
    o.num("mem_total_bytes", s.mem_total_bytes);
    o.num("swap_used_bytes", s.swap_used_bytes);
    o.num("swap_total_bytes", s.swap_total_bytes);
    o.num("load1", s.load1);
    o.num("load5", s.load5);
    o.num("load15", s.load15);
    o.num("net_rate_bps", s.net_rate_bps);
    o.end();
}

/// Writes `{"k": v, ...}` with the worker's own `", "`/`": "` separators.
pub(super) struct JsonObject<'a> {
    b: &'a mut String,
    first: bool,
    cs: Charset,
}

impl<'a> JsonObject<'a> {
    pub(super) fn new(b: &'a mut String, cs: Charset) -> Self {
        b.push('{');
        JsonObject { b, first: true, cs }
    }

    /// Members written into an object already open (and left open).
    fn fields(b: &'a mut String, cs: Charset) -> Self {
        JsonObject { b, first: true, cs }
    }

    pub(super) fn buf(&mut self) -> &mut String {
        self.b
    }

    pub(super) fn key(&mut self, k: &str) {
        if !self.first {
            self.b.push_str(", ");
        }
        self.first = false;
        json_str(self.b, k, Charset::Utf8);
        self.b.push_str(": ");
    }

    pub(super) fn str(&mut self, k: &str, v: Option<&str>) {
        self.key(k);
        match v {
            Some(s) => json_str(self.b, s, self.cs),
            None => self.b.push_str("null"),
        }
    }

    pub(super) fn num(&mut self, k: &str, v: Option<f64>) {
        self.key(k);
        json_num(self.b, v);
    }

    pub(super) fn bool(&mut self, k: &str, v: Option<bool>) {
        self.key(k);
        self.b.push_str(match v {
            Some(true) => "true",
            Some(false) => "false",
            None => "null",
        });
    }

    pub(super) fn end(self) {
        self.b.push('}');
    }
}

fn json_num(b: &mut String, v: Option<f64>) {
    match v {
        Some(v) if v.is_finite() => number::push_exact_finite(b, v),
        _ => b.push_str("null"),
    }
}

/// A JSON string literal; controls, C1, bidi controls and the line and
/// paragraph separators (as Python's `json.dumps` does) escaped as `\uXXXX`,
/// and every non-ASCII character too when the charset is ASCII (surrogate
/// pairs above the BMP), so the line is safe on a terminal and still
/// decodes to the exact string.
pub fn json_str(b: &mut String, s: &str, cs: Charset) {
    b.push('"');
    for c in s.chars() {
        match c {
            '"' => b.push_str("\\\""),
            '\\' => b.push_str("\\\\"),
            '\n' => b.push_str("\\n"),
            '\r' => b.push_str("\\r"),
            '\t' => b.push_str("\\t"),
            c if text::is_unsafe(c) || (!c.is_ascii() && !cs.unicode()) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(b, "\\u{u:04x}", u = *u);
                }
            }
            c => b.push(c),
        }
    }
    b.push('"');
}

