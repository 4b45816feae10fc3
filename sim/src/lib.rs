//! `sim`: the discrete-event engine of vmsched.
//!
//! VMs arrive from a workload (any iterator of [`VmRequest`] in arrival order, or a
//! [`VmSource`] that lends them in place, see [`simulate_source`]), wait in the
//! admission queue until a host of the [`ClusterSpec`] can hold their vCPUs and memory, and
//! then their vCPUs share the host's pCPUs under a CPU policy. Every finished VM is reported
//! to an [`Observer`] as a [`VmRecord`]; [`metrics::Metrics`] is the observer that turns those
//! records into summaries.
//!
//! The crate does no file I/O and no unsafe; time is an integer count of nanoseconds
//! ([`SimTime`]); a run is a pure function of its configuration and workload.
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod config_check;
pub mod cpu_share;
pub mod datacenter;
pub mod engine;
pub mod error;
pub mod event;
pub mod metrics;
pub mod migration;
pub mod model;
pub mod numbers;
pub mod observer;
pub mod policy;
mod prefetch;
pub mod queueing;
pub mod rng;
pub mod source;
pub mod stats;
pub mod time;

pub use config_check::CheckedConfig;
pub use cpu_share::{CpuShare, CpuShareRow};
pub use datacenter::{
    DatacenterSpec, DatacenterStats, FailureSpec, HostOpsStats, HostPower, OnFailure, PowerCurve,
    RecordedFailure, UptimeDist,
};
pub use engine::{
    FastPaths, RunStats, simulate, simulate_source, simulate_with, simulate_with_policies,
};
pub use error::SimError;
pub use migration::{
    ConsolidationSpec, Link, MigrationReason, MigrationRecord, MigrationSpec, MigrationStats,
    PrecopyPlan, precopy, precopy_over,
};
pub use model::{
    AdmissionSpec, Backfill, ClusterSpec, CpuSpec, DEFAULT_WEIGHT, Demote, DeviceKind, DeviceSpec,
    HeadOfLine, HostResources, HostSpec, HostSpecs, IoBursts, IoProfile, LifecycleAction,
    LifecycleEvent, Mapping, MemoryProfile, MlfqSpec, Placement, SimConfig, VirtualDevice,
    VmProfile, VmRequest, nice_to_weight,
};
pub use observer::{
    DeviceSample, HostSample, NullObserver, Observer, SliceEnd, SliceRecord, VmRecord, VmTimes,
};
pub use source::VmSource;
pub use time::SimTime;
