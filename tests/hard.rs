//! The harder tasks under `experiments/tasks/hard/` (every auxiliary predicate invented, no
//! per-task settings): each must be solvable in its own template, which the exact SAT solver
//! decides, and the program it finds must pass the engine on the larger validation world.

use dilp::sat::{synthesise, SynthConfig};
use std::path::{Path, PathBuf};

fn hard_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/tasks/hard");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn solve(name: &str) {
    let file = hard_files()
        .into_iter()
        .find(|f| f.file_stem().is_some_and(|s| s == name))
        .unwrap_or_else(|| panic!("no hard task `{name}`"));
    let task = dilp::ilp::load_task(&file).unwrap();
    assert!(
        task.validation.iter().all(|v| {
            let train = task
                .train
                .iter()
                .map(|w| w.constants.len())
                .max()
                .unwrap_or(0);
            v.constants.len() > train
        }),
        "{name}: each validation world must be larger than training"
    );
    let r = synthesise(&task, &SynthConfig::default()).unwrap();
    assert!(
        r.satisfiable && r.fits_training && r.validation_passed && r.solved,
        "{name}: {r:?}"
    );
}

#[test]
fn the_four_hard_tasks_are_shipped() {
    let names: Vec<String> = hard_files()
        .iter()
        .filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(names, ["buzz", "fizz", "great_grandparent", "plus_four"]);
}

#[test]
fn hard_fizz_is_solvable_in_its_template() {
    solve("fizz");
}

#[test]
fn hard_buzz_is_solvable_in_its_template() {
    solve("buzz");
}

#[test]
fn hard_plus_four_is_solvable_in_its_template() {
    solve("plus_four");
}

#[test]
fn hard_great_grandparent_is_solvable_in_its_template() {
    solve("great_grandparent");
}
