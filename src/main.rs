//! The `dilp` binary: parses the command line ([`cli::args`]), resolves it into the library's
//! configs ([`cli::resolve`]), calls the library and prints. Errors surface here, once, as a
//! message and a non-zero exit code.

mod cli;

use anyhow::Result;
use clap::Parser;
use cli::args::{RunArgs, SynthArgs};
use cli::{Cli, Command};
use std::io::Write as _;
use std::path::Path;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // Our errors carry their cause in the message already, so print the outer one only.
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| dilp::Error::io(path, e).into())
}

fn run(cli: Cli) -> Result<()> {
    #[cfg(feature = "torch")]
    if let Some(n) = cli.threads {
        tch::set_num_threads(n as i32);
    }
    #[cfg(not(feature = "torch"))]
    let _ = cli.threads;
    let budget = cli.max_memory.unwrap_or_default();
    match cli.command {
        Command::Run(a) => run_datalog(a)?,
        Command::Clauses { task } => {
            let task = dilp::neuro::taskfile::load_any_task(&task)?;
            print!("{}", dilp::ilp::describe_clauses_within(&task, budget)?);
        }
        Command::Synth(a) => synth(a, budget)?,
        Command::Learn(a) => dilp::experiment::learn_cmd::run(&cli::resolve::learn(a, budget))?,
        Command::Bench { which } => bench(which, budget)?,
        #[cfg(feature = "torch")]
        Command::Mnist { which } => mnist::run(which, budget)?,
    }
    Ok(())
}

fn run_datalog(a: RunArgs) -> Result<()> {
    let src = read(&a.file)?;
    let out = dilp::datalog::run_source(
        &src,
        &a.file.display().to_string(),
        a.query.as_deref(),
        a.engine.map(Into::into),
    )?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    stdout.write_all(out.text.as_bytes())?;
    stdout.flush()?;
    if a.stats {
        let s = &out.stats;
        eprintln!(
            "rounds {}  facts {}  derived {}  time {:.3} ms",
            s.rounds,
            s.facts,
            s.derived,
            s.elapsed.as_secs_f64() * 1e3
        );
    }
    Ok(())
}

fn synth(a: SynthArgs, budget: dilp::ilp::MemoryBudget) -> Result<()> {
    let task = dilp::neuro::taskfile::load_any_task(&a.task)?;
    let cfg = dilp::sat::SynthConfig {
        max_errors: a.max_errors,
        all: a.all,
        max_memory: Some(budget),
        ..Default::default()
    };
    let report = dilp::sat::synthesise(&task, &cfg)?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", dilp::sat::render_text(&report));
    }
    Ok(())
}

fn bench(which: cli::BenchCommand, budget: dilp::ilp::MemoryBudget) -> Result<()> {
    use cli::resolve::{self, results};
    use dilp::experiment::{memory_bench, noise, speed, tasks};
    let table = match which {
        cli::BenchCommand::Tasks(a) => {
            let out = a.out.clone().unwrap_or_else(|| results("table3"));
            let cfg = resolve::bench_tasks(&a, budget);
            tasks::run(
                &a.tasks.dir,
                a.tasks.only().as_deref(),
                &cfg,
                a.device,
                dilp::experiment::parts::Output {
                    dir: &out,
                    resume: a.resume,
                },
            )?
            .1
        }
        cli::BenchCommand::Noise(a) => {
            let out = a.out.clone().unwrap_or_else(|| results("table4"));
            match &a.from {
                Some(files) => noise::merge(files, &out)?.1,
                None => {
                    let (cfg, rhos) = (resolve::bench_noise(&a, budget), resolve::noise_rhos(&a));
                    let only = a.tasks.only();
                    let (dir, only) = (&a.tasks.dir, only.as_deref());
                    let output = dilp::experiment::parts::Output {
                        dir: &out,
                        resume: a.resume,
                    };
                    noise::run(dir, only, &rhos, a.draws, &cfg, a.device, output)?.1
                }
            }
        }
        cli::BenchCommand::Speed(a) => {
            let out = a.out.clone().unwrap_or_else(|| results("speed"));
            let only = a.tasks.only();
            let (seeds, backend) = (&a.seeds, a.backend.into());
            speed::run(
                &a.tasks.dir,
                only.as_deref(),
                seeds,
                a.steps,
                a.device,
                backend,
                &out,
            )?
            .1
        }
        #[cfg(feature = "torch")]
        cli::BenchCommand::Predict(a) => mnist::predict_bench(&a)?,
        cli::BenchCommand::Memory(a) => {
            let text = memory_bench::task_text(a.constants);
            let task = dilp::ilp::parse_task(&text, "<memory benchmark task>")?;
            let r =
                dilp::dilp::learn(&task, &resolve::bench_memory(&a, budget), a.device, &mut ())?;
            format!(
                "uncle-like family task, {} constants, T = {}: {:.1} s for {} steps ({:.0} ms/step); peak RSS {:.0} MiB; \
                 our estimate {:.0} MiB; the paper's Appendix E formula {:.0} MiB ({:.1}x ours)\n",
                a.constants, task.steps, r.seconds, a.steps, r.ms_per_step, r.peak_rss_mib, r.estimated_memory_mib,
                r.paper_memory_mib, r.paper_memory_mib / r.peak_rss_mib.max(1.0)
            )
        }
    };
    print!("{table}");
    Ok(())
}

#[cfg(feature = "torch")]
mod mnist {
    //! `dilp mnist`: dispatch and the run summary.

    use crate::cli::mnist_args::{MnistCommand, MnistPredictArgs, MnistTrainArgs, TaskFlag};
    use crate::cli::resolve_mnist::{self, DATA_DIR, MODEL_DIR};
    use anyhow::Result;
    use dilp::experiment::{mnist, mnist_shard, mnist_sweep};
    use dilp::ilp::MemoryBudget;
    use dilp::neuro::{predict, taskfile, NeuroTask};
    use std::path::Path;

    /// The task `--task` names, parsed and proved solvable in its template before any training;
    /// the shipped less-than file without it.
    fn task(flag: &TaskFlag, budget: MemoryBudget) -> Result<NeuroTask> {
        let task = match &flag.file {
            Some(path) => {
                let t = taskfile::load_neuro_task(path)?;
                taskfile::check_solvable_within(&t, budget)?;
                t
            }
            None => taskfile::less_than()?,
        };
        Ok(task)
    }

    pub fn run(which: MnistCommand, budget: MemoryBudget) -> Result<()> {
        let (data, models) = (Path::new(DATA_DIR), Path::new(MODEL_DIR));
        match which {
            MnistCommand::Pretrain { force, device } => {
                let ctx = mnist::prepare(data, models, device, force)?;
                let acc = ctx
                    .net_accuracy
                    .map_or("unknown".into(), |a| format!("{:.2}%", 100.0 * a));
                println!(
                    "conv-net ready in {}: MNIST test accuracy {acc}",
                    models.display()
                );
            }
            MnistCommand::Train(a) => train(&a, data, models, budget)?,
            MnistCommand::Sweep(a) => {
                let opts = resolve_mnist::sweep(&a)?;
                print!(
                    "{}",
                    mnist_sweep::sweep_task(&opts, task(&a.task, budget)?)?
                )
            }
            MnistCommand::Task { task: flag } => print!("{}", task(&flag, budget)?.symbolic_text),
            MnistCommand::Predict(a) => read_images(&a, models, budget)?,
            MnistCommand::Merge(a) => print!("{}", mnist_shard::merge(&a.shards, &a.out)?),
            MnistCommand::Plot { dir } => {
                mnist_sweep::plot_sweep(&dir)?;
                println!("redrew the plots in {}", dir.display());
            }
        }
        Ok(())
    }

    fn train(a: &MnistTrainArgs, data: &Path, models: &Path, budget: MemoryBudget) -> Result<()> {
        let cfg = resolve_mnist::run_config(a.config.as_deref(), &a.run)?;
        let task = task(&a.task, budget)?;
        let mut ctx = mnist::prepare(data, models, a.device, false)?;
        ctx.set_task(task);
        let out = a
            .out
            .clone()
            .unwrap_or_else(|| mnist::default_run_dir(&cfg));
        let r = mnist::run_one(&mut ctx, &cfg, &out)?;
        if a.json {
            println!("{}", serde_json::to_string(&r)?);
            return Ok(());
        }
        println!(
            "held-out proportion {}  seed {}  vision {:?}",
            r.held_out, r.seed, r.vision
        );
        println!(
            "∂ILP: seen pairs {:.4}  held-out pairs {:.4}  ({:.1} s, {} attempt(s), training loss {:.4})",
            r.dilp_seen_acc, r.dilp_heldout_acc, r.dilp_seconds, r.dilp_attempts, r.dilp_train_loss
        );
        println!(
            "MLP:  seen pairs {:.4}  held-out pairs {:.4}  ({:.1} s)",
            r.mlp_seen_acc, r.mlp_heldout_acc, r.mlp_seconds
        );
        if let (Some(d), Some(rev), Some(m)) =
            (r.digit_acc, r.digit_acc_reversed, r.digit_acc_matched)
        {
            println!(
                "conv-net digit accuracy after training: {d:.4} (under d -> 9-d: {rev:.4}; under the best one-to-one matching: {m:.4})"
            );
        }
        let tuples = if r.tuples == 10 {
            "digits"
        } else {
            "digit pairs"
        };
        println!(
            "program (correct on {}/{} {tuples} by the engine):\n{}",
            r.engine_pairs_correct, r.tuples, r.program
        );
        if r.program_candidates.len() > 1 {
            let scores: Vec<String> = (r.program_candidates.iter())
                .map(|c| {
                    let mark = if c.chosen { " (reported)" } else { "" };
                    format!("{} {}{mark}", c.read_out, c.training_errors)
                })
                .collect();
            println!(
                "read-outs' errors on the training pairs as the conv-net reads them: {}",
                scores.join(", ")
            );
        }
        if let (Some(s), Some(h)) = (r.program_seen_acc, r.program_heldout_acc) {
            println!(
                "the program on the conv-net's readings: seen pairs {s:.4}  held-out pairs {h:.4}"
            );
            if r.program_candidates.len() > 1 && r.dilp_seen_acc - s > 0.05 {
                println!(
                    "warning: the reported program is {:.1} points below ∂ILP's soft model on seen \
                     pairs: no read-out of the rule weights fits the training pairs the way the \
                     soft model does (see the read-outs' errors above), so the soft model's \
                     accuracy rests on fractional truth values, not on a program",
                    100.0 * (r.dilp_seen_acc - s)
                );
            }
        }
        println!(
            "picture of test items (green right, red wrong, orange corner held out): {}",
            out.join("pairs.png").display()
        );
        println!("wrote {}", out.display());
        Ok(())
    }

    /// `dilp bench predict`: the PNG files go to `--keep DIR`, else to a temporary folder
    /// removed afterwards.
    pub fn predict_bench(a: &crate::cli::bench_args::PredictBenchArgs) -> Result<String> {
        use dilp::experiment::predict_bench;
        let data = dilp::vision::Mnist::load(DATA_DIR)?;
        let vs = tch::nn::VarStore::new(a.device);
        let (net, meta) = dilp::vision::checkpoint::load(&vs.root(), Path::new(MODEL_DIR))?;
        let temp = std::env::temp_dir().join(format!("dilp-predict-bench-{}", std::process::id()));
        let dir = a.keep.clone().unwrap_or_else(|| temp.clone());
        std::fs::create_dir_all(&dir).map_err(|e| dilp::Error::io(&dir, e))?;
        let task = taskfile::less_than()?;
        let r = predict_bench::run(&net, &task, &data, a.images, &dir, a.device);
        if a.keep.is_none() {
            let _ = std::fs::remove_dir_all(&temp);
        }
        let r = r?;
        if a.json {
            return Ok(serde_json::to_string(&r)? + "\n");
        }
        let own = meta
            .test_accuracy
            .map_or("unknown".into(), |t| format!("{:.2}%", 100.0 * t));
        Ok(format!(
            "{}(the checkpoint's own MNIST test accuracy: {own})\n",
            predict_bench::render(&r)
        ))
    }

    /// `dilp mnist predict`.
    fn read_images(a: &MnistPredictArgs, models: &Path, budget: MemoryBudget) -> Result<()> {
        let task = task(&a.task, budget)?;
        let inputs = (a.images.iter())
            .map(|p| dilp::vision::preprocess::load_digit(p))
            .collect::<dilp::Result<Vec<_>>>()?;
        let names: Vec<String> = a.images.iter().map(|p| p.display().to_string()).collect();
        let r = match &a.run {
            Some(dir) => {
                let m = predict::load_run(dir, &task, models, a.device)?;
                predict::predict(&m.net, &m.rules, &task, &m.program, &inputs, &names)?
            }
            None => {
                let vs = tch::nn::VarStore::new(a.device);
                let (net, _) = dilp::vision::checkpoint::load(&vs.root(), models)?;
                let (images, _) = predict::read_digits(&net, &task, &inputs, &names, a.device)?;
                let probs: Vec<Vec<f64>> = images.iter().map(|r| r.probs.clone()).collect();
                predict::Prediction {
                    p_target: predict::labelled_probability(&task, &probs),
                    images,
                    program: String::new(),
                    proof: vec![],
                }
            }
        };
        if a.json {
            println!("{}", serde_json::to_string(&r)?);
            return Ok(());
        }
        for img in &r.images {
            let best = img.probs.iter().cloned().fold(0.0, f64::max);
            println!("{}: digit {} (p = {best:.3})", img.path, img.digit);
            let row: Vec<String> = (img.probs.iter().enumerate())
                .map(|(k, p)| format!("{}:{p:.3}", task.digits[k]))
                .collect();
            println!("  {}", row.join(" "));
        }
        match (r.p_target, a.run.is_some()) {
            (Some(p), true) => {
                println!("P(target) = {p:.4} under the learned program:\n{}", r.program);
                if r.proof.is_empty() {
                    println!("the target is not derived from the digits read");
                } else {
                    println!("proof (ground rule instances, in the order they fire):");
                    r.proof.iter().for_each(|step| println!("  {step}"));
                }
            }
            (Some(p), false) => println!(
                "P(target) = {p:.4} under the task's labelling program (give --run DIR for a learned one)"
            ),
            (None, _) => println!(
                "no P(target): the task `{}` reads {} image(s), {} given",
                task.name(),
                task.arity(),
                r.images.len()
            ),
        }
        Ok(())
    }
}
