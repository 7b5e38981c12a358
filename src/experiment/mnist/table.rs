//! A relation table as a pair model: `P(target) = Σ_ab p₁(a) p₂(b) σ(table_ab)` over the
//! conv-net's digit distributions (one image: `Σ_a p(a) σ(table_a)`).
//!
//! Joint training learns a free table and then trains through an abduced program's crisp one;
//! every run also scores its reported program this way, through the engine's verdict on each
//! digit tuple, so that the program a user takes away has its own accuracy on test pairs.

use crate::error::{shape, torch_err, Result};
use crate::train::PairModel;
use tch::{Device, Kind, Tensor};

/// A table of logits over the digit tuples (`[10, 10]`, or `[10]` for one image).
pub(super) struct TableModel {
    table: Tensor,
    images: usize,
}

impl TableModel {
    /// A table of free logits (a trainable variable, say).
    pub(super) fn new(table: Tensor, images: usize) -> TableModel {
        TableModel { table, images }
    }

    /// The crisp table of a program's verdicts (`truth[row]`, row `10·a + b` or `a`), as logits
    /// ±`sharpness`.
    pub(super) fn crisp(
        truth: &[bool],
        images: usize,
        sharpness: f64,
        device: Device,
    ) -> Result<TableModel> {
        let v: Vec<f32> = (truth.iter())
            .map(|&t| if t { 1.0 } else { -1.0 } * sharpness as f32)
            .collect();
        let dims = vec![10i64; images];
        let table = Tensor::f_from_slice(&v)
            .and_then(|t| t.f_view(dims.as_slice()))
            .and_then(|t| t.f_to_device(device))
            .map_err(torch_err(|| {
                format!("a program's table of {} digit tuples", truth.len())
            }))?;
        Ok(TableModel { table, images })
    }
}

impl PairModel for TableModel {
    fn name(&self) -> &str {
        "table"
    }
    fn images(&self) -> usize {
        self.images
    }
    fn prob(&self, left: &Tensor, right: &Tensor) -> Tensor {
        self.f_prob(left, right).unwrap_or_else(|e| panic!("{e}"))
    }
    fn f_prob(&self, left: &Tensor, right: &Tensor) -> Result<Tensor> {
        let f = || -> std::result::Result<Tensor, tch::TchError> {
            let q = self.table.f_sigmoid()?;
            let p1 = left.f_softmax(-1, Kind::Float)?;
            let joint = if self.images == 1 {
                p1.f_mul(&q.f_unsqueeze(0)?)?
            } else {
                p1.f_matmul(&q)?.f_mul(&right.f_softmax(-1, Kind::Float)?)?
            };
            joint.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        };
        f().map_err(torch_err(|| {
            format!(
                "P(target) through table {} from {}",
                shape(&self.table),
                shape(left)
            )
        }))
    }
}
