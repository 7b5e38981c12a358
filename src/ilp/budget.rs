//! The memory budget every command checks its size estimate against, and the size strings
//! (`8G`, `512M`) users write it in.
//!
//! The default is a safe share of physical memory: half of `MemTotal` from `/proc/meminfo`, so
//! that a run refused by the estimate never starts swapping the machine, and a run the estimate
//! lets through still leaves the other half for the operating system, LibTorch's allocator
//! slack and whatever else is running. Where `/proc/meminfo` cannot be read, a fixed 4 GiB.

use crate::error::{human_bytes, Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The budget when physical memory cannot be read (4 GiB).
pub const FALLBACK_BUDGET_BYTES: u64 = 4 << 30;

/// The share of physical memory the default budget allows (one half).
pub const DEFAULT_SHARE: f64 = 0.5;

/// How many bytes a run may be estimated to need before it is refused.
///
/// `MemoryBudget::default()` is [`MemoryBudget::system`]: half of physical memory, or
/// [`FALLBACK_BUDGET_BYTES`] where that is unknown. Serialised as a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemoryBudget {
    bytes: u64,
}

impl MemoryBudget {
    pub const fn from_bytes(bytes: u64) -> Self {
        MemoryBudget { bytes }
    }

    /// A budget in MiB (the unit of `LearnConfig::memory_limit_mib`); negative or NaN is 0.
    pub fn from_mib(mib: f64) -> Self {
        // `as` saturates: a huge or infinite value becomes u64::MAX, NaN becomes 0.
        MemoryBudget::from_bytes((mib * 1_048_576.0) as u64)
    }

    pub const fn bytes(self) -> u64 {
        self.bytes
    }

    /// [`DEFAULT_SHARE`] of physical memory (`MemTotal`), or [`FALLBACK_BUDGET_BYTES`].
    pub fn system() -> Self {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| mem_total_bytes(&s));
        MemoryBudget::from_bytes(match total {
            Some(b) => (b as f64 * DEFAULT_SHARE) as u64,
            None => FALLBACK_BUDGET_BYTES,
        })
    }

    /// Parses a size string; see [`parse_size`].
    pub fn parse(text: &str) -> Result<Self> {
        parse_size(text).map(MemoryBudget::from_bytes)
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::system()
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_bytes(self.bytes as f64))
    }
}

impl FromStr for MemoryBudget {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        MemoryBudget::parse(s)
    }
}

/// `MemTotal` in bytes from the text of `/proc/meminfo`.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Parses a size: a number (decimals allowed) and an optional unit, case-insensitive, spaces
/// allowed between them. `B` or none: bytes; `K`, `M`, `G`, `T` (with or without a trailing
/// `B` or `iB`): powers of 1024, as memory is sold and as `free -h` prints it. So `8G`,
/// `8 GiB` and `8gb` are all 8 × 2³⁰ bytes, `512M` is 512 × 2²⁰, `1.5G` is 1.5 × 2³⁰.
///
/// # Errors
/// [`Error::Config`] naming the text for an empty string, a missing or negative number, an
/// unknown unit, or a size beyond 2⁶⁴ bytes.
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = |why: &str| {
        Error::Config(format!(
            "`{text}` is not a memory size ({why}); write e.g. `8G`, `512M` or `1.5GiB`"
        ))
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(bad("no number"));
    }
    let value: f64 = number.parse().map_err(|_| bad("not a number"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad("unknown unit; use K, M, G or T")),
    };
    let bytes = (value * scale).round();
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad("too large"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_is_read_in_kib() {
        let text = "MemTotal:       16384 kB\nMemFree:   100 kB\n";
        assert_eq!(mem_total_bytes(text), Some(16384 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn system_budget_is_positive() {
        assert!(MemoryBudget::system().bytes() > 0);
    }
}
