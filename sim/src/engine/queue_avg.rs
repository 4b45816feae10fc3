//! Run-queue averages, for a CPU policy whose order depends on where a vCPU stands
//! relative to the others (a fair scheduler's average virtual runtime and lag; see
//! [`crate::policy::CpuPolicy::uses_queue_average`]).
//!
//! Per run queue the engine keeps `Σ weight` and `Σ weight × state` over its vCPUs that are
//! ready or running ([`crate::policy::QueueSums`], shared with the KVM replay), updated when a vCPU joins (admitted, back from I/O or a fault,
//! resumed), leaves (blocked, paused, finished, taken off the host) or is charged for work.
//! The running vCPUs' unsettled work is added when the average is read, so a decision sees
//! every vCPU charged up to its instant. Policies that do not ask pay one flag test per
//! state change.

use crate::observer::Observer;
use crate::policy::{Charge, KeyContext, QueueContext};
use crate::time::SimTime;

use super::dispatch::guest_part;
use super::ids::{HostId, PcpuId, VcpuSlot};
use super::rate::segment_work;
use super::state::{Engine, VcpuState};

/// Whether a vCPU in `state` counts in its run queue's average.
fn in_queue(state: VcpuState) -> bool {
    matches!(state, VcpuState::Ready | VcpuState::Running)
}

impl<'a, O: Observer> Engine<'a, O> {
    /// The weighted average state and the total weight of run queue `q` of host `h`, the
    /// running vCPUs charged for their work up to now.
    pub(super) fn queue_average(&self, h: HostId, q: usize) -> (u64, u64) {
        let host = &self.hosts[h];
        let s = &self.queue_sums[h.0 as usize][q];
        if s.weight == 0 {
            return (s.last, 0);
        }
        let pcpus = if host.ready.len() == 1 {
            0..host.pcpus.len()
        } else {
            q..q + 1
        };
        let running = pcpus.filter_map(|p| {
            let pc = &host.pcpus[PcpuId(p as u32)];
            let v = self.vcpus.get(pc.running.slot()?);
            let g = guest_part(v, segment_work(&v.seg, self.now)).min(v.remaining);
            if g == 0 {
                return None;
            }
            let w = self.vms.get(v.vm).req.profile.weight;
            let mut charged = v.policy_state;
            let charge = Charge {
                ran: SimTime(g),
                weight: w,
                now: self.now,
            };
            self.cpu_policy.on_charged(&mut charged, &charge);
            Some((w, v.policy_state, charged))
        });
        s.average(running)
    }

    /// The context keys of run queue `q` of host `h` are evaluated in, now.
    pub(super) fn queue_key_context(&self, h: HostId, q: usize) -> KeyContext {
        KeyContext {
            now: self.now,
            queue_average: if self.queue_avg {
                self.queue_average(h, q).0
            } else {
                0
            },
            slice: SimTime(self.hosts[h].quantum().unwrap_or(0)),
        }
    }

    /// Keeps the sums in step with a state change of vCPU `v` from `old` to `new` (only
    /// for a policy that uses queue averages).
    pub(super) fn queue_membership(&mut self, v: VcpuSlot, old: VcpuState, new: VcpuState) {
        match (in_queue(old), in_queue(new)) {
            (false, true) => self.join_queue(v),
            (true, false) => self.leave_queue(v, new == VcpuState::Done),
            _ => {}
        }
    }

    /// The queue context of vCPU `v` (its host, queue and weight), none off a host.
    fn queue_of_vcpu(&self, v: VcpuSlot) -> Option<(HostId, usize, QueueContext)> {
        let vcpu = self.vcpus.get(v);
        let vm = self.vms.get(vcpu.vm);
        let h = vm.host.get()?;
        let q = self.hosts[h].queue_of(vcpu.pin);
        let (average, total_weight) = self.queue_average(h, q);
        let ctx = QueueContext {
            average,
            total_weight,
            weight: vm.req.profile.weight,
            slice: SimTime(self.hosts[h].quantum().unwrap_or(0)),
        };
        Some((h, q, ctx))
    }

    /// Vcpu `v` joins its run queue: the policy places it, then it counts in the sums.
    pub(super) fn join_queue(&mut self, v: VcpuSlot) {
        let Some((h, q, ctx)) = self.queue_of_vcpu(v) else {
            return;
        };
        let vcpu = self.vcpus.get_mut(v);
        self.queue_sums[h.0 as usize][q].join(&*self.cpu_policy, &mut vcpu.policy_state, &ctx);
    }

    /// Vcpu `v` leaves its run queue (for good when `done`): it stops counting in the
    /// sums, and the policy may keep what it needs to place it when it joins again.
    fn leave_queue(&mut self, v: VcpuSlot, done: bool) {
        let Some((h, q, ctx)) = self.queue_of_vcpu(v) else {
            return;
        };
        let vcpu = self.vcpus.get_mut(v);
        self.queue_sums[h.0 as usize][q].leave(
            &*self.cpu_policy,
            &mut vcpu.policy_state,
            &ctx,
            done,
        );
    }

    /// Vcpu `v` in queue `q` of host `h`, of weight `w`, was charged: its state went from
    /// `old` to its current value.
    #[inline]
    pub(super) fn queue_charged(&mut self, h: HostId, v: VcpuSlot, w: u32, old: u64) {
        let vcpu = self.vcpus.get(v);
        let q = self.hosts[h].queue_of(vcpu.pin);
        let new = vcpu.policy_state;
        self.queue_sums[h.0 as usize][q].charged(w, old, new);
    }
}
