//! Joint training (`--vision joint`) on a small MNIST subset: from the less-than labels of image
//! pairs alone (no digit label, no symbolic table, a conv-net from random weights), the run
//! must read digits and answer less-than far better than chance; and the mode refuses a
//! symbolic warm-up.
#![cfg(feature = "torch")]

use dilp::experiment::mnist::{run_one, Context, JointConfig, MnistRunConfig};
use dilp::neuro::VisionMode;
use dilp::train::TrainConfig;
use dilp::vision::{ConvNet, ConvNetConfig, Mnist};
use std::path::Path;
use tch::{nn, Device};

/// 4,000 training and 1,000 test images, a small conv-net (only its shape is used: a joint
/// run builds its own from random weights), the shipped less-than task.
fn small_context() -> Context {
    tch::manual_seed(0);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist");
    let data = Mnist::load(dir).unwrap().subset(4000, 1000).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = ConvNetConfig {
        conv1: 8,
        conv2: 16,
        hidden: 64,
        dropout: 0.0,
    };
    let net = ConvNet::new(&vs.root(), &cfg).unwrap();
    Context::from_parts(data, vs, net, None, Device::Cpu)
}

fn joint_config() -> MnistRunConfig {
    let train = TrainConfig {
        steps: 300,
        batch_size: 64,
        eval_every: 100,
        eval_pairs: 200,
        balance_weight: 1.0,
        ..Default::default()
    };
    MnistRunConfig {
        held_out: 0.0,
        vision: VisionMode::Joint,
        pairs: 4000,
        test_pairs: 1000,
        dilp: train.clone(),
        mlp: TrainConfig { steps: 20, ..train },
        joint: JointConfig {
            cluster_steps: 500,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn a_small_joint_run_reads_digits_and_less_than_from_pair_labels_alone() {
    tch::set_num_threads(1);
    let mut ctx = small_context();
    let out = std::env::temp_dir().join(format!("dilp-joint-{}", std::process::id()));
    let r = run_one(&mut ctx, &joint_config(), &out).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    // Chance: 0.55 on less-than (45 of 100 pairs true); about 0.1-0.2 on matched digits.
    assert!(r.dilp_seen_acc >= 0.8, "task accuracy {r:?}");
    let matched = r.digit_acc_matched.unwrap();
    assert!(matched >= 0.6, "matched digit accuracy {r:?}");
    // Raw or reversed reading is the matched one up to the symmetries less-than leaves open.
    let best = r.digit_acc.unwrap().max(r.digit_acc_reversed.unwrap());
    assert!(best <= matched + 1e-12);
    assert!(r.digit_confusion.is_some() && r.engine_pairs_correct <= 100);
}

#[test]
fn joint_mode_refuses_a_symbolic_warm_up() {
    let cfg = MnistRunConfig {
        symbolic_warmup: 10,
        ..joint_config()
    };
    let e = cfg.validate().unwrap_err().to_string();
    assert!(e.contains("symbolic_warmup") && e.contains("joint"), "{e}");
    assert!(joint_config().validate().is_ok());
}
