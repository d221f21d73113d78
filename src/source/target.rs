//! Where to connect, and the limits every fetch keeps.

use std::path::PathBuf;
use std::time::Duration;

use super::path::default_path;

/// The reference client's connect and read limits.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Admits 100,000 sessions (about 20 MB) with room for long strings, and stops
/// a peer that never sends its newline before it costs real memory.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// What all workers' snapshots may hold at once: each worker's last one and
/// the one being read, in bytes of payload. With up to `discover::MAX`
/// workers at `MAX_PAYLOAD` each the total would be 16 GiB; this keeps it
/// bounded (a fetch that would pass it fails, and its worker shows why).
pub const POOL_BUDGET: usize = 256 << 20;

/// Where to connect, and whether its directory is checked as the worker
/// makes it, at every connect (the default path, and the sockets `--all`
/// finds in the per-user directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    pub checked: bool,
}

impl Target {
    pub fn new(explicit: Option<PathBuf>) -> Target {
        match explicit {
            Some(path) => Target { path, checked: false },
            None => Target { path: default_path(), checked: true },
        }
    }

    /// The path as shown in messages (never with raw control bytes).
    pub fn shown(&self) -> String {
        crate::text::in_message(&self.path.to_string_lossy()).into_owned()
    }
}

