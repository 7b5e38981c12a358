//! One training world as clauses: the rules of each intensional predicate on the world's ground
//! index, a value per (step, atom) after the reachability and relevance analyses, the
//! step-by-step equivalences `a[t+1,k] ⇔ a[t,k] ∨ ⋁_c (flag_c ∧ D_c)`, and the examples at step T
//! (see the parent module for how each part is written).

use super::reach::{reachable, relevant};
use super::Encoding;
use crate::error::{Error, Result};
use crate::ilp::{
    background_ids, examples, index_pairs, ClauseSet, Examples, GroundIndex, IndexPairs, Task,
    World,
};
use crate::logic::PredId;
use crate::sat::solver::{Lit, Var};
use std::collections::HashMap;
use std::ops::Range;

/// A value that is either a constant or a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    False,
    True,
    Lit(Lit),
    /// An atom no example depends on at this step: it gets no variable and nothing refers to it.
    Unused,
}

/// The clauses of every intensional predicate on one world, by head (in `intensional` order).
struct Heads {
    rules: Vec<Vec<Rule>>,
    /// How many templates the head has present (0, 1 or 2).
    templates_of: Vec<usize>,
    /// The head's atoms in the ground index.
    ranges: Vec<Range<usize>>,
}

/// Buffers reused over the head values of one step; `shared` holds the step's body
/// conjunction auxiliaries, keyed by their two literals.
#[derive(Default)]
struct Scratch {
    shared: HashMap<(Lit, Lit), Lit>,
    bodies: Vec<Body>,
    cl: Vec<Lit>,
}

impl Encoding {
    pub(super) fn encode_world(
        &mut self,
        task: &Task,
        sets: &[ClauseSet],
        world: &World,
    ) -> Result<()> {
        let index = task.ground_index(world);
        let n = index.len();
        let steps = world.steps;
        let mut background = vec![false; n];
        for id in background_ids(world, &index) {
            background[id.index()] = true;
        }
        let heads = self.heads(task, sets, &index)?;
        let reachable = reachable(&heads.rules, &background, steps);
        let ex = examples(world, &index);
        let relevant = relevant(
            &heads.rules,
            &heads.ranges,
            &reachable,
            &background,
            ex.atoms.iter().map(|a| a.index()),
            steps,
        );
        let vals = self.values(&heads.ranges, &background, &reachable, &relevant);

        // a[t+1,k] ⇔ a[t,k] ∨ ⋁_c (flag_c ∧ D_c), D_c = ⋁ over c's pairs of the body conjunction.
        let mut scratch = Scratch::default();
        for t in 0..steps {
            scratch.shared.clear();
            for (h, list) in heads.rules.iter().enumerate() {
                for k in heads.ranges[h].clone() {
                    let Val::Lit(x) = vals[t + 1][k] else {
                        continue;
                    };
                    let kk = k - heads.ranges[h].start;
                    let two = heads.templates_of[h] == 2;
                    self.head_value(x, vals[t][k], two, list, kk, &vals[t], &mut scratch)?;
                }
            }
        }
        self.examples(&ex, &vals[steps])
    }

    /// The rules of each intensional predicate in this world, template by template.
    fn heads(&self, task: &Task, sets: &[ClauseSet], index: &GroundIndex) -> Result<Heads> {
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
                        xc: index_pairs(clause, index),
                    });
                }
            }
        }
        let ranges = int_preds.iter().map(|&p| index.pred_range(p)).collect();
        Ok(Heads {
            rules,
            templates_of,
            ranges,
        })
    }

    /// Values per step. Extensional atoms and ⊥ are constants at every step; an intensional
    /// atom gets a variable only where it is reachable and relevant.
    fn values(
        &mut self,
        ranges: &[Range<usize>],
        background: &[bool],
        reachable: &[Vec<bool>],
        relevant: &[Vec<bool>],
    ) -> Vec<Vec<Val>> {
        let n = background.len();
        let steps = relevant.len() - 1;
        let is_int = {
            let mut v = vec![false; n];
            for r in ranges {
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
        vals
    }

    /// The equivalence for one head value `x = a[t+1,k]` with `before = a[t,k]`, over the
    /// head's rules `list` (`kk`: the atom's place in the head's block; `row`: step t).
    #[allow(clippy::too_many_arguments)]
    fn head_value(
        &mut self,
        x: Lit,
        before: Val,
        two_templates: bool,
        list: &[Rule],
        kk: usize,
        row: &[Val],
        scratch: &mut Scratch,
    ) -> Result<()> {
        let prev = match before {
            Val::Lit(p) => {
                self.formula.add_clause(&[!p, x]);
                Some(p)
            }
            Val::False => None,
            Val::True | Val::Unused => return Err(internal("previous step")),
        };
        // With two templates, s_τ ⇒ "the clause τ picks supports x".
        let guards: Vec<Lit> = if two_templates {
            let g: Vec<Lit> = (0..2).map(|_| self.formula.new_var().positive()).collect();
            self.stats.aux_vars += 2;
            let cl = &mut scratch.cl;
            cl.clear();
            cl.push(!x);
            cl.extend(prev);
            cl.extend(&g);
            self.formula.add_clause(cl);
            g
        } else {
            Vec::new()
        };
        for rule in list {
            let guard = guards.get(rule.template).copied();
            self.rule_clauses(x, prev, guard, rule, kk, row, scratch)?;
        }
        Ok(())
    }

    /// One rule's part of the equivalence for head value `x`: if `flag ∧ body ⇒ x` per body,
    /// and only if `x` (or the template's guard) `∧ flag ⇒` some body holds.
    #[allow(clippy::too_many_arguments)]
    fn rule_clauses(
        &mut self,
        x: Lit,
        prev: Option<Lit>,
        guard: Option<Lit>,
        rule: &Rule,
        kk: usize,
        row: &[Val],
        scratch: &mut Scratch,
    ) -> Result<()> {
        let Scratch { shared, bodies, cl } = scratch;
        bodies.clear();
        let mut always = false;
        for &[i, j] in rule.row(kk) {
            match Body::of(row[i as usize], row[j as usize])? {
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
            return Ok(());
        }
        bodies.sort_unstable();
        bodies.dedup();
        self.stats.pairs += bodies.len();
        // If: flag ∧ body ⇒ x.
        for b in bodies.iter() {
            cl.clear();
            cl.push(f.negative());
            cl.extend(b.lits().iter().map(|&l| !l));
            cl.push(x);
            self.formula.add_clause(cl);
        }
        // Only if: x (or this template's guard) ∧ flag ⇒ some body holds.
        cl.clear();
        match guard {
            Some(g) => cl.push(!g),
            None => {
                cl.push(!x);
                cl.extend(prev);
            }
        }
        cl.push(f.negative());
        for b in bodies.iter() {
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
        self.formula.add_clause(cl);
        Ok(())
    }

    /// Examples at step T (`last`: the values at T): hard unit clauses in exact mode,
    /// relaxable ones (or forced errors) in noisy mode.
    fn examples(&mut self, ex: &Examples, last: &[Val]) -> Result<()> {
        for (atom, &label) in ex.atoms.iter().zip(&ex.labels) {
            self.stats.examples += 1;
            let positive = label > 0.5;
            match (last[atom.index()], self.max_errors.is_some()) {
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
pub(super) struct Rule {
    /// 0 or 1: which of the predicate's templates generated it.
    template: usize,
    flag: Var,
    pub(super) xc: IndexPairs,
}

impl Rule {
    /// The body pairs for the `kk`-th head atom of the predicate's block.
    pub(super) fn row(&self, kk: usize) -> &[[u32; 2]] {
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
