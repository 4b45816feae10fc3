//! The crate's one error type.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while writing (or reading back) an output file.
///
/// Each variant names the file concerned. The underlying cause is kept as the error's
/// [`source`](std::error::Error::source), so print the whole chain (`{:#}` with anyhow) to
/// see it.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An operating-system call on a file failed.
    #[error("{op} {}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What failed, e.g. "cannot write" (the message is `{op} {path}`).
        op: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The CSV writer failed.
    #[error("cannot write CSV file {}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: csv::Error,
    },
    /// A value could not be written as TOML.
    #[error("cannot write TOML file {}", path.display())]
    TomlWrite {
        /// The TOML file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<toml::ser::Error>,
    },
    /// A TOML text (the scenario to embed, or a `run.toml` read back) does not parse.
    #[error("{what} {}", path.display())]
    TomlRead {
        /// The file being written or read.
        path: PathBuf,
        /// What is wrong, e.g. "invalid scenario TOML for" (the message is
        /// `{what} {path}`).
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An input file of a results folder (`vms.csv`, `slices.csv`, `summary.csv`) cannot be
    /// read or has an unexpected content.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        /// The file read.
        path: PathBuf,
        /// The line, when known.
        line: Option<u64>,
        /// What is wrong, e.g. "missing column `wait_s`".
        message: String,
    },
    /// A folder is not a results folder (no `run.toml`).
    #[error("{} is not a vmsched results folder: {message}", dir.display())]
    NotResults {
        /// The folder.
        dir: PathBuf,
        /// Why, and what to do.
        message: String,
    },
    /// A results folder without `run.toml` that holds files of a run: the run writing it
    /// was interrupted, failed or is still going (see [`crate::folder`]).
    #[error(
        "{} holds incomplete results: it has no run.toml, which a run writes last (the run \
         writing this folder was interrupted, failed or is still running); run the command \
         again with this --out",
        dir.display()
    )]
    Incomplete {
        /// The folder.
        dir: PathBuf,
    },
    /// Drawing a plot failed.
    #[error("cannot draw {}: {message}", path.display())]
    Plot {
        /// The plot file being drawn.
        path: PathBuf,
        /// The drawing library's message.
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(path: &Path, op: &'static str, source: io::Error) -> ReportError {
        ReportError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }

    pub(crate) fn input(path: &Path, line: Option<u64>, message: impl Into<String>) -> ReportError {
        ReportError::Input {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn plot(path: &Path, message: impl std::fmt::Display) -> ReportError {
        ReportError::Plot {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    pub(crate) fn csv(path: &Path, source: csv::Error) -> ReportError {
        ReportError::Csv {
            path: path.to_path_buf(),
            source,
        }
    }
}
