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

mod cardinality;
mod reach;
mod world;

use super::solver::{Formula, Lit, Model, Var};
use crate::error::{Error, Result};
use crate::ilp::{ClauseSet, MemoryBudget, SizeModel, Task};
use cardinality::{exactly_one, sequential_counter};

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
}
