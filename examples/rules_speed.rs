//! Times one training step of the MNIST less-than rule module on random digit distributions.
use dilp::neuro::RuleModule;
use std::time::Instant;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

fn main() {
    tch::set_num_threads(
        std::env::var("T")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
    );
    let b: i64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let vs = nn::VarStore::new(Device::Cpu);
    let m = RuleModule::new(&vs.root(), Device::Cpu).unwrap();
    let mut opt = nn::Adam::default().build(&vs, 0.05).unwrap();
    let l = Tensor::randn([b, 10], (Kind::Float, Device::Cpu)).softmax(-1, Kind::Float);
    let r = Tensor::randn([b, 10], (Kind::Float, Device::Cpu)).softmax(-1, Kind::Float);
    let y = Tensor::ones([b], (Kind::Float, Device::Cpu));
    for i in 0..6 {
        let t = Instant::now();
        let p = m.forward(&l, &r).clamp(1e-6, 1.0 - 1e-6);
        let loss = (&y - p).square().mean(Kind::Float);
        let f = t.elapsed();
        opt.backward_step(&loss);
        println!("step {i}: forward {:?}, total {:?}", f, t.elapsed());
    }
}
