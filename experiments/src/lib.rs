//! `experiments`: what vmsched does with the engine, callable from any front end (the
//! command line, a notebook binding, another tool).
//!
//! - [`compare`]: policies × replications of a scenario in parallel, written to a results
//!   folder (`summary.csv`, `vms.csv`, …) and summarised;
//! - [`grid`]: dotted keys of a scenario set to values, grids of them, and the seed of a
//!   cell (a pure function of the master seed and the cell's parameters);
//! - [`sweep`]: a resumable, shardable sweep of a grid × policies × replications into
//!   `sweep.csv`, and the merge of its shards;
//! - [`capacity`]: the smallest value of an integer key meeting an SLO, by bisection;
//! - [`exercise`]: scheduling exercises generated from a seed, and their answers;
//! - [`bench`](mod@bench): the reference models the engine's speed is measured on;
//! - [`pipeline`]: the workload read ahead and the observer written behind on helper
//!   threads while the engine simulates.
//!
//! Work runs on a rayon thread pool of the requested size; results never depend on the
//! number of threads. Progress goes to a [`Progress`] the caller gives (a progress bar,
//! or nothing); the crate prints nothing. Every error is an [`Error`].
//!
//! ```
//! use experiments::{Policy, grid};
//!
//! let policies = grid::parse_policies(&["fcfs".into(), "srtf".into()])?;
//! assert_eq!(policies[1], Policy::parse("srtf")?);
//! assert_eq!(policies[1].label, "sjf/srtf");
//! // A cell's seed depends on its parameters, not on their order.
//! assert_eq!(
//!     grid::cell_seed(1, &[("a", "1"), ("b", "2")]),
//!     grid::cell_seed(1, &[("b", "2"), ("a", "1")]),
//! );
//! # Ok::<(), experiments::Error>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bench;
pub mod capacity;
pub mod compare;
pub mod error;
pub mod exercise;
pub mod grid;
pub mod memory;
pub mod observers;
pub mod pipeline;
pub mod progress;
pub mod recorded;
pub mod sweep;

pub use error::{Context, Error, Result};
pub use grid::Policy;
pub use progress::{NoProgress, Progress};

use error::{bail, invalid};

/// The most worker threads an experiment accepts (each is a real OS thread with its own
/// stack).
pub const MAX_THREADS: usize = 1024;

/// The rayon thread count for a requested number of worker threads: 0 (one per core)
/// for `None`; an error outside 1..=[`MAX_THREADS`].
pub fn worker_threads(threads: Option<usize>) -> Result<usize> {
    match threads {
        None => Ok(0),
        Some(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        Some(n) => bail!("--threads must be between 1 and {MAX_THREADS}, got {n}"),
    }
}

/// A thread pool of the requested size (see [`worker_threads`]).
pub(crate) fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(worker_threads(threads)?)
        .build()
        .map_err(|e| invalid!("cannot start worker threads: {e}"))
}

/// What `run.toml` records about the program that wrote a folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The command line, as typed.
    pub command: String,
    /// The program's version.
    pub version: String,
    /// The git revision the program was built from, when known.
    pub git_revision: Option<String>,
}
