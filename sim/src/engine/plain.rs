//! The plain fast path: a VM whose vCPUs each run, from admission to their end, on a pCPU
//! of their own, at full rate, uninterrupted; one event ends them all.

use crate::error::SimError;
use crate::observer::{Observer, SliceEnd, SliceRecord};
use crate::time::SimTime;

use super::ids::{HostId, OptId, PcpuId, Running, VmSlot};
use super::state::{Engine, Event};

impl<'a, O: Observer> Engine<'a, O> {
    /// The plain path: on a [`Host::plain`] host, a VM without I/O or memory profile runs
    /// each vCPU on its own pCPU from admission (after the context switch) to admission +
    /// switch + demand, untouched by anything else. So its vCPUs get no run-queue entries,
    /// segments or slice events: one `VmDone` event ends them all. Everything observable —
    /// slices, counters, the pCPUs chosen (lowest idle first, vCPU 0 first), the order of
    /// events — is what the general path gives (a test pins the outputs byte for byte).
    #[inline(always)]
    pub(super) fn admit_plain(&mut self, slot: VmSlot, h: HostId) -> Result<(), SimError> {
        let now = self.now;
        let cs = self.context_switch;
        let start = SimTime(now.nanos().saturating_add(cs));
        // (A plain host has one NUMA node: the home node stays 0.) What `Self::reserve`
        // does, with one look-up of the VM.
        let vm = self.vms.get_mut(slot);
        vm.host = OptId::some(h);
        vm.admission = now;
        vm.first_run = Some(start);
        let (vcpus, id, mem) = (vm.req.vcpus, vm.req.id, vm.req.memory_mib);
        let end = SimTime(start.nanos().saturating_add(vm.req.demand.nanos()));
        self.reserve_capacity(h, u64::from(vcpus), mem);
        if self.backfill.on() {
            self.backfill_admitted(slot, h);
        }
        let mut first = OptId::NONE;
        let mut prev: OptId<PcpuId> = OptId::NONE;
        for index in 0..vcpus {
            let host = &mut self.hosts[h];
            // A dedicated host has a pCPU for every vCPU it admitted.
            let Some(p) = host.busy.lowest_idle() else {
                return Err(SimError::InvalidConfig(format!(
                    "internal: no idle pCPU on dedicated host {h} for VM {id}"
                )));
            };
            let pc = &mut host.pcpus[p];
            pc.running = Running::PLAIN_LAST;
            pc.dispatch = now;
            pc.start = start;
            pc.last_uid = self.next_vcpu_uid;
            pc.generation = pc.generation.wrapping_add(1);
            self.next_vcpu_uid += 1;
            match prev.get() {
                None => first = OptId::some(p),
                Some(q) => host.pcpus[q].running = Running::plain_then(p),
            }
            prev = OptId::some(p);
            host.busy.flip(p, false, now);
            if cs > 0 {
                self.stats.context_switches += 1;
            }
            self.decide_alone(h, p, slot, index);
        }
        self.vms.get_mut(slot).plain_pcpu = first;
        // (A VM has at least one vCPU.)
        let first = first.known();
        self.events.schedule(
            now,
            end,
            Event::VmDone {
                slot,
                host: h,
                first,
            },
        )
    }

    /// The end of a plain-path VM on host `h` whose vCPU 0 holds pCPU `first`: each
    /// vCPU's slice ends (vCPU 0 first), then the VM. (The host and pCPU come with the
    /// event, as the VM has them: a plain-path VM never moves.)
    pub(super) fn plain_done(
        &mut self,
        slot: VmSlot,
        h: HostId,
        first: PcpuId,
    ) -> Result<(), SimError> {
        let now = self.now;
        let vm = self.vms.get(slot);
        debug_assert_eq!((vm.host.get(), vm.plain_pcpu.get()), (Some(h), Some(first)));
        let (id, demand) = (vm.req.id, vm.req.demand.nanos());
        let mut link = Some(first);
        let mut index = 0u32;
        while let Some(p) = link {
            self.count_event();
            self.stats.work_ns += u128::from(demand);
            let host = &mut self.hosts[h];
            let pc = &mut host.pcpus[p];
            let next = pc.running.plain_next();
            self.stats.busy_ns += u128::from(now.nanos() - pc.dispatch.nanos());
            let (dispatch, start) = (pc.dispatch, pc.start.min(now));
            pc.running = Running::IDLE;
            pc.generation = pc.generation.wrapping_add(1);
            host.busy.flip(p, true, now);
            if self.want_slices {
                self.observer.on_slice(&SliceRecord {
                    host: h.0,
                    pcpu: p.0,
                    vm: id,
                    vcpu: index,
                    dispatch,
                    start,
                    end: now,
                    reason: SliceEnd::Finished,
                });
            }
            index += 1;
            link = next;
        }
        if !self.hosts[h].ready[0].is_empty() {
            self.mark_dirty(h);
        }
        self.finish_vm(slot);
        Ok(())
    }
}
