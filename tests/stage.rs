//! `infer` evaluates what cannot change within a call once (`dilp::stage`) and takes the
//! gradient of a moving second template through sorted fixed values (`dilp::fixed_mix`). Held
//! here against the plain algorithm, every template evaluated at every step and every pair
//! mixed by `mix_pairs`, written out from the public pieces: the valuations bit for bit, the
//! rule weights' gradients up to float rounding, on the MNIST module and on symbolic tasks;
//! and `FixedMix` alone against `maximum`'s gradient where ties are common.
#![cfg(feature = "torch")]

use dilp::dilp::compile::{CompiledTask, CompiledWorld};
use dilp::dilp::infer::{clause_values, infer, mix_pairs, InferOptions};
use dilp::dilp::weights::pair_softmax;
use dilp::dilp::{RuleWeights, TNorm};
use dilp::neuro::{merge_valuation, RuleModule};
use tch::{nn, Device, Kind, Tensor};

/// T plain steps of probabilistic-sum inference under `tnorm` from `init` (`[B, n]`).
fn plain_infer(
    world: &CompiledWorld,
    init: &Tensor,
    probs: &[Tensor],
    steps: usize,
    tnorm: TNorm,
) -> Tensor {
    let opts = InferOptions {
        tnorm,
        ..Default::default()
    };
    let mut a = init.shallow_clone();
    for _ in 0..steps {
        let b = a.size()[0];
        let mut parts = vec![Tensor::zeros(
            [b, world.intensional_start as i64],
            (Kind::Float, Device::Cpu),
        )];
        for (pred, w) in world.preds.iter().zip(probs) {
            let t1 = pred.templates[0].as_ref().unwrap();
            let f1 = clause_values(t1, &a, opts.tnorm).unwrap();
            let f2 = pred.templates[1]
                .as_ref()
                .map(|t| clause_values(t, &a, opts.tnorm).unwrap());
            parts.push(mix_pairs(&f1, f2.as_ref(), w, opts.pair_chunk).unwrap());
        }
        let s = Tensor::cat(&parts, 1);
        a = &a + &s - &a * &s;
    }
    a
}

/// The min t-norm makes exact ties between clause values common away from 0, where the
/// gradient's tie rule matters.
const TNORMS: [TNorm; 3] = [TNorm::Product, TNorm::Godel, TNorm::Lukasiewicz];

fn floats(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.reshape([-1])).unwrap()
}

/// Values and weight gradients of `loss(valuation)` under both paths; asserts the values are
/// identical and the gradients agree to `1e-5` of the largest one.
fn compare(weights: &[Tensor], run: &dyn Fn(bool, &[Tensor]) -> Tensor) {
    let mut out = Vec::new();
    for staged in [false, true] {
        for w in weights {
            w.shallow_clone().zero_grad();
        }
        let probs: Vec<Tensor> = weights.iter().map(|w| pair_softmax(w).unwrap()).collect();
        let a = run(staged, &probs);
        (&a * &a).sum(Kind::Float).backward();
        let grads: Vec<f32> = weights.iter().flat_map(|w| floats(&w.grad())).collect();
        out.push((floats(&a), grads));
    }
    let ((v0, g0), (v1, g1)) = (&out[0], &out[1]);
    assert_eq!(v0, v1, "the staged valuations differ from the plain ones");
    let scale = g0.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(scale > 0.0, "no gradient reached the weights");
    for (i, (x, y)) in g0.iter().zip(g1).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * scale,
            "gradient {i}: plain {x}, staged {y} (largest {scale})"
        );
    }
}

#[test]
fn staged_mnist_module_matches_the_plain_steps() {
    tch::manual_seed(11);
    let vs = nn::VarStore::new(Device::Cpu);
    let m = RuleModule::new(&(vs.root() / "rules"), Device::Cpu).unwrap();
    let ranges: Vec<_> = ["image1", "image2"]
        .iter()
        .map(|p| m.world.index.pred_range(m.task.vocab.find_pred(p).unwrap()))
        .collect();
    // Soft digits, and one-hot ones (exact ties between clause values everywhere).
    let soft = |s: i64| Tensor::randn([s, 10], (Kind::Float, Device::Cpu)).softmax(-1, Kind::Float);
    let hard = |s: i64| Tensor::eye(10, (Kind::Float, Device::Cpu)).narrow(0, 0, s);
    for tnorm in TNORMS {
        let opts = InferOptions {
            tnorm,
            ..Default::default()
        };
        for (l, r) in [(soft(24), soft(24)), (hard(10), hard(10).flip([0]))] {
            let init = merge_valuation(&m.world.init, &ranges, &[&l, &r]).unwrap();
            compare(&m.weights, &|staged, probs| match staged {
                true => infer(&m.world, &init, probs, 10, &opts).unwrap(),
                false => plain_infer(&m.world, &init, probs, 10, tnorm),
            });
        }
    }
}

#[test]
fn staged_symbolic_tasks_match_the_plain_steps() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/tasks");
    for name in ["less_than", "even_succ2", "member", "connectedness"] {
        let task = dilp::ilp::load_task(&dir.join(format!("{name}.toml"))).unwrap();
        let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
        let world = &compiled.train[0];
        let w = RuleWeights::init(&compiled.weight_shapes(), 3, 7, 1.0, Device::Cpu).unwrap();
        let init = world
            .init
            .unsqueeze(0)
            .expand([3, world.n as i64], false)
            .contiguous();
        for tnorm in TNORMS {
            let opts = InferOptions {
                tnorm,
                ..Default::default()
            };
            compare(&w.tensors, &|staged, probs| match staged {
                true => infer(world, &world.init, probs, world.steps, &opts).unwrap(),
                false => plain_infer(world, &init, probs, world.steps, tnorm),
            });
        }
    }
}

#[test]
fn fixed_mix_gives_f2_the_gradient_of_maximum_with_its_tie_rule() {
    use dilp::dilp::fixed_mix::FixedMix;
    tch::manual_seed(5);
    // Values from a small set of exact floats, so that F1 and F2 tie often.
    let levels = Tensor::from_slice(&[0f32, 0.25, 0.5, 1.0]);
    let pick = |shape: &[i64]| {
        levels
            .index_select(
                0,
                &Tensor::randint(4, [shape.iter().product()], (Kind::Int64, Device::Cpu)),
            )
            .reshape(shape)
    };
    let (b, k1, k2, n) = (6, 9, 5, 7);
    let f1 = pick(&[b, k1, n]);
    let f2_values = pick(&[b, k2, n]);
    let mut w = Tensor::randn([1, k1, k2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let upstream = Tensor::randn([b, n], (Kind::Float, Device::Cpu));
    let mut out = Vec::new();
    for fixed in [false, true] {
        let f2 = f2_values.copy().set_requires_grad(true);
        let probs = pair_softmax(&w).unwrap();
        let mixed = match fixed {
            false => mix_pairs(&f1, Some(&f2), &probs, 1 << 22).unwrap(),
            true => FixedMix::new(&f1, &probs, 1 << 22)
                .unwrap()
                .expect("a fixed F1 without gradient takes the sorted path")
                .mix(&f1, &f2, &probs, 1 << 22)
                .unwrap(),
        };
        w.zero_grad();
        (&mixed * &upstream).sum(Kind::Float).backward();
        out.push((floats(&mixed), floats(&f2.grad()), floats(&w.grad())));
    }
    let ((v0, f0, w0), (v1, f1g, w1)) = (&out[0], &out[1]);
    assert_eq!(v0, v1, "the mixed values differ");
    let ties = floats(
        &f1.unsqueeze(2)
            .eq_tensor(&f2_values.unsqueeze(1))
            .to_kind(Kind::Float),
    );
    assert!(
        ties.iter().sum::<f32>() > 50.0,
        "too few ties to test the tie rule"
    );
    for (what, x, y) in [("F2", f0, f1g), ("weight", w0, w1)] {
        let scale = x.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            assert!(
                (p - q).abs() <= 1e-5 * scale,
                "{what} gradient {i}: maximum {p}, sorted {q}"
            );
        }
    }
}
