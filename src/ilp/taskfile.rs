//! Reading and validating the task file.
//!
//! The TOML is first read into plain `Raw*` structs (`deny_unknown_fields`, so a misspelt key is
//! an error with the line and column toml reports), then checked and interned into a [`Task`].
//! Fact and example texts are parsed with the engine's parser under a file name that says which
//! TOML field they came from (`even.toml [train 1].background`), so a located error inside a
//! fact string still tells the user where to look. Values that a check can refuse are read with
//! their spans ([`Spanned`]), so those refusals name the file's line and column too.

use super::clausegen::template_allows_a_clause;
use super::ground::all_atoms;
use super::task::{Language, PredRules, RuleTemplate, Task, World};
use crate::error::{Error, Location, Result};
use crate::logic::{ConstId, GroundAtom, Parser, PredId, Vocabulary};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

mod raw;
use raw::{RawConst, RawLanguage, RawTask, RawTemplate, RawWorld};

/// The largest `v` a template may ask for: `|C|^v` groundings per head atom grow too fast beyond.
const MAX_V: usize = 3;

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
        text,
        vocab: Vocabulary::new(),
        declared: HashSet::new(),
        decl_spans: Vec::new(),
    };
    let language = b.language(&raw.language)?;
    let rules = b.rules(&raw.program.rules, &language)?;
    let steps = *raw.program.steps.get_ref();
    if steps == 0 {
        let msg = "[program] steps must be at least 1";
        return Err(b.at(raw.program.steps.span(), msg.into()));
    }
    for (key, value) in [("lr", &raw.learn.lr), ("init_std", &raw.learn.init_std)] {
        if let Some(x) = value {
            let v = *x.get_ref();
            if !(v.is_finite() && v > 0.0) {
                let msg = format!("[learn] {key} must be a positive number, got {v}");
                return Err(b.at(x.span(), msg));
            }
        }
    }
    if raw.train.is_empty() {
        return Err(task_err(
            file,
            "the task has no [[train]] world; give at least one",
        ));
    }
    let mut worlds = |kind: &str, list: &[Spanned<RawWorld>]| -> Result<Vec<World>> {
        let worlds = list.iter().enumerate();
        worlds
            .map(|(i, w)| b.world(w, &format!("[{kind} {}]", i + 1), &language, steps))
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
        steps,
        lr: raw.learn.lr.map(Spanned::into_inner),
        init_std: raw.learn.init_std.map(Spanned::into_inner),
        batch_size: raw.learn.batch_size,
        train,
        validation,
    })
}

/// Reads and parses a task file; errors name the path (and, for bytes that are not UTF-8, the
/// line and column of the first bad one).
pub fn load_task(path: &Path) -> Result<Task> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]);
        let (line, col) = line_col(&prefix, good);
        let msg = format!("byte {good} is not UTF-8 text; a task file must be UTF-8");
        let snippet = String::new();
        Error::Syntax {
            loc: Location {
                file: file.clone(),
                line,
                col,
                snippet,
            },
            msg,
        }
    })?;
    parse_task(&text, &file)
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

/// The 1-based line and column (in characters) of byte `offset` of `text`. Spans come from the
/// TOML parser, so they fall on character boundaries; `floor` keeps a bad one harmless anyway.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A lower-case identifier, as the engine's parser reads predicate and constant names.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_lowercase()) && chars.all(|c| c.is_alphanumeric() || c == '_')
}

struct Builder<'f> {
    file: &'f str,
    /// The whole file, to turn spans into lines and columns.
    text: &'f str,
    vocab: Vocabulary,
    declared: HashSet<String>,
    /// Where each declared predicate was declared, by `PredId` index.
    decl_spans: Vec<Range<usize>>,
}

impl Builder<'_> {
    /// The place of the value spanning `span` in the file.
    fn loc(&self, span: Range<usize>) -> Location {
        let (line, col) = line_col(self.text, span.start);
        let snippet = self.text.get(span).unwrap_or("");
        Location {
            file: self.file.to_string(),
            line,
            col,
            snippet: snippet
                .chars()
                .take(40)
                .collect::<String>()
                .replace('\n', " "),
        }
    }

    /// An error at the value spanning `span` in the file.
    fn at(&self, span: Range<usize>, msg: String) -> Error {
        semantic(&self.loc(span), msg)
    }

    /// Interns one `name/arity` declaration.
    fn decl(&mut self, spanned: &Spanned<String>, field: &str) -> Result<PredId> {
        let text = spanned.get_ref().as_str();
        let loc = self.loc(spanned.span());
        let bad = |msg: String| semantic(&loc, format!("[language] {field}: {msg}"));
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
        if self.declared.contains(name) {
            return Err(bad(format!(
                "predicate `{name}` is declared more than once"
            )));
        }
        let id = self
            .vocab
            .intern_pred(name, arity)
            .map_err(|known| bad(format!("`{text}` clashes with arity {known}")))?;
        self.declared.insert(name.to_string());
        self.decl_spans.push(spanned.span());
        Ok(id)
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
        raw: &BTreeMap<Spanned<String>, Vec<Spanned<RawTemplate>>>,
        lang: &Language,
    ) -> Result<Vec<PredRules>> {
        let err = |span: Range<usize>, msg: String| self.at(span, format!("[program.rules] {msg}"));
        for (key, templates) in raw {
            let name = key.get_ref();
            match self.vocab.find_pred(name) {
                None => {
                    return Err(err(key.span(), format!("`{name}`: not a declared predicate")))
                }
                Some(p) if !lang.is_intensional(p) => {
                    return Err(err(key.span(), format!(
                        "`{name}` is extensional; only the target and invented predicates have rule templates"
                    )))
                }
                Some(_) => {}
            }
            if templates.is_empty() || templates.len() > 2 {
                return Err(err(
                    key.span(),
                    format!(
                        "`{name}` has {} templates; give one or two",
                        templates.len()
                    ),
                ));
            }
            if let Some(t) = templates.iter().find(|t| t.get_ref().v > MAX_V) {
                return Err(err(
                    t.span(),
                    format!(
                        "`{name}`: v = {} is out of range (0 to {MAX_V})",
                        t.get_ref().v
                    ),
                ));
            }
        }
        let to_template = |t: &Spanned<RawTemplate>| RuleTemplate {
            v: t.get_ref().v,
            int: t.get_ref().int,
        };
        lang.intensional
            .iter()
            .map(|&pred| {
                let name = self.vocab.pred_name(pred);
                let Some(raw) = raw.get(name) else {
                    let arity = self.vocab.arity(pred);
                    return Err(err(
                        self.decl_spans[pred.index()].clone(),
                        format!("intensional predicate `{name}/{arity}` has no rule template"),
                    ));
                };
                // An empty cl(τ) leaves a learner nothing to choose from; say so here, not later.
                if let Some(t) = raw
                    .iter()
                    .find(|t| !template_allows_a_clause(&self.vocab, lang, pred, to_template(t)))
                {
                    let arity = self.vocab.arity(pred);
                    let msg = format!(
                        "`{name}/{arity}`: the template {{ v = {}, int = {} }} allows no clause",
                        t.get_ref().v,
                        t.get_ref().int
                    );
                    return Err(err(t.span(), msg));
                }
                let templates = [raw.first().map(to_template), raw.get(1).map(to_template)];
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
        spanned: &Spanned<RawWorld>,
        section: &str,
        lang: &Language,
        steps: usize,
    ) -> Result<World> {
        let raw = spanned.get_ref();
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
            let text = match c.get_ref() {
                RawConst::Int(i) => i.to_string(),
                RawConst::Name(s)
                    if is_name(s) || (s.len() >= 2 && s.starts_with('"') && s.ends_with('"')) =>
                {
                    s.clone()
                }
                RawConst::Name(s) => {
                    let msg = format!("{section}.constants: `{s}` is not a constant (lower-case name, integer or quoted string)");
                    return Err(self.at(c.span(), msg));
                }
            };
            constants.insert(self.vocab.intern_const(&text));
        }
        if constants.is_empty() {
            let msg = format!("{section}: the world has no constants; give facts, examples or `constants = [...]`");
            return Err(self.at(spanned.span(), msg));
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
        if let Some(s) = raw.steps.as_ref().filter(|s| *s.get_ref() == 0) {
            return Err(self.at(s.span(), format!("{section}: steps must be at least 1")));
        }
        let steps = raw.steps.as_ref().map_or(steps, |s| *s.get_ref());
        Ok(World {
            constants,
            background: background.into_iter().map(|(a, _)| a).collect(),
            positive: positive.into_iter().map(|(a, _)| a).collect(),
            negative,
            steps,
        })
    }
}
