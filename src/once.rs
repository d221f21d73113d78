//! `--once` and batch mode: fetch, decode, order, print; N times with `-n`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::cli::{ColorMode, Config, Format};
use crate::output::Plain;
use crate::tui::render::{self, Paint, TitleView};
use crate::source::{Failure, Source};
use crate::tui::term;
use crate::{clock, output, view};

/// Why a run ended early; main turns it into a message and an exit status.
#[derive(Debug)]
pub enum Error {
    /// A source gave no snapshot.
    Source(Failure),
    /// Writing the output failed (a closed pipe is not reported).
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// `--once` (or `-n N` snapshots); `screen` says stdout is a terminal that
/// can show the coloured frame (not a pipe, not a dumb terminal).
pub fn run(cfg: &Config, source: &mut Source, screen: bool) -> Result<(), Error> {
    let tty = screen;
    let color = cfg.colour(tty);
    // The readable frame is for eyes: a terminal, or colour asked for.
    let framed = cfg.format == Format::Table && (tty || cfg.color == ColorMode::Always);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let count = cfg.iterations.unwrap_or(1);
    let mut due = Instant::now();
    for n in 0..count {
        if n > 0 {
            out.flush()?;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        due += period;
        let Some(snap) = source.fetch(&|| false) else {
            return Err(Error::Source(source.last_error.take().expect("a failed fetch keeps its error")));
        };
        let order = view::order(&snap.sessions, &cfg.query, &[]);
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
                render::once_frame(&mut out, &snap, &order, &title, cfg.header, width, Paint::new(color, cfg.charset))?;
            }
            Format::Table => {
                if n > 0 {
                    writeln!(out)?;
                }
                output::table(&mut out, &snap, &order, Plain { header: cfg.header, ..plain })?;
            }
            // One header for the whole batch keeps the stream loadable as one table.
            Format::Tsv => output::tsv(&mut out, &snap, &order, Plain { header: cfg.header && n == 0, ..plain })?,
            Format::Json => output::json(&mut out, &snap, &order, plain)?,
        }
    }
    out.flush()?;
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
