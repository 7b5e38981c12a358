//! `cl(τ)`: the clauses a rule template allows, exactly as the paper's §3.2 and App. B define them.
//!
//! For a head predicate of arity a and a template (v, int) the variables are the a head
//! variables `X, Y` and v existential ones `Z, W, V`. Candidate body atoms are every predicate of
//! the language (extensional, then intensional, in index order) applied to every tuple of those
//! variables. A clause is an unordered pair of candidates (the same atom twice allowed: that is
//! how a one-atom rule is written), kept when it is safe, not circular and respects `int`.
//!
//! Readings that reproduce the paper's counts (8 and 58 for App. B; 3/38/39 for Even/succ2;
//! 15/67 for less-than), checked in `tests/ilp.rs`:
//! - `int = true` *requires* an intensional body atom (allowing gives 84, not 58);
//! - existential variables need *not* all occur in the body (requiring it gives 44, not 58);
//! - "intensional" includes the head predicate itself (recursion).
//!
//! Order (deterministic, and it reproduces the paper's numbering: App. B's solution is clause 4
//! of (0,F) and clause 16 of (1,T)): candidates are numbered predicate by predicate in index
//! order, arguments lexicographic by variable number (X < Y < Z < W < V); a clause is the pair
//! (i, j) with i ≤ j, and clauses are listed in lexicographic order of (i, j).

use super::budget::MemoryBudget;
use super::ground::pair_width;
use super::size::SizeModel;
use super::task::{Language, RuleTemplate, Task};
use crate::error::Result;
use crate::logic::{Atom, Clause, PredId, Term, VarId, Vocabulary};
use std::fmt::Write;

/// The clauses of one intensional predicate's two templates; `templates[1]` is empty when the
/// predicate has a single template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseSet {
    pub pred: PredId,
    pub templates: [Vec<Clause>; 2],
}

/// Variable names: head variables first, then existential ones.
fn var_names(arity: usize, v: usize) -> Vec<String> {
    const HEAD: [&str; 2] = ["X", "Y"];
    const EXISTENTIAL: [&str; 4] = ["Z", "W", "V", "U"];
    let head = (0..arity).map(|i| HEAD.get(i).map_or(format!("X{i}"), |s| s.to_string()));
    let exist = (0..v).map(|i| {
        EXISTENTIAL
            .get(i)
            .map_or(format!("E{i}"), |s| s.to_string())
    });
    head.chain(exist).collect()
}

/// Every atom of `pred` whose arguments are variables `0..nvars`, lexicographic.
fn atoms_over(pred: PredId, arity: usize, nvars: usize, out: &mut Vec<Atom>) {
    let count = nvars.pow(arity as u32);
    for mut k in 0..count {
        let mut args = vec![Term::Var(VarId(0)); arity];
        for slot in args.iter_mut().rev() {
            *slot = Term::Var(VarId((k % nvars) as u32));
            k /= nvars;
        }
        out.push(Atom { pred, args });
    }
}

/// `cl(τ)` for `head` under template `tpl`, in the order documented in the module.
pub fn generate_clauses(
    vocab: &Vocabulary,
    lang: &Language,
    head: PredId,
    tpl: RuleTemplate,
) -> Vec<Clause> {
    clauses(vocab, lang, head, tpl).collect()
}

/// Whether `cl(τ)` has a clause, found without listing them all: a task file's check, which
/// must stay cheap however many predicates the language declares.
pub fn template_allows_a_clause(
    vocab: &Vocabulary,
    lang: &Language,
    head: PredId,
    tpl: RuleTemplate,
) -> bool {
    clauses(vocab, lang, head, tpl).next().is_some()
}

/// `cl(τ)` in order, one clause at a time.
fn clauses(
    vocab: &Vocabulary,
    lang: &Language,
    head: PredId,
    tpl: RuleTemplate,
) -> impl Iterator<Item = Clause> {
    let arity = vocab.arity(head);
    let nvars = arity + tpl.v;
    let names = var_names(arity, tpl.v);
    let head_atom = Atom {
        pred: head,
        args: (0..arity).map(|i| Term::Var(VarId(i as u32))).collect(),
    };
    let mut candidates = Vec::new();
    for pred in lang.all_preds() {
        atoms_over(pred, vocab.arity(pred), nvars, &mut candidates);
    }
    let is_int: Vec<bool> = candidates
        .iter()
        .map(|a| lang.is_intensional(a.pred))
        .collect();
    let n = candidates.len();
    (0..n)
        .flat_map(move |i| (i..n).map(move |j| (i, j)))
        .filter_map(move |(i, j)| {
            // "Requiring" reading of int (App. B): with int, at least one intensional atom.
            if (is_int[i] || is_int[j]) != tpl.int {
                return None;
            }
            let (a, b) = (&candidates[i], &candidates[j]);
            if *a == head_atom || *b == head_atom {
                return None; // circular: the head would justify itself
            }
            let clause = Clause {
                head: head_atom.clone(),
                body: vec![a.clone(), b.clone()],
                var_names: names.clone(),
            };
            clause.is_safe().then_some(clause)
        })
}

/// The clauses of every intensional predicate's templates, in intensional order.
pub fn generate_all(task: &Task) -> Vec<ClauseSet> {
    task.rules
        .iter()
        .map(|rules| {
            let generate = |t: Option<RuleTemplate>| {
                t.map_or_else(Vec::new, |t| {
                    generate_clauses(&task.vocab, &task.language, rules.pred, t)
                })
            };
            ClauseSet {
                pred: rules.pred,
                templates: [generate(rules.templates[0]), generate(rules.templates[1])],
            }
        })
        .collect()
}

/// [`generate_all`], after checking with the size model that the clauses fit in `budget`.
///
/// # Errors
/// [`crate::Error::TooLarge`] naming the template with the most clauses, before any is built.
pub fn try_generate_all(task: &Task, budget: MemoryBudget) -> Result<Vec<ClauseSet>> {
    SizeModel::of(task).check_clauses(budget)?;
    Ok(generate_all(task))
}

/// [`describe_clauses`], refused up front (like [`try_generate_all`]) when the clauses and their
/// listing (about 80 bytes a line) would not fit in `budget`.
///
/// # Errors
/// [`crate::Error::TooLarge`] naming the template with the most clauses.
pub fn describe_clauses_within(task: &Task, budget: MemoryBudget) -> Result<String> {
    let model = SizeModel::of(task);
    let listing = 80.0 * model.clauses() as f64;
    let left = (budget.bytes() as f64 - listing).max(0.0);
    model.check_clauses(MemoryBudget::from_bytes(left as u64))?;
    Ok(describe_clauses(task))
}

/// The listing behind `dilp clauses TASK.toml`: per intensional predicate and template the
/// clauses numbered from 1 (as the paper numbers them), each with the paper's `X_c` shape
/// `n × w × 2` on the first training world, then per-predicate clause-pair counts and totals.
pub fn describe_clauses(task: &Task) -> String {
    let mut s = String::new();
    let index = task.ground_index(&task.train[0]);
    let n = index.len();
    let _ = writeln!(s, "task `{}` ({})", task.name, task.file);
    if !task.description.is_empty() {
        let _ = writeln!(s, "  {}", task.description);
    }
    let _ = writeln!(
        s,
        "first training world: {} constants, n = {n} ground atoms (including ⊥)",
        index.constants().len()
    );
    let (mut clauses, mut pairs, mut entries) = (0usize, 0usize, 0usize);
    for set in generate_all(task) {
        let info = task.vocab.pred(set.pred);
        let rules = task
            .rules_of(set.pred)
            .expect("every intensional predicate has rules");
        for (t, tpl) in rules.templates.iter().enumerate() {
            let Some(tpl) = tpl else {
                let _ = writeln!(
                    s,
                    "\n{}/{}, template {}: none",
                    info.name,
                    info.arity,
                    t + 1
                );
                continue;
            };
            let list = &set.templates[t];
            let _ = writeln!(
                s,
                "\n{}/{}, template {} (v = {}, int = {}): {} clauses",
                info.name,
                info.arity,
                t + 1,
                tpl.v,
                tpl.int,
                list.len()
            );
            for (k, clause) in list.iter().enumerate() {
                let w = pair_width(clause, &index);
                entries += n * w * 2;
                let _ = writeln!(
                    s,
                    "  {:>4}. {:<48} X_c {n} × {w} × 2",
                    k + 1,
                    clause.display(&task.vocab).to_string()
                );
            }
            clauses += list.len();
        }
        // Pairs of clauses W_p scores; a missing second template counts as one "no clause".
        let first = set.templates[0].len();
        let second = if rules.templates[1].is_some() {
            set.templates[1].len()
        } else {
            1
        };
        pairs += first * second;
        let _ = writeln!(
            s,
            "{}/{}: {first} × {second} = {} clause pairs",
            info.name,
            info.arity,
            first * second
        );
    }
    let _ = writeln!(
        s,
        "\ntotal: {clauses} clauses, {pairs} clause pairs, {entries} X_c entries (Σ n × w × 2)"
    );
    s
}
