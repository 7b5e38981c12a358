//! Turns a task into tensors once, before training: per world, the initial valuation, the
//! examples, and for every clause template its grid form (see [`super::grid`]): a clause can
//! only ever write its head predicate's atoms, so it is evaluated over those alone.

use super::grid::TemplateGrid;
use crate::error::{torch_err, Result};
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
    pub fn new(
        task: &Task,
        clause_sets: &[ClauseSet],
        world: &World,
        device: Device,
    ) -> Result<Self> {
        let index = task.ground_index(world);
        let n = index.len();
        let init = ilp::background_valuation(world, &index);
        let ex = ilp::examples(world, &index);
        let ids: Vec<i64> = ex.atoms.iter().map(|a| a.0 as i64).collect();
        // Intensional predicates are the last block of the index, in clause-set order.
        let intensional_start = clause_sets
            .first()
            .map_or(n, |cs| index.pred_range(cs.pred).start);
        let grid =
            |clauses: &[_]| TemplateGrid::with_fixed(clauses, &index, intensional_start, device);
        let preds: Vec<CompiledPred> = clause_sets
            .iter()
            .map(|cs| {
                Ok(CompiledPred {
                    range: index.pred_range(cs.pred),
                    templates: [grid(&cs.templates[0])?, grid(&cs.templates[1])?],
                })
            })
            .collect::<Result<_>>()?;
        debug_assert!(preds.windows(2).all(|w| w[0].range.end == w[1].range.start));
        debug_assert!(preds.last().is_none_or(|p| p.range.end == n));
        fn upload<T: tch::kind::Element>(what: &str, xs: &[T], device: Device) -> Result<Tensor> {
            Tensor::f_from_slice(xs)
                .and_then(|t| t.f_to_device(device))
                .map_err(torch_err(|| {
                    format!("copying the {what} ([{}]) to {device:?}", xs.len())
                }))
        }
        Ok(CompiledWorld {
            n,
            init: upload("initial valuation", &init, device)?,
            example_ids: upload("example atom ids", &ids, device)?,
            labels: upload("example labels", &ex.labels, device)?,
            num_examples: ids.len(),
            preds,
            intensional_start,
            steps: world.steps,
            index,
        })
    }
}

impl CompiledTask {
    pub fn new(task: &Task, device: Device) -> Result<Self> {
        CompiledTask::with_clause_sets(task, ilp::generate_all(task), device)
    }

    /// Compiles `task`'s worlds for clauses already generated.
    pub fn with_clause_sets(
        task: &Task,
        clause_sets: Vec<ClauseSet>,
        device: Device,
    ) -> Result<Self> {
        let compile = |worlds: &[World]| {
            worlds
                .iter()
                .map(|w| CompiledWorld::new(task, &clause_sets, w, device))
                .collect::<Result<Vec<_>>>()
        };
        Ok(CompiledTask {
            train: compile(&task.train)?,
            validation: compile(&task.validation)?,
            clause_sets,
            device,
        })
    }

    /// `(K1, K2)` per intensional predicate; `K2 = 1` stands for an absent second template.
    pub fn weight_shapes(&self) -> Vec<(usize, usize)> {
        self.clause_sets
            .iter()
            .map(|cs| (cs.templates[0].len(), cs.templates[1].len().max(1)))
            .collect()
    }
}
