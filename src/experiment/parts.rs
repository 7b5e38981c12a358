//! Resumable experiments: a long benchmark (`bench tasks`, `bench noise`) saves each finished
//! unit of work (a task; a task, ρ and flip draw) as its own small JSON record in the `parts/`
//! folder of its output directory the moment it finishes, written atomically like every other
//! file ([`crate::report::files`]). The tables, CSVs and plots are then written from the
//! records, so a run killed at any moment loses at most the unit in flight, and a rerun with
//! `--resume` loads the finished units instead of training them again.
//!
//! `parts/run.json` holds the settings every record depends on. A resumed run whose settings
//! differ is refused with the differing keys named, never mixed; a run without `--resume` that
//! finds an earlier run's records says so on stderr and starts afresh. Each record also carries
//! a fingerprint of the task file it was computed from, so an edited task file is refused too.
//! The shards of an MNIST sweep carry their runs to `dilp mnist merge` the same way
//! ([`super::mnist_shard`], which reads records and settings with [`read_record`] and
//! [`read_settings`]).

use crate::error::{Error, Result};
use crate::report::files::write_json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where an experiment writes its results, and whether it resumes an interrupted run there.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    /// The output folder (tables, CSVs, plots, and the records in `parts/`).
    pub dir: &'a Path,
    /// Keep the records an earlier run with the same settings saved (`--resume`; default
    /// false: start afresh).
    pub resume: bool,
}

impl<'a> Output<'a> {
    /// A fresh run into `dir`.
    pub fn fresh(dir: &'a Path) -> Self {
        Output { dir, resume: false }
    }
}

/// The record folder of one experiment's output directory.
pub struct Parts {
    dir: PathBuf,
    /// Whether records already on disk may be used (`--resume`).
    resume: bool,
}

/// One saved unit: the fingerprint of its task file and the unit's result.
#[derive(Serialize, Deserialize)]
struct Record<T> {
    task_file: String,
    result: T,
}

impl Parts {
    /// Opens `out/parts` for a run with `settings`. With `resume`, an earlier run's records are
    /// kept if its settings equal `settings` (else an error naming the differences); without,
    /// they are removed. Temporary files a killed write left behind are removed either way.
    pub fn open(out: &Path, settings: &Value, resume: bool) -> Result<Parts> {
        let dir = out.join("parts");
        remove_temporaries(out)?;
        remove_temporaries(&dir)?;
        let run = dir.join("run.json");
        let earlier = read_settings(out)?;
        match (earlier, resume) {
            (Some(old), true) => {
                let diffs = settings_differences(&old, settings);
                if !diffs.is_empty() {
                    return Err(Error::Config(format!(
                        "--resume: {} was written with other settings ({}); rerun with them, \
                         or without --resume to start afresh",
                        run.display(),
                        diffs.join("; ")
                    )));
                }
                return Ok(Parts { dir, resume });
            }
            (None, true) => eprintln!(
                "--resume: no earlier run in {}; starting afresh",
                dir.display()
            ),
            (Some(_), false) => {
                eprintln!(
                    "{} holds an earlier run's records; starting afresh (--resume keeps them)",
                    dir.display()
                );
                std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
            (None, false) => {}
        }
        write_json(&run, settings)?;
        Ok(Parts { dir, resume })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The saved result of unit `key` computed from a task file with fingerprint `task_file`
    /// ([`fingerprint`]), if this run resumes and one exists.
    pub fn get<T: DeserializeOwned>(&self, key: &str, task_file: &str) -> Result<Option<T>> {
        if !self.resume {
            return Ok(None);
        }
        let Some((print, result)) = read_record(&self.path(key))? else {
            return Ok(None);
        };
        if print != task_file {
            return Err(Error::Config(format!(
                "--resume: the task file changed since {} was written; rerun without --resume",
                self.path(key).display()
            )));
        }
        Ok(Some(result))
    }

    /// Saves the result of unit `key` atomically.
    pub fn put<T: Serialize>(&self, key: &str, task_file: &str, result: &T) -> Result<()> {
        let record = Record {
            task_file: task_file.to_string(),
            result,
        };
        write_json(&self.path(key), &record)
    }
}

/// Where unit `key`'s record lies in the output folder `out`: `out/parts/<key>.json`.
pub fn record_path(out: &Path, key: &str) -> PathBuf {
    out.join("parts").join(format!("{key}.json"))
}

/// Reads the record at `path`: the fingerprint of the task file it was computed from and its
/// result; `None` when there is no such file.
pub fn read_record<T: DeserializeOwned>(path: &Path) -> Result<Option<(String, T)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let record: Record<T> = serde_json::from_str(&text).map_err(|e| Error::Data {
        path: path.to_path_buf(),
        msg: format!(
            "line {}, column {}: not a record of this experiment: {e}",
            e.line(),
            e.column()
        ),
    })?;
    Ok(Some((record.task_file, record.result)))
}

/// The settings an experiment saved in `out/parts/run.json`; `None` when there is none.
pub fn read_settings(out: &Path) -> Result<Option<Value>> {
    let run = out.join("parts").join("run.json");
    let text = match std::fs::read_to_string(&run) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&run, e)),
    };
    let value = serde_json::from_str(&text).map_err(|e| Error::Data {
        path: run.clone(),
        msg: format!("line {}, column {}: {e}", e.line(), e.column()),
    })?;
    Ok(Some(value))
}

/// Where `new` differs from `old`: one `key: was X, now Y` per differing key (dotted paths).
pub fn settings_differences(old: &Value, new: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    differences("", old, new, &mut diffs);
    diffs
}

/// A fingerprint of a task file's bytes (64-bit FNV-1a, in hex): stable across platforms and
/// builds, which the standard library's hasher does not promise.
pub fn fingerprint(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(fingerprint_bytes(&bytes))
}

/// [`fingerprint`] of bytes already read (a task's text, say).
pub fn fingerprint_bytes(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The settings of `config` that decide a unit's result: all of it but the memory budget,
/// which only decides whether a run is refused.
pub fn learn_settings(config: &crate::dilp::LearnConfig) -> Value {
    let mut v = serde_json::to_value(config).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("memory_limit_mib");
    }
    v
}

/// The keys (dotted paths) where `new` differs from `old`, with both values.
fn differences(at: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                differences(&here, x, y, out);
            }
        }
        _ if old != new => out.push(format!("{at}: was {old}, now {new}")),
        _ => {}
    }
}

/// Removes the hidden temporary files ([`crate::report::files::temp_path`]) a killed write left
/// in `dir`; they were never results.
fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".part") && e.path().is_file() {
            std::fs::remove_file(e.path()).map_err(|err| Error::io(e.path(), err))?;
        }
    }
    Ok(())
}

/// Reads a float that serde_json wrote as `null` because it was not finite (NaN: a seed with
/// no crisp program) back as NaN, so a record reads back to the value that was saved.
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dilp-parts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn resume_keeps_records_and_refuses_other_settings() {
        let out = scratch("resume");
        let s = json!({ "learn": { "steps": 10, "seed": 0 } });
        let p = Parts::open(&out, &s, false).unwrap();
        p.put("a", "f1", &1.5_f64).unwrap();
        let p = Parts::open(&out, &s, true).unwrap();
        assert_eq!(p.get::<f64>("a", "f1").unwrap(), Some(1.5));
        assert_eq!(p.get::<f64>("b", "f1").unwrap(), None);
        assert!(p.get::<f64>("a", "f2").is_err(), "an edited task file");
        let other = json!({ "learn": { "steps": 20, "seed": 0 } });
        let e = Parts::open(&out, &other, true).err().unwrap().to_string();
        assert!(e.contains("learn.steps: was 10, now 20"), "{e}");
        // Without --resume the earlier records go.
        let p = Parts::open(&out, &other, false).unwrap();
        assert!(!out.join("parts/a.json").exists());
        assert_eq!(p.get::<f64>("a", "f1").unwrap(), None);
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn a_killed_write_leaves_no_temporary_file_behind() {
        let out = scratch("temp");
        std::fs::create_dir_all(out.join("parts")).unwrap();
        std::fs::write(out.join(".table3.part.json"), b"{\"half").unwrap();
        std::fs::write(out.join("parts/.son.part.json"), b"{").unwrap();
        Parts::open(&out, &json!({}), true).unwrap();
        assert!(!out.join(".table3.part.json").exists());
        assert!(!out.join("parts/.son.part.json").exists());
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn nan_reads_back_from_null() {
        #[derive(Deserialize)]
        struct S {
            #[serde(deserialize_with = "f64_or_nan")]
            x: f64,
        }
        let s: S =
            serde_json::from_str(&serde_json::to_string(&json!({ "x": null })).unwrap()).unwrap();
        assert!(s.x.is_nan());
        let s: S = serde_json::from_str("{\"x\": 0.1}").unwrap();
        assert_eq!(s.x, 0.1);
    }
}
