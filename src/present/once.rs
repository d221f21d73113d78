//! The whole `--once` frame for a terminal: the live view's pieces,
//! every row, written a line at a time.

use std::io::{self, Write};

use super::cells::natural_widths;
use super::header::worker_lines;
use super::line::Paint;
use super::table::{RowLook, header_line, layout, row_line};
use super::title::{TitleView, title};
use super::workers;
use crate::model::Pool;
use crate::summary::Summary;

/// The whole `--once` frame for a terminal (title, worker header or the
/// lines of several workers, every row), written a line at a time.
pub fn once_frame(
    out: &mut dyn Write,
    pool: &Pool,
    order: &[usize],
    view: TitleView,
    header: bool,
    width: usize,
    paint: Paint,
) -> io::Result<()> {
    let mut line = |l: String| -> io::Result<()> {
        out.write_all(l.as_bytes())?;
        out.write_all(b"\n")
    };
    let sum = pool.multi().then(|| Summary::of(pool));
    let sort = view.sort;
    line(title(pool, &TitleView { totals: sum.as_ref().map(|s| &s.totals), ..view }, width, paint))?;
    let head = if let Some(sum) = &sum {
        workers::lines(pool, sum, width, usize::MAX, paint)
    } else {
        pool.block().map(|w| worker_lines(w, pool.workers[0].pid, width, true, 2, paint)).unwrap_or_default()
    };
    for l in head {
        line(l)?;
    }
    let t = layout(pool, &natural_widths(pool, order, false, paint.charset), order, width);
    if header {
        line(header_line(&t, sort, width, paint))?;
    }
    for &i in order {
        let s = &pool.sessions[i];
        let look = RowLook { stale: !pool.answered(s), ..RowLook::default() };
        line(row_line(&t, pool, s, look, width, paint))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::present::testing::*;
    use crate::present::line::strip_sgr as strip;
    use crate::text;
    use crate::view::{Query, order};

    #[test]
    fn lines_fit_every_width() {
        let snap = pool_of(V020.trim_end().as_bytes());
        let ord = order(&snap, &Query::default(), &[]);
        for width in [1, 10, 20, 40, 60, 80, 132, 300] {
            for line in frame(&snap, &ord, width, COLOUR).lines() {
                assert!(text::width(&strip(line)) <= width, "{width}: {line:?}");
            }
        }
    }

    #[test]
    fn control_bytes_never_reach_a_frame() {
        let snap = pool_of(br#"{"worker": {"name": "w\u001b]0;pwn\u0007"}, "sessions": [{"session_id": "\u001b[2J", "agent_name": "\u009b31m", "tenant": "t\r\n"}]}"#);
        let f = frame(&snap, &[0], 80, PLAIN);
        let stripped = strip(&f);
        assert!(!stripped.chars().any(|c| c.is_control() && c != '\n'), "{f:?}");
        assert!(stripped.contains("\\u{1b}[2J") && stripped.contains("w\\u{1b}]0;pwn\\u{7}"), "{stripped}");
        // The only escapes are our own CSI sequences.
        for (i, _) in f.match_indices('\x1b') {
            assert!(f[i..].starts_with("\x1b["), "{f:?}");
        }
    }

    #[test]
    fn ascii_paint_draws_ascii_only() {
        let snap = pool_of(V020.trim_end().as_bytes());
        let mut snap = snap;
        snap.sessions[0].agent_name = "m\u{fc}nchen \u{4e2d}".into();
        let ord = order(&snap, &Query::default(), &[]);
        let f = frame(&snap, &ord, 100, ASCII);
        assert!(f.is_ascii(), "{f}");
        assert!(f.contains("m?nchen ?") && f.contains("sort mem_mbv"), "{f}");
        assert!(f.contains('#') || f.contains('.'), "ASCII bars");
    }
}
