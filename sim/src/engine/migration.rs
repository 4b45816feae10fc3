//! Live migration (pre-copy) and consolidation.
//!
//! A migration of VM `v` from host `s` to host `d` books `v`'s vCPU slots and memory on
//! `d` at its start (so both hosts hold them until the end), runs its pre-copy rounds
//! while `v`'s vCPUs keep running on `s`, then pauses `v` for the stop-copy (its running
//! vCPUs are taken off with [`SliceEnd::Migrated`]) and, at the end, moves it: `s` gets
//! its capacity, memory and working set back, `v`'s vCPUs are re-pinned on `d` and made
//! ready there. Over a dedicated link (a source host without a NIC) the times come from
//! [`crate::migration::precopy`]: the schedule is fixed at the start and takes two events
//! (pause, end). Through the source host's NIC (`migration_nic.rs`) each round is sent as
//! chunk requests to the device and its end decides the next round.
//!
//! A migration is refused (counted) when the VM is not running on a host or is migrating
//! already, or the destination is its own host, is not on, or lacks room. It is abandoned
//! (counted) when the VM ends or its source fails first (the VM's own path handles it),
//! or when the destination fails (the VM continues on the source).
//!
//! Consolidation: every interval, a [`ConsolidationPolicy`] sees each host's mean share
//! of busy pCPUs since the previous decision and the admitted VMs, and orders migrations.
//! A VM's wait is not charged for its downtime: its vCPUs are ready again only on the
//! destination.

use crate::error::SimError;
use crate::migration::{
    ConsolidationSpec, MIB, MigrationReason, MigrationRecord, MigrationSpec, MigrationStats,
    PrecopyPlan, precopy,
};
use crate::model::Mapping;
use crate::observer::{Observer, SliceEnd};
use crate::policy::consolidation::{
    ConsolidationPolicy, HostLoad, MoveOrder, VmLoad, consolidation_policy,
};
use crate::time::SimTime;

use super::admission::{choose_home_node, pin_vcpu};
use super::ids::{HostId, OptId, VmSlot};
use super::state::{Engine, Event, PowerState, VcpuState};

/// One migration under way.
#[derive(Clone, Copy, Debug)]
pub(super) struct Active {
    pub(super) uid: u32,
    pub(super) vm: VmSlot,
    pub(super) from: HostId,
    pub(super) to: HostId,
    pub(super) start: SimTime,
    /// Over a dedicated link, the schedule fixed at the start; through a NIC, the rounds,
    /// bytes and times so far.
    pub(super) plan: PrecopyPlan,
    /// Sent through the source host's NIC (`None`: over the dedicated link).
    pub(super) nic: Option<super::migration_nic::NicTransfer>,
    reason: MigrationReason,
    /// In the stop-copy phase (the VM is paused).
    pub(super) stop_copy: bool,
    /// The VM was paused by a lifecycle event when the stop-copy began (it stays paused
    /// on the destination).
    was_paused: bool,
}

/// The consolidation policy and its reused buffers.
struct Consolidation {
    policy: Box<dyn ConsolidationPolicy>,
    interval: SimTime,
    /// Per host, ∫ busy pCPUs dt at the previous decision.
    last_area: Vec<u128>,
    hosts: Vec<HostLoad>,
    vms: Vec<VmLoad>,
    slots: Vec<VmSlot>,
    orders: Vec<MoveOrder>,
}

/// The run's live migrations (present only when migration is configured).
pub(super) struct Migrations {
    pub(super) spec: MigrationSpec,
    pub(super) active: Vec<Active>,
    next_uid: u32,
    stats: MigrationStats,
    /// Downtime so far of the VMs in the system that migrated, by slot.
    downtime: std::collections::BTreeMap<u32, SimTime>,
    consolidation: Option<Consolidation>,
}

impl Migrations {
    /// The migration state for `spec` and `consolidation` on `hosts` hosts (none without
    /// `spec`); schedules the first consolidation decision into `events`.
    pub(super) fn new(
        spec: Option<&MigrationSpec>,
        consolidation: Option<&ConsolidationSpec>,
        hosts: usize,
        events: &mut crate::event::EventQueue<Event>,
    ) -> Result<Option<Box<Migrations>>, SimError> {
        let Some(spec) = spec else {
            return Ok(None);
        };
        let consolidation = match consolidation {
            Some(c) => {
                // (The name and thresholds are checked by `SimConfig::check`.)
                match consolidation_policy(&c.policy).and_then(|e| (e.make)(c.low, c.high)) {
                    Some(policy) => {
                        events.schedule(SimTime::ZERO, c.interval, Event::Consolidate)?;
                        Some(Consolidation {
                            policy,
                            interval: c.interval,
                            last_area: vec![0; hosts],
                            hosts: Vec::with_capacity(hosts),
                            vms: Vec::new(),
                            slots: Vec::new(),
                            orders: Vec::new(),
                        })
                    }
                    None => None,
                }
            }
            None => None,
        };
        Ok(Some(Box::new(Migrations {
            spec: spec.clone(),
            active: Vec::new(),
            next_uid: 0,
            stats: MigrationStats {
                configured: true,
                ..MigrationStats::default()
            },
            consolidation,
            downtime: std::collections::BTreeMap::new(),
        })))
    }

    /// What the run reports.
    pub(super) fn stats(&self) -> &MigrationStats {
        &self.stats
    }

    /// The downtime VM `slot` had, forgotten (the VM leaves).
    pub(super) fn take_downtime(&mut self, slot: VmSlot) -> SimTime {
        self.downtime.remove(&slot.0).unwrap_or(SimTime::ZERO)
    }

    /// A consolidation policy runs.
    pub(super) fn consolidating(&self) -> bool {
        self.consolidation.is_some()
    }
}

impl<'a, O: Observer> Engine<'a, O> {
    /// Starts migrating VM `slot` to host `to`, or refuses (counted). Returns whether it
    /// started.
    pub(super) fn start_migration(
        &mut self,
        slot: VmSlot,
        to: HostId,
        reason: MigrationReason,
    ) -> Result<bool, SimError> {
        let Some(m) = self.mig.as_mut() else {
            return Ok(false);
        };
        let vm = self.vms.get(slot);
        let (vcpus, mem) = (u64::from(vm.req.vcpus), vm.req.memory_mib);
        let fits = |h: &super::state::Host| {
            h.ops.state == PowerState::On
                && vcpus <= h.capacity.vcpu_cap.saturating_sub(h.capacity.used_vcpus)
                && mem <= h.capacity.mem_cap.saturating_sub(h.capacity.used_mem)
                && (!self.gang || vcpus <= h.pcpus.len() as u64)
        };
        let from = match vm.host.get() {
            Some(from)
                if from != to
                    && !vm.migrating
                    && !vm.first_vcpu.is_none()
                    && self.hosts.get(to.0 as usize).is_some_and(fits) =>
            {
                from
            }
            _ => {
                m.stats.refused += 1;
                return Ok(false);
            }
        };
        let ws = vm
            .req
            .profile
            .memory
            .map_or(0, |p| p.working_set_mib.saturating_mul(MIB));
        let rate = (f64::from(vm.req.profile.dirty_mib_per_s) * MIB as f64).round();
        let dirty = if rate.is_finite() && rate > 0.0 {
            rate.min(u64::MAX as f64) as u64
        } else {
            0
        };
        let nic = super::migration_nic::NicTransfer::for_host(
            &m.spec,
            &self.hosts[from],
            ws,
            dirty,
            mem.saturating_mul(MIB),
            self.now,
        );
        let plan = match nic {
            Some(_) => PrecopyPlan {
                rounds: 1,
                precopy: SimTime::ZERO,
                precopy_bytes: 0,
                stop_copy_bytes: 0,
                downtime: SimTime::ZERO,
            },
            None => precopy(&m.spec, mem.saturating_mul(MIB), ws, dirty),
        };
        let uid = m.next_uid;
        m.next_uid = m.next_uid.wrapping_add(1);
        m.active.push(Active {
            uid,
            vm: slot,
            from,
            to,
            start: self.now,
            plan,
            nic,
            reason,
            stop_copy: false,
            was_paused: false,
        });
        self.vms.get_mut(slot).migrating = true;
        self.reserve_capacity(to, vcpus, mem);
        if nic.is_some() {
            self.send_chunk(uid)?;
            return Ok(true);
        }
        let now = self.now;
        self.events.schedule(
            now,
            now.saturating_add(plan.precopy),
            Event::MigrationStep { uid },
        )?;
        Ok(true)
    }

    /// A `migrate` lifecycle event for VM `slot`.
    pub(super) fn migrate_event(&mut self, slot: VmSlot, to: HostId) -> Result<(), SimError> {
        self.start_migration(slot, to, MigrationReason::Manual)
            .map(|_| ())
    }

    /// The index of VM `slot`'s migration if it is in its stop-copy phase.
    pub(super) fn in_stop_copy(&self, slot: VmSlot) -> Option<usize> {
        let m = self.mig.as_ref()?;
        m.active.iter().position(|a| a.vm == slot && a.stop_copy)
    }

    /// A pause or resume of VM `slot` while it is paused for its stop-copy: remembered for
    /// the destination. Returns whether it was.
    pub(super) fn pause_during_stop_copy(&mut self, slot: VmSlot, paused: bool) -> bool {
        match self.in_stop_copy(slot) {
            Some(i) => {
                if let Some(m) = self.mig.as_mut() {
                    m.active[i].was_paused = paused;
                }
                true
            }
            None => false,
        }
    }

    /// The end of a migration's pre-copy (the VM pauses) or of its stop-copy (the VM moves).
    #[cold]
    #[inline(never)]
    pub(super) fn migration_step(&mut self, uid: u32) -> Result<(), SimError> {
        // (An abandoned migration's event finds nothing.)
        let Some((i, a)) = self.mig.as_ref().and_then(|m| {
            let i = m.active.iter().position(|a| a.uid == uid)?;
            Some((i, m.active[i]))
        }) else {
            return Ok(());
        };
        self.count_event();
        let now = self.now;
        // (Through a NIC, the only step is the end: the pause came with the last round.)
        if !a.stop_copy && a.nic.is_none() {
            self.pause_for_stop_copy(i)?;
            return self.events.schedule(
                now,
                now.saturating_add(a.plan.downtime),
                Event::MigrationStep { uid },
            );
        }
        let record = MigrationRecord {
            vm: self.vms.get(a.vm).req.id,
            from: a.from.0,
            to: a.to.0,
            start: a.start,
            end: now,
            rounds: a.plan.rounds,
            transferred_bytes: a.plan.transferred_bytes(),
            downtime: a.plan.downtime,
            reason: a.reason,
        };
        if let Some(m) = self.mig.as_mut() {
            m.active.swap_remove(i);
            m.stats.records.push(record);
            let d = m.downtime.entry(a.vm.0).or_insert(SimTime::ZERO);
            *d = d.saturating_add(a.plan.downtime);
        }
        self.move_vm(a.vm, a.from, a.to)?;
        let vm = self.vms.get_mut(a.vm);
        vm.migrating = false;
        vm.paused = a.was_paused;
        if !a.was_paused {
            self.resume_paused_vcpus(a.vm, a.to);
        }
        Ok(())
    }

    /// Migration `i` enters its stop-copy: its VM is paused, its running vCPUs taken off
    /// the source's pCPUs.
    pub(super) fn pause_for_stop_copy(&mut self, i: usize) -> Result<(), SimError> {
        let Some(a) = self.mig.as_ref().map(|m| m.active[i]) else {
            return Ok(());
        };
        let was_paused = std::mem::replace(&mut self.vms.get_mut(a.vm).paused, true);
        if let Some(m) = self.mig.as_mut() {
            m.active[i].stop_copy = true;
            m.active[i].was_paused = was_paused;
        }
        self.for_each_vcpu(a.vm, |eng, v| {
            match eng.vcpus.get(v).state {
                VcpuState::Running => {
                    eng.evict(a.from, v, SliceEnd::Migrated)?;
                    eng.set_state(v, VcpuState::Paused);
                }
                VcpuState::Ready => eng.set_state(v, VcpuState::Paused),
                // A blocked vCPU is paused when its request completes.
                VcpuState::Blocked { .. } | VcpuState::Paused | VcpuState::Done => {}
            }
            Ok(())
        })
    }

    /// Makes VM `slot`'s paused vCPUs ready on host `h`, their wait starting now.
    fn resume_paused_vcpus(&mut self, slot: VmSlot, h: HostId) {
        let now = self.now;
        let mut link = self.vms.get(slot).first_vcpu;
        while let Some(v) = link.get() {
            let vcpu = self.vcpus.get_mut(v);
            link = vcpu.next;
            if vcpu.state == VcpuState::Paused {
                vcpu.ready_since = now;
                vcpu.preempted = false;
                self.set_state(v, VcpuState::Ready);
                self.enqueue_ready(h, v);
            }
        }
    }

    /// Moves VM `slot` (its vCPUs off every pCPU, or blocked) from host `from` to host
    /// `to`, where its capacity is booked already: `from` gets its vCPU slots, memory and
    /// working set back; the VM's NUMA home and its vCPUs' pins are chosen on `to` as at
    /// admission.
    fn move_vm(&mut self, slot: VmSlot, from: HostId, to: HostId) -> Result<(), SimError> {
        let vm = self.vms.get(slot);
        let (vcpus, mem, home) = (u64::from(vm.req.vcpus), vm.req.memory_mib, vm.home_node);
        let resident = vm
            .req
            .profile
            .memory
            .map(|m| m.working_set_mib.saturating_sub(vm.ballooned_mib));
        // The source.
        self.release_capacity(from, vcpus, mem);
        let src = &mut self.hosts[from];
        if src.topology.numa_nodes > 1 {
            let n = &mut src.topology.node_mem_used[home as usize];
            *n = n.saturating_sub(mem);
        }
        if let Some(r) = resident {
            src.paging.working_set_mib = src.paging.working_set_mib.saturating_sub(r);
        }
        let emptied = src.capacity.admitted == 0;
        // The destination: the home node with the most free memory (lowest on ties).
        let dst = &mut self.hosts[to];
        let new_home = choose_home_node(dst, mem);
        if let Some(r) = resident {
            dst.paging.working_set_mib = dst.paging.working_set_mib.saturating_add(r);
        }
        let vm = self.vms.get_mut(slot);
        vm.host = OptId::some(to);
        vm.home_node = new_home;
        // The vCPUs: pins moved (fewest pinned on the home node, lowest number on ties).
        let pinned = self.mapping == Mapping::Pinned;
        let mut link = vm.first_vcpu;
        while let Some(v) = link.get() {
            let vcpu = self.vcpus.get_mut(v);
            link = vcpu.next;
            vcpu.last_pcpu = OptId::NONE;
            if !pinned || vcpu.state == VcpuState::Done {
                continue;
            }
            if let Some(p) = vcpu.pin.get() {
                let n = &mut self.pinned[from.0 as usize][p.0 as usize];
                *n = n.saturating_sub(1);
            }
            let pin = pin_vcpu(&self.hosts[to], &mut self.pinned[to.0 as usize], new_home);
            self.vcpus.get_mut(v).pin = OptId::some(pin);
        }
        if resident.is_some() {
            self.repage(from)?;
            self.repage(to)?;
        }
        if emptied && self.dc.power_off.is_some() {
            self.host_emptied(from)?;
        }
        self.admission_dirty = true;
        self.departed_since_pass = true;
        Ok(())
    }

    /// VM `slot` leaves its host (it ended, or its host failed) while migrating: the
    /// migration is abandoned and the destination's booking freed.
    #[cold]
    #[inline(never)]
    pub(super) fn abandon_migration_of(&mut self, slot: VmSlot) {
        let Some(m) = self.mig.as_mut() else {
            return;
        };
        if let Some(i) = m.active.iter().position(|a| a.vm == slot) {
            let a = m.active.swap_remove(i);
            m.stats.aborted += 1;
            let vm = self.vms.get_mut(slot);
            vm.migrating = false;
            if a.stop_copy {
                // (A VM that restarts after its host failed is as paused as before.)
                vm.paused = a.was_paused;
            }
            self.drop_queued_chunk(&a);
            self.free_destination(slot, a.to);
        }
    }

    /// Host `h` failed: migrations to it are abandoned, their VMs continue on the source.
    pub(super) fn abandon_migrations_to(&mut self, h: HostId) {
        loop {
            let Some(m) = self.mig.as_mut() else {
                return;
            };
            let Some(i) = m.active.iter().position(|a| a.to == h) else {
                return;
            };
            let a = m.active.swap_remove(i);
            m.stats.aborted += 1;
            self.drop_queued_chunk(&a);
            let vm = self.vms.get_mut(a.vm);
            vm.migrating = false;
            if a.stop_copy {
                vm.paused = a.was_paused;
                if !a.was_paused {
                    self.resume_paused_vcpus(a.vm, a.from);
                }
            }
            self.free_destination(a.vm, a.to);
        }
    }

    /// Frees what a migration of VM `slot` booked on host `to`.
    fn free_destination(&mut self, slot: VmSlot, to: HostId) {
        let vm = self.vms.get(slot);
        let (vcpus, mem) = (u64::from(vm.req.vcpus), vm.req.memory_mib);
        self.release_capacity(to, vcpus, mem);
        self.admission_dirty = true;
        self.departed_since_pass = true;
        if self.hosts[to].capacity.admitted == 0 && self.dc.power_off.is_some() {
            // (Scheduling at now + idle is never in the past.)
            let _ = self.host_emptied(to);
        }
    }

    /// A consolidation decision: the policy sees the hosts and VMs and orders migrations.
    #[cold]
    #[inline(never)]
    pub(super) fn consolidate(&mut self) -> Result<(), SimError> {
        let Some(mut m) = self.mig.take() else {
            return Ok(());
        };
        let result = self.consolidate_with(&mut m);
        self.mig = Some(m);
        let (started, interval) = result?;
        for (slot, to, reason) in started {
            self.start_migration(slot, to, reason)?;
        }
        if !self.run_over() {
            let now = self.now;
            self.events
                .schedule(now, now.saturating_add(interval), Event::Consolidate)?;
        }
        Ok(())
    }

    /// The orders of one decision, as (VM slot, destination, reason).
    #[allow(clippy::type_complexity)]
    fn consolidate_with(
        &mut self,
        m: &mut Migrations,
    ) -> Result<(Vec<(VmSlot, HostId, MigrationReason)>, SimTime), SimError> {
        let Some(c) = m.consolidation.as_mut() else {
            return Ok((Vec::new(), SimTime::MAX));
        };
        if self.run_over() {
            return Ok((Vec::new(), c.interval));
        }
        let now = self.now;
        let span = c.interval.nanos() as f64;
        c.hosts.clear();
        for (i, host) in self.hosts.iter_mut().enumerate() {
            host.busy.advance(now);
            let area = host.busy.busy_area;
            let used = area.saturating_sub(c.last_area[i]);
            c.last_area[i] = area;
            let h = HostId(i as u32);
            let pcpus = host.pcpus.len() as u32;
            c.hosts.push(HostLoad {
                usable: host.ops.state == PowerState::On,
                migrating: m.active.iter().any(|a| a.from == h || a.to == h),
                pcpus,
                free_vcpus: host
                    .capacity
                    .vcpu_cap
                    .saturating_sub(host.capacity.used_vcpus),
                free_mem: host.capacity.mem_cap.saturating_sub(host.capacity.used_mem),
                vcpu_limit: if self.gang {
                    u64::from(pcpus)
                } else {
                    u64::MAX
                },
                vms: host.capacity.admitted,
                utilization: (used as f64 / (span * f64::from(pcpus.max(1)))).clamp(0.0, 1.0),
            });
        }
        c.vms.clear();
        c.slots.clear();
        for (slot, vm) in self.vms.iter_slots() {
            if let Some(h) = vm.host.get() {
                c.vms.push(VmLoad {
                    id: vm.req.id,
                    host: h.0,
                    vcpus: vm.req.vcpus,
                    memory_mib: vm.req.memory_mib,
                    movable: !vm.migrating && !vm.stopped && !vm.first_vcpu.is_none(),
                });
                c.slots.push(slot);
            }
        }
        c.orders.clear();
        c.policy.plan(&c.hosts, &c.vms, &mut c.orders);
        let started = c
            .orders
            .iter()
            .filter_map(|o| {
                let slot = *c.slots.get(o.vm)?;
                Some((slot, HostId(o.to), o.reason))
            })
            .collect();
        Ok((started, c.interval))
    }
}
