//! Stage one for `dilp bench`: the flags of each experiment as clap parses them.

use super::choice::{Backend, Choice as _, EarlyStop, Loss, Select};
use super::values;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Table 3: every benchmark task with many seeds, per-seed success beside the paper's.
    Tasks(TasksArgs),
    /// Table 4: mislabelled training data, ∂ILP against the exact and noise-tolerant SAT solver.
    Noise(NoiseArgs),
    /// Milliseconds per training step for 1, 32 and 200 seeds on every task.
    Speed(SpeedArgs),
    /// Peak memory and time of one large task beside the paper's Appendix E estimate.
    Memory(MemoryArgs),
    /// `dilp mnist predict` on MNIST test digits written as PNG (28x28 white on black, and
    /// 224x224 black on white off-centre), beside the conv-net on MNIST's own pixels.
    #[cfg(feature = "torch")]
    Predict(PredictBenchArgs),
}

#[cfg(feature = "torch")]
#[derive(Args, Debug, Clone)]
pub struct PredictBenchArgs {
    /// The first this many MNIST test images [default: all 10000].
    #[arg(long, default_value_t = 10_000, value_parser = values::at_least_one)]
    pub images: usize,
    /// Keep the PNG files in this folder [default: a temporary folder, removed afterwards].
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Which task files an experiment runs.
#[derive(Args, Debug, Clone)]
pub struct TaskSet {
    /// Only these tasks (file stems), comma-separated [default: every task in --dir].
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Folder of the task files.
    #[arg(long, default_value = "experiments/tasks")]
    pub dir: PathBuf,
}

impl TaskSet {
    /// `--only` as the library takes it.
    // The library's `task_files` still takes the comma-joined list; once it takes a slice
    // this goes.
    pub fn only(&self) -> Option<String> {
        self.only.as_ref().map(|v| v.join(","))
    }
}

#[derive(Args, Debug, Clone)]
pub struct TasksArgs {
    /// Initialisations per task.
    #[arg(long, default_value_t = 50, value_parser = values::at_least_one)]
    pub seeds: usize,
    /// Seed of the first initialisation; seed `i` of a task's batch is `seed + i` [default: 0].
    /// A range never used to choose settings gives figures not selected on themselves.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training steps [default: 6000, the paper's].
    #[arg(long)]
    pub steps: Option<usize>,
    #[command(flatten)]
    pub tasks: TaskSet,
    /// Output folder (default: experiments/results/table3).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Early stopping (solved seeds stop; the success rate is unchanged).
    #[arg(long, default_value = "solved", value_parser = EarlyStop::parser())]
    pub early_stop: EarlyStop,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Standard deviation of the initial weights for every task, instead of each task
    /// file's `[learn] init_std` (else the paper's 1).
    #[arg(long, value_parser = values::non_negative)]
    pub init_std: Option<f64>,
    /// Which seed counts as the run's answer [default: crisp; loss with --paper].
    #[arg(long, value_parser = Select::parser())]
    pub select: Option<Select>,
    /// Training loss [default: bce].
    #[arg(long, value_parser = Loss::parser())]
    pub loss: Option<Loss>,
    /// Keep the tasks an interrupted run with the same settings finished (saved in
    /// `<out>/parts`) and train only the rest [default: start afresh].
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub minima: super::args::MinimaArgs,
}

#[derive(Args, Debug, Clone)]
pub struct NoiseArgs {
    /// Initialisations per task and draw.
    #[arg(long, default_value_t = 10, value_parser = values::at_least_one)]
    pub seeds: usize,
    /// Training steps [default: 6000, the paper's].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Comma-separated proportions of flipped labels [default: the paper's 13].
    #[arg(long, value_delimiter = ',', value_parser = proportion_closed)]
    pub rho: Option<Vec<f64>>,
    /// Independent flip draws per ρ (flip seed = --seed + draw); figures are their means.
    #[arg(long, default_value_t = 1, value_parser = values::at_least_one)]
    pub draws: usize,
    /// Seed of the first flip draw and of the first ∂ILP initialisation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Train nothing: merge these earlier runs' table4.json files (comma-separated; a
    /// later file wins on the same task and ρ) and write the table, CSV and plots.
    #[arg(long, value_delimiter = ',', value_parser = path_item)]
    pub from: Option<Vec<PathBuf>>,
    #[command(flatten)]
    pub tasks: TaskSet,
    /// Output folder (default: experiments/results/table4).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Standard deviation of the initial weights for every task, instead of each task
    /// file's `[learn] init_std` (else the paper's 1).
    #[arg(long, value_parser = values::non_negative)]
    pub init_std: Option<f64>,
    /// Keep the draws an interrupted run with the same settings finished (saved in
    /// `<out>/parts`) and compute only the rest [default: start afresh].
    #[arg(long, conflicts_with = "from")]
    pub resume: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SpeedArgs {
    /// Comma-separated seed counts.
    #[arg(long, value_delimiter = ',', default_value = "1,32,200", value_parser = values::number::<usize>)]
    pub seeds: Vec<usize>,
    /// Training steps timed per task and seed count.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    #[command(flatten)]
    pub tasks: TaskSet,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Training implementation.
    #[arg(long, default_value = "auto", value_parser = Backend::parser())]
    pub backend: Backend,
    /// Output folder (default: experiments/results/speed).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct MemoryArgs {
    /// Constants of the generated family task.
    #[arg(long, default_value_t = 20)]
    pub constants: usize,
    /// Training steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
}

/// A proportion in [0, 1], 1 included (`--rho`: every label flipped).
fn proportion_closed(s: &str) -> Result<f64, String> {
    let x: f64 = values::number(s)?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err("not a proportion in [0, 1]".into())
    }
}

/// A path of a comma-separated list, the spaces around it ignored.
fn path_item(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(s.trim()))
}
