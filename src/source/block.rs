//! A worker whose loop is blocked: connected (the kernel queued the
//! connection, as it does while the worker's loop runs something else),
//! and nothing, or only part of its answer, has come for longer than its
//! answers take. While it lasts: the process as first seen (so a reused pid
//! is never explained), why from /proc each refresh, its Python stack when
//! asked for (py-spy), and for how long.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use super::proc::{self, Look, Proc, Seen};
use super::stack::Capture;
use crate::clock;
use crate::model::{Blocked, Taken};

/// The shortest a worker is given to answer before it counts as blocked.
pub const FLOOR: Duration = Duration::from_millis(250);

/// How long a worker is given before it has ever answered (a big pool's
/// first answer takes a while to build, and there is no history yet).
pub const FIRST: Duration = Duration::from_secs(1);

/// How many of a worker's answer times the threshold looks at.
pub const HISTORY: usize = 8;

/// When a worker that has not answered counts as blocked: the larger of
/// `FLOOR` and four times the slowest of its last `HISTORY` answers; `FIRST`
/// before its first.
pub fn threshold(answers: &[Duration]) -> Duration {
    match answers.iter().max() {
        Some(&slowest) => FLOOR.max(slowest * 4),
        None => FIRST,
    }
}

/// One block, watched.
#[derive(Debug)]
pub struct Watch {
    /// When the worker last sent anything (or was connected to).
    pub since: Instant,
    pub pid: Option<u32>,
    seen: Option<Seen>,
    /// Its main thread's CPU ticks when the block was noticed, and when.
    ticks: Option<(u64, Instant)>,
    why: String,
    /// Past the bound it is waited for: the fetch gave up.
    pub given_up: bool,
    /// Its pid is another process's now (see `begin`).
    reused: bool,
}

/// How much later than its socket a process must have started to be taken
/// for another one: its start is known to a clock tick, and a step of the
/// wall clock between the two moves one against the other. (A pid reused
/// within half a second of the socket being made goes unnoticed.)
pub const REUSE_MARGIN: Duration = Duration::from_millis(500);

impl Watch {
    /// A block noticed at `now`: the worker has sent nothing since `since`.
    /// `known` is the process as first seen, for a worker looked at before;
    /// `made`, when its socket was made (bound).
    pub fn begin(pid: Option<u32>, known: Option<Seen>, made: Option<SystemTime>, since: Instant, now: Instant, proc: &Proc) -> Watch {
        let mut reused = false;
        let seen = match (pid, known) {
            (Some(p), Some(k)) if k.pid == p => Some(k),
            // Seen for the first time: a process that started after the
            // socket was made did not make it (its pid was reused).
            (Some(p), _) if p > 0 => proc.seen(p).filter(|&s| {
                reused = matches!((proc.started_at(s), made), (Some(at), Some(made)) if at > made + REUSE_MARGIN);
                !reused
            }),
            _ => None,
        };
        let ticks = seen.and_then(|s| match proc.look(s) {
            Look::Threads { main, .. } => Some((main.ticks, now)),
            Look::Gone => None,
        });
        let mut w = Watch { since, pid, seen, ticks, why: String::new(), given_up: false, reused };
        w.look(now, proc);
        w
    }

    /// The process as first seen, to keep for the next block.
    pub fn seen(&self) -> Option<Seen> {
        self.seen
    }

    /// Look at the process again; false when it is gone (or its pid is
    /// another process's now).
    pub fn look(&mut self, now: Instant, proc: &Proc) -> bool {
        let Some(seen) = self.seen else {
            self.why = match self.pid {
                Some(p) if self.reused => format!("pid {p} is another process now (it started after the socket was made): the worker's process is gone"),
                Some(0) => "its peer credentials give no pid (it runs in another pid namespace): /proc cannot say why".into(),
                Some(p) => format!("process {p} cannot be looked at in /proc"),
                None => String::new(),
            };
            return true;
        };
        let look = proc.look(seen);
        if look == Look::Gone {
            self.why = format!("its process {} is gone", seen.pid);
            return false;
        }
        let (ticks, at) = self.ticks.unwrap_or((0, now));
        self.why = proc::explain(&look, ticks, now.saturating_duration_since(at).as_secs_f64(), proc::ticks_per_second());
        if let Some(who) = supervisor(seen.pid) {
            self.why = format!("the socket is held by {who}, which may listen for the worker: {}", self.why);
        }
        true
    }

    /// The model's view of it at `now`.
    pub fn state(&self, now: Instant) -> Blocked {
        Blocked { waited: now.saturating_duration_since(self.since), why: self.why.clone(), given_up: self.given_up }
    }

    /// Move its times `by` later (openrtc-top was stopped meanwhile).
    pub fn shift(&mut self, by: Duration) {
        self.since += by;
        if let Some((_, at)) = self.ticks.as_mut() {
            *at += by;
        }
    }
}

/// A process that holds the socket for the worker rather than being it:
/// systemd's socket activation (pid 1) and the like.
fn supervisor(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let comm = comm.trim();
    (pid == 1 || comm == "systemd").then(|| format!("pid {pid} ({})", crate::text::in_message(comm)))
}

/// A stack being taken, and for which block (none: asked for with `y`).
#[derive(Debug)]
pub struct Taking {
    pub capture: Capture,
}

impl Taking {
    pub fn start(py_spy: Option<&Path>, pid: Option<u32>, now: Instant, proc: &Proc) -> Result<Taking, Taken> {
        let failed = |why: String| Taken { at: clock::now_ms(), stack: Err(why) };
        if let Some(p) = pid.filter(|&p| p > 0 && proc.python(p) == Some(false)) {
            let comm = crate::text::in_message(&proc.comm(p)).into_owned();
            return Err(failed(format!("process {p} ({comm}) is not a Python process: py-spy reads only Python stacks")));
        }
        match pid {
            Some(p) if p > 0 => Capture::start(py_spy, p, now).map(|capture| Taking { capture }).map_err(failed),
            Some(_) => Err(failed("no pid to take a stack of (the worker runs in another pid namespace)".into())),
            None => Err(failed("not connected to the worker yet: no pid to take a stack of".into())),
        }
    }

    /// The stack, once py-spy is done.
    pub fn step(&mut self, now: Instant) -> Option<Taken> {
        self.capture.step(now).map(|stack| Taken { at: clock::now_ms(), stack })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_follows_the_workers_answers() {
        let ms = Duration::from_millis;
        assert_eq!(threshold(&[]), FIRST);
        assert_eq!(threshold(&[ms(3), ms(10), ms(2)]), FLOOR);
        assert_eq!(threshold(&[ms(3), ms(400)]), ms(1600));
    }

    #[test]
    fn a_pid_of_zero_is_said_so() {
        let t0 = Instant::now();
        let w = Watch::begin(Some(0), None, None, t0, t0, &Proc::default());
        assert!(w.state(t0 + Duration::from_secs(3)).why.contains("another pid namespace"));
        assert_eq!(w.state(t0 + Duration::from_secs(3)).waited, Duration::from_secs(3));
        let me = Watch::begin(Some(std::process::id()), None, None, t0, t0, &Proc::default());
        assert!(me.state(t0).why.starts_with("main thread "), "{}", me.state(t0).why);
        // A socket made before this process started was not made by it.
        let long_ago = SystemTime::now() - Duration::from_secs(365 * 86_400);
        let reused = Watch::begin(Some(std::process::id()), None, Some(long_ago), t0, t0, &Proc::default());
        assert!(reused.state(t0).why.starts_with(&format!("pid {} is another process now", std::process::id())), "{}", reused.state(t0).why);
        let made_now = Watch::begin(Some(std::process::id()), None, Some(SystemTime::now()), t0, t0, &Proc::default());
        assert!(made_now.state(t0).why.starts_with("main thread "));
    }
}
