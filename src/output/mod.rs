//! Plain `--once` output for pipes: the ps-style table, TSV, and JSON
//! (`json`, which recordings are written in too).
//!
//! Each writer streams rows in view order into a buffered writer, so 100,000
//! sessions never exist as one big string. Untrusted text is made safe here:
//! the table substitutes, TSV escapes, JSON escapes (exactly, so jq reads back
//! the worker's strings unchanged).

mod json;
pub mod events;

pub use json::{json, json_str, state_word};

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::model::column::Column;
use crate::model::{Pool, Session};
use crate::number::{self, nonfinite};
use crate::text::{self, Charset};

/// What every plain writer is told besides the rows: whether to print the
/// header line (table and TSV), the batch-mode timestamp, and whether the
/// reader takes UTF-8 or only ASCII (see `text`).
#[derive(Debug, Clone, Copy)]
pub struct Plain<'a> {
    pub header: bool,
    pub stamp: Option<&'a str>,
    pub charset: Charset,
    /// A recorded sample (JSON): versioned, and in the shape of several
    /// workers whatever their number.
    pub sample: bool,
    /// `-o`: these columns in this order (table and TSV), else the pool's.
    pub columns: Option<&'a [Column]>,
}

impl Plain<'_> {
    /// The columns table and TSV print.
    fn columns(&self, pool: &Pool) -> Vec<Column> {
        match self.columns {
            Some(c) => c.to_vec(),
            None => Column::shown(pool).collect(),
        }
    }
}

impl Default for Plain<'_> {
    fn default() -> Self {
        Plain { header: true, stamp: None, charset: Charset::Utf8, sample: false, columns: None }
    }
}

/// ps-style table: aligned with spaces, one whitespace-free field per column,
/// full values, no escapes. `stamp` is the batch-mode timestamp line. A
/// pool of several workers gets a leading `worker` column.
pub fn table(out: &mut dyn Write, pool: &Pool, order: &[usize], opt: Plain) -> io::Result<()> {
    let Plain { header, stamp, charset, .. } = opt;
    // Lines go into one buffer written out every 64 KiB or so: a write per
    // line through the BufWriter was one more copy and call per row.
    const FLUSH: usize = 64 * 1024;
    let picked = opt.columns(pool);
    let widths = widths(pool, order, header, charset, picked.contains(&Column::Worker));
    let cols: Vec<(Column, usize)> = picked.into_iter().map(|c| (c, widths[c as usize])).collect();
    let mut buf = String::with_capacity(FLUSH + 1024);
    if let Some(t) = stamp {
        buf.push_str(t);
        buf.push('\n');
    }
    if header {
        let mut line = PlainRow::new(&mut buf, cols.len());
        for &(col, w) in &cols {
            line.cell(col, w, col.header(), col.header().len());
        }
        line.end();
    }
    let mut num = String::new();
    for (k, &i) in order.iter().enumerate() {
        // Display order is a random walk through the rows (two cache lines
        // each, ids included): ask for a row a few lines ahead.
        if let Some(&ahead) = order.get(k + 8) {
            let p: *const Session = &pool.sessions[ahead];
            prefetch(p);
            prefetch(p.cast::<u8>().wrapping_add(64));
        }
        let s = &pool.sessions[i];
        let mut line = PlainRow::new(&mut buf, cols.len());
        for &(col, w) in &cols {
            let (text, cw) = plain_cell(col, pool, s, &mut num, charset);
            line.cell(col, w, &text, cw);
        }
        line.end();
        if buf.len() >= FLUSH {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    out.write_all(buf.as_bytes())
}

const N: usize = Column::ALL.len();

/// Column widths over the shown rows, found in one pass in payload order
/// (the order rows sit in memory) before any line is written. Text cells are
/// measured; a number's width only grows with its magnitude (plus a minus
/// sign), so a numeric column formats just its extremes. (An earlier version
/// kept every formatted cell in an arena for the second pass: 10 MB and
/// 2,500 page faults at 100,000 rows, more than formatting twice would be.)
fn widths(pool: &Pool, order: &[usize], header: bool, cs: Charset, worker: bool) -> [usize; N] {
    let all = order.len() == pool.sessions.len();
    let mut shown = vec![all; pool.sessions.len()];
    if !all {
        for &i in order {
            shown[i] = true;
        }
    }
    let mut w = Column::ALL.map(|c| if header { c.header().len() } else { 0 });
    let mut extremes = [Extremes::default(); N];
    let mut num = String::new();
    for (s, _) in pool.sessions.iter().zip(&shown).filter(|(_, on)| **on) {
        for ((w, x), col) in w.iter_mut().zip(&mut extremes).zip(Column::ALL) {
            if col == Column::Worker && !worker {
                // Not shown (one worker has no worker column unless -o asks).
            } else if col.numeric() && col.missing(s) {
                *w = (*w).max(1);
            } else if col.numeric() {
                x.add(col.number(s));
            } else {
                *w = (*w).max(plain_cell(col, pool, s, &mut num, cs).1);
            }
        }
    }
    for ((w, x), col) in w.iter_mut().zip(&extremes).zip(Column::ALL) {
        if col.numeric() {
            *w = (*w).max(x.width(col));
        }
    }
    w
}

/// The values of a numeric column that format widest: the largest
/// non-negative, the most negative (negative zero prints as `-0.0`), and
/// the longest non-finite spelling.
#[derive(Default, Clone, Copy)]
struct Extremes {
    pos: Option<f64>,
    neg: Option<f64>,
    nonfinite: usize,
}

impl Extremes {
    fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.nonfinite = self.nonfinite.max(nonfinite(v).len());
        } else if v.is_sign_negative() {
            self.neg = Some(self.neg.map_or(v, |m| m.min(v)));
        } else {
            self.pos = Some(self.pos.map_or(v, |m| m.max(v)));
        }
    }

    fn width(&self, col: Column) -> usize {
        let len = |v: f64| col.rounded(v).len();
        self.nonfinite.max(self.pos.map_or(0, len)).max(self.neg.map_or(0, len))
    }
}

/// A hint that `p` will be read soon; nothing on targets without one.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// One plain-table line being appended, a cell at a time (the screen's
/// line is `present::line::StyledLine`). Blanks owed before
/// the next cell (a left-aligned cell's padding and the two-space gap) go
/// out as one run with a right-aligned cell's own, and never after the last.
struct PlainRow<'a> {
    buf: &'a mut String,
    owed: usize,
    /// Cells still to come, this one included.
    left: usize,
}

impl<'a> PlainRow<'a> {
    /// A line of `cells` cells.
    fn new(buf: &'a mut String, cells: usize) -> Self {
        PlainRow { buf, owed: 0, left: cells }
    }

    /// A cell of `col`, `width` columns wide, in a column `w` wide.
    #[inline(always)]
    fn cell(&mut self, col: Column, w: usize, text: &str, width: usize) {
        self.left -= 1;
        let fill = if self.left == 0 { 0 } else { w.saturating_sub(width) };
        if col.numeric() {
            text::spaces(self.buf, self.owed + fill);
            self.buf.push_str(text);
            self.owed = 2;
        } else {
            text::spaces(self.buf, self.owed);
            self.buf.push_str(text);
            self.owed = fill + 2;
        }
    }

    fn end(self) {
        self.buf.push('\n');
    }
}

/// The text of one plain-table cell and its width in columns (the screen's
/// cell is `present::cells::screen_text`); numbers are formatted
/// into `num`. (Inlined: both passes call it for every cell, and the call
/// was 2% of a 100,000-row run.)
#[inline(always)]
fn plain_cell<'a>(col: Column, pool: &'a Pool, s: &'a Session, num: &'a mut String, cs: Charset) -> (Cow<'a, str>, usize) {
    match col {
        Column::Pin => (Cow::Borrowed(if s.pinned { "*" } else { "-" }), 1),
        c if c.missing(s) => (Cow::Borrowed("-"), 1),
        c if c.numeric() => {
            num.clear();
            c.push_rounded(num, c.number(s));
            // Numbers are ASCII: their width is their length.
            let w = num.len();
            (Cow::Borrowed(num.as_str()), w)
        }
        c => text::field_and_width(c.text(pool, s).unwrap_or(""), cs),
    }
}

/// Tab-separated: the table's header, exact strings escaped, numbers unrounded.
/// An unset tenant is an empty field. `stamp` adds a leading `time` column
/// (before the `worker` column of several workers).
pub fn tsv(out: &mut dyn Write, pool: &Pool, order: &[usize], opt: Plain) -> io::Result<()> {
    let Plain { header, stamp, charset, .. } = opt;
    let cols = opt.columns(pool);
    let mut line = String::new();
    if header {
        if stamp.is_some() {
            line.push_str("time\t");
        }
        let names: Vec<&str> = cols.iter().map(|c| c.header()).collect();
        line.push_str(&names.join("\t"));
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    for &i in order {
        let s = &pool.sessions[i];
        line.clear();
        if let Some(t) = stamp {
            line.push_str(t);
            line.push('\t');
        }
        for (n, &col) in cols.iter().enumerate() {
            if n > 0 {
                line.push('\t');
            }
            match col {
                Column::Pin => line.push(if s.pinned { '*' } else { '-' }),
                c if c.missing(s) => {}
                c if c.numeric() => number::push_exact(&mut line, c.number(s)),
                c => tsv_escape(&mut line, c.text(pool, s).unwrap_or(""), charset),
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// `\t \n \r \\` as two-character escapes, other controls (C0, DEL, C1)
/// as `\xNN`, and bidi controls and the line and paragraph separators (and
/// any non-ASCII character when the charset is ASCII) as `\u{XXXX}`: one
/// line per row for every reader, and still the exact string.
pub fn tsv_escape(out: &mut String, s: &str, cs: Charset) {
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if text::is_unsafe(c) || (!c.is_ascii() && !cs.unicode()) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::view::{Query, order};

    fn pool_of(payload: &str) -> Pool {
        Pool::single(decode(payload.as_bytes()).unwrap(), "w.sock".into())
    }

    fn render(f: impl Fn(&mut Vec<u8>, &Pool, &[usize]) -> io::Result<()>, payload: &str) -> String {
        let snap = pool_of(payload);
        let ord = order(&snap, &Query::default(), &[]);
        let mut out = Vec::new();
        f(&mut out, &snap, &ord).unwrap();
        String::from_utf8(out).unwrap()
    }

    const V03: &str = include_str!("../../tests/fixtures/snapshot-v03-list.jsonl");

    #[test]
    fn table_is_aligned_and_awkable() {
        let t = render(|o, s, r| table(o, s, r, Plain::default()), V03.trim_end());
        assert_eq!(
            t,
            "\
session     agent    tenant  dur(s)  mem(MB)   peak  cpu%  status  pin
job-c1d550  support  acme       312    182.5  240.1  37.2  slow    -
job-93e2aa  sales    globex    1281    182.5  301.9  12.8  active  *
job-7fa01b  booking  -           45    182.5  190.0   4.1  active  -
"
        );
        for line in t.lines() {
            assert_eq!(line.split_whitespace().count(), 9, "{line}");
        }
    }

    /// Widths come from one pass and numeric extremes; hold them to the
    /// plain method (format every shown cell, measure each) on values that
    /// format awkwardly, wide and substituted text, and a filtered view.
    #[test]
    fn table_widths_match_measuring_every_cell() {
        let numbers = ["0", "-0.0", "-0.04", "0.04", "9.95", "9.96", "99.95", "-99.96", "1e15", "-1e16", "123456.78", "NaN", "Infinity", "-Infinity", "0.5", "-7"];
        let texts = [r#""a""#, r#""中文""#, r#""x y""#, r#""\u001b[2J""#, r#""""#, "null", r#""café-long-name""#];
        let check = |rows: &[String]| {
            let snap = pool_of(&format!("[{}]", rows.join(", ")));
            for q in [Query::default(), Query { agent: Some("a".into()), ..Query::default() }] {
                let ord = order(&snap, &q, &[]);
                for header in [true, false] {
                    let shown: Vec<Column> = Column::shown(&snap).collect();
                    let mut want = shown.iter().map(|c| if header { c.header().len() } else { 0 }).collect::<Vec<_>>();
                    for &i in &ord {
                        for (w, &col) in want.iter_mut().zip(&shown) {
                            let mut num = String::new();
                            *w = (*w).max(text::width(&plain_cell(col, &snap, &snap.sessions[i], &mut num, Charset::Utf8).0));
                        }
                    }
                    let got = widths(&snap, &ord, header, Charset::Utf8, snap.multi());
                    assert_eq!(shown.iter().map(|&c| got[c as usize]).collect::<Vec<_>>(), want, "{rows:?} {q:?} header={header}");
                }
            }
        };
        let row = |i: usize, n: [&str; 4]| {
            let t = |k: usize| texts[(i * (k + 2) + k) % texts.len()];
            format!(
                r#"{{"session_id": {}, "agent_name": {}, "tenant": {}, "status": {}, "duration_s": {}, "mem_mb": {}, "peak_mb": {}, "cpu_pct": {}, "pinned": {}}}"#,
                t(0), t(1), t(2), t(3), n[0], n[1], n[2], n[3], i % 2 == 0
            )
        };
        // Every pair of values in a column, so no column's width is decided
        // by some other, larger value.
        for (i, a) in numbers.iter().enumerate() {
            for (j, b) in numbers.iter().enumerate() {
                check(&[row(i, [a, b, a, b]), row(i + j + 1, [b, a, b, a])]);
            }
        }
    }

    #[test]
    fn table_fields_are_sanitized() {
        let t = render(
            |o, s, r| table(o, s, r, Plain { header: false, ..Plain::default() }),
            r#"[{"session_id": "a b\u001b[2J", "agent_name": "", "tenant": "x\ty", "status": "slow"}, {"session_id": "-", "tenant": "-"}]"#,
        );
        assert_eq!(t, "\\u{2d}             -  \\u{2d}   -  -  -  -  -     -\na\\u{20}b\\u{1b}[2J  -  x\\u{9}y  -  -  -  -  slow  -\n");
    }

    #[test]
    fn tsv_escapes_exact_strings() {
        let t = render(
            |o, s, r| tsv(o, s, r, Plain { stamp: Some("T"), ..Plain::default() }),
            r#"[{"session_id": "a\tb\nc\rd\\e\u001bf\u009bg\u2028h\u202ei", "agent_name": "x", "tenant": null, "mem_mb": 2.25, "duration_s": 4, "cpu_pct": NaN, "pinned": true}]"#,
        );
        let mut lines = t.lines();
        assert_eq!(lines.next().unwrap(), "time\tsession\tagent\ttenant\tdur(s)\tmem(MB)\tpeak\tcpu%\tstatus\tpin");
        assert_eq!(lines.next().unwrap(), "T\ta\\tb\\nc\\rd\\\\e\\x1bf\\x9bg\\u{2028}h\\u{202e}i\tx\t\t4\t2.25\t\tnan\t\t*");
        assert_eq!(lines.next(), None, "one line per row");
    }

    #[test]
    fn json_round_trips_strings_and_nulls_non_finite() {
        let t = render(
            |o, s, r| json(o, s, r, Plain::default()),
            r#"{"worker": {"name": "w", "cpu_history": [1.5, NaN], "system": {"available": false}}, "sessions": [{"session_id": "\u00e9\ud83d\ude00\u001b\"", "mem_mb": Infinity}]}"#,
        );
        assert!(t.ends_with('\n') && t.lines().count() == 1);
        assert!(t.contains(r#""session_id": "é😀\u001b\"""#), "{t}");
        assert!(t.contains(r#""mem_mb": null"#));
        assert!(t.contains(r#""cpu_history": [1.5, null]"#));
        assert!(t.contains(r#""system": {"available": false, "cpu_pct": null"#));
        // What we print, we read back the same.
        let again = decode(t.trim_end().as_bytes()).unwrap();
        assert_eq!(&*again.sessions[0].session_id, "é😀\u{1b}\"");
    }

    #[test]
    fn missing_and_wrong_typed_values_are_null_in_json_and_empty_in_tsv() {
        let payload = r#"[{"session_id": "a", "mem_mb": null, "cpu_pct": "x", "status": NaN, "pinned": "yes"}]"#;
        let t = render(|o, s, r| json(o, s, r, Plain::default()), payload);
        assert!(t.contains(r#"{"session_id": "a", "agent_name": null, "tenant": null, "duration_s": null, "mem_mb": null, "peak_mb": null, "cpu_pct": null, "status": null, "pinned": null}"#), "{t}");
        let t = render(|o, s, r| tsv(o, s, r, Plain { header: false, ..Plain::default() }), payload);
        assert_eq!(t, "a\t\t\t\t\t\t\t\t-\n");
    }

    #[test]
    fn json_escapes_separators_and_is_ascii_for_an_ascii_reader() {
        let payload = r#"[{"session_id": "a\u2028b\u2029c", "agent_name": "m\u00fcnchen \ud83d\ude00"}]"#;
        let t = render(|o, s, r| json(o, s, r, Plain::default()), payload);
        assert!(t.contains(r#""session_id": "a\u2028b\u2029c""#), "{t}");
        assert!(t.contains("münchen 😀"), "{t}");
        let ascii = Plain { charset: Charset::Ascii, ..Plain::default() };
        let t = render(|o, s, r| json(o, s, r, ascii), payload);
        assert!(t.is_ascii() && t.contains(r#""agent_name": "m\u00fcnchen \ud83d\ude00""#), "{t}");
        assert_eq!(&*decode(t.trim_end().as_bytes()).unwrap().sessions[0].agent_name, "münchen 😀");
        let t = render(|o, s, r| tsv(o, s, r, ascii), payload);
        assert!(t.is_ascii() && t.contains("m\\u{fc}nchen \\u{1f600}"), "{t}");
        let t = render(|o, s, r| table(o, s, r, ascii), payload);
        assert!(t.is_ascii() && t.contains("m\\u{fc}nchen\\u{20}\\u{1f600}"), "{t}");
    }
}
