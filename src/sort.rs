//! One sort for the short, cold lists: the workers of a round, the group
//! rows, the sockets of a directory. Each `sort_unstable_by` call with its
//! own closure is its own copy of the standard sort (quicksort, small-sort
//! and heapsort: 5 to 15 KB each); these lists share one, which compares
//! through a `dyn` closure, and the 1 MB binary budget keeps the room. The
//! table's own order (`view::order`) keeps its dedicated sort: it is hot.

use std::cmp::Ordering;

/// Sort `items` by `cmp`, which must be a total order (the sort is not
/// stable).
pub fn sort_by<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = {
        let items = &*items;
        indices(items.len(), &|a, b| cmp(&items[a], &items[b]))
    };
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// `0..n` sorted by `cmp`: the one instance of the standard sort.
fn indices(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| cmp(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_standard_sort_does() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for n in [0, 1, 2, 3, 20, 1000] {
            let mut v: Vec<(u8, String)> = (0..n)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    ((seed % 5) as u8, format!("x{i}"))
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            sort_by(&mut v, |a, b| a.cmp(b));
            assert_eq!(v, want);
        }
    }
}
