//! How a conv-net's digit distributions enter a ∂ILP module's valuation: spliced in as the
//! perceived predicates' atoms (fuzzy, the paper's), or weighed over the worlds of every digit
//! tuple; and the row that names a digit tuple in a task's table.

use crate::error::{shape, torch_err, Error, Result};
use std::ops::Range;
use tch::{Kind, TchError, Tensor};

type TchResult<T> = std::result::Result<T, TchError>;

/// A digit tuple named by its row in a task's table (`10·a + b` for two images, `a` for one).
pub trait TupleRow {
    fn row(&self) -> usize;
}
impl TupleRow for (u8, u8) {
    fn row(&self) -> usize {
        10 * self.0 as usize + self.1 as usize
    }
}
impl TupleRow for u8 {
    fn row(&self) -> usize {
        *self as usize
    }
}
impl TupleRow for usize {
    fn row(&self) -> usize {
        *self
    }
}

/// `[B, n]`: the background valuation `base` (`[n]`) with the atoms in `ranges[i]` replaced by
/// `subs[i]` (`[B, |range|]`). Differentiable in `subs`.
/// Fails with the step and the shapes where LibTorch fails (out of memory, say).
pub fn merge_valuation(base: &Tensor, ranges: &[Range<usize>], subs: &[&Tensor]) -> Result<Tensor> {
    if subs.len() != ranges.len() {
        return Err(Error::Config(format!(
            "{} digit distributions for {} perceived predicates",
            subs.len(),
            ranges.len()
        )));
    }
    let b = subs.first().map_or(1, |s| s.size()[0]);
    let f = || -> TchResult<Tensor> {
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_by_key(|&i| ranges[i].start);
        let mut parts = Vec::new();
        let mut at = 0usize;
        let n = base.size()[0] as usize;
        let piece = |from: usize, to: usize| {
            base.f_narrow(0, from as i64, (to - from) as i64)?
                .f_unsqueeze(0)?
                .f_expand([b, (to - from) as i64], false)
        };
        for i in order {
            let r = &ranges[i];
            if r.start > at {
                parts.push(piece(at, r.start)?);
            }
            parts.push(subs[i].f_to_kind(Kind::Float)?);
            at = r.end;
        }
        if at < n {
            parts.push(piece(at, n)?);
        }
        Tensor::f_cat(&parts, 1)
    };
    f().map_err(torch_err(|| {
        format!(
            "merging {} digit distributions into valuation {} for a batch of {b}",
            subs.len(),
            shape(base)
        )
    }))
}

/// How the digit distributions become `P(target)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSemantics {
    /// The paper's: the probabilities are the initial valuation of `image1`/`image2`, fuzzy
    /// truth values that the clauses combine like any other.
    #[default]
    Fuzzy,
    /// Each image shows exactly one digit: `P(target) = Σ_{a,b} p₁(a) p₂(b) q(a,b)`, where
    /// `q(a,b)` is the module's value of `target` in the world `image1(a). image2(b).`
    /// (all 100 worlds run as one batch; one image: `Σ_a p(a) q(a)` over 10 worlds). Under fuzzy truth values a conv-net that trains can
    /// spread its mass over several digits and let the clauses compute on it like analogue
    /// numbers; here `P(target)` is linear in each image's distribution, so only a reading
    /// of digits that the program explains lowers the loss.
    Worlds,
}

impl std::str::FromStr for ImageSemantics {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fuzzy" => Ok(ImageSemantics::Fuzzy),
            "worlds" => Ok(ImageSemantics::Worlds),
            _ => Err(format!("unknown image semantics `{s}` (fuzzy, worlds)")),
        }
    }
}
