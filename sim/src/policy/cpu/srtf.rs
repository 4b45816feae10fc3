//! Shortest remaining time first: preemptive SJF. A vCPU whose estimated remaining work is
//! strictly less than a running vCPU's takes its pCPU.
use crate::policy::{CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView};

/// Shortest remaining time first (preemptive).
pub struct Srtf;

impl CpuPolicy for Srtf {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(v.remaining_estimate().nanos())
    }
    fn preemptive(&self) -> bool {
        true
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "srtf",
    description: "shortest remaining time first: preemptive SJF on estimated remaining work",
    admission_counterpart: "sjf",
    time_sliced: false,
    preemptive: true,
    needs_estimates: true,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "shortest remaining time first (preemptive)",
        quantity: TraceQuantity::Remaining,
        reason: "shortest remaining time",
        ties_by_arrival: true,
    },
    build: || Box::new(Srtf),
};
