//! One table layout for every table on screen: the session table, the
//! group tables and the lines of several workers. A layout says where each
//! column's cells go on a line: where the column starts (after the blanks
//! before it), how wide it is, and which side its cells align to. The
//! tables differ only in the columns they give it and in how they style
//! their cells.

use super::line::StyledLine;
use crate::text;

/// One column's place on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub start: usize,
    pub width: usize,
    /// Cells align right (numbers), else left.
    pub right: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub cols: Vec<Col>,
}

impl Layout {
    /// Columns one after another: each `(gap, width, right)` is the blanks
    /// before the column, its width and its alignment.
    pub fn new(cols: impl IntoIterator<Item = (usize, usize, bool)>) -> Layout {
        let mut at = 0;
        let cols = cols
            .into_iter()
            .map(|(gap, width, right)| {
                let start = at + gap;
                at = start + width;
                Col { start, width, right }
            })
            .collect();
        Layout { cols }
    }

    /// Columns of these widths and alignments, one blank apart.
    pub fn spaced(cols: impl IntoIterator<Item = (usize, bool)>) -> Layout {
        Layout::new(cols.into_iter().enumerate().map(|(i, (width, right))| (usize::from(i > 0), width, right)))
    }

    /// Where column `i` ends.
    pub fn end(&self, i: usize) -> usize {
        self.cols.get(i).map_or(0, |c| c.start + c.width)
    }

    /// Whether column `i` ends within `l`'s width.
    pub fn fits(&self, l: &StyledLine, i: usize) -> bool {
        self.end(i) <= l.used() + l.room()
    }

    /// Blanks up to where a cell `width` columns wide starts in column `i`.
    pub fn place(&self, l: &mut StyledLine, i: usize, width: usize) {
        if let Some(c) = self.cols.get(i) {
            l.pad(if c.right { c.start + c.width.saturating_sub(width) } else { c.start });
        }
    }

    /// A cell of trusted (or sanitised) text in column `i`, cut to its
    /// width, then blanks to the column's end.
    pub fn cell(&self, l: &mut StyledLine, i: usize, t: &str) {
        let width = self.cols.get(i).map_or(0, |c| c.width);
        let t = text::truncate(t, width, l.charset());
        self.place(l, i, text::width(&t));
        l.text(&t);
        l.pad(self.end(i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::line::Paint;

    #[test]
    fn cells_align_in_their_columns() {
        let t = Layout::spaced([(5, false), (4, true), (3, false)]);
        assert_eq!(t.cols.iter().map(|c| c.start).collect::<Vec<_>>(), [0, 6, 11]);
        let mut l = StyledLine::new(20, Paint::default());
        t.cell(&mut l, 0, "abcdefg");
        t.cell(&mut l, 1, "12");
        t.cell(&mut l, 2, "x");
        assert_eq!(l.finish(), "abcd…   12 x  ");
        let gaps = Layout::new([(0, 3, false), (1, 4, false), (0, 5, true)]);
        assert_eq!((gaps.end(0), gaps.cols[1].start, gaps.end(2)), (3, 4, 13));
        let mut narrow = StyledLine::new(10, Paint::default());
        assert!(gaps.fits(&narrow, 1) && !gaps.fits(&narrow, 2));
        gaps.cell(&mut narrow, 2, "99");
        assert_eq!(narrow.finish(), "          ", "a cell past the edge leaves only blanks");
    }
}
