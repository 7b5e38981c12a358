//! Sharded sweeps: `dilp mnist sweep --shard I/N` runs the I-th of N shares of a sweep's runs
//! (so a Slurm job array or GNU parallel spreads one sweep over machines), and
//! `dilp mnist merge` turns the shards' folders back into the outputs of one whole sweep.
//!
//! A sweep's units are its (held-out proportion, run) pairs in a fixed order, proportion by
//! proportion; shard I takes units I, I + N, I + 2N, ... (counted from 1, as `#SBATCH
//! --array=1-N` numbers its tasks). A shard saves each finished run as a record in
//! `<out>/parts` ([`super::parts`]) and writes no table or plot, since it holds only part of the
//! sweep. Its `parts/run.json` holds the whole sweep's plan (proportions, runs, N, the task
//! file's fingerprint) beside the run settings, so the merge can check that every shard belongs
//! to the same sweep and that together they hold every unit exactly once.

use super::mnist::MnistRunReport;
use super::mnist_outputs::write_outputs;
use super::parts::{read_record, read_settings, record_path, settings_differences};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One share of a sweep: the `index`-th (from 1) of `count` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether the shard runs the sweep's unit number `unit` (from 0, in [`units`] order).
    pub fn owns(&self, unit: usize) -> bool {
        unit % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// `I/N` with 1 ≤ I ≤ N; an error says why not (without repeating the text, which a
    /// command-line parser names already).
    pub fn parse(s: &str) -> std::result::Result<Shard, String> {
        let (i, n) = s
            .trim()
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)))
            .ok_or("expected I/N, shard I of N counted from 1, e.g. 2/8")?;
        match (i, n) {
            (_, 0) => Err("there must be at least one shard".into()),
            (0, n) => Err(format!(
                "shards are counted from 1, so I is in 1..={n} (Slurm: #SBATCH --array=1-{n})"
            )),
            (i, n) if i > n => Err(format!("shard {i} of only {n}")),
            (index, count) => Ok(Shard { index, count }),
        }
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// [`Shard::parse`], its error naming the text.
    fn from_str(s: &str) -> Result<Shard> {
        Shard::parse(s).map_err(|why| Error::Config(format!("--shard `{s}`: {why}")))
    }
}

/// One run of a sweep: a held-out proportion and the run's number there (its seed is the
/// base seed plus `run`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    pub held_out: f64,
    pub run: usize,
}

impl Unit {
    /// The unit's name, and its record's file name in `parts/`.
    pub fn key(&self) -> String {
        format!("h{}-run{}", self.held_out, self.run)
    }
}

/// A sweep's units in their fixed order: every run at the first proportion, then the next.
pub fn units(held_out: &[f64], runs: usize) -> Vec<Unit> {
    (held_out.iter())
        .flat_map(|&h| (0..runs).map(move |run| Unit { held_out: h, run }))
        .collect()
}

/// What a shard saves of the whole sweep beside its run settings, so that the merge knows the
/// units and can check that the shards are one sweep's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub held_out: Vec<f64>,
    pub runs: usize,
    /// N, the number of shards.
    pub shards: usize,
    /// The task file's fingerprint ([`super::parts::fingerprint_bytes`]).
    pub task_file: String,
}

/// The settings a shard saves in `parts/run.json`: the sweep's `settings`, its plan, and the
/// shard's number (the one key in which the shards of one sweep differ).
pub fn shard_settings(settings: &Value, plan: &Plan, shard: Shard) -> Value {
    let mut s = settings.clone();
    if let Value::Object(m) = &mut s {
        m.insert("sweep".into(), serde_json::json!(plan));
        m.insert("shard".into(), serde_json::json!(shard.index));
    }
    s
}

/// One shard folder given to the merge: its settings without the shard number, and the number.
fn read_shard(dir: &Path) -> Result<(Value, usize)> {
    let run = dir.join("parts").join("run.json");
    let not_shard = |why: &str| Error::Config(format!("{}: {why}", run.display()));
    let mut settings = read_settings(dir)?.ok_or_else(|| {
        not_shard("no such file, so this is not a folder `dilp mnist sweep --shard` wrote")
    })?;
    let index = (settings.as_object_mut())
        .and_then(|m| m.remove("shard"))
        .and_then(|i| i.as_u64())
        .ok_or_else(|| {
            not_shard("written by a sweep without --shard; only shard folders are merged")
        })?;
    Ok((settings, index as usize))
}

/// `dilp mnist merge`: checks that the shard folders `dirs` come from one sweep (the same
/// settings and task file) and together hold every run exactly once, then writes into `out`
/// what the whole sweep would have ([`write_outputs`]); returns the printed summary.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<String> {
    let first = dirs
        .first()
        .ok_or_else(|| Error::Config("merge: no shard folder given".into()))?;
    let (settings, _) = read_shard(first)?;
    let mut index = Vec::new();
    for dir in dirs {
        let (other, i) = read_shard(dir)?;
        let diffs = settings_differences(&settings, &other);
        if !diffs.is_empty() {
            return Err(Error::Config(format!(
                "{} was made with other settings than {} ({}); the shards of one sweep share \
                 every setting but --shard",
                dir.display(),
                first.display(),
                diffs.join("; ")
            )));
        }
        index.push(i);
    }
    let plan: Plan =
        serde_json::from_value(settings["sweep"].clone()).map_err(|e| Error::Data {
            path: first.join("parts").join("run.json"),
            msg: format!("no sweep plan of a shard: {e}"),
        })?;
    let holders = coverage(dirs, &index, &plan)?;
    let mut reports = Vec::new();
    for (unit, dir) in units(&plan.held_out, plan.runs).iter().zip(holders) {
        let path = record_path(dir, &unit.key());
        let (print, r): (String, MnistRunReport) = read_record(&path)?
            .ok_or_else(|| Error::io(&path, std::io::ErrorKind::NotFound.into()))?;
        if print != plan.task_file {
            return Err(Error::Config(format!(
                "{} was computed from another task file than its folder's parts/run.json names",
                path.display()
            )));
        }
        reports.push(r);
    }
    let mut summary = format!(
        "merged {} shard folder(s) of {} shard(s): {} runs ({} held-out proportion(s) x {} run(s))\n",
        dirs.len(),
        plan.shards,
        reports.len(),
        plan.held_out.len(),
        plan.runs
    );
    summary.push_str(&write_outputs(&reports, out)?);
    summary.push_str(&format!("\nresults and plots in {}\n", out.display()));
    Ok(summary)
}

/// The folder holding each unit's record, in [`units`] order; an error naming every unit that
/// no folder holds (and its shard) or that several hold (and where).
fn coverage<'a>(dirs: &'a [PathBuf], index: &[usize], plan: &Plan) -> Result<Vec<&'a Path>> {
    let mut holders = Vec::new();
    let mut problems = Vec::new();
    for (k, unit) in units(&plan.held_out, plan.runs).iter().enumerate() {
        let key = unit.key();
        let have: Vec<&Path> = (dirs.iter())
            .filter(|d| record_path(d, &key).is_file())
            .map(PathBuf::as_path)
            .collect();
        match have[..] {
            [one] => holders.push(one),
            [] => {
                let shard = k % plan.shards + 1;
                let given: Vec<String> = (dirs.iter().zip(index))
                    .filter(|(_, &i)| i == shard)
                    .map(|(d, _)| d.display().to_string())
                    .collect();
                let why = if given.is_empty() {
                    "no folder of that shard was given".to_string()
                } else {
                    format!(
                        "not finished in {}; rerun it with --resume",
                        given.join(", ")
                    )
                };
                problems.push(format!(
                    "missing {key} (shard {shard}/{}: {why})",
                    plan.shards
                ));
            }
            _ => {
                let at: Vec<String> = have.iter().map(|d| d.display().to_string()).collect();
                problems.push(format!("{key} more than once (in {})", at.join(" and ")));
            }
        }
    }
    if problems.is_empty() {
        Ok(holders)
    } else {
        Err(Error::Config(format!(
            "merge: the shard folders do not hold every run of the sweep exactly once:\n  {}",
            problems.join("\n  ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_one_and_split_the_units_round_robin() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for (bad, says) in [
            ("3/2", "shard 3 of only 2"),
            ("0/0", "at least one shard"),
            ("0/4", "counted from 1"),
            ("two/3", "expected I/N"),
            ("2", "expected I/N"),
            ("-1/3", "expected I/N"),
        ] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
        }
        let all = units(&[0.0, 0.5], 3);
        assert_eq!(all.len(), 6);
        assert_eq!(all[4].key(), "h0.5-run1");
        let mut seen = vec![0; all.len()];
        for index in 1..=4 {
            let s = Shard { index, count: 4 };
            (0..all.len())
                .filter(|&k| s.owns(k))
                .for_each(|k| seen[k] += 1);
        }
        assert_eq!(seen, vec![1; 6], "every unit in exactly one shard");
    }
}
