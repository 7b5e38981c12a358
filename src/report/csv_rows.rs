//! CSV files from serde rows: each CSV the program writes has one `#[derive(Serialize)]` row
//! struct, whose field names are the header, so the header cannot drift from the rows. The `csv`
//! crate quotes any field that needs it (a learned program holds commas), and the file is
//! written atomically like every other.

use super::files::write_atomic;
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::Path;

/// A number written with `D` decimals (as `format!("{:.D$}", x)` writes it), so that tables
/// keep the precision their readers expect; read back as any `f64`, `NaN` included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed<const D: usize>(pub f64);

impl<const D: usize> Serialize for Fixed<D> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", D, self.0))
    }
}

impl<'de, const D: usize> Deserialize<'de> for Fixed<D> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> std::result::Result<Self, De::Error> {
        f64::deserialize(d).map(Fixed)
    }
}

/// A number written as Rust's `Display` writes it (`0.5`, `0`, `NaN`), where the `csv` crate
/// on its own would write `0.0` for zero; read back as any `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plain(pub f64);

impl Serialize for Plain {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<De: Deserializer<'de>>(d: De) -> std::result::Result<Self, De::Error> {
        f64::deserialize(d).map(Plain)
    }
}

/// Writes `rows` to `path` atomically, with a header from the row type's field names. With no
/// rows the file is empty (serde gives the names only from a value).
pub fn write_csv<R: Serialize>(path: &Path, rows: &[R]) -> Result<()> {
    let err = |e: csv::Error| Error::Data {
        path: path.to_path_buf(),
        msg: format!("could not write CSV: {e}"),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| err(e.into_error().into()))?;
    write_atomic(path, &bytes)
}

/// Reads a CSV written by [`write_csv`] back into rows; a bad record is an error naming the
/// file and its line.
pub fn read_csv<R: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<R>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    csv::Reader::from_reader(file)
        .deserialize()
        .map(|r| r.map_err(|e| csv_err(path, e)))
        .collect()
}

/// A CSV error as an [`Error::Data`] naming the file and, where known, the line.
pub fn csv_err(path: &Path, e: csv::Error) -> Error {
    let line = e
        .position()
        .map_or(String::new(), |p| format!("line {}: ", p.line()));
    Error::Data {
        path: path.to_path_buf(),
        msg: format!("{line}not a CSV this program wrote: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        task: String,
        seeds: usize,
        rho: Plain,
        mse: Fixed<4>,
        paper: Option<Fixed<1>>,
        program: String,
    }

    #[test]
    fn rows_round_trip_with_commas_quotes_and_fixed_decimals() {
        let dir = std::env::temp_dir().join(format!("dilp-csv-{}", std::process::id()));
        let path = dir.join("t.csv");
        let rows = vec![
            Row {
                task: "even".into(),
                seeds: 3,
                rho: Plain(0.0),
                mse: Fixed(0.25),
                paper: None,
                program: r#"p(X) :- q(X, Y), r(Y, "a,b")."#.into(),
            },
            Row {
                task: "less, than".into(),
                seeds: 10,
                rho: Plain(0.25),
                mse: Fixed(f64::NAN),
                paper: Some(Fixed(12.5)),
                program: String::new(),
            },
        ];
        write_csv(&path, &rows).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("task,seeds,rho,mse,paper,program"));
        assert_eq!(
            lines.next(),
            Some(r##"even,3,0,0.2500,,"p(X) :- q(X, Y), r(Y, ""a,b"").""##)
        );
        let back: Vec<Row> = read_csv(&path).unwrap();
        assert_eq!(back[0], rows[0]);
        assert_eq!(back[1].task, rows[1].task);
        assert!(back[1].mse.0.is_nan());
        assert_eq!(back[1].paper, Some(Fixed(12.5)));
        std::fs::write(&path, "task,seeds\neven,many\n").unwrap();
        let err = read_csv::<Row>(&path).unwrap_err().to_string();
        assert!(err.contains("t.csv") && err.contains("line 2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
