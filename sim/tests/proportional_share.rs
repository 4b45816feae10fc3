//! Proportional-share and time-dependent CPU policies in the engine: stride scheduling
//! against generalized processor sharing worked by hand, and HRRN on Stallings' table.

mod common;

use sim::observer::Collect;
use sim::{SimConfig, SimTime, VmRequest, simulate};

use common::{run_textbook as run, weighted_vm as vm};

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

/// CPU time each VM got from the slices that started before `until` (seconds).
fn shares_until(slices: &[sim::SliceRecord], until: SimTime, vms: usize) -> Vec<f64> {
    let mut got = vec![0.0; vms];
    for s in slices.iter().filter(|s| s.start < until) {
        got[s.vm as usize] += (s.end.min(until).nanos() - s.start.nanos()) as f64 / 1e9;
    }
    got
}

/// Lottery with tickets 3 : 1 on one pCPU, both VMs always ready: every 10 ms quantum is
/// an independent draw that the first VM wins with probability 3/4. Over the first
/// 400 s (n = 40,000 quanta) its share is a binomial proportion with standard deviation
/// √(0.75 × 0.25 / 40000) = 0.00217, so it lies within 0.75 ± 0.0087 (4σ) for any seed
/// but one in 15,000; the seed is fixed, so the test is deterministic.
#[test]
fn lottery_shares_converge_to_the_ticket_ratio() {
    let run_seed = |seed: u64| {
        let mut config = SimConfig::textbook("lottery", SimTime(10_000_000));
        config.seed = seed;
        let mut c = Collect::default();
        let vms = vec![vm(0, 0.0, 1000.0, 3), vm(1, 0.0, 1000.0, 1)];
        simulate(&config, vms, &mut c).unwrap();
        c.slices
    };
    let slices = run_seed(1);
    let got = shares_until(&slices, SimTime::from_secs(400), 2);
    let share = got[0] / (got[0] + got[1]);
    assert!(
        (got[0] + got[1] - 400.0).abs() < 1e-6,
        "the pCPU is always busy"
    );
    println!("lottery 3:1, first 400 s: share {share:.4} (expected 0.75 ± 0.0087)");
    assert!((share - 0.75).abs() < 4.0 * 0.002165, "share {share}");
    // Deterministic per seed; another seed draws otherwise.
    assert_eq!(run_seed(1), slices);
    assert_ne!(run_seed(2)[..100], slices[..100]);
}

/// Equal tickets: every VM wins each draw with the same chance; three VMs of 20 s with a
/// 10 ms quantum get 1/3 each over the first 30 s (binomial per VM: σ of a share over
/// 3000 quanta = √(1/3 × 2/3 / 3000) = 0.0086; 4σ = 0.034).
#[test]
fn lottery_with_equal_tickets_shares_evenly() {
    let mut c = Collect::default();
    let vms: Vec<VmRequest> = (0..3).map(|i| vm(i, 0.0, 20.0, 1024)).collect();
    simulate(
        &SimConfig::textbook("lottery", SimTime(10_000_000)),
        vms,
        &mut c,
    )
    .unwrap();
    let got = shares_until(&c.slices, SimTime::from_secs(30), 3);
    for (i, g) in got.iter().enumerate() {
        assert!(
            (g / 30.0 - 1.0 / 3.0).abs() < 4.0 * 0.0086,
            "VM {i}: {g} s of 30"
        );
    }
}

/// Xen Credit, two CPU-bound VMs at weights 2 : 1 on one pCPU, 30 ms slices (= the
/// accounting period). Worked by hand, credits in ms, each period refilling A by
/// 30 × 2/3 = 20 and B by 10 (OVER when negative):
/// 0–30 A runs (A −30); at 30: A −10 OVER, B 10 UNDER → B 30–60 (B −20); at 60: A 10,
/// B −10 → A 60–90 (A −20); at 90: A 0, B 0, both UNDER, B has waited longer → B 90–120
/// (B −30); at 120: A 20, B −20 → A 120–150 (A −10); at 150: A 10, B −10 → A 150–180
/// (A −20); at 180 the credits are those of 90. So from 90 ms on, every 90 ms A runs
/// 60 and B 30: by 9.09 s (90 ms + 100 cycles) A has had 0.06 + 6 = 6.06 s and B 3.03 s,
/// exactly 2/3 : 1/3.
#[test]
fn credit_shares_by_weight_over_accounting_periods() {
    let mut c = Collect::default();
    let vms = vec![vm(0, 0.0, 30.0, 2048), vm(1, 0.0, 30.0, 1024)];
    simulate(
        &SimConfig::textbook("credit", SimTime(30_000_000)),
        vms,
        &mut c,
    )
    .unwrap();
    let got = shares_until(&c.slices, SimTime::from_millis(9090), 2);
    assert!((got[0] - 6.06).abs() < 1e-9, "A had {} s", got[0]);
    assert!((got[1] - 3.03).abs() < 1e-9, "B had {} s", got[1]);
    // The first slices, as worked above: A, B, A, B, A, A.
    let order: Vec<u64> = c.slices.iter().take(6).map(|s| s.vm).collect();
    assert_eq!(order, [0, 1, 0, 1, 0, 0]);
}

/// Equal weights under Credit: the two VMs take turns slice by slice (at 30: A −15 OVER,
/// B 15 UNDER; at 60: both 0 UNDER, A waited longer; …), so two VMs of 3 s finish at
/// 5.97 s and 6 s.
#[test]
fn credit_with_equal_weights_alternates() {
    let mut c = Collect::default();
    let vms = vec![vm(0, 0.0, 3.0, 1024), vm(1, 0.0, 3.0, 1024)];
    simulate(
        &SimConfig::textbook("credit", SimTime(30_000_000)),
        vms,
        &mut c,
    )
    .unwrap();
    let order: Vec<u64> = c.slices.iter().take(6).map(|s| s.vm).collect();
    assert_eq!(order, [0, 1, 0, 1, 0, 1]);
    c.vms.sort_by_key(|r| r.id);
    let f: Vec<f64> = c.vms.iter().map(|r| r.finish.as_secs_f64()).collect();
    assert!(
        (f[0] - 5.97).abs() < 1e-9 && (f[1] - 6.0).abs() < 1e-9,
        "{f:?}"
    );
}
