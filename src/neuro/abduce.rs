//! Abduction for joint learning: given how often each tuple of a conv-net's *clusters* (its
//! argmax classes, named arbitrarily) was labelled true or false in the training pairs, find a
//! naming of the clusters by the task's constants (a permutation π) and a program P of the
//! task's template that together explain the most labels.
//!
//! The two halves alternate from a few starts until neither changes:
//! - P for a fixed π: the SAT solver's fewest-errors mode on the task's digit-tuple worlds,
//!   each labelled by the majority label of the cluster tuple that π names so (a tuple no
//!   training pair shows is left unlabelled);
//! - π for a fixed P: the permutation that minimises the count-weighted errors against the
//!   engine's model of P on every digit tuple, exactly, by branch and bound over the 10!
//!   permutations.
//!
//! Nothing here sees a digit label or the labelling program: only the counts and the template.
//! Symmetries the labels leave open stay open: for less-than the order reversal d ↦ 9 − d with
//! a greater-than program explains the same labels, and the search returns whichever it meets
//! first (a fixed order of starts, so the same counts give the same answer).

use crate::error::{Error, Result};
use crate::ilp::{check_program, Task};
use crate::logic::Clause;
use crate::sat::{synthesise, SynthConfig};

/// Label counts per cluster tuple, in row order (`10·i + j` for two images, `i` for one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleCounts {
    /// Images per item: 1 or 2.
    pub arity: usize,
    /// `pos[row]`, `neg[row]`: training pairs of this cluster tuple labelled true / false.
    pub pos: Vec<u64>,
    pub neg: Vec<u64>,
}

impl TupleCounts {
    /// Counts of `items`: (cluster tuple as `[left, right]` (one image: `[c, c]`), label).
    pub fn of(arity: usize, items: impl IntoIterator<Item = ([usize; 2], bool)>) -> Self {
        let n = 10usize.pow(arity as u32);
        let (mut pos, mut neg) = (vec![0; n], vec![0; n]);
        for (c, label) in items {
            let row = if arity == 1 { c[0] } else { 10 * c[0] + c[1] };
            if label {
                pos[row] += 1;
            } else {
                neg[row] += 1;
            }
        }
        TupleCounts { arity, pos, neg }
    }

    fn row(&self, tuple: &[usize]) -> usize {
        tuple.iter().fold(0, |r, &c| 10 * r + c)
    }
}

/// A naming of the clusters and a program, with the training pairs they get wrong.
#[derive(Debug, Clone)]
pub struct Abduction {
    /// `pi[cluster]`: the constant index (class of the task's `digits`) the cluster stands for.
    pub pi: [usize; 10],
    pub program: Vec<Clause>,
    /// `table[row]`: whether the program entails `target` in the world of digit tuple `row`.
    pub table: Vec<bool>,
    /// Training pairs whose label the program, under π, gets wrong.
    pub errors: u64,
}

/// `task` with its training worlds relabelled: `labels[row]` true / false, or unlabelled
/// (None). Validation worlds are dropped.
pub fn relabelled(task: &Task, labels: &[Option<bool>]) -> Task {
    let mut t = task.clone();
    for (w, label) in t.train.iter_mut().zip(labels) {
        let atoms: Vec<_> = w.positive.drain(..).chain(w.negative.drain(..)).collect();
        match label {
            Some(true) => w.positive = atoms,
            Some(false) => w.negative = atoms,
            None => {}
        }
    }
    t.validation.clear();
    t
}

/// The engine's model of `program` on every digit tuple's world of `task` (in row order).
pub fn model_table(task: &Task, program: &[Clause]) -> Vec<bool> {
    let all_true = relabelled(task, &vec![Some(true); task.train.len()]);
    check_program(&all_true, program)
        .worlds
        .iter()
        .map(|w| w.false_negatives.is_empty())
        .collect()
}

/// Count-weighted errors of `table` under `pi`: the training pairs whose cluster tuple, named
/// by `pi`, the table labels otherwise.
pub fn errors_of(counts: &TupleCounts, pi: &[usize; 10], table: &[bool]) -> u64 {
    (0..counts.pos.len())
        .map(|row| {
            let mapped = if counts.arity == 1 {
                pi[row]
            } else {
                10 * pi[row / 10] + pi[row % 10]
            };
            if table[mapped] {
                counts.neg[row]
            } else {
                counts.pos[row]
            }
        })
        .sum()
}

/// Digit tuples a program may get wrong in [`best_program`]'s search.
pub const MAX_TUPLE_ERRORS: usize = 20;

/// The program with the fewest errors on the digit tuples labelled through `pi` (SAT), or
/// None when every program gets more than [`MAX_TUPLE_ERRORS`] tuples wrong.
fn best_program(
    task: &Task,
    counts: &TupleCounts,
    pi: &[usize; 10],
) -> Result<Option<Vec<Clause>>> {
    let mut labels = vec![None; task.train.len()];
    for row in 0..counts.pos.len() {
        let (p, n) = (counts.pos[row], counts.neg[row]);
        if p + n == 0 || p == n {
            continue;
        }
        let mapped = if counts.arity == 1 {
            pi[row]
        } else {
            10 * pi[row / 10] + pi[row % 10]
        };
        if let Some(l) = labels.get_mut(mapped) {
            *l = Some(p > n);
        }
    }
    let labelled = labels.iter().flatten().count();
    // Each bound on the errors is one more solver call: a naming that needs more is a bad
    // start, not worth the time.
    let cfg = SynthConfig {
        max_errors: Some(labelled.min(MAX_TUPLE_ERRORS)),
        ..SynthConfig::default()
    };
    let report = synthesise(&relabelled(task, &labels), &cfg)?;
    if !report.satisfiable {
        return Ok(None);
    }
    task.parse_rules(&report.program, "abduced program")
        .map(Some)
}

/// The permutation with the fewest count-weighted errors against `table` (exact), starting
/// from the bound that `start` gives.
pub fn best_permutation(counts: &TupleCounts, table: &[bool], start: &[usize; 10]) -> [usize; 10] {
    let mut search = PermSearch {
        counts,
        table,
        best: *start,
        best_cost: errors_of(counts, start, table),
        pi: [0; 10],
        used: [false; 10],
    };
    search.extend(0, 0);
    search.best
}

struct PermSearch<'a> {
    counts: &'a TupleCounts,
    table: &'a [bool],
    best: [usize; 10],
    best_cost: u64,
    pi: [usize; 10],
    used: [bool; 10],
}

impl PermSearch<'_> {
    /// Errors added by naming cluster `k` as `pi[k]`, given clusters `0..k` named.
    fn added(&self, k: usize) -> u64 {
        let c = self.counts;
        let cost = |tuple: &[usize]| {
            let row = c.row(tuple);
            let mapped: Vec<usize> = tuple.iter().map(|&i| self.pi[i]).collect();
            if self.table[c.row(&mapped)] {
                c.neg[row]
            } else {
                c.pos[row]
            }
        };
        if c.arity == 1 {
            return cost(&[k]);
        }
        let mut sum = cost(&[k, k]);
        for j in 0..k {
            sum += cost(&[k, j]) + cost(&[j, k]);
        }
        sum
    }

    fn extend(&mut self, k: usize, cost: u64) {
        if cost >= self.best_cost {
            return;
        }
        if k == 10 {
            self.best_cost = cost;
            self.best = self.pi;
            return;
        }
        for d in 0..10 {
            if self.used[d] {
                continue;
            }
            self.used[d] = true;
            self.pi[k] = d;
            let c = cost + self.added(k);
            self.extend(k + 1, c);
            self.used[d] = false;
        }
    }
}

/// Starting namings: the clusters sorted by how much more often a pair is
/// labelled true when the cluster is on the left than when it is on the right (one image: the
/// share labelled true), both ways; then (two images) the clusters sorted first by their depth
/// in the graph of true cluster pairs (within a depth, by their earliest predecessor), both
/// ways. The first pair suits dense orders such as
/// less-than; the depth suits sparse chains (successor, two-less-than), whose true pairs say
/// almost nothing about a cluster alone but link it to the next one.
fn starts(counts: &TupleCounts) -> Vec<[usize; 10]> {
    let rate = |p: u64, n: u64| p as f64 / (p + n).max(1) as f64;
    let score = |i: usize| -> f64 {
        if counts.arity == 1 {
            return rate(counts.pos[i], counts.neg[i]);
        }
        let (mut lp, mut ln, mut rp, mut rn) = (0, 0, 0, 0);
        for j in 0..10 {
            lp += counts.pos[10 * i + j];
            ln += counts.neg[10 * i + j];
            rp += counts.pos[10 * j + i];
            rn += counts.neg[10 * j + i];
        }
        rate(lp, ln) - rate(rp, rn)
    };
    let naming = |order: &[usize]| {
        let mut pi = [0; 10];
        for (rank, &cluster) in order.iter().enumerate() {
            pi[cluster] = rank;
        }
        pi
    };
    let mut order: Vec<usize> = (0..10).collect();
    order.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(a.cmp(&b)));
    let mut out = vec![naming(&order)];
    order.reverse();
    out.push(naming(&order));
    if counts.arity == 2 {
        let depth = depths(counts);
        let edge = |a: usize, b: usize| a != b && counts.pos[10 * a + b] > counts.neg[10 * a + b];
        // Level by level; within a level, after the earliest-placed predecessor, so that
        // parallel chains (two_less_than: 0 → 2 → 4, 1 → 3 → 5) keep one order throughout.
        let mut placed: Vec<usize> = Vec::with_capacity(10);
        for level in 0..10 {
            let mut here: Vec<usize> = (0..10).filter(|&c| depth[c] == level).collect();
            let after = |b: usize| {
                placed
                    .iter()
                    .position(|&a| edge(a, b))
                    .unwrap_or(usize::MAX)
            };
            here.sort_by(|&a, &b| {
                after(a)
                    .cmp(&after(b))
                    .then(score(b).total_cmp(&score(a)))
                    .then(a.cmp(&b))
            });
            placed.extend(here);
        }
        order = placed;
        out.push(naming(&order));
        order.reverse();
        out.push(naming(&order));
    }
    out
}

/// Each cluster's depth in the graph whose edges are the cluster pairs `(a, b)`, `a ≠ b`,
/// labelled true more often than not: the longest path ending at it, cut at 9 edges (so a
/// cycle of noisy edges cannot run on).
fn depths(counts: &TupleCounts) -> [usize; 10] {
    let edge = |a: usize, b: usize| a != b && counts.pos[10 * a + b] > counts.neg[10 * a + b];
    let mut depth = [0usize; 10];
    for _ in 0..9 {
        let next: [usize; 10] = std::array::from_fn(|b| {
            (0..10)
                .filter(|&a| edge(a, b))
                .map(|a| (depth[a] + 1).min(9))
                .fold(depth[b], usize::max)
        });
        if next == depth {
            break;
        }
        depth = next;
    }
    depth
}

/// Alternates [`best_program`] and [`best_permutation`] from each start (the built-in ones,
/// then `also`) until neither changes (at most `rounds` times); the pair with the fewest
/// errors, the earlier start on a tie. An error when no start leads to a program within
/// [`MAX_TUPLE_ERRORS`] tuple errors.
pub fn abduce(
    task: &Task,
    counts: &TupleCounts,
    rounds: usize,
    also: &[[usize; 10]],
) -> Result<Abduction> {
    let mut best: Option<Abduction> = None;
    for start in starts(counts).into_iter().chain(also.iter().copied()) {
        let mut pi = start;
        let mut found = None;
        for _ in 0..rounds.max(1) {
            let Some(program) = best_program(task, counts, &pi)? else {
                break;
            };
            let table = model_table(task, &program);
            let next = best_permutation(counts, &table, &pi);
            let errors = errors_of(counts, &next, &table);
            let settled = next == pi;
            pi = next;
            found = Some(Abduction {
                pi,
                program,
                table,
                errors,
            });
            if settled {
                break;
            }
        }
        if let Some(a) = found {
            if best.as_ref().is_none_or(|b| a.errors < b.errors) {
                best = Some(a);
            }
        }
    }
    best.ok_or_else(|| {
        Error::Solver(format!(
            "{}: no naming of the clusters lets a program of the template explain all but \
             {MAX_TUPLE_ERRORS} digit tuples' majority labels",
            task.file
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Less-than over clusters that name digit `d` as cluster `(3d + 1) mod 10`.
    #[test]
    fn a_renamed_less_than_is_recovered_up_to_reversal() {
        let t = crate::neuro::taskfile::less_than().unwrap();
        let cluster = |d: usize| (3 * d + 1) % 10;
        let mut items = Vec::new();
        for a in 0..10 {
            for b in 0..10 {
                for _ in 0..(1 + (a + b) % 3) {
                    items.push(([cluster(a), cluster(b)], a < b));
                }
            }
        }
        let counts = TupleCounts::of(2, items);
        let a = abduce(&t.task, &counts, 4, &[]).unwrap();
        assert_eq!(a.errors, 0);
        let forward = (0..10).all(|d| a.pi[cluster(d)] == d);
        let reversed = (0..10).all(|d| a.pi[cluster(d)] == 9 - d);
        assert!(forward || reversed, "naming {:?}", a.pi);
        // The program's model under the naming gives every tuple its label.
        for r in 0..100 {
            let (x, y) = (a.pi[cluster(r / 10)], a.pi[cluster(r % 10)]);
            assert_eq!(a.table[10 * x + y], r / 10 < r % 10);
        }
    }

    /// Successor over renamed clusters: 9 true digit pairs of 100 (the old starts, by
    /// left-versus-right rates, barely order the middle digits).
    #[test]
    fn a_renamed_successor_is_recovered_from_its_chain() {
        let t = crate::neuro::taskfile::load_neuro_task(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/experiments/tasks/mnist/successor.toml"
        )))
        .unwrap();
        let cluster = |d: usize| (7 * d + 3) % 10;
        let mut items = Vec::new();
        for a in 0..10 {
            for b in 0..10 {
                for _ in 0..(1 + (a * b) % 4) {
                    items.push(([cluster(a), cluster(b)], a + 1 == b));
                }
            }
        }
        let a = abduce(&t.task, &TupleCounts::of(2, items), 4, &[]).unwrap();
        assert_eq!(a.errors, 0, "naming {:?}", a.pi);
        for r in 0..100 {
            let (x, y) = (a.pi[cluster(r / 10)], a.pi[cluster(r % 10)]);
            assert_eq!(a.table[10 * x + y], r / 10 + 1 == r % 10);
        }
    }

    #[test]
    fn the_exact_permutation_search_beats_its_start() {
        let table: Vec<bool> = (0..100).map(|r| r / 10 < r % 10).collect();
        let items = (0..100).map(|r| ([9 - r / 10, 9 - r % 10], r / 10 < r % 10));
        let counts = TupleCounts::of(2, items);
        let pi = best_permutation(&counts, &table, &std::array::from_fn(|i| i));
        assert_eq!(errors_of(&counts, &pi, &table), 0);
        assert_eq!(pi, std::array::from_fn(|i| 9 - i));
    }
}
