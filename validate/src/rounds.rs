//! Repeated rounds of a validation: each policy replayed `N` times, interleaved (fcfs, sjf,
//! priority, fcfs, …), each replay compared with the prediction and checked for host
//! interference; then every figure as the median over the undisturbed rounds with its
//! min–max spread.
//!
//! `validation-summary.csv` has one row per round and policy (its `round` column is the
//! round number), one `all` row per round (the errors over every VM of the round's
//! undisturbed replays), then, per policy and for `all`, three rows whose `round` column is
//! `median`, `min` and `max`: each number is that statistic over the rounds kept (neither
//! flagged nor failed). On a round's row `kept` is 1 or 0 and `excluded` says why the
//! replay was left out; on the aggregate rows they count the rounds kept and left out.

use std::fmt::Write as _;

use crate::compare::{PolicyRow, VmRow};
use crate::distribution::Distribution;
use crate::interference::Interference;

/// Median and range of a figure over rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// Median (NaN without values).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Values used (NaN left out).
    pub n: usize,
}

/// Median, min and max of `v`, NaN values left out.
pub fn spread(v: &[f64]) -> Spread {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return Spread {
            median: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            n: 0,
        };
    }
    s.sort_by(f64::total_cmp);
    Spread {
        median: crate::profile::quantile(&s, 0.5),
        min: s[0],
        max: s[s.len() - 1],
        n: s.len(),
    }
}

/// The replays of `rounds` rounds of `policies` policies, interleaved: round 1 replays
/// every policy in order, then round 2, and so on, as `(round, policy index)` with rounds
/// counted from 1. Host conditions that drift over minutes then touch every policy alike.
pub fn schedule(policies: usize, rounds: usize) -> Vec<(usize, usize)> {
    (1..=rounds)
        .flat_map(|r| (0..policies).map(move |p| (r, p)))
        .collect()
}

/// One policy's replay in one round, compared.
#[derive(Clone, Debug)]
pub struct RoundResult {
    /// Round, from 1.
    pub round: usize,
    /// Policy label.
    pub policy: String,
    /// Per-VM comparison (empty when the replay failed).
    pub vms: Vec<VmRow>,
    /// Per-policy summary.
    pub row: Option<PolicyRow>,
    /// Distributions.
    pub dist: Distribution,
    /// Order flips, and how many of them were near ties.
    pub flips: (usize, usize),
    /// Median |turnaround error| over the VMs not involved in a near-tie flip, percent.
    pub median_abs_error_without_near_ties_pct: f64,
    /// Host interference during the replay.
    pub interference: Option<Interference>,
    /// Why the round is left out of the medians (flagged interference or a failure);
    /// empty = kept.
    pub excluded: Vec<String>,
}

impl RoundResult {
    /// Whether the medians over rounds use this replay.
    pub fn kept(&self) -> bool {
        self.excluded.is_empty()
    }
}

/// Numeric columns of `validation-summary.csv` after `round,policy,kept,excluded`, in
/// order: the VMs compared; measured and predicted mean and p95 of wait and turnaround
/// (s) and the mean wait error (%); the median and p90 of |turnaround error| (%); the
/// Kolmogorov–Smirnov distance of the turnarounds; the order flips and how many were near
/// ties; the median |turnaround error| without the VMs of near-tie flips (%); then the
/// host's interference during the replay ([`Interference`]).
pub const METRICS: [&str; 24] = [
    "vms",
    "measured_mean_wait_s",
    "predicted_mean_wait_s",
    "mean_wait_error_pct",
    "measured_p95_wait_s",
    "predicted_p95_wait_s",
    "measured_mean_turnaround_s",
    "predicted_mean_turnaround_s",
    "measured_p95_turnaround_s",
    "predicted_p95_turnaround_s",
    "median_abs_turnaround_error_pct",
    "p90_abs_turnaround_error_pct",
    "ks_turnaround",
    "order_flips",
    "near_tie_flips",
    "median_abs_turnaround_error_without_near_ties_pct",
    "steal_pct",
    "others_on_pcpus_pct",
    "others_machine_cores",
    "loop_drift_pct",
    "vmm_minor_faults",
    "vmm_major_faults",
    "vmm_involuntary_switches",
    "executor_involuntary_switches",
];

fn metrics(r: &RoundResult) -> [f64; 24] {
    let nan = f64::NAN;
    let row = r.row.as_ref();
    let g = |f: fn(&PolicyRow) -> f64| row.map(f).unwrap_or(nan);
    let i = r.interference.as_ref();
    let h = |f: fn(&Interference) -> f64| i.map(f).unwrap_or(nan);
    let d = &r.dist;
    [
        row.map(|x| x.vms as f64).unwrap_or(nan),
        g(|x| x.measured_mean_wait_s),
        g(|x| x.predicted_mean_wait_s),
        g(|x| x.mean_wait_error_pct),
        d.p95_wait_s.0,
        d.p95_wait_s.1,
        g(|x| x.measured_mean_turnaround_s),
        g(|x| x.predicted_mean_turnaround_s),
        d.p95_turnaround_s.0,
        d.p95_turnaround_s.1,
        g(|x| x.median_abs_turnaround_error_pct),
        g(|x| x.p90_abs_turnaround_error_pct),
        d.ks_turnaround,
        if row.is_some() { r.flips.0 as f64 } else { nan },
        if row.is_some() { r.flips.1 as f64 } else { nan },
        r.median_abs_error_without_near_ties_pct,
        h(|x| x.steal_pct),
        h(|x| x.others_on_pcpus_pct),
        h(|x| x.others_machine_cores),
        h(|x| x.loop_drift_pct),
        h(|x| x.vmm.minor_faults as f64),
        h(|x| x.vmm.major_faults as f64),
        h(|x| x.vmm.involuntary_switches as f64),
        h(|x| x.executor_involuntary_switches as f64),
    ]
}

/// The `all` figures of one round: median and p90 of |turnaround error| over every VM of
/// the round's kept replays, and the median without near-tie VMs.
fn all_metrics(rows: &[&RoundResult], without: &[f64]) -> [f64; 24] {
    let mut m = [f64::NAN; 24];
    let errs: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.vms.iter().map(|v| v.turnaround_error_pct.abs()))
        .collect();
    m[0] = errs.len() as f64;
    m[10] = crate::distribution::quantile_of(&errs, 0.5);
    m[11] = crate::distribution::quantile_of(&errs, 0.9);
    m[15] = crate::distribution::quantile_of(without, 0.5);
    m
}

/// Aggregated rows: (policy or `all`, kept rounds, [median, min, max] per metric).
pub struct Aggregate {
    /// Policy label, or `all`.
    pub policy: String,
    /// Rounds kept.
    pub kept: usize,
    /// Rounds left out.
    pub excluded: usize,
    /// Spread of each metric (in [`METRICS`] order).
    pub metrics: Vec<Spread>,
}

/// Per round, the `all` metrics (over the round's kept replays).
fn per_round_all(results: &[RoundResult]) -> Vec<(usize, [f64; 24])> {
    let mut rounds: Vec<usize> = results.iter().map(|r| r.round).collect();
    rounds.dedup();
    rounds
        .into_iter()
        .filter_map(|round| {
            let kept: Vec<&RoundResult> = results
                .iter()
                .filter(|r| r.round == round && r.kept())
                .collect();
            if kept.is_empty() {
                return None;
            }
            let without: Vec<f64> = kept
                .iter()
                .flat_map(|r| r.vms.iter())
                .filter(|v| !v.near_tie)
                .map(|v| v.turnaround_error_pct.abs())
                .collect();
            Some((round, all_metrics(&kept, &without)))
        })
        .collect()
}

/// The medians over kept rounds, per policy (in `policies` order) and for `all`.
pub fn aggregate(policies: &[String], results: &[RoundResult]) -> Vec<Aggregate> {
    let stat = |rows: Vec<[f64; 24]>| -> Vec<Spread> {
        (0..METRICS.len())
            .map(|k| spread(&rows.iter().map(|m| m[k]).collect::<Vec<_>>()))
            .collect()
    };
    let mut out: Vec<Aggregate> = policies
        .iter()
        .map(|p| {
            let all: Vec<&RoundResult> = results.iter().filter(|r| &r.policy == p).collect();
            let kept: Vec<[f64; 24]> = all
                .iter()
                .filter(|r| r.kept())
                .map(|r| metrics(r))
                .collect();
            Aggregate {
                policy: p.clone(),
                kept: kept.len(),
                excluded: all.len() - kept.len(),
                metrics: stat(kept),
            }
        })
        .collect();
    let rounds: std::collections::BTreeSet<usize> = results.iter().map(|r| r.round).collect();
    let all = per_round_all(results);
    out.push(Aggregate {
        policy: "all".into(),
        kept: all.len(),
        excluded: rounds.len() - all.len(),
        metrics: stat(all.into_iter().map(|x| x.1).collect()),
    });
    out
}

/// Column names of `validation-summary.csv`.
pub fn summary_header() -> String {
    format!("round,policy,kept,excluded,{}", METRICS.join(","))
}

/// A CSV number: six decimals without trailing zeros (`-0` as `0`), empty for NaN.
fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        let s = format!("{x:.6}");
        let s = sim::numbers::trim_fraction(&s);
        if s == "-0" { "0".into() } else { s.to_string() }
    }
}

/// A CSV field without commas, quotes or line breaks.
fn field(s: &str) -> String {
    s.replace([',', '\n', '\r', '"'], ";")
}

/// `validation-summary.csv`: see the module documentation.
pub fn summary_csv(policies: &[String], results: &[RoundResult]) -> String {
    let mut out = summary_header();
    out.push('\n');
    let all = per_round_all(results);
    let mut rounds: Vec<usize> = results.iter().map(|r| r.round).collect();
    rounds.dedup();
    for round in rounds {
        for r in results.iter().filter(|r| r.round == round) {
            let m = metrics(r);
            let _ = writeln!(
                out,
                "{round},{},{},{},{}",
                r.policy,
                u8::from(r.kept()),
                field(&r.excluded.join("; ")),
                m.iter().map(|&x| num(x)).collect::<Vec<_>>().join(",")
            );
        }
        if let Some((_, m)) = all.iter().find(|a| a.0 == round) {
            let _ = writeln!(
                out,
                "{round},all,1,,{}",
                m.iter().map(|&x| num(x)).collect::<Vec<_>>().join(",")
            );
        }
    }
    for a in aggregate(policies, results) {
        for (name, pick) in [
            ("median", (|s: &Spread| s.median) as fn(&Spread) -> f64),
            ("min", |s: &Spread| s.min),
            ("max", |s: &Spread| s.max),
        ] {
            let _ = writeln!(
                out,
                "{name},{},{},{},{}",
                a.policy,
                a.kept,
                a.excluded,
                a.metrics
                    .iter()
                    .map(|s| num(pick(s)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
    }
    out
}

fn col(name: &str) -> usize {
    METRICS.iter().position(|m| *m == name).unwrap_or(0)
}

/// The report's table of medians over rounds with their min–max spread.
pub fn summary_text(policies: &[String], results: &[RoundResult]) -> String {
    let mut out = String::new();
    let rounds = results.iter().map(|r| r.round).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "medians over the kept rounds of {rounds}, [min – max] (rounds disturbed by the host are left out):"
    );
    let _ = writeln!(
        out,
        "{:<10} {:>5} {:>24} {:>24} {:>24} {:>20} {:>10} {:>24}",
        "policy",
        "kept",
        "mean wait err %",
        "|TA err| p50 %",
        "|TA err| p50 w/o ties %",
        "KS (turnaround)",
        "flips",
        "p95 TA meas/pred s"
    );
    let r3 = |s: &Spread, d: usize| {
        if s.n == 0 {
            "–".to_string()
        } else {
            format!("{:.d$} [{:.d$} – {:.d$}]", s.median, s.min, s.max, d = d)
        }
    };
    for a in aggregate(policies, results) {
        let m = |name: &str| &a.metrics[col(name)];
        let flips = if a.policy == "all" || a.kept == 0 {
            "".to_string()
        } else {
            format!(
                "{:.0} ({:.0} tie)",
                m("order_flips").median,
                m("near_tie_flips").median
            )
        };
        let p95 = if a.policy == "all" || a.kept == 0 {
            "".to_string()
        } else {
            format!(
                "{:.3} / {:.3}",
                m("measured_p95_turnaround_s").median,
                m("predicted_p95_turnaround_s").median
            )
        };
        let _ = writeln!(
            out,
            "{:<10} {:>5} {:>24} {:>24} {:>24} {:>20} {:>10} {:>24}",
            a.policy,
            format!("{}/{}", a.kept, a.kept + a.excluded),
            if a.policy == "all" {
                "".into()
            } else {
                r3(m("mean_wait_error_pct"), 2)
            },
            r3(m("median_abs_turnaround_error_pct"), 2),
            r3(m("median_abs_turnaround_error_without_near_ties_pct"), 2),
            if a.policy == "all" {
                "".into()
            } else {
                r3(m("ks_turnaround"), 3)
            },
            flips,
            p95
        );
    }
    let excluded: Vec<&RoundResult> = results.iter().filter(|r| !r.kept()).collect();
    if !excluded.is_empty() {
        let _ = writeln!(out, "left out of the medians:");
        for r in excluded {
            let _ = writeln!(
                out,
                "  round {} {}: {}",
                r.round,
                r.policy,
                r.excluded.join("; ")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_and_schedule() {
        // {3, 1, NaN, 2, 10}: median of {1, 2, 3, 10} = 2.5, range 1 – 10.
        let s = spread(&[3.0, 1.0, f64::NAN, 2.0, 10.0]);
        assert_eq!((s.median, s.min, s.max, s.n), (2.5, 1.0, 10.0, 4));
        assert!(spread(&[]).median.is_nan());
        assert_eq!(
            schedule(3, 2),
            [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
        );
    }

    fn result(round: usize, policy: &str, err: f64, excluded: &[&str]) -> RoundResult {
        let vm = VmRow {
            policy: policy.into(),
            round,
            id: 0,
            priority: 0,
            predicted_service_s: 1.0,
            measured_service_s: 1.0,
            measured_wait_s: 1.0,
            predicted_wait_s: 1.0,
            measured_turnaround_s: 1.0,
            predicted_turnaround_s: 1.0,
            wait_error_s: 0.0,
            turnaround_error_pct: err,
            near_tie: false,
            attribution: Default::default(),
        };
        RoundResult {
            round,
            policy: policy.into(),
            vms: vec![vm.clone()],
            row: Some(PolicyRow {
                policy: policy.into(),
                vms: 1,
                measured_mean_wait_s: 1.0,
                predicted_mean_wait_s: 1.0,
                mean_wait_error_pct: err,
                measured_mean_turnaround_s: 1.0,
                predicted_mean_turnaround_s: 1.0,
                median_abs_turnaround_error_pct: err.abs(),
                p90_abs_turnaround_error_pct: err.abs(),
            }),
            dist: Distribution::default(),
            flips: (0, 0),
            median_abs_error_without_near_ties_pct: err.abs(),
            interference: None,
            excluded: excluded.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn flagged_rounds_are_left_out_and_named() {
        // fcfs errors per round: 2, 50 (flagged), 4, 6 → median over kept {2, 4, 6} = 4.
        let res = vec![
            result(1, "fcfs", 2.0, &[]),
            result(2, "fcfs", 50.0, &["steal 9.0 % > 2.0 %"]),
            result(3, "fcfs", -4.0, &[]),
            result(4, "fcfs", 6.0, &[]),
        ];
        let a = aggregate(&["fcfs".into()], &res);
        let werr = &a[0].metrics[col("mean_wait_error_pct")];
        assert_eq!((werr.median, werr.min, werr.max), (2.0, -4.0, 6.0));
        let ta = &a[0].metrics[col("median_abs_turnaround_error_pct")];
        assert_eq!((ta.median, ta.min, ta.max), (4.0, 2.0, 6.0));
        assert_eq!((a[0].kept, a[0].excluded), (3, 1));
        // `all`: one kept VM per round, rounds 1, 3, 4 → |err| 2, 4, 6.
        assert_eq!(a[1].policy, "all");
        assert_eq!((a[1].kept, a[1].excluded), (3, 1));
        assert_eq!(
            a[1].metrics[col("median_abs_turnaround_error_pct")].median,
            4.0
        );
        let csv = summary_csv(&["fcfs".into()], &res);
        let lines: Vec<&str> = csv.lines().collect();
        // Header, 4 rounds × (fcfs + all) − the flagged round's `all`, 2 × 3 aggregates.
        assert_eq!(lines.len(), 1 + 4 + 3 + 6, "{csv}");
        assert!(
            lines[3].starts_with("2,fcfs,0,steal 9.0 % > 2.0 %,1,"),
            "{csv}"
        );
        assert!(lines[8].starts_with("median,fcfs,3,1,1,1,1,2,"), "{csv}");
        let text = summary_text(&["fcfs".into()], &res);
        assert!(text.contains("round 2 fcfs: steal 9.0 %"), "{text}");
        assert!(text.contains("2.00 [-4.00 – 6.00]"), "{text}");
    }
}
