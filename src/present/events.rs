//! The incidents (`crate::events`) in words: one line each, for the live
//! view's events pane and for `--replay FILE --events`. Pure.

use termion::{color, style};

use super::line::{Paint, StyledLine, faint};
use crate::events::{Events, Incident, What};

/// What one incident says after its time, worker, kind and length
/// (untrusted parts are the caller's to sanitise with the rest).
pub fn detail(i: &Incident) -> String {
    let mut out = String::new();
    match &i.what {
        What::Blocked { why, pid, stack, after, end } => {
            out.push_str(&format!("loop {} {:.1}s", if i.open { "blocked for" } else { "blocked" }, i.secs()));
            if let Some(p) = pid.filter(|&p| p > 0) {
                out.push_str(&format!(" (pid {p})"));
            }
            if !why.is_empty() {
                out.push_str(": ");
                out.push_str(why);
            }
            if !after.is_empty() {
                out.push_str(&format!("; slow right after: {}", after.join(", ")));
            }
            if let Some(t) = stack {
                out.push_str(&format!("; {}", t.words()));
            }
            match (i.open, end) {
                (true, _) => out.push_str("; still blocked"),
                (false, Some(e)) => out.push_str(&format!("; ended: {e}")),
                (false, None) => {}
            }
        }
        What::Slow { session } => {
            out.push_str(&format!("session {session} slow {:.1}s", i.secs()));
            if i.open {
                out.push_str(", still");
            }
        }
        What::Gone { why, back } => {
            out.push_str(&format!("not answering: {why}"));
            out.push_str(match (i.open, back) {
                (true, _) => "; still",
                (false, true) => "; back",
                (false, false) => "; not back",
            });
        }
        What::Failed { from, to } => out.push_str(&format!("failed sessions {from} -> {to}")),
    }
    out
}

/// `03:12:05`: the time of day (UTC) of a stamp in ms.
pub fn clock(ms: i64) -> String {
    let s = crate::clock::stamp(ms);
    s.get(11..19).unwrap_or(&s).to_string()
}

/// The events pane: a header line, then the incidents newest first from
/// `scroll`, one line each, in `h` lines of `w` columns. `seen`: incidents
/// from this `seq` on are new (marked).
pub fn pane(events: &Events, multi: bool, scroll: usize, seen: u64, w: usize, h: usize, paint: Paint) -> Vec<String> {
    let mut lines = Vec::new();
    if h == 0 {
        return lines;
    }
    let mut l = StyledLine::new(w, paint);
    let title = format!("events, newest first ({} kept of {} seen)", events.len(), events.count());
    l.attr(&style::Invert).attr(&style::Bold).text(&title).text("  e/Esc close").pad(w);
    lines.push(l.finish());
    if events.is_empty() {
        lines.push(faint(w, paint, "  nothing yet: blocks, slow sessions, workers gone and back, failures show here"));
    }
    for i in events.iter().rev().skip(scroll).take(h.saturating_sub(1)) {
        let mut l = StyledLine::new(w, paint);
        l.text(if i.seq >= seen { "* " } else { "  " });
        l.text(&clock(i.at)).text("  ");
        if multi {
            l.untrusted(&i.worker).text("  ");
        }
        let (word, colour): (&str, &dyn color::Color) = match i.what {
            What::Blocked { .. } => ("blocked", &color::Red),
            What::Slow { .. } => ("slow", &color::Yellow),
            What::Gone { .. } => ("gone", &color::Red),
            What::Failed { .. } => ("failed", &color::Magenta),
        };
        let end = l.used() + 9;
        l.fg(colour).attr(&style::Bold).text(word).reset().pad(end);
        l.untrusted(&detail(i));
        lines.push(l.finish());
    }
    lines.truncate(h);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Stack, Taken};

    fn inc(open: bool, what: What) -> Incident {
        Incident { seq: 0, worker: "w1".into(), at: 1_764_300_725_000, until: 1_764_300_729_800, open, what }
    }

    #[test]
    fn each_kind_in_words() {
        let stack = Some(Taken { at: 0, stack: Ok(Stack { summary: "sleep <- body".into(), text: String::new() }) });
        let b = What::Blocked { why: "main thread sleeping".into(), pid: Some(42), stack, after: vec!["AJ_1".into()], end: None };
        assert_eq!(detail(&inc(false, b.clone())), "loop blocked 4.8s (pid 42): main thread sleeping; slow right after: AJ_1; stack sleep <- body");
        assert_eq!(detail(&inc(true, b)), "loop blocked for 4.8s (pid 42): main thread sleeping; slow right after: AJ_1; stack sleep <- body; still blocked");
        let gone = What::Blocked { why: String::new(), pid: None, stack: None, after: vec![], end: Some("its process 9 is gone".into()) };
        assert_eq!(detail(&inc(false, gone)), "loop blocked 4.8s; ended: its process 9 is gone");
        assert_eq!(detail(&inc(true, What::Slow { session: "AJ_2".into() })), "session AJ_2 slow 4.8s, still");
        assert_eq!(detail(&inc(false, What::Gone { why: "connection refused".into(), back: true })), "not answering: connection refused; back");
        assert_eq!(detail(&inc(false, What::Failed { from: 2.0, to: 3.0 })), "failed sessions 2 -> 3");
        assert_eq!(clock(1_764_300_725_000), "03:32:05");
    }
}
