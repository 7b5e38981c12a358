//! The ∂ILP half of a neuro-symbolic task: the task file's language over the digit constants,
//! one world compiled once, rule weights living in the caller's `VarStore`, and the batched
//! forward pass from one or two digit distributions to `P(target)`.
//!
//! The task comes from a file ([`crate::neuro::taskfile`]); [`RuleModule::new`] builds the
//! shipped less-than task, the paper's §5.5.4 (see `experiments/tasks/mnist/less_than.toml` for
//! why its template is unary). How digit distributions enter the valuation is
//! [`crate::neuro::valuation`]; the symbolic warm-up is [`RuleModule::fit_symbolic`].

use crate::dilp::compile::CompiledWorld;
use crate::dilp::infer::{infer, InferOptions};
use crate::dilp::readout::{read_out, ReadOut};
use crate::dilp::weights::pair_softmax;
use crate::error::{shape, torch_err, Error, Result};
use crate::ilp::{generate_all, ClauseSet, Task};
use crate::logic::GroundAtom;
use crate::neuro::taskfile::{self, NeuroTask};
use crate::neuro::valuation::{merge_valuation, ImageSemantics};
use std::ops::Range;
use tch::{nn, Device, Kind, TchError, Tensor};

type TchResult<T> = std::result::Result<T, TchError>;

/// The rule weights and compiled world of a neuro-symbolic task's module.
pub struct RuleModule {
    /// The symbolic task (one training world per digit tuple).
    pub task: Task,
    /// `labels[row]`: the labelling program's verdict on each digit tuple.
    pub labels: Vec<bool>,
    pub clause_sets: Vec<ClauseSet>,
    pub world: CompiledWorld,
    /// Unnormalised pair weights, `[1, K1, K2]` per intensional predicate.
    pub weights: Vec<Tensor>,
    /// Each perceived predicate's atoms in the valuation, in image order.
    image_ranges: Vec<Range<usize>>,
    /// `[10, |range|]` per image: where class `k`'s atom sits in its range, or None when class
    /// `k` is the range's `k`-th atom (the common case, kept free of a product).
    image_maps: Vec<Option<Tensor>>,
    base: Tensor,
    pub opts: InferOptions,
    pub semantics: ImageSemantics,
    /// `[10^k, n]`: the initial valuation of every digit tuple's world, in row order.
    worlds: Tensor,
    steps: usize,
}

impl RuleModule {
    /// The shipped less-than module with N(0, 1) weights under `path`.
    pub fn new(path: &nn::Path, device: Device) -> Result<Self> {
        Self::from_task(&taskfile::less_than()?, path, device)
    }

    /// The module of `neuro` with N(0, 1) weights under `path`.
    pub fn from_task(neuro: &NeuroTask, path: &nn::Path, device: Device) -> Result<Self> {
        let task = neuro.task.clone();
        let clause_sets = generate_all(&task);
        let first = task.train.first().ok_or_else(|| {
            Error::Config(format!("{}: the task has no training world", neuro.file()))
        })?;
        let world = CompiledWorld::new(&task, &clause_sets, first, device)?;
        let mut image_ranges = Vec::new();
        let mut image_maps = Vec::new();
        for name in &neuro.images {
            let missing =
                || Error::Config(format!("{}: no perceived predicate `{name}`", neuro.file()));
            let p = task.vocab.find_pred(name).ok_or_else(missing)?;
            let range = world.index.pred_range(p);
            let mut at = Vec::with_capacity(10);
            for d in &neuro.digits {
                let c = task.vocab.find_const(d).ok_or_else(missing)?;
                let id = world
                    .index
                    .index_of(&GroundAtom::new(p, vec![c]))
                    .ok_or_else(missing)?;
                at.push(id.index() - range.start);
            }
            let identity = range.len() == 10 && at.iter().enumerate().all(|(k, &i)| k == i);
            let map = |rows: usize| -> TchResult<Tensor> {
                let m = Tensor::f_zeros([rows as i64, range.len() as i64], (Kind::Float, device))?;
                for (k, &i) in at.iter().enumerate() {
                    m.f_get(k as i64)?.f_get(i as i64)?.f_fill_(1.0).map(drop)?;
                }
                Ok(m)
            };
            let m = match identity {
                true => None,
                false => Some(map(at.len()).map_err(torch_err(|| {
                    format!("the digit map of `{name}` ([10, {}])", range.len())
                }))?),
            };
            image_maps.push(m);
            image_ranges.push(range);
        }
        // The training world carries image atoms for one tuple: the base valuation has none.
        let blank = || -> TchResult<Tensor> {
            let base = world.init.f_detach_copy()?;
            for r in &image_ranges {
                base.f_narrow(0, r.start as i64, r.len() as i64)?
                    .f_fill_(0.0)
                    .map(drop)?;
            }
            Ok(base)
        };
        let base = blank().map_err(torch_err(|| {
            format!("the base valuation {}", shape(&world.init))
        }))?;
        let weights = clause_sets
            .iter()
            .map(|cs| {
                let (k1, k2) = (
                    cs.templates[0].len() as i64,
                    cs.templates[1].len().max(1) as i64,
                );
                let name = format!("rules_{}", task.vocab.pred_name(cs.pred));
                path.var(
                    &name,
                    &[1, k1, k2],
                    nn::Init::Randn {
                        mean: 0.0,
                        stdev: 1.0,
                    },
                )
            })
            .collect();
        let onehots = || -> TchResult<Vec<Tensor>> {
            let eye = Tensor::f_eye(10, (Kind::Float, device))?;
            if image_ranges.len() == 1 {
                return Ok(vec![eye]);
            }
            let all = Tensor::f_arange(100, (Kind::Int64, device))?;
            Ok(vec![
                eye.f_index_select(0, &all.f_divide_scalar_mode(10, "floor")?)?,
                eye.f_index_select(0, &all.f_remainder(10)?)?,
            ])
        };
        let onehots = onehots().map_err(torch_err(|| "the digit tuples' one-hot rows"))?;
        let steps = task.steps;
        let mut m = RuleModule {
            task,
            labels: neuro.labels.clone(),
            clause_sets,
            world,
            weights,
            image_ranges,
            image_maps,
            base,
            opts: InferOptions::default(),
            semantics: ImageSemantics::Fuzzy,
            worlds: Tensor::new(),
            steps,
        };
        let refs: Vec<&Tensor> = onehots.iter().collect();
        m.worlds = m.merge(&refs)?;
        Ok(m)
    }

    /// Images per item: 1 or 2.
    pub fn images(&self) -> usize {
        self.image_ranges.len()
    }

    /// `[B, n]`: the base valuation with each image's digit distribution `[B, 10]` in place.
    fn merge(&self, images: &[&Tensor]) -> Result<Tensor> {
        let subs: Vec<Tensor> = images
            .iter()
            .zip(&self.image_maps)
            .map(|(p, m)| match m {
                Some(m) => p
                    .f_to_kind(Kind::Float)
                    .and_then(|p| p.f_matmul(m))
                    .map_err(torch_err(|| {
                        format!("mapping digits {} onto atoms {}", shape(p), shape(m))
                    })),
                None => Ok(p.shallow_clone()),
            })
            .collect::<Result<_>>()?;
        let refs: Vec<&Tensor> = subs.iter().collect();
        merge_valuation(&self.base, &self.image_ranges, &refs)
    }

    /// `P(target)` `[B]` after the module's steps from the initial valuations `init` `[B, n]`.
    fn target_from(&self, init: &Tensor) -> Result<Tensor> {
        let probs = self
            .weights
            .iter()
            .map(pair_softmax)
            .collect::<Result<Vec<_>>>()?;
        let a = infer(&self.world, init, &probs, self.steps, &self.opts)?;
        let target = self.world.preds.first().map_or(0, |p| p.range.start);
        a.f_select(1, target as i64).map_err(torch_err(|| {
            format!("reading `target` from valuations {}", shape(&a))
        }))
    }

    /// `[10^k]`: `P(target)` in the world of each digit tuple, in row order.
    pub fn world_table(&self) -> Result<Tensor> {
        self.target_from(&self.worlds)
    }

    /// `[10, 10]` (two images; row: left digit) or `[10]` (one image): [`Self::world_table`]
    /// shaped by digit.
    pub fn pair_table(&self) -> Result<Tensor> {
        let dims = vec![10i64; self.images()];
        let table = self.world_table()?;
        table.f_view(dims.as_slice()).map_err(torch_err(|| {
            format!("shaping table {} by digit", shape(&table))
        }))
    }

    /// `P(target)` `[B]` from the two digit distributions `[B, 10]` (a one-image task reads
    /// `left` only). Panics where LibTorch fails; see [`Self::f_forward`].
    pub fn forward(&self, left: &Tensor, right: &Tensor) -> Tensor {
        self.f_forward(left, right)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Self::forward`], failing with the step and the shapes instead of panicking.
    pub fn f_forward(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        if self.images() == 1 {
            self.forward_images(&[left])
        } else {
            self.forward_images(&[left, right])
        }
    }

    /// `P(target)` `[B]` from each image's digit distribution `[B, 10]`, in image order.
    /// Fails with the step and the shapes where LibTorch fails (out of memory, say).
    pub fn forward_images(&self, images: &[&Tensor]) -> Result<Tensor> {
        if images.len() != self.images() {
            return Err(Error::Config(format!(
                "{} digit distributions for a task of {} images",
                images.len(),
                self.images()
            )));
        }
        if self.semantics == ImageSemantics::Worlds {
            let q = self.pair_table()?;
            let f = || -> TchResult<Tensor> {
                let first = images[0].f_to_kind(Kind::Float)?;
                let joint = if self.images() == 1 {
                    first.f_mul(&q.f_unsqueeze(0)?)?
                } else {
                    first
                        .f_matmul(&q)?
                        .f_mul(&images[1].f_to_kind(Kind::Float)?)?
                };
                joint.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
            };
            return f().map_err(torch_err(|| {
                format!("P(target) over worlds from digits {}", shape(images[0]))
            }));
        }
        self.target_from(&self.merge(images)?)
    }

    /// The program the weights encode (threshold 0.1, plus each predicate's best pair).
    /// An empty read-out where LibTorch fails; see [`Self::f_read_out`], which says why.
    pub fn read_out(&self) -> ReadOut {
        self.f_read_out().unwrap_or_default()
    }

    /// [`Self::read_out`], failing with the step and the shapes.
    pub fn f_read_out(&self) -> Result<ReadOut> {
        self.f_read_out_above(0.1)
    }

    /// The top clause pair of each predicate and every clause whose marginal weight is above
    /// `threshold` (above 1: the top pairs alone).
    pub fn f_read_out_above(&self, threshold: f64) -> Result<ReadOut> {
        let probs = tch::no_grad(|| {
            self.weights
                .iter()
                .map(pair_softmax)
                .collect::<Result<Vec<_>>>()
        })?;
        read_out(&self.clause_sets, &probs, 0, threshold)
    }
}
