//! Non-preemptive priority: the ready vCPU of the most urgent VM (lowest number) runs next.
use crate::policy::{CpuEntry, CpuPolicy, VcpuView, priority_key};

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
    build: || Box::new(Priority),
};
