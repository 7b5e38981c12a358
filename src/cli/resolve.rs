//! Stage two of the command line: the parsed flags of `learn` and `bench` become the library's
//! [`LearnConfig`]. Every setting is taken, in order of precedence, from
//! 1. its flag;
//! 2. the task file's `[learn]` section (lr, init_std, batch_size), applied by the library per
//!    task: resolution only says, with `task_lr`, `task_init_std` and `task_batch_size`, whether
//!    the file may override, which an explicit flag or `bench tasks --paper` forbids;
//! 3. the library's documented default ([`LearnConfig::default`]).
//!
//! Ranges were checked by clap already ([`super::values`]), so resolution cannot fail here.
//! `mnist` settings, which also come from a `--config` file, resolve in [`super::resolve_mnist`].

use super::args::{LearnArgs, MinimaArgs};
use super::bench_args::{MemoryArgs, NoiseArgs, TasksArgs};
use dilp::dilp::{LearnConfig, Selection};
use dilp::experiment::learn_cmd::LearnOptions;
use dilp::ilp::MemoryBudget;
use std::path::PathBuf;

/// The default output folder `experiments/results/<name>` of an experiment.
pub fn results(name: &str) -> PathBuf {
    PathBuf::from("experiments/results").join(name)
}

/// `--max-memory` as the learner's limit in MiB (always set, so that the learner and the size
/// model check against the same budget).
fn limit_mib(budget: MemoryBudget) -> Option<f64> {
    Some(budget.bytes() as f64 / 1_048_576.0)
}

/// `dilp learn`.
pub fn learn(a: LearnArgs, budget: MemoryBudget) -> LearnOptions {
    let d = LearnConfig::default();
    let config = LearnConfig {
        seeds: a.seeds,
        seed: a.seed,
        steps: a.steps.unwrap_or(d.steps),
        lr: a.lr.unwrap_or(d.lr),
        task_lr: a.lr.is_none() && !a.minima.paper,
        init_std: a.init_std.unwrap_or(d.init_std),
        task_init_std: a.init_std.is_none() && !a.minima.paper,
        batch_size: a.batch_size.unwrap_or(d.batch_size),
        task_batch_size: a.batch_size.is_none() && !a.minima.paper,
        tolerance: a.tolerance.unwrap_or(d.tolerance),
        early_stop: a.early_stop.map_or(d.early_stop, Into::into),
        backend: a.backend.map_or(d.backend, Into::into),
        loss: a.loss.map_or(d.loss, Into::into),
        select: select(a.select, a.minima.paper),
        tnorm: a.tnorm.map_or(d.tnorm, Into::into),
        amalgamation: a.amalgamation.map_or(d.amalgamation, Into::into),
        optimizer: a.optimizer.map_or(d.optimizer, Into::into),
        memory_limit_mib: limit_mib(budget),
        ..minima(&a.minima, d)
    };
    LearnOptions {
        task: a.task,
        config,
        device: a.device,
        noise: a.noise,
        json: a.json,
        out: a.out,
    }
}

/// The learner's defaults, with `--init-std` (if given) replacing every task file's.
fn learn_defaults(init_std: Option<f64>, budget: MemoryBudget) -> LearnConfig {
    let d = LearnConfig::default();
    LearnConfig {
        memory_limit_mib: limit_mib(budget),
        init_std: init_std.unwrap_or(d.init_std),
        task_init_std: init_std.is_none(),
        ..d
    }
}

/// `dilp bench tasks`: `--paper` ignores the task files' `[learn]` sections and reports the
/// lowest-loss seed unless `--select` says otherwise.
pub fn bench_tasks(a: &TasksArgs, budget: MemoryBudget) -> LearnConfig {
    let defaults = learn_defaults(a.init_std, budget);
    let paper = a.minima.paper;
    LearnConfig {
        select: select(a.select, paper),
        loss: a.loss.map_or(dilp::dilp::Loss::Bce, Into::into),
        seeds: a.seeds,
        seed: a.seed,
        steps: a.steps.unwrap_or(6000),
        early_stop: a.early_stop.into(),
        task_init_std: defaults.task_init_std && !paper,
        task_lr: !paper,
        task_batch_size: !paper,
        ..minima(&a.minima, defaults)
    }
}

/// `--select`, else the paper's lowest loss with `--paper`, else crisp.
fn select(flag: Option<super::choice::Select>, paper: bool) -> Selection {
    match (flag, paper) {
        (Some(s), _) => s.into(),
        (None, true) => Selection::Loss,
        (None, false) => Selection::Crisp,
    }
}

/// `base` with the local-minima settings that were given; `--paper` turns restarts off unless
/// `--restart-window` is given too.
fn minima(a: &MinimaArgs, base: LearnConfig) -> LearnConfig {
    let base = LearnConfig {
        restart_window: if a.paper { 0 } else { base.restart_window },
        ..base
    };
    LearnConfig {
        logit_noise: a.logit_noise.unwrap_or(base.logit_noise),
        noise_kind: a.logit_noise_kind.map_or(base.noise_kind, Into::into),
        temperature: a.temperature.unwrap_or(base.temperature),
        restart_window: a.restart_window.unwrap_or(base.restart_window),
        restart_margin: a.restart_margin.unwrap_or(base.restart_margin),
        ..base
    }
}

/// `dilp bench noise` (when it trains; `--from` only merges earlier runs).
pub fn bench_noise(a: &NoiseArgs, budget: MemoryBudget) -> LearnConfig {
    LearnConfig {
        seeds: a.seeds,
        seed: a.seed,
        steps: a.steps.unwrap_or(6000),
        ..learn_defaults(a.init_std, budget)
    }
}

/// `dilp bench noise --rho`, else the paper's 13 proportions.
pub fn noise_rhos(a: &NoiseArgs) -> Vec<f64> {
    a.rho
        .clone()
        .unwrap_or_else(|| dilp::experiment::paper::NOISE_RHO.to_vec())
}

/// `dilp bench memory`: one seed, every step.
pub fn bench_memory(a: &MemoryArgs, budget: MemoryBudget) -> LearnConfig {
    LearnConfig {
        memory_limit_mib: limit_mib(budget),
        steps: a.steps,
        seeds: 1,
        early_stop: dilp::dilp::learn::EarlyStop::Off,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("dilp").chain(args.iter().copied()))
            .unwrap()
            .command
    }

    fn learn_config(args: &[&str]) -> LearnConfig {
        let mut all = vec!["learn", "t.toml"];
        all.extend_from_slice(args);
        match parse(&all) {
            Command::Learn(a) => learn(a, MemoryBudget::default()).config,
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn an_explicit_flag_overrides_the_task_file() {
        let c = learn_config(&[]);
        assert!(c.task_lr && c.task_init_std && c.task_batch_size);
        let c = learn_config(&["--lr", "0.1", "--batch-size", "0"]);
        assert_eq!((c.lr, c.batch_size), (0.1, 0));
        assert!(!c.task_lr && !c.task_batch_size && c.task_init_std);
        let c = learn_config(&["--init-std", "0.25", "--loss", "mae", "--select", "loss"]);
        assert!(!c.task_init_std && c.init_std == 0.25);
        assert_eq!(c.loss, dilp::dilp::Loss::Mae);
        assert_eq!(c.select, Selection::Loss);
    }

    #[test]
    fn paper_ignores_the_task_files_and_selects_by_loss() {
        let tasks = |args: &[&str]| {
            let mut all = vec!["bench", "tasks"];
            all.extend_from_slice(args);
            match parse(&all) {
                Command::Bench {
                    which: crate::cli::BenchCommand::Tasks(a),
                } => bench_tasks(&a, MemoryBudget::default()),
                c => panic!("{c:?}"),
            }
        };
        let c = tasks(&["--paper"]);
        assert_eq!(c.select, Selection::Loss);
        assert!(!c.task_lr && !c.task_init_std && !c.task_batch_size);
        let c = tasks(&["--paper", "--select", "crisp"]);
        assert_eq!(c.select, Selection::Crisp);
        let c = tasks(&["--init-std", "0.5"]);
        assert!(c.task_lr && !c.task_init_std && c.init_std == 0.5);
        assert_eq!(c.select, Selection::Crisp);
    }

    #[test]
    fn restarts_are_the_default_and_the_other_candidates_are_off_unless_given() {
        let c = learn_config(&[]);
        assert!(c.logit_noise == 0.0 && c.temperature == 1.0);
        assert!(c.restart_window > 0 && c.restart_window == LearnConfig::default().restart_window);
        let c = learn_config(&["--paper"]);
        assert_eq!((c.restart_window, c.select), (0, Selection::Loss));
        assert!(!c.task_lr && !c.task_init_std && !c.task_batch_size);
        let c = learn_config(&[
            "--logit-noise",
            "0.5",
            "--logit-noise-kind",
            "gumbel",
            "--temperature",
            "2",
            "--restart-window",
            "300",
            "--restart-margin",
            "0.1",
        ]);
        assert_eq!((c.logit_noise, c.temperature), (0.5, 2.0));
        assert_eq!(c.noise_kind, dilp::dilp::NoiseKind::Gumbel);
        assert_eq!((c.restart_window, c.restart_margin), (300, 0.1));
        match parse(&["bench", "tasks", "--paper", "--restart-window", "500"]) {
            Command::Bench {
                which: crate::cli::BenchCommand::Tasks(a),
            } => assert_eq!(bench_tasks(&a, MemoryBudget::default()).restart_window, 500),
            c => panic!("{c:?}"),
        }
        assert!(Cli::try_parse_from(["dilp", "learn", "t.toml", "--temperature", "0"]).is_err());
    }

    #[test]
    fn comma_lists_are_split_and_trimmed() {
        match parse(&["bench", "noise", "--rho", "0.1, 0.25", "--only", "a,b"]) {
            Command::Bench {
                which: crate::cli::BenchCommand::Noise(a),
            } => {
                assert_eq!(noise_rhos(&a), [0.1, 0.25]);
                assert_eq!(a.tasks.only().as_deref(), Some("a,b"));
            }
            c => panic!("{c:?}"),
        }
        match parse(&["bench", "speed"]) {
            Command::Bench {
                which: crate::cli::BenchCommand::Speed(a),
            } => assert_eq!(a.seeds, [1, 32, 200]),
            c => panic!("{c:?}"),
        }
        assert!(Cli::try_parse_from(["dilp", "bench", "noise", "--rho", "0.1,2"]).is_err());
    }
}
