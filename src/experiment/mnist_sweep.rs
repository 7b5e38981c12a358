//! `dilp mnist sweep`, the README's main job: runs at several held-out proportions, a printed
//! table (model × split × accuracy), the learned program, the time of each phase, and the
//! Figure 7 plots (mean held-out accuracy, and runs reaching 96%, against the proportion).
//! With `--shard I/N` a sweep runs only its share of the runs ([`super::mnist_shard`]), and
//! `dilp mnist merge` writes the outputs from the shards' records through the same
//! [`write_outputs`].

use super::mnist::{prepare, run_one, Context, MnistRunConfig, MnistRunReport};
use super::mnist_shard::{shard_settings, units, Plan, Shard};
use super::parts::{fingerprint_bytes, Parts};
use crate::error::Result;
use crate::neuro::NeuroTask;
use crate::report::csv_rows::write_csv;
use std::path::PathBuf;
use std::time::Instant;

pub use super::mnist_outputs::{
    plot_sweep, read_rows, write_outputs, SweepRow, FIGURE7_SIZE, GOOD,
};

#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub held_out: Vec<f64>,
    pub runs: usize,
    pub base: MnistRunConfig,
    pub device: tch::Device,
    pub out: PathBuf,
    pub data_dir: PathBuf,
    pub model_dir: PathBuf,
    /// Keep the runs an interrupted sweep with the same settings finished (saved in
    /// `<out>/parts`) and train only the rest (default `false`: start afresh).
    pub resume: bool,
    /// Run only this share of the runs, saved as records for `dilp mnist merge`, and write no
    /// table or plot (`--shard I/N`; default `None`: the whole sweep).
    pub shard: Option<Shard>,
}

/// Runs the sweep of the less-than task; returns the printed summary.
pub fn sweep(opts: &SweepOptions) -> Result<String> {
    sweep_task(opts, crate::neuro::taskfile::less_than()?)
}

/// Runs the sweep of `task`; returns the printed summary.
pub fn sweep_task(opts: &SweepOptions, task: NeuroTask) -> Result<String> {
    let t0 = Instant::now();
    let mut ctx: Context = prepare(&opts.data_dir, &opts.model_dir, opts.device, false)?;
    ctx.set_task(task);
    sweep_with(&mut ctx, opts, t0)
}

/// The sweep on a prepared context (its data, conv-net and task), `t0` when preparation began.
pub fn sweep_with(ctx: &mut Context, opts: &SweepOptions, t0: Instant) -> Result<String> {
    let t_prep = t0.elapsed().as_secs_f64();
    let mut summary = format!(
        "phase: data + conv-net {:.1} s (conv-net MNIST test accuracy {})\n",
        t_prep,
        ctx.net_accuracy
            .map_or("unknown".into(), |a| format!("{:.2}%", 100.0 * a))
    );
    eprint!("{summary}");
    // Each finished run is saved as a unit, so a killed sweep resumes where it stopped.
    let mut settings = serde_json::json!({
        "experiment": "mnist sweep",
        "base": opts.base,
        "device": format!("{:?}", opts.device),
    });
    let print = fingerprint_bytes(ctx.task.symbolic_text.as_bytes());
    let all = units(&opts.held_out, opts.runs);
    if let Some(shard) = opts.shard {
        let plan = Plan {
            held_out: opts.held_out.clone(),
            runs: opts.runs,
            shards: shard.count,
            task_file: print.clone(),
        };
        settings = shard_settings(&settings, &plan, shard);
    }
    let parts = Parts::open(&opts.out, &settings, opts.resume)?;
    let mut reports = Vec::new();
    for (k, unit) in all.iter().enumerate() {
        if opts.shard.is_some_and(|s| !s.owns(k)) {
            continue;
        }
        let (h, run) = (unit.held_out, unit.run);
        let cfg = run_config(&opts.base, h, run);
        let key = unit.key();
        let (r, resumed) = match parts.get::<MnistRunReport>(&key, &print)? {
            Some(r) => (r, " (resumed)"),
            None => {
                let r = run_one(ctx, &cfg, &opts.out.join(&key))?;
                parts.put(&key, &print, &r)?;
                (r, "")
            }
        };
        let line = format!(
            "phase: h={h} run {run}{resumed}: ∂ILP {:.1} s, {} attempt(s) (seen {:.3}, held-out {:.3}), MLP {:.1} s (seen {:.3}, held-out {:.3})\n",
            r.dilp_seconds, r.dilp_attempts, r.dilp_seen_acc, r.dilp_heldout_acc, r.mlp_seconds, r.mlp_seen_acc, r.mlp_heldout_acc
        );
        eprint!("{line}");
        summary.push_str(&line);
        reports.push(r);
        if opts.shard.is_none() {
            // Rewritten after every run, atomically, so an interrupted sweep keeps what it finished.
            let rows: Vec<SweepRow> = reports.iter().map(SweepRow::from).collect();
            write_csv(&opts.out.join("sweep.csv"), &rows)?;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let out = opts.out.display();
    match opts.shard {
        // Part of a sweep: a table of it would pass for the whole sweep's, so none is written.
        Some(shard) => summary.push_str(&format!(
            "\nshard {shard}: {} of the sweep's {} runs, saved in {out}/parts; no table or plots \
             until the shards are merged (dilp mnist merge --out DIR SHARD_FOLDER...)\n\
             \ntotal {secs:.1} s; the runs' records and folders in {out}\n",
            reports.len(),
            all.len(),
        )),
        None => {
            summary.push_str(&write_outputs(&reports, &opts.out)?);
            summary.push_str(&format!(
                "\ntotal {secs:.1} s; results, curves and plots in {out}\n"
            ));
        }
    }
    Ok(summary)
}

/// Run `run` at held-out proportion `h`: the base settings with one seed for the split, the
/// initialisation and the batches, as `dilp mnist train --seed` gives, so that a sweep's run
/// is the same run as `train` with that seed.
pub fn run_config(base: &MnistRunConfig, h: f64, run: usize) -> MnistRunConfig {
    let seed = base.seed.wrapping_add(run as u64);
    let mut cfg = MnistRunConfig {
        held_out: h,
        seed,
        ..base.clone()
    };
    cfg.dilp.seed = seed;
    cfg.mlp.seed = seed;
    cfg
}
