//! Training many seeds on the CPU kernel: seeds are packed eight to a [`LaneGroup`] and the
//! groups split across threads. A seed's arithmetic does not depend on its lane, its group or
//! the thread count, so results depend only on the seed.

use super::kernel::SparseWorld;
use super::optim::StepSettings;
pub use super::seeds::{LaneGroup, Metric, SeedSlot};
use super::Amalgamation;
use wide::f32x8;

/// Seeds per lane group.
pub const L: usize = 8;

/// All seeds being trained, [`L`] to a lane group, groups split across threads.
#[derive(Debug)]
pub struct NativeTrainer {
    groups: Vec<LaneGroup>,
    pub threads: usize,
    t: i32,
}

impl NativeTrainer {
    pub fn new(slots: Vec<SeedSlot>, threads: usize) -> Self {
        NativeTrainer {
            groups: slots.chunks(L).map(LaneGroup::pack).collect(),
            threads: threads.max(1),
            t: 0,
        }
    }

    /// Seeds being trained.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.lanes).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// `work` on every group, groups split across threads; the results in seed order.
    fn each<F>(&mut self, work: F) -> Vec<f64>
    where
        F: Fn(&mut LaneGroup) -> Vec<f64> + Sync,
    {
        let per = self.groups.len().div_ceil(self.threads).max(1);
        if self.threads == 1 || self.groups.len() <= 1 {
            return self.groups.iter_mut().flat_map(&work).collect();
        }
        let work = &work;
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .groups
                .chunks_mut(per)
                .map(|chunk| {
                    scope.spawn(move || chunk.iter_mut().flat_map(work).collect::<Vec<f64>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a training thread panicked"))
                .collect()
        })
    }

    /// One step for every seed on the same examples; returns each seed's mini-batch loss.
    pub fn step(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        cfg: impl Into<StepSettings>,
    ) -> Vec<f64> {
        let cfg = cfg.into();
        self.t += 1;
        let t = self.t;
        self.each(|g| g.step(world, pick, cfg, t))
    }

    /// `metric` for every seed over every example of `worlds`.
    pub fn evaluate(
        &mut self,
        worlds: &[SparseWorld],
        amalg: Amalgamation,
        metric: Metric,
    ) -> Vec<f64> {
        self.each(|g| g.measure(worlds, amalg, metric))
    }

    /// `metric` for the seeds at positions `which` (increasing) only, in that order.
    pub fn evaluate_some(
        &self,
        which: &[usize],
        worlds: &[SparseWorld],
        amalg: Amalgamation,
        metric: Metric,
    ) -> Vec<f64> {
        let mut slots = Vec::with_capacity(which.len());
        let (mut base, mut want) = (0, which.iter().peekable());
        for g in &self.groups {
            while let Some(&&i) = want.peek() {
                if i >= base + g.lanes {
                    break;
                }
                slots.push(g.slot(i - base));
                want.next();
            }
            base += g.lanes;
        }
        if slots.is_empty() {
            return Vec::new();
        }
        NativeTrainer::new(slots, self.threads).evaluate(worlds, amalg, metric)
    }

    /// Each seed's weights, per predicate.
    pub fn weights(&self) -> Vec<Vec<Vec<f32>>> {
        self.groups
            .iter()
            .flat_map(|g| (0..g.lanes).map(|l| g.weights_of(l)))
            .collect()
    }

    /// Replaces the seed at position `pos` by `slot` (a restart), in place.
    pub fn replace(&mut self, pos: usize, slot: &SeedSlot) {
        let mut base = 0;
        for g in &mut self.groups {
            if pos < base + g.lanes {
                return g.replace(pos - base, slot);
            }
            base += g.lanes;
        }
        panic!("no seed at position {pos}");
    }

    /// Keeps the seeds whose positions are in `keep` (in order), regrouped.
    pub fn retain(&mut self, keep: &[usize]) {
        let mut old: Vec<Option<SeedSlot>> = self
            .groups
            .iter()
            .flat_map(|g| g.unpack())
            .map(Some)
            .collect();
        let kept: Vec<SeedSlot> = keep.iter().filter_map(|&i| old[i].take()).collect();
        self.groups = kept.chunks(L).map(LaneGroup::pack).collect();
    }
}

/// Bytes of one lane group's tape on `world`.
pub fn tape_bytes(world: &SparseWorld) -> f64 {
    super::kernel::tape_bytes::<f32x8>(world)
}
