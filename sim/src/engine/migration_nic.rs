//! Live migration through the source host's NIC: each round is sent as chunk requests
//! (`[migration] chunk_mib`) to the first `kind = "nic"` device of the source host, one
//! chunk at a time, queued FIFO beside the VMs' own requests to that device (see
//! [`crate::migration`] for the model). A round ends when its last chunk completes; what
//! was dirtied during it (its actual duration, waits included) decides the next round or
//! the stop-copy. The stop-copy is sent the same way while the VM is paused; the VM
//! resumes on the destination `resume` after its last chunk ([`Event::MigrationStep`]).
//!
//! A chunk's request carries the tag [`MIGRATION_CHUNK`] and the migration's uid in its
//! `uid` (vCPU uids never reach bit 63), so `device_done` hands it here. A chunk of an
//! abandoned migration still in service completes to nothing; one still queued is taken
//! out of the queue.

use crate::error::SimError;
use crate::migration::{Link, MigrationSpec, dirtied, precopy_stops};
use crate::model::DeviceKind;
use crate::observer::Observer;
use crate::time::SimTime;

use super::device::Request;
use super::ids::VcpuSlot;
use super::migration::Active;
use super::state::{Engine, Event, Host};

/// The bit of a device request's `uid` that marks a migration chunk.
pub(super) const MIGRATION_CHUNK: u64 = 1 << 63;

/// A migration's transfer through a NIC.
#[derive(Clone, Copy, Debug)]
pub(super) struct NicTransfer {
    /// The device's index on the source host.
    device: u32,
    link: Link,
    /// The VM's working set and dirtying rate, bytes and bytes per second.
    working_set: u64,
    dirty: u64,
    /// When the current round began, its bytes and its bytes not yet handed to the NIC.
    round_start: SimTime,
    round_bytes: u64,
    unsent: u64,
    /// When the VM paused (the stop-copy began).
    paused_at: SimTime,
}

impl NicTransfer {
    /// The transfer of a VM of `memory` bytes (round 0 starting `now`) through the first
    /// NIC of `host`; `None` when it has none.
    pub(super) fn for_host(
        spec: &MigrationSpec,
        host: &Host,
        working_set: u64,
        dirty: u64,
        memory: u64,
        now: SimTime,
    ) -> Option<NicTransfer> {
        let device = host
            .devices
            .iter()
            .position(|d| d.spec.kind == DeviceKind::Nic)?;
        Some(NicTransfer {
            device: device as u32,
            link: Link::nic(spec, &host.devices[device].spec),
            working_set,
            dirty,
            round_start: now,
            round_bytes: memory,
            unsent: memory,
            paused_at: now,
        })
    }
}

impl<'a, O: Observer> Engine<'a, O> {
    /// Hands the next chunk of migration `uid`'s current round to the source's NIC, or
    /// ends the round when nothing is left to send.
    pub(super) fn send_chunk(&mut self, uid: u32) -> Result<(), SimError> {
        let Some((i, a)) = self.active_migration(uid) else {
            return Ok(());
        };
        let Some(mut n) = a.nic else {
            return Ok(());
        };
        if n.unsent == 0 {
            return self.round_sent(i);
        }
        let c = n.unsent.min(n.link.chunk_bytes);
        n.unsent -= c;
        if let Some(m) = self.mig.as_mut() {
            m.active[i].nic = Some(n);
        }
        let request = Request {
            vcpu: VcpuSlot(u32::MAX),
            uid: MIGRATION_CHUNK | u64::from(uid),
            service: n.link.chunk_time(c),
        };
        let now = self.now;
        if let Some(r) = self.hosts[a.from].devices[n.device as usize].submit(now, request) {
            self.start_request(a.from, n.device, r)?;
        }
        Ok(())
    }

    /// A chunk (request `uid` with [`MIGRATION_CHUNK`]) completed.
    #[cold]
    #[inline(never)]
    pub(super) fn chunk_done(&mut self, uid: u64) -> Result<(), SimError> {
        self.send_chunk((uid & u64::from(u32::MAX)) as u32)
    }

    /// The last chunk of migration `i`'s round completed: the next round, the stop-copy,
    /// or (after the stop-copy) the resumption `resume` later.
    fn round_sent(&mut self, i: usize) -> Result<(), SimError> {
        let now = self.now;
        let Some(m) = self.mig.as_mut() else {
            return Ok(());
        };
        let resume = m.spec.resume;
        let spec = m.spec.clone();
        let a = &mut m.active[i];
        let uid = a.uid;
        let Some(n) = a.nic.as_mut() else {
            return Ok(());
        };
        if a.stop_copy {
            a.plan.downtime = now.saturating_sub(n.paused_at).saturating_add(resume);
            return self.events.schedule(
                now,
                now.saturating_add(resume),
                Event::MigrationStep { uid },
            );
        }
        let t = now.saturating_sub(n.round_start);
        let left = dirtied(n.dirty, n.working_set, t);
        a.plan.precopy_bytes = a.plan.precopy_bytes.saturating_add(n.round_bytes);
        let stop = precopy_stops(&spec, a.plan.rounds, n.round_bytes, left);
        n.round_start = now;
        n.round_bytes = left;
        n.unsent = left;
        if stop {
            a.plan.precopy = now.saturating_sub(a.start);
            a.plan.stop_copy_bytes = left;
            n.paused_at = now;
            self.pause_for_stop_copy(i)?;
        } else {
            a.plan.rounds += 1;
        }
        self.send_chunk(uid)
    }

    /// Migration `uid`'s index and a copy of it, if it is under way.
    fn active_migration(&self, uid: u32) -> Option<(usize, Active)> {
        let m = self.mig.as_ref()?;
        let i = m.active.iter().position(|a| a.uid == uid)?;
        Some((i, m.active[i]))
    }

    /// Takes an abandoned migration's chunk out of its NIC's queue (one in service
    /// completes to nothing).
    pub(super) fn drop_queued_chunk(&mut self, a: &Active) {
        if let Some(n) = a.nic {
            let tag = MIGRATION_CHUNK | u64::from(a.uid);
            if let Some(d) = self.hosts[a.from].devices.get_mut(n.device as usize) {
                d.queue.retain(|r| r.uid != tag);
            }
        }
    }
}
