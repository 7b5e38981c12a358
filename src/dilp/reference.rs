//! A straightforward implementation of the paper's equations, kept as the yardstick the fast
//! path is tested against: per clause, the dense `X_c` of shape `n × w × 2` over every atom,
//! `F_c = max_w gather(a, X1) · gather(a, X2)`, every pair `(j, k)` formed explicitly, product
//! t-norm and probabilistic sum. Slow on purpose; never used for training.

use super::compile::CompiledTask;
use crate::ilp::{self, ClauseSet, GroundIndex};
use crate::logic::Clause;
use tch::{Device, Tensor};

fn f_c(clause: &Clause, index: &GroundIndex, a: &Tensor) -> Tensor {
    let n = index.len();
    let pairs = ilp::index_pairs(clause, index);
    let dense = pairs.dense(n);
    let x1: Vec<i64> = dense.iter().map(|p| p[0] as i64).collect();
    let x2: Vec<i64> = dense.iter().map(|p| p[1] as i64).collect();
    let w = pairs.width as i64;
    let y1 = a
        .index_select(1, &Tensor::from_slice(&x1))
        .view([-1, n as i64, w]);
    let y2 = a
        .index_select(1, &Tensor::from_slice(&x2))
        .view([-1, n as i64, w]);
    (y1 * y2).amax([-1], false)
}

/// `a_T` (`[B, n]`) for train world `world` of `task` after `steps` steps, with pair
/// distributions `probs` (`[B, K1, K2]` per predicate, `K2 = 1` for an absent template). CPU only.
pub fn reference_infer(
    task: &CompiledTask,
    world: usize,
    probs: &[Tensor],
    steps: usize,
) -> Tensor {
    let w = &task.train[world];
    let index = &w.index;
    let b = probs[0].size()[0];
    let mut a = w.init.to_device(Device::Cpu).unsqueeze(0).repeat([b, 1]);
    let sets: &[ClauseSet] = &task.clause_sets;
    for _ in 0..steps {
        let mut s = a.zeros_like();
        for (cs, p) in sets.iter().zip(probs) {
            let f1: Vec<Tensor> = cs.templates[0].iter().map(|c| f_c(c, index, &a)).collect();
            let f2: Vec<Tensor> = if cs.templates[1].is_empty() {
                vec![a.zeros_like()]
            } else {
                cs.templates[1].iter().map(|c| f_c(c, index, &a)).collect()
            };
            for (j, fj) in f1.iter().enumerate() {
                for (k, fk) in f2.iter().enumerate() {
                    let weight = p.select(1, j as i64).select(1, k as i64).unsqueeze(1);
                    s += weight * fj.maximum(fk);
                }
            }
        }
        a = &a + &s - &a * &s;
    }
    a
}
