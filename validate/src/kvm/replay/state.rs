//! The scheduler's state of a replay (`Sched`): the VMs and vCPUs, the admission queue,
//! what runs on each pCPU, and what was measured; its creation, and the creation of a
//! KVM VM with its vCPUs.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;
use sim::policy::{AdmissionPolicy, CpuPolicy};
use sim::{SimTime, SliceEnd};

use super::super::Kicker;
use super::super::vm::{GuestVm, Vcpu};
use super::{Flags, IoReq, ReplayConfig, ReplayResult, Signals};
use crate::error::Error;
use crate::plan::VmPlan;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Status {
    /// Created, its VM not admitted yet.
    Idle,
    Ready,
    Running,
    Blocked,
    /// Parked by its cap (a policy that parks capped vCPUs at its accounting instants:
    /// Xen Credit), until an accounting clears it.
    Parked,
    Done,
}

pub(super) struct VcpuSt {
    pub(super) vm: usize,
    pub(super) index: u32,
    /// The vCPU itself; `None` while an executor runs it, and once it is done.
    pub(super) vcpu: Option<Vcpu>,
    pub(super) flags: Arc<Flags>,
    pub(super) status: Status,
    /// When it became ready (or blocked, while blocked).
    pub(super) ready_since: Instant,
    /// It became ready because it was kicked out (quantum end or preemption).
    pub(super) preempted: bool,
    /// pCPU while running.
    pub(super) pcpu: usize,
    pub(super) dispatch: Instant,
    pub(super) quantum_end: Option<Instant>,
    pub(super) kick_reason: Option<SliceEnd>,
    pub(super) cpu_time: Duration,
    /// Guest work of one compute burst (the vCPU's demand split around its I/O requests).
    pub(super) burst_work: Duration,
    /// Guest work of the bursts it completed.
    pub(super) work_done: Duration,
    /// CPU time in the current burst, over the slices that ended in a kick.
    pub(super) burst_cpu: Duration,
    /// The CPU policy's state word ([`sim::policy::CpuPolicy::uses_state`]).
    pub(super) policy_state: u64,
    /// Guest work the policy has been charged for.
    pub(super) charged: Duration,
    /// It counts in the run queue's sums (`queue_sums`): ready or running.
    pub(super) in_run_queue: bool,
    /// Since it last became ready, another vCPU got a pCPU it could have had (it became
    /// ready with every pCPU busy, or another one was dispatched while it was ready).
    pub(super) waited: bool,
    pub(super) io_queue: VecDeque<Duration>,
}

pub(super) struct VmSt {
    pub(super) admitted: Option<Instant>,
    pub(super) first_run: Option<Instant>,
    pub(super) finish: Option<Instant>,
    pub(super) vcpus_left: u32,
    pub(super) vcpu_ids: Vec<usize>,
    pub(super) guest: Option<GuestVm>,
    pub(super) ready_wait: Duration,
    pub(super) preemptions: u32,
    /// Device service of its I/O requests (without queueing).
    pub(super) io_service: Duration,
    /// Time its vCPUs were blocked on I/O (queueing + service).
    pub(super) io_wait: Duration,
    pub(super) io_requests: u64,
    /// Its vCPUs parked now, since when the first one was, and the time it had a parked
    /// vCPU before (its throttled time).
    pub(super) parked: u32,
    pub(super) parked_since: Option<Instant>,
    pub(super) throttled: Duration,
}

/// The replay's policies, from `sim`'s registry.
pub(super) fn build_policies(cfg: &ReplayConfig) -> Result<Policies, Error> {
    let admission = sim::policy::admission_policy(
        &cfg.admission,
        &sim::policy::AdmissionParams {
            aging_per_s: cfg.aging_per_s,
        },
    )
    .map_err(|e| Error::Host(format!("the KVM replay: {e}")))?;
    let cpu = match &cfg.cpu_params {
        Some((spec, seed, replication)) => sim::policy::configured_cpu_policy(
            &cfg.cpu,
            &sim::policy::CpuParams {
                cpu: spec,
                seed: *seed,
                replication: *replication,
            },
        ),
        None => sim::policy::cpu_policy(&cfg.cpu),
    }
    .map_err(|e| Error::Host(format!("the KVM replay: {e}")))?;
    if cfg.cores.is_empty() {
        return Err(Error::Host("the replay needs at least one pCPU".into()));
    }
    if cpu.time_sliced() && cfg.quantum.is_zero() {
        return Err(Error::Host(format!("{} needs a quantum > 0", cfg.cpu)));
    }
    Ok(Policies { admission, cpu })
}

/// The admission and CPU policies of a replay.
pub(super) struct Policies {
    pub(super) admission: Box<dyn AdmissionPolicy>,
    pub(super) cpu: Box<dyn CpuPolicy>,
}

pub(super) struct Sched<'a> {
    pub(super) plans: &'a [VmPlan],
    pub(super) cfg: &'a ReplayConfig,
    pub(super) policies: Policies,
    /// The replay has started (`t0` set): arrivals count from now on.
    pub(super) started: bool,
    pub(super) t0: Instant,
    pub(super) vms: Vec<VmSt>,
    pub(super) vcpus: Vec<VcpuSt>,
    /// Admission queue (VM indices), in arrival order.
    pub(super) queue: Vec<usize>,
    pub(super) next_arrival: usize,
    pub(super) used_slots: u64,
    /// pCPU → running vCPU.
    pub(super) pcpus: Vec<Option<usize>>,
    /// pCPU → how to kick its executor, and the executor's thread (while it runs).
    pub(super) executors: Vec<Option<(Kicker, std::thread::Thread)>>,
    pub(super) dev_tx: Sender<IoReq>,
    /// Tells the coordinator that the replay finished or failed.
    pub(super) wake: Sender<()>,
    /// Finished VMs, to be destroyed off the pCPUs.
    pub(super) reap: Sender<GuestVm>,
    /// Finished VMs kept until the replay ends (destroyed after it, so that their memory
    /// is not unmapped while other VMs touch theirs), oldest first, and their guest bytes.
    pub(super) graveyard: VecDeque<GuestVm>,
    pub(super) graveyard_bytes: u64,
    pub(super) out: ReplayResult,
    pub(super) finished: usize,
    /// The first error of any thread.
    pub(super) error: Option<Error>,
    /// The accounting period (ns) of a policy that has one
    /// ([`sim::policy::CpuPolicy::accounting_period`]), the last one accounted (multiples
    /// from `t0`), and whether the policy parks capped vCPUs.
    pub(super) account_period: Option<u64>,
    pub(super) account_last: u64,
    pub(super) parks: bool,
    /// The run queue's sums, for a policy that uses its average state
    /// ([`sim::policy::CpuPolicy::uses_queue_average`]; `queue_avg.rs`).
    pub(super) queue_sums: Option<sim::policy::QueueSums>,
    /// When the coordinator wakes up next (it is woken earlier when a dispatch sets an
    /// earlier quantum end).
    pub(super) coordinator_wakes: Option<Instant>,
}

impl<'a> Sched<'a> {
    pub(super) fn new(
        plans: &'a [VmPlan],
        cfg: &'a ReplayConfig,
        policies: Policies,
        dev_tx: Sender<IoReq>,
        wake: Sender<()>,
        reap: Sender<GuestVm>,
    ) -> Sched<'a> {
        let now = Instant::now();
        let account_period = policies.cpu.accounting_period().map(|p| p.nanos().max(1));
        let parks = account_period.is_some() && policies.cpu.parks_capped();
        let queue_sums = (policies.cpu.uses_queue_average() && policies.cpu.uses_state())
            .then(sim::policy::QueueSums::default);
        Sched {
            plans,
            cfg,
            policies,
            started: false,
            t0: now,
            vms: plans
                .iter()
                .map(|p| VmSt {
                    admitted: None,
                    first_run: None,
                    finish: None,
                    vcpus_left: p.vcpus.len() as u32,
                    vcpu_ids: Vec::new(),
                    guest: None,
                    ready_wait: Duration::ZERO,
                    preemptions: 0,
                    io_service: Duration::ZERO,
                    io_wait: Duration::ZERO,
                    io_requests: 0,
                    parked: 0,
                    parked_since: None,
                    throttled: Duration::ZERO,
                })
                .collect(),
            vcpus: Vec::new(),
            queue: Vec::new(),
            next_arrival: 0,
            used_slots: 0,
            pcpus: vec![None; cfg.cores.len()],
            executors: vec![None; cfg.cores.len()],
            dev_tx,
            wake,
            reap,
            graveyard: VecDeque::new(),
            graveyard_bytes: 0,
            out: ReplayResult::default(),
            finished: 0,
            error: None,
            account_period,
            account_last: 0,
            parks,
            queue_sums,
            coordinator_wakes: None,
        }
    }

    pub(super) fn at(&self, t: SimTime) -> Instant {
        self.t0 + Duration::from_nanos(t.nanos())
    }

    pub(super) fn sim_time(&self, t: Instant) -> SimTime {
        SimTime::from_nanos(t.saturating_duration_since(self.t0).as_nanos() as u64)
    }

    /// Stops every thread: executors are kicked out of their guests, the coordinator is
    /// woken up.
    pub(super) fn stop_all(&mut self, sig: &Signals) {
        sig.stop.store(true, Ordering::SeqCst);
        for (k, t) in self.executors.iter().flatten() {
            k.kick();
            t.unpark();
        }
        let _ = self.wake.send(());
    }

    /// Creates the KVM VM of `vm` and its vCPUs (idle until admission).
    pub(super) fn create_vm(&mut self, kvm: &Kvm, vm: usize) -> Result<(), Error> {
        let plan = &self.plans[vm];
        let programs: Vec<_> = plan.vcpus.iter().map(|v| v.program.clone()).collect();
        let (guest, vcpus) = GuestVm::new(kvm, &programs, plan.ws_pages)?;
        self.vms[vm].guest = Some(guest);
        for (i, vcpu) in vcpus.into_iter().enumerate() {
            let id = self.vcpus.len();
            let now = Instant::now();
            let bursts = plan.vcpus[i].io.len() as u64 + 1;
            self.vcpus.push(VcpuSt {
                vm,
                index: i as u32,
                vcpu: Some(vcpu),
                flags: Arc::new(Flags::default()),
                status: Status::Idle,
                ready_since: now,
                preempted: false,
                pcpu: 0,
                dispatch: now,
                quantum_end: None,
                kick_reason: None,
                cpu_time: Duration::ZERO,
                burst_work: Duration::from_nanos(plan.request.demand.nanos() / bursts),
                work_done: Duration::ZERO,
                burst_cpu: Duration::ZERO,
                policy_state: 0,
                charged: Duration::ZERO,
                in_run_queue: false,
                waited: false,
                io_queue: plan.vcpus[i].io.iter().copied().collect(),
            });
            self.vms[vm].vcpu_ids.push(id);
        }
        Ok(())
    }
}
