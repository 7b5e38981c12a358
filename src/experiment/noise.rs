//! `dilp bench noise`: the paper's Table 4. A proportion ρ of each training world's positive and
//! negative examples is flipped once (seeded), and the mean squared validation error of ∂ILP,
//! of the exact SAT solver and of its noise-tolerant mode is reported beside the paper's.
//!
//! A symbolic solver that finds no program answers nothing; it is scored as the empty program
//! (every target atom false), which is what a user of it would be left with.

use super::paper;
use super::tasks::task_files;
use crate::dilp::{learn, LearnConfig};
use crate::error::Result;
use crate::ilp::{check_program, load_task, Task};
use crate::report::files::{write_csv, write_json};
use crate::report::plot::{lines, Series};
use crate::report::progress::LearnBar;
use crate::sat::{synthesise, SynthConfig};
use std::path::Path;

pub const TASKS: [&str; 6] = [
    "predecessor",
    "less_than",
    "member",
    "son",
    "connectedness",
    "undirected_edge",
];

#[derive(Debug, Clone, serde::Serialize)]
pub struct NoiseRow {
    pub task: String,
    pub rho: f64,
    pub flipped: usize,
    pub dilp_mse: f64,
    /// The read-out program's error, run by the engine (crisp predictions).
    pub dilp_program_mse: f64,
    /// The most probable clause pair of each predicate alone, run by the engine.
    pub dilp_top_pair_mse: f64,
    /// Whichever of the two read-outs makes fewer training errors.
    pub dilp_crisp_mse: f64,
    pub sat_exact_mse: f64,
    pub sat_exact_found: bool,
    pub sat_tolerant_mse: f64,
    pub sat_tolerant_errors: Option<usize>,
    pub paper_mse: Option<f64>,
}

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

pub fn run(
    dir: &Path,
    only: Option<&str>,
    rhos: &[f64],
    base: &LearnConfig,
    device: tch::Device,
    out: &Path,
) -> Result<(Vec<NoiseRow>, String)> {
    let only = only.map(String::from).unwrap_or_else(|| TASKS.join(","));
    let files = task_files(dir, Some(&only))?;
    write_json(&out.join("config.json"), base)?;
    let mut rows = Vec::new();
    for f in files {
        let clean = load_task(&f)?;
        for &rho in rhos {
            let task = clean.with_flipped_labels(rho, base.seed);
            let k = flipped(&clean, &task);
            let mut bar = LearnBar::new(&format!("{} ρ={rho}", clean.name), base.steps);
            let r = learn(&task, base, device, &mut bar)?;
            bar.finish();
            let exact = synthesise(&task, &SynthConfig::default())?;
            // The fewest-errors program never needs more errors than the labels that were flipped.
            let tolerant = synthesise(
                &task,
                &SynthConfig {
                    max_errors: Some(k),
                    ..Default::default()
                },
            )?;
            let none = empty_program_mse(&task);
            let row = NoiseRow {
                task: clean.name.clone(),
                rho,
                flipped: k,
                dilp_mse: r.validation_mse,
                dilp_program_mse: r.program_validation_mse,
                dilp_top_pair_mse: r.top_pair_validation_mse,
                dilp_crisp_mse: r.crisp_validation_mse,
                sat_exact_mse: exact.validation_mse.unwrap_or(none),
                sat_exact_found: exact.satisfiable,
                sat_tolerant_mse: tolerant.validation_mse.unwrap_or(none),
                sat_tolerant_errors: tolerant.train_errors,
                paper_mse: paper::table4(&clean.name, rho),
            };
            eprintln!(
                "{:<16} ρ={:<5} flipped {:>3}: ∂ILP {:.3} (program {:.3}, top pair {:.3})  SAT exact {:.3}{}  SAT noisy {:.3}  paper {}",
                row.task,
                rho,
                k,
                row.dilp_mse,
                row.dilp_program_mse,
                row.dilp_top_pair_mse,
                row.sat_exact_mse,
                if row.sat_exact_found { "" } else { " (no program)" },
                row.sat_tolerant_mse,
                row.paper_mse.map_or("-".into(), |p| format!("{p:.3}"))
            );
            rows.push(row);
            save(&rows, out)?;
        }
    }
    Ok((rows.clone(), render(&rows)))
}

fn save(rows: &[NoiseRow], out: &Path) -> Result<()> {
    let csv: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.task.clone(),
                r.rho.to_string(),
                r.flipped.to_string(),
                format!("{:.4}", r.dilp_mse),
                format!("{:.4}", r.dilp_program_mse),
                format!("{:.4}", r.dilp_top_pair_mse),
                format!("{:.4}", r.dilp_crisp_mse),
                format!("{:.4}", r.sat_exact_mse),
                r.sat_exact_found.to_string(),
                format!("{:.4}", r.sat_tolerant_mse),
                r.paper_mse.map_or(String::new(), |p| format!("{p:.3}")),
            ]
        })
        .collect();
    write_csv(
        &out.join("table4.csv"),
        &[
            "task",
            "rho",
            "flipped",
            "dilp_mse",
            "dilp_program_mse",
            "dilp_top_pair_mse",
            "dilp_crisp_mse",
            "sat_exact_mse",
            "sat_exact_found",
            "sat_tolerant_mse",
            "paper_mse",
        ],
        &csv,
    )?;
    write_json(&out.join("table4.json"), &rows)?;
    let mut tasks: Vec<&str> = rows.iter().map(|r| r.task.as_str()).collect();
    tasks.dedup();
    for t in tasks {
        let pick = |f: fn(&NoiseRow) -> Option<f64>| {
            rows.iter()
                .filter(|r| r.task == t)
                .filter_map(|r| f(r).map(|v| (r.rho, v)))
                .collect::<Vec<_>>()
        };
        lines(
            &out.join(format!("noise_{t}.png")),
            &format!("{t}: validation error against mislabelled proportion"),
            "ρ (proportion of training labels flipped)",
            "mean squared validation error",
            (0.0, 1.0),
            &[
                Series {
                    name: "∂ILP (dilp)",
                    points: pick(|r| Some(r.dilp_mse)),
                },
                Series {
                    name: "∂ILP read-out program",
                    points: pick(|r| Some(r.dilp_program_mse)),
                },
                Series {
                    name: "∂ILP top pair",
                    points: pick(|r| Some(r.dilp_top_pair_mse)),
                },
                Series {
                    name: "∂ILP crisp (fewer training errors)",
                    points: pick(|r| Some(r.dilp_crisp_mse)),
                },
                Series {
                    name: "SAT exact",
                    points: pick(|r| Some(r.sat_exact_mse)),
                },
                Series {
                    name: "SAT fewest errors",
                    points: pick(|r| Some(r.sat_tolerant_mse)),
                },
                Series {
                    name: "∂ILP (paper)",
                    points: pick(|r| r.paper_mse),
                },
            ],
            false,
        )?;
    }
    Ok(())
}

pub fn render(rows: &[NoiseRow]) -> String {
    let mut s = format!(
        "{:<16} {:>5} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}\n",
        "task",
        "ρ",
        "flipped",
        "∂ILP",
        "program",
        "top pair",
        "crisp",
        "SAT exact",
        "SAT noisy",
        "paper"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:>5} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>10.3} {:>8}\n",
            r.task,
            r.rho,
            r.flipped,
            r.dilp_mse,
            r.dilp_program_mse,
            r.dilp_top_pair_mse,
            r.dilp_crisp_mse,
            r.sat_exact_mse,
            r.sat_tolerant_mse,
            r.paper_mse.map_or("-".into(), |p| format!("{p:.3}"))
        ));
    }
    s
}
