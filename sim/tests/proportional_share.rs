//! Proportional-share and time-dependent CPU policies in the engine: stride scheduling
//! against generalized processor sharing worked by hand, and HRRN on Stallings' table.

use sim::observer::Collect;
use sim::{SimConfig, SimTime, VmProfile, VmRecord, VmRequest, simulate};

fn secs(s: f64) -> SimTime {
    SimTime::from_secs_f64(s).unwrap()
}

fn vm(id: u64, arrival: f64, demand: f64, weight: u32) -> VmRequest {
    VmRequest {
        id,
        arrival: secs(arrival),
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: secs(demand),
        estimate: secs(demand),
        tenant: None,
        profile: VmProfile {
            weight,
            ..VmProfile::default()
        },
    }
}

fn run(policy: &str, quantum: SimTime, vms: Vec<VmRequest>) -> Vec<VmRecord> {
    let mut c = Collect::default();
    simulate(&SimConfig::textbook(policy, quantum), vms, &mut c).unwrap();
    c.vms.sort_by_key(|r| r.id);
    c.vms
}

/// Two VMs of 2 s each at weights 2 : 1 on one pCPU. Under generalized processor sharing
/// the first gets 2/3 of the pCPU and finishes when it has had 2 s, at t = 3 s (the
/// second has had 1 s); the second then runs alone and finishes at 4 s. Stride scheduling
/// follows GPS to within a quantum or two, whatever the quantum.
#[test]
fn stride_follows_processor_sharing_by_weight() {
    for q_ms in [100u64, 10, 1] {
        let q = SimTime(q_ms * 1_000_000);
        let r = run(
            "stride",
            q,
            vec![vm(0, 0.0, 2.0, 2048), vm(1, 0.0, 2.0, 1024)],
        );
        let tol = 2.0 * q.as_secs_f64();
        let (f0, f1) = (r[0].finish.as_secs_f64(), r[1].finish.as_secs_f64());
        assert!(
            (f0 - 3.0).abs() <= tol,
            "q = {q_ms} ms: heavy VM ends at {f0}"
        );
        // All the work is done by 4 s, whatever the order.
        assert!(
            (f1 - 4.0).abs() < 1e-9,
            "q = {q_ms} ms: light VM ends at {f1}"
        );
    }
}

/// Equal weights: stride is round robin in pass order, so three equal VMs of 1 s on one
/// pCPU with a 10 ms quantum finish within one round of each other, near 3 s (each has
/// had 1 s when the last quantum of the round ends: 2.98, 2.99, 3.00 s).
#[test]
fn stride_with_equal_weights_shares_evenly() {
    let r = run(
        "stride",
        SimTime(10_000_000),
        vec![
            vm(0, 0.0, 1.0, 1024),
            vm(1, 0.0, 1.0, 1024),
            vm(2, 0.0, 1.0, 1024),
        ],
    );
    let f: Vec<f64> = r.iter().map(|x| x.finish.as_secs_f64()).collect();
    for (i, want) in [2.98, 2.99, 3.0].iter().enumerate() {
        assert!(
            (f[i] - want).abs() < 1e-9,
            "VM {i} ends at {} not {want}",
            f[i]
        );
    }
}

/// Stallings' five processes under HRRN (non-preemptive): A 0–3, B 3–9, C 9–13 (ratio
/// 2.25 over D 1.6 and E 1.5 at t = 9), E 13–15 (3.5 over D 2.4 at t = 13), D 15–20.
#[test]
fn hrrn_reproduces_stallings() {
    let rows = [(0.0, 3.0), (2.0, 6.0), (4.0, 4.0), (6.0, 5.0), (8.0, 2.0)];
    let vms = rows
        .iter()
        .enumerate()
        .map(|(i, &(a, s))| vm(i as u64, a, s, 1024))
        .collect();
    let r = run("hrrn", SimTime::ZERO, vms);
    let finish: Vec<f64> = r.iter().map(|x| x.finish.as_secs_f64()).collect();
    assert_eq!(finish, [3.0, 9.0, 13.0, 20.0, 15.0]);
}
