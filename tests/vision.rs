//! The vision layer: MNIST validation, the digit-pair split, checkpoints, the MLP and a tiny
//! pretraining run. Tests that read MNIST need `scripts/setup.sh` to have been run.
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};

use dilp::vision::mnist::{self, FILES};
use dilp::vision::pairs::{self, held_out_digit_pairs};
use dilp::vision::{
    checkpoint, ConvNet, ConvNetConfig, Mlp, MlpConfig, Mnist, Origin, PairSpec, PairSplit,
    PretrainConfig,
};
use dilp::Error;
use tch::{nn, Device, Kind, Tensor};

fn mnist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(mnist::DEFAULT_DIR)
}

/// A fresh, empty directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("dilp-vision-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_msg(e: Error) -> (PathBuf, String) {
    match e {
        Error::Data { path, msg } => (path, msg),
        other => panic!("expected Error::Data, got {other:?}"),
    }
}

#[test]
fn truncated_missing_and_corrupt_idx_files_are_rejected_by_name() {
    let tmp = TempDir::new("idx");
    let src = mnist_dir();
    // Missing: nothing there yet.
    let (path, msg) = data_msg(Mnist::load(&tmp.0).unwrap_err());
    assert!(path.ends_with("train-images-idx3-ubyte"), "{path:?}");
    assert!(
        msg.contains("missing") && msg.contains("scripts/setup.sh"),
        "{msg}"
    );

    // Truncated: the first file loaded is cut short.
    let images = std::fs::read(src.join("train-images-idx3-ubyte")).unwrap();
    std::fs::write(
        tmp.0.join("train-images-idx3-ubyte"),
        &images[..images.len() / 3],
    )
    .unwrap();
    let (path, msg) = data_msg(Mnist::load(&tmp.0).unwrap_err());
    assert!(path.ends_with("train-images-idx3-ubyte"), "{path:?}");
    assert!(
        msg.contains("train-images-idx3-ubyte") && msg.contains("truncated"),
        "{msg}"
    );
    assert!(msg.contains("scripts/setup.sh"), "{msg}");

    // Right size and header, one byte changed: caught by the digest.
    let mut labels = std::fs::read(src.join("t10k-labels-idx1-ubyte")).unwrap();
    let spec = FILES[3];
    mnist::verify_file(&src, &spec).unwrap();
    labels[5000] = (labels[5000] + 1) % 10;
    std::fs::write(tmp.0.join(spec.name), &labels).unwrap();
    let (path, msg) = data_msg(mnist::verify_file(&tmp.0, &spec).unwrap_err());
    assert!(path.ends_with(spec.name));
    assert!(msg.contains("corrupt") && msg.contains("SHA-256"), "{msg}");

    // A bad magic number.
    labels[3] = 0x03;
    std::fs::write(tmp.0.join(spec.name), &labels).unwrap();
    let (_, msg) = data_msg(mnist::verify_file(&tmp.0, &spec).unwrap_err());
    assert!(msg.contains("magic"), "{msg}");
}

fn synthetic_digits(n: usize, salt: usize) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 7 + salt + i / 13) % 10) as u8)
        .collect()
}

#[test]
fn pair_split_holds_out_what_it_says() {
    let train = synthetic_digits(3000, 1);
    let test = synthetic_digits(1000, 4);
    for (seed, h) in [(0, 0.0), (1, 0.1), (2, 0.5), (3, 0.7), (4, 0.9), (5, 0.33)] {
        let spec = PairSpec {
            seed,
            held_out: h,
            n_train: 2000,
            n_test: 500,
        };
        let split = PairSplit::build(&spec, &train, &test).unwrap();
        let k = (h * 100.0_f64).round() as usize;
        assert_eq!(split.held_out.len(), k);
        assert_eq!(split.seen.len(), 100 - k);
        assert_eq!(split.train.len(), 2000);
        assert_eq!(split.test_seen.len(), 500);
        assert_eq!(split.test_heldout.len(), if k == 0 { 0 } else { 500 });
        for p in &split.train {
            assert_eq!(train[p.left], p.left_digit);
            assert_eq!(train[p.right], p.right_digit);
            assert_eq!(p.label, p.left_digit < p.right_digit);
            assert!(!split.is_held_out(p.left_digit, p.right_digit));
        }
        for p in &split.test_seen {
            assert_eq!((test[p.left], test[p.right]), (p.left_digit, p.right_digit));
            assert!(!split.is_held_out(p.left_digit, p.right_digit));
        }
        for p in &split.test_heldout {
            assert_eq!((test[p.left], test[p.right]), (p.left_digit, p.right_digit));
            assert!(split.is_held_out(p.left_digit, p.right_digit));
            assert_eq!(p.label, p.left_digit < p.right_digit);
        }
        // Both labels on both sides whenever there are two pairs.
        for side in [&split.train, &split.test_heldout] {
            if !side.is_empty() {
                assert!(side.iter().any(|p| p.label) && side.iter().any(|p| !p.label));
            }
        }
        // Every seen digit pair is actually used in 2000 draws (about 20+ each).
        let used: std::collections::BTreeSet<_> = split
            .train
            .iter()
            .map(|p| (p.left_digit, p.right_digit))
            .collect();
        assert_eq!(used.len(), split.seen.len());
        // Deterministic.
        assert_eq!(split, PairSplit::build(&spec, &train, &test).unwrap());
    }
}

#[test]
fn held_out_sets_are_seeded_nested_and_validated() {
    let a = held_out_digit_pairs(7, 0.3).unwrap();
    let b = held_out_digit_pairs(7, 0.7).unwrap();
    assert!(a.iter().all(|p| b.contains(p)), "nested for one seed");
    assert_ne!(held_out_digit_pairs(8, 0.7).unwrap(), b, "seeds differ");
    assert!(held_out_digit_pairs(0, 1.0).is_err());
    assert!(held_out_digit_pairs(0, -0.1).is_err());
    assert!(held_out_digit_pairs(0, 0.996).is_err());
    // Changing n_train leaves the held-out set and the test pairs alone.
    let (train, test) = (synthetic_digits(500, 0), synthetic_digits(500, 3));
    let spec = PairSpec {
        seed: 3,
        held_out: 0.4,
        n_train: 100,
        n_test: 50,
    };
    let s1 = PairSplit::build(&spec, &train, &test).unwrap();
    let s2 = PairSplit::build(
        &PairSpec {
            n_train: 300,
            ..spec
        },
        &train,
        &test,
    )
    .unwrap();
    assert_eq!(s1.held_out, s2.held_out);
    assert_eq!(s1.test_heldout, s2.test_heldout);
    assert_eq!(s1.train[..], s2.train[..100]);
}

#[test]
fn gather_builds_image_and_label_tensors() {
    let images = Tensor::arange(5 * 784, (Kind::Float, Device::Cpu)).view([5, 1, 28, 28]);
    let ps = vec![
        pairs::Pair {
            left: 4,
            right: 0,
            left_digit: 3,
            right_digit: 1,
            label: false,
        },
        pairs::Pair {
            left: 1,
            right: 2,
            left_digit: 1,
            right_digit: 2,
            label: true,
        },
    ];
    let (l, r, y) = pairs::gather(&images, &ps, Device::Cpu).unwrap();
    assert_eq!(l.size(), [2, 1, 28, 28]);
    assert_eq!(l.double_value(&[0, 0, 0, 0]), 4.0 * 784.0);
    assert_eq!(r.double_value(&[1, 0, 0, 0]), 2.0 * 784.0);
    assert_eq!(Vec::<f32>::try_from(&y).unwrap(), vec![0.0, 1.0]);
    let bad = [pairs::Pair { left: 5, ..ps[0] }];
    assert!(pairs::gather(&images, &bad, Device::Cpu).is_err());
}

fn small_net() -> ConvNetConfig {
    ConvNetConfig {
        conv1: 4,
        conv2: 8,
        hidden: 16,
        dropout: 0.2,
    }
}

#[test]
fn checkpoint_round_trip_and_corruption() {
    let tmp = TempDir::new("ckpt");
    tch::manual_seed(11);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = ConvNet::new(&vs.root(), &small_net()).unwrap();
    let xs = Tensor::rand([3, 1, 28, 28], (Kind::Float, Device::Cpu));
    let want = net.forward_t(&xs, false);
    let meta = checkpoint::save(&net, &tmp.0, None, 11, Some(0.5)).unwrap();
    assert_eq!(meta.tensors.len(), 8);
    assert!(!tmp.0.join("convnet.ot.part").exists());
    let (ot, json) = checkpoint::paths(&tmp.0);
    assert!(!dilp::report::files::temp_path(&ot).exists());
    assert!(!dilp::report::files::temp_path(&json).exists());

    // Into a shared store, under a prefix, beside other parameters.
    let shared = nn::VarStore::new(Device::Cpu);
    let _rules = shared.root().sub("rules").zeros("w", &[7]);
    let (loaded, meta2) = checkpoint::load(&(shared.root() / "vision"), &tmp.0).unwrap();
    assert_eq!(meta2, meta);
    assert_eq!(shared.variables().len(), 9);
    assert!(shared.variables().contains_key("vision.conv1.weight"));
    let got = loaded.forward_t(&xs, false);
    assert_eq!(
        Vec::<f32>::try_from(got.view([-1])).unwrap(),
        Vec::<f32>::try_from(want.view([-1])).unwrap()
    );

    // A flipped byte in the weights.
    let (ot, json) = checkpoint::paths(&tmp.0);
    let good = std::fs::read(&ot).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(&ot, &bad).unwrap();
    let fresh = nn::VarStore::new(Device::Cpu);
    let (path, msg) = data_msg(checkpoint::load(&fresh.root(), &tmp.0).unwrap_err());
    assert_eq!(path, ot);
    assert!(msg.contains("SHA-256"), "{msg}");
    assert!(
        fresh.variables().is_empty(),
        "a failed load adds no variables"
    );

    // Truncated weights whose digest was "updated": the tensor reader itself must fail cleanly.
    std::fs::write(&ot, &good[..good.len() / 2]).unwrap();
    let text = std::fs::read_to_string(&json).unwrap();
    let digest = dilp::vision::digest::hex_digest(&good[..good.len() / 2]);
    std::fs::write(&json, text.replace(&meta.weights_sha256, &digest)).unwrap();
    let (_, msg) = data_msg(checkpoint::load(&fresh.root(), &tmp.0).unwrap_err());
    assert!(msg.contains("unreadable"), "{msg}");

    // JSON that disagrees with the tensors (different architecture).
    std::fs::write(&ot, &good).unwrap();
    let mut m: checkpoint::CheckpointMeta = serde_json::from_str(&text).unwrap();
    m.net.hidden = 17;
    std::fs::write(&json, serde_json::to_string(&m).unwrap()).unwrap();
    let (_, msg) = data_msg(checkpoint::load(&fresh.root(), &tmp.0).unwrap_err());
    assert!(msg.contains("fc1.weight"), "{msg}");

    // Not JSON at all.
    std::fs::write(&json, "{ nope").unwrap();
    let (path, _) = data_msg(checkpoint::load(&fresh.root(), &tmp.0).unwrap_err());
    assert_eq!(path, json);
    assert!(fresh.variables().is_empty());
}

#[test]
fn mlp_maps_two_logit_vectors_to_one_logit() {
    let vs = nn::VarStore::new(Device::Cpu);
    let mlp = Mlp::new(&(vs.root() / "mlp"), &MlpConfig::default()).unwrap();
    assert_eq!(vs.variables()["mlp.fc1.weight"].size(), [64, 20]);
    let l = Tensor::randn([5, 10], (Kind::Float, Device::Cpu));
    let r = Tensor::randn([5, 10], (Kind::Float, Device::Cpu));
    let out = mlp.f_forward_pair(&l, &r).unwrap();
    assert_eq!(out.size(), [5]);
    let loss = Mlp::loss(&out, &Tensor::ones([5], (Kind::Float, Device::Cpu))).unwrap();
    loss.backward();
    let g = vs.variables()["mlp.fc1.weight"].grad();
    assert!(g.abs().sum(Kind::Float).double_value(&[]) > 0.0);
    assert!(mlp
        .f_forward(&Tensor::zeros([2, 7], (Kind::Float, Device::Cpu)))
        .is_err());
    assert!(Mlp::new(&vs.root(), &MlpConfig { hidden: 0 }).is_err());
}

#[test]
fn tiny_pretraining_beats_chance_and_is_reused() {
    let full = Mnist::load(mnist_dir()).unwrap();
    assert_eq!(full.train_images.size(), [60_000, 1, 28, 28]);
    assert_eq!(full.test_labels.size(), [10_000]);
    let max = full.train_images.max().double_value(&[]);
    assert!(max <= 1.0 && max > 0.9);
    let data = full.subset(2000, 1000).unwrap();
    let cfg = PretrainConfig {
        net: ConvNetConfig {
            conv1: 8,
            conv2: 16,
            hidden: 64,
            dropout: 0.1,
        },
        epochs: 5,
        batch_size: 32,
        warmup_steps: 20,
        seed: 3,
        threads: Some(1),
        ..Default::default()
    };
    let tmp = TempDir::new("pretrain");
    let mut steps = 0;
    let vs = nn::VarStore::new(Device::Cpu);
    let first = checkpoint::load_or_pretrain(&vs.root(), &tmp.0, &cfg, &data, &mut |p| {
        assert_eq!(p.total_steps, 5 * (2000 / 32));
        steps = p.step;
    })
    .unwrap();
    assert_eq!(steps, 310);
    assert_eq!(first.origin, Origin::Pretrained { replaced: None });
    let acc = first.meta.test_accuracy.unwrap();
    assert!(acc > 0.8, "test accuracy {acc}");
    let again = dilp::vision::accuracy(
        &first.net,
        &data.test_images,
        &data.test_labels,
        Device::Cpu,
        333,
    )
    .unwrap();
    assert!((again - acc).abs() < 1e-9);

    // Second call reuses it without training.
    let vs2 = nn::VarStore::new(Device::Cpu);
    let second = checkpoint::load_or_pretrain(&vs2.root(), &tmp.0, &cfg, &data, &mut |_| {
        panic!("must not train again")
    })
    .unwrap();
    assert_eq!(second.origin, Origin::Reused);
    let xs = data.test_images.narrow(0, 0, 4);
    let (a, b) = (
        first.net.forward_t(&xs, false),
        second.net.forward_t(&xs, false),
    );
    assert_eq!(
        Vec::<f32>::try_from(a.view([-1])).unwrap(),
        Vec::<f32>::try_from(b.view([-1])).unwrap()
    );

    // Same seed, same config: same result.
    let r = dilp::vision::pretrain(
        &PretrainConfig {
            epochs: 1,
            ..cfg.clone()
        },
        &data,
        Device::Cpu,
        &mut |_| {},
    )
    .unwrap();
    let r2 = dilp::vision::pretrain(
        &PretrainConfig { epochs: 1, ..cfg },
        &data,
        Device::Cpu,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.final_loss, r2.final_loss);
}

#[test]
fn real_mnist_pairs_carry_the_right_digits() {
    let data = Mnist::load(mnist_dir()).unwrap();
    let spec = PairSpec::default();
    let split = PairSplit::build(&spec, &data.train_digits, &data.test_digits).unwrap();
    assert_eq!(split.held_out.len(), 70);
    let labels = Vec::<i64>::try_from(&data.train_labels).unwrap();
    for p in split.train.iter().take(500) {
        assert_eq!(labels[p.left], p.left_digit as i64);
        assert!(!split.is_held_out(p.left_digit, p.right_digit));
    }
    let (l, _, y) =
        pairs::gather(&data.test_images, &split.test_heldout[..8], Device::Cpu).unwrap();
    assert_eq!(l.size(), [8, 1, 28, 28]);
    assert_eq!(y.size(), [8]);
}
