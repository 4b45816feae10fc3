//! Paging: major faults drawn from the host's resident fraction, re-planned when it changes,
//! and the balloon that gives a paused VM's working set back.

use rand_distr::{Distribution, Exp1};

use crate::error::SimError;
use crate::observer::Observer;

use super::ids::{HostId, PcpuId, VmSlot};
use super::rate::ceil_u64;
use super::state::{Engine, NO_LIMIT, VcpuState, VmCounters};

impl<'a, O: Observer> Engine<'a, O> {
    /// Guest work until the next major fault of a vCPU of `vm_slot` on host `h`: with
    /// resident fraction f < 1, each touch misses with probability 1 − f, so misses form a
    /// Poisson process in CPU work. Redrawn at every dispatch and whenever f changes, which
    /// the memorylessness of the exponential allows.
    pub(super) fn draw_fault_in(&mut self, h: HostId, vm_slot: VmSlot) -> u64 {
        match self.vms.get(vm_slot).req.profile.memory {
            Some(m) if m.touches_per_ms > 0.0 => {
                let miss = 1.0 - self.hosts[h].paging.resident_fraction();
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
    pub(super) fn repage(&mut self, h: HostId) -> Result<(), SimError> {
        for p in (0..self.hosts[h].pcpus.len() as u32).map(PcpuId) {
            let Some(v) = self.hosts[h].pcpus[p].running.slot() else {
                continue;
            };
            let vm_slot = self.vcpus.get(v).vm;
            if self.vms.get(vm_slot).req.profile.memory.is_none() {
                continue;
            }
            self.settle_segment(h, p);
            let fault_in = self.draw_fault_in(h, vm_slot);
            self.vcpus.get_mut(v).fault_in = fault_in;
            let seg = self.vcpus.get(v).seg;
            let (from, rate) = (self.now.max(seg.start), seg.rate);
            self.plan_segment(h, p, from, rate)?;
        }
        Ok(())
    }

    /// Balloon (on a host that has one): a VM just paused gives its working set back; the
    /// others' resident fraction rises.
    pub(super) fn inflate_balloon(&mut self, h: HostId, slot: VmSlot) -> Result<(), SimError> {
        let vm = self.vms.get(slot);
        let host = &mut self.hosts[h];
        let Some(m) = vm.req.profile.memory else {
            return Ok(());
        };
        if !host.paging.balloon || vm.ballooned_mib > 0 || m.working_set_mib == 0 {
            return Ok(());
        }
        host.paging.working_set_mib = host
            .paging
            .working_set_mib
            .saturating_sub(m.working_set_mib);
        self.vms.get_mut(slot).ballooned_mib = m.working_set_mib;
        self.repage(h)
    }

    /// The balloon deflates at resume: the working set counts against the host again and
    /// the guest maps it anew, paying the first-touch cost per page (minor faults), shared
    /// by its vCPUs like the first mapping at admission.
    pub(super) fn deflate_balloon(&mut self, h: HostId, slot: VmSlot) -> Result<(), SimError> {
        let mib = std::mem::take(&mut self.vms.get_mut(slot).ballooned_mib);
        if mib == 0 {
            return Ok(());
        }
        let host = &mut self.hosts[h];
        host.paging.working_set_mib = host.paging.working_set_mib.saturating_add(mib);
        let pages = mib.saturating_mul(1 << 20).div_ceil(host.paging.page_bytes);
        let cost = pages.saturating_mul(host.paging.first_touch);
        self.stats.minor_faults += pages;
        let vm = self.vms.get_mut(slot);
        let c = VmCounters::of(vm, &mut self.vm_counters);
        c.minor_faults += pages;
        c.fault_service = c.fault_service.saturating_add(cost);
        c.fault_stall = c.fault_stall.saturating_add(cost);
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
}
