//! Which seed a run reports. The paper keeps the seed with the lowest training loss. Under
//! mislabelled examples that rule favours soft mixtures of clauses that hedge on the flipped
//! labels, and a mixture is not a program. The `crisp` rule judges each seed by the program it
//! names instead: its top clause pair, and its clauses above the threshold, each pruned of the
//! clauses the training data has no use for, are run by the Datalog engine on the training
//! worlds; the seed whose better program makes the fewest training errors wins, the training
//! loss breaking ties. Neither rule looks at validation data.

use super::readout::read_out_seed;
use super::weights::SeedWeights;
use crate::ilp::{check_program, program_text, training_misses, ClauseSet, Task};
use crate::logic::Clause;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    /// The threshold read-out with clauses dropped, least probable first, that were idle on
    /// the training data or did harm there.
    Pruned,
}

/// One seed's crisp program, as the engine scores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrispCheck {
    /// The chosen read-out as Datalog: the pruned top pair, unless the pruned threshold
    /// read-out makes fewer training errors (or the same misses with fewer clauses).
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

/// The training examples a program gets wrong ([`training_misses`]).
type Misses = Vec<(usize, String)>;

/// Drops clauses from `clauses` (ordered least probable first) one at a time, until none can
/// go, where dropping one either lowers the training errors or changes no prediction on a
/// labelled training atom. A clause that changes predictions without changing the error
/// count stays: the data is split on it, and the weights chose it. An idle clause is what a
/// soft model hedges with where the training data says nothing (MAE spreads weight over such
/// clauses); kept, it is a guess on data it was never tested on.
fn prune(mut clauses: Vec<Clause>, mut misses: impl FnMut(&[Clause]) -> Misses) -> Vec<Clause> {
    let mut current = misses(&clauses);
    let mut i = 0;
    while i < clauses.len() {
        let mut without = clauses.clone();
        without.remove(i);
        let m = misses(&without);
        if m.len() < current.len() || m == current {
            (clauses, current) = (without, m);
            i = 0;
        } else {
            i += 1;
        }
    }
    clauses
}

/// The crisp program of every seed, given each seed's pair distributions `probs`. Programs
/// are run by the engine once each, however many seeds or pruning steps name them.
pub fn crisp_checks(
    task: &Task,
    clause_sets: &[ClauseSet],
    probs: &[SeedWeights],
    threshold: f64,
) -> Vec<CrispCheck> {
    // Pruning only ever looks at the training worlds; validation is run for the program each
    // seed ends up with, to be reported.
    let mut misses_of: HashMap<Vec<Clause>, Misses> = HashMap::new();
    let mut misses = |rules: &[Clause]| -> Misses {
        let mut key = rules.to_vec();
        key.sort();
        misses_of
            .entry(key)
            .or_insert_with(|| training_misses(task, rules))
            .clone()
    };
    let mut validation_of: HashMap<String, f64> = HashMap::new();
    // Pruned clauses back in the read-out's order, so a program reads predicate by predicate.
    let in_order = |kept: Vec<Clause>, order: &[Clause]| -> Vec<Clause> {
        order.iter().filter(|c| kept.contains(c)).cloned().collect()
    };
    probs
        .iter()
        .map(|p| {
            let read = read_out_seed(clause_sets, p, threshold);
            let order = read.rules();
            let mut by_prob = read.clauses.clone();
            by_prob.sort_by(|a, b| a.prob.total_cmp(&b.prob));
            let least_first = |keep: &dyn Fn(&Clause) -> bool| -> Vec<Clause> {
                by_prob
                    .iter()
                    .map(|c| c.clause.clone())
                    .filter(|c| keep(c))
                    .collect()
            };
            let top = read_out_seed(clause_sets, p, f64::INFINITY).rules();
            let n = order.len();
            let pruned = in_order(prune(least_first(&|_| true), &mut misses), &order);
            let top = in_order(
                prune(least_first(&|c| top.contains(c)), &mut misses),
                &order,
            );
            let (p_miss, r_miss) = (misses(&top), misses(&pruned));
            // The top pair unless the pruned read-out does better on the training data, or
            // as well with the same predictions and fewer clauses.
            let use_pruned =
                r_miss.len() < p_miss.len() || (r_miss == p_miss && pruned.len() < top.len());
            let (rules, errors, kind) = if use_pruned {
                let kind = if pruned.len() < n {
                    ReadOutKind::Pruned
                } else {
                    ReadOutKind::Threshold
                };
                (pruned, r_miss.len(), kind)
            } else {
                (top, p_miss.len(), ReadOutKind::TopPair)
            };
            let program = program_text(&task.vocab, &rules);
            let validation_mse = *validation_of
                .entry(program.clone())
                .or_insert_with(|| check_program(task, &rules).validation_mse);
            CrispCheck {
                program,
                read_out: kind,
                clauses: rules.len(),
                train_errors: errors,
                validation_mse,
                rules,
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
            crisp[*a]
                .train_errors
                .cmp(&crisp[*b].train_errors)
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
        // Clause counts do not enter: the loss breaks a tie in errors.
        let crisp = [check(1, 3), check(1, 2), check(2, 1)];
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &crisp), 0);
        // Without crisp checks it falls back to the loss.
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &[]), 0);
    }

    #[test]
    fn prune_drops_idle_and_harmful_clauses_only() {
        use crate::logic::{Atom, PredId, Term, VarId};
        // Stand-in clauses told apart by their head predicate. Clauses 0 and 2 are needed
        // (without either, an example is missed), clause 3 does harm, clause 1 changes
        // nothing, and clause 4 trades one miss for another: it stays.
        let c = |p: u32| Clause {
            head: Atom {
                pred: PredId(p),
                args: vec![Term::Var(VarId(0))],
            },
            body: vec![],
            var_names: vec!["X".into()],
        };
        let misses = |r: &[Clause]| {
            let has = |p| r.contains(&c(p));
            let mut m = Vec::new();
            for (p, wrong_when_present, atom) in [
                (0, false, "a0"),
                (2, false, "a2"),
                (3, true, "b3"),
                (4, true, "x"),
                (4, false, "y"),
            ] {
                if has(p) == wrong_when_present {
                    m.push((0, atom.to_string()));
                }
            }
            m.sort();
            m
        };
        let kept = prune(vec![c(3), c(1), c(0), c(2), c(4)], misses);
        assert_eq!(kept, vec![c(0), c(2), c(4)]);
    }

    #[test]
    fn parses_its_names() {
        assert_eq!("loss".parse::<Selection>(), Ok(Selection::Loss));
        assert_eq!("crisp".parse::<Selection>(), Ok(Selection::Crisp));
        assert!("best".parse::<Selection>().is_err());
    }
}
