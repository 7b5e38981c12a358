//! Digits from image files: MNIST test digits written as PNG (white on black 28×28, black on
//! white 224×224 off-centre) and JPEG come back as MNIST-style inputs that match the originals.
//! Needs MNIST (`scripts/setup.sh`).
#![cfg(feature = "torch")]

use dilp::vision::mnist;
use dilp::vision::preprocess::{load_digit, mnist_style};
use dilp::vision::Mnist;
use image::{GrayImage, Luma};
use std::path::{Path, PathBuf};
use tch::Kind;

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first `n` MNIST test digits as 28×28 bytes, with their labels.
fn digits(n: usize) -> Vec<(Vec<u8>, u8)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(mnist::DEFAULT_DIR);
    let data = Mnist::load(dir)
        .expect("MNIST is fetched by scripts/setup.sh")
        .subset(1, n)
        .unwrap();
    let bytes: Vec<u8> = Vec::try_from(
        (data.test_images.reshape([-1]) * 255.0)
            .round()
            .to_kind(Kind::Uint8),
    )
    .unwrap();
    bytes
        .chunks(784)
        .map(|c| c.to_vec())
        .zip(data.test_digits.iter().copied())
        .collect()
}

/// The best correlation of `a` with `b` shifted by at most one pixel each way (the centring
/// rounds to whole pixels, so a digit may land one pixel off MNIST's own placement).
fn best_correlation(a: &[f32], b: &[f32]) -> f64 {
    let mut best = f64::NEG_INFINITY;
    for dy in -1i64..=1 {
        for dx in -1i64..=1 {
            let shifted: Vec<f64> = (0..28i64)
                .flat_map(|y| (0..28i64).map(move |x| (x, y)))
                .map(|(x, y)| {
                    let (sx, sy) = (x + dx, y + dy);
                    if (0..28).contains(&sx) && (0..28).contains(&sy) {
                        f64::from(b[(sy * 28 + sx) as usize])
                    } else {
                        0.0
                    }
                })
                .collect();
            let a: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
            best = best.max(pearson(&a, &shifted));
        }
    }
    best
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt().max(1e-12)
}

#[test]
fn png_and_jpeg_digits_come_back_as_their_mnist_originals() {
    let tmp = TempDir(std::env::temp_dir().join(format!("dilp-pre-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let ds = digits(200);
    let (mut same, mut big, mut jpeg) = (0, 0, 0);
    for (i, (bytes, _)) in ds.iter().enumerate() {
        let original: Vec<f32> = bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
        // White on black, 28×28, as MNIST stores it.
        let small = GrayImage::from_raw(28, 28, bytes.clone()).unwrap();
        let p = tmp.0.join(format!("{i}.png"));
        small.save(&p).unwrap();
        if best_correlation(&load_digit(&p).unwrap(), &original) > 0.9 {
            same += 1;
        }
        // Black on white, 224×224, the digit scaled ×6 and placed off-centre.
        let scaled =
            image::imageops::resize(&small, 168, 168, image::imageops::FilterType::Triangle);
        let mut page = GrayImage::from_pixel(224, 224, Luma([235]));
        for (x, y, v) in scaled.enumerate_pixels() {
            let ink = 235 - (u16::from(v.0[0]) * 220 / 255) as u8;
            page.put_pixel(x + 50 + (i as u32 % 7), y + 6, Luma([ink]));
        }
        let p = tmp.0.join(format!("{i}-big.png"));
        page.save(&p).unwrap();
        if best_correlation(&load_digit(&p).unwrap(), &original) > 0.8 {
            big += 1;
        }
        if i < 50 {
            let p = tmp.0.join(format!("{i}.jpg"));
            page.save(&p).unwrap();
            if best_correlation(&load_digit(&p).unwrap(), &original) > 0.8 {
                jpeg += 1;
            }
        }
    }
    assert!(
        same >= 190,
        "28×28 white on black: {same}/200 match their originals"
    );
    assert!(
        big >= 180,
        "224×224 black on white: {big}/200 match their originals"
    );
    assert!(jpeg >= 45, "224×224 JPEG: {jpeg}/50 match their originals");
}

#[test]
fn a_blank_image_is_an_error_and_a_bad_file_is_named() {
    let blank = GrayImage::from_pixel(40, 30, Luma([200]));
    let e = mnist_style(&blank).unwrap_err();
    assert!(e.contains("no digit"), "{e}");
    let tmp = TempDir(std::env::temp_dir().join(format!("dilp-pre-bad-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let p = tmp.0.join("not-an-image.png");
    std::fs::write(&p, b"hello").unwrap();
    let e = load_digit(&p).unwrap_err().to_string();
    assert!(e.contains("not-an-image.png"), "{e}");
}
