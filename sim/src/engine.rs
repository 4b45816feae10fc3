//! The discrete-event engine.
//!
//! One loop: take the earliest instant `t` among the next arrival and the future-event
//! list; apply *every* state change at `t` (arrivals first, then events in the order they
//! were scheduled); only then take decisions — first admission (which waiting VMs a host
//! takes), then dispatch on each host whose run queue or pCPUs changed. Deciding after all
//! changes at an instant is what makes simultaneous arrivals (the textbook "all at t = 0")
//! compete fairly and puts a VM arriving when a quantum expires ahead of the preempted one.
//!
//! Memory is bounded by what is in flight: VMs and vCPUs live in slabs whose slots are
//! reused; finished VMs are handed to the observer and forgotten.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::error::SimError;
use crate::event::EventQueue;
use crate::model::{HeadOfLine, Placement, SimConfig, VmRequest};
use crate::observer::{Decision, Observer, SliceEnd, SliceRecord, VmRecord};
use crate::policy::{self, AdmissionParams, AdmissionPolicy, CpuPolicy, VcpuView};
use crate::time::SimTime;

const NONE: u32 = u32::MAX;

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Events processed: arrivals plus slice ends (completions and quantum expiries);
    /// cancelled events are not counted.
    pub events: u64,
    /// VMs that arrived (rejected ones included).
    pub arrivals: u64,
    /// VMs that finished.
    pub finished: u64,
    /// VMs turned away because no host could ever hold them.
    pub rejected: u64,
    /// Time of the last event.
    pub makespan: SimTime,
    /// pCPUs in the cluster.
    pub total_pcpus: u64,
    /// pCPU time spent busy (guest work plus context switches), ns.
    pub busy_ns: u128,
    /// pCPU time spent on guest work, ns.
    pub work_ns: u128,
    /// Number of dispatches that paid the context-switch cost.
    pub context_switches: u64,
    /// Number of times a running vCPU was taken off its pCPU before finishing.
    pub preemptions: u64,
    /// ∫ (VMs in the system) dt, in VM·ns (Little's L × makespan).
    pub vm_time_area_ns: u128,
    /// Largest number of VMs in the system at once.
    pub peak_in_system: u64,
    /// Largest admission-queue length.
    pub peak_queue: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The slice on `pcpu` of `host` ends (finish or quantum), unless `gen` is stale.
    SliceEnd {
        host: u32,
        pcpu: u32,
        generation: u32,
    },
}

/// The engine's tie-break after a policy's key: earlier arrival, then lower VM id, packed
/// into one integer so a heap step is two integer comparisons.
#[inline]
fn tie(vm: &VmRequest) -> u128 {
    (u128::from(vm.arrival.nanos()) << 64) | u128::from(vm.id)
}

/// A runnable vCPU in a host's run queue, ordered by (policy key, tie, vCPU index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ReadyEntry {
    key: u128,
    tie: u128,
    vcpu_index: u32,
    slot: u32,
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

#[derive(Clone, Debug)]
struct Vm {
    req: VmRequest,
    warmup: bool,
    host: u32,
    admission: SimTime,
    first_run: Option<SimTime>,
    vcpus_left: u32,
    ready_wait: u64,
    preemptions: u32,
}

#[derive(Clone, Debug)]
struct Vcpu {
    vm: u32,
    index: u32,
    uid: u64,
    remaining: u64,
    attained: u64,
    ready_since: SimTime,
    preempted: bool,
    last_pcpu: u32,
}

#[derive(Clone, Debug)]
struct Pcpu {
    running: u32,
    dispatch: SimTime,
    start: SimTime,
    last_uid: u64,
    generation: u32,
}

#[derive(Clone, Debug)]
struct Host {
    vcpu_cap: u64,
    mem_cap: u64,
    used_vcpus: u64,
    used_mem: u64,
    pcpus: Vec<Pcpu>,
    idle: Vec<u64>,
    idle_count: u32,
    ready: BinaryHeap<Reverse<ReadyEntry>>,
    dirty: bool,
    /// At most one admitted vCPU per pCPU (overcommit ≤ 1): every admitted vCPU finds an
    /// idle pCPU, no vCPU ever competes, so admission dispatches at once.
    dedicated: bool,
}

impl Host {
    fn set_idle(&mut self, p: u32, idle: bool) {
        let (w, b) = ((p / 64) as usize, p % 64);
        let was = self.idle[w] >> b & 1 == 1;
        if was != idle {
            self.idle[w] ^= 1 << b;
            if idle {
                self.idle_count += 1;
            } else {
                self.idle_count -= 1;
            }
        }
    }

    fn is_idle(&self, p: u32) -> bool {
        self.idle[(p / 64) as usize] >> (p % 64) & 1 == 1
    }

    fn lowest_idle(&self) -> Option<u32> {
        self.idle
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i as u32 * 64 + w.trailing_zeros())
    }
}

/// A slab: a vector whose freed slots are reused, so its size is the peak in flight.
#[derive(Debug)]
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
    fn insert(&mut self, t: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = Some(t);
                i
            }
            None => {
                self.items.push(Some(t));
                (self.items.len() - 1) as u32
            }
        }
    }
    fn remove(&mut self, i: u32) -> Option<T> {
        let t = self.items.get_mut(i as usize)?.take();
        if t.is_some() {
            self.free.push(i);
        }
        t
    }
    #[inline]
    fn get(&self, i: u32) -> &T {
        self.items[i as usize]
            .as_ref()
            .expect("engine invariant: slab slot referenced after removal")
    }
    #[inline]
    fn get_mut(&mut self, i: u32) -> &mut T {
        self.items[i as usize]
            .as_mut()
            .expect("engine invariant: slab slot referenced after removal")
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
    warmup_vms: u64,
    queue: BinaryHeap<Reverse<QueueEntry>>,
    queue_scratch: Vec<QueueEntry>,
    /// VMs that arrived at the current instant, not yet in `queue`.
    arrived_now: Vec<QueueEntry>,
    admission_dirty: bool,
    dirty_hosts: Vec<u32>,
    vms: Slab<Vm>,
    vcpus: Slab<Vcpu>,
    next_vcpu_uid: u64,
    in_system: u64,
    last_change: SimTime,
    stats: RunStats,
    observer: &'a mut O,
    want_slices: bool,
    want_decisions: bool,
}

/// Runs `workload` through the cluster of `config`, reporting to `observer`, until every
/// admitted VM has finished. Returns the run's counters.
///
/// Errors: unknown policy names, a zero quantum for a time-sliced policy, a VM with no
/// vCPUs, or a workload out of arrival order. A VM that no host could ever hold (more vCPUs
/// or memory than the largest empty host admits) is rejected: reported to
/// [`Observer::on_vm_rejected`] and counted, not simulated.
pub fn simulate<W, O>(
    config: &SimConfig,
    workload: W,
    observer: &mut O,
) -> Result<RunStats, SimError>
where
    W: IntoIterator<Item = VmRequest>,
    O: Observer,
{
    let mut engine = Engine::new(config, observer)?;
    engine.run(workload.into_iter())?;
    Ok(engine.stats)
}

impl<'a, O: Observer> Engine<'a, O> {
    fn new(config: &SimConfig, observer: &'a mut O) -> Result<Self, SimError> {
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
        let mut total_pcpus = 0u64;
        let mut hosts = Vec::with_capacity(config.cluster.hosts.len());
        for (i, h) in config.cluster.hosts.iter().enumerate() {
            if h.pcpus == 0 {
                return Err(SimError::InvalidConfig(format!("host {i} has no pCPUs")));
            }
            total_pcpus += u64::from(h.pcpus);
            let words = h.pcpus.div_ceil(64) as usize;
            let mut idle = vec![0u64; words];
            for p in 0..h.pcpus {
                idle[(p / 64) as usize] |= 1 << (p % 64);
            }
            hosts.push(Host {
                vcpu_cap: h.vcpu_capacity(),
                mem_cap: h.memory_capacity_mib(),
                used_vcpus: 0,
                used_mem: 0,
                pcpus: vec![
                    Pcpu {
                        running: NONE,
                        dispatch: SimTime::ZERO,
                        start: SimTime::ZERO,
                        last_uid: u64::MAX,
                        generation: 0,
                    };
                    h.pcpus as usize
                ],
                idle,
                idle_count: h.pcpus,
                ready: BinaryHeap::new(),
                dirty: false,
                dedicated: h.vcpu_capacity() <= u64::from(h.pcpus),
            });
        }
        let want_slices = observer.wants_slices();
        let want_decisions = observer.wants_decisions();
        Ok(Engine {
            now: SimTime::ZERO,
            events: EventQueue::new(),
            hosts,
            placement: config.cluster.placement,
            head_of_line: config.admission.head_of_line,
            preemptive: cpu_policy.preemptive(),
            admission_policy,
            cpu_policy,
            quantum,
            context_switch: config.cpu.context_switch.nanos(),
            warmup_vms: config.warmup_vms,
            queue: BinaryHeap::new(),
            queue_scratch: Vec::new(),
            arrived_now: Vec::new(),
            admission_dirty: false,
            dirty_hosts: Vec::new(),
            vms: Slab::new(),
            vcpus: Slab::new(),
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
        })
    }

    fn run(&mut self, mut workload: impl Iterator<Item = VmRequest>) -> Result<(), SimError> {
        let mut next = workload.next();
        loop {
            let t_arrival = next.as_ref().map(|v| v.arrival);
            let t_event = self.events.peek_time();
            let t = match (t_arrival, t_event) {
                (None, None) => break,
                (Some(a), None) => a,
                (None, Some(e)) => e,
                (Some(a), Some(e)) => a.min(e),
            };
            self.now = t;
            // 1. Every arrival at t.
            while let Some(vm) = next.take_if(|v| v.arrival == t) {
                self.arrive(vm)?;
                next = workload.next();
                if let Some(v) = &next
                    && v.arrival < t
                {
                    return Err(SimError::OutOfOrder {
                        id: v.id,
                        arrival: v.arrival.to_string(),
                        previous: t.to_string(),
                    });
                }
            }
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
            self.stats.makespan = t;
        }
        Ok(())
    }

    #[inline]
    fn count_change(&mut self, delta_up: bool) {
        let dt = u128::from(self.now.nanos() - self.last_change.nanos());
        self.stats.vm_time_area_ns += u128::from(self.in_system) * dt;
        self.last_change = self.now;
        if delta_up {
            self.in_system += 1;
            self.stats.peak_in_system = self.stats.peak_in_system.max(self.in_system);
        } else {
            self.in_system -= 1;
        }
    }

    fn arrive(&mut self, vm: VmRequest) -> Result<(), SimError> {
        self.stats.events += 1;
        let index = self.stats.arrivals;
        self.stats.arrivals += 1;
        if vm.vcpus == 0 {
            return Err(SimError::InvalidVm {
                id: vm.id,
                reason: "has 0 vCPUs".into(),
            });
        }
        let fits_somewhere = self
            .hosts
            .iter()
            .any(|h| u64::from(vm.vcpus) <= h.vcpu_cap && vm.memory_mib <= h.mem_cap);
        if !fits_somewhere {
            self.stats.rejected += 1;
            let reason = format!(
                "needs {} vCPUs and {} MiB, more than any empty host admits",
                vm.vcpus, vm.memory_mib
            );
            self.observer.on_vm_rejected(vm.id, &reason);
            return Ok(());
        }
        self.count_change(true);
        let entry = QueueEntry {
            key: self.admission_policy.queue_key(&vm),
            tie: tie(&vm),
            slot: 0,
        };
        let vcpus = vm.vcpus;
        let slot = self.vms.insert(Vm {
            req: vm,
            warmup: index < self.warmup_vms,
            host: NONE,
            admission: SimTime::ZERO,
            first_run: None,
            vcpus_left: vcpus,
            ready_wait: 0,
            preemptions: 0,
        });
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
        }
    }

    /// Which host takes a VM of this size now, by the placement policy.
    fn place(&self, vcpus: u64, mem: u64) -> Option<u32> {
        let fits = |h: &Host| {
            h.used_vcpus.saturating_add(vcpus) <= h.vcpu_cap
                && h.used_mem.saturating_add(mem) <= h.mem_cap
        };
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
        for e in self.arrived_now.drain(..) {
            self.queue.push(Reverse(e));
        }
        self.stats.peak_queue = self.stats.peak_queue.max(self.queue.len() as u64);
        match self.head_of_line {
            HeadOfLine::Strict => {
                while let Some(Reverse(head)) = self.queue.peek() {
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
                while let Some(Reverse(e)) = self.queue.pop() {
                    let vm = &self.vms.get(e.slot).req;
                    match self.place(u64::from(vm.vcpus), vm.memory_mib) {
                        Some(h) => self.admit(e.slot, h)?,
                        None => scratch.push(e),
                    }
                    if self.hosts.iter().all(|h| h.used_vcpus >= h.vcpu_cap) {
                        break;
                    }
                }
                for e in scratch.drain(..) {
                    self.queue.push(Reverse(e));
                }
                self.queue_scratch = scratch;
            }
        }
        Ok(())
    }

    fn admit(&mut self, slot: u32, h: u32) -> Result<(), SimError> {
        let now = self.now;
        let vm = self.vms.get_mut(slot);
        vm.host = h;
        vm.admission = now;
        let (vcpus, mem, demand) = (vm.req.vcpus, vm.req.memory_mib, vm.req.demand.nanos());
        let host = &mut self.hosts[h as usize];
        host.used_vcpus = host.used_vcpus.saturating_add(u64::from(vcpus));
        host.used_mem = host.used_mem.saturating_add(mem);
        for index in 0..vcpus {
            let uid = self.next_vcpu_uid;
            self.next_vcpu_uid += 1;
            let v = self.vcpus.insert(Vcpu {
                vm: slot,
                index,
                uid,
                remaining: demand,
                attained: 0,
                ready_since: now,
                preempted: false,
                last_pcpu: NONE,
            });
            let host = &self.hosts[h as usize];
            match host.lowest_idle() {
                // Fast path: no competition for pCPUs on a dedicated host (traces and
                // decisions off, as a dispatch would report them).
                Some(p) if host.dedicated && !self.want_decisions => self.start(h, p, v)?,
                _ => self.enqueue_ready(h, v),
            }
        }
        Ok(())
    }

    fn view(&self, v: &Vcpu, running_since: Option<SimTime>) -> VcpuView {
        let vm = &self.vms.get(v.vm).req;
        let progress = running_since.map_or(0, |s| self.now.nanos().saturating_sub(s.nanos()));
        VcpuView {
            vm: vm.id,
            priority: vm.priority,
            arrival: vm.arrival,
            estimate: vm.estimate,
            attained: SimTime(v.attained + progress),
            ready_since: v.ready_since,
            preempted: v.preempted,
        }
    }

    fn enqueue_ready(&mut self, h: u32, v: u32) {
        let vcpu = self.vcpus.get(v);
        let key = self.cpu_policy.ready_key(&self.view(vcpu, None));
        let vm = &self.vms.get(vcpu.vm).req;
        let entry = ReadyEntry {
            key,
            tie: tie(vm),
            vcpu_index: vcpu.index,
            slot: v,
        };
        let host = &mut self.hosts[h as usize];
        host.ready.push(Reverse(entry));
        if !host.dirty {
            host.dirty = true;
            self.dirty_hosts.push(h);
        }
    }

    fn mark_dirty(&mut self, h: u32) {
        let host = &mut self.hosts[h as usize];
        if !host.dirty {
            host.dirty = true;
            self.dirty_hosts.push(h);
        }
    }

    fn dispatch(&mut self, h: u32) -> Result<(), SimError> {
        loop {
            let host = &self.hosts[h as usize];
            let Some(&Reverse(top)) = host.ready.peek() else {
                return Ok(());
            };
            if host.idle_count > 0 {
                let last = self.vcpus.get(top.slot).last_pcpu;
                let p = if last != NONE && host.is_idle(last) {
                    last
                } else {
                    host.lowest_idle().unwrap_or(0)
                };
                let mut preempted = None;
                if self.want_decisions {
                    self.decide(h, p, top, &mut preempted);
                }
                self.hosts[h as usize].ready.pop();
                self.start(h, p, top.slot)?;
            } else if self.preemptive {
                // The least urgent running vCPU: largest (key, arrival, id, index).
                let mut worst: Option<(ReadyEntry, u32)> = None;
                for (p, pc) in host.pcpus.iter().enumerate() {
                    if pc.running == NONE {
                        continue;
                    }
                    let v = self.vcpus.get(pc.running);
                    let key = self.cpu_policy.ready_key(&self.view(v, Some(pc.start)));
                    let vm = &self.vms.get(v.vm).req;
                    let e = ReadyEntry {
                        key,
                        tie: tie(vm),
                        vcpu_index: v.index,
                        slot: pc.running,
                    };
                    if worst.is_none_or(|(w, _)| e > w) {
                        worst = Some((e, p as u32));
                    }
                }
                match worst {
                    Some((w, p)) if top.key < w.key => {
                        self.stop(h, p, SliceEnd::Preempted);
                        // The pCPU is idle now; the loop dispatches `top` onto it.
                    }
                    _ => return Ok(()),
                }
            } else {
                return Ok(());
            }
        }
    }

    fn decide(&mut self, h: u32, p: u32, top: ReadyEntry, preempted: &mut Option<u64>) {
        let mut others: Vec<ReadyEntry> = self.hosts[h as usize]
            .ready
            .iter()
            .map(|r| r.0)
            .filter(|e| e.slot != top.slot)
            .collect();
        others.sort();
        let d = Decision {
            time: self.now,
            host: h,
            pcpu: p,
            chosen: top.vm_id(),
            vcpu: top.vcpu_index,
            passed_over: others.iter().map(|e| e.vm_id()).collect(),
            preempted: preempted.take(),
        };
        self.observer.on_decision(&d);
    }

    fn start(&mut self, h: u32, p: u32, v: u32) -> Result<(), SimError> {
        let now = self.now;
        let host = &mut self.hosts[h as usize];
        let pcpu = &mut host.pcpus[p as usize];
        let vcpu = self.vcpus.get_mut(v);
        let cs = if pcpu.last_uid == vcpu.uid {
            0
        } else {
            self.context_switch
        };
        if cs > 0 {
            self.stats.context_switches += 1;
        }
        let start = SimTime(now.nanos().saturating_add(cs));
        let mut run = vcpu.remaining;
        if let Some(q) = self.quantum {
            run = run.min(q);
        }
        let end = SimTime(start.nanos().saturating_add(run));
        pcpu.running = v;
        pcpu.dispatch = now;
        pcpu.start = start;
        pcpu.last_uid = vcpu.uid;
        pcpu.generation = pcpu.generation.wrapping_add(1);
        let generation = pcpu.generation;
        let waited = now.nanos() - vcpu.ready_since.nanos();
        vcpu.last_pcpu = p;
        let vm = self.vms.get_mut(vcpu.vm);
        vm.ready_wait += waited;
        if vm.first_run.is_none() {
            vm.first_run = Some(start);
        }
        host.set_idle(p, false);
        self.events.schedule(
            now,
            end,
            Event::SliceEnd {
                host: h,
                pcpu: p,
                generation,
            },
        )
    }

    /// Takes the vCPU running on `p` off it (slice end or preemption), accounting the work
    /// done, and returns the vCPU's slot.
    fn take_off(&mut self, h: u32, p: u32, reason: SliceEnd) -> u32 {
        let now = self.now;
        let host = &mut self.hosts[h as usize];
        let pcpu = &mut host.pcpus[p as usize];
        let v = pcpu.running;
        let ran = now.nanos().saturating_sub(pcpu.start.nanos());
        self.stats.busy_ns += u128::from(now.nanos() - pcpu.dispatch.nanos());
        self.stats.work_ns += u128::from(ran);
        let (dispatch, start) = (pcpu.dispatch, pcpu.start.min(now));
        pcpu.running = NONE;
        pcpu.generation = pcpu.generation.wrapping_add(1);
        host.set_idle(p, true);
        let vcpu = self.vcpus.get_mut(v);
        vcpu.remaining -= ran.min(vcpu.remaining);
        vcpu.attained += ran;
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
        v
    }

    fn stop(&mut self, h: u32, p: u32, reason: SliceEnd) {
        let v = self.take_off(h, p, reason);
        self.stats.preemptions += 1;
        let vcpu = self.vcpus.get_mut(v);
        vcpu.ready_since = self.now;
        vcpu.preempted = true;
        let vm = vcpu.vm;
        self.vms.get_mut(vm).preemptions += 1;
        self.enqueue_ready(h, v);
    }

    fn slice_end(&mut self, h: u32, p: u32, generation: u32) -> Result<(), SimError> {
        let pcpu = &self.hosts[h as usize].pcpus[p as usize];
        if pcpu.generation != generation || pcpu.running == NONE {
            return Ok(()); // cancelled by a preemption
        }
        self.stats.events += 1;
        let v = pcpu.running;
        if self.vcpus.get(v).remaining > self.now.nanos() - pcpu.start.nanos() {
            self.stop(h, p, SliceEnd::Quantum);
            return Ok(());
        }
        let v = self.take_off(h, p, SliceEnd::Finished);
        self.vcpu_finished(v);
        Ok(())
    }

    fn vcpu_finished(&mut self, v: u32) {
        let Some(vcpu) = self.vcpus.remove(v) else {
            return;
        };
        let vm = self.vms.get_mut(vcpu.vm);
        vm.vcpus_left -= 1;
        if vm.vcpus_left > 0 {
            return;
        }
        let Some(vm) = self.vms.remove(vcpu.vm) else {
            return;
        };
        let host = &mut self.hosts[vm.host as usize];
        host.used_vcpus = host.used_vcpus.saturating_sub(u64::from(vm.req.vcpus));
        host.used_mem = host.used_mem.saturating_sub(vm.req.memory_mib);
        self.admission_dirty = true;
        self.stats.finished += 1;
        self.count_change(false);
        let r = &vm.req;
        let record = VmRecord {
            id: r.id,
            host: vm.host,
            vcpus: r.vcpus,
            memory_mib: r.memory_mib,
            priority: r.priority,
            tenant: r.tenant,
            arrival: r.arrival,
            admission: vm.admission,
            first_run: vm.first_run.unwrap_or(vm.admission),
            finish: self.now,
            service: r.demand,
            estimate: r.estimate,
            ready_wait: SimTime(vm.ready_wait),
            preemptions: vm.preemptions,
            warmup: vm.warmup,
        };
        self.observer.on_vm_finished(&record);
    }
}
