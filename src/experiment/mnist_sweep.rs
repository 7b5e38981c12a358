//! `dilp mnist sweep`, the README's main job: runs at several held-out proportions, a printed
//! table (model × split × accuracy), the learned program, the time of each phase, and the
//! Figure 7 plots (mean held-out accuracy, and runs reaching 96%, against the proportion).

use super::mnist::{prepare, run_one, Context, MnistRunConfig, MnistRunReport};
use crate::error::{Error, Result};
use crate::neuro::NeuroTask;
use crate::report::files::{write_csv, write_json};
use crate::report::plot::{lines, Series};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The paper's threshold for a run that reads both digits right (0.98²).
pub const GOOD: f64 = 0.96;

#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub held_out: Vec<f64>,
    pub runs: usize,
    pub base: MnistRunConfig,
    pub device: tch::Device,
    pub out: PathBuf,
    pub data_dir: PathBuf,
    pub model_dir: PathBuf,
}

const HEADER: [&str; 13] = [
    "held_out",
    "seed",
    "vision",
    "dilp_seen_acc",
    "dilp_heldout_acc",
    "mlp_seen_acc",
    "mlp_heldout_acc",
    "engine_pairs_correct",
    "digit_acc",
    "dilp_seconds",
    "mlp_seconds",
    "dilp_attempts",
    "program",
];

fn row(r: &MnistRunReport) -> Vec<String> {
    vec![
        r.held_out.to_string(),
        r.seed.to_string(),
        format!("{:?}", r.vision).to_lowercase(),
        format!("{:.4}", r.dilp_seen_acc),
        format!("{:.4}", r.dilp_heldout_acc),
        format!("{:.4}", r.mlp_seen_acc),
        format!("{:.4}", r.mlp_heldout_acc),
        r.engine_pairs_correct.to_string(),
        r.digit_acc.map_or(String::new(), |d| format!("{d:.4}")),
        format!("{:.1}", r.dilp_seconds),
        format!("{:.1}", r.mlp_seconds),
        r.dilp_attempts.to_string(),
        r.program.trim().replace('\n', " "),
    ]
}

/// Reads the sweep CSV back (for `dilp mnist plot`).
pub fn read_rows(path: &Path) -> Result<Vec<(f64, f64, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |k: usize| -> Result<f64> {
            f.get(k)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Error::Data {
                    path: path.to_path_buf(),
                    msg: format!(
                        "line {}: column {} is not a number",
                        i + 1,
                        HEADER.get(k).unwrap_or(&"?")
                    ),
                })
        };
        out.push((num(0)?, num(4)?, num(6)?));
    }
    Ok(out)
}

/// The task a sweep directory's runs learned, from its `sweep.json` (less-than when it has none:
/// sweeps written before tasks were files).
fn task_name(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("sweep.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<MnistRunReport>>(&t).ok())
        .and_then(|r| r.first().map(|r| r.task.clone()))
        .filter(|t| !t.is_empty())
        .map_or("less-than".into(), |t| {
            t.strip_prefix("mnist_").unwrap_or(&t).replace('_', "-")
        })
}

/// Figure 7: mean held-out accuracy and the number of runs ≥ 96%, against `h`.
pub fn plot_sweep(dir: &Path) -> Result<()> {
    let name = task_name(dir);
    let rows = read_rows(&dir.join("sweep.csv"))?;
    let mut hs: Vec<f64> = rows.iter().map(|r| r.0).collect();
    hs.sort_by(f64::total_cmp);
    hs.dedup();
    let stat = |pick: fn(&(f64, f64, f64)) -> f64, count: bool| -> Vec<(f64, f64)> {
        hs.iter()
            .filter_map(|&h| {
                let v: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.0 == h)
                    .map(pick)
                    .filter(|x| x.is_finite())
                    .collect();
                if v.is_empty() {
                    return None;
                }
                Some((
                    h,
                    if count {
                        v.iter().filter(|&&a| a >= GOOD).count() as f64
                    } else {
                        v.iter().sum::<f64>() / v.len() as f64
                    },
                ))
            })
            .collect()
    };
    let runs = hs
        .iter()
        .map(|&h| rows.iter().filter(|r| r.0 == h).count())
        .max()
        .unwrap_or(1) as f64;
    lines(
        &dir.join("heldout_accuracy.png"),
        &format!("{name}: accuracy on held-out digit tuples (mean over runs)"),
        "proportion of digit tuples held out",
        "accuracy",
        (0.0, 1.0),
        &[
            Series {
                name: "∂ILP",
                points: stat(|r| r.1, false),
            },
            Series {
                name: "MLP",
                points: stat(|r| r.2, false),
            },
        ],
        false,
    )?;
    lines(
        &dir.join("runs_reaching_96.png"),
        &format!("{name}: runs reaching 96% on held-out digit tuples"),
        "proportion of digit tuples held out",
        "runs",
        (0.0, runs + 0.5),
        &[
            Series {
                name: "∂ILP",
                points: stat(|r| r.1, true),
            },
            Series {
                name: "MLP",
                points: stat(|r| r.2, true),
            },
        ],
        false,
    )
}

fn table(reports: &[MnistRunReport]) -> String {
    let mut s = String::from(
        "\nmodel  split               held-out h   accuracy (mean over runs)   runs >= 96%\n",
    );
    let mut hs: Vec<f64> = reports.iter().map(|r| r.held_out).collect();
    hs.dedup();
    for h in hs {
        let rs: Vec<&MnistRunReport> = reports.iter().filter(|r| r.held_out == h).collect();
        type Column = (&'static str, &'static str, fn(&MnistRunReport) -> f64);
        let cols: [Column; 4] = [
            ("∂ILP", "seen digit pairs", |r| r.dilp_seen_acc),
            ("∂ILP", "held-out pairs", |r| r.dilp_heldout_acc),
            ("MLP", "seen digit pairs", |r| r.mlp_seen_acc),
            ("MLP", "held-out pairs", |r| r.mlp_heldout_acc),
        ];
        for (m, split, f) in cols {
            let v: Vec<f64> = rs.iter().map(|r| f(r)).filter(|x| x.is_finite()).collect();
            if v.is_empty() {
                s.push_str(&format!(
                    "{m:<6} {split:<19} {h:<12} {:<27} -\n",
                    "(no such pairs)"
                ));
                continue;
            }
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let good = v.iter().filter(|&&a| a >= GOOD).count();
            s.push_str(&format!(
                "{m:<6} {split:<19} {h:<12} {mean:<27.4} {good}/{}\n",
                v.len()
            ));
        }
    }
    s
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
    let t_prep = t0.elapsed().as_secs_f64();
    let mut summary = format!(
        "phase: data + conv-net {:.1} s (conv-net MNIST test accuracy {})\n",
        t_prep,
        ctx.net_accuracy
            .map_or("unknown".into(), |a| format!("{:.2}%", 100.0 * a))
    );
    eprint!("{summary}");
    let mut reports = Vec::new();
    for &h in &opts.held_out {
        for run in 0..opts.runs {
            let cfg = MnistRunConfig {
                held_out: h,
                seed: opts.base.seed + run as u64,
                ..opts.base.clone()
            };
            let dir = opts.out.join(format!("h{h}-run{run}"));
            let r = run_one(&mut ctx, &cfg, &dir)?;
            let line = format!(
                "phase: h={h} run {run}: ∂ILP {:.1} s, {} attempt(s) (seen {:.3}, held-out {:.3}), MLP {:.1} s (seen {:.3}, held-out {:.3})\n",
                r.dilp_seconds, r.dilp_attempts, r.dilp_seen_acc, r.dilp_heldout_acc, r.mlp_seconds, r.mlp_seen_acc, r.mlp_heldout_acc
            );
            eprint!("{line}");
            summary.push_str(&line);
            reports.push(r);
            // Rewritten after every run, atomically, so an interrupted sweep keeps what it finished.
            write_csv(
                &opts.out.join("sweep.csv"),
                &HEADER,
                &reports.iter().map(row).collect::<Vec<_>>(),
            )?;
        }
    }
    write_json(&opts.out.join("sweep.json"), &reports)?;
    plot_sweep(&opts.out)?;
    summary.push_str(&table(&reports));
    // The most telling program: from the largest held-out proportion, its best run there
    // (a run with nothing held out has no held-out accuracy to rank by).
    let rank = |r: &MnistRunReport| {
        let acc = if r.dilp_heldout_acc.is_nan() {
            r.dilp_seen_acc
        } else {
            r.dilp_heldout_acc
        };
        (r.held_out, acc)
    };
    if let Some(best) = reports.iter().max_by(|a, b| {
        let (ha, aa) = rank(a);
        let (hb, ab) = rank(b);
        ha.total_cmp(&hb).then(aa.total_cmp(&ab))
    }) {
        summary.push_str(&format!(
            "\nlearned program (h={}, run seed {}; correct on {}/{} digit tuples by the Datalog engine):\n{}",
            best.held_out, best.seed, best.engine_pairs_correct, best.tuples, best.program
        ));
    }
    summary.push_str(&format!(
        "\ntotal {:.1} s; results, curves and plots in {}\n",
        t0.elapsed().as_secs_f64(),
        opts.out.display()
    ));
    Ok(summary)
}
