//! Bounded fuzzing of every reader of user files: the Datalog parser (through `dilp run`'s
//! library entry), the task-file loader (through `dilp clauses`' library calls), the MNIST
//! `--config` JSON and the IDX reader.
//!
//! Inputs are arbitrary bytes, and the shipped files (`datasets/examples/*.dl`,
//! `experiments/tasks/*.toml`) under random byte flips, truncations, insertions of syntax
//! fragments, and line deletions and duplications. The properties: nothing panics, and every
//! refusal says where (file and line:column, or byte offset). Case counts are small on purpose:
//! the whole file runs in a few seconds on two cores, so it runs in CI with the rest.

use dilp::datalog::run_source;
use dilp::ilp::{describe_clauses, parse_task};
use dilp::Error;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;

/// Cases per property; each case is one parse (and for programs one evaluation). A longer hunt:
/// `DILP_FUZZ_CASES=100000 cargo test --test fuzz`.
const CASES: u32 = 200;

fn config() -> Config {
    let cases = std::env::var("DILP_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CASES);
    Config {
        cases,
        // Shrinking a found panic is worth the time; a pass never shrinks.
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The shipped files with `ext` under `dir`, sorted by name, as (name, text).
fn shipped(dir: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no *.{ext} under {dir}");
    out
}

/// Fragments that sit on the parsers' decision points: delimiters, quotes, comments, TOML
/// headers and keys, out-of-range numbers, non-ASCII letters and control characters.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    ",",
    ".",
    ":-",
    ":",
    "\"",
    "\\",
    "%",
    "X",
    "_",
    "\n",
    "-",
    "-1",
    "0",
    "p",
    "Ünï",
    "ǅ",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "\t",
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "{",
    "}",
    "/",
    "/3",
    "\"\"\"",
    "'",
    "'''",
    "#",
    "[[train]]\n",
    "[[validation]]\n",
    "[program]\n",
    "[language]\n",
    "[learn]\n",
    "steps = 0\n",
    "v = 9",
    "int = true",
    "lr = nan\n",
    "99999999999999999999",
    "18446744073709551616",
    "1e400",
    "inf",
    "target",
    "p(X) :- q(Y).",
    "p(a).",
    "q(a,b).",
    "constants = [\"A\"]\n",
    "negative = \"\"\n",
    "positive = \"target(a).\"\n",
];

/// One edit of a valid file. Positions are raw numbers taken modulo the current length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Truncate(usize),
    InsertFragment(usize, usize),
    InsertBytes(usize, Vec<u8>),
    DeleteRange(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(p, f)| Mutation::InsertFragment(p, f)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Mutation::InsertBytes(p, b)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::DeleteRange(p, n)),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

/// Start and end (past the newline) of line `k mod lines` of `bytes`.
fn line_span(bytes: &[u8], k: usize) -> (usize, usize) {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < bytes.len())
        .collect();
    if starts.is_empty() {
        return (0, 0);
    }
    let s = starts[k % starts.len()];
    let e = bytes[s..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| s + i + 1);
    (s, e)
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match m {
        Mutation::FlipBit(p, b) if !bytes.is_empty() => {
            let i = p % bytes.len();
            bytes[i] ^= 1 << b;
        }
        Mutation::SetByte(p, v) if !bytes.is_empty() => {
            let i = p % bytes.len();
            bytes[i] = *v;
        }
        Mutation::Truncate(p) => bytes.truncate(at(*p, bytes.len())),
        Mutation::InsertFragment(p, f) => {
            let i = at(*p, bytes.len());
            let frag = FRAGMENTS[f % FRAGMENTS.len()].as_bytes();
            bytes.splice(i..i, frag.iter().copied());
        }
        Mutation::InsertBytes(p, b) => {
            let i = at(*p, bytes.len());
            bytes.splice(i..i, b.iter().copied());
        }
        Mutation::DeleteRange(p, n) => {
            let i = at(*p, bytes.len());
            let j = (i + n).min(bytes.len());
            bytes.drain(i..j);
        }
        Mutation::DeleteLine(k) => {
            let (s, e) = line_span(bytes, *k);
            bytes.drain(s..e);
        }
        Mutation::DuplicateLine(k) => {
            let (s, e) = line_span(bytes, *k);
            let line = bytes[s..e].to_vec();
            bytes.splice(e..e, line);
        }
        _ => {}
    }
}

/// A shipped file (picked by `pick`) with `edits` applied, as text (invalid UTF-8 is replaced,
/// as the CLI's reader would refuse it before any parser sees it).
fn mutated(files: &[(String, Vec<u8>)], pick: usize, edits: &[Mutation]) -> (String, String) {
    let (name, bytes) = &files[pick % files.len()];
    let mut bytes = bytes.clone();
    for m in edits {
        apply(&mut bytes, m);
    }
    (name.clone(), String::from_utf8_lossy(&bytes).into_owned())
}

/// The line:column of a located error lies inside `text` (a column may point one past the
/// end of its line, at the end of the text).
#[track_caller]
fn assert_inside(text: &str, line: usize, col: usize, msg: &str) {
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        line >= 1 && line <= lines.len(),
        "line {line} outside the text ({} lines): {msg}",
        lines.len()
    );
    let width = lines[line - 1].chars().count();
    assert!(
        col >= 1 && col <= width + 1,
        "column {col} outside line {line} ({width} chars): {msg}"
    );
}

/// `dilp run`'s library call on `src`: accepted, or refused with a place inside `src`.
fn check_program(src: &str) {
    const FILE: &str = "fuzz.dl";
    match run_source(src, FILE, None, None) {
        Ok(_) => {}
        Err(e @ (Error::Syntax { .. } | Error::Semantic { .. })) => {
            let msg = e.to_string();
            let (Error::Syntax { loc, .. } | Error::Semantic { loc, .. }) = &e else {
                unreachable!()
            };
            assert_eq!(loc.file, FILE, "{msg}");
            assert!(msg.starts_with(&format!("{FILE}:{}:{}", loc.line, loc.col)));
            assert_inside(src, loc.line, loc.col, &msg);
        }
        Err(e) => panic!("unlocated error from the Datalog parser: {e}"),
    }
}

/// A query against a small valid program: accepted, or refused at a place in the query.
fn check_query(query: &str) {
    let src =
        "edge(a,b). edge(b,c).\npath(X,Y) :- edge(X,Y).\npath(X,Y) :- edge(X,Z), path(Z,Y).\n";
    match run_source(src, "q.dl", Some(query), None) {
        Ok(_) => {}
        Err(Error::Syntax { loc, msg } | Error::Semantic { loc, msg }) => {
            assert_eq!(loc.file, "<query>", "{msg}");
            assert_inside(query, loc.line, loc.col, &msg);
        }
        Err(e) => panic!("unlocated error from a query: {e}"),
    }
}

/// `dilp clauses`' library calls on `text`: accepted (and listed), or refused with the file
/// named and a place: line:column, a TOML `line L, column C`, or the TOML field.
fn check_task(text: &str) {
    const FILE: &str = "fuzz.toml";
    match parse_task(text, FILE) {
        Ok(task) => {
            // Listing walks every clause; keep the mutated worlds small enough to be quick.
            if task.train[0].constants.len() <= 64 {
                let listing = describe_clauses(&task);
                assert!(listing.contains("total:"));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with(FILE), "file not named first: {msg}");
            match &e {
                Error::Syntax { loc, .. } | Error::Semantic { loc, .. } => {
                    assert!(loc.line >= 1 && loc.col >= 1, "{msg}");
                    if loc.file == FILE {
                        assert_inside(text, loc.line, loc.col, &msg);
                    }
                }
                Error::Task { .. } => {
                    // TOML syntax and schema errors carry toml's own place; the one check
                    // about the whole file has none to give.
                    let located = msg.contains("TOML parse error at line ")
                        || msg.contains("the task has no [[train]] world");
                    assert!(located, "task error without a place: {msg}");
                }
                other => panic!("unexpected kind of error: {other:?}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_crash_the_datalog_parser(
        bytes in prop::collection::vec(any::<u8>(), 0..200)
    ) {
        check_program(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_token_soup_never_crashes_the_datalog_parser(
        picks in prop::collection::vec(any::<usize>(), 0..60)
    ) {
        let src: String = picks.iter().map(|&p| FRAGMENTS[p % FRAGMENTS.len()]).collect();
        check_program(&src);
    }

    #[test]
    fn mutated_example_programs_are_run_or_refused_with_a_place(
        pick in any::<usize>(),
        edits in prop::collection::vec(mutation(), 1..6),
    ) {
        let (_, src) = mutated(&shipped("datasets/examples", "dl"), pick, &edits);
        check_program(&src);
    }

    #[test]
    fn arbitrary_queries_are_answered_or_refused_with_a_place(
        picks in prop::collection::vec(any::<usize>(), 0..12)
    ) {
        let q: String = picks.iter().map(|&p| FRAGMENTS[p % FRAGMENTS.len()]).collect();
        check_query(&q);
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_task_loader(
        bytes in prop::collection::vec(any::<u8>(), 0..200)
    ) {
        check_task(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_benchmark_tasks_are_loaded_or_refused_with_a_place(
        pick in any::<usize>(),
        edits in prop::collection::vec(mutation(), 1..6),
    ) {
        let (_, text) = mutated(&shipped("experiments/tasks", "toml"), pick, &edits);
        check_task(&text);
    }
}

#[test]
fn every_shipped_file_loads_unmutated() {
    // The seeds must themselves be valid, or "mutations of valid inputs" means nothing.
    for (name, bytes) in shipped("datasets/examples", "dl") {
        let src = String::from_utf8(bytes).unwrap();
        run_source(&src, &name, None, None).unwrap_or_else(|e| panic!("{e}"));
    }
    for (name, bytes) in shipped("experiments/tasks", "toml") {
        let text = String::from_utf8(bytes).unwrap();
        parse_task(&text, &name).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn every_line_deletion_of_every_task_is_loaded_or_refused_with_a_place() {
    // Exhaustive where it is cheap: each shipped task with each one of its lines removed.
    for (_, bytes) in shipped("experiments/tasks", "toml") {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        for k in 0..lines {
            let mut b = bytes.clone();
            apply(&mut b, &Mutation::DeleteLine(k));
            check_task(&String::from_utf8_lossy(&b));
        }
    }
}

#[test]
fn a_language_of_hundreds_of_predicates_is_checked_without_listing_its_clauses() {
    // 300 invented binary predicates with v = 3: each template allows millions of clauses.
    // Loading only asks whether each allows one, so it stays fast; the commands that would list
    // them are the size model's business, not the loader's.
    let mut text = String::from("name = \"big\"\n[language]\nextensional = [\"e/2\"]\n");
    text += "target = \"target/2\"\ninvented = [";
    text += &(0..300)
        .map(|i| format!("\"p{i}/2\""))
        .collect::<Vec<_>>()
        .join(", ");
    text += "]\n[program]\nsteps = 3\n[program.rules]\ntarget = [{ v = 3, int = true }]\n";
    for i in 0..300 {
        text += &format!("p{i} = [{{ v = 3, int = true }}]\n");
    }
    text += "[[train]]\nbackground = \"e(a,b).\"\npositive = \"target(a,b).\"\n";
    let start = std::time::Instant::now();
    let task = parse_task(&text, "big.toml").unwrap();
    assert_eq!(task.language.intensional.len(), 301);
    // Listing the first template alone would take minutes in a debug build.
    let secs = start.elapsed().as_secs_f64();
    assert!(secs < 5.0, "loading took {secs:.1} s");
}
