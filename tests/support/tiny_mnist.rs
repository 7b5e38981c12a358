//! What the MNIST tests share: a one-image task small enough to learn in a test, and a tiny
//! MNIST context to run it on. Included by `#[path]` in each test file that needs it.
#![allow(dead_code)]

use std::path::Path;
use tch::{nn, Device};

/// A one-image task small enough to learn in a test: is the digit a 1?
pub const IS_ONE: &str = r#"
name = "mnist_is_one"
[language]
extensional = ["zero/1", "succ/2", "image/1"]
target = "target/0"
invented = ["pred1/1"]
[program]
steps = 3
[program.rules]
target = [{ v = 1, int = true }]
pred1 = [{ v = 1, int = false }]
[perception]
images = ["image"]
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5). succ(5,6). succ(6,7). succ(7,8). succ(8,9)."
labelling = "target :- image(X), zero(Z), succ(Z,X)."
"#;

/// The one-image task on 500 training and 300 test MNIST images, read by a small untrained
/// conv-net (frozen), the generator seeded first.
pub fn tiny_context() -> dilp::experiment::mnist::Context {
    let mut ctx = tiny_less_than_context();
    ctx.set_task(dilp::neuro::parse_neuro_task(IS_ONE, "is_one.toml").unwrap());
    ctx
}

/// The default task (less-than) on the same images and conv-net as [`tiny_context`].
pub fn tiny_less_than_context() -> dilp::experiment::mnist::Context {
    use dilp::vision::{ConvNet, ConvNetConfig, Mnist};
    tch::manual_seed(0);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist");
    let data = Mnist::load(dir).unwrap().subset(500, 300).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = ConvNetConfig {
        conv1: 4,
        conv2: 8,
        hidden: 16,
        dropout: 0.0,
    };
    let net = ConvNet::new(&vs.root(), &cfg).unwrap();
    dilp::experiment::mnist::Context::from_parts(data, vs, net, None, Device::Cpu)
}

/// Run settings small enough for a test on [`tiny_context`]: 200 training pairs, 100 test
/// pairs per split, 20 steps of batch 16 for ∂ILP and the MLP alike, no restarts.
pub fn tiny_run(held_out: f64) -> dilp::experiment::mnist::MnistRunConfig {
    let small = dilp::train::TrainConfig {
        steps: 20,
        batch_size: 16,
        eval_every: 10,
        eval_pairs: 50,
        ..Default::default()
    };
    dilp::experiment::mnist::MnistRunConfig {
        held_out,
        pairs: 200,
        test_pairs: 100,
        dilp: small.clone(),
        mlp: small,
        restarts: 0,
        ..Default::default()
    }
}
