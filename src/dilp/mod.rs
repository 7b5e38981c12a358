//! ∂ILP on LibTorch: valuations as tensors, clauses as gather → t-norm → max over groundings,
//! a softmax over clause pairs per predicate, amalgamation, T unrolled steps, training by
//! gradient descent, and read-out of a Datalog program that the engine then checks.
//!
//! Everything carries a leading batch dimension `B`: independent seeds when learning a symbolic
//! task (each row its own rule weights), or data items (MNIST image pairs) sharing one set of
//! weights (weights of batch 1 broadcast).

pub mod compile;
pub mod grid;
pub mod group;
pub mod infer;
pub mod kernel;
pub mod lanes;
pub mod learn;
pub mod memory;
pub mod native;
pub mod readout;
pub mod reference;
pub mod select;
pub mod weights;

pub use compile::{CompiledPred, CompiledTask, CompiledWorld};
pub use grid::TemplateGrid;
pub use infer::{infer, InferOptions};
pub use learn::{learn, Backend, LearnConfig, LearnObserver, LearnReport, Progress};
pub use select::Selection;

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

/// The training loss on one example's prediction `p` against its label `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Binary cross-entropy: the paper's choice.
    #[default]
    Bce,
    /// Mean absolute error |p − y|. Its gradient does not grow on a confidently contradicted
    /// example, so a few flipped labels cannot outweigh the rest; under symmetric label noise
    /// below 1/2 its risk minimiser is the clean one (Ghosh, Kumar and Sastry, AAAI 2017). For a
    /// crisp program it is the error count that the SAT baseline's noise-tolerant mode minimises.
    Mae,
}

impl Loss {
    /// The loss at prediction `v` and its derivative in `v`. BCE clamps `v` to
    /// [1e-7, 1 − 1e-7] and, as LibTorch's clamp does, passes no gradient outside.
    #[inline]
    pub fn at(self, v: f32, y: f32) -> (f32, f32) {
        match self {
            Loss::Bce => {
                const EPS: f32 = 1e-7;
                let p = v.clamp(EPS, 1.0 - EPS);
                let loss = -(y * p.ln() + (1.0 - y) * (1.0 - p).ln());
                let grad = if (EPS..=1.0 - EPS).contains(&v) {
                    -y / p + (1.0 - y) / (1.0 - p)
                } else {
                    0.0
                };
                (loss, grad)
            }
            // LibTorch's |x| passes 0 at x = 0; a saturated prediction can equal its label.
            Loss::Mae if v == y => (0.0, 0.0),
            Loss::Mae => ((v - y).abs(), 1.0 - 2.0 * y),
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bce" => Ok(Loss::Bce),
            "mae" => Ok(Loss::Mae),
            _ => Err(format!("unknown loss `{s}` (bce, mae)")),
        }
    }
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
