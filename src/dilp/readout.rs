//! Reading a Datalog program out of learned weights: every clause whose marginal probability
//! exceeds a threshold (0.1, the paper's), plus the most probable pair of each predicate.

#[cfg(feature = "torch")]
use crate::error::{shape, torch_err, Result};
use crate::ilp::ClauseSet;
use crate::logic::Clause;
#[cfg(feature = "torch")]
use tch::Tensor;

/// A clause kept by the read-out, with its marginal probability.
#[derive(Debug, Clone)]
pub struct ReadClause {
    pub clause: Clause,
    pub prob: f64,
}

/// The program read from one batch row of the weights.
#[derive(Debug, Clone, Default)]
pub struct ReadOut {
    pub clauses: Vec<ReadClause>,
    /// Entropy (nats) of each predicate's clause-pair distribution.
    pub entropy: Vec<f64>,
}

impl ReadOut {
    pub fn rules(&self) -> Vec<Clause> {
        self.clauses.iter().map(|c| c.clause.clone()).collect()
    }
}

/// Reads row `row` of `probs` (per predicate `[S, K1, K2]`, already softmaxed).
#[cfg(feature = "torch")]
pub fn read_out(
    clause_sets: &[ClauseSet],
    probs: &[Tensor],
    row: usize,
    threshold: f64,
) -> Result<ReadOut> {
    let one: Vec<Vec<f32>> = probs
        .iter()
        .map(|p| {
            p.f_get(row as i64)
                .and_then(|r| super::weights::to_vec::<f32>(&r))
                .map_err(torch_err(|| {
                    format!(
                        "reading row {row} of clause-pair probabilities {}",
                        shape(p)
                    )
                }))
        })
        .collect::<Result<_>>()?;
    Ok(read_out_seed(clause_sets, &one, threshold))
}

/// Reads one seed's program from its pair distributions `probs` (per predicate, `K1 × K2`
/// row-major, already softmaxed).
pub fn read_out_seed(clause_sets: &[ClauseSet], probs: &[Vec<f32>], threshold: f64) -> ReadOut {
    let mut out = ReadOut::default();
    for (cs, p) in clause_sets.iter().zip(probs) {
        let (k1, k2) = (cs.templates[0].len(), cs.templates[1].len().max(1));
        // A distribution shorter than its matrix (never made here) reads as zeros past its end.
        let mut m: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
        m.resize(m.len().max(k1 * k2), 0.0);
        let entropy = -m
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|&x| x * x.ln())
            .sum::<f64>();
        out.entropy.push(entropy);
        let best = (0..m.len())
            .max_by(|&a, &b| m[a].total_cmp(&m[b]))
            .unwrap_or(0);
        let (bj, bk) = (best / k2, best % k2);
        let mut keep = |clause: &Clause, prob: f64, forced: bool| {
            if (prob > threshold || forced) && !out.clauses.iter().any(|c| &c.clause == clause) {
                out.clauses.push(ReadClause {
                    clause: clause.clone(),
                    prob,
                });
            }
        };
        for j in 0..k1 {
            let prob: f64 = (0..k2).map(|k| m[j * k2 + k]).sum();
            keep(&cs.templates[0][j], prob, j == bj);
        }
        if !cs.templates[1].is_empty() {
            for k in 0..k2 {
                let prob: f64 = (0..k1).map(|j| m[j * k2 + k]).sum();
                keep(&cs.templates[1][k], prob, k == bk);
            }
        }
    }
    out
}
