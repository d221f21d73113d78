//! openrtc-top: argument handling, mode choice and exit status.

use std::io::{self, Write};
use std::process::ExitCode;

use openrtc_top::cli::{self, Command, Format, Generated, docs};
use openrtc_top::tui::live::{self, Exit};
use openrtc_top::once::{self, Error, Outcome};
use openrtc_top::source::Sources;
use openrtc_top::source::discover::Spec;
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
        Command::Help => return print(&docs::help(&keys::help_lines().collect::<Vec<_>>())),
        Command::Generate(what) => {
            let keys: Vec<_> = keys::help_lines().collect();
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
    let mut sources = Sources::new(Spec::from_flags(&cfg.sockets, cfg.all));
    if let Some(addr) = cfg.serve {
        return match openrtc_top::serve::run(&cfg, &mut sources, addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("openrtc-top: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let tty = term::stdout_is_tty();
    let mut screen = tty;
    // The live view is for a terminal; a pipe gets one snapshot, as --once.
    if !cfg.once && cfg.format == Format::Table && tty {
        // A terminal without cursor addressing gets what top's batch mode
        // prints: plain snapshots, one a refresh, until stopped.
        let term_var = std::env::var("TERM").ok();
        if let Some(why) = term::cannot_address(term_var.as_deref()) {
            eprintln!(
                "openrtc-top: {}: printing a snapshot every refresh instead of the live view (as -n does)",
                openrtc_top::text::in_message(&why)
            );
            cfg.iterations.get_or_insert(u64::MAX);
            screen = false;
        } else {
            return live(&cfg, &mut sources);
        }
    }
    match once::run(&cfg, &mut sources, screen) {
        Ok(Outcome::All) => ExitCode::SUCCESS,
        Ok(Outcome::Some) => ExitCode::from(3),
        Err(e) => report(e),
    }
}

/// The live view, and how it ended as an exit status.
fn live(cfg: &cli::Config, sources: &mut Sources) -> ExitCode {
    match live::run(cfg, sources) {
        Ok(Exit::Quit | Exit::Frames) => ExitCode::SUCCESS,
        Ok(Exit::Signal(sig)) => term::die_by(sig),
        Err(e) => {
            term::restore();
            eprintln!("openrtc-top: terminal: {e}");
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
        Error::Io(e) => eprintln!("openrtc-top: cannot write to stdout: {e}"),
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
