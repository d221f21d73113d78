//! One fetch of one worker's snapshot, without blocking (many run at once
//! on one thread): connect, check who serves, read one bounded line.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::message::FetchError;
use super::target::{MAX_PAYLOAD, TIMEOUT, Target};
use super::trust::{check_peer, open_checked};

/// One payload line, and whether it ended with its newline (or at EOF).
#[derive(Debug, PartialEq, Eq)]
pub struct Payload {
    pub bytes: Vec<u8>,
    pub newline: bool,
}

/// One fetch from one worker, driven by the caller's poll(2) loop so that
/// many run at once on one thread: connect without blocking (retried while
/// the worker's backlog is full: a blocking connect to a hung worker would
/// never return), check who is serving, then read one line as it arrives.
/// The reference client's connect limit holds (2 s), then the line is
/// waited for up to `wait` (one overall limit, so a peer dripping a byte a
/// second cannot stretch it: 2 s for `--once`, longer in the live view,
/// where a worker whose loop is blocked answers when it runs again), and
/// at most `MAX_PAYLOAD` bytes are read.
#[derive(Debug)]
pub struct Fetch {
    fd: OwnedFd,
    addr: libc::sockaddr_un,
    phase: Phase,
    buf: Vec<u8>,
    /// The size of this worker's last payload: the first read makes room
    /// for about that much at once.
    expect: usize,
    wait: Duration,
    /// The listener's pid, from the peer credentials (0: another pid
    /// namespace), once connected.
    pid: Option<u32>,
    /// The socket file connected to (device and inode), to tell when a
    /// new worker has taken its path since.
    file: Option<(u64, u64)>,
    /// The checked directory the address goes through, while connecting.
    dir: Option<OwnedFd>,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Connecting { by: Instant, retry_at: Instant },
    /// Connected; `since` is when the last byte came (or the connection,
    /// before the first).
    Reading { by: Instant, since: Instant },
}

/// Where a fetch stands after `Fetch::step`.
#[derive(Debug)]
pub enum Step {
    Pending,
    Done(Result<Payload, FetchError>),
}

/// A connect that found the backlog full is tried again this much later.
const RETRY: Duration = Duration::from_millis(10);

impl Fetch {
    /// Check the directory when the path is the default one, open a socket
    /// and try to connect once. Errors known now are returned now.
    pub fn start(t: &Target, now: Instant, expect: usize, buf: Vec<u8>, wait: Duration) -> Result<Fetch, FetchError> {
        let (dir, through) = match t.checked {
            true => open_checked(&t.path).map(|(fd, p)| (Some(fd), p))?,
            false => (None, t.path.clone()),
        };
        let bytes = through.as_os_str().as_bytes();
        // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
            return Err(FetchError::PathTooLong(bytes.len()));
        }
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, &src) in addr.sun_path.iter_mut().zip(bytes) {
            *dst = src as libc::c_char;
        }
        // SAFETY: plain socket(2); the result is checked before use.
        let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
        if raw < 0 {
            return Err(FetchError::Io(io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh descriptor that we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut f = Fetch { fd, addr, phase: Phase::Connecting { by: now + TIMEOUT, retry_at: now }, buf, expect, wait, pid: None, file: None, dir };
        f.connect(now, &t.path)?;
        Ok(f)
    }

    /// The descriptor to poll for input, once connected.
    pub fn poll_fd(&self) -> Option<RawFd> {
        matches!(self.phase, Phase::Reading { .. }).then(|| self.fd.as_raw_fd())
    }

    /// When to look at this fetch again even if nothing arrives: the next
    /// connect attempt, or the deadline.
    pub fn wake_at(&self) -> Instant {
        match self.phase {
            Phase::Connecting { by, retry_at } => retry_at.min(by),
            Phase::Reading { by, .. } => by,
        }
    }

    /// The listener's pid, once connected.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the socket at `path` is still the one connected to (a
    /// worker that restarts on the same path makes a new one).
    pub fn same_socket(&self, path: &Path) -> bool {
        self.file.is_none() || socket_file(path) == self.file
    }

    /// Since when nothing has come, once connected.
    pub fn quiet_since(&self) -> Option<Instant> {
        match self.phase {
            Phase::Reading { since, .. } => Some(since),
            Phase::Connecting { .. } => None,
        }
    }

    /// Move its times `by` later: time openrtc-top itself was stopped
    /// (Ctrl-Z) is not time the worker took.
    pub fn shift(&mut self, by: Duration) {
        self.phase = match self.phase {
            Phase::Connecting { by: b, retry_at } => Phase::Connecting { by: b + by, retry_at: retry_at + by },
            Phase::Reading { by: b, since } => Phase::Reading { by: b + by, since: since + by },
        };
    }

    /// Bytes held for the line so far (its buffer's size).
    pub fn held(&self) -> usize {
        self.buf.capacity()
    }

    /// Make what progress can be made now without blocking. `room` is how
    /// large the buffer may grow within the pool's total budget.
    pub fn step(&mut self, now: Instant, path: &Path, room: usize) -> Step {
        if let Phase::Connecting { retry_at, .. } = self.phase {
            if now < retry_at {
                return Step::Pending;
            }
            if let Err(e) = self.connect(now, path) {
                return Step::Done(Err(e));
            }
        }
        match self.phase {
            Phase::Connecting { .. } => Step::Pending,
            Phase::Reading { by, since } => {
                let before = self.buf.len();
                match self.read(room) {
                    Ok(Some(p)) => Step::Done(Ok(p)),
                    Err(e) => Step::Done(Err(e)),
                    Ok(None) => {
                        let since = if self.buf.len() > before { now } else { since };
                        self.phase = Phase::Reading { by, since };
                        let n = self.buf.len();
                        match now >= by {
                            true => Step::Done(Err(if n == 0 { FetchError::Silent } else { FetchError::Stalled(n) })),
                            false => Step::Pending,
                        }
                    }
                }
            }
        }
    }

    /// One connect attempt: connected (and the peer trusted) moves on to
    /// reading; a full backlog waits for the next attempt, until the deadline.
    fn connect(&mut self, now: Instant, path: &Path) -> Result<(), FetchError> {
        let Phase::Connecting { by, .. } = self.phase else { return Ok(()) };
        // SAFETY: addr is initialised and its size is passed.
        let rc = unsafe {
            libc::connect(
                self.fd.as_raw_fd(),
                (&raw const self.addr).cast(),
                std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
            )
        };
        let err = (rc != 0).then(io::Error::last_os_error);
        match err.as_ref().and_then(io::Error::raw_os_error) {
            None | Some(libc::EISCONN) => {
                self.pid = Some(check_peer(self.fd.as_raw_fd())?);
                self.file = socket_file(path);
                self.dir = None;
                self.phase = Phase::Reading { by: now + self.wait, since: now };
                Ok(())
            }
            Some(libc::EAGAIN | libc::EINPROGRESS | libc::EALREADY | libc::EINTR) => {
                if now >= by {
                    return Err(FetchError::ConnectTimeout);
                }
                self.phase = Phase::Connecting { by, retry_at: now + RETRY };
                Ok(())
            }
            Some(libc::ENOENT | libc::ENOTDIR | libc::ECONNREFUSED | libc::ENOTSOCK) => Err(why_refused(path)),
            Some(libc::EACCES | libc::EPERM) => Err(FetchError::PermissionDenied),
            Some(_) => Err(FetchError::Io(err.expect("an error code comes from an error"))),
        }
    }

    /// Read what is there: the line when it is complete (or the peer
    /// closed), `None` while more is to come.
    fn read(&mut self, room: usize) -> Result<Option<Payload>, FetchError> {
        const CHUNK: usize = 256 * 1024;
        let expect = self.expect;
        let buf = &mut self.buf;
        loop {
            let len = buf.len();
            if buf.capacity() == len {
                // Exactly 1.5x (not reserve's doubling): address space counts
                // under `ulimit -v`, touched or not. The first time, room for
                // the last payload and an eighth: a payload of megabytes
                // growing from 256 KiB was copied five times and faulted in
                // three times its size (at 9,600 sessions, a tenth of the
                // live view's time).
                let cap = MAX_PAYLOAD.min(room.max(len));
                // (Not rounded up to CHUNK then: 32 workers of 56 KB each
                // took 256 KiB apiece.)
                let want = match len {
                    0 if expect > 0 => expect + expect / 8 + 64,
                    _ => CHUNK.max(len / 2),
                };
                buf.reserve_exact(want.min(cap + 1 - len.min(cap)));
            }
            // Read straight into the buffer's spare room: no second copy of a
            // snapshot that can be tens of megabytes.
            let spare = buf.spare_capacity_mut();
            // SAFETY: read(2) writes at most spare.len() bytes into spare.
            let got = unsafe { libc::read(self.fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
            if got < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(None),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Err(FetchError::Reset(len)),
                    _ => Err(FetchError::Io(e)),
                };
            }
            let n = got as usize;
            if n == 0 {
                return if len == 0 {
                    Err(FetchError::ClosedEmpty)
                } else {
                    Ok(Some(Payload { bytes: std::mem::take(buf), newline: false }))
                };
            }
            // SAFETY: read(2) initialised these n bytes just past len.
            unsafe { buf.set_len(len + n) };
            let end = memchr_newline(&buf[len..]).map(|i| len + i);
            let size = end.unwrap_or(buf.len());
            if size > MAX_PAYLOAD {
                return Err(FetchError::TooLarge);
            }
            if size > room {
                return Err(FetchError::OverBudget);
            }
            if let Some(end) = end {
                buf.truncate(end);
                return Ok(Some(Payload { bytes: std::mem::take(buf), newline: true }));
            }
        }
    }
}

/// The device and inode of the file at `path`.
fn socket_file(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Linux answers ECONNREFUSED both for a stale socket and for a regular file;
/// look at the path to tell the operator which.
fn why_refused(path: &Path) -> FetchError {
    match std::fs::metadata(path) {
        Err(_) => FetchError::NoSocket,
        Ok(m) if m.file_type().is_socket() => FetchError::Refused,
        Ok(m) if m.is_dir() => FetchError::NotSocket("a directory"),
        Ok(m) if m.is_file() => FetchError::NotSocket("a regular file"),
        Ok(m) if m.file_type().is_fifo() => FetchError::NotSocket("a named pipe"),
        Ok(_) => FetchError::NotSocket("a device or other special file"),
    }
}

/// The first newline in `b` (libc's memchr: vectorised, unlike a byte loop).
pub(crate) fn memchr_newline(b: &[u8]) -> Option<usize> {
    // SAFETY: memchr reads at most b.len() bytes of b.
    let p = unsafe { libc::memchr(b.as_ptr().cast(), i32::from(b'\n'), b.len()) };
    (!p.is_null()).then(|| p as usize - b.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::os::unix::net::UnixListener;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ortop-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    /// A step that must have ended the fetch.
    fn done(s: Step) -> Result<Payload, FetchError> {
        match s {
            Step::Done(r) => r,
            Step::Pending => panic!("the fetch should have ended"),
        }
    }

    /// Drive one fetch to its end, as `Sources` does, with `room` bytes.
    fn drive(t: &Target, room: usize) -> Result<Payload, FetchError> {
        let mut f = Fetch::start(t, Instant::now(), 0, Vec::new(), TIMEOUT)?;
        loop {
            let now = Instant::now();
            if let Step::Done(r) = f.step(now, &t.path, room) {
                return r;
            }
            let mut p = crate::poll::Poll::new();
            p.watch(f.poll_fd().unwrap_or(-1), crate::poll::Want::Read, Some(f.wake_at()));
            p.wait().unwrap();
        }
    }

    #[test]
    fn a_fetch_stops_at_newline_budget_and_eof() {
        let d = tmpdir("read");
        let sock = d.join("s");
        let l = UnixListener::bind(&sock).unwrap();
        let t = Target { path: sock.clone(), checked: false };
        let serve = |bytes: &'static [u8], room: usize| {
            std::thread::scope(|sc| {
                let h = sc.spawn(|| {
                    let (mut s, _) = l.accept().unwrap();
                    std::io::Write::write_all(&mut s, bytes).unwrap();
                });
                let r = drive(&t, room);
                h.join().unwrap();
                r
            })
        };
        assert_eq!(serve(b"abc\ntrailing", 1 << 20).unwrap(), Payload { bytes: b"abc".to_vec(), newline: true });
        assert_eq!(serve(b"no newline", 1 << 20).unwrap(), Payload { bytes: b"no newline".to_vec(), newline: false });
        assert!(matches!(serve(b"", 1 << 20), Err(FetchError::ClosedEmpty)));
        assert!(matches!(serve(b"0123456789abcdefg", 16), Err(FetchError::OverBudget)));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_reset_mid_read_is_reported_with_the_bytes_so_far() {
        // Linux resets a Unix stream when the peer closes with unread data in
        // its queue: the client writes a byte the server never reads.
        let d = tmpdir("reset");
        let l = UnixListener::bind(d.join("s")).unwrap();
        let t = Target { path: d.join("s"), checked: false };
        let mut f = Fetch::start(&t, Instant::now(), 0, Vec::new(), TIMEOUT).unwrap();
        let (mut s, _) = l.accept().unwrap();
        // SAFETY: a one-byte write to our own connected socket.
        assert_eq!(unsafe { libc::write(f.poll_fd().unwrap(), b"x".as_ptr().cast(), 1) }, 1);
        std::io::Write::write_all(&mut s, b"{\"sessions\": [").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(s);
        let r = done(f.step(Instant::now(), &t.path, 1 << 20));
        assert!(matches!(r, Err(FetchError::Reset(14))), "{r:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_silent_worker_times_out_without_blocking() {
        let d = tmpdir("silent");
        let _l = UnixListener::bind(d.join("s")).unwrap();
        let t = Target { path: d.join("s"), checked: false };
        let t0 = Instant::now();
        let mut f = Fetch::start(&t, t0, 0, Vec::new(), TIMEOUT).unwrap();
        assert!(matches!(f.step(t0, &t.path, 1 << 20), Step::Pending));
        assert_eq!(f.wake_at(), t0 + TIMEOUT);
        let r = done(f.step(t0 + TIMEOUT, &t.path, 1 << 20));
        assert!(matches!(r, Err(FetchError::Silent)), "{r:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn connect_reports_what_the_path_is() {
        let d = tmpdir("connect");
        let connect = |p: PathBuf| Fetch::start(&Target { path: p, checked: false }, Instant::now(), 0, Vec::new(), TIMEOUT).map(|_| ());
        assert!(matches!(connect(d.join("missing")), Err(FetchError::NoSocket)));
        std::fs::write(d.join("file"), b"x").unwrap();
        assert!(matches!(connect(d.join("file")), Err(FetchError::NotSocket("a regular file"))));
        assert!(matches!(connect(d.clone()), Err(FetchError::NotSocket("a directory"))));
        drop(UnixListener::bind(d.join("stale")).unwrap());
        assert!(matches!(connect(d.join("stale")), Err(FetchError::Refused)));
        let long = d.join("x".repeat(200));
        assert!(matches!(connect(long), Err(FetchError::PathTooLong(_))));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
