//! The native backend: seeds on the CPU kernel ([`crate::dilp::native`]), weights as plain
//! vectors, no LibTorch.

use super::backend::Trainer;
use super::config::LearnConfig;
use crate::dilp::kernel::SparseWorld;
use crate::dilp::memory::paper_formula;
use crate::dilp::native::{tape_bytes, Metric, NativeTrainer, SeedSlot, L};
use crate::dilp::weights::SeedWeights;
use crate::dilp::Loss;
use crate::error::Result;
use crate::ilp::{ClauseSet, Task, World};

pub struct NativeBackend {
    worlds: Vec<SparseWorld>,
    /// The validation worlds, or the training worlds if the task has none.
    validation: Vec<SparseWorld>,
    threads: usize,
    trainer: NativeTrainer,
    last: Vec<f64>,
}

impl NativeBackend {
    /// Compiles the task's worlds for the kernel.
    pub fn new(task: &Task, clause_sets: &[ClauseSet], threads: usize) -> Self {
        let compile = |ws: &[World]| -> Vec<SparseWorld> {
            ws.iter()
                .map(|w| SparseWorld::new(task, clause_sets, w))
                .collect()
        };
        let validation = if task.validation.is_empty() {
            &task.train
        } else {
            &task.validation
        };
        NativeBackend {
            worlds: compile(&task.train),
            validation: compile(validation),
            threads,
            trainer: NativeTrainer::new(Vec::new(), threads),
            last: Vec::new(),
        }
    }

    /// Slots for `weights`, numbered from `cfg.seed`.
    fn slots(weights: &[SeedWeights], cfg: &LearnConfig) -> Vec<SeedSlot> {
        (cfg.seed..)
            .zip(weights)
            .map(|(id, w)| SeedSlot::new(w.clone(), cfg.optimizer).with_id(id))
            .collect()
    }
}

/// The widest template's groundings per head atom in `world`.
fn widest_template(world: &SparseWorld) -> usize {
    world
        .preds
        .iter()
        .flat_map(|p| std::iter::once(&p.t1).chain(&p.t2))
        .map(|t| t.width)
        .max()
        .unwrap_or(1)
}

impl Trainer for NativeBackend {
    fn name(&self) -> &'static str {
        "native"
    }

    fn train_sizes(&self) -> Vec<usize> {
        self.worlds.iter().map(|w| w.examples.len()).collect()
    }

    fn memory(&self, seeds: usize, shapes: &[(usize, usize)]) -> (f64, f64) {
        // One tape per group of seeds, reused between steps.
        let groups = seeds.div_ceil(L) as f64;
        let estimate = self
            .worlds
            .iter()
            .chain(&self.validation)
            .map(|w| tape_bytes(w) * groups + w.compiled_bytes())
            .fold(0.0, f64::max);
        let paper = self
            .worlds
            .iter()
            .map(|w| paper_formula(w.n, widest_template(w), shapes, w.steps) * seeds as f64)
            .fold(0.0, f64::max);
        (estimate, paper)
    }

    fn start(&mut self, init: &[SeedWeights], cfg: &LearnConfig) -> Result<()> {
        self.trainer = NativeTrainer::new(Self::slots(init, cfg), self.threads);
        Ok(())
    }

    fn step(&mut self, world: usize, pick: &[usize], cfg: &LearnConfig) -> Result<()> {
        self.last = self.trainer.step(&self.worlds[world], pick, cfg);
        Ok(())
    }

    fn last_loss(&self) -> f64 {
        self.last.iter().sum::<f64>() / self.last.len().max(1) as f64
    }

    fn last_losses(&self) -> Result<Vec<f64>> {
        Ok(self.last.clone())
    }

    fn restart(
        &mut self,
        pos: usize,
        init: &SeedWeights,
        id: u64,
        cfg: &LearnConfig,
    ) -> Result<()> {
        let slot = SeedSlot::new(init.clone(), cfg.optimizer).with_id(id);
        self.trainer.replace(pos, &slot);
        Ok(())
    }

    fn weights(&self) -> Result<Vec<SeedWeights>> {
        Ok(self.trainer.weights())
    }

    fn check(&mut self, cfg: &LearnConfig) -> Result<(Vec<f64>, Vec<f64>)> {
        let (amalg, tolerance) = (cfg.amalgamation, cfg.tolerance);
        let err = self.trainer.evaluate(&self.worlds, amalg, Metric::MaxError);
        // Only seeds that fit the training set can stop, so only they need validating.
        let fit: Vec<usize> = (0..err.len()).filter(|&i| err[i] < tolerance).collect();
        let mut mse = vec![f64::INFINITY; err.len()];
        let some = self
            .trainer
            .evaluate_some(&fit, &self.validation, amalg, Metric::SquaredError);
        for (&i, m) in fit.iter().zip(some) {
            mse[i] = m;
        }
        Ok((err, mse))
    }

    fn retain(&mut self, keep: &[usize]) -> Result<()> {
        self.trainer.retain(keep);
        Ok(())
    }

    fn evaluate(
        &mut self,
        finals: &[SeedWeights],
        cfg: &LearnConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut all = NativeTrainer::new(Self::slots(finals, cfg), self.threads);
        let amalg = cfg.amalgamation;
        let metric = match cfg.loss {
            Loss::Bce => Metric::Bce,
            Loss::Mae => Metric::AbsError,
        };
        Ok((
            all.evaluate(&self.worlds, amalg, metric),
            all.evaluate(&self.validation, amalg, Metric::SquaredError),
        ))
    }
}
