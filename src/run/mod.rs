//! The loops without a live view, one file each: `--once` and batch mode
//! (`once`), the recorder alone (`record`), a recording printed
//! (`replay`) and the exporter (`serve`); `print` writes a pool to stdout
//! in the configured format for the first three. (The live view's loop is
//! `tui::live`.) Each loop returns to main what it made of the run.

mod http;
pub mod once;
mod print;
pub mod record;
pub mod replay;
pub mod serve;

use std::io;

/// Where stdout goes: whether it is a terminal that can show the coloured
/// frame (not a pipe, not a dumb terminal), and how wide it says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Screen {
    pub tty: bool,
    pub width: Option<usize>,
}

/// Why a run ended early; main turns it into a message and an exit status.
#[derive(Debug)]
pub enum Error {
    /// No source gave a snapshot: one line per failure, and what to do.
    NoPool { lines: Vec<String>, hint: Option<&'static str> },
    /// Writing the output failed (a closed pipe is not reported), or
    /// reading the recording replayed (its message names it).
    Io(io::Error),
    /// What the command line asked for cannot be, once the workers are
    /// known (`--worker` matching none): a usage error, status 2.
    Usage(String),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// How a run that printed rows went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every source answered every time.
    All,
    /// Some did not (each said so on stderr): exit status 3.
    Some,
    /// Some were blocked, and none failed otherwise: exit status 4.
    Blocked,
}

impl Outcome {
    /// The worse of two: a failure outweighs a block.
    fn and(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Some, _) | (_, Outcome::Some) => Outcome::Some,
            (Outcome::Blocked, _) | (_, Outcome::Blocked) => Outcome::Blocked,
            _ => Outcome::All,
        }
    }
}

