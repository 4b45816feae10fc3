//! Round robin: vCPUs run in FIFO order for at most one quantum each; a vCPU whose quantum
//! expires goes to the back of the queue.
//!
//! Convention: a vCPU that becomes ready at the instant another's quantum expires is queued
//! ahead of the preempted one (the key's low bit is 1 for preempted vCPUs).
use crate::policy::{CpuEntry, CpuPolicy, Teaching, TraceQuantity, VcpuView};

/// Round robin with a quantum.
pub struct RoundRobin;

impl CpuPolicy for RoundRobin {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        (u128::from(v.ready_since.nanos()) << 1) | u128::from(v.preempted)
    }
    fn time_sliced(&self) -> bool {
        true
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "rr",
    description: "round robin: FIFO time slices of quantum_ms",
    admission_counterpart: "fcfs",
    time_sliced: true,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "round robin",
        quantity: TraceQuantity::Remaining,
        reason: "next in the round-robin queue",
        ties_by_arrival: false,
    },
    build: || Box::new(RoundRobin),
};
