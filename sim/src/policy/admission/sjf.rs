//! Shortest job first: the waiting VM with the smallest runtime estimate is admitted first.
use crate::policy::{AdmissionEntry, AdmissionParams, AdmissionPolicy};
use crate::{SimError, VmRequest};

/// Shortest (estimated) job first.
pub struct Sjf;

impl AdmissionPolicy for Sjf {
    fn queue_key(&self, vm: &VmRequest) -> u128 {
        u128::from(vm.estimate.nanos())
    }
}

fn build(_: &AdmissionParams) -> Result<Box<dyn AdmissionPolicy>, SimError> {
    Ok(Box::new(Sjf))
}

/// Registry entry.
pub const ENTRY: AdmissionEntry = AdmissionEntry {
    name: "sjf",
    description: "shortest job first: smallest runtime estimate admitted first",
    needs_estimates: true,
    build,
};
