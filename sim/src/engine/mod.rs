//! The discrete-event engine.
//!
//! One loop: take the earliest instant `t` among the next arrival and the future-event
//! list; apply *every* state change at `t` (arrivals first, then events in the order they
//! were scheduled); only then take decisions — first admission (which waiting VMs a host
//! takes), then dispatch on each host whose run queues or pCPUs changed. Deciding after all
//! changes at an instant is what makes simultaneous arrivals (the textbook "all at t = 0")
//! compete fairly and puts a VM arriving when a quantum expires ahead of the preempted one.
//!
//! A vCPU's life: `Ready ⇄ Running → Blocked{io, fault} → Ready … → Done`, plus `Paused`.
//! All its state changes go through `Engine::set_state`. Work is counted in nanoseconds
//! of reference CPU time; a vCPU runs at a *rate* ≤ 1 (translation overhead, a remote NUMA
//! node, a busy SMT sibling), so a slice of wall time `d` does `d × rate` of work.
//!
//! Memory is bounded by what is in flight: VMs and vCPUs live in slabs whose slots are
//! reused; finished VMs are handed to the observer and forgotten.
//!
//! The engine is one `Engine` (in `state`) whose behaviour is split by concern into
//! `impl Engine` blocks, one file each:
//!
//! | file | concern |
//! |---|---|
//! | `state` | events, VMs, vCPUs, hosts (capacity, topology, paging, busy accounting), the `Engine` |
//! | `pcpus` | a pCPU, and a host's pCPUs (the first 16 in the host itself) |
//! | `ids` | typed indices (`HostId`, `PcpuId`, `VmSlot`, `VcpuSlot`) and absent ones (`OptId`) |
//! | `build` | the engine of a checked configuration ([`crate::SimConfig::check`]) |
//! | `run` | the main loop and the run-wide counters |
//! | `admission` | arrivals, the admission queue, admission off the plain path |
//! | `capacity` | placement (`Engine::place`), booking capacity on hosts (the only writer of used vCPUs and memory), candidates, the cluster's static facts |
//! | `placement_index` | which host takes a VM (first-, best-, worst-fit) without scanning the hosts; `Engine::capacity_changed` |
//! | `plain` | the plain fast path: one event per VM |
//! | `dispatch` | run queues, dispatch, preemption, gang scheduling, the decision trace |
//! | `slice` | a vCPU starts on a pCPU, is taken off it, or its slice ends |
//! | `rate` | the rate a vCPU runs at and the constant-rate segments of a slice |
//! | `paging` | major faults and the balloon |
//! | `device` | device queues: I/O and swap-in requests |
//! | `lifecycle` | pause, resume, stop, migrate |
//! | `power` | energy, hosts switched off and on, the one switch of placement candidates |
//! | `failure` | host failures and repairs; a host's VMs, and taking a VM off its host |
//! | `migration` | live migration (pre-copy) of a VM between hosts, and consolidation |
//! | `finish` | a vCPU's or a VM's end |
//! | `sample` | timeline samples |
//! | `backfill`, `profile` | EASY and conservative backfilling; a host's free capacity over time |
//! | `admission_queue`, `slab` | the admission queue's two orders; slabs of reused slots |

mod account;
mod admission;
mod admission_queue;
mod backfill;
mod backfill_scan;
mod build;
mod capacity;
mod caps;
mod counters;
mod device;
mod dispatch;
mod failure;
mod finish;
mod ids;
mod lifecycle;
mod migration;
mod migration_nic;
mod paging;
mod park;
mod pcpus;
pub mod placement_index;
mod placement_set;
mod plain;
mod power;
mod profile;
mod queue_avg;
mod rate;
mod run;
mod sample;
mod slab;
mod slice;
mod state;

use crate::error::SimError;
use crate::model::{SimConfig, VmRequest};
use crate::observer::Observer;
use crate::policy::{AdmissionPolicy, CpuPolicy};
use crate::source::VmSource;
use crate::time::SimTime;
pub use backfill::BACKFILL_DEPTH;
pub use capacity::estimated_host_bytes;
use state::Engine;

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Events processed: arrivals, slice ends (completions, quantum expiries, I/O and fault
    /// blocks), device completions and lifecycle events; cancelled events and timeline
    /// samples are not counted.
    pub events: u64,
    /// VMs that arrived (rejected ones included).
    pub arrivals: u64,
    /// VMs that finished (stopped ones included).
    pub finished: u64,
    /// VMs turned away because no host could ever hold them.
    pub rejected: u64,
    /// VMs ended by a lifecycle `stop`.
    pub stopped: u64,
    /// Lifecycle events that named no VM in the system (unknown, not yet arrived or gone).
    pub lifecycle_ignored: u64,
    /// Time of the last event.
    pub makespan: SimTime,
    /// pCPUs in the cluster.
    pub total_pcpus: u64,
    /// pCPU time spent busy (guest work, hypervisor overhead, context switches,
    /// migrations and slowdowns), ns.
    pub busy_ns: u128,
    /// Guest work done, ns of reference CPU time.
    pub work_ns: u128,
    /// Hypervisor work done for guests (first-touch mapping, VM exits), ns of reference CPU.
    pub overhead_ns: u128,
    /// Number of dispatches that paid the context-switch cost.
    pub context_switches: u64,
    /// Number of dispatches onto a different pCPU than the vCPU's previous one.
    pub migrations: u64,
    /// Number of times a running vCPU was taken off its pCPU before its slice ended
    /// (preemption, quantum expiry, pause, stop).
    pub preemptions: u64,
    /// I/O requests issued.
    pub io_requests: u64,
    /// Major faults (swap-ins).
    pub major_faults: u64,
    /// First-touch faults.
    pub minor_faults: u64,
    /// ∫ (VMs in the system) dt, in VM·ns (Little's L × makespan).
    pub vm_time_area_ns: u128,
    /// Largest number of VMs in the system at once.
    pub peak_in_system: u64,
    /// Largest admission-queue length.
    pub peak_queue: u64,
    /// Energy, hosts switched on and off, failures (empty when none is configured).
    pub datacenter: crate::datacenter::DatacenterStats,
}

/// Runs `workload` through the cluster of `config`, reporting to `observer`, until every
/// admitted VM has finished. Returns the run's counters.
///
/// Errors: a configuration that [`SimConfig::validate`] refuses (unknown policy names, a
/// zero quantum for a time-sliced policy, …), a VM with no vCPUs, a workload out of
/// arrival order, an I/O request to a device kind its host lacks.
/// A VM that no host could ever hold (more vCPUs or memory than the largest empty host
/// admits) is rejected: reported to [`Observer::on_vm_rejected`] and counted, not
/// simulated.
pub fn simulate<W, O>(
    config: &SimConfig,
    workload: W,
    observer: &mut O,
) -> Result<RunStats, SimError>
where
    W: IntoIterator<Item = VmRequest>,
    O: Observer,
{
    simulate_with(config, workload, observer, FastPaths::default())
}

/// Which of the engine's shortcuts [`simulate_with`] may take. Each gives the same results
/// as the general path it skips (the property tests compare them); they exist for speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastPaths {
    /// The plain path (see `Engine::admit_plain`): one event per VM instead of one per
    /// vCPU slice, no run-queue or segment bookkeeping.
    pub plain: bool,
    /// The EASY backfill scan's quick rejection (see `engine::backfill`): a waiting VM is
    /// judged by its size class's limit on planned duration, worked out once per class
    /// until the next admission, instead of asking the placement rule and the head's
    /// reservation one VM at a time.
    pub backfill: bool,
}

impl Default for FastPaths {
    fn default() -> Self {
        FastPaths {
            plain: true,
            backfill: true,
        }
    }
}

/// [`simulate`] with a choice of fast paths (for tests that compare them with the general
/// path).
pub fn simulate_with<W, O>(
    config: &SimConfig,
    workload: W,
    observer: &mut O,
    fast: FastPaths,
) -> Result<RunStats, SimError>
where
    W: IntoIterator<Item = VmRequest>,
    O: Observer,
{
    run_from(config, workload.into_iter().peekable(), observer, fast)
}

/// [`simulate`] reading the workload in place from `source` (a read-ahead buffer, say):
/// each request is copied once, into the VM's entry.
pub fn simulate_source<S, O>(
    config: &SimConfig,
    source: S,
    observer: &mut O,
) -> Result<RunStats, SimError>
where
    S: VmSource,
    O: Observer,
{
    run_from(config, source, observer, FastPaths::default())
}

/// [`simulate`] with policy objects of the caller's own (a policy written in another
/// language, say) instead of the registry's policies that `config` names; see
/// [`SimConfig::check_with_policies`]. The engine calls `cpu.ready_key` and
/// `admission.queue_key` exactly as it calls a built-in policy's.
pub fn simulate_with_policies<W, O>(
    config: &SimConfig,
    admission: Box<dyn AdmissionPolicy>,
    cpu: Box<dyn CpuPolicy>,
    workload: W,
    observer: &mut O,
) -> Result<RunStats, SimError>
where
    W: IntoIterator<Item = VmRequest>,
    O: Observer,
{
    let checked = config.check_with_policies(admission, cpu)?;
    let mut engine = Engine::new(checked, observer, FastPaths::default())?;
    engine.run(workload.into_iter().peekable())?;
    Ok(engine.stats)
}

/// One run of the engine on `source`.
fn run_from<S: VmSource, O: Observer>(
    config: &SimConfig,
    source: S,
    observer: &mut O,
    fast: FastPaths,
) -> Result<RunStats, SimError> {
    let mut engine = Engine::new(config.check()?, observer, fast)?;
    engine.run(source)?;
    Ok(engine.stats)
}

#[cfg(test)]
mod tests {
    use crate::model::{LifecycleAction, LifecycleEvent};
    use crate::observer::NullObserver;
    use crate::{SimConfig, SimTime, VmRequest, simulate};

    fn vm(id: u64, arrival_s: u64, demand_s: u64) -> VmRequest {
        VmRequest {
            id,
            arrival: SimTime::from_secs(arrival_s),
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            demand: SimTime::from_secs(demand_s),
            estimate: SimTime::from_secs(demand_s),
            tenant: None,
            profile: Default::default(),
        }
    }

    /// ∫ (VMs in the system) dt, by hand. One pCPU, FCFS: A (0 s, 2 s of work) runs 0–2,
    /// B (1 s, 1 s) waits and runs 2–3: areas 2 + 2 = 4 VM·s. With C (arriving at 3 s,
    /// 5 s of work) paused at 4 s for good, C never leaves; the area runs to the last
    /// arrival or departure (3 s, B's departure and C's arrival): still 4 VM·s.
    #[test]
    fn vm_time_area_is_the_sum_of_residence_times() {
        let cfg = SimConfig::single_host(1, 0);
        let stats = simulate(&cfg, vec![vm(0, 0, 2), vm(1, 1, 1)], &mut NullObserver).unwrap();
        assert_eq!(stats.vm_time_area_ns, 4_000_000_000);

        let mut cfg = SimConfig::single_host(1, 0);
        cfg.events = vec![LifecycleEvent {
            at: SimTime::from_secs(4),
            vm: 2,
            action: LifecycleAction::Pause,
        }];
        let vms = vec![vm(0, 0, 2), vm(1, 1, 1), vm(2, 3, 5)];
        let stats = simulate(&cfg, vms, &mut NullObserver).unwrap();
        assert_eq!(stats.finished, 2);
        assert_eq!(stats.vm_time_area_ns, 4_000_000_000);
        // D (5 s, 1 s of work) cannot be admitted while the paused C holds the host's only
        // vCPU slot (overcommit 1.0), so it waits for good. The last change is D's arrival
        // at 5 s: C and D add (5 − 3) + (5 − 5) = 2 VM·s.
        let vms = vec![vm(0, 0, 2), vm(1, 1, 1), vm(2, 3, 5), vm(3, 5, 1)];
        let stats = simulate(&cfg, vms, &mut NullObserver).unwrap();
        assert_eq!(stats.finished, 2);
        assert_eq!(stats.vm_time_area_ns, 6_000_000_000);
    }

    /// A heap entry (16-byte key and the event) stays at two 16-byte words.
    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<super::state::Event>() <= 16);
    }
}
