//! `migrations.csv`: one row per completed live migration, and `migration_summary.csv`:
//! per run, the number of migrations, refusals and abandons and the mean downtime.
//! Written only when a scenario configures live migration, so that the files of every
//! other scenario stay as they were.

use sim::metrics::RunSummary;

use super::fixed6;

/// Column names of `migrations.csv`, in order.
pub const MIGRATIONS_HEADER: [&str; 11] = [
    "policy",
    "replication",
    "vm",
    "from_host",
    "to_host",
    "start_s",
    "end_s",
    "rounds",
    "transferred_mib",
    "downtime_s",
    "reason",
];

/// Column names of `migration_summary.csv`, in order.
pub const MIGRATION_SUMMARY_HEADER: [&str; 8] = [
    "policy",
    "replication",
    "migrations",
    "mean_migration_downtime_s",
    "max_migration_downtime_s",
    "transferred_gib",
    "migrations_refused",
    "migrations_aborted",
];

/// The `migrations.csv` rows of one run, in the order the migrations ended.
pub fn migration_rows(policy: &str, replication: u64, s: &RunSummary) -> Vec<Vec<String>> {
    let m = &s.stats.datacenter.migration;
    m.records
        .iter()
        .map(|r| {
            vec![
                policy.to_string(),
                replication.to_string(),
                r.vm.to_string(),
                r.from.to_string(),
                r.to.to_string(),
                r.start.to_string(),
                r.end.to_string(),
                r.rounds.to_string(),
                fixed6(r.transferred_bytes as f64 / 1048576.0),
                r.downtime.to_string(),
                r.reason.name().to_string(),
            ]
        })
        .collect()
}

/// The `migration_summary.csv` row of one run (mean and max downtime empty without a
/// migration).
pub fn migration_summary_row(policy: &str, replication: u64, s: &RunSummary) -> Vec<String> {
    let m = &s.stats.datacenter.migration;
    let max = m.records.iter().map(|r| r.downtime).max();
    let bytes: u128 = m
        .records
        .iter()
        .map(|r| u128::from(r.transferred_bytes))
        .sum();
    vec![
        policy.to_string(),
        replication.to_string(),
        m.records.len().to_string(),
        fixed6(m.mean_downtime_s()),
        max.map_or_else(String::new, |t| t.to_string()),
        fixed6(bytes as f64 / (1u64 << 30) as f64),
        m.refused.to_string(),
        m.aborted.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::{
        DatacenterStats, MigrationReason, MigrationRecord, MigrationStats, RunStats, SimTime,
    };

    /// Two migrations with downtimes 40 ms and 20 ms (mean 0.03 s, max 0.04 s), 1 GiB +
    /// 512 MiB sent (1.5 GiB).
    #[test]
    fn rows_by_hand() {
        let rec = |vm, downtime_ms, mib: u64| MigrationRecord {
            vm,
            from: 0,
            to: 1,
            start: SimTime::from_secs(1),
            end: SimTime::from_secs(2),
            rounds: 3,
            transferred_bytes: mib << 20,
            downtime: SimTime::from_millis(downtime_ms),
            reason: MigrationReason::Manual,
        };
        let stats = RunStats {
            datacenter: DatacenterStats {
                migration: MigrationStats {
                    configured: true,
                    records: vec![rec(3, 40, 1024), rec(4, 20, 512)],
                    refused: 1,
                    aborted: 0,
                },
                ..Default::default()
            },
            ..Default::default()
        };
        let s = sim::metrics::Metrics::new().summary(&stats);
        let rows = migration_rows("fcfs", 0, &s);
        assert_eq!(
            rows[0].join(","),
            "fcfs,0,3,0,1,1.000000000,2.000000000,3,1024.000000,0.040000000,manual"
        );
        assert_eq!(
            migration_summary_row("fcfs", 0, &s).join(","),
            "fcfs,0,2,0.030000,0.040000000,1.500000,1,0"
        );
    }
}
