//! A recording (`--record`): NDJSON, one sample a line, each line
//! `{"time": "<stamp>", ...}` as `--format json` batch output writes it.
//! Read without loading it: a sample is found by its offset, a time by
//! binary search over byte offsets (each probe reads a line's first bytes),
//! and only the lines shown are read whole. So opening a file of any size
//! and jumping to any time costs a few dozen small reads, and memory is one
//! line (at most `MAX_LINE`) plus the bad lines' offsets.
//!
//! A line is a sample when it starts with `{"time": "` and a stamp, ends
//! with a newline, and is in time order with its neighbours; anything else
//! (a cut-off last line, garbage, another program's line, a line out of
//! order) is skipped and counted as it is met.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::clock;
use crate::source::fetch::memchr_newline;
use crate::source::target::MAX_PAYLOAD;

/// A line longer than a payload can be (plus its stamp and labels) is not
/// a sample: never read whole.
pub const MAX_LINE: u64 = MAX_PAYLOAD as u64 + (1 << 20);

/// What a line must start with (after its format version, when it has one:
/// `{"v": 2, `).
const PREFIX: &[u8] = b"{\"time\": \"";
const VERSIONED: &[u8] = b"{\"v\": ";

/// How much is read at a time when looking for a line's end or start.
const CHUNK: usize = 64 * 1024;

/// Bad lines remembered (to count each once); past this, not counted more.
const MAX_BAD: usize = 1 << 20;

/// One sample's place: where its line starts, how long it is (without the
/// newline), and its time (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub offset: u64,
    pub len: u64,
    pub time: i64,
}

#[derive(Debug)]
pub struct Recording {
    file: File,
    pub path: PathBuf,
    size: u64,
    first: Mark,
    last: Mark,
    bad: HashSet<u64>,
}

/// Why a recording cannot be replayed.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    /// It holds no sample at all.
    Empty,
}

impl Recording {
    /// Open `path` and find its first and last samples.
    pub fn open(path: &Path) -> Result<Recording, OpenError> {
        let file = File::open(path).map_err(OpenError::Io)?;
        let size = file.metadata().map_err(OpenError::Io)?.len();
        let none = Mark { offset: 0, len: 0, time: 0 };
        let mut r = Recording { file, path: path.to_path_buf(), size, first: none, last: none, bad: HashSet::new() };
        let first = r.forward_from(0, i64::MIN, u64::MAX).map_err(OpenError::Io)?.ok_or(OpenError::Empty)?;
        let last = r.backward_from(size, i64::MAX).map_err(OpenError::Io)?.ok_or(OpenError::Empty)?;
        (r.first, r.last) = (first, last);
        Ok(r)
    }

    pub fn first(&self) -> Mark {
        self.first
    }

    pub fn last(&self) -> Mark {
        self.last
    }

    /// Bad lines met so far.
    pub fn bad(&self) -> usize {
        self.bad.len()
    }

    /// Count the line at `offset` as bad (its text did not decode).
    pub fn mark_bad(&mut self, offset: u64) {
        if self.bad.len() < MAX_BAD {
            self.bad.insert(offset);
        }
    }

    /// The sample after `m`.
    pub fn next(&mut self, m: Mark) -> io::Result<Option<Mark>> {
        self.forward_from(m.offset + m.len + 1, m.time, u64::MAX)
    }

    /// The sample before `m`.
    pub fn prev(&mut self, m: Mark) -> io::Result<Option<Mark>> {
        self.backward_from(m.offset, m.time)
    }

    /// The last sample at or before `t` (the first, when all are after it).
    pub fn at(&mut self, t: i64) -> io::Result<Mark> {
        let (mut lo, mut hi) = (self.first, self.last);
        if t >= hi.time {
            return Ok(hi);
        }
        if t < lo.time {
            return Ok(lo);
        }
        // lo.time <= t < hi.time: halve the bytes between them.
        while hi.offset - lo.offset > 2 * CHUNK as u64 {
            let mid = lo.offset + (hi.offset - lo.offset) / 2;
            let start = self.line_start_after(mid)?;
            match self.forward_from(start, lo.time, hi.offset)? {
                Some(m) if m.time <= hi.time => {
                    if m.time <= t {
                        lo = m;
                    } else {
                        hi = m;
                    }
                }
                _ => break,
            }
        }
        // Close enough: walk.
        while let Some(n) = self.forward_from(lo.offset + lo.len + 1, lo.time, hi.offset + 1)? {
            if n.time > t {
                break;
            }
            lo = n;
        }
        Ok(lo)
    }

    /// The whole line of `m` (without its newline).
    pub fn read(&mut self, m: Mark) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; m.len as usize];
        self.file.seek(SeekFrom::Start(m.offset))?;
        self.file.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// Up to `n` bytes at `offset`.
    fn bytes_at(&mut self, offset: u64, n: usize) -> io::Result<Vec<u8>> {
        let n = n.min(self.size.saturating_sub(offset) as usize);
        let mut buf = vec![0u8; n];
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// The time a line starting at `offset` is stamped with, if it starts
    /// as a sample does.
    fn stamp_at(&mut self, offset: u64) -> io::Result<Option<i64>> {
        Ok(stamp_in(&self.bytes_at(offset, HEAD)?))
    }

    /// The line at `offset`: its length (up to its newline or the end of
    /// the file), whether it is whole (ended by a newline within
    /// `MAX_LINE`), and its stamp (read from the same first chunk).
    fn line_at(&mut self, offset: u64) -> io::Result<(u64, bool, Option<i64>)> {
        let first = self.bytes_at(offset, CHUNK)?;
        let stamp = stamp_in(&first);
        let end = match memchr_newline(&first) {
            Some(i) => Some(offset + i as u64),
            None => self.newline_from(offset + first.len() as u64)?,
        };
        Ok(match end {
            Some(e) => (e - offset, e - offset <= MAX_LINE, stamp),
            // No newline: a cut-off last line.
            None => (self.size - offset, false, stamp),
        })
    }

    /// Where the next newline at or after `at` is, if there is one.
    fn newline_from(&mut self, mut at: u64) -> io::Result<Option<u64>> {
        while at < self.size {
            let chunk = self.bytes_at(at, CHUNK)?;
            if let Some(i) = memchr_newline(&chunk) {
                return Ok(Some(at + i as u64));
            }
            at += chunk.len() as u64;
        }
        Ok(None)
    }

    /// Where the first line starting after `offset` starts (the byte after
    /// the next newline), or the end of the file.
    fn line_start_after(&mut self, offset: u64) -> io::Result<u64> {
        Ok(self.newline_from(offset)?.map_or(self.size, |e| e + 1))
    }

    /// The first sample starting at or after `offset` and before `before`,
    /// stamped no earlier than `after`; the lines passed over are bad.
    fn forward_from(&mut self, mut offset: u64, after: i64, before: u64) -> io::Result<Option<Mark>> {
        while offset < self.size && offset < before {
            let (len, complete, stamp) = self.line_at(offset)?;
            match stamp {
                Some(time) if complete && time >= after => return Ok(Some(Mark { offset, len, time })),
                _ if len == 0 && complete => {} // an empty line: nothing to count
                _ => self.mark_bad(offset),
            }
            offset += len + 1;
        }
        Ok(None)
    }

    /// The last sample ending before `end` (a line start, or the file's
    /// size), stamped no later than `until`. A line stamped earlier than
    /// the stamped line before it is out of order, as stepping forward
    /// finds it.
    fn backward_from(&mut self, mut end: u64, until: i64) -> io::Result<Option<Mark>> {
        // A last line without its newline is cut off.
        if end == self.size && end > 0 && self.bytes_at(end - 1, 1)? != b"\n" {
            let start = self.line_start_before(end)?;
            self.mark_bad(start);
            end = start;
        }
        while let Some((start, len, time)) = self.stamped_before(end)? {
            if time <= until && len <= MAX_LINE {
                let out_of_order = self.stamped_before(start)?.is_some_and(|(_, _, before)| before > time);
                if !out_of_order {
                    return Ok(Some(Mark { offset: start, len, time }));
                }
            }
            self.mark_bad(start);
            end = start;
        }
        Ok(None)
    }

    /// The last line ending before `end` that starts with a stamp: its
    /// start, length and time; the lines passed over are bad.
    fn stamped_before(&mut self, mut end: u64) -> io::Result<Option<(u64, u64, i64)>> {
        while end > 0 {
            // The line ending with the newline at end - 1.
            let start = self.line_start_before(end - 1)?;
            let len = end - 1 - start;
            match self.stamp_at(start)? {
                Some(time) => return Ok(Some((start, len, time))),
                None if len == 0 => {}
                None => self.mark_bad(start),
            }
            end = start;
        }
        Ok(None)
    }

    /// Where the line holding the byte before `end` starts.
    fn line_start_before(&mut self, end: u64) -> io::Result<u64> {
        let mut at = end;
        while at > 0 {
            let from = at.saturating_sub(CHUNK as u64);
            let chunk = self.bytes_at(from, (at - from) as usize)?;
            if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
                return Ok(from + i as u64 + 1);
            }
            at = from;
        }
        Ok(0)
    }
}

/// How much of a line's start holds its stamp.
const HEAD: usize = VERSIONED.len() + 8 + PREFIX.len() + 40;

/// The stamp at the start of a line, if it starts as a sample does.
fn stamp_in(head: &[u8]) -> Option<i64> {
    let head = head.get(..HEAD.min(head.len()))?;
    let rest = match head.strip_prefix(VERSIONED) {
        // `{"v": 2, "time": "...`: the version's digits, then the stamp.
        Some(v) => {
            let digits = v.iter().take_while(|c| c.is_ascii_digit()).count();
            v.get(digits..)?.strip_prefix(b", \"time\": \"")?
        }
        None => head.strip_prefix(PREFIX)?,
    };
    let end = rest.iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&rest[..end]).ok().and_then(clock::parse_iso8601)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tag: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ortop-rec-{tag}-{}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn line(secs: u32) -> String {
        format!("{{\"time\": \"2026-11-28T03:{:02}:{:02}.000Z\", \"worker\": null, \"sessions\": []}}\n", secs / 60, secs % 60)
    }

    fn t(secs: u32) -> i64 {
        clock::parse_iso8601(&format!("2026-11-28T03:{:02}:{:02}Z", secs / 60, secs % 60)).unwrap()
    }

    #[test]
    fn steps_and_jumps_over_every_kind_of_bad_line() {
        let text = [
            "garbage\n".to_string(),
            line(10),
            "{\"time\": \"not a time\"}\n".into(),
            line(20),
            "\n".into(),
            "[1, 2, 3]\n".into(),
            line(15), // out of order
            line(30),
            line(40),
            "{\"time\": \"2026-11-28T03:00:50.000Z\", \"sessions\": [".into(), // cut off
        ]
        .concat();
        let p = file("bad", &text);
        let mut r = Recording::open(&p).unwrap();
        assert_eq!((r.first().time, r.last().time), (t(10), t(40)));
        assert_eq!(r.bad(), 2, "garbage first, cut-off last");
        let mut times = vec![r.first().time];
        let mut m = r.first();
        while let Some(n) = r.next(m).unwrap() {
            times.push(n.time);
            m = n;
        }
        assert_eq!(times, [t(10), t(20), t(30), t(40)]);
        assert_eq!(r.bad(), 5, "each bad line counted once (an empty line is not bad)");
        let mut back = vec![m.time];
        while let Some(p) = r.prev(m).unwrap() {
            back.push(p.time);
            m = p;
        }
        assert_eq!(back, [t(40), t(30), t(20), t(10)]);
        assert_eq!(r.bad(), 5);
        for (want, at) in [(10, 0), (10, 10), (10, 19), (20, 25), (30, 30), (40, 99)] {
            assert_eq!(r.at(t(at)).unwrap().time, t(want), "at {at}");
        }
        let at20 = r.at(t(20)).unwrap();
        let got = String::from_utf8(r.read(at20).unwrap()).unwrap();
        assert_eq!(got, line(20).trim_end());
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn binary_search_over_a_long_recording() {
        // 20,000 samples of about 60 bytes: over the walking distance.
        let text: String = (0..20_000u32).map(|s| format!("{{\"time\": \"{}\", \"worker\": null, \"sessions\": []}}\n", clock::stamp(i64::from(s) * 1000 + 7))).collect();
        let p = file("long", &text);
        let mut r = Recording::open(&p).unwrap();
        for s in [0i64, 1, 777, 12_345, 19_998, 19_999, 25_000] {
            let want = s.min(19_999) * 1000 + 7;
            assert_eq!(r.at(s * 1000 + 500).unwrap().time, want, "{s}");
        }
        assert_eq!(r.bad(), 0);
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn a_file_without_a_sample_is_refused() {
        for text in ["", "\n\n", "garbage\n{}\n", "{\"time\": \"2026-11-28T03:00:00Z\""] {
            let p = file("empty", text);
            assert!(matches!(Recording::open(&p), Err(OpenError::Empty)), "{text:?}");
            std::fs::remove_file(p).unwrap();
        }
    }
}
