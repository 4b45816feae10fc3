//! Scenario files: everything needed to reproduce a run, in TOML.
//!
//! ```toml
//! [run]        # seed (default 1), vms (default 10000), warmup_vms (default 0), replications (default 1)
//! [[hosts]]    # count (default 1), pcpus, memory_gib, overcommit ("unlimited" or a ratio, default 1.0),
//!              # memory_overcommit (same, default 1.0)
//! [cluster]    # placement = "first-fit" | "best-fit" | "worst-fit" (default first-fit)
//! [admission]  # policy (default "fcfs"), aging_per_s (default 0), head_of_line = "strict" | "skip"
//! [cpu]        # policy (default "fcfs"), quantum_ms (default 100), context_switch_us (default 0)
//! [workload]   # arrival (required), vcpus (default 1), memory_gib (default 0), service (required),
//!              # priority (default 0), estimate (default "exact"), load_scale (default 1)
//!              # — or trace = { format, path, … } instead of arrival and service
//! ```
//!
//! A trace workload (`[workload] trace = { format = "swf", path = "…" }`, see
//! [`crate::trace::TraceSpec`]) streams VMs from a file instead of drawing them; its paths
//! are relative to the scenario file. `[cluster] node_list = "nodes.csv"` adds the hosts of
//! a node list (see [`crate::trace::nodes`]) after the `[[hosts]]` groups, which may then
//! be left out.
//!
//! See `examples/default.toml` in this crate ([`Scenario::builtin_default_toml`]) for a
//! complete file. Unknown keys are errors, and every error names the file, the line and the
//! key: `scenario.toml:12: workload.arrival.rate_per_s: must be > 0, got -3`.
//!
//! Conventions of the generated workload (see [`crate::generator::Generator`]): the first
//! VM arrives one inter-arrival time after 0; `vms` VMs are generated with ids `0..vms` in
//! arrival order; `memory_gib` defaults to 0 (the VM reserves no memory).

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim::policy::{self, AdmissionParams};
use sim::{
    AdmissionSpec, ClusterSpec, CpuSpec, HeadOfLine, HostResources, HostSpec, Mapping, Placement,
    SimConfig, SimTime,
};

use crate::dist::{Choice, ServiceDist, check_non_negative, check_positive};
use crate::error::Error;
use crate::generator::Generator;
use crate::resources::{self, DeviceSettings, EventSettings, IoSettings, MemorySettings};
use crate::spans::Doc;
use crate::trace::TraceSpec;
use crate::workload::Workload;

/// The most hosts a scenario may expand to (`Σ count`): a guard against a typo allocating
/// the machine's memory away.
pub const MAX_HOSTS: u64 = 1_000_000;

/// The most devices a scenario may expand to (`Σ count × [[hosts.devices]]`): each takes
/// about 340 bytes of memory in a run (measured: 10⁶ hosts of 20 devices, 6.8 GB peak), so
/// a few lines must not ask for tens of gigabytes.
pub const MAX_DEVICES: u64 = 1_000_000;

/// The arrival rate of the built-in default, chosen for an offered load of 0.85:
/// E\[vcpus\] = 1·0.5 + 2·0.3 + 4·0.2 = 1.9 and E\[service\] = 60 s on 16 pCPUs, so
/// λ = 0.85 · 16 / (1.9 · 60) = 13.6 / 114 = 0.119 298 245 6… VMs per second.
const DEFAULT_RATE_PER_S: f64 = 0.119_298_245_614_035_08;

/// A complete scenario. Fields are public so that a front end can override them (seed,
/// replications, vms, policies); call [`Scenario::validate`] after changing them (it is
/// also called by [`Scenario::sim_config`] and [`Scenario::workload`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `[run]`: seed, size and replications.
    #[serde(default)]
    pub run: RunSettings,
    /// `[[hosts]]`: groups of identical hosts, expanded in order.
    #[serde(default)]
    pub hosts: Vec<HostGroup>,
    /// `[cluster]`: placement.
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// `[admission]`: the VM-queue level.
    #[serde(default)]
    pub admission: AdmissionSettings,
    /// `[cpu]`: the vCPU run-queue level.
    #[serde(default)]
    pub cpu: CpuSettings,
    /// `[workload]`: the VM stream.
    pub workload: WorkloadSpec,
    /// `[[events]]`: lifecycle events (pause, resume, stop) at given times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventSettings>,
    /// The folder relative paths (traces, node lists) are taken from: the scenario file's
    /// folder when it was loaded from a file, else the current folder.
    #[serde(skip)]
    base_dir: BaseDir,
}

/// A folder that never makes two scenarios unequal (where a scenario was read from is
/// not part of what it says).
#[derive(Clone, Debug, Default)]
struct BaseDir(Option<PathBuf>);

impl PartialEq for BaseDir {
    fn eq(&self, _: &BaseDir) -> bool {
        true
    }
}

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
    #[serde(default = "page_4k", skip_serializing_if = "is_page_4k")]
    pub page_size: String,
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
            page_size: page_4k(),
            translation_overhead: 0.0,
            first_touch_us: 0.0,
            exit_cost_us: 0.0,
            resident_gib: None,
            balloon: false,
            devices: Vec::new(),
            profile: None,
        }
    }
}

fn is_one_u32(v: &u32) -> bool {
    *v == 1
}
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}
fn page_4k() -> String {
    "4k".into()
}
fn is_page_4k(s: &String) -> bool {
    s == "4k"
}
fn floating() -> String {
    "floating".into()
}
fn is_floating(s: &String) -> bool {
    s == "floating"
}

fn one_u32() -> u32 {
    1
}

/// An overcommit ratio: a positive number, or `"unlimited"`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Overcommit {
    /// Admit up to `ratio × capacity`.
    Ratio(f64),
    /// Admit without limit (the textbook setting).
    Unlimited,
}

impl Default for Overcommit {
    fn default() -> Self {
        Overcommit::Ratio(1.0)
    }
}

impl Overcommit {
    /// The ratio as the engine takes it (`f64::INFINITY` for unlimited).
    pub fn ratio(self) -> f64 {
        match self {
            Overcommit::Ratio(r) => r,
            Overcommit::Unlimited => f64::INFINITY,
        }
    }

    fn validate(self, key: &str) -> Result<(), Error> {
        match self {
            Overcommit::Ratio(r) => check_positive(key, r),
            Overcommit::Unlimited => Ok(()),
        }
    }
}

/// `[cluster]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// `"first-fit"` (default), `"best-fit"` or `"worst-fit"`.
    #[serde(with = "placement_serde", default = "first_fit")]
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
}

fn is_default_overcommit(o: &Overcommit) -> bool {
    *o == Overcommit::default()
}

fn first_fit() -> Placement {
    Placement::FirstFit
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            placement: Placement::FirstFit,
            node_list: None,
            node_overcommit: Overcommit::default(),
            node_memory_overcommit: Overcommit::default(),
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
    #[serde(with = "head_of_line_serde")]
    pub head_of_line: HeadOfLine,
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            policy: "fcfs".into(),
            aging_per_s: 0.0,
            head_of_line: HeadOfLine::Strict,
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
    /// Cost of a context switch, in microseconds (default 0).
    pub context_switch_us: f64,
    /// `"floating"` (default: any vCPU on any pCPU) or `"pinned"` (each vCPU on one pCPU).
    #[serde(default = "floating", skip_serializing_if = "is_floating")]
    pub mapping: String,
    /// Extra cost when a vCPU runs on another pCPU than last time, µs (default 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub migration_us: f64,
    /// Gang (co-)scheduling of a VM's vCPUs (default false; see `sim::CpuSpec::gang`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub gang: bool,
}

impl Default for CpuSettings {
    fn default() -> Self {
        CpuSettings {
            policy: "fcfs".into(),
            quantum_ms: 100.0,
            context_switch_us: 0.0,
            mapping: floating(),
            migration_us: 0.0,
            gang: false,
        }
    }
}

/// `[workload]`: how VM requests are generated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// The arrival process (required unless `trace` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Arrival>,
    /// vCPUs per VM: `1` or `{ values = [1, 2, 4], weights = [0.5, 0.3, 0.2] }` (default 1).
    #[serde(with = "choice_values", default = "one_vcpu")]
    pub vcpus: Choice<u32>,
    /// Memory per VM in GiB, fixed or weighted like `vcpus` (default 0: no memory).
    #[serde(with = "choice_values", default = "no_memory")]
    pub memory_gib: Choice<f64>,
    /// CPU demand per vCPU (the service time; required unless `trace` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceDist>,
    /// Priority class: an integer or `{ classes = [1, 2], weights = [0.5, 0.5] }` (default 0).
    #[serde(with = "choice_classes", default = "priority_zero")]
    pub priority: Choice<i32>,
    /// The users' runtime estimates (default exact).
    #[serde(default)]
    pub estimate: Estimate,
    /// Multiplies the arrival rate (default 1): 1.3 means 30 % more arrivals per second,
    /// with the same sizes and service times. For a trace it compresses the arrival times
    /// (on top of the trace's own `load_scale`).
    #[serde(default = "one_f64", skip_serializing_if = "is_one_f64")]
    pub load_scale: f64,
    /// Read the VMs from a trace instead of drawing them (then `arrival`, `service`,
    /// `vcpus`, `memory_gib`, `priority` and `estimate` are not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSpec>,
    /// I/O: CPU bursts alternating with device requests (default none: CPU only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io: Option<IoSettings>,
    /// Memory: a working set touched while computing (default none: no paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySettings>,
}

fn one_f64() -> f64 {
    1.0
}
fn is_one_f64(v: &f64) -> bool {
    *v == 1.0
}

fn one_vcpu() -> Choice<u32> {
    Choice::Fixed(1)
}
fn no_memory() -> Choice<f64> {
    Choice::Fixed(0.0)
}
fn priority_zero() -> Choice<i32> {
    Choice::Fixed(0)
}

/// The arrival process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Arrival {
    /// Exponential inter-arrival times with the given rate.
    Poisson {
        /// Arrivals per second (> 0).
        rate_per_s: f64,
    },
    /// One arrival every `interval_s` seconds.
    Deterministic {
        /// Seconds between arrivals (> 0).
        interval_s: f64,
    },
    /// Bursty arrivals: a two-state Markov-modulated Poisson process. In state `i` VMs
    /// arrive as a Poisson process of rate `rates_per_s[i]`; the process stays in state `i`
    /// for an exponential time of mean `mean_dwell_s[i]`, then switches to the other. The
    /// first state is drawn from the stationary distribution (`dwell_i / Σ dwell`).
    Mmpp {
        /// Arrival rate in each state (≥ 0, not both 0).
        rates_per_s: [f64; 2],
        /// Mean time spent in each state per visit (> 0), seconds.
        mean_dwell_s: [f64; 2],
    },
    /// Diurnal arrivals: a non-homogeneous Poisson process of rate
    /// `λ(t) = rate_per_s · (1 + amplitude · cos(2π (t − peak_s) / period_s))`, drawn by
    /// thinning (candidates at the peak rate, each kept with probability λ(t) / λ_max).
    Diurnal {
        /// Mean arrivals per second over a period (> 0).
        rate_per_s: f64,
        /// Relative swing, in \[0, 1\] (0 is Poisson).
        amplitude: f64,
        /// Length of a cycle, seconds (default 86 400: one day).
        #[serde(default = "one_day")]
        period_s: f64,
        /// When in the cycle the rate peaks, seconds (default 0).
        #[serde(default)]
        peak_s: f64,
    },
    /// A renewal process: independent inter-arrival times from any distribution (e.g. one
    /// fitted to a trace, or the trace's empirical one).
    Renewal {
        /// The inter-arrival time distribution (like `service`).
        interarrival: ServiceDist,
    },
}

fn one_day() -> f64 {
    86_400.0
}

impl Arrival {
    /// Mean arrivals per second.
    pub fn rate_per_s(&self) -> f64 {
        match self {
            Arrival::Poisson { rate_per_s } => *rate_per_s,
            Arrival::Deterministic { interval_s } => 1.0 / interval_s,
            // Time-average: state i holds a fraction d_i / (d_1 + d_2) of the time.
            Arrival::Mmpp {
                rates_per_s: r,
                mean_dwell_s: d,
            } => (r[0] * d[0] + r[1] * d[1]) / (d[0] + d[1]),
            // The cosine averages to 0 over a period.
            Arrival::Diurnal { rate_per_s, .. } => *rate_per_s,
            Arrival::Renewal { interarrival } => 1.0 / interarrival.mean(),
        }
    }

    pub(crate) fn validate(&self, key: &str) -> Result<(), Error> {
        let k = |name: &str| format!("{key}.{name}");
        match self {
            // A mean inter-arrival time beyond the limit on input times is refused.
            Arrival::Poisson { rate_per_s } => {
                check_positive(&k("rate_per_s"), *rate_per_s)?;
                crate::limits::check_seconds(&k("rate_per_s"), 1.0 / rate_per_s)
            }
            Arrival::Deterministic { interval_s } => {
                check_positive(&k("interval_s"), *interval_s)?;
                crate::limits::check_seconds(&k("interval_s"), *interval_s)
            }
            Arrival::Mmpp {
                rates_per_s,
                mean_dwell_s,
            } => {
                for r in rates_per_s {
                    check_non_negative(&k("rates_per_s"), *r)?;
                }
                if rates_per_s.iter().all(|r| *r == 0.0) {
                    return Err(Error::invalid(k("rates_per_s"), "must not both be 0"));
                }
                for d in mean_dwell_s {
                    check_positive(&k("mean_dwell_s"), *d)?;
                    crate::limits::check_seconds(&k("mean_dwell_s"), *d)?;
                }
                Ok(())
            }
            Arrival::Diurnal {
                rate_per_s,
                amplitude,
                period_s,
                peak_s,
            } => {
                check_positive(&k("rate_per_s"), *rate_per_s)?;
                if !(0.0..=1.0).contains(amplitude) {
                    return Err(Error::invalid(
                        k("amplitude"),
                        format!("must be in [0, 1], got {amplitude}"),
                    ));
                }
                check_positive(&k("period_s"), *period_s)?;
                crate::limits::check_seconds(&k("period_s"), *period_s)?;
                crate::limits::check_seconds(&k("rate_per_s"), 1.0 / rate_per_s)?;
                crate::dist::check_finite(&k("peak_s"), *peak_s)
            }
            Arrival::Renewal { interarrival } => {
                interarrival.sampler(&k("interarrival")).map(|_| ())
            }
        }
    }
}

/// How the users' runtime estimates relate to the true service times.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub enum Estimate {
    /// `"exact"`: estimate = service.
    #[default]
    Exact,
    /// `{ noise_cv = c }`: estimate = service × N, N log-normal with mean 1 and cv `c`.
    Noisy {
        /// Coefficient of variation of the multiplicative noise (≥ 0).
        noise_cv: f64,
    },
}

impl Scenario {
    /// Parses and checks a scenario. `file_label` names the source in error messages
    /// (usually the path as the user typed it).
    pub fn from_toml_str(text: &str, file_label: &str) -> Result<Scenario, Error> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| toml_error(&e, text, file_label))?;
        scenario
            .validate()
            .map_err(|e| locate(e, text, file_label))?;
        Ok(scenario)
    }

    /// Reads and checks the scenario file at `path`. Relative paths inside it (traces,
    /// node lists) are taken from the file's folder.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let label = path.display().to_string();
        let text = crate::limits::read_bounded(path, &label)?;
        let mut s = Scenario::from_toml_str(&text, &label)?;
        s.set_base_dir(path.parent().map(Path::to_path_buf));
        Ok(s)
    }

    /// Sets the folder that relative paths (traces, node lists) are taken from (`None`:
    /// the current folder).
    pub fn set_base_dir(&mut self, dir: Option<PathBuf>) {
        self.base_dir = BaseDir(dir.filter(|d| !d.as_os_str().is_empty()));
    }

    /// The folder relative paths are taken from, if not the current one.
    pub fn base_dir(&self) -> Option<&Path> {
        self.base_dir.0.as_deref()
    }

    /// True if the workload is read from a trace.
    pub fn is_trace(&self) -> bool {
        self.workload.trace.is_some()
    }

    /// Caps the number of VMs: `run.vms` for a synthetic workload, the trace's `limit` for
    /// a trace. The warm-up is cut to at most a tenth of it.
    pub fn set_vms(&mut self, vms: u64) {
        self.run.vms = vms;
        self.run.warmup_vms = self.run.warmup_vms.min(vms / 10);
        if let Some(t) = &mut self.workload.trace {
            t.limit = Some(vms);
        }
    }

    /// A short description of the workload for progress messages: `20000 VMs` or
    /// `trace swf UniLu-Gaia-2014-2.swf.gz`.
    pub fn describe_workload(&self) -> String {
        match &self.workload.trace {
            None => format!("{} VMs", self.run.vms),
            Some(t) => {
                let mut d = format!("trace {} {}", t.format, t.path);
                if let Some(l) = t.limit {
                    d.push_str(&format!(" (at most {l} VMs)"));
                }
                d
            }
        }
    }

    /// The built-in default scenario, the same as [`Scenario::builtin_default_toml`]: one
    /// host of 16 pCPUs and 256 GiB, Poisson arrivals at offered load 0.85, vCPUs {1, 2, 4}
    /// with weights {0.5, 0.3, 0.2}, memory {2, 4, 8} GiB with the same weights,
    /// log-normal service with mean 60 s and cv 1.5, priority classes {1, 2, 3} with weights
    /// {0.2, 0.5, 0.3}, estimates with noise cv 0.5; 20 000 VMs of which 2 000 warm-up,
    /// 5 replications, seed 1, FCFS at both levels.
    pub fn builtin_default() -> Scenario {
        Scenario {
            run: RunSettings {
                seed: 1,
                vms: 20_000,
                warmup_vms: 2_000,
                replications: 5,
                timeline_s: None,
                max_events: None,
            },
            hosts: vec![HostGroup::new(16, 256.0)],
            events: Vec::new(),
            cluster: ClusterSettings::default(),
            admission: AdmissionSettings::default(),
            cpu: CpuSettings::default(),
            base_dir: BaseDir::default(),
            workload: WorkloadSpec {
                // Offered load λ·E[vcpus]·E[service]/pCPUs = 0.1193 · 1.9 · 60 / 16 = 0.85.
                arrival: Some(Arrival::Poisson {
                    rate_per_s: DEFAULT_RATE_PER_S,
                }),
                vcpus: Choice::Weighted {
                    values: vec![1, 2, 4],
                    weights: vec![0.5, 0.3, 0.2],
                },
                memory_gib: Choice::Weighted {
                    values: vec![2.0, 4.0, 8.0],
                    weights: vec![0.5, 0.3, 0.2],
                },
                service: Some(ServiceDist::Lognormal {
                    mean_s: 60.0,
                    cv: 1.5,
                }),
                priority: Choice::Weighted {
                    values: vec![1, 2, 3],
                    weights: vec![0.2, 0.5, 0.3],
                },
                estimate: Estimate::Noisy { noise_cv: 0.5 },
                load_scale: 1.0,
                trace: None,
                io: None,
                memory: None,
            },
        }
    }

    /// The built-in default scenario as TOML text (`examples/default.toml` of this crate):
    /// a commented starting point for new scenario files.
    pub fn builtin_default_toml() -> &'static str {
        include_str!("../examples/default.toml")
    }

    /// Checks every value (ranges, weights, policy names). Errors name the key but no file
    /// or line (those are added when the scenario comes from a file).
    pub fn validate(&self) -> Result<(), Error> {
        let run = &self.run;
        if let Some(t) = run.timeline_s
            && !(t.is_finite() && t > 0.0)
        {
            return Err(Error::invalid(
                "run.timeline_s",
                format!("must be > 0, got {t}"),
            ));
        }
        for (g, h) in self.hosts.iter().enumerate() {
            resources::check_host(
                g,
                h.threads_per_core,
                h.smt_slowdown,
                h.numa_nodes,
                h.numa_remote_slowdown,
                &h.page_size,
                h.translation_overhead,
                h.first_touch_us,
                h.exit_cost_us,
            )?;
            resources::devices(g, &h.devices)?;
            if let Some(r) = h.resident_gib
                && !(r.is_finite() && r >= 0.0)
            {
                return Err(Error::invalid(
                    format!("hosts.{g}.resident_gib"),
                    format!("must be ≥ 0, got {r}"),
                ));
            }
        }
        if Mapping::from_name(&self.cpu.mapping).is_none() {
            return Err(Error::invalid(
                "cpu.mapping",
                format!(
                    "must be \"floating\" or \"pinned\", got {:?}",
                    self.cpu.mapping
                ),
            ));
        }
        if !(self.cpu.migration_us.is_finite() && self.cpu.migration_us >= 0.0) {
            return Err(Error::invalid(
                "cpu.migration_us",
                format!("must be ≥ 0, got {}", self.cpu.migration_us),
            ));
        }
        if let Some(io) = &self.workload.io {
            let profile = resources::io_profile(io)?;
            if !self
                .hosts
                .iter()
                .all(|h| h.devices.iter().any(|d| d.kind == profile.device.name()))
            {
                return Err(Error::invalid(
                    "workload.io.device",
                    format!(
                        "every host needs a {} in [[hosts.devices]] for this workload",
                        profile.device.name()
                    ),
                ));
            }
        }
        if let Some(m) = &self.workload.memory {
            resources::memory_profile(m)?;
        }
        resources::lifecycle_events(&self.events)?;
        if run.vms == 0 {
            return Err(Error::invalid("run.vms", "must be ≥ 1, got 0"));
        }
        if run.replications == 0 {
            return Err(Error::invalid("run.replications", "must be ≥ 1, got 0"));
        }
        if run.warmup_vms >= run.vms {
            return Err(Error::invalid(
                "run.warmup_vms",
                format!(
                    "must be less than run.vms ({}), got {}",
                    run.vms, run.warmup_vms
                ),
            ));
        }

        if self.hosts.is_empty() && self.cluster.node_list.is_none() {
            return Err(Error::invalid(
                "hosts",
                "at least one [[hosts]] table is needed",
            ));
        }
        if self.cluster.node_list.as_deref() == Some("") {
            return Err(Error::invalid("cluster.node_list", "must not be empty"));
        }
        self.cluster
            .node_overcommit
            .validate("cluster.node_overcommit")?;
        self.cluster
            .node_memory_overcommit
            .validate("cluster.node_memory_overcommit")?;
        let mut total_hosts: u64 = 0;
        let mut total_devices: u64 = 0;
        for (i, h) in self.hosts.iter().enumerate() {
            let key = |name: &str| format!("hosts[{i}].{name}");
            if h.count == 0 {
                return Err(Error::invalid(key("count"), "must be ≥ 1, got 0"));
            }
            total_hosts += u64::from(h.count);
            if total_hosts > MAX_HOSTS {
                return Err(Error::invalid(
                    key("count"),
                    format!(
                        "the scenario would have {total_hosts} hosts; at most {MAX_HOSTS} are supported"
                    ),
                ));
            }
            total_devices = total_devices
                .saturating_add(u64::from(h.count).saturating_mul(h.devices.len() as u64));
            if total_devices > MAX_DEVICES {
                return Err(Error::invalid(
                    key("devices"),
                    format!(
                        "the scenario would have {total_devices} devices over all hosts \
                         (count × devices per host); at most {MAX_DEVICES} are supported"
                    ),
                ));
            }
            if h.pcpus == 0 {
                return Err(Error::invalid(key("pcpus"), "must be ≥ 1, got 0"));
            }
            check_non_negative(&key("memory_gib"), h.memory_gib)?;
            if gib_to_mib(h.memory_gib).is_none() {
                return Err(Error::invalid(
                    key("memory_gib"),
                    format!("too large, got {}", h.memory_gib),
                ));
            }
            h.overcommit.validate(&key("overcommit"))?;
            h.memory_overcommit.validate(&key("memory_overcommit"))?;
        }

        check_non_negative("admission.aging_per_s", self.admission.aging_per_s)?;
        policy::admission_policy(
            &self.admission.policy,
            &AdmissionParams {
                aging_per_s: self.admission.aging_per_s,
            },
        )
        .map_err(|e| Error::invalid("admission.policy", e.to_string()))?;
        policy::cpu_policy(&self.cpu.policy)
            .map_err(|e| Error::invalid("cpu.policy", e.to_string()))?;
        check_positive("cpu.quantum_ms", self.cpu.quantum_ms)?;
        check_non_negative("cpu.context_switch_us", self.cpu.context_switch_us)?;
        for (key, value, ns_per_unit) in [
            ("cpu.quantum_ms", self.cpu.quantum_ms, 1e6),
            ("cpu.context_switch_us", self.cpu.context_switch_us, 1e3),
        ] {
            if scaled_time(value, ns_per_unit).is_none() {
                return Err(Error::invalid(key, format!("too large, got {value}")));
            }
        }

        check_positive("workload.load_scale", self.workload.load_scale)?;
        match &self.workload.trace {
            Some(t) => {
                for (name, set) in [
                    ("arrival", self.workload.arrival.is_some()),
                    ("service", self.workload.service.is_some()),
                ] {
                    if set {
                        return Err(Error::invalid(
                            format!("workload.{name}"),
                            "not used with a trace workload: remove it, or remove the trace",
                        ));
                    }
                }
                t.validate("workload.trace")?;
                if let Some(limit) = t.limit
                    && run.warmup_vms >= limit
                {
                    return Err(Error::invalid(
                        "run.warmup_vms",
                        format!(
                            "must be less than workload.trace.limit ({limit}), got {}",
                            run.warmup_vms
                        ),
                    ));
                }
            }
            // Building the generator checks the workload (and allocates only its samplers).
            None => {
                Generator::new(&self.workload, run.seed, 0, run.vms)?;
            }
        }
        crate::limits::check_scenario(self)
    }

    /// The engine's configuration: hosts expanded by `count`, GiB → MiB (× 1024, rounded),
    /// quantum and context-switch cost as [`SimTime`].
    pub fn sim_config(&self) -> Result<SimConfig, Error> {
        self.sim_config_for(0)
    }

    /// [`Scenario::sim_config`] for replication `replication`: the engine's own random
    /// streams (I/O bursts and sizes, page faults) differ between replications.
    pub fn sim_config_for(&self, replication: u64) -> Result<SimConfig, Error> {
        self.validate()?;
        if let Some(g) = self.hosts.iter().position(|h| h.profile.is_some()) {
            return Err(Error::invalid(
                format!("hosts.{g}.profile"),
                "a calibration profile is applied by `vmsched run`, `compare` and `validate` \
                 only; set the overheads it calibrates in the file instead",
            ));
        }
        let mut hosts = Vec::new();
        for h in &self.hosts {
            let g = hosts.len();
            let (devices, swap_device) = resources::devices(g, &h.devices)?;
            let spec = HostSpec {
                pcpus: h.pcpus,
                memory_mib: gib_to_mib(h.memory_gib).unwrap_or(u64::MAX),
                overcommit: h.overcommit.ratio(),
                memory_overcommit: h.memory_overcommit.ratio(),
                resources: HostResources {
                    devices,
                    swap_device,
                    threads_per_core: h.threads_per_core,
                    smt_slowdown: h.smt_slowdown,
                    numa_nodes: h.numa_nodes,
                    numa_remote_slowdown: h.numa_remote_slowdown,
                    page_bytes: resources::page_bytes("page_size", &h.page_size)?,
                    translation_overhead: h.translation_overhead,
                    first_touch: resources::us(h.first_touch_us),
                    exit_cost: resources::us(h.exit_cost_us),
                    resident_limit_mib: h.resident_gib.and_then(gib_to_mib),
                    balloon: h.balloon,
                },
            };
            hosts.extend(std::iter::repeat_n(spec, h.count as usize));
        }
        if let Some(list) = &self.cluster.node_list {
            let path = crate::trace::resolve(self.base_dir(), list);
            hosts.extend(crate::trace::nodes::read_node_list(
                &path,
                list,
                self.cluster.node_overcommit.ratio(),
                self.cluster.node_memory_overcommit.ratio(),
            )?);
            if hosts.len() as u64 > MAX_HOSTS {
                return Err(Error::invalid(
                    "cluster.node_list",
                    format!("more than {MAX_HOSTS} hosts in all"),
                ));
            }
        }
        Ok(SimConfig {
            cluster: ClusterSpec {
                hosts,
                placement: self.cluster.placement,
            },
            admission: AdmissionSpec {
                policy: self.admission.policy.clone(),
                aging_per_s: self.admission.aging_per_s,
                head_of_line: self.admission.head_of_line,
            },
            cpu: CpuSpec {
                policy: self.cpu.policy.clone(),
                quantum: scaled_time(self.cpu.quantum_ms, 1e6).unwrap_or(SimTime::MAX),
                context_switch: scaled_time(self.cpu.context_switch_us, 1e3)
                    .unwrap_or(SimTime::MAX),
                mapping: Mapping::from_name(&self.cpu.mapping).unwrap_or_default(),
                migration: resources::us(self.cpu.migration_us),
                gang: self.cpu.gang,
            },
            warmup_vms: self.run.warmup_vms,
            seed: self.run.seed,
            replication,
            events: resources::lifecycle_events(&self.events)?,
            timeline_interval: self
                .run
                .timeline_s
                .and_then(SimTime::from_secs_f64)
                .filter(|t| *t > SimTime::ZERO),
        })
    }

    /// Sets both policy levels (names are checked by [`Scenario::validate`]).
    pub fn set_policy(&mut self, admission: &str, cpu: &str) {
        self.admission.policy = admission.to_string();
        self.cpu.policy = cpu.to_string();
    }

    /// The scenario as TOML (for the `run.toml` record); parsing it gives back an equal
    /// scenario.
    pub fn to_toml_string(&self) -> String {
        match toml::to_string(self) {
            Ok(s) => s,
            // Unreachable for these types (every field is a plain value or table); kept as
            // a comment rather than a panic so a record is still written.
            Err(e) => format!("# the scenario could not be written as TOML: {e}\n"),
        }
    }

    /// Total pCPUs over all hosts.
    pub fn total_pcpus(&self) -> u64 {
        self.hosts
            .iter()
            .map(|h| u64::from(h.count) * u64::from(h.pcpus))
            .sum()
    }

    /// Offered load λ · load_scale · E\[vcpus\] · E\[service\] / total pCPUs of the
    /// `[[hosts]]`, for display; `None` if it is not a finite number (no pCPUs, invalid
    /// parameters), for a trace, or with a node list (unknown without reading it).
    pub fn offered_load(&self) -> Option<f64> {
        let w = &self.workload;
        let pcpus = self.total_pcpus();
        if pcpus == 0 || w.trace.is_some() || self.cluster.node_list.is_some() {
            return None;
        }
        let (arrival, service) = (w.arrival.as_ref()?, w.service.as_ref()?);
        let load =
            arrival.rate_per_s() * w.load_scale * w.vcpus.mean() * service.mean() / pcpus as f64;
        load.is_finite().then_some(load)
    }

    /// The VM requests of replication `replication`, streamed, ids `0, 1, …` in arrival
    /// order: `run.vms` of them drawn from the synthetic workload (replications use
    /// independent random streams derived from `run.seed`), or the trace read from its
    /// file (`run.vms` is not used; `limit` caps it). A trace that fails part-way ends the
    /// stream early; [`Workload::finish`] returns the error.
    pub fn workload(&self, replication: u64) -> Result<Workload, Error> {
        self.validate()?;
        match &self.workload.trace {
            None => Ok(Workload::Synthetic(Generator::new(
                &self.workload,
                self.run.seed,
                replication,
                self.run.vms,
            )?)),
            Some(t) => {
                let mut spec = t.clone();
                spec.load_scale *= self.workload.load_scale;
                Ok(Workload::trace(spec.open(
                    self.base_dir(),
                    self.run.seed,
                    replication,
                )?))
            }
        }
    }
}

/// `round(gib × 1024)` MiB; `None` if negative, NaN or beyond `u64`.
pub(crate) fn gib_to_mib(gib: f64) -> Option<u64> {
    let mib = (gib * 1024.0).round();
    (mib >= 0.0 && mib < u64::MAX as f64).then_some(mib as u64)
}

/// `value × ns_per_unit` nanoseconds, rounded; `None` if negative, NaN or too large.
fn scaled_time(value: f64, ns_per_unit: f64) -> Option<SimTime> {
    let ns = (value * ns_per_unit).round();
    (ns >= 0.0 && ns < u64::MAX as f64).then_some(SimTime(ns as u64))
}

/// Ties a [`toml::de::Error`] to the file, line and key it is about.
fn toml_error(e: &toml::de::Error, text: &str, file: &str) -> Error {
    let doc = Doc::parse(text);
    // A span of 0..0 is the whole document (e.g. a missing top-level table).
    let span = e.span().filter(|s| !(s.start == 0 && s.end == 0));
    Error::Invalid {
        file: Some(file.to_string()),
        line: span.as_ref().map(|s| doc.line_of(s.start)),
        key: span.and_then(|s| doc.key_at(s)),
        message: e.message().trim_end().to_string(),
    }
}

/// Adds the file and the line of its key to a validation error.
fn locate(e: Error, text: &str, file: &str) -> Error {
    match e {
        Error::Invalid {
            file: None,
            line: None,
            key,
            message,
        } => Error::Invalid {
            file: Some(file.to_string()),
            line: key
                .as_deref()
                .and_then(|k| Doc::parse(text).line_of_path(k)),
            key,
            message,
        },
        other => other,
    }
}

mod placement_serde {
    use super::*;

    pub(super) fn serialize<S: Serializer>(p: &Placement, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Placement, D::Error> {
        let name = String::deserialize(d)?;
        Placement::from_name(&name)
            .ok_or_else(|| de::Error::unknown_variant(&name, &Placement::NAMES))
    }
}

mod head_of_line_serde {
    use super::*;

    const NAMES: &[&str] = &["strict", "skip"];

    pub(super) fn serialize<S: Serializer>(h: &HeadOfLine, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match h {
            HeadOfLine::Strict => "strict",
            HeadOfLine::SkipAhead => "skip",
        })
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HeadOfLine, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "strict" => Ok(HeadOfLine::Strict),
            "skip" => Ok(HeadOfLine::SkipAhead),
            _ => Err(de::Error::unknown_variant(&name, NAMES)),
        }
    }
}

impl Serialize for Overcommit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Overcommit::Ratio(r) => s.serialize_f64(*r),
            Overcommit::Unlimited => s.serialize_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for Overcommit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Overcommit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ratio (number) or \"unlimited\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Overcommit, E> {
                Ok(Overcommit::Ratio(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Overcommit, E> {
                Ok(Overcommit::Ratio(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Overcommit, E> {
                Ok(Overcommit::Ratio(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Overcommit, E> {
                if v == "unlimited" {
                    Ok(Overcommit::Unlimited)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Estimate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Estimate::Exact => s.serialize_str("exact"),
            Estimate::Noisy { noise_cv } => {
                let mut st = s.serialize_struct("Estimate", 1)?;
                st.serialize_field("noise_cv", noise_cv)?;
                st.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Estimate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Estimate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"exact\" or a table { noise_cv = … }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Estimate, E> {
                if v == "exact" {
                    Ok(Estimate::Exact)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Estimate, A::Error> {
                let mut noise_cv = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "noise_cv" if noise_cv.is_some() => {
                            return Err(de::Error::duplicate_field("noise_cv"));
                        }
                        "noise_cv" => noise_cv = Some(map.next_value::<f64>()?),
                        _ => return Err(de::Error::unknown_field(&key, &["noise_cv"])),
                    }
                }
                let noise_cv = noise_cv.ok_or_else(|| de::Error::missing_field("noise_cv"))?;
                Ok(Estimate::Noisy { noise_cv })
            }
        }
        d.deserialize_any(V)
    }
}

/// (De)serialises a [`Choice`] as a scalar or `{ <values_key> = [...], weights = [...] }`.
struct ChoiceFormat {
    values_key: &'static str,
    fields: &'static [&'static str],
}

static VALUES: ChoiceFormat = ChoiceFormat {
    values_key: "values",
    fields: &["values", "weights"],
};
static CLASSES: ChoiceFormat = ChoiceFormat {
    values_key: "classes",
    fields: &["classes", "weights"],
};

impl ChoiceFormat {
    fn serialize<T: Serialize, S: Serializer>(
        &self,
        c: &Choice<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match c {
            Choice::Fixed(v) => v.serialize(s),
            Choice::Weighted { values, weights } => {
                let mut st = s.serialize_struct("Choice", 2)?;
                st.serialize_field(self.values_key, values)?;
                st.serialize_field("weights", weights)?;
                st.end()
            }
        }
    }

    fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        &'static self,
        d: D,
    ) -> Result<Choice<T>, D::Error> {
        struct V<T> {
            format: &'static ChoiceFormat,
            marker: PhantomData<T>,
        }
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Choice<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a number or a table {{ {} = [...], weights = [...] }}",
                    self.format.values_key
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Choice<T>, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(Choice::Fixed)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Choice<T>, E> {
                T::deserialize(de::value::U64Deserializer::new(v)).map(Choice::Fixed)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Choice<T>, E> {
                T::deserialize(de::value::F64Deserializer::new(v)).map(Choice::Fixed)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Choice<T>, A::Error> {
                let vk = self.format.values_key;
                let mut values: Option<Vec<T>> = None;
                let mut weights: Option<Vec<f64>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == vk {
                        if values.is_some() {
                            return Err(de::Error::duplicate_field(vk));
                        }
                        values = Some(map.next_value()?);
                    } else if key == "weights" {
                        if weights.is_some() {
                            return Err(de::Error::duplicate_field("weights"));
                        }
                        weights = Some(map.next_value()?);
                    } else {
                        return Err(de::Error::unknown_field(&key, self.format.fields));
                    }
                }
                Ok(Choice::Weighted {
                    values: values.ok_or_else(|| de::Error::missing_field(vk))?,
                    weights: weights.ok_or_else(|| de::Error::missing_field("weights"))?,
                })
            }
        }
        d.deserialize_any(V {
            format: self,
            marker: PhantomData,
        })
    }
}

mod choice_values {
    use super::*;

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        c: &Choice<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        VALUES.serialize(c, s)
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Choice<T>, D::Error> {
        VALUES.deserialize(d)
    }
}

mod choice_classes {
    use super::*;

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        c: &Choice<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        CLASSES.serialize(c, s)
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Choice<T>, D::Error> {
        CLASSES.deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MINIMAL: &str = r#"
[[hosts]]
pcpus = 4
memory_gib = 16

[workload]
arrival = { process = "poisson", rate_per_s = 2.0 }
service = { dist = "exponential", mean_s = 1.5 }
"#;

    fn parse(text: &str) -> Result<Scenario, Error> {
        Scenario::from_toml_str(text, "s.toml")
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn default_toml_is_the_builtin_default() {
        let parsed =
            Scenario::from_toml_str(Scenario::builtin_default_toml(), "default.toml").unwrap();
        assert_eq!(parsed, Scenario::builtin_default());
        // λ · E[vcpus] · E[service] / pCPUs = (13.6/114) · 1.9 · 60 / 16 = 0.85.
        let load = parsed.offered_load().unwrap();
        assert!((load - 0.85).abs() < 1e-12, "{load}");
    }

    #[test]
    fn minimal_file_takes_the_defaults() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.run, RunSettings::default());
        assert_eq!(s.run.seed, 1);
        assert_eq!(s.run.vms, 10_000);
        assert_eq!(s.hosts[0].count, 1);
        assert_eq!(s.hosts[0].overcommit, Overcommit::Ratio(1.0));
        assert_eq!(s.cluster.placement, Placement::FirstFit);
        assert_eq!(s.admission, AdmissionSettings::default());
        assert_eq!(s.cpu.quantum_ms, 100.0);
        assert_eq!(s.workload.vcpus, Choice::Fixed(1));
        assert_eq!(s.workload.memory_gib, Choice::Fixed(0.0));
        assert_eq!(s.workload.priority, Choice::Fixed(0));
        assert_eq!(s.workload.estimate, Estimate::Exact);
        // 2/s · 1 vCPU · 1.5 s / 4 pCPUs = 0.75.
        assert_eq!(s.offered_load(), Some(0.75));
    }

    #[test]
    fn every_form_of_every_key_parses() {
        let text = r#"
[run]
seed = 42
vms = 50
warmup_vms = 5
replications = 3

[[hosts]]
count = 3
pcpus = 8
memory_gib = 1.5
overcommit = "unlimited"
memory_overcommit = 2

[[hosts]]
pcpus = 2
memory_gib = 4
overcommit = 1.5

[cluster]
placement = "best-fit"

[admission]
policy = "priority"
aging_per_s = 0.5
head_of_line = "skip"

[cpu]
policy = "rr"
quantum_ms = 2.5
context_switch_us = 5

[workload]
arrival = { process = "deterministic", interval_s = 2.0 }
vcpus = 2
memory_gib = { values = [0.5, 1], weights = [1, 3] }
service = { dist = "weibull", mean_s = 3, shape = 0.7 }
priority = -1
estimate = "exact"
"#;
        let s = parse(text).unwrap();
        assert_eq!(s.hosts[0].overcommit, Overcommit::Unlimited);
        assert_eq!(s.hosts[0].memory_overcommit, Overcommit::Ratio(2.0));
        assert_eq!(s.admission.head_of_line, HeadOfLine::SkipAhead);
        assert_eq!(s.workload.priority, Choice::Fixed(-1));
        assert_eq!(
            s.workload.service,
            Some(ServiceDist::Weibull {
                mean_s: 3.0,
                shape: 0.7
            })
        );
        // 4 hosts: 3 × 8 + 2 = 26 pCPUs; load = 0.5/s · 2 · 3 s / 26 = 3/26.
        assert_eq!(s.total_pcpus(), 26);
        assert!((s.offered_load().unwrap() - 3.0 / 26.0).abs() < 1e-15);

        let c = s.sim_config().unwrap();
        assert_eq!(c.cluster.hosts.len(), 4);
        // 1.5 GiB × 1024 = 1536 MiB; 4 GiB = 4096 MiB.
        assert_eq!(c.cluster.hosts[2].memory_mib, 1536);
        assert_eq!(c.cluster.hosts[3].memory_mib, 4096);
        assert_eq!(c.cluster.hosts[0].overcommit, f64::INFINITY);
        assert_eq!(c.cluster.hosts[0].memory_overcommit, 2.0);
        assert_eq!(c.cluster.hosts[3].overcommit, 1.5);
        assert_eq!(c.cluster.placement, Placement::BestFit);
        assert_eq!(c.admission.policy, "priority");
        assert_eq!(c.admission.aging_per_s, 0.5);
        // 2.5 ms = 2 500 000 ns; 5 µs = 5 000 ns.
        assert_eq!(c.cpu.quantum, SimTime(2_500_000));
        assert_eq!(c.cpu.context_switch, SimTime(5_000));
        assert_eq!(c.warmup_vms, 5);

        let vms: Vec<_> = s.workload(0).unwrap().collect();
        assert_eq!(vms.len(), 50);
        assert!(vms.iter().enumerate().all(|(i, v)| v.id == i as u64));
        // 0.5 GiB = 512 MiB, 1 GiB = 1024 MiB.
        assert!(
            vms.iter()
                .all(|v| v.vcpus == 2 && [512, 1024].contains(&v.memory_mib))
        );

        // And it survives a round trip.
        assert_eq!(parse(&s.to_toml_string()).unwrap(), s);
    }

    #[test]
    fn round_trip_of_the_default() {
        let s = Scenario::builtin_default();
        let text = s.to_toml_string();
        assert_eq!(parse(&text).unwrap(), s, "{text}");
    }

    #[test]
    fn validation_errors_name_file_line_and_key() {
        let bad_rate = MINIMAL.replace("rate_per_s = 2.0", "rate_per_s = -3");
        // Line 1 is empty (the text starts with a newline); `arrival` is on line 7.
        assert_eq!(
            err(&bad_rate),
            "s.toml:7: workload.arrival.rate_per_s: must be > 0, got -3"
        );
        assert_eq!(
            err(&MINIMAL.replace("rate_per_s = 2.0", "rate_per_s = nan")),
            "s.toml:7: workload.arrival.rate_per_s: must be > 0, got NaN"
        );
        assert_eq!(
            err(&MINIMAL.replace("mean_s = 1.5", "mean_s = inf")),
            "s.toml:8: workload.service.mean_s: must be finite, got inf"
        );
        assert_eq!(
            err(&MINIMAL.replace("pcpus = 4", "pcpus = 0")),
            "s.toml:3: hosts[0].pcpus: must be ≥ 1, got 0"
        );
        let hyper = MINIMAL.replace(
            "{ dist = \"exponential\", mean_s = 1.5 }",
            "{ dist = \"hyperexponential\", mean_s = 1.5, cv = 0.5 }",
        );
        assert_eq!(
            err(&hyper),
            "s.toml:8: workload.service.cv: must be ≥ 1 for a hyper-exponential, got 0.5"
        );
        let pareto = MINIMAL.replace(
            "{ dist = \"exponential\", mean_s = 1.5 }",
            "{ dist = \"pareto\", mean_s = 1.5, shape = 1 }",
        );
        assert_eq!(
            err(&pareto),
            "s.toml:8: workload.service.shape: must be > 1 (the mean is infinite otherwise), got 1"
        );
        let weights = format!("{MINIMAL}vcpus = {{ values = [1, 2], weights = [1.0] }}\n");
        assert_eq!(
            err(&weights),
            "s.toml:9: workload.vcpus.weights: has 1 entries but values has 2"
        );
        let zero = format!("{MINIMAL}priority = {{ classes = [1, 2], weights = [0, 0] }}\n");
        assert_eq!(
            err(&zero),
            "s.toml:9: workload.priority.weights: must sum to a finite number > 0, got 0"
        );
        let warm = format!("[run]\nvms = 10\nwarmup_vms = 10\n{MINIMAL}");
        assert_eq!(
            err(&warm),
            "s.toml:3: run.warmup_vms: must be less than run.vms (10), got 10"
        );
        let second = format!("{MINIMAL}\n[[hosts]]\npcpus = 2\nmemory_gib = -1\n");
        assert_eq!(
            err(&second),
            "s.toml:12: hosts[1].memory_gib: must be ≥ 0, got -1"
        );
    }

    #[test]
    fn policy_names_are_checked() {
        let e = err(&format!("{MINIMAL}[cpu]\npolicy = \"lottery\"\n"));
        assert_eq!(
            e,
            "s.toml:10: cpu.policy: unknown cpu policy `lottery`; known: fcfs, sjf, srtf, priority, priority-preemptive, rr"
        );
        let e = err(&format!("[admission]\npolicy = \"edf\"\n{MINIMAL}"));
        assert!(
            e.starts_with(
                "s.toml:2: admission.policy: unknown admission policy `edf`; known: fcfs"
            ),
            "{e}"
        );
        let mut s = parse(MINIMAL).unwrap();
        s.set_policy("sjf", "srtf");
        assert!(s.validate().is_ok());
        assert_eq!(s.sim_config().unwrap().cpu.policy, "srtf");
        s.set_policy("sjf", "nope");
        assert!(
            s.sim_config()
                .unwrap_err()
                .to_string()
                .starts_with("cpu.policy: unknown cpu policy")
        );
    }

    #[test]
    fn serde_errors_name_file_line_and_key() {
        assert_eq!(
            err(&format!("[run]\nsed = 3\n{MINIMAL}")),
            "s.toml:2: run.sed: unknown field `sed`, expected one of `seed`, `vms`, `warmup_vms`, `replications`, `timeline_s`, `max_events`"
        );
        assert_eq!(
            err(&format!("{MINIMAL}vcpus = 1.5\n")),
            "s.toml:9: workload.vcpus: invalid type: floating point `1.5`, expected u32"
        );
        assert_eq!(
            err(&MINIMAL.replace("pcpus = 4", "pcpus = -4")),
            "s.toml:3: hosts[0].pcpus: invalid value: integer `-4`, expected u32"
        );
        let e = err(&MINIMAL.replace("\"exponential\"", "\"gamma\""));
        assert!(
            e.starts_with(
                "s.toml:8: workload.service.dist: unknown variant `gamma`, expected one of"
            ),
            "{e}"
        );
        let e = err(&MINIMAL.replace("mean_s = 1.5", "mean_s = 1.5, cv = 2"));
        assert!(
            e.starts_with("s.toml:8: workload.service: unknown field `cv`"),
            "{e}"
        );
        assert_eq!(
            err(&MINIMAL.replace("memory_gib = 16", "memory_gib = 16\noverommit = 2")),
            "s.toml:5: hosts[0].overommit: unknown field `overommit`, expected one of `count`, `pcpus`, `memory_gib`, `overcommit`, `memory_overcommit`, `threads_per_core`, `smt_slowdown`, `numa_nodes`, `numa_remote_slowdown`, `page_size`, `translation_overhead`, `first_touch_us`, `exit_cost_us`, `resident_gib`, `balloon`, `devices`, `profile`"
        );
        let e = err(&MINIMAL.replace("memory_gib = 16", "memory_gib = 16\novercommit = \"lots\""));
        assert!(
            e.starts_with("s.toml:5: hosts[0].overcommit: invalid value: string \"lots\""),
            "{e}"
        );
        assert_eq!(
            err("[[hosts]]\npcpus = 1\nmemory_gib = 1\n"),
            "s.toml: missing field `workload`"
        );
        let e = err(&MINIMAL.replace("pcpus = 4\n", ""));
        assert_eq!(e, "s.toml:2: hosts[0]: missing field `pcpus`");
        let e = err(&format!("{MINIMAL}estimate = {{ noise = 1 }}\n"));
        assert!(
            e.starts_with("s.toml:9: workload.estimate: unknown field `noise`"),
            "{e}"
        );
        let e = err(&format!("{MINIMAL}[cluster]\nplacement = \"random\"\n"));
        assert!(
            e.starts_with("s.toml:10: cluster.placement: unknown variant `random`"),
            "{e}"
        );
    }

    #[test]
    fn structural_errors() {
        let e = err(&MINIMAL.replace("[[hosts]]\npcpus = 4\nmemory_gib = 16\n", ""));
        assert_eq!(e, "s.toml: hosts: at least one [[hosts]] table is needed");
        // Syntax errors still give a line.
        let e = err("[run\nseed = 1\n");
        assert!(e.starts_with("s.toml:1: "), "{e}");
        let e = err(&format!("[run]\nseed = 1\nseed = 2\n{MINIMAL}"));
        assert!(e.starts_with("s.toml:3: run.seed: duplicate key"), "{e}");
    }

    #[test]
    fn load_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.toml");
        let missing = dir.path().join("missing.toml");
        let e = Scenario::load(&missing).unwrap_err().to_string();
        assert!(e.starts_with(&missing.display().to_string()), "{e}");
        std::fs::write(&path, MINIMAL.replace("pcpus = 4", "pcpus = 0")).unwrap();
        let e = Scenario::load(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("{}:3: hosts[0].pcpus: must be ≥ 1, got 0", path.display())
        );
        std::fs::write(&path, MINIMAL).unwrap();
        assert_eq!(Scenario::load(&path).unwrap(), parse(MINIMAL).unwrap());
    }

    #[test]
    fn overrides_are_revalidated() {
        let mut s = parse(MINIMAL).unwrap();
        s.run.vms = 0;
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "run.vms: must be ≥ 1, got 0"
        );
        assert!(s.workload(0).is_err());
        s.run.vms = 7;
        s.run.replications = 2;
        assert_eq!(s.workload(1).unwrap().count(), 7);
        s.hosts[0].count = u32::MAX;
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .starts_with("hosts[0].count: the scenario would have")
        );
    }

    fn arb_choice_u32() -> impl Strategy<Value = Choice<u32>> {
        prop_oneof![
            (1u32..64).prop_map(Choice::Fixed),
            prop::collection::vec((1u32..64, 0.01f64..10.0), 1..5).prop_map(|v| {
                let (values, weights) = v.into_iter().unzip();
                Choice::Weighted { values, weights }
            }),
        ]
    }

    fn arb_service() -> impl Strategy<Value = ServiceDist> {
        let m = 0.001f64..1e4;
        prop_oneof![
            m.clone()
                .prop_map(|mean_s| ServiceDist::Exponential { mean_s }),
            m.clone()
                .prop_map(|mean_s| ServiceDist::Deterministic { mean_s }),
            (0.0f64..10.0, 0.001f64..10.0).prop_map(|(a, w)| ServiceDist::Uniform {
                min_s: a,
                max_s: a + w
            }),
            (m.clone(), 0.0f64..5.0).prop_map(|(mean_s, cv)| ServiceDist::Lognormal { mean_s, cv }),
            (m.clone(), 1.0f64..5.0)
                .prop_map(|(mean_s, cv)| ServiceDist::Hyperexponential { mean_s, cv }),
            (m.clone(), 1.05f64..5.0)
                .prop_map(|(mean_s, shape)| ServiceDist::Pareto { mean_s, shape }),
            (m, 0.2f64..5.0).prop_map(|(mean_s, shape)| ServiceDist::Weibull { mean_s, shape }),
        ]
    }

    fn arb_scenario() -> impl Strategy<Value = Scenario> {
        (
            any::<u32>(),
            1u64..50,
            prop::collection::vec((1u32..4, 1u32..128, 0.0f64..1024.0, prop::bool::ANY), 1..4),
            arb_choice_u32(),
            arb_service(),
            prop_oneof![
                (0.001f64..100.0).prop_map(|rate_per_s| Arrival::Poisson { rate_per_s }),
                (0.001f64..100.0).prop_map(|interval_s| Arrival::Deterministic { interval_s }),
            ],
            prop_oneof![
                Just(Estimate::Exact),
                (0.0f64..3.0).prop_map(|noise_cv| Estimate::Noisy { noise_cv })
            ],
            -5i32..5,
        )
            .prop_map(
                |(seed, vms, hosts, vcpus, service, arrival, estimate, prio)| {
                    let mut s = Scenario::builtin_default();
                    s.run = RunSettings {
                        seed: u64::from(seed),
                        vms,
                        warmup_vms: vms / 2,
                        replications: 2,
                        timeline_s: None,
                        max_events: None,
                    };
                    s.hosts = hosts
                        .into_iter()
                        .map(|(count, pcpus, memory_gib, unlimited)| HostGroup {
                            count,
                            pcpus,
                            memory_gib,
                            overcommit: if unlimited {
                                Overcommit::Unlimited
                            } else {
                                Overcommit::Ratio(1.25)
                            },
                            memory_overcommit: Overcommit::Ratio(1.0),
                            ..HostGroup::new(pcpus, memory_gib)
                        })
                        .collect();
                    s.workload.vcpus = vcpus;
                    s.workload.service = Some(service);
                    s.workload.arrival = Some(arrival);
                    s.workload.estimate = estimate;
                    s.workload.priority = Choice::Fixed(prio);
                    s
                },
            )
    }

    proptest! {
        #[test]
        fn toml_round_trips(s in arb_scenario()) {
            let text = s.to_toml_string();
            let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(back, s);
        }

        #[test]
        fn workloads_are_in_arrival_order_with_dense_ids(s in arb_scenario(), rep in 0u64..3) {
            let mut last = SimTime::ZERO;
            let mut n = 0u64;
            for (i, v) in s.workload(rep).unwrap().enumerate() {
                prop_assert_eq!(v.id, i as u64);
                prop_assert!(v.arrival >= last);
                prop_assert!(v.vcpus >= 1);
                last = v.arrival;
                n += 1;
            }
            prop_assert_eq!(n, s.run.vms);
        }
    }
}
