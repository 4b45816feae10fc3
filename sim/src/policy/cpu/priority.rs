//! Non-preemptive priority: the ready vCPU of the most urgent VM (lowest number) runs next.
use crate::policy::{CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView, priority_key};

/// Non-preemptive priority.
pub struct Priority;

impl CpuPolicy for Priority {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        priority_key(v.priority)
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "priority",
    description: "non-preemptive priority: lowest priority number runs next, to completion",
    admission_counterpart: "priority",
    time_sliced: false,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "non-preemptive priority, lower number first",
        quantity: TraceQuantity::Priority,
        reason: "highest priority (lowest number)",
        ties_by_arrival: true,
    },
    build: || Box::new(Priority),
};
