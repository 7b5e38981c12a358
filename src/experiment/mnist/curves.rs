//! Training curves of a run: the observer that follows training (progress bar, and a log line
//! per evaluation without a terminal) and collects its evaluations, and `curves.csv`/`curves.png`.

use crate::error::Result;
use crate::report::csv_rows::{write_csv, Fixed};
use crate::report::plot;
use crate::train::{CurvePoint, TrainObserver};
use serde::Serialize;
use std::path::Path;

/// Follows one model's training and keeps its evaluations.
pub(super) struct CurveLog<'a> {
    pub(super) bar: &'a indicatif::ProgressBar,
    pub(super) points: Vec<CurvePoint>,
}
impl TrainObserver for CurveLog<'_> {
    fn on_step(&mut self, step: usize, loss: f64) {
        self.bar.set_position(step as u64);
        if step.is_multiple_of(10) {
            self.bar.set_message(format!("loss {loss:.4}"));
        }
    }
    fn on_eval(&mut self, p: &CurvePoint) {
        // Without a terminal the bar is invisible: a log line per evaluation instead, so that
        // a long run written to a file can be followed.
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!(
                "{} step {}: loss {:.4}, seen pairs {:.3}, held-out pairs {:.3}{}",
                self.bar.prefix(),
                p.step,
                p.loss,
                p.seen_acc,
                p.heldout_acc,
                p.digit_acc
                    .map_or(String::new(), |d| format!(", digits (matched) {d:.3}"))
            );
        }
        self.points.push(p.clone());
    }
}

/// One row of `curves.csv`: one evaluation of one model during training.
#[derive(Serialize)]
struct CurveCsv {
    model: &'static str,
    step: usize,
    loss: Fixed<6>,
    seen_acc: Fixed<4>,
    heldout_acc: Fixed<4>,
    digit_acc: Option<Fixed<4>>,
}

impl CurveCsv {
    fn new(model: &'static str, p: &CurvePoint) -> Self {
        CurveCsv {
            model,
            step: p.step,
            loss: Fixed(p.loss),
            seen_acc: Fixed(p.seen_acc),
            heldout_acc: Fixed(p.heldout_acc),
            digit_acc: p.digit_acc.map(Fixed),
        }
    }
}

/// Writes `curves.csv` and `curves.png` under `out` for the ∂ILP and MLP curves (`title` heads
/// the plot).
pub(super) fn write_curves(
    out: &Path,
    title: &str,
    dilp: &[CurvePoint],
    mlp: &[CurvePoint],
) -> Result<()> {
    let rows: Vec<CurveCsv> = [("dilp", dilp), ("mlp", mlp)]
        .into_iter()
        .flat_map(|(model, c)| c.iter().map(move |p| CurveCsv::new(model, p)))
        .collect();
    write_csv(&out.join("curves.csv"), &rows)?;
    plot::learning_curves(
        &out.join("curves.png"),
        title,
        &[("∂ILP", dilp), ("MLP", mlp)],
    )
}
