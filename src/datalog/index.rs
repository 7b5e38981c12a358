//! Open-addressing hash tables from a projection of a relation's columns to chains of rows.
//!
//! Each slot holds the key itself next to the chain head, so that a probe touches one cache
//! line instead of also reading the row; chains are threaded through a per-row `next` array,
//! newest row first, so an index never allocates per key.

/// Marks an empty table slot and the end of a chain.
pub(super) const NIL: u32 = u32::MAX;

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
pub(super) struct Index {
    pub(super) cols: Vec<usize>,
    /// Open-addressing table of `cap` slots (a power of two), `1 + cols.len()` words each: the
    /// chain head row (`NIL` when empty), then the key. Keeping the key in the slot means a
    /// probe touches one cache line instead of also reading the row.
    slots: Vec<u32>,
    cap: usize,
    /// Per row, the next older row with the same key. Unused by the duplicate filter, whose
    /// chains all have length one.
    next: Vec<u32>,
    unique: bool,
    keys: usize,
    /// A dropped index keeps its place (plans refer to indexes by position) but no memory.
    pub(super) active: bool,
}

impl Index {
    pub(super) fn new(cols: Vec<usize>, unique: bool) -> Self {
        let cap = 16;
        Index {
            slots: vec![NIL; cap * (1 + cols.len())],
            cols,
            cap,
            next: Vec::new(),
            unique,
            keys: 0,
            active: true,
        }
    }

    fn stride(&self) -> usize {
        1 + self.cols.len()
    }

    /// The slot holding `key`'s chain, or the empty slot where it would go.
    fn find_slot(&self, key: &[u32]) -> usize {
        let (w, mask) = (self.stride(), self.cap - 1);
        let mut i = hash_vals(key.iter().copied()) as usize & mask;
        loop {
            let slot = &self.slots[i * w..(i + 1) * w];
            // An element-wise loop, not `==` on slices: that calls `memcmp`, which costs more
            // than the comparison itself for keys of one or two words.
            if slot[0] == NIL || slot[1..].iter().zip(key).all(|(a, b)| a == b) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The first word of `key`'s home slot, read only to pull its cache line in.
    /// A placeholder that keeps a dropped index's position but holds nothing.
    pub(super) fn dropped(cols: Vec<usize>) -> Self {
        Index {
            active: false,
            slots: Vec::new(),
            ..Index::new(cols, false)
        }
    }

    /// The next older row after `row` in its chain, or `NIL`.
    pub(super) fn next(&self, row: u32) -> u32 {
        if self.unique {
            NIL
        } else {
            self.next[row as usize]
        }
    }

    pub(super) fn peek(&self, key: &[u32]) -> u32 {
        let i = hash_vals(key.iter().copied()) as usize & (self.cap - 1);
        self.slots[i * self.stride()]
    }

    pub(super) fn head(&self, key: &[u32]) -> u32 {
        self.slots[self.find_slot(key) * self.stride()]
    }

    fn grow(&mut self) {
        let w = self.stride();
        let old = std::mem::replace(&mut self.slots, vec![NIL; 2 * self.cap * w]);
        self.cap *= 2;
        let mask = self.cap - 1;
        for slot in old.chunks_exact(w).filter(|s| s[0] != NIL) {
            let mut i = hash_vals(slot[1..].iter().copied()) as usize & mask;
            while self.slots[i * w] != NIL {
                i = (i + 1) & mask;
            }
            self.slots[i * w..(i + 1) * w].copy_from_slice(slot);
        }
    }

    /// For the duplicate filter: links `row` under `key` unless the key is present; returns
    /// whether it was absent. One probe instead of a lookup then an insert.
    pub(super) fn insert_new(&mut self, row: u32, key: &[u32]) -> bool {
        debug_assert!(self.unique && self.active);
        if (self.keys + 1) * 2 > self.cap {
            self.grow();
        }
        let w = self.stride();
        let i = self.find_slot(key);
        if self.slots[i * w] != NIL {
            return false;
        }
        self.keys += 1;
        self.slots[i * w + 1..(i + 1) * w].copy_from_slice(key);
        self.slots[i * w] = row;
        true
    }

    /// Links row `row`, whose projection on `cols` is `key`, into its chain.
    pub(super) fn insert(&mut self, row: u32, key: &[u32]) {
        if !self.active {
            return;
        }
        if (self.keys + 1) * 2 > self.cap {
            self.grow();
        }
        let w = self.stride();
        let i = self.find_slot(key);
        let head = self.slots[i * w];
        if head == NIL {
            self.keys += 1;
            self.slots[i * w + 1..(i + 1) * w].copy_from_slice(key);
        }
        debug_assert!(
            !self.unique || head == NIL,
            "duplicate row in the duplicate filter"
        );
        if !self.unique {
            self.next.push(head);
        }
        self.slots[i * w] = row;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_hold_rows_with_equal_keys_newest_first() {
        let mut ix = Index::new(vec![0], false);
        let keys = [7u32, 8, 7, 9, 7];
        for (row, k) in keys.iter().enumerate() {
            ix.insert(row as u32, &[*k]);
        }
        let mut chain = Vec::new();
        let mut r = ix.head(&[7]);
        while r != NIL {
            chain.push(r);
            r = ix.next(r);
        }
        assert_eq!(chain, [4, 2, 0]);
        assert_eq!(ix.head(&[1]), NIL);
    }

    #[test]
    fn growth_keeps_every_key() {
        let mut ix = Index::new(vec![0, 1], true);
        for i in 0..10_000u32 {
            ix.insert(i, &[i, i.wrapping_mul(2_654_435_761)]);
        }
        assert!((0..10_000u32).all(|i| ix.head(&[i, i.wrapping_mul(2_654_435_761)]) == i));
        assert_eq!(ix.head(&[3, 3]), NIL);
        assert_eq!(ix.next(5), NIL, "a unique index has no chains");
    }
}
