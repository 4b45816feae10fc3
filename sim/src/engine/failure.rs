//! Host failures and repairs, and the two primitives they (and a later live migration)
//! need: the VMs of a host ([`Engine::vms_on_host`]) and taking one VM off its host
//! ([`Engine::remove_vm_from_host`]).
//!
//! A failing host leaves the placement candidates, draws `off_w`, and loses its VMs: with
//! `on_failure = "restart"` each goes back to the admission queue (with its original key
//! and tie, so it keeps its place in arrival order) and starts again from scratch; with
//! `"lose"` it ends, recorded like a stopped VM and counted in `vms_lost`. Either way the
//! guest work it had done is counted as lost. At repair the host is on and empty.

use crate::datacenter::OnFailure;
use crate::error::SimError;
use crate::observer::{Observer, SliceEnd};

use super::ids::{HostId, OptId, VmSlot};
use super::power::draw_uptime;
use super::state::{Engine, Event, PowerState, QueueEntry, VcpuState, tie};

impl<'a, O: Observer> Engine<'a, O> {
    /// Puts the slots of the VMs admitted to host `h` into `out` (cleared first), in slot
    /// order. It scans the VMs in the system: failures are rare events.
    pub(super) fn vms_on_host(&self, h: HostId, out: &mut Vec<VmSlot>) {
        out.clear();
        out.extend(
            self.vms
                .iter_slots()
                .filter(|(_, vm)| vm.host == OptId::some(h))
                .map(|(s, _)| s),
        );
    }

    /// Takes VM `slot` off its host: its running vCPUs are taken off their pCPUs (slices
    /// end with `reason`), its vCPUs are freed and the host's vCPU slots, memory and
    /// working set are released. The VM stays in the system, queued nowhere, with no host
    /// and its vCPUs still to create; returns the guest work it had done (ns, summed over
    /// its vCPUs).
    pub(super) fn remove_vm_from_host(
        &mut self,
        slot: VmSlot,
        reason: SliceEnd,
    ) -> Result<u128, SimError> {
        let Some(h) = self.vms.get(slot).host.get() else {
            return Ok(0);
        };
        let demand = self.vms.get(slot).req.demand.nanos();
        let mut done = 0u128;
        self.for_each_vcpu(slot, |eng, v| {
            match eng.vcpus.get(v).state {
                VcpuState::Running => eng.evict(h, v, reason)?,
                VcpuState::Blocked { .. } => eng.hosts[h].blocked -= 1,
                VcpuState::Ready | VcpuState::Paused | VcpuState::Done => {}
            }
            let vcpu = eng.vcpus.get(v);
            done += u128::from(demand - vcpu.remaining.min(demand));
            // (A finished vCPU gave its pin back already.)
            if vcpu.state != VcpuState::Done
                && let Some(pin) = vcpu.pin.get()
            {
                eng.pinned[h.0 as usize][pin.0 as usize] -= 1;
            }
            eng.set_state(v, VcpuState::Done);
            Ok(())
        })?;
        let mut link = self.vms.get(slot).first_vcpu;
        while let Some(v) = link.get() {
            link = self.vcpus.remove(v).map_or(OptId::NONE, |x| x.next);
        }
        self.release_vm(slot);
        let vm = self.vms.get_mut(slot);
        vm.host = OptId::NONE;
        vm.first_vcpu = OptId::NONE;
        vm.plain_pcpu = OptId::NONE;
        vm.vcpus_left = vm.req.vcpus;
        vm.ballooned_mib = 0;
        Ok(done)
    }

    /// Host `h` fails (unless the run is over or it is down already).
    #[cold]
    #[inline(never)]
    pub(super) fn host_fail(&mut self, h: HostId) -> Result<(), SimError> {
        if self.run_over() || self.hosts[h].ops.state == PowerState::Failed {
            return Ok(());
        }
        self.count_event();
        self.set_power_state(h, PowerState::Failed);
        self.set_host_available(h, false);
        self.hosts[h].ops.stats.failures += 1;
        if self.mig.is_some() {
            self.abandon_migrations_to(h);
        }
        let mut vms = std::mem::take(&mut self.dc.scratch);
        self.vms_on_host(h, &mut vms);
        for &slot in &vms {
            let lost = self.remove_vm_from_host(slot, SliceEnd::HostFailed)?;
            self.dc.lost_work_ns += lost;
            self.hosts[h].ops.stats.vm_interruptions += 1;
            match self.dc.on_failure {
                OnFailure::Restart => {
                    let req = &self.vms.get(slot).req;
                    let entry = QueueEntry {
                        key: self.admission_policy.queue_key(req),
                        tie: tie(req),
                        slot,
                    };
                    self.arrived_now.push(entry);
                }
                OnFailure::Lose => {
                    self.dc.vms_lost += 1;
                    self.vms.get_mut(slot).stopped = true;
                    self.finish_vm(slot);
                }
            }
        }
        self.dc.scratch = vms;
        self.admission_dirty = true;
        self.departed_since_pass = true;
        if let Some((_, mttr, _)) = self.dc.random {
            let rng = &mut self.dc.rngs[h.0 as usize];
            let down = draw_uptime(rng, mttr, crate::datacenter::UptimeDist::Exponential);
            let now = self.now;
            self.events
                .schedule(now, now.saturating_add(down), Event::HostRepair { host: h })?;
        }
        Ok(())
    }

    /// Host `h` is repaired: on, empty and available again.
    #[cold]
    #[inline(never)]
    pub(super) fn host_repair(&mut self, h: HostId) -> Result<(), SimError> {
        if self.run_over() || self.hosts[h].ops.state != PowerState::Failed {
            return Ok(());
        }
        self.count_event();
        self.set_power_state(h, PowerState::On);
        self.host_back(h)?;
        if let Some((mtbf, _, dist)) = self.dc.random {
            let rng = &mut self.dc.rngs[h.0 as usize];
            let up = draw_uptime(rng, mtbf, dist);
            let now = self.now;
            self.events
                .schedule(now, now.saturating_add(up), Event::HostFail { host: h })?;
        }
        Ok(())
    }
}
