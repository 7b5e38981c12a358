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

#[cfg(test)]
mod tests {
    use crate::logic::parse_program;

    #[test]
    fn derives_each_fact_of_a_chain_once() {
        let prog = parse_program(
            "edge(a,b). edge(b,c). edge(c,d).\n\
             path(X,Y) :- edge(X,Y).\n\
             path(X,Y) :- path(X,Z), edge(Z,Y).\n",
            "chain.dl",
        )
        .expect("valid");
        let (db, rounds, derived) = super::run(&prog);
        assert_eq!(db.rels[1].len(), 6);
        assert_eq!((rounds, derived), (4, 6));
    }

    #[test]
    fn drops_indexes_that_only_the_first_round_reads() {
        // Round 1 joins edge(X,Z) with path(Z,Y) on path's first column; later rounds start from
        // the path delta and look edges up by their second column.
        let prog = parse_program(
            "edge(a,b). edge(b,c).\n\
             path(X,Y) :- edge(X,Y).\n\
             path(X,Y) :- edge(X,Z), path(Z,Y).\n",
            "right.dl",
        )
        .expect("valid");
        let (db, _, _) = super::run(&prog);
        assert_eq!(
            db.rels[1].active_indexes(),
            1,
            "path keeps only its duplicate filter"
        );
        assert_eq!(
            db.rels[0].active_indexes(),
            2,
            "edge keeps its index on column 2"
        );
    }

    #[test]
    fn mutual_recursion_reaches_the_fixpoint() {
        let prog = parse_program(
            "zero(0). succ(0,1). succ(1,2). succ(2,3).\n\
             even(X) :- zero(X).\n\
             even(Y) :- odd(X), succ(X,Y).\n\
             odd(Y) :- even(X), succ(X,Y).\n",
            "evenodd.dl",
        )
        .expect("valid");
        let (db, rounds, _) = super::run(&prog);
        let (even, odd) = (prog.vocab.find_pred("even"), prog.vocab.find_pred("odd"));
        let len = |p: Option<crate::logic::PredId>| p.map_or(0, |p| db.rels[p.index()].len());
        assert_eq!((len(even), len(odd), rounds), (2, 2, 5));
    }
}
