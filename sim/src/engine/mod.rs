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

mod admission_queue;
mod device;
mod slab;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rand_distr::{Distribution, Exp1};

use crate::error::SimError;
use crate::event::EventQueue;
use crate::model::{
    HeadOfLine, IoBursts, LifecycleAction, LifecycleEvent, Mapping, Placement, SimConfig, VmRequest,
};
use crate::observer::{
    Decision, DeviceSample, HostSample, Observer, SliceEnd, SliceRecord, VmRecord,
};
use crate::policy::{self, AdmissionParams, AdmissionPolicy, CpuPolicy, VcpuView};
use crate::rng::{SimRng, purpose, stream};
use crate::source::VmSource;
use crate::time::SimTime;
use admission_queue::AdmissionQueue;
use device::{Device, Request};
use slab::Slab;

const NONE: u32 = u32::MAX;
/// `Pcpu::running` of a pCPU held by a vCPU on the plain path (see [`Engine::admit_plain`]).
const PLAIN: u32 = u32::MAX - 1;
const NO_LIMIT: u64 = u64::MAX;

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The current segment of the slice on `pcpu` of `host` ends, unless `generation` is
    /// stale.
    SliceEnd {
        host: u32,
        pcpu: u32,
        generation: u32,
    },
    /// A device finishes a request (a slot of `Engine::io_in_flight`: kept out of the event
    /// so that an event, and a heap entry, stays small).
    DeviceDone { request: u32 },
    /// A VM on the plain path (see [`Engine::admit_plain`]) finishes: all its vCPUs end
    /// their only slice at this instant.
    VmDone { slot: u32 },
    /// A scheduled lifecycle event (index into the sorted list).
    Lifecycle { index: u32 },
    /// A timeline sample.
    Sample,
}

/// A device request in service: which host's device, for which vCPU (slot and uid).
#[derive(Clone, Copy, Debug)]
struct InFlight {
    host: u32,
    device: u32,
    vcpu: u32,
    uid: u64,
}

/// The engine's tie-break after a policy's key: earlier arrival, then lower VM id, packed
/// into one integer so a heap step is two integer comparisons.
#[inline]
fn tie(vm: &VmRequest) -> u128 {
    (u128::from(vm.arrival.nanos()) << 64) | u128::from(vm.id)
}

/// A runnable vCPU in a run queue, ordered by (policy key, tie, vCPU index). Entries are
/// removed lazily: one whose `epoch` no longer matches its vCPU's is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ReadyEntry {
    key: u128,
    tie: u128,
    vcpu_index: u32,
    slot: u32,
    uid: u64,
    epoch: u32,
}

impl ReadyEntry {
    fn vm_id(&self) -> u64 {
        self.tie as u64
    }
}

/// A waiting VM in the admission queue, ordered by (policy key, tie).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueEntry {
    key: u128,
    tie: u128,
    slot: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VcpuState {
    Ready,
    Running,
    Blocked {
        fault: bool,
    },
    Paused,
    /// Its work is done; the slot is freed when the whole VM finishes.
    Done,
}

#[derive(Clone, Debug)]
struct Vm {
    req: VmRequest,
    warmup: bool,
    host: u32,
    home_node: u32,
    admission: SimTime,
    first_run: Option<SimTime>,
    vcpus_left: u32,
    /// First vCPU slot (vCPUs of a VM are linked through `Vcpu::next`).
    first_vcpu: u32,
    /// First pCPU held by the VM on the plain path (the rest are linked through
    /// `Pcpu::plain_next`), `NONE` otherwise.
    plain_pcpu: u32,
    paused: bool,
    /// Working set reclaimed by the balloon while paused (MiB).
    ballooned_mib: u64,
    stopped: bool,
    ready_wait: u64,
    io_wait: u64,
    io_service: u64,
    fault_stall: u64,
    fault_service: u64,
    io_requests: u64,
    minor_faults: u64,
    major_faults: u64,
    preemptions: u32,
    migrations: u32,
}

#[derive(Clone, Debug)]
struct Vcpu {
    vm: u32,
    index: u32,
    uid: u64,
    next: u32,
    state: VcpuState,
    /// Guest work left.
    remaining: u64,
    /// Guest work until the next I/O request (`NO_LIMIT` without I/O).
    burst_left: u64,
    /// I/O requests still to issue (`u32::MAX` for exponential bursts).
    io_left: u32,
    /// Guest work until the next major fault (`NO_LIMIT` when none is due); redrawn at
    /// every dispatch.
    fault_in: u64,
    /// Hypervisor work to do before guest work continues (first touch, VM exits).
    overhead_left: u64,
    attained: u64,
    ready_since: SimTime,
    blocked_since: SimTime,
    preempted: bool,
    last_pcpu: u32,
    pin: u32,
    epoch: u32,
}

#[derive(Clone, Debug)]
struct Pcpu {
    running: u32,
    /// When the pCPU was given to the vCPU (switch costs start here).
    dispatch: SimTime,
    /// When guest code of this slice started.
    start: SimTime,
    /// Start of the current constant-rate segment of the slice.
    seg_start: SimTime,
    /// Work the current segment does if it runs to `seg_end`.
    seg_work: u64,
    seg_end: SimTime,
    /// When the quantum expires (`SimTime::MAX` without time slicing).
    quantum_end: SimTime,
    rate: f64,
    last_uid: u64,
    generation: u32,
    node: u32,
    core: u32,
    pinned: u32,
    /// Next pCPU of the same plain-path VM (`NONE` at the end of the chain).
    plain_next: u32,
}

#[derive(Debug)]
struct Host {
    vcpu_cap: u64,
    mem_cap: u64,
    used_vcpus: u64,
    used_mem: u64,
    pcpus: Vec<Pcpu>,
    idle: Vec<u64>,
    idle_count: u32,
    /// One run queue (floating) or one per pCPU (pinned).
    ready: Vec<BinaryHeap<Reverse<ReadyEntry>>>,
    dirty: bool,
    dedicated: bool,
    /// Dedicated, one thread per core, one NUMA node, no translation overhead, floating
    /// vCPUs, no time slicing: a VM without I/O or memory profile runs every vCPU from
    /// admission to its end without a rate change or an interruption.
    plain: bool,
    threads_per_core: u32,
    smt_speed: f64,
    numa_nodes: u32,
    node_mem_used: Vec<u64>,
    node_mem_cap: u64,
    remote_speed: f64,
    translation_speed: f64,
    page_bytes: u64,
    first_touch: u64,
    exit_cost: u64,
    devices: Vec<Device>,
    swap: usize,
    resident_limit_mib: u64,
    balloon: bool,
    working_set_mib: u64,
    admitted: u64,
    blocked: u64,
    busy_count: u32,
    /// ∫ busy pCPUs dt (ns), kept only when a timeline samples it (`track_busy`).
    busy_area: u128,
    track_busy: bool,
    busy_last: SimTime,
    sampled_busy_area: u128,
    swap_ins: u64,
    sampled_swap_ins: u64,
}

impl Host {
    fn set_idle(&mut self, p: u32, idle: bool, now: SimTime) {
        let (w, b) = ((p / 64) as usize, p % 64);
        let was = self.idle[w] >> b & 1 == 1;
        if was != idle {
            if self.track_busy {
                self.busy_area +=
                    u128::from(self.busy_count) * u128::from(now.0 - self.busy_last.0);
                self.busy_last = now;
            }
            self.idle[w] ^= 1 << b;
            if idle {
                self.idle_count += 1;
                self.busy_count -= 1;
            } else {
                self.idle_count -= 1;
                self.busy_count += 1;
            }
        }
    }

    fn is_idle(&self, p: u32) -> bool {
        self.idle[(p / 64) as usize] >> (p % 64) & 1 == 1
    }

    #[inline(always)]
    fn lowest_idle(&self) -> Option<u32> {
        // (Up to 64 pCPUs: one word.)
        if let [w] = self.idle[..] {
            return (w != 0).then(|| w.trailing_zeros());
        }
        self.idle
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i as u32 * 64 + w.trailing_zeros())
    }

    fn lowest_idle_on_node(&self, node: u32) -> Option<u32> {
        (0..self.pcpus.len() as u32)
            .find(|&p| self.pcpus[p as usize].node == node && self.is_idle(p))
    }

    /// Fraction of working sets that fits in memory (1 when all fit).
    fn resident_fraction(&self) -> f64 {
        if self.working_set_mib <= self.resident_limit_mib {
            1.0
        } else {
            self.resident_limit_mib as f64 / self.working_set_mib as f64
        }
    }

    fn queue_of(&self, pin: u32) -> usize {
        if self.ready.len() == 1 {
            0
        } else {
            pin as usize
        }
    }
}

struct Engine<'a, O: Observer> {
    now: SimTime,
    events: EventQueue<Event>,
    hosts: Vec<Host>,
    placement: Placement,
    head_of_line: HeadOfLine,
    admission_policy: Box<dyn AdmissionPolicy>,
    cpu_policy: Box<dyn CpuPolicy>,
    preemptive: bool,
    quantum: Option<u64>,
    context_switch: u64,
    migration: u64,
    mapping: Mapping,
    /// Gang scheduling (see [`crate::model::CpuSpec::gang`]).
    gang: bool,
    warmup_vms: u64,
    queue: AdmissionQueue,
    queue_scratch: Vec<QueueEntry>,
    /// VMs that arrived at the current instant, not yet in `queue`.
    arrived_now: Vec<QueueEntry>,
    admission_dirty: bool,
    /// A VM left the system (capacity freed, or a queued VM gone) since the last
    /// admission pass; otherwise only arrivals happened.
    departed_since_pass: bool,
    dirty_hosts: Vec<u32>,
    vms: Slab<Vm>,
    vcpus: Slab<Vcpu>,
    /// Device requests in service (what a `DeviceDone` event names).
    io_in_flight: Slab<InFlight>,
    next_vcpu_uid: u64,
    in_system: u64,
    last_change: SimTime,
    stats: RunStats,
    observer: &'a mut O,
    want_slices: bool,
    want_decisions: bool,
    rng_io: SimRng,
    rng_paging: SimRng,
    lifecycle: Vec<LifecycleEvent>,
    /// VM id → slot, for VMs that lifecycle events name.
    lifecycle_slots: BTreeMap<u64, u32>,
    timeline: Option<SimTime>,
    arrivals_done: bool,
    sample: HostSample,
    /// The plain path may be taken (no lifecycle events).
    plain_ok: bool,
}

/// Runs `workload` through the cluster of `config`, reporting to `observer`, until every
/// admitted VM has finished. Returns the run's counters.
///
/// Errors: unknown policy names, a zero quantum for a time-sliced policy, a VM with no
/// vCPUs, a workload out of arrival order, an I/O request to a device kind its host lacks.
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
}

impl Default for FastPaths {
    fn default() -> Self {
        FastPaths { plain: true }
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

/// One run of the engine on `source`.
fn run_from<S: VmSource, O: Observer>(
    config: &SimConfig,
    source: S,
    observer: &mut O,
    fast: FastPaths,
) -> Result<RunStats, SimError> {
    let mut engine = Engine::new(config, observer, fast)?;
    engine.run(source)?;
    Ok(engine.stats)
}

fn speed(slowdown: f64, what: &str) -> Result<f64, SimError> {
    if !(0.0..1.0).contains(&slowdown) {
        return Err(SimError::InvalidConfig(format!(
            "{what} must be in [0, 1), got {slowdown}"
        )));
    }
    Ok(1.0 - slowdown)
}

impl<'a, O: Observer> Engine<'a, O> {
    fn new(config: &SimConfig, observer: &'a mut O, fast: FastPaths) -> Result<Self, SimError> {
        let admission_policy = policy::admission_policy(
            &config.admission.policy,
            &AdmissionParams {
                aging_per_s: config.admission.aging_per_s,
            },
        )?;
        let cpu_policy = policy::cpu_policy(&config.cpu.policy)?;
        if config.cluster.hosts.is_empty() {
            return Err(SimError::InvalidConfig("the cluster has no hosts".into()));
        }
        let quantum = if cpu_policy.time_sliced() {
            if config.cpu.quantum == SimTime::ZERO {
                return Err(SimError::InvalidConfig(format!(
                    "cpu policy `{}` needs a quantum > 0",
                    config.cpu.policy
                )));
            }
            Some(config.cpu.quantum.nanos())
        } else {
            None
        };
        if config.cpu.gang {
            if config.cpu.mapping != Mapping::Floating {
                return Err(SimError::InvalidConfig(
                    "gang scheduling needs floating vCPUs (cpu.mapping = \"floating\")".into(),
                ));
            }
            if cpu_policy.preemptive() {
                return Err(SimError::InvalidConfig(format!(
                    "gang scheduling works with non-preemptive policies and rr, not `{}`",
                    config.cpu.policy
                )));
            }
        }
        let mut total_pcpus = 0u64;
        let mut hosts = Vec::with_capacity(config.cluster.hosts.len());
        for (i, h) in config.cluster.hosts.iter().enumerate() {
            if h.pcpus == 0 {
                return Err(SimError::InvalidConfig(format!("host {i} has no pCPUs")));
            }
            let r = &h.resources;
            let tpc = r.threads_per_core.max(1);
            let nodes = r.numa_nodes.clamp(1, h.pcpus);
            if !(r.translation_overhead >= 0.0 && r.translation_overhead.is_finite()) {
                return Err(SimError::InvalidConfig(format!(
                    "host {i}: translation overhead must be ≥ 0, got {}",
                    r.translation_overhead
                )));
            }
            total_pcpus += u64::from(h.pcpus);
            let words = h.pcpus.div_ceil(64) as usize;
            let mut idle = vec![0u64; words];
            for p in 0..h.pcpus {
                idle[(p / 64) as usize] |= 1 << (p % 64);
            }
            let pcpus = (0..h.pcpus)
                .map(|p| Pcpu {
                    running: NONE,
                    dispatch: SimTime::ZERO,
                    start: SimTime::ZERO,
                    seg_start: SimTime::ZERO,
                    seg_work: 0,
                    seg_end: SimTime::ZERO,
                    quantum_end: SimTime::MAX,
                    rate: 1.0,
                    last_uid: u64::MAX,
                    generation: 0,
                    node: (u64::from(p) * u64::from(nodes) / u64::from(h.pcpus)) as u32,
                    core: p / tpc,
                    pinned: 0,
                    plain_next: NONE,
                })
                .collect();
            let mut devices: Vec<Device> = r
                .devices
                .iter()
                .map(|d| Device::new(d.clone(), d.kind.name()))
                .collect();
            let swap = match r.swap_device {
                Some(s) if s < devices.len() => s,
                Some(s) => {
                    return Err(SimError::InvalidConfig(format!(
                        "host {i}: swap device {s} does not exist"
                    )));
                }
                None => {
                    devices.push(Device::new(
                        crate::model::HostResources::default_swap(),
                        "swap",
                    ));
                    devices.len() - 1
                }
            };
            let queues = match config.cpu.mapping {
                Mapping::Floating => 1,
                Mapping::Pinned => h.pcpus as usize,
            };
            let mem_cap = h.memory_capacity_mib();
            hosts.push(Host {
                vcpu_cap: h.vcpu_capacity(),
                mem_cap,
                used_vcpus: 0,
                used_mem: 0,
                pcpus,
                idle,
                idle_count: h.pcpus,
                ready: (0..queues).map(|_| BinaryHeap::new()).collect(),
                dirty: false,
                dedicated: h.vcpu_capacity() <= u64::from(h.pcpus),
                plain: h.vcpu_capacity() <= u64::from(h.pcpus)
                    && tpc == 1
                    && nodes == 1
                    && r.translation_overhead == 0.0
                    && config.cpu.mapping == Mapping::Floating
                    && quantum.is_none(),
                threads_per_core: tpc,
                smt_speed: speed(r.smt_slowdown, "smt_slowdown")?,
                numa_nodes: nodes,
                node_mem_used: vec![0; nodes as usize],
                node_mem_cap: mem_cap / u64::from(nodes),
                remote_speed: speed(r.numa_remote_slowdown, "numa_remote_slowdown")?,
                translation_speed: 1.0 / (1.0 + r.translation_overhead),
                page_bytes: r.page_bytes.max(1),
                first_touch: r.first_touch.nanos(),
                exit_cost: r.exit_cost.nanos(),
                devices,
                swap,
                resident_limit_mib: r.resident_limit_mib.unwrap_or(h.memory_mib),
                balloon: r.balloon,
                working_set_mib: 0,
                admitted: 0,
                blocked: 0,
                busy_count: 0,
                busy_area: 0,
                track_busy: config.timeline_interval.is_some(),
                busy_last: SimTime::ZERO,
                sampled_busy_area: 0,
                swap_ins: 0,
                sampled_swap_ins: 0,
            });
        }
        let mut lifecycle = config.events.clone();
        lifecycle.sort_by_key(|e| e.at);
        let mut events = EventQueue::new();
        for (index, e) in lifecycle.iter().enumerate() {
            events.schedule(
                SimTime::ZERO,
                e.at,
                Event::Lifecycle {
                    index: index as u32,
                },
            )?;
        }
        let lifecycle_slots = lifecycle.iter().map(|e| (e.vm, NONE)).collect();
        let timeline = match config.timeline_interval {
            Some(t) if t == SimTime::ZERO => {
                return Err(SimError::InvalidConfig(
                    "timeline interval must be > 0".into(),
                ));
            }
            Some(t) => {
                events.schedule(SimTime::ZERO, t, Event::Sample)?;
                Some(t)
            }
            None => None,
        };
        let want_slices = observer.wants_slices();
        let want_decisions = observer.wants_decisions();
        let plain_ok = fast.plain && lifecycle.is_empty();
        let arrival_order = admission_policy.arrival_order();
        Ok(Engine {
            now: SimTime::ZERO,
            events,
            hosts,
            placement: config.cluster.placement,
            head_of_line: config.admission.head_of_line,
            preemptive: cpu_policy.preemptive(),
            admission_policy,
            cpu_policy,
            quantum,
            context_switch: config.cpu.context_switch.nanos(),
            migration: config.cpu.migration.nanos(),
            mapping: config.cpu.mapping,
            gang: config.cpu.gang,
            warmup_vms: config.warmup_vms,
            queue: AdmissionQueue::new(arrival_order),
            queue_scratch: Vec::new(),
            arrived_now: Vec::new(),
            admission_dirty: false,
            departed_since_pass: false,
            dirty_hosts: Vec::new(),
            vms: Slab::new(),
            vcpus: Slab::new(),
            io_in_flight: Slab::new(),
            next_vcpu_uid: 0,
            in_system: 0,
            last_change: SimTime::ZERO,
            stats: RunStats {
                total_pcpus,
                ..RunStats::default()
            },
            observer,
            want_slices,
            want_decisions,
            rng_io: stream(config.seed, config.replication, purpose::IO),
            rng_paging: stream(config.seed, config.replication, purpose::PAGING),
            lifecycle,
            lifecycle_slots,
            timeline,
            arrivals_done: false,
            sample: HostSample::default(),
            plain_ok,
        })
    }

    fn run(&mut self, mut workload: impl VmSource) -> Result<(), SimError> {
        loop {
            let t_arrival = workload.peek().map(|v| v.arrival);
            let t_event = self.events.peek_time();
            let t = match (t_arrival, t_event) {
                (None, None) => break,
                (Some(a), None) => a,
                (None, Some(e)) => e,
                (Some(a), Some(e)) => a.min(e),
            };
            self.now = t;
            // 1. Every arrival at t.
            // (The request is read where it lies: one copy, into the VM's slab entry.)
            while let Some(vm) = workload.peek().filter(|v| v.arrival == t) {
                self.arrive(vm)?;
                workload.advance();
                if let Some(v) = workload.peek()
                    && v.arrival < t
                {
                    return Err(SimError::OutOfOrder {
                        id: v.id,
                        arrival: v.arrival.to_string(),
                        previous: t.to_string(),
                    });
                }
            }
            self.arrivals_done = workload.peek().is_none();
            // 2. Every event at t.
            while self.events.peek_time() == Some(t) {
                if let Some((_, ev)) = self.events.pop() {
                    self.handle(ev)?;
                }
            }
            // 3. Decisions.
            if self.admission_dirty {
                self.admission_pass()?;
            }
            while let Some(h) = self.dirty_hosts.pop() {
                self.hosts[h as usize].dirty = false;
                self.dispatch(h)?;
            }
        }
        self.close_vm_time_area();
        Ok(())
    }

    /// Counts an arrival or an event that does something. Samples and cancelled events (a
    /// re-timed or preempted slice's old end) are not counted and do not stretch the
    /// makespan either: it ends at the last instant that counted one.
    #[inline(always)]
    fn count_event(&mut self) {
        self.stats.events += 1;
        self.stats.makespan = self.now;
    }

    /// A VM enters (`delta_up`) or leaves the system. ∫ (VMs in the system) dt up to the
    /// last change is the sum of residence times — each leaving VM adds its own (in
    /// [`Self::finish_vm`]), and [`Self::close_vm_time_area`] adds the part of those still
    /// in the system — which needs no running product.
    #[inline]
    fn count_change(&mut self, delta_up: bool) {
        self.last_change = self.now;
        if delta_up {
            self.in_system += 1;
            self.stats.peak_in_system = self.stats.peak_in_system.max(self.in_system);
        } else {
            self.in_system -= 1;
        }
    }

    /// Adds to `vm_time_area_ns` the residence, up to the last change, of the VMs still in
    /// the system at the end of the run (paused for good, say).
    fn close_vm_time_area(&mut self) {
        if self.in_system == 0 {
            return;
        }
        let last = self.last_change.nanos();
        for vm in self.vms.iter() {
            self.stats.vm_time_area_ns += u128::from(last.saturating_sub(vm.req.arrival.nanos()));
        }
    }

    fn arrive(&mut self, vm: &VmRequest) -> Result<(), SimError> {
        self.count_event();
        let index = self.stats.arrivals;
        self.stats.arrivals += 1;
        if vm.vcpus == 0 {
            return Err(SimError::InvalidVm {
                id: vm.id,
                reason: "has 0 vCPUs".into(),
            });
        }
        let gang = self.gang;
        let fits_somewhere = self.hosts.iter().any(|h| {
            u64::from(vm.vcpus) <= h.vcpu_cap
                && vm.memory_mib <= h.mem_cap
                && (!gang || vm.vcpus as usize <= h.pcpus.len())
        });
        if !fits_somewhere {
            self.stats.rejected += 1;
            let reason = format!(
                "needs {} vCPUs and {} MiB, more than any empty host admits",
                vm.vcpus, vm.memory_mib
            );
            self.observer.on_vm_rejected(vm.id, &reason);
            return Ok(());
        }
        if let Some(io) = vm.profile.io {
            let kind = io.device;
            if !self
                .hosts
                .iter()
                .all(|h| h.devices.iter().any(|d| d.spec.kind == kind))
            {
                return Err(SimError::InvalidVm {
                    id: vm.id,
                    reason: format!("sends I/O to a {} but not every host has one", kind.name()),
                });
            }
        }
        self.count_change(true);
        let entry = QueueEntry {
            key: self.admission_policy.queue_key(vm),
            tie: tie(vm),
            slot: 0,
        };
        let (vcpus, id) = (vm.vcpus, vm.id);
        let warmup = index < self.warmup_vms;
        let slot = self.vms.insert_with(|| Vm {
            req: vm.clone(),
            warmup,
            host: NONE,
            home_node: 0,
            admission: SimTime::ZERO,
            first_run: None,
            vcpus_left: vcpus,
            first_vcpu: NONE,
            plain_pcpu: NONE,
            paused: false,
            ballooned_mib: 0,
            stopped: false,
            ready_wait: 0,
            io_wait: 0,
            io_service: 0,
            fault_stall: 0,
            fault_service: 0,
            io_requests: 0,
            minor_faults: 0,
            major_faults: 0,
            preemptions: 0,
            migrations: 0,
        });
        if !self.lifecycle_slots.is_empty()
            && let Some(s) = self.lifecycle_slots.get_mut(&id)
        {
            *s = slot;
        }
        self.arrived_now.push(QueueEntry { slot, ..entry });
        self.admission_dirty = true;
        Ok(())
    }

    fn handle(&mut self, ev: Event) -> Result<(), SimError> {
        match ev {
            Event::SliceEnd {
                host,
                pcpu,
                generation,
            } => self.slice_end(host, pcpu, generation),
            Event::DeviceDone { request } => match self.io_in_flight.remove(request) {
                Some(r) => self.device_done(r.host, r.device, r.vcpu, r.uid),
                // Each request is scheduled once and removed here once.
                None => Err(SimError::InvalidConfig(format!(
                    "internal: device completion of unknown request {request}"
                ))),
            },
            Event::VmDone { slot } => self.plain_done(slot),
            Event::Lifecycle { index } => self.lifecycle_event(index),
            Event::Sample => self.take_sample(),
        }
    }

    // ----- admission -------------------------------------------------------------------

    /// Which host takes a VM of this size now, by the placement policy.
    #[inline(always)]
    fn place(&self, vcpus: u64, mem: u64) -> Option<u32> {
        let gang = self.gang;
        let fits = |h: &Host| {
            h.used_vcpus.saturating_add(vcpus) <= h.vcpu_cap
                && h.used_mem.saturating_add(mem) <= h.mem_cap
                && (!gang || vcpus <= h.pcpus.len() as u64)
        };
        // One host: every placement rule picks it if it fits.
        if let [only] = &self.hosts[..] {
            return fits(only).then_some(0);
        }
        let mut best: Option<(u32, u64, u64)> = None;
        for (i, h) in self.hosts.iter().enumerate() {
            if !fits(h) {
                continue;
            }
            let free_v = h.vcpu_cap - h.used_vcpus - vcpus;
            let free_m = h.mem_cap - h.used_mem - mem;
            let better = match (self.placement, best) {
                (Placement::FirstFit, _) => return Some(i as u32),
                (_, None) => true,
                (Placement::BestFit, Some((_, bv, bm))) => (free_v, free_m) < (bv, bm),
                (Placement::WorstFit, Some((_, bv, bm))) => (free_v, free_m) > (bv, bm),
            };
            if better {
                best = Some((i as u32, free_v, free_m));
            }
        }
        best.map(|(i, _, _)| i)
    }

    fn admission_pass(&mut self) -> Result<(), SimError> {
        self.admission_dirty = false;
        // VMs stopped while queued leave their entries behind.
        if self.stats.stopped > 0 {
            let vms = &self.vms;
            self.arrived_now.retain(|e| queued_live(vms, e));
        }
        // Fast path: a lone arrival at an empty queue is its head; admit it without the heap.
        if self.queue.is_empty() && self.arrived_now.len() == 1 {
            let e = self.arrived_now[0];
            let vm = &self.vms.get(e.slot).req;
            if let Some(h) = self.place(u64::from(vm.vcpus), vm.memory_mib) {
                self.arrived_now.clear();
                self.admit(e.slot, h)?;
                return Ok(());
            }
        }
        let departed = std::mem::take(&mut self.departed_since_pass);
        // Only arrivals since the last pass, which ended at a head that did not fit; in
        // arrival order they queue behind it, and strict head of line waits for it.
        let head_still_blocked = !departed
            && !self.queue.is_empty()
            && self.queue.arrival_order()
            && self.head_of_line == HeadOfLine::Strict;
        self.queue.join(&mut self.arrived_now);
        self.stats.peak_queue = self.stats.peak_queue.max(self.queue.len() as u64);
        if head_still_blocked {
            return Ok(());
        }
        match self.head_of_line {
            HeadOfLine::Strict => {
                while let Some(head) = self.queue.peek() {
                    // (Only a stop takes a VM out of the queue before admission.)
                    if self.stats.stopped > 0 && !queued_live(&self.vms, &head) {
                        self.queue.pop();
                        continue;
                    }
                    let slot = head.slot;
                    let vm = &self.vms.get(slot).req;
                    match self.place(u64::from(vm.vcpus), vm.memory_mib) {
                        Some(h) => {
                            self.queue.pop();
                            self.admit(slot, h)?;
                        }
                        None => break,
                    }
                }
            }
            HeadOfLine::SkipAhead => {
                let mut scratch = std::mem::take(&mut self.queue_scratch);
                while let Some(e) = self.queue.pop() {
                    if self.stats.stopped > 0 && !queued_live(&self.vms, &e) {
                        continue;
                    }
                    let vm = &self.vms.get(e.slot).req;
                    match self.place(u64::from(vm.vcpus), vm.memory_mib) {
                        Some(h) => self.admit(e.slot, h)?,
                        None => scratch.push(e),
                    }
                    if self.hosts.iter().all(|h| h.used_vcpus >= h.vcpu_cap) {
                        break;
                    }
                }
                self.queue.put_back(&mut scratch);
                self.queue_scratch = scratch;
            }
        }
        Ok(())
    }

    /// Admits queued VM `slot` to host `h` (which has room for it).
    fn admit(&mut self, slot: u32, h: u32) -> Result<(), SimError> {
        let vm = self.vms.get(slot);
        if self.plain_ok
            && self.hosts[h as usize].plain
            && vm.req.profile.io.is_none()
            && vm.req.profile.memory.is_none()
            && !vm.paused
        {
            self.admit_plain(slot, h)
        } else {
            self.admit_general(slot, h)
        }
    }

    /// Books VM `slot` onto host `h`: its host and admission time, the host's vCPU slots
    /// and memory.
    #[inline(always)]
    fn reserve(&mut self, slot: u32, h: u32) {
        let vm = self.vms.get_mut(slot);
        vm.host = h;
        vm.admission = self.now;
        let (vcpus, mem) = (vm.req.vcpus, vm.req.memory_mib);
        let host = &mut self.hosts[h as usize];
        host.used_vcpus = host.used_vcpus.saturating_add(u64::from(vcpus));
        host.used_mem = host.used_mem.saturating_add(mem);
        host.admitted += 1;
    }

    /// [`Self::admit`] off the plain path: vCPUs, run queues, first touch, I/O bursts.
    #[inline(never)]
    fn admit_general(&mut self, slot: u32, h: u32) -> Result<(), SimError> {
        let now = self.now;
        let mapping = self.mapping;
        self.reserve(slot, h);
        let host = &mut self.hosts[h as usize];
        let vm = self.vms.get_mut(slot);
        let (vcpus, mem, demand) = (vm.req.vcpus, vm.req.memory_mib, vm.req.demand.nanos());
        // Home NUMA node: the one with the most free memory (lowest number on ties).
        let mut home = 0u32;
        if host.numa_nodes > 1 {
            let mut best_free = 0u64;
            for n in 0..host.numa_nodes {
                let free = host
                    .node_mem_cap
                    .saturating_sub(host.node_mem_used[n as usize]);
                if n == 0 || free > best_free {
                    best_free = free;
                    home = n;
                }
            }
            host.node_mem_used[home as usize] += mem;
        }
        vm.home_node = home;
        // First touch: the working set is mapped page by page, a cost shared by the vCPUs.
        let (mut touch_per_vcpu, mut touch_extra) = (0u64, 0u64);
        if let Some(m) = vm.req.profile.memory {
            host.working_set_mib = host.working_set_mib.saturating_add(m.working_set_mib);
            let pages = (m.working_set_mib.saturating_mul(1 << 20)).div_ceil(host.page_bytes);
            vm.minor_faults = pages;
            self.stats.minor_faults += pages;
            let cost = pages.saturating_mul(host.first_touch);
            vm.fault_service = vm.fault_service.saturating_add(cost);
            vm.fault_stall = vm.fault_stall.saturating_add(cost);
            touch_per_vcpu = cost / u64::from(vcpus);
            touch_extra = cost % u64::from(vcpus);
        }
        let io_bursts = vm.req.profile.io.map(|io| io.bursts);
        let paused = vm.paused;
        let mut prev = NONE;
        for index in (0..vcpus).rev() {
            let uid = self.next_vcpu_uid;
            self.next_vcpu_uid += 1;
            let host = &mut self.hosts[h as usize];
            let pin = match mapping {
                Mapping::Floating => NONE,
                Mapping::Pinned => {
                    // Fewest pinned vCPUs on the home node, lowest number on ties.
                    let mut best = 0u32;
                    let mut best_key = (true, u32::MAX);
                    for (p, pc) in host.pcpus.iter().enumerate() {
                        let key = (pc.node != home, pc.pinned);
                        if key < best_key {
                            best_key = key;
                            best = p as u32;
                        }
                    }
                    host.pcpus[best as usize].pinned += 1;
                    best
                }
            };
            let (burst_left, io_left) = match io_bursts {
                Some(IoBursts::Exponential(mean)) => {
                    (draw_exp(&mut self.rng_io, mean.nanos()), u32::MAX)
                }
                Some(IoBursts::Count(n)) if n > 0 => (demand / (u64::from(n) + 1), n),
                _ => (NO_LIMIT, 0),
            };
            let v = self.vcpus.insert(Vcpu {
                vm: slot,
                index,
                uid,
                next: prev,
                state: if paused {
                    VcpuState::Paused
                } else {
                    VcpuState::Ready
                },
                remaining: demand,
                burst_left,
                io_left,
                fault_in: NO_LIMIT,
                overhead_left: touch_per_vcpu + if index == 0 { touch_extra } else { 0 },
                attained: 0,
                ready_since: now,
                blocked_since: now,
                preempted: false,
                last_pcpu: NONE,
                pin,
                epoch: 0,
            });
            prev = v;
        }
        self.vms.get_mut(slot).first_vcpu = prev;
        if self.vms.get(slot).req.profile.memory.is_some() {
            self.repage(h)?;
        }
        if paused {
            return Ok(());
        }
        let mut v = prev;
        while v != NONE {
            let next = self.vcpus.get(v).next;
            let host = &self.hosts[h as usize];
            match host.lowest_idle() {
                // No competition for pCPUs on a dedicated host: every admitted vCPU starts
                // at once on the lowest idle pCPU, in admission order.
                Some(p)
                    if host.dedicated && mapping == Mapping::Floating && host.numa_nodes == 1 =>
                {
                    self.vcpus.get_mut(v).state = VcpuState::Running;
                    if self.want_decisions {
                        let index = self.vcpus.get(v).index;
                        self.decide_alone(h, p, slot, index);
                    }
                    self.start(h, p, v)?;
                }
                _ => self.enqueue_ready(h, v),
            }
            v = next;
        }
        Ok(())
    }

    /// The plain path: on a [`Host::plain`] host, a VM without I/O or memory profile runs
    /// each vCPU on its own pCPU from admission (after the context switch) to admission +
    /// switch + demand, untouched by anything else. So its vCPUs get no run-queue entries,
    /// segments or slice events: one `VmDone` event ends them all. Everything observable —
    /// slices, counters, the pCPUs chosen (lowest idle first, vCPU 0 first), the order of
    /// events — is what the general path gives (a test pins the outputs byte for byte).
    #[inline(always)]
    fn admit_plain(&mut self, slot: u32, h: u32) -> Result<(), SimError> {
        let now = self.now;
        let cs = self.context_switch;
        let start = SimTime(now.nanos().saturating_add(cs));
        // (A plain host has one NUMA node: the home node stays 0.)
        self.reserve(slot, h);
        let vm = self.vms.get_mut(slot);
        vm.first_run = Some(start);
        let (vcpus, id) = (vm.req.vcpus, vm.req.id);
        let end = SimTime(start.nanos().saturating_add(vm.req.demand.nanos()));
        let mut first = NONE;
        let mut prev = NONE;
        for index in 0..vcpus {
            let host = &mut self.hosts[h as usize];
            // A dedicated host has a pCPU for every vCPU it admitted.
            let Some(p) = host.lowest_idle() else {
                return Err(SimError::InvalidConfig(format!(
                    "internal: no idle pCPU on dedicated host {h} for VM {id}"
                )));
            };
            let pc = &mut host.pcpus[p as usize];
            pc.running = PLAIN;
            pc.dispatch = now;
            pc.start = start;
            pc.last_uid = self.next_vcpu_uid;
            pc.plain_next = NONE;
            pc.generation = pc.generation.wrapping_add(1);
            self.next_vcpu_uid += 1;
            if prev == NONE {
                first = p;
            } else {
                host.pcpus[prev as usize].plain_next = p;
            }
            prev = p;
            host.set_idle(p, false, now);
            if cs > 0 {
                self.stats.context_switches += 1;
            }
            self.decide_alone(h, p, slot, index);
        }
        self.vms.get_mut(slot).plain_pcpu = first;
        self.events.schedule(now, end, Event::VmDone { slot })
    }

    /// The end of a plain-path VM: each vCPU's slice ends (vCPU 0 first), then the VM.
    fn plain_done(&mut self, slot: u32) -> Result<(), SimError> {
        let now = self.now;
        let vm = self.vms.get(slot);
        let (h, id, demand) = (vm.host, vm.req.id, vm.req.demand.nanos());
        let mut p = vm.plain_pcpu;
        let mut index = 0u32;
        while p != NONE {
            self.count_event();
            self.stats.work_ns += u128::from(demand);
            let host = &mut self.hosts[h as usize];
            let pc = &mut host.pcpus[p as usize];
            let next = pc.plain_next;
            self.stats.busy_ns += u128::from(now.nanos() - pc.dispatch.nanos());
            let (dispatch, start) = (pc.dispatch, pc.start.min(now));
            pc.running = NONE;
            pc.plain_next = NONE;
            pc.generation = pc.generation.wrapping_add(1);
            host.set_idle(p, true, now);
            if self.want_slices {
                self.observer.on_slice(&SliceRecord {
                    host: h,
                    pcpu: p,
                    vm: id,
                    vcpu: index,
                    dispatch,
                    start,
                    end: now,
                    reason: SliceEnd::Finished,
                });
            }
            index += 1;
            p = next;
        }
        if !self.hosts[h as usize].ready[0].is_empty() {
            self.mark_dirty(h);
        }
        self.finish_vm(slot);
        Ok(())
    }

    // ----- run queues and dispatch -------------------------------------------------------

    fn view(&self, v: &Vcpu, running_work: u64) -> VcpuView {
        let vm = &self.vms.get(v.vm).req;
        VcpuView {
            vm: vm.id,
            priority: vm.priority,
            arrival: vm.arrival,
            estimate: vm.estimate,
            attained: SimTime(v.attained + running_work),
            ready_since: v.ready_since,
            preempted: v.preempted,
        }
    }

    fn enqueue_ready(&mut self, h: u32, v: u32) {
        let vcpu = self.vcpus.get(v);
        let key = self.cpu_policy.ready_key(&self.view(vcpu, 0));
        let vm = &self.vms.get(vcpu.vm).req;
        let entry = ReadyEntry {
            key,
            tie: tie(vm),
            vcpu_index: vcpu.index,
            slot: v,
            uid: vcpu.uid,
            epoch: vcpu.epoch,
        };
        let host = &mut self.hosts[h as usize];
        let q = host.queue_of(vcpu.pin);
        host.ready[q].push(Reverse(entry));
        self.mark_dirty(h);
    }

    fn mark_dirty(&mut self, h: u32) {
        let host = &mut self.hosts[h as usize];
        if !host.dirty {
            host.dirty = true;
            self.dirty_hosts.push(h);
        }
    }

    /// The best live entry of run queue `q`, discarding stale ones.
    fn top_ready(&mut self, h: u32, q: usize) -> Option<ReadyEntry> {
        loop {
            let &Reverse(top) = self.hosts[h as usize].ready[q].peek()?;
            let live = self.vcpus.try_get(top.slot).is_some_and(|v| {
                v.uid == top.uid && v.epoch == top.epoch && v.state == VcpuState::Ready
            });
            if live {
                return Some(top);
            }
            self.hosts[h as usize].ready[q].pop();
        }
    }

    /// The ordering entry of the vCPU running on `p` (its key with the work done so far).
    fn running_entry(&self, h: u32, p: u32) -> Option<ReadyEntry> {
        let pc = &self.hosts[h as usize].pcpus[p as usize];
        if pc.running == NONE || pc.running == PLAIN {
            return None;
        }
        let v = self.vcpus.get(pc.running);
        let key = self
            .cpu_policy
            .ready_key(&self.view(v, guest_part(v, segment_work(pc, self.now))));
        let vm = &self.vms.get(v.vm).req;
        Some(ReadyEntry {
            key,
            tie: tie(vm),
            vcpu_index: v.index,
            slot: pc.running,
            uid: v.uid,
            epoch: v.epoch,
        })
    }

    fn dispatch(&mut self, h: u32) -> Result<(), SimError> {
        let queues = self.hosts[h as usize].ready.len();
        if queues == 1 {
            self.dispatch_queue(h, 0, None)
        } else {
            for p in 0..queues as u32 {
                self.dispatch_queue(h, p as usize, Some(p))?;
            }
            Ok(())
        }
    }

    /// Dispatches from run queue `q` onto any pCPU (`only = None`) or onto pCPU `only`.
    fn dispatch_queue(&mut self, h: u32, q: usize, only: Option<u32>) -> Result<(), SimError> {
        let mut preempted_vm = None;
        loop {
            let Some(top) = self.top_ready(h, q) else {
                return Ok(());
            };
            let host = &self.hosts[h as usize];
            let target = match only {
                Some(p) => host.is_idle(p).then_some(p),
                None if host.idle_count > 0 => self.idle_pcpu_for(h, top.slot),
                None => None,
            };
            if let Some(p) = target {
                let gang = self.gang && self.vms.get(self.vcpus.get(top.slot).vm).req.vcpus > 1;
                if gang {
                    let ready = self.ready_siblings(top.slot);
                    if ready > self.hosts[h as usize].idle_count {
                        // The gang waits for enough idle pCPUs; those behind it wait too.
                        return Ok(());
                    }
                }
                if self.want_decisions {
                    self.decide(h, q, p, top, preempted_vm.take());
                }
                self.hosts[h as usize].ready[q].pop();
                self.set_state(top.slot, VcpuState::Running);
                self.start(h, p, top.slot)?;
                if gang {
                    self.start_siblings(h, q, top.slot)?;
                }
                continue;
            }
            if !self.preemptive {
                return Ok(());
            }
            // The least urgent running vCPU: largest (key, arrival, id, index).
            let candidates = match only {
                Some(p) => p..p + 1,
                None => 0..self.hosts[h as usize].pcpus.len() as u32,
            };
            let mut worst: Option<(ReadyEntry, u32)> = None;
            for p in candidates {
                if let Some(e) = self.running_entry(h, p)
                    && worst.is_none_or(|(w, _)| e > w)
                {
                    worst = Some((e, p));
                }
            }
            match worst {
                Some((w, p)) if top.key < w.key => {
                    preempted_vm = Some(w.vm_id());
                    self.preempt(h, p, SliceEnd::Preempted);
                    // The pCPU is idle now; the loop dispatches `top` onto it.
                }
                _ => return Ok(()),
            }
        }
    }

    /// Reports (when a decision trace is asked for) a vCPU started at admission on a
    /// dedicated host: nothing competed for the pCPU.
    fn decide_alone(&mut self, h: u32, p: u32, vm_slot: u32, vcpu_index: u32) {
        if self.want_decisions {
            let d = Decision {
                time: self.now,
                host: h,
                pcpu: p,
                chosen: self.vms.get(vm_slot).req.id,
                vcpu: vcpu_index,
                passed_over: Vec::new(),
                preempted: None,
            };
            self.observer.on_decision(&d);
        }
    }

    /// The idle pCPU of floating host `h` that vCPU `v` would take: the one it last ran on,
    /// else the lowest idle one on its VM's home node, else the lowest idle one.
    fn idle_pcpu_for(&self, h: u32, v: u32) -> Option<u32> {
        let host = &self.hosts[h as usize];
        let vcpu = self.vcpus.get(v);
        let last = vcpu.last_pcpu;
        if last != NONE && host.is_idle(last) {
            Some(last)
        } else if host.numa_nodes > 1 {
            let home = self.vms.get(vcpu.vm).home_node;
            host.lowest_idle_on_node(home)
                .or_else(|| host.lowest_idle())
        } else {
            host.lowest_idle()
        }
    }

    /// Ready vCPUs of the VM of vCPU `v` (itself included when ready).
    fn ready_siblings(&self, v: u32) -> u32 {
        let mut w = self.vms.get(self.vcpus.get(v).vm).first_vcpu;
        let mut n = 0;
        while w != NONE {
            let x = self.vcpus.get(w);
            n += u32::from(x.state == VcpuState::Ready);
            w = x.next;
        }
        n
    }

    /// Gang scheduling: starts every other ready vCPU of the VM of `v` (just started) at
    /// the same instant, each on an idle pCPU (its last one if idle, else the lowest idle
    /// on the VM's home node, else the lowest idle). Their run-queue entries go stale.
    fn start_siblings(&mut self, h: u32, q: usize, v: u32) -> Result<(), SimError> {
        let vm_slot = self.vcpus.get(v).vm;
        let mut w = self.vms.get(vm_slot).first_vcpu;
        while w != NONE {
            let (next, state, index, uid, epoch) = {
                let x = self.vcpus.get(w);
                (x.next, x.state, x.index, x.uid, x.epoch)
            };
            if state == VcpuState::Ready {
                // The caller checked that the gang's ready vCPUs all have an idle pCPU.
                let Some(p) = self.idle_pcpu_for(h, w) else {
                    return Err(SimError::InvalidConfig(format!(
                        "internal: no idle pCPU for a gang sibling on host {h}"
                    )));
                };
                if self.want_decisions {
                    let vm = &self.vms.get(vm_slot).req;
                    let entry = ReadyEntry {
                        key: 0,
                        tie: tie(vm),
                        vcpu_index: index,
                        slot: w,
                        uid,
                        epoch,
                    };
                    self.decide(h, q, p, entry, None);
                }
                self.set_state(w, VcpuState::Running);
                self.start(h, p, w)?;
            }
            w = next;
        }
        Ok(())
    }

    fn decide(&mut self, h: u32, q: usize, p: u32, top: ReadyEntry, preempted: Option<u64>) {
        let mut others: Vec<ReadyEntry> = self.hosts[h as usize].ready[q]
            .iter()
            .map(|r| r.0)
            .filter(|e| {
                e.slot != top.slot
                    && self.vcpus.try_get(e.slot).is_some_and(|v| {
                        v.uid == e.uid && v.epoch == e.epoch && v.state == VcpuState::Ready
                    })
            })
            .collect();
        others.sort();
        let d = Decision {
            time: self.now,
            host: h,
            pcpu: p,
            chosen: top.vm_id(),
            vcpu: top.vcpu_index,
            passed_over: others.iter().map(|e| e.vm_id()).collect(),
            preempted,
        };
        self.observer.on_decision(&d);
    }

    /// The one place a vCPU changes state (besides creation and removal).
    fn set_state(&mut self, v: u32, state: VcpuState) {
        let vcpu = self.vcpus.get_mut(v);
        if vcpu.state == VcpuState::Ready && state != VcpuState::Ready {
            // Any run-queue entry of the vCPU is stale from now on.
            vcpu.epoch = vcpu.epoch.wrapping_add(1);
        }
        vcpu.state = state;
    }

    /// The rate at which the vCPU `v` runs on pCPU `p` now.
    #[inline]
    fn rate(&self, h: u32, p: u32, v: u32) -> f64 {
        let host = &self.hosts[h as usize];
        let mut rate = host.translation_speed;
        if host.numa_nodes == 1 && host.threads_per_core == 1 {
            return rate;
        }
        if host.numa_nodes > 1 {
            let home = self.vms.get(self.vcpus.get(v).vm).home_node;
            if host.pcpus[p as usize].node != home {
                rate *= host.remote_speed;
            }
        }
        if host.threads_per_core > 1 && sibling_busy(host, p) {
            rate *= host.smt_speed;
        }
        rate
    }

    fn start(&mut self, h: u32, p: u32, v: u32) -> Result<(), SimError> {
        let now = self.now;
        // Major faults: with resident fraction f < 1, each touch misses with probability
        // 1 − f; misses form a Poisson process in CPU work (redrawn at every dispatch,
        // which the memorylessness of the exponential allows).
        let vm_slot = self.vcpus.get(v).vm;
        let fault_in = self.draw_fault_in(h, vm_slot);
        let rate = self.rate(h, p, v);
        let (cs, mig) = {
            let pcpu = &self.hosts[h as usize].pcpus[p as usize];
            let vcpu = self.vcpus.get(v);
            let cs = if pcpu.last_uid == vcpu.uid {
                0
            } else {
                self.context_switch
            };
            let mig = vcpu.last_pcpu != NONE && vcpu.last_pcpu != p;
            (cs, mig)
        };
        if cs > 0 {
            self.stats.context_switches += 1;
        }
        let mig_cost = if mig {
            self.stats.migrations += 1;
            self.vms.get_mut(vm_slot).migrations += 1;
            self.migration
        } else {
            0
        };
        let start = SimTime(now.nanos().saturating_add(cs).saturating_add(mig_cost));
        let quantum_end = match self.quantum {
            Some(q) => SimTime(start.nanos().saturating_add(q)),
            None => SimTime::MAX,
        };
        let vcpu = self.vcpus.get_mut(v);
        vcpu.fault_in = fault_in;
        let waited = now.nanos() - vcpu.ready_since.nanos();
        vcpu.last_pcpu = p;
        let uid = vcpu.uid;
        let vm = self.vms.get_mut(vm_slot);
        vm.ready_wait += waited;
        if vm.first_run.is_none() {
            vm.first_run = Some(start);
        }
        let host = &mut self.hosts[h as usize];
        let pcpu = &mut host.pcpus[p as usize];
        pcpu.running = v;
        pcpu.dispatch = now;
        pcpu.start = start;
        pcpu.last_uid = uid;
        pcpu.quantum_end = quantum_end;
        host.set_idle(p, false, now);
        self.plan_segment(h, p, start, rate)?;
        if self.hosts[h as usize].threads_per_core > 1 {
            self.retime_siblings(h, p)?;
        }
        Ok(())
    }

    /// Guest work until the next major fault of a vCPU of `vm_slot` on host `h`: with
    /// resident fraction f < 1, each touch misses with probability 1 − f, so misses form a
    /// Poisson process in CPU work. Redrawn at every dispatch and whenever f changes, which
    /// the memorylessness of the exponential allows.
    fn draw_fault_in(&mut self, h: u32, vm_slot: u32) -> u64 {
        match self.vms.get(vm_slot).req.profile.memory {
            Some(m) if m.touches_per_ms > 0.0 => {
                let miss = 1.0 - self.hosts[h as usize].resident_fraction();
                if miss > 0.0 {
                    let per_ns = m.touches_per_ms / 1e6 * miss;
                    let x: f64 = Exp1.sample(&mut self.rng_paging);
                    ceil_u64(x / per_ns)
                        .min((NO_LIMIT as f64 / 2.0) as u64)
                        .max(1)
                } else {
                    NO_LIMIT
                }
            }
            _ => NO_LIMIT,
        }
    }

    /// The host's resident fraction changed: redraw the time to the next fault of every
    /// running vCPU that touches memory, and re-plan its slice.
    fn repage(&mut self, h: u32) -> Result<(), SimError> {
        for p in 0..self.hosts[h as usize].pcpus.len() as u32 {
            let v = self.hosts[h as usize].pcpus[p as usize].running;
            if v == NONE || v == PLAIN {
                continue;
            }
            let vm_slot = self.vcpus.get(v).vm;
            if self.vms.get(vm_slot).req.profile.memory.is_none() {
                continue;
            }
            self.settle_segment(h, p);
            let fault_in = self.draw_fault_in(h, vm_slot);
            self.vcpus.get_mut(v).fault_in = fault_in;
            let pc = &self.hosts[h as usize].pcpus[p as usize];
            let (from, rate) = (self.now.max(pc.seg_start), pc.rate);
            self.plan_segment(h, p, from, rate)?;
        }
        Ok(())
    }

    /// Plans the next constant-rate segment of the slice on `p` from `from` and schedules
    /// its end.
    fn plan_segment(&mut self, h: u32, p: u32, from: SimTime, rate: f64) -> Result<(), SimError> {
        let now = self.now;
        let host = &mut self.hosts[h as usize];
        let pcpu = &mut host.pcpus[p as usize];
        let v = self.vcpus.get(pcpu.running);
        let guest = v.remaining.min(v.burst_left).min(v.fault_in);
        let work = v.overhead_left.saturating_add(guest);
        let mut wall = wall_for(work, rate);
        let mut seg_work = work;
        let room = pcpu.quantum_end.nanos().saturating_sub(from.nanos());
        if wall > room {
            wall = room;
            seg_work = work_for(room, rate).min(work);
        }
        pcpu.seg_start = from;
        pcpu.seg_work = seg_work;
        pcpu.seg_end = SimTime(from.nanos().saturating_add(wall));
        pcpu.rate = rate;
        pcpu.generation = pcpu.generation.wrapping_add(1);
        let event = Event::SliceEnd {
            host: h,
            pcpu: p,
            generation: pcpu.generation,
        };
        let at = pcpu.seg_end;
        self.events.schedule(now, at, event)
    }

    /// Applies the work of the current segment of `p` up to now to its vCPU.
    fn settle_segment(&mut self, h: u32, p: u32) {
        let now = self.now;
        let pcpu = &mut self.hosts[h as usize].pcpus[p as usize];
        let work = segment_work(pcpu, now);
        pcpu.seg_work -= work;
        pcpu.seg_start = now.max(pcpu.seg_start);
        let v = pcpu.running;
        let vcpu = self.vcpus.get_mut(v);
        let o = work.min(vcpu.overhead_left);
        vcpu.overhead_left -= o;
        let g = (work - o).min(vcpu.remaining);
        vcpu.remaining -= g;
        vcpu.attained += g;
        if vcpu.burst_left != NO_LIMIT {
            vcpu.burst_left -= g.min(vcpu.burst_left);
        }
        if vcpu.fault_in != NO_LIMIT {
            vcpu.fault_in -= g.min(vcpu.fault_in);
        }
        self.stats.work_ns += u128::from(g);
        self.stats.overhead_ns += u128::from(o);
    }

    /// A sibling of `p` changed between busy and idle: re-plan the running siblings at
    /// their new rates.
    fn retime_siblings(&mut self, h: u32, p: u32) -> Result<(), SimError> {
        let host = &self.hosts[h as usize];
        let tpc = host.threads_per_core;
        let core = host.pcpus[p as usize].core;
        for q in core * tpc..(core * tpc + tpc).min(host.pcpus.len() as u32) {
            let pc = &self.hosts[h as usize].pcpus[q as usize];
            if q == p || pc.running == NONE {
                continue;
            }
            let new_rate = self.rate(h, q, pc.running);
            if new_rate != pc.rate {
                self.settle_segment(h, q);
                let from = self
                    .now
                    .max(self.hosts[h as usize].pcpus[q as usize].seg_start);
                self.plan_segment(h, q, from, new_rate)?;
            }
        }
        Ok(())
    }

    /// Takes the vCPU running on `p` off it, accounting its work, and returns its slot.
    fn take_off(&mut self, h: u32, p: u32, reason: SliceEnd) -> Result<u32, SimError> {
        self.settle_segment(h, p);
        self.release(h, p, reason)
    }

    /// [`Engine::take_off`] for a segment already settled up to now.
    fn release(&mut self, h: u32, p: u32, reason: SliceEnd) -> Result<u32, SimError> {
        let now = self.now;
        let host = &mut self.hosts[h as usize];
        let pcpu = &mut host.pcpus[p as usize];
        let v = pcpu.running;
        self.stats.busy_ns += u128::from(now.nanos() - pcpu.dispatch.nanos());
        let (dispatch, start) = (pcpu.dispatch, pcpu.start.min(now));
        pcpu.running = NONE;
        pcpu.generation = pcpu.generation.wrapping_add(1);
        host.set_idle(p, true, now);
        if self.want_slices {
            let vcpu = self.vcpus.get(v);
            let s = SliceRecord {
                host: h,
                pcpu: p,
                vm: self.vms.get(vcpu.vm).req.id,
                vcpu: vcpu.index,
                dispatch,
                start,
                end: now,
                reason,
            };
            self.observer.on_slice(&s);
        }
        self.mark_dirty(h);
        if self.hosts[h as usize].threads_per_core > 1 {
            self.retime_siblings(h, p)?;
        }
        Ok(v)
    }

    /// Takes a running vCPU off before its slice ends and puts it back in its run queue.
    fn preempt(&mut self, h: u32, p: u32, reason: SliceEnd) {
        // Retiming only fails on scheduling into the past, which cannot happen here.
        let Ok(v) = self.take_off(h, p, reason) else {
            return;
        };
        self.stats.preemptions += 1;
        self.requeue(h, v);
    }

    fn requeue(&mut self, h: u32, v: u32) {
        let vcpu = self.vcpus.get_mut(v);
        vcpu.ready_since = self.now;
        vcpu.preempted = true;
        let vm = vcpu.vm;
        self.vms.get_mut(vm).preemptions += 1;
        self.set_state(v, VcpuState::Ready);
        self.enqueue_ready(h, v);
    }

    fn slice_end(&mut self, h: u32, p: u32, generation: u32) -> Result<(), SimError> {
        let pcpu = &self.hosts[h as usize].pcpus[p as usize];
        if pcpu.generation != generation || pcpu.running == NONE {
            return Ok(()); // cancelled by a preemption or a retiming
        }
        let v = pcpu.running;
        self.count_event();
        self.settle_segment(h, p);
        let vcpu = self.vcpus.get(v);
        let reason = if vcpu.remaining == 0 && vcpu.overhead_left == 0 {
            SliceEnd::Finished
        } else if vcpu.overhead_left == 0 && (vcpu.burst_left == 0 || vcpu.fault_in == 0) {
            SliceEnd::Blocked
        } else {
            SliceEnd::Quantum
        };
        let v = self.release(h, p, reason)?;
        match reason {
            SliceEnd::Finished => self.vcpu_finished(v),
            SliceEnd::Blocked => self.block(h, v)?,
            _ => {
                self.stats.preemptions += 1;
                self.requeue(h, v);
            }
        }
        Ok(())
    }

    // ----- devices ----------------------------------------------------------------------

    /// The vCPU `v` reached the end of a CPU burst (I/O) or a major fault.
    fn block(&mut self, h: u32, v: u32) -> Result<(), SimError> {
        let now = self.now;
        let vcpu = self.vcpus.get(v);
        let fault = vcpu.burst_left != 0;
        let vm_slot = vcpu.vm;
        let uid = vcpu.uid;
        let host = &mut self.hosts[h as usize];
        let (device, bytes) = if fault {
            (host.swap, host.page_bytes as f64)
        } else {
            let Some(io) = self.vms.get(vm_slot).req.profile.io else {
                return Err(SimError::InvalidConfig(
                    "I/O block without an I/O profile".into(),
                ));
            };
            let d = host
                .devices
                .iter()
                .position(|d| d.spec.kind == io.device)
                .unwrap_or(host.swap);
            let x: f64 = Exp1.sample(&mut self.rng_io);
            (d, io.size_mean_bytes.max(0.0) * x)
        };
        let service = host.devices[device].spec.service_time(bytes);
        host.blocked += 1;
        let vm = self.vms.get_mut(vm_slot);
        if fault {
            vm.major_faults += 1;
            vm.fault_service = vm.fault_service.saturating_add(service.nanos());
            self.stats.major_faults += 1;
            host.swap_ins += 1;
        } else {
            vm.io_requests += 1;
            vm.io_service = vm.io_service.saturating_add(service.nanos());
            self.stats.io_requests += 1;
        }
        let io = vm.req.profile.io;
        let vm_demand = vm.req.demand.nanos();
        let vcpu = self.vcpus.get_mut(v);
        vcpu.blocked_since = now;
        if fault {
            vcpu.fault_in = NO_LIMIT;
        } else if let Some(io) = io {
            // The next burst, and the VM exits this request costs, paid when it resumes.
            vcpu.burst_left = match io.bursts {
                IoBursts::Exponential(mean) => draw_exp(&mut self.rng_io, mean.nanos()),
                IoBursts::Count(n) => {
                    vcpu.io_left = vcpu.io_left.saturating_sub(1);
                    if vcpu.io_left == 0 {
                        NO_LIMIT
                    } else {
                        vcpu.remaining.min(vm_demand / (u64::from(n) + 1))
                    }
                }
            };
            vcpu.overhead_left = vcpu
                .overhead_left
                .saturating_add(io.virtual_device.exits().saturating_mul(host.exit_cost));
        }
        self.set_state(v, VcpuState::Blocked { fault });
        let request = Request {
            vcpu: v,
            uid,
            service,
        };
        if let Some(r) = self.hosts[h as usize].devices[device].submit(now, request) {
            self.start_request(h, device as u32, r)?;
        }
        Ok(())
    }

    fn start_request(&mut self, h: u32, device: u32, r: Request) -> Result<(), SimError> {
        let at = self.now.saturating_add(r.service);
        let request = self.io_in_flight.insert(InFlight {
            host: h,
            device,
            vcpu: r.vcpu,
            uid: r.uid,
        });
        self.events
            .schedule(self.now, at, Event::DeviceDone { request })
    }

    fn device_done(&mut self, h: u32, device: u32, v: u32, uid: u64) -> Result<(), SimError> {
        self.count_event();
        let now = self.now;
        if let Some(next) = self.hosts[h as usize].devices[device as usize].complete(now) {
            self.start_request(h, device, next)?;
        }
        let live = self.vcpus.try_get(v).is_some_and(|x| x.uid == uid);
        if !live {
            return Ok(()); // the VM was stopped while its request was in flight
        }
        let VcpuState::Blocked { fault } = self.vcpus.get(v).state else {
            return Ok(());
        };
        self.hosts[h as usize].blocked -= 1;
        let vcpu = self.vcpus.get_mut(v);
        let stalled = now.nanos() - vcpu.blocked_since.nanos();
        vcpu.ready_since = now;
        vcpu.preempted = false;
        let vm = self.vms.get_mut(vcpu.vm);
        if fault {
            vm.fault_stall += stalled;
        } else {
            vm.io_wait += stalled;
        }
        if vm.paused {
            self.set_state(v, VcpuState::Paused);
        } else {
            self.set_state(v, VcpuState::Ready);
            self.enqueue_ready(h, v);
        }
        Ok(())
    }

    // ----- lifecycle --------------------------------------------------------------------

    fn lifecycle_event(&mut self, index: u32) -> Result<(), SimError> {
        let e = self.lifecycle[index as usize];
        let slot = self.lifecycle_slots.get(&e.vm).copied().unwrap_or(NONE);
        let live = slot != NONE
            && self
                .vms
                .try_get(slot)
                .is_some_and(|vm| vm.req.id == e.vm && !vm.stopped);
        if !live {
            self.stats.lifecycle_ignored += 1;
            return Ok(());
        }
        self.count_event();
        let vm = self.vms.get(slot);
        let (h, admitted) = (vm.host, vm.host != NONE);
        match e.action {
            LifecycleAction::Pause => {
                let was_paused = std::mem::replace(&mut self.vms.get_mut(slot).paused, true);
                if admitted {
                    self.for_each_vcpu(slot, |eng, v| eng.pause_vcpu(h, v))?;
                    if !was_paused {
                        self.inflate_balloon(h, slot)?;
                    }
                }
            }
            LifecycleAction::Resume => {
                self.vms.get_mut(slot).paused = false;
                if admitted {
                    self.deflate_balloon(h, slot)?;
                    self.for_each_vcpu(slot, |eng, v| {
                        if eng.vcpus.get(v).state == VcpuState::Paused {
                            let vcpu = eng.vcpus.get_mut(v);
                            vcpu.ready_since = eng.now;
                            eng.set_state(v, VcpuState::Ready);
                            eng.enqueue_ready(h, v);
                        }
                        Ok(())
                    })?;
                }
            }
            LifecycleAction::Stop => {
                self.vms.get_mut(slot).stopped = true;
                self.stats.stopped += 1;
                if admitted {
                    self.for_each_vcpu(slot, |eng, v| {
                        match eng.vcpus.get(v).state {
                            VcpuState::Running => eng.evict(h, v, SliceEnd::Stopped)?,
                            VcpuState::Blocked { .. } => eng.hosts[h as usize].blocked -= 1,
                            VcpuState::Done => return Ok(()),
                            VcpuState::Ready | VcpuState::Paused => {}
                        }
                        eng.set_state(v, VcpuState::Paused);
                        Ok(())
                    })?;
                    // Finish the VM now: every vCPU counts as done.
                    // (When the last live vCPU finishes, every slot is freed: stop there.)
                    let mut v = self.vms.get(slot).first_vcpu;
                    while let Some(vcpu) = self.vcpus.try_get(v) {
                        let next = vcpu.next;
                        self.vcpu_finished(v);
                        v = next;
                    }
                } else {
                    // Still queued: it leaves the system without running.
                    self.finish_vm(slot);
                }
            }
        }
        Ok(())
    }

    /// Balloon (on a host that has one): a VM just paused gives its working set back; the
    /// others' resident fraction rises.
    fn inflate_balloon(&mut self, h: u32, slot: u32) -> Result<(), SimError> {
        let vm = self.vms.get(slot);
        let host = &mut self.hosts[h as usize];
        let Some(m) = vm.req.profile.memory else {
            return Ok(());
        };
        if !host.balloon || vm.ballooned_mib > 0 || m.working_set_mib == 0 {
            return Ok(());
        }
        host.working_set_mib = host.working_set_mib.saturating_sub(m.working_set_mib);
        self.vms.get_mut(slot).ballooned_mib = m.working_set_mib;
        self.repage(h)
    }

    /// The balloon deflates at resume: the working set counts against the host again and
    /// the guest maps it anew, paying the first-touch cost per page (minor faults), shared
    /// by its vCPUs like the first mapping at admission.
    fn deflate_balloon(&mut self, h: u32, slot: u32) -> Result<(), SimError> {
        let mib = std::mem::take(&mut self.vms.get_mut(slot).ballooned_mib);
        if mib == 0 {
            return Ok(());
        }
        let host = &mut self.hosts[h as usize];
        host.working_set_mib = host.working_set_mib.saturating_add(mib);
        let pages = mib.saturating_mul(1 << 20).div_ceil(host.page_bytes);
        let cost = pages.saturating_mul(host.first_touch);
        self.stats.minor_faults += pages;
        let vm = self.vms.get_mut(slot);
        vm.minor_faults += pages;
        vm.fault_service = vm.fault_service.saturating_add(cost);
        vm.fault_stall = vm.fault_stall.saturating_add(cost);
        let vcpus = u64::from(vm.req.vcpus.max(1));
        let (share, extra) = (cost / vcpus, cost % vcpus);
        self.for_each_vcpu(slot, |eng, v| {
            let vcpu = eng.vcpus.get_mut(v);
            if vcpu.state != VcpuState::Done {
                let add = share + if vcpu.index == 0 { extra } else { 0 };
                vcpu.overhead_left = vcpu.overhead_left.saturating_add(add);
            }
            Ok(())
        })?;
        self.repage(h)
    }

    fn for_each_vcpu(
        &mut self,
        slot: u32,
        mut f: impl FnMut(&mut Self, u32) -> Result<(), SimError>,
    ) -> Result<(), SimError> {
        let mut v = self.vms.get(slot).first_vcpu;
        while v != NONE {
            let next = self.vcpus.get(v).next;
            f(self, v)?;
            v = next;
        }
        Ok(())
    }

    /// Takes the running vCPU `v` off whichever pCPU of host `h` it runs on.
    fn evict(&mut self, h: u32, v: u32, reason: SliceEnd) -> Result<(), SimError> {
        let p = self.hosts[h as usize]
            .pcpus
            .iter()
            .position(|pc| pc.running == v)
            .unwrap_or(0) as u32;
        self.take_off(h, p, reason)?;
        self.stats.preemptions += 1;
        Ok(())
    }

    fn pause_vcpu(&mut self, h: u32, v: u32) -> Result<(), SimError> {
        match self.vcpus.get(v).state {
            VcpuState::Running => {
                self.evict(h, v, SliceEnd::Paused)?;
                self.set_state(v, VcpuState::Paused);
            }
            VcpuState::Ready => self.set_state(v, VcpuState::Paused),
            // Blocked vCPUs become paused when their request completes.
            VcpuState::Blocked { .. } | VcpuState::Paused | VcpuState::Done => {}
        }
        Ok(())
    }

    // ----- completion -------------------------------------------------------------------

    fn vcpu_finished(&mut self, v: u32) {
        let Some(vcpu) = self.vcpus.try_get(v) else {
            return;
        };
        if vcpu.state == VcpuState::Done {
            return;
        }
        let (vm_slot, pin) = (vcpu.vm, vcpu.pin);
        self.set_state(v, VcpuState::Done);
        let vm = self.vms.get_mut(vm_slot);
        vm.vcpus_left -= 1;
        if pin != NONE
            && let Some(host) = self.hosts.get_mut(vm.host as usize)
        {
            host.pcpus[pin as usize].pinned -= 1;
        }
        if vm.vcpus_left > 0 {
            return;
        }
        // Free the VM's vCPU slots, then the VM.
        let mut v = vm.first_vcpu;
        while v != NONE {
            v = self.vcpus.remove(v).map_or(NONE, |x| x.next);
        }
        self.finish_vm(vm_slot);
    }

    fn finish_vm(&mut self, slot: u32) {
        let Some(vm) = self.vms.try_get(slot) else {
            return;
        };
        let (h, vcpus, mem, home) = (vm.host, vm.req.vcpus, vm.req.memory_mib, vm.home_node);
        let residence = self.now.nanos() - vm.req.arrival.nanos();
        // (A ballooned working set was taken off already.)
        let resident = vm
            .req
            .profile
            .memory
            .map(|m| m.working_set_mib.saturating_sub(vm.ballooned_mib));
        if let Some(host) = self.hosts.get_mut(h as usize) {
            host.used_vcpus = host.used_vcpus.saturating_sub(u64::from(vcpus));
            host.used_mem = host.used_mem.saturating_sub(mem);
            host.admitted -= 1;
            if host.numa_nodes > 1 {
                let n = &mut host.node_mem_used[home as usize];
                *n = n.saturating_sub(mem);
            }
            if let Some(resident) = resident {
                host.working_set_mib = host.working_set_mib.saturating_sub(resident);
                // Re-planning only fails on scheduling into the past, which cannot happen.
                let _ = self.repage(h);
            }
        }
        self.admission_dirty = true;
        self.departed_since_pass = true;
        self.stats.finished += 1;
        self.count_change(false);
        self.stats.vm_time_area_ns += u128::from(residence);
        let now = self.now;
        // Read in place (the slot is freed below): no copy of the VM on the way out.
        let vms = &self.vms;
        self.observer.on_vm_finished_with(|| {
            let vm = vms.get(slot);
            let r = &vm.req;
            let admission = if vm.host == NONE { now } else { vm.admission };
            VmRecord {
                id: r.id,
                host: vm.host,
                vcpus: r.vcpus,
                memory_mib: r.memory_mib,
                priority: r.priority,
                tenant: r.tenant,
                arrival: r.arrival,
                admission,
                // (A VM stopped during its first context switch never ran: first run = finish.)
                first_run: vm.first_run.unwrap_or(admission).min(now),
                finish: now,
                service: r.demand,
                estimate: r.estimate,
                ready_wait: SimTime(vm.ready_wait),
                preemptions: vm.preemptions,
                warmup: vm.warmup,
                io_wait: SimTime(vm.io_wait),
                io_service: SimTime(vm.io_service),
                io_requests: vm.io_requests,
                fault_stall: SimTime(vm.fault_stall),
                fault_service: SimTime(vm.fault_service),
                minor_faults: vm.minor_faults,
                major_faults: vm.major_faults,
                migrations: vm.migrations,
                stopped: vm.stopped,
            }
        });
        self.vms.free(slot);
    }

    // ----- timeline ---------------------------------------------------------------------

    fn take_sample(&mut self) -> Result<(), SimError> {
        let Some(interval) = self.timeline else {
            return Ok(());
        };
        let now = self.now;
        let queued = (self.queue.len() + self.arrived_now.len()) as u64;
        for h in 0..self.hosts.len() {
            let ready: u64 = {
                let vcpus = &self.vcpus;
                self.hosts[h]
                    .ready
                    .iter()
                    .flat_map(|q| q.iter())
                    .filter(|e| {
                        vcpus.try_get(e.0.slot).is_some_and(|v| {
                            v.uid == e.0.uid && v.epoch == e.0.epoch && v.state == VcpuState::Ready
                        })
                    })
                    .count() as u64
            };
            let host = &mut self.hosts[h];
            host.busy_area += u128::from(host.busy_count) * u128::from(now.0 - host.busy_last.0);
            host.busy_last = now;
            let area = host.busy_area - host.sampled_busy_area;
            host.sampled_busy_area = host.busy_area;
            let cap = host.pcpus.len() as f64 * interval.0 as f64;
            let mut s = std::mem::take(&mut self.sample);
            s.time = now;
            s.host = h as u32;
            s.busy_pcpus = host.busy_count;
            s.cpu_utilization = area as f64 / cap;
            s.ready_vcpus = ready;
            s.blocked_vcpus = host.blocked;
            s.admitted_vms = host.admitted;
            s.queued_vms = queued;
            s.working_set_mib = host.working_set_mib;
            s.resident_mib = host.working_set_mib.min(host.resident_limit_mib);
            s.swap_ins = host.swap_ins - host.sampled_swap_ins;
            host.sampled_swap_ins = host.swap_ins;
            s.devices.clear();
            for (i, d) in host.devices.iter_mut().enumerate() {
                let (utilization, completed) = d.sample(now, interval);
                s.devices.push(DeviceSample {
                    device: i as u32,
                    kind: d.kind_name,
                    busy_channels: d.busy,
                    queue_length: d.queue.len() as u64,
                    utilization,
                    completed,
                });
            }
            self.observer.on_sample(&s);
            self.sample = s;
        }
        // Keep sampling while anything can still happen.
        if !(self.arrivals_done && self.in_system == 0) {
            self.events
                .schedule(now, now.saturating_add(interval), Event::Sample)?;
        }
        Ok(())
    }
}

/// Whether an admission-queue entry still stands for a waiting VM (not stopped).
fn queued_live(vms: &Slab<Vm>, e: &QueueEntry) -> bool {
    vms.try_get(e.slot)
        .is_some_and(|vm| vm.req.id == e.tie as u64 && vm.host == NONE && !vm.stopped)
}

/// Work done by the current segment of `pcpu` up to `now`.
fn segment_work(pcpu: &Pcpu, now: SimTime) -> u64 {
    if now >= pcpu.seg_end {
        return pcpu.seg_work;
    }
    let elapsed = now.nanos().saturating_sub(pcpu.seg_start.nanos());
    work_for(elapsed, pcpu.rate).min(pcpu.seg_work)
}

/// The guest part of `work` for a vCPU that first owes `overhead_left`.
fn guest_part(v: &Vcpu, work: u64) -> u64 {
    work.saturating_sub(v.overhead_left)
}

/// `x.ceil()` as an integer, for `x ≥ 0` (saturating at `u64::MAX`), without the library
/// call `f64::ceil` is on x86-64 before SSE4.1. Exact: below 2⁵³ the truncation converts
/// back exactly, and above it every `f64` is an integer already.
#[inline]
fn ceil_u64(x: f64) -> u64 {
    let t = x as u64;
    if (t as f64) < x {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Wall time to do `work` at `rate` (exact when the rate is 1).
#[inline]
fn wall_for(work: u64, rate: f64) -> u64 {
    if rate == 1.0 || work == NO_LIMIT {
        work
    } else {
        ceil_u64(work as f64 / rate)
    }
}

/// Work done in `wall` at `rate` (exact when the rate is 1).
#[inline]
fn work_for(wall: u64, rate: f64) -> u64 {
    if rate == 1.0 {
        wall
    } else {
        // (Truncation is the floor of a non-negative number; `as` saturates.)
        (wall as f64 * rate) as u64
    }
}

fn sibling_busy(host: &Host, p: u32) -> bool {
    let tpc = host.threads_per_core;
    let core = host.pcpus[p as usize].core;
    (core * tpc..(core * tpc + tpc).min(host.pcpus.len() as u32))
        .any(|q| q != p && !host.is_idle(q))
}

/// An exponential draw with mean `mean` ns, at least 1 ns.
fn draw_exp(rng: &mut SimRng, mean: u64) -> u64 {
    let x: f64 = Exp1.sample(rng);
    ceil_u64(x * mean as f64).max(1)
}

#[cfg(test)]
mod tests {
    use super::ceil_u64;
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
        assert!(std::mem::size_of::<super::Event>() <= 16);
    }

    /// The integer ceiling agrees with `f64::ceil` (then the saturating conversion) on
    /// integers, fractions, values around 2⁵³ and 2⁶⁴, and zero.
    #[test]
    fn ceil_u64_matches_f64_ceil() {
        let mut cases = vec![0.0, 0.25, 1.0, 1.5, 2.999_999, 1e9 + 0.5, 1e15 + 0.5, 1e30];
        let two53 = 9_007_199_254_740_992.0f64;
        let two64 = 18_446_744_073_709_551_616.0f64;
        for x in [two53, two64] {
            cases.extend([x, x.next_down(), x.next_up(), x * 0.5 + 0.5]);
        }
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x >> 11) as f64 / 1024.0);
        }
        for c in cases {
            assert_eq!(ceil_u64(c), c.ceil() as u64, "x = {c}");
        }
    }
}
