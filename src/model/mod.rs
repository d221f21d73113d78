//! The model everything downstream reads: what a worker serves (the
//! session rows and the worker block, as types), and the pool of workers
//! those snapshots are merged into (`pool`). `decode` builds these from
//! payload bytes; nothing here reads bytes or knows a view.

pub mod column;
pub mod fields;
mod id;
mod pool;
pub mod vecmap;

use std::rc::Rc;

use column::Column;

pub use id::SessionId;
pub use pool::{Blocked, Pool, SessionKey, Stack, Taken, Update, WorkerEntry, WorkerState};

/// One live session (a ROW of the protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub session_id: SessionId,
    /// Agents and tenants repeat across rows: shared, one allocation each.
    pub agent_name: Rc<str>,
    pub tenant: Option<Rc<str>>,
    /// The numeric fields (duration, memory, peak, CPU), in the column
    /// table's order: `Column::number` reads them.
    pub nums: [f64; column::NUMS],
    pub status: Status,
    pub pinned: bool,
    /// The fields the worker did not send, or sent with another type (see
    /// `decode`): one bit per field, `Session::ID` to `Session::PINNED`. A
    /// missing field holds its default (so it sorts and sums as the
    /// reference client's default would) but is shown as missing: `null`
    /// in JSON, `-` in the table and on screen, an empty TSV field. (The
    /// tenant has no bit: a missing tenant is an unset one, `None`.)
    pub missing: u16,
    /// Which worker of the pool served it (an index into `Pool::workers`).
    pub worker: u16,
}

impl Session {
    // One bit per field, from the column table (`Column::bit`).
    pub const ID: u16 = Column::Session.bit();
    pub const AGENT: u16 = Column::Agent.bit();
    pub const DURATION: u16 = Column::Duration.bit();
    pub const MEM: u16 = Column::Mem.bit();
    pub const PEAK: u16 = Column::Peak.bit();
    pub const CPU: u16 = Column::Cpu.bit();
    pub const STATUS: u16 = Column::Status.bit();
    pub const PINNED: u16 = Column::Pin.bit();
    /// Every field with a bit.
    pub const ALL: u16 = {
        let (mut all, mut i) = (0, 0);
        while i < column::N {
            all |= Column::ALL[i].bit();
            i += 1;
        }
        all
    };

    /// Whether the field of `bit` is missing.
    pub fn lacks(&self, bit: u16) -> bool {
        self.missing & bit != 0
    }
}

/// A row before decoding: every field missing, holding its default.
impl Default for Session {
    fn default() -> Self {
        Session {
            session_id: SessionId::default(),
            agent_name: "".into(),
            tenant: None,
            nums: [0.0; column::NUMS],
            status: Status::Other("".into()),
            pinned: false,
            missing: Session::ALL,
            worker: 0,
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

impl Default for Status {
    fn default() -> Self {
        Status::Other("".into())
    }
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

