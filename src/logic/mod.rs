//! Terms, atoms, clauses and programs over an interned vocabulary, and the parser for the
//! Prolog-style text that every other layer reads and writes.
//!
//! Ids are plain `u32` newtypes indexing `Vec`s in [`Vocabulary`]; interning order is the order
//! of first appearance, so the same text always gives the same ids.

mod parser;
mod syntax;

pub use parser::{parse_atom, parse_ground_atoms, parse_program, Parser};
pub use syntax::{Atom, Clause, GroundAtom, Program, Term};

use std::collections::HashMap;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    };
}

id_type!(
    /// A predicate symbol (name plus its one arity).
    PredId
);
id_type!(
    /// A constant symbol.
    ConstId
);
id_type!(
    /// A variable, numbered within its clause.
    VarId
);
id_type!(
    /// A ground atom in some deterministic atom index.
    AtomId
);
id_type!(
    /// A clause in some clause list.
    ClauseId
);

/// A predicate's name and arity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredInfo {
    pub name: String,
    pub arity: usize,
}

/// Interned predicate and constant names. A predicate has exactly one arity.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    preds: Vec<PredInfo>,
    pred_ids: HashMap<String, PredId>,
    consts: Vec<String>,
    const_ids: HashMap<String, ConstId>,
}

impl Vocabulary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns `name/arity`. Returns `Err(existing_arity)` if the name is known with another arity.
    pub fn intern_pred(&mut self, name: &str, arity: usize) -> Result<PredId, usize> {
        if let Some(&id) = self.pred_ids.get(name) {
            let known = self.preds[id.index()].arity;
            return if known == arity { Ok(id) } else { Err(known) };
        }
        let id = PredId(self.preds.len() as u32);
        self.preds.push(PredInfo {
            name: name.to_string(),
            arity,
        });
        self.pred_ids.insert(name.to_string(), id);
        Ok(id)
    }

    /// Interns a constant by its text as written (`a`, `42`, `"quoted"`).
    pub fn intern_const(&mut self, text: &str) -> ConstId {
        if let Some(&id) = self.const_ids.get(text) {
            return id;
        }
        let id = ConstId(self.consts.len() as u32);
        self.consts.push(text.to_string());
        self.const_ids.insert(text.to_string(), id);
        id
    }

    pub fn pred(&self, id: PredId) -> &PredInfo {
        &self.preds[id.index()]
    }
    pub fn pred_name(&self, id: PredId) -> &str {
        &self.preds[id.index()].name
    }
    pub fn arity(&self, id: PredId) -> usize {
        self.preds[id.index()].arity
    }
    pub fn const_name(&self, id: ConstId) -> &str {
        &self.consts[id.index()]
    }
    pub fn find_pred(&self, name: &str) -> Option<PredId> {
        self.pred_ids.get(name).copied()
    }
    pub fn find_const(&self, text: &str) -> Option<ConstId> {
        self.const_ids.get(text).copied()
    }
    pub fn num_preds(&self) -> usize {
        self.preds.len()
    }
    pub fn num_consts(&self) -> usize {
        self.consts.len()
    }
    pub fn preds(&self) -> impl Iterator<Item = (PredId, &PredInfo)> {
        self.preds
            .iter()
            .enumerate()
            .map(|(i, p)| (PredId(i as u32), p))
    }
    pub fn consts(&self) -> impl Iterator<Item = (ConstId, &str)> {
        self.consts
            .iter()
            .enumerate()
            .map(|(i, c)| (ConstId(i as u32), c.as_str()))
    }
}
