//! Rule weights: one matrix `W_p` of shape `K1 × K2` per intensional predicate and per batch row,
//! with a softmax over the whole matrix giving a distribution over clause pairs.

use crate::rng::Rng;
use tch::{Device, Kind, Tensor};

/// Per intensional predicate, a `[S, K1, K2]` tensor of unnormalised weights.
#[derive(Debug)]
pub struct RuleWeights {
    pub tensors: Vec<Tensor>,
}

/// Standard normal samples from a seeded generator (Box–Muller), so initialisation does not
/// depend on LibTorch's generator or thread count.
pub fn normal(rng: &mut Rng, len: usize, std: f64) -> Vec<f32> {
    (0..len)
        .map(|_| {
            let u1 = rng.unit().max(1e-300);
            let u2 = rng.unit();
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * std) as f32
        })
        .collect()
}

impl RuleWeights {
    /// N(0, std²) weights for `seeds` independent rows; row `s` is drawn from seed `seed + s`, so a
    /// seed gives the same weights whatever batch it is trained in.
    pub fn init(
        shapes: &[(usize, usize)],
        seeds: usize,
        seed: u64,
        std: f64,
        device: Device,
    ) -> Self {
        let tensors = shapes
            .iter()
            .enumerate()
            .map(|(p, &(k1, k2))| {
                let mut data = Vec::with_capacity(seeds * k1 * k2);
                for s in 0..seeds {
                    let mut rng =
                        Rng::new((seed + s as u64).wrapping_mul(1_000_003) ^ (p as u64) << 48);
                    data.extend(normal(&mut rng, k1 * k2, std));
                }
                Tensor::from_slice(&data)
                    .view([seeds as i64, k1 as i64, k2 as i64])
                    .to_device(device)
                    .set_requires_grad(true)
            })
            .collect();
        RuleWeights { tensors }
    }

    /// Weights that put (almost) all mass on one clause pair per predicate, for tests.
    pub fn one_hot(shapes: &[(usize, usize)], choice: &[(usize, usize)], device: Device) -> Self {
        let tensors = shapes
            .iter()
            .zip(choice)
            .map(|(&(k1, k2), &(j, k))| {
                let mut data = vec![-1e4f32; k1 * k2];
                data[j * k2 + k] = 0.0;
                Tensor::from_slice(&data)
                    .view([1, k1 as i64, k2 as i64])
                    .to_device(device)
            })
            .collect();
        RuleWeights { tensors }
    }

    /// Softmax over each whole matrix: `[S, K1, K2]` distributions over clause pairs.
    pub fn probs(&self) -> Vec<Tensor> {
        self.tensors.iter().map(pair_softmax).collect()
    }

    /// Row `i` of every matrix, as `[1, K1, K2]` detached tensors.
    pub fn row(&self, i: usize) -> Vec<Tensor> {
        self.tensors
            .iter()
            .map(|w| w.detach().get(i as i64).unsqueeze(0))
            .collect()
    }

    /// The rows `keep` of every matrix (detached, as new leaves).
    pub fn select(&self, keep: &Tensor) -> RuleWeights {
        RuleWeights {
            tensors: self
                .tensors
                .iter()
                .map(|w| w.detach().index_select(0, keep).set_requires_grad(true))
                .collect(),
        }
    }
}

pub fn pair_softmax(w: &Tensor) -> Tensor {
    let size = w.size();
    w.view([size[0], -1])
        .softmax(-1, Kind::Float)
        .view(size.as_slice())
}
