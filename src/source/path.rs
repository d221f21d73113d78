//! Where the default socket is: byte for byte what openrtc's
//! `default_socket_path()` computes, so that `openrtc-top` with no flags
//! finds the worker that `openrtc start` runs with no flags.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// `$XDG_RUNTIME_DIR/openrtc-<uid>/top.sock`, else the same under Python's
/// `tempfile.gettempdir()`.
pub fn default_path() -> PathBuf {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    resolve_default(&|k| std::env::var_os(k), uid, std::env::current_dir().ok(), &usable_dir)
}

/// Where another user's worker puts its socket (`--user`): their
/// environment is not ours to read, so where it normally is: under
/// `/run/user/UID` (systemd's XDG_RUNTIME_DIR), then under the temp
/// directory (ours, as Python's `gettempdir` finds it: `/tmp` for a
/// service). The first whose `openrtc-UID` directory exists is the one;
/// with neither, the first. Both are returned, to say where we looked.
pub fn user_paths(uid: u32) -> (PathBuf, Vec<PathBuf>) {
    let env = |k: &str| std::env::var_os(k).filter(|_| k != "XDG_RUNTIME_DIR");
    let looked = vec![
        resolve_default(&|k| (k == "XDG_RUNTIME_DIR").then(|| format!("/run/user/{uid}").into()), uid, None, &usable_dir),
        resolve_default(&env, uid, std::env::current_dir().ok(), &usable_dir),
    ];
    let found = looked.iter().find(|p| p.parent().is_some_and(|d| std::fs::symlink_metadata(d).is_ok()));
    (found.unwrap_or(&looked[0]).clone(), looked)
}

/// A user's name, from the passwd database.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: passwd is plain old data that getpwuid_r fills; buf outlives
    // the strings it points into, which are copied before it is dropped.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() || pw.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name is a NUL-terminated string in buf.
    Some(unsafe { std::ffi::CStr::from_ptr(pw.pw_name) }.to_string_lossy().into_owned())
}

/// A user name's uid, from the passwd database.
pub fn user_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: as in user_name.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe { libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    (rc == 0 && !out.is_null()).then_some(pw.pw_uid)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
    fn users_are_found_by_name_and_uid() {
        assert_eq!(user_id("root"), Some(0));
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(user_id("no-such-user-here"), None);
        let (_, looked) = user_paths(4242);
        assert_eq!(looked[0], PathBuf::from("/run/user/4242/openrtc-4242/top.sock"));
        assert!(looked[1].ends_with("openrtc-4242/top.sock"), "{looked:?}");
    }

    #[test]
    fn normpath_matches_python() {
        for (i, o) in [("", "."), ("/", "/"), ("//", "//"), ("///", "/"), ("/..", "/"), ("a/..", "."), ("../a", "../a"), ("a/../../b", "../b"), ("/a/./b/", "/a/b")] {
            assert_eq!(String::from_utf8(normpath(i.as_bytes())).unwrap(), o, "{i}");
        }
    }
}
