//! Why a worker's loop does not answer, from /proc, with the worker's own
//! uid and no other privilege: the state of its main thread (the asyncio
//! loop's: tid == pid), the kernel wait it sleeps in, the CPU it used over
//! the block, and what its other threads do. Read once per refresh while a
//! worker is blocked (a few small files: well under a millisecond).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A process as first seen: its pid and its start time (clock ticks after
/// boot), so that a pid the kernel hands to another process later is never
/// explained as the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub pid: u32,
    pub start: u64,
}

/// One thread's line of `/proc/PID/task/TID/stat`, the fields we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub tid: u32,
    /// `R` running, `S` sleeping, `D` uninterruptible, `T`/`t` stopped or
    /// traced, `Z` zombie, ...
    pub state: char,
    /// utime + stime, in clock ticks.
    pub ticks: u64,
    pub start: u64,
    /// The kernel function it waits in (`0` or empty while running).
    pub wchan: String,
}

/// Where /proc is (a test points this at a directory of its own).
#[derive(Debug, Clone)]
pub struct Proc {
    root: PathBuf,
}

impl Default for Proc {
    fn default() -> Self {
        Proc { root: PathBuf::from("/proc") }
    }
}

/// What the process was doing, as far as /proc tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// No such process, or another one now has its pid.
    Gone,
    /// The main thread, the process's other threads, and whether it runs
    /// a Python interpreter (its executable's name says so).
    Threads { main: Thread, others: Vec<Thread>, python: bool },
}

impl Proc {
    pub fn at(root: &Path) -> Proc {
        Proc { root: root.to_path_buf() }
    }

    /// The process as it is now, when it lives.
    pub fn seen(&self, pid: u32) -> Option<Seen> {
        self.thread(pid, pid).map(|t| Seen { pid, start: t.start })
    }

    /// What `seen` is doing now (`Gone` if it is not that process any more).
    pub fn look(&self, seen: Seen) -> Look {
        let Some(main) = self.thread(seen.pid, seen.pid).filter(|t| t.start == seen.start) else { return Look::Gone };
        let others = std::fs::read_dir(self.root.join(seen.pid.to_string()).join("task"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&tid| tid != seen.pid)
            .filter_map(|tid| self.thread(seen.pid, tid))
            .collect();
        let exe = std::fs::read_link(self.root.join(seen.pid.to_string()).join("exe")).unwrap_or_default();
        let python = exe.file_name().is_some_and(|n| n.to_string_lossy().starts_with("python"));
        Look::Threads { main, others, python }
    }

    /// Whether `pid` runs a Python interpreter: its executable is named
    /// python..., or it maps a libpython (an embedded interpreter); `None`
    /// when that cannot be read (another user's process).
    pub fn python(&self, pid: u32) -> Option<bool> {
        let dir = self.root.join(pid.to_string());
        let exe = std::fs::read_link(dir.join("exe")).ok()?;
        if exe.file_name().is_some_and(|n| n.to_string_lossy().starts_with("python")) {
            return Some(true);
        }
        let maps = std::fs::read(dir.join("maps")).ok()?;
        Some(maps.windows(9).any(|w| w == b"libpython"))
    }

    /// When `seen` started, by the wall clock: its start (clock ticks
    /// after boot) after the boot, which is now less the time since boot
    /// (to the microsecond, where /proc/stat's btime is to the second).
    pub fn started_at(&self, seen: Seen) -> Option<SystemTime> {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes the timespec it is given.
        if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
            return None;
        }
        let since_boot = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        let boot = SystemTime::now().checked_sub(since_boot)?;
        Some(boot + Duration::from_secs_f64(seen.start as f64 / ticks_per_second()))
    }

    /// The process's command name (untrusted).
    pub fn comm(&self, pid: u32) -> String {
        std::fs::read_to_string(self.root.join(pid.to_string()).join("comm")).unwrap_or_default().trim_end().to_string()
    }

    fn thread(&self, pid: u32, tid: u32) -> Option<Thread> {
        let dir = self.root.join(pid.to_string()).join("task").join(tid.to_string());
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let wchan = std::fs::read_to_string(dir.join("wchan")).unwrap_or_default();
        parse_stat(&stat, wchan.trim())
    }
}

/// A stat line: `tid (comm) state ...`; the command may hold spaces and
/// parentheses, so the fields are counted from the last `)`.
fn parse_stat(stat: &str, wchan: &str) -> Option<Thread> {
    let tid = stat.split(' ').next()?.parse().ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split(' ').collect();
    // After the command: state is field 3 of the line, utime 14, stime 15,
    // starttime 22 (proc(5)), so 0, 11, 12 and 19 here.
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(Thread { tid, state: f.first()?.chars().next()?, ticks: num(11)? + num(12)?, start: num(19)?, wchan: wchan.to_string() })
}

/// Common kernel wait channels in plain words (by the start of the name:
/// kernels name the same wait a little differently from version to version).
const WAITS: &[(&str, &str)] = &[
    ("hrtimer_nanosleep", "sleeping, as in time.sleep"),
    ("do_nanosleep", "sleeping, as in time.sleep"),
    ("clock_nanosleep", "sleeping, as in time.sleep"),
    ("futex", "waiting on a lock"),
    ("do_epoll_wait", "idle in its event loop"),
    ("ep_poll", "idle in its event loop"),
    ("do_select", "waiting on a socket or pipe"),
    ("do_sys_poll", "waiting on a socket or pipe"),
    ("poll_schedule", "waiting on a socket or pipe"),
    ("sk_wait_data", "reading from the network"),
    ("tcp_recvmsg", "reading from the network"),
    ("inet_csk_accept", "waiting to accept a network connection"),
    ("unix_stream", "reading a Unix socket"),
    ("wait_woken", "reading from the network or a terminal"),
    ("pipe_read", "reading a pipe"),
    ("pipe_wait", "reading a pipe"),
    ("do_wait", "waiting for a child process"),
    ("wait_consider_task", "waiting for a child process"),
    ("io_schedule", "waiting for disk I/O"),
    ("folio_wait", "waiting for disk I/O"),
    ("wait_on_page", "waiting for disk I/O"),
    ("blk", "waiting for disk I/O"),
    ("jbd2", "waiting for disk I/O"),
];

/// A wait channel in plain words, when the table knows it.
pub fn wait_words(wchan: &str) -> Option<&'static str> {
    WAITS.iter().find(|(k, _)| wchan.starts_with(k)).map(|&(_, w)| w)
}

/// Clock ticks per second (for the CPU share).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// One line on why a loop does not answer: the main thread's state and
/// wait (the raw name beside the plain words), its CPU share over `secs`
/// since `ticks_then`, and a GIL held by another running thread.
pub fn explain(look: &Look, ticks_then: u64, secs: f64, hz: f64) -> String {
    let Look::Threads { main, others, python } = look else { return "its process is gone".into() };
    let cpu = if secs > 0.0 { (main.ticks.saturating_sub(ticks_then) as f64 / hz / secs * 100.0).clamp(0.0, 100.0) } else { 0.0 };
    let raw = if main.wchan.is_empty() || main.wchan == "0" { String::new() } else { format!(" ({})", main.wchan) };
    let words = wait_words(&main.wchan);
    // A thread waiting for the GIL wakes every 5 ms (Python's switch
    // interval) and is runnable for a moment, longer on a busy machine
    // where it queues for a CPU: one read can catch it so. Over a block
    // of half a second or more, a runnable thread that used little CPU is
    // waiting, not computing (CI saw one at 0%).
    let waiting = main.state == 'R' && secs >= 0.5 && cpu < 25.0;
    let what = match main.state {
        'R' if waiting => "runnable but mostly waiting".to_string(),
        'R' => "on CPU: a CPU-bound call".to_string(),
        'D' => format!("in an uninterruptible wait: {}{raw}", words.unwrap_or("disk I/O or similar")),
        'T' | 't' => "stopped or traced (SIGSTOP, a debugger)".to_string(),
        'Z' | 'X' => "a zombie: the worker has exited".to_string(),
        _ => match words {
            Some(w) => format!("{w}{raw}"),
            None if raw.is_empty() => "sleeping".to_string(),
            None => format!("sleeping in the kernel{raw}"),
        },
    };
    // Over less than half a second the ticks (10 ms each) say little.
    let mut line = match secs >= 0.5 {
        true => format!("main thread {what}, {cpu:.0}% CPU"),
        false => format!("main thread {what}"),
    };
    if main.wchan.starts_with("futex") || waiting {
        if let Some(t) = others.iter().find(|t| t.state == 'R') {
            let gil = if *python { ": most likely holding the GIL" } else { "" };
            line.push_str(&format!("; thread {} is on CPU{gil}", t.tid));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(tid: u32, comm: &str, state: char, utime: u64, stime: u64, start: u64) -> String {
        // proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...
        format!("{tid} ({comm}) {state} 1 1 1 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 2 0 {start} 1000 10")
    }

    fn fake(dir: &Path, pid: u32, threads: &[(u32, char, u64, &str)], start: u64) {
        for &(tid, state, ticks, wchan) in threads {
            let d = dir.join(pid.to_string()).join("task").join(tid.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("stat"), stat(tid, "python3 (x) y", state, ticks, 0, start)).unwrap();
            std::fs::write(d.join("wchan"), wchan).unwrap();
        }
    }

    #[test]
    fn the_main_thread_and_the_others_explained() {
        let d = std::env::temp_dir().join(format!("ortop-proc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let p = Proc::at(&d);
        fake(&d, 10, &[(10, 'S', 5, "hrtimer_nanosleep"), (11, 'S', 1, "do_select")], 777);
        let seen = p.seen(10).unwrap();
        assert_eq!(seen, Seen { pid: 10, start: 777 });
        let look = p.look(seen);
        assert_eq!(explain(&look, 5, 4.0, 100.0), "main thread sleeping, as in time.sleep (hrtimer_nanosleep), 0% CPU");
        fake(&d, 10, &[(10, 'R', 405, "0")], 777);
        assert_eq!(explain(&p.look(seen), 5, 4.0, 100.0), "main thread on CPU: a CPU-bound call, 100% CPU");
        fake(&d, 10, &[(10, 'S', 5, "futex_do_wait"), (11, 'R', 900, "0")], 777);
        assert_eq!(explain(&p.look(seen), 5, 4.0, 100.0), "main thread waiting on a lock (futex_do_wait), 0% CPU; thread 11 is on CPU");
        std::os::unix::fs::symlink("/usr/bin/python3.11", d.join("10/exe")).unwrap();
        assert_eq!(explain(&p.look(seen), 5, 4.0, 100.0), "main thread waiting on a lock (futex_do_wait), 0% CPU; thread 11 is on CPU: most likely holding the GIL");
        // Caught runnable on its way back to the GIL's wait: little CPU over the block.
        fake(&d, 10, &[(10, 'R', 6, "0")], 777);
        assert_eq!(explain(&p.look(seen), 5, 4.0, 100.0), "main thread runnable but mostly waiting, 0% CPU; thread 11 is on CPU: most likely holding the GIL");
        fake(&d, 10, &[(10, 'S', 5, "some_new_wait")], 777);
        assert_eq!(explain(&p.look(seen), 5, 1.0, 100.0), "main thread sleeping in the kernel (some_new_wait), 0% CPU");
        assert_eq!(explain(&p.look(seen), 5, 0.2, 100.0), "main thread sleeping in the kernel (some_new_wait)", "too short to say");
        fake(&d, 10, &[(10, 'Z', 5, "0")], 777);
        assert!(explain(&p.look(seen), 5, 1.0, 100.0).contains("zombie"));
        // The pid now belongs to a process started later: not the worker.
        fake(&d, 10, &[(10, 'R', 5, "0")], 999);
        assert_eq!(p.look(seen), Look::Gone);
        assert_eq!(explain(&Look::Gone, 0, 1.0, 100.0), "its process is gone");
        assert_eq!(p.seen(12345), None);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn this_process_reads_as_itself() {
        let me = std::process::id();
        let p = Proc::default();
        let seen = p.seen(me).unwrap();
        let Look::Threads { main, python, .. } = p.look(seen) else { panic!("gone") };
        assert!(!python, "a Rust test is no Python");
        assert_eq!(p.python(me), Some(false));
        // Started a moment ago, by the wall clock (to a clock tick).
        let age = SystemTime::now().duration_since(p.started_at(seen).unwrap()).unwrap_or_default();
        assert!(age < Duration::from_secs(600), "{age:?}");
        assert_eq!(main.tid, me);
        assert!(main.start > 0);
        assert_eq!(wait_words("futex_wait_queue_me"), Some("waiting on a lock"));
    }
}
