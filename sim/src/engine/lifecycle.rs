//! Lifecycle events: pause, resume, stop and migrate of a VM at a scheduled time.

use crate::error::SimError;
use crate::model::LifecycleAction;
use crate::observer::{Observer, SliceEnd};

use super::ids::{HostId, PcpuId, Running, VcpuSlot, VmSlot};
use super::state::{Engine, VcpuState};

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn lifecycle_event(&mut self, index: u32) -> Result<(), SimError> {
        let e = self.lifecycle[index as usize];
        let slot = self.lifecycle_slots.get(&e.vm).and_then(|s| s.get());
        let live = |slot: &VmSlot| {
            self.vms
                .try_get(*slot)
                .is_some_and(|vm| vm.req.id == e.vm && !vm.stopped)
        };
        let Some(slot) = slot.filter(live) else {
            self.stats.lifecycle_ignored += 1;
            return Ok(());
        };
        self.count_event();
        let vm = self.vms.get(slot);
        // (The host, once admitted.)
        let host = vm.host.get();
        let migrating = vm.migrating;
        match e.action {
            LifecycleAction::Migrate { to_host } => {
                self.migrate_event(slot, HostId(to_host))?;
            }
            // (A VM paused for its stop-copy stays so until it is on its destination.)
            LifecycleAction::Pause | LifecycleAction::Resume
                if migrating
                    && self.pause_during_stop_copy(slot, e.action == LifecycleAction::Pause) => {}
            LifecycleAction::Pause => {
                let was_paused = std::mem::replace(&mut self.vms.get_mut(slot).paused, true);
                if let Some(h) = host {
                    self.for_each_vcpu(slot, |eng, v| eng.pause_vcpu(h, v))?;
                    if !was_paused {
                        self.inflate_balloon(h, slot)?;
                    }
                }
            }
            LifecycleAction::Resume => {
                self.vms.get_mut(slot).paused = false;
                if let Some(h) = host {
                    self.deflate_balloon(h, slot)?;
                    self.for_each_vcpu(slot, |eng, v| {
                        if eng.vcpus.get(v).state == VcpuState::Paused {
                            let vcpu = eng.vcpus.get_mut(v);
                            vcpu.ready_since = eng.now;
                            eng.set_state(v, VcpuState::Ready);
                            eng.enqueue_ready(h, v);
                        }
                        Ok(())
                    })?;
                }
            }
            LifecycleAction::Stop => {
                self.vms.get_mut(slot).stopped = true;
                self.stats.stopped += 1;
                if let Some(h) = host {
                    self.for_each_vcpu(slot, |eng, v| {
                        match eng.vcpus.get(v).state {
                            VcpuState::Running => eng.evict(h, v, SliceEnd::Stopped)?,
                            VcpuState::Blocked { .. } => eng.hosts[h].blocked -= 1,
                            VcpuState::Done => return Ok(()),
                            VcpuState::Ready | VcpuState::Paused => {}
                        }
                        eng.set_state(v, VcpuState::Paused);
                        Ok(())
                    })?;
                    // Finish the VM now: every vCPU counts as done.
                    // (When the last live vCPU finishes, every slot is freed: stop there.)
                    let mut link = self.vms.get(slot).first_vcpu;
                    while let Some(v) = link.get()
                        && let Some(vcpu) = self.vcpus.try_get(v)
                    {
                        let next = vcpu.next;
                        self.vcpu_finished(v);
                        link = next;
                    }
                } else {
                    // Still queued: it leaves the system without running.
                    self.finish_vm(slot);
                }
            }
        }
        Ok(())
    }

    pub(super) fn for_each_vcpu(
        &mut self,
        slot: VmSlot,
        mut f: impl FnMut(&mut Self, VcpuSlot) -> Result<(), SimError>,
    ) -> Result<(), SimError> {
        let mut link = self.vms.get(slot).first_vcpu;
        while let Some(v) = link.get() {
            let next = self.vcpus.get(v).next;
            f(self, v)?;
            link = next;
        }
        Ok(())
    }

    /// Takes the running vCPU `v` off whichever pCPU of host `h` it runs on.
    pub(super) fn evict(
        &mut self,
        h: HostId,
        v: VcpuSlot,
        reason: SliceEnd,
    ) -> Result<(), SimError> {
        let p = PcpuId(
            self.hosts[h]
                .pcpus
                .iter()
                .position(|pc| pc.running == Running::vcpu(v))
                .unwrap_or(0) as u32,
        );
        self.take_off(h, p, reason)?;
        self.stats.preemptions += 1;
        Ok(())
    }

    fn pause_vcpu(&mut self, h: HostId, v: VcpuSlot) -> Result<(), SimError> {
        match self.vcpus.get(v).state {
            VcpuState::Running => {
                self.evict(h, v, SliceEnd::Paused)?;
                self.set_state(v, VcpuState::Paused);
            }
            VcpuState::Ready => self.set_state(v, VcpuState::Paused),
            // Blocked vCPUs become paused when their request completes.
            VcpuState::Blocked { .. } | VcpuState::Paused | VcpuState::Done => {}
        }
        Ok(())
    }
}
