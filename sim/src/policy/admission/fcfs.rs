//! First come, first served: VMs are admitted in arrival order.
use crate::policy::{AdmissionEntry, AdmissionParams, AdmissionPolicy};
use crate::{SimError, VmRequest};

/// First come, first served.
pub struct Fcfs;

impl AdmissionPolicy for Fcfs {
    fn queue_key(&self, _vm: &VmRequest) -> u128 {
        0 // the engine's tie-break (arrival, then id) is the FCFS order
    }
    fn arrival_order(&self) -> bool {
        true
    }
}

fn build(_: &AdmissionParams) -> Result<Box<dyn AdmissionPolicy>, SimError> {
    Ok(Box::new(Fcfs))
}

/// Registry entry.
pub const ENTRY: AdmissionEntry = AdmissionEntry {
    name: "fcfs",
    description: "first come, first served: VMs are admitted in arrival order",
    needs_estimates: false,
    build,
};
