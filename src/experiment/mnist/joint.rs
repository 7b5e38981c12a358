//! Joint training (`--vision joint`): the rule and the digits learned together from the pair
//! labels alone. No digit label, no symbolic table of digit tuples, no pretrained conv-net.
//!
//! 1. Clusters: a conv-net from random weights and a free relation table `R` (10×10 logits for
//!    two images, 10 for one) train together, `P(y) = Σ_ab p₁(a) p₂(b) σ(R_ab)`, by BCE on the
//!    labels plus the label-free balance term. The table has no rule template and so none of
//!    its local minima; the classes it learns are the distinctions the labels draw, named
//!    arbitrarily.
//! 2. Abduction ([`crate::neuro::abduce`]): from the label counts of the training pairs' cluster
//!    tuples, a naming π of the clusters by the task's constants and a program P of the
//!    template (SAT, fewest errors), alternated to a fixed point.
//! 3. Perception through the rule: the conv-net's output layer is renamed by π, and the
//!    conv-net trains on through P's crisp table (the engine's model of P on every digit tuple,
//!    as logits ±`sharpness`). A last abduction on the final reading gives the reported
//!    program (and renames the outputs again if a better naming appears).
//!
//! Everything is chosen on training pairs; the test pairs only feed the curves and the report.

use super::curves::CurveLog;
use super::table::TableModel;
use super::{Context, MnistRunConfig};
use crate::error::{shape, torch_err, Error, Result};
use crate::logic::Clause;
use crate::neuro::abduce::{abduce, Abduction, TupleCounts};
use crate::neuro::perception::Split;
use crate::neuro::{Perception, VisionMode};
use crate::train::{mean_loss, train_pairs, CurvePoint, TestSets, TrainConfig};
use crate::vision::{Pair, PairSplit};
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Settings of joint training (serde; documented defaults). Stage 3 runs `dilp.steps` steps
/// (with `dilp`'s batch size, rates and balance weight), stage 1 `cluster_steps`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JointConfig {
    /// Steps of stage 1 (conv-net and free table). Default 900.
    pub cluster_steps: usize,
    /// Adam learning rate of the free table in stage 1. Default 0.05.
    pub table_lr: f64,
    /// |logit| of the abduced program's crisp table in stage 3: σ(6) ≈ 0.998. Default 6.
    pub sharpness: f64,
    /// Alternations of program and naming per start of the abduction. Default 4.
    pub rounds: usize,
}

impl Default for JointConfig {
    fn default() -> Self {
        JointConfig {
            cluster_steps: 900,
            table_lr: 0.05,
            sharpness: 6.0,
            rounds: 4,
        }
    }
}

impl JointConfig {
    /// Rejects settings a run cannot use.
    pub fn validate(&self) -> Result<()> {
        let ok = self.cluster_steps > 0
            && self.rounds > 0
            && self.table_lr.is_finite()
            && self.table_lr > 0.0
            && self.sharpness.is_finite()
            && self.sharpness > 0.0;
        if !ok {
            return Err(Error::Config(
                "run settings: joint.cluster_steps and joint.rounds must be at least 1, \
                 joint.table_lr and joint.sharpness positive"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A trained joint run.
pub(super) struct Joint {
    /// Mean training BCE through the final program (first 4,000 training pairs).
    pub(super) loss: f64,
    pub(super) vs: nn::VarStore,
    pub(super) model: TableModel,
    pub(super) perception: Perception,
    pub(super) program: Vec<Clause>,
    pub(super) curve: Vec<CurvePoint>,
    /// What each abduction found, for `joint.json`.
    pub(super) notes: Vec<AbductionNote>,
}

/// One abduction, as `joint.json` records it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct AbductionNote {
    /// After stage 1 (`clusters`) or stage 3 (`final`).
    pub(super) after: &'static str,
    /// `pi[cluster]`: the constant the cluster was named.
    pub(super) pi: [usize; 10],
    pub(super) program: String,
    /// Training pairs the program, under the naming, gets wrong.
    pub(super) errors: u64,
    /// Seconds since the start of joint training.
    pub(super) seconds: f64,
}

/// Runs the three stages (see the module documentation).
pub(super) fn train_joint(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
) -> Result<Joint> {
    let start = std::time::Instant::now();
    let vocab = ctx.task.task.vocab.clone();
    let note = |after, a: &Abduction| AbductionNote {
        after,
        pi: a.pi,
        program: crate::ilp::program_text(&vocab, &a.program),
        errors: a.errors,
        seconds: start.elapsed().as_secs_f64(),
    };
    tch::manual_seed(cfg.seed.wrapping_mul(1000) as i64);
    let images = ctx.task.arity();
    let dims = vec![10i64; images];
    let vs = nn::VarStore::new(ctx.device);
    let init = nn::Init::Randn {
        mean: 0.0,
        stdev: 0.1,
    };
    let free = TableModel::new(vs.root().var("table", &dims, init), images);
    let perception = ctx.perception(VisionMode::Joint, &(vs.root().set_group(1) / "convnet"))?;
    let stage1 = TrainConfig {
        steps: cfg.joint.cluster_steps,
        lr: cfg.joint.table_lr,
        ..cfg.dilp.clone()
    };
    let mut curve = stage(&free, &perception, &vs, split, test, &stage1, "clusters", 0)?;

    let a = abduce_from(ctx, cfg, &perception, &split.train)?;
    let mut notes = vec![note("clusters", &a)];
    rename(&perception, &a.pi)?;
    let crisp =
        |a: &Abduction| TableModel::crisp(&a.table, images, cfg.joint.sharpness, ctx.device);
    let model = crisp(&a)?;
    let offset = cfg.joint.cluster_steps;
    let stage3 = TrainConfig {
        seed: cfg.dilp.seed.wrapping_add(7919),
        ..cfg.dilp.clone()
    };
    curve.extend(stage(
        &model,
        &perception,
        &vs,
        split,
        test,
        &stage3,
        "rule",
        offset,
    )?);

    // The final reading may support a program (or naming) that explains more pairs.
    let last = abduce_from(ctx, cfg, &perception, &split.train)?;
    notes.push(note("final", &last));
    rename(&perception, &last.pi)?;
    let model = crisp(&last)?;
    let train = &split.train[..split.train.len().min(4000)];
    Ok(Joint {
        loss: mean_loss(&model, &perception, train)?,
        vs,
        model,
        perception,
        program: last.program,
        curve,
        notes,
    })
}

/// One training stage, its curve's steps shifted by `offset`.
#[allow(clippy::too_many_arguments)]
fn stage(
    model: &TableModel,
    perception: &Perception,
    vs: &nn::VarStore,
    split: &PairSplit,
    test: &TestSets,
    cfg: &TrainConfig,
    what: &str,
    offset: usize,
) -> Result<Vec<CurvePoint>> {
    let bar = crate::report::progress::bar(&format!("joint {what}"), cfg.steps as u64);
    let mut log = CurveLog {
        bar: &bar,
        points: vec![],
    };
    train_pairs(model, perception, vs, &split.train, test, cfg, &mut log)?;
    bar.finish_and_clear();
    Ok(log
        .points
        .into_iter()
        .map(|p| CurvePoint {
            step: p.step + offset,
            ..p
        })
        .collect())
}

/// The abduction from the current reading of the training pairs' images.
fn abduce_from(
    ctx: &Context,
    cfg: &MnistRunConfig,
    perception: &Perception,
    train: &[Pair],
) -> Result<Abduction> {
    let mut items = Vec::with_capacity(train.len());
    for chunk in train.chunks(1000) {
        let read = |right: bool| -> Result<Vec<i64>> {
            let idx: Vec<i64> = chunk
                .iter()
                .map(|p| (if right { p.right } else { p.left }) as i64)
                .collect();
            let idx = Tensor::f_from_slice(&idx).map_err(torch_err(|| "image indices"))?;
            let logits = perception.logits(Split::Train, &idx, false)?;
            logits
                .f_argmax(-1, false)
                .and_then(|t| t.f_to_device(tch::Device::Cpu))
                .and_then(|t| Vec::<i64>::try_from(&t))
                .map_err(torch_err(|| format!("the clusters of {}", shape(&logits))))
        };
        let (l, r) = (read(false)?, read(true)?);
        for ((p, a), b) in chunk.iter().zip(l).zip(r) {
            items.push(([a as usize, b as usize], p.label));
        }
    }
    let counts = TupleCounts::of(ctx.task.arity(), items);
    abduce(&ctx.task.task, &counts, cfg.joint.rounds)
}

/// Renames the conv-net's outputs by `pi`.
fn rename(perception: &Perception, pi: &[usize; 10]) -> Result<()> {
    match perception {
        Perception::Live { net, .. } => net.permute_outputs(pi),
        Perception::Cached { .. } => Err(Error::Config(
            "joint training needs a conv-net that trains".into(),
        )),
    }
}
