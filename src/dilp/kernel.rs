//! The CPU kernel for ∂ILP on symbolic tasks: the paper's forward pass (product t-norm, max over
//! groundings, softmax-weighted clause pairs, amalgamation, T steps) and its exact backward
//! pass on a [`SparseWorld`], with no tensor library in the loop.
//!
//! Written once over [`Lane`]: as `f32` it runs one seed, as `f32x8` eight seeds at once, so one
//! walk over a world's groundings (most of the time goes to the index structure, which is the
//! same for every seed) serves eight seeds and the arithmetic becomes SIMD. Each lane does the
//! same operations in the same order, so a seed's result does not depend on its lane, its group
//! or the thread count.
//!
//! Ties are broken as LibTorch breaks them (`amax` shares the gradient evenly among equal cells,
//! pruned zero cells included; `maximum` halves it), so gradients agree with the tensor path
//! to rounding; a test holds the two together. Only cells with a live grounding are visited (the
//! others are 0 and never read), and the clause backward pass is skipped at step 0, since
//! `∂L/∂a_0` is never used (the initial valuation is not learned here).

use super::lane::Lane;
pub use super::sparse::{SparsePred, SparseTemplate, SparseWorld};
use super::Amalgamation;

/// `F_j(a)` for every live cell, and how many groundings attain each max (pruned zero cells
/// included when the max is 0, as LibTorch's `amax` counts them).
fn template_forward<V: Lane>(t: &SparseTemplate, a: &[V], f: &mut [V], ties: &mut [V]) {
    let (zero, one) = (V::ZERO, V::splat(1.0));
    for h in 0..t.heads {
        for (q, &j) in t.span(h).zip(t.active_at(h)) {
            let r = t.groundings(h * t.k + j as usize);
            let (mut m, mut c) = (zero, zero);
            for &[x, y] in r {
                let v = a[x as usize] * a[y as usize];
                c = v.if_gt(m, one, c + v.if_eq(m, one, zero));
                m = v.if_gt(m, v, m);
            }
            let pruned = V::splat((t.width - r.len()) as f32);
            c += m.if_eq(zero, pruned, zero);
            f[q] = m;
            ties[q] = c;
        }
    }
}

/// Adds `∂L/∂a` to `ga` given `gf = ∂L/∂f`: each grounding attaining the max gets an equal
/// share of its cell's gradient.
fn template_backward<V: Lane>(
    t: &SparseTemplate,
    a: &[V],
    f: &[V],
    ties: &[V],
    gf: &[V],
    ga: &mut [V],
) {
    for h in 0..t.heads {
        for (q, &j) in t.span(h).zip(t.active_at(h)) {
            if !gf[q].any_nonzero() {
                continue;
            }
            let (m, share) = (f[q], gf[q] / ties[q]);
            for &[x, y] in t.groundings(h * t.k + j as usize) {
                let (x, y) = (x as usize, y as usize);
                let (ax, ay) = (a[x], a[y]);
                let w = (ax * ay).if_eq(m, share, V::ZERO);
                ga[x] += w * ay;
                ga[y] += w * ax;
            }
        }
    }
}

/// Row sums (`k1`) then column sums (`k2`) of a predicate's pair distribution.
fn pair_sums<V: Lane>(p: &[V], k1: usize, k2: usize) -> Vec<V> {
    let mut out = vec![V::ZERO; k1 + k2];
    let (rows, cols) = out.split_at_mut(k1);
    for (j, r) in rows.iter_mut().enumerate() {
        for (k, c) in cols.iter_mut().enumerate() {
            *r += p[j * k2 + k];
            *c += p[j * k2 + k];
        }
    }
    out
}

fn all_pair_sums<V: Lane>(world: &SparseWorld, probs: &[&[V]]) -> Vec<Vec<V>> {
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
fn mix<V: Lane>(p: &[V], sums: &[V], pred: &SparsePred, f1: &[V], f2: Option<&[V]>, out: &mut [V]) {
    let k2 = pred.k2;
    let (rows, cols) = sums.split_at(pred.k1);
    let mut col: Vec<V> = Vec::new();
    for (h, o) in out.iter_mut().enumerate() {
        let x = &f1[pred.t1.span(h)];
        let js = pred.t1.active_at(h);
        let (Some(f2), Some(t2)) = (f2, pred.t2.as_ref()) else {
            let mut acc = V::ZERO;
            for (&xj, &j) in x.iter().zip(js) {
                acc += p[j as usize] * xj;
            }
            *o = acc;
            continue;
        };
        let y = &f2[t2.span(h)];
        let ks = t2.active_at(h);
        col.clear();
        col.resize(ks.len(), V::ZERO);
        let mut acc = V::ZERO;
        for (&xj, &j) in x.iter().zip(js) {
            let (j, row) = (j as usize, &p[j as usize * k2..(j as usize + 1) * k2]);
            let mut mass = V::ZERO;
            for ((c, &yk), &k) in col.iter_mut().zip(y).zip(ks) {
                let w = row[k as usize];
                acc += w * xj.max(yk);
                mass += w;
                *c += w;
            }
            acc += xj * (rows[j] - mass);
        }
        for ((&c, &yk), &k) in col.iter().zip(y).zip(ks) {
            acc += yk * (cols[k as usize] - c);
        }
        *o = acc;
    }
}

/// Gradients that [`mix_backward`] adds to a whole row or column of `∂L/∂p` at once.
struct PairGrad<V> {
    rows: Vec<V>,
    cols: Vec<V>,
}

/// Backward of [`mix`]: adds to `gp` (block terms) and `acc` (row/column terms), writes `gf1`
/// and `gf2`. Ties split the gradient in half, as LibTorch's `maximum` does.
#[allow(clippy::too_many_arguments)]
fn mix_backward<V: Lane>(
    p: &[V],
    sums: &[V],
    pred: &SparsePred,
    f1: &[V],
    f2: Option<&[V]>,
    gs: &[V],
    gp: &mut [V],
    acc: &mut PairGrad<V>,
    gf1: &mut [V],
    gf2: &mut [V],
) {
    let k2 = pred.k2;
    let (rows, cols) = sums.split_at(pred.k1);
    let (zero, one, half) = (V::ZERO, V::splat(1.0), V::splat(0.5));
    // 1 where the value is positive, ½ where it is 0 (a tie with the zero side).
    let halve = |v: V| v.if_gt(zero, one, half);
    gf1.fill(zero);
    gf2.fill(zero);
    let (mut col, mut g2): (Vec<V>, Vec<V>) = (Vec::new(), Vec::new());
    for (h, &g) in gs.iter().enumerate() {
        if !g.any_nonzero() {
            continue;
        }
        let span1 = pred.t1.span(h);
        let x = &f1[span1.clone()];
        let js = pred.t1.active_at(h);
        let (Some(f2), Some(t2)) = (f2, pred.t2.as_ref()) else {
            for ((q, &xj), &j) in span1.zip(x).zip(js) {
                gp[j as usize] += g * xj;
                gf1[q] = g * p[j as usize];
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
        for ((q, &xj), &j) in span1.zip(x).zip(js) {
            let j = j as usize;
            let (row, gp_row) = (&p[j * k2..(j + 1) * k2], &mut gp[j * k2..(j + 1) * k2]);
            let (mut mass, mut g1) = (zero, zero);
            for (((c, g2), &yk), &k) in col.iter_mut().zip(g2.iter_mut()).zip(y).zip(ks) {
                let w = row[k as usize];
                mass += w;
                *c += w;
                // With the row term g·x and the column term g·y, the pair gets g·max(x, y).
                gp_row[k as usize] -= g * xj.min(yk);
                let wg = g * w;
                // The larger side takes the gradient; a tie splits it in half.
                let hw = half * wg;
                g1 += xj.if_gt(yk, wg, yk.if_gt(xj, zero, hw));
                *g2 += xj.if_gt(yk, zero, yk.if_gt(xj, wg, hw));
            }
            acc.rows[j] += g * xj;
            gf1[q] = g1 + g * (rows[j] - mass) * halve(xj);
        }
        let out = &mut gf2[span2];
        for ((((o, &c), &g2), &yk), &k) in out.iter_mut().zip(&col).zip(&g2).zip(y).zip(ks) {
            let k = k as usize;
            acc.cols[k] += g * yk;
            *o = g2 + g * (cols[k] - c) * halve(yk);
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

/// Cells of the larger template of the largest predicate: the clause-gradient scratch size.
fn widest(world: &SparseWorld) -> usize {
    world
        .preds
        .iter()
        .map(|p| p.t1.cells().max(p.t2.as_ref().map_or(0, |t| t.cells())))
        .max()
        .unwrap_or(0)
}

/// Bytes of one [`Tape<V>`] on `world`, once grown to it.
pub fn tape_bytes<V: Lane>(world: &SparseWorld) -> f64 {
    let (t, n, ni, c) = (world.steps, world.n, world.n - world.fixed, cells(world));
    let values = (t + 1) * n + 2 * t * c + t * ni + 2 * n + 2 * widest(world);
    (4 * V::WIDTH * values) as f64
}

/// What the backward pass needs from one forward pass, reused between steps.
#[derive(Debug, Clone)]
pub struct Tape<V> {
    /// `a_0 … a_T`, `n` each.
    a: Vec<V>,
    /// Clause values per step and live cell, and how many groundings attain each.
    f: Vec<V>,
    ties: Vec<V>,
    /// New conclusions `s_t` per step, over the intensional block.
    s: Vec<V>,
    ga: Vec<V>,
    ga_next: Vec<V>,
    gf: Vec<V>,
}

impl<V> Default for Tape<V> {
    fn default() -> Self {
        Tape {
            a: Vec::new(),
            f: Vec::new(),
            ties: Vec::new(),
            s: Vec::new(),
            ga: Vec::new(),
            ga_next: Vec::new(),
            gf: Vec::new(),
        }
    }
}

impl<V: Lane> Tape<V> {
    /// The final valuation `a_T` of the last forward pass.
    pub fn last(&self, world: &SparseWorld) -> &[V] {
        &self.a[world.steps * world.n..(world.steps + 1) * world.n]
    }
}

/// Lengths of a predicate's clause values in the per-step layout: `(template 1, template 2)`.
fn lens(pred: &SparsePred) -> (usize, usize) {
    (pred.t1.cells(), pred.t2.as_ref().map_or(0, |t| t.cells()))
}

/// Runs `world.steps` steps from the initial valuation with pair distributions `probs` (one
/// `k1 × k2` slice per predicate), recording what [`backward`] needs.
pub fn forward<V: Lane>(
    world: &SparseWorld,
    probs: &[&[V]],
    amalg: Amalgamation,
    tape: &mut Tape<V>,
) {
    let (n, t_max, fl) = (world.n, world.steps, cells(world));
    let ni = n - world.fixed;
    tape.a.resize((t_max + 1) * n, V::ZERO);
    tape.f.resize(t_max * fl, V::ZERO);
    tape.ties.resize(t_max * fl, V::ZERO);
    tape.s.resize(t_max * ni, V::ZERO);
    for (a, &x) in tape.a[..n].iter_mut().zip(&world.init) {
        *a = V::splat(x);
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
            let (l1, l2) = lens(pred);
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
        let new = next[world.fixed..].iter_mut().zip(&a[world.fixed..]);
        for ((o, &x), &y) in new.zip(&*s) {
            *o = match amalg {
                Amalgamation::ProbSum => x + y - x * y,
                Amalgamation::Max => x.max(y),
            };
        }
    }
}

/// `(∂L/∂a_t, ∂L/∂s_t)` of one intensional atom from `g = ∂L/∂a_{t+1}`, its old value `x` and
/// its new conclusion `y`.
#[inline]
fn amalgamation_backward<V: Lane>(amalg: Amalgamation, g: V, x: V, y: V) -> (V, V) {
    let one = V::splat(1.0);
    match amalg {
        Amalgamation::ProbSum => (g * (one - y), g * (one - x)),
        Amalgamation::Max => {
            let (zero, half) = (V::ZERO, V::splat(0.5) * g);
            (
                x.if_gt(y, g, y.if_gt(x, zero, half)),
                x.if_gt(y, zero, y.if_gt(x, g, half)),
            )
        }
    }
}

/// Given `g_last = ∂L/∂a_T`, adds `∂L/∂p` to `gp` (one slice per predicate, like `probs`).
pub fn backward<V: Lane>(
    world: &SparseWorld,
    probs: &[&[V]],
    amalg: Amalgamation,
    tape: &mut Tape<V>,
    g_last: &[V],
    gp: &mut [Vec<V>],
) {
    let (n, fl, gf_len) = (world.n, cells(world), widest(world));
    let ni = n - world.fixed;
    tape.ga.resize(n, V::ZERO);
    tape.ga_next.resize(n, V::ZERO);
    tape.gf.resize(2 * gf_len, V::ZERO);
    tape.ga_next.copy_from_slice(g_last);
    let mut gs = vec![V::ZERO; ni];
    let sums = all_pair_sums(world, probs);
    let mut acc: Vec<PairGrad<V>> = world
        .preds
        .iter()
        .map(|p| PairGrad {
            rows: vec![V::ZERO; p.k1],
            cols: vec![V::ZERO; p.k2],
        })
        .collect();
    for t in (0..world.steps).rev() {
        let a = &tape.a[t * n..(t + 1) * n];
        let s = &tape.s[t * ni..(t + 1) * ni];
        let f = &tape.f[t * fl..(t + 1) * fl];
        let ties = &tape.ties[t * fl..(t + 1) * fl];
        tape.ga.fill(V::ZERO);
        for i in 0..ni {
            let (g, x) = (tape.ga_next[world.fixed + i], a[world.fixed + i]);
            (tape.ga[world.fixed + i], gs[i]) = amalgamation_backward(amalg, g, x, s[i]);
        }
        let mut off = 0;
        for (i, ((pred, p), gp)) in world.preds.iter().zip(probs).zip(gp.iter_mut()).enumerate() {
            let (l1, l2) = lens(pred);
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
        for (j, &r) in acc.rows.iter().enumerate() {
            let row = &mut gp[j * pred.k2..(j + 1) * pred.k2];
            for (g, &c) in row.iter_mut().zip(&acc.cols) {
                *g += r + c;
            }
        }
    }
}
