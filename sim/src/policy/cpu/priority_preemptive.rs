//! Preemptive priority: a ready vCPU of a strictly more urgent VM takes the pCPU of the
//! least urgent running vCPU.
use crate::policy::{CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView, priority_key};

/// Preemptive priority.
pub struct PriorityPreemptive;

impl CpuPolicy for PriorityPreemptive {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        priority_key(v.priority)
    }
    fn preemptive(&self) -> bool {
        true
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "priority-preemptive",
    description: "preemptive priority: a more urgent vCPU takes the pCPU at once",
    admission_counterpart: "priority",
    time_sliced: false,
    preemptive: true,
    needs_estimates: false,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "preemptive priority, lower number first",
        quantity: TraceQuantity::Priority,
        reason: "highest priority (lowest number)",
        ties_by_arrival: true,
    },
    build: || Box::new(PriorityPreemptive),
};
