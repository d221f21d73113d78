//! The live view's whole frame for a terminal size: title, banner, worker
//! header, then the table, a group view, the detail pane or the help overlay,
//! and the footer. Pure: `App` and a size in, exactly `h` lines out.

use std::fmt::Write as _;
use std::time::Instant;

use termion::{color, style};

use super::app::{App, Mode};
use super::keys;
use super::trends::SPAN as TREND_SPAN;
use crate::model::column::Column;
use crate::present::format;
use crate::present::header::worker_lines;
use crate::present::line::{Paint, StyledLine, faint};
use crate::present::table::{RowLook, header_line, layout, row_line};
use crate::present::title::{TitleView, title};
use crate::present::stack::{self, StackView};
use crate::present::{events, groups, workers};
use crate::source::Banner;
use crate::text;

/// How the lines between the title and the footer are shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub banner: bool,
    /// Worker header: `None`, compact (1 line) or full with `graph` chart
    /// rows; for several workers, how many lines theirs takes.
    pub header: Option<(bool, usize)>,
    pub workers: usize,
    /// Rows of the table (or pane) on screen, below its header line.
    pub page: usize,
}

pub fn plan(app: &App, h: usize) -> Plan {
    let banner = app.problem.is_some() || blocked_banner(app).is_some();
    // title, banner, table header, footer
    let fixed = 3 + usize::from(banner);
    let avail = h.saturating_sub(fixed);
    // The help overlay takes the header's rows too (and has a title where
    // the table has its header line): its page is all of them.
    if app.mode == Mode::Help {
        return Plan { banner, header: None, workers: 0, page: avail };
    }
    if app.pool.multi() {
        // The workers' lines take at most a third of the screen (the rest
        // is for sessions), and leave a few rows for the table.
        let budget = (h / 3).min(avail.saturating_sub(4));
        let workers = workers::height(&app.summary, budget);
        return Plan { banner, header: None, workers, page: avail - workers };
    }
    let header = match app.pool.block() {
        None => None,
        Some(_) if avail >= 3 + 2 + 12 => Some((true, 2)),
        Some(_) if avail >= 3 + 1 + 6 => Some((true, 1)),
        Some(_) if avail > 4 => Some((false, 0)),
        Some(_) => None,
    };
    let used = match header {
        Some((true, g)) => 3 + g,
        Some((false, _)) => 1,
        None => 0,
    };
    Plan { banner, header, workers: 0, page: avail.saturating_sub(used) }
}

/// The whole live frame: exactly `h` lines, each at most `w` columns.
pub fn live_frame(app: &App, w: usize, h: usize, paint: Paint) -> Vec<String> {
    let p = plan(app, h);
    let replay = app.replay.as_ref().map(|r| {
        let how = if r.playing { format!("playing {}x", r.speed) } else { "paused".to_string() };
        let bad = if r.bad > 0 { format!("  {} met so far", crate::source::recording::counted(r.bad)) } else { String::new() };
        (format!("{} {how}{bad}", crate::clock::stamp(r.time)), r.note.clone())
    });
    let totals = app.pool.multi().then_some(&app.summary.totals);
    let banner = blocked_banner(app).or_else(|| app.problem.clone());
    // Nothing was ever fresh: not stale, waiting for a worker.
    let stale = match (blocked_banner(app).is_some(), app.stale(), app.loaded) {
        (true, _, _) => Some("BLOCKED"),
        (false, true, false) => Some("WAITING"),
        (false, true, true) => Some("STALE"),
        (false, false, _) => None,
    };
    // Since when: the age of the last snapshot shown; and top's clock, the
    // local time of that snapshot (a replay shows its sample's time instead).
    let stale_for = app.last_fresh.filter(|_| matches!(stale, Some("STALE" | "BLOCKED"))).map(|t| crate::clock::age(((app.wall - t).max(0) / 1000) as u64));
    let clock = app.clock.clone().filter(|_| app.replay.is_none());
    let view = TitleView { group: app.group.map(|g| g.header()), stale, stale_for, clock, replay, recording: app.recording, totals, ..TitleView::of(&app.query) };
    let mut lines = vec![title(&app.pool, &view, w, paint)];
    if let Some(why) = &banner {
        let mut l = StyledLine::new(w, paint);
        l.attr(&style::Invert).fg(&color::Red).attr(&style::Bold).text(&banner_text(why, w, paint)).pad(w);
        lines.push(l.finish());
    }
    // The help overlay takes the header's rows too: it lists every binding.
    if let (Some((full, graph)), Some(worker), false) = (p.header, app.pool.block(), app.mode == Mode::Help) {
        lines.extend(worker_lines(worker, app.pool.workers[0].pid, w, full, graph, paint));
    }
    if p.workers > 0 && app.mode != Mode::Help {
        lines.extend(workers::lines(&app.pool, &app.summary, w, p.workers, paint));
    }
    let area = h.saturating_sub(lines.len() + 1);
    match (&app.mode, app.group) {
        (Mode::Help, _) => lines.extend(help(w, area, app.pane_scroll, app.replay.is_some(), paint)),
        (Mode::Detail(_), _) => lines.extend(detail(app, w, area, paint)),
        (Mode::Events, _) => lines.extend(events::pane(&app.events, app.pool.multi(), app.pane_scroll, app.events_seen, w, area, paint)),
        (Mode::Stack(key), _) => {
            let v = StackView {
                worker: app.pool.workers.iter().find(|x| x.key == *key),
                taking: app.asked.is_some_and(|(k, _)| k == *key),
                replay: app.replay.is_some(),
                scroll: app.pane_scroll,
            };
            lines.extend(stack::pane(&v, w, area, paint));
        }
        (_, Some(by)) => lines.extend(groups::lines(by, &app.groups, app.panel.scroll, app.panel.cursor, w, area, paint)),
        _ => lines.extend(session_table(app, w, area, p.page, paint)),
    }
    lines.truncate(h.saturating_sub(1));
    lines.resize(h.saturating_sub(1), String::new());
    if h > 0 {
        lines.push(footer(app, w, paint));
    }
    lines
}

/// One worker, its loop blocked: the banner says so as a worker line
/// would (for how long, why, the suspects, the stack), live or replayed.
fn blocked_banner(app: &App) -> Option<Banner> {
    let [w] = app.pool.workers.as_slice() else { return None };
    let b = w.state.blocked()?;
    let path = text::in_message(&w.socket.to_string_lossy()).into_owned();
    let pid = w.pid.filter(|&p| p > 0).map_or(String::new(), |p| format!(" (pid {p})"));
    let line = crate::present::blocked::line(b, &crate::present::blocked::suspects(&app.pool, 0), w.stack.as_ref());
    Some(Banner::around(format!("worker at {path}{pid}: {}", text::in_message(&line)), &path))
}

/// The banner's message in `w` columns, keeping the reason (which comes
/// after the path): the path is shortened in its middle first, then the
/// words before it go, and only then is the end cut. (The message is
/// already sanitized.)
fn banner_text(b: &Banner, w: usize, paint: Paint) -> String {
    let full = b.text();
    if text::width(&full) <= w || b.path.is_empty() {
        return full;
    }
    const MIN_PATH: usize = 8;
    let after = text::width(&b.after);
    for before in [b.before.as_str(), ""] {
        let room = w.saturating_sub(text::width(before) + after);
        if room >= MIN_PATH {
            return format!("{before}{}{}", text::truncate_middle(&b.path, room, paint.charset), b.after);
        }
    }
    format!("{}{}", text::truncate_middle(&b.path, MIN_PATH, paint.charset), b.after)
}

fn session_table(app: &App, w: usize, area: usize, page: usize, paint: Paint) -> Vec<String> {
    let shown: Vec<usize> = app.order.iter().skip(app.panel.scroll).take(page).copied().collect();
    let t = layout(&app.pool, &app.text_widths, &shown, w);
    let mut lines = Vec::new();
    if area == 0 {
        return lines;
    }
    lines.push(header_line(&t, app.query.sort, w, paint));
    for (n, &i) in shown.iter().enumerate() {
        let s = &app.pool.sessions[i];
        let look = RowLook {
            selected: app.panel.scroll + n == app.panel.cursor,
            stale: app.row_stale(i),
            client_pin: app.pins.iter().any(|p| app.pool.is(s, p)),
        };
        lines.push(row_line(&t, &app.pool, s, look, w, paint));
    }
    if shown.is_empty() && page > 0 {
        lines.push(faint(w, paint, match (app.loaded, app.pool.sessions.is_empty()) {
            (false, _) if app.problem.is_some() => "  waiting for a worker: start a coroutine-mode worker ('openrtc dev ./agents' or 'openrtc start ./agents'), or pass --socket PATH",
            (false, _) => "  waiting for the worker...",
            (true, true) => "  no live sessions",
            (true, false) => "  no sessions match the filters",
        }));
    }
    lines
}

/// The keys of this mode (a replay's travel keys only when replaying),
/// from line `scroll` on; a marker says when more are above or below.
fn help(w: usize, area: usize, scroll: usize, replay: bool, paint: Paint) -> Vec<String> {
    let all: Vec<(&str, String)> = keys::help_lines(replay).collect();
    let room = area.saturating_sub(1);
    let scroll = scroll.min(all.len().saturating_sub(room.max(1)));
    let below = all.len() > scroll + room;
    let mut lines = Vec::new();
    let mut l = StyledLine::new(w, paint);
    let title = match (scroll > 0, below) {
        (false, false) => "openrtc-top keys (any key closes this)".to_string(),
        (up, _) => format!("openrtc-top keys {}-{} of {}{} (j/k, PgUp/PgDn scroll; any other key closes this)", scroll + 1, (scroll + room).min(all.len()), all.len(), if up { ", more above" } else { "" }),
    };
    l.attr(&style::Invert).attr(&style::Bold).text(&title).pad(w);
    lines.push(l.finish());
    let key_w = all.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let shown = if below { room.saturating_sub(1) } else { room };
    for (k, what) in all.iter().skip(scroll).take(shown) {
        let mut l = StyledLine::new(w, paint);
        l.text("  ").fg(&color::Cyan).attr(&style::Bold).text(k).reset().pad(2 + key_w + 2).text(what);
        lines.push(l.finish());
    }
    if below {
        let mut l = StyledLine::new(w, paint);
        l.attr(&style::Bold).text(&format!("  -- {} more below: j or PgDn --", all.len() - scroll - shown)).reset();
        lines.push(l.finish());
    }
    lines.truncate(area);
    lines
}

/// The detail pane: every field of the session, its full id, and the CPU and
/// memory it had over the last minute as this client saw it.
fn detail(app: &App, w: usize, area: usize, paint: Paint) -> Vec<String> {
    let mut lines = Vec::new();
    let Some((s, live, key)) = app.detail() else { return lines };
    let mut l = StyledLine::new(w, paint);
    l.attr(&style::Invert).attr(&style::Bold).text(if live { "session details" } else { "session details (ended: last values seen)" });
    l.text("  Enter/Esc close").pad(w);
    lines.push(l.finish());
    // The full id, wrapped: never cut here.
    let id = text::display(&s.session_id, paint.charset);
    let label = "  session   ";
    let room = w.saturating_sub(label.len()).max(1);
    let mut chunk = String::new();
    let mut first = true;
    for c in id.chars() {
        if text::width(&chunk) + text::char_width(c) > room {
            lines.push(field_line(w, paint, if first { label } else { "" }, &chunk));
            chunk.clear();
            first = false;
        }
        chunk.push(c);
    }
    lines.push(field_line(w, paint, if first { label } else { "" }, &chunk));
    let pinned_here = app.pins.contains(key);
    let mut dur = String::new();
    Column::Duration.push_rounded(&mut dur, Column::Duration.number(s));
    // A field the worker did not send (or sent with another type) is "-".
    let or_dash = |col: Column, text: String| if col.missing(s) { "-".to_string() } else { text };
    let mut rows: Vec<(&str, String)> = Vec::new();
    if app.pool.multi() {
        // The worker as it is now (the session may be from its last snapshot).
        let worker = app.pool.workers.iter().find(|w| w.key == key.worker);
        let label = worker.map_or("-".into(), |w| match w.state.up() {
            true => w.label.clone(),
            false => format!("{} ({})", w.label, if w.state.gone() { "gone" } else if w.state.blocked().is_some() { "blocked" } else { "stale" }),
        });
        rows.push(("worker", label));
        rows.push(("socket", worker.map_or("-".into(), |w| w.socket.to_string_lossy().into_owned())));
    }
    rows.extend([
        ("agent", or_dash(Column::Agent, s.agent_name.to_string())),
        ("tenant", s.tenant.as_deref().unwrap_or("- (unset)").to_string()),
        ("status", or_dash(Column::Status, s.status.as_str().to_string())),
        ("duration", or_dash(Column::Duration, format!("{dur} s ({})", format::fmt_duration(Column::Duration.number(s))))),
        (
            "memory",
            format!("{} MB now, peak {} MB", or_dash(Column::Mem, Column::Mem.rounded(Column::Mem.number(s))), or_dash(Column::Peak, Column::Peak.rounded(Column::Peak.number(s)))),
        ),
        ("cpu", or_dash(Column::Cpu, format!("{} %", Column::Cpu.rounded(Column::Cpu.number(s))))),
        ("pinned", format!("by the worker: {}, here: {}", if Column::Pin.missing(s) { "-" } else { yes(s.pinned) }, yes(pinned_here))),
    ]);
    // Its worker's process, and the last stack taken of it (y).
    if let Some(worker) = app.pool.workers.iter().find(|w| w.key == key.worker) {
        if let Some(pid) = worker.pid {
            rows.push(("pid", if pid == 0 { "0 (another pid namespace)".into() } else { pid.to_string() }));
        }
        if let Some(t) = &worker.stack {
            rows.push(("stack", format!("{} (at {} UTC; y shows it)", t.words(), events::clock(t.at))));
        }
    }
    for (name, value) in rows {
        let mut l = StyledLine::new(w, paint);
        l.text("  ").fg(&color::Cyan).text(name).reset().pad(12);
        if name == "status" {
            crate::present::table::status_style(&mut l, &s.status);
        }
        l.untrusted(&value).reset();
        lines.push(l.finish());
    }
    lines.push(String::new());
    lines.extend(trend_lines(app.trends.get(key), w, paint));
    lines.truncate(area);
    lines
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn field_line(w: usize, paint: Paint, label: &str, value: &str) -> String {
    let mut l = StyledLine::new(w, paint);
    if label.is_empty() {
        l.pad(12);
    } else {
        l.text("  ").fg(&color::Cyan).text(label.trim()).reset().pad(12);
    }
    l.text(value);
    l.finish()
}

/// CPU and memory sparklines over the last minute: one column per slice of
/// time, averaged; a slice with no snapshot stays blank.
fn trend_lines(samples: Vec<(Instant, f64, f64)>, w: usize, paint: Paint) -> Vec<String> {
    let label_w = 20;
    let width = w.saturating_sub(label_w).clamp(1, 60);
    let series = |pick: fn(&(Instant, f64, f64)) -> f64| bucket(&samples, width, pick);
    let cpu = series(|x| x.1);
    let mem = series(|x| x.2);
    let mut out = Vec::new();
    for (name, values, floor_zero, unit) in [("CPU% last 60 s", cpu, true, "%"), ("MEM last 60 s", mem, false, " MB")] {
        let finite: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let base = if floor_zero { 0.0 } else { lo };
        let span = (hi - base).max(if floor_zero { 1.0 } else { 1e-9 });
        let mut chart = String::new();
        for v in &values {
            chart.push(match v {
                Some(v) if v.is_finite() => {
                    let level = (((v - base) / span) * 7.0).round().clamp(0.0, 7.0) as usize;
                    format::levels(paint)[level + 1]
                }
                _ => ' ',
            });
        }
        let mut l = StyledLine::new(w, paint);
        l.text("  ").fg(&color::Cyan).text(name).reset().pad(label_w).fg(&color::Green).text(&chart).reset();
        if !finite.is_empty() {
            let mut range = String::new();
            let dash = if paint.charset.unicode() { '–' } else { '-' };
            let _ = write!(range, "  {}{dash}{}{unit}", Column::Mem.rounded(lo), Column::Mem.rounded(hi));
            l.text(&range);
        }
        out.push(l.finish());
    }
    if samples.len() < 2 {
        out.push(faint(w, paint, "  (the trend fills in as snapshots arrive)"));
    }
    out
}

/// Average of `pick` per time slice over the minute ending at the last sample.
fn bucket(samples: &[(Instant, f64, f64)], width: usize, pick: fn(&(Instant, f64, f64)) -> f64) -> Vec<Option<f64>> {
    let mut sums = vec![(0.0, 0usize); width];
    let Some(&(end, _, _)) = samples.last() else { return vec![None; width] };
    let span = TREND_SPAN.as_secs_f64();
    for x in samples {
        let age = end.duration_since(x.0).as_secs_f64();
        if age > span {
            continue;
        }
        let col = (((span - age) / span) * (width as f64 - 1.0)).round() as usize;
        let slot = &mut sums[col.min(width - 1)];
        slot.0 += pick(x);
        slot.1 += 1;
    }
    sums.into_iter().map(|(sum, n)| (n > 0).then(|| sum / n as f64)).collect()
}

fn footer(app: &App, w: usize, paint: Paint) -> String {
    let n = app.len();
    let what = if app.group.is_some() { "groups" } else { "rows" };
    let range = if n == 0 {
        format!("{what} 0 of 0")
    } else {
        let last = (app.panel.scroll + app.panel.page).min(n);
        format!("{what} {}-{last} of {n}", app.panel.scroll + 1)
    };
    let mut l = StyledLine::new(w, paint);
    let room = w.saturating_sub(text::width(&range) + 2);
    let replay = app.replay.is_some();
    match &app.mode {
        Mode::Search | Mode::Goto => {
            // The end of the text, where typing goes, in the room beside the
            // hints and the range: a long search never pushes those out.
            let (prompt, typed) = match app.mode {
                Mode::Search => ("/", app.query.search.as_deref().unwrap_or("")),
                _ => ("time: ", app.goto.as_str()),
            };
            let hints = format!("  {}", keys::hints(app.context(), replay).collect::<Vec<_>>().join(", "));
            let hints = if text::width(&hints) + 12 <= room { hints } else { String::new() };
            let shown = text::display(typed, paint.charset);
            let field = room.saturating_sub(text::width(&hints) + prompt.len() + 1).max(1);
            l.attr(&style::Bold).text(prompt).reset().text(&tail(&shown, field, paint)).attr(&style::Invert).text(" ").reset();
            l.fg(&color::Cyan).text(&hints).reset();
        }
        mode => {
            // What the last key had to say stands for the hints until the
            // next key; new events are said beside the range.
            let news = match app.new_events() {
                0 => String::new(),
                _ if *mode == Mode::Events => String::new(),
                1 => "1 new event (e)".to_string(),
                n => format!("{n} new events (e)"),
            };
            let news = if room >= text::width(&news) + 20 { news } else { String::new() };
            let room = room.saturating_sub(text::width(&news) + 2);
            let hints = match mode {
                Mode::Help => "j/k PgUp/PgDn scroll, other keys close".to_string(),
                _ => fit_hints(&keys::hints(app.context(), replay).collect::<Vec<_>>(), room),
            };
            match &app.note {
                Some(note) => l.fg(&color::Yellow).attr(&style::Bold).text(&text::truncate(note, room, paint.charset)).reset(),
                None if room >= 10 => l.fg(&color::Cyan).text(&text::truncate(&hints, room, paint.charset)).reset(),
                None => &mut l,
            };
            if !news.is_empty() {
                l.pad(w.saturating_sub(text::width(&range) + text::width(&news) + 2));
                l.fg(&color::Yellow).attr(&style::Bold).text(&news).reset();
            }
        }
    }
    l.pad(w.saturating_sub(text::width(&range)));
    l.text(&range);
    l.finish()
}

/// As many whole hints as fit in `room` columns, two spaces apart, in
/// their order, the lowest in `keys::HINT_RANK` left out first.
fn fit_hints(hints: &[&str], room: usize) -> String {
    let rank = |h: &str| keys::HINT_RANK.iter().position(|r| *r == h).unwrap_or(usize::MAX);
    let mut by_rank: Vec<usize> = (0..hints.len()).collect();
    by_rank.sort_by_key(|&i| (rank(hints[i]), i));
    let mut keep = vec![false; hints.len()];
    let mut used = 0;
    for i in by_rank {
        let w = text::width(hints[i]) + if used == 0 { 0 } else { 2 };
        if used + w <= room {
            used += w;
            keep[i] = true;
        }
    }
    hints.iter().zip(keep).filter(|(_, k)| *k).map(|(h, _)| *h).collect::<Vec<_>>().join("  ")
}

/// The last `max` columns of `s`, an ellipsis first when cut.
fn tail(s: &str, max: usize, paint: Paint) -> String {
    if text::width(s) <= max {
        return s.to_string();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 1;
    for c in s.chars().rev() {
        if used + text::char_width(c) > max {
            break;
        }
        used += text::char_width(c);
        kept.push(c);
    }
    std::iter::once(paint.charset.ellipsis()).chain(kept.into_iter().rev()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::view::Query;
    use termion::event::Key;

    const PAINT: Paint = Paint { color: true, charset: crate::text::Charset::Utf8, place: true };

    const V020: &str = include_str!("../../tests/fixtures/snapshot-v020.jsonl");
    use crate::present::line::strip_sgr as strip;

    fn app_with(payload: &str) -> App {
        let mut a = App::new(Query::default(), crate::text::Charset::Utf8);
        a.set_snapshot(decode(payload.trim_end().as_bytes()).unwrap(), Instant::now());
        a
    }

    fn frame(a: &mut App, w: usize, h: usize) -> Vec<String> {
        a.settle();
        let p = plan(a, h);
        a.fit(p.page);
        live_frame(a, w, h, PAINT).iter().map(|l| strip(l)).collect()
    }

    #[test]
    fn every_mode_fits_every_size() {
        for keys in ["", "?", "\n", "g", "G", "/AJ", "e", "y", "\ny"] {
            let mut b = app_with(V020);
            for c in keys.chars() {
                b.key(Key::Char(c));
            }
            for (w, h) in [(40, 10), (80, 24), (120, 50), (20, 3), (10, 1), (200, 5), (1, 1)] {
                let p = plan(&b, h);
                b.fit(p.page);
                let f = live_frame(&b, w, h, PAINT);
                assert_eq!(f.len(), h, "{keys:?} {w}x{h}");
                for line in &f {
                    assert!(crate::tui::screen::visible_width(line) <= w, "{keys:?} {w}x{h}: {line:?}");
                }
            }
        }
    }

    #[test]
    fn forty_by_ten_still_shows_rows_and_the_footer() {
        let mut a = app_with(V020);
        let f = frame(&mut a, 40, 10);
        assert!(a.panel.page >= 5);
        assert!(f[0].starts_with("openrtc-top"));
        assert!(f.iter().any(|l| l.starts_with("AJ_0000_")), "{f:#?}");
        assert!(f[9].ends_with(&format!("rows 1-{} of 12", a.panel.page)), "{}", f[9]);
    }

    #[test]
    fn tall_terminals_get_the_worker_header_and_graph() {
        let mut a = app_with(V020);
        assert_eq!(plan(&a, 40).header, Some((true, 2)));
        let f = frame(&mut a, 100, 40);
        assert!(f[1].starts_with("CPU") && f[1].contains("29.1%"), "{}", f[1]);
        assert!(f[2].contains("0.4G / 25.3G") && f[2].contains("NET n/a"));
        assert!(f[3].contains("SESSIONS 12 / 24") && f[3].contains("FAILED 0"));
        let legacy = app_with(include_str!("../../tests/fixtures/snapshot-v03-list.jsonl"));
        assert_eq!(plan(&legacy, 40).header, None);
    }

    #[test]
    fn a_problem_shows_a_banner_and_marks_the_table_stale() {
        let mut a = app_with(V020);
        a.set_problem(Banner::around("no running openrtc pool at /x/top.sock: retrying (no socket there)".into(), "/x/top.sock"));
        let raw = live_frame(&a, 100, 20, PAINT);
        let f: Vec<String> = raw.iter().map(|l| strip(l)).collect();
        assert!(f[1].starts_with("no running openrtc pool at /x/top.sock: retrying"));
        assert!(f[0].contains("STALE"));
        assert!(raw.iter().any(|l| l.contains(&style::Faint.to_string()) && strip(l).starts_with("AJ_")));
    }

    #[test]
    fn a_long_search_shows_its_end_and_keeps_the_range() {
        let mut a = app_with(V020);
        a.key(Key::Char('/'));
        a.paste(&format!("{}end", "x".repeat(500)));
        let f = frame(&mut a, 80, 20);
        let footer = f.last().unwrap();
        assert!(footer.starts_with("/…") && footer.contains("xend"), "{footer}");
        assert!(footer.ends_with("rows 0 of 0"), "{footer}");
        assert!(crate::text::width(footer) <= 80);
    }

    #[test]
    fn before_the_first_snapshot_the_header_names_every_column() {
        let mut a = App::new(Query::default(), crate::text::Charset::Utf8);
        let f = frame(&mut a, 100, 20);
        let header = f.iter().find(|l| l.contains("dur(s)")).unwrap();
        assert_eq!(header.split_whitespace().collect::<Vec<_>>(), ["session", "agent", "tenant", "dur(s)", "mem(MB)", "peak", "cpu%", "status", "pin"]);
        assert!(f.iter().any(|l| l.contains("waiting for the worker")));
    }

    #[test]
    fn a_narrow_banner_shortens_the_path_and_keeps_the_reason() {
        let path = "/run/user/1000/openrtc-1000/top.sock";
        let b = Banner::around(format!("no running openrtc pool at {path}: retrying (nothing is listening on the socket)"), path);
        let at60 = banner_text(&b, 60, PAINT);
        assert!(at60.ends_with(": retrying (nothing is listening on the socket)") && at60.starts_with("/run/") && at60.contains(".sock"), "{at60}");
        assert!(text::width(&at60) <= 60, "{at60}");
        let at100 = banner_text(&b, 100, PAINT);
        assert!(at100.starts_with("no running openrtc pool at /run/") && text::width(&at100) <= 100, "{at100}");
        assert_eq!(banner_text(&b, 200, PAINT), b.text());
    }

    #[test]
    fn footer_hints_are_whole_and_the_important_ones_stay() {
        let all = ["q quit", "? help", "/ search", "e events", "y stack", "s/S sort", "f status", "a/t agent/tenant", "p pin", "g/G group", "Enter details"];
        let full = fit_hints(&all, 500);
        assert_eq!(full, all.join("  "));
        let at80 = fit_hints(&all, 62);
        assert!(text::width(&at80) <= 62, "{at80}");
        for h in ["q quit", "? help", "Enter details", "p pin", "g/G group", "s/S sort"] {
            assert!(at80.contains(h), "{h} in {at80}");
        }
        assert!(!at80.contains("a/t"), "{at80}");
        // Whole hints only, still in table order.
        let kept: Vec<&str> = at80.split("  ").collect();
        let mut in_order = kept.clone();
        in_order.sort_by_key(|h| all.iter().position(|a| a == h).unwrap());
        assert_eq!(kept, in_order);
    }

    #[test]
    fn pins_show_a_star_and_search_shows_a_prompt() {
        let mut a = app_with(V020);
        a.key(Key::Down);
        let second = a.pool.sessions[a.order[1]].session_id.to_string();
        a.key(Key::Char('p'));
        let f = frame(&mut a, 100, 30);
        let pinned = f.iter().find(|l| l.starts_with(&second)).unwrap();
        assert!(pinned.trim_end().ends_with('*'), "{pinned}");
        for c in "/acme-1".chars() {
            a.key(Key::Char(c));
        }
        let f = frame(&mut a, 100, 30);
        assert!(f.last().unwrap().starts_with("/acme-1"), "{:?}", f.last());
        assert!(f[0].contains("search \"acme-1\""));
        assert!(f.last().unwrap().ends_with("rows 1-3 of 3"));
    }

    #[test]
    fn detail_pane_shows_every_field_and_the_full_id() {
        let long = "x".repeat(150);
        let mut a = app_with(&format!(r#"[{{"session_id": "AJ_{long}", "agent_name": "support", "tenant": null, "duration_s": 312.4, "mem_mb": 182.5, "peak_mb": 240.1, "cpu_pct": 37.2, "status": "slow", "pinned": true}}]"#));
        a.key(Key::Char('\n'));
        let f = frame(&mut a, 80, 30);
        let text = f.join("\n");
        let id_chars: usize = f.iter().filter(|l| l.contains("xxxx")).map(|l| l.matches('x').count()).sum();
        assert_eq!(id_chars, 150, "{text}");
        for needle in ["agent     support", "tenant    - (unset)", "status    slow", "312 s (5m 12s)", "182.5 MB now, peak 240.1 MB", "37.2 %", "by the worker: yes, here: no", "CPU% last 60 s", "MEM last 60 s"] {
            assert!(text.contains(needle), "{needle}\n{text}");
        }
    }

    #[test]
    fn group_view_and_help_overlay() {
        let mut a = app_with(V020);
        a.key(Key::Char('g'));
        let f = frame(&mut a, 80, 30);
        assert!(f[0].contains("by agent"));
        let head = f.iter().position(|l| l.starts_with("agent")).unwrap();
        assert!(f[head].contains("sessions") && f[head].contains("slow") && f[head].contains("mem(MB)"));
        // booking: 4 sessions, 2 slow, 9.2 MB, mean cpu (21.5+0+1.5+0)/4.
        assert!(f.iter().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["booking", "4", "2", "9.2", "5.8"]), "{f:#?}");
        assert!(f.last().unwrap().ends_with("groups 1-3 of 3"));
        a.key(Key::Char('?'));
        let f = frame(&mut a, 110, 50);
        let text = f.join("\n");
        for (k, _) in keys::help_lines(false) {
            assert!(text.contains(k), "help lacks {k}");
        }
    }

    #[test]
    fn trend_buckets_cover_the_last_minute() {
        let t0 = Instant::now();
        let samples: Vec<(Instant, f64, f64)> = (0..61).map(|k| (t0 + std::time::Duration::from_secs(k), k as f64, 10.0)).collect();
        let b = bucket(&samples, 7, |x| x.1);
        assert_eq!(b.len(), 7);
        assert!(b.iter().all(Option::is_some));
        assert!(b[0].unwrap() < b[6].unwrap());
        assert_eq!(bucket(&[], 4, |x| x.1), vec![None; 4]);
    }

    #[test]
    fn a_blocked_worker_the_banner_the_events_and_the_stack() {
        use crate::model::{Blocked, Stack, Taken, Update, WorkerState};
        let mut a = app_with(V020);
        let text = "Thread 42 (idle): \"MainThread\"\n    sleep (w.py:3)\n".to_string();
        let stack = Taken { at: 1_000, stack: Ok(Stack { summary: "sleep".into(), text }) };
        let b = Blocked { waited: std::time::Duration::from_millis(4200), why: "main thread sleeping".into(), given_up: false };
        let u = Update { key: 0, label: String::new(), socket: "/x/w.sock".into(), state: WorkerState::Blocked(b), took: None, pid: Some(42), stack: Some(stack), blocks: 0, fresh: None };
        a.update(vec![u], Instant::now(), 2_000);
        let raw = live_frame(&a, 160, 30, PAINT);
        let f: Vec<String> = raw.iter().map(|l| strip(l)).collect();
        assert!(f[0].contains("BLOCKED"), "{}", f[0]);
        // V020's slow sessions are the suspects.
        assert!(f[1].starts_with("worker at /x/w.sock (pid 42): loop blocked 4.2s: main thread sleeping; suspects AJ_"), "{}", f[1]);
        assert!(f[1].contains("; stack sleep"), "{}", f[1]);
        assert!(f.iter().any(|l| l.contains("PID 42")), "the header names the pid");
        assert!(raw.iter().any(|l| l.contains(&style::Faint.to_string()) && strip(l).starts_with("AJ_")), "its rows are dimmed");
        assert!(f.last().unwrap().contains("new events (e)"), "{}", f.last().unwrap());
        a.key(Key::Char('e'));
        let f = frame(&mut a, 160, 30);
        let pane = f.iter().position(|l| l.starts_with("events, newest first")).unwrap();
        assert!(f[pane + 1].contains("blocked  loop blocked for 4.2s (pid 42): main thread sleeping; stack sleep; still blocked"), "{f:#?}");
        assert!(f[pane + 2..].iter().any(|l| l.contains("slow     session AJ_")), "{f:#?}");
        a.key(Key::Esc);
        a.key(Key::Char('y'));
        let f = frame(&mut a, 160, 30);
        let pane = f.iter().position(|l| l.starts_with("stack of")).unwrap();
        assert!(f[pane].contains("(pid 42), taking it now with py-spy; the last one below"), "{}", f[pane]);
        assert_eq!(f[pane + 2].trim_end(), "      sleep (w.py:3)");
    }
}
