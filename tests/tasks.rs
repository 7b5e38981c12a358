//! The 20 benchmark tasks of the paper (App. G) under `experiments/tasks/`, checked against the
//! paper's solution programs in `tests/golden/<task>.dl`:
//! - every file loads;
//! - every golden clause is one of the clauses its predicate's templates generate (up to the names
//!   of existential variables and the order of the two body atoms), golden clauses of one
//!   predicate falling in distinct templates, so the solution is inside the program template;
//! - the golden program solves the task (every training and validation example right, evaluated
//!   to fixpoint by the Datalog engine);
//! - the golden program also gets every example right after exactly T synchronous
//!   forward-chaining steps (the world's `steps`, else the program's) over the ILP layer's own
//!   index pairs `X_c` — what ∂ILP and the SAT encoding compute — so T is large enough;
//! - every task has a validation world with more constants than any of its training worlds.
//!
//! `cargo test --no-default-features --test tasks -- --nocapture` also prints a summary table.

use dilp::ilp::{check_program, generate_all, index_pairs, load_task, ClauseSet, Task, World};
use dilp::logic::{Clause, Term, Vocabulary};
use std::collections::HashMap;
use std::path::PathBuf;

const TASKS: [&str; 20] = [
    "predecessor",
    "even_odd",
    "even_succ2",
    "less_than",
    "fizz",
    "buzz",
    "member",
    "length",
    "son",
    "grandparent",
    "husband",
    "uncle",
    "relatedness",
    "father",
    "undirected_edge",
    "adjacent_to_red",
    "two_children",
    "graph_colouring",
    "connectedness",
    "cyclic",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Task {
    let path = root()
        .join("experiments/tasks")
        .join(format!("{name}.toml"));
    let task = load_task(&path).unwrap_or_else(|e| panic!("{name}: task file does not load: {e}"));
    assert_eq!(
        task.name, name,
        "{name}: the task's `name` should match its file name"
    );
    task
}

fn golden(task: &Task, name: &str) -> Vec<Clause> {
    let path = root().join("tests/golden").join(format!("{name}.dl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rules = task
        .parse_rules(&text, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{name}: golden program does not parse: {e}"));
    assert!(!rules.is_empty(), "{name}: empty golden program");
    rules
}

/// The clause as text with variables renumbered (head variables first, then by first appearance
/// in the body), minimised over the two orders of the body: equal for clauses that differ only
/// in variable names and body order.
fn canonical(clause: &Clause, vocab: &Vocabulary) -> String {
    let mut orders: Vec<Vec<usize>> = vec![(0..clause.body.len()).collect()];
    if clause.body.len() == 2 {
        orders.push(vec![1, 0]);
    }
    orders
        .iter()
        .map(|order| {
            let mut map: HashMap<u32, usize> = HashMap::new();
            let atoms = std::iter::once(&clause.head).chain(order.iter().map(|&i| &clause.body[i]));
            let mut text = Vec::new();
            for atom in atoms {
                let args: Vec<String> = atom
                    .args
                    .iter()
                    .map(|t| match t {
                        Term::Var(v) => {
                            let next = map.len();
                            format!("V{}", map.entry(v.0).or_insert(next))
                        }
                        Term::Const(c) => vocab.const_name(*c).to_string(),
                    })
                    .collect();
                text.push(format!(
                    "{}({})",
                    vocab.pred_name(atom.pred),
                    args.join(",")
                ));
            }
            format!("{} :- {}", text[0], text[1..].join(", "))
        })
        .min()
        .unwrap()
}

/// Golden clauses of each predicate assigned to distinct non-empty templates containing them.
fn assert_in_templates(name: &str, task: &Task, sets: &[ClauseSet], rules: &[Clause]) {
    let v = &task.vocab;
    for set in sets {
        let mine: Vec<&Clause> = rules.iter().filter(|r| r.head.pred == set.pred).collect();
        let templates: Vec<Vec<String>> = set
            .templates
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| t.iter().map(|c| canonical(c, v)).collect())
            .collect();
        assert!(
            mine.len() <= templates.len(),
            "{name}: {} golden clauses for `{}` but {} template(s)",
            mine.len(),
            v.pred_name(set.pred),
            templates.len()
        );
        let wanted: Vec<String> = mine.iter().map(|c| canonical(c, v)).collect();
        let fits = |perm: &[usize]| {
            wanted
                .iter()
                .zip(perm)
                .all(|(w, &t)| templates[t].contains(w))
        };
        let ok = match wanted.len() {
            0 => true,
            1 => (0..templates.len()).any(|t| fits(&[t])),
            _ => fits(&[0, 1]) || fits(&[1, 0]),
        };
        assert!(
            ok,
            "{name}: golden clauses {wanted:?} of `{}` are not in distinct templates",
            v.pred_name(set.pred)
        );
    }
    for r in rules {
        assert!(
            sets.iter().any(|s| s.pred == r.head.pred),
            "{name}: golden clause `{}` has no template",
            r.display(v)
        );
    }
}

/// Crisp forward chaining for exactly `world.steps` synchronous steps over the clauses' `X_c`.
/// Returns the examples it gets wrong.
fn t_step_errors(task: &Task, rules: &[Clause], world: &World) -> Vec<String> {
    let index = task.ground_index(world);
    let mut val = vec![false; index.len()];
    for a in &world.background {
        val[index.index_of(a).expect("background atom in index").index()] = true;
    }
    let xs: Vec<_> = rules.iter().map(|r| index_pairs(r, &index)).collect();
    for _ in 0..world.steps {
        let mut next = val.clone();
        for x in &xs {
            for (k, head) in x.head_range.clone().enumerate() {
                let row = &x.pairs[k * x.width..(k + 1) * x.width];
                if row.iter().any(|&[i, j]| val[i as usize] && val[j as usize]) {
                    next[head] = true;
                }
            }
        }
        val = next;
    }
    let v = &task.vocab;
    let at = |a| val[index.index_of(a).unwrap().index()];
    let mut wrong: Vec<String> = world
        .positive
        .iter()
        .filter(|a| !at(a))
        .map(|a| format!("missing {}", a.display(v)))
        .collect();
    wrong.extend(
        world
            .negative
            .iter()
            .filter(|a| at(a))
            .map(|a| format!("wrongly derived {}", a.display(v))),
    );
    wrong
}

fn template_text(task: &Task, sets: &[ClauseSet]) -> String {
    let mut out = Vec::new();
    for (rules, set) in task.rules.iter().zip(sets) {
        let t: Vec<String> = rules
            .templates
            .iter()
            .zip(&set.templates)
            .map(|(t, cs)| match t {
                Some(t) => format!("({},{}):{}", t.v, if t.int { "T" } else { "F" }, cs.len()),
                None => "null".into(),
            })
            .collect();
        out.push(format!(
            "{} {}",
            task.vocab.pred_name(rules.pred),
            t.join(" ")
        ));
    }
    out.join("; ")
}

#[test]
fn the_twenty_task_files_are_all_there() {
    let dir = root().join("experiments/tasks");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml")
                .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    found.sort();
    let mut want: Vec<String> = TASKS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(found, want);
}

#[test]
fn golden_programs_lie_in_the_templates_and_solve_every_task() {
    let mut failures = Vec::new();
    println!(
        "{:<16} {:>14} {:>3} {:>9}  templates (clauses)",
        "task", "train |C|", "T", "val |C|"
    );
    for name in TASKS {
        let task = load(name);
        let rules = golden(&task, name);
        let sets = generate_all(&task);
        assert_in_templates(name, &task, &sets, &rules);

        let report = check_program(&task, &rules);
        if !report.solved() {
            failures.push(format!(
                "{name}: golden program does not solve the task: {report:?}"
            ));
        }
        for (i, is_val, world) in task.worlds() {
            let wrong = t_step_errors(&task, &rules, world);
            if !wrong.is_empty() {
                let kind = if is_val { "validation" } else { "train" };
                failures.push(format!(
                    "{name}: {kind} world {i}: after T = {} steps: {:?}",
                    world.steps,
                    &wrong[..wrong.len().min(5)]
                ));
            }
        }

        assert!(!task.validation.is_empty(), "{name}: no validation world");
        let train_max = task.train.iter().map(|w| w.constants.len()).max().unwrap();
        let val_max = task
            .validation
            .iter()
            .map(|w| w.constants.len())
            .max()
            .unwrap();
        assert!(
            val_max > train_max,
            "{name}: the largest validation world ({val_max} constants) is not larger than training ({train_max})"
        );
        let train_c: Vec<String> = task
            .train
            .iter()
            .map(|w| w.constants.len().to_string())
            .collect();
        let val_c: Vec<String> = task
            .validation
            .iter()
            .map(|w| format!("{}/T{}", w.constants.len(), w.steps))
            .collect();
        println!(
            "{:<16} {:>14} {:>3} {:>9}  {}",
            name,
            train_c.join(","),
            task.steps,
            val_c.join(","),
            template_text(&task, &sets)
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
