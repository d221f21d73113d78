//! The session table's columns, as one table (htop's `Process_fields`):
//! each entry says its header, the payload field it shows, what kind of
//! value that is (and so where a `Session` keeps it, how it aligns, sorts
//! and prints), its sort names and its widths. The decoder, the view's
//! sort, the plain writers (table, TSV, JSON), the screen and the metrics
//! all read it; a new numeric column is one entry here (and its field in
//! `fields`).

use std::cmp::Ordering;

use super::fields::Field;
use super::{Pool, Session};
use crate::number::{self, cmp_f64};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// The worker's label: shown (first) only when the pool has several.
    Worker,
    Session,
    Agent,
    Tenant,
    Duration,
    Mem,
    Peak,
    Cpu,
    Status,
    Pin,
}

/// What a column's value is, which says where a session keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The label of the session's worker (from the pool).
    Worker,
    /// `Session::session_id`.
    Id,
    /// `Session::agent_name`.
    Agent,
    /// `Session::tenant`: text or unset (no missing bit: a missing tenant
    /// is an unset one).
    Tenant,
    /// `Session::nums[slot]`, printed rounded to `decimals` for people and
    /// exactly for machines.
    Num { slot: usize, decimals: u32 },
    /// `Session::status`.
    Status,
    /// `Session::pinned`.
    Pin,
}

/// One column.
#[derive(Debug)]
pub struct Def {
    pub column: Column,
    pub header: &'static str,
    /// The payload field (and JSON key) it shows.
    pub field: Field,
    pub kind: Kind,
    /// The canonical `--sort` name (shown in the title), then aliases;
    /// none: not a sort key.
    pub sort_names: &'static [&'static str],
    /// The narrowest a layout may shrink it to (0: its header's width) and
    /// the widest its natural width may grow.
    pub min_width: usize,
    pub max_width: usize,
}

const fn num(slot: usize, decimals: u32) -> Kind {
    Kind::Num { slot, decimals }
}

/// The columns in display order, as in the reference (the worker column
/// leads when the pool has several workers, and is left out otherwise).
/// `Column::def` indexes this by the variant, which a test holds.
pub const COLUMNS: [Def; N] = [
    Def { column: Column::Worker, header: "worker", field: Field::Worker, kind: Kind::Worker, sort_names: &["worker"], min_width: 6, max_width: 24 },
    Def { column: Column::Session, header: "session", field: Field::SessionId, kind: Kind::Id, sort_names: &["session", "session_id"], min_width: 8, max_width: 40 },
    Def { column: Column::Agent, header: "agent", field: Field::AgentName, kind: Kind::Agent, sort_names: &["agent", "agent_name"], min_width: 0, max_width: 24 },
    Def { column: Column::Tenant, header: "tenant", field: Field::Tenant, kind: Kind::Tenant, sort_names: &["tenant"], min_width: 0, max_width: 24 },
    Def { column: Column::Duration, header: "dur(s)", field: Field::DurationS, kind: num(0, 0), sort_names: &["duration_s"], min_width: 0, max_width: usize::MAX },
    Def { column: Column::Mem, header: "mem(MB)", field: Field::MemMb, kind: num(1, 1), sort_names: &["mem_mb"], min_width: 0, max_width: usize::MAX },
    Def { column: Column::Peak, header: "peak", field: Field::PeakMb, kind: num(2, 1), sort_names: &["peak_mb"], min_width: 0, max_width: usize::MAX },
    Def { column: Column::Cpu, header: "cpu%", field: Field::CpuPct, kind: num(3, 1), sort_names: &["cpu_pct"], min_width: 0, max_width: usize::MAX },
    Def { column: Column::Status, header: "status", field: Field::Status, kind: Kind::Status, sort_names: &["status"], min_width: 0, max_width: 10 },
    Def { column: Column::Pin, header: "pin", field: Field::Pinned, kind: Kind::Pin, sort_names: &[], min_width: 0, max_width: usize::MAX },
];

/// How many columns there are.
pub const N: usize = 10;

/// How many numeric columns (the length of `Session::nums`), counted from
/// the table.
pub const NUMS: usize = {
    let (mut n, mut i) = (0, 0);
    while i < N {
        if let Kind::Num { slot, .. } = COLUMNS[i].kind {
            assert!(slot == n, "numeric slots are 0, 1, 2... in table order");
            n += 1;
        }
        i += 1;
    }
    n
};

/// The column showing each known field, by `Field` (built from the table
/// at compile time): the decoder reads a row's fields through it.
const BY_FIELD: [Option<Column>; Field::Unknown as usize + 1] = {
    let mut t = [None; Field::Unknown as usize + 1];
    let mut i = 0;
    while i < N {
        t[COLUMNS[i].field as usize] = Some(COLUMNS[i].column);
        i += 1;
    }
    t
};

/// Each column's bit in `Session::missing`: its place in the table, but
/// none for the worker and the tenant.
const BITS: [u16; N] = {
    let mut bits = [0; N];
    let mut i = 0;
    while i < N {
        bits[i] = match COLUMNS[i].kind {
            Kind::Worker | Kind::Tenant => 0,
            _ => 1 << i,
        };
        i += 1;
    }
    bits
};

impl Column {
    pub const ALL: [Column; N] = {
        let mut all = [Column::Worker; N];
        let mut i = 0;
        while i < N {
            all[i] = COLUMNS[i].column;
            i += 1;
        }
        all
    };

    /// The `s` key's cycle, exactly as the reference documents it.
    pub const SORT_CYCLE: [Column; 5] = [Column::Mem, Column::Cpu, Column::Duration, Column::Agent, Column::Session];

    pub fn def(self) -> &'static Def {
        &COLUMNS[self as usize]
    }

    /// The column a row field is shown in.
    pub fn of_field(f: Field) -> Option<Column> {
        BY_FIELD[f as usize]
    }

    pub fn header(self) -> &'static str {
        self.def().header
    }

    pub fn kind(self) -> Kind {
        self.def().kind
    }

    /// The field's name on the wire and in JSON.
    pub fn key(self) -> &'static str {
        self.def().field.name()
    }

    pub fn sort_names(self) -> &'static [&'static str] {
        self.def().sort_names
    }

    pub fn sort_name(self) -> &'static str {
        self.sort_names().first().copied().unwrap_or("")
    }

    pub fn from_sort_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.sort_names().contains(&name))
    }

    /// A column by a name `-o` takes: its header as shown (any case), or
    /// one of its sort names.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.header().eq_ignore_ascii_case(name) || c.sort_names().contains(&name))
    }

    /// Every accepted `--sort` value, for help and error messages: the `s`
    /// cycle first, then the other columns, then the aliases.
    pub fn all_sort_names() -> impl Iterator<Item = &'static str> {
        let canonical = Column::SORT_CYCLE
            .into_iter()
            .chain(Column::ALL.into_iter().filter(|c| !Column::SORT_CYCLE.contains(c)))
            .filter_map(|c| c.sort_names().first().copied());
        let aliases = Column::ALL.into_iter().flat_map(|c| c.sort_names().iter().skip(1).copied());
        canonical.chain(aliases)
    }

    /// Numbers are right-aligned and sort biggest first (htop-style).
    pub fn numeric(self) -> bool {
        matches!(self.kind(), Kind::Num { .. })
    }

    /// The next key for `s`; a key outside the cycle starts it again (as the
    /// reference does for an unknown key).
    pub fn next_sort(self) -> Column {
        let cycle = Column::SORT_CYCLE;
        match cycle.iter().position(|&c| c == self) {
            Some(i) => cycle[(i + 1) % cycle.len()],
            None => cycle[0],
        }
    }

    /// The column's bit in `Session::missing` (0: it cannot be missing; a
    /// missing tenant is an unset one, and the worker is always known).
    pub const fn bit(self) -> u16 {
        BITS[self as usize]
    }

    /// Whether a session lacks this column's field (see `Session::missing`).
    pub fn missing(self, s: &Session) -> bool {
        s.lacks(self.bit())
    }

    /// The columns a pool is shown with: the worker column only when it has
    /// several workers.
    pub fn shown(pool: &Pool) -> impl Iterator<Item = Column> + '_ {
        Column::ALL.into_iter().filter(move |&c| c != Column::Worker || pool.multi())
    }

    /// The value a numeric column sorts and prints by (0 for another kind).
    pub fn number(self, s: &Session) -> f64 {
        match self.kind() {
            Kind::Num { slot, .. } => s.nums[slot],
            _ => 0.0,
        }
    }

    /// The raw text of a text column (`None` for an unset tenant), the
    /// worker's label looked up in `pool`.
    pub fn text<'a>(self, pool: &'a Pool, s: &'a Session) -> Option<&'a str> {
        match self.kind() {
            Kind::Worker => pool.worker_of(s).map(|w| w.label.as_str()),
            Kind::Id => Some(&s.session_id),
            Kind::Agent => Some(&s.agent_name),
            Kind::Tenant => s.tenant.as_deref(),
            Kind::Status => Some(s.status.as_str()),
            Kind::Num { .. } | Kind::Pin => None,
        }
    }

    /// Display text of a numeric cell, rounded: whole seconds or one decimal.
    pub fn rounded(self, v: f64) -> String {
        let mut s = String::new();
        self.push_rounded(&mut s, v);
        s
    }

    /// `rounded`, appended to `out`.
    pub fn push_rounded(self, out: &mut String, v: f64) {
        let decimals = match self.kind() {
            Kind::Num { decimals, .. } => decimals,
            _ => 1,
        };
        number::push_rounded(out, v, decimals);
    }

    /// The narrowest a layout may shrink this column to.
    pub fn min_width(self) -> usize {
        match self.def().min_width {
            0 => self.header().len(),
            w => w,
        }
    }

    /// The widest a layout lets this column's natural width grow.
    pub fn max_width(self) -> usize {
        self.def().max_width
    }

    /// Compare two sessions of `pool` on this column in its natural
    /// direction (numbers descending, text ascending); ties are left to the
    /// caller.
    pub fn compare(self, pool: &Pool, a: &Session, b: &Session) -> Ordering {
        match self.kind() {
            Kind::Num { .. } => cmp_f64(self.number(b), self.number(a)),
            Kind::Pin => b.pinned.cmp(&a.pinned),
            _ => self.text(pool, a).cmp(&self.text(pool, b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_indexed_by_the_variant_and_names_known_fields() {
        for (i, c) in Column::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
            assert_eq!(c.def().column, c);
            assert_ne!(c.key(), "", "{c:?} names a known field");
            assert_eq!(Column::of_field(c.def().field), Some(c));
        }
        assert_eq!(NUMS, 4);
        assert_eq!(Column::of_field(Field::Name), None);
    }

    #[test]
    fn sort_cycle_matches_the_reference() {
        let mut c = Column::Mem;
        let mut seen = vec![c.sort_name()];
        for _ in 0..5 {
            c = c.next_sort();
            seen.push(c.sort_name());
        }
        assert_eq!(seen, ["mem_mb", "cpu_pct", "duration_s", "agent", "session", "mem_mb"]);
        assert_eq!(Column::Peak.next_sort(), Column::Mem);
    }

    #[test]
    fn sort_names_and_aliases() {
        for (name, col) in [
            ("mem_mb", Column::Mem),
            ("cpu_pct", Column::Cpu),
            ("duration_s", Column::Duration),
            ("agent", Column::Agent),
            ("agent_name", Column::Agent),
            ("session", Column::Session),
            ("session_id", Column::Session),
            ("peak_mb", Column::Peak),
            ("tenant", Column::Tenant),
        ] {
            assert_eq!(Column::from_sort_name(name), Some(col), "{name}");
        }
        assert_eq!(Column::from_sort_name("pin"), None);
        assert_eq!(Column::from_sort_name("MEM_MB"), None);
    }

    #[test]
    fn each_field_column_has_its_own_missing_bit() {
        let bits: Vec<u16> = Column::ALL.iter().map(|c| c.bit()).filter(|&b| b != 0).collect();
        assert_eq!(bits.iter().fold(0, |a, b| a | b), Session::ALL, "every bit has a column");
        assert_eq!(bits.len(), 8, "one column per bit");
        assert_eq!((Column::Tenant.bit(), Column::Worker.bit()), (0, 0));
    }

    #[test]
    fn number_formats() {
        assert_eq!(Column::Duration.rounded(312.4), "312");
        assert_eq!(Column::Mem.rounded(182.55), "182.6");
        assert_eq!(Column::Cpu.rounded(f64::NAN), "nan");
        assert_eq!(Column::Cpu.rounded(f64::NEG_INFINITY), "-inf");
    }
}
