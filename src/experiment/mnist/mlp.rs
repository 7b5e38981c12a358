//! The MLP baseline: trained by the same loop on the same image pairs as ∂ILP, with its own
//! conv-net copy when vision trains.

use super::curves::CurveLog;
use super::{save_vars, Context, MnistRunConfig};
use crate::error::Result;
use crate::train::{accuracy, train_pairs, CurvePoint, PairModel, TestSets, TrainOutcome};
use crate::vision::{Mlp, PairSplit};
use std::path::Path;
use tch::{nn, Tensor};

impl PairModel for Mlp {
    fn name(&self) -> &str {
        "mlp"
    }
    fn images(&self) -> usize {
        Mlp::images(self)
    }
    fn prob(&self, left: &Tensor, right: &Tensor) -> Tensor {
        self.f_prob_pair(left, right).unwrap_or_else(|_| {
            left.zeros_like()
                .sum_dim_intlist([1i64].as_slice(), false, tch::Kind::Float)
        })
    }
    fn f_prob(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        self.f_prob_pair(left, right)
    }
}

/// The trained MLP baseline's figures.
pub(super) struct MlpDone {
    pub(super) seen: f64,
    pub(super) held: f64,
    pub(super) outcome: TrainOutcome,
    pub(super) curve: Vec<CurvePoint>,
}

/// The MLP baseline: same pairs, same loop, its own conv-net copy when vision trains.
pub(super) fn train_mlp(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
    out: &Path,
) -> Result<MlpDone> {
    // Seeded from the run alone, so the baseline does not depend on what ran before it.
    tch::manual_seed(cfg.seed.wrapping_mul(1000).wrapping_add(999) as i64);
    let mvs = nn::VarStore::new(ctx.device);
    let mlp = Mlp::for_images(&(mvs.root() / "mlp"), &cfg.mlp_net, ctx.task.arity())?;
    let mperc = ctx.perception(cfg.vision, &(mvs.root().set_group(1) / "convnet"))?;
    let bar =
        crate::report::progress::bar(&format!("mlp h={}", cfg.held_out), cfg.mlp.steps as u64);
    let mut log = CurveLog {
        bar: &bar,
        points: vec![],
    };
    let outcome = train_pairs(&mlp, &mperc, &mvs, &split.train, test, &cfg.mlp, &mut log)?;
    bar.finish_and_clear();
    let seen = accuracy(&mlp, &mperc, &split.test_seen)?;
    let held = accuracy(&mlp, &mperc, &split.test_heldout)?;
    save_vars(&mvs, &out.join("mlp.ot"))?;
    Ok(MlpDone {
        seen,
        held,
        outcome,
        curve: log.points,
    })
}
