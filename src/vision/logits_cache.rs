//! The frozen conv-net's logits of every MNIST image, kept beside its checkpoint:
//! `<dir>/convnet.logits.ot` (tensors `train` `[60000, 10]` and `test` `[10000, 10]`) and
//! `<dir>/convnet.logits.json` ([`LogitsMeta`]).
//!
//! A frozen run reads digits only through these logits, and computing them is the conv-net's
//! forward pass over 70,000 images: on two CPU cores it costs more than the whole ∂ILP run. The
//! pretrained weights never change, so the logits are computed once per checkpoint and reused by
//! every later run (in any process), bit for bit the tensors a run would have computed itself.
//!
//! The file is a cache, never a source of truth: it is used only when its JSON names the very
//! checkpoint (the SHA-256 of `convnet.ot`), the same MNIST files, the same device kind and the
//! same tensor file (its own SHA-256); anything else, a missing, stale or corrupt file, is
//! silently recomputed and rewritten. Both files are written atomically, the tensors first and
//! the JSON last, so an interrupted save never leaves a cache that loads.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::{digest, mnist};
use crate::report::files::{write_json, write_via};
use crate::{Error, Result};

/// Version of the cache layout; a file of another version is recomputed.
pub const FORMAT: u32 = 1;

/// The JSON half of the cache: what the logits were computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogitsMeta {
    pub format: u32,
    /// SHA-256 of the checkpoint's `convnet.ot` whose net computed the logits.
    pub weights_sha256: String,
    /// SHA-256 of the MNIST image files (training, test) the images came from.
    pub images_sha256: Vec<String>,
    /// The device kind the logits were computed on (`cpu` or `cuda`): the two differ in the
    /// last bits.
    pub device: String,
    /// Rows of the `train` and `test` tensors.
    pub train: i64,
    pub test: i64,
    /// SHA-256 of `convnet.logits.ot`.
    pub logits_sha256: String,
}

/// The two file paths of the cache in `dir`.
pub fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (
        dir.join("convnet.logits.ot"),
        dir.join("convnet.logits.json"),
    )
}

fn device_kind(device: Device) -> &'static str {
    if device.is_cuda() {
        "cuda"
    } else {
        "cpu"
    }
}

/// The MNIST image files' digests, training first (the loader checks every file against them).
fn images_sha256() -> Vec<String> {
    (mnist::FILES.iter())
        .filter(|f| f.images)
        .map(|f| f.sha256.to_string())
        .collect()
}

/// The cached (training, test) logits of the checkpoint with digest `weights_sha256`, on
/// `device`; `None` when there is no cache for exactly that checkpoint, data and device kind, or
/// the cache does not read back whole.
pub fn load(dir: &Path, weights_sha256: &str, device: Device) -> Option<(Tensor, Tensor)> {
    let (ot, json) = paths(dir);
    let meta: LogitsMeta = serde_json::from_str(&std::fs::read_to_string(json).ok()?).ok()?;
    let fits = meta.format == FORMAT
        && meta.weights_sha256 == weights_sha256
        && meta.images_sha256 == images_sha256()
        && meta.device == device_kind(device);
    let bytes = std::fs::read(&ot).ok()?;
    if !fits || digest::hex_digest(&bytes) != meta.logits_sha256 {
        return None;
    }
    let stored =
        Tensor::load_multi_from_stream_with_device(std::io::Cursor::new(bytes), device).ok()?;
    let get = |name: &str, rows: i64| {
        (stored.iter())
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.shallow_clone())
            .filter(|t| t.size() == [rows, 10] && t.kind() == Kind::Float)
    };
    Some((get("train", meta.train)?, get("test", meta.test)?))
}

/// Saves the logits `train` `[N, 10]` and `test` `[M, 10]` of the checkpoint with digest
/// `weights_sha256`, computed on `device`, to `dir`.
pub fn save(
    dir: &Path,
    weights_sha256: &str,
    device: Device,
    train: &Tensor,
    test: &Tensor,
) -> Result<()> {
    let (ot, json) = paths(dir);
    let cpu = |t: &Tensor| {
        t.f_to_device(Device::Cpu)
            .map_err(|e| Error::Torch(format!("copying logits {:?} to the CPU: {e}", t.size())))
    };
    let (tr, te) = (cpu(train)?, cpu(test)?);
    // Written under a name of this process's own, then renamed: two runs that fill the cache at
    // once cannot interleave their bytes, and the digest describes exactly the bytes renamed.
    let own = dir.join(format!(".convnet.logits.{}.ot", std::process::id()));
    let logits_sha256 = write_via(&own, |tmp| {
        Tensor::save_multi(&[("train", &tr), ("test", &te)], tmp).map_err(|e| Error::Data {
            path: ot.clone(),
            msg: format!("could not save the logits: {e}"),
        })?;
        let bytes = std::fs::read(tmp).map_err(|e| Error::io(tmp, e))?;
        Ok(digest::hex_digest(&bytes))
    })?;
    std::fs::rename(&own, &ot).map_err(|e| Error::io(&ot, e))?;
    write_json(
        &json,
        &LogitsMeta {
            format: FORMAT,
            weights_sha256: weights_sha256.to_string(),
            images_sha256: images_sha256(),
            device: device_kind(device).to_string(),
            train: tr.size()[0],
            test: te.size()[0],
            logits_sha256,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits(rows: i64, seed: f64) -> Tensor {
        Tensor::arange(rows * 10, (Kind::Float, Device::Cpu))
            .view([rows, 10])
            .multiply_scalar(seed)
            .sin()
    }

    #[test]
    fn round_trips_bit_for_bit_and_refuses_any_other_key_or_a_damaged_file() {
        let dir = std::env::temp_dir().join(format!("dilp-logits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (tr, te) = (logits(7, 0.37), logits(3, 1.3));
        assert!(
            load(&dir, "abc", Device::Cpu).is_none(),
            "nothing saved yet"
        );
        save(&dir, "abc", Device::Cpu, &tr, &te).unwrap();
        let (tr2, te2) = load(&dir, "abc", Device::Cpu).expect("the cache just written");
        assert!(tr2.equal(&tr) && te2.equal(&te));
        assert!(
            load(&dir, "abd", Device::Cpu).is_none(),
            "another checkpoint"
        );
        let (ot, json) = paths(&dir);
        let mut bytes = std::fs::read(&ot).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&ot, &bytes).unwrap();
        assert!(
            load(&dir, "abc", Device::Cpu).is_none(),
            "a damaged tensor file"
        );
        std::fs::write(&json, "{").unwrap();
        assert!(load(&dir, "abc", Device::Cpu).is_none(), "a damaged JSON");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
