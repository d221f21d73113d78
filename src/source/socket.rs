//! One worker's socket: whether to trust it, and one bounded read of its
//! snapshot line, without blocking (many run at once on one thread).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::path::default_path;

/// The reference client's connect and read limits.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Admits 100,000 sessions (about 20 MB) with room for long strings, and stops
/// a peer that never sends its newline before it costs real memory.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// What all workers' snapshots may hold at once: each worker's last one and
/// the one being read, in bytes of payload. With up to `discover::MAX`
/// workers at `MAX_PAYLOAD` each the total would be 16 GiB; this keeps it
/// bounded (a fetch that would pass it fails, and its worker shows why).
pub const POOL_BUDGET: usize = 256 << 20;

/// Where to connect, and whether the path came from the default resolution
/// (its directory is then checked like the worker checks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    pub default: bool,
}

impl Target {
    pub fn new(explicit: Option<PathBuf>) -> Target {
        match explicit {
            Some(path) => Target { path, default: false },
            None => Target { path: default_path(), default: true },
        }
    }

    /// The path as shown in messages (never with raw control bytes).
    pub fn shown(&self) -> String {
        crate::text::in_message(&self.path.to_string_lossy()).into_owned()
    }
}

// ---------------------------------------------------------------------------
// Fetching one snapshot.

/// Why no snapshot could be read. Each case has its own message.
#[derive(Debug)]
pub enum FetchError {
    NoSocket,
    Refused,
    ConnectTimeout,
    NotSocket(&'static str),
    PermissionDenied,
    PathTooLong(usize),
    /// Accepted, then sent nothing before the timeout.
    Silent,
    /// Sent part of a line, then nothing before the timeout.
    Stalled(usize),
    ClosedEmpty,
    /// Closed after this many bytes, inside a snapshot that does not parse
    /// (on Linux a peer that dies mid-write reads as end of input).
    CutOff(usize),
    TooLarge,
    /// Reading it would take the workers' snapshots past `POOL_BUDGET`.
    OverBudget,
    Reset(usize),
    UnsafeDir(PathBuf, String),
    UntrustedPeer(u32),
    /// A signal arrived while waiting; the caller decides what it means.
    Interrupted,
    Io(io::Error),
}

impl FetchError {
    /// The reference reports these as "no running openrtc pool".
    pub fn no_pool(&self) -> bool {
        self.no_pool_reason().is_some()
    }

    /// Why there is no pool, for the cases the reference calls "no running
    /// openrtc pool".
    pub fn no_pool_reason(&self) -> Option<String> {
        let secs = TIMEOUT.as_secs();
        Some(match self {
            FetchError::NoSocket => "no socket there".into(),
            FetchError::Refused => "nothing is listening on the socket".into(),
            FetchError::ConnectTimeout => format!("connect timed out after {secs}s"),
            FetchError::Silent => format!("the worker accepted but sent nothing within {secs}s"),
            _ => return None,
        })
    }

    /// One line naming the path: "no running openrtc pool at P (why)" or the
    /// specific fault.
    pub fn message(&self, t: &Target) -> String {
        let p = t.shown();
        let secs = TIMEOUT.as_secs();
        match self {
            FetchError::NoSocket | FetchError::Refused | FetchError::ConnectTimeout | FetchError::Silent => {
                format!("no running openrtc pool at {p} ({})", self.no_pool_reason().unwrap_or_default())
            }
            FetchError::NotSocket(kind) => format!("{p} is not a socket (it is {kind})"),
            FetchError::PermissionDenied => format!("permission denied connecting to {p}"),
            FetchError::PathTooLong(n) => {
                format!("socket path {p} is too long ({n} bytes; a Unix socket path holds at most 107)")
            }
            FetchError::Stalled(n) => format!(
                "the worker at {p} sent {n} bytes and stalled before finishing its snapshot (timed out after {secs}s)"
            ),
            FetchError::ClosedEmpty => format!("the worker at {p} closed the connection without sending a snapshot"),
            FetchError::CutOff(n) => {
                format!("the worker at {p} closed the connection after {n} bytes, in the middle of its snapshot")
            }
            FetchError::TooLarge => format!(
                "the worker at {p} sent more than {} MiB without ending its snapshot; stopped reading",
                MAX_PAYLOAD >> 20
            ),
            FetchError::OverBudget => format!(
                "the snapshot of the worker at {p} would take all workers' snapshots together past {} MiB; stopped reading",
                POOL_BUDGET >> 20
            ),
            FetchError::Reset(n) => format!("the worker at {p} reset the connection after {n} bytes"),
            FetchError::UnsafeDir(dir, why) => format!(
                "refusing the socket directory {}: {why}",
                crate::text::in_message(&dir.to_string_lossy())
            ),
            FetchError::UntrustedPeer(uid) => format!(
                "refusing the worker at {p}: it runs as uid {uid}, neither you (uid {}) nor root",
                // SAFETY: getuid cannot fail.
                unsafe { libc::getuid() }
            ),
            FetchError::Interrupted => format!("interrupted while reading from {p}"),
            FetchError::Io(e) => format!("cannot read from {p}: {e}"),
        }
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<&'static str> {
        self.no_pool().then_some(NO_POOL_HINT)
    }

    /// The trust checks refused the socket or its directory: it is never read.
    pub fn refusal(&self) -> bool {
        matches!(self, FetchError::UnsafeDir(..) | FetchError::UntrustedPeer(_))
    }

    /// Why, in a few words and without the path: for a line that already
    /// names the worker.
    pub fn reason(&self) -> String {
        let secs = TIMEOUT.as_secs();
        match self {
            FetchError::NotSocket(kind) => format!("not a socket (it is {kind})"),
            FetchError::PermissionDenied => "permission denied".into(),
            FetchError::PathTooLong(n) => format!("socket path too long ({n} bytes)"),
            FetchError::Stalled(n) => format!("sent {n} bytes, then nothing for {secs}s"),
            FetchError::ClosedEmpty => "closed without sending a snapshot".into(),
            FetchError::CutOff(n) => format!("closed after {n} bytes, inside its snapshot"),
            FetchError::TooLarge => format!("sent more than {} MiB", MAX_PAYLOAD >> 20),
            FetchError::OverBudget => format!("over the {} MiB all snapshots may hold", POOL_BUDGET >> 20),
            FetchError::Reset(n) => format!("reset the connection after {n} bytes"),
            FetchError::UnsafeDir(_, why) => format!("refused: {why}"),
            FetchError::UntrustedPeer(uid) => format!("refused: it runs as uid {uid}, neither you nor root"),
            FetchError::Interrupted => "interrupted".into(),
            FetchError::Io(e) => e.to_string(),
            e => e.no_pool_reason().unwrap_or_default(),
        }
    }
}

/// The hint after "no running openrtc pool".
pub const NO_POOL_HINT: &str = "start a coroutine-mode worker ('openrtc dev ./agents' or 'openrtc start ./agents'), \
     or pass --socket PATH if it serves elsewhere";


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
/// The reference client's limits hold: 2 s to connect, then 2 s to read the
/// whole line (one overall limit, so a peer dripping a byte a second cannot
/// stretch it), and at most `MAX_PAYLOAD` bytes.
#[derive(Debug)]
pub struct Fetch {
    fd: OwnedFd,
    addr: libc::sockaddr_un,
    phase: Phase,
    buf: Vec<u8>,
    /// The size of this worker's last payload: the first read makes room
    /// for about that much at once.
    expect: usize,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Connecting { by: Instant, retry_at: Instant },
    Reading { by: Instant },
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
    pub fn start(t: &Target, now: Instant, expect: usize, buf: Vec<u8>) -> Result<Fetch, FetchError> {
        if t.default {
            check_dir(t.path.parent().unwrap_or(Path::new(".")))?;
        }
        let bytes = t.path.as_os_str().as_bytes();
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
        let mut f = Fetch { fd, addr, phase: Phase::Connecting { by: now + TIMEOUT, retry_at: now }, buf, expect };
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
            Phase::Reading { by } => by,
        }
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
            Phase::Reading { by } => match self.read(room) {
                Ok(Some(p)) => Step::Done(Ok(p)),
                Err(e) => Step::Done(Err(e)),
                Ok(None) if now >= by => {
                    let n = self.buf.len();
                    Step::Done(Err(if n == 0 { FetchError::Silent } else { FetchError::Stalled(n) }))
                }
                Ok(None) => Step::Pending,
            },
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
                check_peer(self.fd.as_raw_fd())?;
                self.phase = Phase::Reading { by: now + TIMEOUT };
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

/// One fetch, waiting for it: poll(2) on its one socket. `abort` is asked
/// when a signal interrupts the wait.
pub fn fetch(t: &Target, abort: &dyn Fn() -> bool) -> Result<Payload, FetchError> {
    let mut f = Fetch::start(t, Instant::now(), 0, Vec::new())?;
    loop {
        let now = Instant::now();
        if let Step::Done(r) = f.step(now, &t.path, MAX_PAYLOAD) {
            return r;
        }
        let fd = f.poll_fd().unwrap_or(-1);
        match wait(&mut [libc::pollfd { fd, events: libc::POLLIN, revents: 0 }], f.wake_at().saturating_duration_since(now)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted && abort() => return Err(FetchError::Interrupted),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FetchError::Io(e)),
            Ok(_) => {}
        }
    }
}

/// poll(2) over `fds` for at most `timeout` (rounded up to a millisecond,
/// so a wait for a deadline never wakes just before it).
pub fn wait(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<usize> {
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: fds is a valid slice of pollfd of its length; negative fds are ignored.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

/// The worker makes its per-uid directory itself, 0700 and not a symlink;
/// anything else there may be a planted trap, so say why and stop.
pub fn check_dir(dir: &Path) -> Result<(), FetchError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(FetchError::NoSocket),
        Err(e) => return Err(FetchError::Io(e)),
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let kind = if meta.file_type().is_symlink() {
        DirKind::Symlink
    } else if meta.is_dir() {
        DirKind::Dir
    } else {
        DirKind::Other
    };
    judge_dir(kind, meta.uid(), meta.mode(), me).map_err(|why| FetchError::UnsafeDir(dir.to_path_buf(), why))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirKind {
    Dir,
    Symlink,
    Other,
}

/// The trust decision for the socket directory, without the filesystem.
pub fn judge_dir(kind: DirKind, owner: u32, mode: u32, me: u32) -> Result<(), String> {
    match kind {
        DirKind::Symlink => {
            return Err("it is a symlink (the worker refuses one too); remove it and restart the worker".into());
        }
        DirKind::Other => return Err("it is not a directory; remove it and restart the worker".into()),
        DirKind::Dir => {}
    }
    if owner != me {
        return Err(format!("it is owned by uid {owner}, not by you (uid {me}); check who created it"));
    }
    let mode = mode & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "it is open to group or others (mode {mode:o}); the worker makes it 700: run 'chmod 700' on it or restart the worker"
        ));
    }
    Ok(())
}

/// Whether a peer with `peer` uid may feed this terminal.
pub fn trusted_peer(peer: u32, uid: u32, euid: u32) -> bool {
    peer == uid || peer == euid || peer == 0
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

/// Only the current user or root may feed this terminal (SO_PEERCRED).
pub fn check_peer(fd: RawFd) -> Result<(), FetchError> {
    // SAFETY: ucred is plain old data; getsockopt fills it and its length.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PEERCRED, (&raw mut cred).cast(), &mut len) };
    if rc != 0 {
        return Err(FetchError::Io(io::Error::last_os_error()));
    }
    // SAFETY: getuid/geteuid cannot fail.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    if trusted_peer(cred.uid, uid, euid) { Ok(()) } else { Err(FetchError::UntrustedPeer(cred.uid)) }
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

    /// Drive one fetch to its end, as `fetch` does, with `room` bytes.
    fn drive(t: &Target, room: usize) -> Result<Payload, FetchError> {
        let mut f = Fetch::start(t, Instant::now(), 0, Vec::new())?;
        loop {
            let now = Instant::now();
            if let Step::Done(r) = f.step(now, &t.path, room) {
                return r;
            }
            let fd = f.poll_fd().unwrap_or(-1);
            wait(&mut [libc::pollfd { fd, events: libc::POLLIN, revents: 0 }], f.wake_at().saturating_duration_since(now)).unwrap();
        }
    }

    #[test]
    fn a_fetch_stops_at_newline_budget_and_eof() {
        let d = tmpdir("read");
        let sock = d.join("s");
        let l = UnixListener::bind(&sock).unwrap();
        let t = Target { path: sock.clone(), default: false };
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
        let t = Target { path: d.join("s"), default: false };
        let mut f = Fetch::start(&t, Instant::now(), 0, Vec::new()).unwrap();
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
        let t = Target { path: d.join("s"), default: false };
        let t0 = Instant::now();
        let mut f = Fetch::start(&t, t0, 0, Vec::new()).unwrap();
        assert!(matches!(f.step(t0, &t.path, 1 << 20), Step::Pending));
        assert_eq!(f.wake_at(), t0 + TIMEOUT);
        let r = done(f.step(t0 + TIMEOUT, &t.path, 1 << 20));
        assert!(matches!(r, Err(FetchError::Silent)), "{r:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn trust_decisions() {
        assert!(judge_dir(DirKind::Dir, 1000, 0o40700, 1000).is_ok());
        assert!(judge_dir(DirKind::Dir, 0, 0o700, 1000).unwrap_err().contains("owned by uid 0, not by you (uid 1000)"));
        assert!(judge_dir(DirKind::Dir, 1000, 0o750, 1000).unwrap_err().contains("mode 750"));
        assert!(judge_dir(DirKind::Dir, 1000, 0o701, 1000).unwrap_err().contains("mode 701"));
        assert!(judge_dir(DirKind::Symlink, 1000, 0o777, 1000).unwrap_err().contains("symlink"));
        assert!(judge_dir(DirKind::Other, 1000, 0o700, 1000).unwrap_err().contains("not a directory"));
        assert!(trusted_peer(1000, 1000, 1000));
        assert!(trusted_peer(0, 1000, 1000));
        assert!(trusted_peer(1000, 1001, 1000));
        assert!(!trusted_peer(1002, 1000, 1000));
    }

    #[test]
    fn connect_reports_what_the_path_is() {
        let d = tmpdir("connect");
        let connect = |p: PathBuf| Fetch::start(&Target { path: p, default: false }, Instant::now(), 0, Vec::new()).map(|_| ());
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

    #[test]
    fn directory_trust() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmpdir("trust");
        let dir = d.join("openrtc-x");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_dir(&dir).is_ok());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = check_dir(&dir).unwrap_err();
        assert!(matches!(&e, FetchError::UnsafeDir(_, why) if why.contains("mode 755")), "{e:?}");
        std::os::unix::fs::symlink(&dir, d.join("link")).unwrap();
        let e = check_dir(&d.join("link")).unwrap_err();
        assert!(matches!(&e, FetchError::UnsafeDir(_, why) if why.contains("symlink")), "{e:?}");
        assert!(matches!(check_dir(&d.join("absent")), Err(FetchError::NoSocket)));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
