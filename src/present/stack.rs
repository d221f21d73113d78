//! The stack pane (`y`): a worker's Python stack as py-spy printed it,
//! when it was taken, or why there is none. The text is untrusted (frame
//! names, the command line): every line is sanitised. Pure.

use termion::style;

use super::events::clock;
use super::line::{Paint, StyledLine, faint};
use crate::model::WorkerEntry;

/// What the pane is showing.
pub struct StackView<'a> {
    pub worker: Option<&'a WorkerEntry>,
    /// A new stack has been asked for and has not come yet.
    pub taking: bool,
    /// Replaying: the stacks are those recorded.
    pub replay: bool,
    pub scroll: usize,
}

/// The pane in `h` lines of `w` columns: a header, then the stack's lines
/// from `scroll` on.
pub fn pane(v: &StackView, w: usize, h: usize, paint: Paint) -> Vec<String> {
    let mut lines = Vec::new();
    if h == 0 {
        return lines;
    }
    let Some(worker) = v.worker else {
        lines.push(faint(w, paint, "  that worker is no longer watched"));
        return lines;
    };
    let pid = worker.pid.filter(|&p| p > 0).map_or(String::new(), |p| format!(" (pid {p})"));
    let taken = match (&worker.stack, v.taking) {
        (_, true) => format!("taking it now with py-spy{}", if worker.stack.is_some() { "; the last one below" } else { "" }),
        (Some(t), false) => format!("taken {} UTC", clock(t.at)),
        (None, false) => String::new(),
    };
    let mut l = StyledLine::new(w, paint);
    l.attr(&style::Invert).attr(&style::Bold).text("stack of ").untrusted(&worker.label).text(&pid);
    if !taken.is_empty() {
        l.text(", ").text(&taken);
    }
    l.text(if v.replay { "  Esc close" } else { "  y again  Esc close" }).pad(w);
    lines.push(l.finish());
    let body: Vec<&str> = match worker.stack.as_ref().map(|t| &t.stack) {
        Some(Ok(s)) => s.text.lines().collect(),
        Some(Err(why)) => vec![why.as_str()],
        None if v.taking => vec![],
        None if v.replay => vec!["no stack was recorded for this worker at this time"],
        None => vec!["no stack taken yet"],
    };
    for text in body.iter().skip(v.scroll).take(h - 1) {
        let mut l = StyledLine::new(w, paint);
        l.text("  ").untrusted(text);
        lines.push(l.finish());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Stack, Taken, WorkerState};
    use crate::present::line::strip_sgr;

    const PAINT: Paint = Paint { color: true, charset: crate::text::Charset::Utf8, place: true };

    fn worker(stack: Option<Taken>) -> WorkerEntry {
        WorkerEntry { key: 0, label: "w\u{1b}1".into(), socket: "/s".into(), block: None, state: WorkerState::Up, took: None, pid: Some(42), stack, fresh: true, blocks: 0 }
    }

    fn shown(v: &StackView) -> Vec<String> {
        pane(v, 80, 6, PAINT).iter().map(|l| strip_sgr(l).trim_end().to_string()).collect()
    }

    #[test]
    fn the_stack_its_time_and_untrusted_text_sanitised() {
        let text = "Thread 42 (idle): \"MainThread\"\n    sleep (w.py:3)\u{1b}[2J\n    body (w.py:9)\n";
        let w = worker(Some(Taken { at: 1_764_300_725_000, stack: Ok(Stack { summary: String::new(), text: text.into() }) }));
        let f = shown(&StackView { worker: Some(&w), taking: false, replay: false, scroll: 0 });
        assert_eq!(f[0], "stack of w\\u{1b}1 (pid 42), taken 03:32:05 UTC  y again  Esc close");
        assert_eq!(f[2], "      sleep (w.py:3)\\u{1b}[2J");
        assert_eq!(shown(&StackView { worker: Some(&w), taking: false, replay: false, scroll: 2 })[1], "      body (w.py:9)");
        let taking = shown(&StackView { worker: Some(&w), taking: true, replay: false, scroll: 0 });
        assert!(taking[0].contains("taking it now with py-spy; the last one below"), "{taking:?}");
        let failed = worker(Some(Taken { at: 0, stack: Err("process 42 is not a Python process".into()) }));
        assert_eq!(shown(&StackView { worker: Some(&failed), taking: false, replay: false, scroll: 0 })[1], "  process 42 is not a Python process");
        let none = worker(None);
        assert_eq!(shown(&StackView { worker: Some(&none), taking: false, replay: true, scroll: 0 })[1], "  no stack was recorded for this worker at this time");
    }
}
