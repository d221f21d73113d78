//! The live view through a real pseudo-terminal: frames, keys, resize,
//! worker loss and recovery, terminal restore on every exit path.


use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::util::pty::Live;
use crate::util::*;

const SECS: Duration = Duration::from_secs(10);

fn live(sock: &std::path::Path, extra: &[&str], w: u16, h: u16) -> Live {
    let mut args = vec!["--socket", sock.to_str().unwrap()];
    args.extend_from_slice(extra);
    Live::start(BIN, &args, &[], w, h)
}

fn row_ids(screen: &[String]) -> Vec<String> {
    screen.iter().filter(|l| l.starts_with("AJ_") || l.starts_with("job-") || l.starts_with("s0")).map(|l| l.split_whitespace().next().unwrap().to_string()).collect()
}

/// Quit with `q` and check every terminal property came back.
fn quit_and_check(mut t: Live, before: &str) {
    t.send(b"q");
    let status = t.wait_exit(SECS);
    assert_eq!(status.code(), Some(0), "q exits 0");
    assert_restored(&t, before);
}

fn assert_restored(t: &Live, before: &str) {
    assert_eq!(t.pty.stty(), before, "terminal modes (stty -g) restored");
    let vt = t.vt.lock().unwrap();
    assert!(!vt.in_alt, "back on the main screen");
    assert!(vt.cursor_visible, "cursor shown");
}

#[test]
fn first_frame_shows_the_served_rows() {
    let d = TempDir::new("lv-first");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let t = live(&s.path, &[], 100, 30);
    let before = t.before.clone();
    let screen = t.wait_text("rows 1-12 of 12");
    // openrtc-top, the clock (HH:MM:SS), then the view.
    let (name, rest) = screen[0].split_at(12);
    assert_eq!((name, rest.as_bytes().get(2), rest.as_bytes().get(5)), ("openrtc-top ", Some(&b':'), Some(&b':')), "{}", screen[0]);
    assert!(rest[8..].starts_with("  sort mem_mb↓  status all  harness-worker  up 0h 00m  sessions 12/24  agent all"), "{}", screen[0]);
    assert!(screen.iter().any(|l| l.starts_with("CPU") && l.contains("29.1%")));
    let ids = row_ids(&screen);
    assert_eq!(ids.len(), 12);
    assert_eq!(ids[0], "AJ_0000_blocker");
    assert!(t.vt.lock().unwrap().in_alt, "draws on the alternate screen");
    assert!(!t.vt.lock().unwrap().cursor_visible, "cursor hidden while live");
    // stty -g reads the modes while we are live: raw.
    assert_ne!(t.pty.stty(), before);
}

#[test]
fn s_and_f_change_order_and_filter() {
    let d = TempDir::new("lv-keys");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let mut t = live(&s.path, &[], 100, 20);
    let before = t.before.clone();
    let screen = t.wait_text("rows 1-3 of 3");
    // Equal shares of memory (182.5 each): the CPU share breaks the tie.
    assert_eq!(row_ids(&screen), ["job-c1d550", "job-93e2aa", "job-7fa01b"]);
    t.send(b"s");
    let screen = t.wait_text("sort cpu_pct↓");
    assert_eq!(row_ids(&screen), ["job-c1d550", "job-93e2aa", "job-7fa01b"]);
    t.send(b"s");
    let screen = t.wait_text("sort duration_s↓");
    assert_eq!(row_ids(&screen), ["job-93e2aa", "job-c1d550", "job-7fa01b"]);
    t.send(b"ff");
    let screen = t.wait_text("status slow");
    assert_eq!(row_ids(&screen), ["job-c1d550"]);
    t.wait_text("rows 1-1 of 1");
    t.send(b"ff");
    t.wait_text("status errored");
    t.wait_text("no sessions match the filters");
    quit_and_check(t, &before);
}

#[test]
fn scrolling_keys_page_through_a_long_table() {
    let d = TempDir::new("lv-scroll");
    let s = Server::bytes(&d.join("top.sock"), payload::big(100));
    let mut t = live(&s.path, &["--sort", "session"], 80, 12);
    let screen = t.wait_text(" of 100");
    let page = row_ids(&screen).len();
    assert!(page >= 5, "{screen:#?}");
    assert!(screen.last().unwrap().ends_with(&format!("rows 1-{page} of 100")));
    t.send(b"\x1b[6~"); // PgDn
    t.wait_text(&format!("rows {}-{} of 100", page + 1, 2 * page));
    t.send(b"\x1b[F"); // End
    let screen = t.wait_text(&format!("rows {}-100 of 100", 101 - page));
    assert_eq!(row_ids(&screen).last().unwrap(), "AJ_000099");
    t.send(b"\x1b[5~"); // PgUp
    t.wait_text(&format!("rows {}-{} of 100", 101 - 2 * page, 100 - page));
    t.send(b"\x1b[H"); // Home
    t.wait_text(&format!("rows 1-{page} of 100"));
    for _ in 0..page {
        t.send(b"\x1b[B"); // Down past the last row on screen scrolls by one
    }
    let screen = t.wait_text(&format!("rows 2-{} of 100", page + 1));
    assert_eq!(row_ids(&screen)[0], "AJ_000001");
    t.send(b"\x1b[A");
    t.wait_text(&format!("rows 2-{} of 100", page + 1));
}

#[test]
fn a_resize_re_lays_out_within_a_tick() {
    let d = TempDir::new("lv-resize");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = live(&s.path, &["--refresh-rate", "0.5"], 120, 30);
    let screen = t.wait_text("rows 1-12 of 12");
    assert!(screen.iter().any(|l| l.contains("peak") && l.contains("pin")));
    t.resize(40, 10);
    // Re-laid out well inside one 2 s refresh period: SIGWINCH wakes the loop.
    let screen = t.wait_for("the 40x10 layout", Duration::from_millis(1500), |s| {
        s.len() == 10 && s[9].contains("rows 1-") && s.iter().all(|l| l.chars().map(crate::util::pty::term_width).sum::<usize>() <= 40) && s.iter().any(|l| l.starts_with("session") && !l.contains("peak"))
    });
    assert!(row_ids(&screen).len() >= 4, "{screen:#?}");
    assert!(screen.iter().any(|l| l.starts_with("AJ_0000_")));
    t.resize(90, 24);
    t.wait_for("the 90x24 layout", Duration::from_millis(1500), |s| s.len() == 24 && s[23].contains("rows 1-12 of 12"));
}

#[test]
fn losing_the_worker_shows_a_banner_and_recovers() {
    let d = TempDir::new("lv-banner");
    let path = d.join("top.sock");
    let s = Server::bytes(&path, fixture("snapshot-v03-list.jsonl"));
    let mut t = live(&path, &["--refresh-rate", "5"], 160, 20);
    t.wait_text("rows 1-3 of 3");
    drop(s);
    let banner = format!("no running openrtc pool at {}: retrying", path.display());
    let screen = t.wait_text(&banner);
    assert!(screen[0].contains("STALE"));
    // It says since when: the age of the last snapshot, counting up.
    let aged = t.wait_for("STALE for a second or more", Duration::from_secs(10), |s| {
        s[0].split("STALE ").nth(1).and_then(|r| r.split('s').next()).and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n >= 1)
    });
    assert!(!aged[0].contains("WAITING"), "{}", aged[0]);
    assert_eq!(row_ids(&screen).len(), 3, "the last table stays on screen");
    // A worker that closes at once: the view keeps connecting (three more
    // times here) and stays up, showing that fault instead.
    let closing = Server::start(&path, std::sync::Arc::new(drop));
    closing.wait_count(3, SECS);
    assert!(t.child.try_wait().unwrap().is_none(), "never exits on its own");
    t.wait_text("closed the connection without sending a snapshot: retrying");
    drop(closing);
    let _s = Server::bytes(&path, fixture("snapshot-v020.jsonl"));
    let screen = t.wait_text("harness-worker");
    assert!(!screen.iter().any(|l| l.contains("retrying")), "{screen:#?}");
    assert!(!screen[0].contains("STALE"));
}

/// top's clock: the local time of the last snapshot, in the title, kept
/// at 80 columns. TZ five hours east of UTC (POSIX spells it `-5`); the
/// expected time is computed here from the UTC clock.
#[test]
fn the_title_has_the_local_time_of_the_last_snapshot() {
    let d = TempDir::new("lv-clock");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let hm = |at: std::time::SystemTime| {
        let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 5 * 3600;
        format!("{:02}:{:02}:", secs % 86_400 / 3600, secs % 3600 / 60)
    };
    let before = hm(std::time::SystemTime::now());
    let mut t = crate::util::pty::Live::start(BIN, &["--socket", s.path.to_str().unwrap()], &[("TZ", "XYZ-5")], 80, 24);
    let screen = t.wait_text("rows 1-3 of 3");
    let after = hm(std::time::SystemTime::now() + Duration::from_secs(2));
    let clock = screen[0].strip_prefix("openrtc-top ").unwrap_or("");
    assert!(clock.starts_with(&before) || clock.starts_with(&after), "{} (want {before} or {after})", screen[0]);
    t.send(b"q");
    assert_eq!(t.wait_exit(SECS).code(), Some(0));
}

#[test]
fn starting_without_a_worker_waits_for_one() {
    let d = TempDir::new("lv-wait");
    let path = d.join("top.sock");
    let mut t = live(&path, &["--refresh-rate", "5"], 100, 20);
    t.wait_text("no running openrtc pool at");
    // Nothing was ever fresh: not STALE, but waiting, with the way on.
    let screen = t.wait_text("waiting for a worker: start a coroutine-mode worker ('openrtc dev ./agents'");
    assert!(screen[0].contains("WAITING") && !screen[0].contains("STALE"), "{}", screen[0]);
    let _s = Server::bytes(&path, fixture("snapshot-v03-list.jsonl"));
    t.wait_text("rows 1-3 of 3");
    t.send(b"q");
    assert_eq!(t.wait_exit(SECS).code(), Some(0));
}

#[test]
fn q_restores_the_terminal() {
    let d = TempDir::new("lv-q");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let t = live(&s.path, &[], 80, 24);
    let before = t.before.clone();
    t.wait_text("rows 1-");
    quit_and_check(t, &before);
}

#[test]
fn ctrl_c_quits_with_status_0() {
    let d = TempDir::new("lv-ctrlc");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = live(&s.path, &[], 80, 24);
    let before = t.before.clone();
    t.wait_text("rows 1-");
    t.send(b"\x03");
    assert_eq!(t.wait_exit(SECS).code(), Some(0));
    assert_restored(&t, &before);
}

fn signal_restores(sig: i32) {
    let d = TempDir::new("lv-sig");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = live(&s.path, &[], 80, 24);
    let before = t.before.clone();
    t.wait_text("rows 1-");
    t.signal(sig);
    let status = t.wait_exit(SECS);
    assert_eq!(status.signal(), Some(sig), "ends by the signal it got: {status:?}");
    assert_restored(&t, &before);
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores(libc::SIGTERM);
}

#[test]
fn sighup_restores_the_terminal() {
    signal_restores(libc::SIGHUP);
}

#[test]
fn sigint_from_another_process_restores_the_terminal() {
    signal_restores(libc::SIGINT);
}

#[test]
fn a_signal_during_a_stalled_read_is_answered_at_once() {
    let d = TempDir::new("lv-stall");
    // Accepts and never writes: every fetch waits out the 2 s read limit.
    let s = Server::start(&d.join("top.sock"), std::sync::Arc::new(|st| {
        std::thread::sleep(Duration::from_secs(30));
        drop(st);
    }));
    let mut t = live(&s.path, &[], 80, 24);
    let before = t.before.clone();
    s.wait_count(1, SECS); // the fetch is now inside its 2 s read
    let start = std::time::Instant::now();
    t.signal(libc::SIGTERM);
    let status = t.wait_exit(SECS);
    assert!(start.elapsed() < Duration::from_millis(1500), "took {:?}", start.elapsed());
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_restored(&t, &before);
}

/// A panic while the terminal is taken as the live view takes it: the
/// hook restores the terminal first, so the message lands on the main
/// screen. (The program is `tests/panic_child.rs`, an example cargo builds
/// beside the tests: nothing in the release binary exists for this test.)
#[test]
fn a_panic_restores_first_then_prints_on_the_main_screen() {
    let exe = std::env::current_exe().unwrap();
    let child = exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples/panic-child");
    assert!(child.exists(), "{} is missing: plain `cargo test` (and `make test`) build it, or `cargo build --examples`", child.display());
    let mut t = Live::start(child.to_str().unwrap(), &[], &[], 80, 24);
    let before = t.before.clone();
    let status = t.wait_exit(SECS);
    assert_eq!(status.code(), Some(101));
    assert_restored(&t, &before);
    let main = t.screen().join("\n");
    assert!(main.contains("a panic while the live view holds the terminal"), "message on the main screen:\n{main}");
    assert!(!main.contains("a frame of the live view"), "the frame was on the alternate screen:\n{main}");
}

#[test]
fn the_live_process_has_exactly_one_thread() {
    let d = TempDir::new("lv-thread");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let t = live(&s.path, &["--refresh-rate", "10"], 80, 24);
    t.wait_text("rows 1-");
    // At each of five refreshes (a fetch, a draw, a wait for keys).
    for _ in 0..5 {
        assert_eq!(t.threads(), 1);
        s.wait_count(s.count() + 1, SECS);
    }
}

#[test]
fn connects_once_per_refresh_plus_once_per_r() {
    let d = TempDir::new("lv-rate");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    // 0.5 Hz: a scheduled fetch every 2 s, so the counts below are the keys'.
    let mut t = live(&s.path, &["--refresh-rate", "0.5"], 80, 24);
    t.wait_text("rows 1-3 of 3");
    let c0 = s.count();
    let t0 = std::time::Instant::now();
    // Keys that only redraw must not fetch: after eleven of them (their
    // effect on screen is the event), at most the scheduled fetches happened.
    t.send(b"ssssffff\x1b[B\x1b[A");
    t.wait_text("sort session");
    t.wait_text("status errored");
    let scheduled = (t0.elapsed().as_secs_f64() / 2.0).ceil() as usize;
    assert!(s.count() - c0 <= scheduled, "{} connects for redraw-only keys", s.count() - c0);
    // Each r connects once, at once.
    for _ in 0..3 {
        let before = s.count();
        let sent = std::time::Instant::now();
        t.send(b"r");
        s.wait_count(before + 1, SECS);
        assert!(sent.elapsed() < Duration::from_millis(1500), "r took {:?} to connect", sent.elapsed());
    }
    // And once per refresh, never more: over two periods, two or three.
    let (c1, t1) = (s.count(), std::time::Instant::now());
    s.wait_count(c1 + 2, SECS);
    assert!(t1.elapsed() > Duration::from_millis(1900), "two scheduled fetches in {:?} at 0.5 Hz", t1.elapsed());
}

#[test]
fn iterations_end_the_live_view_after_n_frames() {
    let d = TempDir::new("lv-n");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let mut t = live(&s.path, &["-n", "3", "--refresh-rate", "10"], 80, 24);
    let before_exit = t.wait_exit(SECS);
    assert_eq!(before_exit.code(), Some(0));
    assert_eq!(s.count(), 3);
}

#[test]
fn junk_input_is_ignored() {
    let d = TempDir::new("lv-junk");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = live(&s.path, &[], 80, 24);
    let before = t.before.clone();
    t.wait_text("rows 1-");
    t.send(b"\x1b[300~\x1b[1;~\x1b[<0;1M\x1b[M\xff\xfe\x1b[99;99;99;99z\x00\x1bO");
    t.send(b"\x1b[1");
    // The pause is the stimulus: a sequence cut short, its tail never coming.
    std::thread::sleep(Duration::from_millis(200));
    t.send(b"zxX\x1b[As");
    // The key after the junk is seen, so the view read past all of it.
    t.wait_text("sort cpu_pct");
    assert!(t.child.try_wait().unwrap().is_none(), "still running");
    quit_and_check(t, &before);
}

#[test]
fn without_a_terminal_it_prints_one_snapshot() {
    let d = TempDir::new("lv-pipe");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let out = run(&["--socket", s.path.to_str().unwrap()]);
    assert!(out.status.success());
    let t = text(&out.stdout);
    assert!(t.starts_with("session ") && !t.contains('\x1b'));
    assert_eq!(t.lines().count(), 4);
}

#[test]
fn a_c_locale_gets_an_ascii_screen() {
    let d = TempDir::new("lv-ascii");
    let rows = vec![payload::session("AJ_\u{db}\u{9b}\u{e9}", "m\u{fc}nchen", Some("\u{4e2d}"), 1.0, 0.0, "slow")];
    let s = Server::bytes(&d.join("top.sock"), payload::encode(Some(payload::worker("w", 1, 2)), rows));
    let mut t = Live::start(BIN, &["--socket", s.path.to_str().unwrap()], &[("LANG", "C")], 100, 24);
    let screen = t.wait_text("m?nchen");
    assert!(screen[0].contains("sort mem_mbv"), "{}", screen[0]);
    t.send(b"q");
    t.wait_exit(SECS);
    let raw = t.raw.lock().unwrap().clone();
    assert!(raw.is_ascii(), "a byte above 0x7f reached a C-locale terminal: {:?}", String::from_utf8_lossy(&raw));
}

// ---------------------------------------------------------------------------
// Job control, under a shell that does it (bash with `set -m`).

/// The view runs as the shell's foreground job; after it stops, the script
/// says so and waits for a line, then does `after` and waits for another.
fn job(sock: &std::path::Path, after: &str) -> Live {
    let script = format!(
        "'{BIN}' --socket '{}' --refresh-rate 5\necho \"[stopped $?]\"\nread -r _\n{after}\necho \"[after]\"\nread -r _\nfg\necho \"[exit $?]\"\nsleep 5",
        sock.display()
    );
    Live::shell(&script, &[], 100, 24)
}

/// The terminal as the shell left it before starting the view: cooked,
/// main screen, cursor shown.
fn assert_given_back(t: &Live, before: &str) {
    assert_eq!(t.pty.stty(), before, "cooked modes while stopped");
    let vt = t.vt.lock().unwrap();
    assert!(!vt.in_alt && vt.cursor_visible, "main screen, cursor shown");
}

#[test]
fn ctrl_z_suspends_with_the_terminal_given_back_and_fg_redraws() {
    let d = TempDir::new("lv-ctrlz");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = job(&s.path, "true");
    let before = t.before.clone();
    t.wait_text("rows 1-12 of 12");
    t.send(b"\x1a"); // Ctrl-Z, a byte in raw mode
    t.wait_raw("[stopped 148]", SECS); // 128 + SIGTSTP: the shell saw it stop
    assert_given_back(&t, &before);
    t.send(b"\n");
    t.wait_raw("[after]", SECS);
    t.send(b"\n"); // fg
    t.wait_for("the view redrawn", SECS, |s| s.last().is_some_and(|l| l.ends_with("rows 1-12 of 12")) && s[0].starts_with("openrtc-top"));
    assert!(t.vt.lock().unwrap().in_alt);
    assert_ne!(t.pty.stty(), before, "raw mode again");
    t.send(b"q");
    t.wait_raw("[exit 0]", SECS);
    assert_given_back(&t, &before);
}

#[test]
fn sigtstp_from_elsewhere_suspends_the_same_way() {
    let d = TempDir::new("lv-tstp");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = job(&s.path, "true");
    let before = t.before.clone();
    t.wait_text("rows 1-12 of 12");
    let pid = t.job_pid().expect("the view's pid");
    // SAFETY: kill(2) on the view, a child of our child.
    unsafe { libc::kill(pid, libc::SIGTSTP) };
    t.wait_raw("[stopped 148]", SECS);
    assert_given_back(&t, &before);
    t.send(b"\n\n");
    t.wait_for("the view redrawn", SECS, |s| s.last().is_some_and(|l| l.ends_with("rows 1-12 of 12")));
    // Typed `q` is a key again (raw mode), not an echoed letter.
    t.send(b"q");
    t.wait_raw("[exit 0]", SECS);
}

#[test]
fn continued_in_the_background_it_draws_nothing_until_fg() {
    let d = TempDir::new("lv-bg");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = job(&s.path, "kill -CONT %1");
    let before = t.before.clone();
    t.wait_text("rows 1-12 of 12");
    t.send(b"\x1a");
    t.wait_raw("[stopped 148]", SECS);
    t.send(b"\n"); // the script continues the job in the background
    t.wait_raw("[after]", SECS);
    let drawn = t.raw_len();
    // Running (it fetches at 5 Hz) ...
    let fetched = s.count();
    s.wait_count(fetched + 3, SECS);
    // ... but the screen is the shell's: not a byte from the view.
    assert_eq!(t.raw_len(), drawn, "drew over the shell: {:?}", String::from_utf8_lossy(&t.raw.lock().unwrap()[drawn..]));
    assert_given_back(&t, &before);
    t.send(b"\n"); // fg
    t.wait_for("the view redrawn", SECS, |s| s.last().is_some_and(|l| l.ends_with("rows 1-12 of 12")));
    t.send(b"q");
    t.wait_raw("[exit 0]", SECS);
}

#[test]
fn every_signal_that_ends_the_process_restores_the_terminal_first() {
    for sig in [libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGALRM, libc::SIGPIPE, libc::SIGXCPU, libc::SIGXFSZ, libc::SIGVTALRM, libc::SIGPROF, libc::SIGIO, libc::SIGPWR] {
        signal_restores(sig);
    }
}

#[test]
fn a_paste_is_search_text_while_searching_and_never_commands() {
    let d = TempDir::new("lv-paste");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let mut t = live(&s.path, &[], 100, 24);
    let before = t.before.clone();
    t.wait_text("rows 1-12 of 12");
    // In the table a paste is not a stream of commands: no quit, no sort.
    t.send(b"\x1b[200~sssq fff\x1b[201~");
    t.send(b"/");
    t.wait_for("the prompt", SECS, |s| s.last().is_some_and(|l| l.starts_with('/')));
    assert!(t.screen()[0].contains("sort mem_mb"), "{}", t.screen()[0]);
    // While searching it is text, in one piece (controls dropped).
    t.send(b"\x1b[200~AJ_00\x0701\x1b[201~");
    let screen = t.wait_text("search \"AJ_0001\"");
    assert_eq!(row_ids(&screen), ["AJ_0001_call"]);
    t.send(b"\r");
    quit_and_check(t, &before);
}

#[test]
fn a_terminal_without_cursor_addressing_gets_plain_snapshots() {
    let d = TempDir::new("lv-dumb");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    for term in ["dumb", ""] {
        let mut t = Live::start(BIN, &["--socket", s.path.to_str().unwrap(), "-n", "2", "--refresh-rate", "10"], &[("TERM", term)], 100, 24);
        assert_eq!(t.wait_exit(SECS).code(), Some(0), "TERM={term:?}");
        let raw = String::from_utf8(t.raw.lock().unwrap().clone()).unwrap();
        assert!(!raw.contains('\x1b'), "no escapes for TERM={term:?}: {raw:?}");
        assert!(raw.contains("printing a snapshot every refresh instead of the live view"), "{raw}");
        // Two stamped plain tables, as -n prints them.
        assert_eq!(raw.matches("session ").count(), 2, "{raw}");
        assert_eq!(raw.matches("AJ_0000_blocker").count(), 2);
    }
}
