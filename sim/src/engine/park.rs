//! Parking of capped vCPUs by a CPU policy that enforces caps itself at its accounting
//! instants (Xen Credit, [`crate::policy::CpuPolicy::parks_capped`]): a parked vCPU is
//! taken off its pCPU or out of the run queue and waits, `Paused`, until an accounting
//! clears it. Parked vCPUs are still accounted (they earn credits), and a host with parked
//! vCPUs is woken at every accounting period even when nothing else happens there.
//!
//! The time a VM has a parked vCPU is its throttled time (`caps.rs`). Nothing here is
//! allocated before the first vCPU is parked.

use crate::error::SimError;
use crate::observer::{Observer, SliceEnd};
use crate::time::SimTime;

use super::ids::{HostId, PcpuId, VcpuSlot};
use super::state::{Engine, Event, VcpuState};

/// The parked vCPUs of every host (boxed in `Engine::parking`, created at the first park).
#[derive(Debug, Default)]
pub(super) struct Parking {
    /// Per host: `(slot, uid)` of its parked vCPUs (an entry whose vCPU left is dropped
    /// at the next accounting).
    lists: Vec<Vec<(VcpuSlot, u64)>>,
    /// Per host: an [`Event::ParkWake`] is scheduled.
    wake_pending: Vec<bool>,
}

impl<'a, O: Observer> Engine<'a, O> {
    /// Whether vCPU `v` (ready or running) is parked by the policy's state word.
    #[inline]
    pub(super) fn is_parked(&self, v: VcpuSlot) -> bool {
        self.parks && self.cpu_policy.parked(self.vcpus.get(v).policy_state)
    }

    /// Parks vCPU `v` of host `h` (ready, or just taken off its pCPU).
    pub(super) fn park(&mut self, h: HostId, v: VcpuSlot) -> Result<(), SimError> {
        self.set_state(v, VcpuState::Paused);
        let hosts = self.hosts.len();
        let parking = self.parking.get_or_insert_with(|| {
            Box::new(Parking {
                lists: vec![Vec::new(); hosts],
                wake_pending: vec![false; hosts],
            })
        });
        let vcpu = self.vcpus.get(v);
        let entry = (v, vcpu.uid);
        let list = &mut parking.lists[h.0 as usize];
        if !list.contains(&entry) {
            list.push(entry);
            let slot = vcpu.vm;
            self.cap_parked(slot, true);
        }
        self.park_wake(h)
    }

    /// Schedules the next accounting wake of host `h` if it has parked vCPUs and none is
    /// pending.
    fn park_wake(&mut self, h: HostId) -> Result<(), SimError> {
        let (Some(period), Some(parking)) = (self.account_period, self.parking.as_deref_mut())
        else {
            return Ok(());
        };
        let i = h.0 as usize;
        if parking.wake_pending[i] || parking.lists[i].is_empty() {
            return Ok(());
        }
        parking.wake_pending[i] = true;
        let next = (self.now.nanos() / period + 1).saturating_mul(period);
        self.events
            .schedule(self.now, SimTime(next), Event::ParkWake { host: h })
    }

    /// An accounting period of host `h` starts while it has parked vCPUs: decide there
    /// (which accounts), and keep waking it while vCPUs stay parked.
    pub(super) fn park_wake_event(&mut self, h: HostId) -> Result<(), SimError> {
        if let Some(p) = self.parking.as_deref_mut() {
            p.wake_pending[h.0 as usize] = false;
        }
        self.mark_dirty(h);
        self.park_wake(h)
    }

    /// The parked vCPUs of host `h` (entries, some perhaps stale: see [`Self::parked_live`]).
    pub(super) fn parked_entries(&self, h: HostId) -> &[(VcpuSlot, u64)] {
        self.parking
            .as_deref()
            .map_or(&[][..], |p| p.lists[h.0 as usize].as_slice())
    }

    /// The vCPU of parked entry `(slot, uid)` of host `h`, if it still waits parked here
    /// (not gone, not paused or stopped with its VM, not moved).
    pub(super) fn parked_live(&self, h: HostId, (slot, uid): (VcpuSlot, u64)) -> Option<VcpuSlot> {
        let v = self.vcpus.try_get(slot)?;
        let vm = self.vms.try_get(v.vm)?;
        let live = v.uid == uid
            && v.state == VcpuState::Paused
            && vm.host.get() == Some(h)
            && !vm.paused
            && !vm.stopped;
        live.then_some(slot)
    }

    /// After an accounting of host `h`: running vCPUs now parked leave their pCPUs, and
    /// parked vCPUs now cleared become ready; entries whose vCPU left are dropped.
    pub(super) fn settle_parking(&mut self, h: HostId) -> Result<(), SimError> {
        for p in 0..self.hosts[h].pcpus.len() as u32 {
            let p = PcpuId(p);
            if let Some(v) = self.hosts[h].pcpus[p].running.slot()
                && self.is_parked(v)
            {
                let v = self.take_off(h, p, SliceEnd::Throttled)?;
                self.stats.preemptions += 1;
                self.park(h, v)?;
            }
        }
        let Some(parking) = self.parking.as_deref_mut() else {
            return Ok(());
        };
        let mut list = std::mem::take(&mut parking.lists[h.0 as usize]);
        let mut i = 0;
        while i < list.len() {
            let entry = list[i];
            match self.parked_live(h, entry) {
                Some(v) if self.is_parked(v) => i += 1,
                Some(v) => {
                    list.swap_remove(i);
                    let vm = self.vcpus.get(v).vm;
                    self.cap_parked(vm, false);
                    let vcpu = self.vcpus.get_mut(v);
                    vcpu.ready_since = self.now;
                    // Unparked vCPUs get no BOOST (Xen's `csched_vcpu_wake`).
                    vcpu.preempted = true;
                    self.set_state(v, VcpuState::Ready);
                    self.enqueue_ready(h, v);
                }
                None => {
                    list.swap_remove(i);
                    // Still there (its VM paused or moved): it no longer counts as parked.
                    // (Gone: its VM's record is final, or its slot's caps were reset.)
                    if let Some(vcpu) = self.vcpus.try_get(entry.0).filter(|v| v.uid == entry.1) {
                        let vm = vcpu.vm;
                        self.cap_parked(vm, false);
                    }
                }
            }
        }
        if let Some(p) = self.parking.as_deref_mut() {
            p.lists[h.0 as usize] = list;
        }
        self.park_wake(h)
    }
}
