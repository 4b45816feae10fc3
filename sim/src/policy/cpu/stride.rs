//! Stride scheduling (Waldspurger and Weihl, 1995; OSTEP ch. 9): deterministic
//! proportional share. Each vCPU has a pass; the ready vCPU with the smallest pass runs for
//! one quantum, and its pass then advances by its stride = `1024 / weight` per nanosecond it
//! ran (one quantum advances it by `quantum × 1024 / weight`). Over many quanta, vCPUs that
//! stay ready get CPU in proportion to their weights. Equal passes go to the earlier
//! arrival, then the lower id.
//!
//! The pass is the policy's per-vCPU state word ([`CpuPolicy::on_charged`]), in units of
//! nanoseconds at weight 1024. A vCPU starts with pass 0, also when it arrives after others
//! have run (this model does not move joiners to the global pass: a late vCPU first catches
//! up). Its key changes only while it runs, so the key is static while it waits.
use crate::policy::{Charge, CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView};

/// Stride scheduling (time-sliced, weights from the VM profile).
pub struct Stride;

impl CpuPolicy for Stride {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(v.state)
    }
    fn time_sliced(&self) -> bool {
        true
    }
    fn uses_state(&self) -> bool {
        true
    }
    fn uses_weight(&self) -> bool {
        true
    }
    fn on_charged(&self, pass: &mut u64, c: &Charge) {
        *pass = pass.saturating_add(super::fair::to_virtual(c.ran.nanos(), c.weight));
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "stride",
    description: "stride scheduling: smallest pass runs a quantum, pass += quantum x 1024 / weight",
    admission_counterpart: "fcfs",
    time_sliced: true,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "stride scheduling (proportional share by weight)",
        quantity: TraceQuantity::Received,
        reason: "smallest pass (CPU time x 1024 / weight)",
        ties_by_arrival: true,
    },
    build: || Box::new(Stride),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimTime;

    #[test]
    fn a_quantum_advances_the_pass_by_the_stride() {
        let mut pass = 0;
        let c = |w| Charge {
            ran: SimTime::from_secs(3),
            weight: w,
            now: SimTime::ZERO,
        };
        // 3 s at weight 3: 3e9 × 1024 / 3 = 1.024e12.
        Stride.on_charged(&mut pass, &c(3));
        assert_eq!(pass, 1_024_000_000_000);
        // At weight 1024 a nanosecond advances it by one.
        Stride.on_charged(&mut pass, &c(1024));
        assert_eq!(pass, 1_024_000_000_000 + 3_000_000_000);
    }
}
