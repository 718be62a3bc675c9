//! Typed errors and the exit codes they map to.

use std::fmt;
use std::path::PathBuf;

use crate::loc::Loc;

/// Where a problem is: a place in a pipeline file, or a command-line argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    File { path: PathBuf, loc: Loc },
    CommandLine { arg: String },
}

/// One located problem: `file:line:col: key: message`.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub origin: Origin,
    /// Dotted path of the offending key, e.g. `stages.train.params.gamma`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { path, loc } => {
                write!(f, "{}:{}:{}: ", path.display(), loc.line, loc.col)?
            }
            Origin::CommandLine { arg } => write!(f, "command line `{arg}`: ")?,
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found while validating, one per line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline or its overrides are invalid; nothing ran.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// Every mistake found is an input file or folder that does not exist
    /// (the user's own data, not there yet); nothing ran.
    #[error("{0}")]
    MissingData(Diagnostics),
    /// Bad command-line usage outside any pipeline.
    #[error("{0}")]
    Usage(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file the user gave is unusable (a damaged export, say).
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Invalid(_) | Error::MissingData(_) | Error::Usage(_) | Error::BadData(_) => {
                exit::INVALID
            }
            Error::Io { .. } | Error::Other(_) => exit::FAILED,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Invalid(Diagnostics(vec![d]))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Process exit codes (the CLI contract).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const INVALID: u8 = 2;
    /// Stopped early (time limit, SIGTERM, SIGUSR1) with every running
    /// training checkpointed: rerun the same command to resume (sysexits'
    /// EX_TEMPFAIL, "try again later").
    pub const STOPPED: u8 = 75;
    pub const INTERRUPTED: u8 = 130;
}
