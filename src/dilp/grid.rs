//! The fast form of clause evaluation. All clauses of one rule template range over the same
//! grid of variable bindings (head variables, then existential ones: `C^(h+v)` cells), and they
//! draw their two body atoms from a handful of distinct *patterns* (`succ(X,Z)`, `zero(Y)`, ...).
//! Each pattern's truth values on the grid are a reshaped, broadcast view of one predicate's
//! block of the valuation, so no per-atom gather is needed: patterns are stacked once per step,
//! each clause picks its two rows, multiplies, and takes the max over the existential axes.
//! This computes exactly the paper's `F_c` (the index pairs `X_c` enumerate the same grid), but
//! its backward pass is broadcast sums and block copies instead of scattered adds. Patterns over
//! extensional atoms never change, so [`super::stage`] stacks those once per inference call.

use super::stage::Staging;
use crate::error::{shape, torch_err, Error, Result};
use crate::ilp::GroundIndex;
use crate::logic::{Clause, Term};
use std::collections::BTreeMap;
use tch::{Device, Tensor};

/// One distinct body atom shape: a predicate's block of the valuation and the grid axes its
/// arguments bind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pattern {
    pub start: usize,
    pub arity: usize,
    pub axes: Vec<usize>,
}

/// All clauses of one rule template over one world.
#[derive(Debug)]
pub struct TemplateGrid {
    pub k: usize,
    /// Constants in the world.
    pub c: usize,
    /// Head arity and number of existential variables.
    pub h: usize,
    pub v: usize,
    pub patterns: Vec<Pattern>,
    /// `[K]` pattern ids of each clause's first and second body atom.
    pub first: Tensor,
    pub second: Tensor,
    /// Which patterns can change during inference, and how each side is therefore picked.
    pub staging: Staging,
}

impl TemplateGrid {
    /// Head atoms per clause (`C^h`) and groundings per head atom (`C^v`).
    pub fn n_head(&self) -> usize {
        self.c.pow(self.h as u32)
    }
    pub fn width(&self) -> usize {
        self.c.pow(self.v as u32)
    }

    /// Compiles `clauses` (same head predicate, constant-free, distinct head variables, two body
    /// atoms, the same number of variables) against `index`. `None` for an empty template; an
    /// error for a clause of another shape (clause generation makes none) or a failed copy to
    /// `device`. Every pattern counts as changing; see [`Self::with_fixed`].
    pub fn new(
        clauses: &[Clause],
        index: &GroundIndex,
        device: Device,
    ) -> Result<Option<TemplateGrid>> {
        Self::with_fixed(clauses, index, 0, device)
    }

    /// [`Self::new`], knowing that atoms below `fixed_below` (the extensional block) never
    /// change during inference, so the patterns over them are evaluated once per call.
    pub fn with_fixed(
        clauses: &[Clause],
        index: &GroundIndex,
        fixed_below: usize,
        device: Device,
    ) -> Result<Option<TemplateGrid>> {
        let Some(first_clause) = clauses.first() else {
            return Ok(None);
        };
        let unfit = |cl: &Clause, why: &str| {
            Error::Config(format!(
                "the tensor learner cannot evaluate `{cl:?}`: it needs {why}"
            ))
        };
        let c = index.constants().len();
        let h = first_clause.head.args.len();
        let v = clauses
            .iter()
            .map(|cl| cl.num_vars() - h)
            .max()
            .unwrap_or(0);
        let mut ids: BTreeMap<Pattern, usize> = BTreeMap::new();
        let mut order: Vec<Pattern> = Vec::new();
        let mut pick = Vec::with_capacity(clauses.len() * 2);
        for cl in clauses {
            // Grid axes: head variables in head order, then the others by variable number.
            let mut axis = vec![usize::MAX; cl.num_vars()];
            for (i, t) in cl.head.args.iter().enumerate() {
                match t {
                    Term::Var(x) if axis[x.index()] == usize::MAX => axis[x.index()] = i,
                    _ => return Err(unfit(cl, "distinct head variables")),
                }
            }
            for (next, a) in (h..).zip(axis.iter_mut().filter(|a| **a == usize::MAX)) {
                *a = next;
            }
            if cl.body.len() != 2 {
                return Err(unfit(cl, "exactly two body atoms"));
            }
            for b in &cl.body {
                if b.args.len() > 2 {
                    return Err(unfit(cl, "predicates of arity at most 2"));
                }
                let axes = b
                    .args
                    .iter()
                    .map(|t| match t {
                        Term::Var(x) => Ok(axis[x.index()]),
                        Term::Const(_) => Err(unfit(cl, "constant-free clauses")),
                    })
                    .collect::<Result<_>>()?;
                let p = Pattern {
                    start: index.pred_range(b.pred).start,
                    arity: b.args.len(),
                    axes,
                };
                let id = *ids.entry(p.clone()).or_insert_with(|| {
                    order.push(p);
                    order.len() - 1
                });
                pick.push(id as i64);
            }
        }
        let first: Vec<i64> = pick.iter().step_by(2).copied().collect();
        let second: Vec<i64> = pick.iter().skip(1).step_by(2).copied().collect();
        let upload = |ids: &[i64]| {
            Tensor::f_from_slice(ids)
                .and_then(|t| t.f_to_device(device))
                .map_err(torch_err(|| {
                    format!("copying {} clause pattern ids to {device:?}", ids.len())
                }))
        };
        let staging = Staging::new(&order, [&first, &second], c, fixed_below, device)?;
        Ok(Some(TemplateGrid {
            k: clauses.len(),
            c,
            h,
            v,
            patterns: order,
            first: upload(&first)?,
            second: upload(&second)?,
            staging,
        }))
    }

    /// The stacked pattern values `[B, P, C^(h+v)]` for valuation `a` (`[B, n]`).
    pub fn patterns_of(&self, a: &Tensor) -> Result<Tensor> {
        self.stack_patterns(a, &self.patterns)
    }

    /// The stacked values `[B, |pats|, C^(h+v)]` of `pats` (some of this grid's patterns) for
    /// valuation `a` (`[B, n]`).
    pub fn stack_patterns(&self, a: &Tensor, pats: &[Pattern]) -> Result<Tensor> {
        let b = a.size()[0];
        let dims = self.h + self.v;
        let f = || {
            let grids = pats
                .iter()
                .map(|p| self.pattern_grid(a, p))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::f_stack(&grids, 1)?.f_view([b, pats.len() as i64, -1])
        };
        f().map_err(torch_err(|| {
            format!(
                "stacking {} body patterns over a grid of {}^{dims} (valuation {})",
                pats.len(),
                self.c,
                shape(a)
            )
        }))
    }

    /// One pattern's values on the grid, `[B, C, ..., C]`: a broadcast view of its block of `a`.
    fn pattern_grid(&self, a: &Tensor, p: &Pattern) -> std::result::Result<Tensor, tch::TchError> {
        let b = a.size()[0];
        let c = self.c as i64;
        let dims = self.h + self.v;
        let full: Vec<i64> = std::iter::once(b)
            .chain(std::iter::repeat_n(c, dims))
            .collect();
        let block = a.f_narrow(1, p.start as i64, c.pow(p.arity as u32))?;
        // `vals` has one axis per distinct argument axis, in increasing axis order; `new`
        // admits arities 0 to 2 only.
        let (vals, axes): (Tensor, Vec<usize>) = match p.axes.as_slice() {
            [] => (block, vec![]),
            [x] => (block, vec![*x]),
            [x, y] if x == y => (block.f_view([b, c, c])?.f_diagonal(0, 1, 2)?, vec![*x]),
            [x, y] if x < y => (block.f_view([b, c, c])?, vec![*x, *y]),
            [x, y, ..] => (block.f_view([b, c, c])?.f_transpose(1, 2)?, vec![*y, *x]),
        };
        let mut shape = vec![b];
        shape.extend((0..dims).map(|d| if axes.contains(&d) { c } else { 1 }));
        vals.f_reshape(shape.as_slice())?
            .f_expand(full.as_slice(), false)
    }
}
