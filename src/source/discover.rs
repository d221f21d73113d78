//! Which sockets to read, and what each worker is called: the paths given
//! (`--socket PATH`, several times), directories scanned for sockets
//! (`--socket DIR`, and `--all` for the per-user openrtc directory), or the
//! default path alone.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::path::default_path;
use super::target::Target;

/// At most this many sockets are read at once (the first in name order).
pub const MAX: usize = 256;

/// Where sockets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// One socket (the default path when its `default` is set).
    Socket(Target),
    /// Every socket directly in this directory, re-scanned each refresh;
    /// `check`: trust the directory only as the worker makes it (as for
    /// the default path), which `--all` asks for.
    Dir { path: PathBuf, check: bool },
}

impl Spec {
    /// The specs for the flags: each `--socket` path (a directory stands
    /// for the sockets in it), then `--all`'s directory; the default path
    /// when neither is given.
    pub fn from_flags(sockets: &[PathBuf], all: bool, user: Option<u32>) -> Vec<Spec> {
        // `--user`: that user's default path, where their worker puts it.
        let default = || match user {
            Some(uid) => super::path::user_paths(uid).0,
            None => default_path(),
        };
        let mut specs: Vec<Spec> = sockets
            .iter()
            .map(|p| match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => Spec::Dir { path: p.clone(), check: false },
                _ => Spec::Socket(Target { path: p.clone(), checked: false }),
            })
            .collect();
        if all {
            let dir = default().parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            specs.push(Spec::Dir { path: dir, check: true });
        }
        if specs.is_empty() {
            specs.push(Spec::Socket(Target { path: default(), checked: true }));
        }
        specs
    }

    /// The path as shown in messages.
    pub fn shown(&self) -> String {
        match self {
            Spec::Socket(t) => t.shown(),
            Spec::Dir { path, .. } => crate::text::in_message(&path.to_string_lossy()).into_owned(),
        }
    }
}

/// The sockets directly in `dir`, in name order. Entries are looked at with
/// lstat: a symlink is not followed (it could point anywhere), and nothing
/// but a socket is taken.
pub fn scan(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_socket()))
        .map(|e| e.path())
        .collect();
    crate::sort::sort_by(&mut found, |a, b| a.cmp(b));
    Ok(found)
}

/// A short name for each source, unique among them: the worker's own name
/// when it sent one and no other source has it; else its socket's stem,
/// after the name when it has one (`name@stem`); and if two are still the
/// same (equal stems in different directories), `~2`, `~3`... after the
/// later ones. `sources` is (name, socket) in source order.
pub fn labels(sources: &[(Option<&str>, &Path)]) -> Vec<String> {
    fn name(n: Option<&str>) -> Option<&str> {
        n.filter(|n| !n.is_empty())
    }
    let stem = |p: &Path| p.file_stem().map_or_else(|| p.to_string_lossy().into_owned(), |s| s.to_string_lossy().into_owned());
    let shared = |n: &str| sources.iter().filter(|(m, _)| name(*m) == Some(n)).count() > 1;
    let mut out: Vec<String> = sources
        .iter()
        .map(|&(n, p)| match name(n) {
            Some(n) if !shared(n) => n.to_string(),
            Some(n) => format!("{n}@{}", stem(p)),
            None => stem(p),
        })
        .collect();
    for i in 1..out.len() {
        let mut k = 1;
        let base = out[i].clone();
        while out[..i].contains(&out[i]) {
            k += 1;
            out[i] = format!("{base}~{k}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_names_when_unique_else_stems() {
        let p = |s: &'static str| Path::new(s);
        let got = labels(&[
            (Some("alpha"), p("/r/w-1.sock")),
            (Some("shared"), p("/r/w-2.sock")),
            (Some("shared"), p("/r/w-3.sock")),
            (None, p("/r/top.sock")),
            (Some(""), p("/other/top.sock")),
            (Some("w-1"), p("/r/x.sock")),
        ]);
        assert_eq!(got, ["alpha", "shared@w-2", "shared@w-3", "top", "top~2", "w-1"]);
        // A name that is another's stem stays as it is: labels only need to differ.
        assert_eq!(labels(&[(None, p("/a/w.sock")), (Some("w"), p("/b/v.sock"))]), ["w", "w~2"]);
    }

    #[test]
    fn a_scan_takes_sockets_only_and_never_follows_links() {
        let d = std::env::temp_dir().join(format!("ortop-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        let _b = std::os::unix::net::UnixListener::bind(d.join("b.sock")).unwrap();
        let _a = std::os::unix::net::UnixListener::bind(d.join("a.sock")).unwrap();
        std::fs::write(d.join("file"), b"").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(d.join("a.sock"), d.join("link.sock")).unwrap();
        let names: Vec<String> = scan(&d).unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.sock", "b.sock"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
