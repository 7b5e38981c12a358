//! Experiments: the commands that run learners end to end, print figures and write their
//! resolved config, seed and results under `experiments/results/<run>/`.

pub mod learn_cmd;
pub mod memory_bench;
#[cfg(feature = "torch")]
pub mod mnist;
#[cfg(feature = "torch")]
mod mnist_outputs;
#[cfg(feature = "torch")]
pub mod mnist_shard;
#[cfg(feature = "torch")]
pub mod mnist_sweep;
pub mod noise;
mod noise_table;
pub mod paper;
pub mod parts;
#[cfg(feature = "torch")]
pub mod predict_bench;
pub mod speed;
pub mod tasks;
