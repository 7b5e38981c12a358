//! Semi-naive bottom-up evaluation, the default strategy.
//!
//! Round 1 applies every rule to the initial facts. Every later round joins each rule body
//! with at least one atom restricted to the facts new in the previous round (its "delta"),
//! once for each body atom over a predicate that rules derive, so that a derivation made of
//! old facts only is never repeated. Since relations are append-only, a delta is just the row
//! range added by the previous round.

use super::plan::{Database, Exec, Plan};
use crate::logic::Program;

/// The least model of `program`, the number of rounds (the last adds nothing) and the number
/// of head instantiations computed.
pub(crate) fn run(program: &Program) -> (Database, usize, usize) {
    let mut db = Database::new(program);
    let rules: Vec<_> = program.rules.iter().filter(|r| db.usable(r)).collect();
    let mut derives = vec![false; db.rels.len()];
    for r in &rules {
        derives[r.head.pred.index()] = true;
    }
    let first: Vec<Plan> = rules
        .iter()
        .map(|r| Plan::compile(r, None, &mut db))
        .collect();
    // Facts of predicates that no rule derives never change after round 1, so only atoms over
    // derived predicates get a delta plan.
    let delta_plans: Vec<Plan> = rules
        .iter()
        .flat_map(|r| {
            (0..r.body.len())
                .filter(|&i| derives[r.body[i].pred.index()])
                .map(move |i| (*r, i))
        })
        .map(|(r, i)| Plan::compile(r, Some(i), &mut db))
        .collect();

    let mut pending = db.pending();
    let mut deltas: Vec<(u32, u32)> = db.rels.iter().map(|r| (0, r.len() as u32)).collect();
    let mut exec = Exec::new(&db, &deltas);
    for plan in &first {
        exec.run(plan, &mut pending);
    }
    let mut derived = exec.derived;
    let mut rounds = 1;
    // Indexes that only round 1 read would otherwise be maintained for every later insert.
    for (r, rel) in db.rels.iter_mut().enumerate() {
        rel.drop_indexes(|ix| {
            delta_plans
                .iter()
                .any(|p| p.indexes().any(|x| x == (r, ix)))
        });
    }
    loop {
        let before: Vec<u32> = db.rels.iter().map(|r| r.len() as u32).collect();
        if !db.absorb(&mut pending) {
            return (db, rounds, derived);
        }
        for ((d, rel), &start) in deltas.iter_mut().zip(&db.rels).zip(&before) {
            *d = (start, rel.len() as u32);
        }
        rounds += 1;
        let mut exec = Exec::new(&db, &deltas);
        for plan in &delta_plans {
            let touched = plan.delta_rel().is_some_and(|r| deltas[r].0 < deltas[r].1);
            if touched {
                exec.run(plan, &mut pending);
            }
        }
        derived += exec.derived;
    }
}
