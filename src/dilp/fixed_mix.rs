//! Clause-pair mixing when the first template's values are fixed for the whole inference call
//! (an `int = false` template under an initial valuation that needs no gradient: a frozen
//! perception, the one-hot worlds of the `worlds` semantics, or `dilp learn`'s torch backend)
//! and only the second template's values move.
//!
//! The mixed value `Σ_{j,k} W[j,k] · max(F1_j, F2_k)` is computed exactly as
//! [`super::infer::mix_pairs`] does, with the pair maxima `g` as a constant, so the value and
//! the weights' gradient (`g` times the incoming gradient) are the same operations. What
//! changes is the gradient of `F2`: LibTorch's `maximum` backward passes over the whole
//! `[B, K1, K2, n]` pair tensor five times per step (equal, halve, where, greater, fill) and
//! then sums it over `j`. Here it is `∂/∂F2_k = Σ_j W[j,k] · m_jk` with `m = 1` where
//! `F2_k > F1_j`, `½` where they are equal (LibTorch's tie rule) and 0 below; with each head
//! atom's `F1` sorted once per call and the weights summed in that order, this is a lookup:
//! `(Wc[L] + Wc[R]) / 2`, where `L` and `R` count the `F1_j` below and not above `F2_k` and
//! `Wc[p]` sums the weights of the first `p` sorted clauses. The coefficient enters the graph
//! as `F2 · C − (F2 · C).detach()`, which is exactly zero, so values are untouched. The
//! gradient is the same sum in another order: equal up to float rounding.

use super::infer::mix_pairs;
use crate::error::{shape, torch_err, Result};
use tch::{Kind, TchError, Tensor};

type TchResult<T> = std::result::Result<T, TchError>;

/// One predicate's sorted fixed clause values and prefix sums of the pair weights.
pub struct FixedMix {
    /// `[B, n, K1]`: each head atom's `F1` values, ascending.
    sorted: Tensor,
    /// `[B, n, K1 + 1, K2]`: `Wc[p]`, the weights of the first `p` sorted clauses summed.
    prefix: Tensor,
}

impl FixedMix {
    /// The sorted form of `f1` (`[B, K1, n]`, no gradient) under pair weights `probs`
    /// (`[Bw, K1, K2]`, `Bw` = B or 1). `None` where it would not pay or not apply: `f1`
    /// carries a gradient, or the prefix sums would exceed `pair_chunk` floats (the bound on
    /// peak memory that [`mix_pairs`] keeps).
    pub fn new(f1: &Tensor, probs: &Tensor, pair_chunk: usize) -> Result<Option<FixedMix>> {
        if f1.requires_grad() || !probs.requires_grad() || f1.dim() != 3 || probs.dim() != 3 {
            return Ok(None);
        }
        let (b, k1, n) = (f1.size()[0], f1.size()[1], f1.size()[2]);
        let k2 = probs.size()[2];
        if (b * n * (k1 + 1) * k2) as usize > pair_chunk {
            return Ok(None);
        }
        let f = || -> TchResult<FixedMix> {
            let _guard = tch::no_grad_guard();
            let (sorted, order) = f1.f_transpose(1, 2)?.f_sort(-1, false)?;
            // Whole weight rows, one per sorted clause (a row copy, cheaper than an elementwise
            // gather); with one weight matrix per batch row, row `b` reads from block `b`.
            let bw = probs.size()[0];
            let rows = match bw {
                1 => order.f_reshape([-1])?,
                _ => order
                    .f_add(
                        &Tensor::f_arange(b, (Kind::Int64, order.device()))?
                            .f_mul_scalar(k1)?
                            .f_view([b, 1, 1])?,
                    )?
                    .f_reshape([-1])?,
            };
            let picked = probs
                .f_reshape([bw * k1, k2])?
                .f_index_select(0, &rows)?
                .f_view([b, n, k1, k2])?;
            let zeros = picked.f_new_zeros([b, n, 1, k2], (Kind::Float, picked.device()))?;
            let prefix = Tensor::f_cat(&[zeros, picked.f_cumsum(2, Kind::Float)?], 2)?;
            Ok(FixedMix {
                sorted: sorted.f_contiguous()?,
                prefix,
            })
        };
        f().map(Some).map_err(torch_err(|| {
            format!(
                "sorting fixed clause values {} under weights {}",
                shape(f1),
                shape(probs)
            )
        }))
    }

    /// [`mix_pairs`] of `f1` (the values this was built from) and `f2` (`[B, K2, n]`).
    pub fn mix(
        &self,
        f1: &Tensor,
        f2: &Tensor,
        probs: &Tensor,
        pair_chunk: usize,
    ) -> Result<Tensor> {
        if !f2.requires_grad() {
            return mix_pairs(f1, Some(f2), probs, pair_chunk);
        }
        let exact = mix_pairs(
            f1,
            Some(&f2.f_detach().map_err(torch_err(|| "detaching F2"))?),
            probs,
            pair_chunk,
        )?;
        let f = || -> TchResult<Tensor> {
            let coef = {
                let _guard = tch::no_grad_guard();
                let v = f2.f_transpose(1, 2)?.f_contiguous()?;
                let (b, n, k2) = v.size3()?;
                // `L` counts the sorted `F1` below `v`, `R` those not above it; `s ≤ v` exactly
                // when `s < nextafter(v, ∞)`, so one left search of both gives both.
                let up = v.f_nextafter(&v.f_full_like(f64::INFINITY)?)?;
                let pos = Tensor::f_cat(&[&v, &up], 2)?.f_searchsorted(
                    &self.sorted,
                    false,
                    false,
                    "left",
                    None::<Tensor>,
                )?;
                // Entry `(pos, k)` of each head atom's `[K1 + 1, K2]` prefix table.
                let col = Tensor::f_arange(k2, (Kind::Int64, v.device()))?.f_repeat([2])?;
                let flat = self.prefix.f_view([b, n, -1])?;
                let at = flat.f_gather(2, &pos.f_mul_scalar(k2)?.f_add(&col)?, false)?;
                // (Wc[L] + Wc[R]) / 2, [B, n, K2] → [B, K2, n], F2's layout.
                at.f_narrow(2, 0, k2)?
                    .f_add(&at.f_narrow(2, k2, k2)?)?
                    .f_mul_scalar(0.5)?
                    .f_transpose(1, 2)?
            };
            let t = f2
                .f_mul(&coef)?
                .f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?;
            exact.f_add(&t.f_sub(&t.f_detach()?)?)
        };
        f().map_err(torch_err(|| {
            format!(
                "the gradient path of F2 {} over sorted F1 {}",
                shape(f2),
                shape(&self.sorted)
            )
        }))
    }
}
