//! The session table: its columns fitted to a width, its header line and
//! its rows.

use termion::{color, style};

use super::cells::{natural_widths, screen_text};
use super::layout::Layout;
use super::line::{Paint, StyledLine};
use crate::model::column::{self, Column};
use crate::model::{Pool, Session, Status};
use crate::text::{self, Charset};

/// How a table too wide for the terminal is narrowed, step by step: agent and
/// tenant give way first, then minor columns, and the session id (the one
/// thing that tells rows apart) is cut only after those.
enum Narrow {
    Shrink(&'static [Column]),
    Drop(Column),
}

const NARROWING: [Narrow; 10] = [
    Narrow::Shrink(&[Column::Agent, Column::Tenant, Column::Worker]),
    Narrow::Drop(Column::Pin),
    Narrow::Drop(Column::Peak),
    Narrow::Drop(Column::Tenant),
    Narrow::Drop(Column::Duration),
    Narrow::Shrink(&[Column::Session]),
    Narrow::Drop(Column::Agent),
    Narrow::Drop(Column::Worker),
    Narrow::Drop(Column::Status),
    Narrow::Drop(Column::Cpu),
];

/// The columns that fit, with their widths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLayout {
    pub cols: Vec<(Column, usize)>,
    /// Blanks between columns.
    pub gap: usize,
}

/// Fit the columns to `width`: text columns take their natural width
/// (`text`, over all shown rows), numbers their widest visible value; then
/// text shrinks toward a minimum and whole columns drop before a number is
/// cut. (The worker column is there only for a pool of several.)
pub fn layout(pool: &Pool, text: &[usize; column::N], visible: &[usize], width: usize) -> TableLayout {
    let numbers = natural_widths(pool, visible, true, Charset::Utf8);
    let mut widths: Vec<(Column, usize)> = Column::shown(pool).map(|c| (c, text[c as usize].max(numbers[c as usize]))).collect();
    let excess = |widths: &[(Column, usize)]| {
        let total: usize = widths.iter().map(|&(_, w)| w).sum::<usize>() + widths.len().saturating_sub(1);
        total.saturating_sub(width)
    };
    for step in &NARROWING {
        if excess(&widths) == 0 {
            break;
        }
        match step {
            Narrow::Drop(d) => widths.retain(|(c, _)| c != d),
            Narrow::Shrink(cols) => loop {
                let over = excess(&widths);
                let widest = widths
                    .iter_mut()
                    .filter(|(c, w)| cols.contains(c) && *w > c.min_width())
                    .max_by_key(|(_, w)| *w);
                match widest {
                    Some((c, w)) if over > 0 => *w -= over.min(*w - c.min_width()),
                    _ => break,
                }
            },
        }
    }
    // A wide terminal's room goes between the columns (the table stayed 72
    // wide on 120 columns, 48 of them blank): two blanks apart, as ps does,
    // where the whole table still fits; a narrow one keeps one.
    let total = widths.iter().map(|&(_, w)| w).sum::<usize>();
    let gaps = widths.len().saturating_sub(1);
    let gap = (1..=2).rev().find(|g| total + g * gaps <= width).unwrap_or(1);
    TableLayout { cols: widths, gap }
}

impl TableLayout {
    /// Where the cells go: the columns `gap` blanks apart, numbers right.
    pub fn grid(&self) -> Layout {
        Layout::new(self.cols.iter().enumerate().map(|(i, &(c, w))| (if i > 0 { self.gap } else { 0 }, w, c.numeric())))
    }
}

/// The header line: inverse, the sort column bold and underlined.
pub fn header_line(t: &TableLayout, sort: Column, width: usize, paint: Paint) -> String {
    let grid = t.grid();
    let mut l = StyledLine::new(width, paint);
    l.attr(&style::Invert);
    for (i, &(c, w)) in t.cols.iter().enumerate() {
        let h = text::truncate(c.header(), w, paint.charset);
        grid.place(&mut l, i, text::width(&h));
        if c == sort {
            l.attr(&style::Bold).attr(&style::Underline).text(&h).reset().attr(&style::Invert);
        } else {
            l.text(&h);
        }
        l.pad(grid.end(i));
    }
    l.pad(width);
    l.finish()
}

/// How one row is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowLook {
    pub selected: bool,
    pub stale: bool,
    pub client_pin: bool,
}

/// One session's row: its cells in their columns, the status coloured, the
/// selected row inverse to the edge, a stale one faint.
pub fn row_line(t: &TableLayout, pool: &Pool, s: &Session, look: RowLook, width: usize, paint: Paint) -> String {
    let grid = t.grid();
    let cells: Vec<_> = t.cols.iter().map(|&(c, _)| (c, screen_text(c, pool, s, look.client_pin, paint.charset))).collect();
    // Non-ASCII text: each cell at its own column (see `line`).
    let placed = paint.place && cells.iter().any(|(_, v)| !v.is_ascii());
    let mut l = StyledLine::new(width, paint);
    if look.selected {
        l.attr(&style::Invert);
    }
    if look.stale {
        l.attr(&style::Faint);
    }
    for (i, (c, v)) in cells.iter().enumerate() {
        if placed {
            // From the end of the column before, the blank included.
            let from = if i == 0 { 0 } else { grid.end(i - 1) };
            l.cell_at(from, grid.end(i) - from);
        }
        if *c == Column::Status && !look.selected {
            let v = text::truncate(v, grid.cols[i].width, paint.charset);
            grid.place(&mut l, i, text::width(&v));
            status_style(&mut l, &s.status);
            l.text(&v).reset();
            if look.stale {
                l.attr(&style::Faint);
            }
            l.pad(grid.end(i));
        } else {
            grid.cell(&mut l, i, v);
        }
    }
    if look.selected {
        l.pad(width);
    }
    l.finish()
}

/// active green, slow yellow and bold, draining cyan, errored red.
pub fn status_style(l: &mut StyledLine, s: &Status) {
    match s {
        Status::Active => l.fg(&color::Green),
        Status::Slow => l.fg(&color::Yellow).attr(&style::Bold),
        Status::Draining => l.fg(&color::Cyan),
        Status::Errored => l.fg(&color::Red),
        Status::Idle | Status::Other(_) => l,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::testing::*;
    use crate::present::line::strip_sgr as strip;
    use crate::view::{Query, order};
    use termion::color;

    #[test]
    fn narrow_terminals_drop_columns_not_numbers() {
        let snap = pool_of(V020.trim_end().as_bytes());
        let ord = order(&snap, &Query::default(), &[]);
        let text = crate::present::cells::natural_widths(&snap, &ord, false, Charset::Utf8);
        let t = layout(&snap, &text, &ord, 40);
        let cols: Vec<Column> = t.cols.iter().map(|c| c.0).collect();
        assert!(cols.contains(&Column::Mem) && cols.contains(&Column::Status) && cols.contains(&Column::Session));
        assert!(!cols.contains(&Column::Pin));
        let wide = layout(&snap, &text, &ord, 200);
        assert_eq!(wide.cols.len(), 9);
        let row = strip(&row_line(&t, &snap, &snap.sessions[ord[0]], RowLook::default(), 40, PLAIN));
        assert!(row.contains("21.5") || row.contains("2.3"), "{row}");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_and_wide_chars_are_placed() {
        let snap = pool_of("[{\"session_id\": \"\u{4e2d}\u{6587}\u{4e2d}\u{6587}\u{4e2d}\u{6587}\u{4e2d}\u{6587}\u{4e2d}\u{6587}\", \"agent_name\": \"a\"}, {\"session_id\": \"plain\", \"agent_name\": \"b\"}]".as_bytes());
        let t = TableLayout { cols: vec![(Column::Session, 9), (Column::Agent, 5)], gap: 1 };
        let wide = row_line(&t, &snap, &snap.sessions[0], RowLook::default(), 20, PLAIN);
        // Each cell at its column, erased first: CHA then ECH.
        assert_eq!(wide, "\x1b[1G\x1b[9X中文中文…\x1b[10G\x1b[6X a    ");
        let plain = row_line(&t, &snap, &snap.sessions[1], RowLook::default(), 20, PLAIN);
        assert_eq!(plain, "plain     b    ", "ASCII rows are written plainly");
        let once = Paint { place: false, ..PLAIN };
        assert_eq!(row_line(&t, &snap, &snap.sessions[0], RowLook::default(), 20, once), "中文中文… a    ", "--once never moves the cursor");
        assert_eq!(strip(&wide), "中文中文… a    ");
    }

    #[test]
    fn status_colours() {
        let snap = pool_of(br#"[{"status": "active"}, {"status": "slow"}, {"status": "draining"}, {"status": "errored"}]"#);
        let t = TableLayout { cols: vec![(Column::Status, 8)], gap: 1 };
        let line = |i: usize| row_line(&t, &snap, &snap.sessions[i], RowLook::default(), 20, COLOUR);
        assert!(line(0).contains(&color::Fg(color::Green).to_string()));
        assert!(line(1).contains(&color::Fg(color::Yellow).to_string()) && line(1).contains(&style::Bold.to_string()));
        assert!(line(2).contains(&color::Fg(color::Cyan).to_string()));
        assert!(line(3).contains(&color::Fg(color::Red).to_string()));
        let plain = row_line(&t, &snap, &snap.sessions[0], RowLook::default(), 20, PLAIN);
        assert!(!plain.contains('\x1b'));
    }
}
