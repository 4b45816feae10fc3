//! Priority: the waiting VM with the lowest priority number is admitted first, optionally
//! with aging.
//!
//! With aging rate `a` (levels per second), a VM that arrived at `t_a` has at time `t` the
//! effective priority `p − a·(t − t_a)`. Comparing two VMs at the same `t`, the `−a·t` term
//! cancels, so the order is that of `p + a·t_a`: a key that does not change while VMs wait.
//! We use the integer form `p·P + t_a` with `P = round(1e9 / a)` nanoseconds per level.
use crate::policy::{AdmissionEntry, AdmissionParams, AdmissionPolicy, priority_key};
use crate::{SimError, VmRequest};

/// Non-preemptive priority with optional linear aging.
pub struct Priority {
    /// Nanoseconds of waiting that gain one priority level; `None` = no aging.
    period_ns: Option<u128>,
}

impl AdmissionPolicy for Priority {
    fn queue_key(&self, vm: &VmRequest) -> u128 {
        let p = priority_key(vm.priority);
        match self.period_ns {
            None => p,
            Some(period) => p * period + u128::from(vm.arrival.nanos()),
        }
    }
}

fn build(params: &AdmissionParams) -> Result<Box<dyn AdmissionPolicy>, SimError> {
    let a = params.aging_per_s;
    if !a.is_finite() || a < 0.0 {
        return Err(SimError::InvalidConfig(format!(
            "aging_per_s must be a finite number ≥ 0, got {a}"
        )));
    }
    let period_ns = if a == 0.0 {
        None
    } else {
        Some((1e9 / a).round().clamp(1.0, 1e30) as u128)
    };
    Ok(Box::new(Priority { period_ns }))
}

/// Registry entry.
pub const ENTRY: AdmissionEntry = AdmissionEntry {
    name: "priority",
    description: "lowest priority number admitted first (optional aging_per_s)",
    needs_estimates: false,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimTime;

    fn vm(priority: i32, arrival_s: u64) -> VmRequest {
        VmRequest {
            id: 0,
            arrival: SimTime::from_secs(arrival_s),
            vcpus: 1,
            memory_mib: 0,
            priority,
            demand: SimTime::from_secs(1),
            estimate: SimTime::from_secs(1),
            tenant: None,
            profile: Default::default(),
        }
    }

    #[test]
    fn aging_lets_an_old_low_priority_vm_overtake() {
        // Aging 0.1 level/s: a priority-5 VM that arrived at t=0 has, at any later t, the
        // effective priority 5 − 0.1·t; a priority-1 VM arriving at t=50 has
        // 1 − 0.1·(t − 50) = 6 − 0.1·t, which is worse: the old VM goes first.
        let p = build(&AdmissionParams { aging_per_s: 0.1 }).unwrap();
        assert!(p.queue_key(&vm(5, 0)) < p.queue_key(&vm(1, 50)));
        // ... but not one that arrived at t=30: 5 − 0.1t vs 1 − 0.1(t − 30) = 4 − 0.1t.
        assert!(p.queue_key(&vm(5, 0)) > p.queue_key(&vm(1, 30)));
        let none = build(&AdmissionParams { aging_per_s: 0.0 }).unwrap();
        assert!(none.queue_key(&vm(5, 0)) > none.queue_key(&vm(1, 50)));
        assert!(build(&AdmissionParams { aging_per_s: -1.0 }).is_err());
    }
}
