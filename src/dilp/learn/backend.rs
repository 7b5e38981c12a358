//! The implementations that train a batch of seeds, behind one trait, and the choice between
//! them. Both compute the same model and the same gradients; they differ in speed and in what
//! they support (the native kernel: product t-norm, CPU, no LibTorch needed).

use super::config::{Backend, LearnConfig};
use crate::dilp::weights::SeedWeights;
use crate::dilp::{Device, TNorm};
use crate::error::{Error, Result};

/// A batch of seeds in training. Seeds are addressed by their position among the seeds still
/// training, which [`Trainer::retain`] renumbers.
pub trait Trainer {
    /// `native` or `torch`, for the report.
    fn name(&self) -> &'static str;
    /// Examples in each training world, to draw the mini-batches from.
    fn train_sizes(&self) -> Vec<usize>;
    /// Bytes the run will keep alive with `seeds` seeds, and what the paper's formula predicts.
    fn memory(&self, seeds: usize, shapes: &[(usize, usize)]) -> (f64, f64);
    /// Starts training from `init` (one entry per seed).
    fn start(&mut self, init: &[SeedWeights], cfg: &LearnConfig) -> Result<()>;
    /// One step of every seed on examples `pick` of training world `world`. Fails (LibTorch out
    /// of memory, say) with the step named, never with a panic.
    fn step(&mut self, world: usize, pick: &[usize], cfg: &LearnConfig) -> Result<()>;
    /// Mean mini-batch loss of the last step over the seeds still training.
    fn last_loss(&self) -> f64;
    /// The last step's mini-batch loss of each seed still training.
    fn last_losses(&self) -> Result<Vec<f64>>;
    /// Restarts the seed at position `pos` from weights `init` and fresh optimiser moments;
    /// `id` names its stream of logit noise from now on.
    fn restart(&mut self, pos: usize, init: &SeedWeights, id: u64, cfg: &LearnConfig)
        -> Result<()>;
    /// The current weights of each seed still training.
    fn weights(&self) -> Result<Vec<SeedWeights>>;
    /// `(max training error, validation MSE)` per seed still training; the MSE may be left
    /// infinite for seeds whose training error is not below `cfg.tolerance`.
    fn check(&mut self, cfg: &LearnConfig) -> Result<(Vec<f64>, Vec<f64>)>;
    /// Keeps the seeds at positions `keep` (increasing), in that order.
    fn retain(&mut self, keep: &[usize]) -> Result<()>;
    /// `(training loss, validation MSE)` of each seed's final weights `finals`.
    fn evaluate(
        &mut self,
        finals: &[SeedWeights],
        cfg: &LearnConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)>;
}

/// Which implementation trains under `cfg` on `device`.
pub fn choose(cfg: &LearnConfig, device: Device) -> Result<Backend> {
    let product = cfg.tnorm == TNorm::Product;
    match cfg.backend {
        Backend::Native if !product => Err(Error::Config(format!(
            "the native backend implements the product t-norm only, not {:?}; use --backend torch",
            cfg.tnorm
        ))),
        Backend::Native => Ok(Backend::Native),
        Backend::Auto if device == Device::Cpu && product => Ok(Backend::Native),
        Backend::Auto | Backend::Torch if cfg!(feature = "torch") => Ok(Backend::Torch),
        Backend::Torch => Err(Error::Config(
            "this build has no LibTorch, so no torch backend (build with the `torch` feature)"
                .into(),
        )),
        Backend::Auto => Err(Error::Config(format!(
            "the {:?} t-norm needs the torch backend, and this build has no LibTorch \
             (build with the `torch` feature)",
            cfg.tnorm
        ))),
    }
}

/// Refuses a run whose estimate exceeds the memory limit.
pub fn check_memory(task: &str, seeds: usize, estimate: f64, cfg: &LearnConfig) -> Result<()> {
    use crate::dilp::memory;
    memory::check_fits(
        &format!("learning `{task}` with {seeds} seeds"),
        estimate,
        cfg.memory_limit_mib
            .map_or_else(memory::limit_bytes, |m| m * 1048576.0),
    )
}
