//! The `dilp` binary: answers, exit codes and located error messages.

use std::process::Command;

fn dilp(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dilp"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dilp");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_prints_the_sorted_least_model() {
    let (code, out, _) = dilp(&["run", "datasets/examples/tc.dl"]);
    assert_eq!(code, 0);
    let paths: Vec<&str> = out.lines().filter(|l| l.starts_with("path")).collect();
    assert_eq!(
        paths,
        [
            "path(a,b).",
            "path(a,c).",
            "path(a,d).",
            "path(a,e).",
            "path(b,c).",
            "path(b,d).",
            "path(b,e).",
            "path(c,d)."
        ]
    );
    for engine in ["naive", "semi-naive", "magic"] {
        let (code, q, _) = dilp(&[
            "run",
            "datasets/examples/tc.dl",
            "--query",
            "path(b,X)",
            "--engine",
            engine,
        ]);
        assert_eq!(code, 0);
        assert_eq!(
            q.lines().collect::<Vec<_>>(),
            ["path(b,c).", "path(b,d).", "path(b,e)."],
            "{engine}"
        );
    }
    let (code, _, err) = dilp(&["run", "datasets/examples/tc.dl", "--stats"]);
    assert_eq!(code, 0);
    assert!(err.contains("rounds"), "{err}");
}

#[test]
fn bad_input_exits_non_zero_with_a_located_message() {
    let dir = std::env::temp_dir().join(format!("dilp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.dl");
    let cases = [
        ("p(a).\nq(X) :- p(X) r(X).\n", ":2:14"),
        ("p(X) :- q(Y).\n", "unsafe"),
        ("p(a).\np(a,b).\n", "arity"),
        ("p(X).\n", "variable"),
    ];
    for (text, needle) in cases {
        std::fs::write(&bad, text).unwrap();
        let (code, _, err) = dilp(&["run", bad.to_str().unwrap()]);
        assert_ne!(code, 0, "{text}");
        assert!(
            err.contains("bad.dl:") && err.contains(needle),
            "{text}: {err}"
        );
    }
    let (code, _, err) = dilp(&["run", "/nonexistent/x.dl"]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/x.dl"), "{err}");
    let (code, _, err) = dilp(&["run", "datasets/examples/tc.dl", "--query", "nosuch(X)"]);
    assert_ne!(code, 0);
    assert!(err.contains("<query>"), "{err}");
    let (code, _, err) = dilp(&["synth", "/nonexistent/task.toml"]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/task.toml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn synth_solves_a_benchmark_task_and_prints_json() {
    let (code, out, _) = dilp(&["synth", "experiments/tasks/predecessor.toml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["solved"], true);
    assert!(v["program"].as_str().unwrap().contains("succ(Y,X)"));
}

#[test]
fn clauses_reports_the_template_sizes() {
    let (code, out, _) = dilp(&["clauses", "experiments/tasks/even_succ2.toml"]);
    assert_eq!(code, 0);
    assert!(out.contains("39 × 1 = 39 clause pairs"), "{out}");
}

/// A bad `mnist train --config` file is refused before any data is loaded, naming the file and
/// the place.
#[cfg(feature = "torch")]
#[test]
fn bad_run_settings_are_refused_with_their_place() {
    let dir = std::env::temp_dir().join(format!("dilp-cli-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("run.json");
    for (text, needle) in [
        (
            "{\"held_out\": 0.5,\n \"vison\": \"scratch\"}",
            "run.json:2:",
        ),
        ("{\"dilp\": {\"steps\": -3}}", "run.json:1:"),
        ("{\"held_out\": 1.5}", "--held-out must be in [0, 1)"),
        ("{\"dilp\": {\"eval_every\": 0}}", "eval_every"),
        ("{\"symbolic_lr\": -1}", "symbolic_lr must be positive"),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let (code, _, err) = dilp(&["mnist", "train", "--config", cfg.to_str().unwrap()]);
        assert_ne!(code, 0, "{text}");
        assert!(err.contains(needle), "{text}: {err}");
    }
    let (code, _, err) = dilp(&["mnist", "train", "--config", "/nonexistent/run.json"]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/run.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Unknown `learn` choices are refused, in the library's words.
#[test]
fn unknown_learn_choices_are_refused() {
    let task = "experiments/tasks/predecessor.toml";
    let (code, _, err) = dilp(&["learn", task, "--loss", "hinge"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown loss `hinge`"), "{err}");
    let (code, _, err) = dilp(&["learn", task, "--select", "best"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown selection `best`"), "{err}");
}

/// `dilp learn` shows the program it reports (the one crisp selection judged) and says when
/// the training data leaves other programs tied with it; `--json` carries the same.
#[test]
fn learn_prints_its_program_and_the_ties_the_data_leaves() {
    let dir = std::env::temp_dir().join(format!("dilp-cli-learn-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let task = "experiments/tasks/buzz.toml";
    let (code, json, err) = dilp(&["learn", task, "--seeds", "8", "--json", "--out", out]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let program = v["program"].as_str().unwrap();
    let ties = v["ties"].as_array().unwrap();
    assert!(!ties.is_empty(), "{json}");
    let (code, text, err) = dilp(&["learn", task, "--seeds", "8", "--out", out]);
    assert_eq!(code, 0, "{err}");
    for line in program.lines() {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    assert!(
        text.contains(&format!(
            "note: {} other program(s) fit the training data",
            ties.len()
        )),
        "{text}"
    );
    assert!(dir.join("report.json").exists() && dir.join("config.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A named choice outside its list is refused by the parser, with the choices, before any
/// file is read.
#[test]
fn unknown_choices_are_refused_with_the_choices() {
    let (code, _, err) = dilp(&["run", "/nonexistent/x.dl", "--engine", "fast"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown engine `fast`"), "{err}");
    assert!(err.contains("semi-naive"), "{err}");
    assert!(!err.contains("/nonexistent/x.dl"), "{err}");
    let (code, out, _) = dilp(&["run", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--engine") && out.contains("magic"), "{out}");
}
