//! Neuro-symbolic task files (no LibTorch): the labelling program, the symbolic task, the SAT
//! solvability check on every shipped file, and the located errors of a bad file.

use dilp::ilp::{check_program, generate_all, parse_task};
use dilp::neuro::taskfile::{check_solvable, less_than, parse_neuro_task, LESS_THAN_TEXT};
use dilp::neuro::{load_neuro_task, NeuroTask};
use dilp::Error;
use std::path::Path;

/// The shipped tasks and the labels their labelling programs must give, written as Rust.
#[allow(clippy::type_complexity)]
const SHIPPED: [(&str, usize, fn(&[u8]) -> bool); 6] = [
    ("less_than", 2, |t| t[0] < t[1]),
    ("two_less_than", 2, |t| t[0] + 2 == t[1]),
    ("right_is_one", 2, |t| t[1] == 1),
    ("even", 1, |t| t[0] % 2 == 0),
    ("equal", 2, |t| t[0] == t[1]),
    ("successor", 2, |t| t[0] + 1 == t[1]),
];

fn shipped(name: &str) -> NeuroTask {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments/tasks/mnist")
        .join(format!("{name}.toml"));
    load_neuro_task(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn labelling_programs_give_the_intended_labels_on_every_tuple() {
    for (name, arity, want) in SHIPPED {
        let t = shipped(name);
        assert_eq!(t.arity(), arity, "{name}");
        assert_eq!(t.labels.len(), 10usize.pow(arity as u32), "{name}");
        assert_eq!(t.task.train.len(), t.labels.len(), "{name}");
        for row in 0..t.tuples() {
            let tuple = t.tuple(row);
            assert_eq!(t.row(&tuple), row);
            assert_eq!(t.labels[row], want(&tuple), "{name} {tuple:?}");
            let w = &t.task.train[row];
            assert_eq!(
                w.positive.len(),
                usize::from(want(&tuple)),
                "{name} {tuple:?}"
            );
            assert_eq!(
                w.negative.len(),
                usize::from(!want(&tuple)),
                "{name} {tuple:?}"
            );
        }
    }
}

#[test]
fn every_shipped_template_has_a_solution_that_matches_every_tuple() {
    for (name, _, want) in SHIPPED {
        let t = shipped(name);
        let report = check_solvable(&t).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.satisfiable && report.fits_training, "{name}");
        // The program, re-read and run by the engine in every tuple's world, independently.
        let rules = t.task.parse_rules(&report.program, "synth").unwrap();
        let check = check_program(&t.task, &rules);
        for (row, w) in check.worlds.iter().enumerate() {
            assert!(w.is_correct(), "{name}: tuple {:?} wrong", t.tuple(row));
            assert_eq!(t.labels[row], want(&t.tuple(row)));
        }
        // The symbolic text is an ordinary task file.
        let again = parse_task(&t.symbolic_text, name).unwrap();
        assert_eq!(again.train.len(), t.tuples());
    }
}

/// The old, code-built less-than task: the file must give the learner the same task (same
/// predicates, constants and clauses in the same order), so that a seed gives today's result.
fn old_less_than_text() -> String {
    let mut bg = String::from("zero(0).");
    for d in 0..9 {
        bg.push_str(&format!(" succ({d},{}).", d + 1));
    }
    let mut s = String::from(
        "name = \"mnist_less_than\"\n[language]\nextensional = [\"zero/1\", \"succ/2\", \"image1/1\", \"image2/1\"]\n\
         target = \"target/0\"\ninvented = [\"pred1/1\"]\n[program]\nsteps = 10\n[program.rules]\n\
         target = [{ v = 1, int = true }]\npred1 = [{ v = 1, int = false }, { v = 1, int = true }]\n",
    );
    for (a, b) in (0..10).flat_map(|a| (0..10).map(move |b| (a, b))) {
        let (pos, neg) = if a < b {
            ("target.", "")
        } else {
            ("", "target.")
        };
        s.push_str(&format!(
            "[[train]]\nbackground = \"{bg} image1({a}). image2({b}).\"\npositive = \"{pos}\"\nnegative = \"{neg}\"\n"
        ));
    }
    s
}

#[test]
fn the_less_than_file_is_the_task_the_code_used_to_build() {
    let old = parse_task(&old_less_than_text(), "old").unwrap();
    let new = less_than().unwrap().task;
    let names = |t: &dilp::ilp::Task| -> (Vec<String>, Vec<String>) {
        (
            t.vocab
                .preds()
                .map(|(_, p)| format!("{}/{}", p.name, p.arity))
                .collect(),
            t.vocab.consts().map(|(_, c)| c.to_string()).collect(),
        )
    };
    assert_eq!(names(&old), names(&new));
    assert_eq!(old.language, new.language);
    assert_eq!(old.rules, new.rules);
    assert_eq!(old.steps, new.steps);
    assert_eq!(old.train, new.train);
    let clauses = |t: &dilp::ilp::Task| -> Vec<String> {
        generate_all(t)
            .iter()
            .flat_map(|cs| cs.templates.iter().flatten())
            .map(|c| c.display(&t.vocab).to_string())
            .collect()
    };
    assert_eq!(clauses(&old), clauses(&new));
}

/// The less-than file with `from` replaced by `to` (which must occur).
fn edited(from: &str, to: &str) -> String {
    assert!(LESS_THAN_TEXT.contains(from), "{from}");
    LESS_THAN_TEXT.replacen(from, to, 1)
}

fn err_of(text: &str) -> String {
    match parse_neuro_task(text, "t.toml") {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_perceived_predicate_must_be_declared_extensional_and_unary() {
    let e = err_of(&edited(
        "images = [\"image1\", \"image2\"]",
        "images = [\"image1\", \"imag2\"]",
    ));
    assert!(
        e.starts_with("t.toml") && e.contains("unknown predicate `imag2`"),
        "{e}"
    );
    let e = err_of(&edited(
        "images = [\"image1\", \"image2\"]",
        "images = [\"image1\", \"pred1\"]",
    ));
    assert!(
        e.contains("`pred1`") && e.contains("must be extensional"),
        "{e}"
    );
    let e = err_of(&edited(
        "images = [\"image1\", \"image2\"]",
        "images = [\"image1\", \"succ\"]",
    ));
    assert!(e.contains("`succ/2` clashes with arity 1"), "{e}");
    let e = err_of(&edited(
        "images = [\"image1\", \"image2\"]",
        "images = [\"image1\", \"image2\", \"zero\"]",
    ));
    assert!(e.contains("give one"), "{e}");
}

#[test]
fn the_labelling_program_is_checked_with_locations() {
    // An undeclared predicate, located on its line.
    let e = err_of(&edited(
        "target :- image1(X), image2(Y), lt(X,Y).",
        "target :- image1(X), image2(Y), less(X,Y).",
    ));
    assert!(e.contains("t.toml [perception].labelling:3:33"), "{e}");
    assert!(e.contains("`less/2`") && e.contains("not declared"), "{e}");
    // An arity clash with the declared helper.
    let e = err_of(&edited("lt(X,Y) :- succ(X,Y).", "lt(X,Y,Y) :- succ(X,Y)."));
    assert!(
        e.contains("[perception].labelling:1:") && e.contains("arity"),
        "{e}"
    );
    // The learner's invented predicate is not the labeller's to use.
    let e = err_of(&edited(
        "lt(X,Y) :- succ(X,Y).",
        "lt(X,Y) :- succ(X,Y), pred1(Y).",
    ));
    assert!(e.contains("`pred1/1`") && e.contains("invented"), "{e}");
    // A label that never varies.
    let e = err_of(&edited(
        "target :- image1(X), image2(Y), lt(X,Y).",
        "target :- image1(X), image2(Y).",
    ));
    assert!(e.contains("every digit tuple gets the label true"), "{e}");
    // Background facts: declared, extensional, not perceived.
    let e = err_of(&edited("zero(0). succ(0,1).", "zero(0). succ(0,1,2)."));
    assert!(
        e.contains("[perception].background:1:") && e.contains("arity"),
        "{e}"
    );
    let e = err_of(&edited(
        "zero(0). succ(0,1).",
        "zero(0). image1(3). succ(0,1).",
    ));
    assert!(e.contains("perceived"), "{e}");
    let e = err_of(&edited(
        "zero(0). succ(0,1).",
        "zero(0). one(1). succ(0,1).",
    ));
    assert!(e.contains("unknown predicate `one/1`"), "{e}");
    // The ILP parser's own errors still name the file.
    let e = err_of(&edited("steps = 10", "steps = 0"));
    assert!(e.starts_with("t.toml") && e.contains("steps"), "{e}");
    let e = err_of(&format!(
        "{LESS_THAN_TEXT}\n[[train]]\nbackground = \"zero(0).\"\n"
    ));
    assert!(e.contains("[[train]]"), "{e}");
}

#[test]
fn a_template_without_a_solution_is_refused_before_training() {
    // Without the recursive clause, pred1 cannot climb succ: no program labels every pair.
    let text = edited(
        "pred1 = [{ v = 1, int = false }, { v = 1, int = true }]",
        "pred1 = [{ v = 1, int = false }]",
    );
    let t = parse_neuro_task(&text, "t.toml").unwrap();
    match check_solvable(&t) {
        Err(Error::Task { file, msg }) => {
            assert_eq!(file, "t.toml");
            assert!(msg.contains("no program of this template"), "{msg}");
        }
        other => panic!("expected a task error, got {other:?}"),
    }
}
