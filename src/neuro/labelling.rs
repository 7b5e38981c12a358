//! The labelling program of a neuro-symbolic task: parsed once over its own vocabulary (the
//! language's extensional predicates and target, then the file's helpers), checked (declared
//! predicates, arities, what it may define), and run by the engine in each digit tuple's world.

use super::taskfile::{is_name, task_err, RawPerception};
use crate::datalog::{evaluate, Strategy};
use crate::error::{Error, Location, Result};
use crate::ilp::Task;
use crate::logic::{GroundAtom, Parser, PredId, Vocabulary};

/// The labelling program, parsed once over its own vocabulary (language extensional and target
/// predicates, then the helpers), run once per digit tuple.
pub(super) struct Labeller {
    base: crate::logic::Program,
    target: GroundAtom,
    file: String,
}

impl Labeller {
    pub(super) fn new(raw: &RawPerception, frame: &Task, file: &str) -> Result<Labeller> {
        let mut vocab = Vocabulary::new();
        let lang = &frame.language;
        for &p in lang.extensional.iter().chain([&lang.target]) {
            let _ = vocab.intern_pred(frame.vocab.pred_name(p), frame.vocab.arity(p));
        }
        let mut helpers: Vec<PredId> = Vec::new();
        for d in &raw.helpers {
            helpers.push(helper(d, &mut vocab, frame, file)?);
        }
        let declared = vocab.num_preds();
        let src = format!("{file} [perception].labelling");
        let (mut facts, mut rules) = (Vec::new(), Vec::new());
        Parser::new(&mut vocab, src.clone()).parse_into(&raw.labelling, &mut facts, &mut rules)?;
        let undeclared = |p: PredId, vocab: &Vocabulary| {
            let name = vocab.pred_name(p);
            let invented = frame
                .vocab
                .find_pred(name)
                .is_some_and(|q| lang.invented().contains(&q));
            let why = if invented {
                "is an invented predicate of the learner; the labelling program may use only extensional predicates, the target and its helpers"
            } else {
                "is not declared (in [language] or [perception] helpers)"
            };
            Error::Semantic {
                loc: locate(&raw.labelling, name, &src),
                msg: format!("predicate `{name}/{}` {why}", vocab.arity(p)),
            }
        };
        for atom in rules
            .iter()
            .flat_map(|r| std::iter::once(&r.head).chain(&r.body))
        {
            if atom.pred.index() >= declared {
                return Err(undeclared(atom.pred, &vocab));
            }
        }
        let target = PredId(lang.extensional.len() as u32);
        for r in &rules {
            if r.head.pred != target && !helpers.contains(&r.head.pred) {
                let name = vocab.pred_name(r.head.pred).to_string();
                return Err(Error::Semantic {
                    loc: locate(&raw.labelling, &name, &src),
                    msg: format!("the labelling program defines `{name}`, which is extensional; it may define only the target and its helpers"),
                });
            }
        }
        for f in &facts {
            let name = vocab.pred_name(f.pred).to_string();
            if f.pred.index() >= declared {
                return Err(undeclared(f.pred, &vocab));
            }
            if !helpers.contains(&f.pred) {
                return Err(Error::Semantic {
                    loc: locate(&raw.labelling, &name, &src),
                    msg: format!("a labelling fact of `{name}`: the labelling program's facts are of its helpers; facts the learner sees go in [perception] background"),
                });
            }
        }
        if !rules.iter().any(|r| r.head.pred == target) {
            return Err(task_err(
                file,
                format!(
                    "[perception] labelling: no rule defines the target `{}`",
                    vocab.pred_name(target)
                ),
            ));
        }
        let bg = Parser::new(&mut vocab, format!("{file} [perception].background"))
            .ground_atoms(&raw.background)?;
        facts.extend(bg.into_iter().map(|(a, _)| a));
        let base = crate::logic::Program {
            vocab,
            facts,
            rules,
        };
        Ok(Labeller {
            base,
            target: GroundAtom::new(target, vec![]),
            file: file.to_string(),
        })
    }

    /// Whether the target holds in the world of these image facts.
    pub(super) fn label(&self, image_facts: &str) -> Result<bool> {
        let mut prog = self.base.clone();
        let atoms = Parser::new(&mut prog.vocab, format!("{} <digit tuple>", self.file))
            .ground_atoms(image_facts)?;
        prog.facts.extend(atoms.into_iter().map(|(a, _)| a));
        Ok(evaluate(&prog, Strategy::SemiNaive).contains(&self.target))
    }
}

/// Interns one helper declaration `name/arity`.
fn helper(text: &str, vocab: &mut Vocabulary, frame: &Task, file: &str) -> Result<PredId> {
    let bad = |msg: String| task_err(file, format!("[perception] helpers: {msg}"));
    let parsed = text
        .rsplit_once('/')
        .and_then(|(n, a)| Some((n.trim(), a.trim().parse::<usize>().ok()?)));
    let Some((name, arity)) = parsed.filter(|(n, a)| is_name(n) && *a <= 2) else {
        return Err(bad(format!(
            "`{text}` is not a predicate declaration `name/arity` (arity 0, 1 or 2)"
        )));
    };
    if frame.vocab.find_pred(name).is_some() {
        return Err(bad(format!("`{name}` is already declared in [language]")));
    }
    vocab
        .intern_pred(name, arity)
        .map_err(|known| bad(format!("`{text}` clashes with arity {known}")))
}

/// Where `name` first occurs as a whole word in `text` (for errors the parser cannot place).
fn locate(text: &str, name: &str, file: &str) -> Location {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find(name) {
            let start = from + at;
            let end = start + name.len();
            let before = line[..start].chars().next_back().is_none_or(|c| !word(c));
            let after = line[end..].chars().next().is_none_or(|c| !word(c));
            if before && after {
                return Location {
                    file: file.to_string(),
                    line: i + 1,
                    col: line[..start].chars().count() + 1,
                    snippet: name.to_string(),
                };
            }
            from = end;
        }
    }
    Location {
        file: file.to_string(),
        line: 1,
        col: 1,
        snippet: String::new(),
    }
}
