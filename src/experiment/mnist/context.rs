//! What every run of a study shares: MNIST, the pretrained conv-net (and, for frozen runs, its
//! cached logits) and the task the runs learn; and the perception each run builds from it.

use crate::error::Result;
use crate::neuro::perception::logits_of;
use crate::neuro::taskfile::{self, NeuroTask};
use crate::neuro::{Perception, VisionMode};
use crate::vision::{self, ConvNet, Mnist, PretrainConfig};
use std::path::Path;
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
        }
    }

    /// The task every later run learns (see [`taskfile::load_checked`]).
    pub fn set_task(&mut self, task: NeuroTask) {
        self.task = task;
    }

    /// Logits of every training and test image under the frozen conv-net (computed once).
    pub fn cache_logits(&mut self) -> Result<()> {
        if self.cached.is_none() {
            let tr = logits_of(&self.net, &self.mnist.train_images, self.device)?;
            let te = logits_of(&self.net, &self.mnist.test_images, self.device)?;
            self.cached = Some((tr, te));
        }
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
