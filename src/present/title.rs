//! The title line.

use termion::{color, style};

use super::format::{fmt_count, fmt_uptime};
use super::line::{Paint, StyledLine};
use crate::model::Pool;
use crate::model::column::Column;
use crate::summary::Totals;
use crate::text;

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
    /// The one worker's sessions are not current: `STALE`, or `BLOCKED`
    /// while its loop does not answer.
    pub stale: Option<&'static str>,
    /// For how long (`12s`): since the last snapshot shown.
    pub stale_for: Option<String>,
    /// The local time of the last snapshot, as top's clock (`14:03:22`).
    pub clock: Option<String>,
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
            stale: None,
            stale_for: None,
            clock: None,
            replay: None,
            recording: None,
            totals: None,
        }
    }
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
    // The clock comes first, so a narrow terminal keeps it (top's does).
    if let Some(c) = v.clock.as_deref().filter(|c| l.room() > c.len()) {
        l.text(" ").text(c);
    }
    if let Some(word) = v.stale.filter(|w| l.room() > w.len()) {
        let c: &dyn color::Color = if matches!(word, "STALE" | "WAITING") { &color::Yellow } else { &color::Red };
        let word = match &v.stale_for {
            Some(age) if l.room() > word.len() + age.len() + 1 => format!("{word} {age}"),
            _ => word.to_string(),
        };
        l.text(" ").fg(c).attr(&style::Bold).attr(&style::Invert).text(&word).reset();
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
        let stale = t.workers - t.up - t.blocked;
        l.item(&format!("{SEP}workers {}", t.workers));
        if t.blocked > 0 && l.room() >= SEP.len() + 12 {
            l.text(SEP).fg(&color::Red).attr(&style::Bold).text(&format!("{} blocked", t.blocked)).reset();
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::header::worker_lines;
    use crate::present::testing::*;
    use crate::present::line::strip_sgr as strip;

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
            for line in worker_lines(w, None, width, true, 0, PLAIN).iter().chain(&worker_lines(w, None, width, false, 0, PLAIN)) {
                let line = strip(line);
                assert!(!line.contains('…'), "{width}: {line}");
                for item in ["SESSIONS 12 / 24", "STARTED 12", "LOAD 0.42", "SWAP 0.0G / 0.0G", "NET n/a", "vCPUs 2"] {
                    assert!(whole(&line, item), "{width}: {item} cut in {line:?}");
                }
            }
        }
        let narrow = strip(&title(&snap, &view(), 80, PLAIN));
        assert!(narrow.contains("sessions 12/24"), "{narrow}");
        let tiny = strip(&worker_lines(w, None, 24, true, 0, PLAIN)[1]);
        assert!(!tiny.contains('.') || tiny.contains("G / "), "{tiny}");
    }
}
