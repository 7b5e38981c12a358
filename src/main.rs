//! The `dilp` binary: parses the command line and calls the library. Errors surface here, once,
//! as a message and a non-zero exit code.

mod cli;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command};
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
    match cli.command {
        Command::Run {
            file,
            query,
            engine,
            stats,
        } => {
            let src = read(&file)?;
            let engine = engine
                .map(|e| e.parse::<dilp::datalog::Engine>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let out = dilp::datalog::run_source(
                &src,
                &file.display().to_string(),
                query.as_deref(),
                engine,
            )?;
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            use std::io::Write;
            stdout.write_all(out.text.as_bytes())?;
            stdout.flush()?;
            if stats {
                let s = &out.stats;
                eprintln!(
                    "rounds {}  facts {}  derived {}  time {:.3} ms",
                    s.rounds,
                    s.facts,
                    s.derived,
                    s.elapsed.as_secs_f64() * 1e3
                );
            }
        }
        Command::Clauses { task } => {
            let task = dilp::ilp::load_task(&task)?;
            print!("{}", dilp::ilp::describe_clauses(&task));
        }
        Command::Synth {
            task,
            max_errors,
            all,
            json,
        } => {
            let task = dilp::ilp::load_task(&task)?;
            let cfg = dilp::sat::SynthConfig {
                max_errors,
                all,
                ..Default::default()
            };
            let report = dilp::sat::synthesise(&task, &cfg)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", dilp::sat::render_text(&report));
            }
        }
        Command::Learn(args) => dilp::experiment::learn_cmd::run(&args.into_options()?)?,
        #[cfg(feature = "torch")]
        Command::Bench { which } => bench(which)?,
        #[cfg(feature = "torch")]
        Command::Mnist { which } => mnist(which)?,
    }
    Ok(())
}

#[cfg(feature = "torch")]
fn mnist(which: cli::MnistCommand) -> Result<()> {
    use dilp::experiment::{mnist, mnist_sweep};
    use std::path::PathBuf;
    let data = PathBuf::from("datasets/mnist");
    let models = PathBuf::from("models");
    let device = |d: &str| dilp::dilp::parse_device(d).map_err(anyhow::Error::msg);
    match which {
        cli::MnistCommand::Pretrain { force, device: d } => {
            let ctx = mnist::prepare(&data, &models, device(&d)?, force)?;
            println!(
                "conv-net ready in {}: MNIST test accuracy {}",
                models.display(),
                ctx.net_accuracy
                    .map_or("unknown".into(), |a| format!("{:.2}%", 100.0 * a))
            );
        }
        cli::MnistCommand::Train(a) => {
            let cfg = a.to_config()?;
            let mut ctx = mnist::prepare(&data, &models, device(&a.device)?, false)?;
            let out = a
                .out
                .clone()
                .unwrap_or_else(|| mnist::default_run_dir(&cfg));
            let r = mnist::run_one(&mut ctx, &cfg, &out)?;
            if a.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
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
                println!(
                    "program (correct on {}/100 digit pairs by the engine):\n{}",
                    r.engine_pairs_correct, r.program
                );
                println!("wrote {}", out.display());
            }
        }
        cli::MnistCommand::Sweep(a) => {
            let held_out = a
                .held_out
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .map_err(|_| anyhow::anyhow!("--held-out: `{s}` is not a number"))
                })
                .collect::<Result<Vec<_>>>()?;
            anyhow::ensure!(
                held_out.iter().all(|h| (0.0..1.0).contains(h)),
                "--held-out values must be in [0, 1)"
            );
            anyhow::ensure!(a.runs > 0, "--runs must be at least 1");
            let train = cli::MnistTrainArgs {
                config: None,
                held_out: Some(0.0),
                seed: Some(0),
                vision: Some(a.vision.clone()),
                pairs: a.pairs,
                steps: a.steps,
                rule_lr: None,
                semantics: None,
                symbolic_warmup: None,
                vision_lr: None,
                cluster_weight: None,
                balance_weight: None,
                restarts: None,
                device: a.device.clone(),
                json: false,
                out: None,
            };
            let opts = mnist_sweep::SweepOptions {
                held_out,
                runs: a.runs,
                base: train.to_config()?,
                device: device(&a.device)?,
                out: a.out.clone(),
                data_dir: data,
                model_dir: models,
            };
            print!("{}", mnist_sweep::sweep(&opts)?);
        }
        cli::MnistCommand::Task => print!("{}", dilp::neuro::less_than::task_text()),
        cli::MnistCommand::Plot { dir } => {
            mnist_sweep::plot_sweep(&dir)?;
            println!("redrew the plots in {}", dir.display());
        }
    }
    Ok(())
}

#[cfg(feature = "torch")]
fn bench(which: cli::BenchCommand) -> Result<()> {
    use dilp::dilp::LearnConfig;
    use dilp::experiment::{noise, paper, speed, tasks};
    use std::path::PathBuf;
    let device = |d: &str| dilp::dilp::parse_device(d).map_err(anyhow::Error::msg);
    let results = PathBuf::from("experiments/results");
    match which {
        cli::BenchCommand::Tasks {
            seeds,
            steps,
            only,
            dir,
            device: d,
            out,
            early_stop,
            init_std,
            paper,
            select,
            loss,
        } => {
            anyhow::ensure!(seeds > 0, "--seeds must be at least 1");
            let defaults = learn_defaults(init_std)?;
            let select = match (select, paper) {
                (Some(sel), _) => sel.parse().map_err(anyhow::Error::msg)?,
                (None, true) => dilp::dilp::Selection::Loss,
                (None, false) => dilp::dilp::Selection::Crisp,
            };
            let cfg = LearnConfig {
                select,
                loss: match loss {
                    Some(l) => l.parse().map_err(anyhow::Error::msg)?,
                    None => dilp::dilp::Loss::Bce,
                },
                seeds,
                steps: steps.unwrap_or(6000),
                early_stop: early_stop.parse().map_err(anyhow::Error::msg)?,
                task_init_std: defaults.task_init_std && !paper,
                task_lr: !paper,
                task_batch_size: !paper,
                ..defaults
            };
            let (_, table) = tasks::run(
                &dir,
                only.as_deref(),
                &cfg,
                device(&d)?,
                &out.unwrap_or_else(|| results.join("table3")),
            )?;
            print!("{table}");
        }
        cli::BenchCommand::Noise {
            seeds,
            steps,
            only,
            dir,
            device: d,
            out,
            rho,
            draws,
            seed,
            from,
            init_std,
        } => {
            if let Some(files) = from {
                let files: Vec<PathBuf> =
                    files.split(',').map(|f| PathBuf::from(f.trim())).collect();
                let (_, table) =
                    noise::merge(&files, &out.unwrap_or_else(|| results.join("table4")))?;
                print!("{table}");
                return Ok(());
            }
            anyhow::ensure!(seeds > 0, "--seeds must be at least 1");
            anyhow::ensure!(draws > 0, "--draws must be at least 1");
            let cfg = LearnConfig {
                seeds,
                seed,
                steps: steps.unwrap_or(6000),
                ..learn_defaults(init_std)?
            };
            let rhos: Vec<f64> = match rho {
                None => paper::NOISE_RHO.to_vec(),
                Some(list) => list
                    .split(',')
                    .map(|r| {
                        r.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|x| (0.0..=1.0).contains(x))
                            .ok_or_else(|| {
                                anyhow::anyhow!("--rho: `{r}` is not a proportion in [0, 1]")
                            })
                    })
                    .collect::<Result<_>>()?,
            };
            let (_, table) = noise::run(
                &dir,
                only.as_deref(),
                &rhos,
                draws,
                &cfg,
                device(&d)?,
                &out.unwrap_or_else(|| results.join("table4")),
            )?;
            print!("{table}");
        }
        cli::BenchCommand::Speed {
            seeds,
            steps,
            only,
            dir,
            device: d,
            backend,
            out,
        } => {
            let seeds = seeds
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<usize>()
                        .map_err(|_| anyhow::anyhow!("--seeds: `{s}` is not a count"))
                })
                .collect::<Result<Vec<_>>>()?;
            let (_, table) = speed::run(
                &dir,
                only.as_deref(),
                &seeds,
                steps,
                device(&d)?,
                backend.parse().map_err(anyhow::Error::msg)?,
                &out.unwrap_or_else(|| results.join("speed")),
            )?;
            print!("{table}");
        }
        cli::BenchCommand::Memory {
            constants,
            steps,
            device: d,
        } => {
            let text = dilp::experiment::memory_bench::task_text(constants);
            let task = dilp::ilp::parse_task(&text, "<memory benchmark task>")?;
            let cfg = LearnConfig {
                steps,
                seeds: 1,
                early_stop: dilp::dilp::learn::EarlyStop::Off,
                ..Default::default()
            };
            let r = dilp::dilp::learn(&task, &cfg, device(&d)?, &mut ())?;
            println!(
                "uncle-like family task, {constants} constants, T = {}: {:.1} s for {steps} steps ({:.0} ms/step); peak RSS {:.0} MiB; \
                 our estimate {:.0} MiB; the paper's Appendix E formula {:.0} MiB ({:.1}x ours)",
                task.steps, r.seconds, r.ms_per_step, r.peak_rss_mib, r.estimated_memory_mib, r.paper_memory_mib,
                r.paper_memory_mib / r.peak_rss_mib.max(1.0)
            );
        }
    }
    Ok(())
}

/// The learner's defaults, with `--init-std` (if given) replacing every task file's.
#[cfg(feature = "torch")]
fn learn_defaults(init_std: Option<f64>) -> Result<dilp::dilp::LearnConfig> {
    let mut c = dilp::dilp::LearnConfig::default();
    if let Some(s) = init_std {
        anyhow::ensure!(
            s.is_finite() && s >= 0.0,
            "--init-std must be a non-negative number, got {s}"
        );
        c.init_std = s;
        c.task_init_std = false;
    }
    Ok(c)
}
