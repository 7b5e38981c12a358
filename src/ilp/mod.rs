//! The ILP layer: what an induction problem is, and the plain-Rust data every learner needs.
//!
//! - [`task`]: the task file (TOML) — language frame, program template, training and validation
//!   worlds — parsed and validated with located errors.
//! - [`clausegen`]: `cl(τ)`, the clauses a rule template allows (paper §3.2, App. B).
//! - [`ground`]: the deterministic ground-atom index of a world (⊥ at 0) and each clause's
//!   index pairs `X_c` (paper §4.4), which the ∂ILP layer turns into tensors.
//! - [`size`], [`footprint`], [`budget`]: the size model — ground atoms, clauses, index pairs,
//!   SAT and ∂ILP sizes from the task alone — and the memory budget a run is refused over.
//! - [`check`]: re-checks a learned program with the Datalog engine on every world.
//!
//! No `tch` here: everything is plain data so the SAT baseline and the tensor layer share it.

pub mod budget;
pub mod check;
pub mod clausegen;
pub mod footprint;
pub mod ground;
pub mod size;
pub mod task;
mod taskfile;

pub use budget::{parse_size, MemoryBudget};
pub use check::{
    check_program, drop_clauses_idle_on, drop_idle_clauses, program_text, training_misses,
    CheckReport, WorldCheck,
};
pub use clausegen::{
    describe_clauses, describe_clauses_within, generate_all, generate_clauses, try_generate_all,
    ClauseSet,
};
pub use footprint::{check_learn, SatEstimate};
pub use ground::{all_atoms, index_pairs, Examples, GroundIndex, IndexPairs};
pub use size::{clause_count, SizeModel, TemplateSize, WorldSize};
pub use task::{
    background_ids, background_valuation, examples, load_task, parse_task, Language, PredRules,
    RuleTemplate, Task, World,
};
