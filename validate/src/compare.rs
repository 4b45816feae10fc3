//! Measured vs predicted: per-VM errors, per-policy mean waits, and whether the simulator
//! orders the policies as reality does.
//!
//! For each VM, `wait = turnaround − service`, where the measured service is the VM's
//! measured CPU time per vCPU and the predicted one its demand in the simulator. The error
//! of a turnaround is `(predicted − measured) / measured`, in percent.

use std::fmt::Write as _;

use sim::{SliceRecord, VmRecord};

use crate::profile::quantile;

/// One VM under one policy.
#[derive(Clone, Debug, PartialEq)]
pub struct VmRow {
    /// Policy label.
    pub policy: String,
    /// Round (from 1).
    pub round: usize,
    /// VM id.
    pub id: u64,
    /// Priority class.
    pub priority: i32,
    /// Demand the simulator used (s).
    pub predicted_service_s: f64,
    /// CPU time the VM really got, per vCPU (s).
    pub measured_service_s: f64,
    /// Measured wait (s).
    pub measured_wait_s: f64,
    /// Predicted wait (s).
    pub predicted_wait_s: f64,
    /// Measured turnaround (s).
    pub measured_turnaround_s: f64,
    /// Predicted turnaround (s).
    pub predicted_turnaround_s: f64,
    /// Predicted − measured wait (s).
    pub wait_error_s: f64,
    /// (predicted − measured) / measured turnaround, percent.
    pub turnaround_error_pct: f64,
    /// Whether the VM started in another order than predicted against a VM whose policy
    /// key was nearly equal ([`crate::distribution::Flip::near_tie`]).
    pub near_tie: bool,
    /// Where the turnaround error comes from.
    pub attribution: Attribution,
}

/// The turnaround error of one VM (predicted − measured, s), split by the part of the
/// model it comes from. The parts add up to the error.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Attribution {
    /// CPU work, first touch included: predicted service + first-touch service −
    /// measured CPU time (the replay's CPU time contains its first touches).
    pub cpu_s: f64,
    /// Device service of its I/O requests.
    pub io_service_s: f64,
    /// vCPU switches: the sum over its slices of `start − dispatch`.
    pub switch_s: f64,
    /// The rest: time spent waiting for admission, for a pCPU and in the device queue,
    /// which is where a different order of the VMs shows.
    pub waiting_s: f64,
}

impl Attribution {
    /// Splits `p.turnaround − m.turnaround`; `switch` = (measured, predicted) switch time.
    pub fn of(m: &VmRecord, p: &VmRecord, switch: (f64, f64)) -> Attribution {
        let total = secs(p.turnaround()) - secs(m.turnaround());
        let cpu_s =
            secs(p.service) + secs(p.fault_service) - secs(m.service) - secs(m.fault_service);
        let io_service_s = secs(p.io_service) - secs(m.io_service);
        let switch_s = switch.1 - switch.0;
        Attribution {
            cpu_s,
            io_service_s,
            switch_s,
            waiting_s: total - cpu_s - io_service_s - switch_s,
        }
    }
}

/// Sum of `start − dispatch` over the slices of VM `id`, s.
pub fn switch_time_s(slices: &[SliceRecord], id: u64) -> f64 {
    slices
        .iter()
        .filter(|s| s.vm == id)
        .map(|s| secs(s.start.saturating_sub(s.dispatch)))
        .sum()
}

/// One policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRow {
    /// Policy label.
    pub policy: String,
    /// VMs compared.
    pub vms: usize,
    /// Mean measured wait (s).
    pub measured_mean_wait_s: f64,
    /// Mean predicted wait (s).
    pub predicted_mean_wait_s: f64,
    /// (predicted − measured) / measured mean wait, percent.
    pub mean_wait_error_pct: f64,
    /// Mean measured turnaround (s).
    pub measured_mean_turnaround_s: f64,
    /// Mean predicted turnaround (s).
    pub predicted_mean_turnaround_s: f64,
    /// Median absolute turnaround error, percent.
    pub median_abs_turnaround_error_pct: f64,
    /// 90th percentile of the absolute turnaround error, percent.
    pub p90_abs_turnaround_error_pct: f64,
}

/// The comparison of every policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Per policy, in the order given.
    pub policies: Vec<PolicyRow>,
    /// Median absolute turnaround error over every VM of every policy, percent.
    pub median_abs_turnaround_error_pct: f64,
    /// 90th percentile of the same, percent.
    pub p90_abs_turnaround_error_pct: f64,
    /// Policies by measured mean wait, best first.
    pub measured_order: Vec<String>,
    /// Policies by predicted mean wait, best first.
    pub predicted_order: Vec<String>,
}

impl Summary {
    /// Whether the simulator ranks the policies as reality does.
    pub fn same_order(&self) -> bool {
        self.measured_order == self.predicted_order
    }
}

fn secs(t: sim::SimTime) -> f64 {
    t.as_secs_f64()
}

fn pct(pred: f64, meas: f64) -> f64 {
    if meas == 0.0 {
        if pred == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        100.0 * (pred - meas) / meas
    }
}

/// Joins measured and predicted records by VM id (VMs missing on either side are left
/// out), in id order. The slices give the switch part of the [`Attribution`];
/// `near_tie` lists the VMs of near-tie order flips.
pub fn per_vm(
    policy: &str,
    round: usize,
    measured: (&[VmRecord], &[SliceRecord]),
    predicted: (&[VmRecord], &[SliceRecord]),
    near_tie: &[u64],
) -> Vec<VmRow> {
    let (measured, measured_slices) = measured;
    let (predicted, predicted_slices) = predicted;
    let mut m: Vec<&VmRecord> = measured.iter().collect();
    m.sort_by_key(|r| r.id);
    let mut rows = Vec::with_capacity(m.len());
    for r in m {
        let Some(p) = predicted.iter().find(|p| p.id == r.id) else {
            continue;
        };
        let mw = secs(r.wait());
        let pw = secs(p.wait());
        let mt = secs(r.turnaround());
        let pt = secs(p.turnaround());
        let switch = (
            switch_time_s(measured_slices, r.id),
            switch_time_s(predicted_slices, r.id),
        );
        rows.push(VmRow {
            policy: policy.to_string(),
            round,
            id: r.id,
            priority: r.priority,
            predicted_service_s: secs(p.service),
            measured_service_s: secs(r.service),
            measured_wait_s: mw,
            predicted_wait_s: pw,
            measured_turnaround_s: mt,
            predicted_turnaround_s: pt,
            wait_error_s: pw - mw,
            turnaround_error_pct: pct(pt, mt),
            near_tie: near_tie.contains(&r.id),
            attribution: Attribution::of(r, p, switch),
        });
    }
    rows
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

fn abs_quantile(v: impl Iterator<Item = f64>, q: f64) -> f64 {
    let mut a: Vec<f64> = v.map(f64::abs).filter(|x| !x.is_nan()).collect();
    if a.is_empty() {
        return f64::NAN;
    }
    a.sort_by(f64::total_cmp);
    quantile(&a, q)
}

/// Summarises rows of several policies (`policies` gives their order).
pub fn summarize(policies: &[String], rows: &[VmRow]) -> Summary {
    let per: Vec<PolicyRow> = policies
        .iter()
        .map(|p| {
            let r: Vec<&VmRow> = rows.iter().filter(|r| &r.policy == p).collect();
            let mw = mean(r.iter().map(|x| x.measured_wait_s));
            let pw = mean(r.iter().map(|x| x.predicted_wait_s));
            PolicyRow {
                policy: p.clone(),
                vms: r.len(),
                measured_mean_wait_s: mw,
                predicted_mean_wait_s: pw,
                mean_wait_error_pct: pct(pw, mw),
                measured_mean_turnaround_s: mean(r.iter().map(|x| x.measured_turnaround_s)),
                predicted_mean_turnaround_s: mean(r.iter().map(|x| x.predicted_turnaround_s)),
                median_abs_turnaround_error_pct: abs_quantile(
                    r.iter().map(|x| x.turnaround_error_pct),
                    0.5,
                ),
                p90_abs_turnaround_error_pct: abs_quantile(
                    r.iter().map(|x| x.turnaround_error_pct),
                    0.9,
                ),
            }
        })
        .collect();
    let order = |key: fn(&PolicyRow) -> f64| {
        let mut v: Vec<&PolicyRow> = per.iter().collect();
        v.sort_by(|a, b| key(a).total_cmp(&key(b)));
        v.into_iter().map(|r| r.policy.clone()).collect::<Vec<_>>()
    };
    Summary {
        median_abs_turnaround_error_pct: abs_quantile(
            rows.iter().map(|x| x.turnaround_error_pct),
            0.5,
        ),
        p90_abs_turnaround_error_pct: abs_quantile(
            rows.iter().map(|x| x.turnaround_error_pct),
            0.9,
        ),
        measured_order: order(|r| r.measured_mean_wait_s),
        predicted_order: order(|r| r.predicted_mean_wait_s),
        policies: per,
    }
}

/// Column names of `validation.csv`.
pub const VALIDATION_HEADER: &str = "round,policy,id,priority,predicted_service_s,measured_service_s,\
measured_wait_s,predicted_wait_s,wait_error_s,measured_turnaround_s,predicted_turnaround_s,\
turnaround_error_pct,near_tie_flip,error_cpu_s,error_io_service_s,error_switch_s,error_waiting_s";

/// `validation.csv`: one row per round, policy and VM (times in seconds with nine
/// decimals, percentages with four). `near_tie_flip` is 1 for a VM that started in another
/// order than predicted against a VM with a nearly equal key; the `error_*` columns split
/// `predicted − measured` turnaround ([`Attribution`]).
pub fn validation_csv(rows: &[VmRow]) -> String {
    let mut s = String::from(VALIDATION_HEADER);
    s.push('\n');
    for r in rows {
        let a = &r.attribution;
        let _ = writeln!(
            s,
            "{},{},{},{},{:.9},{:.9},{:.9},{:.9},{:.9},{:.9},{:.9},{:.4},{},{:.9},{:.9},{:.9},{:.9}",
            r.round,
            r.policy,
            r.id,
            r.priority,
            r.predicted_service_s,
            r.measured_service_s,
            r.measured_wait_s,
            r.predicted_wait_s,
            r.wait_error_s,
            r.measured_turnaround_s,
            r.predicted_turnaround_s,
            r.turnaround_error_pct,
            u8::from(r.near_tie),
            a.cpu_s,
            a.io_service_s,
            a.switch_s,
            a.waiting_s
        );
    }
    s
}

/// Sums of the [`Attribution`] parts over `rows`, with the mean |turnaround error| in s:
/// which part of the model the error comes from.
pub fn attribution_text(rows: &[VmRow]) -> String {
    if rows.is_empty() {
        return "error per VM by part of the model: no replay kept\n".into();
    }
    let n = rows.len().max(1) as f64;
    let sum = |f: fn(&Attribution) -> f64| rows.iter().map(|r| f(&r.attribution)).sum::<f64>() / n;
    let abs =
        |f: fn(&Attribution) -> f64| rows.iter().map(|r| f(&r.attribution).abs()).sum::<f64>() / n;
    format!(
        "error per VM by part of the model, mean (mean of |part|), ms: CPU + first touch {:+.2} ({:.2}), \
         I/O service {:+.2} ({:.2}), switches {:+.2} ({:.2}), waiting/order {:+.2} ({:.2})\n",
        1e3 * sum(|a| a.cpu_s),
        1e3 * abs(|a| a.cpu_s),
        1e3 * sum(|a| a.io_service_s),
        1e3 * abs(|a| a.io_service_s),
        1e3 * sum(|a| a.switch_s),
        1e3 * abs(|a| a.switch_s),
        1e3 * sum(|a| a.waiting_s),
        1e3 * abs(|a| a.waiting_s),
    )
}

/// The summary as a short text table.
pub fn summary_text(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>4} {:>12} {:>12} {:>9} {:>11} {:>11}",
        "policy", "VMs", "wait meas s", "wait pred s", "wait err%", "|TA err| p50", "|TA err| p90"
    );
    for p in &s.policies {
        let _ = writeln!(
            out,
            "{:<12} {:>4} {:>12.4} {:>12.4} {:>+9.2} {:>11.2}% {:>11.2}%",
            p.policy,
            p.vms,
            p.measured_mean_wait_s,
            p.predicted_mean_wait_s,
            p.mean_wait_error_pct,
            p.median_abs_turnaround_error_pct,
            p.p90_abs_turnaround_error_pct
        );
    }
    let _ = writeln!(
        out,
        "turnaround error over all VMs: median {:.2} %, p90 {:.2} %",
        s.median_abs_turnaround_error_pct, s.p90_abs_turnaround_error_pct
    );
    let _ = writeln!(
        out,
        "policy order by mean wait: measured {}, predicted {} → {}",
        s.measured_order.join(" < "),
        s.predicted_order.join(" < "),
        if s.same_order() {
            "same order"
        } else {
            "DIFFERENT order"
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    fn rec(id: u64, arrival_ms: u64, finish_ms: u64, service_ms: u64) -> VmRecord {
        let ms = SimTime::from_millis;
        VmRecord {
            id,
            host: 0,
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            tenant: None,
            arrival: ms(arrival_ms),
            admission: ms(arrival_ms),
            first_run: ms(arrival_ms),
            finish: ms(finish_ms),
            service: ms(service_ms),
            estimate: ms(service_ms),
            ..VmRecord::default()
        }
    }

    #[test]
    fn per_vm_errors_and_summary() {
        // Measured: VM 0 turnaround 100 (service 100, wait 0); VM 1 turnaround 200
        // (service 100, wait 100). Predicted: 110 and 190 → errors +10 % and −5 %.
        let measured = [rec(1, 0, 200, 100), rec(0, 0, 100, 100)];
        let predicted = [rec(0, 0, 110, 100), rec(1, 0, 190, 100)];
        let rows = per_vm("fcfs", 1, (&measured, &[]), (&predicted, &[]), &[1]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].id, 0);
        assert!((rows[0].turnaround_error_pct - 10.0).abs() < 1e-9);
        assert!((rows[1].turnaround_error_pct + 5.0).abs() < 1e-9);
        // Waits: measured 0, 0.1; predicted 0.01, 0.09.
        assert!((rows[1].wait_error_s + 0.01).abs() < 1e-9);

        // A second policy, better in both worlds.
        let mut rows2 = per_vm("sjf", 1, (&measured[1..], &[]), (&predicted[..1], &[]), &[]);
        rows2.extend(rows.clone());
        let s = summarize(&["fcfs".into(), "sjf".into()], &rows2);
        // fcfs mean waits: measured 0.05, predicted 0.05 → 0 %.
        assert!(s.policies[0].mean_wait_error_pct.abs() < 1e-9);
        // |errors| over all three rows: 10, 10, 5 → median 10.
        assert!((s.median_abs_turnaround_error_pct - 10.0).abs() < 1e-9);
        assert_eq!(s.measured_order, ["sjf", "fcfs"]);
        assert!(s.same_order());
        let text = summary_text(&s);
        assert!(text.contains("same order"), "{text}");
        let csv = validation_csv(&rows);
        assert_eq!(csv.lines().count(), 3);
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .starts_with("1,fcfs,0,0,0.100000000,")
        );
        // VM 1 is in a near tie; its error (−10 ms) is all waiting (same service).
        let l2 = csv.lines().nth(2).unwrap();
        assert!(
            l2.ends_with(",1,0.000000000,0.000000000,0.000000000,-0.010000000"),
            "{l2}"
        );
        assert!(!rows[0].near_tie && rows[1].near_tie);
    }
}
