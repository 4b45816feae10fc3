//! The one error type of the crate.
//!
//! Errors of the crates below (`sim`, `workloads`, `reports`) pass through unchanged; an
//! [`Error::Context`] says what was being done (which policy, cell or replication) and
//! keeps the cause as its [`source`](std::error::Error::source), so a front end that
//! prints the chain (`cause: cause of cause: …`) names both.

use std::fmt::Display;

/// An error of an experiment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine refused the configuration or failed a run.
    #[error(transparent)]
    Sim(#[from] sim::SimError),
    /// A scenario, workload or trace could not be read or checked.
    #[error(transparent)]
    Workload(#[from] workloads::Error),
    /// An output file could not be written or read back.
    #[error(transparent)]
    Report(#[from] reports::ReportError),
    /// A file or folder operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A bad request: an option or a value out of range, a folder holding something else.
    /// The message says which.
    #[error("{0}")]
    Invalid(String),
    /// What was being done when `source` happened.
    #[error("{context}")]
    Context {
        /// What was being done (`policy fcfs, replication 3`).
        context: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
}

/// The result of an experiment.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Invalid`] with this message.
    pub fn invalid(message: impl Display) -> Error {
        Error::Invalid(message.to_string())
    }
}

/// Adds what was being done to an error (the way `anyhow::Context` does).
pub trait Context<T> {
    /// Wraps the error in an [`Error::Context`] with the message `f` returns.
    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T>;
    /// Wraps the error in an [`Error::Context`] with `context`.
    fn context<C: Display>(self, context: C) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: f().to_string(),
            source: Box::new(e.into()),
        })
    }

    fn context<C: Display>(self, context: C) -> Result<T> {
        self.with_context(|| context)
    }
}

/// Returns early with an [`Error::Invalid`] made by `format!`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::Invalid(format!($($arg)*)))
    };
}
pub(crate) use bail;

/// An [`Error::Invalid`] made by `format!`.
macro_rules! invalid {
    ($($arg:tt)*) => {
        $crate::error::Error::Invalid(format!($($arg)*))
    };
}
pub(crate) use invalid;

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain of messages as a front end prints it.
    fn chain(e: &Error) -> String {
        let mut parts = vec![e.to_string()];
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            parts.push(c.to_string());
            cause = c.source();
        }
        parts.join(": ")
    }

    #[test]
    fn context_keeps_the_cause() {
        let r: Result<()> = Err(Error::invalid("no hosts"));
        let e = r.context("cell hosts.count=0").unwrap_err();
        assert_eq!(chain(&e), "cell hosts.count=0: no hosts");
        let io: std::result::Result<(), std::io::Error> = Err(std::io::Error::other("disk full"));
        let e = io
            .with_context(|| format!("cannot write {}", "x.csv"))
            .unwrap_err();
        assert_eq!(chain(&e), "cannot write x.csv: disk full");
    }
}
