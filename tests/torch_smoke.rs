//! LibTorch is found and runs a real tensor operation.
#![cfg(feature = "torch")]

#[test]
fn matmul_runs_through_libtorch() {
    let a = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
    let b = a.matmul(&a);
    let v: Vec<f32> = b.reshape([-1]).try_into().unwrap();
    assert_eq!(v, vec![7.0, 10.0, 15.0, 22.0]);
}
