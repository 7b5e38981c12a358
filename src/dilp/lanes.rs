//! The kernel of [`super::kernel`] run on `L` seeds at once: every value is a short array with
//! one lane per seed, so one walk over a world's groundings serves `L` seeds and the arithmetic
//! is straight-line lane-wise code the compiler turns into SIMD.
//!
//! Why: in the scalar kernel most time goes to walking the index structure (offsets, pairs, a
//! few groundings per cell), which is the same for every seed. Each lane does exactly the scalar
//! kernel's arithmetic in the same order, so a seed's result does not depend on its lane or on
//! which seeds share its group; a test holds the two kernels together.
//!
//! Two savings the scalar kernel does not make: only cells with a live grounding are visited
//! (the others are 0 and never read), and the clause backward pass is skipped at step 0, since
//! `∂L/∂a_0` is never used (the initial valuation is not learned here).

use super::kernel::{SparsePred, SparseTemplate, SparseWorld};
use super::Amalgamation;
use wide::f32x8;

/// Seeds per group.
pub const L: usize = 8;
/// One value per seed.
pub type V = [f32; L];
pub const ZERO: V = [0.0; L];

fn nonzero(v: &V) -> bool {
    v.iter().any(|&x| x != 0.0)
}

/// `F_j(a)` for every live cell, and how many groundings attain each max (pruned zero cells
/// included when the max is 0, as LibTorch's `amax` counts them).
fn template_forward(t: &SparseTemplate, a: &[V], f: &mut [V], ties: &mut [V]) {
    let (zero, one) = (f32x8::ZERO, f32x8::ONE);
    for h in 0..t.heads {
        for (q, &j) in t.span(h).zip(t.active_at(h)) {
            let i = h * t.k + j as usize;
            let r = &t.pairs[t.offsets[i] as usize..t.offsets[i + 1] as usize];
            let (mut m, mut c) = (zero, zero);
            for &[x, y] in r {
                let v = f32x8::new(a[x as usize]) * f32x8::new(a[y as usize]);
                let up = v.simd_gt(m);
                c = up.select(one, c + v.simd_eq(m).select(one, zero));
                m = up.select(v, m);
            }
            let pruned = f32x8::splat((t.width - r.len()) as f32);
            c += m.simd_eq(zero).select(pruned, zero);
            f[q] = m.to_array();
            ties[q] = c.to_array();
        }
    }
}

/// Adds `∂L/∂a` to `ga` given `gf = ∂L/∂f`: each grounding attaining the max gets an equal
/// share of its cell's gradient.
fn template_backward(t: &SparseTemplate, a: &[V], f: &[V], ties: &[V], gf: &[V], ga: &mut [V]) {
    let zero = f32x8::ZERO;
    for h in 0..t.heads {
        for (q, &j) in t.span(h).zip(t.active_at(h)) {
            let i = h * t.k + j as usize;
            if !nonzero(&gf[q]) {
                continue;
            }
            let m = f32x8::new(f[q]);
            let share = f32x8::new(gf[q]) / f32x8::new(ties[q]);
            let r = &t.pairs[t.offsets[i] as usize..t.offsets[i + 1] as usize];
            for &[x, y] in r {
                let (x, y) = (x as usize, y as usize);
                let (ax, ay) = (f32x8::new(a[x]), f32x8::new(a[y]));
                let w = (ax * ay).simd_eq(m).select(share, zero);
                ga[x] = (f32x8::new(ga[x]) + w * ay).to_array();
                ga[y] = (f32x8::new(ga[y]) + w * ax).to_array();
            }
        }
    }
}

fn w8(x: &V) -> f32x8 {
    f32x8::new(*x)
}

/// Row sums (`k1`) then column sums (`k2`) of a predicate's pair distribution.
fn pair_sums(p: &[V], k1: usize, k2: usize) -> Vec<V> {
    let mut rows = vec![f32x8::ZERO; k1];
    let mut cols = vec![f32x8::ZERO; k2];
    for (j, r) in rows.iter_mut().enumerate() {
        for (k, c) in cols.iter_mut().enumerate() {
            let w = w8(&p[j * k2 + k]);
            *r += w;
            *c += w;
        }
    }
    rows.iter().chain(&cols).map(|x| x.to_array()).collect()
}

fn all_pair_sums(world: &SparseWorld, probs: &[&[V]]) -> Vec<Vec<V>> {
    world
        .preds
        .iter()
        .zip(probs)
        .map(|(pred, p)| pair_sums(p, pred.k1, pred.k2))
        .collect()
}

/// `Σ_jk p[j,k] · max(f1[h,j], f2[h,k])` per head over active clauses, as in the scalar kernel.
fn mix(p: &[V], sums: &[V], pred: &SparsePred, f1: &[V], f2: Option<&[V]>, out: &mut [V]) {
    let (k1, k2) = (pred.k1, pred.k2);
    let (rows, cols) = sums.split_at(k1);
    let mut col: Vec<f32x8> = Vec::new();
    for (h, o) in out.iter_mut().enumerate() {
        let x = &f1[pred.t1.span(h)];
        let js = pred.t1.active_at(h);
        let (Some(f2), Some(t2)) = (f2, pred.t2.as_ref()) else {
            let mut acc = f32x8::ZERO;
            for (xj, &j) in x.iter().zip(js) {
                acc += w8(&p[j as usize]) * w8(xj);
            }
            *o = acc.to_array();
            continue;
        };
        let y = &f2[t2.span(h)];
        let ks = t2.active_at(h);
        col.clear();
        col.resize(ks.len(), f32x8::ZERO);
        let mut acc = f32x8::ZERO;
        for (xj, &j) in x.iter().zip(js) {
            let (j, row) = (j as usize, &p[j as usize * k2..(j as usize + 1) * k2]);
            let xj = w8(xj);
            let mut mass = f32x8::ZERO;
            for ((c, yk), &k) in col.iter_mut().zip(y).zip(ks) {
                let w = w8(&row[k as usize]);
                acc += w * xj.fast_max(w8(yk));
                mass += w;
                *c += w;
            }
            acc += xj * (w8(&rows[j]) - mass);
        }
        for ((c, yk), &k) in col.iter().zip(y).zip(ks) {
            acc += w8(yk) * (w8(&cols[k as usize]) - *c);
        }
        *o = acc.to_array();
    }
}

/// Gradients that [`mix_backward`] adds to a whole row or column of `∂L/∂p` at once.
struct PairGrad {
    rows: Vec<f32x8>,
    cols: Vec<f32x8>,
}

/// Backward of [`mix`], lane by lane as the scalar kernel's.
#[allow(clippy::too_many_arguments)]
fn mix_backward(
    p: &[V],
    sums: &[V],
    pred: &SparsePred,
    f1: &[V],
    f2: Option<&[V]>,
    gs: &[V],
    gp: &mut [V],
    acc: &mut PairGrad,
    gf1: &mut [V],
    gf2: &mut [V],
) {
    let (k1, k2) = (pred.k1, pred.k2);
    let (rows, cols) = sums.split_at(k1);
    let (zero, one, half) = (f32x8::ZERO, f32x8::ONE, f32x8::splat(0.5));
    // 1 where the value is positive, ½ where it is 0 (a tie with the zero side).
    let halve = |v: f32x8| v.simd_gt(zero).select(one, half);
    gf1.fill(ZERO);
    gf2.fill(ZERO);
    let mut col: Vec<f32x8> = Vec::new();
    let mut g2: Vec<f32x8> = Vec::new();
    for (h, g) in gs.iter().enumerate() {
        if !nonzero(g) {
            continue;
        }
        let g = w8(g);
        let span1 = pred.t1.span(h);
        let x = &f1[span1.clone()];
        let js = pred.t1.active_at(h);
        let (Some(f2), Some(t2)) = (f2, pred.t2.as_ref()) else {
            for ((q, xj), &j) in span1.zip(x).zip(js) {
                let j = j as usize;
                gp[j] = (w8(&gp[j]) + g * w8(xj)).to_array();
                gf1[q] = (g * w8(&p[j])).to_array();
            }
            continue;
        };
        let span2 = t2.span(h);
        let y = &f2[span2.clone()];
        let ks = t2.active_at(h);
        col.clear();
        col.resize(ks.len(), zero);
        g2.clear();
        g2.resize(ks.len(), zero);
        for ((q, xj), &j) in span1.zip(x).zip(js) {
            let j = j as usize;
            let (row, gp_row) = (&p[j * k2..(j + 1) * k2], &mut gp[j * k2..(j + 1) * k2]);
            let xj = w8(xj);
            let (mut mass, mut g1) = (zero, zero);
            for (((c, g2), yk), &k) in col.iter_mut().zip(g2.iter_mut()).zip(y).zip(ks) {
                let k = k as usize;
                let (w, yk) = (w8(&row[k]), w8(yk));
                mass += w;
                *c += w;
                gp_row[k] = (w8(&gp_row[k]) - g * xj.fast_min(yk)).to_array();
                let wg = g * w;
                // The larger side takes the gradient; a tie splits it in half.
                let (gt, lt) = (xj.simd_gt(yk), yk.simd_gt(xj));
                let hw = half * wg;
                g1 += gt.select(wg, lt.select(zero, hw));
                *g2 += gt.select(zero, lt.select(wg, hw));
            }
            acc.rows[j] += g * xj;
            gf1[q] = (g1 + g * (w8(&rows[j]) - mass) * halve(xj)).to_array();
        }
        let out = &mut gf2[span2];
        for ((((o, c), g2), yk), &k) in out.iter_mut().zip(&col).zip(&g2).zip(y).zip(ks) {
            let (k, yk) = (k as usize, w8(yk));
            acc.cols[k] += g * yk;
            *o = (*g2 + g * (w8(&cols[k]) - *c) * halve(yk)).to_array();
        }
    }
}

/// Cells with a live grounding, over every template of `world`: one value each per step.
pub fn cells(world: &SparseWorld) -> usize {
    world
        .preds
        .iter()
        .map(|p| p.t1.cells() + p.t2.as_ref().map_or(0, |t| t.cells()))
        .sum()
}

/// Bytes of one group's [`LaneTape`] on `world`, once grown to it.
pub fn tape_bytes(world: &SparseWorld) -> f64 {
    let (t, n, ni, c) = (world.steps, world.n, world.n - world.fixed, cells(world));
    let gf = world
        .preds
        .iter()
        .map(|p| p.t1.cells().max(p.t2.as_ref().map_or(0, |t| t.cells())))
        .max()
        .unwrap_or(0);
    let values = (t + 1) * n + 2 * t * c + t * ni + 2 * n + 2 * gf;
    (4 * L * values) as f64
}

/// What the backward pass needs from one forward pass, reused between steps.
#[derive(Debug, Default, Clone)]
pub struct LaneTape {
    a: Vec<V>,
    f: Vec<V>,
    ties: Vec<V>,
    s: Vec<V>,
    ga: Vec<V>,
    ga_next: Vec<V>,
    gf: Vec<V>,
}

impl LaneTape {
    /// The final valuation `a_T` of the last forward pass.
    pub fn last(&self, world: &SparseWorld) -> &[V] {
        &self.a[world.steps * world.n..(world.steps + 1) * world.n]
    }
}

/// Runs `world.steps` steps for `L` seeds, pair distributions `probs` one slice per predicate.
pub fn forward(world: &SparseWorld, probs: &[&[V]], amalg: Amalgamation, tape: &mut LaneTape) {
    let (n, t_max, fl) = (world.n, world.steps, cells(world));
    let ni = n - world.fixed;
    tape.a.resize((t_max + 1) * n, ZERO);
    tape.f.resize(t_max * fl, ZERO);
    tape.ties.resize(t_max * fl, ZERO);
    tape.s.resize(t_max * ni, ZERO);
    for (a, &x) in tape.a[..n].iter_mut().zip(&world.init) {
        *a = [x; L];
    }
    let sums = all_pair_sums(world, probs);
    for t in 0..t_max {
        let (done, rest) = tape.a.split_at_mut((t + 1) * n);
        let a = &done[t * n..];
        let next = &mut rest[..n];
        let f = &mut tape.f[t * fl..(t + 1) * fl];
        let ties = &mut tape.ties[t * fl..(t + 1) * fl];
        let s = &mut tape.s[t * ni..(t + 1) * ni];
        let mut off = 0;
        for ((pred, p), sums) in world.preds.iter().zip(probs).zip(&sums) {
            let l1 = pred.t1.cells();
            let l2 = pred.t2.as_ref().map_or(0, |t| t.cells());
            let (f1, tail) = f[off..off + l1 + l2].split_at_mut(l1);
            let (c1, c2) = ties[off..off + l1 + l2].split_at_mut(l1);
            template_forward(&pred.t1, a, f1, c1);
            if let Some(t2) = &pred.t2 {
                template_forward(t2, a, tail, c2);
            }
            let f2 = pred.t2.as_ref().map(|_| &*tail);
            let lo = pred.start - world.fixed;
            mix(p, sums, pred, f1, f2, &mut s[lo..lo + pred.heads]);
            off += l1 + l2;
        }
        next[..world.fixed].copy_from_slice(&a[..world.fixed]);
        for ((o, x), y) in next[world.fixed..]
            .iter_mut()
            .zip(&a[world.fixed..])
            .zip(&*s)
        {
            for l in 0..L {
                o[l] = match amalg {
                    Amalgamation::ProbSum => x[l] + y[l] - x[l] * y[l],
                    Amalgamation::Max => x[l].max(y[l]),
                };
            }
        }
    }
}

/// Given `g_last = ∂L/∂a_T`, adds `∂L/∂p` to `gp` (one slice per predicate, like `probs`).
pub fn backward(
    world: &SparseWorld,
    probs: &[&[V]],
    amalg: Amalgamation,
    tape: &mut LaneTape,
    g_last: &[V],
    gp: &mut [Vec<V>],
) {
    let (n, fl) = (world.n, cells(world));
    let ni = n - world.fixed;
    let gf_len = world
        .preds
        .iter()
        .map(|p| p.t1.cells().max(p.t2.as_ref().map_or(0, |t| t.cells())))
        .max()
        .unwrap_or(0);
    tape.ga.resize(n, ZERO);
    tape.ga_next.resize(n, ZERO);
    tape.gf.resize(2 * gf_len, ZERO);
    tape.ga_next.copy_from_slice(g_last);
    let mut gs = vec![ZERO; ni];
    let sums = all_pair_sums(world, probs);
    let mut acc: Vec<PairGrad> = world
        .preds
        .iter()
        .map(|p| PairGrad {
            rows: vec![f32x8::ZERO; p.k1],
            cols: vec![f32x8::ZERO; p.k2],
        })
        .collect();
    for t in (0..world.steps).rev() {
        let a = &tape.a[t * n..(t + 1) * n];
        let s = &tape.s[t * ni..(t + 1) * ni];
        let f = &tape.f[t * fl..(t + 1) * fl];
        let ties = &tape.ties[t * fl..(t + 1) * fl];
        tape.ga.fill(ZERO);
        for i in 0..ni {
            let (g, x, y) = (tape.ga_next[world.fixed + i], a[world.fixed + i], s[i]);
            let (gx, gy) = (&mut tape.ga[world.fixed + i], &mut gs[i]);
            for l in 0..L {
                (gx[l], gy[l]) = match amalg {
                    Amalgamation::ProbSum => (g[l] * (1.0 - y[l]), g[l] * (1.0 - x[l])),
                    Amalgamation::Max if x[l] > y[l] => (g[l], 0.0),
                    Amalgamation::Max if y[l] > x[l] => (0.0, g[l]),
                    Amalgamation::Max => (0.5 * g[l], 0.5 * g[l]),
                };
            }
        }
        let mut off = 0;
        for (i, ((pred, p), gp)) in world.preds.iter().zip(probs).zip(gp.iter_mut()).enumerate() {
            let l1 = pred.t1.cells();
            let l2 = pred.t2.as_ref().map_or(0, |t| t.cells());
            let (f1, f2) = f[off..off + l1 + l2].split_at(l1);
            let f2 = pred.t2.as_ref().map(|_| f2);
            let lo = pred.start - world.fixed;
            let (gf1, gf2) = tape.gf.split_at_mut(gf_len);
            let (gf1, gf2) = (&mut gf1[..l1], &mut gf2[..l2]);
            let gs = &gs[lo..lo + pred.heads];
            mix_backward(p, &sums[i], pred, f1, f2, gs, gp, &mut acc[i], gf1, gf2);
            // ∂L/∂a_0 is never used: the clause pass at step 0 only feeds it.
            if t > 0 {
                let (c1, c2) = ties[off..off + l1 + l2].split_at(l1);
                template_backward(&pred.t1, a, f1, c1, gf1, &mut tape.ga);
                if let (Some(t2), Some(f2)) = (&pred.t2, f2) {
                    template_backward(t2, a, f2, c2, gf2, &mut tape.ga);
                }
            }
            off += l1 + l2;
        }
        std::mem::swap(&mut tape.ga, &mut tape.ga_next);
    }
    for ((pred, gp), acc) in world.preds.iter().zip(gp.iter_mut()).zip(&acc) {
        if pred.t2.is_none() {
            continue;
        }
        for (j, r) in acc.rows.iter().enumerate() {
            let row = &mut gp[j * pred.k2..(j + 1) * pred.k2];
            for (g, c) in row.iter_mut().zip(&acc.cols) {
                *g = (w8(g) + (*r + *c)).to_array();
            }
        }
    }
}
