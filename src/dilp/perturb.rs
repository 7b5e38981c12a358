//! Perturbations of the clause-pair softmax during training, against local minima: annealed
//! noise on the logits (Gaussian or Gumbel, as HRI injects Gumbel noise) and an annealed
//! softmax temperature (entropy annealing). Both decay linearly to nothing at the last step, so
//! the model trained at the end is the paper's; evaluation never sees them.
//!
//! A leaf module: the kernels take a [`Perturb`] inside their step settings. The noise a seed
//! gets depends only on its seed number, the step and the predicate (a counter-based stream of
//! [`crate::rng::Rng`]), not on its lane, its group or the thread count.

use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// The distribution of the logit noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    /// Standard normal samples.
    #[default]
    Gaussian,
    /// Standard Gumbel samples, `−ln(−ln u)`: with scale 1 the noisy argmax is a sample from
    /// the softmax (the Gumbel-max trick).
    Gumbel,
}

impl std::str::FromStr for NoiseKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "gaussian" => Ok(NoiseKind::Gaussian),
            "gumbel" => Ok(NoiseKind::Gumbel),
            _ => Err(format!("unknown noise kind `{s}` (gaussian, gumbel)")),
        }
    }
}

/// The perturbation schedule of one run. The default perturbs nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Perturb {
    /// Noise scale at the first step (0: none).
    pub noise: f32,
    pub kind: NoiseKind,
    /// Softmax temperature at the first step (1: the plain softmax).
    pub temperature: f32,
    /// Steps of the run: both decay linearly to their neutral value over them.
    pub steps: usize,
}

impl Default for Perturb {
    fn default() -> Self {
        Perturb {
            noise: 0.0,
            kind: NoiseKind::Gaussian,
            temperature: 1.0,
            steps: 1,
        }
    }
}

impl Perturb {
    /// Whether this schedule changes anything.
    pub fn is_active(&self) -> bool {
        self.noise != 0.0 || self.temperature != 1.0
    }

    /// `(noise scale, temperature)` at step `t` (from 1): `σ₀·f` and `1 + (τ₀ − 1)·f`, where
    /// `f = 1 − (t − 1)/steps` falls from 1 at the first step towards 0 at the last.
    pub fn at(&self, t: i32) -> (f32, f32) {
        let f = 1.0 - (t.max(1) - 1) as f32 / self.steps.max(1) as f32;
        let f = f.clamp(0.0, 1.0);
        (self.noise * f, 1.0 + (self.temperature - 1.0) * f)
    }
}

/// `len` noise samples of `kind` for seed `id` at step `t` on predicate `pred`: the same for a
/// seed wherever it is trained.
pub fn draws(kind: NoiseKind, id: u64, t: i32, pred: usize, len: usize) -> Vec<f32> {
    let key = Rng::new(id ^ 0x05EE_D0F5_7A11_u64).next_u64()
        ^ (t as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
        ^ (pred as u64).wrapping_mul(0xA076_1D64_78BD_642F);
    let mut rng = Rng::new(key);
    match kind {
        NoiseKind::Gaussian => super::weights::normal(&mut rng, len, 1.0),
        NoiseKind::Gumbel => (0..len)
            .map(|_| -(-(rng.unit().max(1e-12)).ln()).ln() as f32)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_starts_at_its_settings_and_decays_to_neutral() {
        let p = Perturb {
            noise: 2.0,
            kind: NoiseKind::Gumbel,
            temperature: 3.0,
            steps: 100,
        };
        assert_eq!(p.at(1), (2.0, 3.0));
        let (s, tau) = p.at(51);
        assert!((s - 1.0).abs() < 1e-6 && (tau - 2.0).abs() < 1e-6);
        let (s, tau) = p.at(101);
        assert!(s == 0.0 && tau == 1.0);
        assert!(!Perturb::default().is_active());
    }

    #[test]
    fn draws_depend_on_seed_step_and_predicate_only() {
        for kind in [NoiseKind::Gaussian, NoiseKind::Gumbel] {
            let a = draws(kind, 7, 3, 1, 500);
            assert_eq!(a, draws(kind, 7, 3, 1, 500));
            assert_ne!(a, draws(kind, 8, 3, 1, 500));
            assert_ne!(a, draws(kind, 7, 4, 1, 500));
            assert_ne!(a, draws(kind, 7, 3, 0, 500));
            let mean = a.iter().sum::<f32>() / 500.0;
            // Gaussian mean 0, Gumbel mean γ ≈ 0.577; both with unit-order spread.
            let want = if kind == NoiseKind::Gumbel {
                0.577
            } else {
                0.0
            };
            assert!((mean - want).abs() < 0.2, "{kind:?} mean {mean}");
        }
    }
}
