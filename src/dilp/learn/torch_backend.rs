//! The LibTorch backend: the dense tensor model ([`crate::dilp::infer`]) with autograd, any
//! t-norm, on any device.

use super::backend::Trainer;
use super::config::{LearnConfig, Optimizer};
use super::torch_eval::{
    full_loss, max_train_error, per_example_loss, to_f64s, validation_mse, TchResult,
};
use crate::dilp::compile::CompiledTask;
use crate::dilp::infer::{infer, InferOptions};
use crate::dilp::memory;
use crate::dilp::perturb::draws;
use crate::dilp::weights::{RuleWeights, SeedWeights};
use crate::dilp::StepSettings;
use crate::error::{shape, torch_err, Result};
use crate::ilp::{ClauseSet, Task};
use tch::{Device, Kind, Tensor};

struct OptState {
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    t: i32,
}

impl OptState {
    fn new(weights: &RuleWeights, kind: Optimizer) -> Result<Self> {
        let init = |w: &Tensor| {
            match kind {
                Optimizer::Rmsprop => w.f_ones_like(),
                Optimizer::Adam => w.f_zeros_like(),
            }
            .map_err(torch_err(|| format!("optimiser state {}", shape(w))))
        };
        let zeros = |w: &Tensor| {
            w.f_zeros_like()
                .map_err(torch_err(|| format!("optimiser state {}", shape(w))))
        };
        Ok(OptState {
            first: weights.tensors.iter().map(zeros).collect::<Result<_>>()?,
            second: weights.tensors.iter().map(init).collect::<Result<_>>()?,
            t: 0,
        })
    }

    fn select(&self, keep: &Tensor) -> Result<Self> {
        let pick = |ts: &[Tensor]| {
            ts.iter()
                .map(|t| {
                    t.f_index_select(0, keep).map_err(torch_err(|| {
                        format!(
                            "keeping rows {} of optimiser state {}",
                            shape(keep),
                            shape(t)
                        )
                    }))
                })
                .collect::<Result<Vec<_>>>()
        };
        Ok(OptState {
            first: pick(&self.first)?,
            second: pick(&self.second)?,
            t: self.t,
        })
    }

    /// One optimiser step on every weight tensor, under `no_grad`.
    fn update(&mut self, weights: &mut RuleWeights, kind: Optimizer, lr: f64) -> Result<()> {
        self.t += 1;
        let t = self.t;
        let _guard = tch::no_grad_guard();
        for (i, w) in weights.tensors.iter_mut().enumerate() {
            let mut g = w.f_grad().map_err(torch_err(|| "reading a gradient"))?;
            if !g.defined() {
                continue;
            }
            let (first, second) = (&mut self.first[i], &mut self.second[i]);
            let mut f = || -> TchResult<()> {
                let delta = match kind {
                    Optimizer::Rmsprop => {
                        *second = second
                            .f_mul_scalar(0.9)?
                            .f_add(&g.f_square()?.f_mul_scalar(0.1)?)?;
                        g.f_mul_scalar(lr)?
                            .f_div(&second.f_add_scalar(1e-10)?.f_sqrt()?)?
                    }
                    Optimizer::Adam => {
                        *first = first.f_mul_scalar(0.9)?.f_add(&g.f_mul_scalar(0.1)?)?;
                        *second = second
                            .f_mul_scalar(0.999)?
                            .f_add(&g.f_square()?.f_mul_scalar(0.001)?)?;
                        let m = first.f_div_scalar(1.0 - 0.9f64.powi(t))?;
                        let v = second.f_div_scalar(1.0 - 0.999f64.powi(t))?;
                        m.f_mul_scalar(lr)?
                            .f_div(&v.f_sqrt()?.f_add_scalar(1e-8)?)?
                    }
                };
                // In place: the returned handle is `w` itself.
                w.f_sub_(&delta).map(drop)?;
                g.f_zero_().map(drop)?;
                Ok(())
            };
            let done = f();
            done.map_err(torch_err(|| {
                format!("the optimiser step on weights {}", shape(w))
            }))?;
        }
        Ok(())
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
    pub fn new(
        task: &Task,
        clause_sets: &[ClauseSet],
        cfg: &LearnConfig,
        device: Device,
    ) -> Result<Self> {
        let compiled = CompiledTask::with_clause_sets(task, clause_sets.to_vec(), device)?;
        let shapes = compiled.weight_shapes();
        let weights = RuleWeights {
            tensors: Vec::new(),
        };
        Ok(TorchBackend {
            state: OptState::new(&weights, cfg.optimizer)?,
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
        })
    }

    /// The current weights' clause-pair distributions, without gradients.
    fn probs(&self) -> Result<Vec<Tensor>> {
        tch::no_grad(|| self.weights.probs())
    }

    /// Seed positions as an index tensor on the device.
    fn index(&self, ids: &[usize]) -> Result<Tensor> {
        let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        Tensor::f_from_slice(&ids)
            .and_then(|t| t.f_to_device(self.device))
            .map_err(torch_err(|| {
                format!("copying {} indices to {:?}", ids.len(), self.device)
            }))
    }

    /// The pair distributions a training step uses: the softmax of the weights, with the
    /// logit noise and temperature of `cfg` at the coming step (as the CPU kernel draws them).
    fn training_probs(&self, cfg: &LearnConfig) -> Result<Vec<Tensor>> {
        let perturb = StepSettings::from(cfg).perturb;
        if !perturb.is_active() {
            return self.weights.probs();
        }
        let t = self.state.t + 1;
        let (sigma, tau) = perturb.at(t);
        let mut tensors = Vec::with_capacity(self.weights.tensors.len());
        for (p, w) in self.weights.tensors.iter().enumerate() {
            let perturbed = || -> TchResult<Tensor> {
                if sigma == 0.0 {
                    return w.f_div_scalar(f64::from(tau));
                }
                let len = w.numel() / self.ids.len().max(1);
                let noise: Vec<f32> = (self.ids.iter())
                    .flat_map(|&id| draws(perturb.kind, id, t, p, len))
                    .collect();
                let noise = Tensor::f_from_slice(&noise)?
                    .f_view(w.size().as_slice())?
                    .f_to_device(self.device)?;
                w.f_add(&noise.f_mul_scalar(f64::from(sigma))?)?
                    .f_div_scalar(f64::from(tau))
            };
            let t =
                perturbed().map_err(torch_err(|| format!("perturbing the logits {}", shape(w))))?;
            tensors.push(t);
        }
        RuleWeights { tensors }.probs()
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

    fn start(&mut self, init: &[SeedWeights], cfg: &LearnConfig) -> Result<()> {
        self.weights = RuleWeights::from_rows(init, &self.shapes, self.device)?.leaves()?;
        self.state = OptState::new(&self.weights, cfg.optimizer)?;
        self.ids = (cfg.seed..).take(init.len()).collect();
        Ok(())
    }

    fn step(&mut self, world: usize, pick: &[usize], cfg: &LearnConfig) -> Result<()> {
        let w = &self.compiled.train[world];
        let (ids, labels) = if pick.len() == w.num_examples {
            (w.example_ids.shallow_clone(), w.labels.shallow_clone())
        } else {
            let pick = self.index(pick)?;
            let both = w
                .example_ids
                .f_index_select(0, &pick)
                .and_then(|ids| Ok((ids, w.labels.f_index_select(0, &pick)?)));
            both.map_err(torch_err(|| format!("picking a batch of {}", shape(&pick))))?
        };
        let probs = self.training_probs(cfg)?;
        let a = infer(w, &w.init, &probs, w.steps, &self.opts)?;
        let per_example = per_example_loss(cfg.loss);
        let f = || -> TchResult<Tensor> {
            let per_seed = per_example(&a.f_index_select(1, &ids)?, &labels)?.f_mean_dim(
                [1i64].as_slice(),
                false,
                Kind::Float,
            )?;
            per_seed.f_sum(Kind::Float)?.f_backward()?;
            per_seed.f_detach()
        };
        let per_seed = f().map_err(torch_err(|| {
            format!(
                "the loss and its gradient over valuations {} ({} examples)",
                shape(&a),
                shape(&ids)
            )
        }))?;
        self.state
            .update(&mut self.weights, cfg.optimizer, cfg.lr)?;
        self.last = Some(per_seed);
        Ok(())
    }

    fn last_loss(&self) -> f64 {
        // For the progress line only: a failure to read it shows as NaN, not as an error.
        self.last.as_ref().map_or(f64::NAN, |t| {
            t.f_mean(Kind::Float)
                .and_then(|m| m.f_double_value(&[]))
                .unwrap_or(f64::NAN)
        })
    }

    fn last_losses(&self) -> Result<Vec<f64>> {
        self.last
            .as_ref()
            .map_or(Ok(Vec::new()), |t| to_f64s(t, "mini-batch losses"))
    }

    fn restart(
        &mut self,
        pos: usize,
        init: &SeedWeights,
        id: u64,
        cfg: &LearnConfig,
    ) -> Result<()> {
        let row = RuleWeights::from_rows(std::slice::from_ref(init), &self.shapes, self.device)?;
        let moment = match cfg.optimizer {
            Optimizer::Rmsprop => 1.0,
            Optimizer::Adam => 0.0,
        };
        let at = pos as i64;
        let mut copy = || -> TchResult<()> {
            tch::no_grad(|| {
                let pairs = self.weights.tensors.iter_mut().zip(&row.tensors);
                for (i, (w, r)) in pairs.enumerate() {
                    w.f_narrow(0, at, 1)?.f_copy_(r)?;
                    let _: Tensor = self.state.first[i].f_narrow(0, at, 1)?.f_fill_(0.0)?;
                    let _: Tensor = self.state.second[i].f_narrow(0, at, 1)?.f_fill_(moment)?;
                }
                Ok(())
            })
        };
        copy().map_err(torch_err(|| format!("restarting seed slot {pos}")))?;
        self.ids[pos] = id;
        Ok(())
    }

    fn weights(&self) -> Result<Vec<SeedWeights>> {
        self.weights.rows()
    }

    fn check(&mut self, _cfg: &LearnConfig) -> Result<(Vec<f64>, Vec<f64>)> {
        let probs = self.probs()?;
        let (compiled, opts) = (&self.compiled, &self.opts);
        Ok((
            tch::no_grad(|| max_train_error(&compiled.train, &probs, opts))?,
            tch::no_grad(|| validation_mse(compiled, &probs, opts))?,
        ))
    }

    fn retain(&mut self, keep: &[usize]) -> Result<()> {
        let idx = self.index(keep)?;
        self.weights = self.weights.select(&idx)?;
        self.state = self.state.select(&idx)?;
        self.ids = keep.iter().map(|&i| self.ids[i]).collect();
        Ok(())
    }

    fn evaluate(
        &mut self,
        finals: &[SeedWeights],
        cfg: &LearnConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let all = RuleWeights::from_rows(finals, &self.shapes, self.device)?;
        let probs = tch::no_grad(|| all.probs())?;
        let (compiled, opts) = (&self.compiled, &self.opts);
        Ok((
            tch::no_grad(|| full_loss(&compiled.train, &probs, opts, cfg.loss))?,
            tch::no_grad(|| validation_mse(compiled, &probs, opts))?,
        ))
    }
}
