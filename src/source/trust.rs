//! Whether to trust a socket: its directory as the worker makes it (the
//! per-user one: 0700, owned by the user, not a symlink) and the peer that
//! listens on it (the user, or root), as SO_PEERCRED says.

use std::io;
use std::os::fd::RawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::message::FetchError;

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
    if trusted_peer(cred.uid, uid, euid) { Ok(cred.pid as u32) } else { Err(FetchError::UntrustedPeer(cred.uid)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
        std::fs::remove_dir_all(&d).unwrap();
    }
}
