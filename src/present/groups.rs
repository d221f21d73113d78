//! A group view's table (per agent, tenant or worker): name, sessions,
//! slow, memory share sum, mean CPU share.

use termion::style;

use super::layout::Layout;
use super::line::{Paint, StyledLine, faint};
use crate::model::column::Column;
use crate::text;
use crate::view::{Group, GroupRow};

const HEADS: [&str; 4] = ["sessions", "slow", "mem(MB)", "cpu%"];

/// The table in `area` lines of `w` columns: its header, then the rows
/// from `scroll` on (`cursor` selected).
pub fn lines(by: Group, groups: &[GroupRow], scroll: usize, cursor: usize, w: usize, area: usize, paint: Paint) -> Vec<String> {
    let mut lines = Vec::new();
    if area == 0 {
        return lines;
    }
    let shown: Vec<&GroupRow> = groups.iter().skip(scroll).take(area - 1).collect();
    let nums = |g: &GroupRow| [g.sessions.to_string(), g.slow.to_string(), Column::Mem.rounded(g.mem_mb), Column::Cpu.rounded(g.cpu_pct)];
    let mut widths = HEADS.map(str::len);
    for g in &shown {
        for (wd, v) in widths.iter_mut().zip(nums(g)) {
            *wd = (*wd).max(v.len());
        }
    }
    // The name column fits every group's name (up to 32), not only the
    // page's: it does not jump as the view scrolls.
    let name_w = groups.iter().map(|g| text::width(&text::display(&g.name, paint.charset)).min(32)).fold(by.header().len(), usize::max);
    let numbers: usize = widths.iter().map(|x| x + 1).sum();
    let name_w = name_w.min(w.saturating_sub(numbers)).max(1);
    let grid = Layout::new(std::iter::once((0, name_w, false)).chain(widths.iter().map(|&wd| (1, wd, true))));
    let row = |name: &str, cells: [String; 4], inverse: bool| {
        let mut l = StyledLine::new(w, paint);
        if inverse {
            l.attr(&style::Invert);
        }
        grid.cell(&mut l, 0, &text::display(name, paint.charset));
        for (i, c) in cells.iter().enumerate() {
            grid.cell(&mut l, i + 1, c);
        }
        if inverse {
            l.pad(w);
        }
        l.finish()
    };
    lines.push(row(by.header(), HEADS.map(String::from), true));
    for (n, g) in shown.iter().enumerate() {
        lines.push(row(&g.name, nums(g), scroll + n == cursor));
    }
    if shown.is_empty() {
        lines.push(faint(w, paint, "  no sessions match the filters"));
    }
    lines
}
