//! What each learner needs for a task, from the [`SizeModel`]: the SAT encoding's variables,
//! clauses and bytes, ∂ILP's tensor and tape bytes, and the checks that refuse a run over the
//! budget before it allocates.
//!
//! The ∂ILP figures are `dilp::memory`'s formulas (`our_estimate`, `paper_estimate`) and the
//! native kernel's `lanes::tape_bytes` evaluated on the size model's numbers instead of a
//! compiled world, so they are known before compiling; `tests/size.rs` holds them to the
//! originals on the benchmark tasks. Here, below the tensor layer, they cannot be called.

use super::budget::MemoryBudget;
use super::size::{SizeModel, WorldSize};
use super::task::Task;
use crate::error::Result;

/// Seeds per lane group of the native kernel (`dilp::lanes::L`).
pub const NATIVE_LANES: usize = 8;

/// Bytes the SAT backend (BatSat plus the recorded copy) keeps per clause and per variable:
/// three literals twice, the clause header, two watchers; assignment, reason, activity, heap.
const SAT_BYTES_PER_CLAUSE: f64 = 80.0;
const SAT_BYTES_PER_VAR: f64 = 64.0;

/// The SAT encoding of a task, before most of its simplifications (see [`SizeModel::sat`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SatEstimate {
    pub vars: u128,
    pub clauses: u128,
    /// The index pairs alive at once: every clause's `X_c` on the largest training world.
    pub index_pairs: u128,
    pub bytes: f64,
}

fn sat_add(a: u128, b: u128) -> u128 {
    a.saturating_add(b)
}

impl SizeModel {
    /// The SAT encoding's size in exact mode (see the module documentation of
    /// [`crate::sat::encode`]): flags and their exactly-one constraints, then per training world
    /// and step one variable per intensional atom (two guards more with two templates), one
    /// "only if" clause per (clause, head), one "if" clause per grounding whose body atoms are
    /// not always false, and a shared conjunction (a variable, two clauses) per such grounding
    /// with two intensional atoms. "Not always false" is weighted by the background's density
    /// per extensional predicate ([`super::size::weighted_pairs`]); reachability and the cone of
    /// influence are not modelled, so this stays above what the encoder builds.
    pub fn sat(&self) -> SatEstimate {
        let (mut vars, mut clauses) = (0u128, 0u128);
        let (mut vars_f, mut clauses_f) = (0f64, 0f64);
        for t in &self.templates {
            let k = t.clauses;
            vars = sat_add(vars, k);
            if k <= 6 {
                clauses = sat_add(clauses, 1 + k * k.saturating_sub(1) / 2);
            } else {
                vars = sat_add(vars, k - 1);
                clauses = sat_add(clauses, 3u128.saturating_mul(k) - 3);
            }
        }
        let (mut peak_pairs, mut peak_world) = (0u128, 0f64);
        for w in self.worlds.iter().filter(|w| !w.validation) {
            let steps = w.steps as f64;
            let (mut atoms, mut per_atom, mut bodies, mut shared) = (0f64, 0f64, 0f64, 0f64);
            let mut pairs = 0u128;
            for (i, t) in self.templates.iter().enumerate() {
                let heads = (w.constants as f64).powi(t.arity as i32);
                let width = (w.constants as f64).powi(t.template.v as i32);
                let two = self.templates.iter().filter(|x| x.pred == t.pred).count() == 2;
                if t.slot == 0 {
                    // The atom variable and its "previous step" clause; with two templates two
                    // guards and one guard clause.
                    atoms += heads * if two { 3.0 } else { 1.0 };
                    per_atom += heads * if two { 2.0 } else { 1.0 };
                }
                pairs = pairs.saturating_add(self.template_pairs(t, w));
                let (live, both) = w.live_bodies[i];
                per_atom += t.clauses as f64 * heads; // "only if"
                bodies += heads * width * live; // "if"
                shared += heads * width * both;
            }
            vars_f += steps * (atoms + shared);
            clauses_f += steps * (per_atom + bodies + 2.0 * shared) + w.examples as f64;
            peak_pairs = peak_pairs.max(pairs);
            // reachable, relevant (bools) and the values (8 bytes) per step and atom.
            peak_world = peak_world.max((w.steps + 1) as f64 * w.atoms as f64 * 10.0);
        }
        let vars = sat_add(vars, vars_f as u128);
        let clauses = sat_add(clauses, clauses_f as u128);
        let bytes = 8.0 * peak_pairs as f64
            + peak_world
            + SAT_BYTES_PER_CLAUSE * clauses as f64
            + SAT_BYTES_PER_VAR * vars as f64;
        SatEstimate {
            vars,
            clauses,
            index_pairs: peak_pairs,
            bytes,
        }
    }

    /// Refuses the SAT encoding (`dilp synth`). The index pairs of one training world are built
    /// whole, so they alone are compared with the budget as well as the whole estimate.
    pub fn check_sat(&self, budget: MemoryBudget) -> Result<()> {
        self.check_clauses(budget)?;
        let needed = self.sat().bytes + self.clausegen_bytes();
        let what = "the SAT encoding";
        self.refuse_over(what, needed, budget, |w| !w.validation, "index pairs")
    }

    /// Per-step pieces of the tensor path on one world (`dilp::memory::our_estimate`): the
    /// valuation thrice, and per template the two gathers and t-norm (`3·K·H·W`), the clause
    /// values (`K·H`) and the stacked patterns (`P·H·W`), and `K1·K2·H` pair maxima.
    fn tensor_step_floats(&self, w: &WorldSize) -> f64 {
        let mut per_step = 3.0 * w.atoms as f64;
        let c = w.constants as f64;
        for t in &self.templates {
            let (h, wd) = (c.powi(t.arity as i32), c.powi(t.template.v as i32));
            let k = t.clauses as f64;
            per_step += 3.0 * k * h * wd + k * h + t.candidates as f64 * h * wd;
            if t.slot == 1 {
                let first = self
                    .templates
                    .iter()
                    .find(|x| x.pred == t.pred && x.slot == 0);
                per_step += first.map_or(0.0, |f| f.clauses as f64) * k * h;
            }
        }
        per_step
    }

    /// Bytes the LibTorch path keeps for backward with `seeds` seeds: training worlds over
    /// their T steps, validation worlds over two (no gradients), the largest world.
    pub fn dilp_tensor_bytes(&self, seeds: usize) -> f64 {
        let bytes = |w: &WorldSize| {
            let steps = if w.validation { 2 } else { w.steps };
            4.0 * self.tensor_step_floats(w) * steps as f64 * seeds as f64
        };
        self.worlds.iter().map(bytes).fold(0.0, f64::max)
    }

    /// The paper's Appendix E formula (`dilp::memory::paper_estimate`) times `seeds`:
    /// `4·(2·n·T·Σ_p K1·K2 + 3·n·w·Σ_p K1·K2)`, the largest training world.
    pub fn dilp_paper_bytes(&self, seeds: usize) -> f64 {
        let pairs: f64 = (self.templates.iter().filter(|t| t.slot == 0))
            .map(|t| {
                let second = self
                    .templates
                    .iter()
                    .find(|x| x.pred == t.pred && x.slot == 1);
                t.clauses as f64 * second.map_or(1.0, |s| s.clauses as f64)
            })
            .sum();
        let bytes = |w: &WorldSize| {
            let v = self
                .templates
                .iter()
                .map(|t| t.template.v)
                .max()
                .unwrap_or(0);
            let (n, width) = (w.atoms as f64, (w.constants as f64).powi(v as i32));
            4.0 * (2.0 * n * w.steps as f64 * pairs + 3.0 * n * width * pairs) * seeds as f64
        };
        (self.worlds.iter().filter(|w| !w.validation))
            .map(bytes)
            .fold(0.0, f64::max)
    }

    /// The native kernel: the peak while compiling (every clause's dense `X_c` of the largest
    /// template, 8 bytes a pair) or the lane tapes (`lanes::tape_bytes` per group of
    /// [`NATIVE_LANES`] seeds, with the live cells estimated from the background's density),
    /// whichever is larger.
    pub fn dilp_native_bytes(&self, seeds: usize) -> f64 {
        let groups = seeds.div_ceil(NATIVE_LANES).max(1) as f64;
        let mut most = 0f64;
        for w in &self.worlds {
            let c = w.constants as f64;
            let (n, ni, steps) = (w.atoms as f64, w.intensional_atoms as f64, w.steps as f64);
            // A (head, clause) cell is kept when one of its |C|^v groundings can be non-zero:
            // at most K cells, at most the expected live groundings.
            let cells_of = |(t, &(live, _)): (&super::size::TemplateSize, &(f64, f64))| {
                let width = c.powi(t.template.v as i32);
                c.powi(t.arity as i32) * (t.clauses as f64).min(width * live)
            };
            let per = self.templates.iter().zip(&w.live_bodies);
            let cells: f64 = per.clone().map(cells_of).sum();
            let gf = per.map(cells_of).fold(0.0, f64::max);
            let values = (steps + 1.0) * n + 2.0 * steps * cells + steps * ni + 2.0 * n + 2.0 * gf;
            let tape = 4.0 * NATIVE_LANES as f64 * values * groups;
            let compile = (self.templates.iter())
                .map(|t| 8.0 * self.template_pairs(t, w) as f64)
                .fold(0.0, f64::max);
            most = most.max(tape.max(compile));
        }
        most
    }

    /// Refuses ∂ILP (`dilp learn`, the benchmarks) with `seeds` seeds when neither the tensor
    /// path nor the native kernel would fit: the smaller of the two estimates is compared.
    pub fn check_dilp(&self, seeds: usize, budget: MemoryBudget) -> Result<()> {
        let seeds = seeds.max(1);
        // The clauses come first; a refusal there still says which run it refused.
        self.check_clauses(budget).map_err(|e| match e {
            crate::Error::TooLarge {
                file,
                what,
                driver,
                needed_bytes,
                budget_bytes,
                hint,
            } => crate::Error::TooLarge {
                what: format!("{what} for ∂ILP with {seeds} seed{}", plural(seeds)),
                file,
                driver,
                needed_bytes,
                budget_bytes,
                hint,
            },
            e => e,
        })?;
        let needed = self
            .dilp_tensor_bytes(seeds)
            .min(self.dilp_native_bytes(seeds))
            + self.clausegen_bytes();
        let what = format!("∂ILP with {seeds} seed{}", plural(seeds));
        self.refuse_over(&what, needed, budget, |_| true, "groundings")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The check for the start of `dilp::learn`, before it compiles anything: [`SizeModel::check_dilp`]
/// with `memory_limit_mib` (the learner's `LearnConfig::memory_limit_mib`) as the budget when
/// given, else the default [`MemoryBudget`].
///
/// # Errors
/// [`crate::Error::TooLarge`] naming the template and world that drive the size.
pub fn check_learn(task: &Task, seeds: usize, memory_limit_mib: Option<f64>) -> Result<()> {
    let budget = memory_limit_mib.map_or_else(MemoryBudget::default, MemoryBudget::from_mib);
    SizeModel::of(task).check_dilp(seeds, budget)
}
