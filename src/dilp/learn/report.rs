//! What a run reports: progress while it trains, and at the end every seed's outcome, the
//! chosen seed (see [`crate::dilp::select`]) and its program read out and checked by the
//! Datalog engine.

use super::config::LearnConfig;
use super::train::Trained;
use crate::dilp::readout::{read_out_seed, ReadOut};
use crate::dilp::select::{choose, crisp_checks, CrispCheck, Selection};
use crate::dilp::weights::{seed_probs, SeedWeights};
use crate::ilp::{check_program, program_text, ClauseSet, Task};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What the observer sees while training.
#[derive(Debug, Clone)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    /// Mean mini-batch loss over the seeds still training.
    pub loss: f64,
    pub active: usize,
    pub converged: usize,
    /// Converged seeds that also meet the validation criterion.
    pub solved: usize,
}

/// Told of the training's progress (every 10 steps and at the end).
pub trait LearnObserver {
    fn on_progress(&mut self, _p: &Progress) {}
}
impl LearnObserver for () {}

/// The outcome for one initialisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub train_loss: f64,
    pub validation_mse: f64,
    pub success: bool,
    /// Steps trained before it converged (or all of them).
    pub steps_trained: usize,
    /// Times it was restarted for stalling (`restart_window`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restarts: usize,
    /// Its crisp program and the engine's verdict on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crisp: Option<CrispCheck>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SeedResult {
    /// The crisp success criterion: its crisp program is exact on training and validation.
    pub fn crisp_success(&self) -> bool {
        self.crisp
            .as_ref()
            .is_some_and(|c| c.train_errors == 0 && c.validation_mse == 0.0)
    }
}

/// The outcome of one learning run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearnReport {
    pub task: String,
    pub config: LearnConfig,
    pub seeds: Vec<SeedResult>,
    pub best_seed: u64,
    /// Seeds meeting the paper's criterion (validation MSE below `success_mse`).
    pub seeds_solved: usize,
    /// Seeds whose crisp program (see [`CrispCheck`]) makes no error on the training worlds
    /// and none on the validation worlds, as the engine runs it.
    #[serde(default)]
    pub seeds_solved_crisp: usize,
    /// The best seed meets the validation criterion and its read-out program passes the
    /// engine check on every training and validation world.
    pub solved: bool,
    pub engine_check: bool,
    /// The best seed's program: under crisp selection the one that selection judged (the top
    /// pair, or the threshold read-out pruned on the training errors); under loss selection
    /// the clauses above the threshold plus the top pair.
    pub program: String,
    /// The best seed's threshold read-out (every clause above the threshold, and the top
    /// pair), each clause with its marginal probability.
    pub program_probs: Vec<(String, f64)>,
    /// Other programs that seeds named which make as few training errors as the reported
    /// one: the training data does not choose between them (crisp selection).
    pub ties: Vec<String>,
    pub train_loss: f64,
    pub validation_mse: f64,
    /// Mean squared validation error of the read-out program run by the Datalog engine (crisp
    /// 0/1 predictions), beside the soft model's `validation_mse`.
    pub program_validation_mse: f64,
    /// The same for the most probable clause pair of each predicate alone (no threshold): the
    /// crispest program the weights name.
    pub top_pair: String,
    pub top_pair_validation_mse: f64,
    /// The validation error of the best seed's crisp program (under loss selection: of the
    /// threshold and top-pair read-outs, the one with fewer training errors, the threshold one
    /// on a tie): a choice made on training data only.
    pub crisp_validation_mse: f64,
    pub seconds: f64,
    pub ms_per_step: f64,
    /// Seed-steps computed, and those saved by early stopping.
    pub seed_steps: usize,
    pub seed_steps_saved: usize,
    pub threads: i32,
    pub device: String,
    /// `native` or `torch`: the implementation that trained.
    pub backend: String,
    pub paper_memory_mib: f64,
    pub estimated_memory_mib: f64,
    pub peak_rss_mib: f64,
}

/// How a run went, beside what the seeds learned: for the report.
pub struct RunFacts {
    pub backend: &'static str,
    pub device: String,
    pub threads: i32,
    /// Bytes estimated for the run, and by the paper's formula.
    pub estimate: f64,
    pub paper: f64,
    /// When the run started.
    pub start: Instant,
}

/// Every seed's outcome, in seed order.
fn seed_results(
    cfg: &LearnConfig,
    run: &Trained,
    (losses, mses): (&[f64], &[f64]),
    crisp: &[CrispCheck],
) -> Vec<SeedResult> {
    (0..run.finals.len())
        .map(|s| SeedResult {
            seed: cfg.seed.wrapping_add(s as u64),
            train_loss: losses[s],
            validation_mse: mses[s],
            success: mses[s] < cfg.success_mse,
            steps_trained: run.trained[s],
            restarts: run.restarts[s],
            crisp: crisp.get(s).cloned(),
        })
        .collect()
}

/// Other programs that make as few training errors as the best seed's (crisp selection).
fn ties(crisp: &[CrispCheck], best: usize) -> Vec<String> {
    crisp.get(best).map_or_else(Vec::new, |b| {
        let mut t: Vec<String> = crisp
            .iter()
            .filter(|c| c.train_errors == b.train_errors && c.program != b.program)
            .map(|c| c.program.clone())
            .collect();
        t.sort();
        t.dedup();
        t
    })
}

/// Chooses the seed to report (by the training losses `losses` and, under crisp selection,
/// the engine's verdict on each seed's program) and builds the report.
pub fn report(
    task: &Task,
    cfg: &LearnConfig,
    clause_sets: &[ClauseSet],
    run: &Trained,
    (losses, mses): (Vec<f64>, Vec<f64>),
    facts: RunFacts,
) -> LearnReport {
    let probs: Vec<SeedWeights> = run.finals.iter().map(seed_probs).collect();
    // Every seed's crisp program is checked whatever the selection, for the crisp success
    // criterion; only crisp selection chooses by it.
    let all_crisp = crisp_checks(task, clause_sets, &probs, cfg.threshold);
    let crisp: &[CrispCheck] = if cfg.select == Selection::Crisp {
        &all_crisp
    } else {
        &[]
    };
    let best = choose(cfg.select, &losses, crisp);
    let seeds = seed_results(cfg, run, (&losses, &mses), &all_crisp);
    let read: ReadOut = read_out_seed(clause_sets, &probs[best], cfg.threshold);
    let rules = read.rules();
    let check = check_program(task, &rules);
    let top = read_out_seed(clause_sets, &probs[best], f64::INFINITY).rules();
    let top_check = check_program(task, &top);
    // Under crisp selection the reported program is the one that selection judged, and its
    // engine verdict is the one crisp selection already took.
    let judged = crisp.get(best);
    let (shown, shown_passes, shown_mse) = match judged {
        Some(c) => (
            &c.rules,
            c.train_errors == 0 && c.validation_mse == 0.0,
            c.validation_mse,
        ),
        None => (&rules, check.solved(), check.validation_mse),
    };
    let n = seeds.len();
    LearnReport {
        task: task.name.clone(),
        config: cfg.clone(),
        best_seed: cfg.seed.wrapping_add(best as u64),
        seeds_solved: seeds.iter().filter(|s| s.success).count(),
        seeds_solved_crisp: seeds.iter().filter(|s| s.crisp_success()).count(),
        solved: seeds[best].success && shown_passes,
        engine_check: shown_passes,
        program: program_text(&task.vocab, shown),
        ties: ties(crisp, best),
        program_probs: read
            .clauses
            .iter()
            .map(|c| (c.clause.display(&task.vocab).to_string(), c.prob))
            .collect(),
        train_loss: losses[best],
        validation_mse: mses[best],
        program_validation_mse: shown_mse,
        top_pair: program_text(&task.vocab, &top),
        top_pair_validation_mse: top_check.validation_mse,
        crisp_validation_mse: match judged {
            Some(c) => c.validation_mse,
            None if top_check.train_errors < check.train_errors => top_check.validation_mse,
            None => check.validation_mse,
        },
        seconds: facts.start.elapsed().as_secs_f64(),
        ms_per_step: 1000.0 * run.seconds / run.steps_run.max(1) as f64,
        seed_steps: run.seed_steps,
        seed_steps_saved: n * run.steps_run - run.seed_steps,
        threads: facts.threads,
        device: facts.device,
        backend: facts.backend.to_string(),
        paper_memory_mib: facts.paper / 1048576.0,
        estimated_memory_mib: facts.estimate / 1048576.0,
        peak_rss_mib: crate::dilp::memory::peak_rss_bytes().unwrap_or(0.0) / 1048576.0,
        seeds,
    }
}
