//! The crate's one error type. Every variant that comes from user input names the file and the
//! place, so the CLI can print it as is.

use std::fmt;
use std::path::PathBuf;

/// Where in a source text something went wrong (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The offending text, cut to a readable length.
    pub snippet: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)?;
        if !self.snippet.is_empty() {
            write!(f, " (at `{}`)", self.snippet)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Text that does not parse.
    #[error("{loc}: syntax error: {msg}")]
    Syntax { loc: Location, msg: String },
    /// Text that parses but breaks a rule of the language (unsafe rule, arity clash, ...).
    #[error("{loc}: {msg}")]
    Semantic { loc: Location, msg: String },
    /// A task file that is well-formed TOML but not a valid ILP task.
    #[error("{file}: {msg}")]
    Task { file: String, msg: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Missing, truncated or corrupt data files (MNIST, checkpoints, results).
    #[error("{}: {msg}", path.display())]
    Data { path: PathBuf, msg: String },
    /// A model or template that would not fit in memory.
    #[error(
        "{what} needs about {needed_mib:.0} MiB, more than the {limit_mib:.0} MiB allowed; {hint}"
    )]
    Memory {
        what: String,
        needed_mib: f64,
        limit_mib: f64,
        hint: String,
    },
    /// A task whose estimated size is over the memory budget, refused before anything large
    /// is allocated (see `crate::ilp::size`).
    #[error(
        "{file}: {what} would need about {} by estimate, over the memory budget of {}. \
         The size comes from {driver}. To bring it down: {hint}",
        size_text(*.needed_bytes),
        size_text(*.budget_bytes as f64)
    )]
    TooLarge {
        /// The task file.
        file: String,
        /// What was about to run (`generating the clauses`, `the SAT encoding`, ...).
        what: String,
        /// The predicate, template and world that drive the estimate, with their numbers.
        driver: String,
        needed_bytes: f64,
        budget_bytes: u64,
        /// What would bring the estimate down.
        hint: String,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("solver: {0}")]
    Solver(String),
    #[error("torch: {0}")]
    Torch(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bytes for people: `512 B`, `3.2 KiB`, `8.0 GiB`, … up to EiB, then powers of ten of EiB.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut x = bytes.max(0.0);
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    match u {
        0 => format!("{x:.0} B"),
        _ if x >= 1e4 => format!("{x:.2e} {}", UNITS[u]),
        _ => format!("{x:.1} {}", UNITS[u]),
    }
}

/// A size in a refusal: MiB (the unit the other memory messages use), with GiB and up beside it.
fn size_text(bytes: f64) -> String {
    let mib = bytes / 1_048_576.0;
    if bytes < 1_073_741_824.0 {
        return format!("{mib:.2} MiB");
    }
    format!("{mib:.0} MiB ({})", human_bytes(bytes))
}

/// Turns a LibTorch failure into [`Error::Torch`]: the step (`step` names it, with the shapes
/// involved, see [`shape`]; it runs only on failure, so the success path formats nothing) and
/// LibTorch's own message without the C++ backtrace it appends. Out of memory on CPU or CUDA
/// arrives here, so a run fails with a message instead of a panic.
#[cfg(feature = "torch")]
pub fn torch_err<S: fmt::Display>(step: impl FnOnce() -> S) -> impl FnOnce(tch::TchError) -> Error {
    move |e| {
        let step = step();
        let msg = e.to_string();
        // LibTorch appends a C++ backtrace, after one of these markers.
        let end = ["\nException raised from", "\nframe #"]
            .iter()
            .filter_map(|m| msg.find(m))
            .min()
            .unwrap_or(msg.len());
        let msg = msg[..end].trim_end();
        Error::Torch(format!("{step}: {msg}"))
    }
}

/// A tensor's shape for an error message: `[8, 3, 1200]`.
#[cfg(feature = "torch")]
pub fn shape(t: &tch::Tensor) -> String {
    format!("{:?}", t.size())
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
