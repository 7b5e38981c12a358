//! The symbolic baseline: ILP as SAT.
//!
//! [`synthesise`] encodes a task's program template and training worlds as CNF
//! ([`encode`](mod@encode): one flag per generated clause, exactly one per rule template, T
//! unrolled forward-chaining steps per training world), solves it with an off-the-shelf SAT
//! solver ([`solver`]: BatSat behind a small backend trait), verifies every model against the
//! recorded CNF, decodes the program, and re-checks it with the Datalog engine to fixpoint on
//! every training and validation world ([`crate::ilp::check_program`]). The engine has the
//! last word: a program that fits the T unrolled steps but not the fixpoint is rejected and
//! the search goes on.
//!
//! - **Noisy mode** (`max_errors = Some(K)`): the program that misclassifies the fewest
//!   training examples, trying bounds 0, 1, …, K on one incremental solver.
//! - **Enumeration** (`all`): every program that fits the training worlds, counted by adding
//!   blocking clauses over the flags, and how many of them also pass validation.
//!
//! "No program in this template" is a result (`satisfiable = false`), not an error.

pub mod encode;
pub mod solver;

use crate::error::{Error, Result};
use crate::ilp::{
    check_program, generate_all, program_text, CheckReport, ClauseSet, MemoryBudget, SizeModel,
    Task,
};
use crate::logic::Clause;
use encode::{encode_within, Choice, Encoding};
use serde::{Deserialize, Serialize};
use solver::Lit;
use std::fmt::Write;
use std::time::Instant;

/// What [`synthesise`] is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    /// `None` (default): every training example must be right. `Some(K)`: find the program with
    /// the fewest misclassified training examples, up to K.
    pub max_errors: Option<usize>,
    /// Also enumerate every program that fits training (default `false`).
    pub all: bool,
    /// Stop enumerating once this many programs are counted (default 100 000).
    pub all_limit: usize,
    /// Refuse a task whose estimated encoding is bigger than this; `None` (default): a safe
    /// share of physical memory ([`MemoryBudget::default`]).
    pub max_memory: Option<MemoryBudget>,
}

/// The default cap on enumerated programs.
pub const DEFAULT_ALL_LIMIT: usize = 100_000;

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            max_errors: None,
            all: false,
            all_limit: DEFAULT_ALL_LIMIT,
            max_memory: None,
        }
    }
}

/// The outcome of [`synthesise`]. Program-dependent fields are `None` when no program fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthReport {
    /// The task's name.
    pub task: String,
    /// The task file, as the task names it.
    pub file: String,
    /// The SAT solver used.
    pub solver: String,
    /// Some program of the template fits training (within `max_errors` in noisy mode).
    pub satisfiable: bool,
    /// The program fits every training world and every validation world (engine check).
    pub solved: bool,
    /// The program gets every training example right (engine check).
    pub fits_training: bool,
    /// The program gets every validation example right (engine check; true without
    /// validation worlds).
    pub validation_passed: bool,
    /// Misclassified training examples (engine check).
    pub train_errors: Option<usize>,
    pub validation_errors: Option<usize>,
    /// Misclassified / labelled validation examples (engine check).
    pub validation_mse: Option<f64>,
    /// Labelled training examples over all training worlds.
    pub train_examples: usize,
    /// The noisy-mode limit the search ran under.
    pub max_errors: Option<usize>,
    /// The program, one clause a line in engine syntax. Clauses of invented predicates that the
    /// target does not depend on are left out (they change nothing); a clause chosen by both of
    /// a predicate's templates is written once.
    pub program: String,
    /// Generated clauses over all rule templates (the flags).
    pub template_clauses: usize,
    /// Size of the CNF as encoded (before any blocking clause).
    pub vars: usize,
    pub clauses: usize,
    /// Programs that fit the T unrolled steps but that the engine's fixpoint check rejected.
    pub engine_rejected: usize,
    /// With `all`: programs (assignments of one clause per template) that fit training;
    /// in noisy mode, those with no more errors than the reported program.
    pub programs_fitting: Option<usize>,
    /// With `all`: how many of those also pass validation.
    pub programs_fitting_validation: Option<usize>,
    /// With `all`: the enumeration stopped at `all_limit`, so both counts are lower bounds.
    pub capped: bool,
    /// Wall-clock time to build the CNF (clause generation and encoding).
    pub seconds_encode: f64,
    /// Wall-clock time to the first program (or to unsatisfiability), encoding included.
    pub seconds_to_program: f64,
    /// Wall-clock time in all, enumeration included.
    pub seconds: f64,
}

/// Finds a program for `task` (see the module documentation).
///
/// # Errors
/// [`Error::Solver`] if the solver returns a model that violates the CNF or decodes to no
/// program, [`Error::Config`] for a configuration that cannot be run, and [`Error::TooLarge`]
/// (before anything large is built) when the size model puts the encoding over the budget.
pub fn synthesise(task: &Task, cfg: &SynthConfig) -> Result<SynthReport> {
    let start = Instant::now();
    if cfg.all && cfg.all_limit == 0 {
        return Err(Error::Config("all_limit must be at least 1".into()));
    }
    // Refuse on the estimate before the clauses and the index pairs are built.
    let budget = cfg.max_memory.unwrap_or_default();
    SizeModel::of(task).check_sat(budget)?;
    let sets = generate_all(task);
    let mut enc = encode_within(task, &sets, cfg.max_errors, budget)?;
    let seconds_encode = start.elapsed().as_secs_f64();
    let (vars, clauses) = (enc.formula.num_vars(), enc.formula.num_clauses());
    let mut search = Search {
        task,
        sets: &sets,
        rejected_at: Vec::new(),
        engine_rejected: 0,
    };

    let limit = cfg.max_errors.unwrap_or(0);
    let mut found = None;
    for k in 0..=limit {
        let Some(assumptions) = search.assumptions(&mut enc, k) else {
            continue;
        };
        if let Some(p) = search.next(&mut enc, k, &assumptions)? {
            found = Some((k, assumptions, p));
            break;
        }
    }
    let seconds_to_program = start.elapsed().as_secs_f64();

    let train_examples = task
        .train
        .iter()
        .map(|w| w.positive.len() + w.negative.len())
        .sum();
    let mut report = SynthReport {
        task: task.name.clone(),
        file: task.file.clone(),
        solver: enc.formula.backend_name().to_string(),
        satisfiable: found.is_some(),
        solved: false,
        fits_training: false,
        validation_passed: false,
        train_errors: None,
        validation_errors: None,
        validation_mse: None,
        train_examples,
        max_errors: cfg.max_errors,
        program: String::new(),
        template_clauses: enc.stats.flags,
        vars,
        clauses,
        engine_rejected: 0,
        programs_fitting: None,
        programs_fitting_validation: None,
        capped: false,
        seconds_encode,
        seconds_to_program,
        seconds: 0.0,
    };

    if let Some((k, assumptions, first)) = found {
        report.solved = first.check.solved();
        report.fits_training = first.check.fits_training();
        report.validation_passed = first.check.validation_errors == 0;
        report.train_errors = Some(first.check.train_errors);
        report.validation_errors = Some(first.check.validation_errors);
        report.validation_mse = Some(first.check.validation_mse);
        report.program = program_text(&task.vocab, &first.rules);
        if cfg.all {
            let (mut fitting, mut passing) = (0usize, 0usize);
            let mut current = Some(first);
            while let Some(p) = current.take() {
                fitting = fitting.saturating_add(p.multiplicity);
                if p.check.validation_errors == 0 {
                    passing = passing.saturating_add(p.multiplicity);
                }
                enc.block(&p.choice, &p.live);
                current = search.next(&mut enc, k, &assumptions)?;
                if fitting >= cfg.all_limit {
                    report.capped = current.is_some();
                    break;
                }
            }
            report.programs_fitting = Some(fitting);
            report.programs_fitting_validation = Some(passing);
        }
    }
    report.engine_rejected = search.engine_rejected;
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// A program found by the search and accepted by the engine.
struct Found {
    choice: Choice,
    /// Which clause sets the target depends on under this choice.
    live: Vec<bool>,
    rules: Vec<Clause>,
    check: CheckReport,
    /// Programs this one stands for: every choice for the templates of the predicates the
    /// target does not depend on gives the same target atoms.
    multiplicity: usize,
}

struct Search<'a> {
    task: &'a Task,
    sets: &'a [ClauseSet],
    /// Activation literal per error bound for the programs the engine rejected at that bound.
    rejected_at: Vec<Option<Lit>>,
    engine_rejected: usize,
}

impl Search<'_> {
    /// The assumptions for bound `k`: the cardinality bound plus the activation of the
    /// blocking clauses of programs rejected at `k`.
    fn assumptions(&mut self, enc: &mut Encoding, k: usize) -> Option<Vec<Lit>> {
        let mut a = enc.bound(k)?;
        if self.rejected_at.len() <= k {
            self.rejected_at.resize(k + 1, None);
        }
        let act = *self.rejected_at[k].get_or_insert_with(|| enc.formula.new_var().positive());
        a.push(act);
        Some(a)
    }

    /// The next program with at most `k` training errors (SAT over T steps and engine to
    /// fixpoint agreeing), or `None` when there is none left.
    fn next(&mut self, enc: &mut Encoding, k: usize, assumptions: &[Lit]) -> Result<Option<Found>> {
        while let Some(model) = enc.formula.solve(assumptions)? {
            let choice = enc.decode(&model)?;
            let live = live_sets(self.task, self.sets, &choice);
            let rules = chosen_rules(self.sets, &choice, &live);
            let check = check_program(self.task, &rules);
            if check.train_errors <= k {
                let multiplicity = multiplicity(self.sets, enc, &live);
                return Ok(Some(Found {
                    choice,
                    live,
                    rules,
                    check,
                    multiplicity,
                }));
            }
            self.engine_rejected += 1;
            let act = self.rejected_at[k].expect("assumptions() made the activation literal");
            enc.block_under(&choice, &live, Some(act));
        }
        Ok(None)
    }
}

/// The clause sets the target depends on: the target's, then those of every intensional
/// predicate in a body of a chosen clause of a set already marked.
fn live_sets(task: &Task, sets: &[ClauseSet], choice: &Choice) -> Vec<bool> {
    let mut live = vec![false; sets.len()];
    let Some(target) = sets.iter().position(|s| s.pred == task.language.target) else {
        return vec![true; sets.len()];
    };
    let mut stack = vec![target];
    live[target] = true;
    while let Some(s) = stack.pop() {
        for (t, chosen) in choice[s].iter().enumerate() {
            let Some(i) = *chosen else { continue };
            for atom in &sets[s].templates[t][i].body {
                if let Some(q) = sets.iter().position(|x| x.pred == atom.pred) {
                    if !live[q] {
                        live[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
    }
    live
}

/// The chosen clauses of the live sets, in set then template order, each clause once.
fn chosen_rules(sets: &[ClauseSet], choice: &Choice, live: &[bool]) -> Vec<Clause> {
    let mut rules: Vec<Clause> = Vec::new();
    for (s, c) in choice.iter().enumerate() {
        if !live[s] {
            continue;
        }
        for (t, chosen) in c.iter().enumerate() {
            if let Some(i) = *chosen {
                let clause = &sets[s].templates[t][i];
                if !rules.contains(clause) {
                    rules.push(clause.clone());
                }
            }
        }
    }
    rules
}

/// The number of choices for the templates of the sets that are not live.
fn multiplicity(sets: &[ClauseSet], enc: &Encoding, live: &[bool]) -> usize {
    let mut m = 1usize;
    for (s, set) in sets.iter().enumerate() {
        if live[s] {
            continue;
        }
        for t in 0..2 {
            if enc.present[s][t] {
                m = m.saturating_mul(set.templates[t].len());
            }
        }
    }
    m
}

/// The human-readable report behind `dilp synth`.
pub fn render_text(r: &SynthReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "task `{}` ({})", r.task, r.file);
    let _ = writeln!(
        s,
        "SAT encoding: {} clauses in the template, {} variables, {} CNF clauses ({})",
        r.template_clauses, r.vars, r.clauses, r.solver
    );
    if !r.satisfiable {
        let _ = match r.max_errors {
            None => writeln!(
                s,
                "No program in this template is consistent with the training examples."
            ),
            Some(k) => writeln!(
                s,
                "No program in this template misclassifies at most {k} training example{}.",
                plural(k)
            ),
        };
        let _ = writeln!(s, "time: {:.3} s", r.seconds);
        return s;
    }
    let _ = writeln!(s, "program:");
    for line in r.program.lines() {
        let _ = writeln!(s, "  {line}");
    }
    let errors = r.train_errors.unwrap_or(0);
    if errors == 0 {
        let _ = writeln!(
            s,
            "training: consistent with all {} examples",
            r.train_examples
        );
    } else {
        let _ = writeln!(
            s,
            "training: {errors} of {} examples misclassified (the fewest possible in this template)",
            r.train_examples
        );
    }
    match (r.validation_errors, r.validation_mse) {
        (Some(0), Some(mse)) => {
            let _ = writeln!(s, "validation: passed (error {mse:.4})");
        }
        (Some(e), Some(mse)) => {
            let _ = writeln!(
                s,
                "validation: failed, {e} example{} wrong (error {mse:.4})",
                plural(e)
            );
        }
        _ => {}
    }
    if let (Some(n), Some(v)) = (r.programs_fitting, r.programs_fitting_validation) {
        let _ = writeln!(
            s,
            "programs fitting training: {}{n}, of which {v} pass{} validation{}",
            if r.capped { "at least " } else { "" },
            if v == 1 { "es" } else { "" },
            if r.capped {
                " (enumeration capped)"
            } else {
                ""
            }
        );
    }
    if r.engine_rejected > 0 {
        let _ = writeln!(
            s,
            "({} program{} fitting the T unrolled steps but not the fixpoint were skipped)",
            r.engine_rejected,
            plural(r.engine_rejected),
        );
    }
    let _ = writeln!(
        s,
        "time: {:.3} s ({:.3} s to the program)",
        r.seconds, r.seconds_to_program
    );
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
