//! The recorder (`--record`) against what a file system can hold at the
//! path: a symlink, a FIFO, a device, a torn last line, a full disk, a
//! directory in the rotation's way, lines larger than `--record-max`, and
//! logrotate's SIGHUP.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util::*;

fn worker(d: &TempDir, sessions: usize) -> Server {
    let rows = (0..sessions).map(|k| payload::session(&format!("s-{k}"), "x", None, 1.0, 1.0, "active")).collect();
    Server::bytes(&d.join("w.sock"), payload::encode(Some(payload::worker("w", sessions, 8)), rows))
}

/// A recorder running at 10 Hz (through `sh -c` with `prefix` before the
/// exec), its stderr gathered as it comes.
fn recorder(s: &Server, file: &std::path::Path, prefix: &str, extra: &str) -> (Child, Arc<Mutex<String>>) {
    let script = format!("{prefix} exec \"$0\" --socket \"$1\" --record \"$2\" --refresh-rate 10 {extra}");
    let mut child = Command::new("sh")
        .args(["-c", &script, BIN, s.path.to_str().unwrap(), file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = Arc::new(Mutex::new(String::new()));
    let (mut pipe, e) = (child.stderr.take().unwrap(), err.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            e.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (child, err)
}

fn lines(file: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(file).unwrap_or_default().lines().map(String::from).collect()
}

fn stop(mut child: Child) -> Option<i32> {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap().code()
}

#[test]
fn a_symlink_at_the_path_is_not_followed() {
    let d = TempDir::new("rec-link");
    let s = worker(&d, 1);
    let (target, link) = (d.join("target"), d.join("rec.ndjson"));
    std::fs::write(&target, "").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = run(&["--socket", s.path.to_str().unwrap(), "--record", link.to_str().unwrap(), "-n", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), format!("openrtc-top: cannot write the recording '{}': it is a symlink (a recording is not written through one: give the file itself)\n", link.display()));
    assert_eq!(std::fs::read(&target).unwrap(), b"", "the link's target is untouched");
}

#[test]
fn a_fifo_or_a_device_is_refused_at_once() {
    let d = TempDir::new("rec-fifo");
    let s = worker(&d, 1);
    let fifo = d.join("rec.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (path, what) in [(fifo.to_str().unwrap(), "a pipe (FIFO)"), ("/dev/full", "a character device")] {
        let out = run_with(&["--socket", s.path.to_str().unwrap(), "--record", path, "-n", "1"], &[], Duration::from_secs(5));
        assert_eq!(out.status.code(), Some(1), "{path}");
        assert_eq!(text(&out.stderr), format!("openrtc-top: cannot write the recording '{path}': it is {what}, not a regular file\n"));
    }
}

#[test]
fn a_torn_last_line_costs_no_sample() {
    let d = TempDir::new("rec-torn");
    let s = worker(&d, 1);
    let file = d.join("rec.ndjson");
    // What a recorder killed in the middle of a write (or a full disk) leaves.
    let torn = "{\"v\": 2, \"time\": \"2026-11-28T03:00:00.000Z\", \"workers\": [{\"lab";
    std::fs::write(&file, torn).unwrap();
    let out = run(&["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "-n", "2", "--refresh-rate", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = lines(&file);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], torn);
    assert!(got[1..].iter().all(|l| l.starts_with("{\"v\": 2, \"time\": ") && l.ends_with("]}")), "{got:?}");
    let out = run(&["--replay", file.to_str().unwrap(), "--from", "2026-11-28T00:00:00Z", "--format", "tsv", "--no-header"]);
    assert_eq!(text(&out.stdout).lines().count(), 2, "both samples read back");
    assert!(text(&out.stderr).contains("skipped 1 bad line "), "{}", text(&out.stderr));
}

#[test]
fn a_full_disk_is_said_once_and_recording_resumes_when_there_is_room() {
    let d = TempDir::new("rec-full");
    let s = worker(&d, 1);
    let file = d.join("rec.ndjson");
    // 2 KiB at most (ulimit -f counts 512-byte blocks in sh): writes past
    // it fail with EFBIG as on a full disk, SIGXFSZ ignored.
    let (child, err) = recorder(&s, &file, "trap '' XFSZ; ulimit -f 4;", "");
    wait_until("the write failure said", Duration::from_secs(10), || err.lock().unwrap().contains("cannot write"));
    assert!(child_alive(&child), "the recorder keeps going");
    let first = lines(&file)[0].clone();
    // Room again, the file ending in part of a line.
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(first.len() as u64 + 20).unwrap();
    wait_until("recording again", Duration::from_secs(10), || err.lock().unwrap().contains(" again ("));
    wait_until("two lines after the torn one", Duration::from_secs(10), || lines(&file).len() >= 4);
    assert_eq!(stop(child), Some(0));
    let err = err.lock().unwrap().clone();
    let said: Vec<&str> = err.lines().collect();
    assert!(said[0].starts_with(&format!("openrtc-top: cannot write the recording '{}': File too large", file.display())) && said[0].ends_with("; trying again with each refresh"), "{err}");
    assert!(said[1].starts_with(&format!("openrtc-top: recording to '{}' again (", file.display())), "{err}");
    assert!(!err.contains("stdout"), "{err}");
    let got = lines(&file);
    assert_eq!(got[1].len(), 19, "the torn line alone on its line: {got:?}");
    assert!(got[2].starts_with("{\"v\": 2, \"time\": ") && got[2].ends_with("]}"), "the next sample whole: {got:?}");
}

fn child_alive(c: &Child) -> bool {
    // SAFETY: signal 0 only checks that our child exists.
    unsafe { libc::kill(c.id() as i32, 0) == 0 }
}

#[test]
fn rotation_goes_on_past_a_directory_in_the_way() {
    let d = TempDir::new("rec-rotdir");
    let s = worker(&d, 1);
    let file = d.join("rec.ndjson");
    std::fs::create_dir(d.join("rec.ndjson.4")).unwrap();
    let out = run(&["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "--record-max", "1K", "-n", "60", "--refresh-rate", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!("openrtc-top: rotating '{0}': '{0}.4' is a directory and is in the way; keeping the files that can be kept\n", file.display()),
    );
    for name in ["rec.ndjson", "rec.ndjson.1", "rec.ndjson.2", "rec.ndjson.3"] {
        let n = std::fs::metadata(d.join(name)).unwrap().len();
        assert!(n > 0 && n <= 1024, "{name}: {n}");
    }
    assert!(d.join("rec.ndjson.4").is_dir(), "what is in the way is left alone");
    assert!(lines(&file).iter().all(|l| l.ends_with("]}")));
}

#[test]
fn a_line_larger_than_record_max_gets_a_file_of_its_own() {
    let d = TempDir::new("rec-big");
    // About 3 KB a line, --record-max 1K.
    let s = worker(&d, 12);
    let file = d.join("rec.ndjson");
    let out = run(&["--socket", s.path.to_str().unwrap(), "--record", file.to_str().unwrap(), "--record-max", "1K", "-n", "8", "--refresh-rate", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is larger than --record-max (1024 bytes): each file holds one line"), "{err}");
    for name in ["rec.ndjson", "rec.ndjson.1", "rec.ndjson.2", "rec.ndjson.3", "rec.ndjson.4"] {
        let got = lines(&d.join(name));
        assert!(got.len() == 1 && got[0].len() > 1024, "{name}: one line each");
    }
    assert!(!d.join("rec.ndjson.5").exists());
}

#[test]
fn sighup_reopens_the_file_by_its_path() {
    let d = TempDir::new("rec-hup");
    let s = worker(&d, 1);
    let (file, moved) = (d.join("rec.ndjson"), d.join("rec.ndjson.old"));
    let (child, err) = recorder(&s, &file, "", "");
    wait_until("two lines", Duration::from_secs(5), || lines(&file).len() >= 2);
    // What logrotate does: move the file, then SIGHUP.
    std::fs::rename(&file, &moved).unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    wait_until("a new file at the path with two lines", Duration::from_secs(5), || lines(&file).len() >= 2);
    assert!(child_alive(&child));
    assert_eq!(stop(child), Some(0));
    assert_eq!(err.lock().unwrap().as_str(), "");
    for f in [&file, &moved] {
        assert!(lines(f).iter().all(|l| l.starts_with("{\"v\": 2, \"time\": ") && l.ends_with("]}")), "{}", f.display());
    }
}
