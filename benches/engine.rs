//! Datalog engine benchmark: transitive closure of a 1,000-node chain and of a seeded random
//! graph (2,000 nodes, 6,000 distinct edges), by naive and semi-naive evaluation, by a magic-sets
//! point query `path(n0,X)`, and by `datafrog` on the same edges.
//!
//! `cargo bench --no-default-features --bench engine`. Each measurement runs in a child process
//! (this binary re-invoked with `--child CASE`), so that the peak resident memory read from
//! `/proc/self/status` (VmHWM) belongs to that measurement alone.

use dilp::datalog::{evaluate_with_stats, query, Engine, Strategy};
use dilp::logic::{Atom, Clause, ConstId, GroundAtom, PredId, Program, Term, VarId};
use dilp::rng::Rng;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A child that runs longer than this is killed and reported as capped.
const CAP: Duration = Duration::from_secs(120);

const GRAPHS: [&str; 2] = ["chain", "random"];
const METHODS: [&str; 7] = [
    "naive",
    "semi-naive",
    "semi-naive/right",
    "magic",
    "magic/right",
    "datafrog",
    "datafrog/point",
];

fn chain() -> Vec<(u32, u32)> {
    (0..999).map(|i| (i, i + 1)).collect()
}

fn random_graph() -> Vec<(u32, u32)> {
    let mut rng = Rng::new(2024);
    let mut edges = BTreeSet::new();
    while edges.len() < 6000 {
        let (a, b) = (rng.below(2000) as u32, rng.below(2000) as u32);
        if a != b {
            edges.insert((a, b));
        }
    }
    edges.into_iter().collect()
}

fn edges_of(graph: &str) -> Vec<(u32, u32)> {
    match graph {
        "chain" => chain(),
        _ => random_graph(),
    }
}

/// `path(X,Y) :- edge(X,Y).` plus the left-linear `path(X,Y) :- path(X,Z), edge(Z,Y).` or,
/// with `right`, `path(X,Y) :- edge(X,Z), path(Z,Y).`; constant `n<i>` has id `i`.
fn tc_program(edges: &[(u32, u32)], right: bool) -> Program {
    let mut p = Program::default();
    let nodes = edges.iter().map(|&(a, b)| a.max(b) + 1).max().unwrap_or(0);
    for i in 0..nodes {
        p.vocab.intern_const(&format!("n{i}"));
    }
    let (edge, path) = match (
        p.vocab.intern_pred("edge", 2),
        p.vocab.intern_pred("path", 2),
    ) {
        (Ok(e), Ok(q)) => (e, q),
        _ => unreachable!("fresh vocabulary"),
    };
    p.facts = edges
        .iter()
        .map(|&(a, b)| GroundAtom::new(edge, vec![ConstId(a), ConstId(b)]))
        .collect();
    let atom = |pred: PredId, a: u32, b: u32| Atom {
        pred,
        args: vec![Term::Var(VarId(a)), Term::Var(VarId(b))],
    };
    let names: Vec<String> = ["X", "Y", "Z"].iter().map(|s| s.to_string()).collect();
    let recursive = if right {
        vec![atom(edge, 0, 2), atom(path, 2, 1)]
    } else {
        vec![atom(path, 0, 2), atom(edge, 2, 1)]
    };
    p.rules = vec![
        Clause {
            head: atom(path, 0, 1),
            body: vec![atom(edge, 0, 1)],
            var_names: names.clone(),
        },
        Clause {
            head: atom(path, 0, 1),
            body: recursive,
            var_names: names,
        },
    ];
    p
}

/// Left-linear transitive closure in datafrog, optionally only from node 0; (rounds, paths).
fn datafrog_tc(edges: &[(u32, u32)], point: bool) -> (usize, usize) {
    let mut iteration = datafrog::Iteration::new();
    let edge_rel: datafrog::Relation<(u32, u32)> = edges.iter().copied().collect();
    // path(X,Z) stored as (Z, X), keyed by the join column.
    let path_by_end = iteration.variable::<(u32, u32)>("path");
    path_by_end.extend(
        edges
            .iter()
            .filter(|&&(a, _)| !point || a == 0)
            .map(|&(a, b)| (b, a)),
    );
    let mut rounds = 0;
    while iteration.changed() {
        rounds += 1;
        path_by_end.from_join(&path_by_end, &edge_rel, |_z, &x, &y| (y, x));
    }
    (rounds, path_by_end.complete().len())
}

/// CPU time this process has run, in seconds (wall time overstates it on a busy machine).
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs one measurement and prints it as `key=value` pairs for the parent.
fn child(graph: &str, method: &str) {
    let edges = edges_of(graph);
    let right = method.ends_with("/right");
    let program = tc_program(&edges, right);
    let base = vm_hwm_kib().unwrap_or(0);
    let cpu0 = cpu_secs().unwrap_or(0.0);
    let start = Instant::now();
    let (rounds, facts, answers, derived) = match method {
        "naive" | "semi-naive" | "semi-naive/right" => {
            let strategy = if method == "naive" {
                Strategy::Naive
            } else {
                Strategy::SemiNaive
            };
            let (m, s) = evaluate_with_stats(&program, strategy);
            (s.rounds, s.facts, m.count_of(PredId(1)), s.derived)
        }
        "magic" | "magic/right" => {
            let q = Atom {
                pred: PredId(1),
                args: vec![Term::Const(ConstId(0)), Term::Var(VarId(0))],
            };
            let (ans, s) = query(&program, &q, Engine::Magic);
            (s.rounds, s.facts, ans.len(), s.derived)
        }
        _ => {
            let (rounds, paths) = datafrog_tc(&edges, method == "datafrog/point");
            (rounds, paths + edges.len(), paths, 0)
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs().map_or(0.0, |c| c - cpu0);
    let hwm = vm_hwm_kib().unwrap_or(0);
    println!("RESULT secs={secs} cpu={cpu} rounds={rounds} facts={facts} answers={answers} derived={derived} hwm={hwm} base={base}");
}

struct Row {
    graph: &'static str,
    method: &'static str,
    fields: Option<Vec<(String, f64)>>,
    note: String,
}

fn measure(graph: &'static str, method: &'static str) -> Row {
    let mut row = Row {
        graph,
        method,
        fields: None,
        note: String::new(),
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            row.note = format!("cannot re-invoke the bench: {e}");
            return row;
        }
    };
    let spawned = Command::new(exe)
        .args(["--child", graph, method])
        .stdout(Stdio::piped())
        .spawn();
    let mut proc = match spawned {
        Ok(p) => p,
        Err(e) => {
            row.note = format!("spawn failed: {e}");
            return row;
        }
    };
    let start = Instant::now();
    loop {
        match proc.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > CAP => {
                let _ = proc.kill();
                let _ = proc.wait();
                row.note = format!("capped: stopped after {} s", CAP.as_secs());
                return row;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                row.note = format!("wait failed: {e}");
                return row;
            }
        }
    }
    let out = proc
        .wait_with_output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let fields = out
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .filter_map(|(k, v)| Some((k.to_string(), v.parse::<f64>().ok()?)))
                .collect()
        });
    if fields.is_none() {
        row.note = "child failed".into();
    }
    row.fields = fields;
    row
}

fn get(fields: &[(String, f64)], key: &str) -> f64 {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map_or(0.0, |(_, v)| *v)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        if let (Some(g), Some(m)) = (args.get(i + 1), args.get(i + 2)) {
            child(g, m);
        }
        return;
    }
    println!(
        "transitive closure; left-linear rule path(X,Y) :- path(X,Z), edge(Z,Y) unless `/right`"
    );
    println!("(right-linear: path(X,Y) :- edge(X,Z), path(Z,Y)); magic and datafrog/point answer path(n0,X).");
    println!("facts = facts in the evaluated model (magic: the rewritten one; datafrog: paths + edges); answers = path facts;");
    println!("derived = rule firings, re-derivations included (datafrog: not counted).");
    println!("time = wall clock, cpu = CPU time of the child (/proc/self/schedstat); facts/s uses wall time.");
    println!("peak = VmHWM of the measuring child process; +inputs = peak minus VmHWM once the inputs were built.");
    println!(
        "runs longer than {} s are stopped and marked capped.\n",
        CAP.as_secs()
    );
    println!(
        "| {:<6} | {:<16} | {:>9} | {:>8} | {:>6} | {:>9} | {:>8} | {:>10} | {:>11} | {:>9} | {:>9} |",
        "graph",
        "method",
        "time (s)",
        "cpu (s)",
        "rounds",
        "facts",
        "answers",
        "derived",
        "facts/s",
        "peak MiB",
        "+inputs"
    );
    let widths = [6, 16, 9, 8, 6, 9, 8, 10, 11, 9, 9];
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w + 2)).collect();
    println!("|{}|", rule.join("|"));
    let mut rows = Vec::new();
    for graph in GRAPHS {
        for method in METHODS {
            let row = measure(graph, method);
            match &row.fields {
                Some(f) => {
                    let secs = get(f, "secs");
                    let mib = |k| get(f, k) / 1024.0;
                    println!(
                        "| {:<6} | {:<16} | {:>9.3} | {:>8.3} | {:>6} | {:>9} | {:>8} | {:>10} | {:>11.0} | {:>9.1} | {:>9.1} |",
                        graph,
                        method,
                        secs,
                        get(f, "cpu"),
                        get(f, "rounds"),
                        get(f, "facts"),
                        get(f, "answers"),
                        get(f, "derived"),
                        get(f, "facts") / secs.max(1e-9),
                        mib("hwm"),
                        mib("hwm") - mib("base"),
                    );
                }
                None => println!("| {:<6} | {:<16} | {} |", graph, method, row.note),
            }
            rows.push(row);
        }
    }
    let time = |g: &str, m: &str| {
        rows.iter()
            .find(|r| r.graph == g && r.method == m)
            .and_then(|r| r.fields.as_ref())
            .map(|f| get(f, "secs"))
    };
    if let (Some(n), Some(s)) = (time("chain", "naive"), time("chain", "semi-naive")) {
        println!(
            "\nchain: semi-naive is {:.0}x faster than naive",
            n / s.max(1e-9)
        );
    }
}
