//! Errors of the engine.

use thiserror::Error;

/// What can go wrong in a simulation run. Every variant is caused by the configuration or
/// the workload, never by the engine itself.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SimError {
    /// A policy name that no registry entry matches.
    #[error("unknown {level} policy `{name}`; known: {known}")]
    UnknownPolicy {
        /// `admission` or `cpu`.
        level: &'static str,
        /// The name given.
        name: String,
        /// Comma-separated list of the known names.
        known: String,
    },
    /// The workload yielded a VM that arrives before the previous one.
    #[error(
        "VM {id} arrives at {arrival} s, before the previous VM ({previous} s): a workload must be in arrival order"
    )]
    OutOfOrder {
        /// Id of the offending VM.
        id: u64,
        /// Its arrival (seconds).
        arrival: String,
        /// The previous arrival (seconds).
        previous: String,
    },
    /// A VM request that cannot be simulated.
    #[error("VM {id}: {reason}")]
    InvalidVm {
        /// Id of the VM.
        id: u64,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value that cannot be simulated.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// An event would be scheduled before the current time.
    #[error("event scheduled in the past: at {at} s while the clock reads {now} s")]
    PastEvent {
        /// When the event was asked for.
        at: String,
        /// The current time.
        now: String,
    },
}
