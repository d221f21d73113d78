//! The snapshot a worker serves, and tolerant decoding of it.
//!
//! Decoding follows the reference client's tolerance (PROTOCOL.md): both payload
//! shapes, defaults for missing fields, non-object rows dropped, a non-object
//! worker absent. It goes one step further on types: a field of the wrong type
//! takes its default instead of failing the whole snapshot, and numeric fields
//! accept numeric strings as Python's `float()` does. Only text that is not JSON
//! at all is an error, so an operator sees garbage reported, not an empty pool.

use std::fmt;
use std::rc::Rc;
use std::str::Chars;

use nanoserde::{DeJsonState, DeJsonTok};

use crate::id::SessionId;
use crate::json_guard;

/// One live session (a ROW of the protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub session_id: SessionId,
    /// Agents and tenants repeat across rows: shared, one allocation each.
    pub agent_name: Rc<str>,
    pub tenant: Option<Rc<str>>,
    pub duration_s: f64,
    pub mem_mb: f64,
    pub peak_mb: f64,
    pub cpu_pct: f64,
    pub status: Status,
    pub pinned: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            session_id: SessionId::default(),
            agent_name: "".into(),
            tenant: None,
            duration_s: 0.0,
            mem_mb: 0.0,
            peak_mb: 0.0,
            cpu_pct: 0.0,
            status: Status::Other("".into()),
            pinned: false,
        }
    }
}

/// A session status: the known ones as variants, anything else kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Active,
    Slow,
    Draining,
    Errored,
    Idle,
    Other(Box<str>),
}

impl Status {
    pub fn parse(s: &str) -> Status {
        match s {
            "active" => Status::Active,
            "slow" => Status::Slow,
            "draining" => Status::Draining,
            "errored" => Status::Errored,
            "idle" => Status::Idle,
            other => Status::Other(other.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Status::Active => "active",
            Status::Slow => "slow",
            Status::Draining => "draining",
            Status::Errored => "errored",
            Status::Idle => "idle",
            Status::Other(s) => s,
        }
    }
}

/// Host vitals (`worker.system`); every field may be null or missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct System {
    pub available: Option<bool>,
    pub cpu_pct: Option<f64>,
    pub vcpus: Option<f64>,
    pub mem_used_bytes: Option<f64>,
    pub mem_total_bytes: Option<f64>,
    pub swap_used_bytes: Option<f64>,
    pub swap_total_bytes: Option<f64>,
    pub load1: Option<f64>,
    pub load5: Option<f64>,
    pub load15: Option<f64>,
    pub net_rate_bps: Option<f64>,
}

/// The worker header block (openrtc 0.4+); every field may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Worker {
    pub name: Option<String>,
    pub uptime_s: Option<f64>,
    pub active_sessions: Option<f64>,
    pub max_sessions: Option<f64>,
    pub started: Option<f64>,
    pub failed: Option<f64>,
    pub draining: Option<bool>,
    pub saved_bytes: Option<f64>,
    pub system: Option<System>,
    pub cpu_history: Vec<f64>,
}

/// One decoded snapshot: the worker block (absent in legacy payloads) and rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub worker: Option<Worker>,
    pub sessions: Vec<Session>,
}

/// A payload that could not be read as JSON at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decode one payload line (without its newline).
pub fn decode(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
    decode_with(bytes, true)
}

/// `decode`, optionally without the lexer's fast paths: nanoserde alone, the
/// reference that tests hold the fast paths to.
fn decode_with(bytes: &[u8], fast: bool) -> Result<Snapshot, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DecodeError(format!("not UTF-8 text (invalid byte at {})", e.valid_up_to()))
    })?;
    let text = json_guard::check(text).map_err(|e| DecodeError(format!("not JSON: {e}")))?;
    let mut lx = Lexer::new(&text, fast)?;
    let snapshot = match lx.tok() {
        DeJsonTok::CurlyOpen => {
            let mut snap = Snapshot::default();
            lx.object(|lx, key| {
                match key {
                    Field::Worker => snap.worker = lx.maybe_object(worker)?,
                    Field::Sessions => snap.sessions = lx.rows()?,
                    _ => lx.skip()?,
                }
                Ok(())
            })?;
            snap
        }
        DeJsonTok::BlockOpen => Snapshot { worker: None, sessions: lx.rows()? },
        _ => Snapshot::default(),
    };
    Ok(snapshot)
}

fn worker(lx: &mut Lexer) -> Result<Worker, DecodeError> {
    let mut w = Worker::default();
    lx.object(|lx, key| {
        match key {
            Field::Name => w.name = lx.text(|t| t.to_string())?,
            Field::UptimeS => w.uptime_s = lx.number()?,
            Field::ActiveSessions => w.active_sessions = lx.number()?,
            Field::MaxSessions => w.max_sessions = lx.number()?,
            Field::Started => w.started = lx.number()?,
            Field::Failed => w.failed = lx.number()?,
            Field::Draining => w.draining = lx.truthy()?,
            Field::SavedBytes => w.saved_bytes = lx.number()?,
            Field::System => w.system = lx.maybe_object(system)?,
            Field::CpuHistory => w.cpu_history = lx.numbers()?,
            _ => lx.skip()?,
        }
        Ok(())
    })?;
    Ok(w)
}

fn system(lx: &mut Lexer) -> Result<System, DecodeError> {
    let mut s = System::default();
    lx.object(|lx, key| {
        let slot = match key {
            Field::Available => {
                s.available = lx.truthy()?;
                return Ok(());
            }
            Field::CpuPct => &mut s.cpu_pct,
            Field::Vcpus => &mut s.vcpus,
            Field::MemUsedBytes => &mut s.mem_used_bytes,
            Field::MemTotalBytes => &mut s.mem_total_bytes,
            Field::SwapUsedBytes => &mut s.swap_used_bytes,
            Field::SwapTotalBytes => &mut s.swap_total_bytes,
            Field::Load1 => &mut s.load1,
            Field::Load5 => &mut s.load5,
            Field::Load15 => &mut s.load15,
            Field::NetRateBps => &mut s.net_rate_bps,
            _ => return lx.skip(),
        };
        *slot = lx.number()?;
        Ok(())
    })?;
    Ok(s)
}

fn session(lx: &mut Lexer, r: &mut Session) -> Result<(), DecodeError> {
    lx.object(|lx, key| {
        match key {
            Field::SessionId => r.session_id = lx.text(SessionId::new)?.unwrap_or_default(),
            Field::AgentName => r.agent_name = lx.shared()?.unwrap_or_else(|| Rc::from("")),
            Field::Tenant => r.tenant = lx.shared()?,
            Field::DurationS => r.duration_s = lx.number()?.unwrap_or(0.0),
            Field::MemMb => r.mem_mb = lx.number()?.unwrap_or(0.0),
            Field::PeakMb => r.peak_mb = lx.number()?.unwrap_or(0.0),
            Field::CpuPct => r.cpu_pct = lx.number()?.unwrap_or(0.0),
            Field::Status => r.status = lx.text(Status::parse)?.unwrap_or_else(|| Status::Other("".into())),
            Field::Pinned => r.pinned = lx.truthy()?.unwrap_or(false),
            _ => lx.skip()?,
        }
        Ok(())
    })
}

/// Every key the decoder knows, matched once per key without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Worker,
    Sessions,
    Name,
    UptimeS,
    ActiveSessions,
    MaxSessions,
    Started,
    Failed,
    Draining,
    SavedBytes,
    System,
    CpuHistory,
    Available,
    CpuPct,
    Vcpus,
    MemUsedBytes,
    MemTotalBytes,
    SwapUsedBytes,
    SwapTotalBytes,
    Load1,
    Load5,
    Load15,
    NetRateBps,
    SessionId,
    AgentName,
    Tenant,
    DurationS,
    MemMb,
    PeakMb,
    Status,
    Pinned,
    Unknown,
}

impl Field {
    /// Length, first and last byte tell every known key apart, so one
    /// comparison confirms it (instead of trying each name in turn).
    fn of(key: &str) -> Field {
        let b = key.as_bytes();
        let (Some(&first), Some(&last)) = (b.first(), b.last()) else { return Field::Unknown };
        // Comparing with a literal inside each arm lets the compiler inline a
        // fixed-length comparison instead of calling memcmp.
        match (b.len(), first, last) {
            (6, b'w', b'r') if key == "worker" => Field::Worker,
            (8, b's', b's') if key == "sessions" => Field::Sessions,
            (4, b'n', b'e') if key == "name" => Field::Name,
            (8, b'u', b's') if key == "uptime_s" => Field::UptimeS,
            (15, b'a', b's') if key == "active_sessions" => Field::ActiveSessions,
            (12, b'm', b's') if key == "max_sessions" => Field::MaxSessions,
            (7, b's', b'd') if key == "started" => Field::Started,
            (6, b'f', b'd') if key == "failed" => Field::Failed,
            (8, b'd', b'g') if key == "draining" => Field::Draining,
            (11, b's', b's') if key == "saved_bytes" => Field::SavedBytes,
            (6, b's', b'm') if key == "system" => Field::System,
            (11, b'c', b'y') if key == "cpu_history" => Field::CpuHistory,
            (9, b'a', b'e') if key == "available" => Field::Available,
            (7, b'c', b't') if key == "cpu_pct" => Field::CpuPct,
            (5, b'v', b's') if key == "vcpus" => Field::Vcpus,
            (14, b'm', b's') if key == "mem_used_bytes" => Field::MemUsedBytes,
            (15, b'm', b's') if key == "mem_total_bytes" => Field::MemTotalBytes,
            (15, b's', b's') if key == "swap_used_bytes" => Field::SwapUsedBytes,
            (16, b's', b's') if key == "swap_total_bytes" => Field::SwapTotalBytes,
            (5, b'l', b'1') if key == "load1" => Field::Load1,
            (5, b'l', b'5') if key == "load5" => Field::Load5,
            (6, b'l', b'5') if key == "load15" => Field::Load15,
            (12, b'n', b's') if key == "net_rate_bps" => Field::NetRateBps,
            (10, b's', b'd') if key == "session_id" => Field::SessionId,
            (10, b'a', b'e') if key == "agent_name" => Field::AgentName,
            (6, b't', b't') if key == "tenant" => Field::Tenant,
            (10, b'd', b's') if key == "duration_s" => Field::DurationS,
            (6, b'm', b'b') if key == "mem_mb" => Field::MemMb,
            (7, b'p', b'b') if key == "peak_mb" => Field::PeakMb,
            (6, b's', b's') if key == "status" => Field::Status,
            (6, b'p', b'd') if key == "pinned" => Field::Pinned,
            _ => Field::Unknown,
        }
    }

    #[cfg(test)]
    fn by_name(key: &str) -> Field {
        match key {
            "worker" => Field::Worker,
            "sessions" => Field::Sessions,
            "name" => Field::Name,
            "uptime_s" => Field::UptimeS,
            "active_sessions" => Field::ActiveSessions,
            "max_sessions" => Field::MaxSessions,
            "started" => Field::Started,
            "failed" => Field::Failed,
            "draining" => Field::Draining,
            "saved_bytes" => Field::SavedBytes,
            "system" => Field::System,
            "cpu_history" => Field::CpuHistory,
            "available" => Field::Available,
            "cpu_pct" => Field::CpuPct,
            "vcpus" => Field::Vcpus,
            "mem_used_bytes" => Field::MemUsedBytes,
            "mem_total_bytes" => Field::MemTotalBytes,
            "swap_used_bytes" => Field::SwapUsedBytes,
            "swap_total_bytes" => Field::SwapTotalBytes,
            "load1" => Field::Load1,
            "load5" => Field::Load5,
            "load15" => Field::Load15,
            "net_rate_bps" => Field::NetRateBps,
            "session_id" => Field::SessionId,
            "agent_name" => Field::AgentName,
            "tenant" => Field::Tenant,
            "duration_s" => Field::DurationS,
            "mem_mb" => Field::MemMb,
            "peak_mb" => Field::PeakMb,
            "status" => Field::Status,
            "pinned" => Field::Pinned,
            _ => Field::Unknown,
        }
    }
}

/// nanoserde's tokenizer with a tolerant reader on top. The input has passed
/// `json_guard`, so every token sequence here is well-formed JSON.
///
/// Keys, strings without escapes and numbers are read in place (see `bump`
/// and `key`); nanoserde reads everything else. nanoserde keeps one
/// character of lookahead in `st.cur`, already taken from `it`.
struct Lexer<'a> {
    text: &'a str,
    /// Whether `bump` and `key` may read in place (always, outside tests).
    fast: bool,
    st: DeJsonState,
    it: Chars<'a>,
    /// Recently seen agents and tenants, to share rather than copy.
    recent: Recent,
}

/// The last few distinct agent and tenant strings, replaced round-robin.
#[derive(Default)]
struct Recent {
    items: Vec<Rc<str>>,
    next: usize,
}

impl Recent {
    fn share(&mut self, text: &str) -> Rc<str> {
        if let Some(r) = self.items.iter().find(|r| ***r == *text) {
            return Rc::clone(r);
        }
        let r: Rc<str> = Rc::from(text);
        if self.items.len() < RECENT {
            self.items.push(Rc::clone(&r));
        } else {
            self.items[self.next] = Rc::clone(&r);
            self.next = (self.next + 1) % RECENT;
        }
        r
    }
}

/// How many distinct agents and tenants `Lexer::shared` remembers.
const RECENT: usize = 16;

impl<'a> Lexer<'a> {
    fn new(text: &'a str, fast: bool) -> Result<Self, DecodeError> {
        let mut lx = Lexer { text, fast, st: DeJsonState::default(), it: text.chars(), recent: Recent::default() };
        lx.st.next(&mut lx.it);
        lx.bump()?;
        Ok(lx)
    }

    fn tok(&self) -> &DeJsonTok {
        &self.st.tok
    }

    /// nanoserde's `next` without its line and column bookkeeping (only its
    /// error messages use them, and the guard leaves it none to report).
    fn advance(&mut self) {
        self.st.cur = self.it.next().unwrap_or('\0');
    }

    fn skip_ws(&mut self) {
        while let ' ' | '\t' | '\n' | '\r' = self.st.cur {
            self.advance();
        }
    }

    /// The text from the lookahead character on; only called when that
    /// character is a real one (not nanoserde's end-of-input NUL).
    fn here(&self) -> &'a str {
        &self.text[self.text.len() - self.it.as_str().len() - self.st.cur.len_utf8()..]
    }

    /// Continue at `rest`, a suffix of the text.
    fn seek(&mut self, rest: &'a str) {
        self.it = rest.chars();
        self.advance();
    }

    /// Move to the next token.
    ///
    /// nanoserde decodes and appends strings and numbers to a buffer a
    /// character at a time (with line and column bookkeeping per
    /// character); at 100,000 sessions that was most of the decoding time.
    /// A string without escapes is therefore copied in one piece, and a
    /// number parsed straight from the text (every value is read as an f64
    /// anyway); escapes, literals and punctuation stay nanoserde's.
    fn bump(&mut self) -> Result<(), DecodeError> {
        self.skip_ws();
        match self.st.cur {
            _ if !self.fast => {}
            '"' => {
                let rest = self.it.as_str();
                if let Some(text) = json_guard::plain_string(rest) {
                    self.st.strbuf.clear();
                    self.st.strbuf.push_str(text);
                    self.st.tok = DeJsonTok::Str;
                    self.seek(&rest[text.len() + 1..]);
                    return Ok(());
                }
            }
            '-' | '0'..='9' => {
                let here = self.here();
                let (len, v) = number_at(here);
                if let Some(v) = v {
                    self.st.tok = DeJsonTok::F64(v);
                    self.seek(&here[len..]);
                    return Ok(());
                }
            }
            _ => {}
        }
        self.st
            .next_tok(&mut self.it)
            .map_err(|e| DecodeError(format!("not JSON: {e}")))
    }

    fn expect(&mut self, tok: DeJsonTok, what: &str) -> Result<(), DecodeError> {
        if self.st.tok != tok {
            return Err(DecodeError(format!("not JSON: expected {what}")));
        }
        self.bump()
    }

    /// Skip one value of any shape. Iterative, and an end of input inside a
    /// container is an error rather than the endless loop nanoserde's own
    /// `whole_field` falls into.
    fn skip(&mut self) -> Result<(), DecodeError> {
        let mut depth = 0usize;
        loop {
            match self.st.tok {
                DeJsonTok::CurlyOpen | DeJsonTok::BlockOpen => depth += 1,
                DeJsonTok::CurlyClose | DeJsonTok::BlockClose => {
                    depth = depth.checked_sub(1).ok_or_else(|| {
                        DecodeError("not JSON: unbalanced brackets".into())
                    })?
                }
                DeJsonTok::Eof => return Err(DecodeError("not JSON: unexpected end".into())),
                _ => {}
            }
            self.bump()?;
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// Walk an object, calling `field` with the lexer positioned on each value;
    /// `field` must consume exactly that value.
    fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, Field) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if self.st.tok != DeJsonTok::CurlyOpen {
            return Err(DecodeError("not JSON: expected '{'".into()));
        }
        // Positioned just after the `{` (and below, after each `,`).
        while let Some(key) = self.key()? {
            field(self, key)?;
            match self.st.tok {
                DeJsonTok::Comma => {}
                DeJsonTok::CurlyClose => break,
                _ => return Err(DecodeError("not JSON: expected ',' or '}'".into())),
            }
        }
        self.bump()
    }

    /// The next key of an object, read from just after its `{` or `,`, and
    /// the lexer moved onto the first token of the key's value; `None` at
    /// the closing `}` (left as the current token).
    ///
    /// A key is only ever compared with the names the decoder knows, so one
    /// without escapes (every key a worker writes) is matched in place:
    /// nanoserde would copy it into a buffer a character at a time, which
    /// was the largest single cost of decoding. Keys with escapes take
    /// nanoserde's path. The guard has checked the syntax either way.
    fn key(&mut self) -> Result<Option<Field>, DecodeError> {
        self.skip_ws();
        if self.fast && self.st.cur == '"' {
            let rest = self.it.as_str();
            if let Some(name) = json_guard::plain_string(rest) {
                // (ASCII whitespace includes form feed, which JSON does not,
                // but the guard has refused any that stood here.)
                if let Some(value) = rest[name.len() + 1..].trim_ascii_start().strip_prefix(':') {
                    let key = Field::of(name);
                    self.seek(value);
                    self.bump()?;
                    return Ok(Some(key));
                }
            }
        }
        self.bump()?;
        match self.st.tok {
            DeJsonTok::CurlyClose => Ok(None),
            DeJsonTok::Str => {
                let key = Field::of(&self.st.strbuf);
                self.bump()?;
                self.expect(DeJsonTok::Colon, "':'")?;
                Ok(Some(key))
            }
            _ => Err(DecodeError("not JSON: expected a key".into())),
        }
    }

    /// An object decoded by `f`, or `None` (value skipped) for any other type.
    fn maybe_object<T>(
        &mut self,
        f: fn(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.st.tok == DeJsonTok::CurlyOpen {
            f(self).map(Some)
        } else {
            self.skip().map(|()| None)
        }
    }

    /// Walk an array, calling `item` on each element; false when not an array.
    fn array(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), DecodeError>,
    ) -> Result<bool, DecodeError> {
        if self.st.tok != DeJsonTok::BlockOpen {
            self.skip()?;
            return Ok(false);
        }
        self.bump()?;
        while self.st.tok != DeJsonTok::BlockClose {
            item(self)?;
            if self.st.tok == DeJsonTok::Comma {
                self.bump()?;
            }
        }
        self.bump()?;
        Ok(true)
    }

    /// Session rows; non-object elements are dropped, a non-array is empty.
    fn rows(&mut self) -> Result<Vec<Session>, DecodeError> {
        // A row takes about 190 bytes of payload: reserve once, not by doubling.
        let mut rows = Vec::with_capacity((self.it.as_str().len() / 200).min(1 << 20));
        self.array(|lx| {
            if lx.st.tok == DeJsonTok::CurlyOpen {
                // Decoded in place: a row is 120 bytes, not worth moving twice.
                rows.push(Session::default());
                if let Some(row) = rows.last_mut() {
                    session(lx, row)?;
                }
                Ok(())
            } else {
                lx.skip()
            }
        })?;
        Ok(rows)
    }

    /// Numbers of an array; other elements are skipped.
    fn numbers(&mut self) -> Result<Vec<f64>, DecodeError> {
        let mut out = Vec::new();
        self.array(|lx| {
            if let Some(v) = lx.number()? {
                out.push(v);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// A string value, read by `read` while it is the current token; `None`
    /// (value skipped) for null or any other type.
    fn text<T>(&mut self, read: impl FnOnce(&str) -> T) -> Result<Option<T>, DecodeError> {
        if self.st.tok != DeJsonTok::Str {
            return self.skip().map(|()| None);
        }
        let v = read(&self.st.strbuf);
        self.bump()?;
        Ok(Some(v))
    }

    /// `text`, shared with earlier rows holding the same text. (Spelled out:
    /// `text`'s closure cannot borrow `recent` beside `&mut self`.)
    fn shared(&mut self) -> Result<Option<Rc<str>>, DecodeError> {
        if self.st.tok != DeJsonTok::Str {
            return self.skip().map(|()| None);
        }
        let r = self.recent.share(&self.st.strbuf);
        self.bump()?;
        Ok(Some(r))
    }

    /// A number, or a numeric string as Python's `float()` reads it (the guard
    /// turns `NaN`/`Infinity` tokens into such strings); `None` otherwise.
    fn number(&mut self) -> Result<Option<f64>, DecodeError> {
        let v = match self.st.tok {
            DeJsonTok::U64(v) => Some(v as f64),
            DeJsonTok::I64(v) => Some(v as f64),
            DeJsonTok::F64(v) => Some(v),
            DeJsonTok::Str => parse_float(&self.st.strbuf),
            _ => return self.skip().map(|()| None),
        };
        self.bump()?;
        Ok(v)
    }

    /// A flag by Python truthiness: bools, numbers (non-zero) and strings
    /// (non-empty); `None` for null and containers.
    fn truthy(&mut self) -> Result<Option<bool>, DecodeError> {
        let v = match self.st.tok {
            DeJsonTok::Bool(b) => Some(b),
            DeJsonTok::U64(v) => Some(v != 0),
            DeJsonTok::I64(v) => Some(v != 0),
            DeJsonTok::F64(v) => Some(v != 0.0),
            DeJsonTok::Str => Some(!self.st.strbuf.is_empty()),
            _ => return self.skip().map(|()| None),
        };
        self.bump()?;
        Ok(v)
    }
}

/// The number at the start of `s` (the guard has checked its syntax) and
/// its length in bytes. A plain decimal of at most 15 digits is computed
/// directly, as an exact integer divided by an exact power of ten (one
/// correctly rounded operation, so the same bits as `str::parse`, a third
/// of the cost); anything else goes to `str::parse`. An integer is an
/// integer to nanoserde and Python, so `-0` is 0.
fn number_at(s: &str) -> (usize, Option<f64>) {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let b = s.as_bytes();
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let (mut m, mut digits, mut frac) = (0u64, 0usize, 0usize);
    while let Some(&c @ b'0'..=b'9') = b.get(i) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        digits += 1;
        i += 1;
    }
    let dot = b.get(i) == Some(&b'.');
    if dot {
        i += 1;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            digits += 1;
            frac += 1;
            i += 1;
        }
    }
    let exponent = matches!(b.get(i), Some(b'e' | b'E'));
    if exponent {
        i += 1;
        while let Some(b'+' | b'-' | b'0'..=b'9') = b.get(i) {
            i += 1;
        }
    }
    let integral = !dot && !exponent;
    let v = if !exponent && digits <= 15 {
        // m < 10^15 < 2^53 and 10^frac are exact doubles.
        let v = m as f64 / POW10[frac];
        Some(if neg { -v } else { v })
    } else {
        s.get(..i).and_then(|t| t.parse::<f64>().ok())
    };
    (i, v.map(|v| if integral { v + 0.0 } else { v }))
}

/// Python's `float(str)` for the forms a worker could plausibly send.
fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ if t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) => t.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V020: &str = include_str!("../tests/fixtures/snapshot-v020.jsonl");
    const V020_EMPTY: &str = include_str!("../tests/fixtures/snapshot-v020-empty.jsonl");
    const V03: &str = include_str!("../tests/fixtures/snapshot-v03-list.jsonl");

    fn dec(s: &str) -> Snapshot {
        decode(s.trim_end().as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn fixture_v020() {
        let s = dec(V020);
        let w = s.worker.as_ref().unwrap();
        assert_eq!(w.name.as_deref(), Some("harness-worker"));
        assert_eq!(w.uptime_s, Some(4.027744909000035));
        assert_eq!((w.active_sessions, w.max_sessions), (Some(12.0), Some(24.0)));
        assert_eq!((w.started, w.failed, w.draining), (Some(12.0), Some(0.0), Some(false)));
        assert_eq!(w.saved_bytes, None);
        assert_eq!(w.cpu_history, vec![29.1]);
        let sys = w.system.as_ref().unwrap();
        assert_eq!(sys.available, Some(true));
        assert_eq!(sys.mem_total_bytes, Some(25276059648.0));
        assert_eq!(sys.load15, Some(0.09619140625));
        assert_eq!(sys.net_rate_bps, None);
        assert_eq!(s.sessions.len(), 12);
        let first = &s.sessions[0];
        assert_eq!(&*first.session_id, "AJ_0000_blocker");
        assert_eq!(&*first.agent_name, "booking");
        assert_eq!(first.tenant, None);
        assert_eq!(first.status, Status::Slow);
        assert_eq!((first.duration_s, first.mem_mb, first.peak_mb, first.cpu_pct), (4.0, 2.3, 2.3, 21.5));
        assert_eq!(s.sessions[1].tenant.as_deref(), Some("acme-1"));
        assert_eq!(s.sessions.iter().filter(|r| r.status == Status::Slow).count(), 4);
    }

    #[test]
    fn fixture_v020_empty() {
        let s = dec(V020_EMPTY);
        assert!(s.sessions.is_empty());
        assert_eq!(s.worker.unwrap().cpu_history, vec![10.2]);
    }

    #[test]
    fn fixture_v03_bare_array() {
        let s = dec(V03);
        assert!(s.worker.is_none());
        assert_eq!(s.sessions.len(), 3);
        assert_eq!(&*s.sessions[0].session_id, "job-c1d550");
        assert_eq!(s.sessions[0].peak_mb, 240.1);
        assert!(s.sessions[2].pinned);
        assert_eq!(s.sessions[2].tenant.as_deref(), Some("globex"));
    }

    #[test]
    fn tolerance_rules_of_the_reference() {
        // Neither object nor array: empty. Non-array sessions: empty.
        for s in ["42", "\"x\"", "null", "true", r#"{"sessions": 5}"#, r#"{"sessions": {"a": 1}}"#, "{}"] {
            assert_eq!(dec(s), Snapshot::default(), "{s}");
        }
        // Non-object rows dropped; non-object worker absent.
        let s = dec(r#"{"worker": [1], "sessions": [1, "x", null, [], {"session_id": "a"}]}"#);
        assert!(s.worker.is_none());
        assert_eq!(s.sessions.len(), 1);
        // Missing fields take defaults.
        let r = &s.sessions[0];
        assert_eq!((&*r.agent_name, r.tenant.as_deref(), r.mem_mb, r.pinned), ("", None, 0.0, false));
        assert_eq!(r.status.as_str(), "");
    }

    #[test]
    fn wrong_types_take_defaults_and_numeric_strings_count() {
        let s = dec(r#"[{"session_id": 7, "tenant": 3, "mem_mb": "12.5", "cpu_pct": "x", "duration_s": [1, {"a": 2}], "pinned": 1, "status": null}]"#);
        let r = &s.sessions[0];
        assert_eq!((&*r.session_id, r.tenant.as_deref(), r.mem_mb, r.cpu_pct, r.duration_s), ("", None, 12.5, 0.0, 0.0));
        assert!(r.pinned);
        let w = dec(r#"{"worker": {"system": 1, "cpu_history": [1, "2", null, "z", 3.5], "draining": "yes"}, "sessions": []}"#).worker.unwrap();
        assert_eq!((w.system, w.cpu_history, w.draining), (None, vec![1.0, 2.0, 3.5], Some(true)));
    }

    #[test]
    fn non_finite_tokens_and_ints_for_floats() {
        let s = dec(r#"[{"mem_mb": NaN, "peak_mb": Infinity, "cpu_pct": -Infinity, "duration_s": 40}]"#);
        let r = &s.sessions[0];
        assert!(r.mem_mb.is_nan());
        assert_eq!((r.peak_mb, r.cpu_pct, r.duration_s), (f64::INFINITY, f64::NEG_INFINITY, 40.0));
        let w = dec(r#"{"worker": {"uptime_s": 1e+16, "failed": 123456789012345678901234, "system": {"cpu_pct": -0.5e-1}}}"#).worker.unwrap();
        assert_eq!(w.uptime_s, Some(1e16));
        assert_eq!(w.failed, Some(1.2345678901234568e23));
        assert_eq!(w.system.unwrap().cpu_pct, Some(-0.05));
    }

    #[test]
    fn unicode_escapes_and_surrogates() {
        let s = dec(r#"[{"session_id": "caf\u00e9 \ud83d\ude00 \u001b[31m", "agent_name": "\u4e2d\u6587", "tenant": "lone \ud800 x"}]"#);
        let r = &s.sessions[0];
        assert_eq!(&*r.session_id, "café 😀 \u{1b}[31m");
        assert_eq!(&*r.agent_name, "中文");
        assert_eq!(&*r.agent_name, "中文");
        assert_eq!(r.tenant.as_deref(), Some("lone \u{fffd} x"));
    }

    #[test]
    fn unknown_fields_of_any_shape_are_ignored() {
        let s = dec(r#"{"future": {"a": [1, {"b": [[], {}]}]}, "sessions": [{"x": [1, [2, [3]]], "session_id": "a", "y": {"z": null}}], "more": "x"}"#);
        assert_eq!(&*s.sessions[0].session_id, "a");
    }

    #[test]
    fn key_dispatch_agrees_with_plain_matching() {
        let names = [
            "worker", "sessions", "name", "uptime_s", "active_sessions", "max_sessions", "started", "failed",
            "draining", "saved_bytes", "system", "cpu_history", "available", "cpu_pct", "vcpus", "mem_used_bytes",
            "mem_total_bytes", "swap_used_bytes", "swap_total_bytes", "load1", "load5", "load15", "net_rate_bps",
            "session_id", "agent_name", "tenant", "duration_s", "mem_mb", "peak_mb", "status", "pinned",
        ];
        for n in names {
            assert!(Field::of(n) == Field::by_name(n) && Field::of(n) != Field::Unknown, "{n}");
        }
        for other in ["", "x", "workes", "sessionz", "statis", "Status", "load9", "tenant "] {
            assert!(Field::of(other) == Field::Unknown, "{other}");
        }
    }

    #[test]
    fn repeated_agents_and_tenants_are_shared() {
        let mut rows = Vec::new();
        for i in 0..40 {
            rows.push(format!(r#"{{"session_id": "s{i}", "agent_name": "a{}", "tenant": "t{}"}}"#, i % 3, i % 10));
        }
        let s = dec(&format!("[{}]", rows.join(", ")));
        assert!(Rc::ptr_eq(&s.sessions[0].agent_name, &s.sessions[3].agent_name));
        // 14 rows and the decoder's own memory of it, dropped with the lexer.
        assert_eq!(Rc::strong_count(&s.sessions[0].agent_name), 14);
        // More distinct values than remembered: still right, just not shared.
        let mut rows = Vec::new();
        for i in 0..100 {
            rows.push(format!(r#"{{"agent_name": "a{}", "tenant": "t{}"}}"#, i % 3, i % 50));
        }
        let s = dec(&format!("[{}]", rows.join(", ")));
        for (i, r) in s.sessions.iter().enumerate() {
            assert_eq!(&*r.agent_name, format!("a{}", i % 3));
            assert_eq!(r.tenant.as_deref(), Some(format!("t{}", i % 50).as_str()));
        }
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let s = dec(r#"[{"session_id": "a", "session_id": "b"}]"#);
        assert_eq!(&*s.sessions[0].session_id, "b");
    }

    #[test]
    fn malformed_input_is_an_error_value() {
        for bad in [&b"{\"sessions\": ["[..], b"\xff\xfe", b"not json", b"", b"{\"zz\": , }", b"[1, 2"] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ten_thousand_sessions() {
        let mut s = String::from("{\"worker\": null, \"sessions\": [");
        for i in 0..10_000 {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!(
                "{{\"session_id\": \"AJ_{i:05}\", \"agent_name\": \"a{}\", \"tenant\": null, \"duration_s\": {i}.5, \"mem_mb\": 2.3, \"peak_mb\": 2.3, \"cpu_pct\": 0.1, \"status\": \"active\", \"pinned\": false}}",
                i % 4
            ));
        }
        s.push_str("]}");
        let snap = dec(&s);
        assert_eq!(snap.sessions.len(), 10_000);
        assert_eq!(&*snap.sessions[9_999].session_id, "AJ_09999");
        assert_eq!(snap.sessions[9_999].duration_s, 9_999.5);
    }

    /// The lexer's fast paths must read exactly what nanoserde alone reads.
    #[test]
    fn fast_paths_agree_with_nanoserde() {
        let same = |doc: &str| {
            let fast = decode_with(doc.as_bytes(), true);
            let slow = decode_with(doc.as_bytes(), false);
            // Debug, not ==, so that NaN compares equal to itself.
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{doc}");
        };
        for doc in [V020, V020_EMPTY, V03] {
            same(doc.trim_end());
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut pick = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const KEYS: [&str; 14] = [
            "session_id", "agent_name", "tenant", "duration_s", "mem_mb", "peak_mb", "cpu_pct",
            "status", "pinned", "zz", r"session\u005fid", r#"st\"atus"#, "", "caf\u{e9}",
        ];
        const VALUES: [&str; 28] = [
            "0", "-0", "7", "-12", "0.5", "-0.0", "1e5", "1E-3", "-2.5e+3", "12345678901234567890",
            "18446744073709551615", "3.14159265358979", "NaN", "-Infinity", "true", "false", "null",
            r#""""#, r#""active""#, r#""slow""#, r#""AJ_x\ny""#, r#""m\u00fcnchen""#, r#""\ud83d\ude00""#,
            r#""\ud800""#, "\"\u{4e2d}\u{6587}\"", r#""2.5""#, r#"[1, {"a": [null]}, "x"]"#, r#"{"k": {}}"#,
        ];
        const WS: [&str; 5] = ["", " ", "  ", "\n", "\t\r\n "];
        for _ in 0..5_000 {
            let mut doc = String::from("{\"sessions\":");
            doc.push_str(WS[pick(WS.len())]);
            doc.push('[');
            for r in 0..pick(4) {
                if r > 0 {
                    doc.push(',');
                    doc.push_str(WS[pick(WS.len())]);
                }
                doc.push('{');
                for f in 0..pick(8) {
                    if f > 0 {
                        doc.push(',');
                    }
                    doc.push_str(WS[pick(WS.len())]);
                    doc.push_str(&format!("\"{}\"", KEYS[pick(KEYS.len())]));
                    doc.push_str(WS[pick(WS.len())]);
                    doc.push(':');
                    doc.push_str(WS[pick(WS.len())]);
                    doc.push_str(VALUES[pick(VALUES.len())]);
                    doc.push_str(WS[pick(WS.len())]);
                }
                doc.push('}');
            }
            doc.push_str("], \"worker\": {\"name\": ");
            doc.push_str(VALUES[pick(VALUES.len())]);
            doc.push_str(", \"cpu_history\": [");
            doc.push_str(VALUES[pick(VALUES.len())]);
            doc.push_str("]}}");
            same(&doc);
        }
    }

    /// The direct path for plain decimals gives the same bits as `str::parse`.
    #[test]
    fn numbers_read_exactly() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases: Vec<String> = ["0", "-0", "0.0", "-0.0", "7", "-12", "0.1", "0.3", "2.675", "1e5", "1E-3", "-2.5e+3",
            "123456789012345", "1234567890123456", "99999999999999.9", "0.000000000000001", "0.1234567890123456789",
            "12345678901234567890", "18446744073709551616", "4.027744909000035", "1.7976931348623157e308", "5e-324"]
            .iter().map(|s| s.to_string()).collect();
        for _ in 0..200_000 {
            let r = next();
            let int = r % 10u64.pow((r >> 60) as u32 % 16);
            let frac_digits = (r >> 56) as usize % 8;
            let frac = format!("{:0w$}", (r >> 20) % 10u64.pow(frac_digits as u32), w = frac_digits);
            let sign = if r & 1 == 1 { "-" } else { "" };
            cases.push(if frac_digits == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") });
        }
        for c in &cases {
            let integral = !c.contains(['.', 'e', 'E']);
            let want = c.parse::<f64>().map(|v| if integral { v + 0.0 } else { v }).unwrap();
            let (len, got) = number_at(&format!("{c}, "));
            assert_eq!(len, c.len(), "{c}");
            assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{c}");
        }
    }
}
