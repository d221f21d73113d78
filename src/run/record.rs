//! The recorder alone (`--record FILE` without a live view).

use std::time::{Duration, Instant};

use super::Error;
use super::once::fetch;
use crate::cli::Config;
use crate::record::Recorder;
use crate::source::Sources;
use crate::{clock, signal};

/// The recorder alone (`--record FILE` without a live view): a line per
/// refresh until `-n` lines or a stop signal (SIGTERM, SIGINT, SIGHUP end
/// it with status 0, the last line whole). A worker that does not answer
/// is reported on stderr when that changes, and recording goes on.
pub fn record(cfg: &Config, sources: &mut Sources, mut rec: Recorder) -> Result<(), Error> {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        signal::handle(sig, signal::on_signal);
    }
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let count = cfg.iterations.unwrap_or(if cfg.once { 1 } else { u64::MAX });
    if count > 1 {
        sources.keep_buffers();
    }
    let mut due = Instant::now();
    let mut said: Vec<String> = Vec::new();
    for _ in 0..count {
        // The wait between refreshes ends early on a signal.
        while signal::pending().is_none() && Instant::now() < due {
            crate::poll::sleep_until(due);
        }
        if signal::pending().is_some() {
            break;
        }
        due += period;
        let (pool, lines, _) = fetch(sources)?;
        // A slow round is not made up for with a burst of samples.
        due = due.max(Instant::now());
        if lines != said {
            for l in lines.iter().filter(|l| !said.contains(l)) {
                eprintln!("openrtc-top: {l}");
            }
            said = lines;
        }
        if sources.answered().0 > 0 {
            rec.write(&pool, &clock::now_iso8601())?;
        }
    }
    Ok(())
}

