//! The size model: from the task alone, before anything large is allocated, how big each
//! learner's data will be, and a refusal naming what drives it when that is over the budget.
//!
//! Everything here is arithmetic on the task's declarations and worlds (u128 counts with
//! saturating operations, f64 bytes), so the estimate itself cannot overflow and takes
//! microseconds on any task. Exact where the code's sizes are closed-form, bounds elsewhere:
//! - ground atoms `n = 1 + Σ_p |C|^arity(p)` (exact);
//! - `|cl(τ)|`, counted without generating a clause ([`clause_count`], exact);
//! - index pairs of `X_c`: `|cl(τ)| · |C|^arity · |C|^v` per template and world (exact: the
//!   dense form that [`super::index_pairs`] builds);
//! - SAT variables and clauses: the encoding before its reachability and cone-of-influence
//!   simplifications (an upper bound; `tests/size.rs` states how far above on the benchmarks);
//! - ∂ILP bytes: the tensor path's tape (`dilp::memory::our_estimate`'s formula on the same
//!   numbers), the paper's Appendix E formula, and the native kernel's compile peak and tape.

use super::budget::MemoryBudget;
use super::task::{Language, RuleTemplate, Task, World};
use crate::error::{Error, Result};
use crate::logic::{Atom, Clause, PredId, Term, Vocabulary};

/// One rule template of one intensional predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSize {
    pub pred: PredId,
    /// `name/arity`, for messages.
    pub label: String,
    pub arity: usize,
    /// 0 or 1: the predicate's first or second template.
    pub slot: usize,
    pub template: RuleTemplate,
    /// `|cl(τ)|`.
    pub clauses: u128,
    /// Body-atom candidates: every predicate over the template's `arity + v` variables.
    pub candidates: u128,
}

/// One world's sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldSize {
    /// `training world 2`, `validation world 1`.
    pub label: String,
    pub validation: bool,
    pub constants: u128,
    pub steps: usize,
    /// Ground atoms, ⊥ included (the paper's n).
    pub atoms: u128,
    /// Ground atoms of the intensional predicates.
    pub intensional_atoms: u128,
    /// Labelled examples.
    pub examples: usize,
    /// Per template (in [`SizeModel::templates`] order), [`weighted_pairs`] on this world: the
    /// clause-grounding bodies per head atom and grounding that are not always false, and those
    /// of them with two intensional atoms.
    pub live_bodies: Vec<(f64, f64)>,
}

/// The size of a task, from its declarations and worlds alone.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeModel {
    pub file: String,
    pub templates: Vec<TemplateSize>,
    /// Training worlds, then validation worlds.
    pub worlds: Vec<WorldSize>,
    /// Invented predicates.
    pub invented: usize,
}

/// `a^b` saturating at `u128::MAX`.
pub fn pow_sat(a: u128, b: usize) -> u128 {
    (0..b).fold(1u128, |acc, _| acc.saturating_mul(a))
}

/// `|cl(τ)|` for `head` under `tpl`: the length of [`super::generate_clauses`]'s list, counted
/// by classes instead of pairs. A body candidate is classed by whether its predicate is
/// intensional and which head variables it mentions; a pair is kept when it has an intensional
/// atom exactly when `int` asks for one and covers every head variable (safety), and the head
/// atom itself is never a candidate (circularity). Tuples of arity r over `a + v` variables
/// mentioning exactly a given set of s head variables: `Σ_{j≤s} (−1)^(s−j) C(s,j) (v+j)^r`.
pub fn clause_count(vocab: &Vocabulary, lang: &Language, head: PredId, tpl: RuleTemplate) -> u128 {
    let a = vocab.arity(head);
    if a > 16 {
        return 0; // not a task the loader accepts (arity ≤ 2); keeps the masks small
    }
    let full = (1usize << a) - 1;
    // count[int][mask] (signed while inclusion–exclusion runs; every total is ≥ 0).
    let mut count = vec![[0i128; 2]; full + 1];
    for p in lang.all_preds() {
        let r = vocab.arity(p);
        let int = usize::from(lang.is_intensional(p));
        for (mask, slot) in count.iter_mut().enumerate() {
            let s = mask.count_ones() as usize;
            let mut exact: i128 = 0;
            for j in 0..=s {
                let term = binomial(s, j).saturating_mul(pow_sat((tpl.v + j) as u128, r) as i128);
                exact = if (s - j).is_multiple_of(2) {
                    exact.saturating_add(term)
                } else {
                    exact.saturating_sub(term)
                };
            }
            slot[int] = slot[int].saturating_add(exact);
        }
    }
    count[full][1] -= 1; // the head atom h(X, Y) itself
    let classes: Vec<(usize, bool, u128)> = (0..=full)
        .flat_map(|m| [(m, false, count[m][0]), (m, true, count[m][1])])
        .map(|(m, i, c)| (m, i, c.max(0) as u128))
        .collect();
    let mut total = 0u128;
    for (x, &(m1, i1, c1)) in classes.iter().enumerate() {
        for &(m2, i2, c2) in &classes[x..] {
            if (i1 || i2) != tpl.int || m1 | m2 != full {
                continue;
            }
            let pairs = if (m1, i1) == (m2, i2) {
                c1.saturating_mul(c1.saturating_add(1)) / 2
            } else {
                c1.saturating_mul(c2)
            };
            total = total.saturating_add(pairs);
        }
    }
    total
}

/// Body pairs of `cl(τ)` weighted by how likely each body atom is to be not always false:
/// `(Σ_c d(b1)·d(b2), the same over clauses with two intensional body atoms)`, with `d` the
/// fraction of an extensional predicate's atoms in the background and 1 for an intensional one.
/// The same classes as [`clause_count`], with sums of weights (and of squared weights, for
/// pairs within one class) in place of counts.
pub fn weighted_pairs(
    vocab: &Vocabulary,
    lang: &Language,
    head: PredId,
    tpl: RuleTemplate,
    density: &dyn Fn(PredId) -> f64,
) -> (f64, f64) {
    let a = vocab.arity(head).min(16);
    let full = (1usize << a) - 1;
    // sums[mask][int] = (Σ w, Σ w²)
    let mut sums = vec![[(0f64, 0f64); 2]; full + 1];
    for p in lang.all_preds() {
        let (r, d) = (vocab.arity(p), density(p));
        let int = usize::from(lang.is_intensional(p));
        for (mask, slot) in sums.iter_mut().enumerate() {
            let s = mask.count_ones() as usize;
            let exact: f64 = (0..=s)
                .map(|j| {
                    let sign = if (s - j).is_multiple_of(2) { 1.0 } else { -1.0 };
                    sign * binomial(s, j) as f64 * ((tpl.v + j) as f64).powi(r as i32)
                })
                .sum();
            slot[int].0 += exact * d;
            slot[int].1 += exact * d * d;
        }
    }
    sums[full][1].0 -= 1.0; // the head atom itself
    sums[full][1].1 -= 1.0;
    let classes: Vec<(usize, bool, (f64, f64))> = (0..=full)
        .flat_map(|m| [(m, false, sums[m][0]), (m, true, sums[m][1])])
        .collect();
    let (mut all, mut both) = (0.0, 0.0);
    for (x, &(m1, i1, (w1, q1))) in classes.iter().enumerate() {
        for &(m2, i2, (w2, _)) in &classes[x..] {
            if (i1 || i2) != tpl.int || m1 | m2 != full {
                continue;
            }
            let pairs = if (m1, i1) == (m2, i2) {
                (w1 * w1 + q1) / 2.0
            } else {
                w1 * w2
            };
            all += pairs.max(0.0);
            if i1 && i2 {
                both += pairs.max(0.0);
            }
        }
    }
    (all, both)
}

fn binomial(n: usize, k: usize) -> i128 {
    (0..k).fold(1i128, |acc, i| acc * (n - i) as i128 / (i + 1) as i128)
}

impl SizeModel {
    /// The sizes of `task`. Cheap: no clause, index or tensor is built.
    pub fn of(task: &Task) -> SizeModel {
        let vocab = &task.vocab;
        let lang = &task.language;
        let mut templates = Vec::new();
        for rules in &task.rules {
            let info = vocab.pred(rules.pred);
            for (slot, tpl) in rules.templates.iter().enumerate() {
                let Some(tpl) = *tpl else { continue };
                let nvars = (info.arity + tpl.v) as u128;
                let candidates = lang.all_preds().iter().fold(0u128, |acc, &p| {
                    acc.saturating_add(pow_sat(nvars, vocab.arity(p)))
                });
                templates.push(TemplateSize {
                    pred: rules.pred,
                    label: format!("{}/{}", info.name, info.arity),
                    arity: info.arity,
                    slot,
                    template: tpl,
                    clauses: clause_count(vocab, lang, rules.pred, tpl),
                    candidates,
                });
            }
        }
        let world = |w: &World, validation: bool, i: usize| {
            let c = w.constants.len() as u128;
            let sum = |ps: &[PredId]| {
                ps.iter().fold(0u128, |acc, &p| {
                    acc.saturating_add(pow_sat(c, vocab.arity(p)))
                })
            };
            let kind = if validation { "validation" } else { "training" };
            let density = |p: PredId| {
                if lang.is_intensional(p) {
                    return 1.0;
                }
                let facts = w.background.iter().filter(|a| a.pred == p).count() as f64;
                facts / (c as f64).powi(vocab.arity(p) as i32).max(1.0)
            };
            let live_bodies = (task.rules.iter())
                .flat_map(|r| r.templates.iter().flatten().map(|&t| (r.pred, t)))
                .map(|(p, t)| weighted_pairs(vocab, lang, p, t, &density))
                .collect();
            WorldSize {
                label: format!("{kind} world {}", i + 1),
                validation,
                constants: c,
                steps: w.steps,
                atoms: sum(&lang.extensional)
                    .saturating_add(sum(&lang.intensional))
                    .saturating_add(1),
                intensional_atoms: sum(&lang.intensional),
                examples: w.positive.len() + w.negative.len(),
                live_bodies,
            }
        };
        let train = task
            .train
            .iter()
            .enumerate()
            .map(|(i, w)| world(w, false, i));
        let val = (task.validation.iter().enumerate()).map(|(i, w)| world(w, true, i));
        SizeModel {
            file: task.file.clone(),
            templates,
            worlds: train.chain(val).collect(),
            invented: lang.invented().len(),
        }
    }

    /// Generated clauses over every template.
    pub fn clauses(&self) -> u128 {
        self.templates
            .iter()
            .fold(0, |acc, t| acc.saturating_add(t.clauses))
    }

    /// Index pairs of template `t`'s `X_c` on world `w`, over all its clauses:
    /// `|cl(τ)| · |C|^arity · |C|^v`.
    pub fn template_pairs(&self, t: &TemplateSize, w: &WorldSize) -> u128 {
        t.clauses
            .saturating_mul(pow_sat(w.constants, t.arity))
            .saturating_mul(pow_sat(w.constants, t.template.v))
    }

    /// Index pairs over every template on world `w`.
    pub fn index_pairs(&self, w: &WorldSize) -> u128 {
        (self.templates.iter()).fold(0, |acc, t| acc.saturating_add(self.template_pairs(t, w)))
    }
}

/// Bytes of one generated clause: the value and its heap parts (argument lists, variable names).
pub fn clause_bytes(arity: usize, v: usize) -> f64 {
    use std::mem::size_of;
    let atom = size_of::<Atom>() + 2 * size_of::<Term>();
    let names = (arity + v) * (size_of::<String>() + 8);
    (size_of::<Clause>() + 3 * atom + names) as f64
}

/// Where a refusal says the size comes from, and what would bring it down.
fn driver(m: &SizeModel, t: &TemplateSize, w: &WorldSize, quantity: &str) -> (String, String) {
    let c = w.constants;
    let driver = format!(
        "rule template {} of `{}` (v = {}, int = {}): {} clauses × {} head atoms × {} groundings \
         each = {} {quantity} on {} ({c} constants, {} ground atoms)",
        t.slot + 1,
        t.label,
        t.template.v,
        t.template.int,
        t.clauses,
        pow_sat(c, t.arity),
        pow_sat(c, t.template.v),
        m.template_pairs(t, w),
        w.label,
        w.atoms,
    );
    let mut hint = format!(
        "fewer constants ({c} in {}; this template grows as |C|^{}), ",
        w.label,
        t.arity + t.template.v
    );
    if t.template.v > 0 {
        hint += &format!(
            "a smaller v for `{}` (each step down divides its groundings by {c}), ",
            t.label
        );
    }
    hint += &format!(
        "or fewer invented predicates ({} now; clauses per template grow with the square of \
         the number of predicates); or raise --max-memory",
        m.invented
    );
    (driver, hint)
}

impl SizeModel {
    /// The (template, world) with the most index pairs, over the worlds `keep` selects.
    fn largest(&self, keep: impl Fn(&WorldSize) -> bool) -> Option<(&TemplateSize, &WorldSize)> {
        let worlds = self.worlds.iter().filter(|w| keep(w));
        let pairs: Vec<_> =
            (worlds.flat_map(|w| self.templates.iter().map(move |t| (t, w)))).collect();
        // The first of equal maxima: the target before the invented predicates.
        (pairs.into_iter().rev()).max_by_key(|(t, w)| self.template_pairs(t, w))
    }

    /// Refuses `what` when `needed` is over `budget`, naming the largest template.
    pub(crate) fn refuse_over(
        &self,
        what: &str,
        needed: f64,
        budget: MemoryBudget,
        keep: impl Fn(&WorldSize) -> bool,
        quantity: &str,
    ) -> Result<()> {
        if needed <= budget.bytes() as f64 {
            return Ok(());
        }
        let (driver, hint) = match self.largest(keep) {
            Some((t, w)) => driver(self, t, w, quantity),
            None => ("the task's worlds".into(), "fewer constants".into()),
        };
        Err(Error::TooLarge {
            file: self.file.clone(),
            what: what.to_string(),
            driver,
            needed_bytes: needed,
            budget_bytes: budget.bytes(),
            hint,
        })
    }

    /// Bytes of `generate_all`'s clauses.
    pub fn clausegen_bytes(&self) -> f64 {
        (self.templates.iter())
            .map(|t| t.clauses as f64 * clause_bytes(t.arity, t.template.v))
            .sum()
    }

    /// Refuses generating the clauses (`dilp clauses` and every learner's first step).
    pub fn check_clauses(&self, budget: MemoryBudget) -> Result<()> {
        if self.clausegen_bytes() <= budget.bytes() as f64 {
            return Ok(());
        }
        let t = (self.templates.iter().rev()).max_by_key(|t| t.clauses);
        let Some(t) = t else { return Ok(()) };
        let nvars = t.arity + t.template.v;
        Err(Error::TooLarge {
            file: self.file.clone(),
            what: "generating the clauses".into(),
            driver: format!(
                "rule template {} of `{}` (v = {}, int = {}): {} clauses from {} candidate body \
                 atoms over {nvars} variables",
                t.slot + 1,
                t.label,
                t.template.v,
                t.template.int,
                t.clauses,
                t.candidates,
            ),
            needed_bytes: self.clausegen_bytes(),
            budget_bytes: budget.bytes(),
            hint: format!(
                "a smaller v for `{}`, or fewer predicates ({} invented now): the clauses grow \
                 with the square of the candidate atoms; or raise --max-memory",
                t.label, self.invented
            ),
        })
    }
}
