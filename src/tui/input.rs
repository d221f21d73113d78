//! Key bytes to keys, with termion's parser behind a guard.
//!
//! termion 4's `parse_event` unwraps freely: a CSI sequence cut short (`ESC [ 1`
//! at the end of a read), an empty or oversized parameter (`ESC [ 1 ; ~`,
//! `ESC [ 300 ~`) or a mouse report with too few fields panics. So the bytes
//! are first split here into whole units (one character or one escape
//! sequence), and only units of a shape termion handles are given to it;
//! anything else (mouse reports, unknown or malformed sequences) is dropped.

use termion::event::{Event as TermionEvent, Key};

/// Longest escape sequence considered; longer ones are junk and dropped.
const MAX_SEQ: usize = 32;

/// What the terminal sent: a key, or a paste (bracketed paste mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Key(Key),
    Paste(String),
}

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// The most of one paste kept: a search is never longer, and a paste of
/// megabytes must not cost megabytes.
pub const MAX_PASTE: usize = 64 * 1024;

/// Bytes to events across reads: a paste may arrive over several.
#[derive(Debug, Default)]
pub struct Reader {
    /// Inside a paste: its text so far (at most `MAX_PASTE` bytes).
    paste: Option<Vec<u8>>,
    /// The last bytes read inside a paste, which may be the start of its
    /// end marker (fewer than the marker's length).
    tail: Vec<u8>,
}

impl Reader {
    /// The events in `bytes` (keys as `parse` finds them, pastes whole).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        let mut rest: Vec<u8> = bytes.to_vec();
        loop {
            if let Some(paste) = &mut self.paste {
                let mut seen = std::mem::take(&mut self.tail);
                seen.extend_from_slice(&rest);
                let (text, after) = match find(&seen, PASTE_END) {
                    Some(at) => (&seen[..at], Some(at + PASTE_END.len())),
                    None => {
                        let keep = seen.len().saturating_sub(PASTE_END.len() - 1);
                        self.tail = seen[keep..].to_vec();
                        (&seen[..keep], None)
                    }
                };
                let room = MAX_PASTE - paste.len();
                paste.extend_from_slice(&text[..text.len().min(room)]);
                let Some(after) = after else { return out };
                out.push(Event::Paste(String::from_utf8_lossy(paste).into_owned()));
                self.paste = None;
                rest = seen[after..].to_vec();
                continue;
            }
            match find(&rest, PASTE_START) {
                Some(at) => {
                    out.extend(parse(&rest[..at]).into_iter().map(Event::Key));
                    self.paste = Some(Vec::new());
                    rest.drain(..at + PASTE_START.len());
                }
                None => {
                    out.extend(parse(&rest).into_iter().map(Event::Key));
                    return out;
                }
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every key in `bytes`, in order. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let (len, unit) = next_unit(&bytes[i..]);
        match unit.and_then(|u| decode(&bytes[i..i + u])) {
            // Nothing is bound to Alt: ESC and a key in one read is Esc typed
            // quickly before that key (or a terminal sending both at once).
            Some(Key::Alt(c)) => keys.extend([Key::Esc, Key::Char(c)]),
            Some(k) => keys.push(k),
            None => {}
        }
        i += len.max(1);
    }
    keys
}

/// Does `bytes` end inside an escape sequence that more bytes would finish?
/// (A terminal can split one sequence across two reads.)
pub fn incomplete(bytes: &[u8]) -> bool {
    let Some(esc) = bytes.iter().rposition(|&b| b == 0x1b) else { return false };
    let tail = &bytes[esc..];
    tail.len() < MAX_SEQ
        && match tail.get(1) {
            None => true,
            Some(b'[') => !tail[2..].iter().any(|b| (0x40..=0x7e).contains(b)) || tail == b"\x1b[[",
            Some(b'O') => tail.len() == 2,
            Some(_) => false,
        }
}

/// Bytes taken by the unit at the start of `b`, and the length to decode
/// (`None`: skip these bytes).
fn next_unit(b: &[u8]) -> (usize, Option<usize>) {
    if b[0] != 0x1b {
        let n = utf8_len(b);
        return match n {
            Some(n) => (n, Some(n)),
            None => (1, None),
        };
    }
    match b.get(1) {
        None => (1, Some(1)),            // a lone ESC is the Esc key
        Some(0x1b) => (1, Some(1)),      // ESC ESC: Esc, then look again
        Some(b'[') => csi(b),
        Some(b'O') => match b.get(2) {
            Some(c) if (0x40..=0x7e).contains(c) => (3, Some(3)),
            Some(_) => (2, None),
            None => (2, None),
        },
        Some(_) => match utf8_len(&b[1..]) {
            Some(n) => (1 + n, Some(1 + n)), // Alt + character
            None => (2, None),
        },
    }
}

/// A CSI sequence: `ESC [ params intermediates final`.
fn csi(b: &[u8]) -> (usize, Option<usize>) {
    // Linux console F1..F5: ESC [ [ A..E
    if b.get(2) == Some(&b'[') {
        return match b.get(3) {
            Some(b'A'..=b'E') => (4, Some(4)),
            Some(_) => (4, None),
            None => (3, None),
        };
    }
    // X10 mouse: ESC [ M and three raw bytes.
    if b.get(2) == Some(&b'M') {
        return (b.len().min(6), None);
    }
    // SGR mouse: ESC [ < ... M|m, whose fields may hold letters in junk.
    if b.get(2) == Some(&b'<') {
        let end = b.iter().take(MAX_SEQ).position(|&c| c == b'M' || c == b'm');
        return (end.map_or(b.len().min(MAX_SEQ), |e| e + 1), None);
    }
    let Some(end) = b.iter().take(MAX_SEQ).skip(2).position(|c| (0x40..=0x7e).contains(c)) else {
        return (b.len().min(MAX_SEQ), None);
    };
    let len = end + 3;
    let params = &b[2..len - 1];
    let fin = b[len - 1];
    let safe = fin != b'M' && fin != b'm' && params_ok(params);
    (len, safe.then_some(len))
}

/// Empty, or `;`-separated decimal numbers that each fit a byte: the only
/// parameters termion parses without unwrapping a failure.
fn params_ok(p: &[u8]) -> bool {
    p.is_empty()
        || p.split(|&c| c == b';').all(|n| {
            !n.is_empty() && n.len() <= 3 && n.iter().all(u8::is_ascii_digit) && n.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0')) <= 255
        })
}

/// Length of the UTF-8 character at the start of `b`, if whole and valid.
fn utf8_len(b: &[u8]) -> Option<usize> {
    let n = match b[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    std::str::from_utf8(b.get(..n)?).ok().map(|_| n)
}

fn decode(unit: &[u8]) -> Option<Key> {
    // Application cursor mode sends SS3 arrows, which termion does not know.
    if let [0x1b, b'O', c] = unit {
        match c {
            b'A' => return Some(Key::Up),
            b'B' => return Some(Key::Down),
            b'C' => return Some(Key::Right),
            b'D' => return Some(Key::Left),
            b'H' => return Some(Key::Home),
            b'F' => return Some(Key::End),
            b'P'..=b'S' => {}
            _ => return None,
        }
    }
    if unit == [0x1b] {
        return Some(Key::Esc);
    }
    let mut rest = unit[1..].iter().map(|&b| Ok(b));
    match termion::event::parse_event(unit[0], &mut rest) {
        Ok(TermionEvent::Key(k)) => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys() {
        assert_eq!(parse(b"qsfr"), [Key::Char('q'), Key::Char('s'), Key::Char('f'), Key::Char('r')]);
        assert_eq!(parse(b"\x03"), [Key::Ctrl('c')]);
        assert_eq!(parse(b"\r"), [Key::Char('\n')]);
        assert_eq!(parse("é中".as_bytes()), [Key::Char('é'), Key::Char('中')]);
    }

    #[test]
    fn navigation_sequences() {
        assert_eq!(parse(b"\x1b[A\x1b[B"), [Key::Up, Key::Down]);
        assert_eq!(parse(b"\x1b[5~\x1b[6~"), [Key::PageUp, Key::PageDown]);
        assert_eq!(parse(b"\x1b[H\x1b[F\x1b[1~\x1b[4~"), [Key::Home, Key::End, Key::Home, Key::End]);
        assert_eq!(parse(b"\x1bOA\x1bOB\x1bOH"), [Key::Up, Key::Down, Key::Home]);
        assert_eq!(parse(b"\x1b[1;5A"), [Key::CtrlUp]);
    }

    #[test]
    fn esc_and_alt() {
        assert_eq!(parse(b"\x1b"), [Key::Esc]);
        assert_eq!(parse(b"\x1b\x1b"), [Key::Esc, Key::Esc]);
        assert_eq!(parse(b"\x1bx"), [Key::Esc, Key::Char('x')]);
        assert_eq!(parse(b"\x1bg?"), [Key::Esc, Key::Char('g'), Key::Char('?')]);
    }

    #[test]
    fn inputs_that_panic_termion_are_dropped() {
        // Each of these panics inside termion::event::parse_event when given raw.
        for bad in [
            &b"\x1b[1"[..],     // cut short: unwrap on None
            b"\x1b[1;~",        // empty parameter: parse().unwrap()
            b"\x1b[300~",       // parameter beyond u8
            b"\x1b[M",          // X10 mouse cut short
            b"\x1b[<0;1M",      // SGR mouse, too few fields
            b"\x1b[<a;b;cM",    // SGR mouse, not numbers
            b"\x1b[32;1M",      // rxvt mouse, too few fields
            b"\x1b[1:2~",       // a colon where a number should be
        ] {
            assert!(parse(bad).is_empty(), "{bad:?}");
        }
        // Junk in between does not swallow the keys around it.
        assert_eq!(parse(b"a\x1b[300~b\x1b[<0;1Mc"), [Key::Char('a'), Key::Char('b'), Key::Char('c')]);
    }

    #[test]
    fn pastes_arrive_whole_across_reads_and_bounded() {
        let mut r = Reader::default();
        assert_eq!(r.feed(b"a\x1b[200~hello "), [Event::Key(Key::Char('a'))]);
        assert_eq!(r.feed(b"world\x1b[20"), []);
        assert_eq!(r.feed(b"1~q"), [Event::Paste("hello world".into()), Event::Key(Key::Char('q'))]);
        assert_eq!(r.feed(b"\x1b[200~x\x1b[201~\x1b[200~y\x1b[201~"), [Event::Paste("x".into()), Event::Paste("y".into())]);
        // A paste far over the limit keeps its first MAX_PASTE bytes and
        // does not grow past them.
        let mut r = Reader::default();
        let mut events = r.feed(b"\x1b[200~");
        for _ in 0..100 {
            events.extend(r.feed(&[b'z'; 10_000]));
            assert!(r.paste.as_ref().is_none_or(|p| p.len() <= MAX_PASTE) && r.tail.len() < PASTE_END.len());
        }
        events.extend(r.feed(b"\x1b[201~s"));
        let Some(Event::Paste(p)) = events.first() else { panic!("{events:?}") };
        assert_eq!(p.len(), MAX_PASTE);
        assert_eq!(events.last(), Some(&Event::Key(Key::Char('s'))));
    }

    #[test]
    fn invalid_utf8_is_skipped() {
        assert_eq!(parse(b"\xff\xfeq\xc3"), [Key::Char('q')]);
    }

    #[test]
    fn incomplete_sequences_are_noticed() {
        assert!(incomplete(b"\x1b"));
        assert!(incomplete(b"q\x1b["));
        assert!(incomplete(b"\x1b[1;5"));
        assert!(incomplete(b"\x1bO"));
        assert!(!incomplete(b"\x1b[A"));
        assert!(!incomplete(b"q"));
        assert!(!incomplete(b"\x1bx"));
    }
}
