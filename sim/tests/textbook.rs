//! The classic textbook exercises, exact to the last digit (1 time unit = 1 s here).
//! With one pCPU and every process admitted on arrival, the CPU level of the engine is the
//! textbook process-scheduling problem.

use sim::observer::Collect;
use sim::{SimConfig, SimTime, VmRequest, simulate};

/// (arrival, burst, priority) per process, ids in table order.
fn procs(table: &[(u64, u64, i32)]) -> Vec<VmRequest> {
    let mut v: Vec<VmRequest> = table
        .iter()
        .enumerate()
        .map(|(i, &(a, b, p))| VmRequest {
            id: i as u64 + 1,
            arrival: SimTime::from_secs(a),
            vcpus: 1,
            memory_mib: 0,
            priority: p,
            demand: SimTime::from_secs(b),
            estimate: SimTime::from_secs(b),
            tenant: None,
            profile: Default::default(),
        })
        .collect();
    v.sort_by_key(|r| r.arrival);
    v
}

/// Waiting time (s) per process id, in id order.
fn waits(policy: &str, quantum_s: u64, table: &[(u64, u64, i32)]) -> Vec<f64> {
    let cfg = SimConfig::textbook(policy, SimTime::from_secs(quantum_s.max(1)));
    let mut c = Collect::default();
    simulate(&cfg, procs(table), &mut c).unwrap();
    let mut vms = c.vms;
    vms.sort_by_key(|r| r.id);
    vms.iter().map(|r| r.wait().as_secs_f64()).collect()
}

fn avg(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn fcfs_convoy() {
    // Gantt: P1 0–24, P2 24–27, P3 27–30. Waits 0, 24, 27 → 51/3 = 17.
    let w = waits("fcfs", 0, &[(0, 24, 0), (0, 3, 0), (0, 3, 0)]);
    assert_eq!(w, vec![0.0, 24.0, 27.0]);
    assert_eq!(avg(&w), 17.0);
}

#[test]
fn fcfs_reordered() {
    // P2, P3, P1 (all at 0): Gantt P2 0–3, P3 3–6, P1 6–30. Waits 0, 3, 6 → 9/3 = 3.
    let w = waits("fcfs", 0, &[(0, 3, 0), (0, 3, 0), (0, 24, 0)]);
    assert_eq!(w, vec![0.0, 3.0, 6.0]);
    assert_eq!(avg(&w), 3.0);
}

#[test]
fn sjf() {
    // P4(3) 0–3, P1(6) 3–9, P3(7) 9–16, P2(8) 16–24. Waits P1 3, P2 16, P3 9, P4 0 → 28/4 = 7.
    let w = waits("sjf", 0, &[(0, 6, 0), (0, 8, 0), (0, 7, 0), (0, 3, 0)]);
    assert_eq!(w, vec![3.0, 16.0, 9.0, 0.0]);
    assert_eq!(avg(&w), 7.0);
}

#[test]
fn priority_non_preemptive() {
    // burst/priority 10/3, 1/1, 2/4, 1/5, 5/2. Order P2(1) 0–1, P5(2) 1–6, P1(3) 6–16,
    // P3(4) 16–18, P4(5) 18–19. Waits 6, 0, 16, 18, 1 → 41/5 = 8.2.
    let w = waits(
        "priority",
        0,
        &[(0, 10, 3), (0, 1, 1), (0, 2, 4), (0, 1, 5), (0, 5, 2)],
    );
    assert_eq!(w, vec![6.0, 0.0, 16.0, 18.0, 1.0]);
    assert!((avg(&w) - 8.2).abs() < 1e-12);
}

#[test]
fn srtf() {
    // Arrivals 0,1,2,3; bursts 8,4,9,5. P1 0–1, P2 1–5, P4 5–10, P1 10–17, P3 17–26.
    // Waits: P1 (17−0−8) = 9, P2 0, P3 (26−2−9) = 15, P4 (10−3−5) = 2 → 26/4 = 6.5.
    let w = waits("srtf", 0, &[(0, 8, 0), (1, 4, 0), (2, 9, 0), (3, 5, 0)]);
    assert_eq!(w, vec![9.0, 0.0, 15.0, 2.0]);
    assert_eq!(avg(&w), 6.5);
}

#[test]
fn round_robin_quantum_4() {
    // P1 0–4, P2 4–7, P3 7–10, P1 10–30. Waits: P1 30−24 = 6, P2 4, P3 7 → 17/3.
    let w = waits("rr", 4, &[(0, 24, 0), (0, 3, 0), (0, 3, 0)]);
    assert_eq!(w, vec![6.0, 4.0, 7.0]);
    assert_eq!(avg(&w), 17.0 / 3.0);
}

#[test]
fn rr_arrival_at_quantum_expiry_goes_ahead_of_the_preempted() {
    // Quantum 2. P1 (burst 4) at 0, P2 (burst 2) at 2: at t=2 P1's quantum expires and P2
    // arrives; P2 is queued first: P1 0–2, P2 2–4, P1 4–6. Waits P1 2, P2 0.
    let w = waits("rr", 2, &[(0, 4, 0), (2, 2, 0)]);
    assert_eq!(w, vec![2.0, 0.0]);
}

#[test]
fn preemptive_priority() {
    // P1 (burst 5, prio 3) at 0; P2 (burst 2, prio 1) at 1 preempts it; P3 (burst 1,
    // prio 2) at 2 waits for P2. Gantt P1 0–1, P2 1–3, P3 3–4, P1 4–8.
    // Waits: P1 8−0−5 = 3, P2 0, P3 4−2−1 = 1.
    let w = waits("priority-preemptive", 0, &[(0, 5, 3), (1, 2, 1), (2, 1, 2)]);
    assert_eq!(w, vec![3.0, 0.0, 1.0]);
}

#[test]
fn context_switch_cost_delays_each_switch() {
    // FCFS 24,3,3 with a 1 s switch before every dispatch of a different vCPU (the first
    // dispatch included): P1 runs 1–25, P2 26–29, P3 30–33. Waits 1, 26, 30.
    let mut cfg = SimConfig::textbook("fcfs", SimTime::from_secs(1));
    cfg.cpu.context_switch = SimTime::from_secs(1);
    let mut c = Collect::default();
    let stats = simulate(&cfg, procs(&[(0, 24, 0), (0, 3, 0), (0, 3, 0)]), &mut c).unwrap();
    let mut vms = c.vms;
    vms.sort_by_key(|r| r.id);
    let w: Vec<f64> = vms.iter().map(|r| r.wait().as_secs_f64()).collect();
    assert_eq!(w, vec![1.0, 26.0, 30.0]);
    assert_eq!(stats.context_switches, 3);
    assert_eq!(stats.busy_ns, 33_000_000_000);
    assert_eq!(stats.work_ns, 30_000_000_000);
}
