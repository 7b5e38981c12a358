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

/// Largest key space given a bit per key (2^28 bits, 32 MiB) and a row per key (2^22 rows,
/// 16 MiB). Zeroed memory is mapped lazily, so an index over a big domain that stays sparse
/// costs only the pages it touches.
const MAX_BITS: u64 = 1 << 28;
const MAX_DIRECT: u64 = 1 << 22;

/// Where an index keeps its keys.
#[derive(Debug, Clone)]
enum Table {
    /// Open addressing over `cap` slots (a power of two), `1 + cols.len()` words each: the
    /// chain head row (`NIL` when empty), then the key. Keeping the key in the slot means a
    /// probe touches one cache line instead of also reading the row.
    Hash {
        slots: Vec<u32>,
        cap: usize,
        keys: usize,
    },
    /// Keys are numbers below `domain^k`: a chain head per possible key, no hashing.
    Direct { heads: Vec<u32>, domain: u32 },
    /// The duplicate filter over such a key space: one bit per possible key. It answers
    /// membership only; plans test fully bound atoms with [`Index::contains`].
    Bits { words: Vec<u64>, domain: u32 },
}

#[derive(Debug, Clone)]
pub(super) struct Index {
    pub(super) cols: Vec<usize>,
    table: Table,
    /// Per row, the next older row with the same key. Unused by the duplicate filter, whose
    /// chains all have length one.
    next: Vec<u32>,
    unique: bool,
    /// A dropped index keeps its place (plans refer to indexes by position) but no memory.
    pub(super) active: bool,
}

/// `key` as a number in base `domain`, if every part is below `domain`.
fn position(key: &[u32], domain: u32) -> Option<usize> {
    let mut p = 0usize;
    for &k in key {
        if k >= domain {
            return None;
        }
        p = p * domain as usize + k as usize;
    }
    Some(p)
}

impl Index {
    /// An index on `cols`; `domain` bounds every value it will hold (constant ids), when known,
    /// so that small key spaces are addressed directly.
    pub(super) fn new(cols: Vec<usize>, unique: bool, domain: Option<u32>) -> Self {
        let space = domain.map(|d| u64::from(d).saturating_pow(cols.len() as u32));
        let table = match (domain, space) {
            (Some(domain), Some(n)) if unique && n <= MAX_BITS => Table::Bits {
                words: vec![0; (n as usize).div_ceil(64)],
                domain,
            },
            (Some(domain), Some(n)) if !unique && n <= MAX_DIRECT => Table::Direct {
                heads: vec![NIL; n as usize],
                domain,
            },
            _ => Table::Hash {
                slots: vec![NIL; 16 * (1 + cols.len())],
                cap: 16,
                keys: 0,
            },
        };
        Index {
            cols,
            table,
            next: Vec::new(),
            unique,
            active: true,
        }
    }

    /// A placeholder that keeps a dropped index's position but holds nothing.
    pub(super) fn dropped(cols: Vec<usize>) -> Self {
        Index {
            active: false,
            table: Table::Hash {
                slots: Vec::new(),
                cap: 0,
                keys: 0,
            },
            ..Index::new(cols, false, None)
        }
    }

    /// The hash slot holding `key`'s chain, or the empty slot where it would go.
    fn find_slot(slots: &[u32], cap: usize, key: &[u32]) -> usize {
        let (w, mask) = (1 + key.len(), cap - 1);
        let mut i = hash_vals(key.iter().copied()) as usize & mask;
        loop {
            let slot = &slots[i * w..(i + 1) * w];
            // An element-wise loop, not `==` on slices: that calls `memcmp`, which costs more
            // than the comparison itself for keys of one or two words.
            if slot[0] == NIL || slot[1..].iter().zip(key).all(|(a, b)| a == b) {
                return i;
            }
            i = (i + 1) & mask;
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

    /// The first word of `key`'s home slot, read only to pull its cache line in.
    pub(super) fn peek(&self, key: &[u32]) -> u32 {
        match &self.table {
            Table::Hash { slots, cap, .. } => {
                let i = hash_vals(key.iter().copied()) as usize & (cap - 1);
                slots[i * (1 + key.len())]
            }
            Table::Direct { heads, domain } => position(key, *domain).map_or(NIL, |p| heads[p]),
            Table::Bits { words, domain } => {
                position(key, *domain).map_or(0, |p| words[p / 64] as u32)
            }
        }
    }

    /// Whether some row has projection `key`.
    pub(super) fn contains(&self, key: &[u32]) -> bool {
        match &self.table {
            Table::Bits { words, domain } => {
                position(key, *domain).is_some_and(|p| words[p / 64] >> (p % 64) & 1 == 1)
            }
            _ => self.head(key) != NIL,
        }
    }

    /// The newest row with projection `key`, or `NIL`. Not for the bit-table duplicate filter.
    pub(super) fn head(&self, key: &[u32]) -> u32 {
        match &self.table {
            Table::Hash { slots, cap, .. } => {
                slots[Self::find_slot(slots, *cap, key) * (1 + key.len())]
            }
            Table::Direct { heads, domain } => position(key, *domain).map_or(NIL, |p| heads[p]),
            Table::Bits { .. } => {
                debug_assert!(false, "rows are not looked up through a bit table");
                NIL
            }
        }
    }

    fn grow(slots: &mut Vec<u32>, cap: &mut usize, w: usize) {
        let old = std::mem::replace(slots, vec![NIL; 2 * *cap * w]);
        *cap *= 2;
        let mask = *cap - 1;
        for slot in old.chunks_exact(w).filter(|s| s[0] != NIL) {
            let mut i = hash_vals(slot[1..].iter().copied()) as usize & mask;
            while slots[i * w] != NIL {
                i = (i + 1) & mask;
            }
            slots[i * w..(i + 1) * w].copy_from_slice(slot);
        }
    }

    /// Makes `row` the head of `key`'s chain; returns the previous head (`NIL` if none). With
    /// `only_new`, an existing key is left alone (and its head returned).
    fn link(&mut self, row: u32, key: &[u32], only_new: bool) -> u32 {
        let w = 1 + key.len();
        match &mut self.table {
            Table::Hash { slots, cap, keys } => {
                if (*keys + 1) * 2 > *cap {
                    Self::grow(slots, cap, w);
                }
                let i = Self::find_slot(slots, *cap, key);
                let head = slots[i * w];
                if head == NIL {
                    *keys += 1;
                    slots[i * w + 1..(i + 1) * w].copy_from_slice(key);
                } else if only_new {
                    return head;
                }
                slots[i * w] = row;
                head
            }
            Table::Direct { heads, domain } => {
                let p = position(key, *domain).expect("a value beyond the relation's domain");
                let head = heads[p];
                if head == NIL || !only_new {
                    heads[p] = row;
                }
                head
            }
            Table::Bits { words, domain } => {
                let p = position(key, *domain).expect("a value beyond the relation's domain");
                let (word, bit) = (&mut words[p / 64], 1u64 << (p % 64));
                let had = *word & bit != 0;
                *word |= bit;
                // Any row id but NIL says "present".
                if had {
                    0
                } else {
                    NIL
                }
            }
        }
    }

    /// For the duplicate filter: links `row` under `key` unless the key is present; returns
    /// whether it was absent. One probe instead of a lookup then an insert.
    pub(super) fn insert_new(&mut self, row: u32, key: &[u32]) -> bool {
        debug_assert!(self.unique && self.active);
        self.link(row, key, true) == NIL
    }

    /// Links row `row`, whose projection on `cols` is `key`, into its chain.
    pub(super) fn insert(&mut self, row: u32, key: &[u32]) {
        if !self.active {
            return;
        }
        let head = self.link(row, key, false);
        debug_assert!(
            !self.unique || head == NIL,
            "duplicate row in the duplicate filter"
        );
        if !self.unique {
            self.next.push(head);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_hold_rows_with_equal_keys_newest_first() {
        let mut ix = Index::new(vec![0], false, None);
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
        let mut ix = Index::new(vec![0, 1], true, None);
        for i in 0..10_000u32 {
            ix.insert(i, &[i, i.wrapping_mul(2_654_435_761)]);
        }
        assert!((0..10_000u32).all(|i| ix.head(&[i, i.wrapping_mul(2_654_435_761)]) == i));
        assert_eq!(ix.head(&[3, 3]), NIL);
        assert_eq!(ix.next(5), NIL, "a unique index has no chains");
    }

    #[test]
    fn direct_tables_agree_with_hash_tables() {
        let keys: Vec<[u32; 2]> = (0..3000u32).map(|i| [i % 37, (i * 7) % 41]).collect();
        let mut hashed = Index::new(vec![0, 1], false, None);
        let mut direct = Index::new(vec![0, 1], false, Some(41));
        let (mut h_bits, mut bits) = (
            Index::new(vec![0, 1], true, None),
            Index::new(vec![0, 1], true, Some(41)),
        );
        assert!(matches!(direct.table, Table::Direct { .. }));
        assert!(matches!(bits.table, Table::Bits { .. }));
        for (row, k) in keys.iter().enumerate() {
            hashed.insert(row as u32, k);
            direct.insert(row as u32, k);
            assert_eq!(
                h_bits.insert_new(row as u32, k),
                bits.insert_new(row as u32, k)
            );
        }
        for a in 0..45u32 {
            for b in 0..45u32 {
                let k = [a, b];
                assert_eq!(hashed.head(&k), direct.head(&k), "{k:?}");
                assert_eq!(h_bits.contains(&k), bits.contains(&k), "{k:?}");
            }
        }
        let mut r = direct.head(&[3, 21]);
        while r != NIL {
            assert_eq!(keys[r as usize], [3, 21]);
            r = direct.next(r);
        }
    }
}
