//! `--once` and batch mode: fetch every source, print, and with `-n`
//! again one refresh later, N times.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::print::Printer;
use super::Screen;
use super::{Error, Outcome};
use crate::cli::Config;
use crate::model::Pool;
use crate::source::Sources;
use crate::{clock, signal};

/// One round of fetches from every source, as a fresh pool (what did not
/// answer now has no rows); the failures, one line each, and a hint.
pub(super) fn fetch(sources: &mut Sources) -> io::Result<(Pool, Vec<String>, Option<&'static str>)> {
    sources.start_round(Instant::now());
    sources.finish_round(&|| signal::pending().is_some())?;
    let (mut lines, hint) = sources.failures();
    if sources.overflow > 0 {
        lines.push(format!("{} more sockets left out: at most {} are read", sources.overflow, crate::source::discover::MAX));
    }
    let mut pool = Pool::default();
    pool.advance(sources.updates());
    Ok((pool, lines, hint))
}

/// `--once` (or `-n N` snapshots); `screen`: stdout is a terminal that
/// can show the coloured frame (not a pipe, not a dumb terminal), this wide.
pub fn run(cfg: &Config, sources: &mut Sources, screen: Screen) -> Result<Outcome, Error> {
    let mut p = Printer::new(cfg, screen);
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let count = cfg.iterations.unwrap_or(1);
    if count > 1 {
        sources.keep_buffers();
    }
    let mut due = Instant::now();
    let mut outcome = Outcome::All;
    for n in 0..count {
        if n > 0 {
            p.out.flush()?;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        due += period;
        let (pool, lines, hint) = fetch(sources)?;
        // A slow round is not made up for with a burst of snapshots.
        due = due.max(Instant::now());
        if sources.answered().0 == 0 {
            return Err(Error::NoPool { lines, hint });
        }
        if !lines.is_empty() {
            outcome = Outcome::Some;
            p.out.flush()?;
            for l in lines {
                eprintln!("openrtc-top: {l}");
            }
        }
        let stamp = cfg.iterations.map(|_| clock::now_iso8601());
        p.print(&pool, stamp.as_deref())?;
    }
    p.out.flush()?;
    Ok(outcome)
}

