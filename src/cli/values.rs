//! Value parsers for flags whose numbers have a range, so that clap refuses a bad value at parse
//! time and names the flag: "invalid value '0' for '--seeds <SEEDS>': must be at least 1".
//! List items (`--rho 0.1, 0.2`) are trimmed, as they were when lists were split by hand.

/// A number, the spaces around it ignored (`--seeds 1, 32` of `bench speed`).
pub fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{}` is not a number", s.trim()))
}

/// A count of at least 1 (`--seeds`, `--draws`, `--runs`, `--pairs`).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match number(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A finite number above 0 (learning rates, `--tolerance`).
pub fn positive(s: &str) -> Result<f64, String> {
    let x: f64 = number(s)?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err("must be positive".into())
    }
}

/// A finite number, 0 or above (`--init-std`, loss weights).
pub fn non_negative(s: &str) -> Result<f64, String> {
    let x: f64 = number(s)?;
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err("must be a non-negative number".into())
    }
}

/// A proportion in [0, 1) (`--noise`, `--held-out`).
pub fn proportion(s: &str) -> Result<f64, String> {
    let x: f64 = number(s)?;
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err("must be in [0, 1)".into())
    }
}

/// A size such as `8G`, `512M` or a plain number of bytes.
pub fn memory(s: &str) -> Result<dilp::ilp::MemoryBudget, String> {
    dilp::ilp::MemoryBudget::parse(s).map_err(|e| e.to_string())
}

/// `I/N`, shard I of N counted from 1 (`dilp mnist sweep --shard`).
#[cfg(feature = "torch")]
pub fn shard(s: &str) -> Result<dilp::experiment::mnist_shard::Shard, String> {
    dilp::experiment::mnist_shard::Shard::parse(s)
}

/// `auto` (CUDA when available), `cpu`, `cuda` or `cuda:N`.
pub fn device(s: &str) -> Result<dilp::dilp::Device, String> {
    dilp::dilp::parse_device(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_refuse_what_they_should() {
        assert_eq!(at_least_one(" 3"), Ok(3));
        assert!(at_least_one("0").is_err());
        assert!(at_least_one("-1").is_err());
        assert!(positive("0").is_err());
        assert!(positive("nan").is_err());
        assert_eq!(positive("0.5"), Ok(0.5));
        assert!(non_negative("-0.1").is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(proportion("1").is_err());
        assert!(number::<f64>("x").unwrap_err().contains("`x`"));
    }
}
