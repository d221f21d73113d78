//! The live view's loop, on one thread: start a round of fetches when one
//! is due, draw what changed, and wait in one poll(2) on the terminal and
//! every worker's socket until the next refresh. Each socket is connected
//! once per refresh period and once per `r`, never more (every connect
//! makes the worker sample), and never twice at once: a slow worker keeps
//! its fetch and deadline while the others are drawn on time.
//!
//! A replay (`--replay`) is the same loop over a recording instead of the
//! sockets: the keys move through it, and playing steps at recorded speed.
//!
//! Input is handled a batch (one read) at a time: signals and `q` are
//! looked at between events, and the view is re-filtered once per batch
//! (`App::settle`), so a paste of thousands of characters costs one
//! re-filter, not one per character.

use std::io;
use std::time::{Duration, Instant};

use std::os::fd::RawFd;

use super::app::{App, Effect, ReplayView, Travel};
use super::frame;
use super::input::Event;
use crate::present::line::Paint;
use super::screen::Screen;
use super::term::{self, Terminal};
use crate::cli::Config;
use crate::clock;
use crate::record::Recorder;
use crate::events::Events;
use crate::model::Pool;
use crate::source::replay::{Move, Replay};
use crate::poll::{Poll, Want};
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

/// Where the live view's pool comes from: the sockets, or a recording.
trait Feed {
    /// Bring `app` up to date at `now` (`refetch`: `r` was pressed).
    fn tick(&mut self, app: &mut App, now: Instant, refetch: bool) -> io::Result<Tick>;
    /// Wait for input (on `input`) or for the next thing to do; whether
    /// input is ready. A signal ends the wait early.
    fn wait(&mut self, input: Option<RawFd>) -> io::Result<bool>;
    /// A replay's move.
    fn travel(&mut self, app: &mut App, t: Travel) -> io::Result<()>;
    /// Take the stack of the worker `key` (`y`).
    fn take_stack(&mut self, key: u32);
    /// openrtc-top was stopped (Ctrl-Z) for `by`.
    fn resumed(&mut self, by: Duration);
}

/// What a tick did.
#[derive(Default)]
struct Tick {
    /// The view has something new to draw.
    changed: bool,
    /// Frames completed (for `-n`).
    frames: u64,
}

/// The live view over the sockets; with `record`, each refresh recorded.
pub fn run(cfg: &Config, sources: &mut Sources, record: Option<Recorder>) -> io::Result<Exit> {
    let period = Duration::from_secs_f64(1.0 / cfg.refresh_hz);
    sources.keep_buffers();
    // A worker whose loop is blocked is waited for (it answers the queued
    // connection when its loop runs again), not asked again meanwhile.
    sources.set_wait(crate::source::BOUND);
    sources.set_stacks(cfg.py_spy.clone(), cfg.stacks);
    let several = !sources.single();
    let mut feed = Sockets { sources, record, period, grace: GRACE.min(period / 2), due: Instant::now(), round: None, holding: false };
    run_feed(cfg, &mut feed, false, several)
}

/// The live view over a recording, from its first sample (or `--at`).
pub fn replay(cfg: &Config, mut replay: Replay) -> io::Result<Exit> {
    if let Some(t) = cfg.at.as_deref().and_then(|t| clock::parse_when(t, replay.rec.last().time)) {
        replay.go(Move::To(t))?;
    }
    let mut feed = Replaying { replay, playing: false, speed: 1.0, next_at: None, base: Instant::now(), loaded: false, note: None };
    run_feed(cfg, &mut feed, true, false)
}

/// `several`: the sources may be several whatever their number now (the
/// views' shape, see `Pool::several`).
fn run_feed(cfg: &Config, feed: &mut dyn Feed, replaying: bool, several: bool) -> io::Result<Exit> {
    term::catch_signals();
    let mut terminal = Terminal::enter()?;
    let paint = Paint::live(cfg.colour(true), cfg.charset);
    let mut app = App::new(cfg.query.clone(), cfg.charset);
    app.pool.several = several;
    if replaying {
        app.replay = Some(ReplayView::default());
    }
    let mut screen = Screen::default();
    let mut refetch = false;
    let mut frames = 0u64;
    // The first frame waits for the first round (or its grace).
    let mut redraw = false;
    loop {
        if let Some(sig) = term::pending_signal() {
            return Ok(Exit::Signal(sig));
        }
        // Job control: stopped by `kill -TSTP` (Ctrl-Z comes as a key),
        // continued by `fg` or `kill -CONT`, or continued earlier in the
        // background and now in the foreground again.
        if term::take_stop() && suspend(&mut terminal, feed)? {
            screen.invalidate();
            redraw = true;
        }
        term::take_continued();
        if terminal.resume()? {
            screen.invalidate();
            redraw = true;
        }
        let tick = feed.tick(&mut app, Instant::now(), std::mem::take(&mut refetch))?;
        redraw |= tick.changed;
        frames += tick.frames;
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
        }
        if cfg.iterations.is_some_and(|n| frames >= n) {
            return Ok(Exit::Frames);
        }
        if !feed.wait(terminal.input_fd())? {
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
                    if suspend(&mut terminal, feed)? {
                        screen.invalidate();
                    }
                    // What was typed before the stop is not for after it.
                    break;
                }
                Effect::Travel(t) => feed.travel(&mut app, t)?,
                Effect::TakeStack(key) => feed.take_stack(key),
                Effect::None => {}
            }
        }
    }
}

/// Stop (Ctrl-Z, SIGTSTP) until continued: the time stopped is not the
/// workers' (a worker is not blocked for the time we were not looking).
fn suspend(terminal: &mut Terminal, feed: &mut dyn Feed) -> io::Result<bool> {
    let stopped = Instant::now();
    let back = terminal.suspend()?;
    feed.resumed(stopped.elapsed());
    Ok(back)
}

/// The sockets: a round of fetches per period (and per `r`).
struct Sockets<'a> {
    sources: &'a mut Sources,
    record: Option<Recorder>,
    period: Duration,
    /// How long a round's first results wait for the rest before they are
    /// drawn: a worker that answers later is drawn when it does.
    grace: Duration,
    due: Instant,
    /// When the round in flight started, and whether it is a scheduled one
    /// (which counts as a frame for -n).
    round: Option<(Instant, bool)>,
    holding: bool,
}

impl Feed for Sockets<'_> {
    fn tick(&mut self, app: &mut App, now: Instant, refetch: bool) -> io::Result<Tick> {
        let mut tick = Tick::default();
        let scheduled = now >= self.due;
        if scheduled || refetch {
            // What the last round brought goes out before the next starts
            // (a round longer than the period would otherwise hold it forever).
            if self.sources.news() {
                apply(app, self.sources);
                tick.changed = true;
            }
            self.sources.start_round(now);
            self.round = Some((now, scheduled || self.round.is_some_and(|r| r.1)));
            if scheduled {
                self.due += self.period;
                if self.due < now {
                    self.due = now + self.period; // a slow round: skip, do not burst
                }
            }
        }
        // Draw a round when what it started is all in, or when its grace
        // is over (then each late answer as it comes). A worker still busy
        // with an earlier round's fetch holds nothing up.
        self.holding = self.sources.round_busy() && self.round.is_some_and(|(at, _)| now < at + self.grace);
        if self.sources.news() && !self.holding {
            apply(app, self.sources);
            tick.changed = true;
        }
        if !self.holding {
            if let Some((_, scheduled)) = self.round.take() {
                tick.frames += u64::from(scheduled);
                tick.changed = true;
                if scheduled {
                    self.record(app);
                }
            }
        }
        Ok(tick)
    }

    fn wait(&mut self, input: Option<RawFd>) -> io::Result<bool> {
        let mut until = self.due;
        if let (true, Some((at, _))) = (self.holding, self.round) {
            until = until.min(at + self.grace);
        }
        Ok(self.sources.wait(input, until)?.input)
    }

    fn travel(&mut self, _: &mut App, _: Travel) -> io::Result<()> {
        Ok(())
    }

    fn take_stack(&mut self, key: u32) {
        self.sources.take_stack(key);
    }

    fn resumed(&mut self, by: Duration) {
        self.sources.resumed(by);
    }
}

impl Sockets<'_> {
    /// One line per refresh to the recording; while writes fail the title
    /// says `REC FAILED`, and each refresh tries again.
    fn record(&mut self, app: &mut App) {
        let Some(r) = self.record.as_mut() else { return };
        app.recording = Some(r.write(&app.pool, &clock::now_iso8601()));
        r.take_notes();
    }
}

/// Hand what the sources brought to the view, with the banner when there
/// is one.
fn apply(app: &mut App, sources: &mut Sources) {
    app.update(sources.updates(), Instant::now(), clock::now_ms());
    if let Some(why) = sources.banner() {
        app.set_problem(why);
    }
}

/// How long the first answers of a round wait for the others (at most half
/// a period).
const GRACE: Duration = Duration::from_millis(250);

/// A recording: the keys move through it; playing steps at its own pace
/// (times `speed`).
struct Replaying {
    replay: Replay,
    playing: bool,
    speed: f64,
    /// When playing, when the next step is due.
    next_at: Option<Instant>,
    /// The wall-clock instant standing for the first sample's time (the
    /// trends need instants).
    base: Instant,
    /// A sample is on screen.
    loaded: bool,
    note: Option<String>,
}

/// The slowest and fastest playing speeds.
const SPEEDS: (f64, f64) = (0.125, 64.0);

impl Replaying {
    fn instant(&self, t: i64) -> Instant {
        self.base + Duration::from_millis((t - self.replay.rec.first().time).max(0) as u64)
    }

    /// Show the sample the replay is at. `how`: it came by one step forward
    /// (trends go on), one back (they rewind) or a jump (rebuilt from the
    /// minute before it).
    fn show(&mut self, app: &mut App, how: Came) -> io::Result<()> {
        let Some(sample) = self.replay.load()? else {
            self.note = Some("no line of the recording can be read".into());
            return Ok(());
        };
        let at = self.replay.at;
        match how {
            Came::Forward => {}
            Came::Back => {
                app.trends.rewind(self.instant(at.time));
                app.events.rewind(at.time);
            }
            // The minute before the sample jumped to, for the trends and
            // the events (as if it had been watched).
            Came::Jump => {
                app.trends.clear();
                app.events = Events::default();
                let mut pool = Pool::default();
                for (t, s) in self.replay.before(60, 1000).unwrap_or_default() {
                    pool.advance(self.replay.updates(s));
                    app.trends.record(&pool, self.instant(t), None);
                    app.events.observe(&pool, t);
                }
                app.events_seen = app.events.count();
            }
        }
        let updates = self.replay.updates(sample);
        app.update(updates, self.instant(at.time), at.time);
        self.loaded = true;
        Ok(())
    }

    /// What the title says: the sample, how the replay goes, bad lines, and
    /// what the last move had to say.
    fn status(&mut self, app: &mut App) {
        app.replay = Some(ReplayView {
            time: self.replay.at.time,
            playing: self.playing,
            speed: self.speed,
            bad: self.replay.rec.bad(),
            note: self.note.take().or_else(|| self.replay.note.take()),
        });
    }

    fn schedule(&mut self, now: Instant) {
        self.next_at = None;
        if !self.playing {
            return;
        }
        let at = self.replay.at;
        match self.replay.rec.next(at) {
            Ok(Some(n)) => {
                let gap = (n.time - at.time).max(0) as f64 / 1000.0 / self.speed;
                // A long gap in the recording (the recorder was stopped) is
                // not waited out: at most a few seconds.
                self.next_at = Some(now + Duration::from_secs_f64(gap.min(5.0)));
            }
            _ => self.playing = false,
        }
    }
}

/// How the sample shown was reached.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Came {
    Forward,
    Back,
    Jump,
}

impl Feed for Replaying {
    fn tick(&mut self, app: &mut App, now: Instant, _: bool) -> io::Result<Tick> {
        let mut tick = Tick::default();
        if !self.loaded {
            self.show(app, Came::Jump)?;
            tick = Tick { changed: true, frames: 1 };
        } else if self.next_at.is_some_and(|t| now >= t) {
            if self.replay.go(Move::Step(1))? {
                self.show(app, Came::Forward)?;
                tick.frames = 1;
            }
            self.schedule(now);
            tick.changed = true;
        }
        if tick.changed {
            self.status(app);
        }
        Ok(tick)
    }

    fn wait(&mut self, input: Option<RawFd>) -> io::Result<bool> {
        let mut p = Poll::new();
        let slot = p.watch(input.unwrap_or(-1), Want::Read, None);
        p.wake_by(self.next_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)));
        Ok(p.wait()? && p.ready(slot))
    }

    fn travel(&mut self, app: &mut App, t: Travel) -> io::Result<()> {
        let now = Instant::now();
        let from = self.replay.at;
        let (moved, how) = match t {
            Travel::Step(n) => (self.replay.go(Move::Step(n))?, if n == 1 { Came::Forward } else if n == -1 { Came::Back } else { Came::Jump }),
            Travel::Minutes(n) => (self.replay.go(Move::To(from.time + n * 60_000))?, Came::Jump),
            Travel::To(text) => match clock::parse_when(&text, from.time) {
                Some(t) => (self.replay.go(Move::To(t))?, Came::Jump),
                None => {
                    self.note = Some(format!(
                        "not a time: '{}' (try 03:12, 2026-11-28T03:12:05Z, a stamp from the recording, -10m)",
                        crate::text::in_message(&text)
                    ));
                    (false, Came::Jump)
                }
            },
            Travel::PlayPause => {
                self.playing = !self.playing;
                (false, Came::Forward)
            }
            Travel::Faster => {
                self.speed = (self.speed * 2.0).min(SPEEDS.1);
                (false, Came::Forward)
            }
            Travel::Slower => {
                self.speed = (self.speed / 2.0).max(SPEEDS.0);
                (false, Came::Forward)
            }
        };
        if moved {
            self.show(app, how)?;
        }
        self.schedule(now);
        self.status(app);
        Ok(())
    }

    /// A replay shows the stacks that were recorded.
    fn take_stack(&mut self, _: u32) {}

    fn resumed(&mut self, _: Duration) {}
}
