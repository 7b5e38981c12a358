//! Re-checking a program with the Datalog engine on every world of a task.
//!
//! Whatever a learner believes about its program (a soft valuation after T steps, a SAT model
//! over T unrolled steps), the report says what the program *entails*: each world's background
//! plus the rules, evaluated to fixpoint, compared with that world's labelled examples. Only
//! labelled atoms count; with explicit negatives, other derived target atoms are not errors.

use super::task::{Task, World};
use crate::datalog::{evaluate, Strategy};
use crate::logic::{Clause, Program, Vocabulary};

/// The outcome on one world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldCheck {
    /// Index within `task.train` or `task.validation`.
    pub world: usize,
    pub is_validation: bool,
    /// Negative examples the program entails, as text (`target(3)`).
    pub false_positives: Vec<String>,
    /// Positive examples the program does not entail.
    pub false_negatives: Vec<String>,
    /// Labelled examples in this world (positives plus negatives).
    pub examples: usize,
}

impl WorldCheck {
    pub fn errors(&self) -> usize {
        self.false_positives.len() + self.false_negatives.len()
    }
    pub fn is_correct(&self) -> bool {
        self.errors() == 0
    }
}

/// The outcome on every world: training worlds first, then validation worlds.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub worlds: Vec<WorldCheck>,
    /// Misclassified examples over all training worlds.
    pub train_errors: usize,
    pub validation_errors: usize,
    /// Misclassified / labelled examples over all validation worlds (the mean squared error of
    /// crisp 0/1 predictions); 0 when the task has no validation world.
    pub validation_mse: f64,
}

impl CheckReport {
    /// Every training example right.
    pub fn fits_training(&self) -> bool {
        self.train_errors == 0
    }
    /// Every training and every validation example right.
    pub fn solved(&self) -> bool {
        self.train_errors == 0 && self.validation_errors == 0
    }
}

/// Evaluates `rules` on every world of `task` (semi-naive, to fixpoint) and compares the
/// target atoms with the examples. The rules' ids must refer to `task.vocab`.
pub fn check_program(task: &Task, rules: &[Clause]) -> CheckReport {
    let worlds: Vec<WorldCheck> = task
        .worlds()
        .map(|(i, is_validation, world)| check_world(task, rules, world, i, is_validation))
        .collect();
    let errors = |validation: bool| -> usize {
        worlds
            .iter()
            .filter(|w| w.is_validation == validation)
            .map(WorldCheck::errors)
            .sum()
    };
    let (train_errors, validation_errors) = (errors(false), errors(true));
    let validation_examples: usize = worlds
        .iter()
        .filter(|w| w.is_validation)
        .map(|w| w.examples)
        .sum();
    let validation_mse = if validation_examples == 0 {
        0.0
    } else {
        validation_errors as f64 / validation_examples as f64
    };
    CheckReport {
        worlds,
        train_errors,
        validation_errors,
        validation_mse,
    }
}

/// The training examples a program gets wrong, as `(world, atom)` pairs in a fixed order:
/// [`check_program`]'s training half, without running the validation worlds, for searches
/// that must not look at them. With the labels fixed, two programs with the same list make
/// the same prediction on every labelled training atom.
pub fn training_misses(task: &Task, rules: &[Clause]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, w) in task.train.iter().enumerate() {
        let c = check_world(task, rules, w, i, false);
        out.extend(c.false_positives.into_iter().map(|a| (i, a)));
        out.extend(c.false_negatives.into_iter().map(|a| (i, a)));
    }
    out.sort();
    out
}

fn check_world(
    task: &Task,
    rules: &[Clause],
    world: &World,
    i: usize,
    is_validation: bool,
) -> WorldCheck {
    let program = Program {
        vocab: task.vocab.clone(),
        facts: world.background.clone(),
        rules: rules.to_vec(),
    };
    let model = evaluate(&program, Strategy::SemiNaive);
    let show = |a: &crate::logic::GroundAtom| a.display(&task.vocab).to_string();
    WorldCheck {
        world: i,
        is_validation,
        false_positives: world
            .negative
            .iter()
            .filter(|a| model.contains(a))
            .map(show)
            .collect(),
        false_negatives: world
            .positive
            .iter()
            .filter(|a| !model.contains(a))
            .map(show)
            .collect(),
        examples: world.positive.len() + world.negative.len(),
    }
}

/// `rules` without the clauses that change no prediction in any world, training or
/// validation: clauses that never fire, or derive only what the others derive. Only whether
/// the predictions change is asked, never whether they are right, so no label chooses a
/// clause. Later clauses are tried first.
pub fn drop_idle_clauses(task: &Task, rules: &[Clause]) -> Vec<Clause> {
    drop_clauses_idle_on(task, rules, |_| true)
}

/// [`drop_idle_clauses`] judged on the worlds `on` picks only: a clause that changes no
/// prediction there is dropped, whatever it derives elsewhere. The MNIST study asks this of
/// the digit tuples seen in training, so that a clause only unseen tuples could refute (and
/// no training item supports) is not reported: the smallest program the training data
/// determines.
pub fn drop_clauses_idle_on(
    task: &Task,
    rules: &[Clause],
    on: impl Fn(&WorldCheck) -> bool,
) -> Vec<Clause> {
    let predictions = |rs: &[Clause]| -> Vec<(Vec<String>, Vec<String>)> {
        let report = check_program(task, rs);
        (report.worlds.into_iter())
            .filter(&on)
            .map(|w| (w.false_positives, w.false_negatives))
            .collect()
    };
    let all = predictions(rules);
    let mut kept = rules.to_vec();
    for i in (0..kept.len()).rev() {
        let mut without = kept.clone();
        without.remove(i);
        if predictions(&without) == all {
            kept = without;
        }
    }
    kept
}

/// The rules as engine text, one clause a line (each ending in a newline), as a person writes
/// them: a body atom that a template repeated (`p(X,X), p(X,X)`) is written once, since a
/// conjunction means the same with a repeated conjunct dropped. The engine reads it back to the
/// same least model.
pub fn program_text(vocab: &Vocabulary, rules: &[Clause]) -> String {
    rules
        .iter()
        .map(|r| format!("{}\n", without_repeats(r).display(vocab)))
        .collect()
}

/// `r` with every body atom after its first occurrence dropped.
fn without_repeats(r: &Clause) -> Clause {
    let mut body = r.body.clone();
    let mut i = 0;
    body.retain(|b| {
        i += 1;
        !r.body[..i - 1].contains(b)
    });
    Clause { body, ..r.clone() }
}
