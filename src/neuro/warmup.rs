//! The symbolic warm-up of scratch mode: the rule weights fitted alone to the labelled worlds
//! of the seen digit tuples, before any conv-net joins the optimiser. This is the symbolic
//! table that scratch mode is given and joint mode is not.

use crate::error::{shape, torch_err, Error, Result};
use crate::neuro::valuation::TupleRow;
use crate::neuro::RuleModule;
use tch::{nn, Kind, TchError, Tensor};

type TchResult<T> = std::result::Result<T, TchError>;

impl RuleModule {
    /// Trains the rule weights alone on the symbolic task: the worlds of the digit tuples
    /// `seen` (rows, or `(a, b)` pairs), labelled by the task's labelling program (no image
    /// involved), with Adam at `lr`, full batch. Run before any perception joins `vs`, so the
    /// optimiser sees only the rules. Returns the final mean BCE over those tuples.
    pub fn fit_symbolic<T: TupleRow>(
        &self,
        vs: &nn::VarStore,
        seen: &[T],
        steps: usize,
        lr: f64,
    ) -> Result<f64> {
        use tch::nn::OptimizerConfig;
        let device = vs.device();
        let rows: Vec<i64> = seen.iter().map(|t| t.row() as i64).collect();
        if let Some(&r) = rows.iter().find(|&&r| r as usize >= self.labels.len()) {
            return Err(Error::Config(format!(
                "digit tuple row {r} is out of range: the task has {} tuples",
                self.labels.len()
            )));
        }
        let labels: Vec<f32> = rows
            .iter()
            .map(|&r| f32::from(u8::from(self.labels[r as usize])))
            .collect();
        let upload = |what: &str, t: TchResult<Tensor>| {
            t.and_then(|t| t.f_to_device(device)).map_err(torch_err(|| {
                format!("copying {} {what} to {device:?}", rows.len())
            }))
        };
        let (rows, labels) = (
            upload("tuple rows", Tensor::f_from_slice(&rows))?,
            upload("labels", Tensor::f_from_slice(&labels))?,
        );
        let mut opt = nn::Adam::default()
            .build(vs, lr)
            .map_err(torch_err(|| "building the rules' optimiser"))?;
        let bce = |q: &Tensor| -> TchResult<Tensor> {
            let q = q.f_clamp(1e-6, 1.0 - 1e-6)?;
            let (nl, nq) = (labels.f_rsub_scalar(1.0)?, q.f_rsub_scalar(1.0)?);
            let t = labels.f_mul(&q.f_log()?)?.f_add(&nl.f_mul(&nq.f_log()?)?)?;
            t.f_mean(Kind::Float)?.f_neg()
        };
        let mut last = f64::NAN;
        for step in 0..steps {
            let table = self.world_table()?;
            let mut f = || -> TchResult<f64> {
                let loss = bce(&table.f_index_select(0, &rows)?)?;
                opt.zero_grad();
                loss.f_backward()?;
                opt.step();
                loss.f_double_value(&[])
            };
            last = f().map_err(torch_err(|| {
                format!(
                    "symbolic step {} of {steps} on {} tuples",
                    step + 1,
                    shape(&rows)
                )
            }))?;
        }
        Ok(last)
    }
}
