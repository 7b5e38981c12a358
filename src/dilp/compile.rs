//! Turns a task into tensors once, before training: per world, the initial valuation, the
//! examples, and for every clause template its grid form (see [`super::grid`]): a clause can
//! only ever write its head predicate's atoms, so it is evaluated over those alone.

use super::grid::TemplateGrid;
use crate::ilp::{self, ClauseSet, GroundIndex, Task, World};
use std::ops::Range;
use tch::{Device, Tensor};

/// One intensional predicate in one world.
#[derive(Debug)]
pub struct CompiledPred {
    pub range: Range<usize>,
    pub templates: [Option<TemplateGrid>; 2],
}

/// One world, ready for inference.
#[derive(Debug)]
pub struct CompiledWorld {
    pub index: GroundIndex,
    /// Number of ground atoms, ⊥ included.
    pub n: usize,
    /// `[n]`: 1 on background atoms.
    pub init: Tensor,
    /// `[e]` atom ids and `[e]` labels of the examples.
    pub example_ids: Tensor,
    pub labels: Tensor,
    pub num_examples: usize,
    /// Intensional predicates, in index order (their atoms are the last block of the index).
    pub preds: Vec<CompiledPred>,
    /// First atom id of the intensional block.
    pub intensional_start: usize,
    pub steps: usize,
}

/// A task's clauses and compiled worlds.
#[derive(Debug)]
pub struct CompiledTask {
    pub clause_sets: Vec<ClauseSet>,
    pub train: Vec<CompiledWorld>,
    pub validation: Vec<CompiledWorld>,
    pub device: Device,
}

impl CompiledWorld {
    pub fn new(task: &Task, clause_sets: &[ClauseSet], world: &World, device: Device) -> Self {
        let index = task.ground_index(world);
        let n = index.len();
        let init = ilp::background_valuation(world, &index);
        let ex = ilp::examples(world, &index);
        let ids: Vec<i64> = ex.atoms.iter().map(|a| a.0 as i64).collect();
        let preds: Vec<CompiledPred> = clause_sets
            .iter()
            .map(|cs| CompiledPred {
                range: index.pred_range(cs.pred),
                templates: [
                    TemplateGrid::new(&cs.templates[0], &index, device),
                    TemplateGrid::new(&cs.templates[1], &index, device),
                ],
            })
            .collect();
        let intensional_start = preds.first().map_or(n, |p| p.range.start);
        debug_assert!(preds.windows(2).all(|w| w[0].range.end == w[1].range.start));
        debug_assert!(preds.last().is_none_or(|p| p.range.end == n));
        CompiledWorld {
            n,
            init: Tensor::from_slice(&init).to_device(device),
            example_ids: Tensor::from_slice(&ids).to_device(device),
            labels: Tensor::from_slice(&ex.labels).to_device(device),
            num_examples: ids.len(),
            preds,
            intensional_start,
            steps: world.steps,
            index,
        }
    }
}

impl CompiledTask {
    pub fn new(task: &Task, device: Device) -> Self {
        CompiledTask::with_clause_sets(task, ilp::generate_all(task), device)
    }

    /// Compiles `task`'s worlds for clauses already generated.
    pub fn with_clause_sets(task: &Task, clause_sets: Vec<ClauseSet>, device: Device) -> Self {
        let train = task
            .train
            .iter()
            .map(|w| CompiledWorld::new(task, &clause_sets, w, device))
            .collect();
        let validation = task
            .validation
            .iter()
            .map(|w| CompiledWorld::new(task, &clause_sets, w, device))
            .collect();
        CompiledTask {
            clause_sets,
            train,
            validation,
            device,
        }
    }

    /// `(K1, K2)` per intensional predicate; `K2 = 1` stands for an absent second template.
    pub fn weight_shapes(&self) -> Vec<(usize, usize)> {
        self.clause_sets
            .iter()
            .map(|cs| (cs.templates[0].len(), cs.templates[1].len().max(1)))
            .collect()
    }
}
