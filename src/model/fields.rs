//! The payload's vocabulary: every field a worker (or a recording) writes
//! that openrtc-top knows, with its name on the wire. The only list of
//! them: the decoder looks keys up in it (`Field::of`), and the column
//! table (`column`) names its columns' fields from it.

macro_rules! fields {
    ($($variant:ident = $name:literal,)*) => {
        /// Every key the decoder knows, and `Unknown` for the rest.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Field {
            $($variant,)*
            Unknown,
        }

        /// The known payload fields (PROTOCOL.md), each with its name as the
        /// worker writes it. The only list of them.
        pub const FIELDS: &[(&str, Field)] = &[$(($name, Field::$variant),)*];

        impl Field {
            /// The field a key names (`Unknown` for any other key).
            #[inline]
            pub fn of(key: &str) -> Field {
                match key {
                    $($name => Field::$variant,)*
                    _ => Field::Unknown,
                }
            }
        }
    };
}

fields! {
    // The document.
    Worker = "worker",
    Sessions = "sessions",
    // A recorded sample of several workers (`--record`): their list, and
    // each one's label, socket and error.
    Workers = "workers",
    Label = "label",
    Socket = "socket",
    Error = "error",
    // ... and (format 2, `v`) each one's state, pid, block and stack.
    V = "v",
    State = "state",
    Pid = "pid",
    BlockedS = "blocked_s",
    Why = "why",
    Stack = "stack",
    At = "at",
    Summary = "summary",
    Text = "text",
    // The worker block.
    Name = "name",
    UptimeS = "uptime_s",
    ActiveSessions = "active_sessions",
    MaxSessions = "max_sessions",
    Started = "started",
    Failed = "failed",
    Draining = "draining",
    SavedBytes = "saved_bytes",
    System = "system",
    CpuHistory = "cpu_history",
    // worker.system (`cpu_pct` is shared with the row).
    Available = "available",
    CpuPct = "cpu_pct",
    Vcpus = "vcpus",
    MemUsedBytes = "mem_used_bytes",
    MemTotalBytes = "mem_total_bytes",
    SwapUsedBytes = "swap_used_bytes",
    SwapTotalBytes = "swap_total_bytes",
    Load1 = "load1",
    Load5 = "load5",
    Load15 = "load15",
    NetRateBps = "net_rate_bps",
    // A session row.
    SessionId = "session_id",
    AgentName = "agent_name",
    Tenant = "tenant",
    DurationS = "duration_s",
    MemMb = "mem_mb",
    PeakMb = "peak_mb",
    Status = "status",
    Pinned = "pinned",
}

impl Field {
    /// The field's name on the wire (`""` for `Unknown`).
    pub const fn name(self) -> &'static str {
        let mut i = 0;
        while i < FIELDS.len() {
            if FIELDS[i].1 as u8 == self as u8 {
                return FIELDS[i].0;
            }
            i += 1;
        }
        ""
    }
}
