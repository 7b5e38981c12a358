//! One training loop for every model of the MNIST study (the ∂ILP module and the MLP baseline):
//! mini-batches of image pairs, binary cross-entropy, one optimiser over one `VarStore`, test
//! accuracy on both splits every so often, all reported through an observer.

use crate::error::{shape, torch_err, Error, Result};
use crate::neuro::perception::{Perception, Split};
use crate::rng::Rng;
use crate::vision::Pair;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{nn, nn::OptimizerConfig, Device, Kind, TchError, Tensor};

type TchResult<T> = std::result::Result<T, TchError>;

/// A model that maps an item's digit logits to the probability of its label.
pub trait PairModel {
    fn name(&self) -> &str;
    /// `[B]` probabilities from `[B, 10]` logits of the left and right images (a one-image
    /// model reads `left`; it is given the same logits as `right`).
    fn prob(&self, left: &Tensor, right: &Tensor) -> Tensor;
    /// [`Self::prob`], failing with the step and the shapes (LibTorch out of memory, say)
    /// instead of panicking. The training loop calls this one; a model whose forward pass has
    /// a fallible form overrides it.
    fn f_prob(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        Ok(self.prob(left, right))
    }
    /// Images per item: 2 (default) or 1 (then the right image is never read).
    fn images(&self) -> usize {
        2
    }
}

/// The left and right logits of `pairs` from `split`: the right ones are the left ones (not
/// computed again) when the model reads one image.
fn logits_lr(
    model: &dyn PairModel,
    perception: &Perception,
    split: Split,
    pairs: &[Pair],
    train: bool,
) -> Result<(Tensor, Tensor)> {
    let l = perception.logits(split, &index_tensor(pairs, false)?, train)?;
    let r = if model.images() == 1 {
        l.shallow_clone()
    } else {
        perception.logits(split, &index_tensor(pairs, true)?, train)?
    };
    Ok((l, r))
}

/// Settings of one training run (serde; documented defaults).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Optimiser steps. Default 400 (with 64 pairs a step, about 1.3 passes over 20,000 pairs).
    pub steps: usize,
    /// Image pairs per step. Default 64.
    pub batch_size: usize,
    /// Adam learning rate of the model's own weights. Default 0.05.
    pub lr: f64,
    /// Adam learning rate of the conv-net when it trains (finetune, scratch). Default 1e-3.
    pub vision_lr: f64,
    /// Evaluate test accuracy every this many steps (for the curves). Default 50.
    pub eval_every: usize,
    /// Test pairs per split used for the curves (the final figures use every test pair). Default 500.
    pub eval_pairs: usize,
    /// Seed of the batch sampling. Default 0.
    pub seed: u64,
    /// Weight λ of a label-free clustering term added to the loss when the conv-net trains:
    /// λ · (mean entropy of each image's digit distribution − entropy of the batch's mean
    /// distribution). It asks for confident, evenly used digit classes and says nothing about
    /// which class is which; only the less-than labels, through the rules, can. Default 0.
    pub cluster_weight: f64,
    /// Weight μ of a label-free balance term added when the conv-net trains: −μ · the entropy
    /// of the batch's mean digit distribution. Unlike the clustering term it does not ask each
    /// image to be read confidently, which would saturate the softmax; it only asks that no
    /// digit class go unused. Default 0.
    pub balance_weight: f64,
    /// Weight of a true-labelled pair in the cross-entropy, relative to a false one (the loss
    /// is the weighted mean). Joint training's first stage sets it to the training pairs'
    /// false/true ratio so that a task with few true pairs is not won by answering false.
    /// Default 1 (plain BCE).
    pub pos_weight: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 400,
            batch_size: 64,
            lr: 0.05,
            vision_lr: 1e-3,
            eval_every: 50,
            eval_pairs: 500,
            seed: 0,
            cluster_weight: 0.0,
            balance_weight: 0.0,
            pos_weight: 1.0,
        }
    }
}

/// One point of a learning curve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: usize,
    pub loss: f64,
    pub seen_acc: f64,
    pub heldout_acc: f64,
    /// Digit accuracy of a training conv-net on the probe images, under the best one-to-one
    /// matching of its outputs to digits (None when the conv-net is frozen or there is no probe).
    #[serde(default)]
    pub digit_acc: Option<f64>,
}

pub trait TrainObserver {
    fn on_step(&mut self, _step: usize, _loss: f64) {}
    fn on_eval(&mut self, _point: &CurvePoint) {}
}
impl TrainObserver for () {}

/// The test pairs of a split, kept together for evaluation.
pub struct TestSets<'a> {
    pub seen: &'a [Pair],
    pub heldout: &'a [Pair],
    /// The digits of the first test images, to watch a training reading of digits improve;
    /// they are never used for training.
    pub probe: Option<&'a [u8]>,
}

/// Matched digit accuracy of a training reading on the `probe` images (None when frozen or no
/// probe).
pub fn probe_digits(perception: &Perception, probe: Option<&[u8]>) -> Result<Option<f64>> {
    let Some(digits) = probe else {
        return Ok(None);
    };
    let Some(pred) = perception.digit_predictions(digits.len())? else {
        return Ok(None);
    };
    let pred: Vec<i64> = crate::dilp::weights::to_vec(&pred).map_err(torch_err(|| {
        format!("copying digit predictions {}", shape(&pred))
    }))?;
    Ok(Some(
        crate::vision::matching::matched_accuracy(&pred, digits).0,
    ))
}

fn index_tensor(pairs: &[Pair], right: bool) -> Result<Tensor> {
    let v: Vec<i64> = pairs
        .iter()
        .map(|p| (if right { p.right } else { p.left }) as i64)
        .collect();
    Tensor::f_from_slice(&v).map_err(torch_err(|| format!("{} image indices", v.len())))
}

fn labels(pairs: &[Pair], device: Device) -> Result<Tensor> {
    let v: Vec<f32> = pairs.iter().map(|p| f32::from(u8::from(p.label))).collect();
    Tensor::f_from_slice(&v)
        .and_then(|t| t.f_to_device(device))
        .map_err(torch_err(|| {
            format!("copying {} labels to {device:?}", v.len())
        }))
}

/// Accuracy of `model` on `pairs` of MNIST test images (threshold 0.5); NaN for no pairs.
pub fn accuracy(model: &dyn PairModel, perception: &Perception, pairs: &[Pair]) -> Result<f64> {
    if pairs.is_empty() {
        return Ok(f64::NAN);
    }
    let mut correct = 0i64;
    for chunk in pairs.chunks(1000) {
        let (l, r) = logits_lr(model, perception, Split::Test, chunk, false)?;
        let p = tch::no_grad(|| model.f_prob(&l, &r))?;
        let y = labels(chunk, p.device())?;
        let f = || -> TchResult<i64> {
            let right = p.f_ge(0.5)?.f_to_kind(Kind::Float)?.f_eq_tensor(&y)?;
            right.f_sum(Kind::Int64)?.f_int64_value(&[])
        };
        correct += f().map_err(torch_err(|| format!("accuracy over {}", shape(&p))))?;
    }
    Ok(correct as f64 / pairs.len() as f64)
}

/// `model`'s `P(target)` for each of `pairs` of MNIST test images, in order.
pub fn probabilities(
    model: &dyn PairModel,
    perception: &Perception,
    pairs: &[Pair],
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(1000) {
        let (l, r) = logits_lr(model, perception, Split::Test, chunk, false)?;
        let p = tch::no_grad(|| model.f_prob(&l, &r))?;
        let v: Vec<f64> = crate::dilp::weights::to_vec(&p)
            .map_err(torch_err(|| format!("copying probabilities {}", shape(&p))))?;
        out.extend(v);
    }
    Ok(out)
}

/// Mean BCE of `model` on `pairs` of MNIST training images, without gradients.
pub fn mean_loss(model: &dyn PairModel, perception: &Perception, pairs: &[Pair]) -> Result<f64> {
    let mut total = 0.0;
    for chunk in pairs.chunks(1000) {
        let (l, r) = logits_lr(model, perception, Split::Train, chunk, false)?;
        let p = tch::no_grad(|| model.f_prob(&l, &r))?;
        let y = labels(chunk, p.device())?;
        let loss = tch::no_grad(|| bce(&p, &y).and_then(|l| l.f_double_value(&[])))
            .map_err(torch_err(|| format!("the loss over {}", shape(&p))))?;
        total += loss * chunk.len() as f64;
    }
    Ok(total / pairs.len().max(1) as f64)
}

/// The mean per-image entropy and the entropy of the mean digit distribution, over both
/// images of a batch (`[B, 10]` logits each).
fn entropies(l: &Tensor, r: &Tensor) -> TchResult<(Tensor, Tensor)> {
    // A one-image item's right logits are its left ones: counting them twice changes neither mean.
    let logp = Tensor::f_cat(&[l, r], 0)?.f_log_softmax(-1, Kind::Float)?;
    let p = logp.f_exp()?;
    let each = p
        .f_mul(&logp)?
        .f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?
        .f_neg()?;
    let mean = p.f_mean_dim([0i64].as_slice(), false, Kind::Float)?;
    let spread = mean
        .f_mul(&mean.f_add_scalar(1e-8)?.f_log()?)?
        .f_sum(Kind::Float)?
        .f_neg()?;
    Ok((each.f_mean(Kind::Float)?, spread))
}

fn bce(p: &Tensor, y: &Tensor) -> TchResult<Tensor> {
    weighted_bce(p, y, 1.0)
}

/// BCE with true labels weighted `pos_weight`, as the weighted mean.
fn weighted_bce(p: &Tensor, y: &Tensor, pos_weight: f64) -> TchResult<Tensor> {
    let p = p.f_clamp(1e-6, 1.0 - 1e-6)?;
    let q = p.f_rsub_scalar(1.0)?;
    let r = y.f_rsub_scalar(1.0)?;
    let t = y.f_mul(&p.f_log()?)?.f_add(&r.f_mul(&q.f_log()?)?)?;
    if pos_weight == 1.0 {
        return t.f_mean(Kind::Float)?.f_neg();
    }
    let w = y.f_mul_scalar(pos_weight - 1.0)?.f_add_scalar(1.0)?;
    t.f_mul(&w)?
        .f_sum(Kind::Float)?
        .f_div(&w.f_sum(Kind::Float)?)?
        .f_neg()
}

/// What a run produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOutcome {
    pub curve: Vec<CurvePoint>,
    pub seconds: f64,
    pub final_loss: f64,
}

/// Trains every trainable variable of `vs` (group 0 at `lr`, group 1, the conv-net, at
/// `vision_lr`) on `train` pairs.
pub fn train_pairs(
    model: &dyn PairModel,
    perception: &Perception,
    vs: &nn::VarStore,
    train: &[Pair],
    test: &TestSets,
    cfg: &TrainConfig,
    observer: &mut dyn TrainObserver,
) -> Result<TrainOutcome> {
    if train.is_empty() {
        return Err(Error::Config("no training pairs".into()));
    }
    let start = Instant::now();
    let mut opt = nn::Adam::default()
        .build(vs, cfg.lr)
        .map_err(torch_err(|| "building the optimiser"))?;
    // Group 1 (the conv-net) exists only when the perception trains.
    if matches!(perception, Perception::Live { .. }) {
        opt.set_lr_group(1, cfg.vision_lr);
    }
    let mut rng = Rng::new(cfg.seed ^ 0x0074_7261_696e);
    let seen_eval = &test.seen[..test.seen.len().min(cfg.eval_pairs)];
    let held_eval = &test.heldout[..test.heldout.len().min(cfg.eval_pairs)];
    let mut curve = Vec::new();
    let mut recent = Vec::new();
    let device = vs.device();
    for step in 1..=cfg.steps {
        let batch: Vec<Pair> = (0..cfg.batch_size)
            .map(|_| train[rng.below(train.len())])
            .collect();
        let (l, r) = logits_lr(model, perception, Split::Train, &batch, true)?;
        let p = model.f_prob(&l, &r)?;
        let y = labels(&batch, device)?;
        let live = matches!(perception, Perception::Live { .. });
        let shaped = live && (cfg.cluster_weight > 0.0 || cfg.balance_weight > 0.0);
        let mut f = || -> TchResult<f64> {
            let loss = weighted_bce(&p, &y, cfg.pos_weight)?;
            let total = if shaped {
                let (each, spread) = entropies(&l, &r)?;
                loss.f_add(&each.f_mul_scalar(cfg.cluster_weight)?)?
                    .f_sub(&spread.f_mul_scalar(cfg.cluster_weight + cfg.balance_weight)?)?
            } else {
                loss.shallow_clone()
            };
            opt.zero_grad();
            total.f_backward()?;
            opt.step();
            loss.f_double_value(&[])
        };
        let loss = f().map_err(torch_err(|| {
            format!(
                "training step {step}: loss and gradient over logits {}",
                shape(&l)
            )
        }))?;
        recent.push(loss);
        observer.on_step(step, loss);
        if (cfg.eval_every > 0 && step % cfg.eval_every == 0) || step == cfg.steps {
            let mean = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
            recent.clear();
            let point = CurvePoint {
                step,
                loss: mean,
                seen_acc: accuracy(model, perception, seen_eval)?,
                heldout_acc: accuracy(model, perception, held_eval)?,
                digit_acc: probe_digits(perception, test.probe)?,
            };
            observer.on_eval(&point);
            curve.push(point);
        }
    }
    Ok(TrainOutcome {
        final_loss: curve.last().map_or(f64::NAN, |p| p.loss),
        curve,
        seconds: start.elapsed().as_secs_f64(),
    })
}
