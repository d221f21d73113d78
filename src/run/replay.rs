//! A recording printed: one sample, or every sample of a time range.

use std::io::Write;

use super::Error;
use super::print::Printer;
use super::Screen;
use crate::cli::Config;
use crate::clock;
use crate::model::Pool;
use crate::source::recording::Mark;
use crate::source::replay::{Move, Replay};

/// A recording printed: the sample at `--at` (the last one without it), or
/// every sample from `--from` to `--to` (batch output, a time column). The
/// bad lines met are counted on stderr.
pub fn replay(cfg: &Config, mut r: Replay, screen: Screen) -> Result<(), Error> {
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

