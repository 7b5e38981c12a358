//! Join plans: a rule body compiled into an ordered list of index lookups and scans, and the
//! nested-loop executor that runs a plan against a [`Database`] to produce new head tuples.
//!
//! Both evaluation strategies share this code; they differ only in which plans they run each
//! round and in which rows a plan's first ("delta") atom ranges over.

use super::relation::{self, Relation};
use crate::logic::{Atom, Clause, Program, Term};

/// All relations of one evaluation, indexed by predicate id.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    pub(crate) rels: Vec<Relation>,
}

impl Database {
    /// One relation per predicate, loaded with the program's facts. Predicates are sized from
    /// the vocabulary, but ids beyond it (programs built in code) still get a relation.
    pub(crate) fn new(program: &Program) -> Self {
        let vocab = &program.vocab;
        let mut arities: Vec<Option<usize>> =
            vocab.preds().map(|(_, info)| Some(info.arity)).collect();
        let atoms = program
            .rules
            .iter()
            .flat_map(|r| std::iter::once(&r.head).chain(&r.body))
            .map(|a| (a.pred.index(), a.args.len()))
            .chain(program.facts.iter().map(|f| (f.pred.index(), f.args.len())));
        for (p, n) in atoms {
            if p >= arities.len() {
                arities.resize(p + 1, None);
            }
            arities[p].get_or_insert(n);
        }
        // Every value a rule can derive is a constant of the facts or the rules.
        let domain = program
            .facts
            .iter()
            .flat_map(|f| f.args.iter().map(|c| c.0))
            .chain(program.rules.iter().flat_map(|r| {
                std::iter::once(&r.head)
                    .chain(&r.body)
                    .flat_map(|a| a.args.iter())
                    .filter_map(|t| match t {
                        Term::Const(c) => Some(c.0),
                        Term::Var(_) => None,
                    })
            }))
            .max()
            .map(|m| m.saturating_add(1));
        let mut db = Database {
            rels: arities
                .iter()
                .map(|a| Relation::with_domain(a.unwrap_or(0), domain))
                .collect(),
        };
        for f in &program.facts {
            let rel = &mut db.rels[f.pred.index()];
            debug_assert_eq!(rel.arity(), f.args.len(), "fact with the wrong arity");
            if rel.arity() == f.args.len() {
                let tuple: Vec<u32> = f.args.iter().map(|c| c.0).collect();
                rel.insert(&tuple);
            }
        }
        db
    }

    fn atom_fits(&self, atom: &Atom) -> bool {
        self.rels[atom.pred.index()].arity() == atom.args.len()
    }

    /// Whether the engine can run `rule`: it must be safe and match the predicates' arities.
    /// The parser guarantees both; a rule built in code that breaks them derives nothing.
    pub(crate) fn usable(&self, rule: &Clause) -> bool {
        let ok = rule.is_safe()
            && self.atom_fits(&rule.head)
            && rule.body.iter().all(|a| self.atom_fits(a));
        debug_assert!(ok, "evaluate requires safe rules with consistent arities");
        ok
    }

    /// Adds the buffered tuples; returns whether any was new.
    pub(crate) fn absorb(&mut self, pending: &mut [Pending]) -> bool {
        let mut grew = false;
        for (rel, p) in self.rels.iter_mut().zip(pending.iter_mut()) {
            grew |= rel.insert_all(&p.data, p.rows);
            p.data.clear();
            p.rows = 0;
            p.limit = MIN_LIMIT;
        }
        grew
    }

    pub(crate) fn pending(&self) -> Vec<Pending> {
        self.rels.iter().map(|_| Pending::default()).collect()
    }
}

/// Head tuples derived in one round, kept apart so that the round reads a fixed database.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    data: Vec<u32>,
    rows: usize,
    /// Size (in words, a nullary row counting one) at which the buffer drops duplicates and
    /// known facts, so that rules that derive the same facts many times over keep it near the
    /// number of new facts.
    limit: usize,
}

/// 32 MiB: large enough that transitive closure of millions of paths rarely compacts.
const MIN_LIMIT: usize = 1 << 23;

impl Default for Pending {
    fn default() -> Self {
        Pending {
            data: Vec::new(),
            rows: 0,
            limit: MIN_LIMIT,
        }
    }
}

impl Pending {
    fn compact(&mut self, rel: &Relation) {
        let (unique, rows) =
            relation::sort_dedup(std::mem::take(&mut self.data), rel.arity(), self.rows);
        (self.data, self.rows) = rel.missing(&unique, rows);
        self.limit = MIN_LIMIT.max(2 * self.rows * rel.arity().max(1));
    }
}

#[derive(Debug, Clone)]
enum Access {
    /// Every row of the relation.
    Scan,
    /// The rows added in the previous round.
    Delta,
    /// The chain of an index, keyed by already-bound terms.
    Lookup { index: usize, key: Vec<Term> },
    /// Every argument bound: a membership test.
    Member { key: Vec<Term> },
}

#[derive(Debug, Clone)]
struct Step {
    rel: usize,
    access: Access,
    /// Columns that bind a variable for the first time.
    binds: Vec<(usize, usize)>,
    /// Columns that must equal a constant or an already-bound variable.
    filters: Vec<(usize, Term)>,
}

/// One rule, with its body in join order.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    head_rel: usize,
    head: Vec<Term>,
    steps: Vec<Step>,
    num_vars: usize,
}

impl Plan {
    /// Compiles `rule` (which must be [`Database::usable`]). With `delta = Some(i)`, body atom
    /// `i` comes first and reads only the previous round's new rows; the rest are ordered
    /// greedily, most bound arguments first, so that each later atom is an index lookup.
    pub(crate) fn compile(rule: &Clause, delta: Option<usize>, db: &mut Database) -> Plan {
        let num_vars = std::iter::once(&rule.head)
            .chain(&rule.body)
            .flat_map(|a| a.vars())
            .map(|v| v.index() + 1)
            .max()
            .unwrap_or(0);
        let mut bound = vec![false; num_vars];
        let mut left: Vec<usize> = (0..rule.body.len()).filter(|&i| Some(i) != delta).collect();
        let mut order: Vec<usize> = delta.into_iter().collect();
        for v in order.iter().flat_map(|&i| rule.body[i].vars()) {
            bound[v.index()] = true;
        }
        while !left.is_empty() {
            let score = |i: usize| {
                let a = &rule.body[i];
                a.args.iter().filter(|t| is_bound(t, &bound)).count()
            };
            let best = (0..left.len())
                .max_by_key(|&k| (score(left[k]), std::cmp::Reverse(k)))
                .unwrap_or(0);
            let i = left.remove(best);
            for v in rule.body[i].vars() {
                bound[v.index()] = true;
            }
            order.push(i);
        }
        bound.iter_mut().for_each(|b| *b = false);
        let steps = order
            .iter()
            .map(|&i| Self::step(&rule.body[i], Some(i) == delta, &mut bound, db))
            .collect();
        Plan {
            head_rel: rule.head.pred.index(),
            head: rule.head.args.clone(),
            steps,
            num_vars,
        }
    }

    fn step(atom: &Atom, is_delta: bool, bound: &mut [bool], db: &mut Database) -> Step {
        let mut keyed = Vec::new();
        let mut binds = Vec::new();
        let mut filters = Vec::new();
        let mut fresh = Vec::new();
        for (col, &t) in atom.args.iter().enumerate() {
            match t {
                Term::Var(v) if !bound[v.index()] => {
                    if fresh.contains(&v) {
                        filters.push((col, t));
                    } else {
                        fresh.push(v);
                        binds.push((col, v.index()));
                    }
                }
                _ => keyed.push((col, t)),
            }
        }
        fresh.iter().for_each(|v| bound[v.index()] = true);
        let rel = atom.pred.index();
        let access = if !is_delta && !keyed.is_empty() && keyed.len() == atom.args.len() {
            Access::Member {
                key: keyed.iter().map(|&(_, t)| t).collect(),
            }
        } else if is_delta || keyed.is_empty() {
            filters.extend(keyed);
            if is_delta {
                Access::Delta
            } else {
                Access::Scan
            }
        } else {
            let cols: Vec<usize> = keyed.iter().map(|&(c, _)| c).collect();
            Access::Lookup {
                index: db.rels[rel].ensure_index(&cols),
                key: keyed.iter().map(|&(_, t)| t).collect(),
            }
        };
        Step {
            rel,
            access,
            binds,
            filters,
        }
    }

    /// The relation whose delta this plan reads, if it has a delta atom.
    pub(crate) fn delta_rel(&self) -> Option<usize> {
        self.steps
            .first()
            .filter(|s| matches!(s.access, Access::Delta))
            .map(|s| s.rel)
    }

    /// The `(relation, index)` pairs this plan reads.
    pub(crate) fn indexes(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.steps.iter().filter_map(|s| match s.access {
            Access::Lookup { index, .. } => Some((s.rel, index)),
            _ => None,
        })
    }
}

fn is_bound(t: &Term, bound: &[bool]) -> bool {
    match t {
        Term::Const(_) => true,
        Term::Var(v) => bound[v.index()],
    }
}

/// Runs plans against a fixed database, buffering head tuples that are not in it yet.
pub(crate) struct Exec<'a> {
    db: &'a Database,
    /// Per relation, the row range `[start, end)` that `Delta` steps read.
    deltas: &'a [(u32, u32)],
    vals: Vec<u32>,
    key: Vec<u32>,
    head: Vec<u32>,
    /// Head instantiations produced, duplicates included: the work done.
    pub(crate) derived: usize,
}

impl<'a> Exec<'a> {
    pub(crate) fn new(db: &'a Database, deltas: &'a [(u32, u32)]) -> Self {
        Exec {
            db,
            deltas,
            vals: Vec::new(),
            key: Vec::new(),
            head: Vec::new(),
            derived: 0,
        }
    }

    pub(crate) fn run(&mut self, plan: &Plan, out: &mut [Pending]) {
        self.vals.clear();
        self.vals.resize(plan.num_vars, 0);
        self.step(plan, 0, out);
    }

    fn value(&self, t: Term) -> u32 {
        match t {
            Term::Const(c) => c.0,
            Term::Var(v) => self.vals[v.index()],
        }
    }

    fn step(&mut self, plan: &Plan, depth: usize, out: &mut [Pending]) {
        let Some(step) = plan.steps.get(depth) else {
            return self.emit(plan, out);
        };
        let db = self.db;
        let rel = &db.rels[step.rel];
        match &step.access {
            Access::Scan => {
                for row in 0..rel.len() as u32 {
                    self.try_row(plan, depth, rel.row(row), out);
                }
            }
            Access::Delta => {
                let (start, end) = self.deltas[step.rel];
                for row in start..end {
                    self.try_row(plan, depth, rel.row(row), out);
                }
            }
            Access::Lookup { index, key } => {
                self.bind_key(key);
                let mut cur = rel.lookup(*index, &self.key);
                while let Some(row) = cur {
                    self.try_row(plan, depth, rel.row(row), out);
                    cur = rel.next(*index, row);
                }
            }
            Access::Member { key } => {
                self.bind_key(key);
                if rel.contains(&self.key) {
                    self.step(plan, depth + 1, out);
                }
            }
        }
    }

    /// `self.key` = the current values of `key`'s terms.
    fn bind_key(&mut self, key: &[Term]) {
        self.key.clear();
        for &t in key {
            let v = self.value(t);
            self.key.push(v);
        }
    }

    fn try_row(&mut self, plan: &Plan, depth: usize, tuple: &[u32], out: &mut [Pending]) {
        let step = &plan.steps[depth];
        for &(col, var) in &step.binds {
            self.vals[var] = tuple[col];
        }
        if step
            .filters
            .iter()
            .all(|&(col, t)| tuple[col] == self.value(t))
        {
            self.step(plan, depth + 1, out);
        }
    }

    fn emit(&mut self, plan: &Plan, out: &mut [Pending]) {
        self.derived += 1;
        self.head.clear();
        for &t in &plan.head {
            let v = self.value(t);
            self.head.push(v);
        }
        // Checking the database here, one cache miss at a time, would cost more than the whole
        // join; `absorb` filters in batches instead.
        let p = &mut out[plan.head_rel];
        p.data.extend_from_slice(&self.head);
        p.rows += 1;
        if p.rows * plan.head.len().max(1) >= p.limit {
            p.compact(&self.db.rels[plan.head_rel]);
        }
    }
}
