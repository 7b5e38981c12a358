//! LibTorch failures, out of memory first, come back as `dilp::Error`s that name the step and
//! the tensor shapes, never as a panic or an abort.
#![cfg(feature = "torch")]

use dilp::dilp::infer::mix_pairs;
use dilp::error::torch_err;
use tch::{Device, Kind, Tensor};

/// A tensor of `dims` that takes no memory (one float, broadcast).
fn huge_view(dims: &[i64]) -> Tensor {
    let one = Tensor::zeros(vec![1; dims.len()].as_slice(), (Kind::Float, Device::Cpu));
    one.expand(dims, false)
}

#[test]
fn an_absurd_allocation_is_an_error_naming_the_step() {
    // 2^48 floats (1 PiB): beyond any address space, even with memory overcommit, and no
    // overflow of the size itself.
    let dims = [1i64 << 24, 1 << 20, 1 << 4];
    let e = Tensor::f_zeros(dims, (Kind::Float, Device::Cpu))
        .map_err(torch_err(|| format!("a test allocation of {dims:?}")))
        .unwrap_err()
        .to_string();
    eprintln!("{e}");
    assert!(
        e.contains("a test allocation of [16777216, 1048576, 16]"),
        "{e}"
    );
    // LibTorch's C++ backtrace is cut off; its own reason stays.
    assert!(!e.contains("frame #"), "{e}");
    assert!(e.len() < 2000, "{e}");
}

#[test]
fn clause_pair_mixing_out_of_memory_names_its_shapes() {
    // F1 and F2 are broadcast views; their pairwise maximum would need 2^48 floats (1 PiB),
    // beyond any address space.
    let (k, n) = (1i64 << 14, 1i64 << 20);
    let f1 = huge_view(&[1, k, n]);
    let f2 = huge_view(&[1, k, n]);
    let probs = huge_view(&[1, k, k]);
    let e = mix_pairs(&f1, Some(&f2), &probs, usize::MAX)
        .unwrap_err()
        .to_string();
    assert!(!e.contains("frame #"), "{e}");
    eprintln!("{e}");
    assert!(e.contains("mixing clause pairs"), "{e}");
    assert!(e.contains("[1, 16384, 1048576]"), "{e}");
}

#[test]
fn a_shape_mismatch_is_an_error_too() {
    // F1 must be [B, K1, n]: a 2-d tensor is refused with the shapes, not with a panic.
    let f1 = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
    let probs = Tensor::zeros([1, 3, 1], (Kind::Float, Device::Cpu));
    let e = mix_pairs(&f1, None, &probs, 1 << 20)
        .unwrap_err()
        .to_string();
    assert!(e.contains("F1 [2, 3]"), "{e}");
}
