//! A pool printed to stdout in the configured format: the framed table
//! for a terminal (or `--color always`), the plain table, TSV, JSON or a
//! metrics exposition.

use std::io::{self, Write};

use crate::cli::{ColorMode, Config, Format};
use crate::model::Pool;
use crate::output::Plain;
use crate::present::line::Paint;
use crate::present::once::once_frame;
use crate::present::title::TitleView;
use super::Screen;
use crate::{metrics, output, view};

/// Prints pools to stdout in the configured format.
pub struct Printer<'a> {
    cfg: &'a Config,
    pub out: io::BufWriter<io::StdoutLock<'static>>,
    /// The readable frame is for eyes: a terminal, or colour asked for;
    /// and how wide it is drawn.
    framed: Option<usize>,
    color: bool,
    /// Samples printed so far.
    n: u64,
}

impl<'a> Printer<'a> {
    pub fn new(cfg: &'a Config, screen: Screen) -> Printer<'a> {
        // -o pins a script's fields: the plain table, on a terminal too.
        let frame = cfg.format == Format::Table && cfg.columns.is_none() && (screen.tty || cfg.color == ColorMode::Always);
        Printer {
            cfg,
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            framed: frame.then(|| screen.width.unwrap_or_else(|| columns_env(std::env::var("COLUMNS").ok()))),
            color: cfg.colour(screen.tty),
            n: 0,
        }
    }

    /// One sample of `pool`, stamped `stamp` in batch output.
    pub fn print(&mut self, pool: &Pool, stamp: Option<&str>) -> io::Result<()> {
        let (cfg, n) = (self.cfg, self.n);
        self.n += 1;
        let out = &mut self.out;
        let order = view::order(pool, &cfg.query, &[]);
        let plain = Plain { header: cfg.header, stamp, charset: cfg.charset, sample: false, columns: cfg.columns.as_deref() };
        match cfg.format {
            Format::Table if self.framed.is_some() => {
                if n > 0 {
                    writeln!(out)?;
                }
                if let Some(t) = stamp {
                    writeln!(out, "{t}")?;
                }
                let title = TitleView::of(&cfg.query);
                let width = self.framed.unwrap_or(80);
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

/// Width for a frame that is not going to a terminal (`--color always`):
/// `COLUMNS` when it is a number, clamped to what a terminal could be
/// (a huge value must not become a huge allocation), else 80.
fn columns_env(columns: Option<String>) -> usize {
    columns.and_then(|c| c.trim().parse::<u64>().ok()).filter(|&c| c > 0).map_or(80, |c| c.min(crate::present::MAX_SIDE as u64) as usize)
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
        assert_eq!(columns_env(Some("18446744073709551615".into())), crate::present::MAX_SIDE as usize);
        assert_eq!(columns_env(Some("4294967296".into())), crate::present::MAX_SIDE as usize);
    }
}
