//! What the training kernels need to know about a run, and nothing else: the loss, the
//! optimiser and its learning rate, the amalgamation, and the perturbation schedule. A leaf module: [`super::learn`]
//! builds [`StepSettings`] from its config, and the kernels never see the config itself.

use super::lane::Lane;
use super::perturb::Perturb;
use super::Amalgamation;
use serde::{Deserialize, Serialize};

/// The rule-weight optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// TensorFlow 1's RMSProp (decay 0.9, mean square initialised to 1, ε = 1e-10), which the paper used.
    #[default]
    Rmsprop,
    /// Adam (β = 0.9, 0.999; ε = 1e-8).
    Adam,
}

impl std::str::FromStr for Optimizer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rmsprop" => Ok(Optimizer::Rmsprop),
            "adam" => Ok(Optimizer::Adam),
            _ => Err(format!("unknown optimizer `{s}` (rmsprop, adam)")),
        }
    }
}

impl Optimizer {
    /// The second moment's starting value: TensorFlow 1's RMSProp starts its mean square at 1.
    pub fn second_moment_init(self) -> f32 {
        match self {
            Optimizer::Rmsprop => 1.0,
            Optimizer::Adam => 0.0,
        }
    }

    /// One update of weights `w` by gradient `g` at step `t` (from 1), with first and second
    /// moments `m1` and `m2` (RMSProp uses only the second).
    pub fn update<V: Lane>(
        self,
        lr: f32,
        t: i32,
        w: &mut [V],
        g: &[V],
        m1: &mut [V],
        m2: &mut [V],
    ) {
        let s = V::splat;
        match self {
            Optimizer::Rmsprop => {
                for ((w, &g), v) in w.iter_mut().zip(g).zip(m2.iter_mut()) {
                    *v = *v * s(0.9) + g * g * s(0.1);
                    *w -= g * s(lr) / (*v + s(1e-10)).sqrt();
                }
            }
            Optimizer::Adam => {
                let c1 = s(1.0 - 0.9f32.powi(t));
                let c2 = s(1.0 - 0.999f32.powi(t));
                for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m1.iter_mut()).zip(m2.iter_mut()) {
                    *m = *m * s(0.9) + g * s(0.1);
                    *v = *v * s(0.999) + g * g * s(0.001);
                    *w -= (*m / c1) * s(lr) / ((*v / c2).sqrt() + s(1e-8));
                }
            }
        }
    }
}

/// The training loss on one example's prediction `p` against its label `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Binary cross-entropy: the paper's choice.
    #[default]
    Bce,
    /// Mean absolute error |p − y|. Its gradient does not grow on a confidently contradicted
    /// example, so a few flipped labels cannot outweigh the rest; under symmetric label noise
    /// below 1/2 its risk minimiser is the clean one (Ghosh, Kumar and Sastry, AAAI 2017). For a
    /// crisp program it is the error count that the SAT baseline's noise-tolerant mode minimises.
    Mae,
}

impl Loss {
    /// The loss at prediction `v` and its derivative in `v`. BCE clamps `v` to
    /// [1e-7, 1 − 1e-7] and, as LibTorch's clamp does, passes no gradient outside.
    #[inline]
    pub fn at(self, v: f32, y: f32) -> (f32, f32) {
        match self {
            Loss::Bce => {
                const EPS: f32 = 1e-7;
                let p = v.clamp(EPS, 1.0 - EPS);
                let loss = -(y * p.ln() + (1.0 - y) * (1.0 - p).ln());
                let grad = if (EPS..=1.0 - EPS).contains(&v) {
                    -y / p + (1.0 - y) / (1.0 - p)
                } else {
                    0.0
                };
                (loss, grad)
            }
            // LibTorch's |x| passes 0 at x = 0; a saturated prediction can equal its label.
            Loss::Mae if v == y => (0.0, 0.0),
            Loss::Mae => ((v - y).abs(), 1.0 - 2.0 * y),
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bce" => Ok(Loss::Bce),
            "mae" => Ok(Loss::Mae),
            _ => Err(format!("unknown loss `{s}` (bce, mae)")),
        }
    }
}

/// One training step's settings, as the kernels take them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSettings {
    pub amalgamation: Amalgamation,
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub lr: f32,
    /// Noise and temperature on the pair softmax while training (default: none).
    pub perturb: Perturb,
}
