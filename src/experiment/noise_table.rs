//! Table 4's rows and what is written from them: the mean and per-draw scores, `table4.json`,
//! `table4.csv`, the plots, and the printed table. `dilp bench noise` ([`super::noise`]) fills
//! the rows; `--from` merges them.

use super::parts::f64_or_nan;
use crate::error::Result;
use crate::report::csv_rows::{write_csv, Fixed, Plain};
use crate::report::files::write_json;
use crate::report::plot::{lines, Series};
use std::path::Path;

/// One row of Table 4: a task at one ρ, every figure the mean over `draws` flip draws.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NoiseRow {
    pub task: String,
    pub rho: f64,
    /// Labels flipped per draw (the same count in every draw: `round(ρ·n)` of the positives
    /// and of the negatives of each training world).
    pub flipped: usize,
    pub draws: usize,
    #[serde(flatten)]
    pub mean: Scores,
    pub paper_mse: Option<f64>,
    /// Each draw's own figures, draw 0 first.
    pub per_draw: Vec<Scores>,
}

/// Mean squared validation errors of every method on one flip draw (or their means).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    /// The soft model of the seed with the lowest training loss (the paper's protocol).
    #[serde(deserialize_with = "f64_or_nan")]
    pub dilp_mse: f64,
    /// That seed's crisp program (its top pair or its pruned threshold read-out, whichever
    /// makes fewer training errors), run by the engine.
    #[serde(deserialize_with = "f64_or_nan")]
    pub dilp_program_mse: f64,
    /// The crisp program of the seed chosen by `select = crisp` (fewest training errors of its
    /// program, then fewest clauses, then lowest loss): what `dilp learn` reports.
    #[serde(deserialize_with = "f64_or_nan")]
    pub dilp_selected_mse: f64,
    /// Trained with the `mae` loss instead (same seeds), crisp selection: the selected seed's
    /// soft model and its crisp program.
    #[serde(deserialize_with = "f64_or_nan")]
    pub dilp_mae_soft_mse: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub dilp_mae_mse: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub sat_exact_mse: f64,
    /// Whether the exact solver found a program (in every draw, for a mean).
    pub sat_exact_found: bool,
    #[serde(deserialize_with = "f64_or_nan")]
    pub sat_tolerant_mse: f64,
}

impl Scores {
    pub(super) fn mean(draws: &[Scores]) -> Scores {
        let n = draws.len() as f64;
        let avg = |f: fn(&Scores) -> f64| draws.iter().map(f).sum::<f64>() / n;
        Scores {
            dilp_mse: avg(|s| s.dilp_mse),
            dilp_program_mse: avg(|s| s.dilp_program_mse),
            dilp_selected_mse: avg(|s| s.dilp_selected_mse),
            dilp_mae_soft_mse: avg(|s| s.dilp_mae_soft_mse),
            dilp_mae_mse: avg(|s| s.dilp_mae_mse),
            sat_exact_mse: avg(|s| s.sat_exact_mse),
            sat_exact_found: draws.iter().all(|s| s.sat_exact_found),
            sat_tolerant_mse: avg(|s| s.sat_tolerant_mse),
        }
    }
}

/// One row of `table4.csv`: a [`NoiseRow`]'s mean figures (not each draw's), rounded as the
/// table prints them.
#[derive(serde::Serialize)]
struct Table4Csv<'a> {
    task: &'a str,
    rho: Plain,
    flipped: usize,
    draws: usize,
    dilp_mse: Fixed<4>,
    dilp_program_mse: Fixed<4>,
    dilp_selected_mse: Fixed<4>,
    dilp_mae_soft_mse: Fixed<4>,
    dilp_mae_mse: Fixed<4>,
    sat_exact_mse: Fixed<4>,
    sat_exact_found: bool,
    sat_tolerant_mse: Fixed<4>,
    paper_mse: Option<Fixed<3>>,
}

impl<'a> From<&'a NoiseRow> for Table4Csv<'a> {
    fn from(r: &'a NoiseRow) -> Self {
        let m = &r.mean;
        Table4Csv {
            task: &r.task,
            rho: Plain(r.rho),
            flipped: r.flipped,
            draws: r.draws,
            dilp_mse: Fixed(m.dilp_mse),
            dilp_program_mse: Fixed(m.dilp_program_mse),
            dilp_selected_mse: Fixed(m.dilp_selected_mse),
            dilp_mae_soft_mse: Fixed(m.dilp_mae_soft_mse),
            dilp_mae_mse: Fixed(m.dilp_mae_mse),
            sat_exact_mse: Fixed(m.sat_exact_mse),
            sat_exact_found: m.sat_exact_found,
            sat_tolerant_mse: Fixed(m.sat_tolerant_mse),
            paper_mse: r.paper_mse.map(Fixed),
        }
    }
}

pub(super) fn save(rows: &[NoiseRow], out: &Path) -> Result<()> {
    let csv: Vec<Table4Csv> = rows.iter().map(Table4Csv::from).collect();
    write_csv(&out.join("table4.csv"), &csv)?;
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
                    name: "∂ILP soft, lowest-loss seed (paper's protocol)",
                    points: pick(|r| Some(r.mean.dilp_mse)),
                },
                Series {
                    name: "∂ILP program, crisp selection (dilp learn)",
                    points: pick(|r| Some(r.mean.dilp_selected_mse)),
                },
                Series {
                    name: "∂ILP, MAE loss, soft",
                    points: pick(|r| Some(r.mean.dilp_mae_soft_mse)),
                },
                Series {
                    name: "∂ILP, MAE loss, program",
                    points: pick(|r| Some(r.mean.dilp_mae_mse)),
                },
                Series {
                    name: "SAT exact",
                    points: pick(|r| Some(r.mean.sat_exact_mse)),
                },
                Series {
                    name: "SAT fewest errors",
                    points: pick(|r| Some(r.mean.sat_tolerant_mse)),
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
    let mut s = match rows.first() {
        Some(r) if r.draws > 1 => format!("means over {} flip draws\n", r.draws),
        _ => String::new(),
    };
    s += &format!(
        "{:<16} {:>5} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}\n",
        "task",
        "ρ",
        "flipped",
        "∂ILP",
        "program",
        "selected",
        "MAE soft",
        "MAE prog",
        "SAT exact",
        "SAT noisy",
        "paper"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:>5} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>10.3} {:>8}\n",
            r.task,
            r.rho,
            r.flipped,
            r.mean.dilp_mse,
            r.mean.dilp_program_mse,
            r.mean.dilp_selected_mse,
            r.mean.dilp_mae_soft_mse,
            r.mean.dilp_mae_mse,
            r.mean.sat_exact_mse,
            r.mean.sat_tolerant_mse,
            r.paper_mse.map_or("-".into(), |p| format!("{p:.3}"))
        ));
    }
    s
}
