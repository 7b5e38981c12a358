//! ∂ILP on LibTorch: valuations as tensors, clauses as gather → t-norm → max over groundings,
//! a softmax over clause pairs per predicate, amalgamation, T unrolled steps, training by
//! gradient descent, and read-out of a Datalog program that the engine then checks.
//!
//! Everything carries a leading batch dimension `B`: independent seeds when learning a symbolic
//! task (each row its own rule weights), or data items (MNIST image pairs) sharing one set of
//! weights (weights of batch 1 broadcast).

#[cfg(feature = "torch")]
pub mod compile;
#[cfg(feature = "torch")]
pub mod grid;
#[cfg(feature = "torch")]
pub mod infer;
pub mod kernel;
pub mod lane;
#[cfg(feature = "torch")]
pub mod learn;
#[cfg(feature = "torch")]
pub mod memory;
pub mod native;
pub mod optim;
#[cfg(feature = "torch")]
pub mod readout;
#[cfg(feature = "torch")]
pub mod reference;
pub mod seeds;
#[cfg(feature = "torch")]
pub mod select;
pub mod sparse;
#[cfg(feature = "torch")]
pub mod weights;

#[cfg(feature = "torch")]
pub use compile::{CompiledPred, CompiledTask, CompiledWorld};
#[cfg(feature = "torch")]
pub use grid::TemplateGrid;
#[cfg(feature = "torch")]
pub use infer::{infer, InferOptions};
#[cfg(feature = "torch")]
pub use learn::{learn, Backend, LearnConfig, LearnObserver, LearnReport, Progress};
pub use optim::{Loss, Optimizer, StepSettings};
#[cfg(feature = "torch")]
pub use select::Selection;

#[cfg(feature = "torch")]
pub use weights::RuleWeights;

use serde::{Deserialize, Serialize};

/// The fuzzy conjunction of a clause's two body atoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TNorm {
    /// x·y: the paper's choice.
    #[default]
    Product,
    /// min(x, y).
    Godel,
    /// max(0, x + y − 1).
    Lukasiewicz,
}

/// How one step's conclusions are merged into the valuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Amalgamation {
    /// a + b − a·b: the paper's choice.
    #[default]
    ProbSum,
    /// max(a, b): the paper's ablation.
    Max,
}

impl std::str::FromStr for TNorm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "product" => Ok(TNorm::Product),
            "godel" | "goedel" | "min" => Ok(TNorm::Godel),
            "lukasiewicz" => Ok(TNorm::Lukasiewicz),
            _ => Err(format!(
                "unknown t-norm `{s}` (product, godel, lukasiewicz)"
            )),
        }
    }
}

impl std::str::FromStr for Amalgamation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "prob-sum" | "probsum" => Ok(Amalgamation::ProbSum),
            "max" => Ok(Amalgamation::Max),
            _ => Err(format!("unknown amalgamation `{s}` (prob-sum, max)")),
        }
    }
}

#[cfg(feature = "torch")]
/// Parses `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available).
pub fn parse_device(s: &str) -> Result<tch::Device, String> {
    match s {
        "auto" => Ok(tch::Device::cuda_if_available()),
        "cpu" => Ok(tch::Device::Cpu),
        "cuda" => Ok(tch::Device::Cuda(0)),
        _ => s
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(tch::Device::Cuda)
            .ok_or_else(|| format!("unknown device `{s}` (auto, cpu, cuda, cuda:N)")),
    }
}
