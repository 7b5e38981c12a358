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
//! How the equivalence is written (per head value x = a[t+1,k], with p = a[t,k] and, for each
//! clause c of the head's templates, D_c = the disjunction of c's body conjunctions for k):
//! - *If*: `p ⇒ x` and, for every clause and body, `flag_c ∧ body ⇒ x`.
//! - *Only if*, by clause rather than by one long disjunction: exactly one clause per template
//!   is on, so "some chosen clause supports x" is `⋀_c (flag_c ⇒ D_c)` per template. With one
//!   template: `x ∧ ¬p ∧ flag_c ⇒ D_c` for each c. With two: `x ⇒ p ∨ s_1 ∨ s_2` and
//!   `s_τ ∧ flag_c ⇒ D_c` for the clauses of τ. So a positive atom whose chosen clause has no
//!   body left switches that clause off by unit propagation, where a single disjunction over
//!   every (clause, body) would wait until all but one term were false.
//! - The two-atom conjunctions in D_c are auxiliaries `w ⇒ a[t,i] ∧ a[t,j]`, shared by every
//!   clause and head atom of the step that uses the same pair. `w` and `s` only occur positively
//!   where they are used, so these one-sided (Plaisted–Greenbaum) definitions keep `a` exactly
//!   the T-step forward chaining of the chosen program.
//!
//! Simplifications, none of which changes the set of models projected on the flags:
//! - *Reachability*: an atom that cannot be derived within t steps even with **every** clause
//!   switched on is the constant false at step t (a forward over-approximation), so it gets no
//!   variable; bodies with a false atom are dropped, true atoms (background) are left out of
//!   conjunctions, and duplicate bodies merged.
//! - *Cone of influence*: an atom value that no example at step T can depend on (backwards
//!   through every clause's pairs) gets no variable and no clauses.
//!
//! **Examples.** Every positive is true and every negative false at step T. In noisy mode each
//! example whose value is not a constant gets a relaxation variable r (`a[T,k] ∨ r` for a
//! positive, `¬a[T,k] ∨ r` for a negative); an example that is wrong under every program counts
//! as a forced error. A sequential counter over the r's gives literals "at least j relaxed", so
//! "at most K errors" is a single assumption and K can grow without re-encoding.

use super::solver::{Formula, Lit, Model, Var};
use crate::error::{Error, Result};
use crate::ilp::{
    background_ids, examples, index_pairs, ClauseSet, IndexPairs, MemoryBudget, SizeModel, Task,
};
use crate::logic::PredId;
use std::collections::HashMap;

/// A value that is either a constant or a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    False,
    True,
    Lit(Lit),
    /// An atom no example depends on at this step: it gets no variable and nothing refers to it.
    Unused,
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
    /// Intensional (step, atom) values left out because no example depends on them.
    pub irrelevant: usize,
    /// Auxiliary variables: shared body conjunctions and per-template support guards.
    pub aux_vars: usize,
    /// Distinct (clause, body) pairs kept after simplification (over steps and worlds).
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
/// may be wrong, selected by [`Encoding::bound`]. Checked against the default
/// [`MemoryBudget`] (see [`encode_within`]).
pub fn encode(task: &Task, sets: &[ClauseSet], max_errors: Option<usize>) -> Result<Encoding> {
    encode_within(task, sets, max_errors, MemoryBudget::default())
}

/// [`encode`], refused before anything is built when the size model's estimate of the
/// encoding (index pairs, variables, clauses) is over `budget`.
///
/// # Errors
/// [`Error::TooLarge`] naming the template and world that drive the size.
pub fn encode_within(
    task: &Task,
    sets: &[ClauseSet],
    max_errors: Option<usize>,
    budget: MemoryBudget,
) -> Result<Encoding> {
    SizeModel::of(task).check_sat(budget)?;
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
            for (t, chosen) in c.iter().enumerate() {
                if let Some(i) = *chosen {
                    clause.push(self.flags[s][t][i].negative());
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
        // The rules of each intensional predicate in this world, template by template.
        let int_preds: Vec<PredId> = task.language.intensional.clone();
        let mut rules: Vec<Vec<Rule>> = vec![Vec::new(); int_preds.len()];
        let mut templates_of: Vec<usize> = vec![0; int_preds.len()];
        for (s, set) in sets.iter().enumerate() {
            let head = int_preds
                .iter()
                .position(|&p| p == set.pred)
                .ok_or_else(|| Error::Config("clause set for an unknown predicate".into()))?;
            for t in 0..2 {
                if !self.present[s][t] {
                    continue;
                }
                templates_of[head] += 1;
                for (c, clause) in set.templates[t].iter().enumerate() {
                    rules[head].push(Rule {
                        template: t,
                        flag: self.flags[s][t][c],
                        xc: index_pairs(clause, &index),
                    });
                }
            }
        }
        let ranges: Vec<std::ops::Range<usize>> =
            int_preds.iter().map(|&p| index.pred_range(p)).collect();
        let is_int = {
            let mut v = vec![false; n];
            for r in &ranges {
                v[r.clone()].iter_mut().for_each(|b| *b = true);
            }
            v
        };

        // Forward over-approximation: reachable[t][k] with every clause switched on.
        let mut reachable: Vec<Vec<bool>> = vec![background.clone()];
        for t in 0..steps {
            let cur = &reachable[t];
            let mut next = cur.clone();
            for list in &rules {
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

        // Backward cone of influence: relevant[t][k] when a[t,k] can affect an example at T.
        let ex = examples(world, &index);
        let mut relevant = vec![vec![false; n]; steps + 1];
        for a in &ex.atoms {
            relevant[steps][a.index()] = true;
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

        // Values per step. Extensional atoms and ⊥ are constants at every step.
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
                } else if !reachable[t][k] {
                    self.stats.unreachable += 1;
                    Val::False
                } else if !relevant[t][k] {
                    self.stats.irrelevant += 1;
                    Val::Unused
                } else {
                    self.stats.atom_vars += 1;
                    Val::Lit(self.formula.new_var().positive())
                });
            }
            vals.push(row);
        }

        // a[t+1,k] ⇔ a[t,k] ∨ ⋁_c (flag_c ∧ D_c), D_c = ⋁ over c's pairs of the body conjunction.
        let mut shared: HashMap<(Lit, Lit), Lit> = HashMap::new();
        let mut bodies: Vec<Body> = Vec::new();
        let mut cl: Vec<Lit> = Vec::new();
        for t in 0..steps {
            shared.clear();
            for (h, list) in rules.iter().enumerate() {
                for k in ranges[h].clone() {
                    let Val::Lit(x) = vals[t + 1][k] else {
                        continue;
                    };
                    let prev = match vals[t][k] {
                        Val::Lit(p) => {
                            self.formula.add_clause(&[!p, x]);
                            Some(p)
                        }
                        Val::False => None,
                        Val::True | Val::Unused => return Err(internal("previous step")),
                    };
                    // With two templates, s_τ ⇒ "the clause τ picks supports x".
                    let guards: Vec<Lit> = if templates_of[h] == 2 {
                        let g: Vec<Lit> =
                            (0..2).map(|_| self.formula.new_var().positive()).collect();
                        self.stats.aux_vars += 2;
                        cl.clear();
                        cl.push(!x);
                        cl.extend(prev);
                        cl.extend(&g);
                        self.formula.add_clause(&cl);
                        g
                    } else {
                        Vec::new()
                    };
                    let kk = k - ranges[h].start;
                    for rule in list {
                        bodies.clear();
                        let mut always = false;
                        for &[i, j] in rule.row(kk) {
                            match Body::of(vals[t][i as usize], vals[t][j as usize])? {
                                None => {}
                                Some(Body::Empty) => always = true,
                                Some(b) => bodies.push(b),
                            }
                        }
                        let f = rule.flag;
                        if always {
                            // The body holds: the clause derives x whenever chosen.
                            self.formula.add_clause(&[f.negative(), x]);
                            self.stats.pairs += 1;
                            continue;
                        }
                        bodies.sort_unstable();
                        bodies.dedup();
                        self.stats.pairs += bodies.len();
                        // If: flag ∧ body ⇒ x.
                        for b in &bodies {
                            cl.clear();
                            cl.push(f.negative());
                            cl.extend(b.lits().iter().map(|&l| !l));
                            cl.push(x);
                            self.formula.add_clause(&cl);
                        }
                        // Only if: x (or this template's guard) ∧ flag ⇒ some body holds.
                        cl.clear();
                        match guards.get(rule.template) {
                            Some(&g) => cl.push(!g),
                            None => {
                                cl.push(!x);
                                cl.extend(prev);
                            }
                        }
                        cl.push(f.negative());
                        for b in &bodies {
                            let w = match *b {
                                Body::One(l) => l,
                                Body::Two(a, c) => *shared.entry((a, c)).or_insert_with(|| {
                                    let w = self.formula.new_var().positive();
                                    self.formula.add_clause(&[!w, a]);
                                    self.formula.add_clause(&[!w, c]);
                                    self.stats.aux_vars += 1;
                                    w
                                }),
                                Body::Empty => unreachable!("handled above"),
                            };
                            cl.push(w);
                        }
                        self.formula.add_clause(&cl);
                    }
                }
            }
        }

        // Examples at step T.
        for (atom, &label) in ex.atoms.iter().zip(&ex.labels) {
            self.stats.examples += 1;
            let positive = label > 0.5;
            match (vals[steps][atom.index()], self.max_errors.is_some()) {
                (Val::True, _) if positive => {}
                (Val::False, _) if !positive => {}
                (Val::True | Val::False, false) => self.formula.add_clause(&[]),
                (Val::True | Val::False, true) => self.forced_errors += 1,
                (Val::Lit(l), false) => self.formula.add_clause(&[if positive { l } else { !l }]),
                (Val::Unused, _) => return Err(internal("example atom")),
                (Val::Lit(l), true) => {
                    let r = self.formula.new_var().positive();
                    self.formula.add_clause(&[if positive { l } else { !l }, r]);
                    self.relax.push(r);
                }
            }
        }
        Ok(())
    }
}

/// One clause of an intensional predicate on one world.
#[derive(Clone)]
struct Rule {
    /// 0 or 1: which of the predicate's templates generated it.
    template: usize,
    flag: Var,
    xc: IndexPairs,
}

impl Rule {
    /// The body pairs for the `kk`-th head atom of the predicate's block.
    fn row(&self, kk: usize) -> &[[u32; 2]] {
        &self.xc.pairs[kk * self.xc.width..(kk + 1) * self.xc.width]
    }
}

/// A body conjunction after dropping its constant-true atoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Body {
    Empty,
    One(Lit),
    /// Two distinct literals, the smaller first.
    Two(Lit, Lit),
}

impl Body {
    /// `None` when the conjunction is false.
    fn of(a: Val, b: Val) -> Result<Option<Body>> {
        Ok(Some(match (a, b) {
            (Val::Unused, _) | (_, Val::Unused) => return Err(internal("body atom")),
            (Val::False, _) | (_, Val::False) => return Ok(None),
            (Val::True, Val::True) => Body::Empty,
            (Val::Lit(l), Val::True) | (Val::True, Val::Lit(l)) => Body::One(l),
            (Val::Lit(l), Val::Lit(m)) if l == m => Body::One(l),
            (Val::Lit(l), Val::Lit(m)) => Body::Two(l.min(m), l.max(m)),
        }))
    }
    fn lits(&self) -> Vec<Lit> {
        match *self {
            Body::Empty => Vec::new(),
            Body::One(l) => vec![l],
            Body::Two(a, b) => vec![a, b],
        }
    }
}

/// The cone-of-influence analysis left out an atom that the encoding needs: a bug here.
fn internal(what: &str) -> Error {
    Error::Solver(format!(
        "internal error in the SAT encoding: a {what} has no value"
    ))
}

/// Exactly one of `xs` is true (the empty clause when `xs` is empty).
fn exactly_one(f: &mut Formula, xs: &[Var]) {
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
fn sequential_counter(f: &mut Formula, xs: &[Lit], width: usize) -> Vec<Lit> {
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
