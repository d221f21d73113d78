//! Recording (`--record`) and replaying (`--replay`): the recorder alone
//! and beside the live view, rotation, reading back a sample by time or a
//! range, every kind of bad line, and the time keys in a real terminal.

use std::time::{Duration, Instant};

use crate::util::pty::Live;
use crate::util::*;

/// A recorded line at `secs` past 03:00 with these sessions (slow ones
/// named `slow-*`), written as the recorder writes (`--format json`).
fn line(secs: u32, ids: &[&str]) -> String {
    let rows = ids.iter().map(|id| payload::session(id, "support", Some("acme"), 10.0, 1.0, if id.starts_with("slow") { "slow" } else { "active" })).collect();
    let json = String::from_utf8(payload::encode(Some(payload::worker("w", ids.len(), 8)), rows)).unwrap();
    format!("{{\"time\": \"2026-11-28T03:{:02}:{:02}.000Z\", {}", secs / 60, secs % 60, &json[1..])
}

#[test]
fn the_recorder_alone_writes_a_line_per_refresh_and_stops_cleanly() {
    let d = TempDir::new("rec-alone");
    let (s, cell) = Server::swappable(&d.join("w.sock"), payload::encode(Some(payload::worker("w", 1, 8)), vec![payload::session("a", "x", None, 1.0, 1.0, "active")]));
    let file = d.join("rec.ndjson");
    let out = run(&["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "-n", "3", "--refresh-rate", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "the recorder prints nothing");
    let rec = std::fs::read_to_string(&file).unwrap();
    assert_eq!(rec.lines().count(), 3);
    // Format 2: every worker with its state, and its sessions tagged.
    assert!(rec.lines().all(|l| l.starts_with("{\"v\": 2, \"time\": \"20") && l.contains("\"state\": \"answered\"") && l.contains("\"sessions\": [{\"worker\": \"w\", \"session_id\": \"a\"")), "{rec}");
    // Appends; a worker that goes away is said once, and recording goes on.
    *cell.lock().unwrap() = Vec::new();
    let asked = s.count();
    let child = std::process::Command::new(BIN)
        .args(["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "--refresh-rate", "10"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Asked (and closing at once) several times before it comes back.
    s.wait_count(asked + 4, Duration::from_secs(5));
    *cell.lock().unwrap() = payload::encode(None, vec![payload::session("b", "x", None, 1.0, 1.0, "active")]);
    let with_b = || std::fs::read_to_string(&file).unwrap().lines().filter(|l| l.contains("\"session_id\": \"b\"")).count();
    wait_until("two lines recorded after the worker came back", Duration::from_secs(5), || with_b() >= 2);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert_eq!(err.matches("closed the connection without sending a snapshot").count(), 1, "{err}");
    let rec = std::fs::read_to_string(&file).unwrap();
    assert!(rec.ends_with("]}\n") && rec.lines().all(|l| l.ends_with("]}")), "whole lines only");
    // The rounds it did not answer are recorded too, with why.
    assert!(rec.lines().any(|l| l.contains("\"state\": \"failed\"") && l.contains("closed without sending a snapshot") && l.ends_with("\"sessions\": []}")), "{rec}");
}

#[test]
fn rotation_keeps_the_disk_bounded() {
    let d = TempDir::new("rec-rotate");
    let s = Server::bytes(&d.join("w.sock"), payload::encode(None, vec![payload::session("a", "x", None, 1.0, 1.0, "active")]));
    let file = d.join("rec.ndjson");
    let out = run(&["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "--record-max", "1K", "-n", "60", "--refresh-rate", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut total = 0;
    for name in ["rec.ndjson", "rec.ndjson.1", "rec.ndjson.2", "rec.ndjson.3", "rec.ndjson.4"] {
        let n = std::fs::metadata(d.join(name)).unwrap().len();
        assert!(n > 0 && n <= 1024, "{name}: {n}");
        total += n;
    }
    assert!(!d.join("rec.ndjson.5").exists());
    assert!(total <= 5 * 1024);
}

#[test]
fn a_sample_by_time_and_a_range_with_a_time_column() {
    let d = TempDir::new("rec-read");
    let file = d.join("rec.ndjson");
    let text_in: String = [line(10, &["a"]), line(20, &["a", "slow-1"]), line(30, &["a", "slow-1"]), line(40, &["a"])].concat();
    std::fs::write(&file, text_in).unwrap();
    let f = file.to_str().unwrap();
    let ids = |args: &[&str]| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // The last sample at or before the time asked for.
    // (TSV's first column is the sample's time: the printed sample says which it is.)
    assert_eq!(ids(&["--replay", f, "--once", "--at", "03:00:25", "--status", "slow", "--no-header", "--format", "tsv"]).split('\t').take(2).collect::<Vec<_>>(), ["2026-11-28T03:00:20.000Z", "slow-1"]);
    assert_eq!(ids(&["--replay", f, "--once", "--at", "2026-11-28T03:00:35.000Z", "--format", "tsv", "--no-header"]).lines().count(), 2);
    // Without --at: the last sample.
    assert_eq!(ids(&["--replay", f, "--once", "--format", "tsv", "--no-header"]).lines().count(), 1);
    // -10s is before the last sample.
    assert_eq!(ids(&["--replay", f, "--once", "--at", "-10s", "--format", "tsv", "--no-header"]).lines().count(), 2);
    // Slow sessions over a range, counted per session with awk-ready TSV.
    let tsv = ids(&["--replay", f, "--from", "03:00:15", "--to", "03:00:40", "--status", "slow", "--format", "tsv"]);
    assert_eq!(tsv, "time\tsession\tagent\ttenant\tdur(s)\tmem(MB)\tpeak\tcpu%\tstatus\tpin\n2026-11-28T03:00:20.000Z\tslow-1\tsupport\tacme\t60\t10\t10\t1\tslow\t-\n2026-11-28T03:00:30.000Z\tslow-1\tsupport\tacme\t60\t10\t10\t1\tslow\t-\n");
    // JSON lines of a range read back as the recording's own lines would.
    let json = ids(&["--replay", f, "--from", "03:00:30", "--format", "json"]);
    assert_eq!(json.lines().count(), 2);
    assert!(json.starts_with("{\"time\": \"2026-11-28T03:00:30.000Z\", \"state\": \"answered\", \"worker\": {\"name\": \"w\""), "{json}");
}

#[test]
fn bad_lines_are_skipped_and_counted_and_no_sample_is_an_error() {
    let d = TempDir::new("rec-bad");
    let file = d.join("rec.ndjson");
    let lines = [
        "not json at all\n".to_string(),
        line(10, &["a"]),
        "{\"level\": \"info\", \"msg\": \"another program\"}\n".into(),
        line(20, &["b"]),
        // A day ahead of the lines on both sides: out of line.
        line(15, &["out-of-line"]).replace("2026-11-28", "2026-11-29"),
        "{\"time\": \"2026-11-28T03:00:25.000Z\", \"sessions\": [{\"session_id\": \"broken\"\n".into(),
        line(30, &["c"]),
        line(40, &["d"])[..50].to_string(),
    ];
    std::fs::write(&file, lines.concat()).unwrap();
    let out = run(&["--replay", file.to_str().unwrap(), "--from", "03:00:00", "--format", "tsv", "--no-header"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let got: Vec<&str> = stdout.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(got, ["a", "b", "c"], "{stdout}");
    assert_eq!(text(&out.stderr), format!("openrtc-top: skipped 5 bad lines of the lines read in '{}' (cut off, not a sample, or stamped out of line)\n", file.display()));
    std::fs::write(&file, "garbage\n{\"time\": 5}\n").unwrap();
    let out = run(&["--replay", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr).lines().count(), 1);
    assert!(text(&out.stderr).contains("holds no sample"), "{}", text(&out.stderr));
    let out = run(&["--replay", d.join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("openrtc-top: cannot read the recording "), "{}", text(&out.stderr));
}

/// The title's sample time.
fn shown_time(screen: &[String]) -> String {
    screen[0].split_whitespace().find(|w| w.starts_with("2026-")).unwrap_or("").to_string()
}

#[test]
fn the_time_keys_move_through_a_recording() {
    let d = TempDir::new("rec-keys");
    let file = d.join("rec.ndjson");
    // Every 10 s for three minutes; one slow session at 03:01:30.
    let text_in: String = (0..18).map(|k| line(k * 10, if k == 9 { &["a", "slow-1"] } else { &["a"] })).collect();
    std::fs::write(&file, text_in).unwrap();
    let mut t = Live::start(BIN, &["--replay", file.to_str().unwrap()], &[], 140, 24);
    let s = t.wait_text("REPLAY");
    assert_eq!(shown_time(&s), "2026-11-28T03:00:00.000Z", "{}", s.join("\n"));
    assert!(s[0].contains("paused"), "{}", s[0]);
    let step = |t: &mut Live, keys: &[u8], want: &str| {
        t.send(keys);
        t.wait_for(want, Duration::from_secs(5), |s| shown_time(s) == want);
    };
    step(&mut t, b".", "2026-11-28T03:00:10.000Z");
    step(&mut t, b">", "2026-11-28T03:01:10.000Z");
    step(&mut t, b",", "2026-11-28T03:01:00.000Z");
    step(&mut t, b"<", "2026-11-28T03:00:00.000Z");
    step(&mut t, b"T03:01:35\r", "2026-11-28T03:01:30.000Z");
    let s = t.wait_text("slow-1");
    assert!(s.iter().any(|l| l.contains("slow-1") && l.contains("slow")), "{}", s.join("\n"));
    step(&mut t, b"T-1m\r", "2026-11-28T03:00:30.000Z");
    // A stamp copied from a recorded line, pasted.
    t.send(b"T\x1b[200~2026-11-28T03:02:40.000Z\x1b[201~\r");
    t.wait_for("the pasted stamp", Duration::from_secs(5), |s| shown_time(s) == "2026-11-28T03:02:40.000Z");
    t.send(b"Tnonsense\r");
    t.wait_text("not a time: 'nonsense'");
    // Play: at 64x, ten seconds of recording go by in about 160 ms.
    step(&mut t, b"<<<", "2026-11-28T03:00:00.000Z");
    t.send(b"++++++ ");
    t.wait_text("playing 64x");
    t.wait_for("the end of the recording", Duration::from_secs(10), |s| shown_time(s) == "2026-11-28T03:02:50.000Z" && s[0].contains("paused"));
    t.send(b"?");
    let help = t.wait_text("replay: go to a time");
    for k in ["replay: one sample back, one forward", "replay: a minute back, a minute forward", "replay: play at recorded speed, or pause"] {
        assert!(help.iter().any(|l| l.contains(k)), "{k}");
    }
    t.send(b" q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn the_live_view_records_while_it_shows() {
    let d = TempDir::new("rec-live");
    let s = Server::bytes(&d.join("w.sock"), payload::encode(Some(payload::worker("w", 1, 8)), vec![payload::session("a", "x", None, 1.0, 1.0, "active")]));
    let file = d.join("rec.ndjson");
    let mut t = Live::start(BIN, &["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "--refresh-rate", "5"], &[], 120, 20);
    t.wait_text(" REC ");
    let t0 = Instant::now();
    wait_until("three recorded lines", Duration::from_secs(5), || std::fs::read_to_string(&file).map(|r| r.lines().count() >= 3).unwrap_or(false));
    assert!(t0.elapsed() < Duration::from_secs(3));
    // Keys and filters change the view, not the recording.
    t.send(b"fff");
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
    let rec = std::fs::read_to_string(&file).unwrap();
    assert!(rec.lines().all(|l| l.contains("\"session_id\": \"a\"")), "{rec}");
    let out = run(&["--replay", file.to_str().unwrap(), "--once", "--format", "tsv", "--no-header"]);
    assert_eq!(text(&out.stdout).split('\t').nth(1), Some("a"));
}

/// Replay says what it shows: the printed sample carries its time (a line
/// before the table, JSON's `time`), a time outside the recording is an
/// error naming its first and last stamps, and so is a range backwards.
#[test]
fn a_printed_sample_says_its_time_and_a_time_outside_is_an_error() {
    let d = TempDir::new("rec-honest");
    let file = d.join("rec.ndjson");
    std::fs::write(&file, [line(10, &["a"]), line(20, &["b"]), line(30, &["c"])].concat()).unwrap();
    let f = file.to_str().unwrap();
    let table = run(&["--replay", f, "--once", "--at", "03:00:25"]);
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    let t = text(&table.stdout);
    assert!(t.starts_with("2026-11-28T03:00:20.000Z\nsession "), "{t}");
    let json = text(&run(&["--replay", f, "--once", "--format", "json"]).stdout);
    assert!(json.starts_with("{\"time\": \"2026-11-28T03:00:30.000Z\""), "{json}");
    let holds = format!("'{f}': it holds 2026-11-28T03:00:10.000Z to 2026-11-28T03:00:30.000Z\n");
    for (args, flag, t) in [
        (vec!["--at", "03:12"], "--at", "2026-11-28T03:12:00.000Z"),
        (vec!["--at", "02:59"], "--at", "2026-11-28T02:59:00.000Z"),
        (vec!["--from", "04:00"], "--from", "2026-11-28T04:00:00.000Z"),
        (vec!["--to", "02:00"], "--to", "2026-11-28T02:00:00.000Z"),
    ] {
        let mut all = vec!["--replay", f, "--once"];
        all.extend(&args);
        let out = run(&all);
        assert_eq!((out.status.code(), text(&out.stdout)), (Some(2), String::new()), "{args:?}");
        assert_eq!(text(&out.stderr), format!("openrtc-top: {flag} '{t}' is outside the recording {holds}"), "{args:?}");
    }
    let back = run(&["--replay", f, "--from", "03:00:25", "--to", "03:00:15"]);
    assert_eq!((back.status.code(), text(&back.stdout)), (Some(2), String::new()));
    assert_eq!(text(&back.stderr), "openrtc-top: --from '2026-11-28T03:00:25.000Z' is after --to '2026-11-28T03:00:15.000Z'\n");
}

#[test]
fn a_pipe_or_a_fifo_is_refused_as_not_seekable() {
    let d = TempDir::new("rec-pipe");
    let file = d.join("rec.ndjson");
    std::fs::write(&file, line(10, &["a"])).unwrap();
    // A pipe on stdin, named by /dev/stdin.
    let out = run_program("sh", &["-c", "cat \"$1\" | exec \"$0\" --replay /dev/stdin --once", BIN, file.to_str().unwrap()], &[], Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(1));
    let not_seekable = "is not seekable (a recording is read by offset: save it to a file first)\n";
    assert_eq!(text(&out.stderr), format!("openrtc-top: cannot read the recording '/dev/stdin': it is a pipe (FIFO) and {not_seekable}"));
    // A FIFO nobody writes to: refused at once, not waited on.
    let fifo = d.join("rec.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = run_with(&["--replay", fifo.to_str().unwrap(), "--once"], &[], Duration::from_secs(5));
    assert_eq!(text(&out.stderr), format!("openrtc-top: cannot read the recording '{}': it is a pipe (FIFO) and {not_seekable}", fifo.display()));
}

#[test]
fn runs_of_bad_lines_are_read_in_large_reads() {
    let d = TempDir::new("rec-runs");
    let file = d.join("rec.ndjson");
    // 10 MB of newlines, then a sample (one read of 64 KiB a line took 56 s).
    std::fs::write(&file, ["\n".repeat(10_000_000), line(10, &["a"])].concat()).unwrap();
    let out = run_with(&["--replay", file.to_str().unwrap(), "--once", "--format", "tsv", "--no-header"], &[], Duration::from_secs(10));
    assert_eq!((out.status.code(), text(&out.stdout).split('\t').nth(1)), (Some(0), Some("a")));
    // Two million junk lines between two samples: a time found, and a step
    // in the live view, while keys are answered.
    std::fs::write(&file, [line(10, &["a"]), "junk line\n".repeat(2_000_000), line(20, &["b"])].concat()).unwrap();
    let out = run_with(&["--replay", file.to_str().unwrap(), "--once", "--at", "03:00:15", "--format", "tsv", "--no-header"], &[], Duration::from_secs(10));
    assert_eq!(text(&out.stdout).split('\t').nth(1), Some("a"));
    // More bad lines than are remembered are said as more, not as a total.
    assert!(text(&out.stderr).starts_with("openrtc-top: skipped more than 1048576 bad lines of the lines read in "), "{}", text(&out.stderr));
    let mut t = Live::start(BIN, &["--replay", file.to_str().unwrap()], &[], 140, 24);
    t.wait_text("REPLAY");
    let sent = Instant::now();
    t.send(b".q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert!(sent.elapsed() < Duration::from_secs(3), "{:?}", sent.elapsed());
}

#[test]
fn a_stamp_far_out_of_line_is_one_bad_line_and_a_clock_stepped_back_loses_none() {
    let d = TempDir::new("rec-far");
    let file = d.join("rec.ndjson");
    // 51 samples 10 s apart; the 26th stamped in the year 9999.
    let lines: Vec<String> = (0..51).map(|k| line(k * 10, &[&format!("s{k}")])).collect();
    let mut far = lines.clone();
    far[25] = far[25].replace("2026-11-28", "9999-11-28");
    std::fs::write(&file, far.concat()).unwrap();
    let ids = |args: &[&str]| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (text(&out.stdout).lines().map(|l| l.split('\t').nth(1).unwrap().to_string()).collect::<Vec<_>>(), text(&out.stderr))
    };
    let (got, err) = ids(&["--replay", file.to_str().unwrap(), "--from", "03:00:00", "--format", "tsv", "--no-header"]);
    let want: Vec<String> = (0..51).filter(|&k| k != 25).map(|k| format!("s{k}")).collect();
    assert_eq!(got, want);
    assert_eq!(err, format!("openrtc-top: skipped 1 bad line of the lines read in '{}' (cut off, not a sample, or stamped out of line)\n", file.display()));
    // The live view steps over it, forward and back.
    let mut t = Live::start(BIN, &["--replay", file.to_str().unwrap(), "--at", "03:04:00"], &[], 140, 24);
    t.wait_for("03:04:00", Duration::from_secs(5), |s| shown_time(s) == "2026-11-28T03:04:00.000Z");
    for (key, want) in [(b".", "2026-11-28T03:04:20.000Z"), (b",", "2026-11-28T03:04:00.000Z")] {
        t.send(key);
        t.wait_for(want, Duration::from_secs(5), |s| shown_time(s) == want);
    }
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
    // A clock stepped back 5 s (NTP) after the 30th sample: nothing lost.
    let stepped: Vec<String> = (0..51).map(|k| line(if k < 30 { k * 10 } else { k * 10 - 15 }, &[&format!("s{k}")])).collect();
    std::fs::write(&file, stepped.concat()).unwrap();
    let (got, err) = ids(&["--replay", file.to_str().unwrap(), "--from", "03:00:00", "--format", "tsv", "--no-header"]);
    assert_eq!((got.len(), err.as_str()), (51, ""));
}

#[test]
fn a_recording_that_shrinks_under_the_live_view_goes_on_with_what_is_left() {
    let d = TempDir::new("rec-shrink");
    let file = d.join("rec.ndjson");
    // Ten minutes at 1 Hz, about 1.5 KB a line.
    let text_in: String = (0..600).map(|k| line(k, &["a", "b", "c", "d", "e", "f"])).collect();
    std::fs::write(&file, &text_in).unwrap();
    let mut t = Live::start(BIN, &["--replay", file.to_str().unwrap(), "--at", "03:09:59"], &[], 140, 24);
    t.wait_for("the last sample", Duration::from_secs(5), |s| shown_time(s) == "2026-11-28T03:09:59.000Z");
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(text_in.len() as u64 / 3).unwrap();
    t.send(b",");
    let s = t.wait_text("the recording shrank");
    assert!(shown_time(&s).as_str() < "2026-11-28T03:03:30", "{}", s.join("\n"));
    t.send(b",");
    t.wait_for("a step back in what is left", Duration::from_secs(5), |s| shown_time(s).as_str() < "2026-11-28T03:03:19");
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
}
