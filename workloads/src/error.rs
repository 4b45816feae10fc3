//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while reading or building a workload.
///
/// Messages are short and point at the culprit: `scenario.toml:12:
/// workload.arrival.rate_per_s: must be > 0, got -3`.
#[derive(Debug, Error)]
pub enum Error {
    /// A value in a scenario file, a process table or an in-memory scenario is invalid.
    #[error("{}", Located { file: file.as_deref(), line: *line, key: key.as_deref(), message })]
    Invalid {
        /// The file (as the user named it), when the value came from one.
        file: Option<String>,
        /// 1-based line in that file, when known.
        line: Option<u64>,
        /// The key or column, e.g. `workload.arrival.rate_per_s` or `burst`.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read. The message names the file; the cause is the error's
    /// [`source`](std::error::Error::source) (print the chain, `{:#}` with anyhow, to see
    /// it once).
    #[error("{}: cannot read", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A textbook case name that is not in [`crate::textbook::CASES`].
    #[error("unknown textbook case `{name}`; known: {known}")]
    UnknownCase {
        /// The name given.
        name: String,
        /// Comma-separated list of the known names.
        known: String,
    },
}

impl Error {
    /// An [`Error::Invalid`] about `key`, not yet tied to a file or line.
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            file: None,
            line: None,
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// The key an [`Error::Invalid`] is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Invalid { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// The 1-based line an [`Error::Invalid`] points at, if known.
    pub fn line(&self) -> Option<u64> {
        match self {
            Error::Invalid { line, .. } => *line,
            _ => None,
        }
    }
}

/// Formats `file:line: key: message`, leaving out the parts that are unknown.
struct Located<'a> {
    file: Option<&'a str>,
    line: Option<u64>,
    key: Option<&'a str>,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        if let Some(key) = self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_shows_file_line_and_key() {
        let e = Error::Invalid {
            file: Some("scenario.toml".into()),
            line: Some(12),
            key: Some("workload.arrival.rate_per_s".into()),
            message: "must be > 0, got -3".into(),
        };
        assert_eq!(
            e.to_string(),
            "scenario.toml:12: workload.arrival.rate_per_s: must be > 0, got -3"
        );
        let e = Error::invalid("run.vms", "must be ≥ 1, got 0");
        assert_eq!(e.to_string(), "run.vms: must be ≥ 1, got 0");
        assert_eq!(e.key(), Some("run.vms"));
        assert_eq!(e.line(), None);
    }
}
