//! The digit-reading conv-net: two 5×5 convolutions (each ReLU and 2×2 max-pool), a hidden
//! fully-connected ReLU layer with dropout, and a 10-way output.
//!
//! Shapes: `[B, 1, 28, 28]` → conv1 (`conv1` channels, 24×24) → pool 12×12 → conv2 (`conv2`
//! channels, 8×8) → pool 4×4 → flatten (`16·conv2`) → fc1 (`hidden`) → dropout → fc2 (10 logits).
//! Inputs are images in `[0, 1]`; the net standardises them with MNIST's mean and deviation.
//!
//! The layers are created under the [`nn::Path`] the caller gives, so the net can share a
//! `VarStore` with other parameters. [`ConvNet::parameters`] names its tensors relative to that
//! path (`conv1.weight`, ...), which is what checkpoints store.

use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::torch_err;
use crate::{Error, Result};

/// MNIST's pixel mean and standard deviation (over the training set, pixels in `[0, 1]`).
const MEAN: f64 = 0.1307;
const STD: f64 = 0.3081;

/// Architecture of the conv-net. Stored in every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvNetConfig {
    /// Channels of the first 5×5 convolution. Default 32.
    pub conv1: i64,
    /// Channels of the second 5×5 convolution. Default 64.
    pub conv2: i64,
    /// Width of the hidden fully-connected layer. Default 256.
    pub hidden: i64,
    /// Dropout probability before the output layer, in training mode only. Default 0.3.
    pub dropout: f64,
}

impl Default for ConvNetConfig {
    fn default() -> Self {
        ConvNetConfig {
            conv1: 32,
            conv2: 64,
            hidden: 256,
            dropout: 0.3,
        }
    }
}

impl ConvNetConfig {
    /// Rejects sizes that cannot build a net.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("conv1", self.conv1),
            ("conv2", self.conv2),
            ("hidden", self.hidden),
        ] {
            if !(1..=4096).contains(&v) {
                return Err(Error::Config(format!(
                    "convnet.{name} = {v}; expected 1..=4096"
                )));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!(
                "convnet.dropout = {}; expected a probability in [0, 1)",
                self.dropout
            )));
        }
        Ok(())
    }
}

/// The conv-net. Its tensors live in the caller's `VarStore`.
#[derive(Debug)]
pub struct ConvNet {
    config: ConvNetConfig,
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl ConvNet {
    /// Creates freshly initialised layers under `path` (seed with `tch::manual_seed` first for
    /// reproducible weights).
    pub fn new(path: &nn::Path, config: &ConvNetConfig) -> Result<ConvNet> {
        config.validate()?;
        let c = config;
        let conv = nn::ConvConfig::default();
        // A small output layer (PyTorch's default bound) so the first logits are near zero.
        let bound = 1.0 / (c.hidden as f64).sqrt();
        let out_init = nn::LinearConfig {
            ws_init: nn::Init::Uniform {
                lo: -bound,
                up: bound,
            },
            ..Default::default()
        };
        Ok(ConvNet {
            config: c.clone(),
            conv1: nn::conv2d(path / "conv1", 1, c.conv1, 5, conv),
            conv2: nn::conv2d(path / "conv2", c.conv1, c.conv2, 5, conv),
            fc1: nn::linear(path / "fc1", 16 * c.conv2, c.hidden, Default::default()),
            fc2: nn::linear(path / "fc2", c.hidden, 10, out_init),
        })
    }

    pub fn config(&self) -> &ConvNetConfig {
        &self.config
    }

    /// The net's tensors, named relative to its path, in a fixed order.
    pub fn parameters(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::with_capacity(8);
        let layers: [(&str, &Tensor, Option<&Tensor>); 4] = [
            ("conv1", &self.conv1.ws, self.conv1.bs.as_ref()),
            ("conv2", &self.conv2.ws, self.conv2.bs.as_ref()),
            ("fc1", &self.fc1.ws, self.fc1.bs.as_ref()),
            ("fc2", &self.fc2.ws, self.fc2.bs.as_ref()),
        ];
        for (name, ws, bs) in layers {
            out.push((format!("{name}.weight"), ws));
            if let Some(bs) = bs {
                out.push((format!("{name}.bias"), bs));
            }
        }
        out
    }

    /// The hidden layer's activations `[B, hidden]` (after ReLU and, in training, dropout).
    pub fn f_features_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let f = || -> std::result::Result<Tensor, tch::TchError> {
            xs.f_view([-1, 1, 28, 28])?
                .f_sub_scalar(MEAN)?
                .f_div_scalar(STD)?
                .f_conv2d(
                    &self.conv1.ws,
                    self.conv1.bs.as_ref(),
                    [1, 1],
                    [0, 0],
                    [1, 1],
                    1,
                )?
                .f_relu()?
                .f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?
                .f_conv2d(
                    &self.conv2.ws,
                    self.conv2.bs.as_ref(),
                    [1, 1],
                    [0, 0],
                    [1, 1],
                    1,
                )?
                .f_relu()?
                .f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?
                .f_flatten(1, -1)?
                .f_linear(&self.fc1.ws, self.fc1.bs.as_ref())?
                .f_relu()?
                .f_dropout(self.config.dropout, train)
        };
        f().map_err(crate::error::torch_err(|| {
            format!(
                "the conv-net's hidden layer over images {}",
                crate::error::shape(xs)
            )
        }))
    }

    /// Logits `[B, 10]` for images `[B, 1, 28, 28]` (or `[B, 784]`), as a `Result` so that a
    /// wrongly shaped input is an error rather than a panic.
    pub fn f_forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let hidden = self.f_features_t(xs, train)?;
        hidden
            .f_linear(&self.fc2.ws, self.fc2.bs.as_ref())
            .map_err(crate::error::torch_err(|| {
                format!(
                    "the conv-net's logits from {}",
                    crate::error::shape(&hidden)
                )
            }))
    }

    /// Logits `[B, 10]`; `train` turns dropout on. Panics on a wrongly shaped input (see
    /// [`ConvNet::f_forward_t`]).
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        match self.f_forward_t(xs, train) {
            Ok(t) => t,
            Err(e) => panic!("ConvNet::forward_t: {e}"),
        }
    }

    /// Copies `src`'s values into this net (same architecture required), without tracking
    /// gradients.
    pub fn copy_from(&self, src: &ConvNet) -> Result<()> {
        if src.config != self.config {
            return Err(Error::Config(
                "copying between conv-nets of different shapes".into(),
            ));
        }
        tch::no_grad(|| {
            for ((_, dst), (_, s)) in self.parameters().into_iter().zip(src.parameters()) {
                let mut dst = dst.shallow_clone();
                dst.f_copy_(s).map_err(torch_err)?;
            }
            Ok(())
        })
    }
}

impl ConvNet {
    /// Renames the output classes in place: class `i`'s logit becomes class `pi[i]`'s (`pi`
    /// a permutation of 0..10), by permuting the rows of the output layer. Used when a reading
    /// learned without labels is given names (joint training).
    pub fn permute_outputs(&self, pi: &[usize; 10]) -> Result<()> {
        let mut from = [0i64; 10];
        for (i, &k) in pi.iter().enumerate() {
            from[k] = i as i64;
        }
        tch::no_grad(|| {
            let device = self.fc2.ws.device();
            let idx = Tensor::f_from_slice(&from)
                .and_then(|t| t.f_to_device(device))
                .map_err(torch_err)?;
            let layers = std::iter::once(&self.fc2.ws).chain(self.fc2.bs.as_ref());
            for t in layers {
                let moved = t.f_index_select(0, &idx).map_err(torch_err)?;
                t.shallow_clone().f_copy_(&moved).map_err(torch_err)?;
            }
            Ok(())
        })
    }
}

impl nn::ModuleT for ConvNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        ConvNet::forward_t(self, xs, train)
    }
}
