//! Naive bottom-up evaluation, the reference strategy: every round applies every rule to the
//! whole database, until a round adds nothing. Simple enough to trust, and it re-derives every
//! known fact each round, which is what semi-naive evaluation avoids.

use super::plan::{Database, Exec, Plan};
use crate::logic::Program;

/// The least model of `program`, the number of rounds (the last adds nothing) and the number
/// of head instantiations computed.
pub(crate) fn run(program: &Program) -> (Database, usize, usize) {
    let mut db = Database::new(program);
    let rules: Vec<_> = program.rules.iter().filter(|r| db.usable(r)).collect();
    let plans: Vec<Plan> = rules
        .iter()
        .map(|r| Plan::compile(r, None, &mut db))
        .collect();
    let mut pending = db.pending();
    let no_deltas = vec![(0, 0); db.rels.len()];
    let (mut rounds, mut derived) = (0, 0);
    loop {
        rounds += 1;
        let mut exec = Exec::new(&db, &no_deltas);
        for plan in &plans {
            exec.run(plan, &mut pending);
        }
        derived += exec.derived;
        // Terminates: each round that continues adds a fact, and the Herbrand base is finite.
        if !db.absorb(&mut pending) {
            return (db, rounds, derived);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::logic::parse_program;

    const CHAIN: &str = "edge(a,b). edge(b,c). edge(c,d).\n\
                         path(X,Y) :- edge(X,Y).\n\
                         path(X,Y) :- path(X,Z), edge(Z,Y).\n";

    #[test]
    fn rederives_every_known_fact_each_round() {
        let prog = parse_program(CHAIN, "chain.dl").expect("valid");
        let (db, rounds, derived) = super::run(&prog);
        assert_eq!(db.rels[1].len(), 6);
        // Round r derives the 3 edges again plus one extension of every path known so far:
        // 3 + 0, 3 + 2, 3 + 3, 3 + 3; round 4 adds nothing.
        assert_eq!((rounds, derived), (4, 20));
    }

    #[test]
    fn a_program_without_rules_takes_one_round() {
        let prog = parse_program("p(a). p(a). q.", "facts.dl").expect("valid");
        let (db, rounds, derived) = super::run(&prog);
        assert_eq!(
            (db.rels[0].len(), db.rels[1].len(), rounds, derived),
            (1, 1, 1, 0)
        );
    }
}
