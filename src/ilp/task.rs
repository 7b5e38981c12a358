//! An ILP task: the language frame, the program template and the worlds (paper §3.1).
//!
//! A task comes from a TOML file (see [`parse_task`] for the format); this module holds the
//! validated, interned result and the operations on it that learners share, such as the fixed
//! predicate order of every ground-atom index and the label flipping of the noise experiments.

use super::ground::{Examples, GroundIndex};
use crate::error::{Error, Result};
use crate::logic::AtomId;
use crate::logic::{Clause, ConstId, GroundAtom, Parser, PredId, Vocabulary};
use crate::rng::Rng;

pub use super::taskfile::{load_task, parse_task};

/// A rule template τ = (v, int): `v` existential variables; `int` = the body must contain an
/// intensional predicate (App. B's "requiring" reading; with `int = false` it may contain none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleTemplate {
    pub v: usize,
    pub int: bool,
}

/// The (one or two) rule templates of one intensional predicate. `templates[0]` is always
/// `Some`; a predicate defined by a single clause has `templates[1] == None` (the paper's `null`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredRules {
    pub pred: PredId,
    pub templates: [Option<RuleTemplate>; 2],
}

/// The language: extensional predicates in declared order, then the intensional ones
/// (the target first, then the invented predicates in declared order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    pub extensional: Vec<PredId>,
    pub intensional: Vec<PredId>,
    pub target: PredId,
}

impl Language {
    /// Extensional then intensional: the predicate order of every ground-atom index and of the
    /// body atoms that clause generation enumerates.
    pub fn all_preds(&self) -> Vec<PredId> {
        self.extensional
            .iter()
            .chain(&self.intensional)
            .copied()
            .collect()
    }
    pub fn is_intensional(&self, pred: PredId) -> bool {
        self.intensional.contains(&pred)
    }
    /// The invented (auxiliary) predicates: the intensional ones other than the target.
    pub fn invented(&self) -> &[PredId] {
        &self.intensional[1..]
    }
}

/// One possible world: a background and the labelled examples of the target predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    /// Every constant of the world's facts and examples plus the file's `constants = [...]`,
    /// sorted by `ConstId` (that is, by first appearance in the file).
    pub constants: Vec<ConstId>,
    pub background: Vec<GroundAtom>,
    pub positive: Vec<GroundAtom>,
    /// When the file omits them: every other target atom over this world's constants.
    pub negative: Vec<GroundAtom>,
    /// Forward-chaining steps T for this world: its own `steps`, else the program's.
    pub steps: usize,
}

/// A world's labelled examples as index ids: positives (label 1.0) then negatives (0.0).
///
/// # Panics
/// If an example is outside the index (the index was built for another world).
pub fn examples(world: &World, index: &GroundIndex) -> Examples {
    Examples::new(index, &world.positive, &world.negative)
}

/// The ids of a world's background facts (the atoms a₀ sets to 1).
///
/// # Panics
/// If a fact is outside the index (the index was built for another world).
pub fn background_ids(world: &World, index: &GroundIndex) -> Vec<AtomId> {
    index.ids_of(&world.background)
}

/// The initial valuation of `world` over `index`: 1 on background atoms, 0 elsewhere (⊥
/// included).
pub fn background_valuation(world: &World, index: &GroundIndex) -> Vec<f32> {
    index.valuation(&world.background)
}

/// A validated task. Every id in it refers to `vocab`.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    pub description: String,
    /// The file name used in messages.
    pub file: String,
    pub vocab: Vocabulary,
    pub language: Language,
    /// One entry per intensional predicate, in `language.intensional` order.
    pub rules: Vec<PredRules>,
    /// The program's T (`[program] steps`).
    pub steps: usize,
    /// The learning rate `[learn] lr` recommends for this task, if any.
    pub lr: Option<f64>,
    /// The initial weights' standard deviation `[learn] init_std` recommends, if any.
    pub init_std: Option<f64>,
    /// The mini-batch size `[learn] batch_size` recommends (0: every example), if any.
    pub batch_size: Option<usize>,
    pub train: Vec<World>,
    pub validation: Vec<World>,
}

impl Task {
    /// Extensional (declared order) then intensional predicates: the block order of every
    /// [`GroundIndex`] built for this task, so row *i* means the same atom in every learner.
    pub fn preds_in_index_order(&self) -> Vec<PredId> {
        self.language.all_preds()
    }

    /// The ground-atom index of one of this task's worlds.
    pub fn ground_index(&self, world: &World) -> GroundIndex {
        GroundIndex::new(&self.vocab, &self.preds_in_index_order(), &world.constants)
    }

    /// The rule templates of an intensional predicate.
    pub fn rules_of(&self, pred: PredId) -> Option<&PredRules> {
        self.rules.iter().find(|r| r.pred == pred)
    }

    /// Iterates over every world, training first: `(index within its list, is_validation, world)`.
    pub fn worlds(&self) -> impl Iterator<Item = (usize, bool, &World)> {
        let train = self.train.iter().enumerate().map(|(i, w)| (i, false, w));
        let val = self
            .validation
            .iter()
            .enumerate()
            .map(|(i, w)| (i, true, w));
        train.chain(val)
    }

    /// Parses rules (engine syntax) over this task's vocabulary, for checking a program given as
    /// text. Facts, undeclared predicates and constants the task does not know are refused, so
    /// the clauses' ids stay valid in `self.vocab`.
    pub fn parse_rules(&self, text: &str, file: &str) -> Result<Vec<Clause>> {
        let mut vocab = self.vocab.clone();
        let (mut facts, mut rules) = (Vec::new(), Vec::new());
        Parser::new(&mut vocab, file).parse_into(text, &mut facts, &mut rules)?;
        let refuse = |msg: String| {
            Err(Error::Task {
                file: file.to_string(),
                msg,
            })
        };
        if let Some(f) = facts.first() {
            return refuse(format!(
                "`{}.` is a fact; only rules are expected here",
                f.display(&vocab)
            ));
        }
        let declared = self.language.all_preds();
        for rule in &rules {
            let mut atoms = std::iter::once(&rule.head).chain(&rule.body);
            if let Some(a) = atoms.find(|a| !declared.contains(&a.pred)) {
                let name = vocab.pred_name(a.pred);
                return refuse(format!(
                    "`{}`: predicate `{name}` is not declared in the task",
                    rule.display(&vocab)
                ));
            }
            if !self.language.is_intensional(rule.head.pred) {
                return refuse(format!(
                    "`{}`: the head is not an intensional predicate",
                    rule.display(&vocab)
                ));
            }
        }
        if vocab.num_consts() > self.vocab.num_consts() {
            let name = vocab.const_name(ConstId(self.vocab.num_consts() as u32));
            return refuse(format!("constant `{name}` does not occur in the task"));
        }
        Ok(rules)
    }

    /// The task with a proportion `rho` of each training world's positive examples and of its
    /// negative examples moved to the other set, as in the paper's §5.4 mislabelling protocol.
    ///
    /// Per training world (in order), `round(rho · |P|)` positives and then `round(rho · |N|)`
    /// negatives are sampled without replacement from one `Rng::new(seed)` stream, so the
    /// corruption is fixed by the seed. Kept examples stay in their order and the moved ones
    /// follow them in their original order. Validation worlds are untouched: they measure
    /// generalisation to the true concept.
    ///
    /// # Panics
    /// If `rho` is not in `[0, 1]`.
    pub fn with_flipped_labels(&self, rho: f64, seed: u64) -> Task {
        assert!(
            (0.0..=1.0).contains(&rho),
            "with_flipped_labels: rho = {rho} is not in [0, 1]"
        );
        let mut rng = Rng::new(seed);
        let mut task = self.clone();
        for world in &mut task.train {
            let (kept_pos, moved_pos) = split_sample(&world.positive, rho, &mut rng);
            let (kept_neg, moved_neg) = split_sample(&world.negative, rho, &mut rng);
            world.positive = kept_pos.into_iter().chain(moved_neg).collect();
            world.negative = kept_neg.into_iter().chain(moved_pos).collect();
        }
        task
    }
}

/// Splits `atoms` into (kept, moved), moving `round(rho · len)` sampled atoms.
fn split_sample(
    atoms: &[GroundAtom],
    rho: f64,
    rng: &mut Rng,
) -> (Vec<GroundAtom>, Vec<GroundAtom>) {
    let k = (rho * atoms.len() as f64).round() as usize;
    let mut moved = vec![false; atoms.len()];
    for i in rng.sample(atoms.len(), k) {
        moved[i] = true;
    }
    let (mut kept, mut out) = (Vec::new(), Vec::new());
    for (atom, &m) in atoms.iter().zip(&moved) {
        if m { &mut out } else { &mut kept }.push(atom.clone());
    }
    (kept, out)
}
