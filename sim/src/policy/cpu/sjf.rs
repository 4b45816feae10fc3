//! Shortest job first (non-preemptive): the ready vCPU with the least estimated remaining
//! work runs next and keeps its pCPU until it finishes.
use crate::policy::{CpuEntry, CpuPolicy, VcpuView};

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
    build: || Box::new(Sjf),
};
