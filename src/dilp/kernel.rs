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
    pub(super) offsets: Vec<u32>,
    pub(super) pairs: Vec<[u32; 2]>,
    /// Clauses with at least one live grounding at head `h`:
    /// `active[active_at[h]..active_at[h + 1]]`, increasing. The others are 0 there forever.
    active_at: Vec<u32>,
    active: Vec<u32>,
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
        let mut t = SparseTemplate {
            k: clauses.len(),
            heads,
            width,
            offsets,
            pairs,
            active_at: Vec::new(),
            active: Vec::new(),
        };
        t.index_active();
        Some(t)
    }

    fn index_active(&mut self) {
        self.active_at = vec![0];
        self.active.clear();
        for h in 0..self.heads {
            for j in 0..self.k {
                if !self.cell(h, j).is_empty() {
                    self.active.push(j as u32);
                }
            }
            self.active_at.push(self.active.len() as u32);
        }
    }

    /// Drops groundings that use an atom outside `live`.
    fn prune(&mut self, live: &[bool]) {
        let mut offsets = Vec::with_capacity(self.offsets.len());
        let mut pairs = Vec::with_capacity(self.pairs.len());
        offsets.push(0);
        for i in 0..self.heads * self.k {
            let r = &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
            pairs.extend(
                r.iter()
                    .filter(|[x, y]| live[*x as usize] && live[*y as usize]),
            );
            offsets.push(pairs.len() as u32);
        }
        self.offsets = offsets;
        self.pairs = pairs;
        self.index_active();
    }

    /// Marks head atoms (block starting at `start`) that some live grounding can derive.
    fn derive(&self, start: usize, live: &mut [bool]) -> bool {
        let mut changed = false;
        for h in 0..self.heads {
            if live[start + h] {
                continue;
            }
            let any = (0..self.k).any(|j| {
                self.cell(h, j)
                    .iter()
                    .any(|[x, y]| live[*x as usize] && live[*y as usize])
            });
            if any {
                live[start + h] = true;
                changed = true;
            }
        }
        changed
    }

    /// The clauses that can be non-zero at head `h`.
    pub(super) fn active_at(&self, h: usize) -> &[u32] {
        &self.active[self.active_at[h] as usize..self.active_at[h + 1] as usize]
    }

    /// Positions of head `h`'s active clauses in the list of all active cells (head-major).
    pub(super) fn span(&self, h: usize) -> std::ops::Range<usize> {
        self.active_at[h] as usize..self.active_at[h + 1] as usize
    }

    /// Cells with a live grounding.
    pub(super) fn cells(&self) -> usize {
        self.active.len()
    }

    /// Live groundings kept, out of `heads × k × width`.
    pub fn live(&self) -> usize {
        self.pairs.len()
    }

    pub(super) fn cell(&self, h: usize, j: usize) -> &[[u32; 2]] {
        let i = h * self.k + j;
        &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// `f[h * k + j] = F_j(a)` at head `h`.
    fn forward(&self, a: &[f32], f: &mut [f32], arg: &mut [u32]) {
        for (i, (out, arg)) in f.iter_mut().zip(arg.iter_mut()).enumerate() {
            let r = &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
            // The max, its first position and how many cells attain it (LibTorch shares the
            // gradient among all of them, the pruned zero cells included).
            let (mut m, mut at, mut ties) = (0f32, NONE, 0u32);
            for (g, &[x, y]) in r.iter().enumerate() {
                let v = a[x as usize] * a[y as usize];
                if v > m {
                    (m, at, ties) = (v, g as u32, 1);
                } else if v == m {
                    if at == NONE {
                        at = g as u32;
                    }
                    ties += 1;
                }
            }
            if m == 0.0 {
                ties += (self.width - r.len()) as u32;
            }
            *out = m;
            *arg = if ties == 1 { at } else { NONE };
        }
    }

    /// Adds `∂L/∂a` to `ga` given `gf = ∂L/∂f` (same layout as `forward`'s output) and the
    /// forward pass's values `f` and unique argmax positions `arg`.
    fn backward(&self, a: &[f32], f: &[f32], arg: &[u32], gf: &[f32], ga: &mut [f32]) {
        for (i, &g) in gf.iter().enumerate() {
            if g == 0.0 {
                continue;
            }
            let r = &self.pairs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
            if arg[i] != NONE {
                let [x, y] = r[arg[i] as usize];
                let (x, y) = (x as usize, y as usize);
                let (ax, ay) = (a[x], a[y]);
                ga[x] += g * ay;
                ga[y] += g * ax;
                continue;
            }
            let m = f[i];
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

/// "No unique argmax" in [`Tape`]'s argmax positions.
const NONE: u32 = u32::MAX;

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
        let index = task.ground_index(world);
        let n = index.len();
        let init = ilp::background_valuation(world, &index);
        let fixed = clause_sets
            .first()
            .map_or(n, |cs| index.pred_range(cs.pred).start);
        let preds: Vec<SparsePred> = clause_sets
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
        // Atoms no program in the templates can ever make non-zero: the fixpoint of "derivable
        // from live atoms by some clause", starting from the background.
        let mut preds: Vec<SparsePred> = preds;
        let mut live: Vec<bool> = init.iter().map(|&x| x > 0.0).collect();
        let mut changed = true;
        while changed {
            changed = false;
            for p in &preds {
                changed |= p.t1.derive(p.start, &mut live);
                if let Some(t2) = &p.t2 {
                    changed |= t2.derive(p.start, &mut live);
                }
            }
        }
        for p in &mut preds {
            p.t1.prune(&live);
            if let Some(t2) = &mut p.t2 {
                t2.prune(&live);
            }
        }
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

    /// Bytes of the compiled groundings.
    pub fn compiled_bytes(&self) -> f64 {
        self.preds
            .iter()
            .flat_map(|p| std::iter::once(&p.t1).chain(&p.t2))
            .map(|t| 8.0 * t.live() as f64 + 8.0 * (t.heads * t.k) as f64)
            .sum()
    }

    /// Floats of clause values per step.
    pub(super) fn f_len(&self) -> usize {
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
    /// Per clause value, the grounding that attains it when it is the only one.
    arg: Vec<u32>,
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

/// Row sums (`k1`) then column sums (`k2`) of a predicate's pair distribution.
fn pair_sums(p: &[f32], k1: usize, k2: usize) -> Vec<f32> {
    let mut out = vec![0f32; k1 + k2];
    for j in 0..k1 {
        for k in 0..k2 {
            out[j] += p[j * k2 + k];
            out[k1 + k] += p[j * k2 + k];
        }
    }
    out
}

fn all_pair_sums(world: &SparseWorld, probs: &[&[f32]]) -> Vec<Vec<f32>> {
    world
        .preds
        .iter()
        .zip(probs)
        .map(|(pred, p)| pair_sums(p, pred.k1, pred.k2))
        .collect()
}

/// `Σ_jk p[j,k] · max(f1[h,j], f2[h,k])` for every head `h`. Only clauses active at `h` are
/// visited: a clause that is 0 at `h` contributes the other side's value times its row (or
/// column) mass, which the pair sums give without a loop.
fn mix(
    p: &[f32],
    sums: &[f32],
    pred: &SparsePred,
    f1: &[f32],
    f2: Option<&[f32]>,
    out: &mut [f32],
) {
    let (k1, k2) = (pred.k1, pred.k2);
    let (rows, cols) = sums.split_at(k1);
    let mut col = Vec::new();
    for (h, o) in out.iter_mut().enumerate() {
        let x = &f1[h * k1..(h + 1) * k1];
        let js = pred.t1.active_at(h);
        let (Some(f2), Some(t2)) = (f2, pred.t2.as_ref()) else {
            *o = js.iter().map(|&j| p[j as usize] * x[j as usize]).sum();
            continue;
        };
        let y = &f2[h * k2..(h + 1) * k2];
        let ks = t2.active_at(h);
        col.clear();
        col.resize(ks.len(), 0f32);
        let mut acc = 0f32;
        for &j in js {
            let (j, row) = (j as usize, &p[j as usize * k2..(j as usize + 1) * k2]);
            let xj = x[j];
            let mut mass = 0f32;
            for (c, &k) in col.iter_mut().zip(ks) {
                let w = row[k as usize];
                acc += w * xj.max(y[k as usize]);
                mass += w;
                *c += w;
            }
            acc += xj * (rows[j] - mass);
        }
        for (c, &k) in col.iter().zip(ks) {
            acc += y[k as usize] * (cols[k as usize] - c);
        }
        *o = acc;
    }
}

/// Gradients that [`mix_backward`] adds to a whole row or column of `∂L/∂p` at once.
struct PairGrad {
    rows: Vec<f32>,
    cols: Vec<f32>,
}

/// Backward of [`mix`]: adds to `gp` (block terms) and `acc` (row/column terms), writes `gf1`
/// and `gf2`. Ties split the gradient in half, as LibTorch's `maximum` does.
#[allow(clippy::too_many_arguments)]
fn mix_backward(
    p: &[f32],
    sums: &[f32],
    pred: &SparsePred,
    f1: &[f32],
    f2: Option<&[f32]>,
    gs: &[f32],
    gp: &mut [f32],
    acc: &mut PairGrad,
    gf1: &mut [f32],
    gf2: &mut [f32],
) {
    let (k1, k2) = (pred.k1, pred.k2);
    let (rows, cols) = sums.split_at(k1);
    let half = |v: f32| if v > 0.0 { 1.0 } else { 0.5 };
    gf1.fill(0.0);
    gf2.fill(0.0);
    let mut col = Vec::new();
    for (h, &g) in gs.iter().enumerate() {
        if g == 0.0 {
            continue;
        }
        let x = &f1[h * k1..(h + 1) * k1];
        let js = pred.t1.active_at(h);
        let (Some(f2), Some(t2)) = (f2, pred.t2.as_ref()) else {
            for &j in js {
                let j = j as usize;
                gp[j] += g * x[j];
                gf1[h * k1 + j] = g * p[j];
            }
            continue;
        };
        let y = &f2[h * k2..(h + 1) * k2];
        let ks = t2.active_at(h);
        let g2 = &mut gf2[h * k2..(h + 1) * k2];
        col.clear();
        col.resize(ks.len(), 0f32);
        for &j in js {
            let j = j as usize;
            let (row, gp_row) = (&p[j * k2..(j + 1) * k2], &mut gp[j * k2..(j + 1) * k2]);
            let xj = x[j];
            let (mut mass, mut g1) = (0f32, 0f32);
            for (c, &k) in col.iter_mut().zip(ks) {
                let k = k as usize;
                let (w, yk) = (row[k], y[k]);
                mass += w;
                *c += w;
                // With the row term g·x and the column term g·y, the pair gets g·max(x, y).
                gp_row[k] -= g * xj.min(yk);
                let wg = g * w;
                if xj > yk {
                    g1 += wg;
                } else if yk > xj {
                    g2[k] += wg;
                } else {
                    g1 += 0.5 * wg;
                    g2[k] += 0.5 * wg;
                }
            }
            acc.rows[j] += g * xj;
            gf1[h * k1 + j] = g1 + g * (rows[j] - mass) * half(xj);
        }
        for (c, &k) in col.iter().zip(ks) {
            let k = k as usize;
            acc.cols[k] += g * y[k];
            g2[k] += g * (cols[k] - c) * half(y[k]);
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
    tape.arg.resize(t_max * fl, NONE);
    tape.s.resize(t_max * ni, 0.0);
    tape.a[..n].copy_from_slice(&world.init);
    let sums = all_pair_sums(world, probs);
    for t in 0..t_max {
        let (done, rest) = tape.a.split_at_mut((t + 1) * n);
        let a = &done[t * n..];
        let next = &mut rest[..n];
        let f = &mut tape.f[t * fl..(t + 1) * fl];
        let arg = &mut tape.arg[t * fl..(t + 1) * fl];
        let s = &mut tape.s[t * ni..(t + 1) * ni];
        let mut off = 0;
        for ((pred, p), sums) in world.preds.iter().zip(probs).zip(&sums) {
            let l1 = pred.heads * pred.k1;
            let l2 = pred.t2.as_ref().map_or(0, |t| pred.heads * t.k);
            let (f1, tail) = f[off..off + l1 + l2].split_at_mut(l1);
            let (arg1, arg2) = arg[off..off + l1 + l2].split_at_mut(l1);
            pred.t1.forward(a, f1, arg1);
            if let Some(t2) = &pred.t2 {
                t2.forward(a, tail, arg2);
            }
            let f2 = pred.t2.as_ref().map(|_| &*tail);
            let lo = pred.start - world.fixed;
            mix(p, sums, pred, f1, f2, &mut s[lo..lo + pred.heads]);
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
    let sums = all_pair_sums(world, probs);
    let mut acc: Vec<PairGrad> = world
        .preds
        .iter()
        .map(|p| PairGrad {
            rows: vec![0.0; p.k1],
            cols: vec![0.0; p.k2],
        })
        .collect();
    for t in (0..world.steps).rev() {
        let a = &tape.a[t * n..(t + 1) * n];
        let s = &tape.s[t * ni..(t + 1) * ni];
        let f = &tape.f[t * fl..(t + 1) * fl];
        let arg = &tape.arg[t * fl..(t + 1) * fl];
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
        for (i, ((pred, p), gp)) in world.preds.iter().zip(probs).zip(gp.iter_mut()).enumerate() {
            let l1 = pred.heads * pred.k1;
            let l2 = pred.t2.as_ref().map_or(0, |t| pred.heads * t.k);
            let (f1, f2) = f[off..off + l1 + l2].split_at(l1);
            let f2 = pred.t2.as_ref().map(|_| f2);
            let lo = pred.start - world.fixed;
            let (gf1, gf2) = tape.gf.split_at_mut(gf_len);
            let (gf1, gf2) = (&mut gf1[..l1], &mut gf2[..l2]);
            let gs = &gs[lo..lo + pred.heads];
            mix_backward(p, &sums[i], pred, f1, f2, gs, gp, &mut acc[i], gf1, gf2);
            let (arg1, arg2) = arg[off..off + l1 + l2].split_at(l1);
            pred.t1.backward(a, f1, arg1, gf1, &mut tape.ga);
            if let Some(t2) = &pred.t2 {
                t2.backward(a, f2.expect("second template"), arg2, gf2, &mut tape.ga);
            }
            off += l1 + l2;
        }
        std::mem::swap(&mut tape.ga, &mut tape.ga_next);
    }
    for ((pred, gp), acc) in world.preds.iter().zip(gp.iter_mut()).zip(&acc) {
        if pred.t2.is_none() {
            continue;
        }
        for j in 0..pred.k1 {
            for k in 0..pred.k2 {
                gp[j * pred.k2 + k] += acc.rows[j] + acc.cols[k];
            }
        }
    }
}
