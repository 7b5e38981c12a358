//! The MNIST study of one neuro-symbolic task (less-than unless the context is given another
//! task file): pretrained (or scratch) conv-net → image atoms → ∂ILP, beside the MLP baseline,
//! trained by the same loop on the same items, scored on test items of seen and of held-out
//! digit tuples; the learned program checked by the engine on every digit tuple (10 or 100).
//!
//! [`run_one`] is one run; its parts: the settings and report (`config`), the shared data and
//! conv-net (`context`), the ∂ILP attempts (`dilp`), joint training of rule and digits from
//! the labels alone (`joint`, in place of `dilp` in that vision mode), the MLP baseline
//! (`mlp`), the conv-net's digit accuracy (`digits`), the reported program, chosen and pruned on
//! the training pairs as the conv-net reads them (`reported`), a program's own accuracy through
//! its table of verdicts (`table`), the training curves (`curves`) and the picture of test
//! items (`picture`, `pairs.png`).

mod config;
mod context;
mod curves;
mod digits;
mod dilp;
mod joint;
mod mlp;
pub mod picture;
mod reported;
mod table;

pub use config::{MnistRunConfig, MnistRunReport};
pub use context::{prepare, Context};
pub use joint::JointConfig;
pub use reported::Candidate;

use crate::error::{Error, Result};
use crate::ilp::{check_program, program_text};
use crate::logic::Clause;
use crate::neuro::{Perception, VisionMode};
use crate::report::files::{write_atomic, write_json, write_via};
use crate::train::{accuracy, CurvePoint, PairModel, TestSets};
use crate::vision::{PairSpec, PairSplit};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::nn;

/// Saves a model's variables to `path` atomically.
fn save_vars(vs: &nn::VarStore, path: &Path) -> Result<()> {
    write_via(path, |tmp| {
        vs.save(tmp).map_err(|e| Error::Torch(e.to_string()))
    })
}

/// Trains and scores ∂ILP and the MLP for one configuration; writes everything under `out`.
pub fn run_one(ctx: &mut Context, cfg: &MnistRunConfig, out: &Path) -> Result<MnistRunReport> {
    cfg.validate()?;
    let start = Instant::now();
    write_json(&out.join("config.json"), cfg)?;
    let spec = PairSpec {
        seed: cfg.seed,
        held_out: cfg.held_out,
        n_train: cfg.pairs,
        n_test: cfg.test_pairs,
    };
    let split = PairSplit::build_for(
        &spec,
        &ctx.task.labels,
        &ctx.mnist.train_digits,
        &ctx.mnist.test_digits,
    )?;
    // The first 1,000 test images: enough to follow a training conv-net's digit accuracy.
    let n_probe = ctx.mnist.test_digits.len().min(1000);
    let probe_digits = ctx.mnist.test_digits[..n_probe].to_vec();
    let test = TestSets {
        seen: &split.test_seen,
        heldout: &split.test_heldout,
        probe: Some(&probe_digits),
    };
    tch::manual_seed(cfg.seed as i64);

    let dilp_start = Instant::now();
    let t = train_rules(ctx, cfg, &split, &test)?;
    if let Some(notes) = &t.notes {
        write_json(&out.join("joint.json"), notes)?;
    }
    let model = t.model.as_ref();
    let dilp_seen = accuracy(model, &t.perception, &split.test_seen)?;
    let dilp_held = accuracy(model, &t.perception, &split.test_heldout)?;
    let (digit_acc, digit_rev, digit_matched, digit_confusion) =
        digits::digit_accuracy(&t.perception, &ctx.mnist)?;
    // The reported program: chosen and pruned on the training pairs as the conv-net reads them.
    let counts = reported::read_counts(ctx.task.arity(), &t.perception, dilp::loss_pairs(&split))?;
    let (learned, program_candidates) = reported::choose(&ctx.task.task, &t.candidates, &counts);
    let program = program_text(&ctx.task.task.vocab, &learned);
    let check = check_program(&ctx.task.task, &learned);
    let engine_pairs_correct = check.worlds.iter().filter(|w| w.is_correct()).count();
    let verdicts = crate::neuro::abduce::model_table(&ctx.task.task, &learned);
    let table = table::TableModel::crisp(&verdicts, ctx.task.arity(), 30.0, ctx.device)?;
    let program_seen = accuracy(&table, &t.perception, &split.test_seen)?;
    let program_held = accuracy(&table, &t.perception, &split.test_heldout)?;
    let (vs, perception, dilp_curve) = (t.vs, t.perception, t.curve);
    let (attempts, dilp_loss) = (t.attempts, t.loss);
    save_vars(&vs, &out.join("dilp.ot"))?;
    let title = format!(
        "{}  H={}  SEED {}  {:?}",
        ctx.task.name(),
        cfg.held_out,
        cfg.seed,
        cfg.vision
    );
    let test_images = &ctx.mnist.test_images;
    picture::write_picture(out, &title, model, &perception, &split, test_images)?;
    drop(perception);
    // Taken here, before the MLP trains: the ∂ILP side's own time.
    let dilp_seconds = dilp_start.elapsed().as_secs_f64();

    let m = mlp::train_mlp(ctx, cfg, &split, &test, out)?;
    let (mlp_seen, mlp_held, mlp_out, mlp_curve) = (m.seen, m.held, m.outcome, m.curve);

    curves::write_curves(
        out,
        &format!("{}, h = {}", ctx.task.name(), cfg.held_out),
        &dilp_curve,
        &mlp_curve,
    )?;
    write_atomic(&out.join("program.dl"), program.as_bytes())?;
    let report = MnistRunReport {
        task: ctx.task.name().to_string(),
        held_out: cfg.held_out,
        seed: cfg.seed,
        vision: cfg.vision,
        dilp_seen_acc: dilp_seen,
        dilp_heldout_acc: dilp_held,
        mlp_seen_acc: mlp_seen,
        mlp_heldout_acc: mlp_held,
        program,
        engine_pairs_correct,
        program_seen_acc: Some(program_seen),
        program_heldout_acc: Some(program_held),
        held_out_rows: split.held_out_rows.clone(),
        program_candidates,
        tuples: ctx.task.tuples(),
        digit_acc,
        digit_acc_reversed: digit_rev,
        digit_acc_matched: digit_matched,
        digit_confusion,
        dilp_attempts: attempts,
        dilp_train_loss: dilp_loss,
        dilp_seconds,
        mlp_seconds: mlp_out.seconds,
        seconds: start.elapsed().as_secs_f64(),
    };
    write_json(&out.join("metrics.json"), &report)?;
    Ok(report)
}

/// The rule side of a run, trained: ∂ILP attempts, or joint training in that vision mode.
struct Trained {
    model: Box<dyn PairModel>,
    perception: Perception,
    vs: nn::VarStore,
    /// The programs the rule side names, each with where it came from, best first on a tie
    /// (see [`reported`]).
    candidates: Vec<(String, Vec<Clause>)>,
    loss: f64,
    attempts: usize,
    curve: Vec<CurvePoint>,
    /// Joint training's abductions.
    notes: Option<Vec<joint::AbductionNote>>,
}

fn train_rules(
    ctx: &mut Context,
    cfg: &MnistRunConfig,
    split: &PairSplit,
    test: &TestSets,
) -> Result<Trained> {
    if cfg.vision == VisionMode::Joint {
        let j = joint::train_joint(ctx, cfg, split, test)?;
        return Ok(Trained {
            model: Box::new(j.model),
            perception: j.perception,
            vs: j.vs,
            candidates: vec![("abduction".into(), j.program)],
            loss: j.loss,
            attempts: j.attempts,
            curve: j.curve,
            notes: Some(j.notes),
        });
    }
    let (best, attempts) = dilp::train_dilp(ctx, cfg, split, test)?;
    Ok(Trained {
        candidates: [f64::INFINITY, 0.3, 0.1, 0.03]
            .iter()
            .map(|&t| {
                let name = if t > 1.0 {
                    "top pair".into()
                } else {
                    format!("above {t}")
                };
                Ok((name, best.rules.f_read_out_above(t)?.rules()))
            })
            .collect::<Result<_>>()?,
        model: Box::new(best.rules),
        perception: best.perception,
        vs: best.vs,
        loss: best.loss,
        attempts,
        curve: best.curve,
        notes: None,
    })
}

/// `experiments/results/mnist-train-h0.7-s0-frozen`.
pub fn default_run_dir(cfg: &MnistRunConfig) -> PathBuf {
    PathBuf::from(format!(
        "experiments/results/mnist-train-h{}-s{}-{}",
        cfg.held_out,
        cfg.seed,
        serde_json::to_value(cfg.vision)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    ))
}
