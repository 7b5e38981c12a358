//! The training loop: one world and one mini-batch of its examples per step, every seed still
//! training on the same examples, early stopping of the seeds that are done, and (on request)
//! restarts of the seeds that stall.
//!
//! A stalled seed is one whose mean mini-batch loss over a window of `restart_window` steps is
//! not `restart_margin` (relative) below its best earlier window. Two kinds never restart: a
//! seed whose window loss is below [`FITTED`] (it fits the training data: it is converging, not
//! stuck) and any seed in the last quarter of the run (a fresh start could not finish). A
//! restarted seed takes weights from a seed number derived from its own ([`restart_id`]), so
//! the run stays a function of its seed.
//!
//! A restart never makes a seed worse: the weights it leaves are kept with their window loss,
//! and a seed still training at the end whose last window is worse than its best left attempt
//! ends with that attempt's weights. Under mislabelled examples a seed that found the right
//! program plateaus above [`FITTED`] and may be restarted; this is what keeps it.

use super::backend::Trainer;
use super::config::{EarlyStop, LearnConfig};
use super::report::{LearnObserver, Progress};
use crate::dilp::weights::{seed_weights, SeedWeights};
use crate::error::{Error, Result};
use crate::rng::Rng;
use std::time::Instant;

/// What the loop leaves behind.
pub struct Trained {
    /// Every seed's final weights, in seed order.
    pub finals: Vec<SeedWeights>,
    /// Steps each seed trained before it stopped (or all of them).
    pub trained: Vec<usize>,
    /// Times each seed was restarted.
    pub restarts: Vec<usize>,
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

/// Below this mean mini-batch loss over a window a seed never restarts.
pub const FITTED: f64 = 0.01;

/// The seed number of restart `r` (from 1) of seed `seed`: far from every seed a batch starts
/// with, and different for every restart.
pub fn restart_id(seed: u64, r: usize) -> u64 {
    seed ^ (r as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
}

/// Per-seed bookkeeping of the stall detector, by seed index.
struct Stalls {
    window_sum: Vec<f64>,
    best: Vec<f64>,
    /// The latest full window's mean loss of each seed's current attempt.
    last: Vec<f64>,
    /// The best attempt each seed left for a restart: its window loss and weights.
    left: Vec<Option<(f64, SeedWeights)>>,
    restarts: Vec<usize>,
}

impl Stalls {
    /// Adds the last step's losses, and at the end of a window restarts the seeds that stalled.
    fn after_step(
        &mut self,
        trainer: &mut dyn Trainer,
        active: &[usize],
        step: usize,
        cfg: &LearnConfig,
        shapes: &[(usize, usize)],
    ) -> Result<()> {
        let window = cfg.restart_window;
        for (&s, l) in active.iter().zip(trainer.last_losses()?) {
            self.window_sum[s] += l;
        }
        if !(step + 1).is_multiple_of(window) {
            return Ok(());
        }
        let late = 4 * (cfg.steps - step - 1) < cfg.steps;
        let mut current: Option<Vec<SeedWeights>> = None;
        for (pos, &s) in active.iter().enumerate() {
            let mean = std::mem::take(&mut self.window_sum[s]) / window as f64;
            self.last[s] = mean;
            let stalled = mean > self.best[s] * (1.0 - cfg.restart_margin);
            if stalled && mean >= FITTED && !late {
                if self.left[s].as_ref().is_none_or(|(l, _)| mean < *l) {
                    if current.is_none() {
                        current = Some(trainer.weights()?);
                    }
                    let w = current.as_ref().and_then(|c| c.get(pos)).cloned();
                    self.left[s] = w.map(|w| (mean, w));
                }
                self.restarts[s] += 1;
                let id = restart_id(cfg.seed.wrapping_add(s as u64), self.restarts[s]);
                trainer.restart(pos, &seed_weights(shapes, id, cfg.init_std), id, cfg)?;
                self.best[s] = f64::INFINITY;
            } else {
                self.best[s] = self.best[s].min(mean);
            }
        }
        Ok(())
    }
}

/// Trains `seeds` seeds (already started on `trainer`) of weight matrices `shapes` for
/// `cfg.steps` steps.
pub fn train(
    trainer: &mut dyn Trainer,
    cfg: &LearnConfig,
    (seeds, shapes): (usize, &[(usize, usize)]),
    observer: &mut dyn LearnObserver,
) -> Result<Trained> {
    let mut batch = Batch {
        active: (0..seeds).collect(),
        finals: vec![None; seeds],
        trained: vec![cfg.steps; seeds],
        converged: 0,
        solved: 0,
    };
    let mut stalls = Stalls {
        window_sum: vec![0.0; seeds],
        best: vec![f64::INFINITY; seeds],
        last: vec![f64::INFINITY; seeds],
        left: vec![None; seeds],
        restarts: vec![0; seeds],
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
        if cfg.restart_window > 0 {
            stalls.after_step(trainer, &batch.active, step, cfg, shapes)?;
        }
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
        batch.finals[s] = match stalls.left[s].take() {
            Some((loss, kept)) if loss < stalls.last[s] => Some(kept),
            _ => weights.get(i).cloned(),
        };
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
        restarts: stalls.restarts,
        seed_steps,
        steps_run,
        seconds: start.elapsed().as_secs_f64(),
    })
}
