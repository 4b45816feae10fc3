//! The engine's state: the events, the VMs, vCPUs, pCPUs and hosts, and the `Engine` that
//! holds them all. The behaviour lives in the sibling files, one concern each.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::event::EventQueue;
use crate::model::{HeadOfLine, LifecycleEvent, Mapping, Placement, VmRequest};
use crate::observer::{HostSample, Observer};
use crate::policy::{AdmissionPolicy, CpuPolicy};
use crate::rng::SimRng;
use crate::time::SimTime;

use super::RunStats;
use super::admission_queue::AdmissionQueue;
use super::device::Device;
use super::slab::Slab;

pub(super) const NONE: u32 = u32::MAX;
/// `Pcpu::running` of a pCPU held by a vCPU on the plain path (see [`Engine::admit_plain`]).
pub(super) const PLAIN: u32 = u32::MAX - 1;
pub(super) const NO_LIMIT: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Event {
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
pub(super) struct InFlight {
    pub(super) host: u32,
    pub(super) device: u32,
    pub(super) vcpu: u32,
    pub(super) uid: u64,
}

/// The engine's tie-break after a policy's key: earlier arrival, then lower VM id, packed
/// into one integer so a heap step is two integer comparisons.
#[inline]
pub(super) fn tie(vm: &VmRequest) -> u128 {
    (u128::from(vm.arrival.nanos()) << 64) | u128::from(vm.id)
}

/// A runnable vCPU in a run queue, ordered by (policy key, tie, vCPU index). Entries are
/// removed lazily: one whose `epoch` no longer matches its vCPU's is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ReadyEntry {
    pub(super) key: u128,
    pub(super) tie: u128,
    pub(super) vcpu_index: u32,
    pub(super) slot: u32,
    pub(super) uid: u64,
    pub(super) epoch: u32,
}

impl ReadyEntry {
    pub(super) fn vm_id(&self) -> u64 {
        self.tie as u64
    }
}

/// A waiting VM in the admission queue, ordered by (policy key, tie).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct QueueEntry {
    pub(super) key: u128,
    pub(super) tie: u128,
    pub(super) slot: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VcpuState {
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
pub(super) struct Vm {
    pub(super) req: VmRequest,
    pub(super) warmup: bool,
    pub(super) host: u32,
    pub(super) home_node: u32,
    pub(super) admission: SimTime,
    pub(super) first_run: Option<SimTime>,
    pub(super) vcpus_left: u32,
    /// First vCPU slot (vCPUs of a VM are linked through `Vcpu::next`).
    pub(super) first_vcpu: u32,
    /// First pCPU held by the VM on the plain path (the rest are linked through
    /// `Pcpu::plain_next`), `NONE` otherwise.
    pub(super) plain_pcpu: u32,
    pub(super) paused: bool,
    /// Working set reclaimed by the balloon while paused (MiB).
    pub(super) ballooned_mib: u64,
    pub(super) stopped: bool,
    pub(super) ready_wait: u64,
    pub(super) io_wait: u64,
    pub(super) io_service: u64,
    pub(super) fault_stall: u64,
    pub(super) fault_service: u64,
    pub(super) io_requests: u64,
    pub(super) minor_faults: u64,
    pub(super) major_faults: u64,
    pub(super) preemptions: u32,
    pub(super) migrations: u32,
}

#[derive(Clone, Debug)]
pub(super) struct Vcpu {
    pub(super) vm: u32,
    pub(super) index: u32,
    pub(super) uid: u64,
    pub(super) next: u32,
    pub(super) state: VcpuState,
    /// Guest work left.
    pub(super) remaining: u64,
    /// Guest work until the next I/O request (`NO_LIMIT` without I/O).
    pub(super) burst_left: u64,
    /// I/O requests still to issue (`u32::MAX` for exponential bursts).
    pub(super) io_left: u32,
    /// Guest work until the next major fault (`NO_LIMIT` when none is due); redrawn at
    /// every dispatch.
    pub(super) fault_in: u64,
    /// Hypervisor work to do before guest work continues (first touch, VM exits).
    pub(super) overhead_left: u64,
    pub(super) attained: u64,
    pub(super) ready_since: SimTime,
    pub(super) blocked_since: SimTime,
    pub(super) preempted: bool,
    pub(super) last_pcpu: u32,
    pub(super) pin: u32,
    pub(super) epoch: u32,
}

#[derive(Clone, Debug)]
pub(super) struct Pcpu {
    pub(super) running: u32,
    /// When the pCPU was given to the vCPU (switch costs start here).
    pub(super) dispatch: SimTime,
    /// When guest code of this slice started.
    pub(super) start: SimTime,
    /// Start of the current constant-rate segment of the slice.
    pub(super) seg_start: SimTime,
    /// Work the current segment does if it runs to `seg_end`.
    pub(super) seg_work: u64,
    pub(super) seg_end: SimTime,
    /// When the quantum expires (`SimTime::MAX` without time slicing).
    pub(super) quantum_end: SimTime,
    pub(super) rate: f64,
    pub(super) last_uid: u64,
    pub(super) generation: u32,
    pub(super) node: u32,
    pub(super) core: u32,
    pub(super) pinned: u32,
    /// Next pCPU of the same plain-path VM (`NONE` at the end of the chain).
    pub(super) plain_next: u32,
}

#[derive(Debug)]
pub(super) struct Host {
    pub(super) vcpu_cap: u64,
    pub(super) mem_cap: u64,
    pub(super) used_vcpus: u64,
    pub(super) used_mem: u64,
    pub(super) pcpus: Vec<Pcpu>,
    pub(super) idle: Vec<u64>,
    pub(super) idle_count: u32,
    /// One run queue (floating) or one per pCPU (pinned).
    pub(super) ready: Vec<BinaryHeap<Reverse<ReadyEntry>>>,
    pub(super) dirty: bool,
    pub(super) dedicated: bool,
    /// Dedicated, one thread per core, one NUMA node, no translation overhead, floating
    /// vCPUs, no time slicing: a VM without I/O or memory profile runs every vCPU from
    /// admission to its end without a rate change or an interruption.
    pub(super) plain: bool,
    pub(super) threads_per_core: u32,
    pub(super) smt_speed: f64,
    pub(super) numa_nodes: u32,
    pub(super) node_mem_used: Vec<u64>,
    pub(super) node_mem_cap: u64,
    pub(super) remote_speed: f64,
    pub(super) translation_speed: f64,
    pub(super) page_bytes: u64,
    pub(super) first_touch: u64,
    pub(super) exit_cost: u64,
    pub(super) devices: Vec<Device>,
    pub(super) swap: usize,
    pub(super) resident_limit_mib: u64,
    pub(super) balloon: bool,
    pub(super) working_set_mib: u64,
    pub(super) admitted: u64,
    pub(super) blocked: u64,
    pub(super) busy_count: u32,
    /// ∫ busy pCPUs dt (ns), kept only when a timeline samples it (`track_busy`).
    pub(super) busy_area: u128,
    pub(super) track_busy: bool,
    pub(super) busy_last: SimTime,
    pub(super) sampled_busy_area: u128,
    pub(super) swap_ins: u64,
    pub(super) sampled_swap_ins: u64,
}

impl Host {
    pub(super) fn set_idle(&mut self, p: u32, idle: bool, now: SimTime) {
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

    pub(super) fn is_idle(&self, p: u32) -> bool {
        self.idle[(p / 64) as usize] >> (p % 64) & 1 == 1
    }

    #[inline(always)]
    pub(super) fn lowest_idle(&self) -> Option<u32> {
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

    pub(super) fn lowest_idle_on_node(&self, node: u32) -> Option<u32> {
        (0..self.pcpus.len() as u32)
            .find(|&p| self.pcpus[p as usize].node == node && self.is_idle(p))
    }

    /// Fraction of working sets that fits in memory (1 when all fit).
    pub(super) fn resident_fraction(&self) -> f64 {
        if self.working_set_mib <= self.resident_limit_mib {
            1.0
        } else {
            self.resident_limit_mib as f64 / self.working_set_mib as f64
        }
    }

    pub(super) fn queue_of(&self, pin: u32) -> usize {
        if self.ready.len() == 1 {
            0
        } else {
            pin as usize
        }
    }
}

pub(super) struct Engine<'a, O: Observer> {
    pub(super) now: SimTime,
    pub(super) events: EventQueue<Event>,
    pub(super) hosts: Vec<Host>,
    pub(super) placement: Placement,
    pub(super) head_of_line: HeadOfLine,
    pub(super) admission_policy: Box<dyn AdmissionPolicy>,
    pub(super) cpu_policy: Box<dyn CpuPolicy>,
    pub(super) preemptive: bool,
    pub(super) quantum: Option<u64>,
    pub(super) context_switch: u64,
    pub(super) migration: u64,
    pub(super) mapping: Mapping,
    /// Gang scheduling (see [`crate::model::CpuSpec::gang`]).
    pub(super) gang: bool,
    pub(super) warmup_vms: u64,
    pub(super) queue: AdmissionQueue,
    pub(super) queue_scratch: Vec<QueueEntry>,
    /// VMs that arrived at the current instant, not yet in `queue`.
    pub(super) arrived_now: Vec<QueueEntry>,
    pub(super) admission_dirty: bool,
    /// A VM left the system (capacity freed, or a queued VM gone) since the last
    /// admission pass; otherwise only arrivals happened.
    pub(super) departed_since_pass: bool,
    pub(super) dirty_hosts: Vec<u32>,
    pub(super) vms: Slab<Vm>,
    pub(super) vcpus: Slab<Vcpu>,
    /// Device requests in service (what a `DeviceDone` event names).
    pub(super) io_in_flight: Slab<InFlight>,
    pub(super) next_vcpu_uid: u64,
    pub(super) in_system: u64,
    pub(super) last_change: SimTime,
    pub(super) stats: RunStats,
    pub(super) observer: &'a mut O,
    pub(super) want_slices: bool,
    pub(super) want_decisions: bool,
    pub(super) rng_io: SimRng,
    pub(super) rng_paging: SimRng,
    pub(super) lifecycle: Vec<LifecycleEvent>,
    /// VM id → slot, for VMs that lifecycle events name.
    pub(super) lifecycle_slots: BTreeMap<u64, u32>,
    pub(super) timeline: Option<SimTime>,
    pub(super) arrivals_done: bool,
    pub(super) sample: HostSample,
    /// The plain path may be taken (no lifecycle events).
    pub(super) plain_ok: bool,
}
