//! `dilp bench noise`: the paper's Table 4. A proportion ρ of each training world's positive and
//! negative examples is flipped once (seeded), and the mean squared validation error of ∂ILP,
//! of the exact SAT solver and of its noise-tolerant mode is reported beside the paper's.
//! ∂ILP is trained twice on the same seeds: with the paper's BCE (reported under the paper's
//! protocol, the soft model of the lowest-loss seed, and as the crisp program `dilp learn`
//! selects) and with the noise-tolerant MAE loss.
//!
//! A symbolic solver that finds no program answers nothing; it is scored as the empty program
//! (every target atom false), which is what a user of it would be left with.
//!
//! With `draws > 1` the flips are drawn again (flip seed `seed + d` for draw `d`, so draw 0 is
//! the single draw) and every figure is the mean over the draws, each draw's own figures kept
//! in the JSON. On a task with 16 training labels, which ones are flipped decides more than
//! the learner does; one draw is a sample of one.
//!
//! Each draw's figures are saved in `parts/` as soon as they are computed ([`super::parts`]);
//! with `resume` a rerun loads the draws saved by an interrupted run with the same settings.

use super::noise_table::save;
pub use super::noise_table::{render, NoiseRow, Scores};
use super::paper;
use super::parts::{fingerprint, learn_settings, Output, Parts};
use super::tasks::task_files;
use crate::dilp::{learn, LearnConfig, Loss, Selection};
use crate::error::{Error, Result};
use crate::ilp::{check_program, load_task, Task};
use crate::report::files::write_json;
use crate::report::progress::LearnBar;
use crate::sat::{synthesise, SynthConfig};
use std::path::{Path, PathBuf};

pub const TASKS: [&str; 6] = [
    "predecessor",
    "less_than",
    "member",
    "son",
    "connectedness",
    "undirected_edge",
];

fn empty_program_mse(task: &Task) -> f64 {
    check_program(task, &[]).validation_mse
}

fn flipped(clean: &Task, noisy: &Task) -> usize {
    clean
        .train
        .iter()
        .zip(&noisy.train)
        .map(|(a, b)| {
            a.positive
                .iter()
                .filter(|x| !b.positive.contains(x))
                .count()
                + a.negative
                    .iter()
                    .filter(|x| !b.negative.contains(x))
                    .count()
        })
        .sum()
}

/// One flip draw's saved record: the labels it flipped and every method's figures.
#[derive(serde::Serialize, serde::Deserialize)]
struct Draw {
    flipped: usize,
    scores: Scores,
}

/// Runs Table 4; returns the rows and the printed table. With `output.resume`, draws whose record an
/// earlier run with the same settings saved in `parts/` are loaded, not trained.
pub fn run(
    dir: &Path,
    only: Option<&str>,
    rhos: &[f64],
    draws: usize,
    base: &LearnConfig,
    device: crate::dilp::Device,
    output: Output,
) -> Result<(Vec<NoiseRow>, String)> {
    if draws == 0 {
        return Err(Error::Config("bench noise: at least one draw".into()));
    }
    let only = only.map(String::from).unwrap_or_else(|| TASKS.join(","));
    let files = task_files(dir, Some(&only))?;
    let settings = serde_json::json!({
        "experiment": "bench noise",
        "learn": learn_settings(base),
        "draws": draws,
        "device": format!("{device:?}"),
    });
    let (out, parts) = (
        output.dir,
        Parts::open(output.dir, &settings, output.resume)?,
    );
    write_json(
        &out.join("config.json"),
        &serde_json::json!({ "learn": base, "draws": draws, "rho": rhos }),
    )?;
    let mut rows = Vec::new();
    for f in files {
        let clean = load_task(&f)?;
        let print = fingerprint(&f)?;
        let stem = f
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        for &rho in rhos {
            let mut per_draw = Vec::with_capacity(draws);
            let (mut k, mut fresh) = (0, false);
            for d in 0..draws {
                let label = if draws > 1 {
                    format!("{} ρ={rho} draw {d}", clean.name)
                } else {
                    format!("{} ρ={rho}", clean.name)
                };
                let key = format!("{stem}-rho{rho}-draw{d}");
                let draw = match parts.get::<Draw>(&key, &print)? {
                    Some(draw) => draw,
                    None => {
                        let task = clean.with_flipped_labels(rho, base.seed.wrapping_add(d as u64));
                        let flipped = flipped(&clean, &task);
                        let scores = one_draw(&task, flipped, &label, base, device)?;
                        let draw = Draw { flipped, scores };
                        parts.put(&key, &print, &draw)?;
                        fresh = true;
                        draw
                    }
                };
                if draws > 1 {
                    eprintln!("{label:<32}: {}", line(&draw.scores));
                }
                k = draw.flipped;
                per_draw.push(draw.scores);
            }
            let row = NoiseRow {
                task: clean.name.clone(),
                rho,
                flipped: k,
                draws,
                mean: Scores::mean(&per_draw),
                paper_mse: paper::table4(&clean.name, rho),
                per_draw,
            };
            eprintln!(
                "{:<16} ρ={:<5} flipped {:>3}{}: {}  paper {}{}",
                row.task,
                rho,
                k,
                if draws > 1 {
                    format!(", mean of {draws}")
                } else {
                    String::new()
                },
                line(&row.mean),
                row.paper_mse.map_or("-".into(), |p| format!("{p:.3}")),
                if fresh { "" } else { " (resumed)" }
            );
            rows.push(row);
            if fresh {
                save(&rows, out)?;
            }
        }
    }
    save(&rows, out)?;
    Ok((rows.clone(), render(&rows)))
}

fn line(s: &Scores) -> String {
    format!(
        "∂ILP {:.3} (program {:.3}; crisp-selected {:.3}; mae {:.3}, its program {:.3})  SAT exact {:.3}{}  SAT noisy {:.3}",
        s.dilp_mse,
        s.dilp_program_mse,
        s.dilp_selected_mse,
        s.dilp_mae_soft_mse,
        s.dilp_mae_mse,
        s.sat_exact_mse,
        if s.sat_exact_found { "" } else { " (no program)" },
        s.sat_tolerant_mse,
    )
}

/// Every method on one flipped copy of a task (`k` labels flipped).
fn one_draw(
    task: &Task,
    k: usize,
    label: &str,
    base: &LearnConfig,
    device: crate::dilp::Device,
) -> Result<Scores> {
    let mut bar = LearnBar::new(label, base.steps);
    let cfg = LearnConfig {
        select: Selection::Crisp,
        loss: Loss::Bce,
        ..base.clone()
    };
    let r = learn(task, &cfg, device, &mut bar)?;
    bar.finish();
    let mut bar = LearnBar::new(&format!("{label} mae"), base.steps);
    let cfg = LearnConfig {
        loss: Loss::Mae,
        ..cfg
    };
    let m = learn(task, &cfg, device, &mut bar)?;
    bar.finish();
    let by_loss = r
        .seeds
        .iter()
        .min_by(|a, b| a.train_loss.total_cmp(&b.train_loss))
        .expect("at least one seed");
    let selected = r
        .seeds
        .iter()
        .find(|s| s.seed == r.best_seed)
        .expect("the best seed is a seed");
    let mae_selected = m
        .seeds
        .iter()
        .find(|s| s.seed == m.best_seed)
        .expect("the best seed is a seed");
    let crisp_mse = |s: &crate::dilp::learn::SeedResult| {
        s.crisp.as_ref().map_or(f64::NAN, |c| c.validation_mse)
    };
    let exact = synthesise(task, &SynthConfig::default())?;
    // The fewest-errors program never needs more errors than the labels that were flipped.
    let tolerant = synthesise(
        task,
        &SynthConfig {
            max_errors: Some(k),
            ..Default::default()
        },
    )?;
    let none = empty_program_mse(task);
    Ok(Scores {
        dilp_mse: by_loss.validation_mse,
        dilp_program_mse: crisp_mse(by_loss),
        dilp_selected_mse: crisp_mse(selected),
        dilp_mae_soft_mse: mae_selected.validation_mse,
        dilp_mae_mse: crisp_mse(mae_selected),
        sat_exact_mse: exact.validation_mse.unwrap_or(none),
        sat_exact_found: exact.satisfiable,
        sat_tolerant_mse: tolerant.validation_mse.unwrap_or(none),
    })
}

/// Merges the rows of earlier runs' `table4.json` files (a later file wins on the same task
/// and ρ), in task and ρ order, and writes the table, CSV and plots to `out` without training:
/// for a table run in pieces.
pub fn merge(files: &[PathBuf], out: &Path) -> Result<(Vec<NoiseRow>, String)> {
    let mut rows: Vec<NoiseRow> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        let these: Vec<NoiseRow> = serde_json::from_str(&text).map_err(|e| Error::Data {
            path: f.clone(),
            msg: format!(
                "line {}, column {}: not a table4.json of `dilp bench noise`: {e}",
                e.line(),
                e.column()
            ),
        })?;
        for r in these {
            rows.retain(|o| !(o.task == r.task && o.rho == r.rho));
            rows.push(r);
        }
    }
    let rank = |t: &str| TASKS.iter().position(|x| *x == t).unwrap_or(TASKS.len());
    rows.sort_by(|a, b| {
        (rank(&a.task), &a.task)
            .cmp(&(rank(&b.task), &b.task))
            .then(a.rho.total_cmp(&b.rho))
    });
    save(&rows, out)?;
    Ok((rows.clone(), render(&rows)))
}
