//! Rule weights: one matrix `W_p` of shape `K1 × K2` per intensional predicate and per batch row,
//! with a softmax over the whole matrix giving a distribution over clause pairs. The initial
//! weights are plain vectors ([`seed_weights`]); [`RuleWeights`] holds a batch of them as
//! tensors for the LibTorch path.

#[cfg(feature = "torch")]
use crate::error::{shape, torch_err, Result};
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
    ) -> Result<Self> {
        let rows: Vec<SeedWeights> = (0..seeds)
            .map(|s| seed_weights(shapes, seed.wrapping_add(s as u64), std))
            .collect();
        RuleWeights::from_rows(&rows, shapes, device)?.leaves()
    }

    /// The same weights as leaves that collect gradients.
    pub fn leaves(self) -> Result<Self> {
        let tensors = self
            .tensors
            .into_iter()
            .map(|t| {
                t.f_set_requires_grad(true).map_err(torch_err(|| {
                    format!("making weights {} trainable", shape(&t))
                }))
            })
            .collect::<Result<_>>()?;
        Ok(RuleWeights { tensors })
    }

    /// One batch row per seed of `rows`.
    pub fn from_rows(
        rows: &[SeedWeights],
        shapes: &[(usize, usize)],
        device: Device,
    ) -> Result<Self> {
        let tensors = shapes
            .iter()
            .enumerate()
            .map(|(p, &(k1, k2))| {
                let data: Vec<f32> = rows.iter().flat_map(|r| r[p].iter().copied()).collect();
                let dims = [rows.len() as i64, k1 as i64, k2 as i64];
                Tensor::f_from_slice(&data)
                    .and_then(|t| t.f_view(dims))
                    .and_then(|t| t.f_to_device(device))
                    .map_err(torch_err(|| {
                        format!("copying rule weights {dims:?} to {device:?}")
                    }))
            })
            .collect::<Result<_>>()?;
        Ok(RuleWeights { tensors })
    }

    /// Every batch row as plain vectors.
    pub fn rows(&self) -> Result<Vec<SeedWeights>> {
        let seeds = self.tensors.first().map_or(0, |t| t.size()[0] as usize);
        let flat: Vec<Vec<f32>> = self
            .tensors
            .iter()
            .map(|t| {
                to_vec::<f32>(t).map_err(torch_err(|| {
                    format!("copying rule weights {} to the host", shape(t))
                }))
            })
            .collect::<Result<_>>()?;
        Ok((0..seeds)
            .map(|s| {
                flat.iter()
                    .map(|f| {
                        let len = f.len() / seeds;
                        f[s * len..(s + 1) * len].to_vec()
                    })
                    .collect()
            })
            .collect())
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
    pub fn probs(&self) -> Result<Vec<Tensor>> {
        self.tensors.iter().map(pair_softmax).collect()
    }

    /// Row `i` of every matrix, as `[1, K1, K2]` detached tensors.
    pub fn row(&self, i: usize) -> Result<Vec<Tensor>> {
        self.tensors
            .iter()
            .map(|w| {
                w.f_detach()
                    .and_then(|t| t.f_get(i as i64))
                    .and_then(|t| t.f_unsqueeze(0))
                    .map_err(torch_err(|| {
                        format!("taking row {i} of weights {}", shape(w))
                    }))
            })
            .collect()
    }

    /// The rows `keep` of every matrix (detached, as new leaves).
    pub fn select(&self, keep: &Tensor) -> Result<RuleWeights> {
        let tensors = self
            .tensors
            .iter()
            .map(|w| {
                w.f_detach()
                    .and_then(|t| t.f_index_select(0, keep))
                    .and_then(|t| t.f_set_requires_grad(true))
                    .map_err(torch_err(|| {
                        format!("keeping rows {} of weights {}", shape(keep), shape(w))
                    }))
            })
            .collect::<Result<_>>()?;
        Ok(RuleWeights { tensors })
    }
}

/// The softmax of each batch row's whole `K1 × K2` matrix.
#[cfg(feature = "torch")]
pub fn pair_softmax(w: &Tensor) -> Result<Tensor> {
    let size = w.size();
    w.f_view([size[0], -1])
        .and_then(|t| t.f_softmax(-1, Kind::Float))
        .and_then(|t| t.f_view(size.as_slice()))
        .map_err(torch_err(|| format!("softmax of weights {size:?}")))
}

/// A tensor's values as a flat host vector of `T` (any kind, any device).
#[cfg(feature = "torch")]
pub fn to_vec<T: tch::kind::Element + Copy>(
    t: &Tensor,
) -> std::result::Result<Vec<T>, tch::TchError> {
    let flat = t
        .f_detach()?
        .f_to_kind(T::KIND)?
        .f_to_device(Device::Cpu)?
        .f_reshape([-1])?;
    Vec::<T>::try_from(&flat)
}
