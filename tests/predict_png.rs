//! `dilp mnist predict`'s path (file → MNIST-style preprocessing → conv-net) on MNIST test
//! digits written as PNG in both styles of `vision::digit_files`: a conv-net reads them about as
//! well as it reads MNIST's own pixels of the same images. Needs MNIST (`scripts/setup.sh`); a
//! small conv-net is pretrained here, so the test does not depend on `models/`.
#![cfg(feature = "torch")]

use dilp::experiment::predict_bench;
use dilp::vision::digit_files::{page_offset, PAGE};
use dilp::vision::{pretrain, ConvNetConfig, Mnist, PretrainConfig};
use std::path::Path;
use tch::Device;

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn png_digits_in_both_styles_read_as_well_as_mnist_pixels() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist");
    let data = Mnist::load(dir).unwrap();
    let cfg = PretrainConfig {
        net: ConvNetConfig {
            conv1: 8,
            conv2: 16,
            hidden: 64,
            dropout: 0.0,
        },
        epochs: 1,
        train_limit: Some(12_000),
        warmup_steps: 20,
        ..Default::default()
    };
    let net = pretrain(
        &cfg,
        &data.subset(12_000, 400).unwrap(),
        Device::Cpu,
        &mut |_| {},
    )
    .unwrap();
    let tmp =
        TempDir(std::env::temp_dir().join(format!("dilp-predict-png-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let task = dilp::neuro::taskfile::less_than().unwrap();
    let n = 400;
    let r = predict_bench::run(&net.net, &task, &data, n, &tmp.0, Device::Cpu).unwrap();
    eprint!("{}", predict_bench::render(&r));
    assert_eq!(r.images, n);
    assert!(
        r.raw.accuracy > 0.8,
        "the small conv-net learned digits: {r:?}"
    );
    assert_eq!(r.files.len(), 2);
    for f in &r.files {
        // Within 2 points (8 of 400 images) of MNIST's own pixels, mostly the same readings.
        assert!(
            f.accuracy >= r.raw.accuracy - 0.02,
            "{}: {:.4} against {:.4} raw",
            f.style,
            f.accuracy,
            r.raw.accuracy
        );
        assert!(f.agree_with_raw >= 0.95, "{f:?}");
    }
    // The files are where the bench says, the page style at its size.
    let page = image::open(tmp.0.join("00003-1.png")).unwrap();
    assert_eq!((page.width(), page.height()), (PAGE, PAGE));
    let small = image::open(tmp.0.join("00003-0.png")).unwrap();
    assert_eq!((small.width(), small.height()), (28, 28));
    for i in 0..n {
        let (x, y) = page_offset(i);
        assert!(x.abs_diff(28) >= 10 && y.abs_diff(28) >= 10 && x <= 56 && y <= 56);
    }
}
