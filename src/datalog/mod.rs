//! The Datalog engine: computes the least Herbrand model of a [`Program`] bottom-up.
//!
//! Two strategies compute the same model: [`Strategy::Naive`] (the reference) and
//! [`Strategy::SemiNaive`] (the default, which only joins with facts new since the last round).
//! Evaluation always terminates: rules only combine constants that occur in the program, so the
//! model is a subset of a finite Herbrand base.
//!
//! Requirements on the input: every rule must be safe (each head variable occurs in the body)
//! and every atom must have its predicate's arity. The parser rejects programs that break these;
//! for rules built in code they are checked with `debug_assert!`, and in release builds such a
//! rule derives nothing. Constants in rules, nullary predicates and rules with an empty body (a
//! ground head, i.e. a fact) are all fine.
//!
//! Output is deterministic: [`Model::iter`] and [`Model::facts_of`] list facts by predicate id,
//! then by arguments in [`ConstId`](crate::logic::ConstId) order.
//!
//! [`query`] answers one atom, with [`Engine::Magic`] through the magic-sets rewriting, and
//! [`run_source`] is what `dilp run` calls (magic sets by default when the query has a
//! constant). Inside: `relation` and
//! `index` store tuples and hash indexes, `plan` compiles rule bodies to joins and runs them,
//! `naive` and `seminaive` drive the rounds, `magic` rewrites programs for a query.

mod index;
mod magic;
mod naive;
mod plan;
mod relation;
mod run;
mod seminaive;

pub use magic::{matches, query, Engine};
pub use run::{run_source, RunOutput};

use crate::logic::{ConstId, GroundAtom, PredId, Program};
use std::cmp::Ordering;
use std::time::{Duration, Instant};

/// How to compute the least model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Apply every rule to the whole database until nothing new appears.
    Naive,
    /// Join each rule with the previous round's new facts only.
    #[default]
    SemiNaive,
}

/// What an evaluation cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Rounds of rule application, the last of which derived nothing new.
    pub rounds: usize,
    /// Head instantiations computed by rule bodies, re-derivations of known facts included:
    /// the join work, which is what semi-naive evaluation saves.
    pub derived: usize,
    /// Facts in the resulting model (input facts included).
    pub facts: usize,
    pub elapsed: Duration,
}

/// One predicate's facts, sorted, as a flat vector of `arity`-long rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table {
    arity: usize,
    rows: usize,
    data: Vec<u32>,
}

impl Table {
    fn row(&self, i: usize) -> &[u32] {
        &self.data[i * self.arity..(i + 1) * self.arity]
    }

    fn contains(&self, args: &[u32]) -> bool {
        if args.len() != self.arity {
            return false;
        }
        let (mut lo, mut hi) = (0, self.rows);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.row(mid).cmp(args) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return true,
            }
        }
        false
    }

    fn atoms(&self, pred: PredId) -> impl Iterator<Item = GroundAtom> + '_ {
        (0..self.rows)
            .map(move |i| GroundAtom::new(pred, self.row(i).iter().map(|&c| ConstId(c)).collect()))
    }
}

/// The least Herbrand model of a program: every fact it entails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    tables: Vec<Table>,
    len: usize,
}

impl Model {
    fn from_db(db: plan::Database) -> Model {
        let tables: Vec<Table> = db
            .rels
            .into_iter()
            .map(|r| Table {
                arity: r.arity(),
                rows: r.len(),
                data: r.into_sorted(),
            })
            .collect();
        let len = tables.iter().map(|t| t.rows).sum();
        Model { tables, len }
    }

    pub fn contains(&self, atom: &GroundAtom) -> bool {
        let args: Vec<u32> = atom.args.iter().map(|c| c.0).collect();
        self.tables
            .get(atom.pred.index())
            .is_some_and(|t| t.contains(&args))
    }

    /// The number of facts.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of facts of `pred`.
    pub fn count_of(&self, pred: PredId) -> usize {
        self.tables.get(pred.index()).map_or(0, |t| t.rows)
    }

    /// The facts of `pred`, sorted by arguments (in `ConstId` order).
    pub fn facts_of(&self, pred: PredId) -> Vec<GroundAtom> {
        self.tables
            .get(pred.index())
            .map_or_else(Vec::new, |t| t.atoms(pred).collect())
    }

    /// The facts of `pred` as rows of `arity` constant ids, row-major, sorted.
    pub fn rows_of(&self, pred: PredId) -> (usize, &[u32]) {
        self.tables
            .get(pred.index())
            .map_or((0, &[][..]), |t| (t.arity, &t.data[..]))
    }

    /// All facts, by predicate id, then arguments.
    pub fn iter(&self) -> impl Iterator<Item = GroundAtom> + '_ {
        self.tables
            .iter()
            .enumerate()
            .flat_map(|(p, t)| t.atoms(PredId(p as u32)))
    }
}

/// The least Herbrand model of `program`. Rules must be safe (see the module docs).
pub fn evaluate(program: &Program, strategy: Strategy) -> Model {
    evaluate_with_stats(program, strategy).0
}

/// [`evaluate`], also reporting rounds, work and time.
pub fn evaluate_with_stats(program: &Program, strategy: Strategy) -> (Model, Stats) {
    let start = Instant::now();
    let (db, rounds, derived) = match strategy {
        Strategy::Naive => naive::run(program),
        Strategy::SemiNaive => seminaive::run(program),
    };
    let model = Model::from_db(db);
    let stats = Stats {
        rounds,
        derived,
        facts: model.len(),
        elapsed: start.elapsed(),
    };
    (model, stats)
}
