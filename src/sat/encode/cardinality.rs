//! Cardinality constraints over flags and relaxation literals: exactly-one (pairwise for short
//! lists, Sinz's sequential encoding otherwise) and the upward sequential counter behind
//! "at most K errors".

use crate::sat::solver::{Formula, Lit, Var};

/// Below this many clauses the at-most-one is pairwise; from it on, sequential.
const PAIRWISE_AMO_MAX: usize = 6;

/// Exactly one of `xs` is true (the empty clause when `xs` is empty).
pub(super) fn exactly_one(f: &mut Formula, xs: &[Var]) {
    let lits: Vec<Lit> = xs.iter().map(|v| v.positive()).collect();
    f.add_clause(&lits);
    if xs.len() <= PAIRWISE_AMO_MAX {
        for i in 0..xs.len() {
            for j in i + 1..xs.len() {
                f.add_clause(&[xs[i].negative(), xs[j].negative()]);
            }
        }
        return;
    }
    // Sinz: s_i = "some of x_0..x_i is true".
    let s: Vec<Var> = (0..xs.len() - 1).map(|_| f.new_var()).collect();
    f.add_clause(&[xs[0].negative(), s[0].positive()]);
    for i in 1..xs.len() - 1 {
        f.add_clause(&[xs[i].negative(), s[i].positive()]);
        f.add_clause(&[s[i - 1].negative(), s[i].positive()]);
        f.add_clause(&[xs[i].negative(), s[i - 1].negative()]);
    }
    f.add_clause(&[xs[xs.len() - 1].negative(), s[xs.len() - 2].negative()]);
}

/// Sinz's sequential counter, upward direction only: returns `out` with `out[j]` forced true
/// whenever more than `j` of `xs` are true, for `j < width`.
pub(super) fn sequential_counter(f: &mut Formula, xs: &[Lit], width: usize) -> Vec<Lit> {
    if width == 0 || xs.is_empty() {
        return Vec::new();
    }
    // prev[j] = "at least j + 1 of xs[..=i]" (forced direction), j ≤ min(i, width - 1).
    let mut prev: Vec<Lit> = Vec::new();
    for (i, &x) in xs.iter().enumerate() {
        let len = (i + 1).min(width);
        let cur: Vec<Lit> = (0..len).map(|_| f.new_var().positive()).collect();
        for j in 0..len {
            if j < prev.len() {
                f.add_clause(&[!prev[j], cur[j]]);
            }
            if j == 0 {
                f.add_clause(&[!x, cur[0]]);
            } else {
                f.add_clause(&[!x, !prev[j - 1], cur[j]]);
            }
        }
        prev = cur;
    }
    prev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_models(f: &mut Formula, project: &[Var], assumptions: &[Lit]) -> usize {
        let mut n = 0;
        while let Some(m) = f.solve(assumptions).unwrap() {
            n += 1;
            let block: Vec<Lit> = project
                .iter()
                .map(|&v| if m.var(v) { v.negative() } else { v.positive() })
                .collect();
            f.add_clause(&block);
        }
        n
    }

    #[test]
    fn exactly_one_has_exactly_n_models() {
        for n in [1, 2, 5, 6, 7, 12] {
            let mut f = Formula::default();
            let xs: Vec<Var> = (0..n).map(|_| f.new_var()).collect();
            exactly_one(&mut f, &xs);
            assert_eq!(count_models(&mut f, &xs, &[]), n, "n = {n}");
        }
        let mut f = Formula::default();
        exactly_one(&mut f, &[]);
        assert!(f.solve(&[]).unwrap().is_none());
    }

    #[test]
    fn sequential_counter_bounds_the_count() {
        // 5 variables, counter up to 3: "at most k" for k = 0..=2 has C(5,0..=k) models.
        let binom = |n: usize, k: usize| (0..k).fold(1usize, |acc, i| acc * (n - i) / (i + 1));
        for k in 0..3 {
            let mut f = Formula::default();
            let xs: Vec<Var> = (0..5).map(|_| f.new_var()).collect();
            let lits: Vec<Lit> = xs.iter().map(|v| v.positive()).collect();
            let out = sequential_counter(&mut f, &lits, 3);
            assert_eq!(out.len(), 3);
            let expected: usize = (0..=k).map(|j| binom(5, j)).sum();
            assert_eq!(count_models(&mut f, &xs, &[!out[k]]), expected, "k = {k}");
        }
    }
}
