//! Differentiable forward chaining: T steps of clause evaluation, clause-pair mixing and
//! amalgamation over a batch of valuations.

use super::compile::CompiledWorld;
use super::grid::TemplateGrid;
use super::{Amalgamation, TNorm};
use tch::{Kind, Tensor};

/// How inference combines truth values.
#[derive(Debug, Clone, Copy)]
pub struct InferOptions {
    pub tnorm: TNorm,
    pub amalgamation: Amalgamation,
    /// Largest number of floats one chunk of clause-pair maxima may hold. Bounds peak memory
    /// without changing the result.
    pub pair_chunk: usize,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            tnorm: TNorm::Product,
            amalgamation: Amalgamation::ProbSum,
            pair_chunk: 1 << 22,
        }
    }
}

fn conj(x: &Tensor, y: &Tensor, tnorm: TNorm) -> Tensor {
    match tnorm {
        TNorm::Product => x * y,
        TNorm::Godel => x.minimum(y),
        TNorm::Lukasiewicz => (x + y - 1.0).clamp_min(0.0),
    }
}

/// `F_c(a)` for every clause of a template: `[B, K, n_head]`.
pub fn clause_values(t: &TemplateGrid, a: &Tensor, tnorm: TNorm) -> Tensor {
    let b = a.size()[0];
    let pats = t.patterns_of(a);
    let y1 = pats.index_select(1, &t.first);
    let y2 = pats.index_select(1, &t.second);
    conj(&y1, &y2, tnorm)
        .view([b, t.k as i64, t.n_head() as i64, t.width() as i64])
        .amax([-1], false)
}

/// `Σ_{j,k} W*[j,k] · max(F1[j], F2[k])` for one predicate: `[B, n_head]`.
/// `probs` is `[Bw, K1, K2]` with `Bw` either `B` or 1 (shared weights).
pub fn mix_pairs(f1: &Tensor, f2: Option<&Tensor>, probs: &Tensor, pair_chunk: usize) -> Tensor {
    let (b, k1, n) = f1.size3().expect("F1 is [B, K1, n]");
    let bw = probs.size()[0];
    let Some(f2) = f2 else {
        // The absent second clause is ⊥ everywhere, so max(F1[j], ⊥) = F1[j].
        return probs.view([bw, 1, k1]).matmul(f1).squeeze_dim(1);
    };
    let k2 = f2.size()[1];
    let per_row = (b * k2 * n).max(1) as usize;
    let chunk = (pair_chunk / per_row).clamp(1, k1 as usize) as i64;
    let mut total: Option<Tensor> = None;
    let mut j = 0;
    while j < k1 {
        let c = chunk.min(k1 - j);
        let g = f1.narrow(1, j, c).unsqueeze(2).maximum(&f2.unsqueeze(1)); // [B, c, K2, n]
        let w = probs.narrow(1, j, c).reshape([bw, 1, c * k2]);
        let part = w.matmul(&g.view([b, c * k2, n])).squeeze_dim(1);
        total = Some(match total {
            None => part,
            Some(t) => t + part,
        });
        j += c;
    }
    total.expect("K1 > 0")
}

/// One step of forward chaining: the new valuation `[B, n]`.
pub fn step(world: &CompiledWorld, a: &Tensor, probs: &[Tensor], opts: &InferOptions) -> Tensor {
    let b = a.size()[0];
    let mut parts = Vec::with_capacity(world.preds.len() + 1);
    if world.intensional_start > 0 {
        parts.push(Tensor::zeros(
            [b, world.intensional_start as i64],
            (Kind::Float, a.device()),
        ));
    }
    for (pred, w) in world.preds.iter().zip(probs) {
        let f1 = clause_values(
            pred.templates[0].as_ref().expect("first template"),
            a,
            opts.tnorm,
        );
        let f2 = pred.templates[1]
            .as_ref()
            .map(|t| clause_values(t, a, opts.tnorm));
        parts.push(mix_pairs(&f1, f2.as_ref(), w, opts.pair_chunk));
    }
    let s = Tensor::cat(&parts, 1);
    match opts.amalgamation {
        Amalgamation::ProbSum => a + &s - a * &s,
        Amalgamation::Max => a.maximum(&s),
    }
}

/// Runs `steps` steps from `init` (`[B, n]`, or `[n]` broadcast to the batch of `probs`).
pub fn infer(
    world: &CompiledWorld,
    init: &Tensor,
    probs: &[Tensor],
    steps: usize,
    opts: &InferOptions,
) -> Tensor {
    let mut a = if init.dim() == 1 {
        let b = probs.first().map_or(1, |p| p.size()[0]);
        init.unsqueeze(0)
            .expand([b, world.n as i64], false)
            .contiguous()
    } else {
        init.shallow_clone()
    };
    for _ in 0..steps {
        a = step(world, &a, probs, opts);
    }
    a
}
