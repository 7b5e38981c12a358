//! The MNIST study of one neuro-symbolic task (less-than unless the context is given another
//! task file): pretrained (or scratch) conv-net → image atoms → ∂ILP, beside the MLP baseline,
//! trained by the same loop on the same items, scored on test items of seen and of held-out
//! digit tuples; the learned program checked by the engine on every digit tuple (10 or 100).

use crate::error::{Error, Result};
use crate::ilp::{check_program, drop_idle_clauses, program_text};
use crate::neuro::perception::logits_of;
use crate::neuro::taskfile::{self, NeuroTask};
use crate::neuro::{ImageSemantics, Perception, RuleModule, VisionMode};
use crate::report::csv_rows::{write_csv, Fixed};
use crate::report::files::{write_atomic, write_json, write_via};
use crate::report::plot;
use crate::train::{
    accuracy, mean_loss, train_pairs, CurvePoint, PairModel, TestSets, TrainConfig, TrainObserver,
    TrainOutcome,
};
use crate::vision::{self, ConvNet, Mlp, MlpConfig, Mnist, PairSpec, PairSplit, PretrainConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, Device, Tensor};

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
}

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
}

/// One run's settings (serde; documented defaults).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MnistRunConfig {
    /// Proportion of the task's digit tuples (100 pairs, or 10 digits) held out. Default 0.7.
    pub held_out: f64,
    /// Seeds the split, the initialisation and the batches. Default 0.
    pub seed: u64,
    pub vision: VisionMode,
    /// How the digit distributions enter the rules (default `fuzzy`, the paper's).
    pub semantics: ImageSemantics,
    /// Training image pairs. Default 20,000.
    pub pairs: usize,
    /// Test image pairs per split. Default 2,000.
    pub test_pairs: usize,
    /// The ∂ILP module's training.
    pub dilp: TrainConfig,
    /// The MLP's training.
    pub mlp: TrainConfig,
    pub mlp_net: MlpConfig,
    /// Fresh initialisations of the rule weights tried after the first when its training loss
    /// ends above `restart_loss`. Default 3.
    pub restarts: usize,
    /// Mean training BCE above which a ∂ILP attempt counts as stuck. Default 0.2 (solved runs
    /// end near 0.05; stuck ones near 0.5).
    pub restart_loss: f64,
    /// Steps of symbolic warm-up (default 0, off): before any image is seen, each ∂ILP attempt
    /// first learns its rules from the symbolic task alone, the worlds `image1(a). image2(b).`
    /// of the training digit tuples labelled by the task (held-out tuples excluded), and only then
    /// trains jointly with the perception. A curriculum: the concept first, then the reading
    /// of digits through it.
    pub symbolic_warmup: usize,
    /// Adam learning rate of the symbolic warm-up. Default 0.05.
    pub symbolic_lr: f64,
}

impl Default for MnistRunConfig {
    fn default() -> Self {
        MnistRunConfig {
            held_out: 0.7,
            seed: 0,
            vision: VisionMode::Frozen,
            semantics: ImageSemantics::Fuzzy,
            pairs: 20_000,
            test_pairs: 2_000,
            dilp: TrainConfig::default(),
            mlp: TrainConfig {
                steps: 1500,
                lr: 3e-3,
                ..TrainConfig::default()
            },
            mlp_net: MlpConfig::default(),
            restarts: 3,
            restart_loss: 0.2,
            symbolic_warmup: 0,
            symbolic_lr: 0.05,
        }
    }
}

impl MnistRunConfig {
    /// Rejects settings a run cannot use (a hand-written config file may hold any number).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Config(format!("run settings: {what}")));
        if !(0.0..1.0).contains(&self.held_out) {
            return bad(&format!("held_out = {} is not in [0, 1)", self.held_out));
        }
        if self.pairs == 0 || self.test_pairs == 0 {
            return bad("pairs and test_pairs must be at least 1");
        }
        for (name, t) in [("dilp", &self.dilp), ("mlp", &self.mlp)] {
            if t.steps == 0 || t.batch_size == 0 || t.eval_every == 0 || t.eval_pairs == 0 {
                return bad(&format!(
                    "{name}.steps, batch_size, eval_every and eval_pairs must be at least 1"
                ));
            }
            let positive = |x: f64| x.is_finite() && x > 0.0;
            let weight = |x: f64| x.is_finite() && x >= 0.0;
            if !positive(t.lr) || !positive(t.vision_lr) {
                return bad(&format!("{name}.lr and {name}.vision_lr must be positive"));
            }
            if !weight(t.cluster_weight) || !weight(t.balance_weight) {
                return bad(&format!(
                    "{name}.cluster_weight and balance_weight must be non-negative"
                ));
            }
        }
        if !(self.symbolic_lr.is_finite() && self.symbolic_lr > 0.0) {
            return bad("symbolic_lr must be positive");
        }
        if !(self.restart_loss.is_finite() && self.restart_loss >= 0.0) {
            return bad("restart_loss must be non-negative");
        }
        Ok(())
    }
}

/// One run's figures. Accuracies are on MNIST test-image pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MnistRunReport {
    /// The task's name (`mnist_less_than`).
    #[serde(default)]
    pub task: String,
    pub held_out: f64,
    pub seed: u64,
    pub vision: VisionMode,
    pub dilp_seen_acc: f64,
    pub dilp_heldout_acc: f64,
    pub mlp_seen_acc: f64,
    pub mlp_heldout_acc: f64,
    pub program: String,
    /// Digit tuples (of `tuples`) on which the engine's model of the program gives the right
    /// label.
    pub engine_pairs_correct: usize,
    /// The task's digit tuples: 100 (two images) or 10 (one).
    #[serde(default = "hundred")]
    pub tuples: usize,
    /// Digit accuracy of the conv-net after training (raw, and under the reversal d ↦ 9 − d).
    pub digit_acc: Option<f64>,
    pub digit_acc_reversed: Option<f64>,
    /// Under the best one-to-one matching of the conv-net's outputs to digits.
    pub digit_acc_matched: Option<f64>,
    /// `digit_confusion[d][k]`: test images of digit `d` that the conv-net read as `k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit_confusion: Option<Vec<Vec<usize>>>,
    /// ∂ILP attempts made (see `restarts`) and the kept attempt's training loss.
    pub dilp_attempts: usize,
    pub dilp_train_loss: f64,
    pub dilp_seconds: f64,
    pub mlp_seconds: f64,
    pub seconds: f64,
}

fn hundred() -> usize {
    100
}

/// MNIST, the pretrained conv-net and (for frozen runs) its cached logits, shared by every run,
/// and the task the runs learn (less-than unless [`Context::set_task`] says otherwise).
pub struct Context {
    pub task: NeuroTask,
    pub mnist: Mnist,
    _vs: nn::VarStore,
    pub net: ConvNet,
    pub net_accuracy: Option<f64>,
    pub cached: Option<(Tensor, Tensor)>,
    pub device: Device,
}

/// Loads MNIST and the conv-net (pretraining it when there is no valid checkpoint).
pub fn prepare(
    data_dir: &Path,
    model_dir: &Path,
    device: Device,
    force_pretrain: bool,
) -> Result<Context> {
    let mnist = Mnist::load(data_dir)?;
    let vs = nn::VarStore::new(device);
    if force_pretrain {
        for p in [
            vision::checkpoint::paths(model_dir).0,
            vision::checkpoint::paths(model_dir).1,
        ] {
            let _ = std::fs::remove_file(p);
        }
    }
    let cfg = PretrainConfig::default();
    let bar = crate::report::progress::bar("pretrain", 1);
    let loaded = vision::load_or_pretrain(&vs.root(), model_dir, &cfg, &mnist, &mut |p| {
        bar.set_length(p.total_steps as u64);
        bar.set_position(p.step as u64);
        bar.set_message(format!("epoch {}/{} loss {:.4}", p.epoch, p.epochs, p.loss));
    })?;
    bar.finish_and_clear();
    Ok(Context {
        task: taskfile::less_than()?,
        net_accuracy: loaded.meta.test_accuracy,
        mnist,
        _vs: vs,
        net: loaded.net,
        cached: None,
        device,
    })
}

impl Context {
    /// A context from data and a conv-net already at hand (`vs` owns the net's variables).
    pub fn from_parts(
        mnist: Mnist,
        vs: nn::VarStore,
        net: ConvNet,
        net_accuracy: Option<f64>,
        device: Device,
    ) -> Self {
        Context {
            task: taskfile::less_than().expect("the shipped less-than task parses"),
            mnist,
            _vs: vs,
            net,
            net_accuracy,
            cached: None,
            device,
        }
    }

    /// The task every later run learns (see [`taskfile::load_checked`]).
    pub fn set_task(&mut self, task: NeuroTask) {
        self.task = task;
    }

    /// Logits of every training and test image under the frozen conv-net (computed once).
    pub fn cache_logits(&mut self) -> Result<()> {
        if self.cached.is_none() {
            let tr = logits_of(&self.net, &self.mnist.train_images, self.device)?;
            let te = logits_of(&self.net, &self.mnist.test_images, self.device)?;
            self.cached = Some((tr, te));
        }
        Ok(())
    }

    fn perception(&mut self, mode: VisionMode, path: &nn::Path) -> Result<Perception> {
        match mode {
            VisionMode::Frozen => {
                self.cache_logits()?;
                let (tr, te) = self.cached.as_ref().expect("cached above");
                Ok(Perception::Cached {
                    train: tr.shallow_clone(),
                    test: te.shallow_clone(),
                })
            }
            VisionMode::Finetune | VisionMode::Scratch => {
                let net = ConvNet::new(path, self.net.config())?;
                if mode == VisionMode::Finetune {
                    net.copy_from(&self.net)?;
                }
                Ok(Perception::Live {
                    net,
                    train: self.mnist.train_images.shallow_clone(),
                    test: self.mnist.test_images.shallow_clone(),
                })
            }
        }
    }
}

struct CurveLog<'a> {
    bar: &'a indicatif::ProgressBar,
    points: Vec<CurvePoint>,
}
impl TrainObserver for CurveLog<'_> {
    fn on_step(&mut self, step: usize, loss: f64) {
        self.bar.set_position(step as u64);
        if step.is_multiple_of(10) {
            self.bar.set_message(format!("loss {loss:.4}"));
        }
    }
    fn on_eval(&mut self, p: &CurvePoint) {
        // Without a terminal the bar is invisible: a log line per evaluation instead, so that
        // a long run written to a file can be followed.
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!(
                "{} step {}: loss {:.4}, seen pairs {:.3}, held-out pairs {:.3}{}",
                self.bar.prefix(),
                p.step,
                p.loss,
                p.seen_acc,
                p.heldout_acc,
                p.digit_acc
                    .map_or(String::new(), |d| format!(", digits (matched) {d:.3}"))
            );
        }
        self.points.push(p.clone());
    }
}

fn save_vars(vs: &nn::VarStore, path: &Path) -> Result<()> {
    write_via(path, |tmp| {
        vs.save(tmp).map_err(|e| Error::Torch(e.to_string()))
    })
}

/// One row of `curves.csv`: one evaluation of one model during training.
#[derive(Serialize)]
struct CurveCsv {
    model: &'static str,
    step: usize,
    loss: Fixed<6>,
    seen_acc: Fixed<4>,
    heldout_acc: Fixed<4>,
    digit_acc: Option<Fixed<4>>,
}

impl CurveCsv {
    fn new(model: &'static str, p: &CurvePoint) -> Self {
        CurveCsv {
            model,
            step: p.step,
            loss: Fixed(p.loss),
            seen_acc: Fixed(p.seen_acc),
            heldout_acc: Fixed(p.heldout_acc),
            digit_acc: p.digit_acc.map(Fixed),
        }
    }
}

/// A training reading of digits on the test images: accuracy raw, under d ↦ 9 − d and under
/// the best matching, and the confusion matrix (all None when the conv-net is frozen).
#[allow(clippy::type_complexity)]
fn digit_accuracy(
    p: &Perception,
    mnist: &Mnist,
) -> Result<(
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<Vec<Vec<usize>>>,
)> {
    let Some(pred) = p.digit_predictions(mnist.test_digits.len())? else {
        return Ok((None, None, None, None));
    };
    let pred: Vec<i64> =
        Vec::try_from(&pred).map_err(|e: tch::TchError| Error::Torch(e.to_string()))?;
    let n = pred.len().max(1) as f64;
    let mut confusion = vec![vec![0usize; 10]; 10];
    for (&k, &d) in pred.iter().zip(&mnist.test_digits) {
        if (0..10).contains(&k) && d < 10 {
            confusion[d as usize][k as usize] += 1;
        }
    }
    let raw: usize = (0..10).map(|d| confusion[d][d]).sum();
    let rev: usize = (0..10).map(|d| confusion[d][9 - d]).sum();
    let (matched, _) = crate::vision::matching::matched_accuracy(&pred, &mnist.test_digits);
    Ok((
        Some(raw as f64 / n),
        Some(rev as f64 / n),
        Some(matched),
        Some(confusion),
    ))
}

/// Trains and scores ∂ILP and the MLP for one configuration; writes everything under `out`.
pub fn run_one(ctx: &mut Context, cfg: &MnistRunConfig, out: &Path) -> Result<MnistRunReport> {
    cfg.validate()?;
    let start = Instant::now();
    write_json(&out.join("config.json"), cfg)?;
    let spec = PairSpec {
        seed: cfg.seed,
        held_out: cfg.held_out,
        n_train: cfg.pairs,
        n_test: cfg.test_pairs,
    };
    let split = PairSplit::build_for(
        &spec,
        &ctx.task.labels,
        &ctx.mnist.train_digits,
        &ctx.mnist.test_digits,
    )?;
    // The first 1,000 test images: enough to follow a training conv-net's digit accuracy.
    let n_probe = ctx.mnist.test_digits.len().min(1000);
    let probe_digits = ctx.mnist.test_digits[..n_probe].to_vec();
    let test = TestSets {
        seen: &split.test_seen,
        heldout: &split.test_heldout,
        probe: Some(&probe_digits),
    };
    tch::manual_seed(cfg.seed as i64);

    // ∂ILP: rule weights (group 0) and, when it trains, the conv-net (group 1) in one VarStore.
    // A run whose training loss stays high is stuck in a local minimum of the rule weights:
    // it is restarted from a fresh initialisation, and the attempt with the lowest training
    // loss is kept (the paper's selection rule: training data only).
    let dilp_start = Instant::now();
    let mut best: Option<(
        f64,
        nn::VarStore,
        RuleModule,
        Perception,
        TrainOutcome,
        Vec<CurvePoint>,
    )> = None;
    let mut attempts = 0;
    for attempt in 0..=cfg.restarts {
        attempts = attempt + 1;
        tch::manual_seed((cfg.seed * 1000 + attempt as u64) as i64);
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
            seed: cfg.dilp.seed + 7919 * attempt as u64,
            ..cfg.dilp.clone()
        };
        let out = train_pairs(
            &rules,
            &perception,
            &vs,
            &split.train,
            &test,
            &train_cfg,
            &mut log,
        )?;
        bar.finish_and_clear();
        let loss = mean_loss(
            &rules,
            &perception,
            &split.train[..split.train.len().min(4000)],
        )?;
        let better = best.as_ref().is_none_or(|b| loss < b.0);
        if better {
            best = Some((loss, vs, rules, perception, out, log.points));
        }
        if loss <= cfg.restart_loss {
            break;
        }
    }
    let (dilp_loss, vs, rules, perception, _outcome, curve) = best.expect("at least one attempt");
    let log = CurveLog {
        bar: &indicatif::ProgressBar::hidden(),
        points: curve,
    };
    let dilp_curve = log.points;
    let dilp_seen = accuracy(&rules, &perception, &split.test_seen)?;
    let dilp_held = accuracy(&rules, &perception, &split.test_heldout)?;
    let (digit_acc, digit_rev, digit_matched, digit_confusion) =
        digit_accuracy(&perception, &ctx.mnist)?;
    // The read-out's clauses that change no prediction on any digit tuple are not reported.
    let learned = drop_idle_clauses(&rules.task, &rules.read_out().rules());
    let program = program_text(&rules.task.vocab, &learned);
    let check = check_program(&rules.task, &learned);
    let engine_pairs_correct = check
        .worlds
        .iter()
        .filter(|w| w.false_positives.is_empty() && w.false_negatives.is_empty())
        .count();
    save_vars(&vs, &out.join("dilp.ot"))?;
    drop(perception);

    let m = train_mlp(ctx, cfg, &split, &test, out)?;
    let (mlp_seen, mlp_held, mlp_out, mlp_curve) = (m.seen, m.held, m.outcome, m.curve);

    let rows: Vec<CurveCsv> = [("dilp", &dilp_curve), ("mlp", &mlp_curve)]
        .into_iter()
        .flat_map(|(model, c)| c.iter().map(move |p| CurveCsv::new(model, p)))
        .collect();
    write_csv(&out.join("curves.csv"), &rows)?;
    plot::learning_curves(
        &out.join("curves.png"),
        &format!("{}, h = {}", ctx.task.name(), cfg.held_out),
        &[("∂ILP", &dilp_curve), ("MLP", &mlp_curve)],
    )?;
    write_atomic(&out.join("program.dl"), program.as_bytes())?;
    let report = MnistRunReport {
        task: ctx.task.name().to_string(),
        held_out: cfg.held_out,
        seed: cfg.seed,
        vision: cfg.vision,
        dilp_seen_acc: dilp_seen,
        dilp_heldout_acc: dilp_held,
        mlp_seen_acc: mlp_seen,
        mlp_heldout_acc: mlp_held,
        program,
        engine_pairs_correct,
        tuples: ctx.task.tuples(),
        digit_acc,
        digit_acc_reversed: digit_rev,
        digit_acc_matched: digit_matched,
        digit_confusion,
        dilp_attempts: attempts,
        dilp_train_loss: dilp_loss,
        dilp_seconds: dilp_start.elapsed().as_secs_f64(),
        mlp_seconds: mlp_out.seconds,
        seconds: start.elapsed().as_secs_f64(),
    };
    write_json(&out.join("metrics.json"), &report)?;
    Ok(report)
}

/// The trained MLP baseline's figures.
struct MlpDone {
    seen: f64,
    held: f64,
    outcome: TrainOutcome,
    curve: Vec<CurvePoint>,
}

/// The MLP baseline: same pairs, same loop, its own conv-net copy when vision trains.
fn train_mlp(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
    out: &Path,
) -> Result<MlpDone> {
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

/// `experiments/results/mnist-train-h0.7-s0-frozen`.
pub fn default_run_dir(cfg: &MnistRunConfig) -> PathBuf {
    PathBuf::from(format!(
        "experiments/results/mnist-train-h{}-s{}-{}",
        cfg.held_out,
        cfg.seed,
        serde_json::to_value(cfg.vision)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    ))
}
