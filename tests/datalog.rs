//! End-to-end tests of the Datalog engine: the example programs with hand-computed models,
//! nullary predicates, constants in rules, queries, the errors users see, and inputs that must
//! not panic.

use dilp::datalog::{evaluate, evaluate_with_stats, query, run_source, Engine, Model, Strategy};
use dilp::logic::{parse_atom, parse_program, Atom, Clause, GroundAtom, Program, Term, VarId};
use dilp::Error;

const STRATEGIES: [Strategy; 2] = [Strategy::Naive, Strategy::SemiNaive];
const ENGINES: [Engine; 3] = [Engine::Naive, Engine::SemiNaive, Engine::Magic];

const TC: &str = include_str!("../datasets/examples/tc.dl");
const CYCLE: &str = include_str!("../datasets/examples/cycle.dl");
const EVENODD: &str = include_str!("../datasets/examples/evenodd.dl");
const SAMEGEN: &str = include_str!("../datasets/examples/samegen.dl");

fn program(src: &str) -> Program {
    parse_program(src, "test.dl").expect("test program parses")
}

/// The model's facts of `pred` as text (`path(a,b)`), sorted as strings.
fn facts(model: &Model, prog: &Program, pred: &str) -> Vec<String> {
    let Some(p) = prog.vocab.find_pred(pred) else {
        return Vec::new();
    };
    let mut out: Vec<String> = model
        .facts_of(p)
        .iter()
        .map(|f| f.display(&prog.vocab).to_string())
        .collect();
    out.sort();
    out
}

fn sorted(xs: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = xs.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Checks `pred`'s facts under both strategies and returns the semi-naive model.
fn check(prog: &Program, pred: &str, expected: &[&str]) -> Model {
    let models: Vec<Model> = STRATEGIES.iter().map(|&s| evaluate(prog, s)).collect();
    for (s, m) in STRATEGIES.iter().zip(&models) {
        assert_eq!(facts(m, prog, pred), sorted(expected), "{pred} under {s:?}");
    }
    assert_eq!(models[0], models[1], "naive and semi-naive models differ");
    models.into_iter().nth(1).expect("two models")
}

fn ask(prog: &Program, q: &str, engine: Engine) -> Vec<String> {
    let mut vocab = prog.vocab.clone();
    let (atom, _) = parse_atom(q, &mut vocab, "<query>").expect("query parses");
    let (answers, _) = query(prog, &atom, engine);
    answers
        .iter()
        .map(|f| f.display(&vocab).to_string())
        .collect()
}

#[test]
fn transitive_closure_example() {
    let prog = program(TC);
    let all = [
        "path(a,b)",
        "path(a,c)",
        "path(a,d)",
        "path(a,e)",
        "path(b,c)",
        "path(b,d)",
        "path(b,e)",
        "path(c,d)",
    ];
    let m = check(&prog, "path", &all);
    assert_eq!(m.len(), 4 + 8);
    let (_, stats) = evaluate_with_stats(&prog, Strategy::SemiNaive);
    assert_eq!(
        (stats.facts, stats.rounds),
        (12, 4),
        "paths of length 1, 2, 3, then nothing"
    );
    for e in ENGINES {
        assert_eq!(
            ask(&prog, "path(b,X)", e),
            ["path(b,c)", "path(b,d)", "path(b,e)"],
            "{e}"
        );
        assert_eq!(
            ask(&prog, "path(X,d)", e),
            ["path(a,d)", "path(b,d)", "path(c,d)"],
            "{e}"
        );
        assert_eq!(ask(&prog, "path(a,e)", e), ["path(a,e)"], "{e}");
        assert!(ask(&prog, "path(e,X)", e).is_empty(), "{e}");
    }
}

#[test]
fn cycle_example() {
    let prog = program(CYCLE);
    let m = check(
        &prog,
        "on_cycle",
        &[
            "on_cycle(a)",
            "on_cycle(b)",
            "on_cycle(c)",
            "on_cycle(d)",
            "on_cycle(e)",
        ],
    );
    assert_eq!(facts(&m, &prog, "cyclic"), ["cyclic"]);
    assert_eq!(m.count_of(prog.vocab.find_pred("path").expect("path")), 24);
    for e in ENGINES {
        assert_eq!(
            ask(&prog, "path(d,X)", e),
            ["path(d,d)", "path(d,e)"],
            "{e}"
        );
        assert_eq!(ask(&prog, "path(X,X)", e).len(), 5, "{e}");
        assert_eq!(ask(&prog, "on_cycle(f)", e), Vec::<String>::new(), "{e}");
        assert_eq!(ask(&prog, "cyclic", e), ["cyclic"], "{e}");
    }
}

#[test]
fn even_odd_example() {
    let prog = program(EVENODD);
    check(&prog, "even", &["even(0)", "even(2)", "even(4)", "even(6)"]);
    check(&prog, "odd", &["odd(1)", "odd(3)", "odd(5)"]);
    for e in ENGINES {
        assert_eq!(ask(&prog, "odd(5)", e), ["odd(5)"], "{e}");
        assert!(ask(&prog, "even(5)", e).is_empty(), "{e}");
    }
}

#[test]
fn same_generation_example() {
    let prog = program(SAMEGEN);
    let gens: [&[&str]; 4] = [
        &["ann"],
        &["bob", "carol"],
        &["dave", "eve"],
        &["fay", "gus"],
    ];
    let expected: Vec<String> = gens
        .iter()
        .flat_map(|g| {
            g.iter()
                .flat_map(move |x| g.iter().map(move |y| format!("sg({x},{y})")))
        })
        .collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(expected.len(), 13);
    check(&prog, "sg", &expected);
    for e in ENGINES {
        assert_eq!(
            ask(&prog, "sg(dave,X)", e),
            ["sg(dave,dave)", "sg(dave,eve)"],
            "{e}"
        );
        assert_eq!(
            ask(&prog, "sg(X,carol)", e),
            ["sg(bob,carol)", "sg(carol,carol)"],
            "{e}"
        );
    }
}

#[test]
fn nullary_predicates() {
    let prog = program(
        "rain. edge(a,b).\n\
         wet :- rain.\n\
         slippery :- wet, cold.\n\
         busy :- edge(X,Y).\n\
         idle :- edge(X,X).\n\
         flag(X) :- wet, edge(X,Y).\n",
    );
    for p in ["rain", "wet", "busy"] {
        check(&prog, p, &[p]);
    }
    check(&prog, "slippery", &[]);
    check(&prog, "idle", &[]);
    check(&prog, "flag", &["flag(a)"]);
    for e in ENGINES {
        assert_eq!(ask(&prog, "flag(a)", e), ["flag(a)"]);
    }
}

#[test]
fn constants_and_repeated_variables_in_rules() {
    let prog = program(
        "edge(a,b). edge(b,c). edge(c,c). edge(c,a). edge(d,a).\n\
         from_a(X) :- edge(a,X).\n\
         from_a(Y) :- from_a(X), edge(X,Y).\n\
         into_a(X) :- edge(X,a).\n\
         loop(X) :- edge(X,X).\n\
         tagged(X,yes) :- loop(X).\n\
         two(X,Y) :- edge(X,Z), edge(Z,Y), edge(Y,Y).\n",
    );
    check(&prog, "from_a", &["from_a(a)", "from_a(b)", "from_a(c)"]);
    check(&prog, "into_a", &["into_a(c)", "into_a(d)"]);
    check(&prog, "loop", &["loop(c)"]);
    check(&prog, "tagged", &["tagged(c,yes)"]);
    check(&prog, "two", &["two(a,c)", "two(b,c)", "two(c,c)"]);
    for e in ENGINES {
        assert_eq!(ask(&prog, "tagged(X,yes)", e), ["tagged(c,yes)"], "{e}");
        assert!(ask(&prog, "tagged(X,no)", e).is_empty(), "{e}");
    }
}

#[test]
fn empty_body_rule_is_a_fact_and_missing_ids_are_harmless() {
    let mut prog = program("p(a). q(X) :- p(X).");
    let q = prog.vocab.find_pred("q").expect("q");
    let b = prog.vocab.intern_const("b");
    prog.rules.push(Clause {
        head: Atom {
            pred: q,
            args: vec![Term::Const(b)],
        },
        body: vec![],
        var_names: vec![],
    });
    let m = check(&prog, "q", &["q(a)", "q(b)"]);
    let r = dilp::logic::PredId(99);
    assert!(m.facts_of(r).is_empty());
    assert!(!m.contains(&GroundAtom::new(r, vec![b])));
    assert!(
        !m.contains(&GroundAtom::new(q, vec![b, b])),
        "wrong arity is simply absent"
    );
    assert!(m.contains(&GroundAtom::new(q, vec![b])));
    assert_eq!(m.iter().count(), m.len());
}

#[test]
#[cfg(not(debug_assertions))]
fn unsafe_rule_built_in_code_derives_nothing_in_release() {
    let mut prog = program("p(a).");
    let p = prog.vocab.find_pred("p").expect("p");
    prog.rules.push(Clause {
        head: Atom {
            pred: p,
            args: vec![Term::Var(VarId(0))],
        },
        body: vec![],
        var_names: vec!["X".into()],
    });
    assert_eq!(evaluate(&prog, Strategy::SemiNaive).len(), 1);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "safe")]
fn unsafe_rule_built_in_code_is_caught_in_debug() {
    let mut prog = program("p(a).");
    let p = prog.vocab.find_pred("p").expect("p");
    prog.rules.push(Clause {
        head: Atom {
            pred: p,
            args: vec![Term::Var(VarId(0))],
        },
        body: vec![],
        var_names: vec!["X".into()],
    });
    evaluate(&prog, Strategy::SemiNaive);
}

#[test]
fn semi_naive_does_less_work_on_a_chain() {
    let mut src = String::new();
    for i in 0..60 {
        src.push_str(&format!("edge(n{i},n{}).\n", i + 1));
    }
    src.push_str("path(X,Y) :- edge(X,Y).\npath(X,Y) :- path(X,Z), edge(Z,Y).\n");
    let prog = program(&src);
    let (naive, ns) = evaluate_with_stats(&prog, Strategy::Naive);
    let (semi, ss) = evaluate_with_stats(&prog, Strategy::SemiNaive);
    assert_eq!(naive, semi);
    assert_eq!(ss.facts, 60 + 60 * 61 / 2);
    assert_eq!(ss.rounds, ns.rounds);
    assert_eq!(ss.derived, 60 * 61 / 2, "each path derived exactly once");
    assert!(ns.derived > 10 * ss.derived);
}

/// The rendered text of a `run_source` error, which must name the place.
fn run_err(src: &str, q: Option<&str>) -> String {
    match run_source(src, "prog.dl", q, None) {
        Ok(out) => panic!("expected an error, got {:?}", out.lines()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let e = run_err("edge(a,b).\nedge(b c).\n", None);
    assert!(
        e.starts_with("prog.dl:2:8") && e.contains("syntax error"),
        "{e}"
    );
    let e = run_err("edge(a,b).\n  path(X,Y) :- edge(X,Z).\n", None);
    assert!(
        e.starts_with("prog.dl:2:3") && e.contains("unsafe") && e.contains('Y'),
        "{e}"
    );
    let e = run_err("edge(a,b).\nedge(a).\n", None);
    assert!(e.starts_with("prog.dl:2:1") && e.contains("arity"), "{e}");
    let e = run_err("edge(a,b).\nedge(a,X).\n", None);
    assert!(
        e.starts_with("prog.dl:2:1") && e.contains("variable"),
        "{e}"
    );
    assert!(matches!(
        run_source("p(a", "f.dl", None, None),
        Err(Error::Syntax { .. })
    ));
}

#[test]
fn query_errors_are_located_in_the_query() {
    for (q, what) in [
        ("  nope(X)", "<query>:1:3"),
        ("path(a)", "<query>:1:1"),
        ("path(a,", "<query>:1:"),
    ] {
        let e = run_err(TC, Some(q));
        assert!(e.starts_with(what), "{q}: {e}");
    }
    let e = run_source(TC, "tc.dl", Some("nope(X)"), None).expect_err("unknown predicate");
    assert!(
        matches!(&e, Error::Semantic { loc, .. } if loc.file == "<query>"),
        "{e}"
    );
    let e = run_source(TC, "tc.dl", Some("path(a)"), None).expect_err("wrong arity");
    assert!(
        matches!(&e, Error::Semantic { loc, .. } if loc.file == "<query>"),
        "{e}"
    );
}

#[test]
fn run_source_renders_sorted_lines_and_picks_engines() {
    let out = run_source(TC, "tc.dl", None, None).expect("runs");
    assert_eq!(out.engine, Engine::SemiNaive);
    assert_eq!(out.lines().len(), 12);
    assert_eq!(out.lines()[0], "edge(a,b).");
    assert_eq!(out.lines()[4], "path(a,b).");
    assert_eq!(out.stats.facts, 12);
    let out = run_source(TC, "tc.dl", Some("path(a,X)."), None).expect("runs");
    assert_eq!(out.engine, Engine::Magic);
    assert_eq!(
        out.lines(),
        ["path(a,b).", "path(a,c).", "path(a,d).", "path(a,e)."]
    );
    let out = run_source(TC, "tc.dl", Some("path(X,Y)"), None).expect("runs");
    assert_eq!(out.engine, Engine::SemiNaive);
    assert_eq!(out.lines().len(), 8);
    let out =
        run_source(TC, "tc.dl", Some("path(X,zz)"), Some(Engine::Naive)).expect("unknown constant");
    assert!(out.lines().is_empty());
    // Text order: `p(b)` < `p(c)` < `pa(a)` regardless of interning order.
    let out = run_source("pa(a). p(c). p(b).", "t.dl", None, None).expect("runs");
    assert_eq!(out.lines(), ["p(b).", "p(c).", "pa(a)."]);
}

#[test]
fn engine_names_parse() {
    for (s, e) in [
        ("naive", Engine::Naive),
        ("semi-naive", Engine::SemiNaive),
        ("magic", Engine::Magic),
    ] {
        assert_eq!(s.parse::<Engine>().expect("known engine"), e);
        assert_eq!(e.to_string(), s);
    }
    let err = "fast"
        .parse::<Engine>()
        .expect_err("unknown engine")
        .to_string();
    assert!(err.contains("fast") && err.contains("semi-naive"), "{err}");
}

#[test]
fn nasty_inputs_do_not_panic() {
    let nasty = [
        "",
        " ",
        "%",
        ".",
        ":-",
        "p(",
        "p(a",
        "p(a,",
        "p(a,)",
        "p()",
        "p().",
        "p.",
        "p :- .",
        "p :- q",
        "P(a).",
        "p(X).",
        "p(a) :- p(a).",
        "p(X) :- p(X).",
        "\"",
        "p(\"a).",
        "p(\"a\").",
        "p(-1). p(-).",
        "p(a)) .",
        "p(a). p(a,b).",
        "p :- p, p, p.",
        "q(X,Y,Z) :- q(Z,Y,X).",
        "é(ü).",
        "p(ü, 🦀).",
        "\u{0}",
        "p(a).\u{feff}",
        ":- p.",
        "p(_).",
        "p(X) :- q(_).",
        "p(X,X) :- q(X,_), q(_,X).",
    ];
    for src in nasty {
        for q in [
            None,
            Some("p(a)"),
            Some("p(X)"),
            Some(""),
            Some("p(a"),
            Some("q(X,a,Y)"),
            Some("p(a) extra"),
        ] {
            for e in [None, Some(Engine::Naive), Some(Engine::Magic)] {
                let _ = run_source(src, "nasty.dl", q, e);
            }
        }
    }
}

#[test]
fn many_rederivations_of_few_facts() {
    // 9 million derivations each of one nullary fact and of 3,000 unary ones in one round,
    // more than the buffer of new facts holds before it drops duplicates.
    let mut src: String = (0..3000).map(|i| format!("d({i}).\n")).collect();
    src.push_str("any :- d(X), d(Y).\nsome(X) :- d(X), d(Y).\n");
    let prog = program(&src);
    let (m, stats) = evaluate_with_stats(&prog, Strategy::SemiNaive);
    assert_eq!(m.len(), 3000 + 1 + 3000);
    assert_eq!(stats.derived, 2 * 3000 * 3000);
}

#[test]
fn evaluation_terminates_on_cross_products() {
    // Every rule multiplies the domain; the model is still finite (here 5^3 + 5^2 + 5 facts).
    let prog = program(
        "d(1). d(2). d(3). d(4). d(5).\n\
         pair(X,Y) :- d(X), d(Y).\n\
         triple(X,Y,Z) :- pair(X,Y), d(Z).\n\
         pair(X,Y) :- triple(Y,X,Z).\n",
    );
    for s in STRATEGIES {
        let m = evaluate(&prog, s);
        assert_eq!(m.len(), 125 + 25 + 5, "{s:?}");
    }
}
