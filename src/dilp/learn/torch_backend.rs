//! The LibTorch backend: the dense tensor model ([`crate::dilp::infer`]) with autograd, any
//! t-norm, on any device.

use super::backend::Trainer;
use super::config::{LearnConfig, Optimizer};
use crate::dilp::compile::{CompiledTask, CompiledWorld};
use crate::dilp::infer::{infer, InferOptions};
use crate::dilp::memory;
use crate::dilp::perturb::draws;
use crate::dilp::weights::{RuleWeights, SeedWeights};
use crate::dilp::Loss;
use crate::dilp::StepSettings;
use crate::ilp::{ClauseSet, Task};
use tch::{Device, Kind, Tensor};

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

pub struct TorchBackend {
    compiled: CompiledTask,
    shapes: Vec<(usize, usize)>,
    opts: InferOptions,
    device: Device,
    weights: RuleWeights,
    state: OptState,
    /// The last step's loss per seed, left on the device until asked for.
    last: Option<Tensor>,
    /// Each row's seed number, which names its stream of logit noise.
    ids: Vec<u64>,
}

impl TorchBackend {
    /// Compiles the task's worlds to tensors on `device`.
    pub fn new(task: &Task, clause_sets: &[ClauseSet], cfg: &LearnConfig, device: Device) -> Self {
        let compiled = CompiledTask::with_clause_sets(task, clause_sets.to_vec(), device);
        let shapes = compiled.weight_shapes();
        let weights = RuleWeights {
            tensors: Vec::new(),
        };
        TorchBackend {
            state: OptState::new(&weights, cfg.optimizer),
            weights,
            shapes,
            compiled,
            opts: InferOptions {
                tnorm: cfg.tnorm,
                amalgamation: cfg.amalgamation,
                pair_chunk: cfg.pair_chunk,
            },
            device,
            last: None,
            ids: Vec::new(),
        }
    }

    /// The pair distributions a training step uses: the softmax of the weights, with the
    /// logit noise and temperature of `cfg` at the coming step (as the CPU kernel draws them).
    fn training_probs(&self, cfg: &LearnConfig) -> Vec<Tensor> {
        let perturb = StepSettings::from(cfg).perturb;
        if !perturb.is_active() {
            return self.weights.probs();
        }
        let t = self.state.t + 1;
        let (sigma, tau) = perturb.at(t);
        let tensors = self.weights.tensors.iter().enumerate().map(|(p, w)| {
            if sigma == 0.0 {
                return w / f64::from(tau);
            }
            let len = w.numel() / self.ids.len().max(1);
            let noise: Vec<f32> = (self.ids.iter())
                .flat_map(|&id| draws(perturb.kind, id, t, p, len))
                .collect();
            let noise = Tensor::from_slice(&noise)
                .view(w.size().as_slice())
                .to_device(self.device);
            (w + noise * f64::from(sigma)) / f64::from(tau)
        });
        RuleWeights {
            tensors: tensors.collect(),
        }
        .probs()
    }

    /// The current weights, detached.
    fn detached(&self) -> RuleWeights {
        RuleWeights {
            tensors: self.weights.tensors.iter().map(|t| t.detach()).collect(),
        }
    }
}

impl Trainer for TorchBackend {
    fn name(&self) -> &'static str {
        "torch"
    }

    fn train_sizes(&self) -> Vec<usize> {
        self.compiled.train.iter().map(|w| w.num_examples).collect()
    }

    fn memory(&self, seeds: usize, shapes: &[(usize, usize)]) -> (f64, f64) {
        // Training keeps every step's tensors for backward; validation runs without
        // gradients, so about two steps' worth are alive at once.
        let (train, validation) = (&self.compiled.train, &self.compiled.validation);
        let estimate = train
            .iter()
            .map(|w| memory::our_estimate(w, seeds, w.steps))
            .chain(validation.iter().map(|w| memory::our_estimate(w, seeds, 2)))
            .fold(0.0, f64::max);
        let paper = train
            .iter()
            .map(|w| memory::paper_estimate(w, shapes, w.steps) * seeds as f64)
            .fold(0.0, f64::max);
        (estimate, paper)
    }

    fn start(&mut self, init: &[SeedWeights], cfg: &LearnConfig) {
        let w = RuleWeights::from_rows(init, &self.shapes, self.device);
        self.weights = RuleWeights {
            tensors: w
                .tensors
                .into_iter()
                .map(|t| t.set_requires_grad(true))
                .collect(),
        };
        self.state = OptState::new(&self.weights, cfg.optimizer);
        self.ids = (cfg.seed..).take(init.len()).collect();
    }

    fn step(&mut self, world: usize, pick: &[usize], cfg: &LearnConfig) {
        let world = &self.compiled.train[world];
        let (ids, labels) = if pick.len() == world.num_examples {
            (
                world.example_ids.shallow_clone(),
                world.labels.shallow_clone(),
            )
        } else {
            let pick: Vec<i64> = pick.iter().map(|&i| i as i64).collect();
            let pick = Tensor::from_slice(&pick).to_device(self.device);
            (
                world.example_ids.index_select(0, &pick),
                world.labels.index_select(0, &pick),
            )
        };
        let probs = self.training_probs(cfg);
        let a = infer(world, &world.init, &probs, world.steps, &self.opts);
        let per_seed = per_example_loss(cfg.loss)(&a.index_select(1, &ids), &labels).mean_dim(
            [1i64].as_slice(),
            false,
            Kind::Float,
        );
        per_seed.sum(Kind::Float).backward();
        self.state.update(&mut self.weights, cfg.optimizer, cfg.lr);
        self.last = Some(per_seed.detach());
    }

    fn last_loss(&self) -> f64 {
        self.last.as_ref().map_or(f64::NAN, |t| {
            f64::try_from(t.mean(Kind::Float)).unwrap_or(f64::NAN)
        })
    }

    fn last_losses(&self) -> Vec<f64> {
        self.last.as_ref().map_or_else(Vec::new, to_f64s)
    }

    fn restart(&mut self, pos: usize, init: &SeedWeights, id: u64, cfg: &LearnConfig) {
        let row = RuleWeights::from_rows(std::slice::from_ref(init), &self.shapes, self.device);
        let moment = match cfg.optimizer {
            Optimizer::Rmsprop => 1.0,
            Optimizer::Adam => 0.0,
        };
        let pos = pos as i64;
        tch::no_grad(|| {
            for (i, (w, r)) in self
                .weights
                .tensors
                .iter_mut()
                .zip(&row.tensors)
                .enumerate()
            {
                w.narrow(0, pos, 1).copy_(r);
                let _ = self.state.first[i].narrow(0, pos, 1).fill_(0.0);
                let _ = self.state.second[i].narrow(0, pos, 1).fill_(moment);
            }
        });
        self.ids[pos as usize] = id;
    }

    fn weights(&self) -> Vec<SeedWeights> {
        self.detached().rows()
    }

    fn check(&mut self, _cfg: &LearnConfig) -> (Vec<f64>, Vec<f64>) {
        let probs = tch::no_grad(|| self.detached().probs());
        let (compiled, opts) = (&self.compiled, &self.opts);
        (
            tch::no_grad(|| max_train_error(&compiled.train, &probs, opts)),
            tch::no_grad(|| validation_mse(compiled, &probs, opts)),
        )
    }

    fn retain(&mut self, keep: &[usize]) {
        let idx: Vec<i64> = keep.iter().map(|&i| i as i64).collect();
        let idx = Tensor::from_slice(&idx).to_device(self.device);
        self.weights = self.weights.select(&idx);
        self.state = self.state.select(&idx);
        self.ids = keep.iter().map(|&i| self.ids[i]).collect();
    }

    fn evaluate(&mut self, finals: &[SeedWeights], cfg: &LearnConfig) -> (Vec<f64>, Vec<f64>) {
        let all = RuleWeights::from_rows(finals, &self.shapes, self.device);
        let probs = tch::no_grad(|| all.probs());
        let (compiled, opts) = (&self.compiled, &self.opts);
        (
            tch::no_grad(|| full_loss(&compiled.train, &probs, opts, cfg.loss)),
            tch::no_grad(|| validation_mse(compiled, &probs, opts)),
        )
    }
}
