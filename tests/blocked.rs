//! A worker whose loop is blocked, in the live view through a real pty:
//! the others refresh, keys are answered and `q` quits during a long block;
//! a worker that dies mid-block, a pid reused by another process, py-spy
//! missing. (A real openrtc worker blocking, py-spy reading it, and py-spy
//! not permitted as another user are in `compat`.)

use std::time::{Duration, Instant};

use crate::util::pty::Live;
use crate::util::*;

fn dir(tag: &str) -> TempDir {
    let d = TempDir::new(tag);
    std::fs::set_permissions(d.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    d
}

/// A demo worker process (its own pid) whose loop blocks by sleeping
/// `after` seconds in, for `lasts` seconds.
fn blocking_demo(sock: &std::path::Path, after: &str, lasts: &str) -> std::process::Child {
    let child = std::process::Command::new(DEMO)
        .args(["--socket", sock.to_str().unwrap(), "--sessions", "3", "--block", "sleep", "--block-after", after, "--block-for", lasts, "--exit-after", "60"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the demo worker's socket", Duration::from_secs(5), || sock.exists());
    child
}

fn since(s: &Server, from: Instant) -> Vec<Instant> {
    s.times.lock().unwrap().iter().copied().filter(|&t| t >= from).collect()
}

#[test]
fn during_a_ten_second_block_the_others_refresh_keys_work_and_q_quits() {
    let d = dir("block-live");
    let ok: Vec<Server> = (1..=2).map(|k| Server::bytes(&d.join(&format!("ok-{k}.sock")), healthy(k))).collect();
    let mut demo = blocking_demo(&d.join("slow.sock"), "1", "10");
    let mut t = Live::start(BIN, &["--socket", d.path().to_str().unwrap(), "--refresh-rate", "4"], &[], 150, 30);
    let line = |s: &[String]| s.iter().find(|l| l.starts_with("demo-worker ")).cloned().unwrap_or_default();
    let s = t.wait_for("the demo worker blocked", Duration::from_secs(6), |s| line(s).contains("BLOCKED"));
    let l = line(&s);
    assert!(l.contains(&format!(" {}  loop blocked ", demo.id())) && l.contains("main thread sleeping, as in time.sleep ("), "{l}");
    // The others are asked at the refresh rate all the while (nine
    // connections: eight intervals, 2 s at 4 Hz).
    let from = Instant::now();
    for s in &ok {
        wait_until("nine more connections", Duration::from_secs(5), || since(s, from).len() >= 9);
        let times = since(s, from);
        let span = times[8] - times[0];
        assert!((Duration::from_millis(1600)..=Duration::from_millis(2400)).contains(&span), "8 intervals in {span:?} at 4 Hz");
    }
    assert!(t.screen().iter().any(|l| l.starts_with("ok1 ") && l.contains(" up ")));
    // It ticks, and keys are answered at once: the events pane, the sort.
    t.wait_for("the block's length ticking", Duration::from_secs(3), |s| line(s).contains("loop blocked 4.") || line(s).contains("loop blocked 5."));
    t.send(b"e");
    let s = t.wait_for("the events pane", Duration::from_secs(1), |s| s.iter().any(|l| l.starts_with("events, newest first")));
    assert!(s.iter().any(|l| l.contains("demo-worker  blocked  loop blocked for ") && l.ends_with("still blocked")), "{}", s.join("\n"));
    t.send(b"es");
    t.wait_for("the sort", Duration::from_secs(1), |s| s[0].contains("sort cpu_pct"));
    let q = Instant::now();
    t.send(b"q");
    assert!(t.wait_exit(Duration::from_secs(2)).success());
    assert!(q.elapsed() < Duration::from_secs(1), "q took {:?} during a block", q.elapsed());
    let _ = demo.kill();
    let _ = demo.wait();
}

/// A healthy worker's payload: one session.
fn healthy(k: usize) -> Vec<u8> {
    let rows = vec![payload::session(&format!("s{k}"), "support", None, 10.0, 1.0, "active")];
    payload::encode(Some(payload::worker(&format!("ok{k}"), 1, 8)), rows)
}

#[test]
fn the_end_of_a_block_is_an_event_with_the_session_slow_after_it() {
    let d = dir("block-end");
    let sock = d.join("w.sock");
    let mut demo = blocking_demo(&sock, "1", "2");
    let mut t = Live::start(BIN, &["--socket", sock.to_str().unwrap(), "--refresh-rate", "4"], &[], 220, 30);
    let s = t.wait_for("blocked", Duration::from_secs(5), |s| s[0].contains("BLOCKED"));
    assert!(s[1].starts_with(&format!("worker at {} (pid {}): loop blocked ", sock.display(), demo.id())), "{}", s[1]);
    t.wait_for("answering again", Duration::from_secs(5), |s| !s[0].contains("BLOCKED"));
    t.wait_for("new events in the footer", Duration::from_secs(2), |s| s.last().is_some_and(|l| l.contains("new event")));
    t.send(b"e");
    let s = t.wait_for("the block and the session slow after it", Duration::from_secs(3), |s| {
        s.iter().any(|l| l.contains("  blocked  loop blocked ") && l.contains("; slow right after: AJ_"))
    });
    let block = s.iter().find(|l| l.contains("  blocked  ")).unwrap();
    let culprit = block.split("slow right after: ").nth(1).unwrap().split([',', ' ', ';']).next().unwrap();
    assert!(s.iter().any(|l| l.contains(&format!("  slow     session {culprit} slow "))), "{}", s.join("\n"));
    t.send(b"q");
    assert!(t.wait_exit(Duration::from_secs(2)).success());
    let _ = demo.kill();
    let _ = demo.wait();
}

#[test]
fn a_worker_that_dies_mid_block_is_said_to_be_gone() {
    let d = dir("block-dies");
    let sock = d.join("w.sock");
    let mut demo = blocking_demo(&sock, "1", "30");
    let pid = demo.id();
    let mut t = Live::start(BIN, &["--socket", sock.to_str().unwrap(), "--refresh-rate", "4"], &[], 150, 30);
    t.wait_for("blocked", Duration::from_secs(5), |s| s[0].contains("BLOCKED"));
    demo.kill().unwrap();
    demo.wait().unwrap();
    // Its socket stays (killed, it could not remove it): nothing listens.
    let s = t.wait_for("its process gone", Duration::from_secs(3), |s| s[1].contains(&format!("its process {pid} is gone")) || s[1].contains("nothing is listening"));
    assert!(s[0].contains("STALE") && !s[0].contains("BLOCKED"), "{}", s[0]);
    t.send(b"e");
    t.wait_for("the block ended by it", Duration::from_secs(2), |s| s.iter().any(|l| l.contains("  blocked  loop blocked ") && l.contains("; ended: ")));
    t.send(b"q");
    assert!(t.wait_exit(Duration::from_secs(2)).success());
}

#[test]
fn y_without_py_spy_says_so_and_the_demo_is_no_python() {
    let d = dir("block-nospy");
    let sock = d.join("w.sock");
    let mut py = python_worker(&sock, 1.0, 20.0);
    // PATH without py-spy (python3 itself is not needed past this point).
    let mut t = Live::start(BIN, &["--socket", sock.to_str().unwrap(), "--refresh-rate", "4"], &[("PATH", "/nonexistent")], 150, 30);
    t.wait_for("blocked", Duration::from_secs(5), |s| s[0].contains("BLOCKED"));
    t.send(b"y");
    let s = t.wait_for("why there is no stack", Duration::from_secs(2), |s| s.iter().any(|l| l.contains("py-spy is not installed (pip install py-spy), or give --py-spy PATH")));
    assert!(s.iter().any(|l| l.starts_with(&format!("stack of py (pid {})", py.id()))), "{}", s.join("\n"));
    t.send(b"q");
    assert!(t.wait_exit(Duration::from_secs(2)).success());
    let _ = py.kill();
    let _ = py.wait();
    // --stacks with a py-spy that is not there: one line of reason.
    let demo_sock = d.join("demo.sock");
    let mut demo = blocking_demo(&demo_sock, "0.5", "20");
    // (Answered until the block begins, half a second in.)
    let start = Instant::now();
    let out = loop {
        let out = run(&["--once", "--socket", demo_sock.to_str().unwrap(), "--stacks", "--py-spy", "/nonexistent/py-spy"]);
        if out.status.code() != Some(0) || start.elapsed() > Duration::from_secs(5) {
            break out;
        }
    };
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.ends_with(&format!("; no stack: process {} (openrtc-demo-wo) is not a Python process: py-spy reads only Python stacks\n", demo.id())), "{err}");
    let _ = demo.kill();
    let _ = demo.wait();
}

/// As root: the worker's process exits, leaving its listening socket to a
/// child that never answers, and its pid goes to a new process (set with
/// ns_last_pid). That process is never explained as the worker.
mod as_root {
    use super::*;

    #[test]
    #[ignore = "needs root to choose the next pid (make test runs it as root)"]
    fn a_reused_pid_is_never_explained_as_the_worker() {
        let d = dir("block-reused");
        let sock = d.join("w.sock");
        // Binds and listens, forks a child that keeps the socket and
        // sleeps, and exits: SO_PEERCRED still names the parent.
        let script = "import os, socket, sys, time\ns = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(8)\nchild = os.fork()\nif child == 0:\n    os.close(1)\n    os.close(2)\n    time.sleep(60)\n    os._exit(0)\nprint(os.getpid(), child, flush=True)\n";
        let out = std::process::Command::new("python3").args(["-c", script, sock.to_str().unwrap()]).output().unwrap();
        let pids: Vec<i32> = text(&out.stdout).split_whitespace().map(|p| p.parse().unwrap()).collect();
        let (gone, holder) = (pids[0], pids[1]);
        // Reused once the socket is older than the margin a process start
        // is allowed (half a second: clock ticks, clock steps).
        let made = std::fs::metadata(&sock).unwrap().modified().unwrap();
        wait_until("the socket a second old", Duration::from_secs(3), || made.elapsed().is_ok_and(|a| a > Duration::from_secs(1)));
        // The next pid handed out is the one that went.
        let mut reuser = None;
        for _ in 0..50 {
            std::fs::write("/proc/sys/kernel/ns_last_pid", (gone - 1).to_string()).unwrap();
            let c = std::process::Command::new("sleep").arg("60").spawn().unwrap();
            if c.id() as i32 == gone {
                reuser = Some(c);
                break;
            }
            let mut c = c;
            let _ = c.kill();
            let _ = c.wait();
        }
        let mut reuser = reuser.expect("pid reused");
        let out = run(&["--once", "--socket", sock.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(err.contains(&format!("(pid {gone}) is blocked")) && err.contains(&format!("pid {gone} is another process now (it started after the socket was made): the worker's process is gone")), "{err}");
        assert!(!err.contains("main thread"), "the other process explained as the worker: {err}");
        let _ = reuser.kill();
        let _ = reuser.wait();
        // SAFETY: kill(2) on the child that holds the socket.
        unsafe { libc::kill(holder, libc::SIGKILL) };
    }
}

/// The seconds a banner says the loop has been blocked.
fn blocked_for(screen: &[String]) -> Option<f64> {
    let l = screen.iter().find(|l| l.starts_with("worker at "))?;
    l.split("loop blocked ").nth(1)?.split('s').next()?.parse().ok()
}

#[test]
fn time_stopped_by_ctrl_z_is_not_counted_as_blocked() {
    let d = dir("block-ctrlz");
    let sock = d.join("w.sock");
    let _hung = Server::hung(&sock, Duration::from_secs(60));
    let script = format!("'{BIN}' --socket '{}' --refresh-rate 4\necho \"[stopped $?]\"\nread -r _\nfg\necho \"[exit $?]\"\nsleep 5", sock.display());
    let mut t = Live::shell(&script, &[], 150, 24);
    let s = t.wait_for("blocked", Duration::from_secs(5), |s| blocked_for(s).is_some());
    let before = blocked_for(&s).unwrap();
    t.send(b"\x1a");
    t.wait_raw("[stopped 148]", Duration::from_secs(5));
    // The stimulus: three seconds stopped.
    std::thread::sleep(Duration::from_secs(3));
    t.send(b"\n"); // fg
    // The first frame after it ticked (the redraw repeats the last).
    let s = t.wait_for("ticking again", Duration::from_secs(5), |s| s[0].contains("BLOCKED") && blocked_for(s).is_some_and(|b| b != before));
    let after = blocked_for(&s).unwrap();
    assert!(after < before + 1.5, "blocked {before}s before the stop, {after}s after it: the 3 s stopped were counted");
    t.send(b"q");
    t.wait_raw("[exit 0]", Duration::from_secs(5));
}

#[test]
fn a_block_does_not_end_a_batch_its_rounds_mark_the_worker() {
    let d = dir("block-batch");
    let sock = d.join("w.sock");
    let mut demo = blocking_demo(&sock, "0.8", "20");
    let out = run_with(&["--socket", sock.to_str().unwrap(), "-n", "4", "--refresh-rate", "2", "--format", "json", "--timeout", "1"], &[], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4, "every round printed: {lines:?}");
    let states: Vec<&str> = lines.iter().map(|l| if l.contains("\"state\": \"blocked\", \"blocked_s\": ") { "blocked" } else if l.contains("\"state\": \"answered\"") { "answered" } else { "?" }).collect();
    assert_eq!(states[0], "answered");
    assert_eq!(states[3], "blocked", "{states:?}");
    // Its rows stay (the last it sent), and each blocked round says so on stderr.
    assert!(lines[3].contains("\"sessions\": [{\"session_id\": \"AJ_"), "{}", lines[3]);
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), states.iter().filter(|&&s| s == "blocked").count(), "{err}");
    assert!(err.lines().all(|l| l.starts_with(&format!("openrtc-top: the worker at {} (pid {}) is blocked", sock.display(), demo.id()))), "{err}");
    let _ = demo.kill();
    let _ = demo.wait();
}
