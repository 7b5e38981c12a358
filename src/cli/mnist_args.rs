//! Stage one for `dilp mnist`: the study's flags as clap parses them. A run's settings live in
//! [`RunFlags`], shared by `train` (every flag) and `sweep` (a few, the rest their defaults).

use super::choice::{Choice as _, Semantics, Vision};
use super::values;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum MnistCommand {
    /// Pretrain the conv-net on MNIST digits (skipped when a valid model exists unless --force).
    Pretrain {
        /// Pretrain even when a valid model exists.
        #[arg(long)]
        force: bool,
        /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
        #[arg(long, default_value = "auto", value_parser = values::device)]
        device: dilp::dilp::Device,
    },
    /// Train ∂ILP and the MLP baseline on image pairs at one held-out proportion.
    Train(MnistTrainArgs),
    /// The whole study: several held-out proportions and runs, a table and plots.
    Sweep(MnistSweepArgs),
    /// Print the symbolic ∂ILP task of a neuro-symbolic task file (language, template, one
    /// world per digit tuple labelled by its labelling program) as TOML.
    Task {
        #[command(flatten)]
        task: TaskFlag,
    },
    /// Read your own digit images (PNG or JPEG, any size, either polarity) with the conv-net:
    /// each image's digit distribution and, given one image per perceived predicate,
    /// P(target) and the ground rule instances that derive it.
    Predict(MnistPredictArgs),
    /// Merge the folders of a sweep's shards (`dilp mnist sweep --shard I/N`) into the table,
    /// CSV, JSON and plots of the whole sweep, after checking that they share every setting and
    /// hold every run exactly once.
    Merge(MnistMergeArgs),
    /// Redraw the plots of a sweep from its saved CSV.
    Plot {
        /// The sweep's output folder.
        #[arg(long, default_value = "experiments/results/mnist")]
        dir: PathBuf,
    },
}

/// `--task FILE`, shared by every `mnist` command that learns or reads a task.
#[derive(Args, Debug, Clone, Default)]
pub struct TaskFlag {
    /// Neuro-symbolic task file: a task TOML with a `[perception]` section (see
    /// experiments/tasks/mnist/) [default: experiments/tasks/mnist/less_than.toml].
    #[arg(long = "task", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct MnistPredictArgs {
    /// The images: PNG or JPEG files of one digit each (white on black or black on white).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub task: TaskFlag,
    /// A finished run's folder (`dilp mnist train --out DIR`): its conv-net and learned program.
    /// Without it, the pretrained conv-net reads the digits and P(target) comes from the task's
    /// own labelling program.
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Print one JSON object: {"images": [{"path", "digit", "probs"}], "p_target", "program",
    /// "proof"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct MnistTrainArgs {
    /// Run settings from a JSON file: the `config.json` a run writes, whole or in part (missing
    /// keys take their defaults). The flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub task: TaskFlag,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Output folder (default: experiments/results/mnist-train-h<H>-s<SEED>-<MODE>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One run's settings given on the command line; `None` leaves the `--config` file's value, or
/// the default.
#[derive(Args, Debug, Clone, Default)]
pub struct RunFlags {
    /// Proportion of the 100 digit pairs held out of training [default: 0.7].
    #[arg(long, value_parser = values::proportion)]
    pub held_out: Option<f64>,
    /// Seed of the split, the initialisation and the batches [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// How the conv-net takes part [default: frozen].
    #[arg(long, value_parser = Vision::parser())]
    pub vision: Option<Vision>,
    /// Training image pairs [default: 20000].
    #[arg(long, value_parser = values::at_least_one)]
    pub pairs: Option<usize>,
    /// Training steps [default: 400 for ∂ILP (1500 in scratch mode; in joint mode 600 steps
    /// through the abduced rule after `joint.cluster_steps`, 900), 1500 for the MLP].
    #[arg(long)]
    pub steps: Option<usize>,
    /// How the digit distributions enter the rules [default: worlds in scratch mode, else fuzzy].
    #[arg(long, value_parser = Semantics::parser())]
    pub semantics: Option<Semantics>,
    /// Steps during which each ∂ILP attempt first learns its rules from the symbolic task
    /// alone (the training digit pairs' worlds, no image) [default: 300 in scratch mode, else 0].
    #[arg(long)]
    pub symbolic_warmup: Option<usize>,
    /// Adam learning rate of the ∂ILP rule weights while they train with the perception
    /// [default: 0.05; the symbolic warm-up has its own, `symbolic_lr` in a --config file].
    #[arg(long, value_parser = values::positive)]
    pub rule_lr: Option<f64>,
    /// Adam learning rate of the conv-net [default: 1e-5 in finetune mode, 1e-3 in scratch mode].
    /// Finetuning at 1e-3 wrecked the pretrained conv-net (digit accuracy 0.99 -> 0.33, held-out
    /// less-than 0.76 at h = 0.7); at 1e-5 it kept 0.993 and reached 0.979.
    #[arg(long, value_parser = values::positive)]
    pub vision_lr: Option<f64>,
    /// Fresh initialisations of the rule weights tried when a run stays stuck (training loss
    /// above 0.3 × the best constant guess's, `restart_loss_ratio` in a --config file); the
    /// attempt with the lowest training loss is kept [default: 3].
    #[arg(long)]
    pub restarts: Option<usize>,
    /// Weight of a label-free clustering term (confident, evenly used digit classes) added to
    /// the loss when the conv-net trains [default: 0, off]. Experimental: at weight 1, scratch
    /// mode, h = 0, 1500 steps, it left less-than at 0.554 and digit accuracy at 0.11.
    #[arg(long, value_parser = values::non_negative)]
    pub cluster_weight: Option<f64>,
    /// Weight of a label-free balance term (every digit class used about equally often, with
    /// no demand that each image be read confidently) [default: 1 in scratch mode, else 0].
    #[arg(long, value_parser = values::non_negative)]
    pub balance_weight: Option<f64>,
}

#[derive(Args, Debug, Clone)]
pub struct MnistSweepArgs {
    #[command(flatten)]
    pub task: TaskFlag,
    /// Comma-separated held-out proportions.
    #[arg(long, value_delimiter = ',', default_value = "0,0.4,0.7", value_parser = values::proportion)]
    pub held_out: Vec<f64>,
    /// Runs (seeds) per proportion.
    #[arg(long, default_value_t = 1, value_parser = values::at_least_one)]
    pub runs: usize,
    /// How the conv-net takes part.
    #[arg(long, default_value = "frozen", value_parser = Vision::parser())]
    pub vision: Vision,
    /// Training image pairs [default: 20000].
    #[arg(long, value_parser = values::at_least_one)]
    pub pairs: Option<usize>,
    /// Training steps [default: 400 for ∂ILP (1500 in scratch mode; in joint mode 600 steps
    /// through the abduced rule after `joint.cluster_steps`, 900), 1500 for the MLP].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Device: auto (CUDA when available) | cpu | cuda | cuda:N.
    #[arg(long, default_value = "auto", value_parser = values::device)]
    pub device: dilp::dilp::Device,
    /// Output folder.
    #[arg(long, default_value = "experiments/results/mnist")]
    pub out: PathBuf,
    /// Keep the runs an interrupted sweep with the same settings finished (saved in
    /// `<out>/parts`) and train only the rest [default: start afresh].
    #[arg(long)]
    pub resume: bool,
    /// Run only shard I of N (counted from 1, as `#SBATCH --array=1-N` numbers array tasks):
    /// the sweep's runs, proportion by proportion, dealt out in turn, and the I-th share kept.
    /// A shard saves its runs in <out>/parts and writes no table or plots; give every shard its
    /// own --out and the same other flags, then `dilp mnist merge` [default: the whole sweep].
    #[arg(long, value_name = "I/N", value_parser = values::shard)]
    pub shard: Option<dilp::experiment::mnist_shard::Shard>,
}

#[derive(Args, Debug, Clone)]
pub struct MnistMergeArgs {
    /// The shard folders: the --out of each `dilp mnist sweep --shard I/N` of one sweep.
    #[arg(required = true, value_name = "SHARD_FOLDER")]
    pub shards: Vec<PathBuf>,
    /// Output folder for the merged sweep.csv, sweep.json and plots.
    #[arg(long, default_value = "experiments/results/mnist")]
    pub out: PathBuf,
}
