//! Reporting: progress bars on long work, CSV and JSON written atomically, and PNG plots drawn
//! from saved results so that a figure can be redrawn without retraining.

pub mod csv_rows;
pub mod files;
pub mod pair_grid;
pub mod plot;
pub mod progress;
