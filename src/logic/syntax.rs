//! The abstract syntax: terms, atoms, definite clauses and programs, printed back in the same
//! syntax the parser reads (`path(a,b).`, `p(X,Y) :- q(X,Z), r(Z,Y).`).

use super::{ConstId, PredId, VarId, Vocabulary};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Term {
    Var(VarId),
    Const(ConstId),
}

/// An atom that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom {
    pub pred: PredId,
    pub args: Vec<Term>,
}

/// A variable-free atom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroundAtom {
    pub pred: PredId,
    pub args: Vec<ConstId>,
}

/// A definite clause `head :- body.`; variables are numbered `0..var_names.len()`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Clause {
    pub head: Atom,
    pub body: Vec<Atom>,
    pub var_names: Vec<String>,
}

/// Facts plus rules over one vocabulary.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub vocab: Vocabulary,
    pub facts: Vec<GroundAtom>,
    pub rules: Vec<Clause>,
}

impl Atom {
    pub fn vars(&self) -> impl Iterator<Item = VarId> + '_ {
        self.args.iter().filter_map(|t| match t {
            Term::Var(v) => Some(*v),
            Term::Const(_) => None,
        })
    }
    /// The ground atom, if this atom has no variables.
    pub fn to_ground(&self) -> Option<GroundAtom> {
        let args = self
            .args
            .iter()
            .map(|t| match t {
                Term::Const(c) => Some(*c),
                Term::Var(_) => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(GroundAtom {
            pred: self.pred,
            args,
        })
    }
    pub fn display<'a>(
        &'a self,
        vocab: &'a Vocabulary,
        var_names: &'a [String],
    ) -> impl fmt::Display + 'a {
        DisplayAtom {
            atom: self,
            vocab,
            var_names,
        }
    }
}

impl GroundAtom {
    pub fn new(pred: PredId, args: Vec<ConstId>) -> Self {
        GroundAtom { pred, args }
    }
    pub fn to_atom(&self) -> Atom {
        Atom {
            pred: self.pred,
            args: self.args.iter().map(|&c| Term::Const(c)).collect(),
        }
    }
    /// `name(a,b)` without the final period.
    pub fn display<'a>(&'a self, vocab: &'a Vocabulary) -> impl fmt::Display + 'a {
        DisplayGround { atom: self, vocab }
    }
}

impl Clause {
    pub fn num_vars(&self) -> usize {
        self.var_names.len()
    }
    /// True when every head variable occurs in the body (range restriction).
    pub fn is_safe(&self) -> bool {
        self.head
            .vars()
            .all(|v| self.body.iter().any(|b| b.vars().any(|w| w == v)))
    }
    /// `head :- b1, b2.` (or `head.` with an empty body), with the final period.
    pub fn display<'a>(&'a self, vocab: &'a Vocabulary) -> impl fmt::Display + 'a {
        DisplayClause {
            clause: self,
            vocab,
        }
    }
}

struct DisplayGround<'a> {
    atom: &'a GroundAtom,
    vocab: &'a Vocabulary,
}
impl fmt::Display for DisplayGround<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.vocab.pred_name(self.atom.pred))?;
        if !self.atom.args.is_empty() {
            f.write_str("(")?;
            for (i, c) in self.atom.args.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                f.write_str(self.vocab.const_name(*c))?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

struct DisplayAtom<'a> {
    atom: &'a Atom,
    vocab: &'a Vocabulary,
    var_names: &'a [String],
}
impl fmt::Display for DisplayAtom<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.vocab.pred_name(self.atom.pred))?;
        if !self.atom.args.is_empty() {
            f.write_str("(")?;
            for (i, t) in self.atom.args.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                match t {
                    Term::Const(c) => f.write_str(self.vocab.const_name(*c))?,
                    Term::Var(v) => match self.var_names.get(v.index()) {
                        Some(name) => f.write_str(name)?,
                        None => write!(f, "V{}", v.0)?,
                    },
                }
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

struct DisplayClause<'a> {
    clause: &'a Clause,
    vocab: &'a Vocabulary,
}
impl fmt::Display for DisplayClause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = &self.clause.var_names;
        write!(f, "{}", self.clause.head.display(self.vocab, names))?;
        for (i, b) in self.clause.body.iter().enumerate() {
            f.write_str(if i == 0 { " :- " } else { ", " })?;
            write!(f, "{}", b.display(self.vocab, names))?;
        }
        f.write_str(".")
    }
}

impl Program {
    /// The whole program as text the parser reads back: facts first, then rules.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for fact in &self.facts {
            out.push_str(&format!("{}.\n", fact.display(&self.vocab)));
        }
        for rule in &self.rules {
            out.push_str(&format!("{}\n", rule.display(&self.vocab)));
        }
        out
    }
}
