//! `--once` and batch mode: fetch from every source, decode, order, print;
//! N times with `-n`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::cli::{ColorMode, Config, Format};
use crate::output::Plain;
use crate::snapshot::Pool;
use crate::source::Sources;
use crate::tui::render::{self, Paint, TitleView};
use crate::tui::term;
use crate::{clock, metrics, output, view};

/// Why a run ended early; main turns it into a message and an exit status.
#[derive(Debug)]
pub enum Error {
    /// No source gave a snapshot: one line per failure, and what to do.
    NoPool { lines: Vec<String>, hint: Option<&'static str> },
    /// Writing the output failed (a closed pipe is not reported).
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

/// `--once` (or `-n N` snapshots); `screen` says stdout is a terminal that
/// can show the coloured frame (not a pipe, not a dumb terminal).
pub fn run(cfg: &Config, sources: &mut Sources, screen: bool) -> Result<Outcome, Error> {
    let tty = screen;
    let color = cfg.colour(tty);
    // The readable frame is for eyes: a terminal, or colour asked for.
    let framed = cfg.format == Format::Table && (tty || cfg.color == ColorMode::Always);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let count = cfg.iterations.unwrap_or(1);
    let mut due = Instant::now();
    let mut outcome = Outcome::All;
    for n in 0..count {
        if n > 0 {
            out.flush()?;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        due += period;
        sources.start_round(Instant::now());
        sources.finish_round(&|| false)?;
        let (answered, _) = sources.answered();
        let (mut lines, hint) = sources.failures();
        if sources.overflow > 0 {
            lines.push(format!(
                "{} more sockets left out: at most {} are read",
                sources.overflow,
                crate::source::discover::MAX
            ));
        }
        // A fresh pool each time: what did not answer now has no rows.
        let mut pool = Pool::default();
        pool.advance(sources.updates());
        if answered == 0 {
            return Err(Error::NoPool { lines, hint });
        }
        if !lines.is_empty() {
            outcome = Outcome::Some;
            out.flush()?;
            for l in lines {
                eprintln!("openrtc-top: {l}");
            }
        }
        let order = view::order(&pool, &cfg.query, &[]);
        let stamp = cfg.iterations.map(|_| clock::now_iso8601());
        let plain = Plain { header: cfg.header, stamp: stamp.as_deref(), charset: cfg.charset };
        match cfg.format {
            Format::Table if framed => {
                if n > 0 {
                    writeln!(out)?;
                }
                if let Some(t) = &stamp {
                    writeln!(out, "{t}")?;
                }
                let title = TitleView::of(&cfg.query);
                let width = term::size().map_or_else(|| columns_env(std::env::var("COLUMNS").ok()), |(w, _)| usize::from(w));
                render::once_frame(&mut out, &pool, &order, &title, cfg.header, width, Paint::new(color, cfg.charset))?;
            }
            Format::Table => {
                if n > 0 {
                    writeln!(out)?;
                }
                output::table(&mut out, &pool, &order, Plain { header: cfg.header, ..plain })?;
            }
            // One header for the whole batch keeps the stream loadable as one table.
            Format::Tsv => output::tsv(&mut out, &pool, &order, Plain { header: cfg.header && n == 0, ..plain })?,
            Format::Json => output::json(&mut out, &pool, &order, plain)?,
            Format::OpenMetrics | Format::Prometheus => {
                let how = metrics::Exposition { openmetrics: cfg.format == Format::OpenMetrics, per_session: cfg.per_session };
                metrics::write(&mut out, &pool, how)?;
            }
        }
    }
    out.flush()?;
    Ok(outcome)
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
