//! Shortest job first (non-preemptive): the ready vCPU with the least estimated remaining
//! work runs next and keeps its pCPU until it finishes.
use crate::policy::{CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView};

/// Shortest job first (non-preemptive).
pub struct Sjf;

impl CpuPolicy for Sjf {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(v.remaining_estimate().nanos())
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "sjf",
    description: "shortest job first: least estimated work runs next, to completion",
    admission_counterpart: "sjf",
    time_sliced: false,
    preemptive: false,
    needs_estimates: true,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "non-preemptive shortest job first",
        quantity: TraceQuantity::Burst,
        reason: "shortest next burst",
        ties_by_arrival: true,
    },
    build: || Box::new(Sjf),
};
