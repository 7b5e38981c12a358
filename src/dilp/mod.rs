//! ∂ILP: valuations of ground atoms, clauses as gather → t-norm → max over groundings, a
//! softmax over clause pairs per predicate, amalgamation, T unrolled steps, training by
//! gradient descent, and read-out of a Datalog program that the engine then checks.
//!
//! Two implementations compute the same model. The CPU kernel ([`kernel`] on a [`sparse`]
//! world, generic over the [`lane`] type so one seed or eight run the same code; [`seeds`],
//! [`native`]) needs no tensor library and is what [`learn`] uses by default. The LibTorch path
//! ([`compile`], [`grid`], [`stage`], [`fixed_mix`], [`infer`], feature `torch`) runs any t-norm
//! on any device and carries a leading batch dimension `B`: independent seeds, or data items
//! (MNIST image pairs) sharing one set of weights. [`reference`] is a plain re-implementation
//! of the paper kept as an oracle for both.

#[cfg(feature = "torch")]
pub mod compile;
#[cfg(feature = "torch")]
pub mod fixed_mix;
#[cfg(feature = "torch")]
pub mod grid;
#[cfg(feature = "torch")]
pub mod infer;
pub mod kernel;
pub mod lane;
pub mod learn;
pub mod memory;
pub mod native;
pub mod optim;
pub mod perturb;
pub mod readout;
#[cfg(feature = "torch")]
pub mod reference;
pub mod seeds;
pub mod select;
pub mod sparse;
#[cfg(feature = "torch")]
pub mod stage;
pub mod weights;

#[cfg(feature = "torch")]
pub use compile::{CompiledPred, CompiledTask, CompiledWorld};
#[cfg(feature = "torch")]
pub use grid::TemplateGrid;
#[cfg(feature = "torch")]
pub use infer::{infer, InferOptions};
pub use learn::{learn, Backend, LearnConfig, LearnObserver, LearnReport, Progress};
pub use optim::{Loss, Optimizer, StepSettings};
pub use perturb::{NoiseKind, Perturb};
pub use select::Selection;

#[cfg(feature = "torch")]
pub use weights::RuleWeights;
pub use weights::SeedWeights;

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

/// Where tensors live: LibTorch's device type, or (built without LibTorch) the CPU alone.
#[cfg(feature = "torch")]
pub use tch::Device;

/// Where tensors live; built without LibTorch, only the CPU.
#[cfg(not(feature = "torch"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
}

/// Threads the CPU work may use: LibTorch's setting, or (without it) the available cores.
pub fn num_threads() -> usize {
    #[cfg(feature = "torch")]
    let n = usize::try_from(tch::get_num_threads()).unwrap_or(1);
    #[cfg(not(feature = "torch"))]
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    n.max(1)
}

/// Parses `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available).
#[cfg(feature = "torch")]
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

/// Parses `cpu` or `auto`: built without LibTorch, the CPU is the only device.
#[cfg(not(feature = "torch"))]
pub fn parse_device(s: &str) -> Result<Device, String> {
    match s {
        "auto" | "cpu" => Ok(Device::Cpu),
        _ => Err(format!(
            "device `{s}` needs LibTorch, and this build has none (auto, cpu)"
        )),
    }
}
