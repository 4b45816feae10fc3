//! The main loop: the next instant, every arrival and event at it, then the decisions; and
//! the run-wide counters (events, VMs in the system).

use crate::error::SimError;
use crate::observer::Observer;
use crate::source::VmSource;

use super::ids::Id;
use super::state::{Engine, Event};

/// From how many hosts the main loop asks for the next event's state ahead: about where
/// the hosts' state (1.3 KiB each with 16 pCPUs) and the VMs in flight outgrow a core's
/// share of the last-level cache. (Below it the hint only costs instructions.)
const PREFETCH_HOSTS: usize = 1024;

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn run(&mut self, mut workload: impl VmSource) -> Result<(), SimError> {
        loop {
            let t_arrival = workload.peek().map(|v| v.arrival);
            let t_event = self.events.peek_time();
            let t = match (t_arrival, t_event) {
                (None, None) => break,
                (Some(a), None) => a,
                (None, Some(e)) => e,
                (Some(a), Some(e)) => a.min(e),
            };
            self.now = t;
            // 1. Every arrival at t.
            // (The request is read where it lies: one copy, into the VM's slab entry.)
            while let Some(vm) = workload.peek().filter(|v| v.arrival == t) {
                self.arrive(vm)?;
                workload.advance();
                if let Some(v) = workload.peek()
                    && v.arrival < t
                {
                    return Err(SimError::OutOfOrder {
                        id: v.id,
                        arrival: v.arrival.to_string(),
                        previous: t.to_string(),
                    });
                }
            }
            self.arrivals_done = workload.peek().is_none();
            // 2. Every event at t.
            while self.events.peek_time() == Some(t) {
                if let Some((_, ev)) = self.events.pop() {
                    if self.hosts.len() >= PREFETCH_HOSTS {
                        self.prefetch_next_event();
                    }
                    self.handle(ev)?;
                }
            }
            // 3. Decisions.
            if self.admission_dirty {
                self.admission_pass()?;
            }
            while let Some(h) = self.dirty_hosts.pop() {
                self.hosts[h].dirty = false;
                self.dispatch(h)?;
            }
        }
        self.close_vm_time_area();
        self.close_datacenter();
        if let Some(m) = &self.mig {
            self.stats.datacenter.migration = m.stats().clone();
        }
        Ok(())
    }

    // Inlined into the loop as before the datacenter arms were added (their handlers are
    // out of line and cold).
    #[inline(always)]
    fn handle(&mut self, ev: Event) -> Result<(), SimError> {
        match ev {
            Event::SliceEnd {
                host,
                pcpu,
                generation,
            } => self.slice_end(host, pcpu, generation),
            Event::DeviceDone { request } => match self.io_in_flight.remove(request) {
                Some(r) => self.device_done(r.host, r.device, r.vcpu, r.uid),
                // Each request is scheduled once and removed here once.
                None => Err(SimError::InvalidConfig(format!(
                    "internal: device completion of unknown request {request}"
                ))),
            },
            Event::VmDone { slot, host, first } => self.plain_done(slot, host, first),
            Event::CapRefill { slot, epoch } => self.cap_refill(slot, epoch),
            Event::ParkWake { host } => self.park_wake_event(host),
            Event::Lifecycle { index } => self.lifecycle_event(index),
            Event::Sample => self.take_sample(),
            Event::PowerOff { host } => self.power_off_event(host),
            Event::BootDone { host } => self.boot_done(host),
            Event::HostFail { host } => self.host_fail(host),
            Event::HostRepair { host } => self.host_repair(host),
            Event::AdmissionWake => {
                self.admission_dirty = true;
                Ok(())
            }
            Event::MigrationStep { uid } => self.migration_step(uid),
            Event::Consolidate => self.consolidate(),
        }
    }

    /// Asks for the state the next event reads while this one is handled: with many hosts
    /// it is mostly not in the caches, and the two waits then overlap.
    #[inline(always)]
    fn prefetch_next_event(&self) {
        if let Some(&Event::VmDone { slot, host, first }) = self.events.peek() {
            self.vms.prefetch(slot);
            self.placement_index.prefetch(host.index());
            if let Some(hs) = self.hosts.get(host.index()) {
                crate::prefetch::prefetch(hs);
                crate::prefetch::prefetch(&hs.busy);
                if (first.0 as usize) < super::pcpus::INLINE_PCPUS {
                    crate::prefetch::prefetch(&hs.pcpus[first]);
                }
            }
        }
    }

    /// Counts an arrival or an event that does something. Samples and cancelled events (a
    /// re-timed or preempted slice's old end) are not counted and do not stretch the
    /// makespan either: it ends at the last instant that counted one.
    #[inline(always)]
    pub(super) fn count_event(&mut self) {
        self.stats.events += 1;
        self.stats.makespan = self.now;
    }

    /// A VM enters (`delta_up`) or leaves the system. ∫ (VMs in the system) dt up to the
    /// last change is the sum of residence times — each leaving VM adds its own (in
    /// [`Self::finish_vm`]), and [`Self::close_vm_time_area`] adds the part of those still
    /// in the system — which needs no running product.
    #[inline]
    pub(super) fn count_change(&mut self, delta_up: bool) {
        self.last_change = self.now;
        if delta_up {
            self.in_system += 1;
            self.stats.peak_in_system = self.stats.peak_in_system.max(self.in_system);
        } else {
            self.in_system -= 1;
        }
    }

    /// Adds to `vm_time_area_ns` the residence, up to the last change, of the VMs still in
    /// the system at the end of the run (paused for good, say).
    fn close_vm_time_area(&mut self) {
        if self.in_system == 0 {
            return;
        }
        let last = self.last_change.nanos();
        for vm in self.vms.iter() {
            self.stats.vm_time_area_ns += u128::from(last.saturating_sub(vm.req.arrival.nanos()));
        }
    }
}
