//! Every command-line flag, as data (ripgrep's `flags/defs.rs`): one
//! definition per flag, from which the parse (`cli::parse`), `--help`, the
//! man page and the shell completions (`docs`) all come. A definition says
//! the flag's names, what value it takes (and which words, when it takes
//! one of a few), its default, its help, whether a config file may set it,
//! how a repeated flag merges, how to turn a switch off again, and what it
//! does to the configuration.

use std::path::PathBuf;

use super::{ColorMode, Command, Format, Generated, Parsed, values};
use crate::model::column::Column;
use crate::view::StatusFilter;

/// What a flag's value can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// No value: a switch.
    Nothing,
    /// One of these words.
    Words(&'static [&'static str]),
    /// A sort key (`Column::all_sort_names`).
    SortKey,
    /// A path to a file, socket or directory (any bytes but none).
    Path,
    /// Free text or a number.
    Text,
}

/// How a flag given more than once merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// The last one given wins.
    Last,
    /// Each adds a value (`--socket`). Values from the command line replace
    /// those a config file gave, rather than adding to them.
    Append,
}

/// A flag's value, as the parse hands it to the flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A switch (or its negation: see `Flag::negate`).
    Switch(bool),
    Text(String),
    Path(PathBuf),
}

impl Value {
    fn text(self) -> String {
        match self {
            Value::Text(t) => t,
            Value::Path(p) => p.to_string_lossy().into_owned(),
            Value::Switch(_) => String::new(),
        }
    }

    fn path(self) -> PathBuf {
        match self {
            Value::Path(p) => p,
            other => PathBuf::from(other.text()),
        }
    }

    fn on(&self) -> bool {
        matches!(self, Value::Switch(true))
    }
}

/// What a flag does with its value; `Err` says why the value is not one
/// (the parse names the flag and the value around it).
pub type Apply = fn(&mut Parsed, Value) -> Result<(), String>;

#[derive(Debug)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// Other spellings of the long name (`--colour`).
    pub aliases: &'static [&'static str],
    /// The value's name in help (`HZ`), when it takes one.
    pub value: &'static str,
    pub takes: Takes,
    /// What holds when the flag is not given, as help says it.
    pub default: Option<&'static str>,
    pub help: &'static str,
    /// Whether a config file may set it: what serves the person at the
    /// terminal (colours, sort, filters, sources), not what changes a
    /// script's output or what the program does.
    pub config: bool,
    pub repeat: Repeat,
    /// A switch's negation, which turns it off again (a config file's
    /// `--no-header` undone by `--header` on the command line).
    pub negate: Option<&'static str>,
    pub apply: Apply,
}

/// Defaults for the fields most flags share.
const BASE: Flag = Flag {
    long: "",
    short: None,
    aliases: &[],
    value: "",
    takes: Takes::Nothing,
    default: None,
    help: "",
    config: false,
    repeat: Repeat::Last,
    negate: None,
    apply: |_, _| Ok(()),
};

/// A time in a recording, checked now, read against it later.
fn time(v: Value, slot: &mut Option<String>) -> Result<(), String> {
    let v = v.text();
    if crate::clock::parse_when(&v, 0).is_none() {
        return Err("expected a time: 03:12, 2026-11-28T03:12:05Z, a stamp from the recording, or -10m".into());
    }
    *slot = Some(v);
    Ok(())
}

/// A word of a `Takes::Words` flag, already checked against the list.
fn word<T>(v: Value, parse: fn(&str) -> Option<T>) -> Result<T, String> {
    parse(&v.text()).ok_or_else(|| "not one of the words".into())
}

pub const FLAGS: &[Flag] = &[
    Flag { long: "once", help: "print one snapshot and exit (scripts, CI)", apply: |p, _| Ok(p.cfg.once = true), ..BASE },
    Flag {
        long: "iterations",
        short: Some('n'),
        value: "N",
        takes: Takes::Text,
        help: "print N snapshots one refresh apart (with --once or without a terminal); live: exit after N frames",
        apply: |p, v| {
            p.cfg.iterations = Some(v.text().parse::<u64>().ok().filter(|&n| n > 0).ok_or("expected a whole number above 0")?);
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "refresh-rate",
        value: "HZ",
        takes: Takes::Text,
        default: Some("1.0"),
        help: "refresh rate, clamped to 0.5..10",
        config: true,
        apply: |p, v| {
            let (hz, warning) = values::refresh_rate(&v.text())?;
            p.cfg.refresh_hz = hz;
            p.warnings.extend(warning);
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "sort",
        value: "KEY",
        takes: Takes::SortKey,
        default: Some("mem_mb"),
        help: "initial sort column",
        config: true,
        apply: |p, v| {
            p.cfg.query.sort = Column::from_sort_name(&v.text())
                .ok_or_else(|| format!("expected one of {}", Column::all_sort_names().collect::<Vec<_>>().join(", ")))?;
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "status",
        value: "FILTER",
        takes: Takes::Words(StatusFilter::NAMES),
        default: Some("all"),
        help: "only sessions of this status",
        config: true,
        apply: |p, v| Ok(p.cfg.query.status = word(v, StatusFilter::parse)?),
        ..BASE
    },
    Flag {
        long: "agent",
        value: "NAME",
        takes: Takes::Text,
        help: "only sessions of this agent (exact)",
        config: true,
        apply: |p, v| Ok(p.cfg.query.agent = Some(v.text())),
        ..BASE
    },
    Flag {
        long: "tenant",
        value: "NAME",
        takes: Takes::Text,
        help: "only sessions of this tenant (exact; '-' = unset)",
        config: true,
        apply: |p, v| Ok(p.cfg.query.tenant = Some(v.text())),
        ..BASE
    },
    Flag {
        long: "worker",
        value: "LABEL",
        takes: Takes::Text,
        help: "only sessions of this worker (exact label, several sockets)",
        config: true,
        apply: |p, v| Ok(p.cfg.query.worker = Some(v.text())),
        ..BASE
    },
    Flag {
        long: "socket",
        value: "PATH",
        takes: Takes::Path,
        default: Some("the per-user path, as the worker computes it from XDG_RUNTIME_DIR or TMPDIR"),
        help: "a worker's socket, or a directory: every socket in it; may be given several times",
        config: true,
        repeat: Repeat::Append,
        apply: |p, v| Ok(p.cfg.sockets.push(v.path())),
        ..BASE
    },
    Flag {
        long: "all",
        help: "every worker socket in the per-user openrtc directory (the default path's)",
        config: true,
        negate: Some("no-all"),
        apply: |p, v| Ok(p.cfg.all = v.on()),
        ..BASE
    },
    Flag {
        long: "user",
        short: Some('u'),
        value: "USER",
        takes: Takes::Text,
        help: "read USER's workers (a name or uid; as root or as them): their default socket, and with --all their directory, looked for under /run/user/UID then the temp directory",
        config: true,
        apply: |p, v| Ok(p.cfg.user = Some(values::user(&v.text())?)),
        ..BASE
    },
    Flag {
        long: "format",
        value: "FORMAT",
        takes: Takes::Words(Format::NAMES),
        default: Some("table"),
        help: "--once output; openmetrics and prometheus (text 0.0.4) are metrics expositions",
        apply: |p, v| Ok(p.cfg.format = word(v, Format::parse)?),
        ..BASE
    },
    Flag {
        long: "serve",
        value: "ADDR",
        takes: Takes::Text,
        help: "serve Prometheus metrics of every source at http://ADDR/metrics ([HOST]:PORT; no HOST: 127.0.0.1)",
        apply: |p, v| {
            p.cfg.serve = Some(values::serve_addr(&v.text()).ok_or("expected [HOST]:PORT, e.g. 127.0.0.1:9464 or :9464 (HOST an IP address or localhost)")?);
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "record",
        value: "FILE",
        takes: Takes::Path,
        help: "append one NDJSON line per refresh (as --format json) to FILE, a regular file (not a symlink or FIFO): with the live view, or alone until -n, SIGTERM or SIGINT (SIGHUP reopens FILE)",
        apply: |p, v| Ok(p.cfg.record = Some(v.path())),
        ..BASE
    },
    Flag {
        long: "record-max",
        value: "SIZE",
        takes: Takes::Text,
        help: "rotate the recording at SIZE (e.g. 100M): FILE.1 ... FILE.4 are kept; a file holds at least one line, so it is at most SIZE or one line, the larger",
        apply: |p, v| {
            p.cfg.record_max = Some(crate::record::parse_size(&v.text()).ok_or("expected a size of at least 1K: bytes, or a number with K, M or G")?);
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "replay",
        value: "FILE",
        takes: Takes::Path,
        help: "the live view (or --once, --format) on a recording (a regular file: a pipe is not seekable) instead of the sockets",
        apply: |p, v| Ok(p.cfg.replay = Some(v.path())),
        ..BASE
    },
    Flag {
        long: "at",
        value: "TIME",
        takes: Takes::Text,
        default: Some("the first live, the last with --once"),
        help: "replay: the sample at or before TIME (03:12, 2026-11-28T03:12:05Z, -10m from the end)",
        apply: |p, v| time(v, &mut p.cfg.at),
        ..BASE
    },
    Flag {
        long: "from",
        value: "TIME",
        takes: Takes::Text,
        help: "replay: print every sample from TIME (with --to; batch output, a time column)",
        apply: |p, v| time(v, &mut p.cfg.from),
        ..BASE
    },
    Flag { long: "to", value: "TIME", takes: Takes::Text, help: "replay: ... up to TIME", apply: |p, v| time(v, &mut p.cfg.to), ..BASE },
    Flag {
        long: "events",
        help: "replay: print the recording's incidents (blocked loops and their stacks, slow sessions, workers gone and back) as a table, or --format tsv|json",
        apply: |p, _| Ok(p.cfg.events = true),
        ..BASE
    },
    Flag {
        long: "timeout",
        value: "SECONDS",
        takes: Takes::Text,
        default: Some("2"),
        help: "how long --once and each batch round wait for a worker's answer once connected; one that does not answer is blocked (exit status 4). The live view waits up to 60 s",
        apply: |p, v| {
            let secs = v.text().trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0).ok_or("expected a number of seconds above 0, at most 3600")?;
            p.cfg.timeout = std::time::Duration::from_secs_f64(secs);
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "py-spy",
        value: "PATH",
        takes: Takes::Path,
        default: Some("py-spy on PATH"),
        help: "the py-spy that takes a worker's Python stack (key y; --stacks)",
        config: true,
        apply: |p, v| Ok(p.cfg.py_spy = Some(v.path())),
        ..BASE
    },
    Flag {
        long: "stacks",
        help: "take the Python stack of every blocked loop at once (py-spy; one at a time per worker)",
        config: true,
        negate: Some("no-stacks"),
        apply: |p, v| Ok(p.cfg.stacks = v.on()),
        ..BASE
    },
    Flag {
        long: "per-session",
        value: "N",
        takes: Takes::Text,
        default: Some("0"),
        help: "metrics: also series for the N busiest sessions by CPU (ids as labels)",
        apply: |p, v| {
            p.cfg.per_session = v.text().parse().map_err(|_| "expected a whole number")?;
            Ok(())
        },
        ..BASE
    },
    Flag {
        long: "columns",
        short: Some('o'),
        value: "LIST",
        takes: Takes::Text,
        help: "table and tsv: these columns in this order (comma-separated headers or sort keys, e.g. worker,session,status; worker with one socket too), so a script's fields stay put; implies one snapshot, as --format does",
        apply: |p, v| Ok(p.cfg.columns = Some(values::columns(&v.text())?)),
        ..BASE
    },
    Flag {
        long: "no-header",
        help: "leave out the header line of table and tsv output",
        config: true,
        negate: Some("header"),
        apply: |p, v| Ok(p.cfg.header = !v.on()),
        ..BASE
    },
    Flag {
        long: "color",
        aliases: &["colour"],
        value: "WHEN",
        takes: Takes::Words(ColorMode::NAMES),
        default: Some("auto; NO_COLOR honoured"),
        help: "colour",
        config: true,
        apply: |p, v| Ok(p.cfg.color = word(v, ColorMode::parse)?),
        ..BASE
    },
    Flag {
        long: "config",
        value: "FILE",
        takes: Takes::Path,
        default: Some("$OPENRTC_TOP_CONFIG, else $XDG_CONFIG_HOME/openrtc-top/config (~/.config/...), for the live view only"),
        help: "read flags from FILE, one per line (# comments), before the command line, in any mode",
        apply: |p, v| Ok(p.cfg.config_file = Some(v.path())),
        ..BASE
    },
    Flag { long: "no-config", help: "read no config file", apply: |p, _| Ok(p.cfg.no_config = true), ..BASE },
    Flag {
        long: "generate",
        value: "WHAT",
        takes: Takes::Words(Generated::NAMES),
        help: "print the man page or a shell's completions (for packagers)",
        apply: |p, v| Ok(p.done = Some(Command::Generate(word(v, Generated::parse)?))),
        ..BASE
    },
    Flag { long: "help", short: Some('h'), help: "print this help", apply: |p, _| Ok(p.done = Some(Command::Help)), ..BASE },
    Flag { long: "version", short: Some('V'), help: "print the version", apply: |p, _| Ok(p.done = Some(Command::Version)), ..BASE },
];

/// The flag a long name (or alias, or negation) names, and whether it was
/// the negation.
pub fn by_long(name: &str) -> Option<(&'static Flag, bool)> {
    FLAGS.iter().find_map(|f| {
        let named = f.long == name || f.aliases.contains(&name);
        (named || f.negate == Some(name)).then_some((f, !named))
    })
}

pub fn by_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// The exit statuses, for `--help` and the man page.
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (0, "ok"),
    (1, "no running pool, or a snapshot that cannot be read (with several sockets: none answered)"),
    (2, "usage error"),
    (3, "several sockets, and some answered: their rows are printed, one line per failed socket on stderr"),
    (4, "a worker's loop is blocked (it accepted and did not answer within --timeout) and none failed otherwise: what answered is printed, one line per blocked worker on stderr"),
];
