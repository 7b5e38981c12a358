//! Digit accuracy of a classifier that learned its classes without labels: the best one-to-one
//! matching of its 10 outputs to the 10 digits (exact, by dynamic programming over subsets),
//! so a conv-net that reads digits correctly under another naming still scores what it reads.

/// The accuracy under the best matching, and the matching (`digit_of[output]`).
pub fn matched_accuracy(pred: &[i64], truth: &[u8]) -> (f64, [u8; 10]) {
    let mut confusion = [[0usize; 10]; 10];
    for (&p, &t) in pred.iter().zip(truth) {
        if (0..10).contains(&p) && t < 10 {
            confusion[p as usize][t as usize] += 1;
        }
    }
    // best[mask]: most correct answers when outputs 0..popcount(mask) are matched to the
    // digits in `mask`.
    let full = 1usize << 10;
    let mut best = vec![None::<usize>; full];
    let mut choice = vec![0u8; full];
    best[0] = Some(0);
    for mask in 0..full {
        let Some(here) = best[mask] else { continue };
        let output = mask.count_ones() as usize;
        if output == 10 {
            continue;
        }
        for (digit, &hits) in confusion[output].iter().enumerate() {
            if mask & (1 << digit) == 0 {
                let next = mask | (1 << digit);
                let score = here + hits;
                if best[next].is_none_or(|b| score > b) {
                    best[next] = Some(score);
                    choice[next] = digit as u8;
                }
            }
        }
    }
    let mut digit_of = [0u8; 10];
    let mut mask = full - 1;
    for output in (0..10).rev() {
        let d = choice[mask];
        digit_of[output] = d;
        mask &= !(1 << d);
    }
    let correct = best[full - 1].unwrap_or(0);
    (correct as f64 / pred.len().max(1) as f64, digit_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relabelled_classifier_scores_fully_and_the_matching_is_recovered() {
        let truth: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
        let perm = [3i64, 7, 0, 9, 1, 2, 8, 4, 6, 5];
        let pred: Vec<i64> = truth.iter().map(|&t| perm[t as usize]).collect();
        let (acc, digit_of) = matched_accuracy(&pred, &truth);
        assert_eq!(acc, 1.0);
        for (d, &o) in perm.iter().enumerate() {
            assert_eq!(digit_of[o as usize] as usize, d);
        }
        // A constant classifier matches one digit at best.
        let (acc, _) = matched_accuracy(&vec![4; 200], &truth);
        assert!((acc - 0.1).abs() < 1e-12);
    }
}
