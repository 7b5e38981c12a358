//! The ∂ILP half of the MNIST study: the extensional language of the paper's §5.5.4 (zero/1,
//! succ/2, image1/1, image2/1, a nullary target) over the digits 0..9, one world compiled once,
//! rule weights living in the caller's `VarStore`, and the batched forward pass from two digit
//! distributions to `P(target)`.
//!
//! The template differs from the paper's on purpose. The paper's solution goes through a binary
//! `pred2` (less-than by doubling), whose clause pairs (35 × 116 over 100 atoms) make every
//! step cost ~400k pair maxima per image pair. The same concept has a unary form,
//! `pred1(X)` ⇔ "X is greater than the left digit" (`pred1(X) :- image1(Y), succ(Y,X)` and
//! `pred1(X) :- pred1(Y), succ(Y,X)`), whose pairs (45 × 12 over 10 atoms) are 75× cheaper;
//! the price is a linear recursion, so T = 10 instead of 8.

use crate::dilp::compile::CompiledWorld;
use crate::dilp::infer::{infer, InferOptions};
use crate::dilp::readout::{read_out, ReadOut};
use crate::dilp::weights::pair_softmax;
use crate::error::Result;
use crate::ilp::{generate_all, parse_task, ClauseSet, Task};
use std::ops::Range;
use tch::{nn, Device, Kind, Tensor};

/// Forward-chaining steps: `pred1` climbs succ from the left digit (at most 9 steps), then
/// `target` takes one.
pub const STEPS: usize = 10;

/// The task text: the language and template, and one training world per digit pair, so that
/// the Datalog engine checks a learned program on all 100 pairs (and `dilp synth` can solve
/// the symbolic version of the study).
pub fn task_text() -> String {
    let mut bg = String::from("zero(0).");
    for d in 0..9 {
        bg.push_str(&format!(" succ({d},{}).", d + 1));
    }
    let mut s = format!(
        "name = \"mnist_less_than\"\n\
         description = \"left digit < right digit, from image atoms (paper §5.5.4, digits 0..9; unary recursion, see dilp::neuro::less_than)\"\n\
         [language]\n\
         extensional = [\"zero/1\", \"succ/2\", \"image1/1\", \"image2/1\"]\n\
         target = \"target/0\"\n\
         invented = [\"pred1/1\"]\n\
         [program]\n\
         steps = {STEPS}\n\
         [program.rules]\n\
         target = [{{ v = 1, int = true }}]\n\
         pred1 = [{{ v = 1, int = false }}, {{ v = 1, int = true }}]\n"
    );
    for (a, b) in (0..10).flat_map(|a| (0..10).map(move |b| (a, b))) {
        let kind = "train";
        let (pos, neg) = if a < b {
            ("target.", "")
        } else {
            ("", "target.")
        };
        s.push_str(&format!(
            "[[{kind}]]\nbackground = \"{bg} image1({a}). image2({b}).\"\npositive = \"{pos}\"\nnegative = \"{neg}\"\n"
        ));
    }
    s
}

/// The less-than task (parsed from [`task_text`]).
pub fn less_than_task() -> Result<Task> {
    parse_task(&task_text(), "<mnist less-than task>")
}

/// `[B, n]`: the background valuation `base` (`[n]`) with the atoms in `ranges[i]` replaced by
/// `subs[i]` (`[B, |range|]`). Differentiable in `subs`.
pub fn merge_valuation(base: &Tensor, ranges: &[Range<usize>], subs: &[&Tensor]) -> Tensor {
    let b = subs.first().map_or(1, |s| s.size()[0]);
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].start);
    let mut parts = Vec::new();
    let mut at = 0usize;
    let n = base.size()[0] as usize;
    let piece = |from: usize, to: usize| {
        base.narrow(0, from as i64, (to - from) as i64)
            .unsqueeze(0)
            .expand([b, (to - from) as i64], false)
    };
    for i in order {
        let r = &ranges[i];
        if r.start > at {
            parts.push(piece(at, r.start));
        }
        parts.push(subs[i].to_kind(Kind::Float));
        at = r.end;
    }
    if at < n {
        parts.push(piece(at, n));
    }
    Tensor::cat(&parts, 1)
}

/// How two digit distributions become `P(target)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSemantics {
    /// The paper's: the probabilities are the initial valuation of `image1`/`image2`, fuzzy
    /// truth values that the clauses combine like any other.
    #[default]
    Fuzzy,
    /// Each image shows exactly one digit: `P(target) = Σ_{a,b} p₁(a) p₂(b) q(a,b)`, where
    /// `q(a,b)` is the module's value of `target` in the world `image1(a). image2(b).`
    /// (all 100 worlds run as one batch). Under fuzzy truth values a conv-net that trains can
    /// spread its mass over several digits and let the clauses compute on it like analogue
    /// numbers; here `P(target)` is linear in each image's distribution, so only a reading
    /// of digits that the program explains lowers the loss.
    Worlds,
}

impl std::str::FromStr for ImageSemantics {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fuzzy" => Ok(ImageSemantics::Fuzzy),
            "worlds" => Ok(ImageSemantics::Worlds),
            _ => Err(format!("unknown image semantics `{s}` (fuzzy, worlds)")),
        }
    }
}

/// The rule weights and compiled world of the less-than module.
pub struct RuleModule {
    pub task: Task,
    pub clause_sets: Vec<ClauseSet>,
    pub world: CompiledWorld,
    /// Unnormalised pair weights, `[1, K1, K2]` per intensional predicate.
    pub weights: Vec<Tensor>,
    image_ranges: [Range<usize>; 2],
    base: Tensor,
    pub opts: InferOptions,
    pub semantics: ImageSemantics,
    /// `[100, n]`: the initial valuation of every world `image1(a). image2(b).`, row `10a + b`.
    worlds: Tensor,
}

impl RuleModule {
    /// Builds the module with N(0, 1) weights under `path`.
    pub fn new(path: &nn::Path, device: Device) -> Result<Self> {
        let task = less_than_task()?;
        let clause_sets = generate_all(&task);
        let world = CompiledWorld::new(&task, &clause_sets, &task.train[0], device);
        let find = |name: &str| {
            task.vocab
                .find_pred(name)
                .map(|p| world.index.pred_range(p))
        };
        let (Some(r1), Some(r2)) = (find("image1"), find("image2")) else {
            return Err(crate::Error::Config(
                "the less-than language lacks image1/image2".into(),
            ));
        };
        // The training world carries image atoms for one pair: the base valuation has none.
        let base = world.init.copy();
        let _ = base.narrow(0, r1.start as i64, r1.len() as i64).fill_(0.0);
        let _ = base.narrow(0, r2.start as i64, r2.len() as i64).fill_(0.0);
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
        let eye = Tensor::eye(10, (Kind::Float, device));
        let all = Tensor::arange(100, (Kind::Int64, device));
        let left = eye.index_select(0, &all.divide_scalar_mode(10, "floor"));
        let right = eye.index_select(0, &all.remainder(10));
        let image_ranges = [r1, r2];
        let worlds = merge_valuation(&base, &image_ranges, &[&left, &right]);
        Ok(RuleModule {
            task,
            clause_sets,
            world,
            weights,
            image_ranges,
            base,
            opts: InferOptions::default(),
            semantics: ImageSemantics::Fuzzy,
            worlds,
        })
    }

    /// `P(target)` `[B]` after the module's steps from the initial valuations `init` `[B, n]`.
    fn target_from(&self, init: &Tensor) -> Tensor {
        let probs: Vec<Tensor> = self.weights.iter().map(pair_softmax).collect();
        let a = infer(&self.world, init, &probs, STEPS, &self.opts);
        a.select(1, self.world.preds[0].range.start as i64)
    }

    /// `[10, 10]`: `P(target)` in the world of each digit pair (row: left digit).
    pub fn pair_table(&self) -> Tensor {
        self.target_from(&self.worlds).view([10, 10])
    }

    /// `P(target)` `[B]` from the two digit distributions `[B, 10]`.
    pub fn forward(&self, left: &Tensor, right: &Tensor) -> Tensor {
        if self.semantics == ImageSemantics::Worlds {
            let q = self.pair_table();
            return (left.to_kind(Kind::Float).matmul(&q) * right.to_kind(Kind::Float))
                .sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        }
        self.target_from(&merge_valuation(
            &self.base,
            &self.image_ranges,
            &[left, right],
        ))
    }

    /// Trains the rule weights alone on the symbolic task: the worlds `image1(a). image2(b).` of
    /// the digit pairs `seen`, labelled `a < b` (no image involved), with Adam at `lr`, full
    /// batch. Run before any perception joins `vs`, so the optimiser sees only the rules.
    /// Returns the final mean BCE over those pairs.
    pub fn fit_symbolic(
        &self,
        vs: &nn::VarStore,
        seen: &[(u8, u8)],
        steps: usize,
        lr: f64,
    ) -> Result<f64> {
        use tch::nn::OptimizerConfig;
        let device = vs.device();
        let rows: Vec<i64> = seen
            .iter()
            .map(|&(a, b)| 10 * a as i64 + b as i64)
            .collect();
        let labels: Vec<f32> = seen
            .iter()
            .map(|&(a, b)| f32::from(u8::from(a < b)))
            .collect();
        let rows = Tensor::from_slice(&rows).to_device(device);
        let labels = Tensor::from_slice(&labels).to_device(device);
        let mut opt = nn::Adam::default()
            .build(vs, lr)
            .map_err(|e| crate::Error::Torch(e.to_string()))?;
        let bce = |q: &Tensor| {
            let q = q.clamp(1e-6, 1.0 - 1e-6);
            let (nl, nq): (Tensor, Tensor) = (1.0 - &labels, 1.0 - &q);
            let t: Tensor = &labels * q.log() + nl * nq.log();
            -t.mean(Kind::Float)
        };
        let mut last = f64::NAN;
        for _ in 0..steps {
            let loss = bce(&self.pair_table().view([-1]).index_select(0, &rows));
            opt.backward_step(&loss);
            last = f64::try_from(&loss).unwrap_or(f64::NAN);
        }
        Ok(last)
    }

    /// The program the weights encode (threshold 0.1, plus each predicate's best pair).
    pub fn read_out(&self) -> ReadOut {
        let probs: Vec<Tensor> = tch::no_grad(|| self.weights.iter().map(pair_softmax).collect());
        read_out(&self.clause_sets, &probs, 0, 0.1)
    }
}
