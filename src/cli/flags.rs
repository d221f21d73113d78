//! Every command-line flag, as data: the one table `--help`, the man page
//! and the shell completions are generated from (`docs`). `parse` matches
//! the same names; a test holds the two together.

/// What a flag's value can be, for help and completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// No value: a switch.
    Nothing,
    /// One of these words.
    Words(&'static [&'static str]),
    /// A sort key (`Column::all_sort_names`).
    SortKey,
    /// A path to a file or socket.
    Path,
    /// Free text or a number.
    Text,
}

#[derive(Debug)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name in help (`HZ`), when it takes one.
    pub value: &'static str,
    pub takes: Takes,
    pub help: &'static str,
}

pub const FLAGS: &[Flag] = &[
    Flag { long: "once", short: None, value: "", takes: Takes::Nothing, help: "print one snapshot and exit (scripts, CI)" },
    Flag { long: "iterations", short: Some('n'), value: "N", takes: Takes::Text, help: "print N snapshots one refresh apart (with --once or without a terminal); live: exit after N frames" },
    Flag { long: "refresh-rate", short: None, value: "HZ", takes: Takes::Text, help: "refresh rate, clamped to 0.5..10 [default: 1.0]" },
    Flag { long: "sort", short: None, value: "KEY", takes: Takes::SortKey, help: "initial sort column [default: mem_mb]" },
    Flag { long: "status", short: None, value: "FILTER", takes: Takes::Words(&["all", "active", "slow", "draining", "errored"]), help: "only sessions of this status [default: all]" },
    Flag { long: "agent", short: None, value: "NAME", takes: Takes::Text, help: "only sessions of this agent (exact)" },
    Flag { long: "tenant", short: None, value: "NAME", takes: Takes::Text, help: "only sessions of this tenant (exact; '-' = unset)" },
    Flag { long: "worker", short: None, value: "LABEL", takes: Takes::Text, help: "only sessions of this worker (exact label, several sockets)" },
    Flag { long: "socket", short: None, value: "PATH", takes: Takes::Path, help: "a worker's socket, or a directory: every socket in it; may be given several times [default: the per-user path, as the worker computes it from XDG_RUNTIME_DIR or TMPDIR]" },
    Flag { long: "all", short: None, value: "", takes: Takes::Nothing, help: "every worker socket in the per-user openrtc directory (the default path's)" },
    Flag { long: "format", short: None, value: "FORMAT", takes: Takes::Words(&["table", "tsv", "json", "openmetrics", "prometheus"]), help: "--once output [default: table]; openmetrics and prometheus (text 0.0.4) are metrics expositions" },
    Flag { long: "serve", short: None, value: "ADDR", takes: Takes::Text, help: "serve Prometheus metrics of every source at http://ADDR/metrics ([HOST]:PORT; no HOST: 127.0.0.1)" },
    Flag { long: "record", short: None, value: "FILE", takes: Takes::Path, help: "append one NDJSON line per refresh (as --format json) to FILE: with the live view, or alone until -n or a stop signal" },
    Flag { long: "record-max", short: None, value: "SIZE", takes: Takes::Text, help: "rotate the recording at SIZE (e.g. 100M): FILE.1 ... FILE.4 are kept" },
    Flag { long: "replay", short: None, value: "FILE", takes: Takes::Path, help: "the live view (or --once, --format) on a recording instead of the sockets" },
    Flag { long: "at", short: None, value: "TIME", takes: Takes::Text, help: "replay: the sample at or before TIME (03:12, 2026-11-28T03:12:05Z, -10m from the end) [default: the first live, the last with --once]" },
    Flag { long: "from", short: None, value: "TIME", takes: Takes::Text, help: "replay: print every sample from TIME (with --to; batch output, a time column)" },
    Flag { long: "to", short: None, value: "TIME", takes: Takes::Text, help: "replay: ... up to TIME" },
    Flag { long: "per-session", short: None, value: "N", takes: Takes::Text, help: "metrics: also series for the N busiest sessions by CPU (ids as labels) [default: 0]" },
    Flag { long: "no-header", short: None, value: "", takes: Takes::Nothing, help: "leave out the header line of table and tsv output" },
    Flag { long: "color", short: None, value: "WHEN", takes: Takes::Words(&["auto", "always", "never"]), help: "colour [default: auto; NO_COLOR honoured]" },
    Flag { long: "generate", short: None, value: "WHAT", takes: Takes::Words(&["man", "bash", "zsh", "fish"]), help: "print the man page or a shell's completions (for packagers)" },
    Flag { long: "help", short: Some('h'), value: "", takes: Takes::Nothing, help: "print this help" },
    Flag { long: "version", short: Some('V'), value: "", takes: Takes::Nothing, help: "print the version" },
];

/// The exit statuses, for `--help` and the man page.
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (0, "ok"),
    (1, "no running pool, or a snapshot that cannot be read (with several sockets: none answered)"),
    (2, "usage error"),
    (3, "several sockets, and some answered: their rows are printed, one line per failed socket on stderr"),
];
