//! The config file, ripgrep's way: flags, one per line (`--sort cpu_pct`,
//! `--sort=cpu_pct`, `--no-header`; `#` starts a comment line), read
//! before the command line, which wins. It serves the person at the
//! terminal, so it is read for the live view (and the framed `--once` on
//! a terminal) and never for plain output (`--once` to a pipe,
//! `--format`, `-o`, batch mode, the exporter, the recorder, `--events`):
//! a script's output never changes because someone wrote a config file.
//! `--config FILE` reads FILE in any mode (asked for by name);
//! `--no-config` reads none. Only the flags the table marks `config` may
//! be set in it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::flags::{self, Repeat};
use super::{Command, Config, Format, UsageError, parse};

/// The largest config file read (it is a few lines; a huge one is a mistake).
const MAX_BYTES: u64 = 64 * 1024;

/// Parse the command line, with the config file's flags before it where
/// one applies. `tty`: stdout is a terminal; `env` reads the environment.
pub fn parse_with_config(args: Vec<OsString>, tty: bool, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Command, UsageError> {
    let cmd = parse(args.iter().cloned())?;
    let Command::Run(cfg, _) = &cmd else { return Ok(cmd) };
    let file = match (&cfg.config_file, cfg.no_config) {
        (_, true) => return Ok(cmd),
        (Some(f), false) => f.clone(),
        (None, false) if interactive(cfg, tty) => match default_file(env) {
            Some(f) if f.is_file() => f,
            _ => return Ok(cmd),
        },
        (None, false) => return Ok(cmd),
    };
    let lines = read(&file)?;
    // Flags the command line gives replace the file's (a `--socket` there
    // is not added to the file's), and a replay has no live sources.
    let given: Vec<&'static str> = flag_names(&args);
    let replay = cfg.replay.is_some();
    let mut all: Vec<OsString> = Vec::new();
    for (flag, words) in lines {
        let appended = flag.repeat == Repeat::Append && given.contains(&flag.long);
        let source = matches!(flag.long, "socket" | "all" | "user");
        if !appended && !(replay && source) {
            all.extend(words.into_iter().map(OsString::from));
        }
    }
    all.extend(args);
    parse(all)
}

/// Whether this run is the person at the terminal's (see the module doc).
fn interactive(cfg: &Config, tty: bool) -> bool {
    tty && cfg.format == Format::Table
        && cfg.columns.is_none()
        && cfg.iterations.is_none()
        && cfg.serve.is_none()
        && cfg.record.is_none()
        && cfg.from.is_none()
        && cfg.to.is_none()
        && !cfg.events
}

/// `$OPENRTC_TOP_CONFIG`, else `$XDG_CONFIG_HOME/openrtc-top/config`, else
/// `~/.config/openrtc-top/config`.
pub fn default_file(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(f) = set("OPENRTC_TOP_CONFIG") {
        return Some(PathBuf::from(f));
    }
    let base = set("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| set("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("openrtc-top").join("config"))
}

/// The file's flags, each checked alone: it exists, a config file may set
/// it, and its value is good. Errors name the file and the line.
fn read(file: &Path) -> Result<Vec<(&'static flags::Flag, Vec<String>)>, UsageError> {
    let shown = crate::text::in_message(&file.to_string_lossy()).into_owned();
    let too_big = std::fs::metadata(file).is_ok_and(|m| m.len() > MAX_BYTES);
    if too_big {
        return Err(UsageError(format!("config file {shown}: larger than {} KiB; it holds a flag per line", MAX_BYTES >> 10)));
    }
    let bytes = std::fs::read(file).map_err(|e| UsageError(format!("cannot read the config file {shown}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| UsageError(format!("config file {shown}: not valid UTF-8")))?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let at = |why: String| UsageError(format!("config file {shown} line {}: {why}", i + 1));
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split(line);
        let name = words[0].as_str();
        let flag = name
            .strip_prefix("--")
            .and_then(|l| flags::by_long(l).map(|(f, _)| f))
            .or_else(|| name.strip_prefix('-').filter(|s| s.chars().count() == 1).and_then(|s| flags::by_short(s.chars().next()?)))
            .ok_or_else(|| at(format!("'{}' is not a flag (one flag per line, e.g. --sort cpu_pct)", crate::text::in_message(name))))?;
        if !flag.config {
            return Err(at(format!("'--{}' cannot be set in a config file (it is for the command line: it changes what a script gets or what runs)", flag.long)));
        }
        // The line alone must parse: its value is checked here, by its line.
        parse(words.iter().map(OsString::from)).map_err(|e| at(e.0))?;
        out.push((flag, words));
    }
    Ok(out)
}

/// `--flag=value` or `--flag value` (the value is the rest of the line).
fn split(line: &str) -> Vec<String> {
    let cut = match line.starts_with("--") {
        true => line.find(['=', ' ', '\t']),
        false => line.find([' ', '\t']),
    };
    match cut {
        Some(i) => vec![line[..i].to_string(), line[i + 1..].trim().to_string()],
        None => vec![line.to_string()],
    }
}

/// The long names of the flags on a command line.
fn flag_names(args: &[OsString]) -> Vec<&'static str> {
    args.iter()
        .filter_map(|a| a.to_str())
        .filter_map(|a| match a.strip_prefix("--") {
            Some(l) => flags::by_long(l.split('=').next().unwrap_or(l)).map(|(f, _)| f.long),
            None => a.strip_prefix('-').and_then(|s| flags::by_short(s.chars().next()?)).map(|f| f.long),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(file: &str, args: &[&str], tty: bool) -> Result<Config, String> {
        let d = std::env::temp_dir().join(format!("ortop-config-{}-{}", std::process::id(), file.len()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("config");
        std::fs::write(&f, file).unwrap();
        let env = |k: &str| (k == "OPENRTC_TOP_CONFIG").then(|| f.clone().into_os_string());
        let r = parse_with_config(args.iter().map(OsString::from).collect(), tty, &env);
        std::fs::remove_dir_all(&d).unwrap();
        match r.map_err(|e| e.0.replace(&f.to_string_lossy().into_owned(), "F"))? {
            Command::Run(c, _) => Ok(*c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_for_the_terminal_only_and_the_command_line_wins() {
        let file = "# mine\n--sort cpu_pct\n--status=slow\n\n--socket /a.sock\n";
        let c = with(file, &[], true).unwrap();
        assert_eq!((c.query.sort.sort_name(), c.sockets.len()), ("cpu_pct", 1));
        assert_eq!(c.query.status.name(), "slow");
        let c = with(file, &["--sort", "agent", "--socket", "/b.sock"], true).unwrap();
        assert_eq!((c.query.sort.sort_name(), c.sockets), ("agent", vec![PathBuf::from("/b.sock")]));
        // Plain output never reads it: a pipe, --format, -o, batch, the exporter.
        for args in [&[][..], &["--format", "tsv"], &["-o", "session"], &["-n", "2"], &["--serve", ":1"], &["--record", "/r"]] {
            let tty = !args.is_empty();
            assert_eq!(with(file, args, tty).unwrap().query.sort.sort_name(), "mem_mb", "{args:?}");
        }
        assert_eq!(with(file, &["--no-config"], true).unwrap().query.sort.sort_name(), "mem_mb");
        // A replay takes its view from the file, not its sources.
        let c = with(file, &["--replay", "/r"], true).unwrap();
        assert!(c.sockets.is_empty() && c.query.sort.sort_name() == "cpu_pct");
    }

    #[test]
    fn a_bad_line_names_the_file_and_the_line() {
        assert_eq!(with("--sort cpu_pct\n--sort bogus\n", &[], true).unwrap_err().split(": expected").next().unwrap(), "config file F line 2: invalid value 'bogus' for '--sort'");
        assert_eq!(with("--once\n", &[], true).unwrap_err(), "config file F line 1: '--once' cannot be set in a config file (it is for the command line: it changes what a script gets or what runs)");
        assert_eq!(with("sort cpu\n", &[], true).unwrap_err(), "config file F line 1: 'sort' is not a flag (one flag per line, e.g. --sort cpu_pct)");
        assert!(with("--nope\n", &[], true).unwrap_err().starts_with("config file F line 1: '--nope' is not a flag"));
    }

    #[test]
    fn the_default_file_is_found_as_xdg_says() {
        let env = |vars: &'static [(&'static str, &'static str)]| move |k: &str| vars.iter().find(|v| v.0 == k).map(|v| OsString::from(v.1));
        assert_eq!(default_file(&env(&[("OPENRTC_TOP_CONFIG", "/c"), ("HOME", "/h")])), Some(PathBuf::from("/c")));
        assert_eq!(default_file(&env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])), Some(PathBuf::from("/x/openrtc-top/config")));
        assert_eq!(default_file(&env(&[("HOME", "/h")])), Some(PathBuf::from("/h/.config/openrtc-top/config")));
        assert_eq!(default_file(&env(&[])), None);
    }
}
