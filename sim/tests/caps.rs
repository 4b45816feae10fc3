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

/// Under `credit` a cap is enforced as Xen's Credit scheduler does: by parking. One VM of
/// 240 ms of CPU, cap 0.5, alone on one pCPU, 30 ms slices (= the accounting period):
/// it earns min(30, ⌈0.5 × 30⌉) = 15 ms of credit per accounting (credits in ms below),
/// pays 30 ms per slice, is parked when an accounting leaves it under −15 and unparked
/// by the first that finds it ≥ 0.
///
/// | t (ms) | credit after the accounting | then |
/// |---|---|---|
/// | 0 | 0 | runs 0–30 |
/// | 30 | −30 + 15 = −15 | not under −15: runs 30–60 |
/// | 60 | −45 + 15 = −30 | parked |
/// | 90 | −30 + 15 = −15 | still parked (unparked only at ≥ 0) |
/// | 120 | −15 + 15 = 0 | unparked: runs 120–180 as from 0 |
///
/// So it runs 60 ms and is parked 60 ms: the 240 ms run in 0–60, 120–180, 240–300 and
/// 360–420, and it ends at 420 ms, parked (throttled) 3 × 60 = 180 ms. The engine's
/// bandwidth control (50 ms per 100 ms period) would have ended it at 4 × 100 + 40 =
/// 440 ms: it is off under `credit`.
#[test]
fn credit_parks_a_capped_vcpu_as_xen_does() {
    let cfg = SimConfig::textbook("credit", SimTime::from_millis(30));
    let mut c = Collect::default();
    simulate(&cfg, vec![vm(0, 1, 0.24, 0.5)], &mut c).unwrap();
    let r = &c.vms[0];
    assert!(near(r.finish, 0.42), "ends at {:?}", r.finish);
    assert!(near(r.throttled, 0.18), "throttled {:?}", r.throttled);
    // Its slices: 30 ms each, two by two, 60 ms apart.
    let runs: Vec<(u64, u64)> = c
        .slices
        .iter()
        .map(|s| (s.start.nanos() / 1_000_000, s.end.nanos() / 1_000_000))
        .collect();
    assert_eq!(
        runs,
        vec![
            (0, 30),
            (30, 60),
            (120, 150),
            (150, 180),
            (240, 270),
            (270, 300),
            (360, 390),
            (390, 420)
        ]
    );
    // The same VM uncapped runs straight through: 240 ms.
    let r = run(&cfg, vec![vm(0, 1, 0.24, 0.0)]);
    assert!(near(r[0].finish, 0.24) && r[0].throttled == SimTime::ZERO);
}

/// The cap binds only when the VM could get more than it. VM 0 (360 ms, cap 0.5) and
/// VM 1 (240 ms, uncapped), equal weights, one pCPU, 30 ms slices: each earns ⌈30 × ½⌉ =
/// 15 ms per accounting, which is also VM 0's cap, so while both run they alternate as
/// uncapped VMs would (VM 0 in 0–30, 60–90, …, VM 1 in 30–60, …: at each accounting the
/// one that just ran is at −30 + 15 = −15, OVER but not under −15, the other at 0 + 15 or
/// −15 + 15 = 0, UNDER). VM 1's 8th slice ends at 480 ms; VM 0 has then done 240 ms and
/// its credit is −15 + 15 = 0. Alone, it runs 480–540 (−30 + 15 = −15 at 510; −45 + 15 =
/// −30 at 540: parked), earns −15 at 570 and 0 at 600, and runs its last 60 ms in
/// 600–660: it ends at 660 ms, parked 60 ms.
#[test]
fn credit_parks_only_when_the_cap_binds() {
    let cfg = SimConfig::textbook("credit", SimTime::from_millis(30));
    let mut c = Collect::default();
    simulate(&cfg, vec![vm(0, 1, 0.36, 0.5), vm(1, 1, 0.24, 0.0)], &mut c).unwrap();
    c.vms.sort_by_key(|r| r.id);
    assert!(
        near(c.vms[1].finish, 0.48),
        "VM 1 ends at {:?}",
        c.vms[1].finish
    );
    assert!(
        near(c.vms[0].finish, 0.66),
        "VM 0 ends at {:?}",
        c.vms[0].finish
    );
    assert!(near(c.vms[0].throttled, 0.06), "{:?}", c.vms[0].throttled);
    assert_eq!(c.vms[1].throttled, SimTime::ZERO);
    let late: Vec<(u64, u64)> = c
        .slices
        .iter()
        .filter(|s| s.vm == 0 && s.start >= SimTime::from_millis(480))
        .map(|s| (s.start.nanos() / 1_000_000, s.end.nanos() / 1_000_000))
        .collect();
    assert_eq!(late, vec![(480, 510), (510, 540), (600, 630), (630, 660)]);
}

/// Parking with several vCPUs per VM and several pCPUs: two VMs of two vCPUs, 300 ms of
/// work per vCPU, cap 0.5 each, on two pCPUs under `credit` (30 ms slices): each VM could
/// have a pCPU, the cap gives it half of one. It needs 2 × 0.3 = 0.6 s of CPU at most 0.5
/// pCPU: at least 1.2 s, less what its vCPUs may overdraw before they are parked (per
/// vCPU its cap share ⌈0.5 × 30 / 2⌉ = 7.5 ms, a slice, and its first credits, ≤ 30 ms):
/// 1.2 s − 2 × (7.5 + 30 + 30) ms = 1.065 s. Both VMs finish, parked a while, and all the
/// work is done.
#[test]
fn credit_parking_with_several_vcpus_and_pcpus() {
    let mut cfg = SimConfig::textbook("credit", SimTime::from_millis(30));
    cfg.cluster.hosts[0].pcpus = 2;
    let vms: Vec<VmRequest> = (0..2).map(|i| vm(i, 2, 0.3, 0.5)).collect();
    let mut c = Collect::default();
    simulate(&cfg, vms, &mut c).unwrap();
    assert_eq!(c.vms.len(), 2);
    for r in &c.vms {
        let f = r.finish.as_secs_f64();
        assert!(f >= 1.065 - 1e-9, "VM {} ends at {f}", r.id);
        assert!(r.throttled > SimTime::ZERO, "VM {} never parked", r.id);
    }
    let busy: f64 = c
        .slices
        .iter()
        .map(|s| s.end.saturating_sub(s.start).as_secs_f64())
        .sum();
    // All the work was done: 2 VMs × 2 vCPUs × 0.3 s.
    assert!((busy - 1.2).abs() < 1e-6, "{busy}");
}
