//! Where a blocked worker's loop is stuck, from its Python stack: py-spy
//! (`py-spy dump --pid PID --nonblocking`), which operators already use,
//! run as a child process whose output pipe the caller polls with the rest
//! (no threads), bounded in time and size. What it prints is untrusted
//! (frame names, the command line) and is sanitised wherever it is shown.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use super::spawn::{Child, spawn};
use std::time::{Duration, Instant};

/// How long py-spy may take (a dump takes well under a second).
pub const TIME: Duration = Duration::from_secs(5);

/// The most of its output kept.
pub const MAX_OUTPUT: usize = 64 * 1024;

pub use crate::model::Stack;

/// One run of py-spy.
#[derive(Debug)]
pub struct Capture {
    child: Child,
    out: OwnedFd,
    got: Vec<u8>,
    pid: u32,
    by: Instant,
    closed: bool,
}

/// Where to find py-spy: given, or on PATH.
pub fn find(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join("py-spy")).find(|p| p.is_file())
}

impl Capture {
    /// Start py-spy on `pid`; why not, in one line, when it cannot run.
    pub fn start(py_spy: Option<&Path>, pid: u32, now: Instant) -> Result<Capture, String> {
        let exe = find(py_spy).ok_or("py-spy is not installed (pip install py-spy), or give --py-spy PATH")?;
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors, which we then own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(format!("cannot run py-spy: {}", io::Error::last_os_error()));
        }
        // SAFETY: fresh descriptors from pipe2.
        let (out, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // The child's end blocks as pipes normally do (its copies as stdout
        // and stderr lose O_CLOEXEC; ours closes when this returns).
        // SAFETY: fcntl on our own descriptor.
        unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETFL, 0) };
        let child = spawn(&exe, &["dump", "--pid", &pid.to_string(), "--nonblocking"], write.as_raw_fd()).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => format!("py-spy is not at {}", crate::text::in_message(&exe.to_string_lossy())),
            _ => format!("cannot run py-spy: {e}"),
        })?;
        Ok(Capture { child, out, got: Vec::new(), pid, by: now + TIME, closed: false })
    }

    /// The descriptor to poll, and when to look again regardless.
    pub fn poll_fd(&self) -> RawFd {
        if self.closed { -1 } else { self.out.as_raw_fd() }
    }

    pub fn deadline(&self) -> Instant {
        self.by
    }

    /// Read what is there; the stack (or why there is none) once py-spy has
    /// finished, or been stopped for taking too long or saying too much.
    pub fn step(&mut self, now: Instant) -> Option<Result<Stack, String>> {
        let mut chunk = [0u8; 8192];
        while !self.closed {
            // SAFETY: reading into a local buffer from our own descriptor.
            match (&File(self.out.as_raw_fd())).read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) if self.got.len() + n > MAX_OUTPUT => {
                    self.stop();
                    return Some(Err(format!("py-spy said more than {} KiB; stopped it", MAX_OUTPUT >> 10)));
                }
                Ok(n) => self.got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let success = match self.child.try_wait() {
            Some(ok) if self.closed => ok,
            _ if now >= self.by => {
                self.stop();
                return Some(Err(format!("py-spy did not finish within {} s; stopped it", TIME.as_secs())));
            }
            _ => return None,
        };
        let text = String::from_utf8_lossy(&self.got).into_owned();
        Some(if success { parse(&text, self.pid) } else { Err(cause(&text, self.pid)) })
    }

    fn stop(&mut self) {
        self.child.kill();
        self.closed = true;
    }
}

/// A borrowed descriptor to read from (std's `File` would close it).
struct File(RawFd);

impl Read for &File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: read(2) writes at most buf.len() bytes into buf.
        let n = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
    }
}

/// The frames of each thread py-spy printed: `Thread TID (state): "name"`
/// then one indented line per frame, `function (file:line)`.
fn threads(text: &str) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Thread ") {
            out.push((line, Vec::new()));
        } else if let (Some(t), true) = (out.last_mut(), line.starts_with("    ")) {
            t.1.extend(line.split_whitespace().next());
        }
    }
    out
}

/// The stack of a dump: the main thread's frames (the thread whose id is
/// the pid, else the one named MainThread), and the thread that holds the
/// GIL when it is another one.
pub fn parse(text: &str, pid: u32) -> Result<Stack, String> {
    let all = threads(text);
    let main = all
        .iter()
        .find(|(h, _)| h.strip_prefix("Thread ").and_then(|r| r.split(' ').next()) == Some(&pid.to_string()))
        .or_else(|| all.iter().find(|(h, _)| h.ends_with("\"MainThread\"")))
        .ok_or("py-spy printed no main thread")?;
    let join = |frames: &[&str]| frames.iter().take(6).copied().collect::<Vec<_>>().join(" <- ");
    let mut summary = if main.1.is_empty() { "no Python frames".to_string() } else { join(&main.1) };
    if let Some((h, frames)) = all.iter().find(|(h, _)| h.contains("+gil)") && *h != main.0) {
        let tid = h.strip_prefix("Thread ").and_then(|r| r.split(' ').next()).unwrap_or("?");
        summary.push_str(&format!("; thread {tid} holds the GIL: {}", join(frames)));
    }
    Ok(Stack { summary, text: text.to_string() })
}

/// Why py-spy could not take the stack, in one line naming the cause.
fn cause(text: &str, pid: u32) -> String {
    // py-spy's wording varies ("Permission Denied", "permission denied").
    let lower = text.to_ascii_lowercase();
    let says = |what: &str| lower.contains(what);
    if says("failed to find python version") || says("failed to find a python interpreter") {
        return format!("process {pid} is not a Python process (py-spy finds no interpreter in it)");
    }
    if says("no such file or directory") || says("no such process") {
        return format!("process {pid} is gone");
    }
    if says("permission denied") || says("operation not permitted") {
        return format!("py-spy may not trace process {pid}: {}", ptrace_cause(pid));
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("no reason given");
    format!("py-spy failed: {}", crate::text::in_message(first.trim_start_matches("Error: ")))
}

/// Why ptrace is not permitted here, as far as can be told.
fn ptrace_cause(pid: u32) -> String {
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    let owner = std::fs::metadata(format!("/proc/{pid}")).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).ok();
    if me == 0 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let eff = status.lines().find_map(|l| l.strip_prefix("CapEff:")).and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
        if eff.is_some_and(|c| c & (1 << 19) == 0) {
            return "this container lacks CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE)".into();
        }
        return "not permitted even as root (a seccomp or LSM policy?)".into();
    }
    if let Some(uid) = owner.filter(|&u| u != me) {
        return format!("it runs as uid {uid}, not as you (uid {me}): run as that user or root");
    }
    match std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").map(|s| s.trim().to_string()) {
        Ok(scope) if scope != "0" => format!("kernel.yama.ptrace_scope is {scope} (0 lets a user trace its own processes; or run as root)"),
        _ => "ptrace is not permitted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "Process 24737: /usr/bin/python3 worker.py\nPython v3.11.7 (/usr/bin/python3.11)\n\nThread 24737 (idle): \"MainThread\"\n    wait (threading.py:327)\n    start (threading.py:969)\n    <module> (<string>:4)\nThread 24779 (active+gil): \"Thread-1 (hold)\"\n    hold (<string>:3)\n    run (threading.py:982)\n";

    #[test]
    fn the_main_threads_frames_and_the_gil_holder() {
        let s = parse(DUMP, 24737).unwrap();
        assert_eq!(s.summary, "wait <- start <- <module>; thread 24779 holds the GIL: hold <- run");
        let alone = "Thread 0x7f (active): \"MainThread\"\n    cpu_bound_blocker (w.py:10)\n    blocking_call (w.py:20)\n    session_body (w.py:30)\n    Handle._run (asyncio/events.py:84)\n";
        assert_eq!(parse(alone, 1).unwrap().summary, "cpu_bound_blocker <- blocking_call <- session_body <- Handle._run");
        assert!(parse("Process 1: x\n", 1).is_err());
    }

    #[test]
    fn failures_name_their_cause() {
        assert!(cause("Error: Failed to find python version from target process", 7).contains("not a Python process"));
        assert!(cause("Error: Failed to get process executable name.\nReason: No such file or directory (os error 2)", 7).contains("gone"));
        assert!(cause("Reason: Permission denied (os error 13)", 7).starts_with("py-spy may not trace process 7: "));
        // py-spy 0.4.1 as another user than the worker's.
        let denied = "Permission Denied: Try running again with elevated permissions by going 'sudo env \"PATH=$PATH\" !!'";
        assert!(cause(denied, 7).starts_with("py-spy may not trace process 7: "));
        assert_eq!(cause("Error: something \u{1b}[31mnew\n", 7), "py-spy failed: something \\u{1b}[31mnew");
    }

    #[test]
    fn a_missing_py_spy_is_one_line() {
        let e = Capture::start(Some(Path::new("/nonexistent/py-spy")), 1, Instant::now()).unwrap_err();
        assert_eq!(e, "py-spy is not at /nonexistent/py-spy");
    }

    /// A stand-in that prints a dump and exits, read through the pipe as
    /// the poll loop would.
    #[test]
    fn a_capture_reads_the_childs_output_to_its_end() {
        let d = std::env::temp_dir().join(format!("ortop-stack-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        let fake = d.join("py-spy");
        std::fs::write(&fake, format!("#!/bin/sh\nprintf '%s' '{}'\n", DUMP.replace('\'', ""))).unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&fake).unwrap().permissions(), 0o755);
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut c = Capture::start(Some(&fake), 24737, Instant::now()).unwrap();
        let got = loop {
            let mut p = crate::poll::Poll::new();
            p.watch(c.poll_fd(), crate::poll::Want::Read, Some(Instant::now() + Duration::from_millis(50)));
            p.wait().unwrap();
            if let Some(r) = c.step(Instant::now()) {
                break r;
            }
        };
        assert_eq!(got.unwrap().summary, "wait <- start <- <module>; thread 24779 holds the GIL: hold <- run");
        let _ = std::fs::remove_dir_all(&d);
    }
}
