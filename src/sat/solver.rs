//! The SAT solver behind a small backend trait, and the recorded CNF every model is checked
//! against.
//!
//! The search itself is BatSat's (a pure-Rust MiniSat descendant: incremental, with
//! assumptions). [`Formula`] sends every clause both to the backend and to its own flat record,
//! so that a model the backend returns can be verified clause by clause ([`verify_model`])
//! before anything is decoded from it: a solver bug then shows up as an error, not as a wrong
//! program.

use crate::error::{Error, Result};
use std::fmt;
use std::ops::Not;

/// A propositional variable, numbered from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Var(pub u32);

/// A literal: a variable or its negation, packed as `2 · var + negated`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lit(u32);

impl Var {
    pub fn index(self) -> usize {
        self.0 as usize
    }
    pub fn positive(self) -> Lit {
        Lit(self.0 << 1)
    }
    pub fn negative(self) -> Lit {
        Lit((self.0 << 1) | 1)
    }
}

impl Lit {
    pub fn var(self) -> Var {
        Var(self.0 >> 1)
    }
    pub fn is_negated(self) -> bool {
        self.0 & 1 == 1
    }
    /// The literal's value under a full assignment of its variable.
    pub fn eval(self, var_value: bool) -> bool {
        var_value != self.is_negated()
    }
    /// DIMACS form: `v + 1` or `-(v + 1)`.
    pub fn to_dimacs(self) -> i64 {
        let v = i64::from(self.var().0) + 1;
        if self.is_negated() {
            -v
        } else {
            v
        }
    }
}

impl Not for Lit {
    type Output = Lit;
    fn not(self) -> Lit {
        Lit(self.0 ^ 1)
    }
}

impl fmt::Debug for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_dimacs())
    }
}

/// What an incremental SAT solver must offer the encoder: fresh variables, clauses, a solve under
/// assumptions (clauses may be added between solves), and the model of the last satisfiable
/// solve.
pub trait SatBackend {
    /// The solver's name and version, for reports.
    fn name(&self) -> &'static str;
    /// Makes sure variables `0..=var` exist.
    fn reserve(&mut self, var: Var);
    fn add_clause(&mut self, lits: &[Lit]);
    /// `Ok(true)`: satisfiable under the assumptions (read the model with
    /// [`value`](Self::value)); `Ok(false)`: unsatisfiable under them.
    fn solve(&mut self, assumptions: &[Lit]) -> Result<bool>;
    /// A variable's value in the last model; `None` if unassigned or if there is no model.
    fn value(&self, var: Var) -> Option<bool>;
}

/// [BatSat](https://crates.io/crates/batsat) through [`SatBackend`].
#[derive(Default)]
pub struct Batsat {
    solver: batsat::BasicSolver,
    lits: Vec<batsat::Lit>,
}

impl Batsat {
    fn lit(&mut self, l: Lit) -> batsat::Lit {
        use batsat::SolverInterface;
        let v = self.solver.var_of_int(l.var().0);
        batsat::Lit::new(v, !l.is_negated())
    }
}

impl SatBackend for Batsat {
    fn name(&self) -> &'static str {
        "BatSat 0.6"
    }

    fn reserve(&mut self, var: Var) {
        use batsat::SolverInterface;
        self.solver.var_of_int(var.0);
    }

    fn add_clause(&mut self, lits: &[Lit]) {
        use batsat::SolverInterface;
        let mut buf = std::mem::take(&mut self.lits);
        buf.clear();
        for &l in lits {
            let bl = self.lit(l);
            buf.push(bl);
        }
        // `false` means the formula is now unsatisfiable; the next solve reports it.
        self.solver.add_clause_reuse(&mut buf);
        self.lits = buf;
    }

    fn solve(&mut self, assumptions: &[Lit]) -> Result<bool> {
        use batsat::SolverInterface;
        let assumps: Vec<batsat::Lit> = assumptions.iter().map(|&l| self.lit(l)).collect();
        let r = self.solver.solve_limited(&assumps);
        if r == batsat::lbool::TRUE {
            Ok(true)
        } else if r == batsat::lbool::FALSE {
            Ok(false)
        } else {
            Err(Error::Solver(
                "BatSat stopped without an answer (no resource limit was set)".into(),
            ))
        }
    }

    fn value(&self, var: Var) -> Option<bool> {
        use batsat::{intmap::AsIndex, SolverInterface};
        let v = self.solver.value_var(batsat::Var::from_index(var.index()));
        if v == batsat::lbool::TRUE {
            Some(true)
        } else if v == batsat::lbool::FALSE {
            Some(false)
        } else {
            None
        }
    }
}

/// A CNF being built: clauses go to the backend and to a flat record of every clause, so
/// models can be verified against exactly what the solver was given.
pub struct Formula {
    backend: Box<dyn SatBackend>,
    num_vars: u32,
    /// All clauses' literals, back to back; clause `i` is `lits[starts[i]..starts[i + 1]]`.
    lits: Vec<Lit>,
    starts: Vec<usize>,
}

impl Default for Formula {
    fn default() -> Self {
        Formula::new(Box::<Batsat>::default())
    }
}

impl Formula {
    pub fn new(backend: Box<dyn SatBackend>) -> Self {
        Formula {
            backend,
            num_vars: 0,
            lits: Vec::new(),
            starts: vec![0],
        }
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    pub fn new_var(&mut self) -> Var {
        let v = Var(self.num_vars);
        self.num_vars += 1;
        self.backend.reserve(v);
        v
    }

    pub fn num_vars(&self) -> usize {
        self.num_vars as usize
    }

    pub fn num_clauses(&self) -> usize {
        self.starts.len() - 1
    }

    /// Adds a clause (the empty clause makes the formula unsatisfiable).
    ///
    /// # Panics
    /// If a literal names a variable that [`new_var`](Self::new_var) did not make.
    pub fn add_clause(&mut self, lits: &[Lit]) {
        assert!(
            lits.iter().all(|l| l.var().0 < self.num_vars),
            "Formula::add_clause: unknown variable in {lits:?}"
        );
        self.lits.extend_from_slice(lits);
        self.starts.push(self.lits.len());
        self.backend.add_clause(lits);
    }

    /// The recorded clauses, in the order they were added.
    pub fn clauses(&self) -> impl Iterator<Item = &[Lit]> + '_ {
        self.starts.windows(2).map(|w| &self.lits[w[0]..w[1]])
    }

    /// The recorded CNF in DIMACS format (assumptions as unit clauses appended), for running
    /// the same instance through another solver.
    pub fn to_dimacs(&self, assumptions: &[Lit]) -> String {
        let mut out = format!(
            "p cnf {} {}\n",
            self.num_vars,
            self.num_clauses() + assumptions.len()
        );
        let units = assumptions.iter().map(std::slice::from_ref);
        for clause in self.clauses().chain(units) {
            for l in clause {
                out.push_str(&l.to_dimacs().to_string());
                out.push(' ');
            }
            out.push_str("0\n");
        }
        out
    }

    /// Solves under `assumptions`. On success the model is read back in full and verified
    /// against every recorded clause and every assumption before it is returned.
    pub fn solve(&mut self, assumptions: &[Lit]) -> Result<Option<Model>> {
        if !self.backend.solve(assumptions)? {
            return Ok(None);
        }
        let mut values = Vec::with_capacity(self.num_vars());
        for v in 0..self.num_vars {
            match self.backend.value(Var(v)) {
                Some(b) => values.push(b),
                None => {
                    return Err(Error::Solver(format!(
                        "{} reported a model that leaves variable {} unassigned",
                        self.backend.name(),
                        v + 1
                    )))
                }
            }
        }
        let model = Model(values);
        verify_model(self.clauses(), assumptions, &model)
            .map_err(|e| Error::Solver(format!("{}: model rejected: {e}", self.backend.name())))?;
        Ok(Some(model))
    }
}

/// A full assignment: `values[v]` is variable `v`'s value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model(pub Vec<bool>);

impl Model {
    pub fn var(&self, v: Var) -> bool {
        self.0[v.index()]
    }
    pub fn lit(&self, l: Lit) -> bool {
        l.eval(self.0[l.var().index()])
    }
}

/// Why a model does not satisfy a CNF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A literal names a variable the model does not assign.
    MissingVar { clause: usize, var: u32 },
    /// Clause number `clause` (0-based, in insertion order) has no true literal.
    FalsifiedClause { clause: usize, lits: Vec<i64> },
    /// An assumption the solve was made under is false.
    FalsifiedAssumption { lit: i64 },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::MissingVar { clause, var } => {
                write!(
                    f,
                    "clause {clause} names variable {var}, which the model lacks"
                )
            }
            ModelError::FalsifiedClause { clause, lits } => {
                write!(f, "clause {clause} {lits:?} is false")
            }
            ModelError::FalsifiedAssumption { lit } => write!(f, "assumption {lit} is false"),
        }
    }
}

/// Checks that `model` makes every clause and every assumption true.
pub fn verify_model<'a>(
    clauses: impl IntoIterator<Item = &'a [Lit]>,
    assumptions: &[Lit],
    model: &Model,
) -> std::result::Result<(), ModelError> {
    let value = |clause: usize, l: Lit| -> std::result::Result<bool, ModelError> {
        match model.0.get(l.var().index()) {
            Some(&b) => Ok(l.eval(b)),
            None => Err(ModelError::MissingVar {
                clause,
                var: l.var().0 + 1,
            }),
        }
    };
    for (i, clause) in clauses.into_iter().enumerate() {
        let mut sat = false;
        for &l in clause {
            if value(i, l)? {
                sat = true;
                break;
            }
        }
        if !sat {
            return Err(ModelError::FalsifiedClause {
                clause: i,
                lits: clause.iter().map(|l| l.to_dimacs()).collect(),
            });
        }
    }
    for &l in assumptions {
        if !value(usize::MAX, l)? {
            return Err(ModelError::FalsifiedAssumption { lit: l.to_dimacs() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_verifies_a_small_formula() {
        let mut f = Formula::default();
        let (a, b, c) = (f.new_var(), f.new_var(), f.new_var());
        f.add_clause(&[a.positive(), b.positive()]);
        f.add_clause(&[a.negative(), c.positive()]);
        f.add_clause(&[b.negative()]);
        let m = f.solve(&[]).unwrap().expect("satisfiable");
        assert!(m.var(a) && !m.var(b) && m.var(c));
        assert!(f.solve(&[c.negative()]).unwrap().is_none());
        // Still satisfiable without the assumption, and incremental clauses are honoured.
        f.add_clause(&[c.negative(), a.negative()]);
        assert!(f.solve(&[]).unwrap().is_none());
    }

    #[test]
    fn verifier_rejects_a_corrupted_model() {
        let a = Var(0);
        let b = Var(1);
        let clauses = [vec![a.positive(), b.positive()], vec![a.negative()]];
        let good = Model(vec![false, true]);
        assert_eq!(
            verify_model(clauses.iter().map(|c| &c[..]), &[], &good),
            Ok(())
        );
        let bad = Model(vec![true, true]);
        assert_eq!(
            verify_model(clauses.iter().map(|c| &c[..]), &[], &bad),
            Err(ModelError::FalsifiedClause {
                clause: 1,
                lits: vec![-1]
            })
        );
        assert!(matches!(
            verify_model(clauses.iter().map(|c| &c[..]), &[b.negative()], &good),
            Err(ModelError::FalsifiedAssumption { lit: -2 })
        ));
        assert!(matches!(
            verify_model(clauses.iter().map(|c| &c[..]), &[], &Model(vec![false])),
            Err(ModelError::MissingVar { .. })
        ));
    }
}
