//! One worker's block: its host's vitals, its sessions and its CPU
//! history.

use termion::{color, style};

use super::format::{bar, fmt_gb, fmt_opt, fmt_rate, spark, yes_no};
use super::line::{Paint, StyledLine};
use crate::model::Worker;
use crate::text;

/// The worker's vitals: three stat lines and `graph` rows of CPU history when
/// `full`, else a one-line summary. Each labelled figure is a whole item.
pub fn worker_lines(w: &Worker, pid: Option<u32>, width: usize, full: bool, graph: usize, paint: Paint) -> Vec<String> {
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
    item(&mut l, "  DRAINING ", yes_no(w.draining));
    // Shown when the widest pid would fit (pid_max is at most 2^22, 7
    // digits), so whether it is shown does not depend on its digits.
    if let Some(p) = pid.filter(|&p| p > 0 && l.room() >= "  PID ".len() + 7) {
        item(&mut l, "  PID ", &p.to_string());
    }
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

