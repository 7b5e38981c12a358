//! Sharded sweeps: N shards of a tiny sweep, merged, write what the unsharded sweep wrote
//! (timings aside), and the merge refuses shard folders that are missing, repeated, unfinished
//! or made with other settings; `--shard` refuses what is not I/N.
#![cfg(feature = "torch")]

#[path = "support/tiny_mnist.rs"]
mod tiny_mnist;

use dilp::experiment::mnist_shard::{merge, Shard};
use dilp::experiment::mnist_sweep::{sweep_with, SweepOptions, FIGURE7_SIZE};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tiny_mnist::{tiny_context, tiny_run};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dilp-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Two proportions, two runs each: four runs of 20 steps on the tiny context.
fn options(out: &Path, shard: Option<Shard>) -> SweepOptions {
    SweepOptions {
        held_out: vec![0.2, 0.5],
        runs: 2,
        base: tiny_run(0.0),
        device: tch::Device::Cpu,
        out: out.to_path_buf(),
        data_dir: PathBuf::new(),
        model_dir: PathBuf::new(),
        resume: false,
        shard,
    }
}

/// `sweep.csv` without its timing columns, as text fields.
fn csv_without_times(dir: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(dir.join("sweep.csv")).unwrap();
    let header = r.headers().unwrap().clone();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&k| !header[k].ends_with("seconds"))
        .collect();
    let mut rows = vec![keep.iter().map(|&k| header[k].to_string()).collect()];
    for rec in r.records() {
        let rec = rec.unwrap();
        rows.push(keep.iter().map(|&k| rec[k].to_string()).collect());
    }
    rows
}

/// `sweep.json`'s reports without their timings.
fn json_without_times(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("sweep.json")).unwrap();
    let mut v: Vec<Value> = serde_json::from_str(&text).unwrap();
    for r in &mut v {
        r.as_object_mut()
            .unwrap()
            .retain(|k, _| !k.ends_with("seconds"));
    }
    v
}

fn merge_error(dirs: &[&PathBuf], out: &Path) -> String {
    let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    merge(&dirs, out).unwrap_err().to_string()
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn three_shards_merged_equal_the_unsharded_sweep() {
    tch::set_num_threads(1);
    let now = std::time::Instant::now;
    let whole = scratch("whole");
    let summary = sweep_with(&mut tiny_context(), &options(&whole, None), now()).unwrap();
    // Each shard on its own context, as on its own machine.
    let shards: Vec<PathBuf> = (1..=3).map(|i| scratch(&format!("part{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = Shard {
            index: i + 1,
            count: 3,
        };
        let said = sweep_with(&mut tiny_context(), &options(dir, Some(shard)), now()).unwrap();
        assert!(said.contains(&format!("shard {}/3", i + 1)), "{said}");
        for partial in ["sweep.csv", "sweep.json", "heldout_accuracy.png"] {
            assert!(!dir.join(partial).exists(), "a shard wrote {partial}");
        }
    }
    // Round robin over h0.2-run0, h0.2-run1, h0.5-run0, h0.5-run1: shard 1 has the first and
    // the last.
    assert!(shards[0].join("parts/h0.5-run1.json").is_file());
    assert!(!shards[1].join("parts/h0.5-run1.json").exists());

    let merged = scratch("merged");
    let given = vec![shards[2].clone(), shards[0].clone(), shards[1].clone()];
    let said = merge(&given, &merged).unwrap();
    assert!(!csv_without_times(&whole).is_empty());
    assert_eq!(csv_without_times(&merged), csv_without_times(&whole));
    assert_eq!(json_without_times(&merged), json_without_times(&whole));
    // The printed table and program are the unsharded sweep's.
    let table = said.split_once('\n').unwrap().1;
    let table = table.split("\nresults and plots in").next().unwrap();
    assert!(table.contains("held-out pairs"), "{said}");
    assert!(summary.contains(table), "{summary}\n---\n{said}");
    for png in ["heldout_accuracy.png", "runs_reaching_96.png"] {
        assert!(merged.join(png).is_file(), "{png}");
    }
    // Figure 7's two panels in one picture, which decodes at its size; no shard draws it.
    for dir in &shards {
        assert!(!dir.join("figure7.png").exists(), "a shard drew Figure 7");
    }
    for dir in [&whole, &merged] {
        let figure = image::open(dir.join("figure7.png")).unwrap();
        assert_eq!((figure.width(), figure.height()), FIGURE7_SIZE);
    }

    refusals(&whole, &shards, &merged);
    for d in shards.iter().chain([&whole, &merged]) {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The merge's refusals, each naming what is wrong and where.
fn refusals(whole: &Path, shards: &[PathBuf], out: &Path) {
    let (s1, s2, s3) = (&shards[0], &shards[1], &shards[2]);
    let e = merge_error(&[s1, s3], out);
    assert!(
        e.contains("missing h0.2-run1 (shard 2/3: no folder of that shard was given)"),
        "{e}"
    );
    let e = merge_error(&[s1, s2, s3, s2], out);
    assert!(e.contains("h0.2-run1 more than once"), "{e}");
    assert!(e.contains(&s2.display().to_string()), "{e}");
    let e = merge_error(&[s1, s2, &whole.to_path_buf()], out);
    assert!(e.contains("without --shard"), "{e}");
    let e = merge_error(&[s1, s2, &out.join("nowhere")], out);
    assert!(e.contains("nowhere") && e.contains("run.json"), "{e}");

    // A shard made with other settings, or of a sweep split another way.
    let run = s3.join("parts/run.json");
    let saved = std::fs::read(&run).unwrap();
    edit_json(&run, |v| v["base"]["pairs"] = 300.into());
    let e = merge_error(&[s1, s2, s3], out);
    assert!(e.contains(&s3.display().to_string()), "{e}");
    assert!(e.contains("base.pairs: was 200, now 300"), "{e}");
    edit_json(&run, |v| v["sweep"]["shards"] = 4.into());
    let e = merge_error(&[s1, s2, s3], out);
    assert!(e.contains("sweep.shards: was 3, now 4"), "{e}");
    std::fs::write(&run, saved).unwrap();

    // A record of another task file.
    let record = s2.join("parts/h0.2-run1.json");
    let saved = std::fs::read(&record).unwrap();
    edit_json(&record, |v| v["task_file"] = "0000000000000000".into());
    let e = merge_error(&[s1, s2, s3], out);
    assert!(
        e.contains("another task file") && e.contains("h0.2-run1"),
        "{e}"
    );
    std::fs::write(&record, saved).unwrap();

    // An unfinished shard.
    std::fs::remove_file(s1.join("parts/h0.5-run1.json")).unwrap();
    let e = merge_error(&[s1, s2, s3], out);
    assert!(
        e.contains("missing h0.5-run1 (shard 1/3: not finished in"),
        "{e}"
    );
    assert!(!e.contains("h0.2-run0"), "{e}");
}

/// `--shard` refuses what is not I/N with 1 ≤ I ≤ N before any data is read.
#[test]
fn bad_shards_are_refused_on_the_command_line() {
    for (bad, says) in [
        ("3/2", "shard 3 of only 2"),
        ("0/0", "at least one shard"),
        ("0/2", "counted from 1"),
        ("half", "expected I/N"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dilp"))
            .args(["mnist", "sweep", "--shard", bad, "--out"])
            .arg(scratch("never"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad}");
        assert!(
            err.contains("--shard") && err.contains(says),
            "{bad}: {err}"
        );
    }
    assert!(!scratch("never").exists());
    let out = Command::new(env!("CARGO_BIN_EXE_dilp"))
        .args(["mnist", "merge", "--out"])
        .arg(scratch("never"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "merge without shard folders");
}
