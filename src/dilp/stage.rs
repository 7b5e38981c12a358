//! What one inference call computes once instead of at every step. Amalgamation adds nothing
//! to an extensional atom (`a + 0 − a·0 = a`, exactly in floating point), so a body pattern
//! that reads only the extensional block has the same values at every step of a call, and a
//! template whose clauses read no intensional atom (an `int = false` template) has the same
//! clause values at every step. [`Prepared`] computes those from the initial valuation once;
//! each step then builds only the patterns over intensional atoms.
//!
//! The values are bit for bit those of evaluating everything at every step (the same
//! elements are picked, multiplied and maximised). What changes is the backward pass: it no
//! longer carries gradients, step after step, into atoms that cannot move. With a frozen
//! perception the initial valuation needs no gradient at all, and the fixed parts have none.

use super::grid::{Pattern, TemplateGrid};
use super::infer::conj;
use super::TNorm;
use crate::error::{shape, torch_err, Result};
use tch::{Device, Tensor};

/// How the clauses' body atoms on one side (first or second) are picked.
#[derive(Debug)]
pub enum Side {
    /// Every clause's atom on this side reads extensional atoms only: picked once per call.
    Fixed,
    /// Every clause's atom on this side reads intensional atoms: picked each step from the
    /// stack of the changing patterns alone, at these `[K]` rows.
    Live(Tensor),
    /// Both kinds: picked each step from the stack of all patterns.
    Mixed,
}

/// Which of a template's patterns can change during inference (set when it is compiled).
#[derive(Debug)]
pub struct Staging {
    /// The patterns over intensional atoms, in pattern order.
    pub live: Vec<Pattern>,
    /// The first and the second body atom's side.
    pub sides: [Side; 2],
}

impl Staging {
    /// The staging of `patterns` (over `c` constants) picked at `ids` (first, second) when the
    /// atoms below `fixed_below` never change. `fixed_below = 0`: everything changes.
    pub fn new(
        patterns: &[Pattern],
        ids: [&[i64]; 2],
        c: usize,
        fixed_below: usize,
        device: Device,
    ) -> Result<Staging> {
        let fixed: Vec<bool> = patterns
            .iter()
            .map(|p| p.start + c.pow(p.arity as u32) <= fixed_below)
            .collect();
        // A pattern's row in the stack of the changing patterns.
        let mut row = vec![0i64; patterns.len()];
        let mut live = Vec::new();
        for (i, p) in patterns.iter().enumerate().filter(|(i, _)| !fixed[*i]) {
            row[i] = live.len() as i64;
            live.push(p.clone());
        }
        let side = |ids: &[i64]| -> Result<Side> {
            if ids.iter().all(|&i| fixed[i as usize]) {
                return Ok(Side::Fixed);
            }
            if ids.iter().any(|&i| fixed[i as usize]) {
                return Ok(Side::Mixed);
            }
            let rows: Vec<i64> = ids.iter().map(|&i| row[i as usize]).collect();
            Tensor::f_from_slice(&rows)
                .and_then(|t| t.f_to_device(device))
                .map(Side::Live)
                .map_err(torch_err(|| {
                    format!("copying {} pattern rows to {device:?}", rows.len())
                }))
        };
        Ok(Staging {
            sides: [side(ids[0])?, side(ids[1])?],
            live,
        })
    }
}

/// One template's parts that are the same at every step of one inference call.
pub struct Prepared {
    /// The fixed sides' picked pattern values `[B, K, C^(h+v)]` (first, second).
    sides: [Option<Tensor>; 2],
    /// `[B, K, n_head]` clause values, when both sides are fixed.
    values: Option<Tensor>,
}

impl Prepared {
    /// The fixed parts of `t` from the initial valuation `init` (`[B, n]`).
    pub fn new(t: &TemplateGrid, init: &Tensor, tnorm: TNorm) -> Result<Prepared> {
        let [s1, s2] = &t.staging.sides;
        if !matches!(s1, Side::Fixed) && !matches!(s2, Side::Fixed) {
            return Ok(Prepared {
                sides: [None, None],
                values: None,
            });
        }
        let pats = t.patterns_of(init)?;
        let pick = |side: &Side, ids: &Tensor| -> Result<Option<Tensor>> {
            if !matches!(side, Side::Fixed) {
                return Ok(None);
            }
            pats.f_index_select(1, ids).map(Some).map_err(torch_err(|| {
                format!("picking {} fixed body atoms from {}", t.k, shape(&pats))
            }))
        };
        let sides = [pick(s1, &t.first)?, pick(s2, &t.second)?];
        let values = match &sides {
            [Some(y1), Some(y2)] => Some(reduce(t, y1, y2, tnorm)?),
            _ => None,
        };
        Ok(Prepared { sides, values })
    }

    /// The clause values when they are the same at every step (both sides fixed).
    pub fn fixed_values(&self) -> Option<&Tensor> {
        self.values.as_ref()
    }

    /// `F_c(a)` for every clause of `t` at valuation `a` (`[B, n]`): `[B, K, n_head]`, what
    /// [`super::infer::clause_values`] computes, with the fixed parts taken from here.
    pub fn clause_values(&self, t: &TemplateGrid, a: &Tensor, tnorm: TNorm) -> Result<Tensor> {
        if let Some(v) = &self.values {
            return Ok(v.shallow_clone());
        }
        let sides = &t.staging.sides;
        let live = match sides.iter().any(|s| matches!(s, Side::Live(_))) {
            true => Some(t.stack_patterns(a, &t.staging.live)?),
            false => None,
        };
        let all = match sides.iter().any(|s| matches!(s, Side::Mixed)) {
            true => Some(t.patterns_of(a)?),
            false => None,
        };
        let pick = |i: usize, ids: &Tensor| -> Result<Tensor> {
            let (src, rows) = match (&sides[i], &self.sides[i]) {
                (_, Some(fixed)) => return Ok(fixed.shallow_clone()),
                (Side::Live(rows), _) => (live.as_ref(), rows),
                _ => (all.as_ref(), ids),
            };
            let src = src.expect("stacked above for this side");
            src.f_index_select(1, rows).map_err(torch_err(|| {
                format!("picking {} body atoms from {}", t.k, shape(src))
            }))
        };
        reduce(t, &pick(0, &t.first)?, &pick(1, &t.second)?, tnorm)
    }
}

/// `[B, K, n_head]`: the t-norm of the two picked sides `[B, K, C^(h+v)]`, maximised over each
/// head atom's groundings.
pub fn reduce(t: &TemplateGrid, y1: &Tensor, y2: &Tensor, tnorm: TNorm) -> Result<Tensor> {
    let b = y1.size()[0];
    let f = || {
        conj(y1, y2, tnorm)?
            .f_view([b, t.k as i64, t.n_head() as i64, t.width() as i64])?
            .f_amax([-1], false)
    };
    f().map_err(torch_err(|| {
        format!(
            "evaluating {} clauses over {} groundings each (body atoms {})",
            t.k,
            t.width(),
            shape(y1)
        )
    }))
}
