//! The live view's loop, on one thread: fetch a snapshot when one is due,
//! draw what changed, wait for input until the next refresh. The socket is
//! connected once per refresh period and once per `r`, never more: every
//! connect makes the worker sample.
//!
//! Input is handled a batch (one read) at a time: signals and `q` are
//! looked at between events, and the view is re-filtered once per batch
//! (`App::settle`), so a paste of thousands of characters costs one
//! re-filter, not one per character.

use std::io;
use std::time::{Duration, Instant};

use super::app::{App, Effect};
use super::frame;
use super::input::Event;
use super::render::Paint;
use super::screen::Screen;
use super::term::{self, Terminal};
use crate::cli::Config;
use crate::source::Source;

/// How the live view ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `q` or Ctrl-C.
    Quit,
    /// `-n N` frames drawn.
    Frames,
    /// A terminating signal (SIGTERM, SIGHUP, SIGINT from elsewhere, ...).
    Signal(i32),
}

pub fn run(cfg: &Config, source: &mut Source) -> io::Result<Exit> {
    term::catch_signals();
    let mut terminal = Terminal::enter()?;
    let paint = Paint::live(cfg.colour(true), cfg.charset);
    let test_panic = std::env::var_os("OPENRTC_TOP_TEST_PANIC").is_some();
    let mut app = App::new(cfg.query.clone(), cfg.charset);
    let mut screen = Screen::default();
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    let mut due = Instant::now();
    let mut refetch = false;
    let mut frames = 0u64;
    loop {
        if let Some(sig) = term::pending_signal() {
            return Ok(Exit::Signal(sig));
        }
        // Job control: stopped by `kill -TSTP` (Ctrl-Z comes as a key),
        // continued by `fg` or `kill -CONT`, or continued earlier in the
        // background and now in the foreground again.
        if term::take_stop() && terminal.suspend()? {
            screen.invalidate();
        }
        term::take_continued();
        if terminal.resume()? {
            screen.invalidate();
        }
        let scheduled = Instant::now() >= due;
        if scheduled || refetch {
            match source.fetch(&term::interrupted) {
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
        if terminal.active() {
            if term::take_resized() {
                screen.invalidate();
            }
            let (w, h) = term::size().unwrap_or((80, 24));
            app.settle();
            app.fit(frame::plan(&app, usize::from(h)).page);
            let lines = frame::live_frame(&app, usize::from(w), usize::from(h), paint);
            terminal.write(&screen.update(lines, (w, h)))?;
        }
        if test_panic {
            panic!("OPENRTC_TOP_TEST_PANIC is set: panicking after the first frame");
        }
        if cfg.iterations.is_some_and(|n| frames >= n) {
            return Ok(Exit::Frames);
        }
        for event in terminal.events(due.saturating_duration_since(Instant::now()))? {
            if term::pending_signal().is_some() {
                break;
            }
            let effect = match event {
                Event::Key(key) => app.key(key),
                Event::Paste(text) => app.paste(&text),
            };
            match effect {
                Effect::Quit => return Ok(Exit::Quit),
                Effect::Refetch => refetch = true,
                Effect::Suspend => {
                    if terminal.suspend()? {
                        screen.invalidate();
                    }
                    // What was typed before the stop is not for after it.
                    break;
                }
                Effect::None => {}
            }
        }
    }
}
