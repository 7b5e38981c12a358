//! A learning run's settings ([`LearnConfig`]): every field with its default, the per-task
//! overrides a task file may give, and the [`StepSettings`] the kernels take from it.

pub use crate::dilp::optim::{Loss, Optimizer, StepSettings};
pub use crate::dilp::perturb::{NoiseKind, Perturb};
use crate::dilp::select::Selection;
use crate::dilp::{Amalgamation, TNorm};
use crate::ilp::Task;
use serde::{Deserialize, Serialize};

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
    /// Rule-weight optimiser (default `rmsprop`, the paper's).
    pub optimizer: Optimizer,
    /// Standard deviation of the N(0, σ²) initial weights (paper: 1).
    pub init_std: f64,
    /// Use the task file's `[learn] init_std` instead of `init_std` when it has one (default
    /// true; an explicit `--init-std` turns it off).
    pub task_init_std: bool,
    /// Use the task file's `[learn] batch_size` instead of `batch_size` when it has one
    /// (default true; an explicit `--batch-size` turns it off).
    pub task_batch_size: bool,
    /// Initialisations trained together as one batch (default 1).
    pub seeds: usize,
    /// Seed of the first initialisation; seed `i` of the batch uses `seed + i` (default 0).
    pub seed: u64,
    /// Examples per mini-batch; 0 means every example of the sampled world. Default 2: the
    /// paper does not give its size, and on even/odd and even/succ2 (16 seeds, 2000 steps)
    /// batches of 2 solved 12/16 and 14/16 seeds against 6/16 and fewer with full batches.
    pub batch_size: usize,
    /// Fuzzy conjunction of a clause's body atoms (default `product`, the paper's; the native
    /// backend implements only this one).
    pub tnorm: TNorm,
    /// How a step's conclusions merge into the valuation (default `prob-sum`, the paper's).
    pub amalgamation: Amalgamation,
    /// Early stopping (default `solved`: only seeds that already meet the success criterion
    /// stop). `fit` stops on the training examples alone; on even/odd (16 seeds, 2000 steps) it
    /// saved half the seed-steps but 8/16 seeds met the validation criterion against 12/16.
    pub early_stop: EarlyStop,
    /// How close to its label every training example must be for early stopping (1e-4).
    pub tolerance: f64,
    /// Steps between early-stopping checks (default 50; 0 never checks).
    pub check_every: usize,
    /// Read-out threshold on a clause's marginal probability (paper: 0.1).
    pub threshold: f64,
    /// Success: validation mean squared error below this (paper: 1e-4).
    pub success_mse: f64,
    /// Floats per chunk of clause-pair maxima on the LibTorch path (default 2²² = 4194304).
    pub pair_chunk: usize,
    /// Refuse runs estimated above this many MiB (default `None`: the default
    /// [`crate::ilp::MemoryBudget`], half of physical memory; `--max-memory` sets it).
    pub memory_limit_mib: Option<f64>,
    /// Training implementation (default `auto`: the CPU kernel where it applies).
    pub backend: Backend,
    /// Which seed is reported (default `crisp`; the paper's is `loss`).
    pub select: Selection,
    /// Training loss (default `bce`, the paper's; `mae` tolerates mislabelled examples).
    pub loss: Loss,
    /// Against local minima (issue 16): restarts of stalled seeds are on by default (below);
    /// the other candidates measured beside them are off. Scale of the noise added to the
    /// clause-pair logits at the first step, decaying linearly to 0 at the last (default 0:
    /// none). Native backend only.
    pub logit_noise: f64,
    /// Distribution of that noise (default `gaussian`).
    pub noise_kind: NoiseKind,
    /// Softmax temperature over the clause pairs at the first step, annealed linearly to 1 at
    /// the last (default 1: the paper's plain softmax). Above 1 the distribution starts flatter
    /// (entropy annealing). Native backend only.
    pub temperature: f64,
    /// Restart stalled seeds: every `restart_window` steps a seed whose mean mini-batch loss
    /// over the window has not fallen by `restart_margin` (relative) below its best earlier
    /// window is re-initialised from a derived seed, within the same step budget (default
    /// 125; 0 never restarts, the paper's model and `--paper`'s). See [`super::train`] for the
    /// exceptions and why a restart never leaves a seed worse. The window was chosen among
    /// 64, 125, 250, 500 and 1000 on seeds 5000–5063, a range no reported figure uses
    /// (experiments/RESULTS.md, "Local minima").
    pub restart_window: usize,
    /// Relative improvement a window must make to count as progress (default 0.05).
    pub restart_margin: f64,
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
            logit_noise: 0.0,
            noise_kind: NoiseKind::Gaussian,
            temperature: 1.0,
            restart_window: 125,
            restart_margin: 0.05,
        }
    }
}

impl LearnConfig {
    /// This config with the task file's `[learn]` settings applied where the `task_*` switches
    /// let them override.
    pub fn resolve(&self, task: &Task) -> LearnConfig {
        let pick = |use_task: bool, from_task: Option<f64>, own: f64| {
            if use_task {
                from_task.unwrap_or(own)
            } else {
                own
            }
        };
        LearnConfig {
            lr: pick(self.task_lr, task.lr, self.lr),
            init_std: pick(self.task_init_std, task.init_std, self.init_std),
            batch_size: if self.task_batch_size {
                task.batch_size.unwrap_or(self.batch_size)
            } else {
                self.batch_size
            },
            ..self.clone()
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
            perturb: Perturb {
                noise: cfg.logit_noise as f32,
                kind: cfg.noise_kind,
                temperature: cfg.temperature as f32,
                steps: cfg.steps,
            },
        }
    }
}
