//! Backfilling admission (see [`crate::Backfill`]): EASY and conservative, planned with the
//! VMs' runtime estimates.
//!
//! A VM's *planned run* is `[admission, admission + context switch + estimate)` (at least
//! 1 ns): on a dedicated host, a VM whose estimate is exact ends exactly then. A VM that
//! runs past its plan is not killed; while it runs late it is planned to end 1 ns from now,
//! and the plans are made again at every admission pass until it ends.
//!
//! **EASY.** A pass admits from the head while the head fits (as strict head of line).
//! When the head does not fit, it gets a reservation: on each host that could ever hold
//! it, the running VMs' planned ends are walked in order until enough is free; the earliest
//! such time over the hosts is the *shadow time* (ties: the lowest host number), and what
//! is free then beyond the head's need is the *spare* capacity. Then the VMs behind the
//! head are scanned in queue order: a VM goes where the placement rule puts it now; on
//! another host than the reservation's it starts; on the reserved host it starts if it
//! ends by its estimate no later than the shadow time, or if it fits in the spare capacity
//! (which it then uses up). The scan stops when no host has a free vCPU slot, or after
//! [`BACKFILL_DEPTH`] VMs. A pass after arrivals alone (nothing left, nothing freed) keeps
//! the reservation and examines only the new VMs. Cost per pass: the running VMs of the
//! hosts walked (each host keeps its own sorted by planned end) plus the scanned VMs.
//!
//! **Conservative.** Every waiting VM holds a reservation (host, start) in a [`Profile`]
//! of each host's free capacity over time. A new VM gets the earliest slot over the hosts
//! (ties: the host the placement rule picks now, if it can start now, else the lowest
//! host number), after the VMs already holding one, so it delays none. When a VM ends
//! before its plan (or a waiting VM is stopped), its unused time is given back and every
//! waiting VM, in queue order, takes its reservation out and puts it back at the earliest
//! slot: never later than before, because the old slot is still free. When a VM ends or
//! runs past its plan, the profiles are rebuilt from the running VMs and every waiting VM
//! reserves again in queue order. A VM whose reservation is now starts on its host; a
//! wake-up is scheduled at the earliest future reservation. Cost per pass: the queue, plus
//! a profile walk per reservation made or moved.

use crate::error::SimError;
use crate::model::Backfill;
use crate::observer::{AdmissionNote, BackfillWhy, Observer};
use crate::time::SimTime;

use super::admission::queued_live;
use super::backfill_scan::SizeClasses;
use super::ids::{HostId, VmSlot};
use super::profile::Profile;
use super::state::{Engine, Event, Host, QueueEntry, Vm};

/// The most waiting VMs one EASY pass examines behind the head (as batch schedulers bound
/// their backfill scans, e.g. Slurm's `bf_max_job_test`): a longer queue is not scanned
/// past this depth, which keeps a pass bounded on queues of millions.
pub const BACKFILL_DEPTH: usize = 100;

/// A running VM's planned end on its host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PlannedEnd {
    end: SimTime,
    slot: VmSlot,
    vcpus: u64,
    mem: u64,
}

/// A waiting VM's reservation (conservative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reservation {
    host: HostId,
    start: SimTime,
    end: SimTime,
}

/// The EASY head's reservation, kept between passes while nothing leaves.
#[derive(Clone, Copy, Debug)]
pub(super) struct Head {
    entry: QueueEntry,
    id: u64,
    pub(super) host: HostId,
    pub(super) at: SimTime,
    pub(super) spare_v: u64,
    pub(super) spare_m: u64,
}

/// The planning state of backfilling.
#[derive(Debug, Default)]
pub(super) struct Backfiller {
    pub(super) mode: Backfill,
    /// Per host, its running VMs by planned end.
    running: Vec<Vec<PlannedEnd>>,
    /// Per host, free capacity over time (conservative).
    profiles: Vec<Profile>,
    /// Per VM slot, its reservation (conservative).
    reservations: Vec<Option<Reservation>>,
    /// The EASY head's reservation (none after a departure: recomputed at the next pass).
    head: Option<Head>,
    /// The last reservation reported: (VM, host, start).
    last_note: Option<(u64, u32, SimTime)>,
    /// A VM ended before its plan since the last pass (conservative: compress).
    ended_early: bool,
    /// A VM ended after its plan since the last pass (conservative: rebuild).
    ended_late: bool,
    /// The pending wake-up (conservative), `SimTime::MAX` when none.
    wake_at: SimTime,
    scratch: Vec<QueueEntry>,
    failed: Vec<(u64, u64)>,
    /// Where the placement rule put each size (vCPUs, MiB) last in this pass, and at which
    /// `admitted` count: the same size gets the same answer until the next admission.
    placed: Vec<(u64, u64, u64, Option<HostId>)>,
    /// Admissions in this pass.
    admitted: u64,
    /// EASY: the scan's quick rejection is on (see `backfill_scan`).
    pub(super) quick: bool,
    /// EASY with the quick rejection: size classes and their limits.
    pub(super) classes: SizeClasses,
}

/// A VM's planned duration: the context switch plus its estimate, at least 1 ns.
fn planned(vm: &Vm, context_switch: u64) -> SimTime {
    SimTime(
        vm.req
            .estimate
            .nanos()
            .saturating_add(context_switch)
            .max(1),
    )
}

fn after(t: SimTime, d: SimTime) -> SimTime {
    SimTime(t.nanos().saturating_add(d.nanos()))
}

impl Backfiller {
    /// The planner of `mode` for `hosts`, all empty; `quick`: the EASY scan's quick
    /// rejection.
    pub(super) fn new(mode: Backfill, hosts: &[Host], quick: bool) -> Backfiller {
        let on = mode != Backfill::None;
        Backfiller {
            mode,
            running: if on {
                vec![Vec::new(); hosts.len()]
            } else {
                Vec::new()
            },
            profiles: if mode == Backfill::Conservative {
                hosts
                    .iter()
                    .map(|h| {
                        let mut p = Profile::default();
                        p.reset(SimTime::ZERO, h.capacity.vcpu_cap, h.capacity.mem_cap);
                        p
                    })
                    .collect()
            } else {
                Vec::new()
            },
            wake_at: SimTime::MAX,
            quick: quick && mode == Backfill::Easy,
            ..Backfiller::default()
        }
    }

    /// Whether backfilling is on.
    #[inline(always)]
    pub(super) fn on(&self) -> bool {
        self.mode != Backfill::None
    }

    fn reservation(&self, slot: VmSlot) -> Option<Reservation> {
        self.reservations.get(slot.0 as usize).copied().flatten()
    }

    fn set_reservation(&mut self, slot: VmSlot, r: Option<Reservation>) {
        let i = slot.0 as usize;
        if i >= self.reservations.len() {
            if r.is_none() {
                return;
            }
            self.reservations.resize(i + 1, None);
        }
        self.reservations[i] = r;
    }
}

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn planned_of(&self, slot: VmSlot) -> SimTime {
        planned(self.vms.get(slot), self.context_switch)
    }

    /// Backfilling: VM `slot` was admitted to host `h` now.
    #[cold]
    pub(super) fn backfill_admitted(&mut self, slot: VmSlot, h: HostId) {
        let d = self.planned_of(slot);
        let vm = self.vms.get(slot);
        let (vcpus, mem) = (u64::from(vm.req.vcpus), vm.req.memory_mib);
        let end = after(self.now, d);
        let p = PlannedEnd {
            end,
            slot,
            vcpus,
            mem,
        };
        let list = &mut self.backfill.running[h.0 as usize];
        let at = list.partition_point(|x| *x < p);
        list.insert(at, p);
        if self.backfill.mode != Backfill::Conservative {
            return;
        }
        // Its reservation (now, on this host) holds the capacity already; a VM admitted
        // without one (a lone arrival at an empty queue) takes it now.
        let resv = self.backfill.reservation(slot);
        self.backfill.set_reservation(slot, None);
        let (v, m) = (vcpus as i128, mem as i128);
        let prof = &mut self.backfill.profiles[h.0 as usize];
        prof.advance(self.now);
        match resv {
            Some(r) if r.host == h && r.start == self.now => {}
            Some(r) => {
                // (Not at its reservation: plan it anew, and the others after it.)
                prof.add(r.start, r.end, v, m);
                prof.add(self.now, end, -v, -m);
                self.backfill.ended_late = true;
            }
            None => prof.add(self.now, end, -v, -m),
        }
    }

    /// Backfilling: admitted VM `slot` is leaving host `h` now.
    #[cold]
    pub(super) fn backfill_leaving(&mut self, slot: VmSlot, h: HostId) {
        let d = self.planned_of(slot);
        let vm = self.vms.get(slot);
        let (vcpus, mem) = (u64::from(vm.req.vcpus), vm.req.memory_mib);
        let end = after(vm.admission, d);
        let p = PlannedEnd {
            end,
            slot,
            vcpus,
            mem,
        };
        let Some(list) = self.backfill.running.get_mut(h.0 as usize) else {
            return;
        };
        if let Ok(at) = list.binary_search(&p) {
            list.remove(at);
        }
        self.backfill.head = None;
        if self.backfill.mode != Backfill::Conservative {
            return;
        }
        if self.now < end {
            // Give back the planned time it did not use.
            let prof = &mut self.backfill.profiles[h.0 as usize];
            prof.advance(self.now);
            prof.add(self.now, end, vcpus as i128, mem as i128);
            self.backfill.ended_early = true;
        } else if self.now > end {
            self.backfill.ended_late = true;
        }
    }

    /// Whether a VM runs past its plan now (its planned end is not after now).
    fn any_late(&self) -> bool {
        let now = self.now;
        self.backfill
            .running
            .iter()
            .any(|l| l.first().is_some_and(|p| p.end <= now))
    }

    /// The admission pass with backfilling on.
    pub(super) fn backfill_pass(&mut self) -> Result<(), SimError> {
        match self.backfill.mode {
            Backfill::Easy => self.easy_pass(),
            Backfill::Conservative => self.conservative_pass(),
            Backfill::None => Ok(()),
        }
    }

    fn note(&mut self, n: AdmissionNote) {
        if self.want_decisions {
            self.observer.on_admission_note(&n);
        }
    }

    /// The head's reservation: (host, shadow time, spare vCPUs, spare MiB), or `None` if no
    /// host could ever hold it.
    fn shadow(&self, vcpus: u64, mem: u64) -> Option<(HostId, SimTime, u64, u64)> {
        let late_end = after(self.now, SimTime(1));
        let mut best: Option<(HostId, SimTime, u64, u64)> = None;
        for (i, h) in self.hosts.iter().enumerate() {
            let c = &h.capacity;
            if vcpus > c.vcpu_cap || mem > c.mem_cap || (self.gang && vcpus > h.pcpus.len() as u64)
            {
                continue;
            }
            let mut free_v = c.vcpu_cap.saturating_sub(c.used_vcpus);
            let mut free_m = c.mem_cap.saturating_sub(c.used_mem);
            if free_v >= vcpus && free_m >= mem {
                // (Fits now: only when the placement rule could not use this host.)
                continue;
            }
            let list = &self.backfill.running[i];
            let mut k = 0;
            let mut found = None;
            while k < list.len() {
                let t = list[k].end.max(late_end);
                if best.is_some_and(|b| b.1 <= t) {
                    break;
                }
                // Every VM planned to end at t.
                while k < list.len() && list[k].end.max(late_end) == t {
                    free_v = free_v.saturating_add(list[k].vcpus);
                    free_m = free_m.saturating_add(list[k].mem);
                    k += 1;
                }
                if free_v >= vcpus && free_m >= mem {
                    found = Some(t);
                    break;
                }
            }
            if let Some(t) = found {
                best = Some((HostId(i as u32), t, free_v - vcpus, free_m - mem));
            }
        }
        best
    }

    /// Starts waiting VM `e` now if EASY lets it pass the head `hd`; returns whether it did.
    fn easy_try(&mut self, e: QueueEntry, hd: &mut Head) -> Result<bool, SimError> {
        let d = self.planned_of(e.slot);
        let vm = &self.vms.get(e.slot).req;
        let (v, m, id) = (u64::from(vm.vcpus), vm.memory_mib, vm.id);
        let (top_v, top_m) = self.max_free();
        if v > top_v
            || m > top_m
            || self
                .backfill
                .failed
                .iter()
                .any(|&(fv, fm)| v >= fv && m >= fm)
        {
            return Ok(false);
        }
        let version = self.backfill.admitted;
        let memo = self
            .backfill
            .placed
            .iter()
            .position(|&(pv, pm, _, _)| pv == v && pm == m);
        let place = match memo {
            Some(i) if self.backfill.placed[i].2 == version => self.backfill.placed[i].3,
            _ => {
                let h = self.place(v, m);
                match memo {
                    Some(i) => self.backfill.placed[i] = (v, m, version, h),
                    None if self.backfill.placed.len() < 16 => {
                        self.backfill.placed.push((v, m, version, h));
                    }
                    None => {}
                }
                h
            }
        };
        let Some(h) = place else {
            let failed = &mut self.backfill.failed;
            if failed.len() < 16 {
                failed.retain(|&(fv, fm)| !(fv >= v && fm >= m));
                failed.push((v, m));
            }
            return Ok(false);
        };
        let end = after(self.now, d);
        let why = if h != hd.host {
            BackfillWhy::OtherHost {
                head: hd.id,
                head_host: hd.host.0,
            }
        } else if end <= hd.at {
            BackfillWhy::EndsBefore {
                head: hd.id,
                at: hd.at,
            }
        } else if v <= hd.spare_v && m <= hd.spare_m {
            let why = BackfillWhy::SpareCapacity {
                head: hd.id,
                at: hd.at,
                spare_vcpus: hd.spare_v,
                spare_mib: hd.spare_m,
            };
            hd.spare_v -= v;
            hd.spare_m -= m;
            why
        } else {
            return Ok(false);
        };
        self.note(AdmissionNote::Backfill {
            time: self.now,
            vm: id,
            host: h.0,
            end_by_estimate: end,
            why,
        });
        self.admit(e.slot, h)?;
        self.backfill.admitted += 1;
        self.backfill.classes.changed();
        Ok(true)
    }

    fn easy_pass(&mut self) -> Result<(), SimError> {
        if std::mem::take(&mut self.departed_since_pass) {
            self.backfill.head = None;
        }
        self.backfill.failed.clear();
        self.backfill.placed.clear();
        self.backfill.classes.changed();
        // Arrivals alone since the last pass, all behind the head: the reservation holds
        // (nothing freed, time only moved on), and the VMs behind it that could not start
        // still cannot; only the new ones are tried.
        if let Some(mut hd) = self.backfill.head
            && !self.queue.is_empty()
        {
            self.arrived_now.sort_unstable();
            if self.arrived_now.first().is_none_or(|e| *e > hd.entry) {
                let mut batch = std::mem::take(&mut self.arrived_now);
                let mut keep = std::mem::take(&mut self.backfill.scratch);
                for &e in &batch {
                    if !self.easy_try(e, &mut hd)? {
                        keep.push(e);
                    }
                }
                batch.clear();
                self.arrived_now = batch;
                self.queue.join(&mut keep);
                self.backfill.scratch = keep;
                self.backfill.head = Some(hd);
                self.stats.peak_queue = self.stats.peak_queue.max(self.queue.len() as u64);
                return Ok(());
            }
        }
        self.queue.join(&mut self.arrived_now);
        self.stats.peak_queue = self.stats.peak_queue.max(self.queue.len() as u64);
        self.backfill.head = None;
        // The head goes while it fits.
        let head = loop {
            let Some(head) = self.queue.peek() else {
                return Ok(());
            };
            if self.stats.stopped > 0 && !queued_live(&self.vms, &head) {
                self.queue.pop();
                continue;
            }
            let vm = &self.vms.get(head.slot).req;
            match self.place(u64::from(vm.vcpus), vm.memory_mib) {
                Some(h) => {
                    self.queue.pop();
                    self.admit(head.slot, h)?;
                }
                None => break head,
            }
        };
        let vm = &self.vms.get(head.slot).req;
        let (v, m, head_id) = (u64::from(vm.vcpus), vm.memory_mib, vm.id);
        let Some((host, at, spare_v, spare_m)) = self.shadow(v, m) else {
            return Ok(());
        };
        if self.want_decisions && self.backfill.last_note != Some((head_id, host.0, at)) {
            self.backfill.last_note = Some((head_id, host.0, at));
            self.note(AdmissionNote::Reservation {
                time: self.now,
                vm: head_id,
                host: host.0,
                start: at,
                spare_vcpus: spare_v,
                spare_mib: spare_m,
            });
        }
        let mut hd = Head {
            entry: head,
            id: head_id,
            host,
            at,
            spare_v,
            spare_m,
        };
        if self.max_free().0 > 0 && self.queue.arrival_order() {
            // In place: the deque is read behind the head, started VMs taken out.
            let (mut i, mut seen) = (1, 0);
            while seen < BACKFILL_DEPTH {
                // (The VMs the quick test rejects in a row, passed over at once.)
                let skip = self.easy_skip(i, BACKFILL_DEPTH - seen);
                i += skip;
                seen += skip;
                if seen == BACKFILL_DEPTH {
                    break;
                }
                let Some(e) = self.queue.fifo_at(i) else {
                    break;
                };
                if self.stats.stopped > 0 && !queued_live(&self.vms, &e) {
                    self.queue.fifo_remove(i);
                    continue;
                }
                seen += 1;
                if self.easy_rejects(e.slot, &hd) {
                    i += 1;
                } else if self.easy_try(e, &mut hd)? {
                    self.queue.fifo_remove(i);
                    if self.max_free().0 == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if self.max_free().0 > 0 {
            let mut scratch = std::mem::take(&mut self.backfill.scratch);
            if let Some(e) = self.queue.pop() {
                scratch.push(e);
            }
            let mut seen = 0;
            while seen < BACKFILL_DEPTH
                && let Some(e) = self.queue.pop()
            {
                if self.stats.stopped > 0 && !queued_live(&self.vms, &e) {
                    continue;
                }
                seen += 1;
                if self.easy_rejects(e.slot, &hd) || !self.easy_try(e, &mut hd)? {
                    scratch.push(e);
                }
                if self.max_free().0 == 0 {
                    break;
                }
            }
            self.queue.put_back(&mut scratch);
            self.backfill.scratch = scratch;
        }
        self.backfill.head = Some(hd);
        Ok(())
    }

    /// The earliest slot for VM `slot` over the hosts.
    fn earliest_slot(&self, slot: VmSlot) -> Option<Reservation> {
        let d = self.planned_of(slot);
        let vm = &self.vms.get(slot).req;
        let (v, m) = (u64::from(vm.vcpus), vm.memory_mib);
        let now = self.now;
        let fits = |i: usize| !(self.gang && v > self.hosts[i].pcpus.len() as u64);
        if let Some(h) = self.place(v, m)
            && self.backfill.profiles[h.0 as usize].earliest(now, d, v, m) == Some(now)
        {
            return Some(Reservation {
                host: h,
                start: now,
                end: after(now, d),
            });
        }
        let mut best: Option<Reservation> = None;
        for (i, prof) in self.backfill.profiles.iter().enumerate() {
            if !fits(i) {
                continue;
            }
            if let Some(t) = prof.earliest(now, d, v, m)
                && best.is_none_or(|b| t < b.start)
            {
                best = Some(Reservation {
                    host: HostId(i as u32),
                    start: t,
                    end: after(t, d),
                });
                if t == now {
                    break;
                }
            }
        }
        best
    }

    /// Books (`sign` −1) or gives back (+1) reservation `r` of VM `slot`.
    fn book(&mut self, slot: VmSlot, r: Reservation, sign: i128) {
        let vm = &self.vms.get(slot).req;
        let (v, m) = (i128::from(vm.vcpus), i128::from(vm.memory_mib));
        self.backfill.profiles[r.host.0 as usize].add(r.start, r.end, sign * v, sign * m);
    }

    /// Profiles from the running VMs alone (late ones planned to end 1 ns from now).
    fn rebuild_profiles(&mut self) {
        let now = self.now;
        let late_end = after(now, SimTime(1));
        for (i, h) in self.hosts.iter().enumerate() {
            let prof = &mut self.backfill.profiles[i];
            prof.reset(now, h.capacity.vcpu_cap, h.capacity.mem_cap);
            for p in &self.backfill.running[i] {
                prof.add(
                    now,
                    p.end.max(late_end),
                    -(p.vcpus as i128),
                    -(p.mem as i128),
                );
            }
        }
    }

    /// Whether host `h` has room for VM `slot` now.
    fn room(&self, slot: VmSlot, h: HostId) -> bool {
        let vm = &self.vms.get(slot).req;
        let c = &self.hosts[h].capacity;
        c.used_vcpus.saturating_add(u64::from(vm.vcpus)) <= c.vcpu_cap
            && c.used_mem.saturating_add(vm.memory_mib) <= c.mem_cap
    }

    fn conservative_pass(&mut self) -> Result<(), SimError> {
        let now = self.now;
        self.departed_since_pass = false;
        self.queue.join(&mut self.arrived_now);
        self.stats.peak_queue = self.stats.peak_queue.max(self.queue.len() as u64);
        let rebuild = self.backfill.ended_late || self.any_late();
        let mut compress = self.backfill.ended_early && !rebuild;
        self.backfill.ended_late = false;
        self.backfill.ended_early = false;
        if rebuild {
            self.rebuild_profiles();
        } else {
            for p in &mut self.backfill.profiles {
                p.advance(now);
            }
        }
        let mut order = std::mem::take(&mut self.backfill.scratch);
        while let Some(e) = self.queue.pop() {
            order.push(e);
        }
        // A stopped VM gives its reservation back first.
        if self.stats.stopped > 0 {
            for &e in &order {
                if !queued_live(&self.vms, &e)
                    && let Some(r) = self.backfill.reservation(e.slot)
                {
                    if !rebuild {
                        self.book(e.slot, r, 1);
                    }
                    self.backfill.set_reservation(e.slot, None);
                    compress = true;
                }
            }
        }
        let mut kept = 0;
        let (mut ahead, mut next) = (0u64, SimTime::MAX);
        for i in 0..order.len() {
            let e = order[i];
            if self.stats.stopped > 0 && !queued_live(&self.vms, &e) {
                continue;
            }
            let old = self.backfill.reservation(e.slot);
            let r = match old {
                Some(r) if !compress && !rebuild => r,
                _ => {
                    if let Some(r) = old
                        && !rebuild
                    {
                        self.book(e.slot, r, 1);
                    }
                    // (Every VM fits some empty host: its arrival checked it.)
                    let Some(r) = self.earliest_slot(e.slot) else {
                        self.backfill.set_reservation(e.slot, None);
                        order[kept] = e;
                        kept += 1;
                        continue;
                    };
                    self.book(e.slot, r, -1);
                    self.backfill.set_reservation(e.slot, Some(r));
                    if old != Some(r) && self.want_decisions {
                        let id = self.vms.get(e.slot).req.id;
                        self.note(AdmissionNote::Reservation {
                            time: now,
                            vm: id,
                            host: r.host.0,
                            start: r.start,
                            spare_vcpus: 0,
                            spare_mib: 0,
                        });
                    }
                    r
                }
            };
            if r.start <= now && self.room(e.slot, r.host) {
                if ahead > 0 && self.want_decisions {
                    let id = self.vms.get(e.slot).req.id;
                    self.note(AdmissionNote::Backfill {
                        time: now,
                        vm: id,
                        host: r.host.0,
                        end_by_estimate: r.end,
                        why: BackfillWhy::DelaysNone { ahead, next },
                    });
                }
                self.admit(e.slot, r.host)?;
            } else {
                if r.start <= now {
                    // (The plan and the hosts disagree: plan again at the next pass.)
                    self.backfill.ended_late = true;
                }
                ahead += 1;
                next = next.min(r.start);
                order[kept] = e;
                kept += 1;
            }
        }
        order.truncate(kept);
        self.queue.put_back(&mut order);
        self.backfill.scratch = order;
        // A wake-up at the earliest future reservation, in case nothing else happens then;
        // none while a VM runs late (its end plans everything again, and a reservation
        // 1 ns from now would wake the engine every nanosecond).
        if next != SimTime::MAX
            && next > now
            && (next < self.backfill.wake_at || self.backfill.wake_at <= now)
            && !self.any_late()
        {
            self.backfill.wake_at = next;
            self.events.schedule(now, next, Event::AdmissionWake)?;
        }
        Ok(())
    }
}
