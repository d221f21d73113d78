//! Cells of the session table on screen: a cell's text before it is
//! fitted, and the columns' natural widths over the rows shown. (The
//! plain table's cells are `output`'s.)

use std::borrow::Cow;

use crate::model::column::{Column, N};
use crate::model::{Pool, Session, WorkerState};
use crate::text::{self, Charset};

/// A cell's text on screen, before fitting: numbers rounded, text
/// sanitized, `*` for a pin (the worker's or `client_pin`), else blank;
/// a worker that did not answer this round is marked after its label.
/// (The plain table's cell is `output::plain_cell`.)
pub fn screen_text<'a>(col: Column, pool: &'a Pool, s: &'a Session, client_pin: bool, cs: Charset) -> Cow<'a, str> {
    match col {
        Column::Pin => (if s.pinned || client_pin { "*" } else { "" }).into(),
        Column::Worker => {
            let Some(w) = pool.worker_of(s) else { return "-".into() };
            let label = text::display(&w.label, cs);
            match &w.state {
                WorkerState::Up => label,
                WorkerState::Gone => format!("{label} (gone)").into(),
                _ => format!("{label} (stale)").into(),
            }
        }
        c if c.missing(s) => "-".into(),
        c if c.numeric() => c.rounded(c.number(s)).into(),
        c => text::display(c.text(pool, s).unwrap_or("-"), cs),
    }
}

/// Natural widths of the numeric (or else the text) columns over `rows`:
/// the widest screen cell, capped, at least the header; 0 for the other
/// kind (and for the worker column of a one-worker pool). Text widths span
/// every shown row, so the live view measures them once per reorder
/// (`App::text_widths`), not on every frame.
pub fn natural_widths(pool: &Pool, rows: &[usize], numeric: bool, cs: Charset) -> [usize; N] {
    Column::ALL.map(|c| {
        if c.numeric() != numeric || (c == Column::Worker && !pool.multi()) {
            return 0;
        }
        let widest = if numeric || c == Column::Pin {
            rows.iter().map(|&i| text::width(&screen_text(c, pool, &pool.sessions[i], false, cs))).max().unwrap_or(0)
        } else if c == Column::Session {
            // Ids are one per row: nothing to remember, and nearly all are
            // printable ASCII, one column a byte.
            rows.iter()
                .map(|&i| match &pool.sessions[i] {
                    s if !c.missing(s) && text::plain(&s.session_id) => s.session_id.len(),
                    s => text::width(&screen_text(c, pool, s, false, cs)),
                })
                .max()
                .unwrap_or(0)
        } else {
            widest_text(c, pool, rows, cs)
        };
        widest.min(c.max_width()).max(c.header().len())
    })
}

/// The widest screen cell of this text column over `rows`. Agents and
/// tenants are shared strings (one allocation for many rows: decode's
/// `Recent`) and a worker's cells are all alike, so a cell is measured
/// only when its text is not one of the last few measured: sanitising
/// and measuring a non-ASCII tenant on every row was a tenth of the
/// live view's refresh at 9,600 sessions. A text is known by its
/// address and length, which no other live string shares.
fn widest_text(col: Column, pool: &Pool, rows: &[usize], cs: Charset) -> usize {
    // Direct-mapped by address: each worker decodes its own copies of
    // the agents and tenants, so 32 workers bring hundreds of distinct
    // strings in rows sorted across them.
    const MEMO: usize = 1024;
    let mut memo = vec![(usize::MAX, usize::MAX, 0usize); MEMO];
    let mut widest = 0;
    for &i in rows {
        let s = &pool.sessions[i];
        let id = match col.text(pool, s) {
            _ if col == Column::Worker => (usize::from(s.worker), usize::MAX - 1),
            Some(t) if !col.missing(s) => (t.as_ptr() as usize, t.len()),
            _ => (0, 0),
        };
        let slot = &mut memo[((id.0 ^ id.1.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize % MEMO];
        if (slot.0, slot.1) != id {
            *slot = (id.0, id.1, text::width(&screen_text(col, pool, s, false, cs)));
        }
        widest = widest.max(slot.2);
    }
    widest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memoised text widths are the widths measured row by row: shared
    /// and unshared strings, wide and hidden characters, missing values,
    /// and workers up, stale and gone.
    #[test]
    fn text_widths_match_measuring_every_row() {
        use crate::model::{Pool, Update, WorkerState};
        let rows = |n: usize, k: usize| -> String {
            let items: Vec<String> = (0..n)
                .map(|i| {
                    let tenant = ["\"acme\"", "\"m\\u00fcnchen-gmbh\"", "null", "\"\\u4e2d\\u6587-very-long-tenant-name\"", "\"a\\u200bb\""][(i + k) % 5];
                    let agent = if i % 7 == 0 { String::new() } else { format!(", \"agent_name\": \"agent-{}\"", (i * k) % 11) };
                    format!("{{\"session_id\": \"s{k}-{}{}\"{agent}, \"tenant\": {tenant}, \"status\": \"{}\"}}", "x".repeat(i % 23), ["", "\\u4e2d", "a\\\\b", "\\u0007", "\\u200b", " "][i % 6], ["active", "slow", "weird\\u0007"][i % 3])
                })
                .collect();
            format!("[{}]", items.join(", "))
        };
        let mut pool = Pool::default();
        let states = [WorkerState::Up, WorkerState::Stale("hung".into()), WorkerState::Gone];
        let updates = (0..3u32)
            .map(|k| Update {
                key: k,
                label: format!("w\u{e9}{k}"),
                socket: Default::default(),
                state: states[k as usize].clone(),
                took: None, pid: None, stack: None, blocks: 0,
                fresh: Some(crate::decode::decode(rows(40 + 13 * k as usize, k as usize).as_bytes()).unwrap()),
            })
            .collect();
        pool.advance(updates);
        let order: Vec<usize> = (0..pool.sessions.len()).rev().collect();
        for cs in [Charset::Utf8, Charset::Ascii] {
            let got = natural_widths(&pool, &order, false, cs);
            for c in Column::ALL.into_iter().filter(|c| !c.numeric()) {
                let plain = order.iter().map(|&i| text::width(&screen_text(c, &pool, &pool.sessions[i], false, cs))).max().unwrap_or(0);
                assert_eq!(got[c as usize], plain.min(c.max_width()).max(c.header().len()), "{c:?} {cs:?}");
            }
        }
    }

}
