//! A hand-written CPU kernel for ∂ILP on symbolic tasks: the paper's forward pass (product
//! t-norm, max over groundings, softmax-weighted clause pairs, amalgamation, T steps) and its
//! exact backward pass, for one seed at a time, with no tensor library in the loop.
//!
//! Why it exists: on small tasks LibTorch spends far more time creating autograd nodes than
//! computing, and on large ones the dense grid does work whose result is known to be zero. Here
//! each clause keeps, per head atom, only the groundings whose body atoms can ever be non-zero
//! (a grounding with ⊥ or with an extensional atom absent from the background is 0 at every
//! step, because extensional atoms never change), and the backward pass only visits what has a
//! gradient. Ties are broken exactly as LibTorch breaks them (`amax` shares the gradient evenly
//! among equal cells, pruned zero cells included; `maximum` halves it), so gradients agree with
//! the tensor path to rounding; a test holds the two together.

use super::Amalgamation;
use crate::ilp::{self, ClauseSet, GroundIndex, Task, World};
use crate::logic::Clause;

/// One rule template over one world, as a sparse list of live groundings per (head, clause).
#[derive(Debug, Clone)]
pub struct SparseTemplate {
    pub k: usize,
    pub heads: usize,
    /// `|C|^v`: groundings per head atom before pruning.
    pub width: usize,
    /// Groundings of clause `j` at head `h` are `pairs[offsets[h * k + j]..offsets[h * k + j + 1]]`.
    offsets: Vec<u32>,
    pairs: Vec<[u32; 2]>,
}

impl SparseTemplate {
    fn new(clauses: &[Clause], index: &GroundIndex, init: &[f32], fixed: usize) -> Option<Self> {
        let first = clauses.first()?;
        let head_range = index.pred_range(first.head.pred);
        let heads = head_range.len();
        let all: Vec<ilp::IndexPairs> =
            clauses.iter().map(|c| ilp::index_pairs(c, index)).collect();
        let width = all.iter().map(|p| p.width).max().unwrap_or(1);
        let dead = |x: u32| x == 0 || ((x as usize) < fixed && init[x as usize] == 0.0);
        let mut offsets = Vec::with_capacity(heads * clauses.len() + 1);
        let mut pairs = Vec::new();
        offsets.push(0);
        for h in 0..heads {
            for ip in &all {
                debug_assert_eq!(ip.head_range, head_range);
                let row = &ip.pairs[h * ip.width..(h + 1) * ip.width];
                pairs.extend(row.iter().filter(|[x, y]| !dead(*x) && !dead(*y)));
                offsets.push(pairs.len() as u32);
            }
        }
        Some(SparseTemplate {
            k: clauses.len(),
            heads,
            width,
            offsets,
            pairs,
        })
    }

    /// Live groundings kept, out of `heads × k × width`.
    pub fn live(&self) -> usize {
        self.pairs.len()
    }

    fn cell(&self, h: usize, j: usize) -> &[[u32; 2]] {
        let i = h * self.k + j;
        &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// `f[h * k + j] = F_j(a)` at head `h`.
    fn forward(&self, a: &[f32], f: &mut [f32]) {
        for (i, out) in f.iter_mut().enumerate().take(self.heads * self.k) {
            let r = &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
            *out = r
                .iter()
                .map(|&[x, y]| a[x as usize] * a[y as usize])
                .fold(0.0, f32::max);
        }
    }

    /// Adds `∂L/∂a` to `ga` given `gf = ∂L/∂f` (same layout as `forward`'s output).
    fn backward(&self, a: &[f32], gf: &[f32], ga: &mut [f32]) {
        for h in 0..self.heads {
            for j in 0..self.k {
                let g = gf[h * self.k + j];
                if g == 0.0 {
                    continue;
                }
                let r = self.cell(h, j);
                let m = r
                    .iter()
                    .map(|&[x, y]| a[x as usize] * a[y as usize])
                    .fold(0.0, f32::max);
                let mut ties = r
                    .iter()
                    .filter(|&&[x, y]| a[x as usize] * a[y as usize] == m)
                    .count();
                if m == 0.0 {
                    ties += self.width - r.len();
                }
                let share = g / ties as f32;
                for &[x, y] in r {
                    let (x, y) = (x as usize, y as usize);
                    if a[x] * a[y] == m {
                        let (ax, ay) = (a[x], a[y]);
                        ga[x] += share * ay;
                        ga[y] += share * ax;
                    }
                }
            }
        }
    }
}

/// One intensional predicate: its block of atoms and its one or two templates.
#[derive(Debug, Clone)]
pub struct SparsePred {
    pub start: usize,
    pub heads: usize,
    pub k1: usize,
    /// 1 when the second template is absent.
    pub k2: usize,
    pub t1: SparseTemplate,
    pub t2: Option<SparseTemplate>,
}

/// One world, compiled for the kernel.
#[derive(Debug, Clone)]
pub struct SparseWorld {
    pub n: usize,
    /// First intensional atom id.
    pub fixed: usize,
    pub init: Vec<f32>,
    pub examples: Vec<u32>,
    pub labels: Vec<f32>,
    pub preds: Vec<SparsePred>,
    pub steps: usize,
}

impl SparseWorld {
    /// Compiles `world` with the same atom order as [`super::CompiledWorld`].
    pub fn new(task: &Task, clause_sets: &[ClauseSet], world: &World) -> Self {
        let order = task.preds_in_index_order();
        let index = GroundIndex::new(&task.vocab, &order, &world.constants);
        let n = index.len();
        let mut init = vec![0f32; n];
        for id in ilp::background_ids(world, &index) {
            init[id.index()] = 1.0;
        }
        let fixed = clause_sets
            .first()
            .map_or(n, |cs| index.pred_range(cs.pred).start);
        let preds = clause_sets
            .iter()
            .map(|cs| {
                let range = index.pred_range(cs.pred);
                let t1 = SparseTemplate::new(&cs.templates[0], &index, &init, fixed)
                    .expect("every intensional predicate has a first template");
                let t2 = SparseTemplate::new(&cs.templates[1], &index, &init, fixed);
                SparsePred {
                    start: range.start,
                    heads: range.len(),
                    k1: t1.k,
                    k2: t2.as_ref().map_or(1, |t| t.k),
                    t1,
                    t2,
                }
            })
            .collect();
        let ex = ilp::examples(world, &index);
        SparseWorld {
            n,
            fixed,
            init,
            examples: ex.atoms.iter().map(|a| a.0).collect(),
            labels: ex.labels,
            preds,
            steps: world.steps,
        }
    }

    /// Floats of clause values per step.
    fn f_len(&self) -> usize {
        self.preds
            .iter()
            .map(|p| p.heads * (p.k1 + p.t2.as_ref().map_or(0, |t| t.k)))
            .sum()
    }
}

/// Everything the backward pass needs from one forward pass, reused between steps.
#[derive(Debug, Default, Clone)]
pub struct Tape {
    /// `a_0 … a_T`, `n` each.
    a: Vec<f32>,
    /// Clause values per step.
    f: Vec<f32>,
    /// New conclusions `s_t` per step, over the intensional block.
    s: Vec<f32>,
    ga: Vec<f32>,
    ga_next: Vec<f32>,
    gf: Vec<f32>,
}

impl Tape {
    /// The final valuation `a_T` of the last forward pass.
    pub fn last(&self, world: &SparseWorld) -> &[f32] {
        &self.a[world.steps * world.n..(world.steps + 1) * world.n]
    }
}

/// Σ_jk p[j,k] · max(f1[h,j], f2[h,k]) for every head `h`.
fn mix(p: &[f32], pred: &SparsePred, f1: &[f32], f2: Option<&[f32]>, out: &mut [f32]) {
    let (k1, k2) = (pred.k1, pred.k2);
    for (h, o) in out.iter_mut().enumerate() {
        let r1 = &f1[h * k1..(h + 1) * k1];
        *o = match f2 {
            None => r1.iter().zip(p).map(|(f, w)| f * w).sum(),
            Some(f2) => {
                let r2 = &f2[h * k2..(h + 1) * k2];
                let mut acc = 0f32;
                for (j, &x) in r1.iter().enumerate() {
                    let row = &p[j * k2..(j + 1) * k2];
                    acc += row.iter().zip(r2).map(|(w, &y)| w * x.max(y)).sum::<f32>();
                }
                acc
            }
        };
    }
}

/// Backward of [`mix`]: adds to `gp`, writes `gf1` and `gf2`.
#[allow(clippy::too_many_arguments)]
fn mix_backward(
    p: &[f32],
    pred: &SparsePred,
    f1: &[f32],
    f2: Option<&[f32]>,
    gs: &[f32],
    gp: &mut [f32],
    gf1: &mut [f32],
    gf2: &mut [f32],
) {
    let (k1, k2) = (pred.k1, pred.k2);
    gf1.fill(0.0);
    gf2.fill(0.0);
    for (h, &g) in gs.iter().enumerate() {
        if g == 0.0 {
            continue;
        }
        let r1 = &f1[h * k1..(h + 1) * k1];
        match f2 {
            None => {
                for j in 0..k1 {
                    gp[j] += g * r1[j];
                    gf1[h * k1 + j] += g * p[j];
                }
            }
            Some(f2) => {
                let r2 = &f2[h * k2..(h + 1) * k2];
                let g2 = &mut gf2[h * k2..(h + 1) * k2];
                for (j, &x) in r1.iter().enumerate() {
                    let row = &p[j * k2..(j + 1) * k2];
                    let gp_row = &mut gp[j * k2..(j + 1) * k2];
                    let mut g1 = 0f32;
                    for k in 0..k2 {
                        let y = r2[k];
                        let w = g * row[k];
                        gp_row[k] += g * x.max(y);
                        if x > y {
                            g1 += w;
                        } else if y > x {
                            g2[k] += w;
                        } else {
                            g1 += 0.5 * w;
                            g2[k] += 0.5 * w;
                        }
                    }
                    gf1[h * k1 + j] += g1;
                }
            }
        }
    }
}

/// Runs `world.steps` steps from the initial valuation with pair distributions `probs` (one
/// `k1 × k2` slice per predicate), recording what [`backward`] needs.
pub fn forward(world: &SparseWorld, probs: &[&[f32]], amalg: Amalgamation, tape: &mut Tape) {
    let (n, t_max, fl) = (world.n, world.steps, world.f_len());
    let ni = n - world.fixed;
    tape.a.resize((t_max + 1) * n, 0.0);
    tape.f.resize(t_max * fl, 0.0);
    tape.s.resize(t_max * ni, 0.0);
    tape.a[..n].copy_from_slice(&world.init);
    for t in 0..t_max {
        let (done, rest) = tape.a.split_at_mut((t + 1) * n);
        let a = &done[t * n..];
        let next = &mut rest[..n];
        let f = &mut tape.f[t * fl..(t + 1) * fl];
        let s = &mut tape.s[t * ni..(t + 1) * ni];
        let mut off = 0;
        for (pred, p) in world.preds.iter().zip(probs) {
            let l1 = pred.heads * pred.k1;
            let l2 = pred.t2.as_ref().map_or(0, |t| pred.heads * t.k);
            let (f1, tail) = f[off..off + l1 + l2].split_at_mut(l1);
            pred.t1.forward(a, f1);
            if let Some(t2) = &pred.t2 {
                t2.forward(a, tail);
            }
            let f2 = pred.t2.as_ref().map(|_| &*tail);
            let lo = pred.start - world.fixed;
            mix(p, pred, f1, f2, &mut s[lo..lo + pred.heads]);
            off += l1 + l2;
        }
        next[..world.fixed].copy_from_slice(&a[..world.fixed]);
        for ((o, &x), &y) in next[world.fixed..]
            .iter_mut()
            .zip(&a[world.fixed..])
            .zip(&*s)
        {
            *o = match amalg {
                Amalgamation::ProbSum => x + y - x * y,
                Amalgamation::Max => x.max(y),
            };
        }
    }
}

/// Given `g_last = ∂L/∂a_T`, adds `∂L/∂p` to `gp` (one slice per predicate, like `probs`).
pub fn backward(
    world: &SparseWorld,
    probs: &[&[f32]],
    amalg: Amalgamation,
    tape: &mut Tape,
    g_last: &[f32],
    gp: &mut [Vec<f32>],
) {
    let (n, fl) = (world.n, world.f_len());
    let ni = n - world.fixed;
    let gf_len = world
        .preds
        .iter()
        .map(|p| p.heads * p.k1.max(p.t2.as_ref().map_or(0, |t| t.k)))
        .max()
        .unwrap_or(0);
    tape.ga.resize(n, 0.0);
    tape.ga_next.resize(n, 0.0);
    tape.gf.resize(2 * gf_len, 0.0);
    tape.ga_next.copy_from_slice(g_last);
    let mut gs = vec![0f32; ni];
    for t in (0..world.steps).rev() {
        let a = &tape.a[t * n..(t + 1) * n];
        let s = &tape.s[t * ni..(t + 1) * ni];
        let f = &tape.f[t * fl..(t + 1) * fl];
        tape.ga.fill(0.0);
        for i in 0..ni {
            let (g, x, y) = (tape.ga_next[world.fixed + i], a[world.fixed + i], s[i]);
            let (gx, gy) = match amalg {
                Amalgamation::ProbSum => (g * (1.0 - y), g * (1.0 - x)),
                Amalgamation::Max if x > y => (g, 0.0),
                Amalgamation::Max if y > x => (0.0, g),
                Amalgamation::Max => (0.5 * g, 0.5 * g),
            };
            tape.ga[world.fixed + i] = gx;
            gs[i] = gy;
        }
        let mut off = 0;
        for ((pred, p), gp) in world.preds.iter().zip(probs).zip(gp.iter_mut()) {
            let l1 = pred.heads * pred.k1;
            let l2 = pred.t2.as_ref().map_or(0, |t| pred.heads * t.k);
            let (f1, f2) = f[off..off + l1 + l2].split_at(l1);
            let f2 = pred.t2.as_ref().map(|_| f2);
            let lo = pred.start - world.fixed;
            let (gf1, gf2) = tape.gf.split_at_mut(gf_len);
            let (gf1, gf2) = (&mut gf1[..l1], &mut gf2[..l2]);
            mix_backward(p, pred, f1, f2, &gs[lo..lo + pred.heads], gp, gf1, gf2);
            pred.t1.backward(a, gf1, &mut tape.ga);
            if let Some(t2) = &pred.t2 {
                t2.backward(a, gf2, &mut tape.ga);
            }
            off += l1 + l2;
        }
        std::mem::swap(&mut tape.ga, &mut tape.ga_next);
    }
}
