//! The loops without a live view: `--once` and batch mode (fetch, decode,
//! order, print; N times with `-n`), the recorder (`--record` alone), and
//! a recording printed (`--replay` with `--once`, `--at`, `--from`/`--to`,
//! or a format other than the live table).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::cli::{ColorMode, Config, Format};
use crate::output::Plain;
use crate::record::Recorder;
use crate::model::Pool;
use crate::source::recording::Mark;
use crate::source::replay::{Move, Replay};
use crate::source::Sources;
use crate::present::line::Paint;
use crate::present::once::once_frame;
use crate::present::title::TitleView;
use crate::tui::term;
use crate::{clock, metrics, output, signal, view};

/// Why a run ended early; main turns it into a message and an exit status.
#[derive(Debug)]
pub enum Error {
    /// No source gave a snapshot: one line per failure, and what to do.
    NoPool { lines: Vec<String>, hint: Option<&'static str> },
    /// Writing the output (or the recording) failed (a closed pipe is not
    /// reported).
    Io(io::Error),
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
}

/// Prints pools to stdout in the configured format.
struct Printer<'a> {
    cfg: &'a Config,
    out: io::BufWriter<io::StdoutLock<'static>>,
    /// The readable frame is for eyes: a terminal, or colour asked for.
    framed: bool,
    color: bool,
    /// Samples printed so far.
    n: u64,
}

impl<'a> Printer<'a> {
    fn new(cfg: &'a Config, screen: bool) -> Printer<'a> {
        Printer {
            cfg,
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            framed: cfg.format == Format::Table && (screen || cfg.color == ColorMode::Always),
            color: cfg.colour(screen),
            n: 0,
        }
    }

    /// One sample of `pool`, stamped `stamp` in batch output.
    fn print(&mut self, pool: &Pool, stamp: Option<&str>) -> io::Result<()> {
        let (cfg, n) = (self.cfg, self.n);
        self.n += 1;
        let out = &mut self.out;
        let order = view::order(pool, &cfg.query, &[]);
        let plain = Plain { header: cfg.header, stamp, charset: cfg.charset };
        match cfg.format {
            Format::Table if self.framed => {
                if n > 0 {
                    writeln!(out)?;
                }
                if let Some(t) = stamp {
                    writeln!(out, "{t}")?;
                }
                let title = TitleView::of(&cfg.query);
                let width = term::size().map_or_else(|| columns_env(std::env::var("COLUMNS").ok()), |(w, _)| usize::from(w));
                once_frame(out, pool, &order, title, cfg.header, width, Paint::new(self.color, cfg.charset))
            }
            Format::Table => {
                if n > 0 {
                    writeln!(out)?;
                }
                output::table(out, pool, &order, plain)
            }
            // One header for the whole batch keeps the stream loadable as one table.
            Format::Tsv => output::tsv(out, pool, &order, Plain { header: cfg.header && n == 0, ..plain }),
            Format::Json => output::json(out, pool, &order, plain),
            Format::OpenMetrics | Format::Prometheus => {
                let how = metrics::Exposition { openmetrics: cfg.format == Format::OpenMetrics, per_session: cfg.per_session };
                metrics::write(out, pool, how)
            }
        }
    }
}

/// One round of fetches from every source, as a fresh pool (what did not
/// answer now has no rows); the failures, one line each, and a hint.
fn fetch(sources: &mut Sources) -> io::Result<(Pool, Vec<String>, Option<&'static str>)> {
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

/// `--once` (or `-n N` snapshots); `screen` says stdout is a terminal that
/// can show the coloured frame (not a pipe, not a dumb terminal).
pub fn run(cfg: &Config, sources: &mut Sources, screen: bool) -> Result<Outcome, Error> {
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

/// A recording printed: the sample at `--at` (the last one without it), or
/// every sample from `--from` to `--to` (batch output, a time column). The
/// bad lines met are counted on stderr.
pub fn replay(cfg: &Config, mut r: Replay, screen: bool) -> Result<(), Error> {
    let mut p = Printer::new(cfg, screen);
    let end = r.rec.last().time;
    let when = |t: &Option<String>| t.as_deref().and_then(|t| clock::parse_when(t, end));
    let range = cfg.from.is_some() || cfg.to.is_some();
    if range {
        let (from, to) = (when(&cfg.from).unwrap_or(i64::MIN), when(&cfg.to).unwrap_or(i64::MAX));
        r.go(Move::To(from))?;
        let mut at: Option<Mark> = Some(r.at);
        while let Some(m) = at.filter(|m| m.time <= to) {
            if m.time >= from {
                if let Some(s) = r.load()? {
                    let mut pool = Pool::default();
                    pool.advance(r.updates(s));
                    p.print(&pool, Some(&clock::stamp(r.at.time)))?;
                }
            }
            at = r.rec.next(r.at)?;
            if let Some(n) = at {
                r.at = n;
            }
        }
    } else {
        r.go(Move::To(when(&cfg.at).unwrap_or(end)))?;
        if let Some(s) = r.load()? {
            let mut pool = Pool::default();
            pool.advance(r.updates(s));
            p.print(&pool, None)?;
        }
    }
    p.out.flush()?;
    if r.rec.bad() > 0 {
        eprintln!(
            "openrtc-top: skipped {} bad lines in {} (cut off, not a sample, or out of time order)",
            r.rec.bad(),
            crate::text::in_message(&r.rec.path.to_string_lossy())
        );
    }
    Ok(())
}

/// Width for a frame that is not going to a terminal (`--color always`):
/// `COLUMNS` when it is a number, clamped to what a terminal could be
/// (a huge value must not become a huge allocation), else 80.
fn columns_env(columns: Option<String>) -> usize {
    columns.and_then(|c| c.trim().parse::<u64>().ok()).filter(|&c| c > 0).map_or(80, |c| c.min(term::MAX_SIDE as u64) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_from_the_environment_are_clamped() {
        assert_eq!(columns_env(None), 80);
        assert_eq!(columns_env(Some("100".into())), 100);
        assert_eq!(columns_env(Some("0".into())), 80);
        assert_eq!(columns_env(Some("x".into())), 80);
        assert_eq!(columns_env(Some("18446744073709551615".into())), term::MAX_SIDE as usize);
        assert_eq!(columns_env(Some("4294967296".into())), term::MAX_SIDE as usize);
    }
}
