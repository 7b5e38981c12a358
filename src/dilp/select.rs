//! Which seed a run reports. The paper keeps the seed with the lowest training loss. Under
//! mislabelled examples that rule favours soft mixtures of clauses that hedge on the flipped
//! labels, and a mixture is not a program. The `crisp` rule judges each seed by the program it
//! names instead: the top pair of its weights, and the clauses above the threshold pruned
//! while the training errors do not grow, are run by the Datalog engine on the training
//! worlds; the seed whose better program makes the fewest training errors wins, then the one
//! with fewer clauses (Occam: of programs the training data cannot tell apart, the shorter),
//! then the lowest training loss. Neither rule looks at validation data.

use super::readout::read_out;
use crate::ilp::{check_program, program_text, training_errors, ClauseSet, Task};
use crate::logic::Clause;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tch::Tensor;

/// How the reported seed is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    /// Lowest training loss (the paper's rule).
    Loss,
    /// Fewest training errors of the seed's crisp program (run by the engine), then lowest
    /// training loss.
    #[default]
    Crisp,
}

impl std::str::FromStr for Selection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "loss" => Ok(Selection::Loss),
            "crisp" => Ok(Selection::Crisp),
            _ => Err(format!("unknown selection `{s}` (loss, crisp)")),
        }
    }
}

/// Which read-out of a seed's weights its crisp program is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadOutKind {
    /// Every clause above the threshold, plus the top pair (the paper's read-out).
    Threshold,
    /// The most probable clause pair of each predicate alone.
    TopPair,
    /// The threshold read-out with clauses dropped, least probable first, while the training
    /// errors did not grow.
    Pruned,
}

/// One seed's crisp program, as the engine scores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrispCheck {
    /// The chosen read-out as Datalog: of the top pair and the pruned threshold read-out, the
    /// one with fewer training errors, then fewer clauses (the top pair on a tie).
    pub program: String,
    pub read_out: ReadOutKind,
    pub clauses: usize,
    pub train_errors: usize,
    /// Reported, never used to choose.
    pub validation_mse: f64,
    /// The program's clauses, for the caller to report.
    #[serde(skip)]
    pub rules: Vec<Clause>,
}

/// Drops clauses from `clauses` (ordered least probable first) one at a time while the
/// training errors do not grow, until none can go. Clauses the training data cannot tell
/// apart from their absence are what a soft model hedges with (MAE spreads weight over them);
/// kept, they are guesses on data they were never tested on.
fn prune(mut clauses: Vec<Clause>, mut errors: impl FnMut(&[Clause]) -> usize) -> Vec<Clause> {
    let mut current = errors(&clauses);
    let mut i = 0;
    while i < clauses.len() {
        let mut without = clauses.clone();
        without.remove(i);
        let e = errors(&without);
        if e <= current {
            (clauses, current) = (without, e);
            i = 0;
        } else {
            i += 1;
        }
    }
    clauses
}

/// The crisp program of every seed (row) of `probs`. Programs are run by the engine once
/// each, however many seeds or pruning steps name them.
pub fn crisp_checks(
    task: &Task,
    clause_sets: &[ClauseSet],
    probs: &[Tensor],
    seeds: usize,
    threshold: f64,
) -> Vec<CrispCheck> {
    // Pruning only ever asks for training errors; validation is run for the two programs a
    // seed ends up with, to be reported.
    let mut errors_of: HashMap<Vec<Clause>, usize> = HashMap::new();
    let mut errors = |rules: &[Clause]| -> usize {
        let mut key = rules.to_vec();
        key.sort();
        *errors_of
            .entry(key)
            .or_insert_with(|| training_errors(task, rules))
    };
    let mut validation_of: HashMap<String, f64> = HashMap::new();
    let mut score = |rules: &[Clause], errors: usize| -> (String, usize, f64) {
        let text = program_text(&task.vocab, rules);
        let mse = *validation_of
            .entry(text.clone())
            .or_insert_with(|| check_program(task, rules).validation_mse);
        (text, errors, mse)
    };
    (0..seeds)
        .map(|s| {
            let read = read_out(clause_sets, probs, s, threshold);
            let mut by_prob = read.clauses.clone();
            by_prob.sort_by(|a, b| a.prob.total_cmp(&b.prob));
            let thresholded: Vec<Clause> = by_prob.into_iter().map(|c| c.clause).collect();
            let n = thresholded.len();
            let pruned = prune(thresholded, &mut errors);
            // Back in the read-out's order, so the printed program reads predicate by predicate.
            let pruned: Vec<Clause> = read
                .rules()
                .into_iter()
                .filter(|c| pruned.contains(c))
                .collect();
            let top = read_out(clause_sets, probs, s, f64::INFINITY).rules();
            let (p_text, p_err, p_mse) = score(&top, errors(&top));
            let (r_text, r_err, r_mse) = score(&pruned, errors(&pruned));
            if (p_err, top.len()) <= (r_err, pruned.len()) {
                CrispCheck {
                    program: p_text,
                    read_out: ReadOutKind::TopPair,
                    clauses: top.len(),
                    train_errors: p_err,
                    validation_mse: p_mse,
                    rules: top,
                }
            } else {
                CrispCheck {
                    program: r_text,
                    read_out: if pruned.len() < n {
                        ReadOutKind::Pruned
                    } else {
                        ReadOutKind::Threshold
                    },
                    clauses: pruned.len(),
                    train_errors: r_err,
                    validation_mse: r_mse,
                    rules: pruned,
                }
            }
        })
        .collect()
}

/// The index of the seed to report; `crisp` may be empty under [`Selection::Loss`].
pub fn choose(selection: Selection, losses: &[f64], crisp: &[CrispCheck]) -> usize {
    let by_loss = |a: &usize, b: &usize| losses[*a].total_cmp(&losses[*b]);
    let seeds = 0..losses.len();
    match selection {
        Selection::Loss => seeds.min_by(by_loss),
        Selection::Crisp if crisp.len() == losses.len() => seeds.min_by(|a, b| {
            let key = |c: &CrispCheck| (c.train_errors, c.clauses);
            key(&crisp[*a])
                .cmp(&key(&crisp[*b]))
                .then_with(|| by_loss(a, b))
        }),
        Selection::Crisp => seeds.min_by(by_loss),
    }
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(errors: usize, clauses: usize) -> CrispCheck {
        CrispCheck {
            program: String::new(),
            read_out: ReadOutKind::Threshold,
            clauses,
            train_errors: errors,
            validation_mse: 0.0,
            rules: Vec::new(),
        }
    }

    #[test]
    fn loss_picks_the_lowest_loss() {
        assert_eq!(choose(Selection::Loss, &[0.3, 0.1, 0.2], &[]), 1);
    }

    #[test]
    fn crisp_prefers_fewer_errors_then_lower_loss() {
        let crisp = [check(2, 2), check(1, 2), check(1, 2)];
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &crisp), 2);
        // Fewer clauses break a tie in errors before the loss does.
        let crisp = [check(1, 3), check(1, 2), check(2, 1)];
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &crisp), 1);
        // Without crisp checks it falls back to the loss.
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &[]), 0);
    }

    #[test]
    fn prune_drops_what_the_errors_do_not_need() {
        use crate::logic::{Atom, PredId, Term, VarId};
        // Stand-in clauses told apart by their head predicate; "errors" is how many of the
        // needed ones (0 and 2) are missing plus one for clause 3, which does harm.
        let c = |p: u32| Clause {
            head: Atom {
                pred: PredId(p),
                args: vec![Term::Var(VarId(0))],
            },
            body: vec![],
            var_names: vec!["X".into()],
        };
        let errors = |r: &[Clause]| {
            let has = |p| r.contains(&c(p));
            usize::from(!has(0)) + usize::from(!has(2)) + usize::from(has(3))
        };
        let kept = prune(vec![c(3), c(1), c(0), c(2), c(4)], errors);
        assert_eq!(kept, vec![c(0), c(2)]);
    }

    #[test]
    fn parses_its_names() {
        assert_eq!("loss".parse::<Selection>(), Ok(Selection::Loss));
        assert_eq!("crisp".parse::<Selection>(), Ok(Selection::Crisp));
        assert!("best".parse::<Selection>().is_err());
    }
}
