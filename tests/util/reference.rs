//! A reference for what the payload decoder must give, written from the
//! protocol (`PROTOCOL.md`) and the tolerance rules, sharing no code with
//! `src/decode`: a plain recursive-descent JSON parser into a `Value`, then
//! the tolerance mapping into an expected snapshot of its own types. The
//! fuzzer compares every decoded payload with it (`compare`).
//!
//! The JSON read is what Python's `json.loads` reads from text (the payload
//! decoded as UTF-8): strict JSON plus the bare tokens `NaN`, `Infinity`
//! and `-Infinity`; integers of any length; `\uXXXX` escapes with surrogate
//! pairs (a lone surrogate becomes U+FFFD, which a Rust string can hold).
//! Besides: invalid UTF-8, raw control characters in strings and nesting
//! deeper than `MAX_DEPTH` containers are refused.
//!
//! The mapping: an object document gives `worker` (an object, else absent)
//! and `sessions` (an array, else none); a bare array is the rows, with no
//! worker; any other value is an empty snapshot. The last duplicate key
//! wins everywhere. Non-object rows are dropped; a field of the wrong type
//! (null included) is missing, holding its default; unknown fields are
//! ignored. Numeric fields take numbers or strings that read as numbers
//! (`number_str`). More object rows than the payload's size allows for
//! (`budget`) is an error.

use openrtc_top::model::{Session, Status};

/// Containers nested deeper than this are refused.
pub const MAX_DEPTH: usize = 128;
/// A payload may hold one row per this many bytes ...
pub const ROW_BYTES: usize = 96;
/// ... or this many rows, whichever is more.
pub const MIN_ROWS: usize = 1000;
/// The most `cpu_history` values kept (the last ones).
pub const HISTORY: usize = 600;

/// A JSON value. An object keeps its members in order, duplicates too.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

/// Parse all of `bytes` as one JSON document.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut p = Parser { text, s: text.as_bytes(), i: 0, depth: 0 };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("extra data"));
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.i)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Consume `lit` if the text goes on with it.
    fn eat(&mut self, lit: &str) -> bool {
        let yes = self.s[self.i..].starts_with(lit.as_bytes());
        if yes {
            self.i += lit.len();
        }
        yes
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::Str),
            _ if self.eat("null") => Ok(Value::Null),
            _ if self.eat("true") => Ok(Value::Bool(true)),
            _ if self.eat("false") => Ok(Value::Bool(false)),
            _ if self.eat("NaN") => Ok(Value::Num(f64::NAN)),
            _ if self.eat("Infinity") => Ok(Value::Num(f64::INFINITY)),
            _ if self.eat("-Infinity") => Ok(Value::Num(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("expecting a value")),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deep"));
        }
        self.i += 1;
        Ok(())
    }

    fn object(&mut self) -> Result<Value, String> {
        self.enter()?;
        let mut members = Vec::new();
        self.ws();
        if self.eat("}") {
            self.depth -= 1;
            return Ok(Value::Obj(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expecting a key"));
            }
            let key = self.string()?;
            self.ws();
            self.expect(b':', "expecting ':'")?;
            self.ws();
            let v = self.value()?;
            members.push((key, v));
            self.ws();
            if self.eat("}") {
                self.depth -= 1;
                return Ok(Value::Obj(members));
            }
            self.expect(b',', "expecting ',' or '}'")?;
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.enter()?;
        let mut items = Vec::new();
        self.ws();
        if self.eat("]") {
            self.depth -= 1;
            return Ok(Value::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            if self.eat("]") {
                self.depth -= 1;
                return Ok(Value::Arr(items));
            }
            self.expect(b',', "expecting ',' or ']'")?;
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`. An optional part
    /// that does not complete is left unread (what follows then fails).
    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        self.eat("-");
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("expecting a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') && matches!(self.s.get(self.i + 1), Some(b'0'..=b'9')) {
            self.i += 1;
            self.digits();
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let back = self.i;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                self.i = back;
            } else {
                integer = false;
            }
        }
        let v: f64 = self.text[start..self.i].parse().map_err(|e| format!("{e} for {:?}", &self.text[start..self.i]))?;
        // An integer is an int to Python: no negative zero.
        Ok(Value::Num(if integer && v == 0.0 { 0.0 } else { v }))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("a short \\u escape"))?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.err("a \\u escape without four hex digits"));
        }
        self.i += 4;
        Ok(u32::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap())
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.i;
            while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            out.push_str(&self.text[run..self.i]);
            match self.peek() {
                None => return Err(self.err("an unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("an unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = match hi {
                                0xD800..=0xDBFF => {
                                    // A pair when a low surrogate escape follows;
                                    // else lone, and what follows is read on its own.
                                    let back = self.i;
                                    let lo = if self.eat("\\u") { self.hex4().ok() } else { None };
                                    match lo {
                                        Some(lo @ 0xDC00..=0xDFFF) => 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
                                        _ => {
                                            self.i = back;
                                            0xFFFD
                                        }
                                    }
                                }
                                0xDC00..=0xDFFF => 0xFFFD,
                                c => c,
                            };
                            out.push(char::from_u32(c).unwrap());
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("an invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.err("a raw control character in a string")),
            }
        }
    }
}

/// A numeric string as a number, as Python's `float()` reads the forms a
/// worker could send: surrounding whitespace stripped; `nan`, `inf` or
/// `infinity` in any case with an optional sign; else only digits and
/// `+-.eE`, read by Rust's `f64` parse.
pub fn number_str(s: &str) -> Option<f64> {
    let t = s.trim();
    let (neg, word) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let word = word.to_ascii_lowercase();
    if word == "nan" {
        return Some(f64::NAN);
    }
    if word == "inf" || word == "infinity" {
        return Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) { t.parse().ok() } else { None }
}

/// A number, or a string that reads as one.
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Num(x) => Some(*x),
        Value::Str(s) => number_str(s),
        _ => None,
    }
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

/// A row as the reference expects it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub session_id: String,
    pub agent_name: String,
    pub tenant: Option<String>,
    /// duration_s, mem_mb, peak_mb, cpu_pct.
    pub nums: [f64; 4],
    pub status: Status,
    pub pinned: bool,
    pub missing: u16,
}

/// The numeric row fields, in `Session::nums` order, with their bits.
pub const NUM_FIELDS: [(&str, u16); 4] =
    [("duration_s", Session::DURATION), ("mem_mb", Session::MEM), ("peak_mb", Session::PEAK), ("cpu_pct", Session::CPU)];

/// Every field with a missing bit: what a row without fields lacks.
pub const ALL_MISSING: u16 =
    Session::ID | Session::AGENT | Session::DURATION | Session::MEM | Session::PEAK | Session::CPU | Session::STATUS | Session::PINNED;

/// The host vitals' numeric fields, in `System` order.
pub const SYSTEM_FIELDS: [&str; 10] = [
    "cpu_pct", "vcpus", "mem_used_bytes", "mem_total_bytes", "swap_used_bytes", "swap_total_bytes", "load1", "load5", "load15", "net_rate_bps",
];

#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub available: Option<bool>,
    pub nums: [Option<f64>; 10],
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Worker {
    pub name: Option<String>,
    pub uptime_s: Option<f64>,
    pub active_sessions: Option<f64>,
    pub max_sessions: Option<f64>,
    pub started: Option<f64>,
    pub failed: Option<f64>,
    pub saved_bytes: Option<f64>,
    pub draining: Option<bool>,
    pub system: Option<System>,
    pub cpu_history: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub worker: Option<Worker>,
    pub rows: Vec<Row>,
}

/// The snapshot `bytes` must decode to, or why they must be refused.
pub fn expect(bytes: &[u8]) -> Result<Snapshot, String> {
    let doc = parse(bytes)?;
    let budget = (bytes.len() / ROW_BYTES).max(MIN_ROWS);
    let mut snap = Snapshot::default();
    match &doc {
        Value::Obj(members) => {
            for (k, v) in members {
                match k.as_str() {
                    "worker" => snap.worker = if let Value::Obj(m) = v { Some(worker(m)) } else { None },
                    "sessions" => snap.rows = rows(v, budget)?,
                    _ => {}
                }
            }
        }
        Value::Arr(_) => snap.rows = rows(&doc, budget)?,
        _ => {}
    }
    Ok(snap)
}

fn rows(v: &Value, budget: usize) -> Result<Vec<Row>, String> {
    let Value::Arr(items) = v else { return Ok(Vec::new()) };
    let rows: Vec<Row> = items.iter().filter_map(|r| if let Value::Obj(m) = r { Some(row(m)) } else { None }).collect();
    if rows.len() > budget {
        return Err(format!("{} rows, more than the budget of {budget}", rows.len()));
    }
    Ok(rows)
}

fn row(members: &[(String, Value)]) -> Row {
    let mut r = Row {
        session_id: String::new(),
        agent_name: String::new(),
        tenant: None,
        nums: [0.0; 4],
        status: Status::parse(""),
        pinned: false,
        missing: ALL_MISSING,
    };
    for (k, v) in members {
        let found = match k.as_str() {
            "session_id" => {
                r.session_id = text(v).unwrap_or("").to_string();
                (Session::ID, text(v).is_some())
            }
            "agent_name" => {
                r.agent_name = text(v).unwrap_or("").to_string();
                (Session::AGENT, text(v).is_some())
            }
            "tenant" => {
                r.tenant = text(v).map(str::to_string);
                continue;
            }
            "status" => {
                r.status = Status::parse(text(v).unwrap_or(""));
                (Session::STATUS, text(v).is_some())
            }
            "pinned" => {
                r.pinned = flag(v).unwrap_or(false);
                (Session::PINNED, flag(v).is_some())
            }
            other => match NUM_FIELDS.iter().position(|(name, _)| *name == other) {
                Some(slot) => {
                    r.nums[slot] = num(v).unwrap_or(0.0);
                    (NUM_FIELDS[slot].1, num(v).is_some())
                }
                None => continue,
            },
        };
        match found {
            (bit, true) => r.missing &= !bit,
            (bit, false) => r.missing |= bit,
        }
    }
    r
}

fn worker(members: &[(String, Value)]) -> Worker {
    let mut w = Worker::default();
    for (k, v) in members {
        match k.as_str() {
            "name" => w.name = text(v).map(str::to_string),
            "uptime_s" => w.uptime_s = num(v),
            "active_sessions" => w.active_sessions = num(v),
            "max_sessions" => w.max_sessions = num(v),
            "started" => w.started = num(v),
            "failed" => w.failed = num(v),
            "saved_bytes" => w.saved_bytes = num(v),
            "draining" => w.draining = flag(v),
            "system" => w.system = if let Value::Obj(m) = v { Some(system(m)) } else { None },
            "cpu_history" => {
                w.cpu_history = match v {
                    Value::Arr(items) => items.iter().filter_map(num).collect(),
                    _ => Vec::new(),
                };
                let extra = w.cpu_history.len().saturating_sub(HISTORY);
                w.cpu_history.drain(..extra);
            }
            _ => {}
        }
    }
    w
}

fn system(members: &[(String, Value)]) -> System {
    let mut s = System { available: None, nums: [None; 10] };
    for (k, v) in members {
        if k == "available" {
            s.available = flag(v);
        } else if let Some(i) = SYSTEM_FIELDS.iter().position(|f| f == k) {
            s.nums[i] = num(v);
        }
    }
    s
}

/// The same float: NaN equals NaN, -0.0 is not 0.0.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn same_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Where the decoder's snapshot `got` differs from the expected `want`:
/// the first difference, field by field.
pub fn compare(want: &Snapshot, got: &openrtc_top::model::Snapshot) -> Result<(), String> {
    let differ = |what: String, w: &dyn std::fmt::Debug, g: &dyn std::fmt::Debug| -> Result<(), String> { Err(format!("{what}: expected {w:?}, decoded {g:?}")) };
    if want.rows.len() != got.sessions.len() {
        return differ("the number of rows".into(), &want.rows.len(), &got.sessions.len());
    }
    for (i, (w, g)) in want.rows.iter().zip(&got.sessions).enumerate() {
        if w.session_id != g.session_id.as_str() {
            return differ(format!("row {i} session_id"), &w.session_id, &g.session_id);
        }
        if w.agent_name != *g.agent_name {
            return differ(format!("row {i} agent_name"), &w.agent_name, &g.agent_name);
        }
        if w.tenant.as_deref() != g.tenant.as_deref() {
            return differ(format!("row {i} tenant"), &w.tenant, &g.tenant);
        }
        for (slot, (name, _)) in NUM_FIELDS.iter().enumerate() {
            if !same(w.nums[slot], g.nums[slot]) {
                return differ(format!("row {i} {name}"), &w.nums[slot], &g.nums[slot]);
            }
        }
        if w.status != g.status {
            return differ(format!("row {i} status"), &w.status, &g.status);
        }
        if w.pinned != g.pinned {
            return differ(format!("row {i} pinned"), &w.pinned, &g.pinned);
        }
        if w.missing != g.missing {
            return differ(format!("row {i} missing bits"), &format!("{:#b}", w.missing), &format!("{:#b}", g.missing));
        }
    }
    let (w, g) = match (&want.worker, &got.worker) {
        (None, None) => return Ok(()),
        (Some(w), Some(g)) => (w, g),
        (w, g) => return differ("the worker block".into(), w, g),
    };
    if w.name != g.name {
        return differ("worker name".into(), &w.name, &g.name);
    }
    let nums = [
        ("uptime_s", w.uptime_s, g.uptime_s),
        ("active_sessions", w.active_sessions, g.active_sessions),
        ("max_sessions", w.max_sessions, g.max_sessions),
        ("started", w.started, g.started),
        ("failed", w.failed, g.failed),
        ("saved_bytes", w.saved_bytes, g.saved_bytes),
    ];
    for (name, a, b) in nums {
        if !same_opt(a, b) {
            return differ(format!("worker {name}"), &a, &b);
        }
    }
    if w.draining != g.draining {
        return differ("worker draining".into(), &w.draining, &g.draining);
    }
    if w.cpu_history.len() != g.cpu_history.len() || !w.cpu_history.iter().zip(&g.cpu_history).all(|(a, b)| same(*a, *b)) {
        return differ("worker cpu_history".into(), &w.cpu_history, &g.cpu_history);
    }
    match (&w.system, &g.system) {
        (None, None) => Ok(()),
        (Some(ws), Some(gs)) => {
            if ws.available != gs.available {
                return differ("system available".into(), &ws.available, &gs.available);
            }
            let got = [
                gs.cpu_pct, gs.vcpus, gs.mem_used_bytes, gs.mem_total_bytes, gs.swap_used_bytes, gs.swap_total_bytes, gs.load1, gs.load5,
                gs.load15, gs.net_rate_bps,
            ];
            for (i, name) in SYSTEM_FIELDS.iter().enumerate() {
                if !same_opt(ws.nums[i], got[i]) {
                    return differ(format!("system {name}"), &ws.nums[i], &got[i]);
                }
            }
            Ok(())
        }
        (a, b) => differ("worker system".into(), a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(doc: &str) -> Snapshot {
        expect(doc.as_bytes()).unwrap_or_else(|e| panic!("{doc:?}: {e}"))
    }

    fn refused(doc: &[u8]) {
        assert!(expect(doc).is_err(), "{:?} should be refused", String::from_utf8_lossy(doc));
    }

    /// A dozen hand-written documents, each checked against what Python's
    /// `json.loads` makes of it and the tolerance rules.
    #[test]
    fn the_reference_reads_what_python_reads_and_maps_it_by_the_rules() {
        // 1. A whole row and a worker block, as json.dumps writes them.
        let s = ok(r#"{"worker": {"name": "w", "uptime_s": 1e+16, "active_sessions": 2, "max_sessions": 8, "started": 3, "failed": 0, "draining": false, "saved_bytes": null, "system": {"available": true, "cpu_pct": 12.5, "vcpus": 4, "load1": NaN, "net_rate_bps": null}, "cpu_history": [1, 2.5]}, "sessions": [{"session_id": "AJ_1", "agent_name": "a", "tenant": null, "duration_s": 40, "mem_mb": 2.25, "peak_mb": 3.0, "cpu_pct": 0.5, "status": "slow", "pinned": true}]}"#);
        let r = &s.rows[0];
        assert_eq!((r.session_id.as_str(), r.agent_name.as_str(), r.tenant.as_deref(), r.nums, &r.status, r.pinned, r.missing), ("AJ_1", "a", None, [40.0, 2.25, 3.0, 0.5], &Status::Slow, true, 0));
        let w = s.worker.unwrap();
        assert_eq!((w.name.as_deref(), w.uptime_s, w.active_sessions, w.failed, w.saved_bytes, w.draining), (Some("w"), Some(1e16), Some(2.0), Some(0.0), None, Some(false)));
        let sys = w.system.unwrap();
        assert_eq!((sys.available, sys.nums[0], sys.nums[1], sys.nums[9]), (Some(true), Some(12.5), Some(4.0), None));
        assert!(sys.nums[6].unwrap().is_nan());
        assert_eq!(w.cpu_history, [1.0, 2.5]);
        // 2. The legacy bare array: rows, no worker; non-object rows dropped;
        // an empty row lacks every field.
        let s = ok(r#"[1, "x", null, [], {}, {"session_id": "b"}]"#);
        assert!(s.worker.is_none());
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0].missing, ALL_MISSING);
        assert_eq!(ALL_MISSING, Session::ALL);
        assert_eq!(s.rows[1].missing, ALL_MISSING & !Session::ID);
        // 3. Any other value, or the wrong shapes inside: empty.
        for doc in ["42", "\"x\"", "null", "true", "NaN", "{}", r#"{"sessions": 5, "worker": [1]}"#, r#"{"sessions": {"a": {}}}"#] {
            assert_eq!(ok(doc), Snapshot::default(), "{doc}");
        }
        // 4. Wrong types are missing with their defaults, also over an
        // earlier duplicate; the last key wins; numeric strings are numbers.
        let s = ok(r#"[{"session_id": 7, "tenant": "t", "tenant": 3, "mem_mb": 5, "mem_mb": "n/a", "cpu_pct": " 7.5 ", "peak_mb": "-INF", "duration_s": "1e400", "status": "active", "status": null, "pinned": 1, "agent_name": "a", "agent_name": "b", "extra": {"x": [1]}}]"#);
        let r = &s.rows[0];
        assert_eq!((r.session_id.as_str(), r.agent_name.as_str(), r.tenant.as_deref(), &r.status, r.pinned), ("", "b", None, &Status::parse(""), false));
        assert_eq!(r.nums, [f64::INFINITY, 0.0, f64::NEG_INFINITY, 7.5]);
        assert_eq!(r.missing, Session::ID | Session::MEM | Session::STATUS | Session::PINNED);
        // 5. Numbers: -0 as an integer is 0, -0.0 stays negative; integers of
        // any length; exponents.
        let r = &ok(r#"[{"duration_s": -0, "mem_mb": -0.0, "peak_mb": 123456789012345678901234567890, "cpu_pct": -1.5E-3}]"#).rows[0];
        assert_eq!((r.nums[0].to_bits(), r.nums[1].to_bits()), (0f64.to_bits(), (-0f64).to_bits()));
        assert_eq!((r.nums[2], r.nums[3]), (1.2345678901234568e29, -0.0015));
        // 6. Escapes: pairs, lone surrogates (U+FFFD, the next escape read on
        // its own), controls, the short ones.
        let r = &ok(r#"[{"session_id": "\u00e9\ud83d\ude00\ud800\ud800\udc00\udc00x\u001b\/\"\\\b\f\n\r\t"}]"#).rows[0];
        assert_eq!(r.session_id, "\u{e9}\u{1f600}\u{fffd}\u{10000}\u{fffd}x\u{1b}/\"\\\u{8}\u{c}\n\r\t");
        // 7. Not JSON, as Python's json.loads refuses it.
        for doc in [
            &b""[..], b" ", b"[1,]", b"{\"a\": 1,}", b"01", b"1.", b".5", b"-", b"1e", b"+1", b"nan", b"-NaN", b"infinity", b"[1 2]",
            b"{\"a\" 1}", b"{1: 2}", b"\"\\x\"", b"\"\\u12g4\"", b"\"abc", b"[", b"tru", b"1 2", b"\xef\xbb\xbf[]", b"\x0c[]",
        ] {
            refused(doc);
        }
        // 8. Raw control characters in a string, and invalid UTF-8: refused;
        // DEL and raw non-ASCII are fine.
        refused(b"[\"a\x01b\"]");
        refused(b"[\"a\tb\"]");
        refused(b"[\"\xff\"]");
        refused(b"[\"\xed\xa0\x80\"]");
        assert_eq!(ok("[{\"agent_name\": \"a\x7f\u{4e2d}\"}]").rows[0].agent_name, "a\x7f\u{4e2d}");
        // 9. Nesting: 128 containers deep is read, 129 is not.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(ok(&deep(MAX_DEPTH)), Snapshot::default());
        refused(deep(MAX_DEPTH + 1).as_bytes());
        // 10. The row budget: 1,000 rows however small, one more is too many;
        // elements that are not rows do not count.
        let rows = |n: usize| format!("[{}]", vec!["{}"; n].join(","));
        assert_eq!(ok(&rows(MIN_ROWS)).rows.len(), MIN_ROWS);
        refused(rows(MIN_ROWS + 1).as_bytes());
        assert!(ok(&format!("[{}]", vec!["1"; 3 * MIN_ROWS].join(","))).rows.is_empty());
        let padded = format!("{{\"pad\": \"{}\", \"sessions\": {}}}", " ".repeat(2 * MIN_ROWS * ROW_BYTES), rows(MIN_ROWS + 100));
        assert_eq!(ok(&padded).rows.len(), MIN_ROWS + 100);
        // 11. The worker block: wrong types absent, the last duplicate wins,
        // cpu_history keeps its number-like elements, the last 600.
        let w = ok(r#"{"worker": {"name": 5, "draining": "yes", "system": {"available": 1}, "system": 1, "uptime_s": "12", "cpu_history": [1, "2", null, "z", true, NaN]}}"#).worker.unwrap();
        assert_eq!((w.name, w.draining, w.system, w.uptime_s), (None, None, None, Some(12.0)));
        assert_eq!(&w.cpu_history[..2], [1.0, 2.0]);
        assert!(w.cpu_history.len() == 3 && w.cpu_history[2].is_nan());
        let long: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
        let w = ok(&format!(r#"{{"worker": {{"cpu_history": [{}]}}, "worker": {{"cpu_history": [{}]}}}}"#, 5, long.join(", "))).worker.unwrap();
        assert_eq!((w.cpu_history.len(), w.cpu_history[0], w.cpu_history[HISTORY - 1]), (HISTORY, 1400.0, 1999.0));
        // 12. The last duplicate wins at the top too: a later non-array
        // `sessions` empties the rows, a later non-object `worker` removes it.
        let s = ok(r#"{"sessions": [{"session_id": "a"}], "worker": {"name": "w"}, "sessions": null, "worker": 3}"#);
        assert_eq!(s, Snapshot::default());
        // Numeric strings, one by one.
        for (s, v) in [("12", 12.0), ("+1.5", 1.5), (".5", 0.5), ("5.", 5.0), ("1E3", 1000.0), ("\u{a0}2\t", 2.0), ("-Infinity", f64::NEG_INFINITY), ("+iNf", f64::INFINITY)] {
            assert_eq!(number_str(s), Some(v), "{s:?}");
        }
        assert!(number_str("-nan").unwrap().is_nan());
        for s in ["", "x", "1e", "0x1", "1_000", "\u{661}", "\u{feff}1", "1,5", "--1", "nan1"] {
            assert_eq!(number_str(s), None, "{s:?}");
        }
    }
}
