//! `infer` evaluates what cannot change within a call once (`dilp::stage`) and takes the
//! gradient of a moving second template through sorted fixed values (`dilp::fixed_mix`). Held
//! here against the plain algorithm, every template evaluated at every step and every pair
//! mixed by `mix_pairs`, written out from the public pieces: the valuations bit for bit, the
//! rule weights' gradients up to float rounding, on the MNIST module and on symbolic tasks.
#![cfg(feature = "torch")]

use dilp::dilp::compile::{CompiledTask, CompiledWorld};
use dilp::dilp::infer::{clause_values, infer, mix_pairs, InferOptions};
use dilp::dilp::weights::pair_softmax;
use dilp::dilp::RuleWeights;
use dilp::neuro::{merge_valuation, RuleModule};
use tch::{nn, Device, Kind, Tensor};

/// T plain steps of product-t-norm, probabilistic-sum inference from `init` (`[B, n]`).
fn plain_infer(world: &CompiledWorld, init: &Tensor, probs: &[Tensor], steps: usize) -> Tensor {
    let opts = InferOptions::default();
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
    for (l, r) in [(soft(24), soft(24)), (hard(10), hard(10).flip([0]))] {
        let init = merge_valuation(&m.world.init, &ranges, &[&l, &r]).unwrap();
        compare(&m.weights, &|staged, probs| match staged {
            true => infer(&m.world, &init, probs, 10, &m.opts).unwrap(),
            false => plain_infer(&m.world, &init, probs, 10),
        });
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
        compare(&w.tensors, &|staged, probs| match staged {
            true => infer(
                world,
                &world.init,
                probs,
                world.steps,
                &InferOptions::default(),
            )
            .unwrap(),
            false => plain_infer(world, &init, probs, world.steps),
        });
    }
}
