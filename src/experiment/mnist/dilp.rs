//! The ∂ILP side of a run: attempts from fresh rule weights until one's training loss is low
//! enough against the best constant guess's, the attempt with the lowest training loss kept
//! (the paper's selection rule: training data only).

use super::curves::CurveLog;
use super::{Context, MnistRunConfig};
use crate::error::{shape, torch_err, Result};
use crate::neuro::{Perception, RuleModule};
use crate::train::{mean_loss, train_pairs, CurvePoint, PairModel, TestSets, TrainConfig};
use crate::vision::{Pair, PairSplit};
use tch::{nn, Tensor};

impl PairModel for RuleModule {
    fn name(&self) -> &str {
        "dilp"
    }
    fn images(&self) -> usize {
        RuleModule::images(self)
    }
    fn prob(&self, left: &Tensor, right: &Tensor) -> Tensor {
        self.forward(
            &left.softmax(-1, tch::Kind::Float),
            &right.softmax(-1, tch::Kind::Float),
        )
    }
    fn f_prob(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        let soft = |t: &Tensor| {
            t.f_softmax(-1, tch::Kind::Float).map_err(torch_err(|| {
                format!("softmax of digit logits {}", shape(t))
            }))
        };
        self.f_forward(&soft(left)?, &soft(right)?)
    }
}

/// One trained ∂ILP attempt: rule weights (group 0) and, when it trains, the conv-net
/// (group 1) in one VarStore.
pub(super) struct Attempt {
    /// Mean training BCE on (up to) the first 4,000 training pairs.
    pub(super) loss: f64,
    pub(super) vs: nn::VarStore,
    pub(super) rules: RuleModule,
    pub(super) perception: Perception,
    pub(super) curve: Vec<CurvePoint>,
}

/// Trains attempts until one's loss is at most `restart_loss_ratio` times the constant
/// guess's, or the restarts run out; returns the attempt with the lowest training loss and how
/// many were made. A run whose training loss stays high is stuck in a local minimum of the rule
/// weights, so it is restarted from a fresh initialisation.
pub(super) fn train_dilp(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
) -> Result<(Attempt, usize)> {
    let stuck_above = cfg.restart_loss_ratio * constant_guess_loss(loss_pairs(split));
    let mut best: Option<Attempt> = None;
    let mut attempts = 0;
    for attempt in 0..=cfg.restarts {
        attempts = attempt + 1;
        let a = train_attempt(ctx, cfg, split, test, attempt)?;
        let loss = a.loss;
        if best.as_ref().is_none_or(|b| loss < b.loss) {
            best = Some(a);
        }
        if loss <= stuck_above {
            break;
        }
    }
    Ok((best.expect("at least one attempt"), attempts))
}

/// The training pairs an attempt's loss is measured on: the first 4,000.
pub(super) fn loss_pairs(split: &PairSplit) -> &[Pair] {
    &split.train[..split.train.len().min(4000)]
}

/// Mean BCE of predicting the base rate `p` of `pairs`' labels for every pair: `H(p)` in nats.
fn constant_guess_loss(pairs: &[Pair]) -> f64 {
    let p = pairs.iter().filter(|q| q.label).count() as f64 / pairs.len().max(1) as f64;
    let h = |x: f64| if x > 0.0 { -x * x.ln() } else { 0.0 };
    h(p) + h(1.0 - p)
}

/// Attempt number `attempt` (0 first), seeded from the run's seed and the attempt.
fn train_attempt(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
    attempt: usize,
) -> Result<Attempt> {
    tch::manual_seed(cfg.seed.wrapping_mul(1000).wrapping_add(attempt as u64) as i64);
    let vs = nn::VarStore::new(ctx.device);
    let mut rules = RuleModule::from_task(&ctx.task, &(vs.root() / "rules"), ctx.device)?;
    rules.semantics = cfg.semantics;
    if cfg.symbolic_warmup > 0 {
        rules.fit_symbolic(&vs, &split.seen_rows, cfg.symbolic_warmup, cfg.symbolic_lr)?;
    }
    let perception = ctx.perception(cfg.vision, &(vs.root().set_group(1) / "convnet"))?;
    let label = if attempt == 0 {
        format!("dilp h={}", cfg.held_out)
    } else {
        format!("dilp h={} #{}", cfg.held_out, attempt + 1)
    };
    let bar = crate::report::progress::bar(&label, cfg.dilp.steps as u64);
    let mut log = CurveLog {
        bar: &bar,
        points: vec![],
    };
    let train_cfg = TrainConfig {
        seed: (cfg.dilp.seed).wrapping_add(7919u64.wrapping_mul(attempt as u64)),
        ..cfg.dilp.clone()
    };
    train_pairs(
        &rules,
        &perception,
        &vs,
        &split.train,
        test,
        &train_cfg,
        &mut log,
    )?;
    bar.finish_and_clear();
    let loss = mean_loss(&rules, &perception, loss_pairs(split))?;
    Ok(Attempt {
        loss,
        vs,
        rules,
        perception,
        curve: log.points,
    })
}
