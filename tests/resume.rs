//! Interruption: `dilp bench tasks` and `bench noise` are killed as a child process after their
//! first finished unit; every file they leave is whole, and a rerun with `--resume` keeps the
//! finished units (their records untouched) and ends with the table an uninterrupted run
//! writes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/tasks")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dilp-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn dilp(args: &[&str], out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dilp"));
    c.args(["--threads", "1", "bench"])
        .args(args)
        .arg("--dir")
        .arg(tasks_dir())
        .arg("--out")
        .arg(out)
        .args(["--device", "cpu"]);
    c
}

/// The saved unit records of `out/parts` (not `run.json`) with their bytes and times.
fn records(out: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let Ok(entries) = std::fs::read_dir(out.join("parts")) else {
        return Vec::new();
    };
    let mut v: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".json") && name != "run.json" && !name.starts_with('.')
        })
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let time = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, bytes, time)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Starts the command, kills it as soon as its first record exists (it must still be running
/// then) and returns the records it left.
fn kill_after_first_record(mut cmd: Command, out: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before its first record could be seen");
        }
        if !records(out).is_empty() {
            child.kill().unwrap();
            let status = child.wait().unwrap();
            assert!(!status.success(), "killed, not finished");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no record");
        std::thread::sleep(Duration::from_millis(2));
    }
    records(out)
}

/// Every file under `dir` is whole: JSON parses, CSV rows have the header's width and end in a
/// newline, PNG ends with its IEND chunk. Hidden `.NAME.part.EXT` files are an atomic write in
/// flight, never a result; they are counted and returned.
fn assert_whole(dir: &Path) -> usize {
    let mut temporaries = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            temporaries += assert_whole(&path);
            continue;
        }
        if name.starts_with('.') && name.contains(".part") {
            temporaries += 1;
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        match path.extension().and_then(|x| x.to_str()) {
            Some("json") => {
                serde_json::from_slice::<Value>(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            Some("csv") => {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.ends_with('\n'), "{}", path.display());
                let width = text.lines().next().unwrap().split(',').count();
                for l in text.lines() {
                    assert_eq!(l.split(',').count(), width, "{}: {l}", path.display());
                }
            }
            Some("png") => {
                assert!(
                    bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                    "{}",
                    path.display()
                );
                assert!(bytes.ends_with(b"IEND\xaeB`\x82"), "{}", path.display());
            }
            _ => panic!("unexpected file {}", path.display()),
        }
    }
    temporaries
}

fn finish(mut cmd: Command) -> String {
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

/// Timings differ between runs of the same work; everything else must not.
const TIMINGS: [&str; 3] = ["seconds", "ms_per_step", "peak_rss_mib"];

fn json_without_timings(path: &Path) -> Value {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    for row in v.as_array_mut().unwrap() {
        for t in TIMINGS {
            row.as_object_mut().unwrap().remove(t);
        }
    }
    v
}

fn csv_without_timings(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    text.lines()
        .map(|l| {
            l.split(',')
                .zip(&header)
                .filter(|(_, h)| !TIMINGS.contains(h))
                .map(|(x, _)| x)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// Kills, checks, resumes, and compares with an uninterrupted run; returns both folders.
fn interrupt_and_resume(name: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let (cut, whole) = (
        scratch(&format!("{name}-cut")),
        scratch(&format!("{name}-whole")),
    );
    let kept = kill_after_first_record(dilp(args, &cut), &cut);
    assert!(!kept.is_empty());
    assert_whole(&cut);
    let err = finish({
        let mut c = dilp(args, &cut);
        c.arg("--resume");
        c
    });
    assert!(err.contains("(resumed)"), "{err}");
    assert_eq!(
        assert_whole(&cut),
        0,
        "temporary files left after a whole run"
    );
    let after = records(&cut);
    for (path, bytes, time) in &kept {
        let (_, b, t) = after.iter().find(|(p, ..)| p == path).unwrap();
        assert!(
            b == bytes && t == time,
            "{} was computed again",
            path.display()
        );
    }
    assert!(after.len() > kept.len(), "the rest was completed");
    finish(dilp(args, &whole));
    (cut, whole)
}

#[test]
fn bench_tasks_resumes_after_a_kill() {
    let args = [
        "tasks",
        "--only",
        "predecessor,undirected_edge,son",
        "--seeds",
        "8",
        "--steps",
        "400",
    ];
    let (cut, whole) = interrupt_and_resume("tasks", &args);
    assert_eq!(
        json_without_timings(&cut.join("table3.json")),
        json_without_timings(&whole.join("table3.json"))
    );
    assert_eq!(
        csv_without_timings(&cut.join("table3.csv")),
        csv_without_timings(&whole.join("table3.csv"))
    );
    // Other settings are refused by name, before any training.
    let mut other = args;
    other[4] = "9";
    let mut c = dilp(&other, &cut);
    c.arg("--resume");
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("learn.seeds: was 8, now 9"), "{err}");
    for d in [cut, whole] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// One task, three ρ: the kill leaves at least one ρ to do.
#[test]
fn bench_noise_resumes_after_a_kill() {
    let args = [
        "noise",
        "--only",
        "predecessor",
        "--rho",
        "0.1,0.2,0.3",
        "--seeds",
        "4",
        "--steps",
        "400",
    ];
    let (cut, whole) = interrupt_and_resume("noise", &args);
    // No timings in Table 4's files: byte for byte the same.
    for f in ["table4.json", "table4.csv"] {
        assert_eq!(
            std::fs::read(cut.join(f)).unwrap(),
            std::fs::read(whole.join(f)).unwrap(),
            "{f}"
        );
    }
    for d in [cut, whole] {
        std::fs::remove_dir_all(d).unwrap();
    }
}
