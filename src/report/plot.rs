//! PNG plots (plotters): learning curves, and held-out accuracy against the held-out proportion
//! (the paper's Figure 7), and error against a swept parameter for the benchmarks.

use super::files::write_via;
use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

#[cfg(feature = "torch")]
use crate::train::CurvePoint;

fn perr<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Data {
        path: path.to_path_buf(),
        msg: format!("could not draw the plot: {e}"),
    }
}

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// One named series of (x, y) points.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// A line chart of several series, written to `path` atomically.
pub fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_range: (f64, f64),
    series: &[Series],
    log_x: bool,
) -> Result<()> {
    write_via(path, |tmp| {
        let root = BitMapBackend::new(tmp, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(perr(path))?;
        draw_lines(&root, title, x_label, y_label, y_range, series, log_x).map_err(perr(path))?;
        root.present().map_err(perr(path))
    })
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_range: (f64, f64),
    series: &[Series],
    log_x: bool,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (mut x0, mut x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y_range.0..y_range.1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|x| {
            if log_x {
                format!("{:.0}", 10f64.powf(*x))
            } else if x1 - x0 > 5.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.2}")
            }
        })
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

/// Two panels: training loss and test accuracy (seen and held-out pairs) against step.
#[cfg(feature = "torch")]
pub fn learning_curves(path: &Path, title: &str, models: &[(&str, &[CurvePoint])]) -> Result<()> {
    write_via(path, |tmp| {
        let root = BitMapBackend::new(tmp, (1300, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(perr(path))?;
        let (left, right) = root.split_horizontally(640);
        let max_loss = models
            .iter()
            .flat_map(|(_, c)| c.iter().map(|p| p.loss))
            .filter(|l| l.is_finite())
            .fold(0.1f64, f64::max);
        let loss: Vec<Series> = models
            .iter()
            .map(|(n, c)| Series {
                name: n,
                points: c.iter().map(|p| (p.step as f64, p.loss)).collect(),
            })
            .collect();
        draw_lines(
            &left,
            &format!("{title}: training loss"),
            "step",
            "BCE",
            (0.0, max_loss * 1.05),
            &loss,
            false,
        )
        .map_err(perr(path))?;
        let names: Vec<(String, String)> = models
            .iter()
            .map(|(n, _)| (format!("{n} seen pairs"), format!("{n} held-out pairs")))
            .collect();
        let digit_names: Vec<String> = models
            .iter()
            .map(|(n, _)| format!("{n} conv-net digits (matched)"))
            .collect();
        let mut acc = Vec::new();
        for ((_, c), (s, h)) in models.iter().zip(&names) {
            acc.push(Series {
                name: s,
                points: c.iter().map(|p| (p.step as f64, p.seen_acc)).collect(),
            });
            acc.push(Series {
                name: h,
                points: c
                    .iter()
                    .filter(|p| p.heldout_acc.is_finite())
                    .map(|p| (p.step as f64, p.heldout_acc))
                    .collect(),
            });
        }
        // A conv-net that trains (finetune, scratch) also shows how well it reads digits.
        for ((_, c), d) in models.iter().zip(&digit_names) {
            let points: Vec<(f64, f64)> = c
                .iter()
                .filter_map(|p| p.digit_acc.map(|a| (p.step as f64, a)))
                .collect();
            if !points.is_empty() {
                acc.push(Series { name: d, points });
            }
        }
        draw_lines(
            &right,
            &format!("{title}: test accuracy"),
            "step",
            "accuracy",
            (0.0, 1.0),
            &acc,
            false,
        )
        .map_err(perr(path))?;
        root.present().map_err(perr(path))
    })
}

/// A grouped bar chart: one group per label, one bar per series (values 0..100).
pub fn bars(path: &Path, title: &str, labels: &[&str], series: &[(&str, &[f64])]) -> Result<()> {
    write_via(path, |tmp| {
        let root = BitMapBackend::new(tmp, (1200, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(perr(path))?;
        let n = labels.len().max(1);
        let groups = series.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(110)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..n as f64, 0f64..105f64)
            .map_err(perr(path))?;
        let names: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 0.26 {
                    names.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_label_style(
                ("sans-serif", 13)
                    .into_font()
                    .transform(FontTransform::Rotate90),
            )
            .y_desc("%")
            .draw()
            .map_err(perr(path))?;
        for (s, (name, values)) in series.iter().enumerate() {
            let c = COLOURS[s % COLOURS.len()];
            let w = 0.8 / groups;
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let x0 = i as f64 + 0.1 + s as f64 * w;
                    Rectangle::new([(x0, 0.0), (x0 + w, v)], c.filled())
                }))
                .map_err(perr(path))?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(perr(path))?;
        root.present().map_err(perr(path))
    })
}

/// One named series of `(x, mean, spread)` points: a line through the means, with error bars
/// of ± spread (none where the spread is 0).
pub struct ErrorSeries<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64, f64)>,
}

/// One panel of [`panels`]: its own caption, y axis and series over the shared x axis.
pub struct Panel<'a> {
    pub caption: String,
    pub y_label: &'a str,
    pub y_range: (f64, f64),
    pub series: Vec<ErrorSeries<'a>>,
}

/// Width and height of one panel of [`panels`] (a figure is `n` of them side by side, plus
/// [`TITLE_HEIGHT`] for its title).
pub const PANEL_SIZE: (u32, u32) = (700, 560);
/// Height of the title strip above the panels of [`panels`].
pub const TITLE_HEIGHT: u32 = 50;

/// Panels side by side under one title, sharing the x axis `x_label`, written to `path`
/// atomically: `n · 700` by `560 + 50` pixels.
pub fn panels(path: &Path, title: &str, x_label: &str, panels: &[Panel]) -> Result<()> {
    let n = panels.len().max(1) as u32;
    write_via(path, |tmp| {
        let size = (PANEL_SIZE.0 * n, PANEL_SIZE.1 + TITLE_HEIGHT);
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(perr(path))?;
        let (head, body) = root.split_vertically(TITLE_HEIGHT);
        head.titled(title, ("sans-serif", 26)).map_err(perr(path))?;
        for (area, panel) in body.split_evenly((1, n as usize)).iter().zip(panels) {
            draw_errors(area, x_label, panel).map_err(perr(path))?;
        }
        root.present().map_err(perr(path))
    })
}

fn draw_errors<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    x_label: &str,
    panel: &Panel,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let xs = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((0.0f64, 1.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let pad = 0.03 * (x1 - x0);
    let (y0, y1) = panel.y_range;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0 - pad..x1 + pad, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(panel.y_label)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .draw()?;
    for (i, s) in panel.series.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let line = s.points.iter().map(|p| (p.0, p.1));
        chart
            .draw_series(LineSeries::new(line, c.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(
            s.points
                .iter()
                .map(|&p| Circle::new((p.0, p.1), 3, c.filled())),
        )?;
        let bars = s.points.iter().filter(|p| p.2 > 0.0).map(|&(x, m, d)| {
            let (lo, hi) = ((m - d).max(y0), (m + d).min(y1));
            ErrorBar::new_vertical(x, lo, m, hi, c.stroke_width(1), 8)
        });
        chart.draw_series(bars)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        // Few points sit mid-height at low h in either panel (∂ILP succeeds, errors are low).
        .position(SeriesLabelPosition::MiddleLeft)
        .draw()?;
    Ok(())
}
