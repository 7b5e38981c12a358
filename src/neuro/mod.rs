//! Neuro-symbolic less-than: a conv-net's softmaxed logits become the probabilistic atoms
//! `image1(d)` and `image2(d)`, merged into the background valuation of a ∂ILP module whose
//! nullary `target` says whether the left digit is less than the right one.

pub mod less_than;
pub mod perception;

pub use less_than::{less_than_task, merge_valuation, ImageSemantics, RuleModule};
pub use perception::{Perception, VisionMode};
