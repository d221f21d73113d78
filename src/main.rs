//! openrtc-top: argument handling, mode choice and exit status.

use std::io::{self, Write};
use std::process::ExitCode;

use openrtc_top::cli::{self, Command};
use openrtc_top::once::{self, Failure};
use openrtc_top::socket::Target;

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cmd) => cmd,
        Err(e) => {
            eprintln!("openrtc-top: {e}");
            return ExitCode::from(2);
        }
    };
    let (cfg, warnings) = match cmd {
        Command::Help => return print(&cli::help()),
        Command::Version => return print(&format!("openrtc-top {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Run(cfg, warnings) => (cfg, warnings),
    };
    for w in warnings {
        eprintln!("openrtc-top: {w}");
    }
    let target = Target::new(cfg.socket.clone());
    match once::run(&cfg, &target) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => report(&f, &target),
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

fn report(f: &Failure, target: &Target) -> ExitCode {
    match f {
        Failure::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Failure::Io(e) => eprintln!("openrtc-top: cannot write to stdout: {e}"),
        Failure::Fetch(e) => {
            eprintln!("openrtc-top: {}", e.message(target));
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
        }
        Failure::Decode(e) => eprintln!(
            "openrtc-top: the worker at {} sent a snapshot that cannot be read: {e}",
            target.shown()
        ),
    }
    ExitCode::FAILURE
}
