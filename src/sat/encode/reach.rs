//! The two analyses that decide which (step, atom) values of a world get a variable: forward
//! reachability with every clause switched on, and the backward cone of influence of the
//! examples at step T. Neither changes the set of models projected on the flags.

use super::world::Rule;
use std::ops::Range;

/// `reachable[t][k]`: atom `k` can be derived within `t` steps when every clause is switched
/// on (a forward over-approximation; step 0 is the background).
pub(super) fn reachable(rules: &[Vec<Rule>], background: &[bool], steps: usize) -> Vec<Vec<bool>> {
    let mut reachable: Vec<Vec<bool>> = vec![background.to_vec()];
    for t in 0..steps {
        let cur = &reachable[t];
        let mut next = cur.clone();
        for list in rules {
            for rule in list {
                for kk in 0..rule.xc.head_range.len() {
                    let k = rule.xc.head_range.start + kk;
                    if !next[k]
                        && rule
                            .row(kk)
                            .iter()
                            .any(|&[i, j]| cur[i as usize] && cur[j as usize])
                    {
                        next[k] = true;
                    }
                }
            }
        }
        reachable.push(next);
    }
    reachable
}

/// `relevant[t][k]`: the value of atom `k` at step `t` can affect an example (`examples`, atom
/// indices) at step `steps`, backwards through every clause's reachable pairs.
pub(super) fn relevant(
    rules: &[Vec<Rule>],
    ranges: &[Range<usize>],
    reachable: &[Vec<bool>],
    background: &[bool],
    examples: impl Iterator<Item = usize>,
    steps: usize,
) -> Vec<Vec<bool>> {
    let n = background.len();
    let mut relevant = vec![vec![false; n]; steps + 1];
    for a in examples {
        relevant[steps][a] = true;
    }
    for t in (0..steps).rev() {
        let (below, above) = relevant.split_at_mut(t + 1);
        let (cur, next) = (&mut below[t], &above[0]);
        for (h, list) in rules.iter().enumerate() {
            for k in ranges[h].clone() {
                if !next[k] || !reachable[t + 1][k] || background[k] {
                    continue;
                }
                cur[k] = true;
                let kk = k - ranges[h].start;
                for rule in list {
                    for &[i, j] in rule.row(kk) {
                        let (i, j) = (i as usize, j as usize);
                        if reachable[t][i] && reachable[t][j] {
                            cur[i] = true;
                            cur[j] = true;
                        }
                    }
                }
            }
        }
    }
    relevant
}
