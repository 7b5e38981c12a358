//! How well a training conv-net reads digits: accuracy on the test images raw, under the
//! reversal d ↦ 9 − d and under the best one-to-one matching, and the confusion matrix.

use crate::error::{Error, Result};
use crate::neuro::Perception;
use crate::vision::Mnist;

/// A training reading of digits on the test images: accuracy raw, under d ↦ 9 − d and under
/// the best matching, and the confusion matrix (all None when the conv-net is frozen).
#[allow(clippy::type_complexity)]
pub(super) fn digit_accuracy(
    p: &Perception,
    mnist: &Mnist,
) -> Result<(
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<Vec<Vec<usize>>>,
)> {
    let Some(pred) = p.digit_predictions(mnist.test_digits.len())? else {
        return Ok((None, None, None, None));
    };
    let pred: Vec<i64> =
        Vec::try_from(&pred).map_err(|e: tch::TchError| Error::Torch(e.to_string()))?;
    let n = pred.len().max(1) as f64;
    let mut confusion = vec![vec![0usize; 10]; 10];
    for (&k, &d) in pred.iter().zip(&mnist.test_digits) {
        if (0..10).contains(&k) && d < 10 {
            confusion[d as usize][k as usize] += 1;
        }
    }
    let raw: usize = (0..10).map(|d| confusion[d][d]).sum();
    let rev: usize = (0..10).map(|d| confusion[d][9 - d]).sum();
    let (matched, _) = crate::vision::matching::matched_accuracy(&pred, &mnist.test_digits);
    Ok((
        Some(raw as f64 / n),
        Some(rev as f64 / n),
        Some(matched),
        Some(confusion),
    ))
}
