//! The MLP baseline of the MNIST study (paper §5.5.4): the images' 10-way conv-net logits
//! concatenated (20 numbers for two images, 10 for one) → one hidden ReLU layer → one output
//! logit for the task's label,
//! trained with (binary) cross-entropy. Built on an [`nn::Path`] like the conv-net, so the same
//! training loop and `VarStore` can serve it.

use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::torch_err;
use crate::{Error, Result};

/// Size of the MLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of the hidden ReLU layer. Default 64.
    pub hidden: i64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig { hidden: 64 }
    }
}

/// Two linear layers with a ReLU between them: `[B, 20]` → `[B, hidden]` → `[B]`.
#[derive(Debug)]
pub struct Mlp {
    config: MlpConfig,
    /// Input width: 10 per image.
    input: i64,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Mlp {
    /// Input width: two 10-way logit vectors.
    pub const INPUT: i64 = 20;

    /// The two-image MLP.
    pub fn new(path: &nn::Path, config: &MlpConfig) -> Result<Mlp> {
        Self::for_images(path, config, 2)
    }

    /// The MLP of a task with `images` (1 or 2) images per item.
    pub fn for_images(path: &nn::Path, config: &MlpConfig, images: usize) -> Result<Mlp> {
        if !(1..=2).contains(&images) {
            return Err(Error::Config(format!(
                "an MLP over {images} images; 1 or 2 are supported"
            )));
        }
        let input = 10 * images as i64;
        if !(1..=65_536).contains(&config.hidden) {
            return Err(Error::Config(format!(
                "mlp.hidden = {}; expected 1..=65536",
                config.hidden
            )));
        }
        Ok(Mlp {
            config: config.clone(),
            input,
            fc1: nn::linear(path / "fc1", input, config.hidden, Default::default()),
            fc2: nn::linear(path / "fc2", config.hidden, 1, Default::default()),
        })
    }

    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// Images per item the MLP reads (1 or 2).
    pub fn images(&self) -> usize {
        (self.input / 10) as usize
    }

    /// The output logit `[B]` for concatenated logits `[B, 20]`.
    pub fn f_forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.f_linear(&self.fc1.ws, self.fc1.bs.as_ref())
            .and_then(|h| h.f_relu())
            .and_then(|h| h.f_linear(&self.fc2.ws, self.fc2.bs.as_ref()))
            .and_then(|o| o.f_view([-1]))
            .map_err(torch_err)
    }

    /// The output logit `[B]` from the left and right images' logits, each `[B, 10]` (a
    /// one-image MLP reads `left` only).
    pub fn f_forward_pair(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        if self.input == 10 {
            return self.f_forward(left);
        }
        let xs = Tensor::f_cat(&[left, right], 1).map_err(torch_err)?;
        self.f_forward(&xs)
    }

    /// The probability `[B]` of the label (left < right for less-than).
    pub fn f_prob_pair(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        self.f_forward_pair(left, right)?
            .f_sigmoid()
            .map_err(torch_err)
    }

    /// Binary cross-entropy of the logits `[B]` against float labels `[B]` in {0, 1}.
    pub fn loss(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
        logits
            .f_binary_cross_entropy_with_logits::<Tensor>(labels, None, None, tch::Reduction::Mean)
            .map_err(torch_err)
    }
}
