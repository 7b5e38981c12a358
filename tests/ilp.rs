//! The ILP layer: clause counts from the paper, the ground index and `X_c`, the task file and
//! its errors, label flipping, and re-checking programs with the Datalog engine.

use dilp::ilp::{
    background_ids, examples, generate_all, generate_clauses, index_pairs, parse_task, GroundIndex,
    Language, RuleTemplate,
};
use dilp::logic::{parse_program, AtomId, GroundAtom, Vocabulary};

/// A language frame with the given extensional and intensional (target first) predicates.
fn language(ext: &[(&str, usize)], int: &[(&str, usize)]) -> (Vocabulary, Language) {
    let mut vocab = Vocabulary::new();
    let mut intern = |ps: &[(&str, usize)]| {
        ps.iter()
            .map(|(n, a)| vocab.intern_pred(n, *a).unwrap())
            .collect()
    };
    let extensional: Vec<_> = intern(ext);
    let intensional: Vec<_> = intern(int);
    let target = intensional[0];
    let lang = Language {
        extensional,
        intensional,
        target,
    };
    (vocab, lang)
}

fn tpl(v: usize, int: bool) -> RuleTemplate {
    RuleTemplate { v, int }
}

fn texts(vocab: &Vocabulary, lang: &Language, head: &str, t: RuleTemplate) -> Vec<String> {
    let head = vocab.find_pred(head).unwrap();
    generate_clauses(vocab, lang, head, t)
        .iter()
        .map(|c| c.display(vocab).to_string())
        .collect()
}

#[test]
fn app_b_counts_and_solution_numbers() {
    let (vocab, lang) = language(&[("p", 2)], &[("q", 2)]);
    let first = texts(&vocab, &lang, "q", tpl(0, false));
    let second = texts(&vocab, &lang, "q", tpl(1, true));
    assert_eq!(first.len(), 8);
    assert_eq!(second.len(), 58);
    // App. B: the solution is clause 4 of τ¹ and clause 16 of τ² (1-based).
    assert_eq!(first[3], "q(X,Y) :- p(X,Y), p(X,Y).");
    assert_eq!(second[15], "q(X,Y) :- p(X,Z), q(Z,Y).");
}

#[test]
fn even_succ2_and_less_than_counts() {
    let (vocab, lang) = language(&[("zero", 1), ("succ", 2)], &[("target", 1), ("pred", 2)]);
    assert_eq!(texts(&vocab, &lang, "target", tpl(0, false)).len(), 3);
    assert_eq!(texts(&vocab, &lang, "target", tpl(1, true)).len(), 38);
    assert_eq!(texts(&vocab, &lang, "pred", tpl(1, false)).len(), 39);
    let (vocab, lang) = language(&[("zero", 1), ("succ", 2)], &[("target", 2)]);
    assert_eq!(texts(&vocab, &lang, "target", tpl(0, false)).len(), 15);
    assert_eq!(texts(&vocab, &lang, "target", tpl(1, true)).len(), 67);
}

#[test]
fn generated_clauses_are_safe_distinct_and_respect_int() {
    let (vocab, lang) = language(&[("zero", 1), ("succ", 2)], &[("target", 1), ("pred", 2)]);
    for head in lang.intensional.clone() {
        for t in [tpl(0, false), tpl(1, false), tpl(1, true), tpl(2, true)] {
            let clauses = generate_clauses(&vocab, &lang, head, t);
            let mut bodies = std::collections::HashSet::new();
            for c in &clauses {
                assert!(c.is_safe());
                assert!(!c.body.contains(&c.head), "circular: {}", c.display(&vocab));
                assert_eq!(c.body.len(), 2);
                let uses_int = c.body.iter().any(|b| lang.is_intensional(b.pred));
                assert_eq!(uses_int, t.int);
                let mut key = c.body.clone();
                key.sort();
                assert!(
                    bodies.insert(key),
                    "permuted duplicate: {}",
                    c.display(&vocab)
                );
                assert!(c
                    .body
                    .iter()
                    .flat_map(|b| b.args.iter())
                    .all(|t| matches!(t, dilp::logic::Term::Var(_))));
            }
        }
    }
    let even = texts(&vocab, &lang, "target", tpl(0, false));
    assert_eq!(
        even,
        [
            "target(X) :- zero(X), zero(X).",
            "target(X) :- zero(X), succ(X,X).",
            "target(X) :- succ(X,X), succ(X,X)."
        ]
    );
}

#[test]
fn ground_index_round_trips_with_falsum_at_zero() {
    let (mut vocab, lang) = language(&[("zero", 1), ("succ", 2)], &[("target", 1), ("flag", 0)]);
    let consts: Vec<_> = ["0", "1", "2"]
        .iter()
        .map(|c| vocab.intern_const(c))
        .collect();
    let index = GroundIndex::new(&vocab, &lang.all_preds(), &consts);
    assert_eq!(index.len(), 1 + 3 + 9 + 3 + 1);
    assert_eq!(index.atom(AtomId(0)), None);
    assert_eq!(index.atom(AtomId(index.len() as u32)), None);
    for id in 1..index.len() {
        let atom = index.atom(AtomId(id as u32)).unwrap();
        assert_eq!(index.index_of(&atom), Some(AtomId(id as u32)));
    }
    let succ = vocab.find_pred("succ").unwrap();
    assert_eq!(index.pred_range(succ), 4..13);
    // Lexicographic by position in the constant list: succ(1,2) is the 6th succ atom.
    assert_eq!(
        index.index_of(&GroundAtom::new(succ, vec![consts[1], consts[2]])),
        Some(AtomId(4 + 5))
    );
    let other = vocab.intern_const("9");
    assert_eq!(
        index.index_of(&GroundAtom::new(succ, vec![consts[0], other])),
        None
    );
    let flag = vocab.find_pred("flag").unwrap();
    assert_eq!(
        index.index_of(&GroundAtom::new(flag, vec![])),
        Some(AtomId(16))
    );
}

/// The paper's §4.5 worked example: the pairs, then F_c computed from them.
#[test]
fn index_pairs_of_the_worked_example() {
    let mut prog = parse_program("r(X,Y) :- p(X,Z), q(Z,Y).", "example").unwrap();
    let clause = prog.rules[0].clone();
    let [p, q, r] = ["p", "q", "r"].map(|n| prog.vocab.find_pred(n).unwrap());
    let (a, b) = (prog.vocab.intern_const("a"), prog.vocab.intern_const("b"));
    let index = GroundIndex::new(&prog.vocab, &[p, q, r], &[a, b]);
    // p(a,a)=1 p(a,b)=2 p(b,a)=3 p(b,b)=4, q(..)=5..8, r(..)=9..12.
    let x = index_pairs(&clause, &index);
    assert_eq!(x.head_pred, r);
    assert_eq!(x.head_range, 9..13);
    assert_eq!(x.width, 2);
    let expected: Vec<[u32; 2]> = vec![
        [1, 5],
        [2, 7],
        [1, 6],
        [2, 8],
        [3, 5],
        [4, 7],
        [3, 6],
        [4, 8],
    ];
    assert_eq!(x.pairs, expected);
    assert_eq!(x.paper_shape(index.len()), [13, 2, 2]);
    let dense = x.dense(index.len());
    assert_eq!(dense.len(), 26);
    assert_eq!(&dense[18..], &expected[..]);
    assert!(dense[..18].iter().all(|&pair| pair == [0, 0]));

    let mut val = vec![0.0f32; index.len()];
    for (atom, v) in [
        ("p(a,a)", 1.0),
        ("p(a,b)", 0.9),
        ("q(a,a)", 0.1),
        ("q(b,a)", 0.2),
        ("q(b,b)", 0.8),
    ] {
        let g = dilp::logic::parse_ground_atoms(&format!("{atom}."), &mut prog.vocab, "t").unwrap();
        val[index.index_of(&g[0].0).unwrap().index()] = v;
    }
    let f: Vec<f32> = x
        .pairs
        .chunks(x.width)
        .map(|row| {
            row.iter()
                .map(|[i, j]| val[*i as usize] * val[*j as usize])
                .fold(0.0, f32::max)
        })
        .collect();
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    assert!(
        close(f[0], 0.18) && close(f[1], 0.72) && f[2] == 0.0 && f[3] == 0.0,
        "{f:?}"
    );
}

#[test]
fn index_pairs_keep_unused_existentials_and_handle_nullary_heads() {
    let prog = parse_program("t :- p(Z,W), p(W,Z).\nq(X,Y) :- p(X,Y), p(Y,X).", "t").unwrap();
    let mut vocab = prog.vocab.clone();
    let consts: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|c| vocab.intern_const(c))
        .collect();
    let preds: Vec<_> = ["p", "t", "q"]
        .iter()
        .map(|n| vocab.find_pred(n).unwrap())
        .collect();
    let index = GroundIndex::new(&vocab, &preds, &consts);
    let x = index_pairs(&prog.rules[0], &index);
    assert_eq!((x.head_range.len(), x.width, x.pairs.len()), (1, 9, 9));
    assert_eq!(x.pairs[1], [2, 4]); // Z=a, W=b: p(a,b), p(b,a)
                                    // A clause from a (1,T)-style template whose Z is unused still has width |C|, duplicates kept.
    let mut wide = prog.rules[1].clone();
    wide.var_names.push("Z".into());
    let x = index_pairs(&wide, &index);
    assert_eq!(x.width, 3);
    assert!(x
        .pairs
        .chunks(3)
        .all(|row| row[0] == row[1] && row[1] == row[2]));
}

pub const EVEN: &str = r#"
name = "even"
description = "even numbers, with an invented predicate"

[language]
extensional = ["zero/1", "succ/2"]
target = "target/1"
invented = ["pred/2"]

[program]
steps = 6
[program.rules]
target = [{ v = 0, int = false }, { v = 1, int = true }]
pred = [{ v = 1, int = false }]

[[train]]
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4)."
positive = "target(0). target(2). target(4)."
negative = "target(1). target(3)."

[[validation]]
steps = 12
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5). succ(5,6). succ(6,7)."
positive = "target(0). target(2). target(4). target(6)."
"#;

#[test]
fn the_issue_example_parses() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    assert_eq!(task.name, "even");
    let names: Vec<_> = task
        .preds_in_index_order()
        .iter()
        .map(|&p| task.vocab.pred_name(p).to_string())
        .collect();
    assert_eq!(names, ["zero", "succ", "target", "pred"]);
    assert_eq!(
        task.language.target,
        task.vocab.find_pred("target").unwrap()
    );
    assert_eq!(task.rules.len(), 2);
    assert_eq!(
        task.rules[0].templates,
        [Some(tpl(0, false)), Some(tpl(1, true))]
    );
    assert_eq!(task.rules[1].templates, [Some(tpl(1, false)), None]);
    assert_eq!(
        (task.steps, task.train[0].steps, task.validation[0].steps),
        (6, 6, 12)
    );
    let show = |atoms: &[GroundAtom]| {
        atoms
            .iter()
            .map(|a| a.display(&task.vocab).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(show(&task.train[0].negative), ["target(1)", "target(3)"]);
    assert_eq!(
        show(&task.validation[0].negative),
        ["target(1)", "target(3)", "target(5)", "target(7)"]
    );
    let consts: Vec<_> = task.validation[0]
        .constants
        .iter()
        .map(|&c| task.vocab.const_name(c))
        .collect();
    assert_eq!(consts, ["0", "1", "2", "3", "4", "5", "6", "7"]);

    let sets = generate_all(&task);
    let sizes: Vec<_> = sets
        .iter()
        .map(|s| [s.templates[0].len(), s.templates[1].len()])
        .collect();
    assert_eq!(sizes, [[3, 38], [39, 0]]);

    let world = &task.train[0];
    let index = task.ground_index(world);
    assert_eq!(index.len(), 1 + 5 + 25 + 5 + 25);
    let ex = examples(world, &index);
    assert_eq!(ex.labels, [1.0, 1.0, 1.0, 0.0, 0.0]);
    assert_eq!(
        index
            .atom(ex.atoms[1])
            .unwrap()
            .display(&task.vocab)
            .to_string(),
        "target(2)"
    );
    let bg = background_ids(world, &index);
    assert_eq!(bg.len(), 5);
    assert_eq!(bg[0], AtomId(1)); // zero(0)

    let listing = dilp::ilp::describe_clauses(&task);
    assert!(listing.contains("16. target(X) :- "), "{listing}");
    assert!(listing.contains("X_c 61 × 5 × 2"), "{listing}");
    assert!(listing.contains("3 × 38 = 114 clause pairs"), "{listing}");
    assert!(listing.contains("total: 80 clauses"), "{listing}");
}

#[test]
fn constants_lists_and_nullary_targets() {
    let text = r#"
name = "flag"
[language]
extensional = ["on/1"]
target = "lit/0"
[program]
steps = 1
[program.rules]
lit = [{ v = 1, int = false }]
[[train]]
constants = ["a", 7]
background = "on(b)."
positive = "lit."
[[train]]
constants = ["c"]
"#;
    let task = parse_task(text, "flag.toml").unwrap();
    let names: Vec<_> = task.train[0]
        .constants
        .iter()
        .map(|&c| task.vocab.const_name(c))
        .collect();
    assert_eq!(names, ["b", "a", "7"]);
    assert!(task.train[0].negative.is_empty());
    assert_eq!(task.train[1].negative.len(), 1);
    assert!(task.train[1].positive.is_empty());
}

#[test]
fn flipped_labels_move_a_fixed_sample() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let same = task.with_flipped_labels(0.0, 3);
    assert_eq!(same.train, task.train);
    let all = task.with_flipped_labels(1.0, 3);
    assert_eq!(all.train[0].positive, task.train[0].negative);
    assert_eq!(all.train[0].negative, task.train[0].positive);
    assert_eq!(all.validation, task.validation);
    // ρ = 0.4: round(1.2) = 1 positive and round(0.8) = 1 negative swap sides.
    let a = task.with_flipped_labels(0.4, 11);
    assert_eq!(a.train, task.with_flipped_labels(0.4, 11).train);
    let w = &a.train[0];
    assert_eq!((w.positive.len(), w.negative.len()), (3, 2));
    let moved_in = w
        .positive
        .iter()
        .filter(|x| task.train[0].negative.contains(x))
        .count();
    assert_eq!(moved_in, 1);
}

/// Parses `EVEN` with `from` replaced by `to` and returns the error text.
fn refused(from: &str, to: &str) -> String {
    assert!(
        EVEN.contains(from),
        "test bug: `{from}` not in the base task"
    );
    let text = EVEN.replacen(from, to, 1);
    match parse_task(&text, "even.toml") {
        Ok(_) => panic!("accepted a task with `{from}` replaced by `{to}`"),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
fn says(msg: &str, parts: &[&str]) {
    assert!(msg.contains("even.toml"), "no file name in: {msg}");
    for p in parts {
        assert!(msg.contains(p), "`{p}` missing in: {msg}");
    }
}

#[test]
fn malformed_task_files_are_refused_with_clear_messages() {
    says(&refused("steps = 6", "steps = = 6"), &["line 11, column 9"]);
    says(
        &refused("steps = 6", "steps = 6\ntimeout = 3"),
        &["unknown field `timeout`", "line 12"],
    );
    says(
        &refused(
            "pred = [{ v = 1, int = false }]",
            "pred = [{ v = 1, int = false, w = 2 }]",
        ),
        &["unknown field `w`"],
    );
    says(
        &refused("succ(2,3).", "sux(2,3)."),
        &[
            "even.toml [train 1].background:1:",
            "unknown predicate `sux/2`",
        ],
    );
    says(
        &refused("succ(2,3).", "succ(2)."),
        &["[train 1].background:1:", "arity"],
    );
    says(
        &refused(
            r#"negative = "target(1)."#,
            r#"negative = "target(2). target(1)."#,
        ),
        &[
            "[train 1].negative:1:1",
            "`target(2)` is both a positive and a negative example",
        ],
    );
    says(
        &refused("target = [{", "targ = [{"),
        &["[program.rules]", "`targ`", "not a declared predicate"],
    );
    says(
        &refused(
            "pred = [{ v = 1, int = false }]",
            "zero = [{ v = 1, int = false }]",
        ),
        &["`zero` is extensional"],
    );
    says(
        &refused("pred = [{ v = 1, int = false }]", ""),
        &["`pred/2` has no rule template"],
    );
    says(
        &refused("pred = [{ v = 1, int = false }]", "pred = []"),
        &["`pred` has 0 templates"],
    );
    says(
        &refused(
            "pred = [{ v = 1, int = false }]",
            "pred = [{ v = 4, int = false }]",
        ),
        &["v = 4 is out of range"],
    );
    says(
        &refused(
            "positive = \"target(0).",
            "positive = \"succ(0,1). target(0).",
        ),
        &[
            "[train 1].positive:1:1",
            "`succ(0,1)` is not an example of the target predicate `target`",
        ],
    );
    says(
        &refused("target = \"target/1\"", "target = \"target/3\""),
        &["`target/3` has arity 3"],
    );
    says(
        &refused(
            "invented = [\"pred/2\"]",
            "invented = [\"pred/2\", \"pred/2\"]",
        ),
        &["declared more than once"],
    );
    says(
        &refused("invented = [\"pred/2\"]", "invented = [\"pred\"]"),
        &["not a predicate declaration"],
    );
    says(
        &refused("succ(3,4).\"\n", "succ(3,4). target(1).\"\n"),
        &[
            "[train 1].background:1:",
            "background facts may not use the target",
        ],
    );
    says(
        &refused("succ(2,3).", "succ(2,X)."),
        &["[train 1].background:1:", "variable"],
    );
    let no_consts = EVEN.replacen("steps = 12", "steps = 12\nconstants = []", 1);
    let empty = no_consts.replace("background = \"zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5). succ(5,6). succ(6,7).\"\npositive = \"target(0). target(2). target(4). target(6).\"", "");
    says(
        &parse_task(&empty, "even.toml").unwrap_err().to_string(),
        &["[validation 1]: the world has no constants"],
    );
    says(
        &refused("steps = 6", "steps = 0"),
        &["steps must be at least 1"],
    );
    says(
        &refused("[[train]]", "[learn]\nlr = -1.0\n[[train]]"),
        &["[learn] lr must be a positive number"],
    );
    says(
        &refused("[[train]]", "[learn]\nrate = 1.0\n[[train]]"),
        &["unknown field `rate`"],
    );
    says(
        &refused("[[train]]", "[learn]\ninit_std = 0.0\n[[train]]"),
        &["[learn] init_std must be a positive number"],
    );
    let with_lr = EVEN.replacen(
        "[[train]]",
        "[learn]\nlr = 2.0\ninit_std = 0.1\nbatch_size = 4\n[[train]]",
        1,
    );
    let t = parse_task(&with_lr, "even.toml").unwrap();
    assert_eq!(
        (t.lr, t.init_std, t.batch_size),
        (Some(2.0), Some(0.1), Some(4))
    );
    assert_eq!(parse_task(EVEN, "even.toml").unwrap().lr, None);
    let no_train = EVEN.split("[[train]]").next().unwrap().to_string();
    says(
        &parse_task(&no_train, "even.toml").unwrap_err().to_string(),
        &["no [[train]] world"],
    );
}

#[test]
fn load_task_names_a_missing_path() {
    let err = dilp::ilp::load_task(std::path::Path::new("/nonexistent/even.toml")).unwrap_err();
    says(&err.to_string(), &["/nonexistent/even.toml"]);
}

/// Picks generated clauses by their text, so the check runs the exact objects a learner returns.
fn pick(task: &dilp::ilp::Task, wanted: &[&str]) -> Vec<dilp::logic::Clause> {
    let all: Vec<_> = generate_all(task)
        .into_iter()
        .flat_map(|s| s.templates.into_iter().flatten())
        .collect();
    wanted
        .iter()
        .map(|w| {
            let found = all
                .iter()
                .find(|c| c.display(&task.vocab).to_string() == *w);
            found
                .unwrap_or_else(|| panic!("`{w}` is not a generated clause"))
                .clone()
        })
        .collect()
}

#[test]
fn check_program_accepts_even_and_reports_false_positives() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let right = pick(
        &task,
        &[
            "target(X) :- zero(X), zero(X).",
            "target(X) :- target(Z), pred(Z,X).",
            "pred(X,Y) :- succ(X,Z), succ(Z,Y).",
        ],
    );
    let report = dilp::ilp::check_program(&task, &right);
    assert!(report.fits_training() && report.solved(), "{report:?}");
    assert_eq!(
        (
            report.train_errors,
            report.validation_errors,
            report.validation_mse
        ),
        (0, 0, 0.0)
    );
    assert_eq!(report.worlds.len(), 2);
    assert_eq!(report.worlds[1].examples, 8);
    assert_eq!(
        dilp::ilp::program_text(&task.vocab, &right),
        "target(X) :- zero(X).\ntarget(X) :- target(Z), pred(Z,X).\npred(X,Y) :- succ(X,Z), succ(Z,Y).\n"
    );

    // Every number: target(1), target(3), ... are false positives.
    let wrong = pick(
        &task,
        &[
            "target(X) :- zero(X), zero(X).",
            "target(X) :- succ(Z,X), target(Z).",
        ],
    );
    let report = dilp::ilp::check_program(&task, &wrong);
    assert!(!report.fits_training() && !report.solved());
    assert_eq!(report.worlds[0].false_positives, ["target(1)", "target(3)"]);
    assert!(report.worlds[0].false_negatives.is_empty());
    assert_eq!(
        report.worlds[1].false_positives,
        ["target(1)", "target(3)", "target(5)", "target(7)"]
    );
    assert_eq!((report.train_errors, report.validation_errors), (2, 4));
    assert_eq!(report.validation_mse, 0.5);

    // Only the base case: every even number above 0 is missed.
    let report = dilp::ilp::check_program(&task, &wrong[..1]);
    assert_eq!(report.worlds[0].false_negatives, ["target(2)", "target(4)"]);
    assert!(report.worlds[0].false_positives.is_empty());
}

#[test]
fn rules_given_as_text_use_the_task_vocabulary() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let text = "target(X) :- zero(X).\ntarget(X) :- target(Y), pred(Y,X).\npred(X,Y) :- succ(X,Z), succ(Z,Y).";
    let rules = task.parse_rules(text, "rules.pl").unwrap();
    assert!(dilp::ilp::check_program(&task, &rules).solved());
    let err = |t: &str| task.parse_rules(t, "rules.pl").unwrap_err().to_string();
    assert!(err("target(X) :- odd(X).").contains("predicate `odd` is not declared"));
    assert!(err("target(X) :- succ(X,ten).").contains("constant `ten`"));
    assert!(err("zero(X) :- succ(X,X).").contains("not an intensional predicate"));
    assert!(err("target(0).").contains("is a fact"));
    assert!(err("target(X) :- succ(Y,Z).").contains("rules.pl:1:1"));
}

#[test]
fn a_template_that_allows_no_clause_is_refused() {
    // A nullary target with v = 0 and no nullary extensional predicate has no candidate atom.
    let msg = refused("target = \"target/1\"", "target = \"target/0\"");
    says(
        &msg,
        &["`target/0`: the template { v = 0, int = false } allows no clause"],
    );
}

#[test]
fn idle_clauses_are_dropped_and_needed_ones_kept() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let right = [
        "target(X) :- zero(X), zero(X).",
        "target(X) :- target(Z), pred(Z,X).",
        "pred(X,Y) :- succ(X,Z), succ(Z,Y).",
    ];
    // succ(X,X) never holds: the clause never fires. The second pred clause derives only
    // what the first does, in the other body order.
    let idle = [
        "target(X) :- succ(X,X), succ(X,X).",
        "pred(X,Y) :- succ(Z,Y), succ(X,Z).",
    ];
    let with_idle = pick(&task, &[right[0], idle[0], right[1], right[2], idle[1]]);
    let kept = dilp::ilp::drop_idle_clauses(&task, &with_idle);
    assert_eq!(kept, pick(&task, &right));
    // A program that needs every clause loses none.
    assert_eq!(
        dilp::ilp::drop_idle_clauses(&task, &pick(&task, &right)),
        pick(&task, &right)
    );
}
