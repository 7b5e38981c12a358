//! Seeds trained on the kernel ([`super::kernel`]), one per lane of `V`: their weights, softmax,
//! gradients and optimiser moments. [`SeedSlot`] holds one seed (`f32`), [`LaneGroup`] up to
//! eight (`f32x8`); a group is packed from slots and unpacked back to them, so that seeds can
//! leave (early stopping) and the rest be regrouped, each on its own trajectory.

use super::kernel::{backward, forward, SparseWorld, Tape};
use super::lane::Lane;
use super::optim::{Loss, Optimizer, StepSettings};
use super::perturb::{draws, Perturb};
use super::Amalgamation;
use wide::f32x8;

/// Seeds in lanes `0..lanes`; the lanes after them repeat the last seed and are ignored.
#[derive(Debug, Clone)]
pub struct Seeds<V> {
    pub lanes: usize,
    /// Each seed's number, which names its stream of logit noise.
    ids: Vec<u64>,
    /// Per predicate, the `k1 × k2` weights, lane `l` being seed `l`'s.
    pub weights: Vec<Vec<V>>,
    probs: Vec<Vec<V>>,
    grads: Vec<Vec<V>>,
    first: Vec<Vec<V>>,
    second: Vec<Vec<V>>,
    tape: Tape<V>,
    g_last: Vec<V>,
}

/// One seed.
pub type SeedSlot = Seeds<f32>;
/// Up to eight seeds trained together.
pub type LaneGroup = Seeds<f32x8>;

/// What [`Seeds::measure`] measures per seed over every example of a set of worlds.
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

impl SeedSlot {
    /// A fresh seed: weights per predicate, moments as `optimizer` starts them.
    pub fn new(weights: Vec<Vec<f32>>, optimizer: Optimizer) -> Self {
        let init = optimizer.second_moment_init();
        let second = weights.iter().map(|w| vec![init; w.len()]).collect();
        let first = weights.iter().map(|w| vec![0f32; w.len()]).collect();
        Seeds::with_moments(vec![0], weights, first, second)
    }

    /// This seed, numbered `id` (default 0): its logit noise is drawn from that number.
    pub fn with_id(mut self, id: u64) -> Self {
        self.ids = vec![id];
        self
    }

    /// The gradient left by the last [`Seeds::gradient`], per predicate.
    pub fn grads(&self) -> &[Vec<f32>] {
        &self.grads
    }
}

impl LaneGroup {
    /// Lane `l`'s gradient left by the last [`Seeds::gradient`], per predicate.
    pub fn grads(&self, l: usize) -> Vec<Vec<f32>> {
        lane_of(&self.grads, l)
    }
}

/// Softmax of `w` over the whole matrix into `p`: one seed's weights to its distribution over
/// clause pairs, lane by lane.
pub fn softmax<V: Lane>(w: &[V], p: &mut [V]) {
    let m = w.iter().fold(V::splat(f32::NEG_INFINITY), |m, &x| m.max(x));
    let mut z = V::ZERO;
    for (q, &x) in p.iter_mut().zip(w) {
        *q = (x - m).map(f32::exp);
        z += *q;
    }
    p.iter_mut().for_each(|q| *q = *q / z);
}

/// Lane `l` of every value, per predicate.
fn lane_of<V: Lane>(field: &[Vec<V>], l: usize) -> Vec<Vec<f32>> {
    field
        .iter()
        .map(|v| v.iter().map(|x| x.lane(l)).collect())
        .collect()
}

impl<V: Lane> Seeds<V> {
    fn with_moments(
        ids: Vec<u64>,
        weights: Vec<Vec<V>>,
        first: Vec<Vec<V>>,
        second: Vec<Vec<V>>,
    ) -> Self {
        let zeros: Vec<Vec<V>> = weights.iter().map(|w| vec![V::ZERO; w.len()]).collect();
        Seeds {
            lanes: ids.len(),
            ids,
            probs: zeros.clone(),
            grads: zeros,
            first,
            second,
            weights,
            tape: Tape::default(),
            g_last: Vec::new(),
        }
    }

    /// Packs 1 to `V::WIDTH` seeds, lane `l` from `seeds[l]`.
    pub fn pack(seeds: &[SeedSlot]) -> Self {
        assert!(
            !seeds.is_empty() && seeds.len() <= V::WIDTH,
            "1 to {} seeds per group",
            V::WIDTH
        );
        let field = |get: fn(&SeedSlot) -> &Vec<Vec<f32>>| -> Vec<Vec<V>> {
            (0..get(&seeds[0]).len())
                .map(|p| {
                    let at = |l: usize, i: usize| get(&seeds[l.min(seeds.len() - 1)])[p][i];
                    (0..get(&seeds[0])[p].len())
                        .map(|i| V::from_fn(|l| at(l, i)))
                        .collect()
                })
                .collect()
        };
        Seeds::with_moments(
            seeds.iter().map(|s| s.ids[0]).collect(),
            field(|s| &s.weights),
            field(|s| &s.first),
            field(|s| &s.second),
        )
    }

    /// The seeds back, one slot each (weights and optimiser moments).
    pub fn unpack(&self) -> Vec<SeedSlot> {
        (0..self.lanes).map(|l| self.slot(l)).collect()
    }

    /// Lane `l`'s seed as a slot.
    pub fn slot(&self, l: usize) -> SeedSlot {
        let get = |f: &Vec<Vec<V>>| lane_of(f, l);
        let ids = vec![self.ids[l]];
        Seeds::with_moments(ids, get(&self.weights), get(&self.first), get(&self.second))
    }

    /// Replaces lane `l`'s seed (weights, moments, number) by `slot`: a restart.
    pub fn replace(&mut self, l: usize, slot: &SeedSlot) {
        let set = |field: &mut Vec<Vec<V>>, from: &Vec<Vec<f32>>| {
            for (v, x) in field.iter_mut().zip(from) {
                for (v, &x) in v.iter_mut().zip(x) {
                    let old = *v;
                    *v = V::from_fn(|k| if k == l { x } else { old.lane(k) });
                }
            }
        };
        set(&mut self.weights, &slot.weights);
        set(&mut self.first, &slot.first);
        set(&mut self.second, &slot.second);
        self.ids[l] = slot.ids[0];
    }

    /// Lane `l`'s weights, per predicate.
    pub fn weights_of(&self, l: usize) -> Vec<Vec<f32>> {
        lane_of(&self.weights, l)
    }

    /// The pair distributions from the weights, perturbed with noise scale `sigma` (of
    /// `perturb.kind`, drawn per seed for step `t`) and divided by temperature `tau`.
    fn softmax(&mut self, perturb: &Perturb, (sigma, tau): (f32, f32), t: i32) {
        for (i, (w, p)) in self.weights.iter().zip(self.probs.iter_mut()).enumerate() {
            if sigma == 0.0 && tau == 1.0 {
                softmax(w, p);
                continue;
            }
            let noise: Vec<Vec<f32>> = if sigma == 0.0 {
                Vec::new()
            } else {
                let draw = |&id: &u64| draws(perturb.kind, id, t, i, w.len());
                self.ids.iter().map(draw).collect()
            };
            let last = self.lanes - 1;
            let (sigma, inv) = (V::splat(sigma), V::splat(1.0 / tau));
            let z: Vec<V> = w
                .iter()
                .enumerate()
                .map(|(j, &x)| {
                    if noise.is_empty() {
                        x * inv
                    } else {
                        (x + V::from_fn(|l| noise[l.min(last)][j]) * sigma) * inv
                    }
                })
                .collect();
            softmax(&z, p);
        }
    }

    /// A forward pass on `world` with the current weights.
    fn run(&mut self, world: &SparseWorld, amalg: Amalgamation) {
        self.softmax(&Perturb::default(), (0.0, 1.0), 0);
        self.forward(world, amalg);
    }

    fn forward(&mut self, world: &SparseWorld, amalg: Amalgamation) {
        let probs: Vec<&[V]> = self.probs.iter().map(|p| p.as_slice()).collect();
        forward(world, &probs, amalg, &mut self.tape);
    }

    /// Predictions at `atoms` of lane 0 after a forward pass on `world`.
    pub fn predict(&mut self, world: &SparseWorld, amalg: Amalgamation, atoms: &[u32]) -> Vec<f32> {
        self.run(world, amalg);
        let last = self.tape.last(world);
        atoms.iter().map(|&x| last[x as usize].lane(0)).collect()
    }

    /// The mean loss (`objective`) per seed over examples `pick` of `world`, leaving
    /// `∂loss/∂weights` in the gradients.
    pub fn gradient(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        amalg: Amalgamation,
        objective: Loss,
    ) -> Vec<f64> {
        self.perturbed_gradient(world, pick, amalg, objective, (&Perturb::default(), 0))
    }

    /// [`Seeds::gradient`] through the softmax perturbed as `perturb` says at step `t`.
    fn perturbed_gradient(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        amalg: Amalgamation,
        objective: Loss,
        (perturb, t): (&Perturb, i32),
    ) -> Vec<f64> {
        let (sigma, tau) = if perturb.is_active() {
            perturb.at(t)
        } else {
            (0.0, 1.0)
        };
        self.softmax(perturb, (sigma, tau), t);
        self.forward(world, amalg);
        let last = self.tape.last(world);
        self.g_last.clear();
        self.g_last.resize(world.n, V::ZERO);
        let mut loss = vec![0f64; V::WIDTH];
        let m = pick.len().max(1) as f32;
        for &e in pick {
            let (x, y) = (world.examples[e] as usize, world.labels[e]);
            let g = V::from_fn(|l| {
                let (value, grad) = objective.at(last[x].lane(l), y);
                loss[l] += f64::from(value);
                grad / m
            });
            self.g_last[x] += g;
        }
        self.grads.iter_mut().for_each(|g| g.fill(V::ZERO));
        let probs: Vec<&[V]> = self.probs.iter().map(|p| p.as_slice()).collect();
        let tape = &mut self.tape;
        backward(world, &probs, amalg, tape, &self.g_last, &mut self.grads);
        // Softmax backward over each whole matrix: g_w = p ⊙ (g_p − ⟨p, g_p⟩) / τ (the noise
        // is added to the weights, so it passes the gradient unchanged).
        let inv = V::splat(1.0 / tau);
        for (g, p) in self.grads.iter_mut().zip(&self.probs) {
            let mut dot = V::ZERO;
            for (&g, &p) in g.iter().zip(p) {
                dot += g * p;
            }
            for (g, &p) in g.iter_mut().zip(p) {
                *g = p * (*g - dot) * inv;
            }
        }
        loss.truncate(self.lanes);
        loss.iter().map(|x| x / f64::from(m)).collect()
    }

    /// One training step (number `t`, from 1) on examples `pick` of `world`; returns each
    /// seed's mini-batch loss.
    pub fn step(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        cfg: impl Into<StepSettings>,
        t: i32,
    ) -> Vec<f64> {
        let cfg = cfg.into();
        let perturb = (&cfg.perturb, t);
        let loss = self.perturbed_gradient(world, pick, cfg.amalgamation, cfg.loss, perturb);
        for (i, w) in self.weights.iter_mut().enumerate() {
            let (g, m1, m2) = (&self.grads[i], &mut self.first[i], &mut self.second[i]);
            cfg.optimizer.update(cfg.lr, t, w, g, m1, m2);
        }
        loss
    }

    /// `metric` per seed over every example of `worlds`.
    pub fn measure(
        &mut self,
        worlds: &[SparseWorld],
        amalg: Amalgamation,
        metric: Metric,
    ) -> Vec<f64> {
        let (mut total, mut worst, mut count) = (vec![0f64; self.lanes], vec![0f64; self.lanes], 0);
        for w in worlds {
            self.run(w, amalg);
            let last = self.tape.last(w);
            for (&x, &y) in w.examples.iter().zip(&w.labels) {
                let y = f64::from(y);
                for l in 0..self.lanes {
                    let p = f64::from(last[x as usize].lane(l));
                    match metric {
                        Metric::Bce => {
                            let q = p.clamp(1e-7, 1.0 - 1e-7);
                            total[l] -= y * q.ln() + (1.0 - y) * (1.0 - q).ln();
                        }
                        Metric::SquaredError => total[l] += (p - y) * (p - y),
                        Metric::AbsError => total[l] += (p - y).abs(),
                        Metric::MaxError => worst[l] = worst[l].max((p - y).abs()),
                    }
                }
            }
            count += w.examples.len();
        }
        match metric {
            Metric::MaxError => worst,
            _ => total.iter().map(|t| t / count.max(1) as f64).collect(),
        }
    }
}
