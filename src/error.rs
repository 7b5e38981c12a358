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
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("solver: {0}")]
    Solver(String),
    #[error("torch: {0}")]
    Torch(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
