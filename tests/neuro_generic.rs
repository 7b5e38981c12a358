//! The rule module, the split and the proof for any task file: one image (even) and two
//! (equal, less-than).
#![cfg(feature = "torch")]

use dilp::neuro::predict::{labelled_probability, proof};
use dilp::neuro::{load_neuro_task, ImageSemantics, NeuroTask, RuleModule};
use dilp::vision::{PairSpec, PairSplit};
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

/// LibTorch's random generator is global: the tests take turns, so a run's result does not
/// depend on what another test draws meanwhile.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn shipped(name: &str) -> NeuroTask {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments/tasks/mnist")
        .join(format!("{name}.toml"));
    load_neuro_task(&path).unwrap()
}

#[test]
fn one_image_split_holds_out_digits_and_never_trains_on_them() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let t = shipped("even");
    let train: Vec<u8> = (0..2000).map(|i| (i * 7 % 10) as u8).collect();
    let test: Vec<u8> = (0..500).map(|i| (i * 3 % 10) as u8).collect();
    for (seed, h) in [(0, 0.0), (1, 0.3), (2, 0.5), (3, 0.8)] {
        let spec = PairSpec {
            seed,
            held_out: h,
            n_train: 600,
            n_test: 200,
        };
        let s = PairSplit::build_for(&spec, &t.labels, &train, &test).unwrap();
        let k = (h * 10.0_f64).round() as usize;
        assert_eq!(
            (s.images, s.held_out_rows.len(), s.seen_rows.len()),
            (1, k, 10 - k)
        );
        for p in &s.train {
            assert_eq!(p.left, p.right);
            assert_eq!(train[p.left], p.left_digit);
            assert_eq!(p.label, p.left_digit % 2 == 0);
            assert!(!s.held_out_rows.contains(&(p.left_digit as usize)));
        }
        for p in &s.test_heldout {
            assert!(s.held_out_rows.contains(&(p.left_digit as usize)));
            assert_eq!(test[p.left], p.left_digit);
        }
        assert_eq!(s.test_heldout.is_empty(), k == 0);
    }
    // Two images: 100 tuples, and less-than through build_for is build.
    let lt = dilp::neuro::taskfile::less_than().unwrap();
    let spec = PairSpec {
        seed: 4,
        held_out: 0.3,
        n_train: 500,
        n_test: 100,
    };
    assert_eq!(
        PairSplit::build_for(&spec, &lt.labels, &train, &test).unwrap(),
        PairSplit::build(&spec, &train, &test).unwrap()
    );
    let eq = shipped("equal");
    let s = PairSplit::build_for(&spec, &eq.labels, &train, &test).unwrap();
    assert_eq!(s.held_out_rows.len(), 30);
    assert!(s
        .train
        .iter()
        .all(|p| p.label == (p.left_digit == p.right_digit)));
}

#[path = "support/tiny_mnist.rs"]
mod tiny_mnist;
use tiny_mnist::{tiny_context, tiny_run, IS_ONE};

#[test]
fn one_image_module_learns_symbolically_and_reads_one_distribution() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    let t = dilp::neuro::parse_neuro_task(IS_ONE, "is_one.toml").unwrap();
    let held_out = [3usize, 8];
    let seen: Vec<usize> = (0..10).filter(|r| !held_out.contains(r)).collect();
    let mut best: Option<(f64, Vec<f32>)> = None;
    for attempt in 0..4 {
        tch::manual_seed(attempt);
        let vs = nn::VarStore::new(Device::Cpu);
        let mut m = RuleModule::from_task(&t, &vs.root(), Device::Cpu).unwrap();
        assert_eq!(m.images(), 1);
        m.semantics = ImageSemantics::Worlds;
        let loss = m.fit_symbolic(&vs, &seen, 300, 0.05).unwrap();
        let q: Vec<f32> = Vec::try_from(tch::no_grad(|| m.world_table()).unwrap()).unwrap();
        assert_eq!(q.len(), 10);
        // Worlds semantics on one image: the expectation of the table.
        let p = Tensor::randn([3, 10], (Kind::Float, Device::Cpu)).softmax(-1, Kind::Float);
        let got: Vec<f32> =
            Vec::try_from(tch::no_grad(|| m.forward_images(&[&p])).unwrap()).unwrap();
        let pv: Vec<f32> = Vec::try_from(p.reshape([-1])).unwrap();
        for (i, g) in got.iter().enumerate() {
            let want: f32 = (0..10).map(|d| pv[i * 10 + d] * q[d]).sum();
            assert!((g - want).abs() < 1e-5, "{g} vs {want}");
        }
        if best.as_ref().is_none_or(|b| loss < b.0) {
            best = Some((loss, q));
        }
        if loss < 0.05 {
            break;
        }
    }
    let (loss, q) = best.unwrap();
    assert!(loss < 0.1, "training BCE {loss}");
    for (d, p) in q.iter().enumerate() {
        assert_eq!(*p > 0.5, d == 1, "digit {d}: {p}");
    }
}

#[test]
fn the_proof_lists_the_ground_instances_that_derive_the_target() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let t = dilp::neuro::taskfile::less_than().unwrap();
    let program = t
        .task
        .parse_rules(
            "target :- image2(Z), pred1(Z). pred1(X) :- succ(Z,X), image1(Z). pred1(X) :- succ(Z,X), pred1(Z).",
            "golden",
        )
        .unwrap();
    let p = proof(&t, &program, "image1(2). image2(5).").unwrap();
    assert_eq!(
        p,
        vec![
            "pred1(3) :- succ(2,3), image1(2).",
            "pred1(4) :- succ(3,4), pred1(3).",
            "pred1(5) :- succ(4,5), pred1(4).",
            "target :- image2(5), pred1(5).",
        ]
    );
    assert!(proof(&t, &program, "image1(5). image2(2).")
        .unwrap()
        .is_empty());
    // Without a run: the labelling program's expectation over the digit distributions.
    let mut left = vec![0.0; 10];
    let mut right = vec![0.0; 10];
    (left[2], left[7]) = (0.5, 0.5);
    (right[5], right[9]) = (0.25, 0.75);
    // 2<5, 2<9, 7<9 hold; 7<5 does not: 0.125 + 0.375 + 0.375.
    let p = labelled_probability(&t, &[left.clone(), right]).unwrap();
    assert!((p - 0.875).abs() < 1e-12, "{p}");
    assert!(labelled_probability(&t, &[left]).is_none());
}

/// A whole run of a one-image task goes through: frozen (untrained) conv-net, ∂ILP and the MLP
/// on 10 digit tuples, the engine check over all 10.
#[test]
fn a_one_image_run_goes_end_to_end() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    use dilp::experiment::mnist::run_one;
    tch::set_num_threads(1);
    let mut ctx = tiny_context();
    let run = tiny_run(0.3);
    let out = std::env::temp_dir().join(format!("dilp-one-image-{}", std::process::id()));
    let r = run_one(&mut ctx, &run, &out).unwrap();
    assert_eq!((r.task.as_str(), r.tuples), ("mnist_is_one", 10));
    assert!(r.engine_pairs_correct <= 10);
    for a in [
        r.dilp_seen_acc,
        r.dilp_heldout_acc,
        r.mlp_seen_acc,
        r.mlp_heldout_acc,
    ] {
        assert!((0.0..=1.0).contains(&a), "{r:?}");
    }
    assert!(out.join("metrics.json").exists() && out.join("program.dl").exists());
    let _ = std::fs::remove_dir_all(&out);
}

/// A sweep keeps each finished run in `parts/`: with one run's record gone (a sweep killed
/// during it), `resume` keeps the other record untouched, reruns only the missing run, and the
/// finished sweep reports what an uninterrupted one did (timings aside).
#[test]
fn an_interrupted_sweep_resumes_its_missing_runs_only() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    use dilp::experiment::mnist_sweep::{sweep_with, SweepOptions};
    tch::set_num_threads(1);
    let context = tiny_context;
    let out = std::env::temp_dir().join(format!("dilp-sweep-resume-{}", std::process::id()));
    let opts = |resume| SweepOptions {
        held_out: vec![0.3],
        runs: 2,
        base: tiny_run(0.0),
        device: Device::Cpu,
        out: out.clone(),
        data_dir: PathBuf::new(),
        model_dir: PathBuf::new(),
        resume,
        shard: None,
    };
    let now = std::time::Instant::now;
    sweep_with(&mut context(), &opts(false), now()).unwrap();
    let reports = |dir: &Path| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(dir.join("sweep.json")).unwrap();
        let mut v: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        for r in &mut v {
            let r = r.as_object_mut().unwrap();
            r.retain(|k, _| !k.ends_with("seconds"));
        }
        v
    };
    let whole = reports(&out);
    let (kept, lost) = (
        out.join("parts/h0.3-run0.json"),
        out.join("parts/h0.3-run1.json"),
    );
    let kept_before = (
        std::fs::read(&kept).unwrap(),
        kept.metadata().unwrap().modified().unwrap(),
    );
    std::fs::remove_file(&lost).unwrap();
    std::fs::remove_file(out.join("sweep.json")).unwrap();
    let summary = sweep_with(&mut context(), &opts(true), now()).unwrap();
    assert!(summary.contains("run 0 (resumed)"), "{summary}");
    assert!(!summary.contains("run 1 (resumed)"), "{summary}");
    let kept_after = (
        std::fs::read(&kept).unwrap(),
        kept.metadata().unwrap().modified().unwrap(),
    );
    assert!(
        kept_before == kept_after,
        "the finished run's record was rewritten"
    );
    assert!(lost.exists());
    assert_eq!(reports(&out), whole);
    let _ = std::fs::remove_dir_all(&out);
}
