//! A recording printed: one sample, or every sample of a time range.

use std::io::{self, Write};

use super::Error;
use super::print::Printer;
use super::Screen;
use crate::cli::{Config, Format};
use crate::events::{Events, Incident};
use crate::output;
use crate::source::sample::Sample;
use crate::clock;
use crate::model::Pool;
use crate::source::recording::Mark;
use crate::source::replay::{Move, Replay};

/// A recording printed: the sample at `--at` (the last one without it), or
/// every sample from `--from` to `--to` (batch output, a time column),
/// each carrying its time. A time outside the recording, or a range that
/// ends before it starts, is a usage error naming the recording's first
/// and last stamps. The bad lines met are counted on stderr.
pub fn replay(cfg: &Config, mut r: Replay, screen: Screen) -> Result<(), Error> {
    let mut p = Printer::new(cfg, screen);
    let (start, end) = (r.rec.first().time, r.rec.last().time);
    let when = |t: &Option<String>| t.as_deref().and_then(|t| clock::parse_when(t, end));
    let range = cfg.from.is_some() || cfg.to.is_some();
    // A time the recording does not cover is said, never answered with
    // another sample (`--at 03:12` on a recording of 22:14-22:30 printed
    // the first one, status 0).
    let outside = |flag: &str, t: i64| {
        Error::Usage(format!(
            "{flag} '{}' is outside the recording {}: it holds {} to {}",
            clock::stamp(t),
            crate::record::quoted(&r.rec.path),
            clock::stamp(start),
            clock::stamp(end)
        ))
    };
    if range {
        let (from, to) = (when(&cfg.from).unwrap_or(i64::MIN), when(&cfg.to).unwrap_or(i64::MAX));
        if from > to {
            return Err(Error::Usage(format!("--from '{}' is after --to '{}'", clock::stamp(from), clock::stamp(to))));
        }
        if from > end {
            return Err(outside("--from", from));
        }
        if to < start {
            return Err(outside("--to", to));
        }
        // One pool through the range: a worker that did not answer keeps
        // the rows it had, as it did live.
        let mut pool = Pool::default();
        each(&mut r, from, to, |r, s| {
            pool.advance(r.updates(s));
            p.print(&pool, Some(&clock::stamp(r.at.time)))
        })?;
    } else {
        let at = when(&cfg.at).unwrap_or(end);
        if at < start || at > end {
            return Err(outside("--at", at));
        }
        r.go(Move::To(at))?;
        if let Some(s) = r.load()? {
            let mut pool = Pool::default();
            pool.advance(r.updates(s));
            // The sample says which it is: its time, as batch output does.
            p.print(&pool, Some(&clock::stamp(r.at.time)))?;
        }
    }
    p.out.flush()?;
    bad_lines(&r);
    Ok(())
}

/// Every sample from `from` to `to` (ms), in turn.
fn each(r: &mut Replay, from: i64, to: i64, mut f: impl FnMut(&mut Replay, Sample) -> io::Result<()>) -> io::Result<()> {
    r.go(Move::To(from))?;
    let mut at: Option<Mark> = Some(r.at);
    while let Some(m) = at.filter(|m| m.time <= to) {
        if m.time >= from {
            if let Some(s) = r.load()? {
                f(r, s)?;
            }
        }
        at = r.rec.next(r.at)?;
        if let Some(n) = at {
            r.at = n;
        }
    }
    Ok(())
}

/// `--replay FILE --events`: the incidents of the recording (from
/// `--from` to `--to`), oldest first, as a table, TSV or JSON. Every one
/// is kept (memory follows the recording's incidents, not its length).
pub fn events(cfg: &Config, mut r: Replay) -> Result<(), Error> {
    let end = r.rec.last().time;
    let when = |t: &Option<String>, or| t.as_deref().and_then(|t| clock::parse_when(t, end)).unwrap_or(or);
    let (from, to) = (when(&cfg.from, i64::MIN), when(&cfg.to, i64::MAX));
    let mut events = Events::keeping(usize::MAX);
    let mut pool = Pool::default();
    each(&mut r, from, to, |r, s| {
        pool.advance(r.updates(s));
        events.observe(&pool, r.at.time);
        Ok(())
    })?;
    let incidents: Vec<Incident> = events.iter().cloned().collect();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match cfg.format {
        Format::Tsv => output::events::tsv(&mut out, &incidents, cfg.header, cfg.charset),
        Format::Json => output::events::json(&mut out, &incidents, cfg.charset),
        _ => output::events::table(&mut out, &incidents, cfg.header, cfg.charset),
    };
    written.and_then(|()| out.flush())?;
    bad_lines(&r);
    Ok(())
}

/// The bad lines met, counted on stderr (of the lines read: a sample
/// found by time reads only around it).
fn bad_lines(r: &Replay) {
    if r.rec.bad() > 0 {
        eprintln!(
            "openrtc-top: skipped {} of the lines read in {} (cut off, not a sample, or stamped out of line)",
            crate::source::recording::counted(r.rec.bad()),
            crate::record::quoted(&r.rec.path)
        );
    }
}
