//! `workloads`: where the VMs of a vmsched run come from.
//!
//! * [`scenario`] — scenario files (TOML): hosts, policies and a synthetic workload, with
//!   errors that name the file, the line and the key;
//! * [`generator`] — the stream of [`sim::VmRequest`]s a scenario's `[workload]` describes;
//! * [`dist`] — service-time distributions and weighted choices;
//! * [`textbook`] — the classic CPU-scheduling examples by name, and process tables in CSV;
//! * [`trace`] — real traces (SWF, Alibaba, Azure, plain CSV) streamed as VM requests, node
//!   lists, and one-pass trace statistics;
//! * [`fit`] — fitting arrival and service models to a trace and writing them as a
//!   scenario;
//! * [`workload`] — the stream a scenario produces, synthetic or from a trace.
//!
//! Every random quantity is drawn from its own named stream (`sim::rng::stream`), so a
//! workload is a pure function of (scenario, seed, replication).
//!
//! ```
//! use workloads::Scenario;
//!
//! let scenario = Scenario::from_toml_str(Scenario::builtin_default_toml(), "default.toml")?;
//! let config = scenario.sim_config()?; // hosts, policies: what `sim::simulate` needs
//! assert_eq!(config.cluster.hosts.len(), 1);
//! let first: Vec<sim::VmRequest> = scenario.workload(0)?.take(3).collect();
//! assert_eq!(first.iter().map(|v| v.id).collect::<Vec<_>>(), [0, 1, 2]);
//!
//! let case = workloads::textbook::case("rr")?;
//! assert_eq!(case.vm_requests().len(), 3);
//! # Ok::<(), workloads::Error>(())
//! ```
#![forbid(unsafe_code)]
// No panics on input: unwrap/expect only in tests, or with a local allow and a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod check;
pub mod datacenter;
pub mod dist;
mod error;
pub mod fit;
pub mod generator;
pub mod limits;
pub mod migration;
mod names;
pub mod resources;
pub mod scenario;
mod spans;
pub mod textbook;
pub mod trace;
mod units;
pub mod workload;
mod workload_spec;

pub use error::Error;
pub use generator::Generator;
pub use scenario::Scenario;
pub use workload::Workload;
