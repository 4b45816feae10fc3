//! Weighted fair sharing (`fair`, Linux EEVDF) in the engine: generalized processor sharing
//! finish times worked by hand, equal weights as round robin, a late joiner placed at the
//! queue's average, and M/G/1 against processor sharing's closed form.
//!
//! The M/G/1 test is a long run: use `cargo test --release`.

mod common;

use common::{Service, poisson};
use sim::observer::Collect;
use sim::{SimConfig, SimTime, VmRecord, simulate};

use common::{run_textbook as run, secs, weighted_vm as vm};

fn finish(r: &VmRecord) -> f64 {
    r.finish.as_secs_f64()
}

/// Two VMs of 2 s each at weights 2 : 1 on one pCPU. Generalized processor sharing gives
/// the heavy one 2/3 of the pCPU: it has had 2 s at t = 3 s (the light one 1 s); the light
/// one then runs alone and ends at 4 s. `fair` follows within a couple of slices, whatever
/// the slice.
#[test]
fn fair_follows_processor_sharing_by_weight() {
    for slice_ms in [100.0, 10.0, 1.0, 0.75] {
        let q = secs(slice_ms / 1e3);
        let r = run(
            "fair",
            q,
            vec![vm(0, 0.0, 2.0, 2048), vm(1, 0.0, 2.0, 1024)],
        );
        let tol = 2.0 * q.as_secs_f64();
        assert!(
            (finish(&r[0]) - 3.0).abs() <= tol,
            "slice {slice_ms} ms: heavy VM ends at {}",
            finish(&r[0])
        );
        // All 4 s of work are done at 4 s, the light VM last.
        assert!((finish(&r[1]) - 4.0).abs() < 1e-9, "{}", finish(&r[1]));
    }
}

/// Equal weights: three VMs of 1 s on one pCPU all start at the queue's average with
/// equal deadlines (ties by id), and after each slice the one that ran is the only
/// ineligible one, so `fair` is round robin: with slice q they end at 3 − 2q, 3 − q and
/// 3 s (q = 0.1 s: 2.8, 2.9, 3.0), as `rr` does.
#[test]
fn fair_with_equal_weights_is_round_robin() {
    let q = SimTime::from_millis(100);
    let vms = || {
        vec![
            vm(0, 0.0, 1.0, 1024),
            vm(1, 0.0, 1.0, 1024),
            vm(2, 0.0, 1.0, 1024),
        ]
    };
    let fair = run("fair", q, vms());
    let rr = run("rr", q, vms());
    for (i, want) in [2.8, 2.9, 3.0].into_iter().enumerate() {
        assert!(
            (finish(&fair[i]) - want).abs() < 1e-9,
            "VM {i}: {}",
            finish(&fair[i])
        );
        assert_eq!(fair[i].finish, rr[i].finish);
    }
}

/// A late joiner starts at the queue's average virtual runtime, not at 0. VM 0 (2 s)
/// runs alone for 1 s; VM 1 (1 s) arrives at t = 1 s. Processor sharing: both have 1 s
/// left and share the pCPU, so both end at 3 s. Under `fair` they alternate slices and the
/// late VM ends within a slice or two of 3 s. Under `stride` the late VM starts at pass 0,
/// 1 s of pass behind, and runs alone until it has caught up: it ends at 2 s.
#[test]
fn a_late_joiner_starts_at_the_average() {
    let q = SimTime::from_millis(10);
    let vms = || vec![vm(0, 0.0, 2.0, 1024), vm(1, 1.0, 1.0, 1024)];
    let fair = run("fair", q, vms());
    assert!(
        (finish(&fair[1]) - 3.0).abs() <= 0.02,
        "{}",
        finish(&fair[1])
    );
    assert!(
        (finish(&fair[0]) - 3.0).abs() <= 0.02,
        "{}",
        finish(&fair[0])
    );
    let stride = run("stride", q, vms());
    assert!(
        (finish(&stride[1]) - 2.0).abs() < 1e-9,
        "{}",
        finish(&stride[1])
    );
}

/// Weights 3 : 1 with a late heavy joiner: VM 0 (weight 1024, 2 s) runs alone for 1 s;
/// VM 1 (weight 3072, 1.5 s) arrives at 1 s. GPS: VM 1 gets 3/4 of the pCPU and has had
/// its 1.5 s at t = 1 + 1.5 / 0.75 = 3 s, when VM 0 has had 1 + 0.5 = 1.5 s; VM 0 ends at
/// 3.5 s.
#[test]
fn weights_apply_to_a_late_joiner() {
    let q = SimTime::from_millis(1);
    let r = run(
        "fair",
        q,
        vec![vm(0, 0.0, 2.0, 1024), vm(1, 1.0, 1.5, 3072)],
    );
    assert!((finish(&r[1]) - 3.0).abs() <= 0.004, "{}", finish(&r[1]));
    assert!((finish(&r[0]) - 3.5).abs() < 1e-9, "{}", finish(&r[0]));
}

/// M/G/1 under `fair` with equal weights and a small slice is processor sharing, whose
/// mean turnaround E[T] = E[S] / (1 − ρ) does not depend on the service law. Log-normal
/// service, mean 1 s, cv 2 (non-exponential); λ = 0.5/s, so ρ = 0.5 and E[T] = 2 s.
/// Slice 10 ms (1 % of E[S]: a bias of that order). 100,000 VMs after 5,000 warm-up
/// ones, in 20 batches of 5,000 consecutive VMs; the 95 % confidence interval of the
/// mean is the batch means' mean ± t(19, 0.975) = 2.093 standard errors. The check:
/// |mean − 2| ≤ half-width + 2 % (the slice's bias, doubled).
#[test]
fn mg1_fair_matches_processor_sharing() {
    let mut cfg = SimConfig::textbook("fair", SimTime::from_millis(10));
    cfg.warmup_vms = 5_000;
    let mut c = Collect::default();
    let svc = Service::LogNormal { mean: 1.0, cv: 2.0 };
    simulate(&cfg, poisson(17, 105_000, 0.5, svc, &[(0, 1.0)]), &mut c).unwrap();
    let mut recs: Vec<&VmRecord> = c.vms.iter().filter(|r| !r.warmup).collect();
    recs.sort_by_key(|r| r.id);
    assert_eq!(recs.len(), 100_000);
    let batches: Vec<f64> = recs
        .chunks(5_000)
        .map(|b| b.iter().map(|r| r.turnaround().as_secs_f64()).sum::<f64>() / b.len() as f64)
        .collect();
    let n = batches.len() as f64;
    let mean = batches.iter().sum::<f64>() / n;
    let var = batches.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = 2.093 * (var / n).sqrt();
    assert!(
        (mean - 2.0).abs() <= half + 0.04,
        "mean turnaround {mean} ± {half} vs PS 2"
    );
    // The interval is informative: narrower than ±10 %.
    assert!(half < 0.2, "half-width {half}");
}
