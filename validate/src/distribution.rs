//! Distribution-level comparison of measured and predicted runs of one policy: means and
//! 95th percentiles of wait and turnaround, the two-sample Kolmogorov–Smirnov distance
//! between the turnaround distributions, and **order flips**, pairs of VMs that started in
//! a different order in reality than predicted.
//!
//! A flip between two VMs whose policy keys were nearly equal (a *near tie*) is a coin
//! toss: a few microseconds of timing decide it, and both orders are right. A flip between
//! VMs with clearly different keys is a model error. [`order_flips`] tells them apart, so
//! the report can give the per-VM error with and without the VMs of near-tie flips.

use sim::VmRecord;

use crate::profile::quantile;

/// The two-sample Kolmogorov–Smirnov distance: the largest vertical gap between the
/// empirical distribution functions of `a` and `b` (0 = identical samples, 1 = disjoint).
/// NaN values are ignored; an empty sample gives NaN.
pub fn ks_distance(a: &[f64], b: &[f64]) -> f64 {
    let sorted = |v: &[f64]| {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        s.sort_by(f64::total_cmp);
        s
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        // Step past every value equal to the smaller of the two heads, in both samples,
        // so that ties move both distribution functions at once.
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// Mean of `v` (NaN when empty).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The `q` quantile of `v` (linear interpolation; NaN when empty).
pub fn quantile_of(v: &[f64], q: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    quantile(&s, q)
}

/// Means, 95th percentiles and the KS distance of one policy's run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Distribution {
    /// Mean wait, measured and predicted (s).
    pub mean_wait_s: (f64, f64),
    /// 95th percentile of the wait, measured and predicted (s).
    pub p95_wait_s: (f64, f64),
    /// Mean turnaround, measured and predicted (s).
    pub mean_turnaround_s: (f64, f64),
    /// 95th percentile of the turnaround, measured and predicted (s).
    pub p95_turnaround_s: (f64, f64),
    /// Kolmogorov–Smirnov distance between measured and predicted turnarounds.
    pub ks_turnaround: f64,
}

/// Compares the distributions of waits (`turnaround − service`) and turnarounds, in s.
pub fn distribution(measured: &[VmRecord], predicted: &[VmRecord]) -> Distribution {
    let wait = |r: &[VmRecord]| -> Vec<f64> { r.iter().map(|x| x.wait().as_secs_f64()).collect() };
    let ta =
        |r: &[VmRecord]| -> Vec<f64> { r.iter().map(|x| x.turnaround().as_secs_f64()).collect() };
    let (mw, pw, mt, pt) = (wait(measured), wait(predicted), ta(measured), ta(predicted));
    Distribution {
        mean_wait_s: (mean(&mw), mean(&pw)),
        p95_wait_s: (quantile_of(&mw, 0.95), quantile_of(&pw, 0.95)),
        mean_turnaround_s: (mean(&mt), mean(&pt)),
        p95_turnaround_s: (quantile_of(&mt, 0.95), quantile_of(&pt, 0.95)),
        ks_turnaround: ks_distance(&mt, &pt),
    }
}

/// Two VMs whose first runs came in a different order in reality than predicted.
#[derive(Clone, Debug, PartialEq)]
pub struct Flip {
    /// The VM predicted to start first.
    pub first: u64,
    /// The VM predicted to start second (it started first in reality).
    pub second: u64,
    /// How far apart the policy keys of the two VMs were, as a fraction of the range of
    /// keys over every VM of the run (0 = equal keys, decided by the tie rule).
    pub key_gap: f64,
    /// Predicted gap between the two first runs (s).
    pub predicted_gap_s: f64,
    /// Whether the keys were within [`NEAR_TIE`] of the key range: a coin toss.
    pub near_tie: bool,
}

/// Keys closer than this fraction of the key range make a flip a near tie.
pub const NEAR_TIE: f64 = 0.05;

/// The pairs of VMs (present on both sides) that started in the opposite order in reality
/// than predicted. `key` gives a VM's policy key (for example the admission policy's
/// `queue_key`, or the CPU policy's key at arrival); its range over the VMs scales the gap.
/// Pairs that started at the same instant on either side are not flips.
pub fn order_flips(
    measured: &[VmRecord],
    predicted: &[VmRecord],
    key: impl Fn(u64) -> Option<u128>,
) -> Vec<Flip> {
    // (id, measured first run, predicted first run, key), in id order.
    let mut vms: Vec<(u64, u64, u64, Option<u128>)> = measured
        .iter()
        .filter_map(|m| {
            let p = predicted.iter().find(|p| p.id == m.id)?;
            Some((m.id, m.first_run.nanos(), p.first_run.nanos(), key(m.id)))
        })
        .collect();
    vms.sort_by_key(|v| v.0);
    let keys: Vec<u128> = vms.iter().filter_map(|v| v.3).collect();
    let range = match (keys.iter().min(), keys.iter().max()) {
        (Some(lo), Some(hi)) if hi > lo => (hi - lo) as f64,
        _ => 0.0,
    };
    let mut flips = Vec::new();
    for (i, a) in vms.iter().enumerate() {
        for b in &vms[i + 1..] {
            let (m, p) = (a.1.cmp(&b.1), a.2.cmp(&b.2));
            if m.is_eq() || p.is_eq() || m == p {
                continue;
            }
            let (first, second) = if p.is_lt() { (a, b) } else { (b, a) };
            let key_gap = match (first.3, second.3) {
                (Some(x), Some(y)) if range > 0.0 => x.abs_diff(y) as f64 / range,
                _ => 0.0,
            };
            flips.push(Flip {
                first: first.0,
                second: second.0,
                key_gap,
                predicted_gap_s: (second.2 - first.2) as f64 * 1e-9,
                near_tie: key_gap <= NEAR_TIE,
            });
        }
    }
    flips
}

/// The VMs involved in at least one near-tie flip, in id order.
pub fn near_tie_vms(flips: &[Flip]) -> Vec<u64> {
    let mut v: Vec<u64> = flips
        .iter()
        .filter(|f| f.near_tie)
        .flat_map(|f| [f.first, f.second])
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    #[test]
    fn ks_distance_by_hand() {
        // a = {1, 2, 3, 4}, b = {3, 4, 5, 6}. After 1: F_a = 1/4, F_b = 0; after 2: 2/4, 0;
        // after 3: 3/4, 1/4; after 4: 1, 2/4; after 5: 1, 3/4. Largest gap 1/2.
        assert!((ks_distance(&[4.0, 1.0, 3.0, 2.0], &[3.0, 4.0, 5.0, 6.0]) - 0.5).abs() < 1e-12);
        // Identical samples: 0. Disjoint: 1.
        assert_eq!(ks_distance(&[1.0, 2.0], &[2.0, 1.0]), 0.0);
        assert_eq!(ks_distance(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
        // Different sizes with a tie: a = {1, 2}, b = {2, 2, 3}. After 1: 1/2 vs 0 (gap
        // 1/2); after 2: 1 vs 2/3 (1/3); after 3: 1 vs 1. Largest 1/2.
        assert!((ks_distance(&[1.0, 2.0], &[2.0, 2.0, 3.0]) - 0.5).abs() < 1e-12);
        assert!(ks_distance(&[], &[1.0]).is_nan());
    }

    fn rec(id: u64, first_run_ms: u64, finish_ms: u64) -> VmRecord {
        VmRecord {
            id,
            first_run: SimTime::from_millis(first_run_ms),
            admission: SimTime::ZERO,
            finish: SimTime::from_millis(finish_ms),
            service: SimTime::from_millis(10),
            ..VmRecord::default()
        }
    }

    #[test]
    fn flips_and_their_key_gaps() {
        // Predicted start order 1, 2, 3; measured 2, 1, 3 (1 and 2 swapped).
        let predicted = [rec(1, 0, 10), rec(2, 10, 20), rec(3, 20, 30)];
        let measured = [rec(1, 12, 22), rec(2, 0, 12), rec(3, 22, 32)];
        // Keys 100, 101, 200: range 100, gap of the flipped pair 1/100 = 0.01 ≤ 0.05.
        let keys = |id: u64| Some([0, 100u128, 101, 200][id as usize]);
        let f = order_flips(&measured, &predicted, keys);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].first, f[0].second), (1, 2));
        assert!((f[0].key_gap - 0.01).abs() < 1e-12);
        assert!((f[0].predicted_gap_s - 0.010).abs() < 1e-12);
        assert!(f[0].near_tie);
        assert_eq!(near_tie_vms(&f), [1, 2]);
        // Keys 100, 160, 200: gap 60/100 = 0.6, a real ordering error.
        let f = order_flips(&measured, &predicted, |id| {
            Some([0, 100u128, 160, 200][id as usize])
        });
        assert!(!f[0].near_tie);
        assert!(near_tie_vms(&f).is_empty());
        // Same order on both sides: no flips.
        assert!(order_flips(&predicted, &predicted, keys).is_empty());
    }

    #[test]
    fn distribution_means_and_p95() {
        // Turnarounds 10, 20, 30 ms (first run = admission = arrival = 0, service 10 ms):
        // waits 0, 10, 20 ms.
        let m = [rec(1, 0, 10), rec(2, 0, 20), rec(3, 0, 30)];
        let d = distribution(&m, &m);
        assert!((d.mean_turnaround_s.0 - 0.020).abs() < 1e-12);
        assert!((d.mean_wait_s.1 - 0.010).abs() < 1e-12);
        // p95 of {0, 10, 20} ms by interpolation: 10 + 0.9 × 10 = 19 ms.
        assert!((d.p95_wait_s.0 - 0.019).abs() < 1e-12);
        assert_eq!(d.ks_turnaround, 0.0);
    }
}
