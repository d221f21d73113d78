//! Recipes, as data: the man page's EXAMPLES and README's runnable block
//! both come from here, and a test runs each one against the demo worker
//! (tests/docs.rs), so neither can drift from what the binary does.

/// One recipe: the command line as a shell runs it, and what it does.
pub struct Example {
    pub command: &'static str,
    pub what: &'static str,
}

pub const EXAMPLES: &[Example] = &[
    Example { command: "openrtc-top --once -o session,status | awk '$2 == \"slow\" {print $1}'", what: "the ids of the slow sessions (-o pins the fields, however many workers answer)" },
    Example { command: "openrtc-top --once -o agent,mem_mb --no-header | awk '{m[$1] += $2} END {for (a in m) print a, m[a]}'", what: "memory share per agent" },
    Example { command: "openrtc-top --once -o tenant --no-header | sort | uniq -c | sort -rn", what: "sessions per tenant, busiest first" },
    Example { command: "openrtc-top --once --status slow -o session,agent,cpu_pct", what: "the slow sessions, with their agent and CPU share" },
    Example { command: "openrtc-top --once --format json | jq -r '.sessions[] | \"\\(.session_id) \\(.cpu_pct)\"'", what: "every session's id and exact CPU share, with jq" },
    Example { command: "openrtc-top --once --format json | jq '.worker | {failed, load1: .system.load1}'", what: "the worker's failed count and the host's load" },
    Example { command: "openrtc-top --once --all --format json | jq -r '.workers[] | \"\\(.label) \\(.state)\"'", what: "every worker of the per-user directory, and whether it answered" },
    Example { command: "openrtc-top -n 3 --refresh-rate 2 --format tsv -o session,status | head -4", what: "three samples half a second apart, with a time column" },
    Example { command: "openrtc-top --once --format prometheus | grep '^openrtc_up'", what: "the exposition Prometheus scrapes, as text" },
];
