//! Where the digit logits come from: cached from the frozen pretrained conv-net (computed once,
//! reused by every run of a sweep), or computed live by a conv-net that trains with the rules.

use crate::error::{shape, torch_err, Result};
use crate::vision::ConvNet;
use tch::{Device, Kind, Tensor};

/// How the conv-net takes part in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisionMode {
    /// Pretrained and frozen (the paper's set-up).
    Frozen,
    /// Pretrained, then trained further by the rule loss.
    Finetune,
    /// Randomly initialised and trained only through the rules: no digit labels at all.
    Scratch,
    /// Randomly initialised; the rule and the digits learned together from the pair labels
    /// alone (no symbolic table of digit tuples): clusters, then abduction, then training
    /// through the abduced program (see `experiment::mnist::joint`).
    Joint,
}

impl std::str::FromStr for VisionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "frozen" => Ok(VisionMode::Frozen),
            "finetune" => Ok(VisionMode::Finetune),
            "scratch" => Ok(VisionMode::Scratch),
            "joint" => Ok(VisionMode::Joint),
            _ => Err(format!(
                "unknown vision mode `{s}` (frozen, finetune, scratch, joint)"
            )),
        }
    }
}

/// Which MNIST split a pair's indices point into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// A source of digit logits `[B, 10]` for image indices.
#[allow(clippy::large_enum_variant)] // one per run; boxing buys nothing
pub enum Perception {
    Cached {
        train: Tensor,
        test: Tensor,
    },
    Live {
        net: ConvNet,
        train: Tensor,
        test: Tensor,
    },
}

/// Logits of `images` (`[N, 1, 28, 28]`) in evaluation mode, in chunks, without gradients.
pub fn logits_of(net: &ConvNet, images: &Tensor, device: Device) -> Result<Tensor> {
    let n = images.size().first().copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut i = 0;
    tch::no_grad(|| -> Result<()> {
        while i < n {
            let c = 2000.min(n - i);
            let x = images
                .f_narrow(0, i, c)
                .and_then(|x| x.f_to_device(device))
                .map_err(torch_err(|| {
                    format!(
                        "copying images {i}..{} of {} to {device:?}",
                        i + c,
                        shape(images)
                    )
                }))?;
            out.push(net.f_forward_t(&x, false)?);
            i += c;
        }
        Ok(())
    })?;
    Tensor::f_cat(&out, 0).map_err(torch_err(|| format!("joining the logits of {n} images")))
}

/// Rows `idx` of `src`, on `device`.
fn pick(src: &Tensor, idx: &Tensor, device: Device) -> Result<Tensor> {
    idx.f_to_device(src.device())
        .and_then(|i| src.f_index_select(0, &i))
        .and_then(|x| x.f_to_device(device))
        .map_err(torch_err(|| {
            format!("rows {} of {} onto {device:?}", shape(idx), shape(src))
        }))
}

impl Perception {
    /// Logits for `idx` (`[B]` int64) of `split`; `train` enables dropout and gradients in live mode.
    pub fn logits(&self, split: Split, idx: &Tensor, train: bool) -> Result<Tensor> {
        match self {
            Perception::Cached { train: tr, test } => {
                let src = if split == Split::Train { tr } else { test };
                pick(src, idx, src.device())
            }
            Perception::Live {
                net,
                train: tr,
                test,
            } => {
                let src = if split == Split::Train { tr } else { test };
                let device = net_device(net);
                let x = pick(src, idx, device)?;
                if train {
                    net.f_forward_t(&x, true)
                } else {
                    tch::no_grad(|| net.f_forward_t(&x, false))
                }
            }
        }
    }

    /// The digit read from each of the first `n` test images, when the reading trains (None
    /// when it is the frozen pretrained conv-net's).
    pub fn digit_predictions(&self, n: usize) -> Result<Option<Tensor>> {
        let logits = match self {
            Perception::Cached { .. } => return Ok(None),
            Perception::Live { net, test, .. } => {
                let n = (n as i64).min(test.size().first().copied().unwrap_or(0));
                let first = test
                    .f_narrow(0, 0, n)
                    .map_err(torch_err(|| format!("the first {n} test images")))?;
                logits_of(net, &first, net_device(net))?
            }
        };
        let digits = logits
            .f_argmax(-1, false)
            .and_then(|t| t.f_to_kind(Kind::Int64))
            .and_then(|t| t.f_to_device(Device::Cpu))
            .map_err(torch_err(|| {
                format!("the digits of logits {}", shape(&logits))
            }))?;
        Ok(Some(digits))
    }
}

fn net_device(net: &ConvNet) -> Device {
    net.parameters()
        .first()
        .map_or(Device::Cpu, |(_, t)| t.device())
}
