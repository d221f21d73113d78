//! `--once` and batch mode: fetch, decode, order, print; N times with `-n`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::cli::{ColorMode, Config, Format};
use crate::tui::render::{self, TitleView};
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

pub fn run(cfg: &Config, source: &mut Source) -> Result<(), Error> {
    let tty = term::stdout_is_tty();
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
        match cfg.format {
            Format::Table if framed => {
                if n > 0 {
                    writeln!(out)?;
                }
                if let Some(t) = &stamp {
                    writeln!(out, "{t}")?;
                }
                let title = TitleView::of(&cfg.query);
                let width = term::size().map_or_else(columns_env, |(w, _)| usize::from(w));
                out.write_all(render::once_frame(&snap, &order, &title, cfg.header, width, color).as_bytes())?;
            }
            Format::Table => {
                if n > 0 {
                    writeln!(out)?;
                }
                output::table(&mut out, &snap, &order, cfg.header, stamp.as_deref())?;
            }
            // One header for the whole batch keeps the stream loadable as one table.
            Format::Tsv => output::tsv(&mut out, &snap, &order, cfg.header && n == 0, stamp.as_deref())?,
            Format::Json => output::json(&mut out, &snap, &order, stamp.as_deref())?,
        }
    }
    out.flush()?;
    Ok(())
}

/// Width for a frame that is not going to a terminal (`--color always`).
fn columns_env() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&c| c > 0).unwrap_or(80)
}
