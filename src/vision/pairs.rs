//! The digit-pair split for the less-than study (paper §5.5.4).
//!
//! Of the 100 ordered digit pairs `(a, b)`, `a, b ∈ 0..=9`, `round(h · 100)` are held out.
//! Training image pairs come only from MNIST *training* images whose digit pair is not held out;
//! test image pairs come from MNIST *test* images and are split into `test_seen` (digit pair seen
//! in training: image generalisation) and `test_heldout` (digit pair held out: symbolic
//! generalisation). A pair's label is `left digit < right digit`.
//!
//! Choices (the paper does not state them):
//! - **Which pairs are held out**: the 100 pairs are shuffled with [`Rng`] seeded by `seed`
//!   and the first `k` are held out, so for one seed the held-out sets of growing `h` are nested.
//!   The shuffle is redrawn (deterministically) until *both* the held-out set (when `k ≥ 2`) and
//!   the seen set (when `100 − k ≥ 2`) contain a pair of each label, so training always sees both
//!   answers and the held-out score is never on one label only. A redraw happens for half the
//!   seeds at `k = 2` (or 98), 6% at `k = 5`, 0.2% at `k = 10` and under 10⁻⁶ for `20 ≤ k ≤ 80`.
//! - **Sampling**: each pair first draws a digit pair uniformly from its split's digit pairs, then
//!   a left image uniformly among the images of digit `a` and a right image uniformly among those
//!   of digit `b` (with replacement). So digit pairs are balanced, and labels follow the split's
//!   mix of `a < b` pairs rather than MNIST's digit frequencies.
//! - Training and test pairs use separate random streams derived from `seed`, so changing `n_train`
//!   changes neither the held-out set nor the test pairs.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::torch_err;
use crate::rng::Rng;
use crate::{Error, Result};

/// What to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PairSpec {
    /// Seeds the held-out set and the sampling. Default 0.
    pub seed: u64,
    /// Proportion `h ∈ [0, 1)` of the 100 digit pairs held out. Default 0.7.
    pub held_out: f64,
    /// Training pairs. Default 10,000.
    pub n_train: usize,
    /// Test pairs in each of the two test splits (the held-out split is empty when `h` holds
    /// out nothing). Default 2,000.
    pub n_test: usize,
}

impl Default for PairSpec {
    fn default() -> Self {
        PairSpec {
            seed: 0,
            held_out: 0.7,
            n_train: 10_000,
            n_test: 2_000,
        }
    }
}

/// One image pair: indices into MNIST's training images (for `train`) or test images (for the
/// test splits), their digits and the less-than label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pair {
    pub left: usize,
    pub right: usize,
    pub left_digit: u8,
    pub right_digit: u8,
    /// `left_digit < right_digit`.
    pub label: bool,
}

/// The split: digit pairs and image pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct PairSplit {
    pub spec: PairSpec,
    /// Held-out digit pairs, sorted.
    pub held_out: Vec<(u8, u8)>,
    /// Digit pairs seen in training, sorted.
    pub seen: Vec<(u8, u8)>,
    pub train: Vec<Pair>,
    pub test_seen: Vec<Pair>,
    pub test_heldout: Vec<Pair>,
}

const TRAIN_STREAM: u64 = 0x7472_6169_6e5f_7061; // "train_pa"
const TEST_STREAM: u64 = 0x7465_7374_5f70_6169; // "test_pai"

fn mixed_labels(pairs: &[(u8, u8)]) -> bool {
    pairs.iter().any(|(a, b)| a < b) && pairs.iter().any(|(a, b)| a >= b)
}

/// The held-out digit pairs for `seed` and proportion `h` (sorted); see the module doc.
pub fn held_out_digit_pairs(seed: u64, h: f64) -> Result<Vec<(u8, u8)>> {
    if !(0.0..1.0).contains(&h) {
        return Err(Error::Config(format!(
            "held-out proportion {h} must be in [0, 1)"
        )));
    }
    let k = (h * 100.0).round() as usize;
    if k >= 100 {
        return Err(Error::Config(format!(
            "held-out proportion {h} holds out all 100 digit pairs; nothing is left to train on"
        )));
    }
    let all: Vec<(u8, u8)> = (0..10u8)
        .flat_map(|a| (0..10u8).map(move |b| (a, b)))
        .collect();
    let mut rng = Rng::new(seed);
    for _ in 0..10_000 {
        let mut order = all.clone();
        rng.shuffle(&mut order);
        let (out, kept) = order.split_at(k);
        if (k < 2 || mixed_labels(out)) && (kept.len() < 2 || mixed_labels(kept)) {
            let mut out = out.to_vec();
            out.sort_unstable();
            return Ok(out);
        }
    }
    Err(Error::Config(format!(
        "no held-out set of {k} digit pairs with both labels on both sides was found"
    )))
}

/// Indices of the images of each digit.
fn by_digit(digits: &[u8], which: &str) -> Result<Vec<Vec<usize>>> {
    let mut out = vec![Vec::new(); 10];
    for (i, &d) in digits.iter().enumerate() {
        let slot = out.get_mut(d as usize).ok_or_else(|| {
            Error::Config(format!("{which} label {d} at index {i} is not a digit"))
        })?;
        slot.push(i);
    }
    Ok(out)
}

fn sample_pairs(
    n: usize,
    digit_pairs: &[(u8, u8)],
    images: &[Vec<usize>],
    rng: &mut Rng,
    which: &str,
) -> Result<Vec<Pair>> {
    if n == 0 || digit_pairs.is_empty() {
        return Ok(Vec::new());
    }
    for &(a, b) in digit_pairs {
        for d in [a, b] {
            if images[d as usize].is_empty() {
                return Err(Error::Config(format!(
                    "no {which} image of digit {d} to build pairs from"
                )));
            }
        }
    }
    Ok((0..n)
        .map(|_| {
            let (a, b) = digit_pairs[rng.below(digit_pairs.len())];
            let left = images[a as usize][rng.below(images[a as usize].len())];
            let right = images[b as usize][rng.below(images[b as usize].len())];
            Pair {
                left,
                right,
                left_digit: a,
                right_digit: b,
                label: a < b,
            }
        })
        .collect())
}

impl PairSplit {
    /// Builds the split from the digit labels of MNIST's training and test images (e.g.
    /// [`super::Mnist::train_digits`]). Deterministic for a given spec and labels.
    pub fn build(spec: &PairSpec, train_digits: &[u8], test_digits: &[u8]) -> Result<PairSplit> {
        let held_out = held_out_digit_pairs(spec.seed, spec.held_out)?;
        let seen: Vec<(u8, u8)> = (0..10u8)
            .flat_map(|a| (0..10u8).map(move |b| (a, b)))
            .filter(|p| held_out.binary_search(p).is_err())
            .collect();
        let train_by = by_digit(train_digits, "training")?;
        let test_by = by_digit(test_digits, "test")?;
        let mut rng = Rng::new(spec.seed ^ TRAIN_STREAM);
        let train = sample_pairs(spec.n_train, &seen, &train_by, &mut rng, "training")?;
        let mut rng = Rng::new(spec.seed ^ TEST_STREAM);
        let test_seen = sample_pairs(spec.n_test, &seen, &test_by, &mut rng, "test")?;
        let test_heldout = sample_pairs(spec.n_test, &held_out, &test_by, &mut rng, "test")?;
        Ok(PairSplit {
            spec: spec.clone(),
            held_out,
            seen,
            train,
            test_seen,
            test_heldout,
        })
    }

    /// Whether the digit pair `(a, b)` is held out.
    pub fn is_held_out(&self, a: u8, b: u8) -> bool {
        self.held_out.binary_search(&(a, b)).is_ok()
    }
}

/// The image pairs as tensors on `device`: left images `[B, 1, 28, 28]`, right images and labels
/// `[B]` (float, 1.0 for `left < right`). `images` is the image tensor the pairs index into
/// (training images for `train`, test images for the test splits).
pub fn gather(images: &Tensor, pairs: &[Pair], device: Device) -> Result<(Tensor, Tensor, Tensor)> {
    let n = images.size().first().copied().unwrap_or(0);
    if let Some(p) = pairs
        .iter()
        .find(|p| p.left as i64 >= n || p.right as i64 >= n)
    {
        return Err(Error::Config(format!(
            "pair ({}, {}) indexes past the {n} images given",
            p.left, p.right
        )));
    }
    let idx = |f: fn(&Pair) -> usize| {
        let v: Vec<i64> = pairs.iter().map(|p| f(p) as i64).collect();
        Tensor::f_from_slice(&v)
            .and_then(|t| t.f_to_device(images.device()))
            .and_then(|i| images.f_index_select(0, &i))
            .and_then(|t| t.f_to_device(device))
            .map_err(torch_err)
    };
    let left = idx(|p| p.left)?;
    let right = idx(|p| p.right)?;
    let labels: Vec<f32> = pairs.iter().map(|p| f32::from(u8::from(p.label))).collect();
    let labels = Tensor::f_from_slice(&labels)
        .and_then(|t| t.f_to_kind(Kind::Float))
        .and_then(|t| t.f_to_device(device))
        .map_err(torch_err)?;
    Ok((left, right, labels))
}
