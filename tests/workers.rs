//! Several workers: sockets given one by one or found in a directory,
//! `--once` output with a worker column and the exit status 0/1/3, and the
//! live view keeping every other worker on time while one hangs.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::util::pty::Live;
use crate::util::*;

/// A worker named `name` with `ids` (memory 10, 20, ... in id order).
fn worker_payload(name: Option<&str>, ids: &[&str]) -> Vec<u8> {
    let rows = ids.iter().enumerate().map(|(i, id)| payload::session(id, "support", Some("acme"), 10.0 * (i + 1) as f64, 1.0, "active")).collect();
    payload::encode(name.map(|n| payload::worker(n, ids.len(), 8)), rows)
}

fn dir(tag: &str) -> TempDir {
    TempDir::new(tag)
}

#[test]
fn a_directory_of_sockets_prints_one_table_with_a_worker_column() {
    let d = dir("pool-dir");
    let _a = Server::bytes(&d.join("w-1.sock"), worker_payload(Some("alpha"), &["s1", "s2"]));
    let _b = Server::bytes(&d.join("w-2.sock"), worker_payload(Some("beta"), &["s1"]));
    // Two workers with one name: told apart by their sockets.
    let _c = Server::bytes(&d.join("w-3.sock"), worker_payload(Some("gamma"), &["x"]));
    let _e = Server::bytes(&d.join("w-4.sock"), worker_payload(Some("gamma"), &["y"]));
    // Not sockets: left alone.
    std::fs::write(d.join("notes.txt"), b"x").unwrap();
    let out = run(&["--once", "--socket", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let table = text(&out.stdout);
    let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0][..2], ["worker", "session"]);
    assert!(rows.iter().all(|r| r.len() == 10), "{table}");
    // mem_mb descending, then the id, then the worker label.
    let got: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(got, [("alpha", "s2"), ("alpha", "s1"), ("beta", "s1"), ("gamma@w-3", "x"), ("gamma@w-4", "y")], "{table}");
    // TSV leads with the worker too; the awk field numbers shift by one.
    let out = run(&["--once", "--socket", d.path().to_str().unwrap(), "--format", "tsv", "--sort", "worker", "--worker", "beta"]);
    assert_eq!(text(&out.stdout), "worker\tsession\tagent\ttenant\tdur(s)\tmem(MB)\tpeak\tcpu%\tstatus\tpin\nbeta\ts1\tsupport\tacme\t60\t10\t10\t1\tactive\t-\n");
}

#[test]
fn json_of_several_workers_names_each_and_tags_each_session() {
    let d = dir("pool-json");
    let _a = Server::bytes(&d.join("a.sock"), worker_payload(Some("alpha"), &["s1"]));
    let _b = Server::bytes(&d.join("b.sock"), worker_payload(None, &["s2"]));
    let (a, b) = (d.join("a.sock"), d.join("b.sock"));
    let out = run(&["--once", "--format", "json", "--socket", a.to_str().unwrap(), "--socket", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let pid = std::process::id();
    assert!(line.starts_with(&format!(r#"{{"workers": [{{"label": "alpha", "socket": "{}", "pid": {pid}, "state": "answered", "worker": {{"name": "alpha""#, a.display())), "{line}");
    assert!(line.contains(&format!(r#"{{"label": "b", "socket": "{}", "pid": {pid}, "state": "answered", "worker": null, "error": null}}"#, b.display())), "{line}");
    assert!(line.contains(r#""sessions": [{"worker": "alpha", "session_id": "s1""#) && line.contains(r#"{"worker": "b", "session_id": "s2""#), "{line}");
}

#[test]
fn some_workers_failing_is_status_3_with_a_line_each_and_one_deadline() {
    let d = dir("pool-partial");
    let _ok = Server::bytes(&d.join("ok.sock"), worker_payload(Some("ok"), &["s1"]));
    let _h1 = Server::hung(&d.join("hung-1.sock"), Duration::from_secs(6));
    let _h2 = Server::hung(&d.join("hung-2.sock"), Duration::from_secs(6));
    drop(std::os::unix::net::UnixListener::bind(d.join("dead.sock")).unwrap());
    let t0 = Instant::now();
    let out = run(&["--once", "--socket", d.path().to_str().unwrap(), "--no-header"]);
    let took = t0.elapsed();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).split_whitespace().take(2).collect::<Vec<_>>(), ["ok", "s1"]);
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with(&format!("openrtc-top: no running openrtc pool at {} (nothing is listening", d.join("dead.sock").display())), "{err}");
    // A worker that accepted and did not answer is blocked, not failed.
    assert!(lines[1].contains(&format!("hung-1.sock (pid {}) is blocked: its loop has not answered for 2.0s; main thread ", std::process::id())), "{err}");
    assert!(lines[2].contains("hung-2.sock"), "{err}");
    // Two hung workers cost one deadline, not two.
    assert!(took < Duration::from_millis(3500), "{took:?}");
}

#[test]
fn no_worker_answering_is_the_no_pool_message_and_status_1() {
    let d = dir("pool-none");
    drop(std::os::unix::net::UnixListener::bind(d.join("dead.sock")).unwrap());
    let out = run(&["--once", "--socket", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    assert!(err.starts_with("openrtc-top: no running openrtc pool at ") && err.contains("hint: start a coroutine-mode worker"), "{err}");
    // Only a worker whose loop is blocked: said so, status 4, no hint.
    let blocked = dir("pool-blocked");
    let _h = Server::hung(&blocked.join("hung.sock"), Duration::from_secs(4));
    let out = run(&["--once", "--socket", blocked.path().to_str().unwrap()]);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(4), String::new()));
    let err = text(&out.stderr);
    assert!(err.starts_with("openrtc-top: the worker at ") && err.contains("is blocked") && !err.contains("hint:"), "{err}");
    // An empty directory says so.
    let empty = dir("pool-empty");
    let out = run(&["--once", "--socket", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).lines().next().unwrap(),
        format!("openrtc-top: no running openrtc pool in {} (no sockets there)", empty.path().display())
    );
}

#[test]
fn all_reads_the_per_user_directory_and_checks_it_as_the_worker_does() {
    let d = dir("pool-all");
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let own = d.join(&format!("openrtc-{uid}"));
    std::fs::create_dir(&own).unwrap();
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o700)).unwrap();
    let _top = Server::bytes(&own.join("top.sock"), worker_payload(Some("main"), &["a"]));
    let _w2 = Server::bytes(&own.join("worker-2.sock"), worker_payload(Some("second"), &["b"]));
    let env = [("XDG_RUNTIME_DIR", d.path().to_str().unwrap())];
    let out = run_with(&["--once", "--all", "--format", "tsv", "--no-header"], &env, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let workers: Vec<&str> = stdout.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(workers, ["main", "second"]);
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_with(&["--once", "--all"], &env, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("refusing the socket directory") && text(&out.stderr).contains("mode 755"), "{}", text(&out.stderr));
}

#[test]
fn at_most_256_sockets_are_read_and_the_rest_are_counted() {
    let d = dir("pool-many");
    // Listeners that never accept: every fetch waits out its deadline.
    let _held: Vec<std::os::unix::net::UnixListener> =
        (0..258).map(|k| std::os::unix::net::UnixListener::bind(d.join(&format!("w{k:03}.sock"))).unwrap()).collect();
    let t0 = Instant::now();
    let out = run_with(&["--once", "--socket", d.path().to_str().unwrap()], &[], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert_eq!(err.lines().filter(|l| l.contains("is blocked: its loop has not answered for 2.0s")).count(), 256, "{err}");
    assert!(err.contains("openrtc-top: 2 more sockets left out: at most 256 are read"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(4), "256 hung workers cost one deadline: {:?}", t0.elapsed());
}

/// Connections a server accepted from `from` on.
fn since(s: &Server, from: Instant) -> Vec<Instant> {
    s.times.lock().unwrap().iter().copied().filter(|&t| t >= from).collect()
}

#[test]
fn a_hung_worker_never_stalls_the_others_and_one_that_restarts_comes_back() {
    let d = dir("pool-live");
    let mut up: Vec<Server> = (1..=3).map(|k| Server::bytes(&d.join(&format!("w-{k}.sock")), worker_payload(Some(&format!("w{k}")), &[&format!("s{k}")]))).collect();
    let _hung = Server::hung(&d.join("w-4.sock"), Duration::from_secs(30));
    let mut t = Live::start(BIN, &["--socket", d.path().to_str().unwrap(), "--refresh-rate", "4"], &[], 140, 30);
    // Blocked once past its threshold (1 s before its first answer), with
    // for how long and why, while the rest are drawn.
    let t0 = Instant::now();
    let screen = t.wait_for("the hung worker marked blocked", Duration::from_secs(4), |s| s.iter().any(|l| l.starts_with("w-4") && l.contains("BLOCKED")));
    assert!(t0.elapsed() < Duration::from_millis(2500), "{:?}", t0.elapsed());
    assert!(screen.iter().any(|l| l.starts_with("w-4") && l.contains("loop blocked") && l.contains("main thread")), "{}", screen.join("\n"));
    // The three others are asked at the refresh rate (4 Hz), while the hung
    // one is not asked again while its answer is waited for: once each of
    // the others has had nine connections, their times say the rate (eight
    // intervals, 2 s at 4 Hz).
    let from = Instant::now();
    for s in &up {
        wait_until(&format!("nine connections to {}", s.path.display()), Duration::from_secs(6), || since(s, from).len() >= 9);
    }
    let mut end = from;
    for s in &up {
        let times = &since(s, from)[..9];
        let span = times[8] - times[0];
        let gap = times.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!((Duration::from_millis(1600)..=Duration::from_millis(2400)).contains(&span), "{}: 8 intervals in {span:?} at 4 Hz", s.path.display());
        assert!(gap < Duration::from_secs(1), "{}: {gap:?} between two connections at 4 Hz", s.path.display());
        end = end.max(times[8]);
    }
    let hung = since(&_hung, from).iter().filter(|&&t| t <= end).count();
    assert_eq!(hung, 0, "the blocked worker was asked again in {:?}", end - from);
    // One goes away (its socket too): marked gone, its rows dimmed and
    // marked; started again, it is up again.
    let gone = up.remove(0);
    drop(gone);
    t.wait_for("w1 gone", Duration::from_secs(5), |s| s.iter().any(|l| l.starts_with("w1 ") && l.contains("gone")));
    t.wait_text("w1 (gone)");
    up.insert(0, Server::bytes(&d.join("w-1.sock"), worker_payload(Some("w1"), &["s1"])));
    t.wait_for("w1 back", Duration::from_secs(5), |s| s.iter().any(|l| l.starts_with("w1 ") && l.contains(" up ")));
    // A worker that starts later appears.
    let _late = Server::bytes(&d.join("w-5.sock"), worker_payload(Some("w5"), &["s5"]));
    t.wait_for("w5 found", Duration::from_secs(5), |s| s.iter().any(|l| l.starts_with("w5 ") && l.contains(" up ")));
    // The worker filter (w, in label order) and the per-worker view (W).
    t.send(b"w");
    t.wait_text("worker w-4");
    t.send(b"w");
    t.wait_text("worker w1");
    t.send(b"wwwwW");
    let s = t.wait_for("the per-worker view", Duration::from_secs(5), |s| s.iter().any(|l| l.starts_with("worker") && l.contains("sessions") && l.contains("slow")));
    // A group row per worker with sessions: name, sessions, slow, memory, CPU.
    for w in ["w1", "w2", "w3", "w5"] {
        assert!(s.iter().any(|l| l.split_whitespace().collect::<Vec<_>>() == [w, "1", "0", "10.0", "1.0"]), "{w}: {}", s.join("\n"));
    }
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

/// A directory that holds one socket now is still several workers (its
/// count can change): the worker column, the JSON's `workers`; one
/// `--socket FILE` keeps the one worker's shape.
#[test]
fn a_directory_of_one_socket_is_several_workers_in_every_format() {
    let d = dir("pool-one");
    let s = Server::bytes(&d.join("w-1.sock"), worker_payload(Some("alpha"), &["s1"]));
    let dir_arg = d.path().to_str().unwrap();
    let table = run(&["--once", "--socket", dir_arg]);
    assert_eq!((table.status.code(), text(&table.stderr)), (Some(0), String::new()));
    assert!(text(&table.stdout).starts_with("worker "), "{}", text(&table.stdout));
    let tsv = run(&["--once", "--format", "tsv", "--socket", dir_arg]);
    assert!(text(&tsv.stdout).lines().nth(1).is_some_and(|l| l.starts_with("alpha\ts1\t")), "{}", text(&tsv.stdout));
    let json = run(&["--once", "--format", "json", "--socket", dir_arg]);
    let j = text(&json.stdout);
    assert!(j.starts_with("{\"workers\": [{\"label\": \"alpha\""), "{j}");
    let file = run(&["--once", "--format", "json", "--socket", s.path.to_str().unwrap()]);
    let f = text(&file.stdout);
    assert!(!f.contains("\"workers\"") && f.contains("\"sessions\""), "{f}");
}

/// `n` listeners in `dir` served by one thread (a Server each would be
/// `n` threads): each connection gets `payload`. Stops when dropped.
struct Many {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Many {
    fn serve(dir: &std::path::Path, n: usize, payload: Vec<u8>) -> Many {
        use std::io::Write;
        let listeners: Vec<_> = (0..n)
            .map(|i| {
                let l = std::os::unix::net::UnixListener::bind(dir.join(format!("w-{i:03}.sock"))).unwrap();
                l.set_nonblocking(true).unwrap();
                l
            })
            .collect();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                for l in &listeners {
                    while let Ok((mut c, _)) = l.accept() {
                        c.set_nonblocking(false).unwrap();
                        let _ = c.write_all(&payload);
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Many { stop }
    }
}

impl Drop for Many {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// 300 sockets, all answering: 256 are read, the rest are said to be left
/// out on stderr, and the status is 0 (leaving sockets out is not a
/// failure of those that were read).
#[test]
fn sockets_past_the_cap_are_said_left_out_and_fail_nothing() {
    let d = dir("pool-300");
    let _m = Many::serve(d.path(), 300, worker_payload(None, &["s1"]));
    let out = run_with(&["--once", "--format", "tsv", "--no-header", "--socket", d.path().to_str().unwrap()], &[], Duration::from_secs(30));
    assert_eq!(text(&out.stderr), "openrtc-top: 44 more sockets left out: at most 256 are read at once\n");
    assert_eq!(out.status.code(), Some(0));
    let workers: Vec<String> = text(&out.stdout).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    let want: Vec<String> = (0..256).map(|i| format!("w-{i:03}")).collect();
    assert_eq!(workers, want);
}

/// Under churn: 256 sockets that went away are kept a while to be shown
/// as gone, but a socket that appears meanwhile takes a gone one's place
/// and is read at once.
#[test]
fn gone_sockets_never_crowd_out_a_live_one() {
    let d = dir("pool-churn");
    let m = Many::serve(d.path(), 256, worker_payload(None, &["s1"]));
    let mut t = Live::start(BIN, &["--socket", d.path().to_str().unwrap(), "--refresh-rate", "0.5"], &[], 160, 30);
    t.wait_for("256 workers up", Duration::from_secs(20), |s| s.iter().any(|l| l.starts_with("total  256/256 up")));
    drop(m);
    for i in 0..256 {
        std::fs::remove_file(d.join(&format!("w-{i:03}.sock"))).unwrap();
    }
    t.wait_for("them gone", Duration::from_secs(20), |s| s.iter().any(|l| l.starts_with("total  0/256 up")));
    let _new = Server::bytes(&d.join("zz-new.sock"), worker_payload(None, &["fresh-session"]));
    t.wait_for("the new worker's rows", Duration::from_secs(20), |s| s.iter().any(|l| l.contains("fresh-session")));
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(10)).code(), Some(0));
}

/// A worker's label is fixed at its first answer and kept while its socket
/// is known: a worker blocked at first is `w-2` (its socket's stem) until
/// it answers as `demo-2`, and stays `demo-2` when it stops answering; one
/// that answered first as `demo-1` stays `demo-1` when it fails.
#[test]
fn a_label_is_fixed_at_the_first_answer_and_kept() {
    use std::io::{BufRead, BufReader};
    use std::sync::atomic::{AtomicU8, Ordering};
    let d = dir("labels");
    let (_a, cell) = Server::swappable(&d.join("w-1.sock"), worker_payload(Some("demo-1"), &["s1"]));
    // w-2: 0 hangs, 1 answers as demo-2, 2 sends what is not a snapshot.
    let mode = std::sync::Arc::new(AtomicU8::new(0));
    let m = mode.clone();
    let _b = Server::start(&d.join("w-2.sock"), std::sync::Arc::new(move |mut s: std::os::unix::net::UnixStream| {
        use std::io::Write;
        match m.load(Ordering::Relaxed) {
            0 => std::thread::sleep(Duration::from_secs(3)),
            1 => drop(s.write_all(&worker_payload(Some("demo-2"), &["s2"]))),
            _ => drop(s.write_all(b"not json\n")),
        }
    }));
    let mut child = std::process::Command::new(BIN)
        .args(["--socket", d.path().to_str().unwrap(), "--format", "json", "-n", "40", "--refresh-rate", "4", "--timeout", "0.5"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap);
    let labels = |l: &str| -> Vec<(String, bool)> {
        l.split("{\"label\": \"").skip(1).map(|w| (w.split('"').next().unwrap().to_string(), w.contains("\"state\": \"answered\""))).collect()
    };
    let s = |l: &str, up: bool| (l.to_string(), up);
    let first = lines.next().unwrap();
    assert_eq!(labels(&first), [s("demo-1", true), s("w-2", false)], "{first}");
    // (One worker answers in every round: a round nobody answers ends a batch.)
    mode.store(1, Ordering::Relaxed);
    let mut want = |state: [(String, bool); 2]| {
        let l = lines.find(|l| labels(l) == state);
        assert!(l.is_some(), "no round with {state:?}");
    };
    want([s("demo-1", true), s("demo-2", true)]);
    mode.store(2, Ordering::Relaxed);
    want([s("demo-1", true), s("demo-2", false)]);
    *cell.lock().unwrap() = b"not json\n".to_vec();
    mode.store(1, Ordering::Relaxed);
    want([s("demo-1", false), s("demo-2", true)]);
    // A third worker of w-1's name appears: w-1 keeps its label (it was
    // renamed demo-1@w-1 then, and openrtc_up{worker="demo-1"} went away).
    let _c = Server::bytes(&d.join("w-3.sock"), worker_payload(Some("demo-1"), &["s3"]));
    let l = lines.find(|l| labels(l).len() == 3 && labels(l)[1].1).expect("w-3 answers");
    assert_eq!(labels(&l), [s("demo-1", false), s("demo-1@w-3", true), s("demo-2", true)], "{l}");
    let _ = child.kill();
    let _ = child.wait_with_output().unwrap();
}

/// `--worker` takes a label or a socket's stem (README's own example,
/// `--socket a.sock --socket b.sock --worker b`, where the labels are
/// `demo-worker@a` and `demo-worker@b`), whether that worker answers or
/// not; one that matches no worker is an error listing the labels.
#[test]
fn worker_matches_a_label_or_a_stem_and_none_is_an_error() {
    let d = dir("worker-pick");
    let _a = Server::bytes(&d.join("a.sock"), worker_payload(Some("demo-worker"), &["s1"]));
    let _b = Server::bytes(&d.join("b.sock"), worker_payload(Some("demo-worker"), &["s2"]));
    let stale = d.join("c.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let (a, b, c) = (d.join("a.sock"), d.join("b.sock"), stale);
    let socks = ["--socket", a.to_str().unwrap(), "--socket", b.to_str().unwrap(), "--socket", c.to_str().unwrap()];
    let pick = |w: &str| {
        let mut args = vec!["--once", "--format", "tsv", "--no-header", "--worker", w];
        args.extend(socks);
        run(&args)
    };
    for w in ["b", "demo-worker@b"] {
        let out = pick(w);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).lines().map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>(), ["demo-worker@b s2"]);
    }
    // Not answering, and still a worker to pick: no rows, no error.
    let out = pick("c");
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(3), String::new()));
    let out = pick("nope");
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(2), String::new()));
    let err = text(&out.stderr);
    assert!(err.ends_with("openrtc-top: --worker 'nope' matches no worker (a label, or a socket's name without .sock): the workers are 'c', 'demo-worker@a', 'demo-worker@b'\n"), "{err}");
}

/// In the live view, a `--worker` that matches none is said on screen.
#[test]
fn the_live_view_says_a_worker_matches_none() {
    let d = dir("worker-pick-live");
    let a = Server::bytes(&d.join("a.sock"), worker_payload(Some("alpha"), &["s1"]));
    let mut t = Live::start(BIN, &["--socket", a.path.to_str().unwrap(), "--worker", "nope"], &[], 200, 20);
    t.wait_for("the message", Duration::from_secs(20), |s| s.iter().any(|l| l.contains("--worker 'nope' matches no worker") && l.contains("'alpha'")));
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(10)).code(), Some(0));
}
