//! `validate`: replays vmsched workloads on real KVM vCPUs, calibrates the model from
//! micro-benchmarks, and compares the simulator's predictions with what really happened.
//!
//! * [`codegen`] — the guest program as x86-64 machine code, emitted from Rust;
//! * [`layout`] — guest memory layout and the long-mode CPL 3 state;
//! * [`exits`] — what a vCPU exit means to the VMM;
//! * [`plan`] — a workload turned into guest programs and a replay schedule;
//! * [`profile`] — `profile.toml`, and how the simulator side uses it;
//! * [`compare`] — measured vs predicted, per VM and per policy, with the error split by
//!   part of the model;
//! * [`distribution`] — means, p95s, the Kolmogorov–Smirnov distance and order flips;
//! * [`rounds`] — repeated rounds, medians with their min–max, `validation-summary.csv`;
//! * [`interference`] — what the host did during a replay, and when that disturbs it;
//! * [`host_sched`] — `--host-scheduler`: weights and caps as cgroup files or nice
//!   values, the checks of the mode, and the error split by weight, cap and slice;
//! * [`keys`] — the replay's queue order, from `sim`'s policy registry;
//! * `kvm` (feature `kvm`, Linux) — the VMs, the executor threads that run their vCPUs, the
//!   user-space scheduler, the device thread and the calibration benchmarks.
//!
//! Without the feature, [`kvm_available`] and the entry points return
//! [`Error::FeatureDisabled`].
#![deny(unsafe_op_in_unsafe_fn)]
// No panics on input: unwrap/expect only in tests, or with a local allow and a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod codegen;
pub mod compare;
pub mod distribution;
pub mod error;
pub mod exits;
pub mod host_sched;
pub mod interference;
pub mod keys;
pub mod layout;
pub mod plan;
pub mod profile;
pub mod rounds;

#[cfg(all(feature = "kvm", target_os = "linux"))]
pub mod kvm;

pub use error::Error;

/// Checks that KVM can be used here: the feature, the device, the permission.
pub fn kvm_available() -> Result<(), Error> {
    #[cfg(all(feature = "kvm", target_os = "linux"))]
    {
        kvm::open().map(|_| ())
    }
    #[cfg(not(all(feature = "kvm", target_os = "linux")))]
    {
        Err(Error::FeatureDisabled)
    }
}

/// The default scenario of `vmsched validate` (`validate/scenarios/default.toml`): 20
/// CPU-bound VMs on one pCPU, Poisson arrivals at 2.5/s, log-normal service (mean 0.5 s,
/// cv 0.8), three priority classes.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");
