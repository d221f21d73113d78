//! `make bench`: openrtc-top against the Python `openrtc top` on the same
//! machine in the same run, and the targets that follow. Prints a table and
//! writes BENCHMARKS.md. Not part of `make test` (run with --ignored).
//!
//! OPENRTC_BENCH_VENV: a venv with openrtc[cli,top]==0.20.1 and typer==0.16.0
//! (make bench creates target/bench-venv); BENCH_QUICK=1 for fewer repetitions.


use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::pty::Live;
use crate::util::*;
use openrtc_top::{decode, output, view};

/// A server with a blocking accept (no polling delay) that writes prebuilt
/// bytes; `next` may swap the bytes between connections.
struct Static {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicU64>,
    /// When each connection was accepted.
    times: Arc<Mutex<Vec<Instant>>>,
}

impl Static {
    fn start(path: &Path, bytes: Arc<Mutex<Arc<Vec<u8>>>>) -> Static {
        let _ = std::fs::remove_file(path);
        let l = UnixListener::bind(path).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let times = Arc::new(Mutex::new(Vec::new()));
        let (s, c, t) = (stop.clone(), connections.clone(), times.clone());
        std::thread::spawn(move || {
            for stream in l.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                t.lock().unwrap().push(Instant::now());
                c.fetch_add(1, Ordering::Relaxed);
                let b = bytes.lock().unwrap().clone();
                let _ = stream.write_all(&b);
            }
        });
        Static { path: path.to_path_buf(), stop, connections, times }
    }
}

impl Drop for Static {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::os::unix::net::UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Wall time and peak RSS (KiB) of one whole process run; None if it failed.
fn measure(cmd: &mut Command) -> Option<(Duration, u64, Vec<u8>)> {
    let t0 = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        let mut e = Vec::new();
        err.read_to_end(&mut e).unwrap();
        (v, e)
    });
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 reaps our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = t0.elapsed();
    let (stdout, _stderr) = reader.join().unwrap();
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    std::mem::forget(child); // already reaped
    ok.then_some((wall, usage.ru_maxrss as u64, stdout))
}

/// Peak RSS (KiB) of one run of `cmd`'s program and arguments, through GNU
/// time when the machine has it. `wait4` on our own child is not enough: std
/// spawns with vfork, and a child's maximum RSS includes the high-water mark
/// of the memory it started in, i.e. this harness's (which holds the 18 MB
/// payload by the 100,000-session row). GNU time forks from its own small
/// process. None without it.
fn own_peak_rss(cmd: &Command) -> Option<u64> {
    let mut t = Command::new("/usr/bin/time");
    t.args(["-f", "%M"]).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            t.env(k, v);
        }
    }
    let out = t.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).output().ok()?;
    String::from_utf8_lossy(&out.stderr).lines().last()?.trim().parse().ok()
}

/// `own_peak_rss` when it can be had, else wait4's figure marked as a bound.
fn rss_cell(cmd: &Command, wait4_kib: u64) -> (String, u64) {
    match own_peak_rss(cmd) {
        Some(k) => (format!("{k} KiB"), k),
        None => (format!("<= {wait4_kib} KiB"), wait4_kib),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some()
}

fn payload_for(n: usize) -> Vec<u8> {
    // The demo worker's own encoding (json.dumps-compatible), with host vitals.
    let out = Command::new(DEMO).args(["--dump", "--sessions", &n.to_string(), "--max-sessions", &(n + 10).to_string(), "--seed", "7"]).output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let rustc = Command::new("rustc").arg("--version").output().map(|o| text(&o.stdout).trim().to_string()).unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {kernel}, {rustc}, {}", openrtc_top::clock::now_iso8601())
}

/// The reference client's console script, `openrtc`.
fn reference() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("OPENRTC_BENCH_VENV")?).join("bin/openrtc");
    p.exists().then_some(p)
}

/// The peak resident set of a live process, from /proc.
/// A `/proc/PID/status` figure in KiB (`VmHWM`, `VmRSS`).
fn proc_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(key) && l[key.len()..].starts_with(':')).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn vm_hwm_kib(pid: u32) -> u64 {
    proc_kib(pid, "VmHWM")
}

/// A directory of `n` static workers serving `sessions` sessions each.
fn pool_dir(d: &TempDir, name: &str, n: usize, sessions: usize) -> (PathBuf, Vec<Static>) {
    let dir = d.join(name);
    std::fs::create_dir(&dir).unwrap();
    let bytes = Arc::new(Mutex::new(Arc::new(payload_for(sessions))));
    let servers = (0..n).map(|k| Static::start(&dir.join(format!("w-{k:02}.sock")), bytes.clone())).collect();
    (dir, servers)
}

/// Payloads of about 60 MB shaped to make a decoder multiply them.
fn hostile_payloads() -> Vec<(&'static str, Vec<u8>)> {
    const SIZE: usize = 60_000_000;
    let fill = |prefix: &str, item: &dyn Fn(usize) -> String, sep: &str, suffix: &str| {
        let mut s = String::with_capacity(SIZE + 1024);
        s.push_str(prefix);
        let mut i = 0;
        while s.len() < SIZE {
            if i > 0 {
                s.push_str(sep);
            }
            s.push_str(&item(i));
            i += 1;
        }
        s.push_str(suffix);
        s.into_bytes()
    };
    vec![
        ("20 million `{}` (refused)", fill("[", &|_| "{}".into(), ",", "]\n")),
        ("short rows (refused)", fill("[", &|i| format!("{{\"session_id\": \"AJ_{i:07}\", \"agent_name\": \"a\", \"mem_mb\": 1.5}}"), ",", "]\n")),
        ("real rows", fill("{\"worker\": null, \"sessions\": [", &|i| format!("{{\"session_id\": \"AJ_{i:012}\", \"agent_name\": \"agent{}\", \"tenant\": \"t{}\", \"duration_s\": 12.3, \"mem_mb\": 2.3, \"peak_mb\": 2.3, \"cpu_pct\": 21.5, \"status\": \"slow\", \"pinned\": false}}", i % 5, i % 7), ", ", "]}\n")),
        ("a distinct agent and tenant per row", fill("[", &|i| format!("{{\"session_id\": \"AJ_{i:07}\", \"agent_name\": \"agent-{i:07}\", \"tenant\": \"tenant-{i:07}\"}}"), ",", "]\n")),
        ("one 60 MB id", format!("[{{\"session_id\": \"{}\"}}]\n", "x".repeat(SIZE)).into_bytes()),
        ("10 million lone surrogates", format!("[{{\"session_id\": \"{}\"}}]\n", "\\ud800".repeat(SIZE / 6)).into_bytes()),
        ("15 million NaN in cpu_history", fill("{\"worker\": {\"cpu_history\": [", &|_| "NaN".into(), ",", "]}, \"sessions\": []}\n")),
    ]
}

/// 10 KB pastes: bracketed (one event) and typed (a terminal without
/// bracketed paste), ASCII and not.
fn paste_cases() -> Vec<(&'static str, Vec<u8>)> {
    let bracketed = |t: &str| [b"\x1b[200~".as_slice(), t.as_bytes(), b"\x1b[201~"].concat();
    let ascii = "x".repeat(10_000);
    let accented = "\u{e9}".repeat(5_000);
    vec![
        ("10 KB ASCII, bracketed", bracketed(&ascii)),
        ("10 KB of é, bracketed", bracketed(&accented)),
        ("10 KB ASCII, typed", ascii.into_bytes()),
        ("10 KB of é, typed", accented.into_bytes()),
    ]
}

/// CPU time the process has used, in seconds, from the scheduler's own
/// nanosecond count (/proc/PID/stat only counts 10 ms ticks).
fn cpu_seconds(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).unwrap();
    s.split_whitespace().next().unwrap().parse::<u64>().unwrap() as f64 / 1e9
}

#[test]
#[ignore = "benchmark; run with make bench"]
fn bench() {
    let mut md = String::new();
    let machine = machine_line();
    let _ = writeln!(md, "# Benchmarks\n\nWritten by `make bench` (tests/bench.rs). Machine: {machine}.\n");
    let _ = writeln!(md, "All figures come from one run; claims compare runs made in that same run.\n");
    let d = TempDir::new("bench");
    let reps = if quick() { 5 } else { 21 };
    let py = reference();

    // ---- --once, ours against the reference -------------------------------
    let _ = writeln!(md, "## `--once` against a static server\n");
    let _ = writeln!(md, "Whole process, stdout to a pipe; wall time is the median of repeated runs. Peak RSS from one more run under GNU time (`/usr/bin/time -f %M`), which forks from its own small process; `wait4` on the harness's own child counts the harness's high-water mark too, so where GNU time is missing the figure is marked as a bound (`<=`).\n");
    let _ = writeln!(md, "| sessions | payload | openrtc-top | peak RSS | Python `openrtc top --once` | peak RSS | ratio |");
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut ours_at = Vec::new();
    for n in [10usize, 100, 1_000, 10_000, 100_000] {
        let bytes = payload_for(n);
        let size = bytes.len();
        // The demo's clock may end a session before it dumps: count what it sent.
        let rows = decode::decode(bytes.trim_ascii_end()).unwrap().sessions.len();
        let srv = Static::start(&d.join(&format!("once-{n}.sock")), Arc::new(Mutex::new(Arc::new(bytes))));
        let sock = srv.path.to_str().unwrap().to_string();
        let runs = if n >= 100_000 { reps.min(11) } else { reps };
        let mut times = Vec::new();
        let mut wait4_rss = 0;
        let mut cmd = Command::new(BIN);
        cmd.args(["--once", "--socket", &sock]);
        for _ in 0..runs {
            let (t, r, out) = measure(&mut cmd).expect("openrtc-top failed");
            assert_eq!(text(&out).lines().count(), rows + 1);
            times.push(t);
            wait4_rss = wait4_rss.max(r);
        }
        let ours = median(times);
        let (rss, rss_kib) = rss_cell(&cmd, wait4_rss);
        ours_at.push((n, ours, rss_kib));
        let (py_cell, py_rss, ratio) = match &py {
            None => ("not run (no OPENRTC_BENCH_VENV)".to_string(), "".to_string(), "".to_string()),
            Some(p) => {
                let py_runs = if n >= 10_000 || quick() { 3 } else { 7 };
                let mut times = Vec::new();
                let mut prss = 0;
                let mut failed = false;
                let mut pcmd = Command::new(p);
                pcmd.args(["top", "--once", "--socket", &sock]).env("COLUMNS", "200");
                for _ in 0..py_runs {
                    match measure(&mut pcmd) {
                        Some((t, r, out)) if text(&out).contains("session") => {
                            times.push(t);
                            prss = prss.max(r);
                        }
                        _ => {
                            failed = true;
                            break;
                        }
                    }
                }
                if failed {
                    ("fails (traceback: line over its 64 KiB read limit)".into(), "".into(), "".into())
                } else {
                    let m = median(times);
                    (ms(m), rss_cell(&pcmd, prss).0, format!("{:.0}x", m.as_secs_f64() / ours.as_secs_f64()))
                }
            }
        };
        let _ = writeln!(md, "| {n} | {:.1} KiB | {} | {rss} | {py_cell} | {py_rss} | {ratio} |", size as f64 / 1024.0, ms(ours));
        println!("once {n}: ours {} ({rss}), python {py_cell} {py_rss} {ratio}", ms(ours));
    }
    let at = |n: usize| ours_at.iter().find(|x| x.0 == n).unwrap();
    let growth = at(100_000).1.as_secs_f64() / at(10_000).1.as_secs_f64();

    // ---- against json.loads and /bin/true ---------------------------------------
    // CPython only parsing the 100,000-session payload (a file on disk, no
    // socket, no output), and a process that does nothing, both whole
    // processes through the same harness as ours.
    let _ = writeln!(md, "\n## Against a parse alone and a process that does nothing\n");
    let big = d.join("p100k.json");
    std::fs::write(&big, payload_for(100_000)).unwrap();
    let python = py.as_ref().map(|p| p.with_file_name("python")).filter(|p| p.exists()).unwrap_or_else(|| PathBuf::from("python3"));
    let mut loads = Command::new(&python);
    loads.args(["-c", "import json, sys; json.loads(open(sys.argv[1], 'rb').read())", big.to_str().unwrap()]);
    let loads_t = median((0..reps.min(11)).map(|_| measure(&mut loads).expect("python json.loads").0).collect());
    let loads_x = loads_t.as_secs_f64() / at(100_000).1.as_secs_f64();
    let mut truecmd = Command::new("/bin/true");
    let true_t = median((0..reps * 3).map(|_| measure(&mut truecmd).unwrap().0).collect());
    let small_x = at(100).1.as_secs_f64() / true_t.as_secs_f64();
    let _ = writeln!(md, "| | time (median) |");
    let _ = writeln!(md, "| --- | ---: |");
    let _ = writeln!(md, "| `openrtc-top --once`, 100,000 sessions | {} |", ms(at(100_000).1));
    let _ = writeln!(md, "| CPython `json.loads` of the same payload (from a file) | {} ({loads_x:.1}x ours) |", ms(loads_t));
    let _ = writeln!(md, "| `openrtc-top --once`, 100 sessions | {} ({small_x:.2}x `/bin/true`) |", ms(at(100).1));
    let _ = writeln!(md, "| `/bin/true` | {} |", ms(true_t));
    println!("json.loads 100k {} = {loads_x:.1}x ours; 100 sessions {small_x:.2}x /bin/true", ms(loads_t));

    // ---- breakdown ------------------------------------------------------------
    let _ = writeln!(md, "\n## Where our time goes (in-process, median)\n");
    let _ = writeln!(md, "| sessions | read | decode | sort | render (table) | total |");
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: | ---: | ---: |");
    for n in [1_000usize, 10_000, 100_000] {
        let srv = Static::start(&d.join(&format!("parts-{n}.sock")), Arc::new(Mutex::new(Arc::new(payload_for(n)))));
        let mut parts: [Vec<Duration>; 4] = Default::default();
        for _ in 0..if n >= 100_000 { 7 } else { reps } {
            let t0 = Instant::now();
            // Read as a plain client would (the fetch's own cost is in the
            // whole-process figures above).
            let mut bytes = Vec::new();
            std::os::unix::net::UnixStream::connect(&srv.path).unwrap().read_to_end(&mut bytes).unwrap();
            bytes.truncate(bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len()));
            let t1 = Instant::now();
            let snap = openrtc_top::model::Pool::single(decode::decode(&bytes).unwrap(), srv.path.clone());
            drop(bytes);
            let t2 = Instant::now();
            let ord = view::order(&snap, &view::Query::default(), &[]);
            let t3 = Instant::now();
            let mut sink = std::io::BufWriter::with_capacity(64 * 1024, std::io::sink());
            output::table(&mut sink, &snap, &ord, output::Plain::default()).unwrap();
            sink.flush().unwrap();
            let t4 = Instant::now();
            for (v, d) in parts.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
                v.push(d);
            }
        }
        let m: Vec<Duration> = parts.into_iter().map(median).collect();
        let total: Duration = m.iter().sum();
        let _ = writeln!(md, "| {n} | {} | {} | {} | {} | {} |", ms(m[0]), ms(m[1]), ms(m[2]), ms(m[3]), ms(total));
        println!("parts {n}: read {} decode {} sort {} render {}", ms(m[0]), ms(m[1]), ms(m[2]), ms(m[3]));
    }

    // ---- live mode ----------------------------------------------------------------
    let _ = writeln!(md, "\n## Live view, 1,000 sessions, 120x40 pseudo-terminal\n");
    let _ = writeln!(md, "| rate | CPU per frame | share of one core | bytes per frame, nothing changed | bytes per frame, one row changed |");
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: | ---: |");
    let base = payload_for(1_000);
    let mut live_rows = Vec::new();
    for hz in [1u32, 10] {
        let shared = Arc::new(Mutex::new(Arc::new(base.clone())));
        let srv = Static::start(&d.join(&format!("live-{hz}.sock")), shared.clone());
        let mut t = Live::start(BIN, &["--socket", srv.path.to_str().unwrap(), "--refresh-rate", &hz.to_string()], &[], 120, 40);
        t.wait_for("the first frame", Duration::from_secs(10), |s| s.last().is_some_and(|l| l.contains("of 1000")));
        std::thread::sleep(Duration::from_millis(1500));
        // Nothing changes: the same bytes every refresh.
        let secs = if quick() { 5 } else if hz == 1 { 20 } else { 10 };
        let (c0, b0, n0) = (cpu_seconds(t.child.id()), t.raw_len(), srv.connections.load(Ordering::Relaxed));
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(secs));
        let (c1, b1, n1) = (cpu_seconds(t.child.id()), t.raw_len(), srv.connections.load(Ordering::Relaxed));
        let wall = t0.elapsed().as_secs_f64();
        let frames = (n1 - n0).max(1) as f64;
        let cpu_s = c1 - c0;
        let unchanged = (b1 - b0) as f64 / frames;
        // One row changes per refresh: the cpu_pct of the row at the top of
        // the screen (the demo's memory shares are equal, so the smallest id).
        let text_base = String::from_utf8(base.clone()).unwrap();
        let top_id = decode::decode(text_base.trim_end().as_bytes()).unwrap().sessions.iter().map(|s| s.session_id.to_string()).min().unwrap();
        let row_at = text_base.find(&format!("\"session_id\": \"{top_id}\"")).unwrap();
        let anchor = "\"cpu_pct\": ";
        let (b2, n2) = (t.raw_len(), srv.connections.load(Ordering::Relaxed));
        let flip = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, fl, st) = (shared.clone(), flip.clone(), stop.clone());
        let conns = srv.connections.clone();
        let changer = std::thread::spawn(move || {
            let mut last = conns.load(Ordering::Relaxed);
            while !st.load(Ordering::Relaxed) {
                let now = conns.load(Ordering::Relaxed);
                if now != last {
                    last = now;
                    let v = if fl.fetch_xor(true, Ordering::Relaxed) { "77.7" } else { "88.8" };
                    let j = row_at + text_base[row_at..].find(anchor).unwrap() + anchor.len();
                    let k = j + text_base[j..].find(',').unwrap();
                    let changed = format!("{}{}{}", &text_base[..j], v, &text_base[k..]);
                    *sh.lock().unwrap() = Arc::new(changed.into_bytes());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        std::thread::sleep(Duration::from_secs(if quick() { 3 } else { 5 }));
        stop.store(true, Ordering::Relaxed);
        changer.join().unwrap();
        let (b3, n3) = (t.raw_len(), srv.connections.load(Ordering::Relaxed));
        let one_row = (b3 - b2) as f64 / (n3 - n2).max(1) as f64;
        t.send(b"q");
        t.wait_exit(Duration::from_secs(5));
        let per_frame = cpu_s / frames;
        let share = cpu_s / wall * 100.0;
        let _ = writeln!(
            md,
            "| {hz} Hz | {:.2} ms | {share:.2}% | {unchanged:.0} B | {one_row:.0} B |",
            per_frame * 1e3
        );
        println!("live {hz} Hz: {:.2} ms/frame, {share:.2}% core, unchanged {unchanged:.0} B, one row {one_row:.0} B ({frames} frames)", per_frame * 1e3);
        live_rows.push((hz, share, unchanged));
    }

    // ---- memory against hostile payloads ------------------------------------------
    let _ = writeln!(md, "\n## Memory against the payload, hostile shapes at about 60 MB\n");
    let _ = writeln!(md, "Peak RSS as a multiple of the payload: `--once` under GNU time, and the live view's VmHWM after several refreshes at 2 Hz in a 120x40 pseudo-terminal; wall time of the `--once` run. Target: at most 4x the payload, in a few seconds.\n");
    let _ = writeln!(md, "| shape | payload | `--once` peak RSS | x | time | live peak RSS | x |");
    let _ = writeln!(md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut worst = 0.0f64;
    let mut slowest = Duration::ZERO;
    for (name, bytes) in hostile_payloads() {
        let size = bytes.len() as f64;
        let srv = Static::start(&d.join(&format!("hostile-{name}.sock")), Arc::new(Mutex::new(Arc::new(bytes))));
        let sock = srv.path.to_str().unwrap().to_string();
        let mut cmd = Command::new(BIN);
        cmd.args(["--once", "--socket", &sock]);
        let t0 = Instant::now();
        let once_kib = own_peak_rss(&cmd).unwrap_or(0);
        let took = t0.elapsed();
        let mut t = Live::start(BIN, &["--socket", &sock, "--refresh-rate", "2"], &[], 120, 40);
        let before = srv.connections.load(Ordering::Relaxed);
        while srv.connections.load(Ordering::Relaxed) < before + 4 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let live_kib = vm_hwm_kib(t.child.id());
        t.send(b"q");
        t.wait_exit(Duration::from_secs(10));
        let (xo, xl) = (once_kib as f64 * 1024.0 / size, live_kib as f64 * 1024.0 / size);
        worst = worst.max(xo).max(xl);
        slowest = slowest.max(took);
        let _ = writeln!(md, "| {name} | {:.1} MB | {:.1} MB | {xo:.2}x | {} | {:.1} MB | {xl:.2}x |", size / 1e6, once_kib as f64 * 1.024 / 1000.0, ms(took), live_kib as f64 * 1.024 / 1000.0);
        println!("hostile {name}: once {xo:.2}x in {}, live {xl:.2}x", ms(took));
    }

    // ---- input storms ---------------------------------------------------------------
    let _ = writeln!(md, "\n## A paste at 100,000 sessions\n");
    let _ = writeln!(md, "The live view at 1 Hz on 100,000 sessions, `/` typed, then 10 KB pasted: time from writing the paste to the frame that shows its result, and from `q` to the process's end. Target: within one frame (1 s at 1 Hz).\n");
    let _ = writeln!(md, "| paste | answered in | q answered in |");
    let _ = writeln!(md, "| --- | ---: | ---: |");
    let big = Static::start(&d.join("paste.sock"), Arc::new(Mutex::new(Arc::new(payload_for(100_000)))));
    let mut paste_worst = Duration::ZERO;
    for (name, bytes) in paste_cases() {
        let mut t = Live::start(BIN, &["--socket", big.path.to_str().unwrap()], &[], 120, 40);
        t.wait_for("the first frame", Duration::from_secs(20), |s| s.last().is_some_and(|l| l.contains("rows 1-")));
        t.send(b"/");
        t.wait_for("the prompt", Duration::from_secs(10), |s| s.last().is_some_and(|l| l.starts_with('/')));
        let t0 = Instant::now();
        t.send(&bytes);
        t.wait_for("the paste's result", Duration::from_secs(60), |s| s.last().is_some_and(|l| l.contains("rows 0-0 of 0") || l.ends_with(" of 0")));
        let answered = t0.elapsed();
        let t1 = Instant::now();
        t.send(b"\x1b\r");
        t.send(b"q");
        t.wait_exit(Duration::from_secs(60));
        let quit = t1.elapsed();
        paste_worst = paste_worst.max(answered).max(quit);
        let _ = writeln!(md, "| {name} | {} | {} |", ms(answered), ms(quit));
        println!("paste {name}: answered {}, q {}", ms(answered), ms(quit));
    }

    // ---- several workers -------------------------------------------------------------
    let pool = several_workers(&mut md, &d, reps);

    // ---- the exporter ----------------------------------------------------------------
    let exp = exporter(&mut md, &d, reps);

    // ---- recordings ------------------------------------------------------------------
    let rec = recordings(&mut md, &d);

    // ---- a blocked loop --------------------------------------------------------------
    let blk = blocked_loop(&mut md, &d);

    // ---- binary and start-up -------------------------------------------------------
    let size = std::fs::metadata(BIN).unwrap().len();
    let stripped = Command::new("sh").arg("-c").arg(format!("strip -o {0}/s '{BIN}' 2>/dev/null && stat -c %s {0}/s", d.path().display())).output().ok().and_then(|o| text(&o.stdout).trim().parse::<u64>().ok()).unwrap_or(size);
    let mut starts = Vec::new();
    for _ in 0..reps * 3 {
        starts.push(measure(Command::new(BIN).arg("--version")).unwrap().0);
    }
    let start = median(starts);
    let mut floor = Vec::new();
    for _ in 0..reps * 3 {
        floor.push(measure(&mut Command::new("/bin/true")).unwrap().0);
    }
    let floor = median(floor);
    let _ = writeln!(md, "\n## Binary and start-up\n");
    let _ = writeln!(md, "- Stripped binary: {} bytes ({:.0} KiB).", stripped, stripped as f64 / 1024.0);
    let _ = writeln!(md, "- `openrtc-top --version`, a fresh process each run: {} median (`/bin/true` through the same harness: {}, the cost of starting any process here).", ms(start), ms(floor));
    println!("binary {stripped} bytes; --version {}", ms(start));

    // ---- targets -------------------------------------------------------------------
    let _ = writeln!(md, "\n## Targets\n");
    let _ = writeln!(md, "| target | measured | met |");
    let _ = writeln!(md, "| --- | --- | --- |");
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    let py100 = md.lines().find(|l| l.starts_with("| 100 |")).and_then(|l| l.split('|').nth(7)).map(|s| s.trim().to_string()).unwrap_or_default();
    let py100_x: f64 = py100.trim_end_matches('x').parse().unwrap_or(0.0);
    let _ = writeln!(md, "| `--once`, 100 sessions, at least 200x faster than Python | {} | {} |", if py100.is_empty() { "Python not run".to_string() } else { py100.clone() }, yes(py100_x >= 200.0));
    let (_, t100k, r100k) = *at(100_000);
    let _ = writeln!(md, "| 100,000 sessions under 150 ms | {} | {} |", ms(t100k), yes(t100k < Duration::from_millis(150)));
    let _ = writeln!(md, "| 100,000 sessions at least 3x faster than CPython's `json.loads` of the same payload | {loads_x:.1}x | {} |", yes(loads_x >= 3.0));
    let _ = writeln!(md, "| `--once`, 100 sessions, within 2.5x of `/bin/true` | {small_x:.2}x | {} |", yes(small_x <= 2.5));
    let _ = writeln!(md, "| 100,000 sessions peak RSS under 64 MB | {:.1} MB | {} |", r100k as f64 * 1024.0 / 1e6, yes(r100k * 1024 < 64_000_000));
    let _ = writeln!(md, "| 10,000 to 100,000 grows no worse than 12x | {growth:.1}x | {} |", yes(growth <= 12.0));
    let (_, s1, u1) = live_rows[0];
    let (_, s10, u10) = live_rows[1];
    let _ = writeln!(md, "| live 1,000 sessions, 1 Hz under 1% of a core | {s1:.2}% | {} |", yes(s1 < 1.0));
    let _ = writeln!(md, "| live 1,000 sessions, 10 Hz under 5% of a core | {s10:.2}% | {} |", yes(s10 < 5.0));
    let _ = writeln!(md, "| unchanged frame under 200 bytes | {u1:.0} B at 1 Hz, {u10:.0} B at 10 Hz | {} |", yes(u1 < 200.0 && u10 < 200.0));
    let _ = writeln!(md, "| stripped binary under 1 MiB | {stripped} bytes | {} |", yes(stripped < 1_048_576));
    let _ = writeln!(md, "| hostile payloads: peak RSS at most 4x the payload, in a few seconds | {worst:.2}x, slowest {} | {} |", ms(slowest), yes(worst <= 4.0 && slowest < Duration::from_secs(5)));
    let _ = writeln!(md, "| a 10 KB paste at 100,000 sessions answered within one frame (1 s) | {} | {} |", ms(paste_worst), yes(paste_worst < Duration::from_secs(1)));
    let _ = writeln!(md, "| `--once` over 32x300 at most 1.5x one worker of 9,600 | {:.2}x | {} |", pool.ratio, yes(pool.ratio <= 1.5));
    let _ = writeln!(md, "| live 32x300 at 1 Hz under 1% of a core | {:.2}% | {} |", pool.live_share, yes(pool.live_share < 1.0));
    let _ = writeln!(md, "| one of 8 workers hung: the others asked within 10% of the period | {:.1}% | {} |", pool.worst_gap * 100.0, yes(pool.worst_gap <= 0.10));
    let _ = writeln!(md, "| a scrape of 8x300 at most 1.3x `--once --format json` over the same sockets | {:.2}x | {} |", exp.ratio, yes(exp.ratio <= 1.3));
    let _ = writeln!(md, "| open a 1 GB recording and jump to its last sample: under 1 s, under 64 MB RSS | {}, {:.1} MB | {} |", ms(rec.open), rec.open_kib as f64 * 1.024 / 1000.0, yes(rec.open < Duration::from_secs(1) && rec.open_kib * 1024 < 64_000_000));
    let _ = writeln!(md, "| step one sample at 1,000 sessions: under 20 ms | {} median, {} worst | {} |", ms(rec.step_median), ms(rec.step_worst), yes(rec.step_median < Duration::from_millis(20)));
    let _ = writeln!(md, "| a block shown within a period (1 s) and 0.5 s of the fetch that meets it | {} | {} |", ms(blk.shown), yes(blk.shown <= Duration::from_millis(1500)));
    let _ = writeln!(md, "| during a 30 s block the other workers refresh within 10% of the period | {:.1}% | {} |", blk.worst_gap * 100.0, yes(blk.worst_gap <= 0.10));
    let _ = writeln!(md, "| during a block a key is answered within 50 ms | {} worst | {} |", ms(blk.key), yes(blk.key <= Duration::from_millis(50)));
    let _ = writeln!(md, "| reading /proc for a blocked worker under 0.1 ms a refresh | {:.3} ms | {} |", blk.proc_ms, yes(blk.proc_ms < 0.1));
    match blk.stack {
        Some(t) => {
            let _ = writeln!(md, "| a stack on screen within 1 s of `y` | {} | {} |", ms(t), yes(t <= Duration::from_secs(1)));
        }
        None => {
            let _ = writeln!(md, "| a stack on screen within 1 s of `y` | not measured: {} | **no** |", blk.stack_why);
        }
    }
    let _ = writeln!(md, "| with 200 idle clients and a slow reader, a scrape at most 2x a quiet one | {:.2}x | {} |", exp.load_ratio, yes(exp.load_ratio <= 2.0));
    let _ = writeln!(md, "| exporter RSS under load under 8 MB plus the answers in flight | {:.1} MB ({:.1} MB of answers) | {} |", exp.load_kib as f64 * 1.024 / 1000.0, exp.answer as f64 / 1e6, yes(exp.load_kib * 1024 < 8_000_000 + exp.answer as u64));
    let _ = writeln!(md, "| exporter RSS under 8 MB, idle and scraping 8x300 | {:.1} MB idle, {:.1} MB peak | {} |", exp.idle_kib as f64 * 1.024 / 1000.0, exp.peak_kib as f64 * 1.024 / 1000.0, yes(exp.peak_kib * 1024 < 8_000_000));

    print!("\n{md}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let notes = std::fs::read_to_string(&out).ok().and_then(|s| s.find("\n## Notes").map(|i| s[i..].to_string())).unwrap_or_default();
    std::fs::write(&out, md + &notes).unwrap();
}

/// What `several_workers` measured, for the targets.
struct PoolFigures {
    ratio: f64,
    live_share: f64,
    /// The largest departure of a refresh interval from the period, as a
    /// fraction of it.
    worst_gap: f64,
}

/// Several workers: `--once` over 32 sockets of 300 sessions against one of
/// 9,600; the live view over the 32 at 1 Hz; and 8 workers of which one
/// hangs, timing when each of the other seven is asked.
fn several_workers(md: &mut String, d: &TempDir, reps: usize) -> PoolFigures {
    let _ = writeln!(md, "\n## Several workers\n");
    let (dir, servers) = pool_dir(d, "pool", 32, 300);
    let one = Static::start(&d.join("pool-one.sock"), Arc::new(Mutex::new(Arc::new(payload_for(9_600)))));
    let time = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        median((0..reps).map(|_| measure(&mut cmd).expect("openrtc-top failed").0).collect())
    };
    let (many, single) = (time(&["--once", "--socket", dir.to_str().unwrap()]), time(&["--once", "--socket", one.path.to_str().unwrap()]));
    let ratio = many.as_secs_f64() / single.as_secs_f64();
    let _ = writeln!(md, "| `--once`, stdout to a pipe | time (median of {reps}) |");
    let _ = writeln!(md, "| --- | ---: |");
    let _ = writeln!(md, "| 32 workers of 300 sessions (`--socket DIR`) | {} |", ms(many));
    let _ = writeln!(md, "| one worker of 9,600 sessions | {} |", ms(single));
    let _ = writeln!(md, "| ratio | {ratio:.2}x |");
    println!("pool once: 32x300 {} vs 9600 {} = {ratio:.2}x", ms(many), ms(single));

    // The live view's CPU over the 32 workers, and over one worker holding
    // as many sessions: what several workers add to what the sessions cost.
    let live_cpu = |sock: &str| {
        let mut t = Live::start(BIN, &["--socket", sock], &[], 120, 40);
        t.wait_for("the first frame", Duration::from_secs(10), |s| s.last().is_some_and(|l| l.contains(" of 9")));
        std::thread::sleep(Duration::from_millis(1500));
        let c0 = cpu_seconds(t.child.id());
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(if quick() { 5 } else { 20 }));
        let share = (cpu_seconds(t.child.id()) - c0) / t0.elapsed().as_secs_f64() * 100.0;
        t.send(b"q");
        t.wait_exit(Duration::from_secs(5));
        share
    };
    let live_share = live_cpu(dir.to_str().unwrap());
    let one_share = live_cpu(one.path.to_str().unwrap());
    let _ = writeln!(md, "\nThe live view at 1 Hz, 120x40, share of one core: over the 32 workers (9,600 sessions) {live_share:.2}%; over one worker of 9,600 sessions {one_share:.2}%.\n");
    println!("pool live: {live_share:.2}% of a core (one worker of 9,600: {one_share:.2}%)");
    drop(servers);

    let (hang_dir, seven) = pool_dir(d, "pool-hang", 7, 300);
    let _hung = Server::hung(&hang_dir.join("hung.sock"), Duration::from_secs(60));
    let mut t = Live::start(BIN, &["--socket", hang_dir.to_str().unwrap()], &[], 120, 40);
    t.wait_for("the hung worker blocked", Duration::from_secs(10), |s| s.iter().any(|l| l.contains("BLOCKED")));
    let from = Instant::now();
    std::thread::sleep(Duration::from_secs(if quick() { 5 } else { 15 }));
    t.send(b"q");
    t.wait_exit(Duration::from_secs(5));
    let mut worst_gap = 0.0f64;
    let mut intervals = 0;
    for s in &seven {
        let times: Vec<Instant> = s.times.lock().unwrap().iter().copied().filter(|&x| x >= from).collect();
        for w in times.windows(2) {
            intervals += 1;
            worst_gap = worst_gap.max(((w[1] - w[0]).as_secs_f64() - 1.0).abs());
        }
    }
    let _ = writeln!(md, "Eight workers, one of them hung (accepts, never answers), live view at 1 Hz: over {intervals} refresh intervals of the other seven, the largest departure from the 1 s period was {:.1} ms ({:.1}%).", worst_gap * 1e3, worst_gap * 100.0);
    println!("pool hang: worst interval departure {:.1} ms over {intervals}", worst_gap * 1e3);
    PoolFigures { ratio, live_share, worst_gap }
}

/// What `exporter` measured, for the targets.
struct ExporterFigures {
    ratio: f64,
    idle_kib: u64,
    peak_kib: u64,
    load_ratio: f64,
    load_kib: u64,
    answer: usize,
}


/// The exporter over 8 workers of 300 sessions: a scrape (client side,
/// request to last byte) against a whole `--once --format json` process
/// over the same sockets; its RSS idle and its peak after the scrapes.
fn exporter(md: &mut String, d: &TempDir, reps: usize) -> ExporterFigures {
    use std::net::{TcpListener, TcpStream};
    let _ = writeln!(md, "\n## The exporter\n");
    let (dir, _servers) = pool_dir(d, "exporter", 8, 300);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN).args(["--serve", &port.to_string(), "--socket", dir.to_str().unwrap()]).stderr(Stdio::null()).spawn().unwrap();
    let scrape = || {
        let t0 = Instant::now();
        let mut s = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        s.write_all(b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n").unwrap();
        let mut body = Vec::new();
        s.read_to_end(&mut body).unwrap();
        assert!(body.ends_with(b"# EOF\n"));
        t0.elapsed()
    };
    scrape();
    std::thread::sleep(Duration::from_millis(300));
    let idle_kib = proc_kib(child.id(), "VmRSS");
    let scraped = median((0..reps).map(|_| scrape()).collect());
    let peak_kib = vm_hwm_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let mut cmd = Command::new(BIN);
    cmd.args(["--once", "--format", "json", "--socket", dir.to_str().unwrap()]);
    let once = median((0..reps).map(|_| measure(&mut cmd).expect("openrtc-top failed").0).collect());
    let ratio = scraped.as_secs_f64() / once.as_secs_f64();
    let load = under_load(&dir, reps);
    let _ = writeln!(md, "| 8 workers x 300 sessions | time (median of {reps}) |");
    let _ = writeln!(md, "| --- | ---: |");
    let _ = writeln!(md, "| a scrape of `--serve` (OpenMetrics, request to last byte) | {} |", ms(scraped));
    let _ = writeln!(md, "| `--once --format json`, a whole process | {} |", ms(once));
    let _ = writeln!(md, "| ratio | {ratio:.2}x |");
    let _ = writeln!(md, "\nThe exporter's RSS: {idle_kib} KiB idle after a first scrape, {peak_kib} KiB at its peak (VmHWM) after {} scrapes.", reps + 1);
    println!("exporter: scrape {} vs once json {} = {ratio:.2}x; rss idle {idle_kib} KiB, peak {peak_kib} KiB", ms(scraped), ms(once));
    let _ = writeln!(md, "\nUnder attack (`--per-session 2400`, an answer of {:.1} MB): a scrape alone took {} (median); with 200 idle clients connected and one client reading an answer 4 KB every 0.5 s, {} ({:.2}x). The exporter's peak RSS (VmHWM) then: {} KiB, with {:.1} MB of answers in flight.", load.answer as f64 / 1e6, ms(load.quiet), ms(load.busy), load.busy.as_secs_f64() / load.quiet.as_secs_f64(), load.peak_kib, load.answer as f64 / 1e6);
    println!("exporter under load: quiet {} busy {} peak {} KiB answer {} B", ms(load.quiet), ms(load.busy), load.peak_kib, load.answer);
    ExporterFigures { ratio, idle_kib, peak_kib, load_ratio: load.busy.as_secs_f64() / load.quiet.as_secs_f64(), load_kib: load.peak_kib, answer: load.answer }
}

/// What the exporter does under attack.
struct Load {
    quiet: Duration,
    busy: Duration,
    peak_kib: u64,
    answer: usize,
}

/// Scrapes of an exporter with a large answer, alone and then beside 200
/// idle clients and one slow reader.
fn under_load(dir: &Path, reps: usize) -> Load {
    use std::net::{TcpListener, TcpStream};
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN).args(["--serve", &port.to_string(), "--socket", dir.to_str().unwrap(), "--per-session", "2400"]).stderr(Stdio::null()).spawn().unwrap();
    let connect = || loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let scrape = || {
        let t0 = Instant::now();
        let mut s = connect();
        s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        let mut body = Vec::new();
        s.read_to_end(&mut body).unwrap();
        (t0.elapsed(), body.len())
    };
    let answer = scrape().1;
    let quiet = median((0..reps).map(|_| scrape().0).collect());
    let idle: Vec<TcpStream> = (0..200).map(|_| connect()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let mut slow = connect();
    slow.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while !st.load(Ordering::Relaxed) && slow.read(&mut chunk).is_ok_and(|n| n > 0) {
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let busy = median((0..reps).map(|_| scrape().0).collect());
    let peak_kib = vm_hwm_kib(child.id());
    stop.store(true, Ordering::Relaxed);
    drop(idle);
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    Load { quiet, busy, peak_kib, answer }
}

/// What `blocked_loop` measured, for the targets.
struct BlockFigures {
    /// From the first connection the block met to BLOCKED on screen.
    shown: Duration,
    worst_gap: f64,
    key: Duration,
    proc_ms: f64,
    stack: Option<Duration>,
    stack_why: String,
}

/// A worker whose loop blocks for 30 s among seven that answer, in the
/// live view at 1 Hz: how soon the block is shown after the fetch that
/// meets it, how regularly the others are asked meanwhile, how soon keys
/// are answered; what /proc costs for a blocked worker (the demo worker
/// blocked in a real sleep); and how soon `y` puts a Python worker's stack
/// on screen (py-spy from the bench venv).
fn blocked_loop(md: &mut String, d: &TempDir) -> BlockFigures {
    let _ = writeln!(md, "\n## A blocked loop\n");
    let (dir, servers) = pool_dir(d, "blocked", 7, 300);
    // The eighth: answers until told to block, then holds each connection.
    let blocking = Arc::new(AtomicBool::new(false));
    let b = blocking.clone();
    let body = payload_for(300);
    let slow = Server::start(&dir.join("w-blocks.sock"), Arc::new(move |mut s: std::os::unix::net::UnixStream| {
        while b.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = s.write_all(&body);
    }));
    let mut t = Live::start(BIN, &["--socket", dir.to_str().unwrap(), "--refresh-rate", "1"], &[], 160, 50);
    t.wait_for("eight workers up", Duration::from_secs(10), |s| s[0].contains("workers 8") && !s[0].contains("not up"));
    std::thread::sleep(Duration::from_secs(3)); // a history of answers
    blocking.store(true, Ordering::Relaxed);
    let block_at = Instant::now();
    let shown = t.wait_for("the block shown", Duration::from_secs(10), |s| s.iter().any(|l| l.contains("@w-blocks") && l.contains("BLOCKED")));
    let seen = Instant::now();
    assert!(shown.iter().any(|l| l.contains("loop blocked")));
    let met = slow.times.lock().unwrap().iter().copied().find(|&c| c >= block_at).unwrap_or(block_at);
    let shown = seen - met;
    // Keys while it lasts: each answered on screen.
    let mut key = Duration::ZERO;
    for (k, title) in [(&b"s"[..], "sort cpu_pct"), (b"s", "sort duration_s"), (b"s", "sort agent"), (b"s", "sort session"), (b"s", "sort mem_mb")] {
        let t0 = Instant::now();
        t.send(k);
        t.wait_for(title, Duration::from_secs(5), |s| s[0].contains(title));
        key = key.max(t0.elapsed());
    }
    let from = Instant::now();
    while from.elapsed() < Duration::from_secs(if quick() { 10 } else { 27 }) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let until = Instant::now();
    let mut worst_gap: f64 = 0.0;
    for s in &servers {
        let times: Vec<Instant> = s.times.lock().unwrap().iter().copied().filter(|&x| x >= block_at && x <= until).collect();
        for w in times.windows(2) {
            worst_gap = worst_gap.max(((w[1] - w[0]).as_secs_f64() - 1.0).abs());
        }
    }
    t.send(b"q");
    t.wait_exit(Duration::from_secs(5));
    blocking.store(false, Ordering::Relaxed);
    drop(slow);
    // /proc for a real blocked process: what one refresh reads and says.
    let demo_sock = d.join("blocked-demo.sock");
    let mut demo = Command::new(DEMO).args(["--socket", demo_sock.to_str().unwrap(), "--block", "sleep", "--block-after", "0.2", "--block-for", "10"]).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let proc = openrtc_top::source::proc::Proc::default();
    let seen_demo = proc.seen(demo.id()).unwrap();
    let n = 2_000;
    let t0 = Instant::now();
    for _ in 0..n {
        let look = proc.look(seen_demo);
        std::hint::black_box(openrtc_top::source::proc::explain(&look, 0, 1.0, 100.0));
    }
    let proc_ms = t0.elapsed().as_secs_f64() * 1e3 / n as f64;
    let _ = demo.kill();
    let _ = demo.wait();
    // y on a Python worker blocked in time.sleep.
    let spy = std::env::var_os("OPENRTC_BENCH_VENV").map(|v| PathBuf::from(v).join("bin/py-spy")).filter(|p| p.exists());
    let (stack, stack_why) = match spy {
        None => (None, "no py-spy in the bench venv".to_string()),
        Some(spy) => {
            let py_sock = d.join("blocked-py.sock");
            let mut py = python_worker(&py_sock, 0.5, 20.0);
            let mut t = Live::start(BIN, &["--socket", py_sock.to_str().unwrap(), "--py-spy", spy.to_str().unwrap()], &[], 160, 40);
            t.wait_for("blocked", Duration::from_secs(5), |s| s[0].contains("BLOCKED"));
            let t0 = Instant::now();
            t.send(b"y");
            let s = t.wait_for("the stack", Duration::from_secs(10), |s| s.iter().any(|l| l.contains("block_the_loop") || l.contains("py-spy may not")));
            let took = t0.elapsed();
            t.send(b"q");
            t.wait_exit(Duration::from_secs(5));
            let _ = py.kill();
            let _ = py.wait();
            match s.iter().any(|l| l.contains("block_the_loop")) {
                true => (Some(took), String::new()),
                false => (None, "ptrace is not permitted here".to_string()),
            }
        }
    };
    let _ = writeln!(md, "Eight workers of 300 sessions, live view at 1 Hz in a 160x50 pseudo-terminal; one stops answering for 30 s.\n");
    let _ = writeln!(md, "| measured | value |");
    let _ = writeln!(md, "| --- | ---: |");
    let _ = writeln!(md, "| from the first fetch the block meets to BLOCKED on screen | {} |", ms(shown));
    let _ = writeln!(md, "| largest departure of the others' refresh intervals from 1 s, during the block | {:.1} ms |", worst_gap * 1e3);
    let _ = writeln!(md, "| slowest of five keys (`s`) answered on screen during the block | {} |", ms(key));
    let _ = writeln!(md, "| reading /proc and explaining, per blocked worker per refresh (mean of {n}) | {proc_ms:.3} ms |");
    let _ = writeln!(md, "| `y` to the Python stack on screen (py-spy 0.4.1) | {} |", stack.map_or(stack_why.clone(), ms));
    println!("blocked: shown {}, worst gap {:.1} ms, key {}, /proc {proc_ms:.3} ms, stack {:?}", ms(shown), worst_gap * 1e3, ms(key), stack);
    BlockFigures { shown, worst_gap, key, proc_ms, stack, stack_why }
}

/// What `recordings` measured, for the targets.
struct RecordingFigures {
    open: Duration,
    open_kib: u64,
    step_median: Duration,
    step_worst: Duration,
}

/// What a day of recording costs at 1 Hz; opening a 1 GB recording and
/// jumping to its end; stepping one sample in the live replay.
fn recordings(md: &mut String, d: &TempDir) -> RecordingFigures {
    let _ = writeln!(md, "\n## Recordings\n");
    // A day at 1 Hz: the recorder's own lines, ten of each size.
    let mut lines_at = Vec::new();
    for n in [100usize, 1_000] {
        let srv = Static::start(&d.join(&format!("rec-{n}.sock")), Arc::new(Mutex::new(Arc::new(payload_for(n)))));
        let file = d.join(&format!("rec-{n}.ndjson"));
        let out = Command::new(BIN).args(["--socket", srv.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "-n", "10", "--refresh-rate", "10"]).output().unwrap();
        assert!(out.status.success());
        let size = std::fs::metadata(&file).unwrap().len();
        let per_day = size as f64 / 10.0 * 86_400.0;
        let _ = writeln!(md, "- {n} sessions: {:.1} KB a line, {:.2} GB a day at 1 Hz.", size as f64 / 10.0 / 1000.0, per_day / 1e9);
        println!("record {n}: {:.1} KB/line, {:.2} GB/day", size as f64 / 10.0 / 1000.0, per_day / 1e9);
        lines_at.push(std::fs::read_to_string(&file).unwrap().lines().next().unwrap().to_string());
    }
    // 1 GB of 1,000-session samples, a second apart.
    let line = &lines_at[1];
    let body = &line[line.find("\", ").unwrap()..];
    let big = d.join("big.ndjson");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    let (mut written, mut k) = (0u64, 0i64);
    while written < 1_000_000_000 {
        let l = format!("{{\"time\": \"{}{body}\n", openrtc_top::clock::stamp(1_795_000_000_000 + k * 1000));
        f.write_all(l.as_bytes()).unwrap();
        written += l.len() as u64;
        k += 1;
    }
    f.flush().unwrap();
    drop(f);
    let mut cmd = Command::new(BIN);
    cmd.args(["--replay", big.to_str().unwrap(), "--once", "--at", "-0s", "--format", "tsv", "--no-header"]);
    let open = median((0..5).map(|_| measure(&mut cmd).expect("replay failed").0).collect());
    let open_kib = own_peak_rss(&cmd).unwrap_or(0);
    let mut mid = Command::new(BIN);
    mid.args(["--replay", big.to_str().unwrap(), "--once", "--at", &openrtc_top::clock::stamp(1_795_000_000_000 + k / 2 * 1000), "--format", "tsv", "--no-header"]);
    let middle = median((0..5).map(|_| measure(&mut mid).expect("replay failed").0).collect());
    let _ = writeln!(md, "- A {:.2} GB recording ({k} samples of 1,000 sessions): open and print its last sample {} (peak RSS {open_kib} KiB); a sample in its middle {}.", written as f64 / 1e9, ms(open), ms(middle));
    println!("replay 1 GB: last {} ({open_kib} KiB), middle {}", ms(open), ms(middle));
    // Stepping in the live view: from the key to the frame that shows it.
    let mut t = Live::start(BIN, &["--replay", big.to_str().unwrap()], &[], 120, 40);
    t.wait_for("the first sample", Duration::from_secs(10), |s| s[0].contains("REPLAY"));
    let stamp_of = |s: &[String]| s[0].split_whitespace().find(|w| w.starts_with("20")).unwrap_or("").to_string();
    let mut steps = Vec::new();
    for _ in 0..30 {
        let before = stamp_of(&t.screen());
        let written = t.raw_len();
        let t0 = Instant::now();
        t.send(b".");
        // The frame is one write: its first bytes mark the step's end.
        while t.raw_len() == written {
            assert!(t0.elapsed() < Duration::from_secs(10), "no frame after a step");
            std::thread::sleep(Duration::from_micros(200));
        }
        steps.push(t0.elapsed());
        t.wait_for("the next sample", Duration::from_secs(10), |s| stamp_of(s) != before);
    }
    t.send(b"q");
    t.wait_exit(Duration::from_secs(5));
    let step_worst = *steps.iter().max().unwrap();
    let step_median = median(steps);
    let _ = writeln!(md, "- Stepping one sample forward in the live replay (120x40), key to frame: {} median, {} worst of 30.", ms(step_median), ms(step_worst));
    println!("replay step: {} median, {} worst", ms(step_median), ms(step_worst));
    let _ = std::fs::remove_file(&big);
    RecordingFigures { open, open_kib, step_median, step_worst }
}
