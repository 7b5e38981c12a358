//! The training loop: one world and one mini-batch of its examples per step, every seed still
//! training on the same examples, and early stopping of the seeds that are done.

use super::backend::Trainer;
use super::config::{EarlyStop, LearnConfig};
use super::report::{LearnObserver, Progress};
use crate::dilp::weights::SeedWeights;
use crate::error::{Error, Result};
use crate::rng::Rng;
use std::time::Instant;

/// What the loop leaves behind.
pub struct Trained {
    /// Every seed's final weights, in seed order.
    pub finals: Vec<SeedWeights>,
    /// Steps each seed trained before it stopped (or all of them).
    pub trained: Vec<usize>,
    /// Seed-steps computed.
    pub seed_steps: usize,
    /// Steps the loop ran.
    pub steps_run: usize,
    pub seconds: f64,
}

/// The seeds still training, by their seed index, and what is known of those that stopped.
struct Batch {
    active: Vec<usize>,
    finals: Vec<Option<SeedWeights>>,
    trained: Vec<usize>,
    converged: usize,
    solved: usize,
}

impl Batch {
    /// Stops the seeds at positions `done` (increasing) after `steps` steps, given their current
    /// weights and validation MSEs, and tells the trainer to keep the rest.
    fn stop(
        &mut self,
        trainer: &mut dyn Trainer,
        done: &[usize],
        steps: usize,
        mse: &[f64],
        cfg: &LearnConfig,
    ) -> Result<()> {
        let weights = trainer.weights()?;
        for &i in done {
            let s = self.active[i];
            self.finals[s] = Some(weights[i].clone());
            self.trained[s] = steps;
            self.converged += 1;
            self.solved += usize::from(mse[i] < cfg.success_mse);
        }
        let keep: Vec<usize> = (0..self.active.len())
            .filter(|i| !done.contains(i))
            .collect();
        self.active = keep.iter().map(|&i| self.active[i]).collect();
        if !self.active.is_empty() {
            trainer.retain(&keep)?;
        }
        Ok(())
    }
}

/// Positions of the seeds that may stop now, from the trainer's check.
fn done(trainer: &mut dyn Trainer, cfg: &LearnConfig) -> Result<(Vec<usize>, Vec<f64>)> {
    let (err, mse) = trainer.check(cfg)?;
    let done = (0..err.len())
        .filter(|&i| {
            err[i] < cfg.tolerance && (cfg.early_stop == EarlyStop::Fit || mse[i] < cfg.success_mse)
        })
        .collect();
    Ok((done, mse))
}

/// Trains `seeds` seeds (already started on `trainer`) for `cfg.steps` steps.
pub fn train(
    trainer: &mut dyn Trainer,
    cfg: &LearnConfig,
    seeds: usize,
    observer: &mut dyn LearnObserver,
) -> Result<Trained> {
    let mut batch = Batch {
        active: (0..seeds).collect(),
        finals: vec![None; seeds],
        trained: vec![cfg.steps; seeds],
        converged: 0,
        solved: 0,
    };
    let sizes = trainer.train_sizes();
    let mut rng = Rng::new(cfg.seed ^ 0xD11F);
    let (mut seed_steps, mut steps_run) = (0, 0);
    let start = Instant::now();
    for step in 0..cfg.steps {
        if batch.active.is_empty() {
            break;
        }
        let w = rng.below(sizes.len());
        let pick: Vec<usize> = if cfg.batch_size == 0 || cfg.batch_size >= sizes[w] {
            (0..sizes[w]).collect()
        } else {
            rng.sample(sizes[w], cfg.batch_size)
        };
        trainer.step(w, &pick, cfg)?;
        seed_steps += batch.active.len();
        steps_run = step + 1;
        let last = step + 1 == cfg.steps;
        let check = cfg.check_every > 0 && (step + 1) % cfg.check_every == 0;
        if cfg.early_stop != EarlyStop::Off && check && !last {
            let (done, mse) = done(trainer, cfg)?;
            if !done.is_empty() {
                batch.stop(trainer, &done, step + 1, &mse, cfg)?;
            }
        }
        if step % 10 == 0 || last || batch.active.is_empty() {
            observer.on_progress(&Progress {
                step: step + 1,
                steps: cfg.steps,
                loss: trainer.last_loss(),
                active: batch.active.len(),
                converged: batch.converged,
                solved: batch.solved,
            });
        }
    }
    let weights = trainer.weights()?;
    for (i, &s) in batch.active.iter().enumerate() {
        batch.finals[s] = weights.get(i).cloned();
    }
    // A seed either stopped early (its weights kept then) or is still active now.
    let finals = batch
        .finals
        .into_iter()
        .enumerate()
        .map(|(s, f)| f.ok_or_else(|| Error::Torch(format!("seed {s} came back without weights"))))
        .collect::<Result<_>>()?;
    Ok(Trained {
        finals,
        trained: batch.trained,
        seed_steps,
        steps_run,
        seconds: start.elapsed().as_secs_f64(),
    })
}
