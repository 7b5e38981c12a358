//! Append-only relations of `u32` tuples with hash indexes on chosen columns.
//!
//! Tuples live in one flat `Vec<u32>` (row `r` is `data[r*arity..(r+1)*arity]`), so a relation of
//! a few million pairs costs a few tens of MiB, and "the rows added since round k" is a plain
//! range of row ids: semi-naive evaluation needs no separate delta relations.
//!
//! An index maps a projection of the columns to the chain of rows with that projection. Chains
//! are threaded through a per-row `next` array, newest row first, and the table itself stores
//! only the chain head, so an index costs about 12 bytes a row and never allocates per key.
//! Index 0 of every relation is on all columns and is the relation's duplicate filter.

/// Marks an empty table slot and the end of a chain.
const NIL: u32 = u32::MAX;

/// Deterministic, fast hash of a few `u32`s (the std SipHash would dominate join time).
fn hash_vals(vals: impl Iterator<Item = u32>) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for v in vals {
        h = (h ^ u64::from(v))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(23);
    }
    // Final avalanche so that linear probing on the low bits does not cluster.
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h
}

#[derive(Debug, Clone)]
struct Index {
    cols: Vec<usize>,
    /// Open-addressing table (power-of-two size) of chain heads, `NIL` when empty.
    slots: Vec<u32>,
    next: Vec<u32>,
    keys: usize,
    /// A dropped index keeps its place (plans refer to indexes by position) but no memory.
    active: bool,
}

impl Index {
    fn new(cols: Vec<usize>) -> Self {
        Index {
            cols,
            slots: vec![NIL; 16],
            next: Vec::new(),
            keys: 0,
            active: true,
        }
    }

    fn row_hash(&self, data: &[u32], arity: usize, row: u32) -> u64 {
        let base = row as usize * arity;
        hash_vals(self.cols.iter().map(|&c| data[base + c]))
    }

    fn row_matches(&self, data: &[u32], arity: usize, row: u32, key: &[u32]) -> bool {
        let base = row as usize * arity;
        self.cols
            .iter()
            .zip(key)
            .all(|(&c, &k)| data[base + c] == k)
    }

    /// The slot holding `key`'s chain, or the empty slot where it would go.
    fn find_slot(&self, data: &[u32], arity: usize, key: &[u32]) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = hash_vals(key.iter().copied()) as usize & mask;
        loop {
            let head = self.slots[i];
            if head == NIL || self.row_matches(data, arity, head, key) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    fn head(&self, data: &[u32], arity: usize, key: &[u32]) -> u32 {
        self.slots[self.find_slot(data, arity, key)]
    }

    fn grow(&mut self, data: &[u32], arity: usize) {
        let mut slots = vec![NIL; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for &head in self.slots.iter().filter(|&&h| h != NIL) {
            let mut i = self.row_hash(data, arity, head) as usize & mask;
            while slots[i] != NIL {
                i = (i + 1) & mask;
            }
            slots[i] = head;
        }
        self.slots = slots;
    }

    /// Links the (already stored) row `row` into its chain.
    fn insert(&mut self, data: &[u32], arity: usize, row: u32) {
        if !self.active {
            return;
        }
        if (self.keys + 1) * 2 > self.slots.len() {
            self.grow(data, arity);
        }
        let mask = self.slots.len() - 1;
        let (base, cols) = (row as usize * arity, &self.cols);
        let same_key = |other: u32| {
            let ob = other as usize * arity;
            cols.iter().all(|&c| data[ob + c] == data[base + c])
        };
        let mut slot = self.row_hash(data, arity, row) as usize & mask;
        while self.slots[slot] != NIL && !same_key(self.slots[slot]) {
            slot = (slot + 1) & mask;
        }
        if self.slots[slot] == NIL {
            self.keys += 1;
        }
        self.next.push(self.slots[slot]);
        self.slots[slot] = row;
    }
}

/// A set of tuples of one arity, in insertion order, with hash indexes.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    arity: usize,
    len: usize,
    data: Vec<u32>,
    indexes: Vec<Index>,
}

impl Relation {
    pub(crate) fn new(arity: usize) -> Self {
        Relation {
            arity,
            len: 0,
            data: Vec::new(),
            indexes: vec![Index::new((0..arity).collect())],
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
                self.indexes[i] = Index::new(cols.to_vec());
                self.reindex(i);
            }
            return i;
        }
        self.indexes.push(Index::new(cols.to_vec()));
        let i = self.indexes.len() - 1;
        self.reindex(i);
        i
    }

    fn reindex(&mut self, i: usize) {
        for row in 0..self.len as u32 {
            self.indexes[i].insert(&self.data, self.arity, row);
        }
    }

    /// Frees every index (but the duplicate filter) whose position `keep` rejects.
    pub(crate) fn drop_indexes(&mut self, keep: impl Fn(usize) -> bool) {
        for (i, ix) in self.indexes.iter_mut().enumerate().skip(1) {
            if !keep(i) {
                *ix = Index {
                    active: false,
                    slots: Vec::new(),
                    next: Vec::new(),
                    ..Index::new(std::mem::take(&mut ix.cols))
                };
            }
        }
    }

    pub(crate) fn contains(&self, tuple: &[u32]) -> bool {
        debug_assert_eq!(tuple.len(), self.arity);
        self.indexes[0].head(&self.data, self.arity, tuple) != NIL
    }

    /// Adds `tuple` unless present; returns whether it was new.
    pub(crate) fn insert(&mut self, tuple: &[u32]) -> bool {
        debug_assert_eq!(tuple.len(), self.arity);
        if self.contains(tuple) {
            return false;
        }
        assert!(self.len < NIL as usize, "relation exceeds 2^32 - 1 tuples");
        let row = self.len as u32;
        self.data.extend_from_slice(tuple);
        self.len += 1;
        for ix in &mut self.indexes {
            ix.insert(&self.data, self.arity, row);
        }
        true
    }

    /// The newest row whose index-`index` projection equals `key` (then follow [`Self::next`]).
    pub(crate) fn lookup(&self, index: usize, key: &[u32]) -> Option<u32> {
        let ix = &self.indexes[index];
        debug_assert!(ix.active && key.len() == ix.cols.len());
        match ix.head(&self.data, self.arity, key) {
            NIL => None,
            r => Some(r),
        }
    }

    /// The next older row in `row`'s chain of index `index`, if any.
    pub(crate) fn next(&self, index: usize, row: u32) -> Option<u32> {
        match self.indexes[index].next[row as usize] {
            NIL => None,
            r => Some(r),
        }
    }

    /// The tuples sorted lexicographically, as one flat vector.
    pub(crate) fn sorted_data(&self) -> Vec<u32> {
        match self.arity {
            0 => Vec::new(),
            1 => {
                let mut d = self.data.clone();
                d.sort_unstable();
                d
            }
            2 => {
                // Packing pairs into u64s sorts several times faster than comparing slices.
                let mut packed: Vec<u64> = self
                    .data
                    .chunks_exact(2)
                    .map(|p| (u64::from(p[0]) << 32) | u64::from(p[1]))
                    .collect();
                packed.sort_unstable();
                packed
                    .iter()
                    .flat_map(|&p| [(p >> 32) as u32, p as u32])
                    .collect()
            }
            k => {
                let mut rows: Vec<u32> = (0..self.len as u32).collect();
                rows.sort_unstable_by(|&a, &b| self.row(a).cmp(self.row(b)));
                let mut out = Vec::with_capacity(self.data.len());
                for r in rows {
                    out.extend_from_slice(&self.data[r as usize * k..(r as usize + 1) * k]);
                }
                out
            }
        }
    }
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
        assert_eq!(r.sorted_data(), vec![1, 2, 1, 3, 2, 2]);
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
