//! The scenario's own tables: `[run]`, `[[hosts]]`, `[cluster]`, `[admission]` and `[cpu]`
//! (`[workload]` is [`WorkloadSpec`](crate::workload_spec::WorkloadSpec)).

use serde::{Deserialize, Serialize};
use sim::{Backfill, Demote, HeadOfLine, Mapping, MlfqSpec, Placement};

use super::overcommit::Overcommit;
use super::serde_helpers::{
    first_fit, is_contended, is_default_levels, is_default_overcommit, is_floating, is_one,
    is_one_u32, is_page_4k, is_zero, one_u32,
};
use crate::datacenter::OnFailureSetting;
use crate::resources::DeviceSettings;
use crate::units::PageSize;

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Master seed of every random stream (default 1).
    pub seed: u64,
    /// Number of VM arrivals to simulate per replication (default 10 000, ≥ 1).
    pub vms: u64,
    /// The first this-many arrivals are warm-up, left out of statistics (default 0,
    /// < `vms`).
    pub warmup_vms: u64,
    /// Number of independent replications (default 1, ≥ 1).
    pub replications: u64,
    /// Interval of `timeline.csv` samples in seconds (default none: no timeline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline_s: Option<f64>,
    /// Interval of `cpu_share.csv` in seconds: each VM's CPU time per interval (default
    /// none: no file). For runs small enough to plot VM by VM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_share_s: Option<f64>,
    /// The most events a replication may be expected to take (default 10¹⁰, see
    /// [`crate::limits`]); a larger run is refused unless this is raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_events: Option<f64>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            seed: 1,
            vms: 10_000,
            warmup_vms: 0,
            replications: 1,
            timeline_s: None,
            cpu_share_s: None,
            max_events: None,
        }
    }
}

/// One `[[hosts]]` entry: `count` identical hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostGroup {
    /// How many hosts (default 1, ≥ 1).
    #[serde(default = "one_u32")]
    pub count: u32,
    /// Physical CPUs per host (≥ 1).
    pub pcpus: u32,
    /// Memory per host in GiB (≥ 0; converted to MiB as `round(gib × 1024)`).
    pub memory_gib: f64,
    /// vCPUs admitted per pCPU (default 1.0).
    #[serde(default)]
    pub overcommit: Overcommit,
    /// VM memory admitted per unit of host memory (default 1.0).
    #[serde(default)]
    pub memory_overcommit: Overcommit,
    /// Hardware threads per core (default 1: no SMT).
    #[serde(default = "one_u32", skip_serializing_if = "is_one_u32")]
    pub threads_per_core: u32,
    /// Each thread runs at `1 − smt_slowdown` of full speed while its sibling is busy
    /// (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub smt_slowdown: f64,
    /// NUMA nodes per host (default 1); pCPUs and memory split evenly.
    #[serde(default = "one_u32", skip_serializing_if = "is_one_u32")]
    pub numa_nodes: u32,
    /// A vCPU away from its VM's home node runs at `1 − numa_remote_slowdown` (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub numa_remote_slowdown: f64,
    /// Page size backing guest memory: `"4k"` (default), `"2m"` or `"1g"`.
    #[serde(
        with = "crate::names::named",
        default,
        skip_serializing_if = "is_page_4k"
    )]
    pub page_size: PageSize,
    /// Two-level translation slows CPU work to `1 / (1 + overhead)` (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub translation_overhead: f64,
    /// Cost of mapping one guest page on first touch, µs (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_touch_us: f64,
    /// CPU cost of one VM exit, µs (default 0); I/O requests pay it per exit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exit_cost_us: f64,
    /// Memory available to resident working sets, GiB (default `memory_gib`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_gib: Option<f64>,
    /// Reclaim a paused VM's working set (default false; see `sim::HostResources::balloon`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub balloon: bool,
    /// `[[hosts.devices]]`: physical devices (default none; swap then goes to an implicit
    /// SSD-like device).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceSettings>,
    /// A calibration profile (`vmsched calibrate`'s `profile.toml`; a relative path is
    /// taken from the scenario's folder). `vmsched run`, `compare` and `validate` set this
    /// group's overheads from it and then clear the key; other commands refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Power model (default none: energy not tracked); see
    /// [`PowerSettings`](crate::datacenter::PowerSettings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<crate::datacenter::PowerSettings>,
    /// Seconds a switched-off host takes to boot (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub boot_s: f64,
}

impl HostGroup {
    /// One host of `pcpus` pCPUs and `memory_gib` GiB, every other key at its default.
    pub fn new(pcpus: u32, memory_gib: f64) -> HostGroup {
        HostGroup {
            count: 1,
            pcpus,
            memory_gib,
            overcommit: Overcommit::Ratio(1.0),
            memory_overcommit: Overcommit::Ratio(1.0),
            threads_per_core: 1,
            smt_slowdown: 0.0,
            numa_nodes: 1,
            numa_remote_slowdown: 0.0,
            page_size: PageSize::Kib4,
            translation_overhead: 0.0,
            first_touch_us: 0.0,
            exit_cost_us: 0.0,
            resident_gib: None,
            balloon: false,
            devices: Vec::new(),
            profile: None,
            power: None,
            boot_s: 0.0,
        }
    }
}

/// `[cluster]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// `"first-fit"` (default), `"best-fit"` or `"worst-fit"`.
    #[serde(with = "crate::names::placement", default = "first_fit")]
    pub placement: Placement,
    /// A node list (CSV) whose hosts are added after the `[[hosts]]` groups (relative to
    /// the scenario file; see [`crate::trace::nodes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_list: Option<String>,
    /// vCPU overcommit of the node-list hosts (default 1.0).
    #[serde(default, skip_serializing_if = "is_default_overcommit")]
    pub node_overcommit: Overcommit,
    /// Memory overcommit of the node-list hosts (default 1.0).
    #[serde(default, skip_serializing_if = "is_default_overcommit")]
    pub node_memory_overcommit: Overcommit,
    /// A host with no VM for this many seconds switches off (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_off_idle_s: Option<f64>,
    /// Host failures (default none); see
    /// [`FailureSettings`](crate::datacenter::FailureSettings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<crate::datacenter::FailureSettings>,
    /// What happens to the VMs of a failed host: `"restart"` (default) or `"lose"`.
    #[serde(default, skip_serializing_if = "OnFailureSetting::is_default")]
    pub on_failure: OnFailureSetting,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            placement: Placement::FirstFit,
            node_list: None,
            node_overcommit: Overcommit::default(),
            node_memory_overcommit: Overcommit::default(),
            power_off_idle_s: None,
            failures: None,
            on_failure: OnFailureSetting::Restart,
        }
    }
}

/// `[admission]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionSettings {
    /// Admission policy name (default `fcfs`; see `sim::policy::ADMISSION_POLICIES`).
    pub policy: String,
    /// Priority aging: levels gained per second of waiting (default 0 = none).
    pub aging_per_s: f64,
    /// `"strict"` (default: only the head may be admitted) or `"skip"` (VMs that fit may
    /// overtake a blocked head).
    #[serde(with = "crate::names::head_of_line")]
    pub head_of_line: HeadOfLine,
    /// `"none"` (default), `"easy"` or `"conservative"` (see `sim::Backfill`): plan with the
    /// VMs' runtime estimates and let waiting VMs start ahead of the head when that delays
    /// no reservation. Replaces `head_of_line` when on.
    #[serde(with = "crate::names::named", skip_serializing_if = "is_no_backfill")]
    pub backfill: Backfill,
}

fn is_no_backfill(b: &Backfill) -> bool {
    *b == Backfill::None
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            policy: "fcfs".into(),
            aging_per_s: 0.0,
            head_of_line: HeadOfLine::Strict,
            backfill: Backfill::None,
        }
    }
}

/// `[cpu]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuSettings {
    /// CPU policy name (default `fcfs`; see `sim::policy::CPU_POLICIES`).
    pub policy: String,
    /// Time slice of time-sliced policies, in milliseconds (default 100, > 0).
    pub quantum_ms: f64,
    /// The time slice in milliseconds (> 0), replacing `quantum_ms` when set. Unset, `fair`
    /// uses Linux's base slice, 0.75 ms × (1 + ⌊log₂ min(pCPUs, 8)⌋) per host, and the
    /// other time-sliced policies `quantum_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_ms: Option<f64>,
    /// The period of CPU caps (`[workload] cpu_cap`), in milliseconds (default 100, > 0;
    /// cgroup `cpu.max`'s default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_period_ms: Option<f64>,
    /// Cost of a context switch, in microseconds (default 0).
    pub context_switch_us: f64,
    /// `"floating"` (default: any vCPU on any pCPU) or `"pinned"` (each vCPU on one pCPU).
    #[serde(
        with = "crate::names::named",
        default,
        skip_serializing_if = "is_floating"
    )]
    pub mapping: Mapping,
    /// Extra cost when a vCPU runs on another pCPU than last time, µs (default 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub migration_us: f64,
    /// Gang (co-)scheduling of a VM's vCPUs (default false; see `sim::CpuSpec::gang`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub gang: bool,
    /// `mlfq`: number of levels (default 3, at most 64).
    #[serde(skip_serializing_if = "is_default_levels")]
    pub levels: u32,
    /// `mlfq`: level `i` has the quantum `quantum_ms × quantum_growth^i` (default 1, ≥ 1).
    #[serde(skip_serializing_if = "is_one")]
    pub quantum_growth: f64,
    /// `mlfq`: `"contended"` (default: demoted for a used-up quantum only if another vCPU
    /// waits) or `"always"` (OSTEP's allotment rule).
    #[serde(
        with = "crate::names::named",
        default,
        skip_serializing_if = "is_contended"
    )]
    pub demote: Demote,
    /// `mlfq`: every this-many seconds all vCPUs go back to the top level (default: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boost_s: Option<f64>,
}

impl Default for CpuSettings {
    fn default() -> Self {
        CpuSettings {
            policy: "fcfs".into(),
            quantum_ms: 100.0,
            slice_ms: None,
            cap_period_ms: None,
            context_switch_us: 0.0,
            mapping: Mapping::Floating,
            migration_us: 0.0,
            gang: false,
            levels: MlfqSpec::default().levels,
            quantum_growth: 1.0,
            demote: Demote::Contended,
            boost_s: None,
        }
    }
}
