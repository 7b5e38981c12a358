//! Differentiable forward chaining: T steps of clause evaluation, clause-pair mixing and
//! amalgamation over a batch of valuations. What cannot change within a call (patterns over
//! extensional atoms, templates over nothing else) is evaluated once per call ([`super::stage`]).

use super::compile::CompiledWorld;
use super::fixed_mix::FixedMix;
use super::grid::TemplateGrid;
use super::stage::{reduce, Prepared};
use super::{Amalgamation, TNorm};
use crate::error::{shape, torch_err, Error, Result};
use tch::{Kind, TchError, Tensor};

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

type TchResult<T> = std::result::Result<T, TchError>;

pub(super) fn conj(x: &Tensor, y: &Tensor, tnorm: TNorm) -> TchResult<Tensor> {
    match tnorm {
        TNorm::Product => x.f_mul(y),
        TNorm::Godel => x.f_minimum(y),
        TNorm::Lukasiewicz => x.f_add(y)?.f_sub_scalar(1.0)?.f_clamp_min(0.0),
    }
}

/// `F_c(a)` for every clause of a template: `[B, K, n_head]`.
pub fn clause_values(t: &TemplateGrid, a: &Tensor, tnorm: TNorm) -> Result<Tensor> {
    let pats = t.patterns_of(a)?;
    let pick = |ids: &Tensor| {
        pats.f_index_select(1, ids).map_err(torch_err(|| {
            format!("picking {} body atoms from {}", t.k, shape(&pats))
        }))
    };
    reduce(t, &pick(&t.first)?, &pick(&t.second)?, tnorm)
}

/// `Σ_{j,k} W*[j,k] · max(F1[j], F2[k])` for one predicate: `[B, n_head]`.
/// `probs` is `[Bw, K1, K2]` with `Bw` either `B` or 1 (shared weights).
pub fn mix_pairs(
    f1: &Tensor,
    f2: Option<&Tensor>,
    probs: &Tensor,
    pair_chunk: usize,
) -> Result<Tensor> {
    let step = || {
        format!(
            "mixing clause pairs (F1 {}, F2 {}, weights {})",
            shape(f1),
            f2.map_or("none".into(), shape),
            shape(probs)
        )
    };
    let (b, k1, n) = f1.size3().map_err(torch_err(step))?;
    let bw = probs.size()[0];
    let Some(f2) = f2 else {
        // The absent second clause is ⊥ everywhere, so max(F1[j], ⊥) = F1[j].
        let f = || probs.f_view([bw, 1, k1])?.f_matmul(f1)?.f_squeeze_dim(1);
        return f().map_err(torch_err(step));
    };
    let k2 = f2.size()[1];
    let per_row = (b * k2 * n).max(1) as usize;
    let chunk = (pair_chunk / per_row).clamp(1, k1.max(1) as usize) as i64;
    let f = || -> TchResult<Tensor> {
        let mut total: Option<Tensor> = None;
        let mut j = 0;
        while j < k1 {
            let c = chunk.min(k1 - j);
            // [B, c, K2, n]
            let g = f1
                .f_narrow(1, j, c)?
                .f_unsqueeze(2)?
                .f_maximum(&f2.f_unsqueeze(1)?)?;
            let w = probs.f_narrow(1, j, c)?.f_reshape([bw, 1, c * k2])?;
            let part = w.f_matmul(&g.f_view([b, c * k2, n])?)?.f_squeeze_dim(1)?;
            total = Some(match total {
                None => part,
                Some(t) => t.f_add(&part)?,
            });
            j += c;
        }
        match total {
            Some(t) => Ok(t),
            None => f1.f_new_zeros([b, n], (f1.kind(), f1.device())),
        }
    };
    f().map_err(torch_err(step))
}

/// One compiled predicate's parts that stay the same through an inference call.
struct PreparedPred {
    templates: [Option<Prepared>; 2],
    /// The sorted first template, when its values are fixed and a second one moves.
    mix: Option<FixedMix>,
}

fn prepare(
    world: &CompiledWorld,
    a: &Tensor,
    probs: &[Tensor],
    opts: &InferOptions,
) -> Result<Vec<PreparedPred>> {
    let one = |t: &Option<TemplateGrid>| {
        t.as_ref()
            .map(|t| Prepared::new(t, a, opts.tnorm))
            .transpose()
    };
    world
        .preds
        .iter()
        .zip(probs)
        .map(|(p, w)| {
            let templates = [one(&p.templates[0])?, one(&p.templates[1])?];
            let mix = match (&templates, &p.templates[1]) {
                ([Some(p1), _], Some(_)) => match p1.fixed_values() {
                    Some(f1) => FixedMix::new(f1, w, opts.pair_chunk)?,
                    None => None,
                },
                _ => None,
            };
            Ok(PreparedPred { templates, mix })
        })
        .collect()
}

/// One step of forward chaining: the new valuation `[B, n]`.
pub fn step(
    world: &CompiledWorld,
    a: &Tensor,
    probs: &[Tensor],
    opts: &InferOptions,
) -> Result<Tensor> {
    step_prepared(world, &prepare(world, a, probs, opts)?, a, probs, opts)
}

/// [`step`] with the call's fixed parts already evaluated.
fn step_prepared(
    world: &CompiledWorld,
    prepared: &[PreparedPred],
    a: &Tensor,
    probs: &[Tensor],
    opts: &InferOptions,
) -> Result<Tensor> {
    let b = a.size()[0];
    let at = |what: &'static str| torch_err(move || format!("{what} (valuation {})", shape(a)));
    let mut parts = Vec::with_capacity(world.preds.len() + 1);
    if world.intensional_start > 0 {
        parts.push(
            Tensor::f_zeros(
                [b, world.intensional_start as i64],
                (Kind::Float, a.device()),
            )
            .map_err(at("allocating the extensional block"))?,
        );
    }
    for ((pred, w), prep) in world.preds.iter().zip(probs).zip(prepared) {
        // Every compiled predicate has a first template (clause generation refuses one without).
        let (Some(t1), Some(p1)) = (pred.templates[0].as_ref(), prep.templates[0].as_ref()) else {
            continue;
        };
        let f1 = p1.clause_values(t1, a, opts.tnorm)?;
        let f2 = match (pred.templates[1].as_ref(), prep.templates[1].as_ref()) {
            (Some(t), Some(p)) => Some(p.clause_values(t, a, opts.tnorm)?),
            _ => None,
        };
        parts.push(match (&prep.mix, &f2) {
            (Some(m), Some(f2)) => m.mix(&f1, f2, w, opts.pair_chunk)?,
            _ => mix_pairs(&f1, f2.as_ref(), w, opts.pair_chunk)?,
        });
    }
    let s = Tensor::f_cat(&parts, 1).map_err(at("joining the predicates' blocks"))?;
    let f = || match opts.amalgamation {
        Amalgamation::ProbSum => a.f_add(&s)?.f_sub(&a.f_mul(&s)?),
        Amalgamation::Max => a.f_maximum(&s),
    };
    f().map_err(at("amalgamating"))
}

/// Runs `steps` steps from `init` (`[B, n]`, or `[n]` broadcast to the batch of `probs`).
pub fn infer(
    world: &CompiledWorld,
    init: &Tensor,
    probs: &[Tensor],
    steps: usize,
    opts: &InferOptions,
) -> Result<Tensor> {
    let mut a = if init.dim() == 1 {
        let b = probs.first().map_or(1, |p| p.size()[0]);
        init.f_unsqueeze(0)
            .and_then(|t| t.f_expand([b, world.n as i64], false))
            .and_then(|t| t.f_contiguous())
            .map_err(torch_err(|| {
                format!("broadcasting the initial valuation to [{b}, {}]", world.n)
            }))?
    } else {
        init.shallow_clone()
    };
    let prepared = prepare(world, &a, probs, opts)?;
    for t in 0..steps {
        a = step_prepared(world, &prepared, &a, probs, opts).map_err(|e| match e {
            Error::Torch(msg) => {
                Error::Torch(format!("inference step {} of {steps}: {msg}", t + 1))
            }
            other => other,
        })?;
    }
    Ok(a)
}
