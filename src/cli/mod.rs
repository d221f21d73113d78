//! Command line: lexopt into a validated `Config`. Help, version and
//! `--generate` return early; every usage error names the flag and the
//! value. The flags are one table (`flags`), from which `docs` makes the
//! help, the man page and the completions.

pub mod config;
pub mod docs;
pub mod examples;
pub mod flags;
mod values;

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use flags::{Takes, Value};


use crate::text::Charset;
use crate::view::Query;

pub const REFRESH_MIN: f64 = 0.5;
pub const REFRESH_MAX: f64 = 10.0;

crate::named! {
    /// What `--once` prints: a table, TSV, JSON, or a metrics exposition
    /// (OpenMetrics 1.0, or the Prometheus text format 0.0.4: `metrics`).
    pub enum Format {
        Table = "table",
        Tsv = "tsv",
        Json = "json",
        OpenMetrics = "openmetrics",
        Prometheus = "prometheus",
    }
}

impl Format {
    /// A metrics exposition rather than rows.
    pub fn metrics(self) -> bool {
        matches!(self, Format::OpenMetrics | Format::Prometheus)
    }
}

crate::named! {
    /// When to use colour.
    pub enum ColorMode {
        Auto = "auto",
        Always = "always",
        Never = "never",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub once: bool,
    pub refresh_hz: f64,
    pub query: Query,
    /// `--socket`, each time given: a socket, or a directory of them.
    pub sockets: Vec<PathBuf>,
    /// `--all`: every socket in the per-user openrtc directory.
    pub all: bool,
    /// `-u/--user`: read this user's workers (uid, and the name to show).
    pub user: Option<(u32, String)>,
    /// `-o/--columns`: table and TSV columns, in this order.
    pub columns: Option<Vec<crate::model::column::Column>>,
    /// `--config FILE` (read in any mode), `--no-config` (read none).
    pub config_file: Option<PathBuf>,
    pub no_config: bool,
    pub header: bool,
    pub color: ColorMode,
    pub format: Format,
    /// `-n`: snapshots to print (batch) or frames to draw (live), then exit.
    pub iterations: Option<u64>,
    /// What the reader's locale can show (set from the environment by main).
    pub charset: Charset,
    /// `--serve`: run the exporter on this address.
    pub serve: Option<SocketAddr>,
    /// `--per-session N`: metrics for the N busiest sessions.
    pub per_session: usize,
    /// `--record FILE`, and `--record-max` (bytes).
    pub record: Option<PathBuf>,
    pub record_max: Option<u64>,
    /// `--replay FILE`, and the times asked for: `--at`, `--from`, `--to`
    /// (read against the recording: `-10m` is before its last sample).
    pub replay: Option<PathBuf>,
    pub at: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `--replay FILE --events`: print the recording's incidents.
    pub events: bool,
    /// `--timeout`: how long `--once` and each batch round wait for an
    /// answer once connected.
    pub timeout: Duration,
    /// `--py-spy PATH` (else py-spy on PATH), and `--stacks`: take the stack
    /// of every block as soon as it is noticed.
    pub py_spy: Option<PathBuf>,
    pub stacks: bool,
}

impl Config {
    /// Whether to use colour on an output that is (`tty`) or is not a
    /// terminal: `always` and `never` say so; `auto` means on a terminal,
    /// unless NO_COLOR is set and non-empty.
    pub fn colour(&self, tty: bool) -> bool {
        color_on(self.color, tty, std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()))
    }
}

/// The colour decision, with its environment passed in.
fn color_on(mode: ColorMode, tty: bool, no_color: bool) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => tty && !no_color,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            once: false,
            refresh_hz: 1.0,
            query: Query::default(),
            sockets: Vec::new(),
            all: false,
            user: None,
            columns: None,
            config_file: None,
            no_config: false,
            header: true,
            color: ColorMode::Auto,
            format: Format::Table,
            iterations: None,
            charset: Charset::Utf8,
            serve: None,
            per_session: 0,
            record: None,
            record_max: None,
            replay: None,
            at: None,
            from: None,
            to: None,
            events: false,
            timeout: crate::source::target::TIMEOUT,
            py_spy: None,
            stacks: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run with this config; print the warnings (one line each) first.
    Run(Box<Config>, Vec<String>),
    Help,
    Version,
    /// `--generate`: the man page or a shell's completions.
    Generate(Generated),
}

crate::named! {
    /// What `--generate` prints.
    pub enum Generated {
        Man = "man",
        Bash = "bash",
        Zsh = "zsh",
        Fish = "fish",
    }
}

/// A usage error: one line, naming the flag and the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; try 'openrtc-top --help'", self.0)
    }
}

/// What parsing has made so far; the flags' `apply` write into it.
#[derive(Debug, Default)]
pub struct Parsed {
    pub cfg: Config,
    pub warnings: Vec<String>,
    /// A flag that ends parsing (`--help`, `--version`, `--generate`).
    pub done: Option<Command>,
}

/// Parse the command line, flag by flag through the table (`flags`).
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    parse_args(args.into_iter().map(Into::into).collect())
}

/// `parse`, once in the binary (not once per caller's iterator type: the
/// config file parses line by line, 10 KB more).
#[inline(never)]
fn parse_args(args: Vec<OsString>) -> Result<Command, UsageError> {
    use lexopt::Arg;

    let mut p = lexopt::Parser::from_args(args);
    let mut parsed = Parsed::default();
    while let Some(arg) = p.next().map_err(lexopt_error)? {
        let (flag, negated) = match arg {
            Arg::Short(c) => (flags::by_short(c).ok_or_else(|| lexopt_error(arg.unexpected()))?, false),
            Arg::Long(name) => flags::by_long(name).ok_or_else(|| lexopt_error(arg.unexpected()))?,
            Arg::Value(v) => {
                return Err(UsageError(format!("unexpected argument '{}'", crate::text::in_message(&v.to_string_lossy()))));
            }
        };
        let name = format!("--{}", flag.long);
        let value = match flag.takes {
            Takes::Nothing => Value::Switch(!negated),
            takes => {
                let v = p.value().map_err(|_| missing(&name))?;
                if takes == Takes::Path {
                    if v.is_empty() {
                        return Err(invalid(&name, "", "expected a path"));
                    }
                    Value::Path(PathBuf::from(v))
                } else {
                    let v = v.into_string().map_err(|v| invalid(&name, &v.to_string_lossy(), "not valid UTF-8"))?;
                    if let Takes::Words(words) = takes {
                        if !words.contains(&v.as_str()) {
                            return Err(invalid(&name, &v, &format!("expected {}", one_of(words))));
                        }
                    }
                    Value::Text(v)
                }
            }
        };
        let shown = match &value {
            Value::Text(t) => t.clone(),
            _ => String::new(),
        };
        (flag.apply)(&mut parsed, value).map_err(|why| invalid(&name, &shown, &why))?;
        if let Some(done) = parsed.done.take() {
            return Ok(done);
        }
    }
    let cfg = parsed.cfg;
    conflicts(&cfg)?;
    if cfg.serve.is_some() && (cfg.once || cfg.iterations.is_some()) {
        return Err(UsageError(format!(
            "'--serve' runs until stopped and answers each scrape: it does not go with '{}'",
            if cfg.once { "--once" } else { "--iterations" }
        )));
    }
    Ok(Command::Run(Box::new(cfg), parsed.warnings))
}

/// `a, b or c`.
pub fn one_of(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Flags that do not go together, each pair saying so.
fn conflicts(cfg: &Config) -> Result<(), UsageError> {
    let apart = |a: &str, b: &str| Err(UsageError(format!("'{a}' does not go with '{b}'")));
    let live_sources = !cfg.sockets.is_empty() || cfg.all;
    if cfg.replay.is_some() {
        if live_sources {
            return apart("--replay", if cfg.all { "--all" } else { "--socket" });
        }
        if cfg.serve.is_some() {
            return apart("--replay", "--serve");
        }
        if cfg.record.is_some() {
            return apart("--replay", "--record");
        }
        if cfg.events && cfg.at.is_some() {
            return apart("--events", "--at");
        }
        if cfg.events && cfg.format.metrics() {
            return Err(UsageError(format!("'--events' prints table, tsv or json, not '--format {}'", cfg.format.name())));
        }
    } else if let Some(f) = [("--at", &cfg.at), ("--from", &cfg.from), ("--to", &cfg.to)].iter().find(|f| f.1.is_some()) {
        return Err(UsageError(format!("'{}' is a time in a recording: it needs '--replay FILE'", f.0)));
    } else if cfg.events {
        return Err(UsageError("'--events' prints a recording's incidents: it needs '--replay FILE'".into()));
    }
    if cfg.at.is_some() && (cfg.from.is_some() || cfg.to.is_some()) {
        return apart("--at", if cfg.from.is_some() { "--from" } else { "--to" });
    }
    if cfg.columns.is_some() && !matches!(cfg.format, Format::Table | Format::Tsv) {
        return Err(UsageError(format!("'--columns' picks the columns of table and tsv output, not of '--format {}'", cfg.format.name())));
    }
    if cfg.columns.is_some() && (cfg.serve.is_some() || cfg.events) {
        return apart("--columns", if cfg.events { "--events" } else { "--serve" });
    }
    if cfg.record_max.is_some() && cfg.record.is_none() {
        return Err(UsageError("'--record-max' needs '--record FILE'".into()));
    }
    if cfg.record.is_some() && cfg.serve.is_some() {
        return apart("--record", "--serve");
    }
    Ok(())
}

/// lexopt's own messages do not always name the flag; ours always do.
fn lexopt_error(e: lexopt::Error) -> UsageError {
    use lexopt::Error as E;
    let msg = match e {
        E::MissingValue { option: Some(o) } => return missing(&o),
        E::UnexpectedValue { option, value } => format!(
            "option '{option}' takes no value (got '{}')",
            crate::text::in_message(&value.to_string_lossy())
        ),
        E::UnexpectedOption(o) => format!("unknown option '{}'", crate::text::in_message(&o)),
        other => crate::text::in_message(&other.to_string()).into_owned(),
    };
    UsageError(msg)
}

fn missing(flag: &str) -> UsageError {
    UsageError(format!("missing value for '{flag}'"))
}

fn invalid(flag: &str, value: &str, why: &str) -> UsageError {
    UsageError(format!("invalid value '{}' for '{flag}': {why}", crate::text::in_message(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::column::Column;
    use crate::view::StatusFilter;

    fn run(args: &[&str]) -> Result<(Config, Vec<String>), UsageError> {
        match parse(args.iter().copied())? {
            Command::Run(c, w) => Ok((*c, w)),
            other => panic!("{other:?}"),
        }
    }

    fn cfg(args: &[&str]) -> Config {
        run(args).unwrap().0
    }

    fn err(args: &[&str]) -> String {
        run(args).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]);
        assert_eq!(c, Config::default());
        assert!(!c.once && c.header && c.refresh_hz == 1.0);
        assert_eq!((c.query.sort, c.query.status), (Column::Mem, StatusFilter::All));
    }

    #[test]
    fn help_and_version_return_early() {
        assert_eq!(parse(["-h", "--bogus"]).unwrap(), Command::Help);
        assert_eq!(parse(["--help"]).unwrap(), Command::Help);
        assert_eq!(parse(["-V"]).unwrap(), Command::Version);
        assert_eq!(parse(["--version"]).unwrap(), Command::Version);
    }

    #[test]
    fn record_and_replay_flags() {
        let c = cfg(&["--record", "/r.ndjson", "--record-max", "10M"]);
        assert_eq!((c.record.as_deref(), c.record_max), (Some(std::path::Path::new("/r.ndjson")), Some(10 << 20)));
        let c = cfg(&["--replay", "/r", "--from", "-1h", "--to", "03:12"]);
        assert_eq!((c.from.as_deref(), c.to.as_deref()), (Some("-1h"), Some("03:12")));
        assert!(err(&["--replay", "/r", "--socket", "/s"]).contains("'--replay' does not go with '--socket'"));
        assert!(err(&["--replay", "/r", "--record", "/x"]).contains("'--replay' does not go with '--record'"));
        assert!(err(&["--at", "03:12"]).contains("'--at' is a time in a recording: it needs '--replay FILE'"));
        assert!(err(&["--replay", "/r", "--at", "03:12", "--to", "04:00"]).contains("'--at' does not go with '--to'"));
        assert!(err(&["--replay", "/r", "--at", "yesterday"]).contains("invalid value 'yesterday' for '--at'"));
        assert!(err(&["--record-max", "1M"]).contains("'--record-max' needs '--record FILE'"));
        assert!(err(&["--record", "/r", "--record-max", "12"]).contains("invalid value '12' for '--record-max'"));
    }

    #[test]
    fn serve_addresses_default_to_loopback() {
        let addr = |v: &str| cfg(&["--serve", v]).serve.unwrap().to_string();
        assert_eq!(addr("9464"), "127.0.0.1:9464");
        assert_eq!(addr(":9464"), "127.0.0.1:9464");
        assert_eq!(addr("localhost:9464"), "127.0.0.1:9464");
        assert_eq!(addr("0.0.0.0:9464"), "0.0.0.0:9464");
        assert_eq!(addr("[::1]:9464"), "[::1]:9464");
        assert!(err(&["--serve", "example.com:80"]).contains("invalid value 'example.com:80' for '--serve'"));
        assert!(err(&["--serve", "1.2.3.4"]).contains("'--serve'"));
        assert!(err(&["--serve", ":9464", "--once"]).contains("does not go with '--once'"));
        assert!(err(&["--per-session", "x"]).contains("'--per-session'"));
        assert_eq!(cfg(&["--per-session", "5"]).per_session, 5);
        assert_eq!(cfg(&["--format", "openmetrics"]).format, Format::OpenMetrics);
    }

    #[test]
    fn once_no_header_socket() {
        let c = cfg(&["--once", "--no-header", "--socket", "/x/top.sock"]);
        assert!(c.once && !c.header);
        assert_eq!(c.sockets, [PathBuf::from("/x/top.sock")]);
        assert_eq!(cfg(&["--socket=/y"]).sockets, [PathBuf::from("/y")]);
        let several = cfg(&["--socket", "/a", "--socket", "/b", "--all", "--worker", "w-1"]);
        assert_eq!((several.sockets.len(), several.all, several.query.worker.as_deref()), (2, true, Some("w-1")));
        assert!(err(&["--socket", ""]).contains("'--socket'"));
        assert!(err(&["--once=yes"]).contains("'--once'"));
    }

    #[test]
    fn refresh_rate_clamps_with_a_warning() {
        assert_eq!(cfg(&["--refresh-rate", "2"]).refresh_hz, 2.0);
        assert_eq!(cfg(&["--refresh-rate=0.5"]).refresh_hz, 0.5);
        let (c, w) = run(&["--refresh-rate", "20"]).unwrap();
        assert_eq!(c.refresh_hz, 10.0);
        assert_eq!(w, ["--refresh-rate '20' is outside 0.5..10 Hz; using 10"]);
        let (c, w) = run(&["--refresh-rate", "0.1"]).unwrap();
        assert_eq!((c.refresh_hz, w.len()), (0.5, 1));
        assert_eq!(cfg(&["--refresh-rate", "-3"]).refresh_hz, 0.5);
        assert_eq!(cfg(&["--refresh-rate", "inf"]).refresh_hz, 10.0);
        for bad in ["abc", "", "nan", "1hz"] {
            let e = err(&["--refresh-rate", bad]);
            assert!(e.contains("'--refresh-rate'") && e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn sort_keys_and_aliases() {
        for (v, col) in [
            ("mem_mb", Column::Mem),
            ("cpu_pct", Column::Cpu),
            ("duration_s", Column::Duration),
            ("agent", Column::Agent),
            ("session", Column::Session),
            ("peak_mb", Column::Peak),
            ("tenant", Column::Tenant),
            ("agent_name", Column::Agent),
            ("session_id", Column::Session),
        ] {
            assert_eq!(cfg(&["--sort", v]).query.sort, col);
        }
        let e = err(&["--sort", "bogus"]);
        assert!(e.starts_with("invalid value 'bogus' for '--sort': expected one of mem_mb"), "{e}");
        assert!(e.ends_with("; try 'openrtc-top --help'"));
    }

    #[test]
    fn status_filters() {
        for f in StatusFilter::ALL {
            assert_eq!(cfg(&["--status", f.name()]).query.status, *f);
        }
        assert!(err(&["--status", "idle"]).contains("invalid value 'idle' for '--status'"));
    }

    #[test]
    fn agent_and_tenant() {
        let c = cfg(&["--agent", "support", "--tenant", "acme corp"]);
        assert_eq!(c.query.agent.as_deref(), Some("support"));
        assert_eq!(c.query.tenant.as_deref(), Some("acme corp"));
        assert!(err(&["--agent"]).contains("missing value for '--agent'"));
    }

    #[test]
    fn color_and_format() {
        assert_eq!(cfg(&["--color", "always"]).color, ColorMode::Always);
        assert_eq!(cfg(&["--color=never"]).color, ColorMode::Never);
        assert_eq!(cfg(&["--color", "auto"]).color, ColorMode::Auto);
        assert!(err(&["--color", "blue"]).contains("'blue' for '--color'"));
        assert_eq!(cfg(&["--format", "tsv"]).format, Format::Tsv);
        assert_eq!(cfg(&["--format", "json"]).format, Format::Json);
        assert_eq!(cfg(&["--format", "table"]).format, Format::Table);
        assert!(err(&["--format", "xml"]).contains("'xml' for '--format'"));
    }

    #[test]
    fn iterations() {
        assert_eq!(cfg(&["-n", "3"]).iterations, Some(3));
        assert_eq!(cfg(&["-n5"]).iterations, Some(5));
        assert_eq!(cfg(&["--iterations=2"]).iterations, Some(2));
        assert!(err(&["-n", "0"]).contains("'0' for '--iterations'"));
        assert!(err(&["-n", "x"]).contains("'x' for '--iterations'"));
    }

    #[test]
    fn unknown_options_and_arguments() {
        assert_eq!(err(&["--bogus"]), "unknown option '--bogus'; try 'openrtc-top --help'");
        assert_eq!(err(&["-x"]), "unknown option '-x'; try 'openrtc-top --help'");
        assert!(err(&["stray"]).contains("unexpected argument 'stray'"));
        assert!(err(&["--sort"]).contains("missing value for '--sort'"));
    }

    #[test]
    fn colour_decision() {
        assert!(color_on(ColorMode::Auto, true, false));
        assert!(!color_on(ColorMode::Auto, true, true));
        assert!(!color_on(ColorMode::Auto, false, false));
        assert!(color_on(ColorMode::Always, false, true));
        assert!(!color_on(ColorMode::Never, true, false));
    }

    /// Every flag of the table parses (with a value it takes), so the help,
    /// man page and completions made from the table name only real flags.
    #[test]
    fn every_flag_in_the_table_parses() {
        use flags::{FLAGS, Takes};
        for f in FLAGS {
            let value = match f.takes {
                Takes::Nothing => None,
                Takes::Words(w) => Some(w[0].to_string()),
                Takes::SortKey => Some("mem_mb".to_string()),
                Takes::Path => Some("/x/top.sock".to_string()),
                Takes::Text => Some("2".to_string()),
            };
            // Values and the flags some need beside them.
            let (value, with): (Option<String>, &[&str]) = match f.long {
                "record-max" => (Some("1M".into()), &["--record", "/r"]),
                "columns" => (Some("session,status".into()), &[]),
                "at" | "from" | "to" => (Some("-1m".into()), &["--replay", "/r"]),
                "events" => (None, &["--replay", "/r"]),
                _ => (value, &[]),
            };
            let mut spellings = vec![format!("--{}", f.long)];
            spellings.extend(f.short.map(|c| format!("-{c}")));
            for s in spellings {
                let args: Vec<String> = with.iter().map(|w| w.to_string()).chain(std::iter::once(s.clone())).chain(value.clone()).collect();
                assert!(parse(args.iter().map(String::as_str)).is_ok(), "{args:?}");
                if value.is_some() {
                    let e = parse([s.as_str()]).unwrap_err().to_string();
                    assert!(e.contains("missing value"), "{s}: {e}");
                }
            }
        }
        assert!(err(&["--generate", "pdf"]).contains("'pdf' for '--generate'"));
    }

    #[test]
    fn timeout_py_spy_stacks_and_events() {
        assert_eq!(cfg(&[]).timeout, Duration::from_secs(2));
        assert_eq!(cfg(&["--timeout", "0.5"]).timeout, Duration::from_millis(500));
        for bad in ["0", "-1", "x", "nan", "4000"] {
            assert!(err(&["--timeout", bad]).contains(&format!("invalid value '{bad}' for '--timeout'")), "{bad}");
        }
        let c = cfg(&["--py-spy", "/opt/py-spy", "--stacks"]);
        assert_eq!((c.py_spy.as_deref(), c.stacks), (Some(std::path::Path::new("/opt/py-spy")), true));
        assert!(!cfg(&["--stacks", "--no-stacks"]).stacks);
        assert!(cfg(&["--replay", "/r", "--events"]).events);
        assert!(err(&["--events"]).contains("'--events' prints a recording's incidents: it needs '--replay FILE'"));
    }

    #[test]
    fn a_switch_is_undone_by_its_negation_and_aliases_parse() {
        assert!(cfg(&["--no-header", "--header"]).header);
        assert!(!cfg(&["--header", "--no-header"]).header);
        assert!(!cfg(&["--all", "--no-all"]).all && cfg(&["--no-all", "--all"]).all);
        assert_eq!(cfg(&["--colour", "never"]).color, ColorMode::Never);
        assert!(err(&["--header=x"]).contains("'--header' takes no value"));
        assert!(err(&["--colour", "blue"]).contains("invalid value 'blue' for '--color'"));
    }

    /// What a config file may set is what serves the person at the
    /// terminal, never what changes a script's output or what runs; only
    /// `--socket` adds up, and only switches have negations.
    #[test]
    fn the_table_says_what_a_config_file_may_set_and_how_flags_merge() {
        use flags::{FLAGS, Repeat};
        let settable: Vec<&str> = FLAGS.iter().filter(|f| f.config).map(|f| f.long).collect();
        assert_eq!(settable, ["refresh-rate", "sort", "status", "agent", "tenant", "worker", "socket", "all", "user", "py-spy", "stacks", "no-header", "color"]);
        let appended: Vec<&str> = FLAGS.iter().filter(|f| f.repeat == Repeat::Append).map(|f| f.long).collect();
        assert_eq!(appended, ["socket"]);
        for f in FLAGS.iter().filter(|f| f.negate.is_some()) {
            assert_eq!(f.takes, Takes::Nothing, "--{}", f.long);
            assert!(f.config, "--{}: a negation undoes what a config file set", f.long);
        }
        assert_eq!(cfg(&["--socket", "/a", "--socket", "/b"]).sockets, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(cfg(&["--sort", "cpu_pct", "--sort", "agent"]).query.sort, Column::Agent);
    }

    #[test]
    fn messages_never_carry_raw_control_bytes() {
        let e = err(&["--sort", "\x1b[2J"]);
        assert!(!e.contains('\x1b'), "{e}");
    }
}
