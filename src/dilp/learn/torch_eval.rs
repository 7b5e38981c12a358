//! The LibTorch backend's losses and its evaluations over whole worlds: per-example BCE, MAE
//! and squared error as fallible tensor operations, and the per-seed training loss, validation
//! MSE and largest training error that early stopping and the report read.

use crate::dilp::compile::{CompiledTask, CompiledWorld};
use crate::dilp::infer::{infer, InferOptions};
use crate::dilp::weights::to_vec;
use crate::dilp::Loss;
use crate::error::{shape, torch_err, Result};
use tch::{Kind, TchError, Tensor};

pub(super) type TchResult<T> = std::result::Result<T, TchError>;

pub(super) fn bce(pred: &Tensor, labels: &Tensor) -> TchResult<Tensor> {
    let p = pred.f_clamp(1e-7, 1.0 - 1e-7)?;
    let q = p.f_rsub_scalar(1.0)?;
    let r = labels.f_rsub_scalar(1.0)?;
    let t = labels.f_mul(&p.f_log()?)?.f_add(&r.f_mul(&q.f_log()?)?)?;
    t.f_neg()
}

pub(super) fn mae(pred: &Tensor, labels: &Tensor) -> TchResult<Tensor> {
    pred.f_sub(labels)?.f_abs()
}

pub(super) fn squared_error(pred: &Tensor, labels: &Tensor) -> TchResult<Tensor> {
    pred.f_sub(labels)?.f_square()
}

pub(super) type PerExample = fn(&Tensor, &Tensor) -> TchResult<Tensor>;

pub(super) fn per_example_loss(loss: Loss) -> PerExample {
    match loss {
        Loss::Bce => bce,
        Loss::Mae => mae,
    }
}

/// A `[S]` tensor as plain numbers.
pub(super) fn to_f64s(t: &Tensor, what: &str) -> Result<Vec<f64>> {
    to_vec::<f64>(t).map_err(torch_err(|| {
        format!("copying the {what} {} to the host", shape(t))
    }))
}

/// Predictions `[S, e]` at the examples of `world` after its own number of steps.
pub(super) fn predict(
    world: &CompiledWorld,
    probs: &[Tensor],
    opts: &InferOptions,
) -> Result<Tensor> {
    infer(world, &world.init, probs, world.steps, opts)?
        .f_index_select(1, &world.example_ids)
        .map_err(torch_err(|| {
            format!("picking the {} examples' predictions", world.num_examples)
        }))
}

/// Per-row mean of `per_example(prediction, label)` over every example of `worlds`.
pub(super) fn per_row_mean(
    worlds: &[CompiledWorld],
    probs: &[Tensor],
    opts: &InferOptions,
    per_example: PerExample,
    what: &str,
) -> Result<Vec<f64>> {
    let mut sum: Option<Tensor> = None;
    let mut count = 0;
    for w in worlds {
        let pred = predict(w, probs, opts)?;
        let f = || {
            let e = per_example(&pred, &w.labels)?.f_sum_dim_intlist(
                [1i64].as_slice(),
                false,
                Kind::Float,
            )?;
            match &sum {
                None => Ok(e),
                Some(s) => s.f_add(&e),
            }
        };
        sum = Some(f().map_err(torch_err(|| {
            format!("the {what} over predictions {}", shape(&pred))
        }))?);
        count += w.num_examples;
    }
    match sum {
        Some(s) => {
            let mean = s
                .f_div_scalar(count.max(1) as f64)
                .map_err(torch_err(|| format!("the mean {what}")))?;
            to_f64s(&mean, what)
        }
        None => Ok(Vec::new()),
    }
}

/// Per-row mean training loss over every example of every world.
pub(super) fn full_loss(
    worlds: &[CompiledWorld],
    probs: &[Tensor],
    opts: &InferOptions,
    loss: Loss,
) -> Result<Vec<f64>> {
    per_row_mean(worlds, probs, opts, per_example_loss(loss), "training loss")
}

/// Per-row mean squared error over the validation worlds (the training worlds if none).
pub(super) fn validation_mse(
    task: &CompiledTask,
    probs: &[Tensor],
    opts: &InferOptions,
) -> Result<Vec<f64>> {
    let worlds = if task.validation.is_empty() {
        &task.train
    } else {
        &task.validation
    };
    per_row_mean(worlds, probs, opts, squared_error, "validation error")
}

/// Largest |prediction − label| per row over the training worlds.
pub(super) fn max_train_error(
    worlds: &[CompiledWorld],
    probs: &[Tensor],
    opts: &InferOptions,
) -> Result<Vec<f64>> {
    let mut worst: Option<Tensor> = None;
    for w in worlds {
        let pred = predict(w, probs, opts)?;
        let f = || {
            let e = mae(&pred, &w.labels)?.f_amax([1i64].as_slice(), false)?;
            match &worst {
                None => Ok(e),
                Some(m) => m.f_maximum(&e),
            }
        };
        worst = Some(f().map_err(torch_err(|| {
            format!(
                "the largest training error over predictions {}",
                shape(&pred)
            )
        }))?);
    }
    worst.map_or(Ok(Vec::new()), |t| to_f64s(&t, "largest training error"))
}
