//! The deterministic ground-atom index of one world, and each clause's index pairs `X_c`.
//!
//! Index 0 is ⊥ (falsum, always false: padding points at it). After it come the predicates in
//! the order given (a task passes `Task::preds_in_index_order`),
//! each a dense block of `|C|^arity` atoms whose arguments are enumerated lexicographically by
//! position in the world's constant list. Dense blocks make `index_of` arithmetic and keep row
//! *i* the same atom in every learner for the same world.
//!
//! This module knows atoms, not tasks: what a task's world puts in the index (its background,
//! its labelled examples) is read out in `task.rs`, so the dependency runs one way.

use crate::logic::{AtomId, Clause, ConstId, GroundAtom, PredId, Term, Vocabulary};
use std::collections::HashMap;
use std::ops::Range;

/// The ground atoms of one world: ⊥ at 0, then one dense block per predicate.
#[derive(Debug, Clone)]
pub struct GroundIndex {
    preds: Vec<PredId>,
    arities: Vec<usize>,
    /// Start of each predicate's block; `starts[i + 1]` ends block i.
    starts: Vec<usize>,
    block: HashMap<PredId, usize>,
    constants: Vec<ConstId>,
    position: HashMap<ConstId, usize>,
}

impl GroundIndex {
    /// # Panics
    /// If a predicate is listed twice.
    pub fn new(vocab: &Vocabulary, preds: &[PredId], constants: &[ConstId]) -> Self {
        let arities: Vec<usize> = preds.iter().map(|&p| vocab.arity(p)).collect();
        let mut starts = vec![1];
        for &a in &arities {
            starts.push(starts.last().unwrap() + constants.len().pow(a as u32));
        }
        let block: HashMap<PredId, usize> =
            preds.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        assert_eq!(
            block.len(),
            preds.len(),
            "GroundIndex: a predicate is listed twice"
        );
        GroundIndex {
            preds: preds.to_vec(),
            arities,
            starts,
            block,
            constants: constants.to_vec(),
            position: constants.iter().enumerate().map(|(i, &c)| (c, i)).collect(),
        }
    }

    /// Number of atoms, ⊥ included (the paper's n).
    pub fn len(&self) -> usize {
        *self.starts.last().unwrap()
    }
    /// Never true: ⊥ is always there.
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn constants(&self) -> &[ConstId] {
        &self.constants
    }
    pub fn preds(&self) -> &[PredId] {
        &self.preds
    }
    /// Position of a constant in [`constants`](Self::constants).
    pub fn const_position(&self, c: ConstId) -> Option<usize> {
        self.position.get(&c).copied()
    }

    /// The global ids of `pred`'s block.
    ///
    /// # Panics
    /// If `pred` is not in the index.
    pub fn pred_range(&self, pred: PredId) -> Range<usize> {
        let b = self.block_of(pred);
        self.starts[b]..self.starts[b + 1]
    }

    fn block_of(&self, pred: PredId) -> usize {
        *self
            .block
            .get(&pred)
            .unwrap_or_else(|| panic!("GroundIndex: predicate {pred:?} is not in the index"))
    }

    /// The id of a ground atom; `None` if its predicate or a constant is not in the index (or
    /// the arity is wrong).
    pub fn index_of(&self, atom: &GroundAtom) -> Option<AtomId> {
        let b = *self.block.get(&atom.pred)?;
        if atom.args.len() != self.arities[b] {
            return None;
        }
        let mut offset = 0;
        for c in &atom.args {
            offset = offset * self.constants.len() + self.const_position(*c)?;
        }
        Some(AtomId((self.starts[b] + offset) as u32))
    }

    /// The atom with this id; `None` for ⊥ (id 0) and for ids past the end.
    pub fn atom(&self, id: AtomId) -> Option<GroundAtom> {
        let id = id.index();
        if id == 0 || id >= self.len() {
            return None;
        }
        let b = self.starts.partition_point(|&s| s <= id) - 1;
        let positions = self.decode(id - self.starts[b], self.arities[b]);
        Some(GroundAtom::new(
            self.preds[b],
            positions.into_iter().map(|p| self.constants[p]).collect(),
        ))
    }

    /// Argument positions of the `offset`-th atom of a block of the given arity.
    fn decode(&self, mut offset: usize, arity: usize) -> Vec<usize> {
        let n = self.constants.len();
        let mut positions = vec![0; arity];
        for slot in positions.iter_mut().rev() {
            *slot = offset % n;
            offset /= n;
        }
        positions
    }
}

/// `X_c` for one clause, restricted to the head predicate's block (every other row of the
/// paper's dense `n × w × 2` tensor is all ⊥ pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPairs {
    pub head_pred: PredId,
    /// Global ids of the head atoms, in index order.
    pub head_range: Range<usize>,
    /// `|C|^v`: one pair per substitution of the variables that are not in the head.
    pub width: usize,
    /// Row-major: `pairs[k * width + m]` is the m-th grounding for head atom `head_range.start + k`.
    pub pairs: Vec<[u32; 2]>,
}

impl IndexPairs {
    /// `[n, width, 2]`: the shape of the paper's dense `X_c` for an index of `n` atoms.
    pub fn paper_shape(&self, n: usize) -> [usize; 3] {
        [n, self.width, 2]
    }
    /// The paper's dense `X_c` (n × width pairs, row-major), rows outside the head block (⊥, other
    /// predicates) padded with (0, 0) — for learners that gather over the whole valuation.
    pub fn dense(&self, n: usize) -> Vec<[u32; 2]> {
        let mut out = vec![[0, 0]; n * self.width];
        out[self.head_range.start * self.width..self.head_range.end * self.width]
            .copy_from_slice(&self.pairs);
        out
    }
}

/// Number of variables a clause uses: its declared names, or more if an atom mentions more.
fn num_vars(clause: &Clause) -> usize {
    let atoms = std::iter::once(&clause.head).chain(&clause.body);
    let max = atoms
        .flat_map(|a| a.vars())
        .map(|v| v.index() + 1)
        .max()
        .unwrap_or(0);
    max.max(clause.num_vars())
}

/// The variables not in the head, in variable order (first = most significant in a substitution).
fn existential_vars(clause: &Clause) -> Vec<usize> {
    let head: Vec<usize> = clause.head.vars().map(|v| v.index()).collect();
    (0..num_vars(clause))
        .filter(|v| !head.contains(v))
        .collect()
}

/// The `width` that [`index_pairs`] would give, without building the pairs.
pub fn pair_width(clause: &Clause, index: &GroundIndex) -> usize {
    index
        .constants
        .len()
        .pow(existential_vars(clause).len() as u32)
}

/// `X_c` of a clause with exactly two body atoms over the index's predicates (paper §4.4).
///
/// For every head atom, the variables not in the head (declared but unused ones too, so that all
/// clauses of a template share `width = |C|^v`) run over every substitution, lexicographic by
/// variable number; each gives the pair of body-atom ids, duplicates kept. Rows for head atoms
/// the head cannot match (a repeated head variable or a head constant that disagrees) and body
/// atoms naming a constant outside the world are ⊥, so generalised clauses still work.
///
/// # Panics
/// If the body does not have two atoms or uses a predicate outside the index.
pub fn index_pairs(clause: &Clause, index: &GroundIndex) -> IndexPairs {
    assert_eq!(
        clause.body.len(),
        2,
        "index_pairs: the clause must have exactly two body atoms"
    );
    let n = index.constants.len();
    let exist = existential_vars(clause);
    let width = n.pow(exist.len() as u32);
    let head_range = index.pred_range(clause.head.pred);
    let head_arity = index.arities[index.block_of(clause.head.pred)];
    let bodies: Vec<usize> = clause.body.iter().map(|a| index.block_of(a.pred)).collect();
    let mut binding = vec![usize::MAX; num_vars(clause)];
    let mut pairs = Vec::with_capacity(head_range.len() * width);
    for k in 0..head_range.len() {
        binding.fill(usize::MAX);
        if !bind_head(clause, &index.decode(k, head_arity), &mut binding, index) {
            pairs.extend(std::iter::repeat_n([0, 0], width));
            continue;
        }
        for m in 0..width {
            let mut rest = m;
            for &v in exist.iter().rev() {
                binding[v] = rest % n;
                rest /= n;
            }
            let id = |b: usize| body_id(&clause.body[b], bodies[b], &binding, index);
            pairs.push([id(0), id(1)]);
        }
    }
    IndexPairs {
        head_pred: clause.head.pred,
        head_range,
        width,
        pairs,
    }
}

/// Binds the head's variables to the head atom's argument positions; false if they clash.
fn bind_head(
    clause: &Clause,
    positions: &[usize],
    binding: &mut [usize],
    index: &GroundIndex,
) -> bool {
    for (term, &p) in clause.head.args.iter().zip(positions) {
        match *term {
            Term::Var(v) if binding[v.index()] == usize::MAX => binding[v.index()] = p,
            Term::Var(v) if binding[v.index()] != p => return false,
            Term::Var(_) => {}
            Term::Const(c) if index.const_position(c) != Some(p) => return false,
            Term::Const(_) => {}
        }
    }
    true
}

/// Global id of a body atom under a full binding; ⊥ (0) if it names a constant outside the world.
fn body_id(atom: &crate::logic::Atom, block: usize, binding: &[usize], index: &GroundIndex) -> u32 {
    let mut offset = 0;
    for term in &atom.args {
        let p = match *term {
            Term::Var(v) => binding[v.index()],
            Term::Const(c) => match index.const_position(c) {
                Some(p) => p,
                None => return 0,
            },
        };
        offset = offset * index.constants.len() + p;
    }
    (index.starts[block] + offset) as u32
}

/// A world's labelled examples as index ids: positives (label 1.0) then negatives (0.0).
#[derive(Debug, Clone, PartialEq)]
pub struct Examples {
    pub atoms: Vec<AtomId>,
    pub labels: Vec<f32>,
}

impl Examples {
    /// Labelled atoms as index ids: `positive` (label 1.0) then `negative` (0.0).
    ///
    /// # Panics
    /// If an atom is outside the index (the index was built for another world).
    pub fn new(index: &GroundIndex, positive: &[GroundAtom], negative: &[GroundAtom]) -> Self {
        let mut atoms = index.ids_of(positive);
        atoms.extend(index.ids_of(negative));
        let labels = (0..atoms.len())
            .map(|i| if i < positive.len() { 1.0 } else { 0.0 })
            .collect();
        Examples { atoms, labels }
    }
}

impl GroundIndex {
    /// The ids of `atoms`, in order.
    ///
    /// # Panics
    /// If an atom is outside the index (the index was built for another world).
    pub fn ids_of(&self, atoms: &[GroundAtom]) -> Vec<AtomId> {
        atoms
            .iter()
            .map(|a| {
                self.index_of(a).unwrap_or_else(|| {
                    panic!("atom {a:?} is not in the ground index: was it built for this world?")
                })
            })
            .collect()
    }

    /// A valuation over the index: 1 on `atoms`, 0 elsewhere (⊥ included).
    ///
    /// # Panics
    /// If an atom is outside the index.
    pub fn valuation(&self, atoms: &[GroundAtom]) -> Vec<f32> {
        let mut v = vec![0f32; self.len()];
        for id in self.ids_of(atoms) {
            v[id.index()] = 1.0;
        }
        v
    }
}

/// Every ground atom of `pred` over `constants`, arguments lexicographic by position (the
/// index's block order; the task file's default negatives are listed this way).
pub fn all_atoms(pred: PredId, arity: usize, constants: &[ConstId]) -> Vec<GroundAtom> {
    let n = constants.len();
    let count = n.pow(arity as u32);
    (0..count)
        .map(|mut k| {
            let mut args = Vec::with_capacity(arity);
            for _ in 0..arity {
                args.push(constants[k % n]);
                k /= n;
            }
            args.reverse();
            GroundAtom::new(pred, args)
        })
        .collect()
}
