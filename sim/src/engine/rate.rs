//! Rates and segment timing: the rate a vCPU runs at (translation, NUMA, SMT), the
//! constant-rate segments of a slice, and the work a segment does.

use crate::error::SimError;
use crate::observer::Observer;
use crate::policy::Charge;
use crate::time::SimTime;

use super::ids::{HostId, PcpuId, VcpuSlot};
use super::state::{Engine, Event, Host, NO_LIMIT, Segment};

impl<'a, O: Observer> Engine<'a, O> {
    /// The rate at which the vCPU `v` runs on pCPU `p` now.
    #[inline]
    pub(super) fn rate(&self, h: HostId, p: PcpuId, v: VcpuSlot) -> f64 {
        let host = &self.hosts[h];
        let mut rate = host.topology.translation_speed;
        if host.topology.numa_nodes == 1 && host.topology.threads_per_core == 1 {
            return rate;
        }
        if host.topology.numa_nodes > 1 {
            let home = self.vms.get(self.vcpus.get(v).vm).home_node;
            if host.node_of(p) != home {
                rate *= host.topology.remote_speed;
            }
        }
        if host.topology.threads_per_core > 1 && sibling_busy(host, p) {
            rate *= host.topology.smt_speed;
        }
        rate
    }

    /// Plans the next constant-rate segment of the slice on `p` from `from` and schedules
    /// its end.
    pub(super) fn plan_segment(
        &mut self,
        h: HostId,
        p: PcpuId,
        from: SimTime,
        rate: f64,
    ) -> Result<(), SimError> {
        let now = self.now;
        let host = &mut self.hosts[h];
        let pcpu = &mut host.pcpus[p];
        let v = self.vcpus.get_mut(pcpu.running.known_slot());
        let guest = v.remaining.min(v.burst_left).min(v.fault_in);
        let work = v.overhead_left.saturating_add(guest);
        let mut wall = wall_for(work, rate);
        let mut seg_work = work;
        // (The quantum runs from the start of the slice's guest code.)
        // The slice's quantum: the policy's for this slice when it keeps per-vCPU
        // state (`slice_quanta`), else the host's (`u64::MAX`: no time slicing).
        let quantum = match self.slice_quanta.get(h.0 as usize) {
            Some(per_pcpu) => per_pcpu[p.0 as usize],
            None => host.slice.map_or(u64::MAX, std::num::NonZeroU64::get),
        };
        let mut quantum_end = pcpu.start.nanos().saturating_add(quantum);
        // A capped vCPU's slice also ends when its grant of run time runs out.
        if let Some(caps) = self.caps.as_deref() {
            quantum_end = quantum_end.min(caps.grant_end(h, p));
        }
        let room = quantum_end.saturating_sub(from.nanos());
        if wall > room {
            wall = room;
            seg_work = work_for(room, rate).min(work);
        }
        let at = SimTime(from.nanos().saturating_add(wall));
        v.seg = Segment {
            start: from,
            work: seg_work,
            end: at,
            rate,
        };
        pcpu.generation = pcpu.generation.wrapping_add(1);
        let event = Event::SliceEnd {
            host: h,
            pcpu: p,
            generation: pcpu.generation,
        };
        self.events.schedule(now, at, event)
    }

    /// Applies the work of the current segment of `p` up to now to its vCPU.
    pub(super) fn settle_segment(&mut self, h: HostId, p: PcpuId) {
        let now = self.now;
        let v = self.hosts[h].pcpus[p].running.known_slot();
        let vcpu = self.vcpus.get_mut(v);
        let work = segment_work(&vcpu.seg, now);
        vcpu.seg.work -= work;
        vcpu.seg.start = now.max(vcpu.seg.start);
        let o = work.min(vcpu.overhead_left);
        vcpu.overhead_left -= o;
        let g = (work - o).min(vcpu.remaining);
        vcpu.remaining -= g;
        vcpu.attained += g;
        if vcpu.burst_left != NO_LIMIT {
            vcpu.burst_left -= g.min(vcpu.burst_left);
        }
        if vcpu.fault_in != NO_LIMIT {
            vcpu.fault_in -= g.min(vcpu.fault_in);
        }
        self.stats.work_ns += u128::from(g);
        self.stats.overhead_ns += u128::from(o);
        if self.policy_state && g > 0 {
            let weight = self.vms.get(vcpu.vm).req.profile.weight;
            let charge = Charge {
                ran: SimTime(g),
                weight,
                now,
            };
            let old = vcpu.policy_state;
            self.cpu_policy.on_charged(&mut vcpu.policy_state, &charge);
            if self.queue_avg {
                self.queue_charged(h, v, weight, old);
            }
        }
    }

    /// A sibling of `p` changed between busy and idle: re-plan the running siblings at
    /// their new rates.
    pub(super) fn retime_siblings(&mut self, h: HostId, p: PcpuId) -> Result<(), SimError> {
        let host = &self.hosts[h];
        let tpc = host.topology.threads_per_core;
        let core = host.core_of(p);
        for q in (core * tpc..(core * tpc + tpc).min(host.pcpus.len() as u32)).map(PcpuId) {
            let pc = &self.hosts[h].pcpus[q];
            if q == p || pc.running.is_idle() {
                continue;
            }
            let v = pc.running.known_slot();
            let new_rate = self.rate(h, q, v);
            if new_rate != self.vcpus.get(v).seg.rate {
                self.settle_segment(h, q);
                let from = self.now.max(self.vcpus.get(v).seg.start);
                self.plan_segment(h, q, from, new_rate)?;
            }
        }
        Ok(())
    }
}

/// Work done by segment `seg` up to `now`.
pub(super) fn segment_work(seg: &Segment, now: SimTime) -> u64 {
    if now >= seg.end {
        return seg.work;
    }
    let elapsed = now.nanos().saturating_sub(seg.start.nanos());
    work_for(elapsed, seg.rate).min(seg.work)
}

/// `x.ceil()` as an integer, for `x ≥ 0` (saturating at `u64::MAX`), without the library
/// call `f64::ceil` is on x86-64 before SSE4.1. Exact: below 2⁵³ the truncation converts
/// back exactly, and above it every `f64` is an integer already.
#[inline]
pub(super) fn ceil_u64(x: f64) -> u64 {
    let t = x as u64;
    if (t as f64) < x {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Wall time to do `work` at `rate` (exact when the rate is 1).
#[inline]
fn wall_for(work: u64, rate: f64) -> u64 {
    if rate == 1.0 || work == NO_LIMIT {
        work
    } else {
        ceil_u64(work as f64 / rate)
    }
}

/// Work done in `wall` at `rate` (exact when the rate is 1).
#[inline]
fn work_for(wall: u64, rate: f64) -> u64 {
    if rate == 1.0 {
        wall
    } else {
        // (Truncation is the floor of a non-negative number; `as` saturates.)
        (wall as f64 * rate) as u64
    }
}

fn sibling_busy(host: &Host, p: PcpuId) -> bool {
    let tpc = host.topology.threads_per_core;
    let core = host.core_of(p);
    (core * tpc..(core * tpc + tpc).min(host.pcpus.len() as u32))
        .any(|q| q != p.0 && !host.busy.is_idle(PcpuId(q)))
}

#[cfg(test)]
mod tests {
    use super::ceil_u64;

    /// The integer ceiling agrees with `f64::ceil` (then the saturating conversion) on
    /// integers, fractions, values around 2⁵³ and 2⁶⁴, and zero.
    #[test]
    fn ceil_u64_matches_f64_ceil() {
        let mut cases = vec![0.0, 0.25, 1.0, 1.5, 2.999_999, 1e9 + 0.5, 1e15 + 0.5, 1e30];
        let two53 = 9_007_199_254_740_992.0f64;
        let two64 = 18_446_744_073_709_551_616.0f64;
        for x in [two53, two64] {
            cases.extend([x, x.next_down(), x.next_up(), x * 0.5 + 0.5]);
        }
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x >> 11) as f64 / 1024.0);
        }
        for c in cases {
            assert_eq!(ceil_u64(c), c.ceil() as u64, "x = {c}");
        }
    }
}
