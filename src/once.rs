//! `--once` and batch mode: fetch, decode, order, print; N times with `-n`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::cli::{ColorMode, Config, Format};
use crate::render::{self, TitleView};
use crate::decode::{self, DecodeError};
use crate::snapshot::Snapshot;
use crate::socket::{self, FetchError, Target};
use crate::{clock, output, term, view};

/// Why a run ended early; main turns it into a message and an exit status.
#[derive(Debug)]
pub enum Failure {
    Fetch(FetchError),
    Decode(DecodeError),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

/// Colour only where it can be seen and is wanted (NO_COLOR, non-empty, wins
/// over auto; `always` wins over NO_COLOR).
pub fn color_on(mode: ColorMode, tty: bool, no_color: bool) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => tty && !no_color,
    }
}

pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// One line saying why there is no snapshot (no hint).
pub fn describe(f: &Failure, t: &Target) -> String {
    match f {
        Failure::Fetch(e) => e.message(t),
        Failure::Decode(e) => format!("the worker at {} sent a snapshot that cannot be read: {e}", t.shown()),
        Failure::Io(e) => format!("cannot write to stdout: {e}"),
    }
}

/// Fetch and decode one snapshot.
pub fn snapshot(target: &Target, abort: &dyn Fn() -> bool) -> Result<Snapshot, Failure> {
    let p = socket::fetch(target, abort).map_err(Failure::Fetch)?;
    decode::decode(&p.bytes).map_err(|e| {
        // No newline and no valid document: the worker went away mid-write.
        if p.newline { Failure::Decode(e) } else { Failure::Fetch(FetchError::CutOff(p.bytes.len())) }
    })
}

pub fn run(cfg: &Config, target: &Target) -> Result<(), Failure> {
    let tty = term::stdout_is_tty();
    let color = color_on(cfg.color, tty, no_color_env());
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
        let snap = snapshot(target, &|| false)?;
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
        if n + 1 == count {
            std::mem::forget(snap); // the exit frees it at once, not row by row
        }
    }
    out.flush()?;
    Ok(())
}

/// Width for a frame that is not going to a terminal (`--color always`).
fn columns_env() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&c| c > 0).unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_decision() {
        assert!(color_on(ColorMode::Auto, true, false));
        assert!(!color_on(ColorMode::Auto, true, true));
        assert!(!color_on(ColorMode::Auto, false, false));
        assert!(color_on(ColorMode::Always, false, true));
        assert!(!color_on(ColorMode::Never, true, false));
    }
}
