//! Session ids, kept inside the session when short.
//!
//! Every id a worker has been seen to send (LiveKit job ids such as
//! `AJ_owYB4zasEY77`) fits in 22 bytes. Stored inline, a 100,000-session
//! snapshot makes 100,000 fewer allocations and its ids sit next to the rest
//! of each row. Longer ids (the protocol sets no limit) go to the heap,
//! shared: the live view keeps ids as keys (trends, the cursor, pins), and
//! a clone of a 60 MB id must cost a count, not 60 MB.
//! The fields are private so that `new` is the only way to make one.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::rc::Rc;

const INLINE: usize = 22;

#[derive(Clone)]
pub struct SessionId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Rc<str>),
}

impl SessionId {
    pub fn new(s: &str) -> SessionId {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            SessionId(Repr::Inline { len: s.len() as u8, bytes })
        } else {
            SessionId(Repr::Heap(s.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Checking again on every read cost more than the allocations
            // this type saves (callgrind, 100,000 sessions).
            // SAFETY: `new` is the only constructor of `Inline`, and it
            // copies all of a &str into `bytes[..len]`: valid UTF-8.
            Repr::Inline { len, bytes } => unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len)]) },
            Repr::Heap(s) => s,
        }
    }
}

impl Default for SessionId {
    fn default() -> Self {
        SessionId::new("")
    }
}

impl From<&str> for SessionId {
    fn from(s: &str) -> Self {
        SessionId::new(s)
    }
}

impl Deref for SessionId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SessionId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SessionId {}

impl PartialEq<str> for SessionId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialOrd for SessionId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SessionId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_ids_read_back_and_compare_as_text() {
        let cases = ["", "a", "AJ_owYB4zasEY77", &"x".repeat(22), &"y".repeat(23), "caf\u{e9} \u{1f600}", &"\u{e9}".repeat(11), &"\u{e9}".repeat(12)];
        for s in cases {
            let id = SessionId::new(s);
            assert_eq!(&*id, s);
            assert_eq!(id, SessionId::from(s));
            assert_eq!(format!("{id:?}"), format!("{s:?}"));
            assert!(matches!(id.0, Repr::Inline { .. }) == (s.len() <= INLINE), "{s}");
        }
        let mut sorted: Vec<SessionId> = cases.iter().map(|s| SessionId::new(s)).collect();
        sorted.sort();
        let mut want = cases.to_vec();
        want.sort();
        assert_eq!(sorted.iter().map(|i| i.as_str()).collect::<Vec<_>>(), want);
        assert_eq!(std::mem::size_of::<SessionId>(), 24);
    }
}
