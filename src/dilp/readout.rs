//! Reading a Datalog program out of learned weights: every clause whose marginal probability
//! exceeds a threshold (0.1, the paper's), plus the most probable pair of each predicate.

use crate::ilp::ClauseSet;
use crate::logic::Clause;
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

fn to_vec(t: &Tensor) -> Vec<f64> {
    let t = t
        .to_kind(tch::Kind::Double)
        .to_device(tch::Device::Cpu)
        .reshape([-1]);
    Vec::<f64>::try_from(&t).unwrap_or_default()
}

/// Reads row `row` of `probs` (per predicate `[S, K1, K2]`, already softmaxed).
pub fn read_out(
    clause_sets: &[ClauseSet],
    probs: &[Tensor],
    row: usize,
    threshold: f64,
) -> ReadOut {
    let mut out = ReadOut::default();
    for (cs, p) in clause_sets.iter().zip(probs) {
        let (_, k1, k2) = p.size3().expect("[S, K1, K2]");
        let (k1, k2) = (k1 as usize, k2 as usize);
        let m = to_vec(&p.get(row as i64));
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
