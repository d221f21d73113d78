//! Frame pieces as text: title, worker header, session table. Pure: every
//! function takes data, a width and a `Paint` and returns lines that fit it,
//! with SGR escapes from termion for style. No terminal access.
//!
//! What the screen shows is what is there, even where a terminal measures
//! characters differently from us: a row holding any non-ASCII text places
//! each cell at its absolute column and erases the cell first (CHA + ECH),
//! so a character drawn wider than counted cannot push the next cell out of
//! place and one drawn narrower leaves no stale text behind. ASCII rows,
//! whose widths are certain, are written plainly (fewer bytes per frame).

use std::fmt::Write as _;
use std::io::{self, Write};

use termion::{color, style};

use crate::model::column::{self, Column};
use crate::model::{Pool, Session, Status, Worker};
use crate::summary::{Summary, Totals};
use crate::text::{self, Charset};

/// How lines are painted: with colour or not, for a UTF-8 reader or an
/// ASCII one (bars, sparklines, arrows and the ellipsis fall back to ASCII,
/// and untrusted non-ASCII text shows as `?`), and whether a line may move
/// the cursor along its row to place cells (the live view, which owns the
/// screen; not `--once`, whose frame may go to a file or `less -R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint {
    pub color: bool,
    pub charset: Charset,
    pub place: bool,
}

impl Paint {
    /// For `--once`: no cursor movement.
    pub fn new(color: bool, charset: Charset) -> Paint {
        Paint { color, charset, place: false }
    }

    /// For the live view: cells of non-ASCII rows are placed.
    pub fn live(color: bool, charset: Charset) -> Paint {
        Paint { color, charset, place: true }
    }

    fn unicode(self) -> bool {
        self.charset.unicode()
    }

    /// The sort arrow: descending or ascending.
    pub fn arrow(self, down: bool) -> char {
        match (self.unicode(), down) {
            (true, true) => '↓',
            (true, false) => '↑',
            (false, true) => 'v',
            (false, false) => '^',
        }
    }
}

/// A screen line under construction, with styles, that never grows past
/// its width (the plain table's line is `output::PlainRow`).
pub struct StyledLine {
    s: String,
    used: usize,
    max: usize,
    paint: Paint,
    /// An attribute is on, so a reset is owed.
    styled: bool,
}

impl StyledLine {
    pub fn new(max: usize, paint: Paint) -> StyledLine {
        StyledLine { s: String::with_capacity(max + 32), used: 0, max, paint, styled: false }
    }

    pub fn room(&self) -> usize {
        self.max - self.used
    }

    pub fn used(&self) -> usize {
        self.used
    }

    /// Trusted or already sanitized text, cut with an ellipsis at the edge.
    pub fn text(&mut self, t: &str) -> &mut Self {
        let cut = text::truncate(t, self.room(), self.paint.charset);
        self.used += text::width(&cut);
        self.s.push_str(&cut);
        self
    }

    /// Untrusted text: sanitized, then cut.
    pub fn untrusted(&mut self, t: &str) -> &mut Self {
        self.text(&text::display(t, self.paint.charset))
    }

    /// A whole item or nothing: numbers and labelled figures are never cut,
    /// they are left out when they do not fit. True when it was written.
    pub fn item(&mut self, t: &str) -> bool {
        if text::width(t) > self.room() {
            return false;
        }
        self.text(t);
        true
    }

    /// Move to column `col` (0-based) and erase the `width` columns there:
    /// the start of a cell placed absolutely.
    pub fn cell_at(&mut self, col: usize, width: usize) -> &mut Self {
        if col >= self.max {
            return self;
        }
        let width = width.min(self.max - col);
        let _ = write!(self.s, "\x1b[{}G", col + 1);
        if width > 0 {
            let _ = write!(self.s, "\x1b[{width}X");
        }
        self.used = col;
        self
    }

    /// An SGR attribute; attributes (bold, inverse) are always allowed.
    /// (Trait objects, not generics: one copy of this code, not one per style.)
    pub fn attr(&mut self, sgr: &dyn std::fmt::Display) -> &mut Self {
        let _ = write!(self.s, "{sgr}");
        self.styled = true;
        self
    }

    /// A colour, dropped when colour is off.
    pub fn fg(&mut self, c: &dyn color::Color) -> &mut Self {
        if self.paint.color {
            let _ = write!(self.s, "{}", color::Fg(c));
            self.styled = true;
        }
        self
    }

    pub fn reset(&mut self) -> &mut Self {
        if self.styled {
            let _ = write!(self.s, "{}", style::Reset);
            self.styled = false;
        }
        self
    }

    pub fn pad(&mut self, to: usize) -> &mut Self {
        let fill = to.min(self.max).saturating_sub(self.used);
        text::spaces(&mut self.s, fill);
        self.used += fill;
        self
    }

    pub fn finish(mut self) -> String {
        self.reset();
        self.s
    }
}

// ---------------------------------------------------------------------------
// Title and worker header.

/// `Hh MMm` under a day, `Dd Hh` above, as the reference prints uptimes.
pub fn fmt_uptime(secs: f64) -> String {
    let t = if secs.is_finite() { secs.max(0.0) as u64 } else { 0 };
    let (d, h, m) = (t / 86400, t % 86400 / 3600, t % 3600 / 60);
    if d > 0 { format!("{d}d {h}h") } else { format!("{h}h {m:02}m") }
}

/// Bytes as decimal gigabytes with one decimal, as the reference does.
pub fn fmt_gb(bytes: Option<f64>) -> String {
    match bytes {
        Some(b) if b.is_finite() => format!("{:.1}G", b / 1e9),
        _ => "n/a".into(),
    }
}

fn fmt_opt(v: Option<f64>, decimals: usize, unit: &str) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}{unit}"),
        _ => "n/a".into(),
    }
}

/// Bytes per second in the nearest binary unit.
pub fn fmt_rate(bps: Option<f64>) -> String {
    let Some(mut v) = bps.filter(|v| v.is_finite()) else { return "n/a".into() };
    let mut unit = "B/s";
    for bigger in ["KiB/s", "MiB/s", "GiB/s"] {
        if v.abs() < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = bigger;
    }
    format!("{v:.1} {unit}")
}

/// A horizontal bar of `width` cells for `frac` in 0..=1.
pub fn bar(frac: f64, width: usize, paint: Paint) -> String {
    let f = if frac.is_finite() { frac.clamp(0.0, 1.0) } else { 0.0 };
    let filled = (f * width as f64).round() as usize;
    let (full, empty) = if paint.unicode() { ("█", "░") } else { ("#", ".") };
    full.repeat(filled) + &empty.repeat(width - filled)
}

/// Nine levels of a cell, empty to full, for sparklines.
pub fn levels(paint: Paint) -> [char; 9] {
    if paint.unicode() {
        [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
    } else {
        [' ', '.', '.', '-', '-', '=', '=', '#', '#']
    }
}

/// The most recent `width` values as a `height`-row area chart scaled to
/// `max` (top row first).
pub fn spark(values: &[f64], width: usize, height: usize, max: f64, paint: Paint) -> Vec<String> {
    let eighths = levels(paint);
    let recent = &values[values.len().saturating_sub(width)..];
    (0..height)
        .map(|row| {
            let from_bottom = (height - 1 - row) as f64;
            recent
                .iter()
                .map(|&v| {
                    let v = if v.is_finite() && max > 0.0 { (v / max).clamp(0.0, 1.0) } else { 0.0 };
                    let cell = v * height as f64 - from_bottom;
                    let level = (cell * 8.0).round().clamp(0.0, 8.0) as usize;
                    // Any load at all shows on the bottom row, however small.
                    if level == 0 && from_bottom == 0.0 && v > 0.0 { eighths[1] } else { eighths[level] }
                })
                .collect()
        })
        .collect()
}

/// What the title says about the view besides the worker.
pub struct TitleView<'a> {
    pub sort: Column,
    pub reverse: bool,
    pub status: &'a str,
    pub agent: Option<&'a str>,
    pub tenant: Option<&'a str>,
    pub worker: Option<&'a str>,
    pub search: Option<&'a str>,
    /// The group view, when on (`agent`, `tenant` or `worker`).
    pub group: Option<&'a str>,
    pub stale: bool,
    /// Replaying: the sample's time and how the replay goes (shown instead
    /// of the worker's uptime), and anything it has to say.
    pub replay: Option<(String, Option<String>)>,
    /// Recording: whether the last line went to the file.
    pub recording: Option<bool>,
    /// Several workers: their totals (`summary::Summary`).
    pub totals: Option<&'a Totals>,
}

impl<'a> TitleView<'a> {
    /// What a query shows (no group view, not stale).
    pub fn of(q: &'a crate::view::Query) -> TitleView<'a> {
        TitleView {
            sort: q.sort,
            reverse: q.reverse,
            status: q.status.name(),
            agent: q.agent.as_deref(),
            tenant: q.tenant.as_deref(),
            worker: q.worker.as_deref(),
            search: q.search.as_deref(),
            group: None,
            stale: false,
            replay: None,
            recording: None,
            totals: None,
        }
    }
}

/// Frame text without its escapes (SGR, and the CHA/ECH of placed cells),
/// for tests that read what is shown.
#[cfg(test)]
pub(crate) fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in s.chars() {
        match (esc, c) {
            (false, '\x1b') => esc = true,
            (true, c) if c.is_ascii_alphabetic() => esc = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

/// The title line. What the view shows (sort, status, group, search and
/// filters in force) comes right after the name, so a narrow terminal keeps
/// it; the worker's name, uptime and session count follow (the header block
/// repeats those), and the "all" of unset filters comes last. Labelled
/// figures are whole items: left out, never cut. Several workers: how many
/// are up stands where one worker's name and uptime would, and the
/// session counts are their sums.
pub fn title(pool: &Pool, v: &TitleView, width: usize, paint: Paint) -> String {
    const SEP: &str = "  ";
    let mut l = StyledLine::new(width, paint);
    l.attr(&style::Bold).text("openrtc-top").reset();
    if v.stale && l.room() >= 6 {
        l.text(" ").fg(&color::Yellow).attr(&style::Bold).attr(&style::Invert).text("STALE").reset();
    }
    if let Some((when, _)) = &v.replay {
        if l.room() >= 7 {
            l.text(" ").fg(&color::Cyan).attr(&style::Bold).attr(&style::Invert).text("REPLAY").reset();
        }
        l.item(&format!("{SEP}{when}"));
    }
    match v.recording {
        Some(true) if l.room() >= 4 => {
            l.text(" ").fg(&color::Red).attr(&style::Bold).text("REC").reset();
        }
        Some(false) if l.room() >= 11 => {
            l.text(" ").fg(&color::Red).attr(&style::Bold).attr(&style::Invert).text("REC FAILED").reset();
        }
        _ => {}
    }
    if let Some((_, Some(note))) = &v.replay {
        if l.room() > SEP.len() + 8 {
            l.text(SEP).fg(&color::Yellow).untrusted(note).reset();
        }
    }
    let arrow = paint.arrow(v.sort.numeric() != v.reverse);
    l.item(&format!("{SEP}sort {}{arrow}", v.sort.sort_name()));
    l.item(&format!("{SEP}status {}", v.status));
    if let Some(g) = v.group {
        if l.room() > SEP.len() + 3 + g.len() {
            l.text(SEP).attr(&style::Bold).text("by ").text(g).reset();
        }
    }
    if let Some(q) = v.search {
        if l.room() > SEP.len() + 9 {
            l.text(SEP).text("search \"").untrusted(q).text("\"");
        }
    }
    let multi = pool.multi();
    let filters = [("worker", v.worker, multi), ("agent", v.agent, true), ("tenant", v.tenant, true)];
    for (name, value, _) in filters {
        if let Some(x) = value {
            if l.room() > SEP.len() + name.len() + 2 {
                l.text(&format!("{SEP}{name} ")).attr(&style::Bold).untrusted(x).reset();
            }
        }
    }
    let (active, max) = if let Some(t) = v.totals.filter(|_| multi) {
        let stale = t.workers - t.up;
        l.item(&format!("{SEP}workers {}", t.workers));
        if stale > 0 && l.room() >= SEP.len() + 12 {
            l.text(SEP).fg(&color::Yellow).attr(&style::Bold).text(&format!("{stale} not up")).reset();
        }
        (t.active, t.max)
    } else {
        let w = pool.block();
        if let Some(name) = w.and_then(|w| w.name.as_deref()) {
            if l.room() > SEP.len() + 4 {
                let name = text::display(name, paint.charset);
                l.text(SEP).text(&text::truncate(&name, 32, paint.charset));
            }
        }
        if let Some(up) = w.and_then(|w| w.uptime_s).filter(|_| v.replay.is_none()) {
            l.item(&format!("{SEP}up {}", fmt_uptime(up)));
        }
        (w.and_then(|w| w.active_sessions).unwrap_or(pool.sessions.len() as f64), w.and_then(|w| w.max_sessions))
    };
    match max {
        Some(max) => l.item(&format!("{SEP}sessions {}/{}", fmt_count(active), fmt_count(max))),
        None => l.item(&format!("{SEP}sessions {}", fmt_count(active))),
    };
    for (name, value, shown) in filters {
        if value.is_none() && shown {
            l.item(&format!("{SEP}{name} all"));
        }
    }
    l.finish()
}

fn fmt_count(v: f64) -> String {
    if v.is_finite() { format!("{v:.0}") } else { "n/a".into() }
}

/// The worker's vitals: three stat lines and `graph` rows of CPU history when
/// `full`, else a one-line summary. Each labelled figure is a whole item.
pub fn worker_lines(w: &Worker, width: usize, full: bool, graph: usize, paint: Paint) -> Vec<String> {
    let sys = w.system.clone().unwrap_or_default();
    // A label and its value, together or not at all.
    let item = |l: &mut StyledLine, label: &str, value: &str| {
        if text::width(label) + text::width(value) <= l.room() {
            if !label.is_empty() {
                l.fg(&color::Cyan).text(label).reset();
            }
            l.text(value);
        }
    };
    let mem_frac = match (sys.mem_used_bytes, sys.mem_total_bytes) {
        (Some(u), Some(t)) if t > 0.0 => Some(u / t),
        _ => None,
    };
    let loads = format!(
        "{} {} {}",
        fmt_opt(sys.load1, 2, ""),
        fmt_opt(sys.load5, 2, ""),
        fmt_opt(sys.load15, 2, "")
    );
    if !full {
        let mut l = StyledLine::new(width, paint);
        item(&mut l, "CPU ", &fmt_opt(sys.cpu_pct, 1, "%"));
        item(&mut l, "  MEM ", &format!("{}/{}", fmt_gb(sys.mem_used_bytes), fmt_gb(sys.mem_total_bytes)));
        item(&mut l, "  LOAD ", &fmt_opt(sys.load1, 2, ""));
        item(&mut l, "  FAILED ", &fmt_opt(w.failed, 0, ""));
        return vec![l.finish()];
    }
    let mut lines = Vec::new();
    let mut l = StyledLine::new(width, paint);
    item(&mut l, "CPU  ", &format!("{:>6} ", fmt_opt(sys.cpu_pct, 1, "%")));
    if l.room() >= 14 {
        l.fg(&color::Green).text(&bar(sys.cpu_pct.unwrap_or(0.0) / 100.0, 14, paint)).reset();
    }
    item(&mut l, "  LOAD ", &loads);
    item(&mut l, "  vCPUs ", &fmt_opt(sys.vcpus, 0, ""));
    lines.push(l.finish());

    let mut l = StyledLine::new(width, paint);
    item(&mut l, "MEM  ", "");
    if l.room() >= 10 {
        l.fg(&color::Green).text(&bar(mem_frac.unwrap_or(0.0), 10, paint)).reset();
    }
    item(&mut l, "", &format!(" {} / {}", fmt_gb(sys.mem_used_bytes), fmt_gb(sys.mem_total_bytes)));
    item(&mut l, "  SWAP ", &format!("{} / {}", fmt_gb(sys.swap_used_bytes), fmt_gb(sys.swap_total_bytes)));
    item(&mut l, "  NET ", &fmt_rate(sys.net_rate_bps));
    lines.push(l.finish());

    let mut l = StyledLine::new(width, paint);
    item(&mut l, "SESSIONS ", &format!("{} / {}", fmt_opt(w.active_sessions, 0, ""), fmt_opt(w.max_sessions, 0, "")));
    item(&mut l, "  STARTED ", &fmt_opt(w.started, 0, ""));
    let failed = fmt_opt(w.failed, 0, "");
    if l.room() >= 10 + failed.len() {
        l.fg(&color::Cyan).text("  FAILED ").reset();
        if w.failed.is_some_and(|f| f > 0.0) {
            l.fg(&color::Red).attr(&style::Bold).text(&failed).reset();
        } else {
            l.text(&failed);
        }
    }
    let draining = match w.draining {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    };
    item(&mut l, "  DRAINING ", draining);
    if sys.available == Some(false) {
        l.item("  (host vitals n/a: worker lacks psutil)");
    }
    lines.push(l.finish());

    if graph > 0 {
        const LABEL: &str = "CPU% ";
        let chart = spark(&w.cpu_history, width.saturating_sub(LABEL.len()), graph, 100.0, paint);
        for (n, row) in chart.into_iter().enumerate() {
            let mut l = StyledLine::new(width, paint);
            l.fg(&color::Cyan).text(if n + 1 == graph { LABEL } else { "     " }).reset();
            l.fg(&color::Cyan).text(&row).reset();
            lines.push(l.finish());
        }
    }
    lines
}

// ---------------------------------------------------------------------------
// Session table.
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
}

/// Fit the columns to `width`: text columns take their natural width
/// (`text`, over all shown rows), numbers their widest visible value; then
/// text shrinks toward a minimum and whole columns drop before a number is
/// cut. (The worker column is there only for a pool of several.)
pub fn layout(pool: &Pool, text: &[usize; column::N], visible: &[usize], width: usize) -> TableLayout {
    let numbers = crate::present::cells::natural_widths(pool, visible, true, Charset::Utf8);
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
    TableLayout { cols: widths }
}

pub fn header_line(t: &TableLayout, sort: Column, width: usize, paint: Paint) -> String {
    let mut l = StyledLine::new(width, paint);
    l.attr(&style::Invert);
    for (n, &(c, w)) in t.cols.iter().enumerate() {
        if n > 0 {
            l.text(" ");
        }
        let h = text::truncate(c.header(), w, paint.charset);
        let start = l.used();
        if c.numeric() {
            l.pad(start + w - text::width(&h));
        }
        if c == sort {
            l.attr(&style::Bold).attr(&style::Underline).text(&h).reset().attr(&style::Invert);
        } else {
            l.text(&h);
        }
        l.pad(start + w);
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

pub fn row_line(t: &TableLayout, pool: &Pool, s: &Session, look: RowLook, width: usize, paint: Paint) -> String {
    let cells: Vec<_> = t.cols.iter().map(|&(c, w)| (c, w, crate::present::cells::screen_text(c, pool, s, look.client_pin, paint.charset))).collect();
    // Non-ASCII text: each cell at its own column (see the module's comment).
    let placed = paint.place && cells.iter().any(|(_, _, v)| !v.is_ascii());
    let mut l = StyledLine::new(width, paint);
    if look.selected {
        l.attr(&style::Invert);
    }
    if look.stale {
        l.attr(&style::Faint);
    }
    let mut col = 0;
    for (n, (c, w, v)) in cells.iter().enumerate() {
        let sep = usize::from(n > 0);
        if placed {
            l.cell_at(col, w + sep);
        }
        if sep == 1 {
            l.text(" ");
        }
        let start = col + sep;
        if c.numeric() {
            l.pad(start + w.saturating_sub(text::width(v)));
            l.text(v);
        } else if *c == Column::Status && !look.selected {
            status_style(&mut l, &s.status);
            l.text(&text::truncate(v, *w, paint.charset)).reset();
            if look.stale {
                l.attr(&style::Faint);
            }
        } else {
            l.text(&text::truncate(v, *w, paint.charset));
        }
        l.pad(start + w);
        col = start + w;
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
        super::workers::lines(pool, sum, width, usize::MAX, paint)
    } else {
        pool.block().map(|w| worker_lines(w, width, true, 2, paint)).unwrap_or_default()
    };
    for l in head {
        line(l)?;
    }
    let t = layout(pool, &crate::present::cells::natural_widths(pool, order, false, paint.charset), order, width);
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
    use super::*;
    use crate::decode::decode;
    use crate::view::{Query, order};

    const V020: &str = include_str!("../../tests/fixtures/snapshot-v020.jsonl");
    use super::strip_sgr as strip;

    const COLOUR: Paint = Paint { color: true, charset: Charset::Utf8, place: true };
    const PLAIN: Paint = Paint { color: false, charset: Charset::Utf8, place: true };
    const ASCII: Paint = Paint { color: false, charset: Charset::Ascii, place: true };

    fn view() -> TitleView<'static> {
        static Q: std::sync::LazyLock<Query> = std::sync::LazyLock::new(Query::default);
        TitleView::of(&Q)
    }

    fn pool_of(payload: &[u8]) -> Pool {
        Pool::single(decode(payload).unwrap(), "w.sock".into())
    }

    fn frame(snap: &Pool, ord: &[usize], width: usize, paint: Paint) -> String {
        let mut out = Vec::new();
        once_frame(&mut out, snap, ord, view(), true, width, paint).unwrap();
        String::from_utf8(out).unwrap()
    }

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
    fn numbers_in_the_title_and_header_are_left_out_not_cut() {
        let snap = pool_of(V020.trim_end().as_bytes());
        let w = snap.block().unwrap();
        // Each labelled figure is on the line whole, or not at all.
        let whole = |line: &str, item: &str| {
            let label = item.split(' ').next().unwrap_or(item);
            !line.contains(label) || line.contains(item)
        };
        for width in 1..120 {
            let t = strip(&title(&snap, &view(), width, PLAIN));
            for item in ["sessions 12/24", "up 0h 00m", "sort mem_mb↓", "status all", "agent all", "tenant all"] {
                assert!(whole(&t, item), "{width}: {item} cut in {t:?}");
            }
            for line in worker_lines(w, width, true, 0, PLAIN).iter().chain(&worker_lines(w, width, false, 0, PLAIN)) {
                let line = strip(line);
                assert!(!line.contains('…'), "{width}: {line}");
                for item in ["SESSIONS 12 / 24", "STARTED 12", "LOAD 0.42", "SWAP 0.0G / 0.0G", "NET n/a", "vCPUs 2"] {
                    assert!(whole(&line, item), "{width}: {item} cut in {line:?}");
                }
            }
        }
        let narrow = strip(&title(&snap, &view(), 80, PLAIN));
        assert!(narrow.contains("sessions 12/24"), "{narrow}");
        let tiny = strip(&worker_lines(w, 24, true, 0, PLAIN)[1]);
        assert!(!tiny.contains('.') || tiny.contains("G / "), "{tiny}");
    }

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
        let t = TableLayout { cols: vec![(Column::Session, 9), (Column::Agent, 5)] };
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

    #[test]
    fn status_colours() {
        let snap = pool_of(br#"[{"status": "active"}, {"status": "slow"}, {"status": "draining"}, {"status": "errored"}]"#);
        let t = TableLayout { cols: vec![(Column::Status, 8)] };
        let line = |i: usize| row_line(&t, &snap, &snap.sessions[i], RowLook::default(), 20, COLOUR);
        assert!(line(0).contains(&color::Fg(color::Green).to_string()));
        assert!(line(1).contains(&color::Fg(color::Yellow).to_string()) && line(1).contains(&style::Bold.to_string()));
        assert!(line(2).contains(&color::Fg(color::Cyan).to_string()));
        assert!(line(3).contains(&color::Fg(color::Red).to_string()));
        let plain = row_line(&t, &snap, &snap.sessions[0], RowLook::default(), 20, PLAIN);
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_uptime(4.02), "0h 00m");
        assert_eq!(fmt_uptime(3725.0), "1h 02m");
        assert_eq!(fmt_uptime(90000.0), "1d 1h");
        assert_eq!(fmt_gb(Some(25276059648.0)), "25.3G");
        assert_eq!(fmt_gb(None), "n/a");
        assert_eq!(fmt_rate(Some(1536.0)), "1.5 KiB/s");
        assert_eq!(bar(0.5, 4, PLAIN), "██░░");
        assert_eq!(bar(0.5, 4, ASCII), "##..");
        assert_eq!(spark(&[0.0, 50.0, 100.0], 10, 1, 100.0, PLAIN), vec![" ▄█"]);
        assert_eq!(spark(&[0.0, 2.0], 10, 2, 100.0, PLAIN), vec!["  ", " ▁"]);
        assert_eq!(spark(&[100.0, 50.0], 2, 2, 100.0, PLAIN), vec!["█ ", "██"]);
        assert_eq!(spark(&[100.0, 25.0], 1, 2, 100.0, PLAIN), vec![" ", "▄"]);
        assert_eq!(spark(&[0.0, 50.0, 100.0], 10, 1, 100.0, ASCII), vec![" -#"]);
    }
}
