//! Pretrains the conv-net once and reports time and test accuracy.
//!
//! `cargo run --release --example pretrain -- [CONFIG_JSON] [--save DIR]`, e.g.
//! `cargo run --release --example pretrain -- '{"epochs": 1}'`. Without `--save` nothing is
//! written; `--save models` writes `models/convnet.ot` and `models/convnet.json`.

use std::time::Instant;

use dilp::vision::{self, Mnist, PretrainConfig};

fn main() -> anyhow::Result<()> {
    let mut cfg = PretrainConfig::default();
    let mut save = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--save" {
            save = args.next();
        } else {
            cfg = serde_json::from_str(&a)?;
        }
    }
    let t0 = Instant::now();
    let data = Mnist::load(vision::mnist::DEFAULT_DIR)?;
    println!("loaded MNIST in {:.1} s", t0.elapsed().as_secs_f64());
    println!("config: {}", serde_json::to_string(&cfg)?);
    let t1 = Instant::now();
    let device = tch::Device::cuda_if_available();
    let report = vision::pretrain(&cfg, &data, device, &mut |p| {
        if p.step % 100 == 0 || p.step == p.total_steps || p.step == 10 {
            println!(
                "epoch {}/{} step {}/{} loss {:.4} lr {:.5} {:.1} s (cpu {:.1} s)",
                p.epoch,
                p.epochs,
                p.step,
                p.total_steps,
                p.loss,
                p.lr,
                t1.elapsed().as_secs_f64(),
                cpu_seconds()
            );
        }
    })?;
    println!(
        "test accuracy {:.4}, final loss {:.4}, {} steps, {:.1} s (threads {})",
        report.test_accuracy,
        report.final_loss,
        report.steps,
        report.seconds,
        tch::get_num_threads()
    );
    if let Some(dir) = save {
        let meta = vision::save(
            &report.net,
            std::path::Path::new(&dir),
            Some(&report.config),
            report.config.seed,
            Some(report.test_accuracy),
        )?;
        println!("saved to {dir}/convnet.ot ({})", meta.created);
    }
    Ok(())
}

/// This process's user + system CPU time (Linux), to time runs on a shared machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}
