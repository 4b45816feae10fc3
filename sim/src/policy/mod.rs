//! Scheduling policies, one per file, at two levels:
//!
//! * **admission** orders the queue of VMs waiting for a host ([`AdmissionPolicy`]);
//! * **CPU** orders the runnable vCPUs of a host and says whether a more urgent vCPU may
//!   preempt a running one ([`CpuPolicy`]).
//!
//! A policy sees a read-only view and returns an ordering key; it never touches the event
//! queue, the clock or the random streams. Smaller keys are served first; the engine breaks
//! ties by earlier arrival, then lower VM id, then lower vCPU index.
//!
//! To add a policy: write one file implementing the trait and add one line to
//! [`ADMISSION_POLICIES`] or [`CPU_POLICIES`].

pub mod admission;
pub mod cpu;

use crate::error::SimError;
use crate::model::VmRequest;
use crate::time::SimTime;

/// What an admission policy may look at.
pub struct AdmissionParams {
    /// Priority levels gained per second of waiting (0 = no aging).
    pub aging_per_s: f64,
}

/// Orders the VM (admission) queue.
pub trait AdmissionPolicy: Send + Sync {
    /// Key of a waiting VM; it must not change while the VM waits (aging that is linear in
    /// waiting time can still be expressed: see `priority`).
    fn queue_key(&self, vm: &VmRequest) -> u128;
    /// Whether `queue_key` is the same for every VM, so that the queue is in arrival order
    /// (then id) and the engine may keep it as a FIFO.
    fn arrival_order(&self) -> bool {
        false
    }
}

/// A registry entry for an admission policy.
pub struct AdmissionEntry {
    /// Name used in scenarios and on the command line.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Constructor.
    pub build: fn(&AdmissionParams) -> Result<Box<dyn AdmissionPolicy>, SimError>,
}

/// The admission policies, in the order `vmsched policies` lists them.
pub const ADMISSION_POLICIES: &[AdmissionEntry] = &[
    admission::fcfs::ENTRY,
    admission::sjf::ENTRY,
    admission::priority::ENTRY,
];

/// What a CPU policy may look at about a runnable or running vCPU.
pub struct VcpuView {
    /// VM id.
    pub vm: u64,
    /// VM priority class (lower = more urgent).
    pub priority: i32,
    /// VM arrival.
    pub arrival: SimTime,
    /// The user's estimate of the vCPU's total work.
    pub estimate: SimTime,
    /// Work done so far (including the current slice, for a running vCPU).
    pub attained: SimTime,
    /// When it last became ready (for a running vCPU: when it was dispatched).
    pub ready_since: SimTime,
    /// Whether it became ready because its quantum expired or it was preempted (rather than
    /// by arriving or being admitted).
    pub preempted: bool,
}

impl VcpuView {
    /// The estimated remaining work (estimate − attained, at least zero).
    pub fn remaining_estimate(&self) -> SimTime {
        self.estimate.saturating_sub(self.attained)
    }
}

/// Orders the run queue of a host.
pub trait CpuPolicy: Send + Sync {
    /// Key of a vCPU (smaller runs first).
    fn ready_key(&self, v: &VcpuView) -> u128;
    /// Whether a ready vCPU with a strictly smaller key preempts a running one.
    fn preemptive(&self) -> bool {
        false
    }
    /// Whether running vCPUs are interrupted when the quantum expires.
    fn time_sliced(&self) -> bool {
        false
    }
}

/// A registry entry for a CPU policy.
pub struct CpuEntry {
    /// Name used in scenarios and on the command line.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// The admission policy this one implies when a single name sets both levels.
    pub admission_counterpart: &'static str,
    /// Constructor.
    pub build: fn() -> Box<dyn CpuPolicy>,
}

/// The CPU policies, in the order `vmsched policies` lists them.
pub const CPU_POLICIES: &[CpuEntry] = &[
    cpu::fcfs::ENTRY,
    cpu::sjf::ENTRY,
    cpu::srtf::ENTRY,
    cpu::priority::ENTRY,
    cpu::priority_preemptive::ENTRY,
    cpu::rr::ENTRY,
];

fn known(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// Builds the admission policy called `name`.
pub fn admission_policy(
    name: &str,
    params: &AdmissionParams,
) -> Result<Box<dyn AdmissionPolicy>, SimError> {
    match ADMISSION_POLICIES.iter().find(|e| e.name == name) {
        Some(e) => (e.build)(params),
        None => Err(SimError::UnknownPolicy {
            level: "admission",
            name: name.to_string(),
            known: known(ADMISSION_POLICIES.iter().map(|e| e.name)),
        }),
    }
}

/// Builds the CPU policy called `name`.
pub fn cpu_policy(name: &str) -> Result<Box<dyn CpuPolicy>, SimError> {
    find_cpu(name).map(|e| (e.build)())
}

/// The registry entry of the CPU policy called `name`.
pub fn find_cpu(name: &str) -> Result<&'static CpuEntry, SimError> {
    CPU_POLICIES
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| SimError::UnknownPolicy {
            level: "cpu",
            name: name.to_string(),
            known: known(CPU_POLICIES.iter().map(|e| e.name)),
        })
}

/// Splits a command-line policy name into (admission, CPU) names.
///
/// A single CPU policy name sets both levels, the admission level taking its
/// non-preemptive counterpart (`srtf` → `sjf/srtf`, `priority-preemptive` →
/// `priority/priority-preemptive`, `rr` → `fcfs/rr`). `ADMISSION/CPU` sets them separately.
pub fn split_policy_name(name: &str) -> Result<(String, String), SimError> {
    if let Some((a, c)) = name.split_once('/') {
        admission_policy(a, &AdmissionParams { aging_per_s: 0.0 })?;
        find_cpu(c)?;
        return Ok((a.to_string(), c.to_string()));
    }
    let e = find_cpu(name)?;
    Ok((e.admission_counterpart.to_string(), e.name.to_string()))
}

/// The label of a pair of levels in outputs: `fcfs` when both levels have the same name,
/// else `ADMISSION/CPU`.
pub fn policy_label(admission: &str, cpu: &str) -> String {
    if admission == cpu {
        admission.to_string()
    } else {
        format!("{admission}/{cpu}")
    }
}

/// Maps a priority (lower = more urgent) to an unsigned key preserving order.
pub fn priority_key(p: i32) -> u128 {
    (i64::from(p) - i64::from(i32::MIN)) as u128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e = cpu_policy("lottery").err().unwrap().to_string();
        assert!(
            e.contains("fcfs, sjf, srtf, priority, priority-preemptive, rr"),
            "{e}"
        );
        let e = admission_policy("x", &AdmissionParams { aging_per_s: 0.0 })
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("fcfs, sjf, priority"), "{e}");
    }

    #[test]
    fn single_names_set_both_levels() {
        let s = |n| split_policy_name(n).unwrap();
        assert_eq!(s("srtf"), ("sjf".into(), "srtf".into()));
        assert_eq!(
            s("priority-preemptive"),
            ("priority".into(), "priority-preemptive".into())
        );
        assert_eq!(s("rr"), ("fcfs".into(), "rr".into()));
        assert_eq!(s("fcfs/srtf"), ("fcfs".into(), "srtf".into()));
        assert!(split_policy_name("fcfs/nope").is_err());
        assert_eq!(policy_label("fcfs", "srtf"), "fcfs/srtf");
        assert_eq!(policy_label("sjf", "sjf"), "sjf");
    }

    #[test]
    fn priority_key_preserves_order() {
        assert!(priority_key(-5) < priority_key(0));
        assert!(priority_key(0) < priority_key(3));
        assert!(priority_key(i32::MIN) < priority_key(i32::MAX));
    }
}
