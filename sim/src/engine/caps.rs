//! CPU caps (`VmProfile::cpu_cap_ppm`), as cgroup `cpu.max` applies them: a capped VM may
//! run `cap × period` of CPU time per period (summed over its vCPUs), then it is
//! throttled until the next period starts.
//!
//! The model follows Linux's CFS bandwidth control: a vCPU that starts on a pCPU takes a
//! grant of run time from its VM's pool for the current period (the whole pool for a
//! one-vCPU VM; at most 5 ms, Linux's `sched_cfs_bandwidth_slice`, for a VM with more
//! vCPUs, so siblings share the pool), and never past the end of the period. When the
//! grant runs out while the vCPU still has work, it takes another; when the pool is empty
//! the vCPU is throttled (its slice ends with reason `throttled`) and waits, out of the run
//! queue, until the pool is refilled at the start of the next period. A vCPU that stops
//! early gives the rest of its grant back. Run time is wall time on the pCPU from the end
//! of the context switch. Periods of a VM start at its admission: `[admission + k × period,
//! admission + (k + 1) × period)`. Throttled time (`VmRecord::throttled`) is the wall time
//! during which the VM had a throttled vCPU waiting for a refill.
//!
//! Under a CPU policy that enforces caps itself (Xen Credit parks capped vCPUs at its
//! accounting instants, `park.rs`), the pools stay empty (quota 0) and only the
//! throttled time is kept here: the wall time during which the VM had a parked vCPU.
//!
//! None of this is allocated or consulted before the first capped VM is admitted.

use crate::error::SimError;
use crate::observer::{Observer, SliceEnd};
use crate::time::SimTime;

use super::ids::{HostId, PcpuId, VcpuSlot, VmSlot};
use super::state::{Engine, Event, VcpuState};

/// Linux's `sched_cfs_bandwidth_slice_us` default: the most run time a vCPU of a VM with
/// several vCPUs takes from the VM's pool at once.
pub(super) const BANDWIDTH_SLICE_NS: u64 = 5_000_000;

/// The caps state of a run (boxed in `Engine::caps`, created at the first capped VM).
#[derive(Debug)]
pub(super) struct Caps {
    /// The period (ns).
    period: u64,
    /// Per VM slot.
    vms: Vec<VmCap>,
    /// Per host, per pCPU: the grant of the vCPU running there.
    grants: Vec<Vec<Grant>>,
}

/// A VM's pool for its current period.
#[derive(Clone, Copy, Debug, Default)]
struct VmCap {
    /// Run time per period (0: not capped).
    quota: u64,
    /// When its periods start (its admission).
    origin: u64,
    /// Start of the current period.
    period_start: u64,
    /// Run time left in the pool for the current period.
    left: u64,
    /// Since when it is throttled (valid when `throttled`).
    throttled_since: u64,
    throttled: bool,
    /// Throttled time so far (ns).
    throttled_ns: u64,
    /// A refill event is scheduled.
    refill_pending: bool,
    /// vCPUs parked by the CPU policy (`park.rs`).
    parked: u32,
    /// Counts admissions into this slot, so that a refill for an earlier VM is ignored.
    epoch: u32,
}

/// Run time a running vCPU took from its VM's pool.
#[derive(Clone, Copy, Debug, Default)]
struct Grant {
    active: bool,
    /// When it started to be used.
    from: u64,
    amount: u64,
    /// The period of the pool it came from.
    period_start: u64,
}

impl Caps {
    /// When the grant of the vCPU running on `p` of host `h` runs out (`u64::MAX` when it
    /// holds none: an uncapped vCPU, or none running).
    pub(super) fn grant_end(&self, h: HostId, p: PcpuId) -> u64 {
        let g = &self.grants[h.0 as usize][p.0 as usize];
        if g.active {
            g.from.saturating_add(g.amount)
        } else {
            u64::MAX
        }
    }
}

impl VmCap {
    /// Moves to the period that contains `now` (refilling the pool) if it has begun.
    fn roll(&mut self, now: u64, period: u64) {
        if now >= self.period_start.saturating_add(period) {
            let k = (now - self.origin) / period;
            self.period_start = self.origin + k * period;
            self.left = self.quota;
        }
    }
}

impl<'a, O: Observer> Engine<'a, O> {
    /// Sets up the caps of VM `slot`, admitted to host `h` now (called at every
    /// admission once caps exist, and for the first capped VM).
    pub(super) fn caps_admit(&mut self, slot: VmSlot) {
        let ppm = self.vms.get(slot).req.profile.cpu_cap_ppm;
        if ppm == 0 && self.caps.is_none() {
            return;
        }
        let hosts = &self.hosts;
        let period = self.cap_period;
        let caps = self.caps.get_or_insert_with(|| {
            Box::new(Caps {
                period,
                vms: Vec::new(),
                grants: hosts
                    .iter()
                    .map(|h| vec![Grant::default(); h.pcpus.len()])
                    .collect(),
            })
        });
        let i = slot.0 as usize;
        if caps.vms.len() <= i {
            caps.vms.resize(i + 1, VmCap::default());
        }
        let quota = (u128::from(caps.period) * u128::from(ppm) / 1_000_000) as u64;
        let now = self.now.nanos();
        let c = &mut caps.vms[i];
        *c = VmCap {
            // (A policy that parks capped vCPUs enforces the cap itself.)
            quota: if ppm == 0 || self.parks {
                0
            } else {
                quota.max(1)
            },
            origin: now,
            period_start: now,
            left: quota.max(1),
            epoch: c.epoch.wrapping_add(1),
            ..VmCap::default()
        };
    }

    /// Whether VM `slot` is capped and its pool for the current period is empty.
    pub(super) fn cap_exhausted(&mut self, slot: VmSlot) -> bool {
        let now = self.now.nanos();
        let Some(caps) = self.caps.as_deref_mut() else {
            return false;
        };
        let period = caps.period;
        match caps.vms.get_mut(slot.0 as usize) {
            Some(c) if c.quota > 0 => {
                c.roll(now, period);
                c.left == 0
            }
            _ => false,
        }
    }

    /// Takes a grant for vCPU `v` starting guest work on `p` at `start`: the slice ends at
    /// the grant's end ([`Caps::grant_end`]) if that comes before the quantum's.
    pub(super) fn cap_grant(&mut self, h: HostId, p: PcpuId, v: VcpuSlot, start: SimTime) {
        let slot = self.vcpus.get(v).vm;
        let vcpus = self.vms.get(slot).req.vcpus;
        let Some(caps) = self.caps.as_deref_mut() else {
            return;
        };
        let period = caps.period;
        let Some(c) = caps.vms.get_mut(slot.0 as usize).filter(|c| c.quota > 0) else {
            return;
        };
        let s = start.nanos();
        c.roll(s, period);
        let mut g = c.left.min((c.period_start + period).saturating_sub(s));
        if vcpus > 1 {
            g = g.min(BANDWIDTH_SLICE_NS);
        }
        c.left -= g;
        caps.grants[h.0 as usize][p.0 as usize] = Grant {
            active: true,
            from: s,
            amount: g,
            period_start: c.period_start,
        };
    }

    /// The vCPU on `p` stops: the unused part of its grant goes back to its VM's pool
    /// (if that pool's period is still the current one).
    pub(super) fn cap_return(&mut self, h: HostId, p: PcpuId, slot: VmSlot) {
        let now = self.now.nanos();
        let Some(caps) = self.caps.as_deref_mut() else {
            return;
        };
        let g = std::mem::take(&mut caps.grants[h.0 as usize][p.0 as usize]);
        if !g.active {
            return;
        }
        let used = now.saturating_sub(g.from).min(g.amount);
        if let Some(c) = caps.vms.get_mut(slot.0 as usize)
            && c.period_start == g.period_start
        {
            c.left += g.amount - used;
        }
    }

    /// The slice on `p` reached its end without the vCPU finishing or blocking: if that
    /// was the end of a grant (not of the quantum), the vCPU takes another grant and goes
    /// on (true), or is throttled (true). False: a quantum expiry to handle as usual.
    pub(super) fn cap_slice_end(&mut self, h: HostId, p: PcpuId) -> Result<bool, SimError> {
        let Some(caps) = self.caps.as_deref() else {
            return Ok(false);
        };
        let g = caps.grants[h.0 as usize][p.0 as usize];
        let now = self.now;
        if !g.active || now.nanos() < g.from.saturating_add(g.amount) {
            return Ok(false);
        }
        let pc = &self.hosts[h].pcpus[p];
        let real_end = SimTime(pc.start.nanos().saturating_add(self.slice_quantum(h, p)));
        if now >= real_end {
            return Ok(false);
        }
        let v = pc.running.known_slot();
        let slot = self.vcpus.get(v).vm;
        if let Some(caps) = self.caps.as_deref_mut() {
            caps.grants[h.0 as usize][p.0 as usize].active = false;
        }
        if !self.cap_exhausted(slot) {
            self.cap_grant(h, p, v, now);
            let rate = self.vcpus.get(v).seg.rate;
            self.plan_segment(h, p, now, rate)?;
            return Ok(true);
        }
        let v = self.release(h, p, SliceEnd::Throttled)?;
        self.stats.preemptions += 1;
        self.throttle(v)?;
        Ok(true)
    }

    /// Ready or just-released vCPU `v` waits for its VM's pool to be refilled.
    pub(super) fn throttle(&mut self, v: VcpuSlot) -> Result<(), SimError> {
        let slot = self.vcpus.get(v).vm;
        self.set_state(v, VcpuState::Paused);
        let now = self.now;
        let Some(caps) = self.caps.as_deref_mut() else {
            return Ok(());
        };
        let period = caps.period;
        let Some(c) = caps.vms.get_mut(slot.0 as usize) else {
            return Ok(());
        };
        if !c.throttled {
            c.throttled = true;
            c.throttled_since = now.nanos();
        }
        if !c.refill_pending {
            c.refill_pending = true;
            let at = SimTime(c.period_start.saturating_add(period));
            let epoch = c.epoch;
            self.events
                .schedule(now, at, Event::CapRefill { slot, epoch })?;
        }
        Ok(())
    }

    /// A throttled VM's next period starts: its pool is refilled and its throttled vCPUs
    /// become ready (unless the VM is paused).
    pub(super) fn cap_refill(&mut self, slot: VmSlot, epoch: u32) -> Result<(), SimError> {
        let now = self.now;
        if self.vms.try_get(slot).is_none() {
            return Ok(());
        }
        let Some(caps) = self.caps.as_deref_mut() else {
            return Ok(());
        };
        let period = caps.period;
        let Some(c) = caps
            .vms
            .get_mut(slot.0 as usize)
            .filter(|c| c.epoch == epoch)
        else {
            return Ok(());
        };
        c.refill_pending = false;
        c.roll(now.nanos(), period);
        if c.throttled {
            c.throttled = false;
            c.throttled_ns += now.nanos() - c.throttled_since;
        }
        self.count_event();
        let vm = self.vms.get(slot);
        let Some(h) = vm.host.get() else {
            return Ok(());
        };
        if vm.paused || vm.stopped {
            return Ok(());
        }
        self.for_each_vcpu(slot, |eng, v| {
            if eng.vcpus.get(v).state == VcpuState::Paused {
                let vcpu = eng.vcpus.get_mut(v);
                vcpu.ready_since = eng.now;
                vcpu.preempted = true;
                eng.set_state(v, VcpuState::Ready);
                eng.enqueue_ready(h, v);
            }
            Ok(())
        })
    }

    /// One more (`on`) or one fewer vCPU of VM `slot` is parked (`park.rs`): the VM is
    /// throttled while any is.
    pub(super) fn cap_parked(&mut self, slot: VmSlot, on: bool) {
        let now = self.now.nanos();
        let Some(c) = self
            .caps
            .as_deref_mut()
            .and_then(|caps| caps.vms.get_mut(slot.0 as usize))
        else {
            return;
        };
        if on {
            if c.parked == 0 {
                c.throttled = true;
                c.throttled_since = now;
            }
            c.parked += 1;
        } else if c.parked > 0 {
            c.parked -= 1;
            if c.parked == 0 && c.throttled {
                c.throttled = false;
                c.throttled_ns += now - c.throttled_since;
            }
        }
    }

    /// The throttled time of VM `slot` up to now.
    pub(super) fn throttled_time(&self, slot: VmSlot) -> SimTime {
        let Some(c) = self
            .caps
            .as_deref()
            .and_then(|caps| caps.vms.get(slot.0 as usize))
        else {
            return SimTime::ZERO;
        };
        let open = if c.throttled {
            self.now.nanos().saturating_sub(c.throttled_since)
        } else {
            0
        };
        SimTime(c.throttled_ns + open)
    }
}
