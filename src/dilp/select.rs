//! Which seed a run reports. The paper keeps the seed with the lowest training loss. Under
//! mislabelled examples that rule favours soft mixtures of clauses that hedge on the flipped
//! labels, and a mixture is not a program. The `crisp` rule judges each seed by the program it
//! names instead: both read-outs of its weights (clauses above the threshold, and the top
//! pair) are run by the Datalog engine on the training worlds, and the seed whose better
//! read-out makes the fewest training errors wins, the training loss breaking ties. Neither
//! rule looks at validation data.

use super::readout::read_out;
use crate::ilp::{check_program, program_text, ClauseSet, Task};
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

/// One seed's crisp program, as the engine scores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrispCheck {
    /// The read-out with fewer training errors (the threshold one on a tie), as Datalog.
    pub program: String,
    /// Whether that is the top-pair read-out.
    pub top_pair: bool,
    pub train_errors: usize,
    /// Reported, never used to choose.
    pub validation_mse: f64,
}

/// The crisp program of every seed (row) of `probs`. Seeds that name the same program share
/// one engine run.
pub fn crisp_checks(
    task: &Task,
    clause_sets: &[ClauseSet],
    probs: &[Tensor],
    seeds: usize,
    threshold: f64,
) -> Vec<CrispCheck> {
    let mut seen: HashMap<String, (usize, f64)> = HashMap::new();
    let mut score = |rules: &[crate::logic::Clause]| -> (String, usize, f64) {
        let text = program_text(&task.vocab, rules);
        let (errors, mse) = *seen.entry(text.clone()).or_insert_with(|| {
            let c = check_program(task, rules);
            (c.train_errors, c.validation_mse)
        });
        (text, errors, mse)
    };
    (0..seeds)
        .map(|s| {
            let thresholded = read_out(clause_sets, probs, s, threshold).rules();
            let top = read_out(clause_sets, probs, s, f64::INFINITY).rules();
            let (t_text, t_err, t_mse) = score(&thresholded);
            let (p_text, p_err, p_mse) = score(&top);
            if p_err < t_err {
                CrispCheck {
                    program: p_text,
                    top_pair: true,
                    train_errors: p_err,
                    validation_mse: p_mse,
                }
            } else {
                CrispCheck {
                    program: t_text,
                    top_pair: false,
                    train_errors: t_err,
                    validation_mse: t_mse,
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

    fn check(errors: usize) -> CrispCheck {
        CrispCheck {
            program: String::new(),
            top_pair: false,
            train_errors: errors,
            validation_mse: 0.0,
        }
    }

    #[test]
    fn loss_picks_the_lowest_loss() {
        assert_eq!(choose(Selection::Loss, &[0.3, 0.1, 0.2], &[]), 1);
    }

    #[test]
    fn crisp_prefers_fewer_errors_then_lower_loss() {
        let crisp = [check(2), check(1), check(1)];
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &crisp), 2);
        // Without crisp checks it falls back to the loss.
        assert_eq!(choose(Selection::Crisp, &[0.01, 0.5, 0.4], &[]), 0);
    }

    #[test]
    fn parses_its_names() {
        assert_eq!("loss".parse::<Selection>(), Ok(Selection::Loss));
        assert_eq!("crisp".parse::<Selection>(), Ok(Selection::Crisp));
        assert!("best".parse::<Selection>().is_err());
    }
}
