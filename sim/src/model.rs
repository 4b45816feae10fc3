//! The entities a run is made of: VM requests, hosts, the cluster, and the run's settings.

use crate::time::SimTime;

mod host_specs;
pub use host_specs::{HostSpecs, Iter as HostSpecsIter};

/// One VM as a workload describes it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VmRequest {
    /// Identifier, unique within the workload (used for ties and in outputs).
    pub id: u64,
    /// When the VM is submitted.
    pub arrival: SimTime,
    /// Number of vCPUs (at least 1).
    pub vcpus: u32,
    /// Memory the VM reserves, in MiB.
    pub memory_mib: u64,
    /// Priority class: lower number = more urgent, as in the textbooks.
    pub priority: i32,
    /// CPU work each vCPU must do (the true service time of the VM when it runs alone).
    pub demand: SimTime,
    /// The user's estimate of `demand` (what SJF-like policies see; may differ from the truth).
    pub estimate: SimTime,
    /// Optional tenant (user, subscription) the VM belongs to.
    pub tenant: Option<u32>,
    /// How the VM uses I/O devices and memory (default: CPU only, no paging).
    pub profile: VmProfile,
}

/// The behaviour of a VM beyond CPU work: I/O bursts, memory touches, its CPU weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VmProfile {
    /// I/O: CPU bursts alternating with device requests.
    pub io: Option<IoProfile>,
    /// Memory: a working set touched at a rate.
    pub memory: Option<MemoryProfile>,
    /// CPU weight of each of its vCPUs (at least 1; [`DEFAULT_WEIGHT`] = nice 0), for
    /// proportional-share policies (`stride`); the others ignore it.
    pub weight: u32,
    /// CPU cap in millionths of one pCPU (0 = none; 500 000 = half a pCPU): the VM may
    /// run at most `cap × period` of CPU time per [`CpuSpec::cap_period`], summed over
    /// its vCPUs (cgroup `cpu.max`), under any CPU policy.
    pub cpu_cap_ppm: u32,
    /// MiB of memory the VM writes per second (≥ 0; default 0): what a live migration's
    /// pre-copy rounds send again (see [`crate::migration`]). The set dirtied in a round
    /// never exceeds the working set of `memory` (none without it). (An `f32`: it fits
    /// beside `weight` without making every request larger.)
    pub dirty_mib_per_s: f32,
}

impl Default for VmProfile {
    fn default() -> Self {
        VmProfile {
            io: None,
            memory: None,
            weight: DEFAULT_WEIGHT,
            cpu_cap_ppm: 0,
            dirty_mib_per_s: 0.0,
        }
    }
}

/// The CPU weight of a VM that sets none: Linux's weight of nice 0.
pub const DEFAULT_WEIGHT: u32 = 1024;

/// Linux's `sched_prio_to_weight`: the weight of nice −20 … 19 (each step ≈ ×1.25).
const NICE_TO_WEIGHT: [u32; 40] = [
    88761, 71755, 56483, 46273, 36291, // −20 … −16
    29154, 23254, 18705, 14949, 11916, // −15 … −11
    9548, 7620, 6100, 4904, 3906, // −10 … −6
    3121, 2501, 1991, 1586, 1277, // −5 … −1
    1024, 820, 655, 526, 423, // 0 … 4
    335, 272, 215, 172, 137, // 5 … 9
    110, 87, 70, 56, 45, // 10 … 14
    36, 29, 23, 18, 15, // 15 … 19
];

/// The weight Linux gives a thread of nice value `nice` (−20 … 19), none outside.
pub fn nice_to_weight(nice: i64) -> Option<u32> {
    let i = usize::try_from(nice + 20).ok()?;
    NICE_TO_WEIGHT.get(i).copied()
}

/// Each vCPU alternates CPU bursts with I/O requests until its CPU work is done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IoProfile {
    /// How the CPU work is cut into bursts, each followed by one request.
    pub bursts: IoBursts,
    /// Mean request size in bytes (sizes are exponential with this mean; 0 = latency only).
    pub size_mean_bytes: f64,
    /// Which kind of device the requests go to.
    pub device: DeviceKind,
    /// How the device is presented to the guest (sets the VM-exit cost per request).
    pub virtual_device: VirtualDevice,
}

/// How a vCPU's CPU work is cut into bursts separated by I/O requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IoBursts {
    /// Exponential bursts with this mean CPU work; a request follows each burst that ends
    /// before the work is done.
    Exponential(SimTime),
    /// Exactly this many requests per vCPU, the CPU work cut into `n + 1` equal bursts
    /// (the last takes the rounding remainder).
    Count(u32),
}

/// A working set touched while the VM computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryProfile {
    /// Working-set size in MiB (at most the VM's memory).
    pub working_set_mib: u64,
    /// Memory touches per millisecond of CPU work (uniform over the working set).
    pub touches_per_ms: f64,
}

/// Physical device kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKind {
    /// A block device (also the default swap device).
    Disk,
    /// A network interface.
    Nic,
}

impl DeviceKind {
    /// Scenario name.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Disk => "disk",
            DeviceKind::Nic => "nic",
        }
    }
    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<DeviceKind> {
        match s {
            "disk" => Some(DeviceKind::Disk),
            "nic" => Some(DeviceKind::Nic),
            _ => None,
        }
    }
}

/// How a virtual device is implemented, which sets the VM exits each request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VirtualDevice {
    /// A fully emulated device: several exits per request ([`VirtualDevice::exits`]).
    Emulated,
    /// A paravirtual virtio device: one exit (doorbell) per request.
    Virtio,
    /// A passed-through device: no exits.
    Passthrough,
}

impl VirtualDevice {
    /// VM exits per request: emulated 4 (doorbell, status read, data, interrupt ack),
    /// virtio 1, passthrough 0.
    pub fn exits(self) -> u64 {
        match self {
            VirtualDevice::Emulated => 4,
            VirtualDevice::Virtio => 1,
            VirtualDevice::Passthrough => 0,
        }
    }
    /// Scenario name.
    pub fn name(self) -> &'static str {
        match self {
            VirtualDevice::Emulated => "emulated",
            VirtualDevice::Virtio => "virtio",
            VirtualDevice::Passthrough => "passthrough",
        }
    }
    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<VirtualDevice> {
        match s {
            "emulated" => Some(VirtualDevice::Emulated),
            "virtio" => Some(VirtualDevice::Virtio),
            "passthrough" => Some(VirtualDevice::Passthrough),
            _ => None,
        }
    }
}

/// A physical device of a host: a FIFO queue in front of `channels` servers, each request
/// taking `latency + size / bandwidth`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSpec {
    /// Kind.
    pub kind: DeviceKind,
    /// Bytes per second.
    pub bandwidth_bytes_per_s: f64,
    /// Fixed time per request.
    pub latency: SimTime,
    /// Requests served at once.
    pub channels: u32,
}

impl DeviceSpec {
    /// Service time of a request of `bytes`.
    pub fn service_time(&self, bytes: f64) -> SimTime {
        let transfer = if self.bandwidth_bytes_per_s > 0.0 {
            bytes / self.bandwidth_bytes_per_s
        } else {
            0.0
        };
        self.latency
            .saturating_add(SimTime::from_secs_f64(transfer).unwrap_or(SimTime::MAX))
    }
}

/// Host properties beyond capacity: devices, SMT, NUMA, paging and virtualisation costs.
/// The default is a plain host where none of these costs anything.
#[derive(Clone, Debug, PartialEq)]
pub struct HostResources {
    /// Physical devices (I/O requests go to the first device of the requested kind).
    pub devices: Vec<DeviceSpec>,
    /// Index in `devices` of the swap device; `None` = an implicit disk
    /// ([`HostResources::default_swap`]) used only for swap.
    pub swap_device: Option<usize>,
    /// Hardware threads per core (pCPUs `k·t … k·t + t − 1` share core `k`).
    pub threads_per_core: u32,
    /// Each thread runs at `1 − smt_slowdown` of full speed while a sibling is busy.
    pub smt_slowdown: f64,
    /// NUMA nodes; pCPUs and memory are split evenly, in order.
    pub numa_nodes: u32,
    /// A vCPU runs at `1 − numa_remote_slowdown` on a pCPU outside its VM's home node.
    pub numa_remote_slowdown: f64,
    /// Guest page size in bytes backing VM memory (4096 or 2 MiB).
    pub page_bytes: u64,
    /// CPU work is slowed by this factor for two-level address translation
    /// (rate `1 / (1 + overhead)`; e.g. 0.05 with 4 KiB pages, 0.01 with 2 MiB pages).
    pub translation_overhead: f64,
    /// Cost of mapping one guest page on first touch (minor fault).
    pub first_touch: SimTime,
    /// CPU cost of one VM exit (paid per I/O request, per exit of its virtual device).
    pub exit_cost: SimTime,
    /// Physical memory available to resident sets (MiB); `None` = the host's `memory_mib`.
    pub resident_limit_mib: Option<u64>,
    /// Balloon: pausing an admitted VM reclaims its working set (it stops counting against
    /// the host's resident memory, so the other VMs' resident fraction rises); at resume
    /// the guest maps it again, page by page, at the first-touch cost.
    pub balloon: bool,
    /// Power model (`None`: the host's energy is not tracked).
    pub power: Option<crate::datacenter::HostPower>,
    /// Time a switched-off host takes to boot before it takes VMs (drawing its idle
    /// power meanwhile).
    pub boot: SimTime,
}

impl Default for HostResources {
    fn default() -> Self {
        HostResources {
            devices: Vec::new(),
            swap_device: None,
            threads_per_core: 1,
            smt_slowdown: 0.0,
            numa_nodes: 1,
            numa_remote_slowdown: 0.0,
            page_bytes: 4096,
            translation_overhead: 0.0,
            first_touch: SimTime::ZERO,
            exit_cost: SimTime::ZERO,
            resident_limit_mib: None,
            balloon: false,
            power: None,
            boot: SimTime::ZERO,
        }
    }
}

impl HostResources {
    /// The swap device used when none is configured: one channel, 100 µs latency,
    /// 500 MB/s (an SSD).
    pub fn default_swap() -> DeviceSpec {
        DeviceSpec {
            kind: DeviceKind::Disk,
            bandwidth_bytes_per_s: 500e6,
            latency: SimTime::from_micros(100),
            channels: 1,
        }
    }
}

/// A physical host.
#[derive(Clone, Debug, PartialEq)]
pub struct HostSpec {
    /// Number of physical CPUs.
    pub pcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// vCPU overcommit ratio (vCPUs admitted per pCPU); 1.0 means every admitted vCPU has a
    /// pCPU of its own; `f64::INFINITY` admits without limit (the textbook setting).
    pub overcommit: f64,
    /// Memory overcommit ratio (reserved memory per unit of host memory); 1.0 = none.
    pub memory_overcommit: f64,
    /// Devices, SMT, NUMA, paging and virtualisation costs (default: none of them).
    pub resources: HostResources,
}

impl HostSpec {
    /// A host of `pcpus` pCPUs and `memory_mib` MiB with no overcommit.
    pub fn new(pcpus: u32, memory_mib: u64) -> HostSpec {
        HostSpec {
            pcpus,
            memory_mib,
            overcommit: 1.0,
            memory_overcommit: 1.0,
            resources: HostResources::default(),
        }
    }

    /// How many vCPUs the host admits at most.
    pub fn vcpu_capacity(&self) -> u64 {
        scaled_capacity(u64::from(self.pcpus), self.overcommit)
    }

    /// How many MiB of VM memory the host admits at most.
    pub fn memory_capacity_mib(&self) -> u64 {
        scaled_capacity(self.memory_mib, self.memory_overcommit)
    }
}

fn scaled_capacity(base: u64, ratio: f64) -> u64 {
    let c = (base as f64 * ratio).floor();
    if c.is_nan() || c < 0.0 {
        0
    } else if c >= u64::MAX as f64 {
        u64::MAX
    } else {
        c as u64
    }
}

/// How a VM is placed when several hosts could take it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The lowest-numbered host that fits.
    FirstFit,
    /// The host left with the fewest free vCPU slots (then least free memory, then lowest
    /// number): packs VMs tightly.
    BestFit,
    /// The host left with the most free vCPU slots (then most free memory, then lowest
    /// number): spreads VMs out.
    WorstFit,
}

impl Placement {
    /// Names accepted in scenario files.
    pub const NAMES: [&'static str; 3] = ["first-fit", "best-fit", "worst-fit"];

    /// Parses a scenario name.
    pub fn from_name(name: &str) -> Option<Placement> {
        match name {
            "first-fit" => Some(Placement::FirstFit),
            "best-fit" => Some(Placement::BestFit),
            "worst-fit" => Some(Placement::WorstFit),
            _ => None,
        }
    }

    /// The scenario name.
    pub fn name(self) -> &'static str {
        match self {
            Placement::FirstFit => "first-fit",
            Placement::BestFit => "best-fit",
            Placement::WorstFit => "worst-fit",
        }
    }
}

/// The hosts and how VMs are placed on them.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSpec {
    /// The hosts, numbered from 0 in this order (stored as groups of identical hosts).
    pub hosts: HostSpecs,
    /// Placement policy.
    pub placement: Placement,
}

/// Whether the admission queue may admit a VM while one ahead of it waits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HeadOfLine {
    /// Only the VM at the head of the queue may be admitted (no overtaking).
    Strict,
    /// Any waiting VM that fits is admitted, in queue order (VMs may overtake a blocked head).
    SkipAhead,
}

/// Backfilling: whether a waiting VM may start ahead of the head of the admission queue,
/// planned with the VMs' runtime estimates ([`VmRequest::estimate`]). A VM's *planned run*
/// is `[admission, admission + context switch + estimate)` of wall time (a VM alone on its
/// pCPUs runs exactly that long when its estimate is exact). A VM that runs past its
/// estimate is not killed; the plans are made again when it ends.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Backfill {
    /// No backfilling: the head-of-line rule alone decides.
    #[default]
    None,
    /// EASY (Lifka 1995): the head gets a reservation at the earliest time enough capacity
    /// frees (the *shadow time*); a later VM starts now if it fits now and either ends, by
    /// its estimate, by the shadow time or uses only capacity the head will not need then.
    Easy,
    /// Conservative: every waiting VM holds a reservation, made in queue order; a VM starts
    /// ahead of others only at its own reservation, which delays none of theirs.
    Conservative,
}

impl Backfill {
    /// The names a scenario and the command line accept, in order.
    pub const NAMES: [&'static str; 3] = ["none", "easy", "conservative"];

    /// The scenario name.
    pub fn name(self) -> &'static str {
        match self {
            Backfill::None => "none",
            Backfill::Easy => "easy",
            Backfill::Conservative => "conservative",
        }
    }

    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<Backfill> {
        match s {
            "none" => Some(Backfill::None),
            "easy" => Some(Backfill::Easy),
            "conservative" => Some(Backfill::Conservative),
            _ => None,
        }
    }
}

/// Admission (VM-queue) level settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AdmissionSpec {
    /// Policy name (see [`crate::policy::ADMISSION_POLICIES`]).
    pub policy: String,
    /// Priority aging: priority levels gained per second of waiting (0 = none).
    pub aging_per_s: f64,
    /// Head-of-line rule (without backfilling).
    pub head_of_line: HeadOfLine,
    /// Backfilling (default none); when on, it replaces the head-of-line rule.
    pub backfill: Backfill,
}

/// CPU (vCPU run queue) level settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuSpec {
    /// Policy name (see [`crate::policy::CPU_POLICIES`]).
    pub policy: String,
    /// Time slice of time-sliced policies (`rr`).
    pub quantum: SimTime,
    /// The slice of a time-sliced policy when set (it then replaces `quantum`); when
    /// none, the policy's own default if it has one ([`crate::policy::CpuPolicy::default_slice`]:
    /// `fair` takes Linux's base slice scaled by the host's pCPUs), else `quantum`.
    pub slice: Option<SimTime>,
    /// The period of CPU caps ([`VmProfile::cpu_cap_ppm`]; default 100 ms, cgroup's
    /// `cpu.max` default).
    pub cap_period: SimTime,
    /// Cost of switching a pCPU to a different vCPU (the pCPU is busy but does no guest work).
    pub context_switch: SimTime,
    /// How vCPUs map onto pCPUs.
    pub mapping: Mapping,
    /// Extra cost when a vCPU runs on a different pCPU than last time (cache refill).
    pub migration: SimTime,
    /// Gang (co-)scheduling: a VM's ready vCPUs are dispatched together, each on its own
    /// pCPU, or not at all; the VM at the head of the run queue waits until enough pCPUs
    /// are idle, and VMs behind it wait too. A vCPU that becomes ready again while its
    /// siblings run (back from I/O or a fault) joins them alone. Floating mapping and
    /// non-preemptive policies or `rr` only; a VM needs no more vCPUs than its host has
    /// pCPUs.
    pub gang: bool,
    /// Options of the `mlfq` policy (ignored by the others).
    pub mlfq: MlfqSpec,
}

/// When `mlfq` demotes a vCPU that used up its quantum.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Demote {
    /// Only if another vCPU is waiting in its run queue at the decision that follows (the
    /// textbooks' feedback scheduling, Stallings §9.2); a vCPU that blocks before its quantum
    /// is used up keeps its level and gets a fresh quantum next time.
    #[default]
    Contended,
    /// Always, and the quantum is an allotment of CPU time at the level that is used up
    /// across blocking (OSTEP ch. 8, the allotment rule).
    Always,
}

impl Demote {
    /// Scenario name.
    pub fn name(self) -> &'static str {
        match self {
            Demote::Contended => "contended",
            Demote::Always => "always",
        }
    }
    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<Demote> {
        match s {
            "contended" => Some(Demote::Contended),
            "always" => Some(Demote::Always),
            _ => None,
        }
    }
}

/// Options of the multi-level feedback queue (`mlfq`).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct MlfqSpec {
    /// Number of levels (1 ..= [`MlfqSpec::MAX_LEVELS`]; 1 is round robin).
    pub levels: u32,
    /// Quantum of level `i` = quantum × `quantum_growth`^i (≥ 1: 1 equal quanta, 2 doubling).
    pub quantum_growth: f64,
    /// When a vCPU that used up its quantum moves down a level.
    pub demote: Demote,
    /// Every this-long, every vCPU goes back to the top level (`None`: never).
    pub boost: Option<SimTime>,
}

impl MlfqSpec {
    /// The most levels `mlfq` keeps.
    pub const MAX_LEVELS: u32 = 64;
}

impl Default for MlfqSpec {
    fn default() -> Self {
        MlfqSpec {
            levels: 3,
            quantum_growth: 1.0,
            demote: Demote::Contended,
            boost: None,
        }
    }
}

/// How vCPUs map onto pCPUs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Mapping {
    /// One run queue per host; a vCPU may run on any pCPU (preferring the last one it ran
    /// on, then its NUMA node, then the lowest-numbered idle pCPU).
    #[default]
    Floating,
    /// Each vCPU is pinned at admission to the pCPU with the fewest pinned vCPUs (on its
    /// VM's home NUMA node; lowest number on ties) and only runs there; one run queue per
    /// pCPU, no load balancing.
    Pinned,
}

impl Mapping {
    /// Scenario name.
    pub fn name(self) -> &'static str {
        match self {
            Mapping::Floating => "floating",
            Mapping::Pinned => "pinned",
        }
    }
    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<Mapping> {
        match s {
            "floating" => Some(Mapping::Floating),
            "pinned" => Some(Mapping::Pinned),
            _ => None,
        }
    }
}

/// What a scheduled lifecycle event does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LifecycleAction {
    /// Take the VM's vCPUs off their pCPUs and keep them off (memory stays reserved).
    Pause,
    /// Let a paused VM's vCPUs run again.
    Resume,
    /// End the VM now (it is recorded as stopped).
    Stop,
    /// Live-migrate the VM to host `to_host` (see [`crate::migration`]); needs
    /// [`crate::DatacenterSpec::migration`]. A destination that cannot hold the VM refuses
    /// it (counted in [`crate::MigrationStats::refused`]).
    Migrate {
        /// Destination host number.
        to_host: u32,
    },
}

impl LifecycleAction {
    /// Scenario name.
    pub fn name(self) -> &'static str {
        match self {
            LifecycleAction::Pause => "pause",
            LifecycleAction::Resume => "resume",
            LifecycleAction::Stop => "stop",
            LifecycleAction::Migrate { .. } => "migrate",
        }
    }
    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<LifecycleAction> {
        match s {
            "pause" => Some(LifecycleAction::Pause),
            "resume" => Some(LifecycleAction::Resume),
            "stop" => Some(LifecycleAction::Stop),
            // (The destination is set by the caller.)
            "migrate" => Some(LifecycleAction::Migrate { to_host: 0 }),
            _ => None,
        }
    }
}

/// A lifecycle event a scenario schedules.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// When.
    pub at: SimTime,
    /// Which VM (by id).
    pub vm: u64,
    /// What happens.
    pub action: LifecycleAction,
}

/// Everything the engine needs besides the workload.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Hosts and placement.
    pub cluster: ClusterSpec,
    /// Admission level.
    pub admission: AdmissionSpec,
    /// CPU level.
    pub cpu: CpuSpec,
    /// The first this-many arrivals are marked as warm-up in their records.
    pub warmup_vms: u64,
    /// Master seed and replication of the engine's own random streams (paging, I/O).
    pub seed: u64,
    /// Replication number (see `seed`).
    pub replication: u64,
    /// Lifecycle events (pause, resume, stop, migrate), in any order.
    pub events: Vec<LifecycleEvent>,
    /// Interval of timeline samples ([`crate::Observer::on_sample`]); `None` = no samples.
    pub timeline_interval: Option<SimTime>,
    /// Power, hosts switched off and on, host failures (default: all off).
    pub datacenter: crate::datacenter::DatacenterSpec,
}

impl SimConfig {
    /// One host, FCFS at both levels, no overcommit: a starting point for tests and examples.
    pub fn single_host(pcpus: u32, memory_mib: u64) -> SimConfig {
        SimConfig {
            cluster: ClusterSpec {
                hosts: HostSpecs::repeated(HostSpec::new(pcpus, memory_mib), 1),
                placement: Placement::FirstFit,
            },
            admission: AdmissionSpec {
                policy: "fcfs".into(),
                aging_per_s: 0.0,
                head_of_line: HeadOfLine::Strict,
                backfill: Backfill::None,
            },
            cpu: CpuSpec {
                gang: false,
                policy: "fcfs".into(),
                quantum: SimTime::from_millis(100),
                slice: None,
                cap_period: SimTime::from_millis(100),
                context_switch: SimTime::ZERO,
                mapping: Mapping::Floating,
                migration: SimTime::ZERO,
                mlfq: MlfqSpec::default(),
            },
            warmup_vms: 0,
            seed: 1,
            replication: 0,
            events: Vec::new(),
            timeline_interval: None,
            datacenter: Default::default(),
        }
    }

    /// The textbook setting: one pCPU, every process admitted at its arrival (no admission
    /// limit, no memory), `cpu_policy` on the run queue with `quantum` as its time slice
    /// (also the slice of `fair`).
    pub fn textbook(cpu_policy: &str, quantum: SimTime) -> SimConfig {
        let mut c = SimConfig::single_host(1, 0);
        c.cluster.hosts[0].overcommit = f64::INFINITY;
        c.cluster.hosts[0].memory_overcommit = f64::INFINITY;
        c.cpu.policy = cpu_policy.to_string();
        c.cpu.quantum = quantum;
        c.cpu.slice = Some(quantum);
        c
    }
}

#[cfg(test)]
mod weight_tests {
    use super::*;

    #[test]
    fn nice_maps_to_linux_weights() {
        // kernel/sched/core.c: sched_prio_to_weight[0] = 88761, [20] = 1024, [39] = 15.
        assert_eq!(nice_to_weight(-20), Some(88761));
        assert_eq!(nice_to_weight(0), Some(DEFAULT_WEIGHT));
        assert_eq!(nice_to_weight(1), Some(820));
        assert_eq!(nice_to_weight(19), Some(15));
        assert_eq!(nice_to_weight(-21), None);
        assert_eq!(nice_to_weight(20), None);
        assert_eq!(VmProfile::default().weight, 1024);
    }
}
