//! The digit-tuple split of a neuro-symbolic task (paper §5.5.4).
//!
//! A task's items are digit tuples: the 100 ordered pairs `(a, b)` of a two-image task, the 10
//! digits `(a)` of a one-image task, each labelled by the task's labelling program (rows
//! `10·a + b`, or `a`; [`PairSplit::build`] is the less-than task, label `a < b`). Of the `N`
//! tuples, `round(h · N)` are held out. An item of a one-image task is a [`Pair`] whose right
//! image is its left image (and `(a, a)` names its tuple in `held_out` and `seen`).
//!
//! Training image pairs come only from MNIST *training* images whose digit tuple is not held out;
//! test image pairs come from MNIST *test* images and are split into `test_seen` (tuple seen in
//! training: image generalisation) and `test_heldout` (tuple held out: symbolic generalisation).
//!
//! Choices (the paper does not state them):
//! - **Which tuples are held out** (said here of pairs; one image alike over 10): the 100 pairs
//!   are shuffled with [`Rng`] seeded by `seed`
//!   and the first `k` are held out, so for one seed the held-out sets of growing `h` are nested.
//!   The shuffle is redrawn (deterministically) until *both* the held-out set (when `k ≥ 2`) and
//!   the seen set (when `100 − k ≥ 2`) contain a pair of each label, so training always sees both
//!   answers and the held-out score is never on one label only. For less-than a redraw happens
//!   for half the seeds at `k = 2` (or 98), 6% at `k = 5`, 0.2% at `k = 10` and under 10⁻⁶ for
//!   `20 ≤ k ≤ 80`. A task with a single tuple of one label keeps it in training and holds out
//!   tuples of the other label only.
//! - **Sampling**: each pair first draws a digit pair uniformly from its split's digit pairs, then
//!   a left image uniformly among the images of digit `a` and a right image uniformly among those
//!   of digit `b` (with replacement). So digit pairs are balanced, and labels follow the split's
//!   mix of labels rather than MNIST's digit frequencies. A one-image item draws one image.
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
    /// Proportion `h ∈ [0, 1)` of the task's digit tuples (100 pairs, or 10 digits) held out. Default 0.7.
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
/// test splits), their digits and the task's label (a one-image item has `right == left`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pair {
    pub left: usize,
    pub right: usize,
    pub left_digit: u8,
    pub right_digit: u8,
    /// The task's label of the digits (`left_digit < right_digit` for less-than).
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
    /// Images per item: 1 or 2.
    pub images: usize,
    /// The held-out tuples' rows (`10·a + b`, or `a`), sorted.
    pub held_out_rows: Vec<usize>,
    /// The seen tuples' rows, sorted.
    pub seen_rows: Vec<usize>,
    pub train: Vec<Pair>,
    pub test_seen: Vec<Pair>,
    pub test_heldout: Vec<Pair>,
}

const TRAIN_STREAM: u64 = 0x7472_6169_6e5f_7061; // "train_pa"
const TEST_STREAM: u64 = 0x7465_7374_5f70_6169; // "test_pai"

fn mixed_labels(rows: &[usize], labels: &[bool]) -> bool {
    rows.iter().any(|&r| labels[r]) && rows.iter().any(|&r| !labels[r])
}

/// The less-than labels of the 100 digit pairs, row `10·a + b`.
pub fn less_than_labels() -> Vec<bool> {
    (0..100).map(|r| r / 10 < r % 10).collect()
}

/// The held-out digit pairs of the less-than task for `seed` and proportion `h` (sorted); see
/// the module doc.
pub fn held_out_digit_pairs(seed: u64, h: f64) -> Result<Vec<(u8, u8)>> {
    Ok(held_out_tuples(seed, h, &less_than_labels())?
        .into_iter()
        .map(|r| ((r / 10) as u8, (r % 10) as u8))
        .collect())
}

/// The held-out rows of a task with `labels[row]` over its 10 or 100 digit tuples, for `seed`
/// and proportion `h` (sorted; see the module doc).
pub fn held_out_tuples(seed: u64, h: f64, labels: &[bool]) -> Result<Vec<usize>> {
    let n = labels.len();
    if !(0.0..1.0).contains(&h) {
        return Err(Error::Config(format!(
            "held-out proportion {h} must be in [0, 1)"
        )));
    }
    let k = (h * n as f64).round() as usize;
    if k >= n {
        return Err(Error::Config(format!(
            "held-out proportion {h} holds out all {n} digit tuples; nothing is left to train on"
        )));
    }
    let all: Vec<usize> = (0..n).collect();
    // A task with a single tuple of one label (is the digit a 1?) cannot show it on both sides:
    // it stays in training, and the held-out side goes without.
    let positives = labels.iter().filter(|&&l| l).count();
    let split_both = positives.min(n - positives) >= 2;
    let mut rng = Rng::new(seed);
    for _ in 0..10_000 {
        let mut order = all.clone();
        rng.shuffle(&mut order);
        let (out, kept) = order.split_at(k);
        let out_ok = k < 2 || !split_both || mixed_labels(out, labels);
        if out_ok && (kept.len() < 2 || mixed_labels(kept, labels)) {
            let mut out = out.to_vec();
            out.sort_unstable();
            return Ok(out);
        }
    }
    Err(Error::Config(format!(
        "no held-out set of {k} digit tuples with both labels on both sides was found"
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
    rows: &[usize],
    t: &Tuples,
    images: &[Vec<usize>],
    rng: &mut Rng,
    which: &str,
) -> Result<Vec<Pair>> {
    if n == 0 || rows.is_empty() {
        return Ok(Vec::new());
    }
    for &r in rows {
        let (a, b) = t.digits(r);
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
            let r = rows[rng.below(rows.len())];
            let (a, b) = t.digits(r);
            let left = images[a as usize][rng.below(images[a as usize].len())];
            let right = if t.images == 1 {
                left
            } else {
                images[b as usize][rng.below(images[b as usize].len())]
            };
            Pair {
                left,
                right,
                left_digit: a,
                right_digit: b,
                label: t.labels[r],
            }
        })
        .collect())
}

/// A task's digit tuples: how many images, and each row's label.
struct Tuples<'a> {
    images: usize,
    labels: &'a [bool],
}

impl Tuples<'_> {
    /// The (left, right) digits of `row`; a one-image tuple `(a)` is `(a, a)`.
    fn digits(&self, row: usize) -> (u8, u8) {
        if self.images == 1 {
            (row as u8, row as u8)
        } else {
            ((row / 10) as u8, (row % 10) as u8)
        }
    }
}

impl PairSplit {
    /// Builds the less-than split from the digit labels of MNIST's training and test images
    /// (e.g. [`super::Mnist::train_digits`]). Deterministic for a given spec and labels.
    pub fn build(spec: &PairSpec, train_digits: &[u8], test_digits: &[u8]) -> Result<PairSplit> {
        Self::build_for(spec, &less_than_labels(), train_digits, test_digits)
    }

    /// Builds the split of a task whose 10 (one image) or 100 (two images) digit tuples carry
    /// `labels[row]`. Deterministic for a given spec and labels.
    pub fn build_for(
        spec: &PairSpec,
        labels: &[bool],
        train_digits: &[u8],
        test_digits: &[u8],
    ) -> Result<PairSplit> {
        let images = match labels.len() {
            10 => 1,
            100 => 2,
            n => {
                return Err(Error::Config(format!(
                    "{n} digit tuples: a task has 10 (one image) or 100 (two images)"
                )))
            }
        };
        let t = Tuples { images, labels };
        let held_out_rows = held_out_tuples(spec.seed, spec.held_out, labels)?;
        let seen_rows: Vec<usize> = (0..labels.len())
            .filter(|r| held_out_rows.binary_search(r).is_err())
            .collect();
        let train_by = by_digit(train_digits, "training")?;
        let test_by = by_digit(test_digits, "test")?;
        let mut rng = Rng::new(spec.seed ^ TRAIN_STREAM);
        let train = sample_pairs(
            spec.n_train,
            &seen_rows,
            &t,
            &train_by,
            &mut rng,
            "training",
        )?;
        let mut rng = Rng::new(spec.seed ^ TEST_STREAM);
        let test_seen = sample_pairs(spec.n_test, &seen_rows, &t, &test_by, &mut rng, "test")?;
        let test_heldout =
            sample_pairs(spec.n_test, &held_out_rows, &t, &test_by, &mut rng, "test")?;
        Ok(PairSplit {
            spec: spec.clone(),
            held_out: held_out_rows.iter().map(|&r| t.digits(r)).collect(),
            seen: seen_rows.iter().map(|&r| t.digits(r)).collect(),
            images,
            held_out_rows,
            seen_rows,
            train,
            test_seen,
            test_heldout,
        })
    }

    /// Whether the digit pair `(a, b)` (for one image: `(a, a)`) is held out.
    pub fn is_held_out(&self, a: u8, b: u8) -> bool {
        self.held_out.binary_search(&(a, b)).is_ok()
    }
}

/// The image pairs as tensors on `device`: left images `[B, 1, 28, 28]`, right images and labels
/// `[B]` (float, 1.0 for a true label). `images` is the image tensor the pairs index into
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
