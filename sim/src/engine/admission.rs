//! Admission: a VM arrives, waits in the admission queue, and is placed on a host that has
//! room for its vCPUs and memory; off the plain path its vCPUs are created there.

use crate::error::SimError;
use crate::model::{HeadOfLine, IoBursts, Mapping, VmRequest};
use crate::observer::Observer;
use crate::time::SimTime;

use super::device::draw_exp;
use super::ids::{HostId, OptId, PcpuId, VmSlot};
use super::slab::Slab;
use super::state::{
    Engine, Host, NO_LIMIT, QueueEntry, Segment, Vcpu, VcpuState, Vm, VmCounters, tie,
};

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn arrive(&mut self, vm: &VmRequest) -> Result<(), SimError> {
        self.count_event();
        let index = self.stats.arrivals;
        self.stats.arrivals += 1;
        if vm.vcpus == 0 {
            return Err(SimError::InvalidVm {
                id: vm.id,
                reason: "has 0 vCPUs".into(),
            });
        }
        if !self
            .cluster_facts
            .fits_somewhere(u64::from(vm.vcpus), vm.memory_mib)
        {
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
            if !self.cluster_facts.everywhere(kind) {
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
            slot: VmSlot(0),
        };
        let (vcpus, id) = (vm.vcpus, vm.id);
        let warmup = index < self.warmup_vms;
        let slot = self.vms.insert_with(|| Vm {
            req: vm.clone(),
            warmup,
            host: OptId::NONE,
            home_node: 0,
            admission: SimTime::ZERO,
            first_run: None,
            vcpus_left: vcpus,
            first_vcpu: OptId::NONE,
            plain_pcpu: OptId::NONE,
            paused: false,
            ballooned_mib: 0,
            stopped: false,
            migrating: false,
            counters: OptId::NONE,
        });
        if !self.lifecycle_slots.is_empty()
            && let Some(s) = self.lifecycle_slots.get_mut(&id)
        {
            *s = OptId::some(slot);
        }
        if self.backfill.quick {
            self.backfill_arrived(slot);
        }
        self.arrived_now.push(QueueEntry { slot, ..entry });
        self.admission_dirty = true;
        Ok(())
    }

    pub(super) fn admission_pass(&mut self) -> Result<(), SimError> {
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
        if self.backfill.on() {
            return self.backfill_pass();
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
                        None => {
                            if self.dc.power_off.is_some() {
                                self.wake_for(u64::from(vm.vcpus), vm.memory_mib)?;
                            }
                            break;
                        }
                    }
                }
            }
            HeadOfLine::SkipAhead => self.skip_ahead_pass()?,
        }
        Ok(())
    }

    /// One pass of skip-ahead admission: every waiting VM that fits is admitted, in queue
    /// order. Capacity only shrinks during a pass, so a VM at least as large in both
    /// dimensions as one that already failed in this pass fails too and is passed over
    /// without a placement query, as is one larger than the most free vCPU slots or
    /// memory of any host; the pass stops when no host has a free vCPU slot (with hosts
    /// switched off, once the first VM that fits nowhere has woken one). The order and
    /// the choices are those of trying every VM.
    fn skip_ahead_pass(&mut self) -> Result<(), SimError> {
        let mut scratch = std::mem::take(&mut self.queue_scratch);
        let mut failed = std::mem::take(&mut self.failed_sizes);
        failed.clear();
        while let Some(e) = self.queue.pop() {
            if self.stats.stopped > 0 && !queued_live(&self.vms, &e) {
                continue;
            }
            let vm = &self.vms.get(e.slot).req;
            let (v, m) = (u64::from(vm.vcpus), vm.memory_mib);
            let (top_v, top_m) = self.max_free();
            let place =
                if v > top_v || m > top_m || failed.iter().any(|&(fv, fm)| v >= fv && m >= fm) {
                    None
                } else {
                    self.place(v, m)
                };
            match place {
                Some(h) => self.admit(e.slot, h)?,
                None => {
                    // (Only the first VM that fits nowhere wakes a host.)
                    if scratch.is_empty() && self.dc.power_off.is_some() {
                        self.wake_for(v, m)?;
                    }
                    scratch.push(e);
                    // Keep the smallest failed sizes (a few: VM sizes repeat).
                    if failed.len() < MAX_FAILED_SIZES
                        && !failed.iter().any(|&(fv, fm)| v >= fv && m >= fm)
                    {
                        failed.retain(|&(fv, fm)| !(fv >= v && fm >= m));
                        failed.push((v, m));
                    }
                }
            }
            // Nothing fits without a free vCPU slot (every VM has at least one vCPU); with
            // hosts switched off, not before the first VM that fits nowhere has woken one.
            if self.max_free().0 == 0 && (self.dc.power_off.is_none() || !scratch.is_empty()) {
                break;
            }
        }
        self.queue.put_back(&mut scratch);
        self.queue_scratch = scratch;
        self.failed_sizes = failed;
        Ok(())
    }

    /// Admits queued VM `slot` to host `h` (which has room for it).
    pub(super) fn admit(&mut self, slot: VmSlot, h: HostId) -> Result<(), SimError> {
        let vm = self.vms.get(slot);
        if self.plain_ok
            && self.hosts[h].plain
            && vm.req.profile.io.is_none()
            && vm.req.profile.memory.is_none()
            && vm.req.profile.cpu_cap_ppm == 0
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
    pub(super) fn reserve(&mut self, slot: VmSlot, h: HostId) {
        let vm = self.vms.get_mut(slot);
        vm.host = OptId::some(h);
        vm.admission = self.now;
        let (vcpus, mem) = (vm.req.vcpus, vm.req.memory_mib);
        if vm.req.profile.cpu_cap_ppm != 0 || self.caps.is_some() {
            self.caps_admit(slot);
        }
        self.reserve_capacity(h, u64::from(vcpus), mem);
        if self.backfill.on() {
            self.backfill_admitted(slot, h);
        }
    }

    /// [`Self::admit`] off the plain path: vCPUs, run queues, first touch, I/O bursts.
    #[inline(never)]
    fn admit_general(&mut self, slot: VmSlot, h: HostId) -> Result<(), SimError> {
        let now = self.now;
        let mapping = self.mapping;
        self.reserve(slot, h);
        let host = &mut self.hosts[h];
        let vm = self.vms.get_mut(slot);
        let (vcpus, mem, demand) = (vm.req.vcpus, vm.req.memory_mib, vm.req.demand.nanos());
        let home = choose_home_node(host, mem);
        vm.home_node = home;
        // First touch: the working set is mapped page by page, a cost shared by the vCPUs.
        let (mut touch_per_vcpu, mut touch_extra) = (0u64, 0u64);
        if let Some(m) = vm.req.profile.memory {
            host.paging.working_set_mib = host
                .paging
                .working_set_mib
                .saturating_add(m.working_set_mib);
            let pages =
                (m.working_set_mib.saturating_mul(1 << 20)).div_ceil(host.paging.page_bytes);
            self.stats.minor_faults += pages;
            let cost = pages.saturating_mul(host.paging.first_touch);
            let c = VmCounters::of(vm, &mut self.vm_counters);
            c.minor_faults = pages;
            c.fault_service = c.fault_service.saturating_add(cost);
            c.fault_stall = c.fault_stall.saturating_add(cost);
            touch_per_vcpu = cost / u64::from(vcpus);
            touch_extra = cost % u64::from(vcpus);
        }
        let io_bursts = vm.req.profile.io.map(|io| io.bursts);
        let paused = vm.paused;
        let mut prev = OptId::NONE;
        for index in (0..vcpus).rev() {
            let uid = self.next_vcpu_uid;
            self.next_vcpu_uid += 1;
            let host = &mut self.hosts[h];
            let pin = match mapping {
                Mapping::Floating => OptId::NONE,
                Mapping::Pinned => {
                    OptId::some(pin_vcpu(host, &mut self.pinned[h.0 as usize], home))
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
                policy_state: 0,
                ready_since: now,
                blocked_since: now,
                preempted: false,
                last_pcpu: OptId::NONE,
                pin,
                epoch: 0,
                seg: Segment::NONE,
            });
            if self.queue_avg && !paused {
                self.join_queue(v);
            }
            prev = OptId::some(v);
        }
        self.vms.get_mut(slot).first_vcpu = prev;
        if self.vms.get(slot).req.profile.memory.is_some() {
            self.repage(h)?;
        }
        if paused {
            return Ok(());
        }
        let mut link = prev;
        while let Some(v) = link.get() {
            let next = self.vcpus.get(v).next;
            let host = &self.hosts[h];
            match host.busy.lowest_idle() {
                // No competition for pCPUs on a dedicated host: every admitted vCPU starts
                // at once on the lowest idle pCPU, in admission order.
                Some(p)
                    if host.dedicated
                        && mapping == Mapping::Floating
                        && host.topology.numa_nodes == 1 =>
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
            link = next;
        }
        Ok(())
    }
}

/// The most distinct failed sizes a skip-ahead pass remembers (more only costs speed).
const MAX_FAILED_SIZES: usize = 16;

/// Whether an admission-queue entry still stands for a waiting VM (not stopped).
pub(super) fn queued_live(vms: &Slab<VmSlot, Vm>, e: &QueueEntry) -> bool {
    vms.try_get(e.slot)
        .is_some_and(|vm| vm.req.id == e.tie as u64 && vm.host.is_none() && !vm.stopped)
}

/// The home NUMA node of a VM of `mem` MiB placed on `host` (at admission or by a
/// migration): the node with the most free memory, lowest number on ties (0 with one
/// node); `mem` is booked on it.
pub(super) fn choose_home_node(host: &mut Host, mem: u64) -> u32 {
    let mut home = 0u32;
    if host.topology.numa_nodes > 1 {
        let mut best_free = 0u64;
        for n in 0..host.topology.numa_nodes {
            let free = host
                .topology
                .node_mem_cap
                .saturating_sub(host.topology.node_mem_used[n as usize]);
            if n == 0 || free > best_free {
                best_free = free;
                home = n;
            }
        }
        host.topology.node_mem_used[home as usize] += mem;
    }
    home
}

/// The pCPU of `host` a vCPU of a VM with home node `home` is pinned to (at admission or
/// by a migration): fewest pinned vCPUs (`pinned`, the host's counts per pCPU) on the home
/// node, lowest number on ties; counted as pinned there.
pub(super) fn pin_vcpu(host: &Host, pinned: &mut [u32], home: u32) -> PcpuId {
    let mut best = 0u32;
    let mut best_key = (true, u32::MAX);
    for (p, &n) in pinned.iter().enumerate() {
        let key = (host.node_of(PcpuId(p as u32)) != home, n);
        if key < best_key {
            best_key = key;
            best = p as u32;
        }
    }
    pinned[best as usize] += 1;
    PcpuId(best)
}
