//! The worker's socket: where it is, whether to trust it, and one bounded read.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The reference client's connect and read limits.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Admits 100,000 sessions (about 20 MB) with room for long strings, and stops
/// a peer that never sends its newline before it costs real memory.
pub const MAX_PAYLOAD: usize = 64 << 20;

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
// Default path: byte for byte what openrtc's `default_socket_path()` computes.

/// `$XDG_RUNTIME_DIR/openrtc-<uid>/top.sock`, else the same under Python's
/// `tempfile.gettempdir()`.
pub fn default_path() -> PathBuf {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    resolve_default(&|k| std::env::var_os(k), uid, std::env::current_dir().ok(), &usable_dir)
}

/// The resolution with its environment passed in, for tests.
pub fn resolve_default(
    env: &dyn Fn(&str) -> Option<OsString>,
    uid: u32,
    cwd: Option<PathBuf>,
    usable: &dyn Fn(&Path) -> bool,
) -> PathBuf {
    let base = match env("XDG_RUNTIME_DIR").filter(|x| !x.is_empty()) {
        Some(xdg) => pathlib(&xdg),
        None => gettempdir(env, cwd, usable),
    };
    base.join(format!("openrtc-{uid}")).join("top.sock")
}

/// Python's `tempfile.gettempdir()`: the first candidate where a file can be
/// created, made absolute with `os.path.abspath`.
fn gettempdir(
    env: &dyn Fn(&str) -> Option<OsString>,
    cwd: Option<PathBuf>,
    usable: &dyn Fn(&Path) -> bool,
) -> PathBuf {
    let mut candidates: Vec<OsString> =
        ["TMPDIR", "TEMP", "TMP"].iter().filter_map(|k| env(k).filter(|v| !v.is_empty())).collect();
    candidates.extend(["/tmp", "/var/tmp", "/usr/tmp"].map(OsString::from));
    let cwd_bytes = cwd.as_ref().map(|c| c.as_os_str().as_bytes().to_vec());
    candidates.push(cwd.clone().map_or_else(|| ".".into(), PathBuf::into_os_string));
    for dir in candidates {
        let abs = if dir == "." { PathBuf::from(".") } else { abspath(dir.as_bytes(), cwd_bytes.as_deref()) };
        if usable(&abs) {
            return abs;
        }
    }
    // Python raises here and the worker cannot start; any answer is "no pool".
    PathBuf::from("/tmp")
}

/// Can a file be created in `dir` (as Python's probe file would be)?
fn usable_dir(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    dir.is_dir()
        // SAFETY: c is a valid NUL-terminated path.
        && unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK | libc::X_OK, libc::AT_EACCESS) } == 0
}

/// `os.path.abspath`: join to the cwd if relative, then `normpath`.
fn abspath(p: &[u8], cwd: Option<&[u8]>) -> PathBuf {
    let joined = match (p.first(), cwd) {
        (Some(b'/'), _) | (_, None) => p.to_vec(),
        (_, Some(c)) => [c, b"/", p].concat(),
    };
    PathBuf::from(OsString::from_vec(normpath(&joined)))
}

/// `posixpath.normpath`, including its keeping of exactly two leading slashes.
fn normpath(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let slashes = if p.starts_with(b"//") && !p.starts_with(b"///") {
        2
    } else {
        usize::from(p.starts_with(b"/"))
    };
    let mut comps: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if (slashes > 0 || !comps.is_empty()) && comps.last() != Some(&&b".."[..]) => {
                comps.pop();
            }
            _ => comps.push(c),
        }
    }
    let mut out = b"/".repeat(slashes);
    out.extend(comps.join(&b'/'));
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// `pathlib.Path(s)`: drops empty and `.` parts (not `..`), keeps exactly two
/// leading slashes, removes a trailing slash.
fn pathlib(s: &OsStr) -> PathBuf {
    let b = s.as_bytes();
    let root: &[u8] = if b.starts_with(b"//") && !b.starts_with(b"///") {
        b"//"
    } else if b.starts_with(b"/") {
        b"/"
    } else {
        b""
    };
    let parts: Vec<&[u8]> = b.split(|&c| c == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
    let mut out = root.to_vec();
    out.extend(parts.join(&b'/'));
    if out.is_empty() {
        out.push(b'.');
    }
    PathBuf::from(OsString::from_vec(out))
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
        if self.no_pool() {
            Some(
                "start a coroutine-mode worker ('openrtc dev ./agents' or 'openrtc start ./agents'), \
                 or pass --socket PATH if it serves elsewhere",
            )
        } else {
            None
        }
    }
}

/// One payload line, and whether it ended with its newline (or at EOF).
#[derive(Debug, PartialEq, Eq)]
pub struct Payload {
    pub bytes: Vec<u8>,
    pub newline: bool,
}

/// Connect, check who is serving, and read one line (without its newline).
/// `abort` is asked after a signal interrupts a wait.
pub fn fetch(t: &Target, abort: &dyn Fn() -> bool) -> Result<Payload, FetchError> {
    if t.default {
        check_dir(t.path.parent().unwrap_or(Path::new(".")))?;
    }
    let mut stream = connect(&t.path, TIMEOUT, abort)?;
    check_peer(&stream)?;
    read_line(&mut stream, Instant::now() + TIMEOUT, MAX_PAYLOAD, abort)
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

/// A nonblocking connect retried until the deadline: a blocking connect to a
/// listener whose backlog is full (a hung worker) would never return.
pub fn connect(path: &Path, timeout: Duration, abort: &dyn Fn() -> bool) -> Result<UnixStream, FetchError> {
    let bytes = path.as_os_str().as_bytes();
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
    let deadline = Instant::now() + timeout;
    loop {
        // SAFETY: addr is initialised and its size is passed.
        let rc = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error().unwrap_or(0) {
            libc::EAGAIN | libc::EINPROGRESS | libc::EINTR => {
                if err.raw_os_error() == Some(libc::EINTR) && abort() {
                    return Err(FetchError::Interrupted);
                }
                if Instant::now() >= deadline {
                    return Err(FetchError::ConnectTimeout);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            libc::ENOENT | libc::ENOTDIR | libc::ECONNREFUSED | libc::ENOTSOCK => return Err(why_refused(path)),
            libc::EACCES | libc::EPERM => return Err(FetchError::PermissionDenied),
            libc::EISCONN => break,
            _ => return Err(FetchError::Io(err)),
        }
    }
    let stream = UnixStream::from(fd);
    stream.set_nonblocking(false).map_err(FetchError::Io)?;
    Ok(stream)
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
pub fn check_peer(stream: &UnixStream) -> Result<(), FetchError> {
    // SAFETY: ucred is plain old data; getsockopt fills it and its length.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(FetchError::Io(io::Error::last_os_error()));
    }
    // SAFETY: getuid/geteuid cannot fail.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    if trusted_peer(cred.uid, uid, euid) { Ok(()) } else { Err(FetchError::UntrustedPeer(cred.uid)) }
}

/// Read until a newline or EOF, at most `cap` bytes, finishing by `deadline`
/// (one overall limit, so a peer dripping a byte a second cannot stretch it).
pub fn read_line(
    stream: &mut UnixStream,
    deadline: Instant,
    cap: usize,
    abort: &dyn Fn() -> bool,
) -> Result<Payload, FetchError> {
    const CHUNK: usize = 256 * 1024;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if buf.is_empty() { FetchError::Silent } else { FetchError::Stalled(buf.len()) });
        }
        stream.set_read_timeout(Some(left)).map_err(FetchError::Io)?;
        // Read straight into the buffer's spare room: no second copy of a
        // snapshot that can be tens of megabytes.
        let len = buf.len();
        if buf.capacity() == len {
            // Exactly 1.5x (not reserve's doubling): address space counts
            // under `ulimit -v`, touched or not.
            buf.reserve_exact(CHUNK.max(len / 2).min(cap + 1 - len.min(cap)));
        }
        let spare = buf.spare_capacity_mut();
        // SAFETY: read(2) writes at most spare.len() bytes into spare.
        let got = unsafe { libc::read(stream.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
        let read = if got < 0 { Err(io::Error::last_os_error()) } else { Ok(got as usize) };
        let n = match read {
            Ok(n) => n,
            Err(e) => match e.kind() {
                io::ErrorKind::Interrupted if abort() => return Err(FetchError::Interrupted),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => continue,
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    return Err(FetchError::Reset(buf.len()));
                }
                _ => return Err(FetchError::Io(e)),
            },
        };
        if n == 0 {
            return if buf.is_empty() { Err(FetchError::ClosedEmpty) } else { Ok(Payload { bytes: buf, newline: false }) };
        }
        // SAFETY: read(2) initialised these n bytes just past len.
        unsafe { buf.set_len(len + n) };
        let end = memchr_newline(&buf[len..]).map(|i| len + i);
        if end.unwrap_or(buf.len()) > cap {
            return Err(FetchError::TooLarge);
        }
        if let Some(end) = end {
            buf.truncate(end);
            return Ok(Payload { bytes: buf, newline: true });
        }
    }
}

/// The first newline in `b` (libc's memchr: vectorised, unlike a byte loop).
fn memchr_newline(b: &[u8]) -> Option<usize> {
    // SAFETY: memchr reads at most b.len() bytes of b.
    let p = unsafe { libc::memchr(b.as_ptr().cast(), i32::from(b'\n'), b.len()) };
    (!p.is_null()).then(|| p as usize - b.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::os::unix::net::UnixListener;

    fn resolve(vars: &[(&str, &str)], cwd: &str, usable: &[&str]) -> String {
        let env: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        let usable: Vec<PathBuf> = usable.iter().map(PathBuf::from).collect();
        resolve_default(&|k| env.get(k).cloned(), 1000, Some(PathBuf::from(cwd)), &|p| usable.iter().any(|u| u == p))
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn xdg_runtime_dir_wins_and_is_normalized_like_pathlib() {
        assert_eq!(resolve(&[("XDG_RUNTIME_DIR", "/run/user/1000")], "/", &[]), "/run/user/1000/openrtc-1000/top.sock");
        assert_eq!(resolve(&[("XDG_RUNTIME_DIR", "/run//user/./1000/")], "/", &[]), "/run/user/1000/openrtc-1000/top.sock");
        assert_eq!(resolve(&[("XDG_RUNTIME_DIR", "//run/x/..")], "/", &[]), "//run/x/../openrtc-1000/top.sock");
        assert_eq!(resolve(&[("XDG_RUNTIME_DIR", "rel/dir")], "/cwd", &[]), "rel/dir/openrtc-1000/top.sock");
    }

    #[test]
    fn empty_xdg_falls_back_to_the_tempdir_chain() {
        let vars = [("XDG_RUNTIME_DIR", ""), ("TMPDIR", "/scratch/")];
        assert_eq!(resolve(&vars, "/", &["/scratch", "/tmp"]), "/scratch/openrtc-1000/top.sock");
    }

    #[test]
    fn tempdir_chain_order_and_usability() {
        let vars = [("TMPDIR", "/nope"), ("TEMP", "/t2"), ("TMP", "/t3")];
        assert_eq!(resolve(&vars, "/", &["/t2", "/t3", "/tmp"]), "/t2/openrtc-1000/top.sock");
        assert_eq!(resolve(&vars, "/", &["/t3", "/tmp"]), "/t3/openrtc-1000/top.sock");
        assert_eq!(resolve(&vars, "/", &["/tmp"]), "/tmp/openrtc-1000/top.sock");
        assert_eq!(resolve(&[], "/", &["/var/tmp"]), "/var/tmp/openrtc-1000/top.sock");
        assert_eq!(resolve(&[], "/", &["/usr/tmp"]), "/usr/tmp/openrtc-1000/top.sock");
        assert_eq!(resolve(&[], "/home/me", &["/home/me"]), "/home/me/openrtc-1000/top.sock");
    }

    #[test]
    fn tempdir_candidates_go_through_abspath() {
        assert_eq!(resolve(&[("TMPDIR", "x/../y/./")], "/w", &["/w/y"]), "/w/y/openrtc-1000/top.sock");
        assert_eq!(resolve(&[("TMPDIR", "/a//b/../c")], "/", &["/a/c"]), "/a/c/openrtc-1000/top.sock");
        assert_eq!(resolve(&[("TMPDIR", "//a")], "/", &["//a"]), "//a/openrtc-1000/top.sock");
        assert_eq!(resolve(&[("TMPDIR", "///a")], "/", &["/a"]), "/a/openrtc-1000/top.sock");
    }

    #[test]
    fn normpath_matches_python() {
        for (i, o) in [("", "."), ("/", "/"), ("//", "//"), ("///", "/"), ("/..", "/"), ("a/..", "."), ("../a", "../a"), ("a/../../b", "../b"), ("/a/./b/", "/a/b")] {
            assert_eq!(String::from_utf8(normpath(i.as_bytes())).unwrap(), o, "{i}");
        }
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ortop-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    #[test]
    fn read_line_stops_at_newline_cap_and_eof() {
        let d = tmpdir("read");
        let sock = d.join("s");
        let l = UnixListener::bind(&sock).unwrap();
        let serve = |bytes: &'static [u8]| {
            let mut c = UnixStream::connect(&sock).unwrap();
            let (mut s, _) = l.accept().unwrap();
            std::io::Write::write_all(&mut s, bytes).unwrap();
            drop(s);
            let deadline = Instant::now() + Duration::from_secs(2);
            read_line(&mut c, deadline, 16, &|| false)
        };
        assert_eq!(serve(b"abc\ntrailing").unwrap(), Payload { bytes: b"abc".to_vec(), newline: true });
        assert_eq!(serve(b"no newline").unwrap(), Payload { bytes: b"no newline".to_vec(), newline: false });
        assert!(matches!(serve(b""), Err(FetchError::ClosedEmpty)));
        assert!(matches!(serve(b"0123456789abcdefg"), Err(FetchError::TooLarge)));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_reset_mid_read_is_reported_with_the_bytes_so_far() {
        // Linux resets a Unix stream when the peer closes with unread data in
        // its queue: the client writes a byte the server never reads.
        let d = tmpdir("reset");
        let l = UnixListener::bind(d.join("s")).unwrap();
        let mut c = UnixStream::connect(d.join("s")).unwrap();
        let (mut s, _) = l.accept().unwrap();
        std::io::Write::write_all(&mut c, b"x").unwrap();
        std::io::Write::write_all(&mut s, b"{\"sessions\": [").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(s);
        let r = read_line(&mut c, Instant::now() + Duration::from_secs(2), 1 << 20, &|| false);
        assert!(matches!(r, Err(FetchError::Reset(14))), "{r:?}");
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
        let never = &|| false;
        assert!(matches!(connect(&d.join("missing"), TIMEOUT, never), Err(FetchError::NoSocket)));
        std::fs::write(d.join("file"), b"x").unwrap();
        assert!(matches!(connect(&d.join("file"), TIMEOUT, never), Err(FetchError::NotSocket("a regular file"))));
        assert!(matches!(connect(&d, TIMEOUT, never), Err(FetchError::NotSocket("a directory"))));
        drop(UnixListener::bind(d.join("stale")).unwrap());
        assert!(matches!(connect(&d.join("stale"), TIMEOUT, never), Err(FetchError::Refused)));
        let long = d.join("x".repeat(200));
        assert!(matches!(connect(&long, TIMEOUT, never), Err(FetchError::PathTooLong(_))));
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
