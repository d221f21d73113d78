//! `--record FILE`: one NDJSON line per refresh, as `--format json` batch
//! output writes it (`{"time": ..., ...}`, the shape of several workers
//! when there are several), every session of every worker that answered.
//! Each line goes to the file in one write: a crash loses at most the line
//! being written. `--record-max SIZE` rotates: `FILE` becomes `FILE.1`,
//! `FILE.1` `FILE.2`, ... up to `FILE.4`, so the disk holds at most five
//! times SIZE.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::output::{self, Plain};
use crate::model::Pool;
use crate::text::Charset;

/// Rotated files kept besides the one being written.
pub const KEEP: usize = 4;

#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: File,
    size: u64,
    max: Option<u64>,
    line: Vec<u8>,
}

impl Recorder {
    /// Append to `path` (created if missing).
    pub fn open(path: &Path, max: Option<u64>) -> io::Result<Recorder> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Recorder { path: path.to_path_buf(), file, size, max, line: Vec::new() })
    }

    /// Record `pool` as sampled at `stamp`: the sessions of the workers
    /// that answered, in pool order.
    pub fn write(&mut self, pool: &Pool, stamp: &str) -> io::Result<()> {
        let shown: Vec<usize> = (0..pool.sessions.len()).filter(|&i| pool.answered(&pool.sessions[i])).collect();
        self.line.clear();
        output::json(&mut self.line, pool, &shown, Plain { header: false, stamp: Some(stamp), charset: Charset::Utf8, sample: true, columns: None })?;
        if self.max.is_some_and(|max| self.size > 0 && self.size + self.line.len() as u64 > max) {
            self.rotate()?;
        }
        self.file.write_all(&self.line)?;
        self.size += self.line.len() as u64;
        Ok(())
    }

    /// `FILE.k` for k = 1..
    fn rotated(&self, k: usize) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{k}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> io::Result<()> {
        for k in (1..KEEP).rev() {
            let from = self.rotated(k);
            if from.exists() {
                std::fs::rename(&from, self.rotated(k + 1))?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1))?;
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        Ok(())
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
            r.write(&pool, &format!("2026-11-28T03:00:{:02}.000Z", k % 60)).unwrap();
        }
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.starts_with("{\"v\": 2, \"time\": \"2026-11-28T03:00:") && text.ends_with("]}\n"), "{text}");
        let files: Vec<u64> = std::iter::once(f.clone()).chain((1..=KEEP).map(|k| r.rotated(k))).map(|p| std::fs::metadata(p).unwrap().len()).collect();
        assert!(files.iter().all(|&n| n > 0 && n <= 1024), "{files:?}");
        assert!(!r.rotated(KEEP + 1).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
