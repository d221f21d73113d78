//! Frame pieces as text: title, worker header, session table, footer. Pure:
//! every function takes data and a width and returns lines that fit it
//! exactly, with SGR escapes from termion for style. No terminal access.

use std::fmt::Write as _;

use termion::{color, style};

use crate::column::{self, Column};
use crate::snapshot::{Session, Snapshot, Status, Worker};
use crate::text;

/// A screen line under construction, with styles, that never grows past
/// its width (the plain table's line is `output::PlainRow`).
pub struct StyledLine {
    s: String,
    used: usize,
    max: usize,
    color: bool,
    /// An attribute is on, so a reset is owed.
    styled: bool,
}

impl StyledLine {
    pub fn new(max: usize, color: bool) -> StyledLine {
        StyledLine { s: String::with_capacity(max + 32), used: 0, max, color, styled: false }
    }

    pub fn room(&self) -> usize {
        self.max - self.used
    }

    /// Trusted or already sanitized text, cut with an ellipsis at the edge.
    pub fn text(&mut self, t: &str) -> &mut Self {
        let cut = text::truncate(t, self.room());
        self.used += text::width(&cut);
        self.s.push_str(&cut);
        self
    }

    /// Untrusted text: sanitized, then cut.
    pub fn untrusted(&mut self, t: &str) -> &mut Self {
        self.text(&text::display(t))
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
        if self.color {
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
        self.s.extend(std::iter::repeat_n(' ', fill));
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
pub fn bar(frac: f64, width: usize) -> String {
    let f = if frac.is_finite() { frac.clamp(0.0, 1.0) } else { 0.0 };
    let filled = (f * width as f64).round() as usize;
    "█".repeat(filled) + &"░".repeat(width - filled)
}

const EIGHTHS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The most recent `width` values as a `height`-row area chart scaled to
/// `max` (top row first).
pub fn spark(values: &[f64], width: usize, height: usize, max: f64) -> Vec<String> {
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
                    if level == 0 && from_bottom == 0.0 && v > 0.0 { EIGHTHS[1] } else { EIGHTHS[level] }
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
    pub search: Option<&'a str>,
    /// The group view, when on (`agent` or `tenant`).
    pub group: Option<&'a str>,
    pub stale: bool,
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
            search: q.search.as_deref(),
            group: None,
            stale: false,
        }
    }
}

/// Frame text without its SGR escapes, for tests that read what is shown.
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
/// repeats those), and the "all" of unset filters comes last.
pub fn title(snap: &Snapshot, v: &TitleView, width: usize, color: bool) -> String {
    const SEP: &str = "  ";
    let mut l = StyledLine::new(width, color);
    l.attr(&style::Bold).text("openrtc-top").reset();
    if v.stale {
        l.text(" ").fg(&color::Yellow).attr(&style::Bold).attr(&style::Invert).text("STALE").reset();
    }
    let arrow = if v.sort.numeric() != v.reverse { '↓' } else { '↑' };
    l.text(&format!("{SEP}sort {}{arrow}{SEP}status {}", v.sort.sort_name(), v.status));
    if let Some(g) = v.group {
        l.text(SEP).attr(&style::Bold).text("by ").text(g).reset();
    }
    if let Some(q) = v.search {
        l.text(SEP).text("search \"").untrusted(q).text("\"");
    }
    for (name, value) in [("agent", v.agent), ("tenant", v.tenant)] {
        if let Some(x) = value {
            l.text(&format!("{SEP}{name} ")).attr(&style::Bold).untrusted(x).reset();
        }
    }
    let w = snap.worker.as_ref();
    if let Some(name) = w.and_then(|w| w.name.as_deref()) {
        l.text(SEP).untrusted(&text::truncate(name, 32));
    }
    if let Some(up) = w.and_then(|w| w.uptime_s) {
        l.text(&format!("{SEP}up {}", fmt_uptime(up)));
    }
    let active = w.and_then(|w| w.active_sessions).unwrap_or(snap.sessions.len() as f64);
    match w.and_then(|w| w.max_sessions) {
        Some(max) => l.text(&format!("{SEP}sessions {}/{}", fmt_count(active), fmt_count(max))),
        None => l.text(&format!("{SEP}sessions {}", fmt_count(active))),
    };
    for (name, value) in [("agent", v.agent), ("tenant", v.tenant)] {
        if value.is_none() {
            l.text(&format!("{SEP}{name} all"));
        }
    }
    l.finish()
}

fn fmt_count(v: f64) -> String {
    if v.is_finite() { format!("{v:.0}") } else { "n/a".into() }
}

/// The worker's vitals: three stat lines and `graph` rows of CPU history when
/// `full`, else a one-line summary.
pub fn worker_lines(w: &Worker, width: usize, full: bool, graph: usize, color: bool) -> Vec<String> {
    let sys = w.system.clone().unwrap_or_default();
    let label = |l: &mut StyledLine, t: &str| {
        l.fg(&color::Cyan).text(t).reset();
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
        let mut l = StyledLine::new(width, color);
        label(&mut l, "CPU ");
        l.text(&fmt_opt(sys.cpu_pct, 1, "%"));
        label(&mut l, "  MEM ");
        l.text(&format!("{}/{}", fmt_gb(sys.mem_used_bytes), fmt_gb(sys.mem_total_bytes)));
        label(&mut l, "  LOAD ");
        l.text(&fmt_opt(sys.load1, 2, ""));
        label(&mut l, "  FAILED ");
        l.text(&fmt_opt(w.failed, 0, ""));
        return vec![l.finish()];
    }
    let mut lines = Vec::new();
    let mut l = StyledLine::new(width, color);
    label(&mut l, "CPU  ");
    l.text(&format!("{:>6} ", fmt_opt(sys.cpu_pct, 1, "%")));
    l.fg(&color::Green).text(&bar(sys.cpu_pct.unwrap_or(0.0) / 100.0, 14)).reset();
    label(&mut l, "  LOAD ");
    l.text(&loads);
    label(&mut l, "  vCPUs ");
    l.text(&fmt_opt(sys.vcpus, 0, ""));
    lines.push(l.finish());

    let mut l = StyledLine::new(width, color);
    label(&mut l, "MEM  ");
    l.fg(&color::Green).text(&bar(mem_frac.unwrap_or(0.0), 10)).reset();
    l.text(&format!(" {} / {}", fmt_gb(sys.mem_used_bytes), fmt_gb(sys.mem_total_bytes)));
    label(&mut l, "  SWAP ");
    l.text(&format!("{} / {}", fmt_gb(sys.swap_used_bytes), fmt_gb(sys.swap_total_bytes)));
    label(&mut l, "  NET ");
    l.text(&fmt_rate(sys.net_rate_bps));
    lines.push(l.finish());

    let mut l = StyledLine::new(width, color);
    label(&mut l, "SESSIONS ");
    l.text(&format!("{} / {}", fmt_opt(w.active_sessions, 0, ""), fmt_opt(w.max_sessions, 0, "")));
    label(&mut l, "  STARTED ");
    l.text(&fmt_opt(w.started, 0, ""));
    label(&mut l, "  FAILED ");
    if w.failed.is_some_and(|f| f > 0.0) {
        l.fg(&color::Red).attr(&style::Bold).text(&fmt_opt(w.failed, 0, "")).reset();
    } else {
        l.text(&fmt_opt(w.failed, 0, ""));
    }
    label(&mut l, "  DRAINING ");
    l.text(match w.draining {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    });
    if sys.available == Some(false) {
        l.text("  (host vitals n/a: worker lacks psutil)");
    }
    lines.push(l.finish());

    if graph > 0 {
        const LABEL: &str = "CPU% ";
        let chart = spark(&w.cpu_history, width.saturating_sub(LABEL.len()), graph, 100.0);
        for (n, row) in chart.into_iter().enumerate() {
            let mut l = StyledLine::new(width, color);
            label(&mut l, if n + 1 == graph { LABEL } else { "     " });
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

const NARROWING: [Narrow; 9] = [
    Narrow::Shrink(&[Column::Agent, Column::Tenant]),
    Narrow::Drop(Column::Pin),
    Narrow::Drop(Column::Peak),
    Narrow::Drop(Column::Tenant),
    Narrow::Drop(Column::Duration),
    Narrow::Shrink(&[Column::Session]),
    Narrow::Drop(Column::Agent),
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
/// text shrinks toward a minimum and whole columns drop before a number is cut.
pub fn layout(snap: &Snapshot, text: &[usize; 9], visible: &[usize], width: usize) -> TableLayout {
    let numbers = column::natural_widths(snap, visible, true);
    let mut widths: Vec<(Column, usize)> =
        Column::ALL.iter().zip(text.iter().zip(numbers)).map(|(&c, (&t, n))| (c, t.max(n))).collect();
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

pub fn header_line(t: &TableLayout, sort: Column, width: usize, color: bool) -> String {
    let mut l = StyledLine::new(width, color);
    l.attr(&style::Invert);
    for (n, &(c, w)) in t.cols.iter().enumerate() {
        if n > 0 {
            l.text(" ");
        }
        let h = text::truncate(c.header(), w);
        let start = l.used;
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

pub fn row_line(t: &TableLayout, s: &Session, look: RowLook, width: usize, color: bool) -> String {
    let mut l = StyledLine::new(width, color);
    if look.selected {
        l.attr(&style::Invert);
    }
    if look.stale {
        l.attr(&style::Faint);
    }
    for (n, &(c, w)) in t.cols.iter().enumerate() {
        if n > 0 {
            l.text(" ");
        }
        let v = c.screen_text(s, look.client_pin);
        let start = l.used;
        if c.numeric() {
            l.pad(start + w.saturating_sub(text::width(&v)));
            l.text(&v);
        } else if c == Column::Status && !look.selected {
            status_style(&mut l, &s.status);
            l.text(&text::truncate(&v, w)).reset();
            if look.stale {
                l.attr(&style::Faint);
            }
        } else {
            l.text(&text::truncate(&v, w));
        }
        l.pad(start + w);
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

/// The whole `--once` frame for a terminal: title, worker header, every row.
pub fn once_frame(snap: &Snapshot, order: &[usize], view: &TitleView, header: bool, width: usize, color: bool) -> String {
    let mut out = String::new();
    let mut push = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    push(title(snap, view, width, color));
    if let Some(w) = &snap.worker {
        worker_lines(w, width, true, 2, color).into_iter().for_each(&mut push);
    }
    let t = layout(snap, &column::natural_widths(snap, order, false), order, width);
    if header {
        push(header_line(&t, view.sort, width, color));
    }
    for &i in order {
        push(row_line(&t, &snap.sessions[i], RowLook::default(), width, color));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::view::{Query, order};

    const V020: &str = include_str!("../../tests/fixtures/snapshot-v020.jsonl");
    use super::strip_sgr as strip;

    fn view() -> TitleView<'static> {
        static Q: std::sync::LazyLock<Query> = std::sync::LazyLock::new(Query::default);
        TitleView::of(&Q)
    }

    #[test]
    fn lines_fit_every_width() {
        let snap = decode(V020.trim_end().as_bytes()).unwrap();
        let ord = order(&snap.sessions, &Query::default(), &[]);
        for width in [1, 10, 20, 40, 60, 80, 132, 300] {
            for line in once_frame(&snap, &ord, &view(), true, width, true).lines() {
                assert!(text::width(&strip(line)) <= width, "{width}: {line:?}");
            }
        }
    }

    #[test]
    fn narrow_terminals_drop_columns_not_numbers() {
        let snap = decode(V020.trim_end().as_bytes()).unwrap();
        let ord = order(&snap.sessions, &Query::default(), &[]);
        let text = column::natural_widths(&snap, &ord, false);
        let t = layout(&snap, &text, &ord, 40);
        let cols: Vec<Column> = t.cols.iter().map(|c| c.0).collect();
        assert!(cols.contains(&Column::Mem) && cols.contains(&Column::Status) && cols.contains(&Column::Session));
        assert!(!cols.contains(&Column::Pin));
        let wide = layout(&snap, &text, &ord, 200);
        assert_eq!(wide.cols.len(), 9);
        let row = strip(&row_line(&t, &snap.sessions[ord[0]], RowLook::default(), 40, false));
        assert!(row.contains("21.5") || row.contains("2.3"), "{row}");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_and_wide_chars_align() {
        let snap = decode("[{\"session_id\": \"\u{4e2d}\u{6587}\u{4e2d}\u{6587}\u{4e2d}\u{6587}\u{4e2d}\u{6587}\u{4e2d}\u{6587}\", \"agent_name\": \"a\"}, {\"session_id\": \"plain\", \"agent_name\": \"b\"}]".as_bytes()).unwrap();
        let t = TableLayout { cols: vec![(Column::Session, 9), (Column::Agent, 5)] };
        let a = strip(&row_line(&t, &snap.sessions[0], RowLook::default(), 20, false));
        let b = strip(&row_line(&t, &snap.sessions[1], RowLook::default(), 20, false));
        assert_eq!(a, "中文中文… a    ");
        assert_eq!(text::width(&a), text::width(&b));
    }

    #[test]
    fn control_bytes_never_reach_a_frame() {
        let snap = decode(br#"{"worker": {"name": "w\u001b]0;pwn\u0007"}, "sessions": [{"session_id": "\u001b[2J", "agent_name": "\u009b31m", "tenant": "t\r\n"}]}"#).unwrap();
        let ord = vec![0];
        let f = once_frame(&snap, &ord, &view(), true, 80, false);
        let stripped = strip(&f);
        assert!(!stripped.chars().any(|c| c.is_control() && c != '\n'), "{f:?}");
        assert!(stripped.contains("?[2J") && stripped.contains("w?]0;pwn?"));
        // The only escapes are our own SGR sequences.
        for (i, _) in f.match_indices('\x1b') {
            assert!(f[i..].starts_with("\x1b["), "{f:?}");
        }
    }

    #[test]
    fn status_colours() {
        let snap = decode(br#"[{"status": "active"}, {"status": "slow"}, {"status": "draining"}, {"status": "errored"}]"#).unwrap();
        let t = TableLayout { cols: vec![(Column::Status, 8)] };
        let line = |i: usize| row_line(&t, &snap.sessions[i], RowLook::default(), 20, true);
        assert!(line(0).contains(&color::Fg(color::Green).to_string()));
        assert!(line(1).contains(&color::Fg(color::Yellow).to_string()) && line(1).contains(&style::Bold.to_string()));
        assert!(line(2).contains(&color::Fg(color::Cyan).to_string()));
        assert!(line(3).contains(&color::Fg(color::Red).to_string()));
        let plain = row_line(&t, &snap.sessions[0], RowLook::default(), 20, false);
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
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(spark(&[0.0, 50.0, 100.0], 10, 1, 100.0), vec![" ▄█"]);
        assert_eq!(spark(&[0.0, 2.0], 10, 2, 100.0), vec!["  ", " ▁"]);
        assert_eq!(spark(&[100.0, 50.0], 2, 2, 100.0), vec!["█ ", "██"]);
        assert_eq!(spark(&[100.0, 25.0], 1, 2, 100.0), vec![" ", "▄"]);
    }
}
