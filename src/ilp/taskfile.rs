//! Reading and validating the task file.
//!
//! The TOML is first read into plain `Raw*` structs (`deny_unknown_fields`, so a misspelt key is
//! an error with the line and column toml reports), then checked and interned into a [`Task`].
//! Fact and example texts are parsed with the engine's parser under a file name that says which
//! TOML field they came from (`even.toml [train 1].background`), so a located error inside a
//! fact string still tells the user where to look.

use super::ground::all_atoms;
use super::size::clause_count;
use super::task::{Language, PredRules, RuleTemplate, Task, World};
use crate::error::{Error, Location, Result};
use crate::logic::{ConstId, GroundAtom, Parser, PredId, Vocabulary};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// The largest `v` a template may ask for: `|C|^v` groundings per head atom grow too fast beyond.
const MAX_V: usize = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: String,
    #[serde(default)]
    description: String,
    language: RawLanguage,
    program: RawProgram,
    #[serde(default)]
    learn: RawLearn,
    #[serde(default)]
    train: Vec<RawWorld>,
    #[serde(default)]
    validation: Vec<RawWorld>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLanguage {
    extensional: Vec<String>,
    target: String,
    #[serde(default)]
    invented: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    steps: usize,
    rules: BTreeMap<String, Vec<RawTemplate>>,
}

/// `[learn]`: per-task defaults for the learner, used unless the command line says otherwise.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLearn {
    lr: Option<f64>,
    init_std: Option<f64>,
    batch_size: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    v: usize,
    int: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorld {
    steps: Option<usize>,
    #[serde(default)]
    background: String,
    #[serde(default)]
    positive: String,
    negative: Option<String>,
    #[serde(default)]
    constants: Vec<RawConst>,
}

/// `constants = [0, 1, "a"]`: numbers and names both read naturally in a task file.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawConst {
    Int(i64),
    Name(String),
}

/// Parses a task file. `file` names it in every error message.
///
/// Format (see the contract): top-level `name`, optional `description`; `[language]`
/// with `extensional = ["p/2", ...]`, `target = "q/2"`, optional `invented = [...]` (arity ≤ 2);
/// `[program]` with `steps` and `[program.rules]` mapping each intensional predicate's name to
/// one or two `{ v, int }` templates (`0 ≤ v ≤ 3`); one or more `[[train]]` and zero or more
/// `[[validation]]` worlds with `background`, `positive`, optional `negative`, optional
/// `constants` and optional `steps`.
///
/// Ids: predicates are interned extensional, target, invented (declared order); constants in
/// the order they are met reading the worlds (train then validation, each in file order; within
/// a world background, positive, negative, then `constants`). Duplicate facts and examples are
/// kept once.
pub fn parse_task(text: &str, file: &str) -> Result<Task> {
    let raw: RawTask =
        toml::from_str(text).map_err(|e| task_err(file, format!("not a valid task file: {e}")))?;
    let mut b = Builder {
        file,
        vocab: Vocabulary::new(),
        declared: HashSet::new(),
    };
    let language = b.language(&raw.language)?;
    let rules = b.rules(&raw.program.rules, &language)?;
    if raw.program.steps == 0 {
        return Err(task_err(file, "[program] steps must be at least 1"));
    }
    if let Some(lr) = raw.learn.lr {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(task_err(
                file,
                format!("[learn] lr must be a positive number, got {lr}"),
            ));
        }
    }
    if let Some(s) = raw.learn.init_std {
        if !(s.is_finite() && s > 0.0) {
            return Err(task_err(
                file,
                format!("[learn] init_std must be a positive number, got {s}"),
            ));
        }
    }
    if raw.train.is_empty() {
        return Err(task_err(
            file,
            "the task has no [[train]] world; give at least one",
        ));
    }
    let mut worlds = |kind: &str, list: &[RawWorld]| -> Result<Vec<World>> {
        let worlds = list.iter().enumerate();
        worlds
            .map(|(i, w)| {
                b.world(
                    w,
                    &format!("[{kind} {}]", i + 1),
                    &language,
                    raw.program.steps,
                )
            })
            .collect()
    };
    let train = worlds("train", &raw.train)?;
    let validation = worlds("validation", &raw.validation)?;
    Ok(Task {
        name: raw.name,
        description: raw.description,
        file: file.to_string(),
        vocab: b.vocab,
        language,
        rules,
        steps: raw.program.steps,
        lr: raw.learn.lr,
        init_std: raw.learn.init_std,
        batch_size: raw.learn.batch_size,
        train,
        validation,
    })
}

/// Reads and parses a task file; errors name the path.
pub fn load_task(path: &Path) -> Result<Task> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_task(&text, &path.display().to_string())
}

fn task_err(file: &str, msg: impl Into<String>) -> Error {
    Error::Task {
        file: file.to_string(),
        msg: msg.into(),
    }
}

fn semantic(loc: &Location, msg: String) -> Error {
    Error::Semantic {
        loc: loc.clone(),
        msg,
    }
}

/// A lower-case identifier, as the engine's parser reads predicate and constant names.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_lowercase()) && chars.all(|c| c.is_alphanumeric() || c == '_')
}

struct Builder<'f> {
    file: &'f str,
    vocab: Vocabulary,
    declared: HashSet<String>,
}

impl Builder<'_> {
    /// Interns one `name/arity` declaration.
    fn decl(&mut self, text: &str, field: &str) -> Result<PredId> {
        let bad = |msg: String| task_err(self.file, format!("[language] {field}: {msg}"));
        let Some((name, arity)) = text.rsplit_once('/') else {
            return Err(bad(format!(
                "`{text}` is not a predicate declaration `name/arity`"
            )));
        };
        let arity: usize = arity
            .trim()
            .parse()
            .map_err(|_| bad(format!("`{text}`: the arity `{arity}` is not a number")))?;
        let name = name.trim();
        if !is_name(name) {
            return Err(bad(format!(
                "`{text}`: `{name}` is not a predicate name (lower-case identifier)"
            )));
        }
        if arity > 2 {
            return Err(bad(format!(
                "`{text}` has arity {arity}; only arities 0, 1 and 2 are supported"
            )));
        }
        if !self.declared.insert(name.to_string()) {
            return Err(bad(format!(
                "predicate `{name}` is declared more than once"
            )));
        }
        self.vocab
            .intern_pred(name, arity)
            .map_err(|known| bad(format!("`{text}` clashes with arity {known}")))
    }

    fn language(&mut self, raw: &RawLanguage) -> Result<Language> {
        let extensional = raw
            .extensional
            .iter()
            .map(|d| self.decl(d, "extensional"))
            .collect::<Result<Vec<_>>>()?;
        let target = self.decl(&raw.target, "target")?;
        let mut intensional = vec![target];
        for d in &raw.invented {
            intensional.push(self.decl(d, "invented")?);
        }
        Ok(Language {
            extensional,
            intensional,
            target,
        })
    }

    fn rules(
        &self,
        raw: &BTreeMap<String, Vec<RawTemplate>>,
        lang: &Language,
    ) -> Result<Vec<PredRules>> {
        let err = |msg: String| task_err(self.file, format!("[program.rules] {msg}"));
        for (name, templates) in raw {
            match self.vocab.find_pred(name) {
                None => return Err(err(format!("`{name}`: not a declared predicate"))),
                Some(p) if !lang.is_intensional(p) => {
                    return Err(err(format!(
                        "`{name}` is extensional; only the target and invented predicates have rule templates"
                    )))
                }
                Some(_) => {}
            }
            if templates.is_empty() || templates.len() > 2 {
                return Err(err(format!(
                    "`{name}` has {} templates; give one or two",
                    templates.len()
                )));
            }
            if let Some(t) = templates.iter().find(|t| t.v > MAX_V) {
                return Err(err(format!(
                    "`{name}`: v = {} is out of range (0 to {MAX_V})",
                    t.v
                )));
            }
        }
        let to_template = |t: &RawTemplate| RuleTemplate { v: t.v, int: t.int };
        lang.intensional
            .iter()
            .map(|&pred| {
                let name = self.vocab.pred_name(pred);
                let Some(raw) = raw.get(name) else {
                    let arity = self.vocab.arity(pred);
                    return Err(err(format!(
                        "intensional predicate `{name}/{arity}` has no rule template"
                    )));
                };
                let templates = [raw.first().map(to_template), raw.get(1).map(to_template)];
                // An empty cl(τ) leaves a learner nothing to choose from; say so here, not later.
                if let Some(t) = templates
                    .iter()
                    .flatten()
                    .find(|&&t| clause_count(&self.vocab, lang, pred, t) == 0)
                {
                    let arity = self.vocab.arity(pred);
                    let msg = format!(
                        "`{name}/{arity}`: the template {{ v = {}, int = {} }} allows no clause",
                        t.v, t.int
                    );
                    return Err(err(msg));
                }
                Ok(PredRules { pred, templates })
            })
            .collect()
    }

    /// Parses one fact text, checking every atom's predicate is declared and allowed here.
    fn atoms(
        &mut self,
        text: &str,
        section: &str,
        field: &str,
        allowed: &[PredId],
        what: &str,
    ) -> Result<Vec<(GroundAtom, Location)>> {
        let name = format!("{} {section}.{field}", self.file);
        let atoms = Parser::new(&mut self.vocab, name).ground_atoms(text)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (atom, loc) in atoms {
            if !self.declared.contains(self.vocab.pred_name(atom.pred)) {
                let info = self.vocab.pred(atom.pred);
                let msg = format!(
                    "unknown predicate `{}/{}`: not declared in [language]",
                    info.name, info.arity
                );
                return Err(semantic(&loc, msg));
            }
            if !allowed.contains(&atom.pred) {
                let msg = format!("`{}` is not {what}", atom.display(&self.vocab));
                return Err(semantic(&loc, msg));
            }
            if seen.insert(atom.clone()) {
                out.push((atom, loc));
            }
        }
        Ok(out)
    }

    fn world(
        &mut self,
        raw: &RawWorld,
        section: &str,
        lang: &Language,
        steps: usize,
    ) -> Result<World> {
        let target = [lang.target];
        let target_name = self.vocab.pred_name(lang.target).to_string();
        let example = format!("an example of the target predicate `{target_name}`");
        let bg_what = "a fact of an extensional predicate (background facts may not use the target or invented predicates)";
        let background = self.atoms(
            &raw.background,
            section,
            "background",
            &lang.extensional,
            bg_what,
        )?;
        let positive = self.atoms(&raw.positive, section, "positive", &target, &example)?;
        let negative = match &raw.negative {
            Some(text) => Some(self.atoms(text, section, "negative", &target, &example)?),
            None => None,
        };
        let mut constants = BTreeSet::new();
        for (atom, _) in background
            .iter()
            .chain(&positive)
            .chain(negative.iter().flatten())
        {
            constants.extend(atom.args.iter().copied());
        }
        for c in &raw.constants {
            let text = match c {
                RawConst::Int(i) => i.to_string(),
                RawConst::Name(s)
                    if is_name(s) || (s.len() >= 2 && s.starts_with('"') && s.ends_with('"')) =>
                {
                    s.clone()
                }
                RawConst::Name(s) => {
                    let msg = format!("{section}.constants: `{s}` is not a constant (lower-case name, integer or quoted string)");
                    return Err(task_err(self.file, msg));
                }
            };
            constants.insert(self.vocab.intern_const(&text));
        }
        if constants.is_empty() {
            let msg = format!("{section}: the world has no constants; give facts, examples or `constants = [...]`");
            return Err(task_err(self.file, msg));
        }
        let constants: Vec<ConstId> = constants.into_iter().collect();
        let positive_set: HashSet<&GroundAtom> = positive.iter().map(|(a, _)| a).collect();
        let negative = match negative {
            Some(list) => {
                if let Some((atom, loc)) = list.iter().find(|(a, _)| positive_set.contains(a)) {
                    let msg = format!(
                        "`{}` is both a positive and a negative example",
                        atom.display(&self.vocab)
                    );
                    return Err(semantic(loc, msg));
                }
                list.into_iter().map(|(a, _)| a).collect()
            }
            None => all_atoms(lang.target, self.vocab.arity(lang.target), &constants)
                .into_iter()
                .filter(|a| !positive_set.contains(a))
                .collect(),
        };
        let steps = raw.steps.unwrap_or(steps);
        if steps == 0 {
            return Err(task_err(
                self.file,
                format!("{section}: steps must be at least 1"),
            ));
        }
        Ok(World {
            constants,
            background: background.into_iter().map(|(a, _)| a).collect(),
            positive: positive.into_iter().map(|(a, _)| a).collect(),
            negative,
            steps,
        })
    }
}
