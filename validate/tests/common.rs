//! Helpers shared by the KVM integration tests.
#![allow(dead_code)]

use std::time::Duration;

use sim::{HeadOfLine, SimTime, VmRequest};
use validate::kvm::replay::{DeviceMode, ReplayConfig};
use validate::plan::{PlanOptions, VmPlan, Work};
use workloads::textbook::Process;

/// Whether the environment demands that the KVM tests run (`VMSCHED_REQUIRE_KVM=1`, set
/// by CI where `/dev/kvm` opens): then a missing KVM fails the test instead of skipping it.
pub fn kvm_required() -> bool {
    std::env::var("VMSCHED_REQUIRE_KVM").is_ok_and(|v| v == "1")
}

/// Skips `test` with a printed reason, or fails it when KVM is required.
pub fn skip(test: &str, reason: &str) {
    assert!(
        !kvm_required(),
        "{test}: VMSCHED_REQUIRE_KVM=1 but {reason}"
    );
    eprintln!("SKIPPED: {test}: {reason}");
}

/// `/dev/kvm`, or `None` after printing why the test is skipped (a failure instead when
/// `VMSCHED_REQUIRE_KVM=1`).
pub fn kvm_or_skip(test: &str) -> Option<kvm_ioctls::Kvm> {
    match validate::kvm::open() {
        Ok(k) => Some(k),
        Err(e) => {
            skip(test, &e.to_string());
            None
        }
    }
}

/// VM requests from `(arrival ms, burst ms, priority)` rows.
pub fn requests(rows: &[(u64, u64, i32)]) -> Vec<VmRequest> {
    let procs: Vec<Process> = rows
        .iter()
        .enumerate()
        .map(|(i, &(a, b, p))| Process {
            name: format!("P{i}"),
            arrival: SimTime::from_millis(a),
            burst: SimTime::from_millis(b),
            priority: p,
            weight: None,
        })
        .collect();
    Process::to_vm_requests(&procs)
}

/// Plans with TSC work (robust to the host's speed), optional I/O.
pub fn plans(reqs: &[VmRequest], io_per_vcpu: u32) -> Vec<VmPlan> {
    let hz = validate::kvm::tsc_hz(Duration::from_millis(20));
    validate::plan::build(
        reqs,
        &PlanOptions {
            work: Work::Tsc {
                ticks_per_s: hz,
                gap_ticks: i32::MAX as u32,
            },
            touch_pages: 16,
            io_per_vcpu,
            io_service: Duration::from_millis(2),
        },
    )
}

/// One pCPU on the first allowed CPU, helpers on the others.
pub fn config(policy: &str) -> ReplayConfig {
    let allowed = validate::kvm::allowed_cpus();
    let (adm, cpu) = sim::policy::split_policy_name(policy).expect("known policy");
    ReplayConfig {
        cpu_params: None,
        admission: adm,
        aging_per_s: 0.0,
        cpu,
        head_of_line: HeadOfLine::Strict,
        quantum: Duration::from_millis(10),
        cores: vec![allowed[0]],
        housekeeping: allowed[1..].to_vec(),
        capacity: 1,
        timeout: Duration::from_secs(20),
        device: DeviceMode::Sleep,
        precreate: true,
        boost: false,
    }
}
