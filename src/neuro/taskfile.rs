//! Neuro-symbolic tasks as files: an ordinary task TOML (`[language]`, `[program]`, optional
//! `[learn]`) plus a `[perception]` section that says which extensional predicates are read
//! from images and how the true digits are labelled.
//!
//! ```toml
//! [perception]
//! images = ["image1", "image2"]       # one or two extensional predicates of arity 1
//! digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]   # optional (this default): class k reads as digits[k]
//! background = "zero(0). succ(0,1)."  # facts every world shows the learner
//! helpers = ["lt/2"]                  # optional: predicates only the labelling program uses
//! labelling = """
//! lt(X,Y) :- succ(X,Y).
//! lt(X,Y) :- lt(X,Z), succ(Z,Y).
//! target :- image1(X), image2(Y), lt(X,Y).
//! """
//! ```
//!
//! The labelling program (Datalog over the background, the true digits' image atoms and its
//! own helper facts and rules) is run by the engine in the world of every digit tuple (10 for
//! one image, 100 for two); `target` holding there is the tuple's label. The learner sees only
//! the symbolic task built from it: one `[[train]]` world per tuple (background, the tuple's
//! image atoms, the label), in row order `10·a + b`, which is also what the engine check of a
//! learned program runs on and what `dilp synth` solves. The file has no `[[train]]` worlds of
//! its own.
//!
//! The `[perception]` section is parsed here, not in [`crate::ilp::taskfile`]: the section is
//! taken out of the TOML and the generated worlds put in before the ILP parser sees the text,
//! so a perception task is validated by exactly the rules of any task file.

use super::labelling::Labeller;
use crate::error::{Error, Result};
use crate::ilp::{parse_task, Task};
use crate::logic::Parser;
use crate::sat::{synthesise, SynthConfig, SynthReport};
use serde::Deserialize;
use std::path::Path;

/// The shipped less-than task, the default of every MNIST command.
pub const LESS_THAN_TEXT: &str = include_str!("../../experiments/tasks/mnist/less_than.toml");
/// Where [`LESS_THAN_TEXT`] lives in the repository.
pub const LESS_THAN_PATH: &str = "experiments/tasks/mnist/less_than.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerception {
    images: Vec<String>,
    digits: Option<Vec<RawConst>>,
    #[serde(default)]
    pub(super) background: String,
    #[serde(default)]
    pub(super) helpers: Vec<String>,
    pub(super) labelling: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawConst {
    Int(i64),
    Name(String),
}

/// A validated neuro-symbolic task.
#[derive(Debug, Clone)]
pub struct NeuroTask {
    /// The perceived predicates, in image order (`image1`, `image2`).
    pub images: Vec<String>,
    /// `digits[k]`: the constant a conv-net's class `k` stands for (10 of them).
    pub digits: Vec<String>,
    /// The background facts as written.
    pub background: String,
    /// The labelling program as written (never shown to the learner).
    pub labelling: String,
    /// `labels[row]`: the labelling program's verdict on the digit tuple of `row`.
    pub labels: Vec<bool>,
    /// The symbolic task: one training world per digit tuple, in row order.
    pub task: Task,
    /// The symbolic task as a task file any `dilp` command reads (no `[perception]`).
    pub symbolic_text: String,
}

impl NeuroTask {
    /// Images per item: 1 or 2.
    pub fn arity(&self) -> usize {
        self.images.len()
    }
    /// Digit tuples: 10 or 100.
    pub fn tuples(&self) -> usize {
        10usize.pow(self.arity() as u32)
    }
    /// The digit classes of tuple `row` (`row = 10·a + b` for two images).
    pub fn tuple(&self, row: usize) -> Vec<u8> {
        if self.arity() == 1 {
            vec![row as u8]
        } else {
            vec![(row / 10) as u8, (row % 10) as u8]
        }
    }
    /// The row of a digit tuple (the inverse of [`NeuroTask::tuple`]).
    pub fn row(&self, digits: &[u8]) -> usize {
        digits.iter().fold(0, |r, &d| 10 * r + d as usize)
    }
    /// The task's name.
    pub fn name(&self) -> &str {
        &self.task.name
    }
    /// The file the task came from (as given to the parser).
    pub fn file(&self) -> &str {
        &self.task.file
    }
    /// `image1(3). image2(7).`: the image atoms of tuple `row`, as facts.
    pub fn tuple_facts(&self, row: usize) -> String {
        let t = self.tuple(row);
        let atoms: Vec<String> = self
            .images
            .iter()
            .zip(&t)
            .map(|(p, &d)| format!("{p}({}).", self.digits[d as usize]))
            .collect();
        atoms.join(" ")
    }
}

/// The shipped less-than task.
pub fn less_than() -> Result<NeuroTask> {
    parse_neuro_task(LESS_THAN_TEXT, LESS_THAN_PATH)
}

/// Whether a task file's text has a `[perception]` section (so [`parse_neuro_task`] reads it,
/// and [`crate::ilp::parse_task`] would not).
pub fn is_neuro_task(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("perception"))
}

/// Any task file as a symbolic task: a neuro-symbolic file (with `[perception]`) as its symbolic
/// version, one world per digit tuple (what `dilp synth`, `clauses` and `learn` run on it),
/// any other as [`crate::ilp::load_task`] reads it.
pub fn load_any_task(path: &Path) -> Result<crate::ilp::Task> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if is_neuro_task(text) => {
            Ok(parse_neuro_task(text, &path.display().to_string())?.task)
        }
        // Everything else, text that is not UTF-8 included, gets the task loader's own errors.
        _ => crate::ilp::load_task(path),
    }
}

/// Reads and parses a neuro-symbolic task file; errors name the path.
pub fn load_neuro_task(path: &Path) -> Result<NeuroTask> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_neuro_task(&text, &path.display().to_string())
}

/// [`load_neuro_task`], then [`check_solvable`]: what a command runs before training starts.
pub fn load_checked(path: &Path) -> Result<NeuroTask> {
    let t = load_neuro_task(path)?;
    check_solvable(&t)?;
    Ok(t)
}

pub(super) fn task_err(file: &str, msg: impl Into<String>) -> Error {
    Error::Task {
        file: file.to_string(),
        msg: msg.into(),
    }
}

/// Parses a neuro-symbolic task file (see the module doc). `file` names it in every error.
pub fn parse_neuro_task(text: &str, file: &str) -> Result<NeuroTask> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| task_err(file, format!("not a valid task file: {e}")))?;
    let Some(raw) = table.remove("perception") else {
        return Err(task_err(
            file,
            "no [perception] section: not a neuro-symbolic task",
        ));
    };
    for key in ["train", "validation"] {
        if table.contains_key(key) {
            return Err(task_err(file, format!(
                "[[{key}]]: a perception task's worlds are made from its digit tuples and labelling program; remove them"
            )));
        }
    }
    let raw: RawPerception = raw
        .try_into()
        .map_err(|e| task_err(file, format!("[perception]: {e}")))?;
    let digits = digits(&raw, file)?;
    // The language and template, validated by the ILP parser on a world of bare constants.
    let bare = with_worlds(&table, vec![world("", None, &digits)]);
    let frame = parse_task(&toml_text(&bare, file)?, file)?;
    let images = images(&raw, &frame, file)?;
    let target = frame.language.target;
    if frame.vocab.arity(target) != 0 {
        return Err(task_err(
            file,
            format!(
                "[language] target: `{}/{}`: the target of a perception task is nullary (one label per digit tuple)",
                frame.vocab.pred_name(target),
                frame.vocab.arity(target)
            ),
        ));
    }
    check_background(&raw.background, &frame, &images, file)?;
    let labeller = Labeller::new(&raw, &frame, file)?;
    let target_name = frame.vocab.pred_name(target).to_string();
    let arity = images.len();
    let n = 10usize.pow(arity as u32);
    let mut labels = Vec::with_capacity(n);
    let mut worlds = Vec::with_capacity(n);
    for row in 0..n {
        let tuple: Vec<usize> = if arity == 1 {
            vec![row]
        } else {
            vec![row / 10, row % 10]
        };
        let facts: Vec<String> = images
            .iter()
            .zip(&tuple)
            .map(|(p, &d)| format!("{p}({}).", digits[d]))
            .collect();
        let facts = facts.join(" ");
        let label = labeller.label(&facts)?;
        labels.push(label);
        let bg = if raw.background.trim().is_empty() {
            facts
        } else {
            format!("{}\n{facts}", raw.background.trim_end())
        };
        worlds.push(world(&bg, Some((&target_name, label)), &digits));
    }
    if let Some(&first) = labels.first() {
        if labels.iter().all(|&l| l == first) {
            return Err(task_err(file, format!(
                "[perception] labelling: every digit tuple gets the label {first}; there is nothing to learn"
            )));
        }
    }
    let symbolic_text = toml_text(&with_worlds(&table, worlds), file)?;
    let task = parse_task(&symbolic_text, file)?;
    Ok(NeuroTask {
        images,
        digits,
        background: raw.background,
        labelling: raw.labelling,
        labels,
        task,
        symbolic_text,
    })
}

/// Runs the SAT solver on the symbolic task: an error when no program of the template gives
/// every digit tuple its label (found before any training), the solver's report otherwise.
pub fn check_solvable(t: &NeuroTask) -> Result<SynthReport> {
    check_solvable_within(t, crate::ilp::MemoryBudget::default())
}

/// [`check_solvable`] under the memory budget `budget` (`--max-memory`).
pub fn check_solvable_within(
    t: &NeuroTask,
    budget: crate::ilp::MemoryBudget,
) -> Result<SynthReport> {
    let cfg = SynthConfig {
        max_memory: Some(budget),
        ..SynthConfig::default()
    };
    let report = synthesise(&t.task, &cfg)?;
    if !report.satisfiable || !report.fits_training {
        return Err(task_err(t.file(), format!(
            "[program.rules]: no program of this template gives every digit tuple the label the labelling program gives it (SAT solver over {} steps); widen the templates, add invented predicates or raise [program] steps",
            t.task.steps
        )));
    }
    Ok(report)
}

fn digits(raw: &RawPerception, file: &str) -> Result<Vec<String>> {
    let Some(list) = &raw.digits else {
        return Ok((0..10).map(|d| d.to_string()).collect());
    };
    let bad = |msg: String| task_err(file, format!("[perception] digits: {msg}"));
    if list.len() != 10 {
        return Err(bad(format!(
            "{} constants; give 10, one per digit class 0..9",
            list.len()
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for c in list {
        let text = match c {
            RawConst::Int(i) => i.to_string(),
            RawConst::Name(s) if is_name(s) => s.clone(),
            RawConst::Name(s) => {
                return Err(bad(format!(
                    "`{s}` is not a constant (lower-case name or integer)"
                )))
            }
        };
        if out.contains(&text) {
            return Err(bad(format!("`{text}` is given twice")));
        }
        out.push(text);
    }
    Ok(out)
}

pub(super) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_lowercase()) && chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn images(raw: &RawPerception, frame: &Task, file: &str) -> Result<Vec<String>> {
    let bad = |msg: String| task_err(file, format!("[perception] images: {msg}"));
    if raw.images.is_empty() || raw.images.len() > 2 {
        return Err(bad(format!(
            "{} predicates; give one (`image`) or two (`image1`, `image2`)",
            raw.images.len()
        )));
    }
    for (i, name) in raw.images.iter().enumerate() {
        let Some(p) = frame.vocab.find_pred(name) else {
            return Err(bad(format!(
                "unknown predicate `{name}`: not declared in [language]"
            )));
        };
        if !frame.language.extensional.contains(&p) {
            let what = if p == frame.language.target {
                "the target"
            } else {
                "an invented predicate"
            };
            return Err(bad(format!(
                "`{name}` is {what}; a perceived predicate must be extensional (its atoms come from an image)"
            )));
        }
        if frame.vocab.arity(p) != 1 {
            return Err(bad(format!(
                "`{name}/{}` clashes with arity 1: a perceived predicate has one argument, the digit",
                frame.vocab.arity(p)
            )));
        }
        if raw.images[..i].contains(name) {
            return Err(bad(format!("`{name}` is given twice")));
        }
    }
    Ok(raw.images.clone())
}

/// The background may hold facts of the extensional predicates that are not perceived.
fn check_background(text: &str, frame: &Task, images: &[String], file: &str) -> Result<()> {
    let mut vocab = frame.vocab.clone();
    let known = vocab.num_preds();
    let name = format!("{file} [perception].background");
    let atoms = Parser::new(&mut vocab, name).ground_atoms(text)?;
    for (atom, loc) in atoms {
        let pname = vocab.pred_name(atom.pred).to_string();
        let msg = if atom.pred.index() >= known {
            format!(
                "unknown predicate `{pname}/{}`: not declared in [language]",
                vocab.arity(atom.pred)
            )
        } else if !frame.language.extensional.contains(&atom.pred) {
            format!("`{pname}` is not extensional; background facts may not use the target or invented predicates")
        } else if images.contains(&pname) {
            format!(
                "`{}` is perceived from an image; the background may not fix it",
                atom.display(&vocab)
            )
        } else {
            continue;
        };
        return Err(Error::Semantic { loc, msg });
    }
    Ok(())
}

/// One generated `[[train]]` world: its background, its label (the target's name and whether
/// it holds; none for the bare world that validates the frame) and the digit constants.
fn world(background: &str, label: Option<(&str, bool)>, digits: &[String]) -> toml::Value {
    let mut w = toml::Table::new();
    w.insert("background".into(), background.into());
    let (pos, neg) = match label {
        Some((target, true)) => (format!("{target}."), String::new()),
        Some((target, false)) => (String::new(), format!("{target}.")),
        None => (String::new(), String::new()),
    };
    w.insert("positive".into(), pos.into());
    w.insert("negative".into(), neg.into());
    let consts: Vec<toml::Value> = digits
        .iter()
        .map(|d| match d.parse::<i64>() {
            Ok(i) => toml::Value::Integer(i),
            Err(_) => toml::Value::String(d.clone()),
        })
        .collect();
    w.insert("constants".into(), toml::Value::Array(consts));
    toml::Value::Table(w)
}

fn with_worlds(table: &toml::Table, worlds: Vec<toml::Value>) -> toml::Table {
    let mut t = table.clone();
    t.insert("train".into(), toml::Value::Array(worlds));
    t
}

fn toml_text(table: &toml::Table, file: &str) -> Result<String> {
    toml::to_string(table)
        .map_err(|e| task_err(file, format!("cannot write the symbolic task: {e}")))
}
