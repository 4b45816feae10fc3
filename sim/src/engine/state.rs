//! The engine's state: the events, the VMs, vCPUs, pCPUs and hosts, and the `Engine` that
//! holds them all. The behaviour lives in the sibling files, one concern each.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::event::EventQueue;
use crate::model::{HeadOfLine, LifecycleEvent, Mapping, VmRequest};
use crate::observer::{HostSample, Observer};
use crate::policy::{AdmissionPolicy, CpuPolicy};
use crate::rng::SimRng;
use crate::time::SimTime;

use super::RunStats;
use super::admission_queue::AdmissionQueue;
use super::capacity::ClusterFacts;
pub(super) use super::counters::VmCounters;
use super::device::Device;
use super::ids::{CountersSlot, HostId, OptId, PcpuId, RequestSlot, VcpuSlot, VmSlot};
use super::pcpus::Pcpus;
use super::placement_index::PlacementIndex;
use super::slab::Slab;

/// Work without a limit: `Vcpu::burst_left` without I/O, `Vcpu::fault_in` with no fault due.
pub(super) const NO_LIMIT: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Event {
    /// The current segment of the slice on `pcpu` of `host` ends, unless `generation` is
    /// stale.
    SliceEnd {
        host: HostId,
        pcpu: PcpuId,
        generation: u32,
    },
    /// A device finishes a request (a slot of `Engine::io_in_flight`: kept out of the event
    /// so that an event, and a heap entry, stays small).
    DeviceDone { request: RequestSlot },
    /// A VM on the plain path (see [`Engine::admit_plain`]) finishes: all its vCPUs end
    /// their only slice at this instant.
    /// (With the VM's host and first pCPU, so that the end reads the VM and the host at
    /// once rather than one after the other.)
    VmDone {
        slot: VmSlot,
        host: HostId,
        first: PcpuId,
    },
    /// The next cap period of VM `slot` starts: its pool is refilled (ignored unless
    /// `epoch` is that of the VM now in the slot).
    CapRefill { slot: VmSlot, epoch: u32 },
    /// An accounting period of host `host`, which has vCPUs parked by the CPU policy,
    /// starts (see `park.rs`).
    ParkWake { host: HostId },
    /// A scheduled lifecycle event (index into the sorted list).
    Lifecycle { index: u32 },
    /// A timeline sample.
    Sample,
    /// Host `host` switches off if it has been idle since `[cluster] power_off_idle_s`.
    PowerOff { host: HostId },
    /// Host `host` finishes booting.
    BootDone { host: HostId },
    /// Host `host` fails.
    HostFail { host: HostId },
    /// Host `host` is repaired.
    HostRepair { host: HostId },
    /// Conservative backfilling: a waiting VM's reservation starts (see `backfill`).
    AdmissionWake,
    /// A live migration's pre-copy or stop-copy ends (see `migration.rs`).
    MigrationStep { uid: u32 },
    /// A consolidation decision.
    Consolidate,
}

/// A device request in service: which host's device, for which vCPU (slot and uid).
#[derive(Clone, Copy, Debug)]
pub(super) struct InFlight {
    pub(super) host: HostId,
    pub(super) device: u32,
    pub(super) vcpu: VcpuSlot,
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
    pub(super) slot: VcpuSlot,
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
    pub(super) slot: VmSlot,
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
    /// The host it was admitted to (none while queued).
    pub(super) host: OptId<HostId>,
    pub(super) home_node: u32,
    pub(super) admission: SimTime,
    pub(super) first_run: Option<SimTime>,
    pub(super) vcpus_left: u32,
    /// First vCPU slot (vCPUs of a VM are linked through `Vcpu::next`); none before
    /// admission and on the plain path.
    pub(super) first_vcpu: OptId<VcpuSlot>,
    /// First pCPU held by the VM on the plain path (the rest are linked through
    /// `Pcpu::running`), none otherwise.
    pub(super) plain_pcpu: OptId<PcpuId>,
    pub(super) paused: bool,
    /// Working set reclaimed by the balloon while paused (MiB).
    pub(super) ballooned_mib: u64,
    pub(super) stopped: bool,
    /// A live migration of the VM is under way (see `migration.rs`).
    pub(super) migrating: bool,
    /// Its waits, faults and I/O so far (none until the first is counted: a VM on the
    /// plain path never has any, and does not pay for them).
    pub(super) counters: OptId<CountersSlot>,
}

#[derive(Clone, Debug)]
pub(super) struct Vcpu {
    pub(super) vm: VmSlot,
    /// Its number within the VM.
    pub(super) index: u32,
    pub(super) uid: u64,
    /// The VM's next vCPU.
    pub(super) next: OptId<VcpuSlot>,
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
    /// The CPU policy's state word (see [`crate::policy::CpuPolicy::on_charged`]).
    pub(super) policy_state: u64,
    pub(super) ready_since: SimTime,
    pub(super) blocked_since: SimTime,
    pub(super) preempted: bool,
    /// The pCPU it last ran on (none before its first run).
    pub(super) last_pcpu: OptId<PcpuId>,
    /// The pCPU it is pinned to (none with floating vCPUs).
    pub(super) pin: OptId<PcpuId>,
    pub(super) epoch: u32,
    /// The current constant-rate segment of its slice, while it runs (kept with the vCPU
    /// rather than its pCPU: the plain path, which has no vCPU slots, never plans one, so
    /// pCPUs stay small).
    pub(super) seg: Segment,
}

/// A constant-rate segment of a running vCPU's slice.
#[derive(Clone, Copy, Debug)]
pub(super) struct Segment {
    /// When it started (or was last settled).
    pub(super) start: SimTime,
    /// Work it does if it runs to `end`.
    pub(super) work: u64,
    pub(super) end: SimTime,
    pub(super) rate: f64,
}

impl Segment {
    /// No segment (a vCPU not yet running).
    pub(super) const NONE: Segment = Segment {
        start: SimTime::ZERO,
        work: 0,
        end: SimTime::ZERO,
        rate: 1.0,
    };
}

/// A host: its pCPUs and run queues, and its state in parts (capacity, topology, paging,
/// busy accounting).
///
/// Laid out in declaration order (`repr(C)`) on cache-line boundaries, so that what every
/// admission and departure reads — capacity and flags, run queues, idle bits — lies in the
/// first three cache lines, the first 16 pCPUs at the end (where they lie follows from
/// the host's number), and the rest between: with many hosts, a host's state is mostly
/// not in the caches when a VM arrives or leaves.
#[derive(Debug)]
#[repr(C, align(64))]
pub(super) struct Host {
    /// What admission books on the host.
    pub(super) capacity: Capacity,
    /// vCPUs blocked on a device request.
    pub(super) blocked: u32,
    pub(super) dirty: bool,
    pub(super) dedicated: bool,
    /// Dedicated, one thread per core, one NUMA node, no translation overhead, floating
    /// vCPUs, no time slicing: a VM without I/O or memory profile runs every vCPU from
    /// admission to its end without a rate change or an interruption.
    pub(super) plain: bool,
    /// The time slice on this host (none without time slicing; read it with
    /// [`Host::quantum`]).
    pub(super) slice: Option<std::num::NonZeroU64>,
    /// CPU cost of one VM exit (ns).
    pub(super) exit_cost: u64,
    /// One run queue (floating) or one per pCPU (pinned).
    pub(super) ready: RunQueues,
    pub(super) devices: Vec<Device>,
    /// Which pCPUs are idle, and ∫ busy pCPUs dt for the timeline.
    pub(super) busy: Busy,
    /// SMT, NUMA and translation: the rates vCPUs run at.
    pub(super) topology: Topology,
    /// Working sets, the resident limit and the swap device.
    pub(super) paging: Paging,
    /// Power state, boots and failures (boxed: cold, kept off the hot part of the host).
    pub(super) ops: Box<HostOps>,
    /// Its pCPUs, the first 16 here (their place follows from the host's number).
    pub(super) pcpus: Pcpus,
}

impl<O: Observer> Engine<'_, O> {
    /// The quantum of the slice running on `p` of host `h` (ns; `u64::MAX`: none).
    pub(super) fn slice_quantum(&self, h: HostId, p: PcpuId) -> u64 {
        match self.slice_quanta.get(h.0 as usize) {
            Some(per_pcpu) => per_pcpu[p.0 as usize],
            None => self.hosts[h].quantum().unwrap_or(u64::MAX),
        }
    }
}

impl Host {
    /// The time slice on this host in ns (none without time slicing).
    #[inline]
    pub(super) fn quantum(&self) -> Option<u64> {
        self.slice.map(std::num::NonZeroU64::get)
    }
}

/// A host's power state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PowerState {
    On,
    Off,
    Booting,
    Failed,
}

impl PowerState {
    /// Name in outputs.
    pub(super) fn name(self) -> &'static str {
        match self {
            PowerState::On => "on",
            PowerState::Off => "off",
            PowerState::Booting => "booting",
            PowerState::Failed => "failed",
        }
    }
    /// Switched on (booting counts).
    pub(super) fn is_on(self) -> bool {
        matches!(self, PowerState::On | PowerState::Booting)
    }
}

/// A host's datacenter state: power state and the instants its pending events are for.
#[derive(Debug)]
pub(super) struct HostOps {
    pub(super) state: PowerState,
    /// Since when it has held no VM (valid while `capacity.admitted == 0`).
    pub(super) idle_since: SimTime,
    /// When a boot under way ends.
    pub(super) boot_until: SimTime,
    /// How long a boot takes.
    pub(super) boot: SimTime,
    /// Since when it is on / failed.
    pub(super) on_since: SimTime,
    pub(super) down_since: SimTime,
    pub(super) stats: crate::datacenter::HostOpsStats,
}

/// What admission books on a host: vCPU slots and memory, and the VMs admitted.
///
/// `used_vcpus` and `used_mem` change only through `Engine::reserve_capacity` and
/// `Engine::release_capacity` (in `capacity.rs`), which end in `Engine::capacity_changed`
/// so that the placement index stays in step. A new writer must go through them.
#[derive(Debug)]
pub(super) struct Capacity {
    pub(super) vcpu_cap: u64,
    pub(super) mem_cap: u64,
    pub(super) used_vcpus: u64,
    pub(super) used_mem: u64,
    pub(super) admitted: u64,
}

/// A host's SMT and NUMA layout and the speed factors it gives.
#[derive(Debug)]
pub(super) struct Topology {
    pub(super) threads_per_core: u32,
    pub(super) smt_speed: f64,
    pub(super) numa_nodes: u32,
    /// Memory of admitted VMs on each NUMA node (MiB; kept, and allocated, only with more
    /// than one node).
    pub(super) node_mem_used: Vec<u64>,
    pub(super) node_mem_cap: u64,
    pub(super) remote_speed: f64,
    /// The rate of two-level address translation, `1 / (1 + overhead)`.
    pub(super) translation_speed: f64,
}

/// A host's guest memory: pages, working sets against the resident limit, and swap.
#[derive(Debug)]
pub(super) struct Paging {
    pub(super) page_bytes: u64,
    /// Cost of mapping one page on first touch (ns).
    pub(super) first_touch: u64,
    pub(super) resident_limit_mib: u64,
    pub(super) balloon: bool,
    /// Sum of the working sets of the admitted VMs (MiB).
    pub(super) working_set_mib: u64,
    /// Index of the swap device in `Host::devices`.
    pub(super) swap: usize,
    pub(super) swap_ins: u64,
    pub(super) sampled_swap_ins: u64,
}

/// A host's run queues: the first kept in the host itself (a host with floating vCPUs has
/// only that one, and the plain path's end reads it without another cache miss), the
/// others, one per pCPU with pinned vCPUs, beside it.
#[derive(Debug, Default)]
pub(super) struct RunQueues {
    first: BinaryHeap<Reverse<ReadyEntry>>,
    rest: Box<[BinaryHeap<Reverse<ReadyEntry>>]>,
}

impl RunQueues {
    /// `n` ≥ 1 empty queues.
    pub(super) fn new(n: usize) -> Self {
        RunQueues {
            first: BinaryHeap::new(),
            rest: (1..n).map(|_| BinaryHeap::new()).collect(),
        }
    }

    /// How many queues.
    #[inline]
    pub(super) fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// The queues in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &BinaryHeap<Reverse<ReadyEntry>>> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }
}

impl std::ops::Index<usize> for RunQueues {
    type Output = BinaryHeap<Reverse<ReadyEntry>>;
    #[inline(always)]
    fn index(&self, q: usize) -> &Self::Output {
        match q {
            0 => &self.first,
            _ => &self.rest[q - 1],
        }
    }
}

impl std::ops::IndexMut<usize> for RunQueues {
    #[inline(always)]
    fn index_mut(&mut self, q: usize) -> &mut Self::Output {
        match q {
            0 => &mut self.first,
            _ => &mut self.rest[q - 1],
        }
    }
}

/// A bitmap of a host's pCPUs, the first 64 in the host itself (no other allocation, and
/// no other cache miss, for hosts of up to 64 pCPUs).
#[derive(Debug, Default)]
pub(super) struct PcpuBits {
    first: u64,
    rest: Box<[u64]>,
}

impl PcpuBits {
    /// `pcpus` bits, all set.
    pub(super) fn all_set(pcpus: u32) -> Self {
        let word = |w: u32| {
            let n = pcpus.saturating_sub(w * 64).min(64);
            if n == 64 { u64::MAX } else { (1u64 << n) - 1 }
        };
        PcpuBits {
            first: word(0),
            rest: (1..pcpus.div_ceil(64)).map(word).collect(),
        }
    }

    #[inline(always)]
    fn word(&self, w: usize) -> u64 {
        match w {
            0 => self.first,
            _ => self.rest[w - 1],
        }
    }

    #[inline(always)]
    fn word_mut(&mut self, w: usize) -> &mut u64 {
        match w {
            0 => &mut self.first,
            _ => &mut self.rest[w - 1],
        }
    }
}

/// Which pCPUs of a host are idle (a bitmap), how many are busy, and ∫ busy pCPUs dt.
/// (In declaration order: what a pCPU taken or given back reads comes first, the areas a
/// timeline keeps last.)
#[derive(Debug)]
#[repr(C)]
pub(super) struct Busy {
    pub(super) idle: PcpuBits,
    pub(super) idle_count: u32,
    pub(super) busy_count: u32,
    pub(super) track_busy: bool,
    pub(super) busy_last: SimTime,
    /// The power model and the energy (none without a power model; boxed: kept off the
    /// hot part of the host).
    pub(super) power: Option<Box<BusyPower>>,
    /// ∫ busy pCPUs dt (ns), kept only when a timeline samples it (`track_busy`).
    pub(super) busy_area: u128,
    pub(super) sampled_busy_area: u128,
}

/// A host's power model and energy account.
#[derive(Debug, Default)]
pub(super) struct BusyPower {
    /// Watts drawn with `k` pCPUs busy, at index `k` (empty without a power model).
    pub(super) watts: Vec<f64>,
    /// The host is off or failed: it draws `off_w`.
    pub(super) off: bool,
    pub(super) off_w: f64,
    /// ∫ power dt (W·ns), kept with a power model (which sets `track_busy`).
    pub(super) energy: f64,
    pub(super) sampled_energy: f64,
}

impl Busy {
    pub(super) fn set_idle(&mut self, p: PcpuId, idle: bool, now: SimTime) {
        let p = p.0;
        let (w, b) = ((p / 64) as usize, p % 64);
        let was = self.idle.word(w) >> b & 1 == 1;
        if was != idle {
            if self.track_busy {
                self.advance(now);
            }
            *self.idle.word_mut(w) ^= 1 << b;
            if idle {
                self.idle_count += 1;
                self.busy_count -= 1;
            } else {
                self.idle_count -= 1;
                self.busy_count += 1;
            }
        }
    }

    /// [`Self::set_idle`] for a pCPU known to be in the other state (the plain path's
    /// pCPUs: taken idle at admission, given back busy at the end).
    #[inline(always)]
    pub(super) fn flip(&mut self, p: PcpuId, idle: bool, now: SimTime) {
        debug_assert_eq!(self.is_idle(p), !idle);
        if self.track_busy {
            self.advance(now);
        }
        let p = p.0;
        *self.idle.word_mut((p / 64) as usize) ^= 1 << (p % 64);
        if idle {
            self.idle_count += 1;
            self.busy_count -= 1;
        } else {
            self.idle_count -= 1;
            self.busy_count += 1;
        }
    }

    /// Integrates busy pCPUs (and, with a power model, watts) up to `now`.
    #[inline]
    pub(super) fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.busy_last.0);
        self.busy_area += u128::from(self.busy_count) * u128::from(dt);
        if self.power.as_ref().is_some_and(|p| !p.watts.is_empty()) {
            let w = self.draw();
            if let Some(p) = self.power.as_mut() {
                p.energy += w * dt as f64;
            }
        }
        self.busy_last = self.busy_last.max(now);
    }

    /// Watts drawn now (0 without a power model).
    pub(super) fn draw(&self) -> f64 {
        let Some(p) = &self.power else {
            return 0.0;
        };
        if p.off {
            p.off_w
        } else {
            p.watts
                .get(self.busy_count as usize)
                .copied()
                .unwrap_or(0.0)
        }
    }

    pub(super) fn is_idle(&self, p: PcpuId) -> bool {
        let p = p.0;
        self.idle.word((p / 64) as usize) >> (p % 64) & 1 == 1
    }

    #[inline(always)]
    pub(super) fn lowest_idle(&self) -> Option<PcpuId> {
        // (Up to 64 pCPUs: the first word, in the host.)
        let w = self.idle.first;
        if w != 0 {
            return Some(PcpuId(w.trailing_zeros()));
        }
        self.idle
            .rest
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| PcpuId((i as u32 + 1) * 64 + w.trailing_zeros()))
    }
}

impl Paging {
    /// Fraction of working sets that fits in memory (1 when all fit).
    pub(super) fn resident_fraction(&self) -> f64 {
        if self.working_set_mib <= self.resident_limit_mib {
            1.0
        } else {
            self.resident_limit_mib as f64 / self.working_set_mib as f64
        }
    }
}

impl Host {
    /// The NUMA node of pCPU `p`: the pCPUs are split into `numa_nodes` equal runs (not
    /// stored per pCPU, to keep a pCPU's state small).
    #[inline]
    pub(super) fn node_of(&self, p: PcpuId) -> u32 {
        (u64::from(p.0) * u64::from(self.topology.numa_nodes) / self.pcpus.len() as u64) as u32
    }

    /// The core of pCPU `p`: `threads_per_core` consecutive pCPUs share one.
    #[inline]
    pub(super) fn core_of(&self, p: PcpuId) -> u32 {
        p.0 / self.topology.threads_per_core
    }

    pub(super) fn lowest_idle_on_node(&self, node: u32) -> Option<PcpuId> {
        (0..self.pcpus.len() as u32)
            .map(PcpuId)
            .find(|&p| self.node_of(p) == node && self.busy.is_idle(p))
    }

    pub(super) fn queue_of(&self, pin: OptId<PcpuId>) -> usize {
        if self.ready.len() == 1 {
            0
        } else {
            pin.raw() as usize
        }
    }
}

pub(super) struct Engine<'a, O: Observer> {
    pub(super) now: SimTime,
    pub(super) events: EventQueue<Event>,
    pub(super) hosts: Vec<Host>,
    /// Free capacity of the hosts by placement rule (see `placement_index`); kept in step
    /// by `Engine::capacity_changed`.
    pub(super) placement_index: PlacementIndex,
    /// With one host (whose capacity placement reads instead of the index): whether
    /// placement may choose it (on and not failed).
    pub(super) only_host_open: bool,
    /// What an arrival checks without looking at every host.
    pub(super) cluster_facts: ClusterFacts,
    pub(super) head_of_line: HeadOfLine,
    pub(super) admission_policy: Box<dyn AdmissionPolicy>,
    pub(super) cpu_policy: Box<dyn CpuPolicy>,
    pub(super) preemptive: bool,
    /// The CPU policy's keys change with time: run queues are re-keyed at each decision.
    pub(super) dynamic_keys: bool,
    /// The CPU policy's accounting period in ns (`None`: it has none).
    pub(super) account_period: Option<u64>,
    /// Per host, the accounting period (multiple of `account_period`) it was last
    /// accounted in (empty without an accounting period; see `account.rs`).
    pub(super) account_epochs: Vec<u64>,
    /// The CPU policy keeps a state word per vCPU (`Vcpu::policy_state`).
    pub(super) policy_state: bool,
    /// The CPU policy reads run-queue averages of the state words (`queue_avg.rs`).
    pub(super) queue_avg: bool,
    /// Per host, per run queue, the sums behind its weighted average state (empty unless
    /// `queue_avg`; kept out of `Host` so that hosts stay small when no policy needs them).
    pub(super) queue_sums: Vec<Vec<crate::policy::QueueSums>>,
    /// Per host, per pCPU, how many vCPUs are pinned to it (empty unless vCPUs are pinned,
    /// `Mapping::Pinned`; kept out of `Pcpu` so that pCPUs stay small).
    pub(super) pinned: Vec<Box<[u32]>>,
    /// Per host, per pCPU, the quantum of the slice running there (ns; `u64::MAX`: none),
    /// as the CPU policy set it at dispatch (empty unless `policy_state`: the other
    /// policies use the host's slice).
    pub(super) slice_quanta: Vec<Vec<u64>>,
    /// CPU caps (`caps.rs`): none until the first capped VM is admitted.
    pub(super) caps: Option<Box<super::caps::Caps>>,
    /// The CPU policy enforces caps itself by parking vCPUs at its accounting instants
    /// (`park.rs`); then the bandwidth control of `caps.rs` is off.
    pub(super) parks: bool,
    /// Parked vCPUs (`park.rs`): none until the first is parked.
    pub(super) parking: Option<Box<super::park::Parking>>,
    /// The cap period (ns).
    pub(super) cap_period: u64,
    pub(super) context_switch: u64,
    pub(super) migration: u64,
    pub(super) mapping: Mapping,
    /// Gang scheduling (see [`crate::model::CpuSpec::gang`]).
    pub(super) gang: bool,
    pub(super) warmup_vms: u64,
    pub(super) queue: AdmissionQueue,
    pub(super) queue_scratch: Vec<QueueEntry>,
    /// Sizes (vCPUs, MiB) that failed to place in the current skip-ahead pass.
    pub(super) failed_sizes: Vec<(u64, u64)>,
    /// VMs that arrived at the current instant, not yet in `queue`.
    pub(super) arrived_now: Vec<QueueEntry>,
    pub(super) admission_dirty: bool,
    /// A VM left the system (capacity freed, or a queued VM gone) since the last
    /// admission pass; otherwise only arrivals happened.
    pub(super) departed_since_pass: bool,
    pub(super) dirty_hosts: Vec<HostId>,
    pub(super) vms: Slab<VmSlot, Vm>,
    /// The counters of VMs off the plain path (`Vm::counters`).
    pub(super) vm_counters: Slab<CountersSlot, VmCounters>,
    pub(super) vcpus: Slab<VcpuSlot, Vcpu>,
    /// Device requests in service (what a `DeviceDone` event names).
    pub(super) io_in_flight: Slab<RequestSlot, InFlight>,
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
    /// VM id → slot, for VMs that lifecycle events name (none before the VM arrives).
    pub(super) lifecycle_slots: BTreeMap<u64, OptId<VmSlot>>,
    pub(super) timeline: Option<SimTime>,
    pub(super) arrivals_done: bool,
    pub(super) sample: HostSample,
    /// The plain path may be taken (no lifecycle events, no failures).
    pub(super) plain_ok: bool,
    /// Datacenter operations (power, power-off, failures).
    pub(super) dc: super::power::Ops,
    /// Backfilling's plans (empty when off).
    pub(super) backfill: super::backfill::Backfiller,
    /// Live migrations and consolidation (none unless configured).
    pub(super) mig: Option<Box<super::migration::Migrations>>,
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::super::ids::{HostId, OptId, PcpuId, Running, VcpuSlot};
    use super::*;

    /// Typed indices cost nothing: an index, an absent one and a pCPU's occupant are 4
    /// bytes, and the structs of the hot path keep the sizes they had with bare `u32`s and
    /// sentinels (measured before the change: Event 16, Vm 240, Vcpu 96, Pcpu 88,
    /// ReadyEntry 64, QueueEntry 48, InFlight 24). `Vcpu` grew deliberately to 104 with the
    /// CPU policy's state word (`policy_state`, for time- and service-dependent keys), and
    /// `Vm` to 248 with the request's CPU weight (`VmProfile::weight`), then to 256 with its
    /// CPU cap and memory dirtying rate (`cpu_cap_ppm`, `dirty_mib_per_s`). `Pcpu` shrank to
    /// 32 (every host has 16 or so of them, most of them plain) and `Vcpu` grew to 136 (only
    /// off the plain path) when a running slice's segment (start, work, end, rate: 32 bytes)
    /// moved from the pCPU to its vCPU, the pinned count to `Engine::pinned` and the plain
    /// path's chain into `Running`. `Vm` shrank to 192 when its waits, faults and I/O
    /// counters (72 bytes) moved beside it, made only for VMs off the plain path.
    #[test]
    fn typed_indices_keep_the_hot_structs_small() {
        assert_eq!(size_of::<HostId>(), 4);
        assert_eq!(size_of::<OptId<VcpuSlot>>(), 4);
        assert_eq!(size_of::<OptId<PcpuId>>(), 4);
        assert_eq!(size_of::<Running>(), 4);
        assert_eq!(size_of::<Event>(), 16);
        assert_eq!(size_of::<Vm>(), 192);
        assert_eq!(size_of::<Option<Vm>>(), 192);
        assert_eq!(size_of::<Vcpu>(), 136);
        assert_eq!(size_of::<super::super::pcpus::Pcpu>(), 32);
        assert_eq!(size_of::<ReadyEntry>(), 64);
        assert_eq!(size_of::<QueueEntry>(), 48);
        assert_eq!(size_of::<InFlight>(), 24);
    }

    /// What an admission and a departure on the plain path read of a host lies in its
    /// first three cache lines (the host is 64-byte aligned): capacity and flags in the
    /// first, run queues in the second, the idle bits and busy count in the third (the
    /// pCPUs come after, at an offset known without reading the host).
    #[test]
    fn a_hosts_hot_fields_share_three_cache_lines() {
        use std::mem::{align_of, offset_of};
        assert_eq!(align_of::<Host>(), 64);
        let end = |offset: usize, size: usize| offset + size;
        assert!(end(offset_of!(Host, exit_cost), 8) <= 64);
        assert!(end(offset_of!(Host, plain), 1) <= 64);
        assert!(offset_of!(Host, ready) >= 64);
        assert!(end(offset_of!(Host, ready), size_of::<RunQueues>()) <= 128);
        assert_eq!(offset_of!(Host, busy), 128);
        assert!(offset_of!(Host, busy) + offset_of!(Busy, power) + 8 <= 192);
    }
}
