//! The ILP layer: what an induction problem is, and the plain-Rust data every learner needs.
//!
//! - [`task`]: the task file (TOML) — language frame, program template, training and validation
//!   worlds — parsed and validated with located errors.
//! - [`clausegen`]: `cl(τ)`, the clauses a rule template allows (paper §3.2, App. B).
//! - [`ground`]: the deterministic ground-atom index of a world (⊥ at 0) and each clause's
//!   index pairs `X_c` (paper §4.4), which the ∂ILP layer turns into tensors.
//! - [`check`]: re-checks a learned program with the Datalog engine on every world.
//!
//! No `tch` here: everything is plain data so the SAT baseline and the tensor layer share it.

pub mod check;
pub mod clausegen;
pub mod ground;
pub mod task;
mod taskfile;

pub use check::{check_program, program_text, training_misses, CheckReport, WorldCheck};
pub use clausegen::{describe_clauses, generate_all, generate_clauses, ClauseSet};
pub use ground::{all_atoms, index_pairs, Examples, GroundIndex, IndexPairs};
pub use task::{
    background_ids, background_valuation, examples, load_task, parse_task, Language, PredRules,
    RuleTemplate, Task, World,
};
