//! What went wrong with a source, in words: the fetch's errors (the
//! reference's "no running openrtc pool" among them), a source's failure
//! (fetched, or fetched and not readable), their one-line messages, short
//! reasons for a line that already names the worker, hints, and the live
//! view's banner.

use std::io;
use std::path::PathBuf;

use super::target::{MAX_PAYLOAD, POOL_BUDGET, TIMEOUT, Target};
use crate::decode::DecodeError;
use crate::model::{Blocked, Taken};

/// Why no snapshot could be read. Each case has its own message.
#[derive(Debug)]
pub enum FetchError {
    NoSocket,
    Refused,
    ConnectTimeout,
    NotSocket(&'static str),
    PermissionDenied,
    PathTooLong(usize),
    /// Accepted, then sent nothing before the timeout.
    Silent,
    /// Sent part of a line, then nothing before the timeout.
    Stalled(usize),
    ClosedEmpty,
    /// Closed after this many bytes, inside a snapshot that does not parse
    /// (on Linux a peer that dies mid-write reads as end of input).
    CutOff(usize),
    TooLarge,
    /// Reading it would take the workers' snapshots past `POOL_BUDGET`.
    OverBudget,
    Reset(usize),
    UnsafeDir(PathBuf, String),
    UntrustedPeer(u32),
    /// Its process exited while its loop was blocked.
    ProcessGone(u32),
    /// Another socket took its path while its answer was waited for.
    Replaced,
    /// A signal arrived while waiting; the caller decides what it means.
    Interrupted,
    Io(io::Error),
}

impl FetchError {
    /// The reference reports these as "no running openrtc pool".
    pub fn no_pool(&self) -> bool {
        self.no_pool_reason().is_some()
    }

    /// Why there is no pool, for the cases the reference calls "no running
    /// openrtc pool".
    pub fn no_pool_reason(&self) -> Option<String> {
        let secs = TIMEOUT.as_secs();
        Some(match self {
            FetchError::NoSocket => "no socket there".into(),
            FetchError::Refused => "nothing is listening on the socket".into(),
            FetchError::ConnectTimeout => format!("connect timed out after {secs}s"),
            _ => return None,
        })
    }

    /// One line naming the path: "no running openrtc pool at P (why)" or the
    /// specific fault.
    pub fn message(&self, t: &Target) -> String {
        let p = t.shown();
        match self {
            FetchError::NoSocket | FetchError::Refused | FetchError::ConnectTimeout => {
                format!("no running openrtc pool at {p} ({})", self.no_pool_reason().unwrap_or_default())
            }
            FetchError::NotSocket(kind) => format!("{p} is not a socket (it is {kind})"),
            FetchError::PermissionDenied => format!("permission denied connecting to {p}"),
            FetchError::PathTooLong(n) => {
                format!("socket path {p} is too long ({n} bytes; a Unix socket path holds at most 107)")
            }
            // (A worker that was connected to and has not answered is
            // blocked: `blocked` says so; these are what is left.)
            FetchError::Silent => format!("the worker at {p} accepted but has not answered"),
            FetchError::Stalled(n) => format!("the worker at {p} sent {n} bytes and stalled before finishing its snapshot"),
            FetchError::ProcessGone(pid) => format!("the worker at {p} (pid {pid}) exited while its loop was blocked"),
            FetchError::Replaced => format!("the worker at {p} did not answer before a new socket took its path (it restarted?)"),
            FetchError::ClosedEmpty => format!("the worker at {p} closed the connection without sending a snapshot"),
            FetchError::CutOff(n) => {
                format!("the worker at {p} closed the connection after {n} bytes, in the middle of its snapshot")
            }
            FetchError::TooLarge => format!(
                "the worker at {p} sent more than {} MiB without ending its snapshot; stopped reading",
                MAX_PAYLOAD >> 20
            ),
            FetchError::OverBudget => format!(
                "the snapshot of the worker at {p} would take all workers' snapshots together past {} MiB; stopped reading",
                POOL_BUDGET >> 20
            ),
            FetchError::Reset(n) => format!("the worker at {p} reset the connection after {n} bytes"),
            FetchError::UnsafeDir(dir, why) => format!(
                "refusing the socket directory {}: {why}",
                crate::text::in_message(&dir.to_string_lossy())
            ),
            FetchError::UntrustedPeer(uid) => format!(
                "refusing the worker at {p}: it runs as uid {uid}, neither you (uid {}) nor root; '--user {}' reads that user's workers (as root, or as them)",
                // SAFETY: getuid cannot fail.
                unsafe { libc::getuid() },
                crate::text::in_message(&super::path::user_name(*uid).unwrap_or_else(|| uid.to_string())),
            ),
            FetchError::Interrupted => format!("interrupted while reading from {p}"),
            FetchError::Io(e) => format!("cannot read from {p}: {e}"),
        }
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<&'static str> {
        self.no_pool().then_some(NO_POOL_HINT)
    }

    /// The trust checks refused the socket or its directory: it is never read.
    pub fn refusal(&self) -> bool {
        matches!(self, FetchError::UnsafeDir(..) | FetchError::UntrustedPeer(_))
    }

    /// Why, in a few words and without the path: for a line that already
    /// names the worker.
    pub fn reason(&self) -> String {
        match self {
            FetchError::NotSocket(kind) => format!("not a socket (it is {kind})"),
            FetchError::PermissionDenied => "permission denied".into(),
            FetchError::PathTooLong(n) => format!("socket path too long ({n} bytes)"),
            FetchError::Silent => "accepted but has not answered".into(),
            FetchError::Stalled(n) => format!("sent {n} bytes, then nothing"),
            FetchError::ProcessGone(pid) => format!("its process {pid} exited while its loop was blocked"),
            FetchError::Replaced => "a new socket took its path before it answered".into(),
            FetchError::ClosedEmpty => "closed without sending a snapshot".into(),
            FetchError::CutOff(n) => format!("closed after {n} bytes, inside its snapshot"),
            FetchError::TooLarge => format!("sent more than {} MiB", MAX_PAYLOAD >> 20),
            FetchError::OverBudget => format!("over the {} MiB all snapshots may hold", POOL_BUDGET >> 20),
            FetchError::Reset(n) => format!("reset the connection after {n} bytes"),
            FetchError::UnsafeDir(_, why) => format!("refused: {why}"),
            FetchError::UntrustedPeer(uid) => format!("refused: it runs as uid {uid}, neither you nor root"),
            FetchError::Interrupted => "interrupted".into(),
            FetchError::Io(e) => e.to_string(),
            e => e.no_pool_reason().unwrap_or_default(),
        }
    }
}

/// A worker whose loop is blocked, in one line: where, its pid, how long,
/// and why as far as /proc says.
pub fn blocked(t: &Target, pid: Option<u32>, b: &Blocked, stack: Option<&Taken>) -> String {
    let pid = pid.filter(|&p| p > 0).map_or(String::new(), |p| format!(" (pid {p})"));
    let how = if b.given_up { "not answering" } else { "blocked" };
    let why = if b.why.is_empty() { String::new() } else { format!("; {}", b.why) };
    let stack = stack.map_or(String::new(), |t| format!("; {}", crate::text::in_message(&t.words())));
    format!("the worker at {}{pid} is {how}: its loop has not answered for {:.1}s{why}{stack}", t.shown(), b.waited.as_secs_f64())
}

/// The hint after "no running openrtc pool".
pub const NO_POOL_HINT: &str = "start a coroutine-mode worker ('openrtc dev ./agents' or 'openrtc start ./agents'), \
     or pass --socket PATH if it serves elsewhere";

/// Why a source gave no snapshot this time.
#[derive(Debug)]
pub enum Failure {
    Fetch(FetchError),
    Decode(DecodeError),
}

impl Failure {
    /// One line saying why, naming the path (no hint).
    pub fn message(&self, t: &Target) -> String {
        match self {
            Failure::Fetch(e) => e.message(t),
            Failure::Decode(e) => format!("the worker at {} sent a snapshot that cannot be read: {e}", t.shown()),
        }
    }

    /// Why, in a few words, for a line that already names the worker.
    pub fn reason(&self) -> String {
        match self {
            Failure::Fetch(e) => e.reason(),
            Failure::Decode(e) => format!("its snapshot cannot be read: {e}"),
        }
    }

    /// One line about a directory that could not be listed.
    pub fn message_for(&self, dir: &std::path::Path) -> String {
        let d = crate::text::in_message(&dir.to_string_lossy()).into_owned();
        match self {
            Failure::Fetch(FetchError::NoSocket) => format!("no running openrtc pool in {d} (no such directory)"),
            Failure::Fetch(FetchError::PermissionDenied) => format!("permission denied listing {d}"),
            Failure::Fetch(e @ FetchError::UnsafeDir(..)) => e.message(&Target { path: dir.to_path_buf(), checked: false }),
            f => format!("cannot list {d}: {}", f.reason()),
        }
    }

    /// The live view's banner: the reference's words first, then the
    /// specific reason, and that it keeps trying.
    pub fn banner(&self, t: &Target) -> Banner {
        let text = match self {
            Failure::Fetch(e) => match e.no_pool_reason() {
                Some(why) => format!("no running openrtc pool at {}: retrying ({why})", t.shown()),
                None => format!("{}: retrying", e.message(t)),
            },
            f => format!("{}: retrying", f.message(t)),
        };
        Banner::around(text, &t.shown())
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Failure::Fetch(e) => e.hint(),
            Failure::Decode(_) => None,
        }
    }
}

/// A message that names a path, split around the path so that a narrow
/// screen can shorten the path and keep the reason after it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Banner {
    pub before: String,
    pub path: String,
    pub after: String,
}

impl Banner {
    /// Split `text` around the first place it names `path` (all of it in
    /// `before` if it does not).
    pub fn around(text: String, path: &str) -> Banner {
        match text.find(path).filter(|_| !path.is_empty()) {
            Some(at) => Banner {
                before: text[..at].to_string(),
                path: path.to_string(),
                after: text[at + path.len()..].to_string(),
            },
            None => Banner { before: text, ..Banner::default() },
        }
    }

    pub fn text(&self) -> String {
        format!("{}{}{}", self.before, self.path, self.after)
    }
}

