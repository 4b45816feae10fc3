//! A CPU policy of your own, passed as an object: longest job first on the textbook
//! table of four processes. `cargo run --release -p sim --example own_policy`.
use sim::observer::Collect;
use sim::policy::{AdmissionPolicy, CpuPolicy, VcpuView};
use sim::{SimConfig, SimTime, VmRequest, simulate_with_policies};

/// The ready vCPU with the most estimated work runs first.
struct LongestFirst;
impl CpuPolicy for LongestFirst {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(u64::MAX - v.estimate.nanos())
    }
}

/// Admission in arrival order (every VM has the same key).
struct Fifo;
impl AdmissionPolicy for Fifo {
    fn queue_key(&self, _vm: &VmRequest) -> u128 {
        0
    }
}

fn main() -> Result<(), sim::SimError> {
    let vms = [6, 8, 7, 3]
        .iter()
        .enumerate()
        .map(|(i, &burst)| VmRequest {
            id: i as u64,
            arrival: SimTime::ZERO,
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            demand: SimTime::from_secs(burst),
            estimate: SimTime::from_secs(burst),
            tenant: None,
            profile: Default::default(),
        });
    // The names in the configuration only label the run; the objects decide.
    let config = SimConfig::textbook("longest-first", SimTime::ZERO);
    let mut out = Collect::default();
    simulate_with_policies(
        &config,
        Box::new(Fifo),
        Box::new(LongestFirst),
        vms,
        &mut out,
    )?;
    for r in &out.vms {
        println!("P{} finishes at {}", r.id + 1, r.finish);
    }
    Ok(())
}
