//! Whether to trust a socket: its directory as the worker makes it (the
//! per-user one: 0700, owned by the user, not a symlink) and the peer that
//! listens on it (the user, or root), as SO_PEERCRED says.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::message::FetchError;

/// `--user`: the uid whose workers are read, when not our own. One per
/// run, set by main before the first fetch (a flag, not a source's
/// property: every socket and directory of the run is that user's).
static USER: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// Read `uid`'s workers: their directories must be theirs, and their
/// peers may run as them.
pub fn read_for(uid: u32) {
    let _ = USER.set(uid);
}

/// Whose directories are trusted: `--user`'s, else ours (effective uid).
fn owner() -> u32 {
    // SAFETY: geteuid cannot fail.
    USER.get().copied().unwrap_or_else(|| unsafe { libc::geteuid() })
}

/// The worker makes its per-uid directory itself, 0700 and not a symlink;
/// anything else there may be a planted trap, so say why and stop.
pub fn check_dir(dir: &Path) -> Result<(), FetchError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(FetchError::NoSocket),
        Err(e) => return Err(FetchError::Io(e)),
    };
    let me = owner();
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
        let whose = if USER.get().is_some() { "the user of --user" } else { "you" };
        return Err(format!("it is owned by uid {owner}, not by {whose} (uid {me}); check who created it"));
    }
    let mode = mode & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "it is open to group or others (mode {mode:o}); the worker makes it 700: run 'chmod 700' on it or restart the worker"
        ));
    }
    Ok(())
}

/// The directory of `socket` opened and checked as `check_dir` would, on
/// the descriptor (not the name: a directory swapped for a symlink after
/// the check is not followed), and the path to connect to through it:
/// `/proc/self/fd/N/NAME`, which the kernel resolves by the open directory
/// itself. (Without /proc, the plain path: the check and the connect are
/// then a moment apart.) The descriptor must stay open until connected.
pub fn open_checked(socket: &Path) -> Result<(OwnedFd, PathBuf), FetchError> {
    let dir = socket.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|_| FetchError::NoSocket)?;
    // SAFETY: open(2) on a NUL-terminated path; the result is checked.
    let raw = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if raw < 0 {
        let e = io::Error::last_os_error();
        let kind = match e.raw_os_error() {
            // (A symlink with O_DIRECTORY is ENOTDIR: lstat says which.)
            Some(libc::ELOOP | libc::ENOTDIR) => match std::fs::symlink_metadata(dir) {
                Ok(m) if m.file_type().is_symlink() => DirKind::Symlink,
                _ => DirKind::Other,
            },
            Some(libc::ENOENT) => return Err(FetchError::NoSocket),
            Some(libc::EACCES) => return Err(FetchError::PermissionDenied),
            _ => return Err(FetchError::Io(e)),
        };
        return Err(FetchError::UnsafeDir(dir.to_path_buf(), judge_dir(kind, 0, 0, 0).unwrap_err()));
    }
    // SAFETY: a fresh descriptor that we own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let meta = std::fs::File::from(fd.try_clone().map_err(FetchError::Io)?).metadata().map_err(FetchError::Io)?;
    let me = owner();
    judge_dir(DirKind::Dir, meta.uid(), meta.mode(), me).map_err(|why| FetchError::UnsafeDir(dir.to_path_buf(), why))?;
    let name = socket.file_name().map(Path::new).unwrap_or(Path::new(""));
    let through = Path::new("/proc/self/fd").join(fd.as_raw_fd().to_string());
    let path = if through.is_dir() { through.join(name) } else { socket.to_path_buf() };
    Ok((fd, path))
}

/// Whether a peer with `peer` uid may feed this terminal.
pub fn trusted_peer(peer: u32, uid: u32, euid: u32) -> bool {
    peer == uid || peer == euid || peer == 0
}

/// Only the current user or root may feed this terminal (SO_PEERCRED); the
/// listener's pid when it may (0 when it is in another pid namespace).
pub fn check_peer(fd: RawFd) -> Result<u32, FetchError> {
    // SAFETY: ucred is plain old data; getsockopt fills it and its length.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PEERCRED, (&raw mut cred).cast(), &mut len) };
    if rc != 0 {
        return Err(FetchError::Io(io::Error::last_os_error()));
    }
    // SAFETY: getuid/geteuid cannot fail.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    if trusted_peer(cred.uid, uid, euid) || USER.get() == Some(&cred.uid) { Ok(cred.pid as u32) } else { Err(FetchError::UntrustedPeer(cred.uid)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ortop-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
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
        // The same checks on an open descriptor, and a path through it.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let (fd, through) = open_checked(&dir.join("top.sock")).unwrap();
        assert_eq!(through, PathBuf::from(format!("/proc/self/fd/{}/top.sock", fd.as_raw_fd())));
        let e = open_checked(&d.join("link").join("top.sock")).unwrap_err();
        assert!(matches!(&e, FetchError::UnsafeDir(_, why) if why.contains("symlink")), "{e:?}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(open_checked(&dir.join("top.sock")), Err(FetchError::UnsafeDir(_, why)) if why.contains("mode 755")));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
