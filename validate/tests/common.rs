//! Helpers shared by the KVM integration tests.
#![allow(dead_code)]

use std::time::Duration;

use sim::{HeadOfLine, SimTime, VmRequest};
use validate::kvm::replay::{DeviceMode, ReplayConfig};
use validate::plan::{PlanOptions, VmPlan, Work};
use workloads::textbook::Process;

/// The tests of one file share the first CPU: they take this lock to run one at a time,
/// or they steal the core from each other (a panicking test does not poison it).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the first CPU for the caller until the guard is dropped.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

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

/// CPU-bound plans for a time-sliced policy: no first touch, and time out of the pCPU
/// (a gap of more than 1 ms in the TSC) does not count as work.
pub fn sliced_plans(reqs: &[VmRequest]) -> Vec<VmPlan> {
    let hz = validate::kvm::tsc_hz(Duration::from_millis(20));
    let mut p = plans(reqs, 0);
    for vm in &mut p {
        for v in &mut vm.vcpus {
            v.program
                .retain(|op| !matches!(op, validate::codegen::Op::Touch { .. }));
            for op in &mut v.program {
                if let validate::codegen::Op::Spin { gap, .. } = op {
                    *gap = (hz * 1e-3) as u32;
                }
            }
        }
    }
    p
}

/// `config(policy)` with every VM admitted and the policy configured as the simulator
/// would be with `quantum` as the CPU level's quantum (the slice of `credit` and its
/// accounting period; `fair`'s slice with `slice`).
pub fn sliced_config(policy: &str, quantum: Duration, slice: Option<Duration>) -> ReplayConfig {
    let mut cfg = config(policy);
    cfg.capacity = u64::MAX;
    let mut spec = sim::SimConfig::single_host(1, 0).cpu;
    spec.policy = cfg.cpu.clone();
    spec.quantum = SimTime::from_nanos(quantum.as_nanos() as u64);
    spec.slice = slice.map(|s| SimTime::from_nanos(s.as_nanos() as u64));
    cfg.quantum = slice.unwrap_or(quantum);
    cfg.cpu_params = Some((spec, 1, 0));
    cfg
}

/// CPU time of `vm`'s slices that ended by `until`, and over all its slices, in seconds.
pub fn ran(slices: &[sim::SliceRecord], vm: u64, until: SimTime) -> f64 {
    slices
        .iter()
        .filter(|x| x.vm == vm && x.end <= until)
        .map(|x| x.end.as_secs_f64() - x.start.as_secs_f64())
        .sum()
}
