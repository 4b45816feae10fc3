//! `summary.csv`: per policy, replication and class of VMs, then the means over
//! replications with their 95 % confidence intervals.

use std::path::Path;

use sim::metrics::{Class, ClassSummary, RunSummary};

use super::csv_file::write_rows_csv;
use super::{SUMMARY_ENERGY_COLUMNS, SUMMARY_HEADER, SUMMARY_MIGRATION_COLUMNS, fixed6};
use crate::error::ReportError;

/// Which replication a [`SummaryRow`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Replication {
    /// One run: its position in the list of runs given to [`summary_rows`], from 0.
    Index(u64),
    /// The mean over all replications (printed `mean`).
    Mean,
}

impl std::fmt::Display for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Replication::Index(i) => write!(f, "{i}"),
            Replication::Mean => f.write_str("mean"),
        }
    }
}

/// One row of `summary.csv`: one class of VMs in one replication of one policy, or the
/// mean over replications. Times in seconds; `NaN` marks an undefined value (printed as
/// an empty cell).
///
/// Counts are `f64` because a `mean` row averages them over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Policy label.
    pub policy: String,
    /// Replication, or the mean row.
    pub replication: Replication,
    /// `all` or one priority class.
    pub class: Class,
    /// VMs counted (warm-up excluded).
    pub vms: f64,
    /// Mean wait (turnaround − service).
    pub mean_wait_s: f64,
    /// Half-width of the Student-t 95 % confidence interval of the mean wait over
    /// replications: only in `mean` rows with at least two replications.
    pub ci95_mean_wait_s: Option<f64>,
    /// Median wait.
    pub p50_wait_s: f64,
    /// 95th percentile of wait.
    pub p95_wait_s: f64,
    /// 99th percentile of wait.
    pub p99_wait_s: f64,
    /// Largest wait.
    pub max_wait_s: f64,
    /// Mean admission − arrival.
    pub mean_queue_wait_s: f64,
    /// Mean time runnable but not running.
    pub mean_ready_wait_s: f64,
    /// Mean first run − arrival.
    pub mean_response_s: f64,
    /// Mean finish − arrival.
    pub mean_turnaround_s: f64,
    /// 95th percentile of turnaround.
    pub p95_turnaround_s: f64,
    /// Mean service time (not a `summary.csv` column; kept for tables and plots).
    pub mean_service_s: f64,
    /// Mean turnaround / service.
    pub mean_slowdown: f64,
    /// Jain's fairness index of the VMs' progress rates.
    pub jain_fairness: f64,
    /// pCPU utilisation of the run (run-level: the same in every class row).
    pub cpu_utilization: f64,
    /// Finished VMs per second (run-level).
    pub throughput_per_s: f64,
    /// Time-average VMs in the system (run-level).
    pub mean_in_system: f64,
    /// Events processed (run-level).
    pub events: f64,
    /// VMs rejected (run-level).
    pub rejected: f64,
    /// Energy, mean power (W) and mean hosts on over the makespan (run-level); only when
    /// power, power-off or failures are configured (see [`super::energy_rows`]).
    pub energy: Option<EnergyColumns>,
    /// Completed live migrations and their mean downtime (s; NaN without any) (run-level);
    /// only when live migration is configured.
    pub migration: Option<MigrationColumns>,
}

/// The run-level energy figures of a [`SummaryRow`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnergyColumns {
    /// Energy drawn over the makespan, kWh.
    pub energy_kwh: f64,
    /// Energy / makespan, W.
    pub mean_power_w: f64,
    /// Mean number of hosts on (booting included).
    pub hosts_on_mean: f64,
}

/// The run-level migration figures of a [`SummaryRow`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MigrationColumns {
    /// Completed migrations.
    pub migrations: f64,
    /// Their mean downtime, s (NaN without any).
    pub mean_migration_downtime_s: f64,
}

impl SummaryRow {
    fn from_run(policy: &str, replication: u64, c: &ClassSummary, run: &RunSummary) -> Self {
        SummaryRow {
            policy: policy.to_string(),
            replication: Replication::Index(replication),
            class: c.class,
            vms: c.vms as f64,
            mean_wait_s: c.mean_wait_s,
            ci95_mean_wait_s: None,
            p50_wait_s: c.p50_wait_s,
            p95_wait_s: c.p95_wait_s,
            p99_wait_s: c.p99_wait_s,
            max_wait_s: c.max_wait_s,
            mean_queue_wait_s: c.mean_queue_wait_s,
            mean_ready_wait_s: c.mean_ready_wait_s,
            mean_response_s: c.mean_response_s,
            mean_turnaround_s: c.mean_turnaround_s,
            p95_turnaround_s: c.p95_turnaround_s,
            mean_service_s: c.mean_service_s,
            mean_slowdown: c.mean_slowdown,
            jain_fairness: c.jain_fairness,
            cpu_utilization: run.cpu_utilization,
            throughput_per_s: run.throughput_per_s,
            mean_in_system: run.mean_in_system,
            events: run.stats.events as f64,
            rejected: run.stats.rejected as f64,
            energy: run
                .stats
                .datacenter
                .tracked()
                .then(|| super::energy::energy_columns(run)),
            migration: run.stats.datacenter.migration.configured.then(|| {
                let m = &run.stats.datacenter.migration;
                MigrationColumns {
                    migrations: m.records.len() as f64,
                    mean_migration_downtime_s: m.mean_downtime_s(),
                }
            }),
        }
    }
}

/// Mean of the values that are not NaN (NaN if there are none). Infinite values count.
fn mean_defined(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0u64);
    for x in xs.filter(|x| !x.is_nan()) {
        sum += x;
        n += 1;
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The rows of `summary.csv` for one policy.
///
/// First every replication in order (replication `i` is `runs[i]`), each with its classes
/// in the run's order (`all`, then priorities ascending); then one `mean` row per class
/// (`all`, then priorities ascending).
///
/// A `mean` row averages each column over the replications that have that class (a rare
/// priority class can be absent from some replications), leaving out undefined (NaN)
/// values; its `ci95_mean_wait_s` is the Student-t 95 % half-width
/// ([`sim::stats::mean_ci95`]) over those replications' mean waits, `None` when fewer
/// than two are defined. Run-level columns are averaged the same way.
pub fn summary_rows(policy: &str, runs: &[RunSummary]) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    let mut classes = std::collections::BTreeSet::new();
    for (i, run) in runs.iter().enumerate() {
        for c in &run.classes {
            classes.insert(c.class);
            rows.push(SummaryRow::from_run(policy, i as u64, c, run));
        }
    }
    let n_rep = rows.len();
    for class in classes {
        let reps: Vec<&SummaryRow> = rows[..n_rep].iter().filter(|r| r.class == class).collect();
        let m = |f: fn(&SummaryRow) -> f64| mean_defined(reps.iter().map(|r| f(r)));
        let waits: Vec<f64> = reps
            .iter()
            .map(|r| r.mean_wait_s)
            .filter(|x| !x.is_nan())
            .collect();
        let hw = sim::stats::mean_ci95(&waits).half_width;
        let row = SummaryRow {
            policy: policy.to_string(),
            replication: Replication::Mean,
            class,
            vms: m(|r| r.vms),
            mean_wait_s: m(|r| r.mean_wait_s),
            ci95_mean_wait_s: if hw.is_nan() { None } else { Some(hw) },
            p50_wait_s: m(|r| r.p50_wait_s),
            p95_wait_s: m(|r| r.p95_wait_s),
            p99_wait_s: m(|r| r.p99_wait_s),
            max_wait_s: m(|r| r.max_wait_s),
            mean_queue_wait_s: m(|r| r.mean_queue_wait_s),
            mean_ready_wait_s: m(|r| r.mean_ready_wait_s),
            mean_response_s: m(|r| r.mean_response_s),
            mean_turnaround_s: m(|r| r.mean_turnaround_s),
            p95_turnaround_s: m(|r| r.p95_turnaround_s),
            mean_service_s: m(|r| r.mean_service_s),
            mean_slowdown: m(|r| r.mean_slowdown),
            jain_fairness: m(|r| r.jain_fairness),
            cpu_utilization: m(|r| r.cpu_utilization),
            throughput_per_s: m(|r| r.throughput_per_s),
            mean_in_system: m(|r| r.mean_in_system),
            events: m(|r| r.events),
            rejected: m(|r| r.rejected),
            energy: reps.iter().any(|r| r.energy.is_some()).then(|| {
                let e = |f: fn(&EnergyColumns) -> f64| {
                    mean_defined(reps.iter().filter_map(|r| r.energy.as_ref().map(f)))
                };
                EnergyColumns {
                    energy_kwh: e(|c| c.energy_kwh),
                    mean_power_w: e(|c| c.mean_power_w),
                    hosts_on_mean: e(|c| c.hosts_on_mean),
                }
            }),
            migration: reps.iter().any(|r| r.migration.is_some()).then(|| {
                let g = |f: fn(&MigrationColumns) -> f64| {
                    mean_defined(reps.iter().filter_map(|r| r.migration.as_ref().map(f)))
                };
                MigrationColumns {
                    migrations: g(|c| c.migrations),
                    mean_migration_downtime_s: g(|c| c.mean_migration_downtime_s),
                }
            }),
        };
        rows.push(row);
    }
    rows
}

/// A count: an integer when whole, else six decimals; empty for NaN.
fn count(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.6}")
    }
}

/// The fields of one `summary.csv` row, formatted, with the energy and migration
/// columns when `energy` and `migration` (empty cells for a row without them).
fn summary_fields(r: &SummaryRow, energy: bool, migration: bool) -> Vec<String> {
    let mut f = base_fields(r).to_vec();
    if energy {
        match &r.energy {
            Some(e) => f.extend([
                fixed6(e.energy_kwh),
                fixed6(e.mean_power_w),
                fixed6(e.hosts_on_mean),
            ]),
            None => f.extend([String::new(), String::new(), String::new()]),
        }
    }
    if migration {
        match &r.migration {
            Some(m) => f.extend([count(m.migrations), fixed6(m.mean_migration_downtime_s)]),
            None => f.extend([String::new(), String::new()]),
        }
    }
    f
}

fn base_fields(r: &SummaryRow) -> [String; 22] {
    [
        r.policy.clone(),
        r.replication.to_string(),
        r.class.to_string(),
        count(r.vms),
        fixed6(r.mean_wait_s),
        r.ci95_mean_wait_s.map(fixed6).unwrap_or_default(),
        fixed6(r.p50_wait_s),
        fixed6(r.p95_wait_s),
        fixed6(r.p99_wait_s),
        fixed6(r.max_wait_s),
        fixed6(r.mean_queue_wait_s),
        fixed6(r.mean_ready_wait_s),
        fixed6(r.mean_response_s),
        fixed6(r.mean_turnaround_s),
        fixed6(r.p95_turnaround_s),
        fixed6(r.mean_slowdown),
        fixed6(r.jain_fairness),
        fixed6(r.cpu_utilization),
        fixed6(r.throughput_per_s),
        fixed6(r.mean_in_system),
        count(r.events),
        count(r.rejected),
    ]
}

/// Writes `summary.csv` (columns [`SUMMARY_HEADER`], then [`SUMMARY_ENERGY_COLUMNS`] if
/// a row has energy figures and [`SUMMARY_MIGRATION_COLUMNS`] if a row has migration
/// figures) with `rows` in the given order (concatenate [`summary_rows`] of each policy).
pub fn write_summary_csv(path: impl AsRef<Path>, rows: &[SummaryRow]) -> Result<(), ReportError> {
    let energy = rows.iter().any(|r| r.energy.is_some());
    let migration = rows.iter().any(|r| r.migration.is_some());
    let mut header = SUMMARY_HEADER.to_vec();
    if energy {
        header.extend(SUMMARY_ENERGY_COLUMNS);
    }
    if migration {
        header.extend(SUMMARY_MIGRATION_COLUMNS);
    }
    let fields = rows.iter().map(|r| summary_fields(r, energy, migration));
    write_rows_csv(path, &header, fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::RunStats;

    fn class(class: Class, vms: u64, mean_wait: f64) -> ClassSummary {
        ClassSummary {
            class,
            vms,
            mean_wait_s: mean_wait,
            p50_wait_s: mean_wait,
            p95_wait_s: 2.0 * mean_wait,
            p99_wait_s: 3.0 * mean_wait,
            max_wait_s: 4.0 * mean_wait,
            mean_queue_wait_s: 0.0,
            mean_ready_wait_s: mean_wait,
            mean_response_s: mean_wait,
            mean_turnaround_s: mean_wait + 1.0,
            p95_turnaround_s: 2.0 * mean_wait + 1.0,
            mean_service_s: 1.0,
            mean_slowdown: mean_wait + 1.0,
            jain_fairness: 0.5,
        }
    }

    fn run(classes: Vec<ClassSummary>, util: f64, events: u64) -> RunSummary {
        RunSummary {
            classes,
            stats: RunStats {
                events,
                ..RunStats::default()
            },
            cpu_utilization: util,
            throughput_per_s: 2.0,
            mean_in_system: 3.0,
        }
    }

    fn three_runs() -> Vec<RunSummary> {
        vec![
            run(
                vec![
                    class(Class::All, 10, 10.0),
                    class(Class::Priority(1), 10, 10.0),
                ],
                0.5,
                100,
            ),
            run(
                vec![
                    class(Class::All, 10, 12.0),
                    class(Class::Priority(1), 10, 12.0),
                ],
                0.6,
                101,
            ),
            run(
                vec![
                    class(Class::All, 11, 14.0),
                    class(Class::Priority(1), 10, 14.0),
                    class(Class::Priority(2), 1, 5.0),
                ],
                0.7,
                102,
            ),
        ]
    }

    #[test]
    fn mean_rows_hand_computed() {
        let rows = summary_rows("sjf", &three_runs());
        // 2 + 2 + 3 replication rows, then mean rows for all, 1, 2.
        assert_eq!(rows.len(), 10);
        let order: Vec<(Replication, Class)> =
            rows.iter().map(|r| (r.replication, r.class)).collect();
        assert_eq!(order[0], (Replication::Index(0), Class::All));
        assert_eq!(order[6], (Replication::Index(2), Class::Priority(2)));
        assert_eq!(order[7], (Replication::Mean, Class::All));
        assert_eq!(order[8], (Replication::Mean, Class::Priority(1)));
        assert_eq!(order[9], (Replication::Mean, Class::Priority(2)));

        let all = &rows[7];
        // Mean waits 10, 12, 14: mean 12; s² = (4 + 0 + 4) / 2 = 4, s = 2;
        // t(0.975, 2) = 4.302653; half-width = 4.302653 · 2 / √3 = 4.968275.
        assert_eq!(all.mean_wait_s, 12.0);
        let hw = all.ci95_mean_wait_s.unwrap();
        assert!((hw - 4.968_275).abs() < 1e-6, "{hw}");
        // vms (10 + 10 + 11) / 3 = 10.333333; utilisation (0.5 + 0.6 + 0.7) / 3 = 0.6;
        // events (100 + 101 + 102) / 3 = 101; p99 = 3 · mean wait → 36.
        assert!((all.vms - 31.0 / 3.0).abs() < 1e-12);
        assert!((all.cpu_utilization - 0.6).abs() < 1e-12);
        assert_eq!(all.events, 101.0);
        assert_eq!(all.p99_wait_s, 36.0);
        assert_eq!(all.policy, "sjf");
        // Priority 2 appears in one replication only: its own values, no CI.
        let p2 = &rows[9];
        assert_eq!(p2.vms, 1.0);
        assert_eq!(p2.mean_wait_s, 5.0);
        assert_eq!(p2.ci95_mean_wait_s, None);
        // Replication rows carry no CI.
        assert!(rows[..7].iter().all(|r| r.ci95_mean_wait_s.is_none()));
    }

    #[test]
    fn summary_csv_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        let mut runs = three_runs();
        runs.truncate(1);
        // An empty class: every metric NaN → empty cells.
        runs[0].classes.push(ClassSummary {
            mean_wait_s: f64::NAN,
            p50_wait_s: f64::NAN,
            p95_wait_s: f64::NAN,
            p99_wait_s: f64::NAN,
            max_wait_s: f64::NAN,
            mean_ready_wait_s: f64::NAN,
            mean_response_s: f64::NAN,
            mean_turnaround_s: f64::NAN,
            p95_turnaround_s: f64::NAN,
            mean_slowdown: f64::NAN,
            jain_fairness: f64::NAN,
            ..class(Class::Priority(3), 0, 0.0)
        });
        let rows = summary_rows("fcfs", &runs);
        write_summary_csv(&path, &rows).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], SUMMARY_HEADER.join(","));
        // Replication 0, class all: mean wait 10 → p50 10, p95 20, p99 30, max 40,
        // queue 0, ready 10, response 10, turnaround 11, p95 turnaround 21, slowdown 11,
        // Jain 0.5, utilisation 0.5, throughput 2, in system 3, events 100, rejected 0.
        assert_eq!(
            lines[1],
            "fcfs,0,all,10,10.000000,,10.000000,20.000000,30.000000,40.000000,0.000000,\
             10.000000,10.000000,11.000000,21.000000,11.000000,0.500000,0.500000,2.000000,\
             3.000000,100,0"
        );
        assert_eq!(
            lines[3],
            "fcfs,0,3,0,,,,,,,0.000000,,,,,,,0.500000,2.000000,3.000000,100,0"
        );
        // One replication: the mean row repeats it, CI empty.
        assert_eq!(lines[4], lines[1].replacen("fcfs,0,", "fcfs,mean,", 1));
        // The empty class stays empty in the mean row (no NaN anywhere).
        assert_eq!(lines[6], lines[3].replacen("fcfs,0,", "fcfs,mean,", 1));
        assert!(!text.contains("NaN") && !text.contains("nan"));
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn count_format() {
        // Whole counts print as integers, averaged ones with six decimals: 31 / 3 = 10.333333.
        assert_eq!(count(101.0), "101");
        assert_eq!(count(31.0 / 3.0), "10.333333");
        assert_eq!(count(f64::NAN), "");
    }

    /// With power and migration configured, five run-level columns at the end. Two
    /// replications of one 2-host cluster over a makespan of 3600 s:
    /// * rep 0: 360 000 J + 360 000 J = 720 000 J = 0.2 kWh; mean power 720 000 J / 3600 s
    ///   = 200 W; hosts on (3600 + 1800 s) / 3600 s = 1.5; migrations with downtimes
    ///   40 ms and 20 ms: 2, mean 0.03 s;
    /// * rep 1: 1 080 000 J = 0.3 kWh, 300 W, 2 hosts on, no migration (mean downtime
    ///   undefined: an empty cell).
    ///
    /// Mean row: 0.25 kWh, 250 W, 1.75 hosts on, 1 migration, mean downtime 0.03 s (the
    /// defined one).
    #[test]
    fn energy_and_migration_columns() {
        use sim::{HostOpsStats, MigrationReason, MigrationRecord, SimTime};
        let host = |j: f64, on_s: u128| HostOpsStats {
            energy_j: j,
            on_ns: on_s * 1_000_000_000,
            ..Default::default()
        };
        let rec = |ms| MigrationRecord {
            vm: 1,
            from: 0,
            to: 1,
            start: SimTime::ZERO,
            end: SimTime::from_secs(1),
            rounds: 1,
            transferred_bytes: 0,
            downtime: SimTime::from_millis(ms),
            reason: MigrationReason::Manual,
        };
        let mut runs = three_runs();
        runs.truncate(2);
        for r in &mut runs {
            r.classes.truncate(1);
            r.stats.makespan = SimTime::from_secs(3600);
            r.stats.datacenter.power = true;
            r.stats.datacenter.migration.configured = true;
        }
        runs[0].stats.datacenter.hosts = vec![host(360_000.0, 3600), host(360_000.0, 1800)];
        runs[0].stats.datacenter.migration.records = vec![rec(40), rec(20)];
        runs[1].stats.datacenter.hosts = vec![host(540_000.0, 3600), host(540_000.0, 3600)];
        let rows = summary_rows("fcfs", &runs);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        write_summary_csv(&path, &rows).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with(
            ",rejected,energy_kwh,mean_power_w,hosts_on_mean,migrations,mean_migration_downtime_s"
        ));
        assert!(
            lines[1].ends_with(",0.200000,200.000000,1.500000,2,0.030000"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].ends_with(",0.300000,300.000000,2.000000,0,"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].ends_with(",0.250000,250.000000,1.750000,1,0.030000"),
            "{}",
            lines[3]
        );
        // Without the features the header is the plain one.
        let plain = summary_rows("fcfs", &three_runs());
        write_summary_csv(&path, &plain).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next().unwrap(), SUMMARY_HEADER.join(","));
    }
}
