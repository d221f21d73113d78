//! Where snapshots come from, for both loops (`--once` and the live view):
//! a list of sources, each with its own state and last error. Today a
//! source is one worker socket; fetching one means connecting, reading one
//! bounded line (`socket`) and decoding it (`decode`).

use crate::decode::{self, DecodeError};
use crate::snapshot::Snapshot;
use crate::socket::{self, FetchError, Target};

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

    /// A signal arrived while waiting: the caller decides what it means.
    pub fn interrupted(&self) -> bool {
        matches!(self, Failure::Fetch(FetchError::Interrupted))
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

/// Fetch and decode one snapshot from `target`.
pub fn fetch(target: &Target, abort: &dyn Fn() -> bool) -> Result<Snapshot, Failure> {
    let p = socket::fetch(target, abort).map_err(Failure::Fetch)?;
    let (len, newline) = (p.bytes.len(), p.newline);
    decode::decode_owned(p.bytes).map_err(|e| {
        // No newline and no valid document: the worker went away mid-write.
        if newline { Failure::Decode(e) } else { Failure::Fetch(FetchError::CutOff(len)) }
    })
}

/// One configured source and what became of its last fetch.
#[derive(Debug)]
pub struct Source {
    pub target: Target,
    pub last_error: Option<Failure>,
}

impl Source {
    pub fn new(target: Target) -> Source {
        Source { target, last_error: None }
    }

    /// Fetch now; `None` when it failed, with the reason in `last_error`.
    pub fn fetch(&mut self, abort: &dyn Fn() -> bool) -> Option<Snapshot> {
        let got = fetch(&self.target, abort);
        match got {
            Ok(snap) => {
                self.last_error = None;
                Some(snap)
            }
            Err(f) => {
                self.last_error = Some(f);
                None
            }
        }
    }

    /// Whether the last fetch was cut short by a signal.
    pub fn interrupted(&self) -> bool {
        self.last_error.as_ref().is_some_and(Failure::interrupted)
    }
}

/// Every configured source, in the order given.
#[derive(Debug)]
pub struct Sources {
    pub list: Vec<Source>,
}

impl Sources {
    pub fn new(targets: impl IntoIterator<Item = Target>) -> Sources {
        Sources { list: targets.into_iter().map(Source::new).collect() }
    }
}
