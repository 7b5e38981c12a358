//! The program a run reports, chosen and pruned on what the run itself read.
//!
//! ∂ILP's weights name several programs: the top clause pair of each predicate, and with it
//! every clause whose marginal weight is above 0.3, 0.1 or 0.03. Soft, they agree; crisp, a clause of weight 0.15
//! can fire on digit tuples the soft model barely moves. So each candidate is scored the way a
//! user would run it: the engine's verdict on each digit tuple, against the labels of the
//! training pairs as the run's conv-net reads them (argmax digits of the first 4,000 pairs).
//! Each candidate first loses the clauses whose removal gets fewer training pairs wrong, then
//! the clauses that change no verdict on any tuple the conv-net reads in training (a clause
//! that only tuples never seen could refute has nothing behind it); the candidate with the
//! fewest errors is kept (ties to the smaller program, then to the top pair).
//!
//! No digit label, held-out list or labelling program is used: only the training pairs'
//! labels and the conv-net's readings, which every vision mode has.

use crate::error::{shape, torch_err, Result};
use crate::ilp::{drop_clauses_idle_on, program_text, Task, WorldCheck};
use crate::logic::Clause;
use crate::neuro::abduce::{errors_of, model_table, TupleCounts};
use crate::neuro::perception::Split;
use crate::neuro::Perception;
use crate::vision::Pair;
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// One program the run considered reporting, as `metrics.json` lists it, so that a reader can
/// see why the reported one won.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Where it came from: `top pair`, `above 0.3`, … (∂ILP's read-outs) or `abduction`.
    pub read_out: String,
    /// The program after pruning, as engine text.
    pub program: String,
    /// Training pairs it gets wrong, as the run's conv-net reads them.
    pub training_errors: u64,
    /// Whether it is the reported program.
    pub chosen: bool,
}

/// How often each digit tuple the conv-net reads among `pairs` was labelled true and false.
pub(super) fn read_counts(
    arity: usize,
    perception: &Perception,
    pairs: &[Pair],
) -> Result<TupleCounts> {
    let mut items = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(1000) {
        let read = |right: bool| -> Result<Vec<i64>> {
            let idx: Vec<i64> = (chunk.iter())
                .map(|p| (if right { p.right } else { p.left }) as i64)
                .collect();
            let idx = Tensor::f_from_slice(&idx).map_err(torch_err(|| "image indices"))?;
            let logits = perception.logits(Split::Train, &idx, false)?;
            (logits.f_argmax(-1, false))
                .and_then(|t| t.f_to_device(tch::Device::Cpu))
                .and_then(|t| Vec::<i64>::try_from(&t))
                .map_err(torch_err(|| format!("the readings of {}", shape(&logits))))
        };
        let (l, r) = (read(false)?, read(true)?);
        for ((p, a), b) in chunk.iter().zip(l).zip(r) {
            items.push(([a as usize, b as usize], p.label));
        }
    }
    Ok(TupleCounts::of(arity, items))
}

/// Training pairs `table` (a verdict per tuple) gets wrong under `counts`, the conv-net's
/// outputs taken as the digits they are named.
pub(super) fn errors(counts: &TupleCounts, table: &[bool]) -> u64 {
    errors_of(counts, &std::array::from_fn(|i| i), table)
}

/// Tuples read often enough to count as seen: at least a quarter of the pairs a tuple would get
/// if all were drawn equally, so that a few misread images do not make a tuple seen.
fn seen(counts: &TupleCounts) -> Vec<bool> {
    let total: u64 = counts.pos.iter().chain(&counts.neg).sum();
    let floor = (total as f64 / counts.pos.len() as f64 / 4.0).max(1.0);
    (0..counts.pos.len())
        .map(|r| (counts.pos[r] + counts.neg[r]) as f64 >= floor)
        .collect()
}

/// `program` less every clause whose removal gets fewer training pairs wrong under `counts`,
/// one at a time (later clauses first) until none does: a clause the soft model kept although
/// seen tuples refute it (`pred1(X) :- zero(X), image1(X)` with (0, 0) read and labelled false)
/// is then gone from every read-out, not only from those that happened to leave it out.
fn drop_costly(task: &Task, program: &[Clause], counts: &TupleCounts) -> Vec<Clause> {
    let mut kept = program.to_vec();
    let mut cost = errors(counts, &model_table(task, &kept));
    'search: loop {
        for i in (0..kept.len()).rev() {
            let mut without = kept.clone();
            without.remove(i);
            let e = errors(counts, &model_table(task, &without));
            if e < cost {
                (kept, cost) = (without, e);
                continue 'search;
            }
        }
        return kept;
    }
}

/// The reported program among `candidates` (named read-outs, see the module documentation),
/// pruned, with every candidate as scored.
pub(super) fn choose(
    task: &Task,
    candidates: &[(String, Vec<Clause>)],
    counts: &TupleCounts,
) -> (Vec<Clause>, Vec<Candidate>) {
    let seen = seen(counts);
    let on = |w: &WorldCheck| seen.get(w.world).copied().unwrap_or(false);
    let scored: Vec<(u64, Vec<Clause>)> = (candidates.iter())
        .map(|(_, c)| {
            let pruned = drop_clauses_idle_on(task, &drop_costly(task, c, counts), on);
            (errors(counts, &model_table(task, &pruned)), pruned)
        })
        .collect();
    // `min_by_key` keeps the first of equals: candidates come top pair first.
    let best = (scored.iter().enumerate())
        .min_by_key(|(_, (e, p))| (*e, p.len()))
        .map(|(i, _)| i);
    let notes = (candidates.iter().zip(&scored).enumerate())
        .map(|(i, ((name, _), (e, p)))| Candidate {
            read_out: name.clone(),
            program: program_text(&task.vocab, p),
            training_errors: *e,
            chosen: Some(i) == best,
        })
        .collect();
    let program = best.map(|i| scored[i].1.clone()).unwrap_or_default();
    (program, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuro::parse_neuro_task;

    const LESS_THAN: &str = include_str!("../../../experiments/tasks/mnist/less_than.toml");
    const RIGHT: &str = "target :- image2(Z), pred1(Z).
        pred1(X) :- succ(Z,X), image1(Z).
        pred1(X) :- succ(Z,X), pred1(Z).";
    const ZERO: &str = "pred1(X) :- zero(X), image1(X).";

    /// 40 pairs of each digit pair but those `unseen`, each labelled by less-than.
    fn counts(unseen: &[usize]) -> TupleCounts {
        let items = (0..100usize)
            .filter(|r| !unseen.contains(r))
            .flat_map(|r| std::iter::repeat_n(([r / 10, r % 10], r / 10 < r % 10), 40));
        TupleCounts::of(2, items)
    }

    #[test]
    fn a_clause_only_unseen_tuples_could_refute_is_not_reported() {
        let task = parse_neuro_task(LESS_THAN, "less_than.toml").unwrap().task;
        let right = task.parse_rules(RIGHT, "right").unwrap();
        let extra = task
            .parse_rules(&format!("{RIGHT}\n{ZERO}"), "extra")
            .unwrap();
        // (0, 0) never read: the extra clause changes nothing seen, so it goes.
        let named = |p: &Vec<Clause>| (String::from("test"), p.clone());
        let (kept, notes) = choose(&task, &[named(&extra)], &counts(&[0]));
        assert_eq!(kept, right);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].chosen && notes[0].training_errors == 0);
        // (0, 0) read and labelled false: the extra clause now costs 40 errors, so every
        // candidate that keeps it loses it, and the first candidate is reported.
        let c = counts(&[]);
        assert_eq!(errors(&c, &model_table(&task, &extra)), 40);
        let (kept, notes) = choose(&task, &[named(&extra), named(&right)], &c);
        assert_eq!(kept, right);
        assert_eq!(
            notes.iter().map(|n| n.training_errors).collect::<Vec<_>>(),
            [0, 0]
        );
        assert!(notes[0].chosen && !notes[1].chosen);
        assert_eq!(drop_costly(&task, &extra, &c), right);
        // A clause the labels need stays: without the recursion, pairs two or more apart
        // would be false.
        assert_eq!(drop_costly(&task, &right, &c), right);
    }

    #[test]
    fn a_few_misread_pairs_do_not_make_a_tuple_seen() {
        let mut c = counts(&[0]);
        c.neg[0] = 3;
        assert!(!seen(&c)[0]);
        c.neg[0] = 12;
        assert!(seen(&c)[0]);
    }
}
