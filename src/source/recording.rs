//! A recording (`--record`): NDJSON, one sample a line, each line
//! `{"time": "<stamp>", ...}` as `--format json` batch output writes it.
//! Read without loading it: a sample is found by its offset, a time by
//! binary search over byte offsets (each probe reads a line's first bytes),
//! and only the lines shown are read whole. So opening a file of any size
//! and jumping to any time costs a few dozen small reads, and memory is one
//! line (at most `MAX_LINE`) plus the bad lines' offsets.
//!
//! A line is a sample when it starts with `{"time": "` and a stamp, ends
//! with a newline, and its stamp is not out of line (more than a minute
//! ahead of the stamped lines on both sides, or behind both); anything
//! else (a cut-off last line, garbage, another program's line, a stamp out
//! of line) is skipped and counted as it is met. Lines are found in a
//! window of `WINDOW` bytes, so a run of bad lines costs a read a window.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
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

/// How much a probe looks at when looking for a line's end or start.
const CHUNK: usize = 64 * 1024;

/// How much is read at a time: lines are found in this window, so a run
/// of short bad lines costs one read per window, not one per line.
const WINDOW: usize = 256 * 1024;

/// Bad lines remembered (to count each once); past this, "over" this many.
const MAX_BAD: usize = 1 << 20;

/// A stamp this far (ms) ahead of both stamped lines around it, or behind
/// both, is out of line: one bad line. Any other order is kept as it was
/// recorded (a clock stepped back by NTP loses no sample).
pub const OUT_OF_LINE: i64 = 60_000;

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
    bad: HashSet<u64, BuildHasherDefault<Offsets>>,
    /// More bad lines were met than `MAX_BAD`.
    over: bool,
    /// The bytes last read, from `win_at`.
    win: Vec<u8>,
    win_at: u64,
}

/// Why a recording cannot be replayed.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    /// It holds no sample at all.
    Empty,
    /// It is not a regular file (a pipe cannot be read by offset).
    NotAFile(std::fs::FileType),
}

/// A failure reading the recording (its message names it), told apart
/// from the terminal's and stdout's failures when main reports it.
pub struct ReadError(pub String);

// By hand: a derived Debug is code the binary's size budget does not need.
impl std::fmt::Debug for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// The bad lines' hash: SipHash made a run of a million bad lines cost
/// most of its walk, and offsets need no defence against chosen keys (a
/// file crafted to collide costs time, bounded by `MAX_BAD`, never more).
#[derive(Default)]
struct Offsets(u64);

impl Hasher for Offsets {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing, the high half folded into the low bits that
        // pick the bucket.
        let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 32);
    }
}

/// "N bad lines" as counted: "1 bad line", "more than 1048576 bad lines".
pub fn counted(n: usize) -> String {
    match n {
        1 => "1 bad line".into(),
        n if n > MAX_BAD => format!("more than {MAX_BAD} bad lines"),
        n => format!("{n} bad lines"),
    }
}

/// Whether `t` is out of line with the stamps before and after it.
fn out_of_line(t: i64, prev: Option<i64>, next: Option<i64>) -> bool {
    let (Some(p), Some(n)) = (prev, next) else { return false };
    (t > p.saturating_add(OUT_OF_LINE) && t > n.saturating_add(OUT_OF_LINE)) || (t < p.saturating_sub(OUT_OF_LINE) && t < n.saturating_sub(OUT_OF_LINE))
}

fn far(a: i64, b: i64) -> bool {
    a.abs_diff(b) > OUT_OF_LINE as u64
}

impl Recording {
    /// Open `path` and find its first and last samples. Opened nonblocking
    /// so that a FIFO cannot hang the open; only a regular file is read.
    pub fn open(path: &Path) -> Result<Recording, OpenError> {
        let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(OpenError::Io)?;
        let meta = file.metadata().map_err(OpenError::Io)?;
        if !meta.is_file() {
            return Err(OpenError::NotAFile(meta.file_type()));
        }
        crate::record::blocking(&file);
        let none = Mark { offset: 0, len: 0, time: 0 };
        let mut r = Recording { file, path: path.to_path_buf(), size: meta.len(), first: none, last: none, bad: HashSet::default(), over: false, win: Vec::new(), win_at: 0 };
        r.bounds()?.then_some(r).ok_or(OpenError::Empty)
    }

    /// Find the first and last samples; whether there is one.
    fn bounds(&mut self) -> Result<bool, OpenError> {
        let first = self.forward_from(0, None, u64::MAX).map_err(OpenError::Io)?;
        let last = self.backward_from(self.size, None).map_err(OpenError::Io)?;
        let (Some(first), Some(last)) = (first, last) else { return Ok(false) };
        (self.first, self.last) = (first, last);
        Ok(true)
    }

    /// After a read failed: whether the file shrank (truncated while it is
    /// replayed). If so it is read as it is now; an error if nothing of it
    /// is left to show.
    pub fn shrank(&mut self) -> io::Result<bool> {
        let now = self.file.metadata()?.len();
        if now >= self.size {
            return Ok(false);
        }
        (self.size, self.win_at) = (now, 0);
        self.win.clear();
        match self.bounds() {
            Ok(true) => Ok(true),
            Ok(false) => Err(self.error(format!("shrank to {now} bytes and holds no sample now"))),
            Err(OpenError::Io(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// An error naming the recording.
    pub fn error(&self, what: impl std::fmt::Display) -> io::Error {
        io::Error::other(ReadError(format!("the recording {} {what}", crate::record::quoted(&self.path))))
    }

    pub fn first(&self) -> Mark {
        self.first
    }

    pub fn last(&self) -> Mark {
        self.last
    }

    /// Bad lines met so far (a jump reads only around where it lands);
    /// over `MAX_BAD`, `MAX_BAD + 1` (see `counted`).
    pub fn bad(&self) -> usize {
        self.bad.len() + usize::from(self.over)
    }

    /// Count the line at `offset` as bad (its text did not decode).
    pub fn mark_bad(&mut self, offset: u64) {
        if self.bad.len() < MAX_BAD {
            self.bad.insert(offset);
        } else if !self.bad.contains(&offset) {
            self.over = true;
        }
    }

    /// The sample after `m`.
    pub fn next(&mut self, m: Mark) -> io::Result<Option<Mark>> {
        self.forward_from(m.offset + m.len + 1, Some(m.time), u64::MAX)
    }

    /// The sample before `m`.
    pub fn prev(&mut self, m: Mark) -> io::Result<Option<Mark>> {
        self.backward_from(m.offset, Some(m.time))
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
            let prev = self.stamped_before(start)?.map(|(_, _, t)| t);
            match self.forward_from(start, prev, hi.offset)? {
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
        while let Some(n) = self.forward_from(lo.offset + lo.len + 1, Some(lo.time), hi.offset + 1)? {
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

    /// Read `[from, from + n)` into the window.
    fn fill(&mut self, from: u64, n: usize) -> io::Result<()> {
        let n = n.min(self.size.saturating_sub(from) as usize);
        self.win.resize(n, 0);
        self.win_at = from;
        self.file.seek(SeekFrom::Start(from))?;
        let read = self.file.read_exact(&mut self.win);
        if read.is_err() {
            self.win.clear();
        }
        read
    }

    /// At least `n` bytes from `offset` (fewer at the end of the file), and
    /// whatever more of the window follows.
    fn ahead(&mut self, offset: u64, n: usize) -> io::Result<&[u8]> {
        let want = (offset + n as u64).min(self.size);
        if offset >= self.size {
            return Ok(&[]);
        }
        if offset < self.win_at || want > self.win_at + self.win.len() as u64 {
            self.fill(offset, WINDOW.max(n))?;
        }
        Ok(&self.win[(offset - self.win_at) as usize..])
    }

    /// At least `n` bytes before `end` (fewer at the start), and whatever
    /// more of the window comes before them.
    fn behind(&mut self, end: u64, n: usize) -> io::Result<&[u8]> {
        let from = end.saturating_sub(n as u64);
        if from < self.win_at || end > self.win_at + self.win.len() as u64 {
            let start = end.saturating_sub(WINDOW.max(n) as u64);
            self.fill(start, (end - start) as usize)?;
        }
        Ok(&self.win[..(end - self.win_at) as usize])
    }

    /// The line at `offset`: its length (up to its newline or the end of
    /// the file), whether it is whole (ended by a newline within
    /// `MAX_LINE`), and its stamp (read from the same first chunk).
    fn line_at(&mut self, offset: u64) -> io::Result<(u64, bool, Option<i64>)> {
        let first = self.ahead(offset, CHUNK)?;
        let stamp = stamp_in(first);
        let (nl, got) = (memchr_newline(first), first.len() as u64);
        let end = match nl {
            Some(i) => Some(offset + i as u64),
            None => self.newline_from(offset + got)?,
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
            let chunk = self.ahead(at, CHUNK)?;
            if let Some(i) = memchr_newline(chunk) {
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

    /// The stamp of the first stamped line at or after `offset`.
    fn stamp_from(&mut self, mut offset: u64) -> io::Result<Option<i64>> {
        while offset < self.size {
            let (len, _, stamp) = self.line_at(offset)?;
            if stamp.is_some() {
                return Ok(stamp);
            }
            offset += len + 1;
        }
        Ok(None)
    }

    /// The first sample starting at or after `offset` and before `before`;
    /// `prev` is the stamp of the stamped line before `offset`, if known.
    /// The lines passed over are bad.
    fn forward_from(&mut self, mut offset: u64, mut prev: Option<i64>, before: u64) -> io::Result<Option<Mark>> {
        while offset < self.size && offset < before {
            let (len, complete, stamp) = self.line_at(offset)?;
            match stamp {
                Some(time) => {
                    // The next stamp is looked for only when this one is
                    // far from the one before.
                    let odd = prev.is_some_and(|p| far(time, p)) && out_of_line(time, prev, self.stamp_from(offset + len + 1)?);
                    if complete && !odd {
                        return Ok(Some(Mark { offset, len, time }));
                    }
                    self.mark_bad(offset);
                    prev = Some(time);
                }
                None if len == 0 && complete => {} // an empty line: nothing to count
                None => self.mark_bad(offset),
            }
            offset += len + 1;
        }
        Ok(None)
    }

    /// The last sample ending before `end` (a line start, or the file's
    /// size); `next` is the stamp of the stamped line at `end`, if known.
    fn backward_from(&mut self, mut end: u64, mut next: Option<i64>) -> io::Result<Option<Mark>> {
        // A last line without its newline is cut off.
        if end == self.size && end > 0 && self.behind(end, 1)?.last() != Some(&b'\n') {
            let start = self.line_start_before(end)?;
            next = stamp_in(self.ahead(start, HEAD)?).or(next);
            self.mark_bad(start);
            end = start;
        }
        while let Some((start, len, time)) = self.stamped_before(end)? {
            let odd = next.is_some_and(|n| far(time, n)) && out_of_line(time, self.stamped_before(start)?.map(|(_, _, t)| t), next);
            if len <= MAX_LINE && !odd {
                return Ok(Some(Mark { offset: start, len, time }));
            }
            self.mark_bad(start);
            next = Some(time);
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
            // Its stamp from its own bytes (in the window a backward walk
            // filled), not from past its end.
            let head = self.ahead(start, (len as usize).min(HEAD))?;
            match stamp_in(&head[..head.len().min(len as usize)]) {
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
            let chunk = self.behind(at, CHUNK.min(at as usize))?;
            let from = at - chunk.len() as u64;
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
            line(15),                                        // a clock stepped back: kept
            line(20).replace("2026-11-28", "2026-11-29"), // a day out of line: bad
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
        assert_eq!(times, [t(10), t(20), t(15), t(30), t(40)]);
        assert_eq!(r.bad(), 5, "each bad line counted once (an empty line is not bad)");
        let mut back = vec![m.time];
        while let Some(p) = r.prev(m).unwrap() {
            back.push(p.time);
            m = p;
        }
        assert_eq!(back, [t(40), t(30), t(15), t(20), t(10)]);
        assert_eq!(r.bad(), 5);
        for (want, at) in [(10, 0), (10, 10), (10, 14), (30, 30), (40, 99)] {
            assert_eq!(r.at(t(at)).unwrap().time, t(want), "at {at}");
        }
        let at20 = r.next(r.first()).unwrap().unwrap();
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
    fn a_stamp_far_out_of_line_is_one_bad_line_and_a_clock_stepped_back_loses_none() {
        let far = |secs: u32, year: &str| line(secs).replace("2026", year);
        let text = [line(10), line(20), far(25, "9999"), line(30), line(27), far(35, "2000"), line(40), line(50)].concat();
        let p = file("far", &text);
        let mut r = Recording::open(&p).unwrap();
        let mut m = r.first();
        let mut times = vec![m.time];
        while let Some(n) = r.next(m).unwrap() {
            times.push(n.time);
            m = n;
        }
        assert_eq!(times, [t(10), t(20), t(30), t(27), t(40), t(50)]);
        assert_eq!(r.bad(), 2);
        let mut back = vec![m.time];
        while let Some(p) = r.prev(m).unwrap() {
            back.push(p.time);
            m = p;
        }
        times.reverse();
        assert_eq!(back, times);
        assert_eq!((r.at(t(45)).unwrap().time, r.at(t(22)).unwrap().time), (t(40), t(20)));
        assert_eq!(r.bad(), 2);
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn counts_say_one_line_and_over_the_limit() {
        assert_eq!((counted(1), counted(2), counted(MAX_BAD + 1)), ("1 bad line".into(), "2 bad lines".into(), format!("more than {MAX_BAD} bad lines")));
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
