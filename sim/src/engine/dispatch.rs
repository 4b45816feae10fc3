//! Run queues and dispatch: which ready vCPU runs on which pCPU, preemption, gang
//! scheduling, the decision trace, and the one place a vCPU changes state.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::error::SimError;
use crate::observer::{Decision, Observer, SliceEnd};
use crate::policy::VcpuView;
use crate::time::SimTime;

use super::ids::{HostId, PcpuId, VcpuSlot, VmSlot};
use super::rate::segment_work;
use super::state::{Engine, ReadyEntry, Vcpu, VcpuState, tie};

impl<'a, O: Observer> Engine<'a, O> {
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
            weight: vm.profile.weight,
            state: v.policy_state,
        }
    }

    pub(super) fn enqueue_ready(&mut self, h: HostId, v: VcpuSlot) {
        let vcpu = self.vcpus.get(v);
        let q = self.hosts[h].queue_of(vcpu.pin);
        // A key that changes with time is re-evaluated (`rekey`) at the dispatch this
        // enqueue marks the host for, before any entry is compared; such policies do not
        // preempt, so nothing compares it before that. Into an empty queue its value is
        // not needed (for a fair policy it costs a pass over the pCPUs); into a non-empty
        // one it keeps the heap ordered meanwhile.
        let key = if self.dynamic_keys && self.hosts[h].ready[q].is_empty() {
            0
        } else {
            self.cpu_policy
                .ready_key_at(&self.view(vcpu, 0), &self.queue_key_context(h, q))
        };
        let vm = &self.vms.get(vcpu.vm).req;
        let entry = ReadyEntry {
            key,
            tie: tie(vm),
            vcpu_index: vcpu.index,
            slot: v,
            uid: vcpu.uid,
            epoch: vcpu.epoch,
        };
        self.hosts[h].ready[q].push(Reverse(entry));
        self.mark_dirty(h);
    }

    pub(super) fn mark_dirty(&mut self, h: HostId) {
        let host = &mut self.hosts[h];
        if !host.dirty {
            host.dirty = true;
            self.dirty_hosts.push(h);
        }
    }

    /// The best live entry of run queue `q`, discarding stale ones. (Inlined into
    /// `dispatch_queue`, the hot caller, as before `dispatch_policy_state` called it too.)
    #[inline(always)]
    fn top_ready(&mut self, h: HostId, q: usize) -> Option<ReadyEntry> {
        loop {
            let &Reverse(top) = self.hosts[h].ready[q].peek()?;
            let live = self.vcpus.try_get(top.slot).is_some_and(|v| {
                v.uid == top.uid && v.epoch == top.epoch && v.state == VcpuState::Ready
            });
            if live {
                return Some(top);
            }
            self.hosts[h].ready[q].pop();
        }
    }

    /// The ordering entry of the vCPU running on `p` (its key with the work done so far).
    fn running_entry(&self, h: HostId, p: PcpuId) -> Option<ReadyEntry> {
        let pc = &self.hosts[h].pcpus[p];
        let slot = pc.running.slot()?;
        let v = self.vcpus.get(slot);
        let q = self.hosts[h].queue_of(v.pin);
        let key = self.cpu_policy.ready_key_at(
            &self.view(v, guest_part(v, segment_work(&v.seg, self.now))),
            &self.queue_key_context(h, q),
        );
        let vm = &self.vms.get(v.vm).req;
        Some(ReadyEntry {
            key,
            tie: tie(vm),
            vcpu_index: v.index,
            slot,
            uid: v.uid,
            epoch: v.epoch,
        })
    }

    /// Re-evaluates, at the current instant, the keys of the ready vCPUs of host `h` (for
    /// a policy whose keys change with time), dropping stale entries. Linear in the run
    /// queue; the heap's storage is reused, so nothing is allocated.
    fn rekey(&mut self, h: HostId) {
        for q in 0..self.hosts[h].ready.len() {
            // (An empty queue has nothing to re-evaluate: its context, which a fair
            // policy's run-queue average makes cost a pass over the pCPUs, is not needed.)
            if self.hosts[h].ready[q].is_empty() {
                continue;
            }
            let ctx = self.queue_key_context(h, q);
            let mut entries = std::mem::take(&mut self.hosts[h].ready[q]).into_vec();
            entries.retain_mut(|Reverse(e)| {
                let Some(v) = self.vcpus.try_get(e.slot) else {
                    return false;
                };
                if v.uid != e.uid || v.epoch != e.epoch || v.state != VcpuState::Ready {
                    return false;
                }
                e.key = self.cpu_policy.ready_key_at(&self.view(v, 0), &ctx);
                true
            });
            self.hosts[h].ready[q] = BinaryHeap::from(entries);
        }
    }

    pub(super) fn dispatch(&mut self, h: HostId) -> Result<(), SimError> {
        let accounted = match self.account_period {
            Some(period) => self.account(h, period)?,
            None => false,
        };
        if self.dynamic_keys || accounted {
            self.rekey(h);
        }
        let queues = self.hosts[h].ready.len();
        if queues == 1 {
            self.dispatch_queue(h, 0, None)
        } else {
            for p in 0..queues as u32 {
                self.dispatch_queue(h, p as usize, Some(PcpuId(p)))?;
            }
            Ok(())
        }
    }

    /// Tells the CPU policy (one that keeps per-vCPU state) that vCPU `v`, just taken from
    /// its run queue, is being dispatched, and returns the quantum of this dispatch (`None`
    /// without time slicing). Another vCPU was waiting if `v` waited since it last became
    /// ready (someone else took a pCPU first) or a live entry is left in its run queue.
    pub(super) fn dispatch_policy_state(&mut self, h: HostId, v: VcpuSlot) -> Option<u64> {
        let now = self.now;
        let (waited, pin) = {
            let vcpu = self.vcpus.get(v);
            (vcpu.ready_since < now, vcpu.pin)
        };
        let contended = waited || {
            let q = self.hosts[h].queue_of(pin);
            self.top_ready(h, q).is_some()
        };
        let vcpu = self.vcpus.get_mut(v);
        self.cpu_policy
            .on_dispatch(&mut vcpu.policy_state, contended, now);
        let state = vcpu.policy_state;
        self.hosts[h].quantum().map(|q| {
            self.cpu_policy
                .quantum_for(state, SimTime(q))
                .nanos()
                .max(1)
        })
    }

    /// Dispatches from run queue `q` onto any pCPU (`only = None`) or onto pCPU `only`.
    fn dispatch_queue(
        &mut self,
        h: HostId,
        q: usize,
        only: Option<PcpuId>,
    ) -> Result<(), SimError> {
        let mut preempted_vm = None;
        loop {
            let Some(top) = self.top_ready(h, q) else {
                return Ok(());
            };
            let host = &self.hosts[h];
            let target = match only {
                Some(p) => host.busy.is_idle(p).then_some(p),
                None if host.busy.idle_count > 0 => self.idle_pcpu_for(h, top.slot),
                None => None,
            };
            if let Some(p) = target {
                if self.caps.is_some() && self.cap_exhausted(self.vcpus.get(top.slot).vm) {
                    // Its VM used its cap for this period: it waits for the refill.
                    self.hosts[h].ready[q].pop();
                    self.throttle(top.slot)?;
                    continue;
                }
                if self.parks && self.is_parked(top.slot) {
                    // Parked by the policy (Xen Credit's cap): it waits for an accounting.
                    self.hosts[h].ready[q].pop();
                    self.park(h, top.slot)?;
                    continue;
                }
                let gang = self.gang && self.vms.get(self.vcpus.get(top.slot).vm).req.vcpus > 1;
                if gang {
                    let ready = self.ready_siblings(top.slot);
                    if ready > self.hosts[h].busy.idle_count {
                        // The gang waits for enough idle pCPUs; those behind it wait too.
                        return Ok(());
                    }
                }
                if self.want_decisions {
                    self.decide(h, q, p, top, preempted_vm.take());
                }
                self.hosts[h].ready[q].pop();
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
                Some(p) => p.0..p.0 + 1,
                None => 0..self.hosts[h].pcpus.len() as u32,
            };
            let mut worst: Option<(ReadyEntry, PcpuId)> = None;
            for p in candidates.map(PcpuId) {
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
    /// (The check is inlined at every admission; the report is out of line.)
    #[inline(always)]
    pub(super) fn decide_alone(&mut self, h: HostId, p: PcpuId, vm_slot: VmSlot, vcpu_index: u32) {
        if self.want_decisions {
            self.report_alone(h, p, vm_slot, vcpu_index);
        }
    }

    #[cold]
    #[inline(never)]
    fn report_alone(&mut self, h: HostId, p: PcpuId, vm_slot: VmSlot, vcpu_index: u32) {
        let d = Decision {
            time: self.now,
            host: h.0,
            pcpu: p.0,
            chosen: self.vms.get(vm_slot).req.id,
            vcpu: vcpu_index,
            passed_over: Vec::new(),
            preempted: None,
        };
        self.observer.on_decision(&d);
    }

    /// The idle pCPU of floating host `h` that vCPU `v` would take: the one it last ran on,
    /// else the lowest idle one on its VM's home node, else the lowest idle one.
    fn idle_pcpu_for(&self, h: HostId, v: VcpuSlot) -> Option<PcpuId> {
        let host = &self.hosts[h];
        let vcpu = self.vcpus.get(v);
        if let Some(last) = vcpu.last_pcpu.get()
            && host.busy.is_idle(last)
        {
            Some(last)
        } else if host.topology.numa_nodes > 1 {
            let home = self.vms.get(vcpu.vm).home_node;
            host.lowest_idle_on_node(home)
                .or_else(|| host.busy.lowest_idle())
        } else {
            host.busy.lowest_idle()
        }
    }

    /// Ready vCPUs of the VM of vCPU `v` (itself included when ready).
    fn ready_siblings(&self, v: VcpuSlot) -> u32 {
        let mut link = self.vms.get(self.vcpus.get(v).vm).first_vcpu;
        let mut n = 0;
        while let Some(w) = link.get() {
            let x = self.vcpus.get(w);
            n += u32::from(x.state == VcpuState::Ready);
            link = x.next;
        }
        n
    }

    /// Gang scheduling: starts every other ready vCPU of the VM of `v` (just started) at
    /// the same instant, each on an idle pCPU (its last one if idle, else the lowest idle
    /// on the VM's home node, else the lowest idle). Their run-queue entries go stale.
    fn start_siblings(&mut self, h: HostId, q: usize, v: VcpuSlot) -> Result<(), SimError> {
        let vm_slot = self.vcpus.get(v).vm;
        let mut link = self.vms.get(vm_slot).first_vcpu;
        while let Some(w) = link.get() {
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
            link = next;
        }
        Ok(())
    }

    fn decide(&mut self, h: HostId, q: usize, p: PcpuId, top: ReadyEntry, preempted: Option<u64>) {
        let mut others: Vec<ReadyEntry> = self.hosts[h].ready[q]
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
            host: h.0,
            pcpu: p.0,
            chosen: top.vm_id(),
            vcpu: top.vcpu_index,
            passed_over: others.iter().map(|e| e.vm_id()).collect(),
            preempted,
        };
        self.observer.on_decision(&d);
    }

    /// The one place a vCPU changes state (besides creation and removal).
    pub(super) fn set_state(&mut self, v: VcpuSlot, state: VcpuState) {
        let vcpu = self.vcpus.get_mut(v);
        let old = vcpu.state;
        if old == VcpuState::Ready && state != VcpuState::Ready {
            // Any run-queue entry of the vCPU is stale from now on.
            vcpu.epoch = vcpu.epoch.wrapping_add(1);
        }
        vcpu.state = state;
        if self.queue_avg {
            self.queue_membership(v, old, state);
        }
    }
}

/// The guest part of `work` for a vCPU that first owes `overhead_left`.
pub(super) fn guest_part(v: &Vcpu, work: u64) -> u64 {
    work.saturating_sub(v.overhead_left)
}
