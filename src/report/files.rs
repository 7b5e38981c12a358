//! Atomic writes: every file the program writes (JSON, CSV, PNG plots, model weights) goes to a
//! temporary file beside its target, is flushed to disk and then renamed into place, so an
//! interrupted run leaves each file either complete or absent, never half-written.
//!
//! [`write_via`] is the one place this happens; [`write_atomic`] and [`write_json`] are its
//! byte and JSON forms, and writers that insist on a path of their own (the plotters PNG
//! backend, LibTorch's `save`) call [`write_via`] directly.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The temporary sibling of `path`: hidden, and with the same extension, because some writers
/// (the plotters bitmap backend) choose the file format from it.
pub fn temp_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "out".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!(".{stem}.part.{}", ext.to_string_lossy()),
        None => format!(".{stem}.part"),
    };
    path.with_file_name(name)
}

/// Writes `path` atomically through a writer that needs a path: creates the parent folders,
/// lets `write` fill the temporary file [`temp_path`], flushes it to disk and renames it over
/// `path`. If `write` fails the temporary file is removed and `path` is left as it was.
pub fn write_via<T>(path: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temp_path(path);
    let finish = |value: T| -> Result<T> {
        // The data must be on disk before the rename makes it visible under the real name.
        OpenOptions::new()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        Ok(value)
    };
    match write(&tmp).and_then(finish) {
        Ok(value) => {
            sync_dir(dir);
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Makes the rename itself durable where the platform allows it. Best effort: the file is
/// already complete under its name, so a failure here loses nothing a reader could see.
fn sync_dir(dir: Option<&Path>) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir.unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `contents` to `path` atomically, creating parent folders.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_via(path, |tmp| {
        std::fs::write(tmp, contents).map_err(|e| Error::io(tmp, e))
    })
}

/// Serialises `value` as pretty JSON, with a final newline, to `path` atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::Data {
        path: path.to_path_buf(),
        msg: format!("could not serialise as JSON: {e}"),
    })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dilp-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn temp_path_is_a_hidden_sibling_with_the_same_extension() {
        let p = Path::new("out/run/curves.png");
        assert_eq!(temp_path(p), Path::new("out/run/.curves.part.png"));
        assert_eq!(temp_path(Path::new("x")), Path::new(".x.part"));
    }

    #[test]
    fn writes_create_folders_and_leave_no_temporary_file() {
        let dir = scratch("write");
        let path = dir.join("a/b/report.json");
        write_json(&path, &serde_json::json!({ "k": [1, 2] })).unwrap();
        let back: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back["k"][1], 2);
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_the_temporary_one() {
        let dir = scratch("fail");
        let path = dir.join("model.ot");
        write_atomic(&path, b"old").unwrap();
        let err = write_via(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err::<(), _>(Error::Data {
                path: tmp.to_path_buf(),
                msg: "interrupted".into(),
            })
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!temp_path(&path).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
