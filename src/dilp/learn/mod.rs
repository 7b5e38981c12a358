//! Training ∂ILP on a symbolic task: many seeds at once, one world and one mini-batch of its
//! examples per step, BCE or MAE, RMSProp or Adam, and early exit of seeds that are done
//! ([`train`]). The best seed (by default the one whose crisp program makes the fewest training
//! errors, then the lowest training loss; the paper's rule, lowest loss alone, on request: see
//! [`crate::dilp::select`]) is read out and checked with the Datalog engine ([`report`]).
//!
//! The pieces: [`config`] (settings and their defaults), [`backend`] (the trait both
//! implementations train behind, and the memory check), [`native_backend`] (the CPU kernel on
//! plain vectors, always built) and `torch_backend` (LibTorch, feature `torch`).

pub mod backend;
pub mod config;
pub mod native_backend;
pub mod report;
#[cfg(feature = "torch")]
pub mod torch_backend;
#[cfg(feature = "torch")]
mod torch_eval;
pub mod train;

pub use config::{Backend, EarlyStop, LearnConfig, Loss, Optimizer, StepSettings};
pub use report::{LearnObserver, LearnReport, Progress, SeedResult};

use crate::dilp::weights::{seed_weights, SeedWeights};
use crate::dilp::{num_threads, Device};
use crate::error::Result;
use crate::ilp::{self, Task};
use backend::Trainer;
use std::time::Instant;

/// Learns `task` with `cfg` on `device`.
pub fn learn(
    task: &Task,
    cfg: &LearnConfig,
    device: Device,
    observer: &mut dyn LearnObserver,
) -> Result<LearnReport> {
    let cfg = &cfg.resolve(task);
    let start = Instant::now();
    // The size model refuses an over-large task before any clause or tensor is allocated.
    ilp::check_learn(task, cfg.seeds.max(1), cfg.memory_limit_mib)?;
    let clause_sets = ilp::generate_all(task);
    let shapes: Vec<(usize, usize)> = clause_sets
        .iter()
        .map(|cs| (cs.templates[0].len(), cs.templates[1].len().max(1)))
        .collect();
    let seeds = cfg.seeds.max(1);
    let mut trainer: Box<dyn Trainer> = match backend::choose(cfg, device)? {
        Backend::Native => Box::new(native_backend::NativeBackend::new(
            task,
            &clause_sets,
            num_threads(),
        )),
        #[cfg(feature = "torch")]
        _ => Box::new(torch_backend::TorchBackend::new(
            task,
            &clause_sets,
            cfg,
            device,
        )?),
        #[cfg(not(feature = "torch"))]
        other => {
            return Err(crate::Error::Config(format!(
                "the {other:?} backend needs LibTorch, which this build lacks"
            )))
        }
    };
    let (estimate, paper) = trainer.memory(seeds, &shapes);
    backend::check_memory(&task.name, seeds, estimate, cfg)?;
    let init: Vec<SeedWeights> = (0..seeds)
        .map(|s| seed_weights(&shapes, cfg.seed.wrapping_add(s as u64), cfg.init_std))
        .collect();
    trainer.start(&init, cfg)?;
    let run = train::train(trainer.as_mut(), cfg, (seeds, &shapes), observer)?;
    let outcome = trainer.evaluate(&run.finals, cfg)?;
    let facts = report::RunFacts {
        backend: trainer.name(),
        device: format!("{device:?}"),
        threads: num_threads() as i32,
        estimate,
        paper,
        start,
    };
    Ok(report::report(
        task,
        cfg,
        &clause_sets,
        &run,
        outcome,
        facts,
    ))
}
