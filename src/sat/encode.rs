//! The task as CNF: which clause each rule template picks, and T unrolled forward-chaining steps
//! over every training world.
//!
//! **Program.** One flag per generated clause of each present (predicate, template); exactly one
//! flag per template is true (at-least-one clause plus an at-most-one that is pairwise for short
//! lists and Sinz's sequential encoding otherwise). An empty clause list for a present template
//! makes the formula unsatisfiable: no program fits that template.
//!
//! **Inference.** Per training world with T steps and ground index G: extensional atoms are
//! constants (true iff background); an intensional atom k has one value per step t = 0..=T, with
//! `a[0,k]` false and
//!
//! ```text
//! a[t+1,k]  ⇔  a[t,k] ∨ ⋁_{c, (i,j) ∈ X_c[k]} (flag_c ∧ a[t,i] ∧ a[t,j])
//! ```
//!
//! Simplifications, none of which changes the set of models projected on the flags:
//! - *Reachability*: an atom that cannot be derived within t steps even with **every** clause
//!   switched on is the constant false at step t (a forward over-approximation run before
//!   encoding), so it gets no variable; pairs with a false body atom are dropped and true body
//!   atoms (background) are left out of the conjunction; duplicate pairs are merged.
//! - *Grouping*: clauses that give head atom k the same body conjunction L at step t share one
//!   auxiliary `z ⇒ L ∧ (flag_c1 ∨ … ∨ flag_cm)`; the "if" half is written directly as
//!   `flag_c ∧ L ⇒ a[t+1,k]`. The auxiliaries only occur positively in the "only if" clause, so
//!   one-sided (Plaisted–Greenbaum) definitions suffice and `a` stays exactly the T-step
//!   forward chaining of the chosen program.
//!
//! **Examples.** Every positive is true and every negative false at step T. In noisy mode each
//! example whose value is not a constant gets a relaxation variable r (`a[T,k] ∨ r` for a
//! positive, `¬a[T,k] ∨ r` for a negative); an example that is wrong under every program counts
//! as a forced error. A sequential counter over the r's gives literals "at least j relaxed", so
//! "at most K errors" is a single assumption and K can grow without re-encoding.

use super::solver::{Formula, Lit, Model, Var};
use crate::error::{Error, Result};
use crate::ilp::{background_ids, examples, index_pairs, ClauseSet, IndexPairs, Task};
use crate::logic::PredId;

/// A value that is either a constant or a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    False,
    True,
    Lit(Lit),
}

/// Below this many clauses the at-most-one is pairwise; from it on, sequential.
const PAIRWISE_AMO_MAX: usize = 6;

/// Sizes of the encoding, for reports and profiling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodingStats {
    /// Generated clauses over all present templates (= flags).
    pub flags: usize,
    /// Intensional atom variables over all worlds and steps.
    pub atom_vars: usize,
    /// Intensional (step, atom) values fixed to false by the reachability analysis.
    pub unreachable: usize,
    /// Auxiliary conjunction variables.
    pub aux_vars: usize,
    /// Body pairs kept after simplification (summed over steps and worlds).
    pub pairs: usize,
    /// Training examples.
    pub examples: usize,
}

/// The CNF of a task plus what is needed to read a program out of a model.
pub struct Encoding {
    pub formula: Formula,
    /// Per clause set (in `generate_all` order) and template: the clauses' flags. Empty for an
    /// absent template.
    pub flags: Vec<[Vec<Var>; 2]>,
    /// Which templates are present (`task.rules[s].templates[t].is_some()`).
    pub present: Vec<[bool; 2]>,
    /// Relaxation literals, one per training example whose value is not constant (noisy mode).
    pub relax: Vec<Lit>,
    /// Training examples misclassified by every program of the template (noisy mode; in exact
    /// mode such an example makes the formula unsatisfiable).
    pub forced_errors: usize,
    /// `at_least[j]` is forced true by any model with more than `j` relaxed examples.
    at_least: Vec<Lit>,
    /// The largest total error count the encoding supports (`max_errors`), `None` in exact mode.
    max_errors: Option<usize>,
    pub stats: EncodingStats,
}

/// The choice of clause per template that a model makes: `choice[s][t]` indexes
/// `sets[s].templates[t]`, `None` for an absent template.
pub type Choice = Vec<[Option<usize>; 2]>;

/// Encodes `task` with the clause lists `sets` (from [`crate::ilp::generate_all`]).
///
/// `max_errors = None`: every training example must be classified right. `Some(k)`: up to `k`
/// may be wrong, selected by [`Encoding::bound`].
pub fn encode(task: &Task, sets: &[ClauseSet], max_errors: Option<usize>) -> Result<Encoding> {
    if sets.len() != task.rules.len() || sets.iter().zip(&task.rules).any(|(s, r)| s.pred != r.pred)
    {
        return Err(Error::Config(
            "the clause sets do not match the task's intensional predicates".into(),
        ));
    }
    let mut enc = Encoding {
        formula: Formula::default(),
        flags: Vec::new(),
        present: Vec::new(),
        relax: Vec::new(),
        forced_errors: 0,
        at_least: Vec::new(),
        max_errors,
        stats: EncodingStats::default(),
    };
    for (set, rules) in sets.iter().zip(&task.rules) {
        let mut flags: [Vec<Var>; 2] = [Vec::new(), Vec::new()];
        let mut present = [false; 2];
        for t in 0..2 {
            present[t] = rules.templates[t].is_some();
            if !present[t] {
                continue;
            }
            flags[t] = (0..set.templates[t].len())
                .map(|_| enc.formula.new_var())
                .collect();
            exactly_one(&mut enc.formula, &flags[t]);
            enc.stats.flags += flags[t].len();
        }
        enc.flags.push(flags);
        enc.present.push(present);
    }

    for world in &task.train {
        enc.encode_world(task, sets, world)?;
    }

    if let Some(limit) = max_errors {
        // A bound below the forced errors is never asked for; cap the counter at what the
        // largest bound needs.
        if enc.forced_errors <= limit {
            let width = (limit - enc.forced_errors + 1).min(enc.relax.len());
            enc.at_least = sequential_counter(&mut enc.formula, &enc.relax.clone(), width);
        }
    }
    Ok(enc)
}

impl Encoding {
    /// Assumptions for "at most `k` training examples wrong" in noisy mode (`k` counts the
    /// forced errors too); `None` when no program can have so few errors or `k` is above the
    /// encoded limit. In exact mode only `k = 0` is allowed and needs no assumption.
    pub fn bound(&self, k: usize) -> Option<Vec<Lit>> {
        match self.max_errors {
            None => (k == 0).then(Vec::new),
            Some(limit) => {
                if k > limit || k < self.forced_errors {
                    return None;
                }
                let free = k - self.forced_errors;
                Some(
                    self.at_least
                        .get(free)
                        .map(|&l| vec![!l])
                        .unwrap_or_default(),
                )
            }
        }
    }

    /// The relaxed examples in a model (noisy mode), forced errors included.
    pub fn relaxed(&self, model: &Model) -> usize {
        self.forced_errors + self.relax.iter().filter(|&&r| model.lit(r)).count()
    }

    /// The clause chosen per template.
    ///
    /// # Errors
    /// If a present template does not have exactly one flag true (impossible for a verified
    /// model of this encoding; checked anyway).
    pub fn decode(&self, model: &Model) -> Result<Choice> {
        let mut choice = Vec::with_capacity(self.flags.len());
        for (s, flags) in self.flags.iter().enumerate() {
            let mut c = [None, None];
            for t in 0..2 {
                if !self.present[s][t] {
                    continue;
                }
                let on: Vec<usize> = (0..flags[t].len())
                    .filter(|&i| model.var(flags[t][i]))
                    .collect();
                if on.len() != 1 {
                    return Err(Error::Solver(format!(
                        "model has {} clauses on for template {} of intensional predicate {}",
                        on.len(),
                        t + 1,
                        s + 1
                    )));
                }
                c[t] = Some(on[0]);
            }
            choice.push(c);
        }
        Ok(choice)
    }

    /// Forbids every assignment that agrees with `choice` on the templates of the predicates
    /// marked in `keep` (all others are left free).
    pub fn block(&mut self, choice: &Choice, keep: &[bool]) {
        self.block_under(choice, keep, None);
    }

    /// [`block`](Self::block), but only while `activation` is assumed (when given).
    pub fn block_under(&mut self, choice: &Choice, keep: &[bool], activation: Option<Lit>) {
        let mut clause: Vec<Lit> = activation.map(|a| !a).into_iter().collect();
        for (s, c) in choice.iter().enumerate() {
            if !keep[s] {
                continue;
            }
            for t in 0..2 {
                if let Some(i) = c[t] {
                    clause.push(self.flags[s][t][i].neg());
                }
            }
        }
        self.formula.add_clause(&clause);
    }

    fn encode_world(
        &mut self,
        task: &Task,
        sets: &[ClauseSet],
        world: &crate::ilp::World,
    ) -> Result<()> {
        let index = task.ground_index(world);
        let n = index.len();
        let steps = world.steps;
        let mut background = vec![false; n];
        for id in background_ids(world, &index) {
            background[id.index()] = true;
        }
        // The rules of each intensional predicate in this world: (flag, X_c).
        let int_preds: Vec<PredId> = task.language.intensional.clone();
        let mut rules: Vec<Vec<(Var, IndexPairs)>> = vec![Vec::new(); int_preds.len()];
        for (s, set) in sets.iter().enumerate() {
            let head = int_preds
                .iter()
                .position(|&p| p == set.pred)
                .ok_or_else(|| Error::Config("clause set for an unknown predicate".into()))?;
            for t in 0..2 {
                for (c, clause) in set.templates[t].iter().enumerate() {
                    if !self.present[s][t] {
                        continue;
                    }
                    rules[head].push((self.flags[s][t][c], index_pairs(clause, &index)));
                }
            }
        }
        let ranges: Vec<std::ops::Range<usize>> =
            int_preds.iter().map(|&p| index.pred_range(p)).collect();

        // Forward over-approximation: reachable[t][k] with every clause switched on.
        let mut reachable: Vec<Vec<bool>> = vec![background.clone()];
        for t in 0..steps {
            let cur = &reachable[t];
            let mut next = cur.clone();
            for list in &rules {
                for (_, xc) in list {
                    for kk in 0..xc.head_range.len() {
                        let k = xc.head_range.start + kk;
                        if next[k] {
                            continue;
                        }
                        let row = &xc.pairs[kk * xc.width..(kk + 1) * xc.width];
                        if row.iter().any(|&[i, j]| cur[i as usize] && cur[j as usize]) {
                            next[k] = true;
                        }
                    }
                }
            }
            reachable.push(next);
        }

        // Values per step. Extensional atoms and ⊥ are constants at every step.
        let is_int = {
            let mut v = vec![false; n];
            for r in &ranges {
                v[r.clone()].iter_mut().for_each(|b| *b = true);
            }
            v
        };
        let constant = |k: usize| {
            if background[k] {
                Val::True
            } else {
                Val::False
            }
        };
        let mut vals: Vec<Vec<Val>> = vec![(0..n).map(constant).collect()];
        for t in 1..=steps {
            let mut row = Vec::with_capacity(n);
            for k in 0..n {
                row.push(if !is_int[k] || background[k] {
                    constant(k)
                } else if reachable[t][k] {
                    self.stats.atom_vars += 1;
                    Val::Lit(self.formula.new_var().pos())
                } else {
                    self.stats.unreachable += 1;
                    Val::False
                });
            }
            vals.push(row);
        }

        // a[t+1,k] ⇔ a[t,k] ∨ ⋁ (flag ∧ body).
        let mut terms: Vec<([Lit; 2], u8, Var)> = Vec::new();
        let mut only_if: Vec<Lit> = Vec::new();
        for t in 0..steps {
            for (h, list) in rules.iter().enumerate() {
                for k in ranges[h].clone() {
                    let Val::Lit(x) = vals[t + 1][k] else {
                        continue;
                    };
                    terms.clear();
                    let kk = k - ranges[h].start;
                    for (flag, xc) in list {
                        for &[i, j] in &xc.pairs[kk * xc.width..(kk + 1) * xc.width] {
                            let (vi, vj) = (vals[t][i as usize], vals[t][j as usize]);
                            if vi == Val::False || vj == Val::False {
                                continue;
                            }
                            let mut body = [Lit::placeholder(); 2];
                            let mut len = 0u8;
                            for v in [vi, vj] {
                                if let Val::Lit(l) = v {
                                    if len == 0 || body[0] != l {
                                        body[len as usize] = l;
                                        len += 1;
                                    }
                                }
                            }
                            if len == 2 && body[0] > body[1] {
                                body.swap(0, 1);
                            }
                            terms.push((body, len, *flag));
                        }
                    }
                    terms.sort_unstable();
                    terms.dedup();
                    self.stats.pairs += terms.len();

                    only_if.clear();
                    only_if.push(!x);
                    if let Val::Lit(p) = vals[t][k] {
                        self.formula.add_clause(&[!p, x]);
                        only_if.push(p);
                    }
                    let mut g = 0;
                    while g < terms.len() {
                        let (body, len, _) = terms[g];
                        let mut e = g;
                        while e < terms.len() && terms[e].0 == body && terms[e].1 == len {
                            e += 1;
                        }
                        let body = &body[..len as usize];
                        // If half: flag ∧ body ⇒ x.
                        for &(_, _, f) in &terms[g..e] {
                            let mut cl: Vec<Lit> = vec![f.neg()];
                            cl.extend(body.iter().map(|&l| !l));
                            cl.push(x);
                            self.formula.add_clause(&cl);
                        }
                        // Only-if half: a literal implying some flag ∧ body.
                        if body.is_empty() {
                            only_if.extend(terms[g..e].iter().map(|&(_, _, f)| f.pos()));
                        } else {
                            let z = self.formula.new_var();
                            self.stats.aux_vars += 1;
                            for &l in body {
                                self.formula.add_clause(&[z.neg(), l]);
                            }
                            let mut cl = vec![z.neg()];
                            cl.extend(terms[g..e].iter().map(|&(_, _, f)| f.pos()));
                            self.formula.add_clause(&cl);
                            only_if.push(z.pos());
                        }
                        g = e;
                    }
                    self.formula.add_clause(&only_if);
                }
            }
        }

        // Examples at step T.
        let ex = examples(world, &index);
        for (atom, &label) in ex.atoms.iter().zip(&ex.labels) {
            self.stats.examples += 1;
            let positive = label > 0.5;
            match (vals[steps][atom.index()], self.max_errors.is_some()) {
                (Val::True, _) if positive => {}
                (Val::False, _) if !positive => {}
                (Val::True | Val::False, false) => self.formula.add_clause(&[]),
                (Val::True | Val::False, true) => self.forced_errors += 1,
                (Val::Lit(l), false) => self.formula.add_clause(&[if positive { l } else { !l }]),
                (Val::Lit(l), true) => {
                    let r = self.formula.new_var().pos();
                    self.formula.add_clause(&[if positive { l } else { !l }, r]);
                    self.relax.push(r);
                }
            }
        }
        Ok(())
    }
}

impl Lit {
    /// A literal only used to fill unused slots of fixed-size arrays.
    fn placeholder() -> Lit {
        Var(u32::MAX >> 1).pos()
    }
}

/// Exactly one of `xs` is true (the empty clause when `xs` is empty).
fn exactly_one(f: &mut Formula, xs: &[Var]) {
    let lits: Vec<Lit> = xs.iter().map(|v| v.pos()).collect();
    f.add_clause(&lits);
    if xs.len() <= PAIRWISE_AMO_MAX {
        for i in 0..xs.len() {
            for j in i + 1..xs.len() {
                f.add_clause(&[xs[i].neg(), xs[j].neg()]);
            }
        }
        return;
    }
    // Sinz: s_i = "some of x_0..x_i is true".
    let s: Vec<Var> = (0..xs.len() - 1).map(|_| f.new_var()).collect();
    f.add_clause(&[xs[0].neg(), s[0].pos()]);
    for i in 1..xs.len() - 1 {
        f.add_clause(&[xs[i].neg(), s[i].pos()]);
        f.add_clause(&[s[i - 1].neg(), s[i].pos()]);
        f.add_clause(&[xs[i].neg(), s[i - 1].neg()]);
    }
    f.add_clause(&[xs[xs.len() - 1].neg(), s[xs.len() - 2].neg()]);
}

/// Sinz's sequential counter, upward direction only: returns `out` with `out[j]` forced true
/// whenever more than `j` of `xs` are true, for `j < width`.
fn sequential_counter(f: &mut Formula, xs: &[Lit], width: usize) -> Vec<Lit> {
    if width == 0 || xs.is_empty() {
        return Vec::new();
    }
    // prev[j] = "at least j + 1 of xs[..=i]" (forced direction), j ≤ min(i, width - 1).
    let mut prev: Vec<Lit> = Vec::new();
    for (i, &x) in xs.iter().enumerate() {
        let len = (i + 1).min(width);
        let cur: Vec<Lit> = (0..len).map(|_| f.new_var().pos()).collect();
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
                .map(|&v| if m.var(v) { v.neg() } else { v.pos() })
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
            let lits: Vec<Lit> = xs.iter().map(|v| v.pos()).collect();
            let out = sequential_counter(&mut f, &lits, 3);
            assert_eq!(out.len(), 3);
            let expected: usize = (0..=k).map(|j| binom(5, j)).sum();
            assert_eq!(count_models(&mut f, &xs, &[!out[k]]), expected, "k = {k}");
        }
    }
}
