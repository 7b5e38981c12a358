//! The hand-written CPU kernel against the LibTorch path: same valuations, same gradients, same
//! learning, and results that do not depend on the number of threads.
#![cfg(feature = "torch")]

use dilp::dilp::compile::CompiledTask;
use dilp::dilp::infer::{infer, InferOptions};
use dilp::dilp::kernel::SparseWorld;
use dilp::dilp::learn::Optimizer;
use dilp::dilp::native::{LaneGroup, Metric, NativeTrainer, SeedSlot};
use dilp::dilp::{learn, Amalgamation, Backend, LearnConfig, Loss, RuleWeights};
use dilp::ilp::Task;
use tch::{Device, Kind, Tensor};

const TASKS: [&str; 7] = [
    "even_succ2",
    "less_than",
    "member",
    "connectedness",
    "cyclic",
    "adjacent_to_red",
    "two_children",
];

fn load(name: &str) -> Task {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/tasks");
    dilp::ilp::load_task(&dir.join(format!("{name}.toml"))).unwrap()
}

fn floats(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).reshape([-1])).unwrap()
}

fn slot(w: &RuleWeights, row: usize) -> SeedSlot {
    let weights = w
        .tensors
        .iter()
        .map(|t| floats(&t.get(row as i64)))
        .collect();
    SeedSlot::new(weights, Optimizer::Rmsprop)
}

#[test]
fn kernel_valuations_equal_the_tensor_path() {
    for name in TASKS {
        let task = load(name);
        let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
        let sparse = SparseWorld::new(&task, &compiled.clause_sets, &task.train[0]);
        let world = &compiled.train[0];
        let w = RuleWeights::init(&compiled.weight_shapes(), 2, 5, 1.0, Device::Cpu).unwrap();
        for amalgamation in [Amalgamation::ProbSum, Amalgamation::Max] {
            let opts = InferOptions {
                amalgamation,
                ..Default::default()
            };
            let a = tch::no_grad(|| {
                infer(world, &world.init, &w.probs().unwrap(), world.steps, &opts).unwrap()
            });
            let all: Vec<u32> = (0..sparse.n as u32).collect();
            for row in 0..2 {
                let ours = slot(&w, row).predict(&sparse, amalgamation, &all);
                let theirs = floats(&a.get(row as i64));
                assert_eq!(ours.len(), theirs.len(), "{name}");
                let diff = ours
                    .iter()
                    .zip(&theirs)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f32::max);
                assert!(diff < 1e-5, "{name} {amalgamation:?} row {row}: {diff}");
            }
        }
    }
}

#[test]
fn kernel_gradients_equal_autograd() {
    for name in TASKS {
        let task = load(name);
        let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
        let sparse = SparseWorld::new(&task, &compiled.clause_sets, &task.train[0]);
        let world = &compiled.train[0];
        let w = RuleWeights::init(&compiled.weight_shapes(), 2, 7, 1.0, Device::Cpu).unwrap();
        // LibTorch: the per-seed mean BCE over every example, summed over seeds.
        let a = infer(
            world,
            &world.init,
            &w.probs().unwrap(),
            world.steps,
            &InferOptions::default(),
        )
        .unwrap();
        let p = a
            .index_select(1, &world.example_ids)
            .clamp(1e-7, 1.0 - 1e-7);
        let y = &world.labels;
        let q: Tensor = 1.0 - &p;
        let r: Tensor = 1.0 - y;
        let bce: Tensor = -(y * p.log() + r * q.log());
        bce.mean_dim([1i64].as_slice(), false, Kind::Float)
            .sum(Kind::Float)
            .backward();
        let pick: Vec<usize> = (0..sparse.examples.len()).collect();
        for row in 0..2 {
            let mut s = slot(&w, row);
            s.gradient(&sparse, &pick, Amalgamation::ProbSum, Loss::Bce);
            for (pred, t) in w.tensors.iter().enumerate() {
                let theirs = floats(&t.grad().get(row as i64));
                let ours = &s.grads()[pred];
                let scale = theirs.iter().map(|g| g.abs()).fold(1e-6, f32::max);
                let diff = ours
                    .iter()
                    .zip(&theirs)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f32::max);
                assert!(
                    diff <= 1e-4 * scale,
                    "{name} pred {pred} row {row}: max |Δ| {diff}, max |g| {scale}"
                );
            }
        }
    }
}

#[test]
fn kernel_results_do_not_depend_on_threads() {
    let task = load("even_succ2");
    let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
    let sparse = SparseWorld::new(&task, &compiled.clause_sets, &task.train[0]);
    // 20 seeds: three lane groups, so 1, 2 and 3 threads split them differently.
    let w = RuleWeights::init(&compiled.weight_shapes(), 20, 3, 1.0, Device::Cpu).unwrap();
    let cfg = LearnConfig::default();
    let run = |threads| {
        let mut t = NativeTrainer::new((0..20).map(|r| slot(&w, r)).collect(), threads);
        for step in 0..20 {
            t.step(&sparse, &[step % 3, 4 + step % 2], &cfg);
        }
        t.weights()
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(2), run(3));
}

#[test]
fn both_backends_learn_the_same_task() {
    let task = load("predecessor");
    for backend in [Backend::Native, Backend::Torch] {
        let cfg = LearnConfig {
            steps: 300,
            seeds: 4,
            backend,
            ..Default::default()
        };
        let r = learn(&task, &cfg, Device::Cpu, &mut ()).unwrap();
        assert!(r.solved && r.engine_check, "{backend:?}: {r:?}");
        assert_eq!(r.backend, format!("{backend:?}").to_lowercase());
    }
}

#[test]
fn native_backend_refuses_other_tnorms() {
    let task = load("predecessor");
    let cfg = LearnConfig {
        steps: 1,
        backend: Backend::Native,
        tnorm: dilp::dilp::TNorm::Godel,
        ..Default::default()
    };
    let err = learn(&task, &cfg, Device::Cpu, &mut ()).unwrap_err();
    assert!(err.to_string().contains("product t-norm"), "{err}");
}

/// The kernel on eight lanes does one seed's arithmetic lane by lane: bit for bit the same
/// gradients and training trajectory, whichever lane a seed sits in and whoever shares its group.
#[test]
fn lane_kernel_equals_the_scalar_kernel() {
    let cfg = LearnConfig::default();
    for name in TASKS {
        let task = load(name);
        let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
        let sparse = SparseWorld::new(&task, &compiled.clause_sets, &task.train[0]);
        // 11 seeds: one full group of 8 and a partial group of 3.
        let w = RuleWeights::init(&compiled.weight_shapes(), 11, 13, 1.0, Device::Cpu).unwrap();
        let pick: Vec<usize> = (0..sparse.examples.len()).collect();
        for loss in [Loss::Bce, Loss::Mae] {
            let mut group = LaneGroup::pack(&(3..8).map(|r| slot(&w, r)).collect::<Vec<_>>());
            group.gradient(&sparse, &pick, Amalgamation::ProbSum, loss);
            for lane in 0..5 {
                let mut s = slot(&w, 3 + lane);
                s.gradient(&sparse, &pick, Amalgamation::ProbSum, loss);
                assert_eq!(group.grads(lane), s.grads(), "{name} {loss:?} lane {lane}");
            }
        }
        let mut lanes = NativeTrainer::new((0..11).map(|r| slot(&w, r)).collect(), 2);
        let mut scalar: Vec<SeedSlot> = (0..11).map(|r| slot(&w, r)).collect();
        for t in 1..=15 {
            let pick = [t % pick.len(), (3 * t) % pick.len()];
            lanes.step(&sparse, &pick, &cfg);
            for s in &mut scalar {
                s.step(&sparse, &pick, &cfg, t as i32);
            }
        }
        for (seed, (ours, s)) in lanes.weights().iter().zip(&scalar).enumerate() {
            assert_eq!(ours, &s.weights, "{name} seed {seed}: weights differ");
        }
        // Regrouping after seeds leave keeps every remaining seed on its own trajectory.
        lanes.retain(&[0, 2, 9, 10]);
        let mse = lanes.evaluate(
            std::slice::from_ref(&sparse),
            Amalgamation::ProbSum,
            Metric::SquaredError,
        );
        assert_eq!(mse.len(), 4);
        for (m, i) in mse.iter().zip([0, 2, 9, 10]) {
            let all: Vec<u32> = sparse.examples.clone();
            let p = scalar[i].predict(&sparse, Amalgamation::ProbSum, &all);
            let theirs = p
                .iter()
                .zip(&sparse.labels)
                .map(|(p, y)| f64::from((p - y) * (p - y)))
                .sum::<f64>()
                / p.len() as f64;
            assert!(
                (m - theirs).abs() < 1e-5,
                "{name} seed {i}: mse {m} vs {theirs}"
            );
        }
    }
}
