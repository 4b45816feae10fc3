//! `hrrn` and `stride` on hand-worked textbook cases (1 time unit = 1 s, one pCPU, every
//! process admitted on arrival).

use sim::observer::Collect;
use sim::{SimConfig, SimTime, VmRequest, simulate};

/// (arrival, burst, weight) per process, ids in table order; finish time (s) per id.
fn finishes(policy: &str, quantum_s: u64, table: &[(u64, u64, u32)]) -> Vec<f64> {
    let mut reqs: Vec<VmRequest> = table
        .iter()
        .enumerate()
        .map(|(i, &(a, b, w))| {
            let profile = sim::VmProfile {
                weight: w,
                ..Default::default()
            };
            VmRequest {
                id: i as u64 + 1,
                arrival: SimTime::from_secs(a),
                vcpus: 1,
                memory_mib: 0,
                priority: 0,
                demand: SimTime::from_secs(b),
                estimate: SimTime::from_secs(b),
                tenant: None,
                profile,
            }
        })
        .collect();
    reqs.sort_by_key(|r| r.arrival);
    let cfg = SimConfig::textbook(policy, SimTime::from_secs(quantum_s.max(1)));
    let mut c = Collect::default();
    simulate(&cfg, reqs, &mut c).unwrap();
    let mut vms = c.vms;
    vms.sort_by_key(|r| r.id);
    vms.iter().map(|r| r.finish.as_secs_f64()).collect()
}

#[test]
fn hrrn_stallings() {
    // Stallings (Operating Systems, §9.2): A(0,3) B(2,6) C(4,4) D(6,5) E(8,2).
    // A 0–3; B 3–9 (alone at 3); at 9: R_C = (5+4)/4 = 2.25, R_D = (3+5)/5 = 1.6,
    // R_E = (1+2)/2 = 1.5 → C 9–13; at 13: R_D = (7+5)/5 = 2.4, R_E = (5+2)/2 = 3.5 → E 13–15;
    // D 15–20.
    let f = finishes(
        "hrrn",
        0,
        &[
            (0, 3, 1024),
            (2, 6, 1024),
            (4, 4, 1024),
            (6, 5, 1024),
            (8, 2, 1024),
        ],
    );
    assert_eq!(f, vec![3.0, 9.0, 13.0, 20.0, 15.0]);
}

#[test]
fn stride_weights_two_to_one() {
    // Quantum 1, A weight 2048 (stride 0.5 per quantum), B 1024 (stride 1), both 3 s at 0.
    // Passes: A0 B0 → A (tie: lower id) 0–1, A=0.5 → B 1–2, B=1 → A 2–3, A=1 → tie → A 3–4,
    // A done at 4; B alone 4–6.
    let f = finishes("stride", 1, &[(0, 3, 2048), (0, 3, 1024)]);
    assert_eq!(f, vec![4.0, 6.0]);
}

#[test]
fn stride_equal_weights_is_round_robin() {
    // Equal strides: A 0–1, B 1–2, A 2–3, B 3–4, A 4–5 (done), B 5–6 (done), as RR q = 1.
    let f = finishes("stride", 1, &[(0, 3, 1024), (0, 3, 1024)]);
    assert_eq!(f, vec![5.0, 6.0]);
    assert_eq!(f, finishes("rr", 1, &[(0, 3, 1024), (0, 3, 1024)]));
}
