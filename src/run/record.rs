//! The recorder alone (`--record FILE` without a live view).

use std::time::{Duration, Instant};

use super::Error;
use crate::model::Pool;
use crate::cli::Config;
use crate::record::Recorder;
use crate::source::Sources;
use crate::{clock, signal};

/// The recorder alone (`--record FILE` without a live view): a line per
/// refresh until `-n` lines or a stop signal (SIGTERM, SIGINT end it with
/// status 0, the last line whole; SIGHUP reopens the file by its path, as
/// logrotate expects). A line that cannot be written is said once, tried
/// again with the next, and its coming back said: the recorder goes on. Each line records every worker
/// as it is then (answered, blocked, failed), also when none answered; a
/// worker whose loop is blocked is waited for as the live view waits (up
/// to `source::BOUND`) while the other workers are recorded on time. A
/// worker that does not answer is reported on stderr when that changes.
pub fn record(cfg: &Config, sources: &mut Sources, mut rec: Recorder) -> Result<(), Error> {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        signal::handle(sig, signal::on_signal);
    }
    signal::handle(libc::SIGHUP, signal::on_hup);
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let count = cfg.iterations.unwrap_or(if cfg.once { 1 } else { u64::MAX });
    sources.set_wait(if count == 1 { cfg.timeout } else { crate::source::BOUND });
    sources.set_stacks(cfg.py_spy.clone(), cfg.stacks);
    if count > 1 {
        sources.keep_buffers();
    }
    let mut due = Instant::now();
    let mut said: Vec<String> = Vec::new();
    let mut pool = Pool { several: !sources.single(), ..Pool::default() };
    let abort = || signal::pending().is_some();
    for _ in 0..count {
        // The wait between refreshes ends early on a signal.
        while !abort() && Instant::now() < due {
            crate::poll::sleep_until(due);
        }
        if abort() {
            break;
        }
        due += period;
        let done = if count == 1 {
            sources.start_round(Instant::now());
            sources.finish_round(&abort)?
        } else {
            sources.round(period.mul_f64(0.9), &abort)?
        };
        if !done {
            break;
        }
        // A slow round is not made up for with a burst of samples.
        due = due.max(Instant::now());
        let (lines, _) = sources.failures();
        if lines != said {
            for l in lines.iter().filter(|l| !said.contains(l)) {
                eprintln!("openrtc-top: {l}");
            }
            said = lines;
        }
        pool.advance(sources.updates());
        if signal::take_hup() {
            rec.reopen();
        }
        rec.write(&pool, &clock::now_iso8601());
        for note in rec.take_notes() {
            eprintln!("openrtc-top: {note}");
        }
    }
    Ok(())
}
