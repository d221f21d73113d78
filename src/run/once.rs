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

/// One round of fetches from every source into `pool` (a source that did
/// not answer keeps the rows it had there); the problems, one line each
/// (the blocked workers' too), a hint, and how the round went.
pub(super) fn fetch(sources: &mut Sources, pool: &mut Pool) -> io::Result<(Vec<String>, Option<&'static str>, Outcome)> {
    sources.start_round(Instant::now());
    sources.finish_round(&|| signal::pending().is_some())?;
    let (mut lines, hint) = sources.failures();
    let blocked = sources.blocked();
    let outcome = match lines.len() > blocked {
        true => Outcome::Some,
        false if blocked > 0 => Outcome::Blocked,
        false => Outcome::All,
    };
    if sources.overflow > 0 {
        lines.push(format!("{} more sockets left out: at most {} are read at once", sources.overflow, crate::source::discover::MAX));
    }
    pool.advance(sources.updates());
    Ok((lines, hint, outcome))
}

/// `--once` (or `-n N` snapshots); `screen`: stdout is a terminal that
/// can show the coloured frame (not a pipe, not a dumb terminal), this
/// wide. Each round waits `--timeout` for the workers it connected to; a
/// worker blocked meanwhile is said so (status 4) and does not end a batch:
/// its last rows stay, and the next round asks it again.
pub fn run(cfg: &Config, sources: &mut Sources, screen: Screen) -> Result<Outcome, Error> {
    let mut p = Printer::new(cfg, screen);
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let count = cfg.iterations.unwrap_or(1);
    sources.set_wait(cfg.timeout);
    sources.set_stacks(cfg.py_spy.clone(), cfg.stacks);
    if count > 1 {
        sources.keep_buffers();
    }
    let mut due = Instant::now();
    let mut outcome = Outcome::All;
    let mut pool = Pool { several: !sources.single(), ..Pool::default() };
    for n in 0..count {
        if n > 0 {
            p.out.flush()?;
            crate::poll::sleep_until(due);
        }
        due += period;
        let (lines, hint, round) = fetch(sources, &mut pool)?;
        // A slow round is not made up for with a burst of snapshots.
        due = due.max(Instant::now());
        let nothing = sources.answered().0 == 0;
        if nothing && round != Outcome::Blocked {
            return Err(Error::NoPool { lines, hint });
        }
        outcome = outcome.and(round);
        if let Some(why) = cfg.query.worker.as_deref().filter(|_| n == 0).and_then(|w| pool.no_such_worker(w)) {
            return Err(Error::Usage(why));
        }
        if !lines.is_empty() {
            p.out.flush()?;
            for l in lines {
                eprintln!("openrtc-top: {l}");
            }
        }
        // Nothing to show but blocked workers, once: the lines said it all.
        if nothing && count == 1 {
            continue;
        }
        let stamp = cfg.iterations.map(|_| clock::now_iso8601());
        p.print(&pool, stamp.as_deref())?;
    }
    p.out.flush()?;
    Ok(outcome)
}
