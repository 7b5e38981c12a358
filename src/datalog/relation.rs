//! Append-only relations of `u32` tuples with hash indexes on chosen columns.
//!
//! Tuples live in one flat `Vec<u32>` (row `r` is `data[r*arity..(r+1)*arity]`), so a relation of
//! a few million pairs costs a few tens of MiB, and "the rows added since round k" is a plain
//! range of row ids: semi-naive evaluation needs no separate delta relations.
//!
//! Joins read a relation through [`super::index`] hash indexes on the columns they bind; index
//! 0 of every relation is on all columns and is the relation's duplicate filter.

use super::index::{Index, NIL};

/// How many probes [`Relation::warm`] starts before using them.
const WARM_BATCH: usize = 16;

/// A set of tuples of one arity, in insertion order, with hash indexes.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    arity: usize,
    len: usize,
    data: Vec<u32>,
    indexes: Vec<Index>,
    /// Every value is below this, when known: indexes over small key spaces use it.
    domain: Option<u32>,
    /// Scratch space for projecting a row onto an index's columns.
    key: Vec<u32>,
}

impl Relation {
    #[cfg(test)]
    pub(crate) fn new(arity: usize) -> Self {
        Self::with_domain(arity, None)
    }

    /// A relation whose values are all below `domain` (if given).
    pub(crate) fn with_domain(arity: usize, domain: Option<u32>) -> Self {
        Relation {
            arity,
            len: 0,
            data: Vec::new(),
            indexes: vec![Index::new((0..arity).collect(), true, domain)],
            domain,
            key: Vec::new(),
        }
    }

    pub(crate) fn arity(&self) -> usize {
        self.arity
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn row(&self, row: u32) -> &[u32] {
        let base = row as usize * self.arity;
        &self.data[base..base + self.arity]
    }

    /// The position of an index on exactly `cols` (ascending), building it if needed.
    pub(crate) fn ensure_index(&mut self, cols: &[usize]) -> usize {
        if let Some(i) = self.indexes.iter().position(|ix| ix.cols == cols) {
            if !self.indexes[i].active {
                self.indexes[i] = Index::new(cols.to_vec(), false, self.domain);
                self.reindex(i);
            }
            return i;
        }
        self.indexes
            .push(Index::new(cols.to_vec(), false, self.domain));
        let i = self.indexes.len() - 1;
        self.reindex(i);
        i
    }

    fn reindex(&mut self, i: usize) {
        for row in 0..self.len as u32 {
            self.link(i, row);
        }
    }

    fn link(&mut self, i: usize, row: u32) {
        let base = row as usize * self.arity;
        self.key.clear();
        self.key
            .extend(self.indexes[i].cols.iter().map(|&c| self.data[base + c]));
        self.indexes[i].insert(row, &self.key);
    }

    /// Frees every index (but the duplicate filter) whose position `keep` rejects.
    pub(crate) fn drop_indexes(&mut self, keep: impl Fn(usize) -> bool) {
        for (i, ix) in self.indexes.iter_mut().enumerate().skip(1) {
            if !keep(i) {
                *ix = Index::dropped(std::mem::take(&mut ix.cols));
            }
        }
    }

    /// Indexes that are maintained, the duplicate filter included.
    #[cfg(test)]
    pub(crate) fn active_indexes(&self) -> usize {
        self.indexes.iter().filter(|ix| ix.active).count()
    }

    pub(crate) fn contains(&self, tuple: &[u32]) -> bool {
        debug_assert_eq!(tuple.len(), self.arity);
        self.indexes[0].contains(tuple)
    }

    /// Adds `tuple` unless present; returns whether it was new.
    pub(crate) fn insert(&mut self, tuple: &[u32]) -> bool {
        debug_assert_eq!(tuple.len(), self.arity);
        assert!(self.len < NIL as usize, "relation exceeds 2^32 - 1 tuples");
        let row = self.len as u32;
        if !self.indexes[0].insert_new(row, tuple) {
            return false;
        }
        self.data.extend_from_slice(tuple);
        self.len += 1;
        for i in 1..self.indexes.len() {
            self.link(i, row);
        }
        true
    }

    /// Touches the duplicate filter's home slot of each tuple in `batch`. The loads are
    /// independent, so the CPU overlaps their cache misses, and the probes that follow mostly
    /// hit the cache: one miss after another into a table of millions of slots is otherwise
    /// what dominates evaluation time.
    fn warm(&self, tuples: &[u32], batch: std::ops::Range<usize>) {
        let a = self.arity;
        let mut acc = 0u32;
        for r in batch {
            acc ^= self.indexes[0].peek(&tuples[r * a..(r + 1) * a]);
        }
        std::hint::black_box(acc);
    }

    /// Inserts `rows` tuples stored flat in `tuples`; returns whether any was new.
    pub(crate) fn insert_all(&mut self, tuples: &[u32], rows: usize) -> bool {
        let a = self.arity;
        let mut grew = false;
        for start in (0..rows).step_by(WARM_BATCH) {
            let batch = start..(start + WARM_BATCH).min(rows);
            self.warm(tuples, batch.clone());
            for r in batch {
                grew |= self.insert(&tuples[r * a..(r + 1) * a]);
            }
        }
        grew
    }

    /// The newest row whose index-`index` projection equals `key` (then follow [`Self::next`]).
    pub(crate) fn lookup(&self, index: usize, key: &[u32]) -> Option<u32> {
        let ix = &self.indexes[index];
        debug_assert!(index > 0, "the duplicate filter answers `contains` only");
        debug_assert!(ix.active && key.len() == ix.cols.len());
        match ix.head(key) {
            NIL => None,
            r => Some(r),
        }
    }

    /// The next older row in `row`'s chain of index `index`, if any.
    pub(crate) fn next(&self, index: usize, row: u32) -> Option<u32> {
        match self.indexes[index].next(row) {
            NIL => None,
            r => Some(r),
        }
    }

    /// The tuples sorted lexicographically, as one flat vector. The indexes are freed first,
    /// so that sorting a large model does not add to the evaluation's peak memory.
    pub(crate) fn into_sorted(self) -> Vec<u32> {
        let Relation {
            arity,
            len,
            data,
            indexes,
            ..
        } = self;
        drop(indexes);
        sort_rows(data, arity, len)
    }

    /// The tuples of `tuples` (`rows` of them, flat) that are not in the relation.
    pub(crate) fn missing(&self, tuples: &[u32], rows: usize) -> (Vec<u32>, usize) {
        let a = self.arity;
        let mut out = Vec::new();
        let mut kept = 0;
        for start in (0..rows).step_by(WARM_BATCH) {
            let batch = start..(start + WARM_BATCH).min(rows);
            self.warm(tuples, batch.clone());
            for r in batch {
                let t = &tuples[r * a..(r + 1) * a];
                if !self.contains(t) {
                    out.extend_from_slice(t);
                    kept += 1;
                }
            }
        }
        (out, kept)
    }
}

/// `rows` flat tuples of `arity`, sorted lexicographically (reusing `data` where it can).
fn sort_rows(mut data: Vec<u32>, arity: usize, rows: usize) -> Vec<u32> {
    match arity {
        0 => Vec::new(),
        1 => {
            data.sort_unstable();
            data
        }
        2 => {
            // Packing pairs into u64s sorts several times faster than comparing slices.
            let mut packed: Vec<u64> = data
                .chunks_exact(2)
                .map(|p| (u64::from(p[0]) << 32) | u64::from(p[1]))
                .collect();
            drop(data);
            packed.sort_unstable();
            packed
                .iter()
                .flat_map(|&p| [(p >> 32) as u32, p as u32])
                .collect()
        }
        k => {
            let mut order: Vec<usize> = (0..rows).collect();
            order
                .sort_unstable_by(|&x, &y| data[x * k..(x + 1) * k].cmp(&data[y * k..(y + 1) * k]));
            order
                .iter()
                .flat_map(|&r| &data[r * k..(r + 1) * k])
                .copied()
                .collect()
        }
    }
}

/// `rows` flat tuples of `arity`, sorted and without duplicates, and how many remain.
pub(crate) fn sort_dedup(data: Vec<u32>, arity: usize, rows: usize) -> (Vec<u32>, usize) {
    if arity == 0 {
        return (Vec::new(), rows.min(1));
    }
    let mut sorted = sort_rows(data, arity, rows);
    let mut kept = 0;
    for r in 0..rows {
        let (row, last) = (r * arity..(r + 1) * arity, kept * arity..(kept + 1) * arity);
        if kept == 0 || sorted[last.start - arity..last.start] != sorted[row.clone()] {
            sorted.copy_within(row, last.start);
            kept += 1;
        }
    }
    sorted.truncate(kept * arity);
    (sorted, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_dedups_and_indexes_chain_newest_first() {
        let mut r = Relation::new(2);
        let by_first = r.ensure_index(&[0]);
        assert!(r.insert(&[1, 2]));
        assert!(r.insert(&[1, 3]));
        assert!(!r.insert(&[1, 2]));
        assert!(r.insert(&[2, 2]));
        assert_eq!(r.len(), 3);
        let mut got = Vec::new();
        let mut row = r.lookup(by_first, &[1]);
        while let Some(x) = row {
            got.push(r.row(x).to_vec());
            row = r.next(by_first, x);
        }
        assert_eq!(got, vec![vec![1, 3], vec![1, 2]]);
        assert_eq!(r.lookup(by_first, &[9]), None);
        assert_eq!(r.clone().into_sorted(), vec![1, 2, 1, 3, 2, 2]);
    }

    #[test]
    fn sort_dedup_and_missing() {
        let (d, n) = sort_dedup(vec![3, 1, 2, 0, 3, 1, 2, 0, 1, 1], 2, 5);
        assert_eq!((d, n), (vec![1, 1, 2, 0, 3, 1], 3));
        let (d, n) = sort_dedup(vec![5, 5, 1, 4, 5, 0, 0, 0, 0, 0, 5, 5, 1, 4, 5], 5, 3);
        assert_eq!((d, n), (vec![0, 0, 0, 0, 0, 5, 5, 1, 4, 5], 2));
        assert_eq!(sort_dedup(vec![], 0, 7), (vec![], 1));
        assert_eq!(sort_dedup(vec![2, 2, 2], 1, 3), (vec![2], 1));
        let mut r = Relation::new(2);
        r.insert(&[1, 1]);
        assert_eq!(r.missing(&[1, 1, 2, 0], 2), (vec![2, 0], 1));
    }

    #[test]
    fn nullary_relation_holds_at_most_one_tuple() {
        let mut r = Relation::new(0);
        assert!(!r.contains(&[]));
        assert!(r.insert(&[]));
        assert!(!r.insert(&[]));
        assert_eq!(r.len(), 1);
        assert!(r.contains(&[]));
    }

    #[test]
    fn many_keys_survive_growth() {
        let mut r = Relation::new(3);
        let ix = r.ensure_index(&[1]);
        let mut dense = Relation::with_domain(3, Some(5000));
        let dix = dense.ensure_index(&[1]);
        for i in 0..5000u32 {
            assert!(dense.insert(&[i, i % 7, i / 3]));
            assert!(!dense.insert(&[i, i % 7, i / 3]));
        }
        assert_eq!(dense.lookup(dix, &[3]).map(|x| dense.row(x)[1]), Some(3));
        for i in 0..5000u32 {
            assert!(r.insert(&[i, i % 7, i / 3]));
        }
        for i in 0..5000u32 {
            assert!(r.contains(&[i, i % 7, i / 3]));
        }
        let mut n = 0;
        let mut row = r.lookup(ix, &[3]);
        while let Some(x) = row {
            assert_eq!(r.row(x)[1], 3);
            n += 1;
            row = r.next(ix, x);
        }
        assert_eq!(n, (0..5000).filter(|i| i % 7 == 3).count());
    }
}
