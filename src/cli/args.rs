//! Stage one of the command line: what the user typed, as clap parses it. Flags that are not
//! given stay `None` here; [`super::resolve`] decides what they default to, because that may
//! depend on a task file or a `--config` file.

use super::bench_args::BenchCommand;
use super::choice::{
    Amalgamation, Backend, Choice as _, EarlyStop, Engine, Loss, NoiseKind, Optimizer, Select,
    TNorm,
};
#[cfg(feature = "torch")]
use super::mnist_args::MnistCommand;
use super::values;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "dilp",
    version,
    about = "Learn Datalog programs from noisy examples: a Datalog engine, a SAT baseline and ∂ILP",
    long_about = None
)]
pub struct Cli {
    /// Intra-op threads for LibTorch and the sparse CPU kernel (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Memory budget every command checks its size estimate against before it allocates, e.g.
    /// `8G`, `512M`, `1.5GiB` (default: half of physical memory). A task estimated above it is
    /// refused with the estimate and what drives it.
    #[arg(long, global = true, value_name = "SIZE", value_parser = values::memory)]
    pub max_memory: Option<dilp::ilp::MemoryBudget>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate a Datalog file and print its least model (or a query's answers), sorted.
    Run(RunArgs),
    /// List the clauses generated for each rule template of a task, and the size of each X_c.
    Clauses {
        /// The task file (TOML).
        task: PathBuf,
    },
    /// Solve a task exactly with the ILP-to-SAT encoding.
    Synth(SynthArgs),
    /// Learn a task with ∂ILP.
    Learn(LearnArgs),
    /// Experiments and benchmarks that print figures and write CSV and plots.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// The neuro-symbolic MNIST less-than study.
    #[cfg(feature = "torch")]
    Mnist {
        #[command(subcommand)]
        which: MnistCommand,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The Datalog program.
    pub file: PathBuf,
    /// Only facts matching this atom, e.g. 'path(a,X)'. Magic sets are used when an argument is bound.
    #[arg(long)]
    pub query: Option<String>,
    /// Evaluation strategy [default: magic for a bound query, semi-naive otherwise].
    #[arg(long, value_parser = Engine::parser())]
    pub engine: Option<Engine>,
    /// Print rounds, facts derived and time to stderr.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// The task file (TOML).
    pub task: PathBuf,
    /// Find the program that misclassifies the fewest training examples, up to K of them.
    #[arg(long)]
    pub max_errors: Option<usize>,
    /// Count every distinct program that fits the training worlds.
    #[arg(long)]
    pub all: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct LearnArgs {
    /// The task file (TOML); its `[learn]` section recommends lr, init_std and batch_size.
    pub task: PathBuf,
    /// Initialisations trained together as one batch.
    #[arg(long, default_value_t = 1, value_parser = values::at_least_one)]
    pub seeds: usize,
    /// Training steps [default: 6000, the paper's].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Learning rate [default: the task file's `[learn] lr`, else 0.5 (the paper's)].
    #[arg(long, value_parser = values::positive)]
    pub lr: Option<f64>,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Examples per mini-batch, 0 for all of the sampled world [default: the task file's
    /// `[learn] batch_size`, else 2].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Fuzzy conjunction [default: product].
    #[arg(long, value_parser = TNorm::parser())]
    pub tnorm: Option<TNorm>,
    /// How one step's conclusions are merged [default: prob-sum].
    #[arg(long, value_parser = Amalgamation::parser())]
    pub amalgamation: Option<Amalgamation>,
    /// Optimiser of the rule weights [default: rmsprop].
    #[arg(long, value_parser = Optimizer::parser())]
    pub optimizer: Option<Optimizer>,
    /// Standard deviation of the initial rule weights [default: the task file's
    /// `[learn] init_std`, else 1, the paper's N(0, 1)].
    #[arg(long, value_parser = values::non_negative)]
    pub init_std: Option<f64>,
    /// Early stopping [default: solved].
    #[arg(long, value_parser = EarlyStop::parser())]
    pub early_stop: Option<EarlyStop>,
    /// How close every training example must be to its label for early stopping [default: 1e-4].
    #[arg(long, value_parser = values::positive)]
    pub tolerance: Option<f64>,
    /// Training implementation [default: auto].
    #[arg(long, value_parser = Backend::parser())]
    pub backend: Option<Backend>,
    /// Training loss [default: bce].
    #[arg(long, value_parser = Loss::parser())]
    pub loss: Option<Loss>,
    /// Which seed is reported [default: crisp].
    #[arg(long, value_parser = Select::parser())]
    pub select: Option<Select>,
    /// Flip this proportion of the training labels first (seeded by --seed).
    #[arg(long, value_parser = values::proportion)]
    pub noise: Option<f64>,
    #[command(flatten)]
    pub minima: MinimaArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Folder for the resolved config and report (default: experiments/results/learn-<task>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// How seeds escape local minima (issue 16), shared by `learn` and `bench tasks`: restarts of
/// stalled seeds by default, `--paper` for the paper's model, and the other candidates measured
/// beside restarts, off unless given.
#[derive(Args, Debug, Clone, Default)]
pub struct MinimaArgs {
    /// The paper's model and protocol: no restarts, lowest-loss selection, and no task file's
    /// `[learn]` section (lr 0.5, N(0, 1) weights, mini-batch 2 unless a flag says otherwise).
    #[arg(long)]
    pub paper: bool,
    /// Scale of the noise on the clause-pair logits at the first step, annealed linearly to 0
    /// [default: 0, none].
    #[arg(long, value_parser = values::non_negative)]
    pub logit_noise: Option<f64>,
    /// Distribution of the logit noise [default: gaussian].
    #[arg(long, value_parser = NoiseKind::parser())]
    pub logit_noise_kind: Option<NoiseKind>,
    /// Softmax temperature at the first step, annealed linearly to 1 [default: 1, none].
    #[arg(long, value_parser = values::positive)]
    pub temperature: Option<f64>,
    /// Restart a seed whose mean loss over this many steps has stalled; 0 never restarts
    /// [default: 125; 0 with --paper].
    #[arg(long)]
    pub restart_window: Option<usize>,
    /// Relative fall in the window's loss that counts as progress [default: 0.05].
    #[arg(long, value_parser = values::non_negative)]
    pub restart_margin: Option<f64>,
}
