//! Predictions on one's own images: each image's digit distribution under a conv-net, and, when
//! there are as many images as the task has perceived predicates, `P(target)` from the rule
//! module and the ground rule instances of the learned program that derive `target` from the
//! digits read (the proof). The library half of `dilp mnist predict`.

use super::rules::RuleModule;
use super::taskfile::NeuroTask;
use crate::error::{shape, torch_err, Error, Result};
use crate::ilp::program_text;
use crate::logic::{Clause, ConstId, GroundAtom, Parser, Term};
use crate::vision::preprocess::to_tensor;
use crate::vision::ConvNet;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tch::{Kind, Tensor};

/// One image's reading.
#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    /// The image's name (its path, as the caller gives it).
    pub path: String,
    /// The most probable digit (the task's constant for the class).
    pub digit: String,
    /// `probs[k]`: the probability of class `k`.
    pub probs: Vec<f64>,
}

/// What [`predict`] returns (the `--json` object of `dilp mnist predict`).
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub images: Vec<Reading>,
    /// `P(target)` from the rule module; None unless there is one image per perceived predicate.
    pub p_target: Option<f64>,
    /// The learned program, one clause a line.
    pub program: String,
    /// The ground rule instances that derive the target from the digits read, in derivation
    /// order; empty when the target is not derived (or `p_target` is None).
    pub proof: Vec<String>,
}

/// Reads `inputs` (MNIST-style 28×28 images, see [`crate::vision::preprocess`], named by
/// `paths`) with `net`, and runs `rules` (the module of `task`, whose learned program is
/// `program`) on them.
pub fn predict(
    net: &ConvNet,
    rules: &RuleModule,
    task: &NeuroTask,
    program: &[Clause],
    inputs: &[Vec<f32>],
    paths: &[String],
) -> Result<Prediction> {
    if inputs.is_empty() || inputs.len() != paths.len() {
        return Err(Error::Config(format!(
            "{} images and {} names: give at least one image, each named",
            inputs.len(),
            paths.len()
        )));
    }
    let (images, probs) = read_digits(net, task, inputs, paths, rules.world.init.device())?;
    let text = program_text(&task.task.vocab, program);
    if inputs.len() != task.arity() {
        return Ok(Prediction {
            images,
            p_target: None,
            program: text,
            proof: vec![],
        });
    }
    let rows: Vec<Tensor> = (0..task.arity() as i64)
        .map(|i| probs.f_narrow(0, i, 1))
        .collect::<std::result::Result<_, _>>()
        .map_err(torch_err(|| {
            format!("one image's row of digits {}", shape(&probs))
        }))?;
    let refs: Vec<&Tensor> = rows.iter().collect();
    let p = tch::no_grad(|| rules.forward_images(&refs))?;
    let p_target = p
        .f_sum(Kind::Float)
        .and_then(|t| t.f_double_value(&[]))
        .map_err(torch_err(|| format!("P(target) from {}", shape(&p))))?;
    let facts: Vec<String> = task
        .images
        .iter()
        .zip(&images)
        .map(|(pred, r)| format!("{pred}({}).", r.digit))
        .collect();
    let proof = proof(task, program, &facts.join(" "))?;
    Ok(Prediction {
        images,
        p_target: Some(p_target),
        program: text,
        proof,
    })
}

/// Reads `inputs` with `net` on `device`: each image's digit distribution, named by `paths`, and
/// the same distributions as an `images × 10` tensor.
pub fn read_digits(
    net: &ConvNet,
    task: &NeuroTask,
    inputs: &[Vec<f32>],
    paths: &[String],
    device: tch::Device,
) -> Result<(Vec<Reading>, Tensor)> {
    let x = to_tensor(inputs)?
        .f_to_device(device)
        .map_err(torch_err(|| {
            format!("copying {} images to {device:?}", inputs.len())
        }))?;
    let probs = tch::no_grad(|| net.f_forward_t(&x, false))?
        .f_softmax(-1, Kind::Float)
        .map_err(torch_err(|| {
            format!("softmax of digit logits for {}", shape(&x))
        }))?;
    let table: Vec<f32> = crate::dilp::weights::to_vec(&probs).map_err(torch_err(|| {
        format!("copying digits {} to the host", shape(&probs))
    }))?;
    let images = table
        .chunks(10)
        .zip(paths)
        .map(|(p, path)| {
            let k = (0..10).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
            Reading {
                path: path.clone(),
                digit: task.digits[k].clone(),
                probs: p.iter().map(|&v| f64::from(v)).collect(),
            }
        })
        .collect();
    Ok((images, probs))
}

/// The ground rule instances of `program` that derive the task's target in the world of the
/// background plus `image_facts`, each atom's first derivation (so the proof is well-founded),
/// in the order they fire; empty when the target is not derived.
pub fn proof(task: &NeuroTask, program: &[Clause], image_facts: &str) -> Result<Vec<String>> {
    let t = &task.task;
    let mut vocab = t.vocab.clone();
    let mut known: HashSet<GroundAtom> = Parser::new(&mut vocab, "<background>")
        .ground_atoms(&task.background)?
        .into_iter()
        .chain(Parser::new(&mut vocab, "<images>").ground_atoms(image_facts)?)
        .map(|(a, _)| a)
        .collect();
    let constants: Vec<ConstId> = t
        .train
        .first()
        .map(|w| w.constants.clone())
        .unwrap_or_default();
    // Naive rounds, recording for each new atom the instance that derived it.
    let mut why: HashMap<GroundAtom, (usize, Vec<GroundAtom>)> = HashMap::new();
    loop {
        let mut new = Vec::new();
        for (ci, c) in program.iter().enumerate() {
            for_each_grounding(c, &constants, &mut |sub| {
                let ground = |a: &crate::logic::Atom| {
                    GroundAtom::new(
                        a.pred,
                        a.args
                            .iter()
                            .map(|t| match t {
                                Term::Const(k) => *k,
                                Term::Var(v) => sub[v.index()],
                            })
                            .collect(),
                    )
                };
                let head = ground(&c.head);
                if known.contains(&head) || why.contains_key(&head) {
                    return;
                }
                let body: Vec<GroundAtom> = c.body.iter().map(ground).collect();
                if body.iter().all(|b| known.contains(b)) {
                    why.insert(head.clone(), (ci, body));
                    new.push(head);
                }
            });
        }
        if new.is_empty() {
            break;
        }
        known.extend(new);
    }
    let target = GroundAtom::new(t.language.target, vec![]);
    let mut out = Vec::new();
    let mut done = HashSet::new();
    explain(&target, &why, &mut done, &mut out, &vocab);
    Ok(out)
}

/// Post-order: an instance is written after the instances that derive its body.
fn explain(
    atom: &GroundAtom,
    why: &HashMap<GroundAtom, (usize, Vec<GroundAtom>)>,
    done: &mut HashSet<GroundAtom>,
    out: &mut Vec<String>,
    vocab: &crate::logic::Vocabulary,
) {
    let Some((_, body)) = why.get(atom) else {
        return;
    };
    if !done.insert(atom.clone()) {
        return;
    }
    for b in body {
        explain(b, why, done, out, vocab);
    }
    let body: Vec<String> = body.iter().map(|b| b.display(vocab).to_string()).collect();
    out.push(format!("{} :- {}.", atom.display(vocab), body.join(", ")));
}

/// Calls `f` with every assignment of `constants` to the clause's variables.
fn for_each_grounding(c: &Clause, constants: &[ConstId], f: &mut dyn FnMut(&[ConstId])) {
    let n = c.var_names.len();
    if constants.is_empty() && n > 0 {
        return;
    }
    let mut idx = vec![0usize; n];
    loop {
        let sub: Vec<ConstId> = idx.iter().map(|&i| constants[i]).collect();
        f(&sub);
        let mut k = 0;
        loop {
            if k == n {
                return;
            }
            idx[k] += 1;
            if idx[k] < constants.len() {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}

/// A finished run's rule module and conv-net, ready for [`predict`].
pub struct RunModel {
    /// Own the variables of `rules` and `net` (a frozen run's conv-net lives in the second).
    pub stores: Vec<tch::nn::VarStore>,
    pub rules: RuleModule,
    pub net: ConvNet,
    /// The learned program (the run's reading of its rule weights).
    pub program: Vec<Clause>,
}

/// Loads the run in `dir` (its `config.json` and `dilp.ot`, as `dilp mnist train` writes them)
/// of `task`; a frozen run reads its conv-net from the pretrained checkpoint in `model_dir`,
/// a finetune or scratch run its own from `dilp.ot`.
pub fn load_run(
    dir: &std::path::Path,
    task: &NeuroTask,
    model_dir: &std::path::Path,
    device: tch::Device,
) -> Result<RunModel> {
    use crate::neuro::VisionMode;
    use tch::nn::VarStore;
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Data {
        path: cfg_path.clone(),
        msg: format!("not a run configuration: {e}"),
    })?;
    let vision: VisionMode = value
        .get("vision")
        .cloned()
        .map_or(Ok(VisionMode::Frozen), serde_json::from_value)
        .map_err(|e| Error::Data {
            path: cfg_path.clone(),
            msg: format!("vision: {e}"),
        })?;
    if vision == VisionMode::Joint {
        return Err(Error::Data {
            path: cfg_path,
            msg: "a joint run (--vision joint) has no rule weights to load: its program is \
                  program.dl and its conv-net the `convnet` tensors of dilp.ot"
                .into(),
        });
    }
    let pretrained = VarStore::new(device);
    let (net, _) = crate::vision::checkpoint::load(&pretrained.root(), model_dir)?;
    let mut vs = VarStore::new(device);
    let rules = RuleModule::from_task(task, &(vs.root() / "rules"), device)?;
    let own = (vision != VisionMode::Frozen)
        .then(|| ConvNet::new(&(vs.root().set_group(1) / "convnet"), net.config()))
        .transpose()?;
    let weights = dir.join("dilp.ot");
    vs.load(&weights).map_err(|e| Error::Data {
        path: weights.clone(),
        msg: format!("not this task's run weights: {e}"),
    })?;
    // The program the run reported (chosen and pruned as the run did), not a new read-out.
    let program_path = dir.join("program.dl");
    let text = std::fs::read_to_string(&program_path).map_err(|e| Error::io(&program_path, e))?;
    let program = task
        .task
        .parse_rules(&text, &program_path.display().to_string())?;
    Ok(RunModel {
        stores: vec![vs, pretrained],
        rules,
        net: own.unwrap_or(net),
        program,
    })
}

/// `P(target)` under the task's own labelling program when no run is given: the expectation of
/// the tuple labels over the images' digit distributions (`probs[i][k]`, one row per image, as
/// many as the task has perceived predicates).
pub fn labelled_probability(task: &NeuroTask, probs: &[Vec<f64>]) -> Option<f64> {
    if probs.len() != task.arity() || probs.iter().any(|p| p.len() != 10) {
        return None;
    }
    Some(
        (0..task.tuples())
            .filter(|&r| task.labels[r])
            .map(|r| {
                task.tuple(r)
                    .iter()
                    .zip(probs)
                    .map(|(&d, p)| p[d as usize])
                    .product::<f64>()
            })
            .sum(),
    )
}
