//! Vision: MNIST loading (checked against its digests), the conv-net that reads digits, its
//! pretraining and checkpoints, the digit-pair split for the less-than study, and the MLP
//! baseline.
//!
//! Every network here is built on a [`tch::nn::Path`], so the conv-net, the MLP and the ∂ILP rule
//! weights can share one `VarStore` and one optimiser. Tensors default to the CPU copy of MNIST;
//! compute goes to whatever [`tch::Device`] the caller passes (normally
//! [`tch::Device::cuda_if_available`]).

pub mod checkpoint;
pub mod convnet;
pub mod digest;
pub mod digit_files;
pub mod logits_cache;
pub mod matching;
pub mod mlp;
pub mod mnist;
pub mod pairs;
pub mod preprocess;
pub mod pretrain;

pub use checkpoint::{load, load_or_pretrain, save, CheckpointMeta, Loaded, Origin};
pub use convnet::{ConvNet, ConvNetConfig};
pub use mlp::{Mlp, MlpConfig};
pub use mnist::Mnist;
pub use pairs::{Pair, PairSpec, PairSplit};
pub use pretrain::{accuracy, pretrain, PretrainConfig, PretrainReport, Progress};

/// Maps a LibTorch error into the crate's error type.
pub(crate) fn torch_err(e: tch::TchError) -> crate::Error {
    crate::error::torch_err(|| "vision")(e)
}
