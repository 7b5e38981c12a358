//! A run's picture, `pairs.png` (drawn by [`crate::report::pair_grid`]): the first test items of
//! each split, those of seen digit tuples first, each with ∂ILP's `P(target)`. The test items
//! are already a seeded random draw, so the first ones are a fair and repeatable sample.

use crate::error::{shape, torch_err, Result};
use crate::neuro::Perception;
use crate::report::pair_grid::{self, GridItem, COLUMNS};
use crate::train::{probabilities, PairModel};
use crate::vision::{Pair, PairSplit};
use std::path::{Path, PathBuf};
use tch::Tensor;

/// Items in the picture: eight rows of [`COLUMNS`].
pub const ITEMS: usize = 8 * COLUMNS as usize;

/// The items shown: half from each split when both have items (all seen when nothing is held
/// out), each split's first ones, the seen ones first; and whether each is held out.
pub fn chosen(split: &PairSplit) -> Vec<(Pair, bool)> {
    let (seen, held) = (&split.test_seen, &split.test_heldout);
    let n_seen = seen
        .len()
        .min(if held.is_empty() { ITEMS } else { ITEMS / 2 });
    let n_held = held.len().min(ITEMS - n_seen);
    (seen[..n_seen].iter().map(|&p| (p, false)))
        .chain(held[..n_held].iter().map(|&p| (p, true)))
        .collect()
}

/// Writes `out/pairs.png` for `model` (the ∂ILP module or joint's program) reading digits through `perception`; `test_images` is the
/// `[N, 1, 28, 28]` tensor of MNIST test images the split's test items index. Returns its path.
pub fn write_picture(
    out: &Path,
    title: &str,
    model: &dyn PairModel,
    perception: &Perception,
    split: &PairSplit,
    test_images: &Tensor,
) -> Result<PathBuf> {
    let shown = chosen(split);
    let pairs: Vec<Pair> = shown.iter().map(|&(p, _)| p).collect();
    let p_target = probabilities(model, perception, &pairs)?;
    let wanted: Vec<i64> = (pairs.iter())
        .flat_map(|p| [p.left as i64, p.right as i64])
        .collect();
    let pixels: Vec<f32> = Tensor::f_from_slice(&wanted)
        .and_then(|idx| test_images.f_index_select(0, &idx))
        .and_then(|t| crate::dilp::weights::to_vec(&t))
        .map_err(torch_err(|| {
            format!("the pictured test images of {}", shape(test_images))
        }))?;
    let mut images = pixels.chunks(784).map(<[f32]>::to_vec);
    let items: Vec<GridItem> = (shown.iter().zip(p_target))
        .map(|(&(pair, held_out), p)| {
            let (left, right) = (images.next(), images.next());
            GridItem {
                images: [left, right]
                    .into_iter()
                    .take(split.images)
                    .flatten()
                    .collect(),
                label: pair.label,
                p_target: p,
                held_out,
            }
        })
        .collect();
    let path = out.join("pairs.png");
    pair_grid::write_png(&path, title, &items)?;
    Ok(path)
}
