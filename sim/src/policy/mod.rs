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
//! [`ADMISSION_POLICIES`] or [`CPU_POLICIES`]. The registry is the single source of truth:
//! a name is resolved once into an entry ([`find_cpu`], [`find_admission`]) whose fields
//! carry the policy's capabilities (time-sliced, preemptive, needs estimates, key depends
//! on time) and its teaching words; nothing outside this module matches on policy names.
//!
//! Keys that change with time (HRRN's response ratio, a fair scheduler's virtual runtime)
//! are supported: a policy whose [`CpuPolicy::key_depends_on_time`] is true has the keys of
//! a host's ready vCPUs re-evaluated with [`CpuPolicy::ready_key_at`] at every dispatch
//! decision on that host. A policy may also keep one `u64` of state per vCPU, updated by
//! [`CpuPolicy::on_charged`] whenever the vCPU is charged for work it ran (see
//! [`CpuPolicy::uses_state`]); static policies pay for neither.

pub mod admission;
pub mod consolidation;
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
    /// Whether the order uses the user's runtime estimate.
    pub needs_estimates: bool,
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
    /// The VM's CPU weight ([`crate::model::DEFAULT_WEIGHT`] = 1024 = nice 0).
    pub weight: u32,
    /// The policy's own state word for this vCPU (0 until [`CpuPolicy::on_charged`]
    /// changes it; always 0 for a policy whose [`CpuPolicy::uses_state`] is false).
    pub state: u64,
}

/// When a key is evaluated: what [`CpuPolicy::ready_key_at`] may look at besides the vCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyContext {
    /// The instant of the decision.
    pub now: SimTime,
}

/// Work a vCPU was just charged for (what [`CpuPolicy::on_charged`] sees).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    /// Guest work done since the vCPU was last charged (ns of full-rate CPU).
    pub ran: SimTime,
    /// The VM's CPU weight.
    pub weight: u32,
    /// When the charge happens.
    pub now: SimTime,
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
    /// Key of a vCPU at the instant `ctx.now`. The engine always asks for keys through this
    /// method; the default is [`CpuPolicy::ready_key`]. A policy whose key changes while a
    /// vCPU waits overrides it and returns true from [`CpuPolicy::key_depends_on_time`].
    fn ready_key_at(&self, v: &VcpuView, ctx: &KeyContext) -> u128 {
        let _ = ctx;
        self.ready_key(v)
    }
    /// Whether keys change with time while vCPUs wait: then, at every dispatch decision on
    /// a host, the engine re-evaluates the keys of its ready vCPUs (and of its running
    /// ones, for preemption) at the current instant. False: a key is computed once, when
    /// the vCPU becomes ready.
    fn key_depends_on_time(&self) -> bool {
        false
    }
    /// Whether the policy keeps a state word per vCPU ([`VcpuView::state`]), updated by
    /// [`CpuPolicy::on_charged`]. False: the engine never calls `on_charged`.
    fn uses_state(&self) -> bool {
        false
    }
    /// Called (only when [`CpuPolicy::uses_state`]) each time a vCPU is charged for work it
    /// ran: at the end of every constant-rate segment of its slices (a slice end, a quantum
    /// expiry, a preemption, a rate change), before the vCPU is put back in a run queue.
    /// It updates the vCPU's state word, e.g. a virtual runtime `ran × 1024 / weight`, a
    /// stride pass or a feedback level. It must not allocate.
    fn on_charged(&self, state: &mut u64, charge: &Charge) {
        let _ = (state, charge);
    }
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
    /// Whether running vCPUs are interrupted when the quantum expires (equals the built
    /// policy's [`CpuPolicy::time_sliced`]; a test checks it).
    pub time_sliced: bool,
    /// Whether a more urgent ready vCPU preempts a running one (equals
    /// [`CpuPolicy::preemptive`]).
    pub preemptive: bool,
    /// Whether the order uses the user's runtime estimate.
    pub needs_estimates: bool,
    /// Whether the key changes while a vCPU waits (equals
    /// [`CpuPolicy::key_depends_on_time`]).
    pub key_depends_on_time: bool,
    /// The words the step-by-step trace and the exercises use for this policy.
    pub teaching: Teaching,
    /// Constructor.
    pub build: fn() -> Box<dyn CpuPolicy>,
}

/// The quantity the step-by-step trace shows next to each process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceQuantity {
    /// Its arrival time ("arrived 3").
    Arrival,
    /// Its whole burst (the estimate).
    Burst,
    /// Its remaining burst.
    Remaining,
    /// Its priority number.
    Priority,
    /// Its response ratio (wait + burst) / burst at the decision.
    ResponseRatio,
}

impl TraceQuantity {
    /// The word the trace prints before the value.
    pub fn word(self) -> &'static str {
        match self {
            TraceQuantity::Arrival => "arrived",
            TraceQuantity::Burst => "burst",
            TraceQuantity::Remaining => "remaining",
            TraceQuantity::Priority => "priority",
            TraceQuantity::ResponseRatio => "response ratio",
        }
    }
}

/// How teaching outputs (the step-by-step trace, exercises) word a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Teaching {
    /// The policy's name in a sentence ("round robin").
    pub long_name: &'static str,
    /// What the trace shows next to each process.
    pub quantity: TraceQuantity,
    /// Why the first process in the policy's order wins ("shortest next burst").
    pub reason: &'static str,
    /// Whether equal quantities are broken by arrival, then table order, so the trace says
    /// so (false when the order is a queue's, as in round robin).
    pub ties_by_arrival: bool,
}

impl Teaching {
    /// Words for a policy that gives none of its own.
    pub const GENERIC: Teaching = Teaching {
        long_name: "the given policy",
        quantity: TraceQuantity::Remaining,
        reason: "first in the policy's order",
        ties_by_arrival: true,
    };
}

/// The CPU policies, in the order `vmsched policies` lists them.
pub const CPU_POLICIES: &[CpuEntry] = &[
    cpu::fcfs::ENTRY,
    cpu::sjf::ENTRY,
    cpu::srtf::ENTRY,
    cpu::priority::ENTRY,
    cpu::priority_preemptive::ENTRY,
    cpu::rr::ENTRY,
    cpu::hrrn::ENTRY,
    cpu::stride::ENTRY,
];

fn known(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// Builds the admission policy called `name`.
pub fn admission_policy(
    name: &str,
    params: &AdmissionParams,
) -> Result<Box<dyn AdmissionPolicy>, SimError> {
    find_admission(name).and_then(|e| (e.build)(params))
}

/// The registry entry of the admission policy called `name`.
pub fn find_admission(name: &str) -> Result<&'static AdmissionEntry, SimError> {
    ADMISSION_POLICIES
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| SimError::UnknownPolicy {
            level: "admission",
            name: name.to_string(),
            known: known(ADMISSION_POLICIES.iter().map(|e| e.name)),
        })
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
        let e = cpu_policy("no-such-policy").err().unwrap().to_string();
        assert!(
            e.contains("fcfs, sjf, srtf, priority, priority-preemptive, rr, hrrn, stride"),
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

    /// The capabilities an entry advertises are those of the policy it builds, so code
    /// that reads the entry (limits, teaching, the replay) agrees with the engine.
    #[test]
    fn entry_flags_agree_with_the_built_policies() {
        for e in CPU_POLICIES {
            let p = (e.build)();
            assert_eq!(e.time_sliced, p.time_sliced(), "{}", e.name);
            assert_eq!(e.preemptive, p.preemptive(), "{}", e.name);
            assert_eq!(e.key_depends_on_time, p.key_depends_on_time(), "{}", e.name);
            assert!(
                find_admission(e.admission_counterpart).is_ok(),
                "{}",
                e.name
            );
            assert_eq!(find_cpu(e.name).unwrap().name, e.name);
        }
        for e in ADMISSION_POLICIES {
            assert_eq!(find_admission(e.name).unwrap().name, e.name);
        }
        // Names are unique.
        let mut names: Vec<_> = CPU_POLICIES.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CPU_POLICIES.len());
    }

    #[test]
    fn priority_key_preserves_order() {
        assert!(priority_key(-5) < priority_key(0));
        assert!(priority_key(0) < priority_key(3));
        assert!(priority_key(i32::MIN) < priority_key(i32::MAX));
    }
}
