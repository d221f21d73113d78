//! Presentation: frame pieces as pure text, for the live view and for
//! `--once`'s framed output alike. Every function takes data, a width and
//! a `Paint` and returns lines that fit it, with SGR escapes (from termion)
//! for style; nothing here touches a terminal.
//!
//! `line` is a line being built and how it is painted, `format` the small
//! formatters, `layout` the one table layout the session table (`table`,
//! with `cells`), the group tables (`groups`) and the lines of several
//! workers (`workers`) share; `title` and `header` (one worker's block)
//! top the frame, and `once` is the whole `--once` frame.

/// The most columns or rows a frame is built for, whatever the terminal
/// or `COLUMNS` claims: frame memory is bounded by this, not by a claim.
pub const MAX_SIDE: u16 = 4096;

pub mod blocked;
pub mod cells;
pub mod events;
pub mod format;
pub mod groups;
pub mod header;
pub mod layout;
pub mod line;
pub mod once;
pub mod stack;
pub mod table;
pub mod title;
pub mod workers;

/// What the presentation tests share: paints, a real worker's payload as a
/// pool, the default title and the `--once` frame as text.
#[cfg(test)]
pub(crate) mod testing {
    use super::line::Paint;
    use super::title::TitleView;
    use crate::model::Pool;
    use crate::text::Charset;
    use crate::view::Query;

    pub const V020: &str = include_str!("../../tests/fixtures/snapshot-v020.jsonl");
    pub const COLOUR: Paint = Paint { color: true, charset: Charset::Utf8, place: true };
    pub const PLAIN: Paint = Paint { color: false, charset: Charset::Utf8, place: true };
    pub const ASCII: Paint = Paint { color: false, charset: Charset::Ascii, place: true };

    pub fn view() -> TitleView<'static> {
        static Q: std::sync::LazyLock<Query> = std::sync::LazyLock::new(Query::default);
        TitleView::of(&Q)
    }

    pub fn pool_of(payload: &[u8]) -> Pool {
        Pool::single(crate::decode::decode(payload).unwrap(), "w.sock".into())
    }

    pub fn frame(snap: &Pool, ord: &[usize], width: usize, paint: Paint) -> String {
        let mut out = Vec::new();
        super::once::once_frame(&mut out, snap, ord, view(), true, width, paint).unwrap();
        String::from_utf8(out).unwrap()
    }
}
