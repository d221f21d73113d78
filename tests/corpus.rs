//! The golden corpus: payloads in `tests/corpus/NAME.in` and, in
//! `NAME.out`, what `openrtc-top --once` printed for each in nine runs
//! (table and framed table, TSV, JSON, OpenMetrics and Prometheus, in UTF-8
//! and C locales): stdout, stderr and exit status, byte for byte.
//!
//! The expected files were written by the binary at commit a7a7e88, before
//! the decoder/presentation refactor, and hold its output fixed across it.
//! Bless (`OPENRTC_CORPUS_BLESS=1 cargo test --test tests corpus::`, which
//! rewrites every `.out` from the current binary) only when a change of
//! output is intended, and review the diff of the `.out` files it makes.
//!
//! Each case is served by a real `Server` on a Unix socket, exactly the
//! bytes of its `.in` file (trailing newline or not), and every run is a
//! separate process. The `.out` format (also in `tests/corpus/README.md`),
//! one block per run, in `RUNS` order:
//!
//! ```text
//! == RUN: exit N            (or "signal N")
//! --- stdout: LEN bytes
//! <exactly LEN bytes>
//! --- stderr: LEN bytes
//! <exactly LEN bytes>
//! ```
//!
//! Each `<...>` is followed by one `\n` of the format's own, so the file
//! reads as text; the byte count, not a line, says where the output ends,
//! so output without a final newline (or with lines that look like the
//! format's) is unambiguous. Two things are not the binary's to fix and are
//! written in a normal form: the socket path (a fresh temporary directory
//! each time) as `$SOCKET`, and the value of `openrtc_fetch_duration_seconds`
//! (a measured time) as `$SECONDS`; the worker's pid (the fake worker is
//! the test process) as `$PID`, in JSON and in the worker header.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::util::*;

/// One way of running the binary on a case: extra flags and environment
/// (over `run_with`'s: no NO_COLOR or COLUMNS, LANG=C.UTF-8).
struct Run {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const ASCII: (&str, &str) = ("LANG", "C");

const RUNS: &[Run] = &[
    // stdout is a pipe: the plain ps-style table.
    Run { name: "table", args: &[], env: &[] },
    Run { name: "table-ascii", args: &[], env: &[ASCII] },
    Run { name: "tsv", args: &["--format", "tsv"], env: &[] },
    Run { name: "json", args: &["--format", "json"], env: &[] },
    Run { name: "json-ascii", args: &["--format", "json"], env: &[ASCII] },
    Run { name: "openmetrics", args: &["--format", "openmetrics"], env: &[] },
    Run { name: "prometheus", args: &["--format", "prometheus"], env: &[] },
    // What a terminal would get: the coloured frame, at the width COLUMNS
    // gives when stdout has no size of its own.
    Run { name: "frame", args: &["--color", "always"], env: &[("COLUMNS", "120")] },
    Run { name: "frame-narrow", args: &["--color", "always"], env: &[("COLUMNS", "60"), ASCII] },
];

const BLESS: &str = "OPENRTC_CORPUS_BLESS";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// One run's result, normalised: what a `.out` block holds.
#[derive(Debug, PartialEq, Eq)]
struct Block {
    run: String,
    status: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn render(blocks: &[Block]) -> Vec<u8> {
    let mut f = Vec::new();
    for b in blocks {
        f.extend_from_slice(format!("== {}: {}\n", b.run, b.status).as_bytes());
        for (name, bytes) in [("stdout", &b.stdout), ("stderr", &b.stderr)] {
            f.extend_from_slice(format!("--- {name}: {} bytes\n", bytes.len()).as_bytes());
            f.extend_from_slice(bytes);
            f.push(b'\n');
        }
    }
    f
}

/// The blocks of a `.out` file, or what is wrong with it.
fn parse(mut f: &[u8]) -> Result<Vec<Block>, String> {
    fn line<'a>(f: &mut &'a [u8]) -> Result<&'a str, String> {
        let end = f.iter().position(|&c| c == b'\n').ok_or("a line without its newline")?;
        let l = std::str::from_utf8(&f[..end]).map_err(|_| "a header line that is not UTF-8")?;
        *f = &f[end + 1..];
        Ok(l)
    }
    fn section(f: &mut &[u8], name: &str) -> Result<Vec<u8>, String> {
        let l = line(f)?;
        let len = l
            .strip_prefix(&format!("--- {name}: "))
            .and_then(|r| r.strip_suffix(" bytes"))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| format!("expected '--- {name}: N bytes', found {l:?}"))?;
        if f.len() < len + 1 || f[len] != b'\n' {
            return Err(format!("{name} is not {len} bytes and a newline"));
        }
        let bytes = f[..len].to_vec();
        *f = &f[len + 1..];
        Ok(bytes)
    }
    let mut blocks = Vec::new();
    while !f.is_empty() {
        let l = line(&mut f)?;
        let (run, status) =
            l.strip_prefix("== ").and_then(|r| r.split_once(": ")).ok_or_else(|| format!("expected '== RUN: STATUS', found {l:?}"))?;
        let (run, status) = (run.to_string(), status.to_string());
        let stdout = section(&mut f, "stdout")?;
        let stderr = section(&mut f, "stderr")?;
        blocks.push(Block { run, status, stdout, stderr });
    }
    Ok(blocks)
}

/// `bytes` with every `from` replaced by `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The run's output in the corpus's normal form: the socket path, and the
/// fetch time (only where it is a plain non-negative number, so that a
/// broken value still shows).
fn normalise(bytes: &[u8], socket: &str) -> Vec<u8> {
    let bytes = replace(bytes, socket.as_bytes(), b"$SOCKET");
    // The worker's pid (the fake worker is this process).
    let pid = format!("\"pid\": {}", std::process::id());
    let bytes = replace(&bytes, pid.as_bytes(), b"\"pid\": $PID");
    // ... and in the one worker's header, coloured or not.
    let bytes = replace(&bytes, format!("PID \x1b[m{}", std::process::id()).as_bytes(), b"PID \x1b[m$PID");
    let bytes = replace(&bytes, format!("PID {}", std::process::id()).as_bytes(), b"PID $PID");
    let mut out = Vec::with_capacity(bytes.len());
    for l in bytes.split_inclusive(|&c| c == b'\n') {
        let body = l.strip_suffix(b"\n").unwrap_or(l);
        let timed = body.starts_with(b"openrtc_fetch_duration_seconds{").then(|| body.iter().rposition(|&c| c == b' ')).flatten();
        let value = timed.and_then(|sp| std::str::from_utf8(&body[sp + 1..]).ok()?.parse::<f64>().ok().map(|v| (sp, v)));
        match value {
            Some((sp, v)) if v.is_finite() && v >= 0.0 => {
                out.extend_from_slice(&body[..=sp]);
                out.extend_from_slice(b"$SECONDS");
                out.extend_from_slice(&l[body.len()..]);
            }
            _ => out.extend_from_slice(l),
        }
    }
    out
}

/// Every run of one payload, against one server.
fn runs_of(payload: Vec<u8>) -> Vec<Block> {
    let d = TempDir::new("corpus");
    let server = Server::bytes(&d.join("top.sock"), payload);
    let sock = server.path.to_str().unwrap().to_string();
    RUNS.iter()
        .map(|r| {
            let mut args = vec!["--once", "--socket", &sock];
            args.extend_from_slice(r.args);
            let out = run_with(&args, r.env, Duration::from_secs(20));
            let status = match (out.status.code(), std::os::unix::process::ExitStatusExt::signal(&out.status)) {
                (Some(c), _) => format!("exit {c}"),
                (None, Some(s)) => format!("signal {s}"),
                (None, None) => format!("{:?}", out.status),
            };
            Block { run: r.name.into(), status, stdout: normalise(&out.stdout, &sock), stderr: normalise(&out.stderr, &sock) }
        })
        .collect()
}

/// Where two outputs first differ, as a line of each.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let (mut w, mut g) = (want.split(|&c| c == b'\n'), got.split(|&c| c == b'\n'));
    for n in 1.. {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                let show = |l: Option<&[u8]>| l.map_or("(end)".into(), |l| format!("{:?}", String::from_utf8_lossy(l)));
                return format!("line {n}:\n      expected {}\n      actual   {}", show(a), show(b));
            }
        }
    }
    unreachable!()
}

/// What differs between the recorded blocks of a case and this run's.
fn differences(case: &str, want: &[Block], got: &[Block]) -> Vec<String> {
    let mut diffs = Vec::new();
    let names = |bs: &[Block]| bs.iter().map(|b| b.run.clone()).collect::<Vec<_>>();
    if names(want) != names(got) {
        diffs.push(format!("{case}: the .out file has runs {:?}, the test does {:?}", names(want), names(got)));
        return diffs;
    }
    for (w, g) in want.iter().zip(got) {
        if w.status != g.status {
            diffs.push(format!("{case}, run {}: expected {}, got {}", w.run, w.status, g.status));
        }
        for (what, a, b) in [("stdout", &w.stdout, &g.stdout), ("stderr", &w.stderr, &g.stderr)] {
            if a != b {
                diffs.push(format!("{case}, run {}: {what} differs at {}", w.run, first_difference(a, b)));
            }
        }
    }
    diffs
}

/// The case names: every `.in` file, sorted.
fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok()?.strip_suffix(".in").map(String::from))
        .collect();
    names.sort();
    names
}

#[test]
fn every_payload_prints_as_recorded() {
    let bless = std::env::var_os(BLESS).is_some_and(|v| v == "1");
    let names = cases();
    let failures = Mutex::new(Vec::<String>::new());
    // Every `.out` belongs to a case: a stale one would go unchecked.
    for e in std::fs::read_dir(dir()).unwrap() {
        let f = e.unwrap().file_name().into_string().unwrap();
        if let Some(n) = f.strip_suffix(".out") {
            if !names.iter().any(|c| c == n) {
                failures.lock().unwrap().push(format!("{f} has no {n}.in: remove it"));
            }
        }
    }
    // The runs are processes that mostly wait on a socket or a pipe: a few
    // cases at once keep two cores busy without crowding them.
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Some(name) = names.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let got = runs_of(std::fs::read(dir().join(format!("{name}.in"))).unwrap());
                    let out = dir().join(format!("{name}.out"));
                    if bless {
                        std::fs::write(&out, render(&got)).unwrap();
                        continue;
                    }
                    let diffs = match std::fs::read(&out) {
                        Err(e) => vec![format!("{name}: cannot read {name}.out ({e}); bless to write it")],
                        Ok(f) => match parse(&f) {
                            Err(e) => vec![format!("{name}: {name}.out is not in the corpus format: {e}")],
                            Ok(want) => differences(name, &want, &got),
                        },
                    };
                    failures.lock().unwrap().extend(diffs);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let n = failures.len();
    assert!(
        n == 0,
        "{n} difference{} from the golden corpus (tests/corpus, written at a7a7e88):\n  {}\n\
         If the change of output is intended and reviewed: {BLESS}=1 cargo test --test tests corpus::",
        if n == 1 { "" } else { "s" },
        failures.join("\n  ")
    );
}

#[test]
fn the_corpus_stays_small_and_its_format_reads_back() {
    let names = cases();
    assert!((90..=130).contains(&names.len()), "{} cases", names.len());
    for n in &names {
        let len = std::fs::metadata(dir().join(format!("{n}.in"))).unwrap().len();
        assert!(len <= 100_000, "{n}.in is {len} bytes");
    }
    // Outputs that could fool a line-based format: no final newline, a
    // line that looks like a header, nothing at all.
    let blocks = vec![
        Block { run: "a".into(), status: "exit 0".into(), stdout: b"x\n== b: exit 1\n--- stderr: 0 bytes\n".to_vec(), stderr: b"no newline".to_vec() },
        Block { run: "b".into(), status: "signal 9".into(), stdout: Vec::new(), stderr: b"\n".to_vec() },
    ];
    assert_eq!(parse(&render(&blocks)).unwrap(), blocks);
    assert_eq!(
        normalise(b"openrtc_fetch_duration_seconds{worker=\"w x\"} 0.000872383\nat /tmp/s.sock\n", "/tmp/s.sock"),
        b"openrtc_fetch_duration_seconds{worker=\"w x\"} $SECONDS\nat $SOCKET\n"
    );
}
