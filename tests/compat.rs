//! Compatibility with the real worker: openrtc 0.20.1 from PyPI serves, over
//! its own socket code, what openrtc-top reads. Each output is compared with
//! the bytes the worker sent on that same connection (a tee in between keeps a
//! copy), decoded by Python's json module.
//!
//! Needs the venv `make test` creates (target/compat-venv), so every test
//! here is ignored by plain `cargo test` (which says so); `make test` runs
//! them with `--include-ignored`, and without the venv they fail and say
//! how to get it: `make test` never passes with this suite skipped.


use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::*;

const HARNESS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/harness.py");

fn python() -> PathBuf {
    let p = std::env::var_os("OPENRTC_COMPAT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/compat-venv/bin/python"));
    assert!(
        p.exists(),
        "the compatibility suite needs a Python venv with openrtc==0.20.1 and psutil at {}: \
         run 'make test', which creates it (it needs python3 with its venv module: \
         on Debian/Ubuntu 'apt install python3 python3-venv'), or set OPENRTC_COMPAT_PYTHON",
        p.display()
    );
    p
}

/// The harness serving one scenario through openrtc's own code.
struct Worker {
    child: Child,
    socket: PathBuf,
}

impl Worker {
    fn start(scenario: &str, socket: Option<&Path>, env: &[(&str, &str)], unset: &[&str]) -> Worker {
        let mut cmd = Command::new(python());
        cmd.arg(HARNESS).args(["serve", "--scenario", scenario]);
        if let Some(s) = socket {
            cmd.arg("--socket").arg(s);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        for k in unset {
            cmd.env_remove(k);
        }
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("the harness never said READY");
        let socket = PathBuf::from(line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("harness said {line:?}")));
        Worker { child, socket }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // EOF: the harness closes its server and exits
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A socket in front of the worker's that forwards each connection and keeps
/// a copy of what the worker sent.
struct Tee {
    server: Server,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Tee {
    fn new(dir: &TempDir, upstream: &Path) -> Tee {
        Tee::at(&dir.join("tee.sock"), upstream)
    }

    /// A tee listening at `path`.
    fn at(path: &Path, upstream: &Path) -> Tee {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (up, s) = (upstream.to_path_buf(), seen.clone());
        let server = Server::start(path, Arc::new(move |mut client: UnixStream| {
            let mut worker = UnixStream::connect(&up).unwrap();
            let mut bytes = Vec::new();
            worker.read_to_end(&mut bytes).unwrap();
            s.lock().unwrap().push(bytes.clone());
            let _ = client.write_all(&bytes);
        }));
        Tee { server, seen }
    }

    /// Run openrtc-top through the tee; its output and the worker's bytes.
    fn run(&self, args: &[&str]) -> (Output, Vec<u8>) {
        let before = self.seen.lock().unwrap().len();
        let sock = self.server.path.to_str().unwrap().to_string();
        let mut all = vec!["--once", "--socket", &sock];
        all.extend_from_slice(args);
        let out = run(&all);
        assert!(out.status.success(), "openrtc-top {args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "");
        let seen = self.seen.lock().unwrap();
        assert_eq!(seen.len(), before + 1, "one connection per --once");
        (out, seen[before].clone())
    }
}

/// Ask the harness whether `ours` shows what the worker served in `raw`.
fn check(dir: &TempDir, format: &str, raw: &[u8], ours: &[u8], extra: &[&str]) -> Result<(), String> {
    let (r, o) = (dir.join("raw.json"), dir.join("ours.out"));
    std::fs::write(&r, raw).unwrap();
    std::fs::write(&o, ours).unwrap();
    let out = Command::new(python())
        .arg(HARNESS)
        .args(["check", "--format", format, "--raw", r.to_str().unwrap(), "--ours", o.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    if out.status.success() { Ok(()) } else { Err(text(&out.stderr)) }
}

fn all_formats_match(scenario: &str) {
    let d = TempDir::new(&format!("compat-{scenario}"));
    let w = Worker::start(scenario, Some(&d.join("worker.sock")), &[], &[]);
    let tee = Tee::new(&d, &w.socket);
    for format in FORMATS {
        let (out, raw) = tee.run(&["--format", format]);
        check(&d, format, &raw, &out.stdout, &[]).unwrap_or_else(|e| panic!("{scenario}/{format}: {e}"));
        promtool(format, &out.stdout);
    }
}

/// Every `--once` format the harness can check.
const FORMATS: [&str; 5] = ["table", "json", "tsv", "openmetrics", "prometheus"];

/// `promtool check metrics` on a Prometheus text exposition has nothing to
/// say. (promtool reads the 0.0.4 text format; the OpenMetrics one is
/// checked by prometheus_client's strict parser instead.) Skipped, saying
/// so, where promtool is not installed (`make test` says so too).
fn promtool(format: &str, exposition: &[u8]) {
    if format != "prometheus" {
        return;
    }
    let Ok(mut child) = Command::new("promtool").args(["check", "metrics"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() else {
        eprintln!("promtool not installed: not checking the exposition with it (Debian: apt install prometheus)");
        return;
    };
    child.stdin.take().unwrap().write_all(exposition).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(), "promtool: {}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn live_runtime_with_real_sessions() {
    let d = TempDir::new("compat-runtime");
    let w = Worker::start("runtime", Some(&d.join("worker.sock")), &[], &[]);
    let tee = Tee::new(&d, &w.socket);
    // The worker needs a moment to see the blocker block and to sample CPU.
    let marks = ["--slow", "AJ_blocker", "--busy", "AJ_busy_1", "--busy", "AJ_busy_2"];
    for format in FORMATS {
        let start = Instant::now();
        loop {
            let (out, raw) = tee.run(&["--format", format]);
            match check(&d, format, &raw, &out.stdout, &marks) {
                Ok(()) => break,
                Err(e) if e.contains("did not mark") || e.contains("attributed no CPU") => {
                    assert!(start.elapsed() < Duration::from_secs(20), "{format}: {e}");
                    std::thread::sleep(Duration::from_millis(300));
                }
                Err(e) => panic!("{format}: {e}"),
            }
        }
    }
    // Straight at the worker's socket: the blocking session is shown slow.
    let sock = w.socket.to_str().unwrap();
    let out = run(&["--once", "--socket", sock, "--status", "slow", "--no-header"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids: Vec<String> = text(&out.stdout).lines().map(|l| l.split_whitespace().next().unwrap().to_string()).collect();
    assert!(ids.contains(&"AJ_blocker".to_string()), "{ids:?}");
    let out = run(&["--once", "--socket", sock, "--no-header"]);
    assert_eq!(text(&out.stdout).lines().count(), 6);
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn empty_pool() {
    all_formats_match("empty");
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn legacy_bare_array() {
    all_formats_match("legacy");
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn hostile_strings() {
    all_formats_match("hostile");
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn non_finite_floats() {
    all_formats_match("nonfinite");
}

/// The worker picks its default path; openrtc-top, in the same environment
/// and without --socket, must find it.
fn default_path_agreement(env: &[(&str, &str)], unset: &[&str]) {
    let w = Worker::start("legacy", None, env, unset);
    let mut cmd = Command::new(BIN);
    cmd.arg("--once");
    utf8_locale(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    for k in unset {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "worker at {}; openrtc-top said: {}", w.socket.display(), text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 4);
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn default_path_with_xdg_runtime_dir() {
    let d = TempDir::new("compat-xdg");
    default_path_agreement(&[("XDG_RUNTIME_DIR", d.path().to_str().unwrap())], &["TMPDIR"]);
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn default_path_with_tmpdir() {
    let d = TempDir::new("compat-tmpdir");
    default_path_agreement(&[("TMPDIR", d.path().to_str().unwrap())], &["XDG_RUNTIME_DIR", "TEMP", "TMP"]);
}

/// Where `unicode-width` departs, by its own documented rules, from the
/// plain reading of UAX #11 (combining marks 0, East Asian Wide and
/// Fullwidth 2, everything else 1): (first, last, its width).
const WIDTH_DEPARTURES: &[(u32, u32, usize)] = &[
    // Spacing marks that extend a grapheme or are drawn into a neighbour
    // (Grapheme_Extend, prepended forms): no column of their own.
    (0x09BE, 0x09BE, 0), (0x09D7, 0x09D7, 0), (0x0B3E, 0x0B3E, 0), (0x0B57, 0x0B57, 0), (0x0BBE, 0x0BBE, 0),
    (0x0BD7, 0x0BD7, 0), (0x0CC0, 0x0CC0, 0), (0x0CC2, 0x0CC2, 0), (0x0CC7, 0x0CC8, 0), (0x0CCA, 0x0CCB, 0),
    (0x0CD5, 0x0CD6, 0), (0x0D3E, 0x0D3E, 0), (0x0D4E, 0x0D4E, 0), (0x0D57, 0x0D57, 0), (0x0DCF, 0x0DCF, 0),
    (0x0DDF, 0x0DDF, 0), (0x1715, 0x1715, 0), (0x1734, 0x1734, 0), (0x1B35, 0x1B35, 0), (0x1B3B, 0x1B3B, 0),
    (0x1B3D, 0x1B3D, 0), (0x1B43, 0x1B44, 0), (0x1BAA, 0x1BAA, 0), (0x1BF2, 0x1BF3, 0), (0x302E, 0x302F, 0),
    (0xA8FA, 0xA8FA, 0), (0xA953, 0xA953, 0), (0xA9C0, 0xA9C0, 0), (0x111C0, 0x111C0, 0), (0x111C2, 0x111C3, 0),
    (0x11235, 0x11235, 0), (0x1133E, 0x1133E, 0), (0x1134D, 0x1134D, 0), (0x11357, 0x11357, 0),
    (0x113B8, 0x113B8, 0), (0x113C2, 0x113C2, 0), (0x113C5, 0x113C5, 0), (0x113C7, 0x113C9, 0),
    (0x113CF, 0x113CF, 0), (0x113D1, 0x113D1, 0), (0x114B0, 0x114B0, 0), (0x114BD, 0x114BD, 0),
    (0x115AF, 0x115AF, 0), (0x116B6, 0x116B6, 0), (0x11930, 0x11930, 0), (0x1193D, 0x1193D, 0),
    (0x1193F, 0x1193F, 0), (0x11941, 0x11941, 0), (0x11A84, 0x11A89, 0), (0x11D46, 0x11D46, 0),
    (0x11F02, 0x11F02, 0), (0x11F41, 0x11F41, 0), (0x16FF0, 0x16FF1, 0), (0x1D165, 0x1D166, 0),
    (0x1D16D, 0x1D172, 0), (0x1D250, 0x1D252, 0), (0x1D25F, 0x1D25F, 0), (0x1D280, 0x1D281, 0),
    // Hangul fillers: default-ignorable, drawn as nothing.
    (0x3164, 0x3164, 0), (0xFFA0, 0xFFA0, 0),
    // Khmer: an independent vowel written as two, a sign as three.
    (0x17A4, 0x17A4, 2), (0x17D8, 0x17D8, 3),
    // Tifinagh consonant joiner: drawn.
    (0x2D7F, 0x2D7F, 1),
];

/// Our character widths against a reference computed independently, at
/// test time, from Python's `unicodedata2` (the Unicode data of the same
/// version) over every code point, so that a width that would misalign a
/// column on screen fails here. Code points that are not shown as
/// themselves (controls, format characters, unassigned, private use, line
/// and paragraph separators) are not measured.
#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn character_widths_match_unicode_data() {
    let out = Command::new(python()).arg(HARNESS).arg("ucd").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dump = text(&out.stdout);
    let mut lines = dump.lines();
    let (a, b, c) = unicode_width::UNICODE_VERSION;
    assert_eq!(lines.next(), Some(format!("unicode {a}.{b}.{c}").as_str()), "unicodedata2 and unicode-width disagree on the Unicode version");
    let (mut measured, mut wrong) = (0, Vec::new());
    for line in lines {
        let f: Vec<&str> = line.split(' ').collect();
        let cp = u32::from_str_radix(f[0], 16).unwrap();
        let (category, eaw) = (f[1], f[2]);
        if matches!(category, "Cc" | "Cs" | "Cn" | "Co" | "Cf" | "Zl" | "Zp") {
            continue;
        }
        let Some(ch) = char::from_u32(cp) else { continue };
        let hangul_jamo_medial_or_final = (0x1160..=0x11FF).contains(&cp) || (0xD7B0..=0xD7FF).contains(&cp);
        let plain = if matches!(category, "Mn" | "Me") || hangul_jamo_medial_or_final {
            0
        } else if eaw == "W" || eaw == "F" {
            2
        } else {
            1
        };
        let want = WIDTH_DEPARTURES.iter().find(|&&(lo, hi, _)| (lo..=hi).contains(&cp)).map_or(plain, |d| d.2);
        measured += 1;
        let got = openrtc_top::text::char_width(ch);
        if got != want {
            wrong.push(format!("U+{cp:04X} {category} {eaw}: ours {got}, reference {want}"));
        }
    }
    assert!(measured > 150_000, "only {measured} code points measured");
    assert!(wrong.is_empty(), "{} widths differ, e.g.:\n{}", wrong.len(), wrong[..wrong.len().min(20)].join("\n"));
}

/// The committed table of code points not shown as themselves is what its
/// generator makes from Unicode's data (`make text-classes` rewrites it).
#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn the_hidden_code_point_table_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python()).arg(root.join("src/text/classes.py")).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let committed = std::fs::read_to_string(root.join("src/text/classes.rs")).unwrap();
    assert!(text(&out.stdout) == committed, "src/text/classes.rs differs from its generator: run 'make text-classes'");
    assert_eq!(openrtc_top::text::UNICODE_VERSION, {
        let (a, b, c) = unicode_width::UNICODE_VERSION;
        format!("{a}.{b}.{c}")
    });
}

/// Three real workers (one name between them) behind tees in one
/// directory, a hung source and, as root, one served by another user: every
/// format, through `--socket DIR` and `--all`, compared worker by worker
/// with what each sent on that same connection.
fn pool_of_real_workers(refused: bool) {
    let d = TempDir::new(if refused { "compat-pool-root" } else { "compat-pool" });
    let real = d.join("real");
    std::fs::create_dir(&real).unwrap();
    // SAFETY: getuid cannot fail.
    let xdg = d.join("xdg");
    let scan = xdg.join(format!("openrtc-{}", unsafe { libc::getuid() }));
    std::fs::create_dir_all(&scan).unwrap();
    std::fs::set_permissions(&scan, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let workers: Vec<Worker> = (1..=3).map(|k| Worker::start("runtime", Some(&real.join(format!("{k}.sock"))), &[], &[])).collect();
    // They all call themselves "compat-runtime": labelled name@stem.
    let tees: Vec<(String, Tee)> = workers
        .iter()
        .enumerate()
        .map(|(k, w)| (format!("compat-runtime@w-{}", k + 1), Tee::at(&scan.join(format!("w-{}.sock", k + 1)), &w.socket)))
        .collect();
    let _hung = Server::hung(&scan.join("hung.sock"), Duration::from_secs(5));
    let mut failed = vec!["hung=blocked".to_string()];
    let other = TempDir::new("compat-pool-nobody");
    let mut nobody = refused.then(|| {
        let (child, sock) = demo_as_nobody(&other);
        std::fs::rename(&sock, scan.join("refused.sock")).unwrap();
        failed.push("refused=runs as uid".into());
        child
    });
    let env = [("XDG_RUNTIME_DIR", xdg.to_str().unwrap())];
    let scan_arg = scan.to_str().unwrap().to_string();
    for how in [vec!["--socket", scan_arg.as_str()], vec!["--all"]] {
        for format in FORMATS {
            let before: Vec<usize> = tees.iter().map(|(_, t)| t.seen.lock().unwrap().len()).collect();
            let mut args = vec!["--once", "--format", format];
            args.extend(&how);
            let out = run_with(&args, &env, Duration::from_secs(30));
            // A blocked worker is status 4; another user's refused is a failure (3).
            assert_eq!(out.status.code(), Some(if refused { 3 } else { 4 }), "{how:?} {format}: {}", text(&out.stderr));
            let err = text(&out.stderr);
            assert_eq!(err.lines().count(), failed.len(), "{err}");
            assert!(err.contains("hung.sock (pid ") && err.contains("is blocked: its loop has not answered for 2.0s"), "{err}");
            assert!(!refused || err.contains("refusing the worker at"), "{err}");
            let mut extra: Vec<String> = Vec::new();
            for ((label, tee), n) in tees.iter().zip(before) {
                let seen = tee.seen.lock().unwrap();
                assert_eq!(seen.len(), n + 1, "one connection per worker per --once");
                let file = d.join(&format!("{label}.json"));
                std::fs::write(&file, &seen[n]).unwrap();
                extra.push("--pool".into());
                extra.push(format!("{label}={}", file.display()));
            }
            for f in &failed {
                extra.push("--failed".into());
                extra.push(f.clone());
            }
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let ours = d.join("ours.out");
            std::fs::write(&ours, &out.stdout).unwrap();
            let check = Command::new(python())
                .arg(HARNESS)
                .args(["check", "--format", format, "--ours", ours.to_str().unwrap()])
                .args(&extra)
                .output()
                .unwrap();
            assert!(check.status.success(), "{how:?} {format}: {}", text(&check.stderr));
            promtool(format, &out.stdout);
        }
    }
    if let Some(c) = nobody.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn several_real_workers_and_a_hung_one() {
    pool_of_real_workers(false);
}

mod as_root {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    #[test]
    #[ignore = "needs the compat venv and root to act as another user (make test runs it as root)"]
    fn several_real_workers_a_hung_one_and_one_of_another_user() {
        super::pool_of_real_workers(true);
    }

    /// py-spy run by another user than the worker's (root's worker, looked
    /// at by nobody): not permitted, and the one line says why.
    #[test]
    #[ignore = "needs the compat venv and root to act as another user (make test runs it as root)"]
    fn py_spy_as_another_user_says_why_it_may_not() {
        let d = TempDir::new("compat-spy-nobody");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let sock = d.join("w.sock");
        let mut py = python_worker(&sock, 0.3, 20.0);
        // Copies the other user can run (the checkout may be private).
        let (spy, bin) = (d.join("py-spy"), d.join("openrtc-top"));
        for (from, to) in [(py_spy(), &spy), (PathBuf::from(BIN), &bin)] {
            std::fs::copy(from, to).unwrap();
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let start = Instant::now();
        let out = loop {
            let out = Command::new(&bin)
                .args(["--once", "--socket", sock.to_str().unwrap(), "--stacks", "--py-spy", spy.to_str().unwrap()])
                .uid(NOBODY)
                .gid(NOBODY)
                .output()
                .unwrap();
            if out.status.code() != Some(0) || start.elapsed() > Duration::from_secs(5) {
                break out;
            }
        };
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{err}");
        let why = format!("; no stack: py-spy may not trace process {}: it runs as uid 0, not as you (uid {NOBODY}): run as that user or root\n", py.id());
        assert!(err.ends_with(&why), "{err}");
        let _ = py.kill();
        let _ = py.wait();
    }
}

/// A real Prometheus (Debian's `prometheus`) scraping `--serve` in front of
/// two real openrtc workers. Needs the binary: `make test` skips this
/// module, saying so, where it is not installed (`.ci/run` installs it).
mod real_prometheus {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    /// A port free just now on 127.0.0.1.
    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// GET over HTTP/1.0 (so no chunked answer); the body.
    fn get(port: u16, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut all = String::new();
        s.read_to_string(&mut all).ok()?;
        all.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
    }

    /// Evaluate a Python expression over `d`, the JSON document `doc`.
    fn py(expr: &str, doc: &str) -> String {
        let mut c = Command::new(python())
            .args(["-c", &format!("import json,sys; d=json.load(sys.stdin); print({expr})")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(doc.as_bytes()).unwrap();
        text(&c.wait_with_output().unwrap().stdout).trim().to_string()
    }

    /// What a worker says its session count is, read from its own socket.
    fn active_sessions(sock: &Path) -> String {
        let mut raw = String::new();
        UnixStream::connect(sock).unwrap().read_to_string(&mut raw).unwrap();
        py("d['worker']['active_sessions']", &raw)
    }

    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    #[ignore = "needs the compat venv and Debian's prometheus (make test runs it where prometheus is installed)"]
    fn prometheus_scrapes_two_real_workers_and_the_slow_alert_fires() {
        let d = TempDir::new("prometheus");
        let scan = d.join("workers");
        std::fs::create_dir(&scan).unwrap();
        let workers: Vec<Worker> = (1..=2).map(|k| Worker::start("runtime", Some(&scan.join(format!("w-{k}.sock"))), &[], &[])).collect();
        let (ours, theirs) = (free_port(), free_port());
        let mut exporter = Command::new(BIN)
            .args(["--serve", &format!("127.0.0.1:{ours}"), "--socket", scan.to_str().unwrap()])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(exporter.stderr.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("openrtc-top: serving metrics at http://127.0.0.1:{ours}/metrics"));
        let exporter = Kill(exporter);
        std::fs::write(d.join("rules.yml"), "groups:\n  - name: openrtc\n    rules:\n      - alert: OpenrtcSlowSession\n        expr: openrtc_slow_sessions > 0\n").unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['{}']\nscrape_configs:\n  - job_name: openrtc\n    static_configs:\n      - targets: ['127.0.0.1:{ours}']\n",
            d.join("rules.yml").display()
        );
        std::fs::write(d.join("prometheus.yml"), config).unwrap();
        let prometheus = Command::new("prometheus")
            .arg(format!("--config.file={}", d.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", d.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{theirs}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(prometheus) = prometheus else { panic!("this test needs Debian's prometheus (apt install prometheus)") };
        let _prometheus = Kill(prometheus);
        let query = |q: &str| get(theirs, &format!("/api/v1/query?query={q}")).unwrap_or_default();
        // Both workers up, after at least two scrapes.
        wait_until("openrtc_up 1 for both workers, twice scraped", Duration::from_secs(60), || {
            let up = query("openrtc_up");
            let scrapes = query("count_over_time(openrtc_up[1m])");
            up.contains("\"success\"")
                && py("sorted((r['metric']['worker'], r['value'][1]) for r in d['data']['result'])", &up) == "[('compat-runtime@w-1', '1'), ('compat-runtime@w-2', '1')]"
                && py("min([int(r['value'][1]) for r in d['data']['result']] or [0])", &scrapes).parse::<i32>().unwrap_or(0) >= 2
        });
        // The sessions Prometheus stored, summed per worker, are what each
        // worker says it has.
        let sums = query("sum%20by%20(worker)%20(openrtc_sessions)");
        for (k, w) in workers.iter().enumerate() {
            let theirs = active_sessions(&w.socket);
            let ours = py(&format!("[r['value'][1] for r in d['data']['result'] if r['metric']['worker'] == 'compat-runtime@w-{}']", k + 1), &sums);
            assert_eq!(ours, format!("['{theirs}']"), "{sums}");
        }
        // The blocking session makes the alert fire.
        wait_until("the slow-session alert firing", Duration::from_secs(60), || {
            let alerts = get(theirs, "/api/v1/alerts").unwrap_or_default();
            py("any(a['labels']['alertname'] == 'OpenrtcSlowSession' and a['state'] == 'firing' for a in d['data']['alerts'])", &alerts) == "True"
        });
        drop(exporter);
    }

    /// A real worker whose loop blocks 4 s every 9 s beside one that does
    /// not, scraped every second with a 0.5 s timeout: the healthy one's
    /// samples never miss, the blocked one's gauge rises past a second, and
    /// README's OpenrtcLoopBlocked alert fires.
    #[test]
    #[ignore = "needs the compat venv and Debian's prometheus (make test runs it where prometheus is installed)"]
    fn prometheus_beside_a_blocked_worker_sees_the_gauge_rise_and_the_alert_fire() {
        let d = TempDir::new("prometheus-blocked");
        let scan = d.join("workers");
        std::fs::create_dir(&scan).unwrap();
        let _healthy = Worker::start("runtime", Some(&scan.join("ok.sock")), &[], &[]);
        let _blocked = Worker::start("block-sleep", Some(&scan.join("blocks.sock")), &[], &[]);
        let (ours, theirs) = (free_port(), free_port());
        let exporter = Command::new(BIN).args(["--serve", &format!("127.0.0.1:{ours}"), "--socket", scan.to_str().unwrap()]).stderr(Stdio::null()).spawn().unwrap();
        let _exporter = Kill(exporter);
        std::fs::write(d.join("rules.yml"), readme_block("openrtc-rules.yml")).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\n  evaluation_interval: 1s\nrule_files: ['{}']\nscrape_configs:\n  - job_name: openrtc\n    static_configs:\n      - targets: ['127.0.0.1:{ours}']\n",
            d.join("rules.yml").display()
        );
        std::fs::write(d.join("prometheus.yml"), config).unwrap();
        let prometheus = Command::new("prometheus")
            .arg(format!("--config.file={}", d.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", d.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{theirs}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("this test needs Debian's prometheus (apt install prometheus)");
        let _prometheus = Kill(prometheus);
        let query = |q: &str| get(theirs, &format!("/api/v1/query?query={q}")).unwrap_or_default();
        wait_until("the loop-blocked alert firing", Duration::from_secs(60), || {
            let alerts = get(theirs, "/api/v1/alerts").unwrap_or_default();
            py("any(a['labels']['alertname'] == 'OpenrtcLoopBlocked' and a['state'] == 'firing' and a['labels']['worker'] == 'compat-sleep' for a in d['data']['alerts'])", &alerts) == "True"
        });
        let peak = query("max_over_time(openrtc_loop_blocked_seconds{worker=%22compat-sleep%22}[1m])");
        assert!(py("float(d['data']['result'][0]['value'][1])", &peak).parse::<f64>().unwrap() > 1.0, "{peak}");
        // Every scrape answered in time, with the healthy worker up in each.
        let scrapes = query("count_over_time(up[1m])");
        let answered = query("sum_over_time(up[1m])");
        assert_eq!(py("d['data']['result'][0]['value'][1]", &scrapes), py("d['data']['result'][0]['value'][1]", &answered), "scrapes failed: {answered}");
        let healthy = query("min_over_time(openrtc_up{worker=%22compat-runtime%22}[1m])");
        assert_eq!(py("d['data']['result'][0]['value'][1]", &healthy), "1", "{healthy}");
    }
}

#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn a_recording_of_a_real_worker_replays_its_slow_moment() {
    let d = TempDir::new("compat-record");
    let w = Worker::start("runtime", Some(&d.join("worker.sock")), &[], &[]);
    let file = d.join("rec.ndjson");
    let (sock, rec) = (w.socket.to_str().unwrap(), file.to_str().unwrap());
    let out = run_with(&["--socket", sock, "--record", rec, "-n", "20", "--refresh-rate", "5"], &[], Duration::from_secs(30));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Python reads the recording itself: the first sample in which the
    // worker had marked the blocking session slow, and one before it.
    let find = r#"
import json, sys
before = None
for line in open(sys.argv[1]):
    d = json.loads(line)
    slow = any(s["session_id"] == "AJ_blocker" and s["status"] == "slow" for s in d["sessions"])
    if slow:
        print(d["time"], before or "-")
        break
    before = d["time"]
"#;
    let found = Command::new(python()).args(["-c", find, rec]).output().unwrap();
    let found = text(&found.stdout);
    let mut stamps = found.split_whitespace();
    let (slow_at, before) = (stamps.next().expect("the worker marked the blocker slow within 4 s"), stamps.next().unwrap());
    let slow = |at: &str| {
        let out = run(&["--replay", rec, "--once", "--at", at, "--status", "slow", "--format", "tsv", "--no-header"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        // (After the sample's time, TSV's first column.)
        text(&out.stdout).lines().any(|l| l.split('\t').nth(1) == Some("AJ_blocker"))
    };
    assert!(slow(slow_at), "at {slow_at}");
    if before != "-" {
        assert!(!slow(before), "at {before}");
    }
    // The whole recording, every format, decodes as the worker's own rows.
    let out = run(&["--replay", rec, "--from", "-1d", "--format", "json"]);
    assert_eq!(text(&out.stdout).lines().count(), 20);
}

/// py-spy from the compat venv (its PyPI wheel puts the binary beside python).
fn py_spy() -> PathBuf {
    let p = python().parent().unwrap().join("py-spy");
    assert!(p.exists(), "the compat venv has no py-spy at {}: run 'make test', which installs py-spy==0.4.1 into it", p.display());
    p
}

/// `--once` (waiting its 2 s) against `sock`, again and again, until the worker's
/// loop is blocked: that run. No run on the way may say "no running pool".
fn when_blocked(sock: &str, extra: &[&str]) -> Output {
    let start = Instant::now();
    loop {
        let mut args = vec!["--once", "--socket", sock];
        args.extend_from_slice(extra);
        let out = run_with(&args, &[], Duration::from_secs(20));
        let err = text(&out.stderr);
        assert!(!err.contains("no running openrtc pool"), "{err}");
        match out.status.code() {
            Some(4) => return out,
            Some(0) => assert!(start.elapsed() < Duration::from_secs(30), "the worker's loop never blocked"),
            _ => panic!("{:?}: {err}", out.status),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A real openrtc 0.20.1 worker whose session blocks its loop (4 s every
/// 9 s) by sleeping, spinning, reading a socket, or through a thread that
/// holds the GIL: `--once` says blocked (status 4), with its pid and why,
/// as /proc tells it.
mod blocked_loop {
    use super::*;

    fn explained(how: &str, why: &[&str]) -> String {
        let d = TempDir::new(&format!("compat-block-{how}"));
        let w = Worker::start(&format!("block-{how}"), Some(&d.join("w.sock")), &[], &[]);
        let sock = w.socket.to_str().unwrap();
        let out = when_blocked(sock, &[]);
        let err = text(&out.stderr);
        assert_eq!((err.lines().count(), text(&out.stdout)), (1, String::new()), "{err}");
        let head = format!("openrtc-top: the worker at {sock} (pid {}) is blocked: its loop has not answered for 2.0s; main thread ", w.child.id());
        assert!(err.starts_with(&head), "{err}");
        for w in why {
            assert!(err.contains(w), "{w:?} in {err}");
        }
        err
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn by_sleeping() {
        explained("sleep", &["main thread sleeping, as in time.sleep (", "), 0% CPU"]);
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn by_spinning_on_the_cpu() {
        let err = explained("spin", &["main thread on CPU: a CPU-bound call, "]);
        let cpu: f64 = err.split(", ").nth(1).and_then(|c| c.strip_suffix("% CPU\n")).and_then(|c| c.parse().ok()).unwrap_or(0.0);
        assert!(cpu >= 50.0, "{err}");
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn by_a_blocking_socket_read() {
        explained("read", &["main thread reading a Unix socket (unix_stream", "), 0% CPU"]);
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn by_a_thread_holding_the_gil() {
        // Mostly in the GIL's futex wait; a read can catch the thread runnable
        // for a moment on its way back to it (on a busy machine, for longer).
        let err = explained("gil", &["% CPU; thread ", " is on CPU: most likely holding the GIL"]);
        assert!(err.contains("main thread waiting on a lock (futex") || err.contains("main thread runnable but mostly waiting, "), "{err}");
    }
}

/// The same blocks with `--stacks`: py-spy (from PyPI) names the Python
/// function that blocks. Needs ptrace: `make test` skips this module, and
/// says so, where it is not permitted; run anyway, it fails saying why.
mod py_spy {
    use super::*;

    fn names(how: &str, frames: &[&str]) {
        let d = TempDir::new(&format!("compat-stack-{how}"));
        let w = Worker::start(&format!("block-{how}"), Some(&d.join("w.sock")), &[], &[]);
        let spy = py_spy();
        let out = when_blocked(w.socket.to_str().unwrap(), &["--stacks", "--py-spy", spy.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert!(!err.contains("py-spy may not trace"), "ptrace is not permitted here, so py-spy cannot read the worker's stack: {err}");
        for f in frames {
            assert!(err.contains(f), "{f:?} in {err}");
        }
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn names_a_sleep() {
        names("sleep", &["; stack blocking_sleep <- blocker <- "]);
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn names_a_spin() {
        names("spin", &["; stack spin_on_cpu <- blocker <- "]);
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn names_a_blocking_read() {
        names("read", &["; stack blocking_read <- blocker <- "]);
    }

    #[test]
    #[ignore = "needs the compat venv (make test creates target/compat-venv)"]
    fn names_the_thread_holding_the_gil() {
        names("gil", &["; stack ", " holds the GIL: hold_the_gil <- run <- "]);
    }
}

/// A recording made while a real worker's loop blocks (the recorder alone,
/// 4 times a second) replays the block: its samples mark the worker
/// blocked, and `--events` lists the block with its length, why, and the
/// session openrtc marked slow right after it. Python reads both files.
#[test]
#[ignore = "needs the compat venv (make test creates target/compat-venv)"]
fn a_recording_of_a_blocked_loop_replays_the_block_and_its_events() {
    let d = TempDir::new("compat-record-block");
    let w = Worker::start("block-sleep", Some(&d.join("w.sock")), &[], &[]);
    let file = d.join("rec.ndjson");
    let (sock, rec) = (w.socket.to_str().unwrap(), file.to_str().unwrap());
    let out = run_with(&["--socket", sock, "--record", rec, "-n", "40", "--refresh-rate", "4"], &[], Duration::from_secs(40));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = run(&["--replay", rec, "--events", "--format", "json"]);
    assert!(events.status.success(), "{}", text(&events.stderr));
    std::fs::write(d.join("events.json"), &events.stdout).unwrap();
    let read = r#"
import json, sys
samples = [json.loads(l) for l in open(sys.argv[1])]
blocked = [s for s in samples if s["workers"][0]["state"] == "blocked"]
assert blocked, "no sample marks the worker blocked"
assert all(s["workers"][0]["pid"] > 0 for s in blocked), blocked[0]["workers"]
# Each sample says what /proc says at that moment: on a loaded machine one
# can catch the thread runnable on its way into (or out of) the sleep.
sleeping = [s for s in blocked if "sleeping" in s["workers"][0]["why"]]
assert sleeping and len(sleeping) >= len(blocked) - 1, [s["workers"][0]["why"] for s in blocked]
incidents = json.load(open(sys.argv[2]))
blocks = [i for i in incidents if i["event"] == "blocked"]
assert len(blocks) == 1, incidents
b = blocks[0]
assert 3.0 <= b["secs"] <= 5.5, b
assert "sleeping" in b["why"] and not b["open"], b
assert "AJ_blocker" in b["slow_after"], b
slow = [i for i in incidents if i["event"] == "slow" and i["session"] == "AJ_blocker"]
assert slow and slow[0]["time"] >= b["time"], incidents
print("ok")
"#;
    let checked = Command::new(python()).args(["-c", read, rec, d.join("events.json").to_str().unwrap()]).output().unwrap();
    assert_eq!(text(&checked.stdout), "ok\n", "{}", text(&checked.stderr));
    let table = run(&["--replay", rec, "--events"]);
    let t = text(&table.stdout);
    assert!(t.starts_with("time ") && t.lines().any(|l| l.contains("  blocked  ") && l.contains("slow right after: AJ_blocker")), "{t}");
}
