//! openrtc-top: argument handling, mode choice and exit status.

use std::io::{self, Write};
use std::process::ExitCode;

use openrtc_top::cli::{self, Command, Format, Generated, docs};
use openrtc_top::tui::live::{self, Exit};
use openrtc_top::run::{self, Error, Outcome, Screen};
use openrtc_top::record::Recorder;
use openrtc_top::source::Sources;
use openrtc_top::source::discover::Spec;
use openrtc_top::source::recording::OpenError;
use openrtc_top::source::replay::Replay;
use openrtc_top::text;
use openrtc_top::text::Charset;
use openrtc_top::tui::{keys, term};

fn main() -> ExitCode {
    let cmd = match cli::config::parse_with_config(std::env::args_os().skip(1).collect(), term::stdout_is_tty(), &|k| std::env::var_os(k)) {
        Ok(cmd) => cmd,
        Err(e) => {
            eprintln!("openrtc-top: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut cfg, warnings) = match cmd {
        Command::Help => return print(&docs::help(&keys::help_lines(true).collect::<Vec<_>>())),
        Command::Generate(what) => {
            let keys: Vec<_> = keys::help_lines(true).collect();
            return print(&match what {
                Generated::Man => docs::man(&keys),
                Generated::Bash => docs::bash(),
                Generated::Zsh => docs::zsh(),
                Generated::Fish => docs::fish(),
            });
        }
        Command::Version => return print(&format!("openrtc-top {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Run(cfg, warnings) => (*cfg, warnings),
    };
    for w in warnings {
        eprintln!("openrtc-top: {w}");
    }
    cfg.charset = Charset::from_env();
    if let Some(path) = cfg.replay.clone() {
        return replay(&cfg, &path);
    }
    if let Some((uid, _)) = &cfg.user {
        openrtc_top::source::trust::read_for(*uid);
    }
    let mut sources = Sources::new(Spec::from_flags(&cfg.sockets, cfg.all, cfg.user.as_ref().map(|u| u.0)));
    if let Some(addr) = cfg.serve {
        return match run::serve::run(&cfg, &mut sources, addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("openrtc-top: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let recorder = match &cfg.record {
        None => None,
        Some(path) => match Recorder::open(path, cfg.record_max) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("openrtc-top: cannot write the recording {}: {e}", openrtc_top::record::quoted(path));
                return ExitCode::FAILURE;
            }
        },
    };
    let (live_view, screen) = live_view(&mut cfg);
    if live_view {
        return live(live::run(&cfg, &mut sources, recorder));
    }
    if let Some(rec) = recorder {
        return match run::record::record(&cfg, &mut sources, rec) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report(e),
        };
    }
    match run::once::run(&cfg, &mut sources, screen) {
        Ok(Outcome::All) => ExitCode::SUCCESS,
        Ok(Outcome::Some) => ExitCode::from(3),
        Ok(Outcome::Blocked) => ExitCode::from(4),
        Err(Error::NoPool { lines, hint: _ }) if cfg.user.is_some() && cfg.sockets.is_empty() => {
            report(Error::NoPool { lines, hint: None });
            let (uid, name) = cfg.user.as_ref().map_or((0, ""), |(u, n)| (*u, n.as_str()));
            let looked: Vec<String> = openrtc_top::source::path::user_paths(uid).1.iter().map(|p| text::in_message(&p.to_string_lossy()).into_owned()).collect();
            eprintln!("hint: for user '{}' (uid {uid}) looked at {}: a worker started with another XDG_RUNTIME_DIR or TMPDIR is found with --socket PATH", text::in_message(name), looked.join(", then "));
            ExitCode::FAILURE
        }
        Err(e) => report(e),
    }
}

/// Whether the live view runs (and if not, whether stdout can show the
/// coloured frame). The live view is for a terminal; a pipe gets one
/// snapshot, as --once; a terminal without cursor addressing gets what
/// top's batch mode prints: plain snapshots, one a refresh, until stopped.
fn live_view(cfg: &mut cli::Config) -> (bool, Screen) {
    let tty = term::stdout_is_tty();
    let screen = Screen { tty, width: term::size().map(|(w, _)| usize::from(w)) };
    if cfg.once || cfg.format != Format::Table || cfg.columns.is_some() || !tty || cfg.from.is_some() || cfg.to.is_some() {
        return (false, screen);
    }
    let term_var = std::env::var("TERM").ok();
    match term::cannot_address(term_var.as_deref()) {
        Some(why) => {
            eprintln!(
                "openrtc-top: {}: printing a snapshot every refresh instead of the live view (as -n does)",
                text::in_message(&why)
            );
            cfg.iterations.get_or_insert(u64::MAX);
            (false, Screen { tty: false, ..screen })
        }
        None => (true, screen),
    }
}

/// A recording: the live view on it, or printed.
fn replay(cfg: &cli::Config, path: &std::path::Path) -> ExitCode {
    let shown = text::in_message(&path.to_string_lossy()).into_owned();
    let r = match Replay::open(path) {
        Ok(r) => r,
        Err(OpenError::Empty) => {
            eprintln!("openrtc-top: {shown} holds no sample: no line is a snapshot as --record writes them ({{\"time\": ...}})");
            return ExitCode::FAILURE;
        }
        Err(OpenError::NotAFile(t)) => {
            use std::os::unix::fs::FileTypeExt;
            // A recording is read by offset (a sample found by time): a pipe cannot be.
            let seek = if t.is_fifo() || t.is_char_device() || t.is_socket() { " and is not seekable (a recording is read by offset: save it to a file first)" } else { ", not a regular file" };
            eprintln!("openrtc-top: cannot read the recording '{shown}': it is {}{seek}", openrtc_top::record::kind(t));
            return ExitCode::FAILURE;
        }
        Err(OpenError::Io(e)) => {
            eprintln!("openrtc-top: cannot read the recording '{shown}': {e}");
            return ExitCode::FAILURE;
        }
    };
    if cfg.events {
        return match run::replay::events(cfg, r) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report(e),
        };
    }
    let mut cfg = cfg.clone();
    let (live_view, screen) = live_view(&mut cfg);
    if live_view {
        return live(live::replay(&cfg, r));
    }
    match run::replay::replay(&cfg, r, screen) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(e),
    }
}

/// How the live view ended, as an exit status.
fn live(ended: std::io::Result<Exit>) -> ExitCode {
    match ended {
        Ok(Exit::Quit | Exit::Frames) => ExitCode::SUCCESS,
        Ok(Exit::Signal(sig)) => term::die_by(sig),
        Err(e) => {
            term::restore();
            // A failure of the recording replayed names it; any other is the terminal's.
            let what = if is_recording(&e) { "" } else { "terminal: " };
            eprintln!("openrtc-top: {what}{e}");
            ExitCode::FAILURE
        }
    }
}

/// Print to stdout; a closed pipe is a quiet success.
fn print(s: &str) -> ExitCode {
    match io::stdout().write_all(s.as_bytes()).and_then(|()| io::stdout().flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("openrtc-top: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

fn report(e: Error) -> ExitCode {
    match e {
        Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Error::Io(e) if is_recording(&e) => eprintln!("openrtc-top: {e}"),
        Error::Io(e) => eprintln!("openrtc-top: cannot write to stdout: {e}"),
        Error::Usage(why) => {
            eprintln!("openrtc-top: {why}");
            return ExitCode::from(2);
        }
        Error::NoPool { lines, hint } => {
            for l in lines {
                eprintln!("openrtc-top: {l}");
            }
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
        }
    }
    ExitCode::FAILURE
}

/// Whether `e` is the replayed recording's (its message names it).
fn is_recording(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|r| r.is::<openrtc_top::source::recording::ReadError>())
}
