//! Memory estimates: the paper's Appendix E formula, and what this implementation actually keeps
//! alive for the backward pass, so that a template too big for memory is refused up front.

#[cfg(feature = "torch")]
use super::compile::CompiledWorld;
use crate::error::{Error, Result};

/// Bytes the paper's formula predicts for one row of the batch (fp32):
/// `2·n·T·Σ_p K1·K2 + 3·n·w·Σ_p K1·K2`, with `n` atoms and `w` the widest template's
/// groundings.
pub fn paper_formula(n: usize, width: usize, shapes: &[(usize, usize)], steps: usize) -> f64 {
    let pairs: f64 = shapes.iter().map(|&(a, b)| (a * b) as f64).sum();
    let (n, w) = (n as f64, width as f64);
    4.0 * (2.0 * n * steps as f64 * pairs + 3.0 * n * w * pairs)
}

/// [`paper_formula`] on a compiled world.
#[cfg(feature = "torch")]
pub fn paper_estimate(world: &CompiledWorld, shapes: &[(usize, usize)], steps: usize) -> f64 {
    let w = world
        .preds
        .iter()
        .flat_map(|p| p.templates.iter().flatten())
        .map(|t| t.width())
        .max()
        .unwrap_or(1);
    paper_formula(world.n, w, shapes, steps)
}

/// Bytes this implementation keeps for backward over `steps` steps and `batch` rows: per step,
/// the two gathers and the t-norm of each template (`K·n_p·w`), the clause values, and one chunk
/// of pair maxima per predicate (`K1·K2·n_p`).
#[cfg(feature = "torch")]
pub fn our_estimate(world: &CompiledWorld, batch: usize, steps: usize) -> f64 {
    let mut per_step = world.n as f64 * 3.0;
    for p in &world.preds {
        let n_p = p.range.len() as f64;
        let mut ks = [0.0; 2];
        for (i, t) in p.templates.iter().enumerate() {
            if let Some(t) = t {
                let grid = (t.k * t.n_head() * t.width()) as f64;
                per_step += 3.0 * grid
                    + (t.k * t.n_head()) as f64
                    + (t.patterns.len() * t.n_head() * t.width()) as f64;
                ks[i] = t.k as f64;
            }
        }
        if ks[1] > 0.0 {
            per_step += ks[0] * ks[1] * n_p;
        }
    }
    4.0 * per_step * steps as f64 * batch as f64
}

/// Memory that may be used when no limit is given: the default [`MemoryBudget`], the one every
/// command checks its size estimate against.
pub fn limit_bytes() -> f64 {
    crate::ilp::MemoryBudget::default().bytes() as f64
}

/// Refuses a run whose estimate exceeds the limit, with the estimate in the message.
pub fn check_fits(what: &str, needed: f64, limit: f64) -> Result<()> {
    if needed > limit {
        return Err(Error::Memory {
            what: what.to_string(),
            needed_mib: needed / 1048576.0,
            limit_mib: limit / 1048576.0,
            hint: "use fewer seeds, fewer steps T, fewer constants or smaller rule templates \
                   (or raise --max-memory)"
                .into(),
        });
    }
    Ok(())
}

/// Peak resident memory of this process so far (VmHWM), in bytes.
pub fn peak_rss_bytes() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024.0)
}
