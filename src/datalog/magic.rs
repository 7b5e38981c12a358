//! Goal-directed query answering by the magic-sets rewriting.
//!
//! A query such as `path(a,X)` only needs the facts that a top-down proof from `a` would touch.
//! The rewriting gets that effect bottom-up: each derived predicate is specialised to an
//! *adornment* (which arguments are bound when it is called), and each adorned rule is guarded
//! by a *magic* predicate holding the bound arguments of the calls that can actually occur.
//! Magic facts start from the query's constants and flow through rule bodies left to right in
//! a greedy sideways-information-passing order (the atom with most bound arguments next).
//! The rewritten program is evaluated semi-naively; its answers are exactly the facts of the
//! full model that match the query.

use super::{evaluate_with_stats, Model, Stats, Strategy};
use crate::logic::{Atom, Clause, ConstId, GroundAtom, PredId, Program, Term, VarId, Vocabulary};
use std::collections::{HashMap, HashSet};

/// How [`query`] computes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// Naive evaluation of the whole program, then filtering.
    Naive,
    /// Semi-naive evaluation of the whole program, then filtering.
    #[default]
    SemiNaive,
    /// Magic-sets rewriting for the query's bound arguments, then semi-naive evaluation; the
    /// same as `SemiNaive` when the query has no constant argument.
    Magic,
}

/// Whether `fact` is an instance of `pattern` (constants equal, repeated variables equal).
pub fn matches(pattern: &Atom, fact: &GroundAtom) -> bool {
    if pattern.pred != fact.pred || pattern.args.len() != fact.args.len() {
        return false;
    }
    let mut seen: HashMap<VarId, ConstId> = HashMap::new();
    pattern.args.iter().zip(&fact.args).all(|(t, &c)| match *t {
        Term::Const(k) => k == c,
        Term::Var(v) => *seen.entry(v).or_insert(c) == c,
    })
}

/// The facts of the least model of `program` that match `query`, sorted by arguments.
pub fn query(program: &Program, query: &Atom, engine: Engine) -> (Vec<GroundAtom>, Stats) {
    let bound: Vec<bool> = query
        .args
        .iter()
        .map(|t| matches!(t, Term::Const(_)))
        .collect();
    let strategy = match engine {
        Engine::Naive => Strategy::Naive,
        Engine::SemiNaive => Strategy::SemiNaive,
        Engine::Magic if bound.contains(&true) && ids_in_vocab(program) => {
            let (rewritten, answer_pred) = rewrite(program, query.pred, &bound, query);
            let (model, stats) = evaluate_with_stats(&rewritten, Strategy::SemiNaive);
            let answers = filtered(&model, answer_pred, query)
                .map(|f| GroundAtom::new(query.pred, f.args))
                .collect();
            return (answers, stats);
        }
        Engine::Magic => Strategy::SemiNaive,
    };
    let (model, stats) = evaluate_with_stats(program, strategy);
    (filtered(&model, query.pred, query).collect(), stats)
}

fn filtered<'m>(
    model: &'m Model,
    pred: PredId,
    query: &'m Atom,
) -> impl Iterator<Item = GroundAtom> + 'm {
    model.facts_of(pred).into_iter().filter(move |f| {
        let as_query = GroundAtom::new(query.pred, f.args.clone());
        matches(query, &as_query)
    })
}

/// The rewriting interns new predicates after the vocabulary's; a program built in code with
/// predicate ids beyond its vocabulary would collide with them, so it is not rewritten.
fn ids_in_vocab(program: &Program) -> bool {
    let n = program.vocab.num_preds();
    let atoms = program
        .rules
        .iter()
        .flat_map(|r| std::iter::once(&r.head).chain(&r.body));
    atoms
        .map(|a| a.pred)
        .chain(program.facts.iter().map(|f| f.pred))
        .all(|p| p.index() < n)
}

fn well_formed(vocab: &Vocabulary, rule: &Clause) -> bool {
    let fits = |a: &Atom| vocab.arity(a.pred) == a.args.len();
    rule.is_safe() && fits(&rule.head) && rule.body.iter().all(fits)
}

fn adornment_text(adornment: &[bool]) -> String {
    adornment
        .iter()
        .map(|&b| if b { 'b' } else { 'f' })
        .collect()
}

/// A name no parsed program can contain (`#` is not an identifier character), made unique
/// anyway for programs built in code.
fn fresh_pred(vocab: &mut Vocabulary, base: String, arity: usize) -> PredId {
    let mut name = base;
    while vocab.find_pred(&name).is_some() {
        name.push('\'');
    }
    vocab
        .intern_pred(&name, arity)
        .unwrap_or_else(|_| unreachable!("a fresh name has no arity yet"))
}

struct Rewriter<'p> {
    program: &'p Program,
    rules: Vec<&'p Clause>,
    derived: HashSet<PredId>,
    has_facts: HashSet<PredId>,
    out: Program,
    adorned: HashMap<(PredId, Vec<bool>), (PredId, PredId)>,
    todo: Vec<(PredId, Vec<bool>)>,
}

impl<'p> Rewriter<'p> {
    /// The adorned and magic predicates of `pred` under `adornment`, queued on first sight.
    fn preds_of(&mut self, pred: PredId, adornment: &[bool]) -> (PredId, PredId) {
        if let Some(&ids) = self.adorned.get(&(pred, adornment.to_vec())) {
            return ids;
        }
        let vocab = &mut self.out.vocab;
        let (name, arity) = (vocab.pred_name(pred).to_string(), vocab.arity(pred));
        let a = adornment_text(adornment);
        let adorned = fresh_pred(vocab, format!("{name}#{a}"), arity);
        let bound = adornment.iter().filter(|&&b| b).count();
        let magic = fresh_pred(vocab, format!("magic#{name}#{a}"), bound);
        self.adorned
            .insert((pred, adornment.to_vec()), (adorned, magic));
        self.todo.push((pred, adornment.to_vec()));
        (adorned, magic)
    }

    fn process(&mut self, pred: PredId, adornment: &[bool]) {
        let (adorned, magic) = self.preds_of(pred, adornment);
        if self.has_facts.contains(&pred) {
            // `pred`'s own facts stay in relation `pred`, which no rewritten rule derives.
            let vars: Vec<Term> = (0..adornment.len())
                .map(|i| Term::Var(VarId(i as u32)))
                .collect();
            self.out.rules.push(Clause {
                head: Atom {
                    pred: adorned,
                    args: vars.clone(),
                },
                body: vec![
                    magic_atom(magic, &vars, adornment),
                    Atom { pred, args: vars },
                ],
                var_names: (0..adornment.len()).map(|i| format!("X{i}")).collect(),
            });
        }
        let rules: Vec<&Clause> = self
            .rules
            .iter()
            .copied()
            .filter(|r| r.head.pred == pred)
            .collect();
        for rule in rules {
            self.rewrite_rule(rule, adornment, adorned, magic);
        }
    }

    fn rewrite_rule(&mut self, rule: &Clause, adornment: &[bool], adorned: PredId, magic: PredId) {
        let guard = magic_atom(magic, &rule.head.args, adornment);
        let mut bound: HashSet<VarId> = guard.vars().collect();
        let mut body = vec![guard];
        let mut left: Vec<&Atom> = rule.body.iter().collect();
        while !left.is_empty() {
            let is_bound = |t: &Term, bound: &HashSet<VarId>| match t {
                Term::Const(_) => true,
                Term::Var(v) => bound.contains(v),
            };
            let score = |a: &Atom| a.args.iter().filter(|t| is_bound(t, &bound)).count();
            let best = (0..left.len())
                .max_by_key(|&k| (score(left[k]), std::cmp::Reverse(k)))
                .unwrap_or(0);
            let atom = left.remove(best);
            if self.derived.contains(&atom.pred) {
                let call: Vec<bool> = atom.args.iter().map(|t| is_bound(t, &bound)).collect();
                let (callee, callee_magic) = self.preds_of(atom.pred, &call);
                self.out.rules.push(Clause {
                    head: magic_atom(callee_magic, &atom.args, &call),
                    body: body.clone(),
                    var_names: rule.var_names.clone(),
                });
                body.push(Atom {
                    pred: callee,
                    args: atom.args.clone(),
                });
            } else {
                body.push(atom.clone());
            }
            bound.extend(atom.vars());
        }
        self.out.rules.push(Clause {
            head: Atom {
                pred: adorned,
                args: rule.head.args.clone(),
            },
            body,
            var_names: rule.var_names.clone(),
        });
    }
}

fn magic_atom(magic: PredId, args: &[Term], adornment: &[bool]) -> Atom {
    let args = args
        .iter()
        .zip(adornment)
        .filter(|(_, &b)| b)
        .map(|(t, _)| *t)
        .collect();
    Atom { pred: magic, args }
}

/// The magic-sets program for calls of `pred` with `adornment`, seeded with `query`'s bound
/// arguments, and the predicate that holds the answers.
pub(crate) fn rewrite(
    program: &Program,
    pred: PredId,
    adornment: &[bool],
    query: &Atom,
) -> (Program, PredId) {
    let rules: Vec<&Clause> = program
        .rules
        .iter()
        .filter(|r| well_formed(&program.vocab, r))
        .collect();
    let derived: HashSet<PredId> = rules.iter().map(|r| r.head.pred).collect();
    let mut rw = Rewriter {
        program,
        derived,
        has_facts: program.facts.iter().map(|f| f.pred).collect(),
        rules,
        out: Program {
            vocab: program.vocab.clone(),
            facts: program.facts.clone(),
            rules: Vec::new(),
        },
        adorned: HashMap::new(),
        todo: Vec::new(),
    };
    if !rw.derived.contains(&pred) {
        return (rw.out, pred);
    }
    let (answers, seed) = rw.preds_of(pred, adornment);
    let seed_args = query.args.iter().filter_map(|t| match t {
        Term::Const(c) => Some(*c),
        Term::Var(_) => None,
    });
    rw.out
        .facts
        .push(GroundAtom::new(seed, seed_args.collect()));
    while let Some((p, a)) = rw.todo.pop() {
        rw.process(p, &a);
    }
    debug_assert!(
        rw.out.rules.iter().all(|r| r.is_safe()),
        "{}",
        rw.program.to_text()
    );
    (rw.out, answers)
}
