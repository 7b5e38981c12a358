//! Neuro-symbolic tasks: a conv-net's softmaxed logits become the probabilistic atoms of the
//! task's perceived predicates (`image1(d)`, `image2(d)`, or `image(d)`), merged into the
//! background valuation of a ∂ILP module whose nullary `target` is the item's label.
//!
//! [`taskfile`] (no LibTorch) reads a task from its file and [`abduce`] (no LibTorch) names a
//! conv-net's clusters and finds a program from pair labels; the rest needs the `torch` feature.

pub mod abduce;
mod labelling;
#[cfg(feature = "torch")]
pub mod perception;
#[cfg(feature = "torch")]
pub mod predict;
#[cfg(feature = "torch")]
pub mod rules;
pub mod taskfile;
#[cfg(feature = "torch")]
pub mod valuation;
#[cfg(feature = "torch")]
mod warmup;

#[cfg(feature = "torch")]
pub use perception::{Perception, VisionMode};
#[cfg(feature = "torch")]
pub use rules::RuleModule;
pub use taskfile::{load_checked, load_neuro_task, parse_neuro_task, NeuroTask};
#[cfg(feature = "torch")]
pub use valuation::{merge_valuation, ImageSemantics, TupleRow};
