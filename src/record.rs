//! `--record FILE`: one NDJSON line per refresh, as `--format json` batch
//! output writes it (`{"time": ..., ...}`, the shape of several workers
//! when there are several), every session of every worker that answered.
//! Each line goes to the file in one write: a crash loses at most the line
//! being written, and the next recorder (or the next line, after a failed
//! write) starts on a new line, so a torn line never costs a whole one.
//! `--record-max SIZE` rotates: `FILE` becomes `FILE.1`, `FILE.1`
//! `FILE.2`, ... up to `FILE.4`, so the disk holds at most five times the
//! larger of SIZE and one line (a file holds at least one line).
//!
//! The file is opened without following a symlink and must be a regular
//! file: a recorder never writes through a link someone planted, and a
//! FIFO (which would block the open) is refused at once.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::output::{self, Plain};
use crate::model::Pool;
use crate::text::{self, Charset};

/// Rotated files kept besides the one being written.
pub const KEEP: usize = 4;

#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: File,
    size: u64,
    max: Option<u64>,
    line: Vec<u8>,
    /// The file may not end with a newline (so found at open, a write
    /// failed, or the file was reopened): looked at before the next line.
    torn: bool,
    /// While writes fail: why (said once, and again when they work).
    failing: Option<String>,
    lost: u64,
    /// What was last said about the rotation (said again only if it changes).
    rotation: Option<String>,
    said_big: bool,
    /// What is to be said on stderr (or the title), oldest first.
    notes: Vec<String>,
}

/// `'PATH'` for a message.
pub fn quoted(p: &Path) -> String {
    format!("'{}'", text::in_message(&p.to_string_lossy()))
}

/// What a path that is not a regular file is.
pub fn kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_symlink() {
        "a symlink"
    } else {
        "not a regular file"
    }
}

/// Clear O_NONBLOCK (set so that opening a FIFO cannot block) once the
/// file is known to be a regular file.
pub fn blocking(f: &File) {
    // SAFETY: fcntl on a descriptor we own, with flag arguments only.
    unsafe {
        let flags = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(f.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

/// Open `path` to append: created if missing (0644), never through a
/// symlink, and only a regular file. The error says why, for "cannot
/// write the recording 'PATH': ...".
fn open_file(path: &Path) -> io::Result<File> {
    let opened = OpenOptions::new().read(true).append(true).create(true).mode(0o644).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path);
    let file = match opened {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) && path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) => {
            return Err(io::Error::other("it is a symlink (a recording is not written through one: give the file itself)"));
        }
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => return Err(io::Error::other("it is a directory")),
        r => r?,
    };
    let t = file.metadata()?.file_type();
    if !t.is_file() {
        return Err(io::Error::other(format!("it is {}, not a regular file", kind(t))));
    }
    blocking(&file);
    Ok(file)
}

/// Whether the file (of `size` bytes) ends in the middle of a line. A
/// failed read counts as torn: a needless newline is only an empty line.
fn ends_torn(file: &File, size: u64) -> bool {
    let mut b = [0u8; 1];
    size > 0 && file.read_at(&mut b, size - 1).map_or(true, |n| n != 1 || b[0] != b'\n')
}

impl Recorder {
    /// Append to `path` (created if missing).
    pub fn open(path: &Path, max: Option<u64>) -> io::Result<Recorder> {
        let file = open_file(path)?;
        let size = file.metadata()?.len();
        let torn = ends_torn(&file, size);
        Ok(Recorder { path: path.to_path_buf(), file, size, max, line: Vec::new(), torn, failing: None, lost: 0, rotation: None, said_big: false, notes: Vec::new() })
    }

    /// What there is to say (a write failing or working again, rotation
    /// blocked, a reopen), oldest first.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Whether the last line was written.
    pub fn ok(&self) -> bool {
        self.failing.is_none()
    }

    /// Record `pool` as sampled at `stamp`: the sessions of the workers
    /// that answered, in pool order. A failed write (disk full) is said
    /// once and tried again with the next line, and said again when it
    /// works: a recorder keeps going. Whether this line was written.
    pub fn write(&mut self, pool: &Pool, stamp: &str) -> bool {
        let shown: Vec<usize> = (0..pool.sessions.len()).filter(|&i| pool.answered(&pool.sessions[i])).collect();
        self.line.clear();
        let put = output::json(&mut self.line, pool, &shown, Plain { header: false, stamp: Some(stamp), charset: Charset::Utf8, sample: true, columns: None }).and_then(|()| self.put());
        match (put, self.failing.take()) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) => self.notes.push(format!("recording to {} again ({} lines lost while it could not be written)", quoted(&self.path), self.lost)),
            (Err(e), was) => {
                if was.is_none() {
                    self.notes.push(format!("cannot write the recording {}: {e}; trying again with each refresh", quoted(&self.path)));
                }
                self.failing = Some(e.to_string());
                self.lost += 1;
            }
        }
        self.failing.is_none()
    }

    /// The line in `self.line` to the file, rotating first when it would
    /// pass `--record-max` (a file holds at least one line).
    fn put(&mut self) -> io::Result<()> {
        if self.torn {
            // A failed write may have left part of a line, or the file was
            // reopened: where it ends now.
            self.size = self.file.metadata()?.len();
        }
        let len = self.line.len() as u64;
        if let Some(max) = self.max {
            if len > max && !self.said_big {
                self.said_big = true;
                self.notes.push(format!("a line ({len} bytes) is larger than --record-max ({max} bytes): each file holds one line, so a file is at most one line"));
            }
            if self.size > 0 && self.size + len > max {
                self.rotate()?;
            }
        }
        if self.torn && ends_torn(&self.file, self.size) {
            // Start on a new line: the torn one stays one bad line.
            self.line.insert(0, b'\n');
        }
        self.torn = true;
        self.file.write_all(&self.line)?;
        self.size += self.line.len() as u64;
        self.torn = false;
        Ok(())
    }

    /// After SIGHUP (logrotate's signal): open the file by its path again,
    /// creating it when it was moved away. If that fails it is said, and
    /// the lines go on to the file open before.
    pub fn reopen(&mut self) {
        match open_file(&self.path) {
            Ok(f) => {
                self.file = f;
                self.torn = true;
            }
            Err(e) => self.notes.push(format!("cannot reopen the recording {}: {e}; still writing to the file opened before", quoted(&self.path))),
        }
    }

    /// `FILE.k` for k = 1..
    fn rotated(&self, k: usize) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{k}"));
        PathBuf::from(p)
    }

    /// `FILE.k` to `FILE.k+1`, ..., `FILE` to `FILE.1`. Something in the
    /// way (a directory at `FILE.4`) does not stop the recording: the file
    /// that had to move there is dropped instead (the oldest lines go, and
    /// the disk stays bounded), and it is said once.
    fn rotate(&mut self) -> io::Result<()> {
        let mut blocked: Option<String> = None;
        for k in (1..KEEP).rev() {
            let (from, to) = (self.rotated(k), self.rotated(k + 1));
            if from.symlink_metadata().is_ok_and(|m| m.is_file()) {
                if let Err(e) = std::fs::rename(&from, &to) {
                    blocked.get_or_insert_with(|| in_the_way(&to, &e));
                    let _ = std::fs::remove_file(&from);
                }
            }
        }
        let moved = std::fs::rename(&self.path, self.rotated(1));
        match moved {
            Ok(()) => {
                self.file = open_file(&self.path)?;
                self.size = self.file.metadata()?.len();
            }
            Err(e) => {
                // Nowhere to keep this file's lines: it starts over.
                blocked.get_or_insert_with(|| in_the_way(&self.rotated(1), &e));
                self.file.set_len(0)?;
                self.size = 0;
            }
        }
        if blocked != self.rotation {
            if let Some(b) = &blocked {
                self.notes.push(format!("rotating {}: {b}; keeping the files that can be kept", quoted(&self.path)));
            }
            self.rotation = blocked;
        }
        Ok(())
    }
}

/// Why a rotated file cannot go to `to`.
fn in_the_way(to: &Path, e: &io::Error) -> String {
    match to.symlink_metadata() {
        Ok(m) if !m.is_file() => format!("{} is {} and is in the way", quoted(to), kind(m.file_type())),
        _ => format!("cannot move a file to {}: {e}", quoted(to)),
    }
}

/// `--record-max`: bytes, or a number with `K`, `M` or `G` (powers of
/// 1024); at least 1 KiB.
pub fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, unit) = match v.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let mult: u64 = match unit.to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult).filter(|&n| n >= 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Session, Snapshot};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("100M"), Some(100 << 20));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("64KiB"), Some(64 << 10));
        assert_eq!(parse_size("10MB"), Some(10 << 20));
        for bad in ["", "1", "1023", "x", "10T", "-1M", "99999999999G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn lines_append_and_rotate_within_the_limit() {
        let d = std::env::temp_dir().join(format!("ortop-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        let f = d.join("rec.ndjson");
        let pool = Pool::single(Snapshot { worker: None, sessions: vec![Session { session_id: "a".into(), missing: 0, ..Session::default() }] }, "w.sock".into());
        let mut r = Recorder::open(&f, Some(1024)).unwrap();
        for k in 0..40 {
            assert!(r.write(&pool, &format!("2026-11-28T03:00:{:02}.000Z", k % 60)));
        }
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.starts_with("{\"v\": 2, \"time\": \"2026-11-28T03:00:") && text.ends_with("]}\n"), "{text}");
        let files: Vec<u64> = std::iter::once(f.clone()).chain((1..=KEEP).map(|k| r.rotated(k))).map(|p| std::fs::metadata(p).unwrap().len()).collect();
        assert!(files.iter().all(|&n| n > 0 && n <= 1024), "{files:?}");
        assert!(!r.rotated(KEEP + 1).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
