//! One MNIST run's settings (with their defaults and validation) and its report, the figures
//! written to `metrics.json`.

use super::JointConfig;
use crate::error::{Error, Result};
use crate::neuro::{ImageSemantics, VisionMode};
use crate::train::TrainConfig;
use crate::vision::MlpConfig;
use serde::{Deserialize, Serialize};

/// One run's settings (serde; documented defaults).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MnistRunConfig {
    /// Proportion of the task's digit tuples (100 pairs, or 10 digits) held out. Default 0.7.
    pub held_out: f64,
    /// Seeds the split, the initialisation and the batches. Default 0.
    pub seed: u64,
    pub vision: VisionMode,
    /// How the digit distributions enter the rules (default `fuzzy`, the paper's).
    pub semantics: ImageSemantics,
    /// Training image pairs. Default 20,000.
    pub pairs: usize,
    /// Test image pairs per split. Default 2,000.
    pub test_pairs: usize,
    /// The ∂ILP module's training.
    pub dilp: TrainConfig,
    /// The MLP's training.
    pub mlp: TrainConfig,
    pub mlp_net: MlpConfig,
    /// Fresh initialisations of the rule weights tried after the first when its training loss
    /// ends above `restart_loss_ratio`. Default 3.
    pub restarts: usize,
    /// Mean training BCE above which a ∂ILP attempt counts as stuck, as a fraction of the BCE
    /// of the best constant guess (the entropy of the training labels' base rate). Default
    /// 0.3. On less-than (45 true pairs in 100: 0.69 nats) that is 0.21, about the absolute
    /// 0.2 used before (solved runs end near 0.05, stuck ones near 0.5); on a task with 9 true
    /// pairs in 100 it is 0.09, where an empty or one-sided program is already below 0.2.
    pub restart_loss_ratio: f64,
    /// Steps of symbolic warm-up (default 0, off): before any image is seen, each ∂ILP attempt
    /// first learns its rules from the symbolic task alone, the worlds `image1(a). image2(b).`
    /// of the training digit tuples labelled by the task (held-out tuples excluded), and only then
    /// trains jointly with the perception. A curriculum: the concept first, then the reading
    /// of digits through it.
    pub symbolic_warmup: usize,
    /// Adam learning rate of the symbolic warm-up. Default 0.05.
    pub symbolic_lr: f64,
    /// Joint training's own settings (read only in the `joint` vision mode; see
    /// [`JointConfig`] for their defaults).
    pub joint: JointConfig,
}

impl Default for MnistRunConfig {
    fn default() -> Self {
        MnistRunConfig {
            held_out: 0.7,
            seed: 0,
            vision: VisionMode::Frozen,
            semantics: ImageSemantics::Fuzzy,
            pairs: 20_000,
            test_pairs: 2_000,
            dilp: TrainConfig::default(),
            mlp: TrainConfig {
                steps: 1500,
                lr: 3e-3,
                ..TrainConfig::default()
            },
            mlp_net: MlpConfig::default(),
            restarts: 3,
            restart_loss_ratio: 0.3,
            symbolic_warmup: 0,
            symbolic_lr: 0.05,
            joint: JointConfig::default(),
        }
    }
}

impl MnistRunConfig {
    /// Rejects settings a run cannot use (a hand-written config file may hold any number).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Config(format!("run settings: {what}")));
        if !(0.0..1.0).contains(&self.held_out) {
            return bad(&format!("held_out = {} is not in [0, 1)", self.held_out));
        }
        if self.pairs == 0 || self.test_pairs == 0 {
            return bad("pairs and test_pairs must be at least 1");
        }
        for (name, t) in [("dilp", &self.dilp), ("mlp", &self.mlp)] {
            if t.steps == 0 || t.batch_size == 0 || t.eval_every == 0 || t.eval_pairs == 0 {
                return bad(&format!(
                    "{name}.steps, batch_size, eval_every and eval_pairs must be at least 1"
                ));
            }
            let positive = |x: f64| x.is_finite() && x > 0.0;
            let weight = |x: f64| x.is_finite() && x >= 0.0;
            if !positive(t.lr) || !positive(t.vision_lr) {
                return bad(&format!("{name}.lr and {name}.vision_lr must be positive"));
            }
            if !positive(t.pos_weight) {
                return bad(&format!("{name}.pos_weight must be positive"));
            }
            if !weight(t.cluster_weight) || !weight(t.balance_weight) {
                return bad(&format!(
                    "{name}.cluster_weight and balance_weight must be non-negative"
                ));
            }
        }
        if !(self.symbolic_lr.is_finite() && self.symbolic_lr > 0.0) {
            return bad("symbolic_lr must be positive");
        }
        if !(self.restart_loss_ratio.is_finite() && self.restart_loss_ratio >= 0.0) {
            return bad("restart_loss_ratio must be non-negative");
        }
        if self.vision == VisionMode::Joint && self.symbolic_warmup > 0 {
            return bad(&format!(
                "symbolic_warmup = {} (--symbolic-warmup): the joint vision mode learns from the \
                 image-pair labels alone and takes no symbolic table of digit tuples; set it to 0",
                self.symbolic_warmup
            ));
        }
        self.joint.validate()
    }
}

/// One run's figures. Accuracies are on MNIST test-image pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MnistRunReport {
    /// The task's name (`mnist_less_than`).
    #[serde(default)]
    pub task: String,
    pub held_out: f64,
    pub seed: u64,
    pub vision: VisionMode,
    #[serde(deserialize_with = "crate::experiment::parts::f64_or_nan")]
    pub dilp_seen_acc: f64,
    #[serde(deserialize_with = "crate::experiment::parts::f64_or_nan")]
    pub dilp_heldout_acc: f64,
    #[serde(deserialize_with = "crate::experiment::parts::f64_or_nan")]
    pub mlp_seen_acc: f64,
    #[serde(deserialize_with = "crate::experiment::parts::f64_or_nan")]
    pub mlp_heldout_acc: f64,
    pub program: String,
    /// Digit tuples (of `tuples`) on which the engine's model of the program gives the right
    /// label.
    pub engine_pairs_correct: usize,
    /// Accuracy of the reported program itself on the test pairs of seen and of held-out
    /// tuples: `P(target) = Σ p₁(a) p₂(b) [the engine derives target on (a, b)]` over the
    /// conv-net's digit distributions, thresholded at ½. Absent from reports written before
    /// these fields existed.
    #[serde(default)]
    pub program_seen_acc: Option<f64>,
    #[serde(default)]
    pub program_heldout_acc: Option<f64>,
    /// The digit tuples held out of training (rows `10·a + b`, or `a`), sorted. Empty in
    /// reports written before it was recorded.
    #[serde(default)]
    pub held_out_rows: Vec<usize>,
    /// Every program the run considered reporting, with its training errors (see
    /// `reported`). Empty in reports written before it was recorded.
    #[serde(default)]
    pub program_candidates: Vec<super::reported::Candidate>,
    /// The task's digit tuples: 100 (two images) or 10 (one).
    #[serde(default = "hundred")]
    pub tuples: usize,
    /// Digit accuracy of the conv-net after training (raw, and under the reversal d ↦ 9 − d).
    pub digit_acc: Option<f64>,
    pub digit_acc_reversed: Option<f64>,
    /// Under the best one-to-one matching of the conv-net's outputs to digits.
    pub digit_acc_matched: Option<f64>,
    /// `digit_confusion[d][k]`: test images of digit `d` that the conv-net read as `k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit_confusion: Option<Vec<Vec<usize>>>,
    /// ∂ILP attempts made (see `restarts`) and the kept attempt's training loss.
    pub dilp_attempts: usize,
    pub dilp_train_loss: f64,
    pub dilp_seconds: f64,
    pub mlp_seconds: f64,
    pub seconds: f64,
}

fn hundred() -> usize {
    100
}
