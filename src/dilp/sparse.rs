//! A world compiled for the CPU kernel ([`super::kernel`]): per rule template, the groundings
//! each (head atom, clause) cell keeps, as a sparse list.
//!
//! Why sparse: on small tasks LibTorch spends far more time creating autograd nodes than
//! computing, and on large ones the dense grid does work whose result is known to be zero. Here
//! each clause keeps, per head atom, only the groundings whose body atoms can ever be non-zero
//! (a grounding with ⊥ or with an extensional atom absent from the background is 0 at every
//! step, because extensional atoms never change), and atoms that no program in the templates
//! can ever derive are pruned too. The pruned cells still count in the tie counts, so that the
//! kernel breaks ties exactly as LibTorch does.

use crate::ilp::{self, ClauseSet, GroundIndex, Task, World};
use crate::logic::Clause;

/// One rule template over one world, as a sparse list of live groundings per (head, clause).
#[derive(Debug, Clone)]
pub struct SparseTemplate {
    pub k: usize,
    pub heads: usize,
    /// `|C|^v`: groundings per head atom before pruning.
    pub width: usize,
    /// Groundings of clause `j` at head `h` are `pairs[offsets[h * k + j]..offsets[h * k + j + 1]]`.
    offsets: Vec<u32>,
    pairs: Vec<[u32; 2]>,
    /// Clauses with at least one live grounding at head `h`:
    /// `active[active_at[h]..active_at[h + 1]]`, increasing. The others are 0 there forever.
    active_at: Vec<u32>,
    active: Vec<u32>,
}

impl SparseTemplate {
    fn new(clauses: &[Clause], index: &GroundIndex, init: &[f32], fixed: usize) -> Option<Self> {
        let first = clauses.first()?;
        let head_range = index.pred_range(first.head.pred);
        let heads = head_range.len();
        let all: Vec<ilp::IndexPairs> =
            clauses.iter().map(|c| ilp::index_pairs(c, index)).collect();
        let width = all.iter().map(|p| p.width).max().unwrap_or(1);
        let dead = |x: u32| x == 0 || ((x as usize) < fixed && init[x as usize] == 0.0);
        let mut offsets = Vec::with_capacity(heads * clauses.len() + 1);
        let mut pairs = Vec::new();
        offsets.push(0);
        for h in 0..heads {
            for ip in &all {
                debug_assert_eq!(ip.head_range, head_range);
                let row = &ip.pairs[h * ip.width..(h + 1) * ip.width];
                pairs.extend(row.iter().filter(|[x, y]| !dead(*x) && !dead(*y)));
                offsets.push(pairs.len() as u32);
            }
        }
        let mut t = SparseTemplate {
            k: clauses.len(),
            heads,
            width,
            offsets,
            pairs,
            active_at: Vec::new(),
            active: Vec::new(),
        };
        t.index_active();
        Some(t)
    }

    fn index_active(&mut self) {
        self.active_at = vec![0];
        self.active.clear();
        for h in 0..self.heads {
            for j in 0..self.k {
                if !self.cell(h, j).is_empty() {
                    self.active.push(j as u32);
                }
            }
            self.active_at.push(self.active.len() as u32);
        }
    }

    /// Drops groundings that use an atom outside `live`.
    fn prune(&mut self, live: &[bool]) {
        let mut offsets = Vec::with_capacity(self.offsets.len());
        let mut pairs = Vec::with_capacity(self.pairs.len());
        offsets.push(0);
        for i in 0..self.heads * self.k {
            let r = &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
            pairs.extend(
                r.iter()
                    .filter(|[x, y]| live[*x as usize] && live[*y as usize]),
            );
            offsets.push(pairs.len() as u32);
        }
        self.offsets = offsets;
        self.pairs = pairs;
        self.index_active();
    }

    /// Marks head atoms (block starting at `start`) that some live grounding can derive.
    fn derive(&self, start: usize, live: &mut [bool]) -> bool {
        let mut changed = false;
        for h in 0..self.heads {
            if live[start + h] {
                continue;
            }
            let any = (0..self.k).any(|j| {
                self.cell(h, j)
                    .iter()
                    .any(|[x, y]| live[*x as usize] && live[*y as usize])
            });
            if any {
                live[start + h] = true;
                changed = true;
            }
        }
        changed
    }

    /// The clauses that can be non-zero at head `h`.
    pub(super) fn active_at(&self, h: usize) -> &[u32] {
        &self.active[self.active_at[h] as usize..self.active_at[h + 1] as usize]
    }

    /// Positions of head `h`'s active clauses in the list of all active cells (head-major).
    pub(super) fn span(&self, h: usize) -> std::ops::Range<usize> {
        self.active_at[h] as usize..self.active_at[h + 1] as usize
    }

    /// Cells with a live grounding.
    pub(super) fn cells(&self) -> usize {
        self.active.len()
    }

    /// Live groundings kept, out of `heads × k × width`.
    pub fn live(&self) -> usize {
        self.pairs.len()
    }

    pub(super) fn cell(&self, h: usize, j: usize) -> &[[u32; 2]] {
        let i = h * self.k + j;
        &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Groundings of cell `i` (`= h * k + j`).
    pub(super) fn groundings(&self, i: usize) -> &[[u32; 2]] {
        &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// One intensional predicate: its block of atoms and its one or two templates.
#[derive(Debug, Clone)]
pub struct SparsePred {
    pub start: usize,
    pub heads: usize,
    pub k1: usize,
    /// 1 when the second template is absent.
    pub k2: usize,
    pub t1: SparseTemplate,
    pub t2: Option<SparseTemplate>,
}

/// One world, compiled for the kernel.
#[derive(Debug, Clone)]
pub struct SparseWorld {
    pub n: usize,
    /// First intensional atom id.
    pub fixed: usize,
    pub init: Vec<f32>,
    pub examples: Vec<u32>,
    pub labels: Vec<f32>,
    pub preds: Vec<SparsePred>,
    pub steps: usize,
}

impl SparseWorld {
    /// Compiles `world` with the same atom order as the tensor path's `CompiledWorld`.
    pub fn new(task: &Task, clause_sets: &[ClauseSet], world: &World) -> Self {
        let index = task.ground_index(world);
        let n = index.len();
        let init = ilp::background_valuation(world, &index);
        let fixed = clause_sets
            .first()
            .map_or(n, |cs| index.pred_range(cs.pred).start);
        let preds: Vec<SparsePred> = clause_sets
            .iter()
            .map(|cs| {
                let range = index.pred_range(cs.pred);
                let t1 = SparseTemplate::new(&cs.templates[0], &index, &init, fixed)
                    .expect("every intensional predicate has a first template");
                let t2 = SparseTemplate::new(&cs.templates[1], &index, &init, fixed);
                SparsePred {
                    start: range.start,
                    heads: range.len(),
                    k1: t1.k,
                    k2: t2.as_ref().map_or(1, |t| t.k),
                    t1,
                    t2,
                }
            })
            .collect();
        // Atoms no program in the templates can ever make non-zero: the fixpoint of "derivable
        // from live atoms by some clause", starting from the background.
        let mut preds: Vec<SparsePred> = preds;
        let mut live: Vec<bool> = init.iter().map(|&x| x > 0.0).collect();
        let mut changed = true;
        while changed {
            changed = false;
            for p in &preds {
                changed |= p.t1.derive(p.start, &mut live);
                if let Some(t2) = &p.t2 {
                    changed |= t2.derive(p.start, &mut live);
                }
            }
        }
        for p in &mut preds {
            p.t1.prune(&live);
            if let Some(t2) = &mut p.t2 {
                t2.prune(&live);
            }
        }
        let ex = ilp::examples(world, &index);
        SparseWorld {
            n,
            fixed,
            init,
            examples: ex.atoms.iter().map(|a| a.0).collect(),
            labels: ex.labels,
            preds,
            steps: world.steps,
        }
    }

    /// Bytes of the compiled groundings.
    pub fn compiled_bytes(&self) -> f64 {
        self.preds
            .iter()
            .flat_map(|p| std::iter::once(&p.t1).chain(&p.t2))
            .map(|t| 8.0 * t.live() as f64 + 8.0 * (t.heads * t.k) as f64)
            .sum()
    }
}
