//! `dilp bench tasks`: the paper's Table 3. Every benchmark task trained with many seeds at
//! once; per-seed success rate by both criteria (the paper's, the soft model's validation MSE
//! below 1e-4, and the crisp one, the engine-checked pruned program exact on validation)
//! beside the paper's rate, whether the reported seed (chosen by the
//! learner's selection rule: crisp by default, lowest training loss on request) solved it with
//! a program the engine confirms, wall time and peak memory.
//!
//! Each task's row is saved in `parts/` as soon as it is trained ([`super::parts`]); with
//! `resume` a rerun loads the rows saved by an interrupted run with the same settings.

use super::paper;
use super::parts::{f64_or_nan, fingerprint, learn_settings, Output, Parts};
use crate::dilp::{learn, LearnConfig};
use crate::error::{Error, Result};
use crate::ilp::load_task;
use crate::report::csv_rows::{write_csv, Fixed};
use crate::report::files::write_json;
use crate::report::plot::bars;
use crate::report::progress::LearnBar;
use std::path::{Path, PathBuf};

/// The task files of `dir` (sorted by the paper's order where known), filtered by `only`.
pub fn task_files(dir: &Path, only: Option<&str>) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    let rank = |p: &PathBuf| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        paper::TABLE3
            .iter()
            .position(|(t, _)| *t == stem)
            .unwrap_or(usize::MAX)
    };
    files.sort_by_key(|p| (rank(p), p.clone()));
    if let Some(only) = only {
        let want: Vec<&str> = only.split(',').map(str::trim).collect();
        for w in &want {
            if !files
                .iter()
                .any(|p| p.file_stem().and_then(|s| s.to_str()) == Some(w))
            {
                return Err(Error::Config(format!(
                    "--only: no task file `{w}.toml` in {}",
                    dir.display()
                )));
            }
        }
        files.retain(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| want.contains(&s))
        });
    }
    Ok(files)
}

/// One task's row. Its timings are those of the run that trained it, kept in its record so
/// that a resumed table reports them too.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaskRow {
    pub task: String,
    pub seeds: usize,
    /// Per-seed success by the paper's criterion: the soft model's validation MSE below
    /// `success_mse`.
    #[serde(deserialize_with = "f64_or_nan")]
    pub success_pct: f64,
    /// Per-seed success by the crisp criterion: the seed's engine-checked, pruned program
    /// makes no error on training or validation. A seed can pass this and not the paper's
    /// when the soft model leaks mass on a larger validation world.
    #[serde(default)]
    pub crisp_success_pct: f64,
    pub paper_pct: Option<f64>,
    pub best_solved: bool,
    /// The reported program alone is exact: the engine runs it without error on every
    /// training and validation world (the crisp criterion for the reported seed, which can
    /// hold where `best_solved` does not, when its soft model leaks mass on validation).
    #[serde(default)]
    pub best_program_exact: bool,
    /// Other programs that make as few training errors as the reported one.
    pub ties: usize,
    /// Whether one of those ties solves the task: the training data could not tell the
    /// reported program from a solution (reported, never used to choose).
    pub a_tie_solves: bool,
    pub program: String,
    #[serde(deserialize_with = "f64_or_nan")]
    pub seconds: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ms_per_step: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub seed_steps_saved_pct: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub peak_rss_mib: f64,
}

/// One row of `table3.csv`: the figures of a [`TaskRow`] without its program, rounded as the
/// table prints them.
#[derive(serde::Serialize)]
struct Table3Csv<'a> {
    task: &'a str,
    seeds: usize,
    success_pct: Fixed<1>,
    crisp_success_pct: Fixed<1>,
    paper_pct: Option<Fixed<1>>,
    best_seed_solved: bool,
    best_program_exact: bool,
    ties: usize,
    a_tie_solves: bool,
    seconds: Fixed<1>,
    ms_per_step: Fixed<2>,
    seed_steps_saved_pct: Fixed<1>,
    peak_rss_mib: Fixed<0>,
}

impl<'a> From<&'a TaskRow> for Table3Csv<'a> {
    fn from(r: &'a TaskRow) -> Self {
        Table3Csv {
            task: &r.task,
            seeds: r.seeds,
            success_pct: Fixed(r.success_pct),
            crisp_success_pct: Fixed(r.crisp_success_pct),
            paper_pct: r.paper_pct.map(Fixed),
            best_seed_solved: r.best_solved,
            best_program_exact: r.best_program_exact,
            ties: r.ties,
            a_tie_solves: r.a_tie_solves,
            seconds: Fixed(r.seconds),
            ms_per_step: Fixed(r.ms_per_step),
            seed_steps_saved_pct: Fixed(r.seed_steps_saved_pct),
            peak_rss_mib: Fixed(r.peak_rss_mib),
        }
    }
}

/// Runs Table 3; returns the rows and the printed table. With `output.resume`, tasks whose record an
/// earlier run with the same settings saved in `parts/` are loaded, not trained.
pub fn run(
    dir: &Path,
    only: Option<&str>,
    base: &LearnConfig,
    device: crate::dilp::Device,
    output: Output,
) -> Result<(Vec<TaskRow>, String)> {
    let files = task_files(dir, only)?;
    let settings = serde_json::json!({
        "experiment": "bench tasks",
        "learn": learn_settings(base),
        "device": format!("{device:?}"),
    });
    let (out, parts) = (
        output.dir,
        Parts::open(output.dir, &settings, output.resume)?,
    );
    write_json(&out.join("config.json"), base)?;
    let mut rows = Vec::new();
    for f in files {
        let key = f
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let print = fingerprint(&f)?;
        let (row, saved) = match parts.get::<TaskRow>(&key, &print)? {
            Some(row) => (row, true),
            None => match train(&f, base, device)? {
                Ok(row) => {
                    parts.put(&key, &print, &row)?;
                    (row, false)
                }
                // A refusal is not saved: a rerun with a larger --max-memory tries again.
                Err(refusal) => {
                    eprintln!("{key:<16} refused: {refusal}");
                    continue;
                }
            },
        };
        eprintln!(
            "{:<16} {:>6.1}% crisp {:>5.1}% (paper {:>5})  best seed solved: {:<11} {:>7.1} s{}",
            row.task,
            row.success_pct,
            row.crisp_success_pct,
            row.paper_pct.map_or("-".into(), |p| format!("{p:.1}")),
            solved_text(&row),
            row.seconds,
            if saved { " (resumed)" } else { "" }
        );
        rows.push(row);
        if !saved {
            save(&rows, out)?;
        }
    }
    save(&rows, out)?;
    Ok((rows.clone(), render(&rows)))
}

/// Trains one task file into its row, or (inner `Err`) the refusal of a task too large for
/// the memory budget, which is reported and skipped rather than failing the whole table.
fn train(
    f: &Path,
    base: &LearnConfig,
    device: crate::dilp::Device,
) -> Result<std::result::Result<TaskRow, Error>> {
    let task = load_task(f)?;
    let mut bar = LearnBar::new(&task.name, base.steps);
    let r = match learn(&task, base, device, &mut bar) {
        Ok(r) => r,
        Err(e @ (Error::Memory { .. } | Error::TooLarge { .. })) => {
            bar.finish();
            return Ok(Err(e));
        }
        Err(e) => return Err(e),
    };
    bar.finish();
    let total = (r.seed_steps + r.seed_steps_saved).max(1) as f64;
    Ok(Ok(TaskRow {
        task: task.name.clone(),
        seeds: r.seeds.len(),
        success_pct: 100.0 * r.seeds_solved as f64 / r.seeds.len().max(1) as f64,
        crisp_success_pct: 100.0 * r.seeds_solved_crisp as f64 / r.seeds.len().max(1) as f64,
        paper_pct: paper::table3(&task.name),
        best_solved: r.solved,
        best_program_exact: r.engine_check,
        ties: r.ties.len(),
        a_tie_solves: r.seeds.iter().filter_map(|s| s.crisp.as_ref()).any(|c| {
            r.ties.contains(&c.program)
                && c.train_errors == 0
                && c.validation_mse < base.success_mse
        }),
        program: r.program.trim().replace('\n', " "),
        seconds: r.seconds,
        ms_per_step: r.ms_per_step,
        seed_steps_saved_pct: 100.0 * r.seed_steps_saved as f64 / total,
        peak_rss_mib: r.peak_rss_mib,
    }))
}

fn save(rows: &[TaskRow], out: &Path) -> Result<()> {
    let csv: Vec<Table3Csv> = rows.iter().map(Table3Csv::from).collect();
    write_csv(&out.join("table3.csv"), &csv)?;
    write_json(&out.join("table3.json"), &rows)?;
    let labels: Vec<&str> = rows.iter().map(|r| r.task.as_str()).collect();
    let ours: Vec<f64> = rows.iter().map(|r| r.success_pct).collect();
    let theirs: Vec<f64> = rows.iter().map(|r| r.paper_pct.unwrap_or(0.0)).collect();
    bars(
        &out.join("table3.png"),
        "per-seed success (% of seeds with validation MSE < 1e-4)",
        &labels,
        &[("dilp", &ours), ("paper (Table 3)", &theirs)],
    )
}

/// `true`, `false`, or `false (tie)` when a program the training data cannot tell from the
/// reported one solves the task.
fn solved_text(r: &TaskRow) -> &'static str {
    match (r.best_solved, r.best_program_exact, r.a_tie_solves) {
        (true, _, _) => "true",
        (false, true, _) => "program",
        (false, false, true) => "false (tie)",
        (false, false, false) => "false",
    }
}

pub fn render(rows: &[TaskRow]) -> String {
    let mut s = format!(
        "{:<16} {:>6} {:>9} {:>7} {:>8} {:>11} {:>9} {:>9} {:>10}\n",
        "task",
        "seeds",
        "success%",
        "crisp%",
        "paper%",
        "best solved",
        "time s",
        "ms/step",
        "peak MiB"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:>6} {:>9.1} {:>7.1} {:>8} {:>11} {:>9.1} {:>9.2} {:>10.0}\n",
            r.task,
            r.seeds,
            r.success_pct,
            r.crisp_success_pct,
            r.paper_pct.map_or("-".into(), |p| format!("{p:.1}")),
            solved_text(r),
            r.seconds,
            r.ms_per_step,
            r.peak_rss_mib
        ));
    }
    let n = rows.len().max(1) as f64;
    let ours = rows.iter().map(|r| r.success_pct).sum::<f64>() / n;
    let crisp = rows.iter().map(|r| r.crisp_success_pct).sum::<f64>() / n;
    let theirs: Vec<f64> = rows.iter().filter_map(|r| r.paper_pct).collect();
    s.push_str(&format!(
        "mean per-seed success: dilp {ours:.1}% (crisp {crisp:.1}%), paper {:.1}% (same tasks); best seed solved {}/{}",
        theirs.iter().sum::<f64>() / theirs.len().max(1) as f64,
        rows.iter().filter(|r| r.best_solved).count(),
        rows.len()
    ));
    let exact = rows
        .iter()
        .filter(|r| !r.best_solved && r.best_program_exact)
        .count();
    if exact > 0 {
        s.push_str(&format!(
            " ({exact} more whose program is exact while the soft model misses 1e-4: \"program\")"
        ));
    }
    let tied = rows
        .iter()
        .filter(|r| !r.best_solved && !r.best_program_exact && r.a_tie_solves)
        .count();
    if tied > 0 {
        s.push_str(&format!(
            " ({tied} more tied on the training data with a program that solves it)"
        ));
    }
    s.push('\n');
    s
}
