//! `dilp bench speed`: milliseconds per training step of every task for several batch sizes of
//! seeds, steps per second per seed, peak memory, and the paper's Appendix E estimate.

use super::tasks::task_files;
use crate::dilp::{learn, LearnConfig};
use crate::error::Result;
use crate::ilp::load_task;
use crate::report::csv_rows::{write_csv, Fixed};
use crate::report::plot::{lines, Series};
use std::path::Path;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SpeedRow {
    pub task: String,
    pub seeds: usize,
    pub ms_per_step: f64,
    pub steps_per_sec_per_seed: f64,
    pub peak_rss_mib: f64,
    pub estimate_mib: f64,
    pub paper_estimate_mib: f64,
}

/// One row of `speed.csv`, rounded as the table prints it.
#[derive(serde::Serialize)]
struct SpeedCsv<'a> {
    task: &'a str,
    seeds: usize,
    ms_per_step: Fixed<3>,
    steps_per_sec_per_seed: Fixed<1>,
    peak_rss_mib: Fixed<0>,
    estimate_mib: Fixed<1>,
    paper_estimate_mib: Fixed<1>,
}

impl<'a> From<&'a SpeedRow> for SpeedCsv<'a> {
    fn from(r: &'a SpeedRow) -> Self {
        SpeedCsv {
            task: &r.task,
            seeds: r.seeds,
            ms_per_step: Fixed(r.ms_per_step),
            steps_per_sec_per_seed: Fixed(r.steps_per_sec_per_seed),
            peak_rss_mib: Fixed(r.peak_rss_mib),
            estimate_mib: Fixed(r.estimate_mib),
            paper_estimate_mib: Fixed(r.paper_estimate_mib),
        }
    }
}

pub fn run(
    dir: &Path,
    only: Option<&str>,
    seeds: &[usize],
    steps: usize,
    device: crate::dilp::Device,
    backend: crate::dilp::Backend,
    out: &Path,
) -> Result<(Vec<SpeedRow>, String)> {
    let mut rows = Vec::new();
    for f in task_files(dir, only)? {
        let task = load_task(&f)?;
        for &s in seeds {
            let cfg = LearnConfig {
                steps,
                seeds: s,
                early_stop: crate::dilp::learn::EarlyStop::Off,
                backend,
                ..Default::default()
            };
            let r = match learn(&task, &cfg, device, &mut ()) {
                Ok(r) => r,
                // A batch too big for memory is a figure too: say so and go on.
                Err(e @ (crate::Error::Memory { .. } | crate::Error::TooLarge { .. })) => {
                    eprintln!("{:<16} seeds {:>4}: refused: {e}", task.name, s);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let row = SpeedRow {
                task: task.name.clone(),
                seeds: s,
                ms_per_step: r.ms_per_step,
                steps_per_sec_per_seed: 1000.0 * s as f64 / r.ms_per_step.max(1e-9),
                peak_rss_mib: r.peak_rss_mib,
                estimate_mib: r.estimated_memory_mib,
                paper_estimate_mib: r.paper_memory_mib,
            };
            eprintln!(
                "{:<16} seeds {:>4}: {:>9.2} ms/step  {:>9.0} steps/s/seed",
                row.task, s, row.ms_per_step, row.steps_per_sec_per_seed
            );
            rows.push(row);
        }
    }
    let csv: Vec<SpeedCsv> = rows.iter().map(SpeedCsv::from).collect();
    write_csv(&out.join("speed.csv"), &csv)?;
    let mut tasks: Vec<&str> = rows.iter().map(|r| r.task.as_str()).collect();
    tasks.dedup();
    let series: Vec<Series> = tasks
        .iter()
        .map(|t| Series {
            name: t,
            points: rows
                .iter()
                .filter(|r| r.task == *t)
                .map(|r| ((r.seeds as f64).log10(), r.ms_per_step))
                .collect(),
        })
        .collect();
    let top = rows.iter().map(|r| r.ms_per_step).fold(1.0, f64::max) * 1.05;
    lines(
        &out.join("speed.png"),
        "∂ILP: time per training step against seeds in the batch",
        "seeds (log scale)",
        "ms per step",
        (0.0, top),
        &series,
        true,
    )?;
    let mut s = format!(
        "threads {}, backend {backend:?}\n{:<16} {:>6} {:>10} {:>14} {:>10} {:>12} {:>14}\n",
        crate::dilp::num_threads(),
        "task",
        "seeds",
        "ms/step",
        "steps/s/seed",
        "peak MiB",
        "estimate MiB",
        "App. E MiB"
    );
    for r in &rows {
        s.push_str(&format!(
            "{:<16} {:>6} {:>10.2} {:>14.0} {:>10.0} {:>12.1} {:>14.1}\n",
            r.task,
            r.seeds,
            r.ms_per_step,
            r.steps_per_sec_per_seed,
            r.peak_rss_mib,
            r.estimate_mib,
            r.paper_estimate_mib
        ));
    }
    s.push_str("* peak resident memory of the process so far (VmHWM), not of that row alone\n");
    Ok((rows, s))
}
