//! The live view's loop, on one thread: fetch a snapshot when one is due,
//! draw what changed, wait for keys until the next refresh. The socket is
//! connected once per refresh period and once per `r`, never more: every
//! connect makes the worker sample.

use std::io;
use std::time::{Duration, Instant};

use super::app::{App, Effect};
use super::render::Paint;
use crate::cli::Config;
use crate::tui::frame;
use crate::tui::screen::Screen;
use crate::source::Source;
use crate::tui::term::{self, Terminal};

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

pub fn run(cfg: &Config, source: &mut Source) -> io::Result<Exit> {
    term::catch_signals();
    let mut terminal = Terminal::enter()?;
    let color = cfg.colour(true);
    let test_panic = std::env::var_os("OPENRTC_TOP_TEST_PANIC").is_some();
    let mut app = App::new(cfg.query.clone(), cfg.charset);
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
            match source.fetch(&abort) {
                Some(snap) => app.set_snapshot(snap, Instant::now()),
                None if source.interrupted() => continue,
                None => {
                    let why = source.last_error.as_ref().map(|f| f.banner(&source.target)).unwrap_or_default();
                    app.set_problem(why);
                }
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
        let lines = frame::live_frame(&app, usize::from(w), usize::from(h), Paint::live(color, cfg.charset));
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
                Effect::None => {}
            }
        }
    }
}
