//! Waiting, for every loop on the one thread (the live view, `--once` and
//! batch mode, the recorder, the exporter): poll(2) over any set of
//! descriptors, each watched for input or output with a deadline of its
//! own, and a wake-up time besides. A signal ends the wait early (none of
//! ours is installed with SA_RESTART), and the caller looks at its flag.

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// What a descriptor is watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Read,
    Write,
}

/// One wait's descriptors and deadlines.
#[derive(Debug, Default)]
pub struct Poll {
    fds: Vec<libc::pollfd>,
    deadlines: Vec<Option<Instant>>,
    wake: Option<Instant>,
}

impl Poll {
    pub fn new() -> Poll {
        Poll::default()
    }

    /// Watch `fd` (a negative one is a place holder poll(2) passes over)
    /// until `deadline`; its slot, for `ready` and `due`.
    pub fn watch(&mut self, fd: RawFd, want: Want, deadline: Option<Instant>) -> usize {
        let events = match want {
            Want::Read => libc::POLLIN,
            Want::Write => libc::POLLOUT,
        };
        self.fds.push(libc::pollfd { fd, events, revents: 0 });
        self.deadlines.push(deadline);
        self.fds.len() - 1
    }

    /// Wake no later than `at`, whether or not anything is ready.
    pub fn wake_by(&mut self, at: Instant) {
        self.wake = Some(self.wake.map_or(at, |w| w.min(at)));
    }

    /// When the wait ends at the latest: the earliest deadline or wake-up.
    pub fn until(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().chain(&self.wake).min().copied()
    }

    /// Wait until something is ready, a deadline passes, or a signal
    /// arrives; `Ok(false)` when a signal ended it.
    pub fn wait(&mut self) -> io::Result<bool> {
        for p in &mut self.fds {
            p.revents = 0;
        }
        let timeout = self.until().map(|t| t.saturating_duration_since(Instant::now()));
        match poll(&mut self.fds, timeout) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether the descriptor in `slot` is ready (or closed, or in error:
    /// a read or write then says which).
    pub fn ready(&self, slot: usize) -> bool {
        self.fds.get(slot).is_some_and(|p| p.revents != 0)
    }

    /// Whether the deadline of `slot` has passed.
    pub fn due(&self, slot: usize, now: Instant) -> bool {
        self.deadlines.get(slot).copied().flatten().is_some_and(|d| now >= d)
    }
}

/// poll(2) over `fds` for at most `timeout` (none: until something is
/// ready), rounded up to a millisecond so that a wait for a deadline never
/// wakes just before it.
fn poll(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<usize> {
    let ms = timeout.map_or(-1, |t| t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32);
    // SAFETY: fds is a valid slice of pollfd of its length; negative fds are ignored.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

/// Sleep until `at`, or until a signal arrives (then `false`).
pub fn sleep_until(at: Instant) -> bool {
    let mut p = Poll::new();
    p.wake_by(at);
    p.wait().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn each_descriptor_is_ready_or_due_on_its_own() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixStream::pair().unwrap();
        let now = Instant::now();
        let mut p = Poll::new();
        let readable = p.watch(b.as_raw_fd(), Want::Read, None);
        let silent = p.watch(c.as_raw_fd(), Want::Read, Some(now + Duration::from_millis(30)));
        let writable = p.watch(c.as_raw_fd(), Want::Write, Some(now + Duration::from_secs(60)));
        assert_eq!(p.until(), Some(now + Duration::from_millis(30)));
        a.write_all(b"x").unwrap();
        assert!(p.wait().unwrap());
        assert!(p.ready(readable) && !p.ready(silent) && p.ready(writable));
        // Nothing ready but a deadline: the wait ends at it, not before.
        let mut p = Poll::new();
        let silent = p.watch(c.as_raw_fd(), Want::Read, Some(Instant::now() + Duration::from_millis(30)));
        assert!(p.wait().unwrap());
        assert!(!p.ready(silent) && p.due(silent, Instant::now()));
        assert!(sleep_until(Instant::now() + Duration::from_millis(5)));
    }
}
