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
pub mod bookkeeping;
pub mod consolidation;
pub mod cpu;

use crate::error::SimError;
use crate::model::{CpuSpec, VmRequest};
use crate::time::SimTime;

pub use bookkeeping::{QueueSums, accounting_periods, host_slice};

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
    /// The weighted average of the state words of the vCPUs in the run queue (ready or
    /// running, the running ones charged up to `now`): `Σ weight × state / Σ weight`, a
    /// fair scheduler's average virtual runtime. Kept only for a policy whose
    /// [`CpuPolicy::uses_queue_average`] is true (0 otherwise).
    pub queue_average: u64,
    /// The host's time slice (the quantum of a time-sliced policy; 0 without slicing).
    pub slice: SimTime,
}

impl KeyContext {
    /// A context at `now` with no run-queue average and no slice.
    pub fn at(now: SimTime) -> KeyContext {
        KeyContext {
            now,
            queue_average: 0,
            slice: SimTime::ZERO,
        }
    }
}

/// What [`CpuPolicy::on_join`] and [`CpuPolicy::on_leave`] see about the run queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueContext {
    /// The weighted average of the state words of the queue's vCPUs (see
    /// [`KeyContext::queue_average`]): without the joining vCPU, with the leaving one.
    /// A queue that never held a vCPU has the average [`QUEUE_ORIGIN`]; an emptied queue
    /// keeps the average it had when its last vCPU left.
    pub average: u64,
    /// The sum of the weights of the queue's vCPUs (without the joining vCPU, with the
    /// leaving one).
    pub total_weight: u64,
    /// The weight of the vCPU joining or leaving.
    pub weight: u32,
    /// The host's time slice (0 without slicing).
    pub slice: SimTime,
}

/// The run-queue average of a queue that never held a vCPU: mid-range, so that a state a
/// few slices below it (a vCPU that joins with a positive lag) stays a positive number.
pub const QUEUE_ORIGIN: u64 = 1 << 62;

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

/// What a CPU policy's options are read from (see [`CpuPolicy::configure`]).
#[derive(Clone, Copy, Debug)]
pub struct CpuParams<'a> {
    /// The CPU level's settings: the quantum, the options of `mlfq`, …
    pub cpu: &'a CpuSpec,
    /// Master seed of the run: a policy that draws random numbers derives its own named
    /// stream from it (see [`crate::rng`]).
    pub seed: u64,
    /// Replication number (with `seed`).
    pub replication: u64,
}

/// What [`CpuPolicy::on_account`] sees at an accounting instant of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    /// The vCPU's VM weight.
    pub weight: u32,
    /// The sum of the weights of the host's runnable (ready or running) vCPUs.
    pub total_weight: u64,
    /// The host's pCPUs.
    pub pcpus: u32,
    /// Accounting instants since the host's last accounting (≥ 1).
    pub periods: u64,
    /// The vCPU's share of its VM's CPU cap, as CPU time per accounting period (ns):
    /// `⌈cap × period / vCPUs⌉` (Xen's per-vCPU `credit_cap`); 0 without a cap.
    pub cap: u64,
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
    /// Whether the engine keeps, per run queue, the weighted average of the state words
    /// of its vCPUs ([`KeyContext::queue_average`]) and tells the policy when a vCPU joins
    /// or leaves the queue ([`CpuPolicy::on_join`], [`CpuPolicy::on_leave`]). Needs
    /// [`CpuPolicy::uses_state`].
    fn uses_queue_average(&self) -> bool {
        false
    }
    /// Called (only when [`CpuPolicy::uses_queue_average`]) when a vCPU joins a run queue:
    /// it is admitted (state 0), or becomes runnable again after an I/O request, a fault
    /// or a pause (state as [`CpuPolicy::on_leave`] left it). It may rewrite the state,
    /// e.g. place a virtual runtime relative to the queue's average.
    fn on_join(&self, state: &mut u64, ctx: &QueueContext) {
        let _ = (state, ctx);
    }
    /// Called (only when [`CpuPolicy::uses_queue_average`]) when a vCPU leaves its run
    /// queue without finishing (it blocks on I/O or a fault, or is paused), after it was
    /// charged for its work. It may rewrite the state (e.g. keep a lag instead of a
    /// virtual runtime) for [`CpuPolicy::on_join`]. Finished vCPUs just leave.
    fn on_leave(&self, state: &mut u64, ctx: &QueueContext) {
        let _ = (state, ctx);
    }
    /// The time slice this policy uses on a host of `pcpus` pCPUs when the configuration
    /// sets none (`[cpu] slice_ms`); `None`: the configured quantum.
    fn default_slice(&self, pcpus: u32) -> Option<SimTime> {
        let _ = pcpus;
        None
    }
    /// Whether the order depends on the VMs' CPU weights ([`VcpuView::weight`]): the
    /// teaching tools refuse a `weight` column for a policy that would ignore it.
    fn uses_weight(&self) -> bool {
        false
    }
    /// Sets the policy's options from the run's settings. The registry's
    /// [`configured_cpu_policy`] calls it once, right after building the policy; an option
    /// out of range is an error naming it. The default takes no options.
    fn configure(&mut self, params: &CpuParams) -> Result<(), SimError> {
        let _ = params;
        Ok(())
    }
    /// Called (only when [`CpuPolicy::uses_state`]) when a vCPU is dispatched onto a pCPU,
    /// before its quantum is set. `contended` says whether another vCPU was waiting for the
    /// pCPU: this one waited in its run queue since it last became ready, or another ready
    /// vCPU is still in that queue. A feedback policy decides a pending demotion here.
    fn on_dispatch(&self, state: &mut u64, contended: bool, now: SimTime) {
        let _ = (state, contended, now);
    }
    /// The quantum of a dispatch (only asked when [`CpuPolicy::uses_state`] and
    /// [`CpuPolicy::time_sliced`]), after [`CpuPolicy::on_dispatch`]: `base` is the
    /// configured quantum. A feedback policy gives each level its own.
    fn quantum_for(&self, state: u64, base: SimTime) -> SimTime {
        let _ = state;
        base
    }
    /// The period of a policy that re-balances its per-vCPU state over all the runnable
    /// vCPUs of a host at regular instants (Xen Credit's 30 ms accounting), or `None`.
    /// With a period, at the first dispatch decision on a host after one or more multiples
    /// of it, the engine calls [`CpuPolicy::on_account`] for each ready or running vCPU of
    /// the host, then re-evaluates the run queue's keys (so keys that change only there
    /// need not [`CpuPolicy::key_depends_on_time`]).
    fn accounting_period(&self) -> Option<SimTime> {
        None
    }
    /// Called (only with an [`CpuPolicy::accounting_period`]) for each runnable vCPU of a
    /// host at an accounting decision (see there). It must not allocate.
    fn on_account(&self, state: &mut u64, account: &Account) {
        let _ = (state, account);
    }
    /// Whether this policy enforces CPU caps (`[workload] cpu_cap`) itself, by parking
    /// vCPUs at its accounting instants (Xen Credit), instead of the engine's bandwidth
    /// control (cgroup `cpu.max`). Only with an [`CpuPolicy::accounting_period`]; then
    /// [`CpuPolicy::parked`] says which vCPUs may not run.
    fn parks_capped(&self) -> bool {
        false
    }
    /// Whether a vCPU with this state word is parked (only asked when
    /// [`CpuPolicy::parks_capped`]): the engine takes it off the run queue (off its pCPU
    /// at an accounting) until an accounting clears it.
    fn parked(&self, state: u64) -> bool {
        let _ = state;
        false
    }
    /// Called (only when [`CpuPolicy::uses_state`]) when a vCPU's quantum expired, after it
    /// was charged and before it is put back in its run queue.
    fn on_quantum_expired(&self, state: &mut u64, now: SimTime) {
        let _ = (state, now);
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
    /// [`CpuPolicy::key_depends_on_time`] of the policy with its default options; an
    /// option may turn it on, as `mlfq`'s `boost_s` does).
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
    /// The CPU time it has received so far (what a fair share compares, by weight).
    Received,
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
            TraceQuantity::Received => "received",
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
    cpu::fair::ENTRY,
    cpu::mlfq::ENTRY,
    cpu::lottery::ENTRY,
    cpu::credit::ENTRY,
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

/// Builds the CPU policy called `name`, with its default options.
pub fn cpu_policy(name: &str) -> Result<Box<dyn CpuPolicy>, SimError> {
    find_cpu(name).map(|e| (e.build)())
}

/// Builds the CPU policy called `name` with its options set from `params`
/// ([`CpuPolicy::configure`]).
pub fn configured_cpu_policy(
    name: &str,
    params: &CpuParams,
) -> Result<Box<dyn CpuPolicy>, SimError> {
    let mut p = cpu_policy(name)?;
    p.configure(params)?;
    Ok(p)
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

/// The names of the CPU policies whose order uses the VMs' weights
/// ([`CpuPolicy::uses_weight`]), comma-separated.
pub fn weighted_cpu_policies() -> String {
    known(
        CPU_POLICIES
            .iter()
            .filter(|e| (e.build)().uses_weight())
            .map(|e| e.name),
    )
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
        for p in CPU_POLICIES {
            assert!(e.contains(p.name), "{e} lacks {}", p.name);
        }
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
