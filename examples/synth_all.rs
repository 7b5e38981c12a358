//! Runs the SAT baseline on every task file of a folder and prints a Markdown table.
//!
//! ```text
//! cargo run --release --no-default-features --example synth_all -- \
//!     [DIR (default experiments/tasks)] [--all] [--limit N] [--max-errors K] [--json FILE] [--text]
//! ```
//!
//! Columns: task, seconds (total, and to the first program), satisfiable, validation passed,
//! and with `--all` the programs fitting training and how many of them pass validation.
//! `--text` prints each task's human-readable report (what `dilp synth` shows) to stderr.

use dilp::ilp::load_task;
use dilp::sat::{render_text, synthesise, SynthConfig, SynthReport};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut dir = PathBuf::from("experiments/tasks");
    let mut cfg = SynthConfig::default();
    let mut json: Option<PathBuf> = None;
    let mut text = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--all" => cfg.all = true,
            "--text" => text = true,
            "--limit" => cfg.all_limit = args.next().ok_or("--limit N")?.parse()?,
            "--max-errors" => cfg.max_errors = Some(args.next().ok_or("--max-errors K")?.parse()?),
            "--json" => json = Some(args.next().ok_or("--json FILE")?.into()),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}").into()),
            _ => dir = a.into(),
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();

    println!("| task | seconds | encode | to program | vars | clauses | satisfiable | validation passed | programs fitting training | of which pass validation |");
    println!("|---|---:|---:|---:|---:|---:|---|---|---:|---:|");
    let mut reports: Vec<SynthReport> = Vec::new();
    for file in &files {
        let task = load_task(file)?;
        let r = synthesise(&task, &cfg)?;
        if text {
            eprintln!("{}", render_text(&r));
        }
        let count = |c: Option<usize>| match c {
            Some(n) if r.capped => format!("≥ {n}"),
            Some(n) => n.to_string(),
            None => "–".into(),
        };
        println!(
            "| {} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} | {} |",
            r.task,
            r.seconds,
            r.seconds_encode,
            r.seconds_to_program,
            r.vars,
            r.clauses,
            if r.satisfiable { "yes" } else { "no" },
            if r.validation_passed { "yes" } else { "no" },
            count(r.programs_fitting),
            count(r.programs_fitting_validation),
        );
        reports.push(r);
    }
    if let Some(path) = json {
        dilp::report::files::write_json(&path, &reports)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
