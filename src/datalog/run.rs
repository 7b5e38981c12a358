//! The library side of `dilp run FILE.dl [--query ATOM] [--engine ENGINE]`: parse a program and
//! an optional query, evaluate, and render the facts as sorted lines of text.

use super::magic::{query, Engine};
use super::{evaluate_with_stats, Model, Stats, Strategy};
use crate::error::{Error, Location, Result};
use crate::logic::{
    parse_atom, parse_program, Atom, ConstId, GroundAtom, PredId, Term, Vocabulary,
};
use std::fmt;
use std::str::FromStr;

impl FromStr for Engine {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "naive" => Ok(Engine::Naive),
            "semi-naive" | "seminaive" => Ok(Engine::SemiNaive),
            "magic" => Ok(Engine::Magic),
            _ => Err(Error::Config(format!(
                "unknown engine `{s}`; expected `naive`, `semi-naive` or `magic`"
            ))),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Naive => "naive",
            Engine::SemiNaive => "semi-naive",
            Engine::Magic => "magic",
        })
    }
}

impl Engine {
    /// The engine `dilp run` uses when none is named: magic sets when the query binds an
    /// argument to a constant, semi-naive evaluation otherwise.
    pub fn default_for(query: Option<&Atom>) -> Engine {
        match query {
            Some(q) if q.args.iter().any(|t| matches!(t, Term::Const(_))) => Engine::Magic,
            _ => Engine::SemiNaive,
        }
    }
}

/// What `dilp run` prints.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Each fact as a line `name(a,b).`, sorted by predicate name, then argument texts.
    pub text: String,
    pub stats: Stats,
    /// The engine that actually ran (the default one when none was asked for).
    pub engine: Engine,
}

impl RunOutput {
    pub fn lines(&self) -> Vec<&str> {
        self.text.lines().collect()
    }
}

/// Parses `src` (named `file_name` in errors) and prints its least model, or only the answers
/// to `query` (an atom such as `path(a,X)`, located as `<query>` in errors). With `engine` left
/// out, see [`Engine::default_for`].
pub fn run_source(
    src: &str,
    file_name: &str,
    query_text: Option<&str>,
    engine: Option<Engine>,
) -> Result<RunOutput> {
    let mut program = parse_program(src, file_name)?;
    let Some(text) = query_text else {
        let engine = engine.unwrap_or(Engine::SemiNaive);
        let strategy = match engine {
            Engine::Naive => Strategy::Naive,
            Engine::SemiNaive | Engine::Magic => Strategy::SemiNaive,
        };
        let (model, stats) = evaluate_with_stats(&program, strategy);
        return Ok(RunOutput {
            text: render_model(&model, &program.vocab),
            stats,
            engine,
        });
    };
    let known = program.vocab.num_preds();
    let (atom, _) = parse_atom(text, &mut program.vocab, "<query>")?;
    if atom.pred.index() >= known {
        let name = program.vocab.pred_name(atom.pred).to_string();
        return Err(Error::Semantic {
            loc: query_location(text, &name),
            msg: format!("the query names `{name}`, which the program does not mention"),
        });
    }
    let engine = engine.unwrap_or_else(|| Engine::default_for(Some(&atom)));
    let (answers, stats) = query(&program, &atom, engine);
    Ok(RunOutput {
        text: render(&answers, &program.vocab),
        stats,
        engine,
    })
}

/// Where the predicate name starts in the query text (it is the first token).
fn query_location(text: &str, name: &str) -> Location {
    let (mut line, mut col) = (1, 1);
    for c in text.chars() {
        if !c.is_whitespace() {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Location {
        file: "<query>".to_string(),
        line,
        col,
        snippet: name.chars().take(40).collect(),
    }
}

fn render(facts: &[GroundAtom], vocab: &Vocabulary) -> String {
    let mut keyed: Vec<(&str, Vec<&str>, String)> = facts
        .iter()
        .map(|f| {
            let args = f.args.iter().map(|&c| vocab.const_name(c)).collect();
            (
                vocab.pred_name(f.pred),
                args,
                format!("{}.\n", f.display(vocab)),
            )
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, line)| line).collect()
}

/// The whole model in the same order as [`render`], without building an atom or a string per
/// fact: rows are re-keyed by each constant's rank in name order and sorted as integers, which
/// is what makes printing millions of facts cheap.
fn render_model(model: &Model, vocab: &Vocabulary) -> String {
    let mut rank = vec![0u32; vocab.num_consts()];
    let mut by_name: Vec<u32> = (0..vocab.num_consts() as u32).collect();
    by_name.sort_by(|&a, &b| {
        vocab
            .const_name(ConstId(a))
            .cmp(vocab.const_name(ConstId(b)))
    });
    for (r, &c) in by_name.iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    let mut preds: Vec<PredId> = (0..vocab.num_preds() as u32).map(PredId).collect();
    preds.sort_by(|&a, &b| (vocab.pred_name(a), a.0).cmp(&(vocab.pred_name(b), b.0)));
    let mut out = String::new();
    for p in preds {
        let (arity, data) = model.rows_of(p);
        let name = vocab.pred_name(p);
        if arity == 0 {
            if model.count_of(p) > 0 {
                out.push_str(name);
                out.push_str(".\n");
            }
            continue;
        }
        let mut rows: Vec<u32> = data.iter().map(|&c| rank[c as usize]).collect();
        sort_rows(&mut rows, arity);
        for row in rows.chunks(arity) {
            out.push_str(name);
            out.push('(');
            for (i, &r) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(vocab.const_name(ConstId(by_name[r as usize])));
            }
            out.push_str(").\n");
        }
    }
    out
}

/// Sorts the rows (`arity` ids each) of a row-major table.
fn sort_rows(rows: &mut Vec<u32>, arity: usize) {
    match arity {
        1 => rows.sort_unstable(),
        2 => {
            let mut packed: Vec<u64> = rows
                .chunks(2)
                .map(|r| (u64::from(r[0]) << 32) | u64::from(r[1]))
                .collect();
            packed.sort_unstable();
            for (dst, p) in rows.chunks_mut(2).zip(packed) {
                dst[0] = (p >> 32) as u32;
                dst[1] = p as u32;
            }
        }
        _ => {
            let mut chunks: Vec<&[u32]> = rows.chunks(arity).collect();
            chunks.sort_unstable();
            *rows = chunks.concat();
        }
    }
}
