//! Slices: a vCPU starts on a pCPU (context switch, migration), is taken off it (preempted,
//! quantum expired, paused, stopped), or its slice ends (finished, blocked).

use crate::error::SimError;
use crate::observer::{Observer, SliceEnd, SliceRecord};
use crate::time::SimTime;

use super::ids::{HostId, OptId, PcpuId, Running, VcpuSlot};
use super::state::{Engine, VcpuState, VmCounters};

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn start(&mut self, h: HostId, p: PcpuId, v: VcpuSlot) -> Result<(), SimError> {
        let now = self.now;
        // Major faults: with resident fraction f < 1, each touch misses with probability
        // 1 − f; misses form a Poisson process in CPU work (redrawn at every dispatch,
        // which the memorylessness of the exponential allows).
        let vm_slot = self.vcpus.get(v).vm;
        let fault_in = self.draw_fault_in(h, vm_slot);
        let rate = self.rate(h, p, v);
        let (cs, mig) = {
            let pcpu = &self.hosts[h].pcpus[p];
            let vcpu = self.vcpus.get(v);
            let cs = if pcpu.last_uid == vcpu.uid {
                0
            } else {
                self.context_switch
            };
            let mig = vcpu.last_pcpu.get().is_some_and(|last| last != p);
            (cs, mig)
        };
        if cs > 0 {
            self.stats.context_switches += 1;
        }
        let mig_cost = if mig {
            self.stats.migrations += 1;
            VmCounters::of(self.vms.get_mut(vm_slot), &mut self.vm_counters).migrations += 1;
            self.migration
        } else {
            0
        };
        let start = SimTime(now.nanos().saturating_add(cs).saturating_add(mig_cost));
        if self.policy_state {
            // The policy sees the dispatch and may give this slice its own quantum (MLFQ's
            // level); `plan_segment` reads it from `slice_quanta`.
            let q = self.dispatch_policy_state(h, v);
            self.slice_quanta[h.0 as usize][p.0 as usize] = q.unwrap_or(u64::MAX);
        }
        if self.caps.is_some() {
            // A capped vCPU takes a grant from its VM's pool; `plan_segment` ends the
            // slice at the grant's end when that comes before the quantum's.
            self.cap_grant(h, p, v, start);
        }
        let vcpu = self.vcpus.get_mut(v);
        vcpu.fault_in = fault_in;
        let waited = now.nanos() - vcpu.ready_since.nanos();
        vcpu.last_pcpu = OptId::some(p);
        let uid = vcpu.uid;
        let vm = self.vms.get_mut(vm_slot);
        VmCounters::of(vm, &mut self.vm_counters).ready_wait += waited;
        if vm.first_run.is_none() {
            vm.first_run = Some(start);
        }
        let host = &mut self.hosts[h];
        let pcpu = &mut host.pcpus[p];
        pcpu.running = Running::vcpu(v);
        pcpu.dispatch = now;
        pcpu.start = start;
        pcpu.last_uid = uid;
        host.busy.set_idle(p, false, now);
        self.plan_segment(h, p, start, rate)?;
        if self.hosts[h].topology.threads_per_core > 1 {
            self.retime_siblings(h, p)?;
        }
        Ok(())
    }

    /// Takes the vCPU running on `p` off it, accounting its work, and returns its slot.
    pub(super) fn take_off(
        &mut self,
        h: HostId,
        p: PcpuId,
        reason: SliceEnd,
    ) -> Result<VcpuSlot, SimError> {
        self.settle_segment(h, p);
        self.release(h, p, reason)
    }

    /// [`Engine::take_off`] for a segment already settled up to now.
    pub(super) fn release(
        &mut self,
        h: HostId,
        p: PcpuId,
        reason: SliceEnd,
    ) -> Result<VcpuSlot, SimError> {
        let now = self.now;
        if self.caps.is_some() {
            let v = self.hosts[h].pcpus[p].running.known_slot();
            self.cap_return(h, p, self.vcpus.get(v).vm);
        }
        let host = &mut self.hosts[h];
        let pcpu = &mut host.pcpus[p];
        let v = pcpu.running.known_slot();
        self.stats.busy_ns += u128::from(now.nanos() - pcpu.dispatch.nanos());
        let (dispatch, start) = (pcpu.dispatch, pcpu.start.min(now));
        pcpu.running = Running::IDLE;
        pcpu.generation = pcpu.generation.wrapping_add(1);
        host.busy.set_idle(p, true, now);
        if self.want_slices {
            let vcpu = self.vcpus.get(v);
            let s = SliceRecord {
                host: h.0,
                pcpu: p.0,
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
        if self.hosts[h].topology.threads_per_core > 1 {
            self.retime_siblings(h, p)?;
        }
        Ok(v)
    }

    /// Takes a running vCPU off before its slice ends and puts it back in its run queue.
    pub(super) fn preempt(&mut self, h: HostId, p: PcpuId, reason: SliceEnd) {
        // Retiming only fails on scheduling into the past, which cannot happen here.
        let Ok(v) = self.take_off(h, p, reason) else {
            return;
        };
        self.stats.preemptions += 1;
        self.requeue(h, v);
    }

    fn requeue(&mut self, h: HostId, v: VcpuSlot) {
        let vcpu = self.vcpus.get_mut(v);
        vcpu.ready_since = self.now;
        vcpu.preempted = true;
        let vm = vcpu.vm;
        VmCounters::of(self.vms.get_mut(vm), &mut self.vm_counters).preemptions += 1;
        self.set_state(v, VcpuState::Ready);
        self.enqueue_ready(h, v);
    }

    pub(super) fn slice_end(
        &mut self,
        h: HostId,
        p: PcpuId,
        generation: u32,
    ) -> Result<(), SimError> {
        let pcpu = &self.hosts[h].pcpus[p];
        if pcpu.generation != generation || pcpu.running.is_idle() {
            return Ok(()); // cancelled by a preemption or a retiming
        }
        let v = pcpu.running.known_slot();
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
        if reason == SliceEnd::Quantum && self.caps.is_some() && self.cap_slice_end(h, p)? {
            return Ok(()); // a new grant, or throttled
        }
        let v = self.release(h, p, reason)?;
        match reason {
            SliceEnd::Finished => self.vcpu_finished(v),
            SliceEnd::Blocked => self.block(h, v)?,
            _ => {
                self.stats.preemptions += 1;
                if self.policy_state {
                    let vcpu = self.vcpus.get_mut(v);
                    self.cpu_policy
                        .on_quantum_expired(&mut vcpu.policy_state, self.now);
                }
                self.requeue(h, v);
            }
        }
        Ok(())
    }
}
