//! `dilp bench predict`: does `dilp mnist predict` read digits from image files as well as the
//! conv-net reads MNIST itself? The first `n` MNIST test digits are written as PNG files in two
//! styles ([`crate::vision::digit_files`]: 28×28 white on black as stored, and 224×224 dark on
//! light, enlarged and off-centre), read back through exactly `predict`'s path (the file,
//! [`load_digit`]'s MNIST-style preprocessing, then [`read_digits`] with the conv-net) and scored
//! against the true digits, beside the same conv-net on MNIST's own pixels through the same
//! [`read_digits`].

use crate::error::{Error, Result};
use crate::neuro::predict::read_digits;
use crate::neuro::NeuroTask;
use crate::vision::digit_files::{as_stored, mnist_bytes, on_page, save_png};
use crate::vision::preprocess::load_digit;
use crate::vision::{ConvNet, Mnist};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use tch::Device;

/// Images read per forward pass.
const CHUNK: usize = 500;

/// One way of giving the digits: how many the conv-net read right.
#[derive(Debug, Clone, Serialize)]
pub struct StyleScore {
    pub style: String,
    pub correct: usize,
    pub accuracy: f64,
    /// Of the images, those read as the same digit as from MNIST's own pixels.
    pub agree_with_raw: f64,
}

/// What [`run`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct PredictBench {
    /// MNIST test images used (the first ones).
    pub images: usize,
    /// The conv-net on MNIST's own pixels.
    pub raw: StyleScore,
    /// The conv-net through the image files, one score per style.
    pub files: Vec<StyleScore>,
    pub seconds: f64,
}

/// A style: its name and how it draws item `i` from MNIST's bytes.
type Style = (&'static str, fn(&[u8], usize) -> Option<image::GrayImage>);
const STYLES: [Style; 2] = [
    ("png 28x28 white on black", |b, _| as_stored(b)),
    ("png 224x224 black on white, off-centre", on_page),
];

/// Scores `net` on the first `n` MNIST test digits of `mnist`, raw and through PNG files
/// written under `dir` (kept there). `task` names the digit classes.
pub fn run(
    net: &ConvNet,
    task: &NeuroTask,
    mnist: &Mnist,
    n: usize,
    dir: &Path,
    device: Device,
) -> Result<PredictBench> {
    let start = Instant::now();
    let bytes = mnist_bytes(&mnist.test_images, n)?;
    let truth = &mnist.test_digits[..bytes.len()];
    let raw_inputs: Vec<Vec<f32>> = (bytes.iter())
        .map(|b| b.iter().map(|&v| f32::from(v) / 255.0).collect())
        .collect();
    let raw = read_all(net, task, &raw_inputs, device)?;
    let mut files = Vec::new();
    for (s, (name, draw)) in STYLES.iter().enumerate() {
        let mut inputs = Vec::with_capacity(bytes.len());
        for (i, b) in bytes.iter().enumerate() {
            let path = dir.join(format!("{i:05}-{s}.png"));
            let img = draw(b, i).ok_or_else(|| Error::Config(format!("test image {i}")))?;
            save_png(&img, &path)?;
            // `dilp mnist predict`'s own path: the file, then its preprocessing.
            inputs.push(load_digit(&path)?);
        }
        let read = read_all(net, task, &inputs, device)?;
        files.push(score(name, &read, truth, &raw));
    }
    Ok(PredictBench {
        images: bytes.len(),
        raw: score("MNIST's own pixels", &raw, truth, &raw),
        files,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The digit class read for each input, `CHUNK` at a time.
fn read_all(
    net: &ConvNet,
    task: &NeuroTask,
    inputs: &[Vec<f32>],
    device: Device,
) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(CHUNK) {
        let names = vec![String::new(); chunk.len()];
        let (readings, _) = read_digits(net, task, chunk, &names, device)?;
        out.extend(readings.iter().map(|r| {
            (task.digits.iter())
                .position(|d| *d == r.digit)
                .unwrap_or(usize::MAX)
        }));
    }
    Ok(out)
}

fn score(style: &str, read: &[usize], truth: &[u8], raw: &[usize]) -> StyleScore {
    let n = read.len().max(1) as f64;
    let correct = (read.iter().zip(truth))
        .filter(|(&r, &t)| r == usize::from(t))
        .count();
    let agree = read.iter().zip(raw).filter(|(a, b)| a == b).count();
    StyleScore {
        style: style.to_string(),
        correct,
        accuracy: correct as f64 / n,
        agree_with_raw: agree as f64 / n,
    }
}

/// The figures as a table, with each style's difference from the raw accuracy in points.
pub fn render(r: &PredictBench) -> String {
    let mut s = format!(
        "conv-net digit accuracy on the first {} MNIST test images ({:.0} s):\n",
        r.images, r.seconds
    );
    s += &format!(
        "  {:<42} {:>6}/{:<6} {:>7.2}%\n",
        r.raw.style,
        r.raw.correct,
        r.images,
        100.0 * r.raw.accuracy
    );
    for f in &r.files {
        s += &format!(
            "  {:<42} {:>6}/{:<6} {:>7.2}%  ({:+.2} points; same digit as raw on {:.2}%)\n",
            f.style,
            f.correct,
            r.images,
            100.0 * f.accuracy,
            100.0 * (f.accuracy - r.raw.accuracy),
            100.0 * f.agree_with_raw
        );
    }
    s
}
