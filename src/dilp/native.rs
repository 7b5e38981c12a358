//! Training seeds on the CPU kernel ([`super::kernel`]): each seed owns its weights, optimiser
//! state and tape, so a step is "for every seed: softmax, forward, loss, backward, update", and
//! seeds are split across threads. A seed's arithmetic does not depend on which thread or batch
//! it runs in, so results depend only on the seed.

use super::group::LaneGroup;
use super::kernel::{backward, forward, SparseWorld, Tape};
use super::lanes::L;
use super::optim::{Optimizer, StepSettings};
use super::{Amalgamation, Loss};

/// One initialisation: per predicate, weights, softmax, gradient and optimiser moments.
#[derive(Debug, Clone)]
pub struct SeedSlot {
    pub weights: Vec<Vec<f32>>,
    probs: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    pub(super) first: Vec<Vec<f32>>,
    pub(super) second: Vec<Vec<f32>>,
    tape: Tape,
    g_last: Vec<f32>,
}

impl SeedSlot {
    pub fn new(weights: Vec<Vec<f32>>, optimizer: Optimizer) -> Self {
        let zeros = |v: &Vec<Vec<f32>>| v.iter().map(|w| vec![0f32; w.len()]).collect::<Vec<_>>();
        let second = match optimizer {
            Optimizer::Rmsprop => weights.iter().map(|w| vec![1f32; w.len()]).collect(),
            Optimizer::Adam => zeros(&weights),
        };
        SeedSlot {
            probs: zeros(&weights),
            grads: zeros(&weights),
            first: zeros(&weights),
            second,
            weights,
            tape: Tape::default(),
            g_last: Vec::new(),
        }
    }

    /// A slot with given optimiser moments (as unpacked from a lane group).
    pub fn with_moments(
        weights: Vec<Vec<f32>>,
        first: Vec<Vec<f32>>,
        second: Vec<Vec<f32>>,
    ) -> Self {
        let mut s = SeedSlot::new(weights, Optimizer::Adam);
        s.first = first;
        s.second = second;
        s
    }

    fn softmax(&mut self) {
        for (w, p) in self.weights.iter().zip(self.probs.iter_mut()) {
            let m = w.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut z = 0f32;
            for (q, &x) in p.iter_mut().zip(w) {
                *q = (x - m).exp();
                z += *q;
            }
            p.iter_mut().for_each(|q| *q /= z);
        }
    }

    /// Predictions at `atoms` after a forward pass on `world` with the current weights.
    pub fn predict(&mut self, world: &SparseWorld, amalg: Amalgamation, atoms: &[u32]) -> Vec<f32> {
        self.softmax();
        let probs: Vec<&[f32]> = self.probs.iter().map(|p| p.as_slice()).collect();
        forward(world, &probs, amalg, &mut self.tape);
        let last = self.tape.last(world);
        atoms.iter().map(|&x| last[x as usize]).collect()
    }

    /// One training step (number `t`, from 1) on examples `pick` of `world`; returns the
    /// mini-batch's mean loss (`cfg.loss`).
    pub fn step(&mut self, world: &SparseWorld, pick: &[usize], cfg: impl Into<StepSettings>, t: i32) -> f64 {
        let cfg = cfg.into();
        let loss = self.gradient(world, pick, cfg.amalgamation, cfg.loss);
        self.update(&cfg, t);
        loss
    }

    /// The mean loss (`objective`) over examples `pick` of `world`, leaving `∂loss/∂weights` in
    /// [`SeedSlot::grads`].
    pub fn gradient(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        amalg: Amalgamation,
        objective: Loss,
    ) -> f64 {
        self.softmax();
        let probs: Vec<&[f32]> = self.probs.iter().map(|p| p.as_slice()).collect();
        forward(world, &probs, amalg, &mut self.tape);
        let last = self.tape.last(world);
        self.g_last.clear();
        self.g_last.resize(world.n, 0.0);
        let mut loss = 0f64;
        let m = pick.len().max(1) as f32;
        for &e in pick {
            let (x, y) = (world.examples[e] as usize, world.labels[e]);
            let (value, grad) = objective.at(last[x], y);
            loss += f64::from(value);
            self.g_last[x] += grad / m;
        }
        self.grads.iter_mut().for_each(|g| g.fill(0.0));
        backward(
            world,
            &probs,
            amalg,
            &mut self.tape,
            &self.g_last,
            &mut self.grads,
        );
        // Softmax backward over each whole matrix: g_w = p ⊙ (g_p − ⟨p, g_p⟩).
        for (g, p) in self.grads.iter_mut().zip(&self.probs) {
            let dot: f32 = g.iter().zip(p).map(|(a, b)| a * b).sum();
            g.iter_mut().zip(p).for_each(|(g, &p)| *g = p * (*g - dot));
        }
        loss / f64::from(m)
    }

    /// The gradient left by the last [`SeedSlot::gradient`], per predicate.
    pub fn grads(&self) -> &[Vec<f32>] {
        &self.grads
    }

    fn update(&mut self, cfg: &StepSettings, t: i32) {
        let lr = cfg.lr;
        for i in 0..self.weights.len() {
            let (w, g) = (&mut self.weights[i], &self.grads[i]);
            let (m1, m2) = (&mut self.first[i], &mut self.second[i]);
            match cfg.optimizer {
                Optimizer::Rmsprop => {
                    for ((w, &g), v) in w.iter_mut().zip(g).zip(m2.iter_mut()) {
                        *v = *v * 0.9 + g * g * 0.1;
                        *w -= g * lr / (*v + 1e-10).sqrt();
                    }
                }
                Optimizer::Adam => {
                    let c1 = 1.0 - 0.9f32.powi(t);
                    let c2 = 1.0 - 0.999f32.powi(t);
                    for (((w, &g), m), v) in
                        w.iter_mut().zip(g).zip(m1.iter_mut()).zip(m2.iter_mut())
                    {
                        *m = *m * 0.9 + g * 0.1;
                        *v = *v * 0.999 + g * g * 0.001;
                        *w -= (*m / c1) * lr / ((*v / c2).sqrt() + 1e-8);
                    }
                }
            }
        }
    }
}

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
        self.each(|g| g.step(world, pick, &cfg, t))
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
            .flat_map(|g| (0..g.lanes).map(|l| g.weights(l)))
            .collect()
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

/// What [`NativeTrainer::evaluate`] measures per seed over every example of a set of worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Mean binary cross-entropy (the training loss).
    Bce,
    /// Mean squared error (the paper's validation criterion).
    SquaredError,
    /// Mean absolute error (the `mae` training loss).
    AbsError,
    /// Largest |prediction − label|.
    MaxError,
}
