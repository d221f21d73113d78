//! The live view's loop, on one thread: fetch a snapshot when one is due,
//! draw what changed, wait for keys until the next refresh. The socket is
//! connected once per refresh period and once per `r`, never more: every
//! connect makes the worker sample.

use std::io;
use std::time::{Duration, Instant};

use crate::app::{App, Effect};
use crate::cli::Config;
use crate::once::{self, Failure};
use crate::frame;
use crate::screen::Screen;
use crate::socket::{FetchError, Target};
use crate::term::{self, Terminal};

/// How the live view ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `q` or Ctrl-C.
    Quit,
    /// `-n N` frames drawn.
    Frames,
    /// A terminating signal (SIGTERM, SIGHUP, SIGINT from elsewhere).
    Signal(i32),
}

/// A failed fetch as the banner shows it: the reference's words first, then
/// the specific reason.
pub fn banner(f: &Failure, t: &Target) -> String {
    match f {
        Failure::Fetch(e) => match e.no_pool_reason() {
            Some(why) => format!("no running openrtc pool at {}: retrying ({why})", t.shown()),
            None => format!("{}: retrying", e.message(t)),
        },
        f => format!("{}: retrying", once::describe(f, t)),
    }
}

pub fn run(cfg: &Config, target: &Target) -> io::Result<Exit> {
    term::catch_signals();
    let mut terminal = Terminal::enter()?;
    let color = once::color_on(cfg.color, true, once::no_color_env());
    let test_panic = std::env::var_os("OPENRTC_TOP_TEST_PANIC").is_some();
    let mut app = App::new(cfg.query.clone());
    let mut screen = Screen::default();
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let mut due = Instant::now();
    let mut refetch = false;
    let mut frames = 0u64;
    let abort = || term::pending_signal().is_some();
    loop {
        if let Some(sig) = term::pending_signal() {
            return Ok(Exit::Signal(sig));
        }
        let scheduled = Instant::now() >= due;
        if scheduled || refetch {
            match once::snapshot(target, &abort) {
                Ok(snap) => app.set_snapshot(snap, Instant::now()),
                Err(Failure::Fetch(FetchError::Interrupted)) => continue,
                Err(f) => app.set_problem(banner(&f, target)),
            }
            if scheduled {
                due += period;
                let now = Instant::now();
                if due < now {
                    due = now + period; // a slow fetch: skip, do not burst
                }
                frames += 1;
            }
            refetch = false;
        }
        if term::take_resized() {
            screen.invalidate();
        }
        let (w, h) = term::size().unwrap_or((80, 24));
        app.fit(frame::plan(&app, usize::from(h)).page);
        let lines = frame::live_frame(&app, usize::from(w), usize::from(h), color);
        terminal.write(&screen.update(lines, (w, h)))?;
        if test_panic {
            panic!("OPENRTC_TOP_TEST_PANIC is set: panicking after the first frame");
        }
        if cfg.iterations.is_some_and(|n| frames >= n) {
            return Ok(Exit::Frames);
        }
        for key in terminal.keys(due.saturating_duration_since(Instant::now()))? {
            match app.key(key) {
                Effect::Quit => return Ok(Exit::Quit),
                Effect::Refetch => refetch = true,
                Effect::Redraw | Effect::None => {}
            }
        }
    }
}
