//! `dilp learn`: one task, a batch of seeds, a progress bar, the program read out, checked by
//! the engine, and a report written next to the resolved config.

use crate::dilp::{learn, LearnConfig, LearnReport};
use crate::error::Result;
use crate::neuro::taskfile::load_any_task as load_task;
use crate::report::files::write_json;
use crate::report::progress::LearnBar;
use std::path::PathBuf;

/// Everything `dilp learn` needs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct LearnOptions {
    pub task: PathBuf,
    pub config: LearnConfig,
    pub device: crate::dilp::Device,
    pub noise: Option<f64>,
    pub json: bool,
    pub out: Option<PathBuf>,
}

/// Human-readable summary of a learning run.
pub fn render(report: &LearnReport) -> String {
    let mut s = String::new();
    s.push_str(&format!("task {}: ", report.task));
    s.push_str(if report.solved {
        "SOLVED"
    } else {
        "not solved"
    });
    s.push_str(&format!(
        " (best seed {}, {}/{} seeds meet validation MSE < {:e})\n",
        report.best_seed,
        report.seeds_solved,
        report.seeds.len(),
        report.config.success_mse
    ));
    s.push_str("program (clause probability):\n");
    let prob = |c: &str| {
        report
            .program_probs
            .iter()
            .find(|(t, _)| t == c)
            .map(|p| p.1)
    };
    for c in report.program.lines() {
        match prob(c) {
            Some(p) => s.push_str(&format!("  {c:<50} % {p:.3}\n")),
            None => s.push_str(&format!("  {c}\n")),
        }
    }
    let left: Vec<_> = report
        .program_probs
        .iter()
        .filter(|(c, _)| !report.program.lines().any(|l| l == c))
        .collect();
    if !left.is_empty() {
        s.push_str("above the threshold, not in the reported program (see --select):\n");
        for (c, p) in left {
            s.push_str(&format!("  {c:<50} % {p:.3}\n"));
        }
    }
    if !report.ties.is_empty() {
        s.push_str(&format!(
            "note: {} other program(s) fit the training data as well; the training data cannot choose:\n",
            report.ties.len()
        ));
        const SHOWN: usize = 5;
        for t in report.ties.iter().take(SHOWN) {
            s.push_str(&format!("  {}\n", t.trim_end().replace('\n', "  ")));
        }
        if report.ties.len() > SHOWN {
            s.push_str(&format!(
                "  … and {} more (all in report.json)\n",
                report.ties.len() - SHOWN
            ));
        }
    }
    s.push_str(&format!(
        "engine check on every world: {}\n",
        if report.engine_check {
            "passed"
        } else {
            "FAILED"
        }
    ));
    s.push_str(&format!(
        "train loss {:.5}  validation MSE {:.2e}  time {:.2} s  {:.2} ms/step  threads {}  device {}  backend {}\n",
        report.train_loss, report.validation_mse, report.seconds, report.ms_per_step, report.threads, report.device,
        report.backend
    ));
    s.push_str(&format!(
        "early stopping ({:?}, tolerance {:e}) saved {} of {} seed-steps; memory: estimate {:.1} MiB, paper's formula {:.1} MiB, peak RSS {:.0} MiB\n",
        report.config.early_stop,
        report.config.tolerance,
        report.seed_steps_saved,
        report.seed_steps + report.seed_steps_saved,
        report.estimated_memory_mib,
        report.paper_memory_mib,
        report.peak_rss_mib
    ));
    s
}

pub fn run(opts: &LearnOptions) -> Result<()> {
    let mut task = load_task(&opts.task)?;
    if let Some(rho) = opts.noise {
        task = task.with_flipped_labels(rho, opts.config.seed);
    }
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("experiments/results/learn-{}", task.name)));
    write_json(&out.join("config.json"), &opts.config)?;
    let mut bar = if opts.json {
        LearnBar::hidden()
    } else {
        LearnBar::new(&task.name, opts.config.steps)
    };
    let report = learn(&task, &opts.config, opts.device, &mut bar)?;
    bar.finish();
    write_json(&out.join("report.json"), &report)?;
    if opts.json {
        let v = serde_json::json!({
            "task": report.task,
            "solved": report.solved,
            "seeds": report.seeds.len(),
            "seeds_solved": report.seeds_solved,
            "program": report.program,
            "train_loss": report.train_loss,
            "validation_mse": report.validation_mse,
            "program_validation_mse": report.program_validation_mse,
            "top_pair": report.top_pair,
            "top_pair_validation_mse": report.top_pair_validation_mse,
            "crisp_validation_mse": report.crisp_validation_mse,
            "ties": report.ties,
            "backend": report.backend,
            "seconds": report.seconds,
            "engine_check": report.engine_check,
            "best_seed": report.best_seed,
            "ms_per_step": report.ms_per_step,
            "threads": report.threads,
        });
        println!("{v}");
    } else {
        print!("{}", render(&report));
        println!("wrote {}", out.display());
    }
    Ok(())
}
