//! Rule weights: one matrix `W_p` of shape `K1 × K2` per intensional predicate and per batch row,
//! with a softmax over the whole matrix giving a distribution over clause pairs. The initial
//! weights are plain vectors ([`seed_weights`]); [`RuleWeights`] holds a batch of them as
//! tensors for the LibTorch path.

use crate::rng::Rng;
#[cfg(feature = "torch")]
use tch::{Device, Kind, Tensor};

/// One seed's weights (or pair distributions): per predicate, its `K1 × K2` matrix row-major.
pub type SeedWeights = Vec<Vec<f32>>;

/// One seed's distributions over clause pairs: the softmax of each weight matrix, as the
/// kernel computes it.
pub fn seed_probs(w: &SeedWeights) -> SeedWeights {
    w.iter()
        .map(|w| {
            let mut p = vec![0f32; w.len()];
            super::seeds::softmax(w, &mut p);
            p
        })
        .collect()
}

/// Seed `seed`'s N(0, std²) initial weights for matrices of `shapes`. A seed gets the same
/// weights whatever batch it is trained in.
pub fn seed_weights(shapes: &[(usize, usize)], seed: u64, std: f64) -> SeedWeights {
    shapes
        .iter()
        .enumerate()
        .map(|(p, &(k1, k2))| {
            let mut rng = Rng::new(seed.wrapping_mul(1_000_003) ^ (p as u64) << 48);
            normal(&mut rng, k1 * k2, std)
        })
        .collect()
}

/// Per intensional predicate, a `[S, K1, K2]` tensor of unnormalised weights.
#[cfg(feature = "torch")]
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

#[cfg(feature = "torch")]
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
        let rows: Vec<SeedWeights> = (0..seeds)
            .map(|s| seed_weights(shapes, seed + s as u64, std))
            .collect();
        let w = RuleWeights::from_rows(&rows, shapes, device);
        RuleWeights {
            tensors: w
                .tensors
                .into_iter()
                .map(|t| t.set_requires_grad(true))
                .collect(),
        }
    }

    /// One batch row per seed of `rows`.
    pub fn from_rows(rows: &[SeedWeights], shapes: &[(usize, usize)], device: Device) -> Self {
        let tensors = shapes
            .iter()
            .enumerate()
            .map(|(p, &(k1, k2))| {
                let data: Vec<f32> = rows.iter().flat_map(|r| r[p].iter().copied()).collect();
                Tensor::from_slice(&data)
                    .view([rows.len() as i64, k1 as i64, k2 as i64])
                    .to_device(device)
            })
            .collect();
        RuleWeights { tensors }
    }

    /// Every batch row as plain vectors.
    pub fn rows(&self) -> Vec<SeedWeights> {
        let seeds = self.tensors.first().map_or(0, |t| t.size()[0] as usize);
        let flat: Vec<Vec<f32>> = self
            .tensors
            .iter()
            .map(|t| {
                let t = t.detach().to_kind(Kind::Float).to_device(Device::Cpu);
                Vec::<f32>::try_from(&t.reshape([-1])).unwrap_or_default()
            })
            .collect();
        (0..seeds)
            .map(|s| {
                flat.iter()
                    .map(|f| {
                        let len = f.len() / seeds;
                        f[s * len..(s + 1) * len].to_vec()
                    })
                    .collect()
            })
            .collect()
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

#[cfg(feature = "torch")]
pub fn pair_softmax(w: &Tensor) -> Tensor {
    let size = w.size();
    w.view([size[0], -1])
        .softmax(-1, Kind::Float)
        .view(size.as_slice())
}
