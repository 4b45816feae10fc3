//! Highest response ratio next (Brinch Hansen; Stallings §9.2), non-preemptive: when a
//! pCPU is free, the ready vCPU with the highest response ratio
//! `R = (w + s) / s` runs to completion, where `w` is how long it has waited since it last
//! became ready and `s` its expected service: the estimated remaining work (the user's
//! estimate, as SJF uses it; at least 1 ns). Short jobs go first, as under SJF, but a long
//! job's ratio grows while it waits, so it cannot starve.
//!
//! The ratio changes with time, so the key is dynamic: the engine re-evaluates it at every
//! dispatch decision. Equal ratios go to the earlier arrival, then the lower id.
use crate::policy::{CpuEntry, CpuPolicy, KeyContext, Teaching, TraceQuantity, VcpuView};

/// Highest response ratio next (non-preemptive, dynamic key).
pub struct Hrrn;

/// The response ratio `(w + s) / s` as a fixed-point number with 64 fractional bits.
pub fn response_ratio_fixed(v: &VcpuView, now: crate::SimTime) -> u128 {
    let s = v.remaining_estimate().nanos().max(1);
    let w = now.nanos().saturating_sub(v.ready_since.nanos());
    // w + s < 2^64, so the shift cannot overflow a u128.
    (u128::from(w.saturating_add(s)) << 64) / u128::from(s)
}

impl CpuPolicy for Hrrn {
    /// The key at the instant the vCPU became ready (ratio 1 for everyone).
    fn ready_key(&self, v: &VcpuView) -> u128 {
        self.ready_key_at(v, &KeyContext::at(v.ready_since))
    }
    fn ready_key_at(&self, v: &VcpuView, ctx: &KeyContext) -> u128 {
        // Highest ratio first: smaller key for a larger ratio.
        u128::MAX - response_ratio_fixed(v, ctx.now)
    }
    fn key_depends_on_time(&self) -> bool {
        true
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "hrrn",
    description: "highest response ratio next: (wait + estimated work) / estimated work, to completion",
    admission_counterpart: "fcfs",
    time_sliced: false,
    preemptive: false,
    needs_estimates: true,
    key_depends_on_time: true,
    teaching: Teaching {
        long_name: "highest response ratio next (non-preemptive)",
        quantity: TraceQuantity::ResponseRatio,
        reason: "highest response ratio (wait + burst) / burst",
        ties_by_arrival: true,
    },
    build: || Box::new(Hrrn),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimTime;

    fn view(arrival: u64, estimate: u64) -> VcpuView {
        VcpuView {
            vm: 0,
            priority: 0,
            arrival: SimTime::from_secs(arrival),
            estimate: SimTime::from_secs(estimate),
            attained: SimTime::ZERO,
            ready_since: SimTime::from_secs(arrival),
            preempted: false,
            weight: 1024,
            state: 0,
        }
    }

    #[test]
    fn the_highest_ratio_has_the_smallest_key() {
        // Stallings at t = 9: C (arrived 4, service 4) has R = (5 + 4)/4 = 2.25,
        // D (6, 5) R = (3 + 5)/5 = 1.6, E (8, 2) R = (1 + 2)/2 = 1.5.
        let ctx = KeyContext::at(SimTime::from_secs(9));
        let k = |a, s| Hrrn.ready_key_at(&view(a, s), &ctx);
        assert!(k(4, 4) < k(6, 5) && k(6, 5) < k(8, 2));
        let r = response_ratio_fixed(&view(4, 4), ctx.now);
        assert_eq!(r, 9u128 << 62); // 2.25 × 2^64
        // At t = 13: E (5 + 2)/2 = 3.5 beats D (7 + 5)/5 = 2.4.
        let ctx = KeyContext::at(SimTime::from_secs(13));
        assert!(Hrrn.ready_key_at(&view(8, 2), &ctx) < Hrrn.ready_key_at(&view(6, 5), &ctx));
    }
}
