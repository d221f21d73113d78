//! What the frame says of a worker whose loop is blocked, in the worker
//! lines, the banner of one worker and the detail pane alike: for how
//! long, why (from /proc), the sessions last seen slow on it (the
//! suspects: openrtc marks the session that blocked its loop `slow`), and
//! its stack when one was taken.

use crate::model::{Blocked, Pool, Status, Taken};

/// The ids of the sessions last seen slow on the worker at `index`.
pub fn suspects(pool: &Pool, index: usize) -> Vec<&str> {
    pool.sessions.iter().filter(|s| usize::from(s.worker) == index && s.status == Status::Slow).map(|s| &*s.session_id).collect()
}

/// `loop blocked 4.2s: why; suspects a, b; stack f <- g` (untrusted
/// parts are the caller's to sanitise, with the rest of the line).
pub fn line(b: &Blocked, suspects: &[&str], stack: Option<&Taken>) -> String {
    let mut out = format!("loop {} {:.1}s", if b.given_up { "not answering for" } else { "blocked" }, b.waited.as_secs_f64());
    if !b.why.is_empty() {
        out.push_str(": ");
        out.push_str(&b.why);
    }
    if !suspects.is_empty() {
        let more = suspects.len().saturating_sub(3);
        out.push_str(&format!("; suspects {}", suspects[..suspects.len().min(3)].join(", ")));
        if more > 0 {
            out.push_str(&format!(" and {more} more"));
        }
    }
    if let Some(t) = stack {
        out.push_str(&format!("; {}", t.words()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stack;
    use std::time::Duration;

    #[test]
    fn how_long_why_suspects_and_stack() {
        let b = Blocked { waited: Duration::from_millis(4200), why: "main thread sleeping (time.sleep or similar)".into(), given_up: false };
        assert_eq!(line(&b, &[], None), "loop blocked 4.2s: main thread sleeping (time.sleep or similar)");
        let t = Taken { at: 0, stack: Ok(Stack { summary: "f <- g".into(), text: String::new() }) };
        assert_eq!(line(&b, &["a", "b", "c", "d", "e"], Some(&t)), "loop blocked 4.2s: main thread sleeping (time.sleep or similar); suspects a, b, c and 2 more; stack f <- g");
        let gone = Blocked { given_up: true, why: String::new(), ..b };
        assert_eq!(line(&gone, &["x"], Some(&Taken { at: 0, stack: Err("py-spy is not installed".into()) })), "loop not answering for 4.2s; suspects x; no stack: py-spy is not installed");
    }
}
