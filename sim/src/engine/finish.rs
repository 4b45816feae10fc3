//! Completion: a vCPU's work is done, and a VM leaves the system (its record goes to the
//! observer, its host capacity is freed).

use crate::observer::{Observer, VmRecord};
use crate::time::SimTime;

use super::ids::{CountersSlot, OptId, VcpuSlot, VmSlot};
use super::state::{Engine, VcpuState, VmCounters};

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn vcpu_finished(&mut self, v: VcpuSlot) {
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
        // (A host's index out of range is no host: one bounds check for both.)
        if let Some(pin) = pin.get()
            && let Some(pinned) = self.pinned.get_mut(vm.host.raw() as usize)
        {
            pinned[pin.0 as usize] -= 1;
        }
        if vm.vcpus_left > 0 {
            return;
        }
        // Free the VM's vCPU slots, then the VM.
        let mut link = vm.first_vcpu;
        while let Some(v) = link.get() {
            link = self.vcpus.remove(v).map_or(OptId::NONE, |x| x.next);
        }
        self.finish_vm(vm_slot);
    }

    /// Gives the vCPU slots, memory and working set of VM `slot` back to its host (none
    /// while queued).
    #[inline(always)]
    pub(super) fn release_vm(&mut self, slot: VmSlot) {
        if self.backfill.on()
            && let Some(h) = self.vms.get(slot).host.get()
        {
            self.backfill_leaving(slot, h);
        }
        if self.vms.get(slot).migrating {
            self.abandon_migration_of(slot);
        }
        let vm = self.vms.get(slot);
        let (h, vcpus, mem, home) = (vm.host, vm.req.vcpus, vm.req.memory_mib, vm.home_node);
        // (A ballooned working set was taken off already.)
        let resident = vm
            .req
            .profile
            .memory
            .map(|m| m.working_set_mib.saturating_sub(vm.ballooned_mib));
        if let Some(hid) = h.get() {
            self.release_capacity(hid, u64::from(vcpus), mem);
            let host = &mut self.hosts[hid];
            // (A plain host has one NUMA node: its topology is not read.)
            if !host.plain && host.topology.numa_nodes > 1 {
                let n = &mut host.topology.node_mem_used[home as usize];
                *n = n.saturating_sub(mem);
            }
            let emptied = self.dc.power_off.is_some() && host.capacity.admitted == 0;
            if let Some(resident) = resident {
                host.paging.working_set_mib = host.paging.working_set_mib.saturating_sub(resident);
                // Re-planning only fails on scheduling into the past, which cannot happen.
                let _ = self.repage(h.known());
            }
            if emptied {
                // (Scheduling at now + idle is never in the past.)
                let _ = self.host_emptied(h.known());
            }
        }
    }

    /// Frees a VM's counters (out of line: VMs on the plain path have none, and the
    /// departure of one is the hot path).
    #[inline(never)]
    fn free_counters(&mut self, c: CountersSlot) {
        self.vm_counters.free(c);
    }

    #[inline(always)]
    pub(super) fn finish_vm(&mut self, slot: VmSlot) {
        let Some(vm) = self.vms.try_get(slot) else {
            return;
        };
        let residence = self.now.nanos() - vm.req.arrival.nanos();
        let throttled = if self.caps.is_some() {
            self.throttled_time(slot)
        } else {
            SimTime::ZERO
        };
        self.release_vm(slot);
        self.admission_dirty = true;
        self.departed_since_pass = true;
        self.stats.finished += 1;
        self.count_change(false);
        self.stats.vm_time_area_ns += u128::from(residence);
        let now = self.now;
        let downtime = match self.mig.as_mut() {
            Some(m) => m.take_downtime(slot),
            None => SimTime::ZERO,
        };
        // Read in place (the slot is freed below): no copy of the VM on the way out.
        let vm = self.vms.get(slot);
        let counters = vm.counters;
        let c = match counters.get() {
            Some(c) => self.vm_counters.get(c),
            None => &VmCounters::ZERO,
        };
        self.observer.on_vm_finished_with(|| {
            let r = &vm.req;
            let admission = if vm.host.is_none() { now } else { vm.admission };
            VmRecord {
                id: r.id,
                // (`u32::MAX` for a VM stopped while queued.)
                host: vm.host.raw(),
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
                ready_wait: SimTime(c.ready_wait),
                preemptions: c.preemptions,
                warmup: vm.warmup,
                io_wait: SimTime(c.io_wait),
                io_service: SimTime(c.io_service),
                io_requests: c.io_requests,
                fault_stall: SimTime(c.fault_stall),
                fault_service: SimTime(c.fault_service),
                minor_faults: c.minor_faults,
                major_faults: c.major_faults,
                migrations: c.migrations,
                stopped: vm.stopped,
                throttled,
                downtime,
            }
        });
        if let Some(c) = counters.get() {
            self.free_counters(c);
        }
        self.vms.free(slot);
    }
}
