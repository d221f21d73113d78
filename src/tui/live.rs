//! The live view's loop, on one thread: start a round of fetches when one
//! is due, draw what changed, and wait in one poll(2) on the terminal and
//! every worker's socket until the next refresh. Each socket is connected
//! once per refresh period and once per `r`, never more (every connect
//! makes the worker sample), and never twice at once: a slow worker keeps
//! its fetch and deadline while the others are drawn on time.
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
use crate::source::Sources;

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

pub fn run(cfg: &Config, sources: &mut Sources) -> io::Result<Exit> {
    term::catch_signals();
    let mut terminal = Terminal::enter()?;
    let paint = Paint::live(cfg.colour(true), cfg.charset);
    let test_panic = std::env::var_os("OPENRTC_TOP_TEST_PANIC").is_some();
    let mut app = App::new(cfg.query.clone(), cfg.charset);
    let mut screen = Screen::default();
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    // How long a round's first results wait for the rest before they are
    // drawn: a worker that answers later is drawn when it does.
    let grace = GRACE.min(period / 2);
    let mut due = Instant::now();
    let mut refetch = false;
    let mut frames = 0u64;
    // When the round in flight started, and whether it is a scheduled one
    // (which counts as a frame for -n).
    let mut round: Option<(Instant, bool)> = None;
    // The first frame waits for the first round (or its grace).
    let mut redraw = false;
    loop {
        if let Some(sig) = term::pending_signal() {
            return Ok(Exit::Signal(sig));
        }
        // Job control: stopped by `kill -TSTP` (Ctrl-Z comes as a key),
        // continued by `fg` or `kill -CONT`, or continued earlier in the
        // background and now in the foreground again.
        if term::take_stop() && terminal.suspend()? {
            screen.invalidate();
            redraw = true;
        }
        term::take_continued();
        if terminal.resume()? {
            screen.invalidate();
            redraw = true;
        }
        let now = Instant::now();
        let scheduled = now >= due;
        if scheduled || refetch {
            // What the last round brought goes out before the next starts
            // (a round longer than the period would otherwise hold it forever).
            if sources.news() {
                apply(&mut app, sources);
                redraw = true;
            }
            sources.start_round(now);
            round = Some((now, scheduled || round.is_some_and(|r| r.1)));
            if scheduled {
                due += period;
                if due < now {
                    due = now + period; // a slow round: skip, do not burst
                }
            }
            refetch = false;
        }
        // Draw a round when what it started is all in, or when its grace
        // is over (then each late answer as it comes). A worker still busy
        // with an earlier round's fetch holds nothing up.
        let holding = sources.round_busy() && round.is_some_and(|(at, _)| now < at + grace);
        if sources.news() && !holding {
            apply(&mut app, sources);
            redraw = true;
        }
        if !holding {
            if let Some((_, scheduled)) = round.take() {
                frames += u64::from(scheduled);
                redraw = true;
            }
        }
        let resized = term::take_resized();
        if resized {
            screen.invalidate();
        }
        if terminal.active() && (redraw || resized) {
            let (w, h) = term::size().unwrap_or((80, 24));
            app.settle();
            app.fit(frame::plan(&app, usize::from(h)).page);
            let lines = frame::live_frame(&app, usize::from(w), usize::from(h), paint);
            terminal.write(&screen.update(lines, (w, h)))?;
            redraw = false;
            if test_panic {
                panic!("OPENRTC_TOP_TEST_PANIC is set: panicking after the first frame");
            }
        }
        if cfg.iterations.is_some_and(|n| frames >= n) {
            return Ok(Exit::Frames);
        }
        let mut until = due;
        if let (true, Some((at, _))) = (holding, round) {
            until = until.min(at + grace);
        }
        let wake = sources.wait(terminal.input_fd(), until)?;
        if !wake.input {
            continue;
        }
        for event in terminal.events(Duration::ZERO)? {
            if term::pending_signal().is_some() {
                break;
            }
            redraw = true;
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

/// Hand what the sources brought to the view, with the banner when there
/// is one.
fn apply(app: &mut App, sources: &mut Sources) {
    app.update(sources.updates(), Instant::now());
    if let Some(why) = sources.banner() {
        app.set_problem(why);
    }
}

/// How long the first answers of a round wait for the others (at most half
/// a period).
const GRACE: Duration = Duration::from_millis(250);
