//! Training ∂ILP on a symbolic task: many seeds at once as one batch, one world and one
//! mini-batch of its examples per step, binary cross-entropy, RMSProp or Adam, and early exit of
//! seeds whose training predictions have converged. The best seed (by default the one whose
//! crisp program makes the fewest training errors, then the lowest training loss; the paper's
//! rule, lowest loss alone, on request: see [`super::select`]) is read out and checked with the
//! Datalog engine.

use super::compile::{CompiledTask, CompiledWorld};
use super::infer::{infer, InferOptions};
use super::kernel::SparseWorld;
use super::memory;
use super::native::{Metric, NativeTrainer, SeedSlot};
use super::readout::{read_out, ReadOut};
use super::select::{choose, crisp_checks, CrispCheck, Selection};
use super::weights::RuleWeights;
pub use super::optim::{Loss, Optimizer, StepSettings};
use super::{Amalgamation, TNorm};
use crate::error::{Error, Result};
use crate::ilp::{check_program, program_text, Task};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Which implementation trains the rule weights. Both compute the same model and the same
/// gradients (a test holds them together); they differ in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The CPU kernel on the CPU with the product t-norm, LibTorch otherwise.
    #[default]
    Auto,
    /// The hand-written sparse CPU kernel (product t-norm only).
    Native,
    /// LibTorch tensors and autograd, on any device.
    Torch,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Backend::Auto),
            "native" | "cpu-kernel" => Ok(Backend::Native),
            "torch" => Ok(Backend::Torch),
            _ => Err(format!("unknown backend `{s}` (auto, native, torch)")),
        }
    }
}

/// When a seed stops before the last step (checked every `check_every` steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EarlyStop {
    /// Every seed trains for every step (the paper's protocol).
    Off,
    /// Once every training example is within `tolerance` of its label. Changes outcomes: a seed
    /// that fits the training examples may still be improving on the validation world.
    Fit,
    /// Once it fits the training examples within `tolerance` *and* meets the success criterion
    /// on the validation worlds: it is solved, so stopping cannot lower the success rate.
    #[default]
    Solved,
}

impl std::str::FromStr for EarlyStop {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "off" => Ok(EarlyStop::Off),
            "fit" => Ok(EarlyStop::Fit),
            "solved" => Ok(EarlyStop::Solved),
            _ => Err(format!("unknown early stop `{s}` (off, fit, solved)")),
        }
    }
}

/// Settings of one learning run. Defaults are the paper's where it gives them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnConfig {
    /// Training steps (paper: 6000).
    pub steps: usize,
    /// Learning rate (paper: 0.5).
    pub lr: f64,
    /// Use the task file's `[learn] lr` instead of `lr` when it has one (default true; an
    /// explicit `--lr` turns it off).
    pub task_lr: bool,
    pub optimizer: Optimizer,
    /// Standard deviation of the N(0, σ²) initial weights (paper: 1).
    pub init_std: f64,
    /// Use the task file's `[learn] init_std` instead of `init_std` when it has one (default
    /// true; an explicit `--init-std` turns it off).
    pub task_init_std: bool,
    /// Use the task file's `[learn] batch_size` instead of `batch_size` when it has one
    /// (default true; an explicit `--batch-size` turns it off).
    pub task_batch_size: bool,
    /// Initialisations trained together as one batch.
    pub seeds: usize,
    /// Seed of the first initialisation; seed `i` of the batch uses `seed + i`.
    pub seed: u64,
    /// Examples per mini-batch; 0 means every example of the sampled world. Default 2: the
    /// paper does not give its size, and on even/odd and even/succ2 (16 seeds, 2000 steps)
    /// batches of 2 solved 12/16 and 14/16 seeds against 6/16 and fewer with full batches.
    pub batch_size: usize,
    pub tnorm: TNorm,
    pub amalgamation: Amalgamation,
    /// Early stopping (default `solved`: only seeds that already meet the success criterion
    /// stop). `fit` stops on the training examples alone; on even/odd (16 seeds, 2000 steps) it
    /// saved half the seed-steps but 8/16 seeds met the validation criterion against 12/16.
    pub early_stop: EarlyStop,
    /// How close to its label every training example must be for early stopping (1e-4).
    pub tolerance: f64,
    pub check_every: usize,
    /// Read-out threshold on a clause's marginal probability (paper: 0.1).
    pub threshold: f64,
    /// Success: validation mean squared error below this (paper: 1e-4).
    pub success_mse: f64,
    /// Floats per chunk of clause-pair maxima.
    pub pair_chunk: usize,
    /// Refuse runs estimated above this many MiB (default: `DILP_MEMORY_MIB`, else 80% of the
    /// available memory).
    pub memory_limit_mib: Option<f64>,
    /// Training implementation (default `auto`: the CPU kernel where it applies).
    pub backend: Backend,
    /// Which seed is reported (default `crisp`; the paper's is `loss`).
    pub select: Selection,
    /// Training loss (default `bce`, the paper's; `mae` tolerates mislabelled examples).
    pub loss: Loss,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            steps: 6000,
            lr: 0.5,
            task_lr: true,
            task_init_std: true,
            task_batch_size: true,
            optimizer: Optimizer::Rmsprop,
            init_std: 1.0,
            seeds: 1,
            seed: 0,
            batch_size: 2,
            tnorm: TNorm::Product,
            amalgamation: Amalgamation::ProbSum,
            early_stop: EarlyStop::Solved,
            tolerance: 1e-4,
            check_every: 50,
            threshold: 0.1,
            success_mse: 1e-4,
            pair_chunk: 1 << 22,
            memory_limit_mib: None,
            backend: Backend::Auto,
            select: Selection::Crisp,
            loss: Loss::Bce,
        }
    }
}

impl From<&LearnConfig> for StepSettings {
    fn from(cfg: &LearnConfig) -> Self {
        StepSettings {
            amalgamation: cfg.amalgamation,
            loss: cfg.loss,
            optimizer: cfg.optimizer,
            lr: cfg.lr as f32,
        }
    }
}

/// What the observer sees while training.
#[derive(Debug, Clone)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    /// Mean mini-batch loss over the seeds still training.
    pub loss: f64,
    pub active: usize,
    pub converged: usize,
    /// Converged seeds that also meet the validation criterion.
    pub solved: usize,
}

pub trait LearnObserver {
    fn on_progress(&mut self, _p: &Progress) {}
}
impl LearnObserver for () {}

/// The outcome for one initialisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub train_loss: f64,
    pub validation_mse: f64,
    pub success: bool,
    /// Steps trained before it converged (or all of them).
    pub steps_trained: usize,
    /// Its crisp program and the engine's verdict on it (absent under `select = loss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crisp: Option<CrispCheck>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearnReport {
    pub task: String,
    pub config: LearnConfig,
    pub seeds: Vec<SeedResult>,
    pub best_seed: u64,
    pub seeds_solved: usize,
    /// The best seed meets the validation criterion and its read-out program passes the
    /// engine check on every training and validation world.
    pub solved: bool,
    pub engine_check: bool,
    /// The best seed's program: under crisp selection the one that selection judged (the top
    /// pair, or the threshold read-out pruned on the training errors); under loss selection
    /// the clauses above the threshold plus the top pair.
    pub program: String,
    /// The best seed's threshold read-out (every clause above the threshold, and the top
    /// pair), each clause with its marginal probability.
    pub program_probs: Vec<(String, f64)>,
    /// Other programs that seeds named which make as few training errors as the reported
    /// one: the training data does not choose between them (crisp selection).
    pub ties: Vec<String>,
    pub train_loss: f64,
    pub validation_mse: f64,
    /// Mean squared validation error of the read-out program run by the Datalog engine (crisp
    /// 0/1 predictions), beside the soft model's `validation_mse`.
    pub program_validation_mse: f64,
    /// The same for the most probable clause pair of each predicate alone (no threshold): the
    /// crispest program the weights name.
    pub top_pair: String,
    pub top_pair_validation_mse: f64,
    /// The validation error of the best seed's crisp program (under loss selection: of the
    /// threshold and top-pair read-outs, the one with fewer training errors, the threshold one
    /// on a tie): a choice made on training data only.
    pub crisp_validation_mse: f64,
    pub seconds: f64,
    pub ms_per_step: f64,
    /// Seed-steps computed, and those saved by early stopping.
    pub seed_steps: usize,
    pub seed_steps_saved: usize,
    pub threads: i32,
    pub device: String,
    /// `native` or `torch`: the implementation that trained.
    pub backend: String,
    pub paper_memory_mib: f64,
    pub estimated_memory_mib: f64,
    pub peak_rss_mib: f64,
}

fn bce(pred: &Tensor, labels: &Tensor) -> Tensor {
    let p = pred.clamp(1e-7, 1.0 - 1e-7);
    let q: Tensor = 1.0 - &p;
    let r: Tensor = 1.0 - labels;
    let t: Tensor = labels * p.log() + r * q.log();
    -t
}

fn mae(pred: &Tensor, labels: &Tensor) -> Tensor {
    (pred - labels).abs()
}

fn per_example_loss(loss: Loss) -> fn(&Tensor, &Tensor) -> Tensor {
    match loss {
        Loss::Bce => bce,
        Loss::Mae => mae,
    }
}

fn to_f64s(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.to_kind(Kind::Double).to_device(Device::Cpu).reshape([-1]))
        .unwrap_or_default()
}

/// Predictions `[S, e]` at the examples of `world` after its own number of steps.
fn predict(world: &CompiledWorld, probs: &[Tensor], opts: &InferOptions) -> Tensor {
    infer(world, &world.init, probs, world.steps, opts).index_select(1, &world.example_ids)
}

/// Per-row mean of `per_example(prediction, label)` over every example of `worlds`.
fn per_row_mean(
    worlds: &[CompiledWorld],
    probs: &[Tensor],
    opts: &InferOptions,
    per_example: fn(&Tensor, &Tensor) -> Tensor,
) -> Vec<f64> {
    let mut sum: Option<Tensor> = None;
    let mut count = 0;
    for w in worlds {
        let e = per_example(&predict(w, probs, opts), &w.labels).sum_dim_intlist(
            [1i64].as_slice(),
            false,
            Kind::Float,
        );
        count += w.num_examples;
        sum = Some(match sum {
            None => e,
            Some(s) => s + e,
        });
    }
    sum.map(|s| to_f64s(&(s / count.max(1) as f64)))
        .unwrap_or_default()
}

/// Per-row mean training loss over every example of every world.
fn full_loss(
    worlds: &[CompiledWorld],
    probs: &[Tensor],
    opts: &InferOptions,
    loss: Loss,
) -> Vec<f64> {
    per_row_mean(worlds, probs, opts, per_example_loss(loss))
}

/// Per-row mean squared error over the validation worlds (the training worlds if none).
fn validation_mse(task: &CompiledTask, probs: &[Tensor], opts: &InferOptions) -> Vec<f64> {
    let worlds = if task.validation.is_empty() {
        &task.train
    } else {
        &task.validation
    };
    per_row_mean(worlds, probs, opts, |p, y| (p - y).square())
}

/// Largest |prediction − label| per row over the training worlds.
fn max_train_error(worlds: &[CompiledWorld], probs: &[Tensor], opts: &InferOptions) -> Vec<f64> {
    let mut worst: Option<Tensor> = None;
    for w in worlds {
        let e = (predict(w, probs, opts) - &w.labels)
            .abs()
            .amax([1i64].as_slice(), false);
        worst = Some(match worst {
            None => e,
            Some(m) => m.maximum(&e),
        });
    }
    worst.map(|t| to_f64s(&t)).unwrap_or_default()
}

struct OptState {
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    t: i32,
}

impl OptState {
    fn new(weights: &RuleWeights, kind: Optimizer) -> Self {
        let init = |w: &Tensor| match kind {
            Optimizer::Rmsprop => w.ones_like(),
            Optimizer::Adam => w.zeros_like(),
        };
        OptState {
            first: weights.tensors.iter().map(|w| w.zeros_like()).collect(),
            second: weights.tensors.iter().map(init).collect(),
            t: 0,
        }
    }
    fn select(&self, keep: &Tensor) -> Self {
        OptState {
            first: self.first.iter().map(|t| t.index_select(0, keep)).collect(),
            second: self
                .second
                .iter()
                .map(|t| t.index_select(0, keep))
                .collect(),
            t: self.t,
        }
    }
    fn update(&mut self, weights: &mut RuleWeights, kind: Optimizer, lr: f64) {
        self.t += 1;
        tch::no_grad(|| {
            for (i, w) in weights.tensors.iter_mut().enumerate() {
                let mut g = w.grad();
                if !g.defined() {
                    continue;
                }
                let delta = match kind {
                    Optimizer::Rmsprop => {
                        self.second[i] = &self.second[i] * 0.9 + g.square() * 0.1;
                        &g * lr / (&self.second[i] + 1e-10).sqrt()
                    }
                    Optimizer::Adam => {
                        self.first[i] = &self.first[i] * 0.9 + &g * 0.1;
                        self.second[i] = &self.second[i] * 0.999 + g.square() * 0.001;
                        let m = &self.first[i] / (1.0 - 0.9f64.powi(self.t));
                        let v = &self.second[i] / (1.0 - 0.999f64.powi(self.t));
                        m * lr / (v.sqrt() + 1e-8)
                    }
                };
                let _ = w.f_sub_(&delta);
                let _ = g.zero_();
            }
        });
    }
}

fn to_f32s(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).to_device(Device::Cpu).reshape([-1]))
        .unwrap_or_default()
}

/// One kernel slot per batch row of `weights`.
fn slots_of(weights: &RuleWeights, seeds: usize, optimizer: Optimizer) -> Vec<SeedSlot> {
    (0..seeds)
        .map(|s| {
            let w = weights
                .tensors
                .iter()
                .map(|t| to_f32s(&t.get(s as i64)))
                .collect();
            SeedSlot::new(w, optimizer)
        })
        .collect()
}

/// The mini-batch loss of each seed still training.
enum StepLoss {
    Tensor(Tensor),
    Values(Vec<f64>),
}

impl StepLoss {
    fn mean(&self) -> f64 {
        match self {
            StepLoss::Tensor(t) => f64::try_from(t.mean(Kind::Float)).unwrap_or(f64::NAN),
            StepLoss::Values(v) => v.iter().sum::<f64>() / v.len().max(1) as f64,
        }
    }
}

/// The seeds being trained, by either implementation.
enum Trainer {
    Torch {
        weights: RuleWeights,
        state: OptState,
    },
    Native {
        trainer: NativeTrainer,
        worlds: Vec<SparseWorld>,
        /// The validation worlds, or the training worlds if the task has none.
        validation: Vec<SparseWorld>,
        shapes: Vec<(usize, usize)>,
    },
}

impl Trainer {
    fn step(
        &mut self,
        world: &CompiledWorld,
        w_idx: usize,
        pick: &[usize],
        cfg: &LearnConfig,
        opts: &InferOptions,
    ) -> StepLoss {
        match self {
            Trainer::Torch { weights, state } => {
                let device = world.init.device();
                let (ids, labels) = if pick.len() == world.num_examples {
                    (
                        world.example_ids.shallow_clone(),
                        world.labels.shallow_clone(),
                    )
                } else {
                    let pick: Vec<i64> = pick.iter().map(|&i| i as i64).collect();
                    let pick = Tensor::from_slice(&pick).to_device(device);
                    (
                        world.example_ids.index_select(0, &pick),
                        world.labels.index_select(0, &pick),
                    )
                };
                let probs = weights.probs();
                let a = infer(world, &world.init, &probs, world.steps, opts);
                let per_seed = per_example_loss(cfg.loss)(&a.index_select(1, &ids), &labels)
                    .mean_dim([1i64].as_slice(), false, Kind::Float);
                per_seed.sum(Kind::Float).backward();
                state.update(weights, cfg.optimizer, cfg.lr);
                StepLoss::Tensor(per_seed.detach())
            }
            Trainer::Native {
                trainer, worlds, ..
            } => StepLoss::Values(trainer.step(&worlds[w_idx], pick, cfg)),
        }
    }

    /// The current weights of the active seeds, `[S, K1, K2]` per predicate.
    fn weights(&self, device: Device) -> RuleWeights {
        match self {
            Trainer::Torch { weights, .. } => RuleWeights {
                tensors: weights.tensors.iter().map(|t| t.detach()).collect(),
            },
            Trainer::Native {
                trainer, shapes, ..
            } => {
                let all = trainer.weights();
                RuleWeights {
                    tensors: shapes
                        .iter()
                        .enumerate()
                        .map(|(p, &(k1, k2))| {
                            let data: Vec<f32> =
                                all.iter().flat_map(|s| s[p].iter().copied()).collect();
                            Tensor::from_slice(&data)
                                .view([all.len() as i64, k1 as i64, k2 as i64])
                                .to_device(device)
                        })
                        .collect(),
                }
            }
        }
    }

    /// `(max training error, validation MSE)` per active seed; the MSE may be left infinite
    /// for seeds whose training error is not below `tolerance`.
    fn check(
        &mut self,
        compiled: &CompiledTask,
        opts: &InferOptions,
        device: Device,
        tolerance: f64,
    ) -> (Vec<f64>, Vec<f64>) {
        match self {
            Trainer::Native {
                trainer,
                worlds,
                validation,
                ..
            } => {
                let amalg = opts.amalgamation;
                let err = trainer.evaluate(worlds, amalg, Metric::MaxError);
                // Only seeds that fit the training set can stop, so only they need validating.
                let fit: Vec<usize> = (0..err.len()).filter(|&i| err[i] < tolerance).collect();
                let mut mse = vec![f64::INFINITY; err.len()];
                let some = trainer.evaluate_some(&fit, validation, amalg, Metric::SquaredError);
                for (&i, m) in fit.iter().zip(some) {
                    mse[i] = m;
                }
                (err, mse)
            }
            Trainer::Torch { .. } => {
                let weights = self.weights(device);
                let probs = tch::no_grad(|| weights.probs());
                (
                    tch::no_grad(|| max_train_error(&compiled.train, &probs, opts)),
                    tch::no_grad(|| validation_mse(compiled, &probs, opts)),
                )
            }
        }
    }

    fn retain(&mut self, keep: &[usize], device: Device) {
        match self {
            Trainer::Torch { weights, state } => {
                let idx: Vec<i64> = keep.iter().map(|&i| i as i64).collect();
                let idx = Tensor::from_slice(&idx).to_device(device);
                *weights = weights.select(&idx);
                *state = state.select(&idx);
            }
            Trainer::Native { trainer, .. } => trainer.retain(keep),
        }
    }
}

/// Learns `task` with `cfg` on `device`.
pub fn learn(
    task: &Task,
    cfg: &LearnConfig,
    device: Device,
    observer: &mut dyn LearnObserver,
) -> Result<LearnReport> {
    let resolved = LearnConfig {
        lr: if cfg.task_lr {
            task.lr.unwrap_or(cfg.lr)
        } else {
            cfg.lr
        },
        init_std: if cfg.task_init_std {
            task.init_std.unwrap_or(cfg.init_std)
        } else {
            cfg.init_std
        },
        batch_size: if cfg.task_batch_size {
            task.batch_size.unwrap_or(cfg.batch_size)
        } else {
            cfg.batch_size
        },
        ..cfg.clone()
    };
    let cfg = &resolved;
    let start = Instant::now();
    let compiled = CompiledTask::new(task, device);
    let shapes = compiled.weight_shapes();
    let opts = InferOptions {
        tnorm: cfg.tnorm,
        amalgamation: cfg.amalgamation,
        pair_chunk: cfg.pair_chunk,
    };
    let native = match cfg.backend {
        Backend::Torch => false,
        Backend::Auto => device == Device::Cpu && cfg.tnorm == TNorm::Product,
        Backend::Native if cfg.tnorm != TNorm::Product => {
            return Err(Error::Config(format!(
            "the native backend implements the product t-norm only, not {:?}; use --backend torch",
            cfg.tnorm
        )))
        }
        Backend::Native => true,
    };
    let seeds = cfg.seeds.max(1);
    let sparse = native.then(|| {
        let compile = |ws: &[crate::ilp::World]| -> Vec<SparseWorld> {
            ws.iter()
                .map(|w| SparseWorld::new(task, &compiled.clause_sets, w))
                .collect()
        };
        let validation = if task.validation.is_empty() {
            &task.train
        } else {
            &task.validation
        };
        (compile(&task.train), compile(validation))
    });
    // Training keeps every step's tensors for backward; validation runs without gradients, so
    // about two steps' worth are alive at once.
    let estimate = if let Some((train, validation)) = &sparse {
        // One tape per group of seeds, reused between steps.
        let groups = seeds.div_ceil(super::native::L) as f64;
        train
            .iter()
            .chain(validation)
            .map(|w| super::native::tape_bytes(w) * groups + w.compiled_bytes())
            .fold(0.0, f64::max)
    } else {
        compiled
            .train
            .iter()
            .map(|w| memory::our_estimate(w, seeds, w.steps))
            .chain(
                compiled
                    .validation
                    .iter()
                    .map(|w| memory::our_estimate(w, seeds, 2)),
            )
            .fold(0.0, f64::max)
    };
    let paper = compiled
        .train
        .iter()
        .map(|w| memory::paper_estimate(w, &shapes, w.steps) * seeds as f64)
        .fold(0.0, f64::max);
    memory::check_fits(
        &format!("learning `{}` with {seeds} seeds", task.name),
        estimate,
        cfg.memory_limit_mib
            .map_or_else(memory::limit_bytes, |m| m * 1048576.0),
    )?;

    let init = RuleWeights::init(&shapes, seeds, cfg.seed, cfg.init_std, device);
    let mut trainer = if let Some((worlds, validation)) = sparse {
        let slots = slots_of(&init, seeds, cfg.optimizer);
        let threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
        Trainer::Native {
            trainer: NativeTrainer::new(slots, threads),
            validation,
            worlds,
            shapes: shapes.clone(),
        }
    } else {
        Trainer::Torch {
            state: OptState::new(&init, cfg.optimizer),
            weights: init,
        }
    };
    let mut active: Vec<usize> = (0..seeds).collect();
    let mut finals: Vec<Option<Vec<Tensor>>> = (0..seeds).map(|_| None).collect();
    let mut trained = vec![cfg.steps; seeds];
    let (mut converged, mut solved_early) = (0, 0);
    let mut rng = Rng::new(cfg.seed ^ 0xD11F);
    let mut seed_steps = 0;
    let mut steps_run = 0;

    let train_start = Instant::now();
    for step in 0..cfg.steps {
        if active.is_empty() {
            break;
        }
        let w_idx = rng.below(compiled.train.len());
        let num_examples = compiled.train[w_idx].num_examples;
        let pick: Vec<usize> = if cfg.batch_size == 0 || cfg.batch_size >= num_examples {
            (0..num_examples).collect()
        } else {
            rng.sample(num_examples, cfg.batch_size)
        };
        let loss = trainer.step(&compiled.train[w_idx], w_idx, &pick, cfg, &opts);
        seed_steps += active.len();
        steps_run = step + 1;

        let last = step + 1 == cfg.steps;
        if cfg.early_stop != EarlyStop::Off
            && cfg.check_every > 0
            && (step + 1) % cfg.check_every == 0
            && !last
        {
            let (err, mse) = trainer.check(&compiled, &opts, device, cfg.tolerance);
            let done: Vec<usize> = (0..active.len())
                .filter(|&i| {
                    err[i] < cfg.tolerance
                        && (cfg.early_stop == EarlyStop::Fit || mse[i] < cfg.success_mse)
                })
                .collect();
            if !done.is_empty() {
                let weights = trainer.weights(device);
                for &i in &done {
                    let s = active[i];
                    finals[s] = Some(weights.row(i));
                    trained[s] = step + 1;
                    converged += 1;
                    solved_early += usize::from(mse[i] < cfg.success_mse);
                }
                let keep: Vec<usize> = (0..active.len()).filter(|i| !done.contains(i)).collect();
                active = keep.iter().map(|&i| active[i]).collect();
                if !active.is_empty() {
                    trainer.retain(&keep, device);
                }
            }
        }
        if step % 10 == 0 || last || active.is_empty() {
            observer.on_progress(&Progress {
                step: step + 1,
                steps: cfg.steps,
                loss: loss.mean(),
                active: active.len(),
                converged,
                solved: solved_early,
            });
        }
    }
    let weights = trainer.weights(device);
    for (i, &s) in active.iter().enumerate() {
        finals[s] = Some(weights.row(i));
    }
    let train_seconds = train_start.elapsed().as_secs_f64();

    // Gather every seed's final weights back into one batch, in seed order.
    let finals: Vec<Vec<Tensor>> = finals
        .into_iter()
        .map(|f| f.expect("every seed has weights"))
        .collect();
    let all = RuleWeights {
        tensors: (0..shapes.len())
            .map(|p| {
                Tensor::cat(
                    &finals
                        .iter()
                        .map(|f| f[p].shallow_clone())
                        .collect::<Vec<_>>(),
                    0,
                )
            })
            .collect(),
    };
    let probs = tch::no_grad(|| all.probs());
    let (losses, mses) = match &trainer {
        Trainer::Native {
            trainer,
            worlds,
            validation,
            ..
        } => {
            let slots = slots_of(&all, seeds, cfg.optimizer);
            let mut all = NativeTrainer::new(slots, trainer.threads);
            let amalg = cfg.amalgamation;
            (
                all.evaluate(
                    worlds,
                    amalg,
                    match cfg.loss {
                        Loss::Bce => Metric::Bce,
                        Loss::Mae => Metric::AbsError,
                    },
                ),
                all.evaluate(validation, amalg, Metric::SquaredError),
            )
        }
        Trainer::Torch { .. } => (
            tch::no_grad(|| full_loss(&compiled.train, &probs, &opts, cfg.loss)),
            tch::no_grad(|| validation_mse(&compiled, &probs, &opts)),
        ),
    };
    let crisp = if cfg.select == Selection::Crisp {
        crisp_checks(task, &compiled.clause_sets, &probs, seeds, cfg.threshold)
    } else {
        Vec::new()
    };
    let best = choose(cfg.select, &losses, &crisp);
    let seeds_out: Vec<SeedResult> = (0..seeds)
        .map(|s| SeedResult {
            seed: cfg.seed + s as u64,
            train_loss: losses[s],
            validation_mse: mses[s],
            success: mses[s] < cfg.success_mse,
            steps_trained: trained[s],
            crisp: crisp.get(s).cloned(),
        })
        .collect();
    let read: ReadOut = read_out(&compiled.clause_sets, &probs, best, cfg.threshold);
    let rules = read.rules();
    let check = check_program(task, &rules);
    let top = read_out(&compiled.clause_sets, &probs, best, f64::INFINITY).rules();
    let top_check = check_program(task, &top);
    let seeds_solved = seeds_out.iter().filter(|s| s.success).count();
    // Under crisp selection the reported program is the one that selection judged, and its
    // engine verdict is the one crisp selection already took.
    let judged = crisp.get(best);
    let (shown, shown_passes, shown_mse) = match judged {
        Some(c) => (
            &c.rules,
            c.train_errors == 0 && c.validation_mse == 0.0,
            c.validation_mse,
        ),
        None => (&rules, check.solved(), check.validation_mse),
    };
    Ok(LearnReport {
        task: task.name.clone(),
        config: cfg.clone(),
        best_seed: cfg.seed + best as u64,
        seeds_solved,
        solved: seeds_out[best].success && shown_passes,
        engine_check: shown_passes,
        program: program_text(&task.vocab, shown),
        ties: crisp.get(best).map_or_else(Vec::new, |b| {
            let mut t: Vec<String> = crisp
                .iter()
                .filter(|c| c.train_errors == b.train_errors && c.program != b.program)
                .map(|c| c.program.clone())
                .collect();
            t.sort();
            t.dedup();
            t
        }),
        program_probs: read
            .clauses
            .iter()
            .map(|c| (c.clause.display(&task.vocab).to_string(), c.prob))
            .collect(),
        train_loss: losses[best],
        validation_mse: mses[best],
        program_validation_mse: shown_mse,
        top_pair: program_text(&task.vocab, &top),
        top_pair_validation_mse: top_check.validation_mse,
        crisp_validation_mse: match judged {
            Some(c) => c.validation_mse,
            None if top_check.train_errors < check.train_errors => top_check.validation_mse,
            None => check.validation_mse,
        },
        seconds: start.elapsed().as_secs_f64(),
        ms_per_step: 1000.0 * train_seconds / steps_run.max(1) as f64,
        seed_steps,
        seed_steps_saved: seeds * steps_run - seed_steps,
        threads: tch::get_num_threads(),
        device: format!("{device:?}"),
        backend: if native { "native" } else { "torch" }.to_string(),
        paper_memory_mib: paper / 1048576.0,
        estimated_memory_mib: estimate / 1048576.0,
        peak_rss_mib: memory::peak_rss_bytes().unwrap_or(0.0) / 1048576.0,
        seeds: seeds_out,
    })
}
