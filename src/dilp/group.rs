//! Up to [`L`] seeds trained together on the lane kernel ([`super::lanes`]): their weights,
//! softmax, gradients and optimiser moments stored lane by lane, packed from and unpacked to
//! per-seed [`SeedSlot`]s so that seeds can leave (early stopping) and the rest be regrouped.

use super::lanes::{backward, forward, LaneTape, L, V, ZERO};
use super::optim::{Optimizer, StepSettings};
use super::native::{Metric, SeedSlot};
use super::{Amalgamation, Loss};
use crate::dilp::kernel::SparseWorld;

/// Seeds in lanes `0..lanes`; the lanes after them repeat the last seed and are ignored.
#[derive(Debug, Clone)]
pub struct LaneGroup {
    pub lanes: usize,
    weights: Vec<Vec<V>>,
    probs: Vec<Vec<V>>,
    grads: Vec<Vec<V>>,
    first: Vec<Vec<V>>,
    second: Vec<Vec<V>>,
    tape: LaneTape,
    g_last: Vec<V>,
}

/// Lane-major copy of one array per seed: `out[i][l] = per_seed[l][i]`.
fn interleave(per_seed: &[&[f32]]) -> Vec<V> {
    let len = per_seed.first().map_or(0, |s| s.len());
    (0..len)
        .map(|i| {
            let mut v = ZERO;
            for (l, x) in v.iter_mut().enumerate() {
                *x = per_seed[l.min(per_seed.len() - 1)][i];
            }
            v
        })
        .collect()
}

fn lane(v: &[V], l: usize) -> Vec<f32> {
    v.iter().map(|x| x[l]).collect()
}

impl LaneGroup {
    /// Packs 1 to `L` seeds.
    pub fn pack(seeds: &[SeedSlot]) -> Self {
        assert!(
            !seeds.is_empty() && seeds.len() <= L,
            "1 to {L} seeds per group"
        );
        let field = |get: fn(&SeedSlot) -> &Vec<Vec<f32>>| -> Vec<Vec<V>> {
            (0..get(&seeds[0]).len())
                .map(|p| {
                    let per: Vec<&[f32]> = seeds.iter().map(|s| get(s)[p].as_slice()).collect();
                    interleave(&per)
                })
                .collect()
        };
        let weights = field(|s| &s.weights);
        let zeros: Vec<Vec<V>> = weights.iter().map(|w| vec![ZERO; w.len()]).collect();
        LaneGroup {
            lanes: seeds.len(),
            first: field(|s| &s.first),
            second: field(|s| &s.second),
            probs: zeros.clone(),
            grads: zeros,
            weights,
            tape: LaneTape::default(),
            g_last: Vec::new(),
        }
    }

    /// The seeds back, one slot each (weights and optimiser moments).
    pub fn unpack(&self) -> Vec<SeedSlot> {
        (0..self.lanes).map(|l| self.slot(l)).collect()
    }

    /// Lane `l`'s seed as a slot.
    pub fn slot(&self, l: usize) -> SeedSlot {
        let get = |f: &Vec<Vec<V>>| f.iter().map(|v| lane(v, l)).collect::<Vec<_>>();
        SeedSlot::with_moments(get(&self.weights), get(&self.first), get(&self.second))
    }

    /// Lane `l`'s weights, per predicate.
    pub fn weights(&self, l: usize) -> Vec<Vec<f32>> {
        self.weights.iter().map(|v| lane(v, l)).collect()
    }

    fn softmax(&mut self) {
        for (w, p) in self.weights.iter().zip(self.probs.iter_mut()) {
            let mut m = [f32::NEG_INFINITY; L];
            for x in w {
                for l in 0..L {
                    m[l] = m[l].max(x[l]);
                }
            }
            let mut z = ZERO;
            for (q, x) in p.iter_mut().zip(w) {
                for l in 0..L {
                    q[l] = (x[l] - m[l]).exp();
                    z[l] += q[l];
                }
            }
            for q in p.iter_mut() {
                for l in 0..L {
                    q[l] /= z[l];
                }
            }
        }
    }

    fn run(&mut self, world: &SparseWorld, amalg: Amalgamation) {
        self.softmax();
        let probs: Vec<&[V]> = self.probs.iter().map(|p| p.as_slice()).collect();
        forward(world, &probs, amalg, &mut self.tape);
    }

    /// The mean loss (`objective`) per lane over examples `pick` of `world`, leaving
    /// `∂loss/∂weights` in the group's gradients.
    pub fn gradient(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        amalg: Amalgamation,
        objective: Loss,
    ) -> [f64; L] {
        self.run(world, amalg);
        let last = self.tape.last(world);
        self.g_last.clear();
        self.g_last.resize(world.n, ZERO);
        let mut loss = [0f64; L];
        let m = pick.len().max(1) as f32;
        for &e in pick {
            let (x, y) = (world.examples[e] as usize, world.labels[e]);
            for l in 0..L {
                let (value, grad) = objective.at(last[x][l], y);
                loss[l] += f64::from(value);
                self.g_last[x][l] += grad / m;
            }
        }
        self.grads.iter_mut().for_each(|g| g.fill(ZERO));
        let probs: Vec<&[V]> = self.probs.iter().map(|p| p.as_slice()).collect();
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
            let mut dot = ZERO;
            for (g, p) in g.iter().zip(p) {
                for l in 0..L {
                    dot[l] += g[l] * p[l];
                }
            }
            for (g, p) in g.iter_mut().zip(p) {
                for l in 0..L {
                    g[l] = p[l] * (g[l] - dot[l]);
                }
            }
        }
        loss.map(|x| x / f64::from(m))
    }

    /// Lane `l`'s gradient left by the last [`LaneGroup::gradient`], per predicate.
    pub fn grads(&self, l: usize) -> Vec<Vec<f32>> {
        self.grads.iter().map(|v| lane(v, l)).collect()
    }

    fn update(&mut self, cfg: &StepSettings, t: i32) {
        let lr = cfg.lr;
        for i in 0..self.weights.len() {
            let (w, g) = (&mut self.weights[i], &self.grads[i]);
            let (m1, m2) = (&mut self.first[i], &mut self.second[i]);
            match cfg.optimizer {
                Optimizer::Rmsprop => {
                    for ((w, g), v) in w.iter_mut().zip(g).zip(m2.iter_mut()) {
                        for l in 0..L {
                            v[l] = v[l] * 0.9 + g[l] * g[l] * 0.1;
                            w[l] -= g[l] * lr / (v[l] + 1e-10).sqrt();
                        }
                    }
                }
                Optimizer::Adam => {
                    let c1 = 1.0 - 0.9f32.powi(t);
                    let c2 = 1.0 - 0.999f32.powi(t);
                    for (((w, g), m), v) in
                        w.iter_mut().zip(g).zip(m1.iter_mut()).zip(m2.iter_mut())
                    {
                        for l in 0..L {
                            m[l] = m[l] * 0.9 + g[l] * 0.1;
                            v[l] = v[l] * 0.999 + g[l] * g[l] * 0.001;
                            w[l] -= (m[l] / c1) * lr / ((v[l] / c2).sqrt() + 1e-8);
                        }
                    }
                }
            }
        }
    }

    /// One training step (step number `t`, from 1); returns each seed's mini-batch loss.
    pub fn step(
        &mut self,
        world: &SparseWorld,
        pick: &[usize],
        cfg: &StepSettings,
        t: i32,
    ) -> Vec<f64> {
        let cfg = *cfg;
        let loss = self.gradient(world, pick, cfg.amalgamation, cfg.loss);
        self.update(&cfg, t);
        loss[..self.lanes].to_vec()
    }

    /// `metric` per seed over every example of `worlds`.
    pub fn measure(
        &mut self,
        worlds: &[SparseWorld],
        amalg: Amalgamation,
        metric: Metric,
    ) -> Vec<f64> {
        let (mut total, mut worst, mut count) = ([0f64; L], [0f64; L], 0usize);
        for w in worlds {
            self.run(w, amalg);
            let last = self.tape.last(w);
            for (&x, &y) in w.examples.iter().zip(&w.labels) {
                let y = f64::from(y);
                for l in 0..L {
                    let p = f64::from(last[x as usize][l]);
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
        (0..self.lanes)
            .map(|l| match metric {
                Metric::MaxError => worst[l],
                _ => total[l] / count.max(1) as f64,
            })
            .collect()
    }
}
