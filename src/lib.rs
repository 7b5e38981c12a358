//! dilp: Datalog programs learned from examples.
//!
//! Layers, each importing only from the ones before it:
//! `logic → datalog → ilp → sat → dilp → report → experiment`. All of them build without
//! LibTorch: the ∂ILP learner's CPU kernel works on plain vectors. The `torch` feature adds the
//! tensor path of [`dilp`] (any t-norm, any device), `vision → train → neuro` (which sit
//! between `dilp` and `report`) and the MNIST experiments; `neuro::taskfile` (task files over
//! perceived digits) builds without it.
//!
//! Invariants: `tch` only behind the `torch` feature and never below [`dilp`]; row *i* of every
//! valuation is the same ground atom in every run; every program a learner returns goes through
//! the Datalog engine before it is reported.

pub mod datalog;
pub mod dilp;
pub mod error;
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
