//! CPU caps (`VmProfile::cpu_cap_ppm`, cgroup `cpu.max`) in the engine, under several CPU
//! policies, against finish and throttled times worked by hand.

use sim::observer::Collect;
use sim::{SimConfig, SimTime, VmProfile, VmRecord, VmRequest, simulate};

fn secs(s: f64) -> SimTime {
    SimTime::from_secs_f64(s).unwrap()
}

fn vm(id: u64, vcpus: u32, demand: f64, cap: f64) -> VmRequest {
    VmRequest {
        id,
        arrival: SimTime::ZERO,
        vcpus,
        memory_mib: 0,
        priority: 0,
        demand: secs(demand),
        estimate: secs(demand),
        tenant: None,
        profile: VmProfile {
            cpu_cap_ppm: (cap * 1e6).round() as u32,
            ..VmProfile::default()
        },
    }
}

fn run(cfg: &SimConfig, vms: Vec<VmRequest>) -> Vec<VmRecord> {
    let mut c = Collect::default();
    simulate(cfg, vms, &mut c).unwrap();
    c.vms.sort_by_key(|r| r.id);
    c.vms
}

fn near(a: SimTime, b: f64) -> bool {
    (a.as_secs_f64() - b).abs() < 1e-9
}

/// One VM of 1 s of CPU, cap 0.5, period 100 ms, alone on one pCPU. Each period it runs
/// 50 ms, then is throttled for 50 ms. After 19 periods (t = 1.9 s) it has done
/// 19 × 50 ms = 0.95 s; in the 20th it runs its last 50 ms and ends at 1.9 + 0.05 =
/// 1.95 s. Throttled: 19 × 50 ms = 0.95 s. The same under every policy (whatever the
/// slice: a slice shorter than the grant just gives the rest of the grant back).
#[test]
fn a_half_capped_vm_alone_ends_at_1_95_s() {
    for (policy, q_ms) in [
        ("fcfs", 100.0),
        ("rr", 100.0),
        ("rr", 30.0),
        ("fair", 0.75),
        ("stride", 10.0),
        ("srtf", 100.0),
        ("hrrn", 100.0),
    ] {
        let cfg = SimConfig::textbook(policy, secs(q_ms / 1e3));
        let r = run(&cfg, vec![vm(0, 1, 1.0, 0.5)]);
        assert!(
            near(r[0].finish, 1.95),
            "{policy}: ends at {:?}",
            r[0].finish
        );
        assert!(near(r[0].throttled, 0.95), "{policy}: {:?}", r[0].throttled);
    }
}

/// The cap binds the capped VM only. VM 0 (1 s, cap 0.25) and VM 1 (1 s, no cap) under
/// round robin with a 10 ms quantum on one pCPU: VM 0 gets 25 ms per period as long as it
/// competes, so VM 1 gets the other 75 ms and ends near 1 / 0.75 = 1.33 s (a quantum or so
/// later: it shares the period it ends in). VM 0 then still gets exactly 25 ms per period:
/// 1 s takes 40 periods, the last one starting at 3.9 s: it ends at 3.9 + 0.025 = 3.925 s.
#[test]
fn a_cap_binds_only_the_capped_vm() {
    let cfg = SimConfig::textbook("rr", SimTime::from_millis(10));
    let r = run(&cfg, vec![vm(0, 1, 1.0, 0.25), vm(1, 1, 1.0, 0.0)]);
    let f1 = r[1].finish.as_secs_f64();
    assert!((1.333..=1.36).contains(&f1), "uncapped VM ends at {f1}");
    assert_eq!(r[1].throttled, SimTime::ZERO);
    assert!(
        near(r[0].finish, 3.925),
        "capped VM ends at {:?}",
        r[0].finish
    );
}

/// A cap is per VM, summed over its vCPUs. A VM of 2 vCPUs (1 s each) with cap 1.0 on
/// two pCPUs: its pool is 100 ms per period, taken in 5 ms grants by both vCPUs, so each
/// runs 50 ms per period: 1 s each takes 20 periods and both end at 1.9 + 0.05 = 1.95 s.
/// Throttled 19 × 50 ms = 0.95 s. The 2-pCPU host is dedicated (no overcommit): the vCPUs
/// start at admission, without a run queue.
#[test]
fn a_cap_is_shared_by_the_vcpus_of_a_vm() {
    let cfg = SimConfig::single_host(2, 0);
    let r = run(&cfg, vec![vm(0, 2, 1.0, 1.0)]);
    assert!(near(r[0].finish, 1.95), "ends at {:?}", r[0].finish);
    assert!(near(r[0].throttled, 0.95), "{:?}", r[0].throttled);
}

/// A cap above what the VM can use never throttles it: 1 vCPU capped at 2 pCPUs.
#[test]
fn a_cap_above_the_vcpus_never_throttles() {
    let cfg = SimConfig::textbook("rr", SimTime::from_millis(10));
    let r = run(&cfg, vec![vm(0, 1, 1.0, 2.0)]);
    assert!(near(r[0].finish, 1.0), "{:?}", r[0].finish);
    assert_eq!(r[0].throttled, SimTime::ZERO);
}
