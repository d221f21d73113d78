//! The header of a pool of several workers: the host's vitals, one line per
//! worker (label, up or STALE and why, sessions active/max, CPU%, memory,
//! slow, failed, draining) and the totals under them. With more workers than
//! the lines it may take, a condensed form: the totals, then only the
//! workers that are not up, have slow sessions or are draining. Pure.

use termion::{color, style};

use super::blocked;
use super::format::{fmt_count, fmt_opt, yes_no};
use super::header::worker_lines;
use super::layout::Layout;
use super::line::{Paint, StyledLine};
use crate::model::column::Column;
use crate::model::{Pool, Worker, WorkerState};
use crate::summary::{self, Summary, Totals, WorkerFigures};
use crate::text;

/// How the header is drawn in the lines it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Host line, column header, a line per worker, totals.
    Full,
    /// Host line, totals, column header and up to this many notable workers
    /// (the last line says how many more there are, when some do not fit).
    Condensed(usize),
    /// Only the totals.
    Totals,
    None,
}

fn shape(workers: usize, budget: usize) -> Shape {
    match budget {
        0 => Shape::None,
        _ if workers + 3 <= budget => Shape::Full,
        1..=2 => Shape::Totals,
        _ => Shape::Condensed(budget - 3),
    }
}

/// How many lines `lines` gives for these figures within `budget`.
pub fn height(sum: &Summary, budget: usize) -> usize {
    let figures = &sum.workers;
    match shape(figures.len(), budget) {
        Shape::Full => figures.len() + 3,
        Shape::Condensed(room) => 3 + notable_lines(figures, room),
        Shape::Totals => 1,
        Shape::None => 0,
    }
}

/// Lines for the notable workers in `room` lines: all of them when they fit,
/// else `room - 1` and a line saying how many more.
fn notable_lines(figures: &[WorkerFigures], room: usize) -> usize {
    figures.iter().filter(|f| f.notable()).count().min(room)
}

/// The header of `pool` (summed up in `sum`) in at most `budget` lines,
/// each at most `width` columns.
pub fn lines(pool: &Pool, sum: &Summary, width: usize, budget: usize, paint: Paint) -> Vec<String> {
    let (figures, totals) = (&sum.workers, &sum.totals);
    let label_w = pool.workers.iter().map(|w| text::width(&text::display(&w.label, paint.charset))).max().unwrap_or(0).clamp(6, 24);
    let mut out = Vec::new();
    match shape(figures.len(), budget) {
        Shape::None => {}
        Shape::Totals => out.push(totals_line(totals, label_w, width, paint)),
        Shape::Full => {
            out.push(host_line(pool, totals, width, paint));
            out.push(head_line(label_w, width, paint));
            out.extend(figures.iter().map(|f| worker_line(pool, f, label_w, width, paint)));
            out.push(totals_line(totals, label_w, width, paint));
        }
        Shape::Condensed(room) => {
            // The totals under the column header they are read by (they
            // sat above it), then the notable workers that fit.
            out.push(host_line(pool, totals, width, paint));
            out.push(head_line(label_w, width, paint));
            out.push(totals_line(totals, label_w, width, paint));
            let notable: Vec<&WorkerFigures> = figures.iter().filter(|f| f.notable()).collect();
            let fits = notable.len() <= room;
            let shown = if fits { room } else { room.saturating_sub(1) };
            out.extend(notable.iter().take(shown).map(|f| worker_line(pool, f, label_w, width, paint)));
            if !fits && room > 0 {
                let mut l = StyledLine::new(width, paint);
                l.attr(&style::Faint).text(&more_line(&notable[shown..]));
                out.push(l.finish());
            }
        }
    }
    out
}

/// What the notable workers that did not fit are: `and 3 more: 3 with
/// slow sessions` (it said "3 more not up, slow or draining", which read
/// as none of those when all were slow).
fn more_line(rest: &[&WorkerFigures]) -> String {
    let count = |f: fn(&WorkerFigures) -> bool| rest.iter().filter(|w| f(w)).count();
    let parts: Vec<String> = [
        (count(|w| !w.up), "not up"),
        (count(|w| w.up && w.slow > 0), "with slow sessions"),
        (count(|w| w.draining == Some(true)), "draining"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!("  and {} more: {}", rest.len(), parts.join(", "))
}

/// The host's vitals (the same machine for every worker) and the pool's
/// failed count, as one worker's compact line.
fn host_line(pool: &Pool, totals: &Totals, width: usize, paint: Paint) -> String {
    let host = Worker {
        system: summary::host(pool).map(|(s, _)| s.clone()),
        failed: Some(totals.failed),
        ..Worker::default()
    };
    worker_lines(&host, None, width, false, 0, paint).remove(0)
}

/// The columns after the label: header and width (the state's includes
/// the blank before it; the figures' the blanks between them).
const COLS: [(&str, usize); 8] =
    [("STATE", 11), ("SESSIONS", 11), ("CPU%", 7), ("MEM(MB)", 9), ("SLOW", 5), ("FAILED", 7), ("DRAINING", 9), ("PID", 8)];

/// The label, then the state left-aligned after a blank, then the figures
/// right-aligned, each column after the one before.
fn grid(label_w: usize) -> Layout {
    Layout::new(std::iter::once((0, label_w, false)).chain(COLS.iter().enumerate().map(|(i, &(_, w))| match i {
        0 => (1, w - 1, false),
        _ => (0, w, true),
    })))
}

fn head_line(label_w: usize, width: usize, paint: Paint) -> String {
    let grid = grid(label_w);
    let mut l = StyledLine::new(width, paint);
    l.fg(&color::Cyan).text(&format!("{:<label_w$}", "WORKER"));
    for (i, (name, _)) in COLS.iter().enumerate() {
        // A heading whose column does not fit is left out with its
        // values (a cut `DR…` stood over none).
        if !grid.fits(&l, i + 1) {
            break;
        }
        grid.place(&mut l, i + 1, name.len());
        l.text(name);
        if i == 0 {
            l.pad(grid.end(1));
        }
    }
    l.finish()
}

/// `a/m` or `a` as whole numbers; `n/a` for a value that is not a number.
fn count(active: f64, max: Option<f64>) -> String {
    match max {
        Some(m) => format!("{}/{}", fmt_count(active), fmt_count(m)),
        None => fmt_count(active),
    }
}

fn figures_cells(active: f64, max: Option<f64>, cpu: f64, mem: f64, slow: usize, failed: Option<f64>) -> [String; 5] {
    [count(active, max), Column::Cpu.rounded(cpu), Column::Mem.rounded(mem), slow.to_string(), fmt_opt(failed, 0, "")]
}

/// The figures after the state, each right-aligned in its column and left
/// out (with those after it) when it does not fit; the slow and failed
/// counts stand out when not zero.
fn push_cells(l: &mut StyledLine, grid: &Layout, cells: &[String; 5], draining: &str, pid: &str, slow: usize, failed: bool) {
    for (i, cell) in cells.iter().enumerate() {
        let col = i + 2;
        if !grid.fits(l, col) {
            return;
        }
        grid.place(l, col, text::width(cell));
        let alarm = (i == 3 && slow > 0) || (i == 4 && failed);
        if alarm {
            l.fg(if i == 3 { &color::Yellow } else { &color::Red }).attr(&style::Bold).text(cell).reset();
        } else {
            l.text(cell);
        }
    }
    for (col, cell) in [(7, draining), (8, pid)] {
        if !grid.fits(l, col) {
            return;
        }
        grid.place(l, col, cell.len());
        l.text(cell);
    }
}

fn worker_line(pool: &Pool, f: &WorkerFigures, label_w: usize, width: usize, paint: Paint) -> String {
    let w = f.of(pool);
    let grid = grid(label_w);
    let mut l = StyledLine::new(width, paint);
    grid.cell(&mut l, 0, &text::display(&w.label, paint.charset));
    let state = &w.state;
    let word = match state {
        WorkerState::Up => "up",
        WorkerState::Stale(_) => "STALE",
        WorkerState::Gone => "gone",
        WorkerState::Refused(_) => "refused",
        WorkerState::Waiting => "waiting",
        WorkerState::Blocked(b) if b.given_up => "NO ANSWER",
        WorkerState::Blocked(_) => "BLOCKED",
    };
    grid.place(&mut l, 1, 0);
    match state {
        WorkerState::Up => l.fg(&color::Green),
        WorkerState::Stale(_) => l.fg(&color::Yellow).attr(&style::Bold).attr(&style::Invert),
        WorkerState::Refused(_) => l.fg(&color::Red).attr(&style::Bold),
        WorkerState::Blocked(_) => l.fg(&color::Red).attr(&style::Bold).attr(&style::Invert),
        WorkerState::Gone | WorkerState::Waiting => l.attr(&style::Faint),
    };
    l.text(word).reset().pad(grid.end(1));
    let pid = w.pid.map_or(String::new(), |p| p.to_string());
    if matches!(state, WorkerState::Refused(_)) || (w.block.is_none() && f.rows == 0 && !state.up()) {
        // Nothing was ever read from it: no figures, only its pid and why.
        push_cells(&mut l, &grid, &Default::default(), "", &pid, 0, false);
    } else {
        let cells = figures_cells(f.active, f.max, f.cpu_pct, f.mem_mb, f.slow, f.failed);
        push_cells(&mut l, &grid, &cells, yes_no(f.draining), &pid, f.slow, f.failed.is_some_and(|v| v > 0.0));
    }
    let why = match state {
        WorkerState::Blocked(b) => Some(blocked::line(b, &blocked::suspects(pool, f.index), w.stack.as_ref()).into()),
        _ => state.reason().map(std::borrow::Cow::Borrowed),
    };
    if let Some(why) = why {
        if l.room() > 4 {
            l.text("  ").fg(&color::Yellow).text(&text::in_message(&why)).reset();
        }
    }
    l.finish()
}

fn totals_line(t: &Totals, label_w: usize, width: usize, paint: Paint) -> String {
    let grid = grid(label_w);
    let mut l = StyledLine::new(width, paint);
    l.attr(&style::Bold).text("total").pad(label_w);
    grid.place(&mut l, 1, 0);
    l.text(&format!("{}/{} up", t.up, t.workers)).pad(grid.end(1));
    let cells = figures_cells(t.active, t.max, t.cpu_pct, t.mem_mb, t.slow, Some(t.failed));
    push_cells(&mut l, &grid, &cells, &t.draining.to_string(), "", t.slow, t.failed > 0.0);
    l.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Session, Snapshot, Status, System, Update};
    use crate::text::Charset;
    use crate::present::line::strip_sgr as strip;

    const PLAIN: Paint = Paint { color: false, charset: Charset::Utf8, place: true };

    /// `n` workers; worker 2 stale with a slow session, worker 3 draining.
    fn pool(n: u32) -> Pool {
        let mut p = Pool::default();
        let updates = (0..n)
            .map(|k| {
                let block = Worker {
                    active_sessions: Some(2.0),
                    max_sessions: Some(10.0),
                    failed: Some(f64::from(k % 2)),
                    draining: Some(k == 3),
                    system: Some(System { cpu_pct: Some(12.5), ..System::default() }),
                    ..Worker::default()
                };
                let row = |slow: bool| Session { nums: [0.0, 10.0, 0.0, 1.5], status: if slow { Status::Slow } else { Status::Active }, ..Session::default() };
                let state = if k == 2 { WorkerState::Stale("it sent nothing within 2s".into()) } else { WorkerState::Up };
                Update { key: k, label: format!("w-{k:02}"), socket: format!("w{k}").into(), state, took: None, pid: None, stack: None, blocks: 0, fresh: Some(Snapshot { worker: Some(block), sessions: vec![row(k == 2), row(false)] }) }
            })
            .collect();
        p.advance(updates);
        p
    }

    #[test]
    fn one_line_per_worker_above_the_totals() {
        let p = pool(4);
        let l: Vec<String> = lines(&p, &Summary::of(&p), 120, 24, PLAIN).iter().map(|l| strip(l)).collect();
        assert_eq!(l.len(), 7);
        assert_eq!(height(&Summary::of(&p), 24), 7);
        assert!(l[0].starts_with("CPU 12.5%") && l[0].contains("FAILED 2"), "{}", l[0]);
        assert!(l[1].starts_with("WORKER") && l[1].contains("SESSIONS") && l[1].contains("DRAINING"), "{}", l[1]);
        assert!(l[2].starts_with("w-00    up") || l[2].starts_with("w-00   up") && l[2].contains("2/10") && l[2].contains("3.0") && l[2].contains("20.0"), "{}", l[2]);
        assert!(l[4].contains("STALE") && l[4].ends_with("it sent nothing within 2s"), "{}", l[4]);
        assert!(l[5].contains("yes"), "{}", l[5]);
        assert!(l[6].starts_with("total") && l[6].contains("3/4 up") && l[6].contains("8/40") && l[6].contains("80.0"), "{}", l[6]);
    }

    #[test]
    fn many_workers_condense_to_the_notable_ones() {
        let p = pool(12);
        let l: Vec<String> = lines(&p, &Summary::of(&p), 120, 8, PLAIN).iter().map(|l| strip(l)).collect();
        assert_eq!(l.len(), height(&Summary::of(&p), 8));
        assert!(l[1].starts_with("WORKER") && l[2].starts_with("total") && l[2].contains("11/12 up"), "the totals under their header: {l:?}");
        // Stale w-02 and draining w-03 only.
        assert_eq!(l.len(), 5, "{l:?}");
        assert!(l[3].starts_with("w-02") && l[4].starts_with("w-03"), "{l:?}");
        // Too little room for both: one, and how many more.
        let l: Vec<String> = lines(&p, &Summary::of(&p), 120, 4, PLAIN).iter().map(|l| strip(l)).collect();
        assert_eq!((l.len(), height(&Summary::of(&p), 4)), (4, 4));
        assert_eq!(l[3].trim_end(), "  and 2 more: 1 not up, 1 draining", "{l:?}");
        // A narrow line leaves out the headings of the columns it leaves out.
        let l: Vec<String> = lines(&p, &Summary::of(&p), 60, 8, PLAIN).iter().map(|l| strip(l)).collect();
        assert!(!l[1].contains('…') && !l[1].contains("DRAINING"), "{l:?}");
        assert_eq!(lines(&p, &Summary::of(&p), 120, 2, PLAIN).len(), 1);
        assert!(lines(&p, &Summary::of(&p), 120, 0, PLAIN).is_empty());
    }

    #[test]
    fn lines_fit_every_width() {
        let p = pool(5);
        for width in 0..140 {
            for budget in [0, 1, 3, 5, 8, 50] {
                for l in lines(&p, &Summary::of(&p), width, budget, PLAIN) {
                    assert!(text::width(&strip(&l)) <= width, "{width}: {l:?}");
                }
            }
        }
    }
}
