//! ∂ILP against the paper's worked example, the Datalog engine, and small learning runs. The
//! learning runs use the native backend and need no LibTorch; the tensor-path tests do.

#[cfg(feature = "torch")]
use dilp::datalog::{evaluate, Strategy};
#[cfg(feature = "torch")]
use dilp::dilp::compile::CompiledTask;
#[cfg(feature = "torch")]
use dilp::dilp::infer::{clause_values, infer, InferOptions};
#[cfg(feature = "torch")]
use dilp::dilp::reference::reference_infer;
use dilp::dilp::{learn, Device, LearnConfig};
#[cfg(feature = "torch")]
use dilp::dilp::{RuleWeights, TemplateGrid};
#[cfg(feature = "torch")]
use dilp::ilp::GroundIndex;
use dilp::ilp::{parse_task, Task};
#[cfg(feature = "torch")]
use dilp::logic::{GroundAtom, Parser, Program, Vocabulary};
#[cfg(feature = "torch")]
use dilp::rng::Rng;
#[cfg(feature = "torch")]
use tch::{Kind, Tensor};

const EVEN: &str = r#"
name = "even"
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
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5). succ(5,6)."
positive = "target(0). target(2). target(4). target(6)."
negative = "target(1). target(3). target(5)."
[[validation]]
steps = 10
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5). succ(5,6). succ(6,7). succ(7,8). succ(8,9). succ(9,10)."
positive = "target(0). target(2). target(4). target(6). target(8). target(10)."
"#;

const PREDECESSOR: &str = r#"
name = "predecessor"
[language]
extensional = ["zero/1", "succ/2"]
target = "target/2"
[program]
steps = 2
[program.rules]
target = [{ v = 0, int = false }]
[[train]]
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5)."
positive = "target(1,0). target(2,1). target(3,2). target(4,3). target(5,4)."
[[validation]]
background = "zero(0). succ(0,1). succ(1,2). succ(2,3). succ(3,4). succ(4,5). succ(5,6). succ(6,7). succ(7,8)."
positive = "target(1,0). target(2,1). target(3,2). target(4,3). target(5,4). target(6,5). target(7,6). target(8,7)."
"#;

const UNDIRECTED: &str = r#"
name = "undirected_edge"
[language]
extensional = ["edge/2"]
target = "target/2"
[program]
steps = 1
[program.rules]
target = [{ v = 0, int = false }, { v = 0, int = false }]
[[train]]
background = "edge(a,b). edge(b,d). edge(c,c)."
positive = "target(a,b). target(b,a). target(b,d). target(d,b). target(c,c)."
[[train]]
background = "edge(a,b). edge(c,d)."
positive = "target(a,b). target(b,a). target(c,d). target(d,c)."
[[validation]]
background = "edge(e,f). edge(f,g). edge(h,h). edge(g,e)."
positive = "target(e,f). target(f,e). target(f,g). target(g,f). target(h,h). target(g,e). target(e,g)."
"#;

fn tasks_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/tasks")
}

/// One of the 20 benchmark task files, by name.
fn benchmark_task(name: &str) -> Task {
    dilp::ilp::load_task(&tasks_dir().join(format!("{name}.toml"))).unwrap()
}

#[cfg(feature = "torch")]
fn floats(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.to_kind(Kind::Double).reshape([-1])).unwrap()
}

#[cfg(feature = "torch")]
#[test]
fn paper_worked_example_4_5() {
    let mut vocab = Vocabulary::new();
    let (mut facts, mut rules) = (vec![], vec![]);
    Parser::new(&mut vocab, "example")
        .parse_into(
            "p(a,a). q(a,b). r(a,a). r(X,Y) :- p(X,Z), q(Z,Y).",
            &mut facts,
            &mut rules,
        )
        .unwrap();
    let preds: Vec<_> = ["p", "q", "r"]
        .iter()
        .map(|n| vocab.find_pred(n).unwrap())
        .collect();
    let consts: Vec<_> = ["a", "b"]
        .iter()
        .map(|c| vocab.find_const(c).unwrap())
        .collect();
    let index = GroundIndex::new(&vocab, &preds, &consts);
    let t = TemplateGrid::new(&rules, &index, Device::Cpu)
        .unwrap()
        .unwrap();
    let mut a = vec![0f32; index.len()];
    let mut set = |p: &str, x: &str, y: &str, v: f32| {
        let atom = GroundAtom::new(
            vocab.find_pred(p).unwrap(),
            vec![vocab.find_const(x).unwrap(), vocab.find_const(y).unwrap()],
        );
        a[index.index_of(&atom).unwrap().index()] = v;
    };
    set("p", "a", "a", 1.0);
    set("p", "a", "b", 0.9);
    set("q", "a", "a", 0.1);
    set("q", "b", "a", 0.2);
    set("q", "b", "b", 0.8);
    let f = floats(
        &clause_values(
            &t,
            &Tensor::from_slice(&a).unsqueeze(0),
            dilp::dilp::TNorm::Product,
        )
        .unwrap(),
    );
    // Head atoms r(a,a), r(a,b), r(b,a), r(b,b) in index order.
    let want = [0.18, 0.72, 0.0, 0.0];
    for (got, want) in f.iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{f:?}");
    }
}

/// With one-hot weights the T-step valuation is the engine's least model of the chosen program.
#[cfg(feature = "torch")]
#[test]
fn one_hot_inference_equals_the_engine() {
    for text in [EVEN, PREDECESSOR, UNDIRECTED] {
        let task: Task = parse_task(text, "inline.toml").unwrap();
        let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
        let shapes = compiled.weight_shapes();
        let mut rng = Rng::new(7);
        for _trial in 0..12 {
            let choice: Vec<(usize, usize)> = shapes
                .iter()
                .map(|&(a, b)| (rng.below(a), rng.below(b)))
                .collect();
            let w = RuleWeights::one_hot(&shapes, &choice, Device::Cpu);
            let mut rules = vec![];
            for (cs, &(j, k)) in compiled.clause_sets.iter().zip(&choice) {
                rules.push(cs.templates[0][j].clone());
                if let Some(c) = cs.templates[1].get(k) {
                    rules.push(c.clone());
                }
            }
            for (world, cw) in task.train.iter().zip(&compiled.train) {
                let program = Program {
                    vocab: task.vocab.clone(),
                    facts: world.background.clone(),
                    rules: rules.clone(),
                };
                let model = evaluate(&program, Strategy::SemiNaive);
                // 16 steps reach the fixpoint of these small worlds (longest chain: 11 atoms).
                let a = floats(
                    &infer(
                        cw,
                        &cw.init,
                        &w.probs().unwrap(),
                        16,
                        &InferOptions::default(),
                    )
                    .unwrap(),
                );
                for (id, &value) in a.iter().enumerate().skip(1) {
                    let atom = cw.index.atom(dilp::logic::AtomId(id as u32)).unwrap();
                    let want = model.contains(&atom);
                    assert!(
                        (value - f64::from(u8::from(want))).abs() < 1e-5,
                        "{}: {} is {} in ∂ILP, {} in the engine",
                        task.name,
                        atom.display(&task.vocab),
                        value,
                        want
                    );
                }
            }
        }
    }
}

#[cfg(feature = "torch")]
#[test]
fn gradients_reach_every_weight() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
    let w = RuleWeights::init(&compiled.weight_shapes(), 3, 1, 1.0, Device::Cpu).unwrap();
    let world = &compiled.train[0];
    let a = infer(
        world,
        &world.init,
        &w.probs().unwrap(),
        world.steps,
        &InferOptions::default(),
    )
    .unwrap();
    let p = a
        .index_select(1, &world.example_ids)
        .clamp(1e-6, 1.0 - 1e-6);
    let loss = (p - &world.labels).square().sum(Kind::Float);
    loss.backward();
    for t in &w.tensors {
        let g = t.grad();
        assert!(g.defined());
        let nonzero =
            f64::try_from(g.abs().gt(0.0).to_kind(Kind::Double).mean(Kind::Double)).unwrap();
        assert!(
            nonzero > 0.5,
            "only {nonzero} of the weights got a gradient"
        );
    }
}

fn quick(seeds: usize) -> LearnConfig {
    LearnConfig {
        steps: 300,
        seeds,
        ..Default::default()
    }
}

#[test]
fn learns_predecessor_and_undirected_edge() {
    for text in [PREDECESSOR, UNDIRECTED] {
        let task = parse_task(text, "inline.toml").unwrap();
        let r = learn(&task, &quick(4), Device::Cpu, &mut ()).unwrap();
        assert!(r.solved, "{}: {r:?}", task.name);
        assert!(r.engine_check);
        assert!(r.validation_mse < 1e-4);
    }
}

/// Connectedness with 2 of its 16 training labels flipped: under BCE the flipped examples
/// dominate and every seed settles on a wrong program; the MAE loss finds the fewest-errors
/// program (the transitive closure, 2 training errors), and crisp selection reports it.
#[test]
fn mae_loss_learns_through_flipped_labels() {
    let clean = benchmark_task("connectedness");
    let task = clean.with_flipped_labels(0.1, 0);
    let cfg = LearnConfig {
        seeds: 8,
        loss: dilp::dilp::Loss::Mae,
        ..Default::default()
    };
    let r = learn(&task, &cfg, Device::Cpu, &mut ()).unwrap();
    let best = r.seeds.iter().find(|s| s.seed == r.best_seed).unwrap();
    let crisp = best
        .crisp
        .as_ref()
        .expect("crisp selection checks every seed");
    assert_eq!(crisp.train_errors, 2, "{}", crisp.program);
    assert_eq!(crisp.validation_mse, 0.0, "{}", crisp.program);
    // The paper's model (its loss, no restarts) on the same seeds does worse. (With the default
    // restarts BCE reaches the fewest-errors program here too: experiments/RESULTS.md, Table 4
    // with the default.)
    let bce = learn(
        &task,
        &LearnConfig {
            loss: dilp::dilp::Loss::Bce,
            restart_window: 0,
            ..cfg
        },
        Device::Cpu,
        &mut (),
    )
    .unwrap();
    let bce_best = bce.seeds.iter().find(|s| s.seed == bce.best_seed).unwrap();
    let bce_crisp = bce_best.crisp.as_ref().unwrap();
    assert!(bce_crisp.train_errors > 2, "{}", bce_crisp.program);
}

/// MAE spreads weight over clauses the training data cannot judge, so the threshold read-out
/// carries extra clauses; crisp selection prunes them while the training errors hold, and
/// reports a program of one clause per template that generalises.
#[test]
fn crisp_selection_prunes_clauses_the_training_data_does_not_need() {
    let clean = benchmark_task("connectedness");
    let task = clean.with_flipped_labels(0.1, 3);
    let cfg = LearnConfig {
        seeds: 8,
        seed: 3,
        loss: dilp::dilp::Loss::Mae,
        ..Default::default()
    };
    let r = learn(&task, &cfg, Device::Cpu, &mut ()).unwrap();
    let best = r.seeds.iter().find(|s| s.seed == r.best_seed).unwrap();
    let crisp = best.crisp.as_ref().unwrap();
    assert_eq!(
        (crisp.train_errors, crisp.clauses),
        (2, 2),
        "{}",
        crisp.program
    );
    assert_eq!(crisp.validation_mse, 0.0, "{}", crisp.program);
    assert_eq!(r.program, crisp.program);
    // Some seed's threshold read-out was longer than what it was pruned to.
    assert!(
        r.seeds
            .iter()
            .any(|s| s.crisp.as_ref().unwrap().read_out == dilp::dilp::select::ReadOutKind::Pruned),
        "no seed needed pruning"
    );
}

/// Buzz's training numbers (0 to 9, positives 0 and 5) fit "X is 5 more than 0" as well as
/// "X is 5 more than a buzz number": the run names the tied programs rather than hide them,
/// and they do disagree beyond the training world.
#[test]
fn ties_the_training_data_cannot_break_are_reported() {
    let task = benchmark_task("buzz");
    let r = learn(
        &task,
        &LearnConfig {
            seeds: 8,
            ..Default::default()
        },
        Device::Cpu,
        &mut (),
    )
    .unwrap();
    assert!(!r.ties.is_empty(), "{}", r.program);
    assert!(!r.ties.contains(&r.program));
    let best = r.seeds.iter().find(|s| s.seed == r.best_seed).unwrap();
    let key = best.crisp.as_ref().map(|c| (c.train_errors, c.clauses));
    let tied: Vec<f64> = r
        .seeds
        .iter()
        .filter_map(|s| s.crisp.as_ref())
        .filter(|c| Some((c.train_errors, c.clauses)) == key)
        .map(|c| c.validation_mse)
        .collect();
    assert!(tied.contains(&0.0), "{tied:?}");
    assert!(tied.iter().any(|&m| m > 0.0), "{tied:?}");
}

/// `dilp bench noise --draws 2`: each draw flips its own labels, and the row is their mean.
#[test]
fn noise_bench_averages_its_flip_draws() {
    let dir = tasks_dir();
    let out = std::env::temp_dir().join(format!("dilp-noise-{}", std::process::id()));
    let cfg = LearnConfig {
        seeds: 4,
        steps: 300,
        ..Default::default()
    };
    let (rows, table) = dilp::experiment::noise::run(
        &dir,
        Some("connectedness"),
        &[0.25],
        2,
        &cfg,
        Device::Cpu,
        dilp::experiment::parts::Output::fresh(&out),
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!((row.draws, row.per_draw.len(), row.flipped), (2, 2, 4));
    let mean = (row.per_draw[0].dilp_mae_mse + row.per_draw[1].dilp_mae_mse) / 2.0;
    assert!((row.mean.dilp_mae_mse - mean).abs() < 1e-12);
    assert!(table.starts_with("means over 2 flip draws"), "{table}");
    let csv = std::fs::read_to_string(out.join("table4.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(header[3], "draws");
    assert_eq!(csv.lines().nth(1).unwrap().split(',').nth(3), Some("2"));
    assert!(out.join("noise_connectedness.png").exists());
    // Merging a run with itself keeps one row per task and ρ; a file that is no table names
    // itself in the error.
    let json = out.join("table4.json");
    let merged = out.join("merged");
    let (m, _) = dilp::experiment::noise::merge(&[json.clone(), json.clone()], &merged).unwrap();
    assert_eq!((m.len(), m[0].per_draw.len()), (1, 2));
    assert!(merged.join("table4.csv").exists());
    let bad = out.join("table4.csv");
    let err = dilp::experiment::noise::merge(std::slice::from_ref(&bad), &merged).unwrap_err();
    assert!(err.to_string().contains(&*bad.to_string_lossy()), "{err}");
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn same_seed_same_program_and_loss() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let cfg = LearnConfig {
        steps: 60,
        seeds: 2,
        early_stop: dilp::dilp::learn::EarlyStop::Off,
        ..Default::default()
    };
    let a = learn(&task, &cfg, Device::Cpu, &mut ()).unwrap();
    let b = learn(&task, &cfg, Device::Cpu, &mut ()).unwrap();
    assert_eq!(a.program, b.program);
    assert_eq!(a.train_loss, b.train_loss);
    let other = learn(
        &task,
        &LearnConfig {
            seed: 9,
            ..cfg.clone()
        },
        Device::Cpu,
        &mut (),
    )
    .unwrap();
    assert_ne!(a.train_loss, other.train_loss);
}

/// The fast grid path equals the paper's equations, computed literally, on random weights.
#[cfg(feature = "torch")]
#[test]
fn fast_path_equals_reference_on_random_weights() {
    for name in [
        "even_succ2",
        "less_than",
        "connectedness",
        "cyclic",
        "adjacent_to_red",
    ] {
        let task = benchmark_task(name);
        let compiled = CompiledTask::new(&task, Device::Cpu).unwrap();
        let w = RuleWeights::init(&compiled.weight_shapes(), 3, 11, 1.0, Device::Cpu).unwrap();
        let probs = w.probs().unwrap();
        let world = &compiled.train[0];
        let steps = world.steps.min(4);
        let fast = infer(
            world,
            &world.init,
            &probs,
            steps,
            &InferOptions {
                pair_chunk: 1000,
                ..Default::default()
            },
        )
        .unwrap();
        let slow = reference_infer(&compiled, 0, &probs, steps);
        let diff = f64::try_from((fast - slow).abs().max()).unwrap();
        assert!(diff < 1e-6, "{name}: max difference {diff}");
    }
}

#[test]
fn a_template_too_big_for_memory_is_refused_with_the_estimate() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let cfg = LearnConfig {
        steps: 1,
        seeds: 64,
        memory_limit_mib: Some(0.01),
        ..Default::default()
    };
    let err = learn(&task, &cfg, Device::Cpu, &mut ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("even") && err.contains("MiB") && err.contains("64 seeds"),
        "{err}"
    );
}

#[cfg(not(feature = "torch"))]
#[test]
fn without_libtorch_the_torch_backend_is_refused_clearly() {
    let task = parse_task(EVEN, "even.toml").unwrap();
    let cfg = LearnConfig {
        steps: 1,
        backend: dilp::dilp::Backend::Torch,
        ..Default::default()
    };
    let err = learn(&task, &cfg, Device::Cpu, &mut ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("LibTorch"), "{err}");
}
