//! Random workloads for the property tests: VMs drawn as tuples of small whole numbers,
//! and the admission policies and placement rules the cases choose from.

use sim::{Placement, SimTime, VmRequest};

/// The admission policies a random case draws from.
pub const ADMISSION: [&str; 3] = ["fcfs", "sjf", "priority"];

/// The placement rules a random case draws from.
pub const PLACEMENTS: [Placement; 3] =
    [Placement::FirstFit, Placement::BestFit, Placement::WorstFit];

/// One random VM: (arrival gap, demand, vCPUs, priority, memory in GiB, estimate), times in
/// whole seconds.
pub type VmTuple = (u64, u64, u32, i32, u64, u64);

/// The VMs of `tuples`, numbered from 0, each arriving its gap after the previous one.
pub fn vms_from(tuples: Vec<VmTuple>) -> Vec<VmRequest> {
    let mut t = 0;
    tuples
        .into_iter()
        .enumerate()
        .map(|(i, (gap, demand, vcpus, priority, gib, estimate))| {
            t += gap;
            VmRequest {
                id: i as u64,
                arrival: SimTime::from_secs(t),
                vcpus,
                memory_mib: gib * 1024,
                priority,
                demand: SimTime::from_secs(demand),
                estimate: SimTime::from_secs(estimate),
                tenant: None,
                profile: Default::default(),
            }
        })
        .collect()
}
