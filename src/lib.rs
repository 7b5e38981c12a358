//! dilp: Datalog programs learned from examples.
//!
//! Layers, each importing only from the ones before it:
//! `logic → datalog → ilp → sat → neuro::taskfile` (no LibTorch) and, with the `torch` feature,
//! `dilp → vision → train → report → experiment`.
//!
//! Invariants: no `tch` below [`dilp`]; row *i* of every valuation is the same ground atom in every
//! run; every program a learner returns goes through the Datalog engine before it is reported.

pub mod datalog;
#[cfg(feature = "torch")]
pub mod dilp;
pub mod error;
#[cfg(feature = "torch")]
pub mod experiment;
pub mod ilp;
pub mod logic;
pub mod neuro;
pub mod report;
pub mod rng;
pub mod sat;
#[cfg(feature = "torch")]
pub mod train;
#[cfg(feature = "torch")]
pub mod vision;

pub use error::{Error, Result};
