//! Joint training (`--vision joint`): the rule and the digits learned together from the pair
//! labels alone. No digit label, no symbolic table of digit tuples, no pretrained conv-net.
//!
//! 1. Clusters: a conv-net from random weights and a free relation table `R` (10×10 logits for
//!    two images, 10 for one) train together, `P(y) = Σ_ab p₁(a) p₂(b) σ(R_ab)`, by BCE on the
//!    labels plus the label-free balance term. The table has no rule template and so none of
//!    its local minima; the classes it learns are the distinctions the labels draw, named
//!    arbitrarily. True pairs weigh the training pairs' false/true ratio, so that a sparse task
//!    (successor: 9 true digit pairs of 100) is not settled by answering false.
//!    When the abduction from the clusters gets too many training pairs wrong, stage 1 starts
//!    again from a fresh conv-net and table, now with the label-free clustering term, and the
//!    attempt that the abduction fits best goes on (a training-label criterion only).
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
use crate::error::{Error, Result};
use crate::logic::Clause;
use crate::neuro::abduce::{abduce, Abduction};
use crate::neuro::{Perception, VisionMode};
use crate::train::{mean_loss, train_pairs, CurvePoint, TestSets, TrainConfig};
use crate::vision::{Pair, PairSplit};
use serde::{Deserialize, Serialize};
use tch::nn;

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
    /// Weight stage 1's true-labelled pairs by the training pairs' false/true ratio, so that a
    /// task with few true pairs (successor: 9 of 100 digit pairs) is not settled by answering
    /// false everywhere. Default true.
    pub balance_labels: bool,
    /// Fresh starts of stage 1 (new conv-net and table) tried after the first when the
    /// abduction from its clusters gets more than `restart_error` of the training pairs
    /// wrong; the attempt with the fewest such errors is kept. Default 2.
    pub restarts: usize,
    /// Share of training pairs the abduced program may get wrong before stage 1 restarts.
    /// Default 0.05.
    pub restart_error: f64,
    /// Weight of the label-free clustering term (see `TrainConfig::cluster_weight`) in stage 1
    /// of the restarted attempts (the first attempt has `dilp.cluster_weight`, 0 by default).
    /// A task whose labels say nothing about one image alone (equal: every digit is on the
    /// left of a true pair as often as any other) gives the free table and the conv-net no
    /// first signal to grow from; asking for confident classes gives one. Default 0.1.
    pub restart_cluster_weight: f64,
}

impl Default for JointConfig {
    fn default() -> Self {
        JointConfig {
            cluster_steps: 900,
            table_lr: 0.05,
            sharpness: 6.0,
            rounds: 4,
            balance_labels: true,
            restarts: 2,
            restart_error: 0.05,
            restart_cluster_weight: 0.1,
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
            && self.sharpness > 0.0
            && (0.0..=1.0).contains(&self.restart_error)
            && self.restart_cluster_weight.is_finite()
            && self.restart_cluster_weight >= 0.0;
        if !ok {
            return Err(Error::Config(
                "run settings: joint.cluster_steps and joint.rounds must be at least 1, \
                 joint.table_lr and joint.sharpness positive, joint.restart_error in [0, 1], \
                 joint.restart_cluster_weight non-negative"
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
    /// Stage-1 attempts made (see `joint.restarts`).
    pub(super) attempts: usize,
}

/// One abduction, as `joint.json` records it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct AbductionNote {
    /// After stage 1 (`clusters`) or stage 3 (`final`).
    pub(super) after: &'static str,
    /// The stage-1 attempt (0 for the first; see `joint.restarts`).
    pub(super) attempt: u64,
    /// `pi[cluster]`: the constant the cluster was named.
    pub(super) pi: [usize; 10],
    pub(super) program: String,
    /// Training pairs the program, under the naming, gets wrong.
    pub(super) errors: u64,
    /// Seconds since the start of joint training.
    pub(super) seconds: f64,
}

/// Stage 1 and the abduction from its clusters: one attempt.
struct Clustered {
    vs: nn::VarStore,
    perception: Perception,
    curve: Vec<CurvePoint>,
    /// None when no naming lets a program of the template explain the clusters' labels.
    abduction: Option<Abduction>,
}

impl Clustered {
    /// Training pairs the attempt's abduction gets wrong (all of them without one).
    fn errors(&self, train: usize) -> u64 {
        self.abduction.as_ref().map_or(train as u64, |a| a.errors)
    }
}

/// Stage 1 from a fresh conv-net and table (attempt 0 from the run's seed, later ones from
/// seeds derived from it and with the clustering term), then the abduction.
fn cluster(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
    attempt: u64,
) -> Result<Clustered> {
    tch::manual_seed(cfg.seed.wrapping_mul(1000).wrapping_add(attempt) as i64);
    let images = ctx.task.arity();
    let vs = nn::VarStore::new(ctx.device);
    let init = nn::Init::Randn {
        mean: 0.0,
        stdev: 0.1,
    };
    let free = TableModel::new(vs.root().var("table", &vec![10i64; images], init), images);
    let perception = ctx.perception(VisionMode::Joint, &(vs.root().set_group(1) / "convnet"))?;
    let trues = split.train.iter().filter(|p| p.label).count();
    let falses = split.train.len() - trues;
    let pos_weight = if cfg.joint.balance_labels && trues > 0 && falses > 0 {
        falses as f64 / trues as f64
    } else {
        1.0
    };
    let stage1 = TrainConfig {
        steps: cfg.joint.cluster_steps,
        lr: cfg.joint.table_lr,
        seed: cfg.dilp.seed.wrapping_add(104_729 * attempt),
        pos_weight,
        cluster_weight: if attempt == 0 {
            cfg.dilp.cluster_weight
        } else {
            cfg.joint.restart_cluster_weight
        },
        ..cfg.dilp.clone()
    };
    let curve = stage(&free, &perception, &vs, split, test, &stage1, "clusters", 0)?;
    let abduction = match abduce_from(ctx, cfg, &perception, &split.train, &[]) {
        Ok(a) => Some(a),
        Err(Error::Solver(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Clustered {
        vs,
        perception,
        curve,
        abduction,
    })
}

/// Runs the three stages (see the module documentation). Stage 1 restarts (at most
/// `joint.restarts` times) while its abduction gets more than `joint.restart_error` of the
/// training pairs wrong; the attempt with the fewest errors goes on.
pub(super) fn train_joint(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
) -> Result<Joint> {
    let start = std::time::Instant::now();
    let vocab = ctx.task.task.vocab.clone();
    let note = |after, attempt, a: &Abduction| AbductionNote {
        after,
        attempt,
        pi: a.pi,
        program: crate::ilp::program_text(&vocab, &a.program),
        errors: a.errors,
        seconds: start.elapsed().as_secs_f64(),
    };
    let images = ctx.task.arity();
    let n = split.train.len();
    let mut notes = vec![];
    let (mut best, mut kept, mut attempts): (Option<Clustered>, u64, usize) = (None, 0, 0);
    for attempt in 0..=cfg.joint.restarts as u64 {
        attempts += 1;
        let c = cluster(ctx, cfg, split, test, attempt)?;
        if let Some(a) = &c.abduction {
            notes.push(note("clusters", attempt, a));
        }
        let errors = c.errors(n);
        if best.as_ref().is_none_or(|b| errors < b.errors(n)) {
            (best, kept) = (Some(c), attempt);
        }
        if errors as f64 <= cfg.joint.restart_error * n as f64 {
            break;
        }
    }
    let Some(Clustered {
        vs,
        perception,
        mut curve,
        abduction: Some(a),
    }) = best
    else {
        return Err(Error::Solver(format!(
            "{}: no naming of the clusters of any of {} stage-1 attempts lets a program of the \
             template explain the labels",
            ctx.task.task.file,
            cfg.joint.restarts + 1
        )));
    };
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

    // The final reading may support a program (or naming) that explains more pairs. Its
    // outputs are already named, so the naming as it stands is one more start (a sparse task's
    // built-in starts may all miss).
    let identity: [usize; 10] = std::array::from_fn(|i| i);
    let last = abduce_from(ctx, cfg, &perception, &split.train, &[identity])?;
    notes.push(note("final", kept, &last));
    rename(&perception, &last.pi)?;
    let model = crisp(&last)?;
    let train = super::dilp::loss_pairs(split);
    Ok(Joint {
        loss: mean_loss(&model, &perception, train)?,
        vs,
        model,
        perception,
        program: last.program,
        curve,
        notes,
        attempts,
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
    also: &[[usize; 10]],
) -> Result<Abduction> {
    let counts = super::reported::read_counts(ctx.task.arity(), perception, train)?;
    abduce(&ctx.task.task, &counts, cfg.joint.rounds, also)
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
