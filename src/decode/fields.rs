//! The decoder's key lookup, built at compile time from the one table of
//! known fields (`model::fields::FIELDS`).
//!
//! Keys are matched once per key without allocating. A key's length, first
//! byte and last byte pick one slot of a small table; one comparison then
//! confirms the name. The slot function must give every known field its own
//! slot: `SLOT_OF` is built at compile time and the build fails (a `const`
//! panic) if two fields ever share one, and a test checks the same rule.

pub use crate::model::fields::{FIELDS, Field};

const SLOTS: usize = 128;

/// The slot for a key of this length, first and last byte.
const fn slot(len: usize, first: u8, last: u8) -> usize {
    (len + first as usize * 5 + last as usize) % SLOTS
}

/// What a slot holds: the field that owns it and its name as the two
/// (overlapping) words `words` reads from a key of that length.
#[derive(Clone, Copy)]
struct Slot {
    len: usize,
    words: (u64, u64),
    field: Field,
}

/// Every slot, built from `FIELDS` at compile time; two fields in one slot
/// fail the build.
const SLOT_OF: [Slot; SLOTS] = {
    let mut table = [Slot { len: 0, words: (0, 0), field: Field::Unknown }; SLOTS];
    let mut i = 0;
    while i < FIELDS.len() {
        let b = FIELDS[i].0.as_bytes();
        assert!(b.len() >= 4 && b.len() <= 16, "words() reads keys of 4 to 16 bytes");
        let s = slot(b.len(), b[0], b[b.len() - 1]);
        assert!(matches!(table[s].field, Field::Unknown), "two known fields share a slot: change slot()");
        table[s] = Slot { len: b.len(), words: const_words(b), field: FIELDS[i].1 };
        i += 1;
    }
    table
};

impl Field {
    /// The field a key names (`Unknown` for any other key). One slot, one
    /// length check and two word compares: a call to memcmp per key was 2%
    /// of all instructions at 100,000 sessions (callgrind: 1,088M against
    /// 1,068M for the literal compares of the hand-kept match it replaced).
    #[inline]
    pub fn of(key: &str) -> Field {
        let b = key.as_bytes();
        let (Some(&first), Some(&last)) = (b.first(), b.last()) else { return Field::Unknown };
        let s = &SLOT_OF[slot(b.len(), first, last)];
        if s.len == b.len() && (4..=16).contains(&b.len()) && words(b) == s.words { s.field } else { Field::Unknown }
    }
}

/// A key of 4 to 16 bytes as two words that together cover all of it: the
/// first and last 8 bytes (overlapping) from 8 bytes on, else the first and
/// last 4.
#[inline(always)]
fn words(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    if n >= 8 {
        (u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])), u64::from_le_bytes(b[n - 8..].try_into().unwrap_or([0; 8])))
    } else {
        (u64::from(u32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4]))), u64::from(u32::from_le_bytes(b[n - 4..].try_into().unwrap_or([0; 4]))))
    }
}

/// `words`, at compile time.
const fn const_words(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    let k = if n >= 8 { 8 } else { 4 };
    let (mut x, mut y, mut i) = (0u64, 0u64, 0);
    while i < k {
        x |= (b[i] as u64) << (8 * i);
        y |= (b[n - k + i] as u64) << (8 * i);
        i += 1;
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_its_own_slot_and_is_found_by_name() {
        let mut owner = [None; SLOTS];
        for &(name, field) in FIELDS {
            let b = name.as_bytes();
            let s = slot(b.len(), b[0], b[b.len() - 1]);
            assert_eq!(owner[s], None, "{name} shares slot {s}");
            assert!((4..=16).contains(&b.len()), "{name}: words() reads 4 to 16 bytes");
            owner[s] = Some(name);
            assert_eq!(Field::of(name), field, "{name}");
            assert_ne!(field, Field::Unknown);
        }
        // Each variant is in the table once.
        for (i, &(_, f)) in FIELDS.iter().enumerate() {
            assert!(FIELDS[i + 1..].iter().all(|&(_, g)| g != f), "{f:?} twice");
        }
    }

    #[test]
    fn word_keys_tell_apart_what_slices_do() {
        let words_of = ["name", "abcd", "abcde", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop"];
        for a in words_of {
            assert_eq!(words(a.as_bytes()), const_words(a.as_bytes()), "{a}");
            for i in 0..a.len() {
                let mut c = a.as_bytes().to_vec();
                c[i] ^= 1;
                assert_ne!(words(&c), words(a.as_bytes()), "{a} byte {i}");
            }
        }
    }

    #[test]
    fn other_keys_are_unknown() {
        for other in ["", "x", "workes", "sessionz", "statis", "Status", "load9", "tenant ", "cpu_pcx", "swap_total_byte"] {
            assert_eq!(Field::of(other), Field::Unknown, "{other}");
        }
    }
}
