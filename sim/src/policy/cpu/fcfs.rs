//! First come, first served: vCPUs run to completion in the order they became ready.
use crate::policy::{CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView};

/// First come, first served (non-preemptive).
pub struct Fcfs;

impl CpuPolicy for Fcfs {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(v.ready_since.nanos())
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "fcfs",
    description: "first come, first served: run to completion in order of readiness",
    admission_counterpart: "fcfs",
    time_sliced: false,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "first come, first served",
        quantity: TraceQuantity::Arrival,
        reason: "first come, first served",
        ties_by_arrival: true,
    },
    build: || Box::new(Fcfs),
};
