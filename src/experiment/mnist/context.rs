//! What every run of a study shares: MNIST, the pretrained conv-net (and, for frozen runs, its
//! cached logits) and the task the runs learn; and the perception each run builds from it.
//!
//! A context from [`prepare`] also keeps the frozen logits on disk beside the checkpoint
//! ([`vision::logits_cache`]): the conv-net's pass over 70,000 images is the largest cost of a
//! frozen run on a few CPU cores, and it gives the same tensors every time.

use crate::error::Result;
use crate::neuro::perception::logits_of;
use crate::neuro::taskfile::{self, NeuroTask};
use crate::neuro::{Perception, VisionMode};
use crate::vision::{self, logits_cache, ConvNet, Mnist, PretrainConfig};
use std::path::{Path, PathBuf};
use tch::{nn, Device, Tensor};

/// MNIST, the pretrained conv-net and (for frozen runs) its cached logits, shared by every run,
/// and the task the runs learn (less-than unless [`Context::set_task`] says otherwise).
pub struct Context {
    pub task: NeuroTask,
    pub mnist: Mnist,
    _vs: nn::VarStore,
    pub net: ConvNet,
    pub net_accuracy: Option<f64>,
    pub cached: Option<(Tensor, Tensor)>,
    pub device: Device,
    /// The checkpoint's folder and the SHA-256 of its weights, under which the frozen logits are
    /// kept on disk (None: computed in memory only, as for a context made from parts).
    logits_store: Option<(PathBuf, String)>,
}

/// Loads MNIST and the conv-net (pretraining it when there is no valid checkpoint).
pub fn prepare(
    data_dir: &Path,
    model_dir: &Path,
    device: Device,
    force_pretrain: bool,
) -> Result<Context> {
    let mnist = Mnist::load(data_dir)?;
    let vs = nn::VarStore::new(device);
    if force_pretrain {
        for p in [
            vision::checkpoint::paths(model_dir).0,
            vision::checkpoint::paths(model_dir).1,
        ] {
            let _ = std::fs::remove_file(p);
        }
    }
    let cfg = PretrainConfig::default();
    let bar = crate::report::progress::bar("pretrain", 1);
    let loaded = vision::load_or_pretrain(&vs.root(), model_dir, &cfg, &mnist, &mut |p| {
        bar.set_length(p.total_steps as u64);
        bar.set_position(p.step as u64);
        bar.set_message(format!("epoch {}/{} loss {:.4}", p.epoch, p.epochs, p.loss));
    })?;
    bar.finish_and_clear();
    Ok(Context {
        task: taskfile::less_than()?,
        net_accuracy: loaded.meta.test_accuracy,
        mnist,
        _vs: vs,
        net: loaded.net,
        cached: None,
        device,
        logits_store: Some((model_dir.to_path_buf(), loaded.meta.weights_sha256)),
    })
}

impl Context {
    /// A context from data and a conv-net already at hand (`vs` owns the net's variables).
    pub fn from_parts(
        mnist: Mnist,
        vs: nn::VarStore,
        net: ConvNet,
        net_accuracy: Option<f64>,
        device: Device,
    ) -> Self {
        Context {
            task: taskfile::less_than().expect("the shipped less-than task parses"),
            mnist,
            _vs: vs,
            net,
            net_accuracy,
            cached: None,
            device,
            logits_store: None,
        }
    }

    /// The task every later run learns (see [`taskfile::load_checked`]).
    pub fn set_task(&mut self, task: NeuroTask) {
        self.task = task;
    }

    /// Logits of every training and test image under the frozen conv-net: computed once per
    /// checkpoint, read back from its logits file when it has one (a file that cannot be written
    /// costs only the time: the run goes on, and says so).
    pub fn cache_logits(&mut self) -> Result<()> {
        if self.cached.is_some() {
            return Ok(());
        }
        if let Some((dir, sha)) = &self.logits_store {
            if let Some(kept) = logits_cache::load(dir, sha, self.device) {
                self.cached = Some(kept);
                return Ok(());
            }
        }
        let tr = logits_of(&self.net, &self.mnist.train_images, self.device)?;
        let te = logits_of(&self.net, &self.mnist.test_images, self.device)?;
        if let Some((dir, sha)) = &self.logits_store {
            if let Err(e) = logits_cache::save(dir, sha, self.device, &tr, &te) {
                eprintln!("note: the frozen conv-net's logits are not kept for later runs: {e}");
            }
        }
        self.cached = Some((tr, te));
        Ok(())
    }

    /// The digit reader of a run: the cached logits when frozen, else a conv-net under `path`
    /// (a copy of the pretrained one when fine-tuning).
    pub(super) fn perception(&mut self, mode: VisionMode, path: &nn::Path) -> Result<Perception> {
        match mode {
            VisionMode::Frozen => {
                self.cache_logits()?;
                let (tr, te) = self.cached.as_ref().expect("cached above");
                Ok(Perception::Cached {
                    train: tr.shallow_clone(),
                    test: te.shallow_clone(),
                })
            }
            VisionMode::Finetune | VisionMode::Scratch | VisionMode::Joint => {
                let net = ConvNet::new(path, self.net.config())?;
                if mode == VisionMode::Finetune {
                    net.copy_from(&self.net)?;
                }
                Ok(Perception::Live {
                    net,
                    train: self.mnist.train_images.shallow_clone(),
                    test: self.mnist.test_images.shallow_clone(),
                })
            }
        }
    }
}
