//! Conv-net checkpoints: `<dir>/convnet.ot` (the tensors, LibTorch's format) beside
//! `<dir>/convnet.json` ([`CheckpointMeta`]: architecture, pretraining config, seed, test
//! accuracy, tch version, creation date, tensor shapes and the SHA-256 of the `.ot` file).
//!
//! Both files are written atomically ([`crate::report::files`]), the tensors first and the JSON
//! last, so a reader never sees a half-written file; and because the JSON records the digest of the
//! tensor file, a crash between the two renames (new `.ot`, old `.json`) is detected on load
//! rather than silently mixing two models.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::convnet::{ConvNet, ConvNetConfig};
use super::mnist::Mnist;
use super::pretrain::{pretrain, PretrainConfig, PretrainReport, Progress};
use super::{digest, torch_err};
use crate::report::files::{write_json, write_via};
use crate::{Error, Result};

/// Where `dilp mnist pretrain` keeps the model, relative to the repository root.
pub const DEFAULT_DIR: &str = "models";
/// Version of the checkpoint layout; bumped when [`CheckpointMeta`] changes incompatibly.
pub const FORMAT: u32 = 1;
/// The `tch` crate this build links (recorded, not checked on load).
pub const TCH_VERSION: &str = "0.26";

/// The JSON half of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    pub format: u32,
    pub net: ConvNetConfig,
    /// How the weights were made (`None` for weights that were not pretrained here).
    pub pretrain: Option<PretrainConfig>,
    pub seed: u64,
    /// MNIST test accuracy in `[0, 1]` (`None` if never scored).
    pub test_accuracy: Option<f64>,
    pub tch_version: String,
    /// UTC creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created: String,
    /// Name → shape of every tensor in the `.ot` file.
    pub tensors: BTreeMap<String, Vec<i64>>,
    /// SHA-256 of the `.ot` file.
    pub weights_sha256: String,
}

/// The two file paths of the checkpoint in `dir`.
pub fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("convnet.ot"), dir.join("convnet.json"))
}

/// Saves `net` to `dir` (created if needed). `pretrain`, `seed` and `test_accuracy` describe
/// how the weights were made; the rest of the metadata is filled in here and returned.
pub fn save(
    net: &ConvNet,
    dir: &Path,
    pretrain: Option<&PretrainConfig>,
    seed: u64,
    test_accuracy: Option<f64>,
) -> Result<CheckpointMeta> {
    let (ot, json) = paths(dir);
    let params = net.parameters();
    let cpu: Vec<(String, Tensor)> = params
        .iter()
        .map(|(n, t)| {
            Ok((
                n.clone(),
                t.f_to_device(tch::Device::Cpu).map_err(torch_err)?,
            ))
        })
        .collect::<Result<_>>()?;
    // The digest is taken from the temporary file, so it describes exactly the bytes renamed.
    let weights_sha256 = write_via(&ot, |tmp| {
        Tensor::save_multi(&cpu, tmp).map_err(torch_err)?;
        let bytes = std::fs::read(tmp).map_err(|e| Error::io(tmp, e))?;
        Ok(digest::hex_digest(&bytes))
    })?;
    let meta = CheckpointMeta {
        format: FORMAT,
        net: net.config().clone(),
        pretrain: pretrain.cloned(),
        seed,
        test_accuracy,
        tch_version: TCH_VERSION.to_string(),
        created: utc_now(),
        tensors: params.iter().map(|(n, t)| (n.clone(), t.size())).collect(),
        weights_sha256,
    };
    write_json(&json, &meta)?;
    Ok(meta)
}

/// Reads and checks only the metadata of the checkpoint in `dir`.
pub fn read_meta(dir: &Path) -> Result<CheckpointMeta> {
    let (_, json) = paths(dir);
    let text = std::fs::read_to_string(&json).map_err(|e| Error::io(&json, e))?;
    let meta: CheckpointMeta = serde_json::from_str(&text).map_err(|e| Error::Data {
        path: json.clone(),
        msg: format!("not a conv-net checkpoint description: {e}"),
    })?;
    if meta.format != FORMAT {
        return Err(Error::Data {
            path: json,
            msg: format!(
                "checkpoint format {} but this build reads {FORMAT}; pretrain again",
                meta.format
            ),
        });
    }
    meta.net.validate().map_err(|e| Error::Data {
        path: json.clone(),
        msg: e.to_string(),
    })?;
    Ok(meta)
}

/// Builds a conv-net under `path` with the checkpoint's architecture and loads its weights onto
/// `path`'s device. A missing file is an [`Error::Io`]; a corrupt or mismatched one (bad JSON,
/// wrong digest, missing, extra or wrongly shaped tensors) is an [`Error::Data`].
pub fn load(path: &nn::Path, dir: &Path) -> Result<(ConvNet, CheckpointMeta)> {
    let meta = read_meta(dir)?;
    let (ot, _) = paths(dir);
    let corrupt = |msg: String| Error::Data {
        path: ot.clone(),
        msg: format!("{msg}; delete it or run `dilp mnist pretrain` again"),
    };
    let bytes = std::fs::read(&ot).map_err(|e| Error::io(&ot, e))?;
    let digest = digest::hex_digest(&bytes);
    if digest != meta.weights_sha256 {
        return Err(corrupt(format!(
            "weights do not match convnet.json (SHA-256 {digest}, expected {})",
            meta.weights_sha256
        )));
    }
    let stored = Tensor::load_multi_with_device(&ot, path.device())
        .map_err(|e| corrupt(format!("unreadable weights: {e}")))?;
    let stored: BTreeMap<String, Tensor> = stored.into_iter().collect();
    // Check and copy in a scratch store first, so that a bad file adds nothing to `path`.
    let scratch_vs = nn::VarStore::new(path.device());
    let scratch = ConvNet::new(&scratch_vs.root(), &meta.net)?;
    let params = scratch.parameters();
    if stored.len() != params.len() {
        return Err(corrupt(format!(
            "{} tensors, expected {}",
            stored.len(),
            params.len()
        )));
    }
    tch::no_grad(|| {
        for (name, dst) in &params {
            let src = stored
                .get(name)
                .ok_or_else(|| corrupt(format!("tensor {name} missing")))?;
            if src.size() != dst.size() || src.kind() != Kind::Float {
                return Err(corrupt(format!(
                    "tensor {name} is {:?} {:?}, expected {:?} Float",
                    src.size(),
                    src.kind(),
                    dst.size()
                )));
            }
            if meta.tensors.get(name) != Some(&dst.size()) {
                return Err(corrupt(format!("convnet.json disagrees on tensor {name}")));
            }
            dst.shallow_clone().f_copy_(src).map_err(torch_err)?;
        }
        Ok(())
    })?;
    let net = ConvNet::new(path, &meta.net)?;
    net.copy_from(&scratch)?;
    Ok((net, meta))
}

/// Where a [`Loaded`] net came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// An existing valid checkpoint was reused.
    Reused,
    /// There was no usable checkpoint, so one was pretrained and saved. `replaced` is why an
    /// existing one was not used (`None` when there was none).
    Pretrained { replaced: Option<String> },
}

/// The result of [`load_or_pretrain`].
#[derive(Debug)]
pub struct Loaded {
    pub net: ConvNet,
    pub meta: CheckpointMeta,
    pub origin: Origin,
}

/// Loads the checkpoint in `dir` into `path` if there is a valid one (whatever config made it);
/// otherwise pretrains with `cfg` on `path`'s device, saves the result to `dir`, and loads it into
/// `path`. An unreadable or mismatched checkpoint is replaced, and the reason returned in
/// [`Origin::Pretrained`].
pub fn load_or_pretrain(
    path: &nn::Path,
    dir: &Path,
    cfg: &PretrainConfig,
    data: &Mnist,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Loaded> {
    let (ot, json) = paths(dir);
    let replaced = if ot.exists() || json.exists() {
        match load(path, dir) {
            Ok((net, meta)) => {
                return Ok(Loaded {
                    net,
                    meta,
                    origin: Origin::Reused,
                })
            }
            Err(e) => Some(e.to_string()),
        }
    } else {
        None
    };
    let PretrainReport {
        net: trained,
        test_accuracy,
        config,
        vs: _vs,
        ..
    } = pretrain(cfg, data, path.device(), on_progress)?;
    let meta = save(
        &trained,
        dir,
        Some(&config),
        config.seed,
        Some(test_accuracy),
    )?;
    let net = ConvNet::new(path, &config.net)?;
    net.copy_from(&trained)?;
    Ok(Loaded {
        net,
        meta,
        origin: Origin::Pretrained { replaced },
    })
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Proleptic Gregorian (year, month, day) of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
