//! The entities a run is made of: VM requests, hosts, the cluster, and the run's settings.

use crate::time::SimTime;

/// One VM as a workload describes it.
#[derive(Clone, Debug, PartialEq)]
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
}

impl HostSpec {
    /// A host of `pcpus` pCPUs and `memory_mib` MiB with no overcommit.
    pub fn new(pcpus: u32, memory_mib: u64) -> HostSpec {
        HostSpec {
            pcpus,
            memory_mib,
            overcommit: 1.0,
            memory_overcommit: 1.0,
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
    /// The hosts, numbered from 0 in this order.
    pub hosts: Vec<HostSpec>,
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

/// Admission (VM-queue) level settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AdmissionSpec {
    /// Policy name (see [`crate::policy::ADMISSION_POLICIES`]).
    pub policy: String,
    /// Priority aging: priority levels gained per second of waiting (0 = none).
    pub aging_per_s: f64,
    /// Head-of-line rule.
    pub head_of_line: HeadOfLine,
}

/// CPU (vCPU run queue) level settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuSpec {
    /// Policy name (see [`crate::policy::CPU_POLICIES`]).
    pub policy: String,
    /// Time slice of time-sliced policies (`rr`).
    pub quantum: SimTime,
    /// Cost of switching a pCPU to a different vCPU (the pCPU is busy but does no guest work).
    pub context_switch: SimTime,
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
}

impl SimConfig {
    /// One host, FCFS at both levels, no overcommit: a starting point for tests and examples.
    pub fn single_host(pcpus: u32, memory_mib: u64) -> SimConfig {
        SimConfig {
            cluster: ClusterSpec {
                hosts: vec![HostSpec::new(pcpus, memory_mib)],
                placement: Placement::FirstFit,
            },
            admission: AdmissionSpec {
                policy: "fcfs".into(),
                aging_per_s: 0.0,
                head_of_line: HeadOfLine::Strict,
            },
            cpu: CpuSpec {
                policy: "fcfs".into(),
                quantum: SimTime::from_millis(100),
                context_switch: SimTime::ZERO,
            },
            warmup_vms: 0,
        }
    }

    /// The textbook setting: one pCPU, every process admitted at its arrival (no admission
    /// limit, no memory), `cpu_policy` on the run queue.
    pub fn textbook(cpu_policy: &str, quantum: SimTime) -> SimConfig {
        let mut c = SimConfig::single_host(1, 0);
        c.cluster.hosts[0].overcommit = f64::INFINITY;
        c.cluster.hosts[0].memory_overcommit = f64::INFINITY;
        c.cpu.policy = cpu_policy.to_string();
        c.cpu.quantum = quantum;
        c
    }
}
