//! What a whole MNIST sweep writes and prints, from its runs' reports: `sweep.csv` (one
//! [`SweepRow`] per run), `sweep.json`, the Figure 7 plots (`figure7.png`: both of the paper's
//! panels in one picture; and each panel's measure alone) and the table. One implementation,
//! reached by `dilp mnist sweep` and by `dilp mnist merge` of a sharded sweep
//! ([`super::mnist_shard`]); `dilp mnist plot` redraws the plots from the CSV alone.

use super::mnist::MnistRunReport;
use crate::error::{Error, Result};
use crate::neuro::VisionMode;
use crate::report::csv_rows::{csv_err, write_csv, Fixed, Plain};
use crate::report::files::write_json;
use crate::report::plot::{self, lines, ErrorSeries, Series};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The paper's threshold for a run that reads both digits right (0.98²).
pub const GOOD: f64 = 0.96;

/// One row of `sweep.csv`: one run of the sweep (the fields of [`MnistRunReport`] a table
/// needs; the program on one line, quoted by the CSV writer because it holds commas).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    pub held_out: Plain,
    pub seed: u64,
    pub vision: VisionMode,
    pub dilp_seen_acc: Fixed<4>,
    pub dilp_heldout_acc: Fixed<4>,
    pub mlp_seen_acc: Fixed<4>,
    pub mlp_heldout_acc: Fixed<4>,
    pub engine_pairs_correct: usize,
    /// The reported program's own accuracy (see [`MnistRunReport::program_seen_acc`]); empty
    /// in rows from before it was measured.
    #[serde(default)]
    pub program_seen_acc: Option<Fixed<4>>,
    #[serde(default)]
    pub program_heldout_acc: Option<Fixed<4>>,
    pub digit_acc: Option<Fixed<4>>,
    pub dilp_seconds: Fixed<1>,
    pub mlp_seconds: Fixed<1>,
    pub dilp_attempts: usize,
    pub program: String,
}

impl From<&MnistRunReport> for SweepRow {
    fn from(r: &MnistRunReport) -> Self {
        SweepRow {
            held_out: Plain(r.held_out),
            seed: r.seed,
            vision: r.vision,
            dilp_seen_acc: Fixed(r.dilp_seen_acc),
            dilp_heldout_acc: Fixed(r.dilp_heldout_acc),
            mlp_seen_acc: Fixed(r.mlp_seen_acc),
            mlp_heldout_acc: Fixed(r.mlp_heldout_acc),
            engine_pairs_correct: r.engine_pairs_correct,
            program_seen_acc: r.program_seen_acc.map(Fixed),
            program_heldout_acc: r.program_heldout_acc.map(Fixed),
            digit_acc: r.digit_acc.map(Fixed),
            dilp_seconds: Fixed(r.dilp_seconds),
            mlp_seconds: Fixed(r.mlp_seconds),
            dilp_attempts: r.dilp_attempts,
            program: r.program.trim().replace('\n', " "),
        }
    }
}

/// Reads the sweep CSV back (for `dilp mnist plot`): (held-out proportion, ∂ILP held-out
/// accuracy, MLP held-out accuracy) per run. Columns are found by name, and records may be
/// longer than the header, so files from before the program column was quoted still read.
pub fn read_rows(path: &Path) -> Result<Vec<(f64, f64, f64)>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = ["held_out", "dilp_heldout_acc", "mlp_heldout_acc"].map(|name| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::Data {
                path: path.to_path_buf(),
                msg: format!("no column {name} in the header"),
            })
    });
    let [h, d, m] = cols;
    let (h, d, m) = (h?, d?, m?);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_err(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let num = |k: usize| -> Result<f64> {
            record
                .get(k)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Error::Data {
                    path: path.to_path_buf(),
                    msg: format!("line {line}: column {} is not a number", &header[k]),
                })
        };
        out.push((num(h)?, num(d)?, num(m)?));
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

/// Figure 7: mean held-out accuracy and the number of runs ≥ 96%, against `h`, each alone, and
/// both panels together in `figure7.png`.
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
    )?;
    figure7(dir, &name, &rows)
}

/// Size of `figure7.png` in pixels: two panels side by side under a title.
pub const FIGURE7_SIZE: (u32, u32) = (
    2 * plot::PANEL_SIZE.0,
    plot::PANEL_SIZE.1 + plot::TITLE_HEIGHT,
);

/// The vision mode of a sweep's runs, from the `vision` column of its CSV (None when the column
/// is missing or the runs differ).
fn vision_of(path: &Path) -> Option<String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .ok()?;
    let k = reader.headers().ok()?.iter().position(|h| h == "vision")?;
    let mut modes: Vec<String> = (reader.records())
        .filter_map(|r| r.ok()?.get(k).map(String::from))
        .collect();
    modes.dedup();
    (modes.len() == 1).then(|| modes.remove(0))
}

/// `figure7.png`, the paper's Figure 7 in one picture: left, the share of runs reaching 96% on
/// held-out pairs; right, the mean test error on held-out pairs with ± one standard deviation
/// over runs; both against `h`, for ∂ILP and the MLP. `rows` as [`read_rows`] gives them.
fn figure7(dir: &Path, task: &str, rows: &[(f64, f64, f64)]) -> Result<()> {
    let mut hs: Vec<f64> = rows.iter().map(|r| r.0).collect();
    hs.sort_by(f64::total_cmp);
    hs.dedup();
    // (h, share of runs >= 96%, mean error, its standard deviation) per h with held-out pairs.
    let per_h = |pick: fn(&(f64, f64, f64)) -> f64| -> Vec<(f64, f64, f64, f64)> {
        let at = |h: f64| -> Vec<f64> {
            (rows.iter().filter(|r| r.0 == h).map(pick))
                .filter(|a| a.is_finite())
                .collect()
        };
        (hs.iter().map(|&h| (h, at(h))))
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| {
                let n = v.len() as f64;
                let good = v.iter().filter(|&&a| a >= GOOD).count() as f64 / n;
                let mean = v.iter().map(|a| 1.0 - a).sum::<f64>() / n;
                let var = v.iter().map(|a| (1.0 - a - mean).powi(2)).sum::<f64>() / n;
                (h, good, mean, var.sqrt())
            })
            .collect()
    };
    let (dilp, mlp) = (per_h(|r| r.1), per_h(|r| r.2));
    let share = |v: &[(f64, f64, f64, f64)]| v.iter().map(|p| (p.0, p.1, 0.0)).collect();
    let error = |v: &[(f64, f64, f64, f64)]| v.iter().map(|p| (p.0, p.2, p.3)).collect();
    let runs = hs
        .iter()
        .map(|&h| rows.iter().filter(|r| r.0 == h).count())
        .max()
        .unwrap_or(0);
    let vision = vision_of(&dir.join("sweep.csv")).map_or(String::new(), |v| format!(", {v}"));
    plot::panels(
        &dir.join("figure7.png"),
        &format!("Figure 7: {task}{vision} ({runs} runs per h)"),
        "proportion h of digit tuples held out",
        &[
            plot::Panel {
                caption: format!("runs reaching {:.0}% on held-out pairs", 100.0 * GOOD),
                y_label: "share of runs",
                y_range: (0.0, 1.05),
                series: vec![
                    ErrorSeries {
                        name: "∂ILP",
                        points: share(&dilp),
                    },
                    ErrorSeries {
                        name: "MLP",
                        points: share(&mlp),
                    },
                ],
            },
            plot::Panel {
                caption: "test error on held-out pairs (mean ± sd over runs)".into(),
                y_label: "error",
                y_range: (0.0, 1.0),
                series: vec![
                    ErrorSeries {
                        name: "∂ILP",
                        points: error(&dilp),
                    },
                    ErrorSeries {
                        name: "MLP",
                        points: error(&mlp),
                    },
                ],
            },
        ],
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
        let cols: [Column; 6] = [
            ("∂ILP", "seen digit pairs", |r| r.dilp_seen_acc),
            ("∂ILP", "held-out pairs", |r| r.dilp_heldout_acc),
            ("prog.", "seen digit pairs", |r| {
                r.program_seen_acc.unwrap_or(f64::NAN)
            }),
            ("prog.", "held-out pairs", |r| {
                r.program_heldout_acc.unwrap_or(f64::NAN)
            }),
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

/// The outputs of a whole sweep from its runs' reports, in sweep order: `sweep.csv`,
/// `sweep.json` and the plots in `out`, and the printed table with the most telling program.
/// The sweep and `dilp mnist merge` both end here.
pub fn write_outputs(reports: &[MnistRunReport], out: &Path) -> Result<String> {
    let rows: Vec<SweepRow> = reports.iter().map(SweepRow::from).collect();
    write_csv(&out.join("sweep.csv"), &rows)?;
    write_json(&out.join("sweep.json"), &reports)?;
    plot_sweep(out)?;
    let mut summary = table(reports);
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
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::csv_rows::read_csv;

    fn row(held_out: f64, program: &str) -> SweepRow {
        SweepRow {
            held_out: Plain(held_out),
            seed: 7,
            vision: VisionMode::Finetune,
            dilp_seen_acc: Fixed(0.9912),
            dilp_heldout_acc: Fixed(0.875),
            mlp_seen_acc: Fixed(0.5),
            mlp_heldout_acc: Fixed(f64::NAN),
            engine_pairs_correct: 100,
            program_seen_acc: Some(Fixed(0.9875)),
            program_heldout_acc: None,
            digit_acc: None,
            dilp_seconds: Fixed(12.5),
            mlp_seconds: Fixed(3.0),
            dilp_attempts: 2,
            program: program.to_string(),
        }
    }

    #[test]
    fn sweep_csv_round_trips_a_program_with_commas_and_quotes() {
        let dir = std::env::temp_dir().join(format!("dilp-sweep-{}", std::process::id()));
        let path = dir.join("sweep.csv");
        let program = r#"lt(X, Y) :- succ(X, Z), lt(Z, Y). note("a, b")"#;
        let rows = vec![row(0.2, program), row(0.5, "")];
        write_csv(&path, &rows).unwrap();
        let back: Vec<SweepRow> = read_csv(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].program, program);
        assert_eq!(back[0].vision, VisionMode::Finetune);
        assert_eq!(back[1].held_out, Plain(0.5));
        assert!(back[1].mlp_heldout_acc.0.is_nan());
        assert_eq!(back[0].program_seen_acc.map(|f| f.0), Some(0.9875));
        assert!(back[0].program_heldout_acc.is_none());
        let plotted = read_rows(&path).unwrap();
        assert_eq!(plotted[0].0, 0.2);
        assert_eq!(plotted[0].1, 0.875);
        assert!(plotted[0].2.is_nan());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn old_unquoted_sweep_files_still_plot() {
        let dir = std::env::temp_dir().join(format!("dilp-sweep-old-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sweep.csv");
        let header = "held_out,seed,vision,dilp_seen_acc,dilp_heldout_acc,mlp_seen_acc,\
                      mlp_heldout_acc,engine_pairs_correct,digit_acc,dilp_seconds,mlp_seconds,\
                      dilp_attempts,program";
        let line = "0.3,1,frozen,1.0000,0.9500,0.9000,0.4000,100,,1.0,1.0,1,lt(X, Y) :- a(X, Y).";
        std::fs::write(&path, format!("{header}\n{line}\n")).unwrap();
        assert_eq!(read_rows(&path).unwrap(), vec![(0.3, 0.95, 0.4)]);
        std::fs::write(&path, format!("{header}\n0.3,1,frozen,1,x\n")).unwrap();
        let err = read_rows(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("dilp_heldout_acc"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
