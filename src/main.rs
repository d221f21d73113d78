//! openrtc-top: argument handling, mode choice and exit status.

use std::io::{self, Write};
use std::process::ExitCode;

use openrtc_top::cli::{self, Command, Format};
use openrtc_top::tui::live::{self, Exit};
use openrtc_top::once::{self, Error};
use openrtc_top::socket::Target;
use openrtc_top::source::Source;
use openrtc_top::text::Charset;
use openrtc_top::tui::{keys, term};

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cmd) => cmd,
        Err(e) => {
            eprintln!("openrtc-top: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut cfg, warnings) = match cmd {
        Command::Help => return print(&cli::help(&keys::help_lines().collect::<Vec<_>>())),
        Command::Version => return print(&format!("openrtc-top {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Run(cfg, warnings) => (cfg, warnings),
    };
    for w in warnings {
        eprintln!("openrtc-top: {w}");
    }
    cfg.charset = Charset::from_env();
    let mut source = Source::new(Target::new(cfg.socket.clone()));
    // The live view is for a terminal; a pipe gets one snapshot, as --once.
    if !cfg.once && cfg.format == Format::Table && term::stdout_is_tty() {
        return match live::run(&cfg, &mut source) {
            Ok(Exit::Quit | Exit::Frames) => ExitCode::SUCCESS,
            Ok(Exit::Signal(sig)) => term::die_by(sig),
            Err(e) => {
                term::restore();
                eprintln!("openrtc-top: terminal: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match once::run(&cfg, &mut source) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, &source.target),
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

fn report(e: &Error, target: &Target) -> ExitCode {
    match e {
        Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Error::Io(e) => eprintln!("openrtc-top: cannot write to stdout: {e}"),
        Error::Source(f) => {
            eprintln!("openrtc-top: {}", f.message(target));
            if let Some(h) = f.hint() {
                eprintln!("hint: {h}");
            }
        }
    }
    ExitCode::FAILURE
}
