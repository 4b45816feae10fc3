//! `sweep.csv`: one row per cell of a sweep × policy, with the means of the run metrics
//! over replications and their 95 % confidence intervals.

use std::path::Path;

use super::csv_file::write_rows_csv;
use super::{ci95_column, fixed6};
use crate::error::ReportError;

/// One row of `sweep.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// Display values of the axes (strings without quotes).
    pub params: Vec<String>,
    /// Policy label.
    pub policy: String,
    /// The cell's workload seed.
    pub seed: String,
    /// `(mean, 95 % half-width)` per metric; NaN when undefined.
    pub stats: Vec<(f64, f64)>,
}

/// The columns of `sweep.csv`: the axes' `keys`, `policy`, `seed`, `replications`, then
/// per metric of `metrics` its name and `ci95_<metric>`.
pub fn sweep_header(keys: &[&str], metrics: &[&str]) -> Vec<String> {
    let mut header: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    header.extend(["policy", "seed", "replications"].map(String::from));
    for m in metrics {
        header.push(m.to_string());
        header.push(ci95_column(m));
    }
    header
}

/// Writes `sweep.csv` ([`sweep_header`]): per row the axes' values, the policy, the
/// cell's workload seed, `replications`, then for every metric its mean over
/// replications and `ci95_<metric>`, the half-width of its Student-t 95 % confidence
/// interval (empty with one replication).
pub fn write_sweep_csv(
    path: &Path,
    keys: &[&str],
    replications: u64,
    metrics: &[&str],
    rows: &[SweepRow],
) -> Result<(), ReportError> {
    let fields = rows.iter().map(|r| {
        let mut rec: Vec<String> = r.params.clone();
        rec.push(r.policy.clone());
        rec.push(r.seed.clone());
        rec.push(replications.to_string());
        for &(mean, hw) in &r.stats {
            rec.push(fixed6(mean));
            rec.push(fixed6(hw));
        }
        rec
    });
    write_rows_csv(path, sweep_header(keys, metrics), fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_csv_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.csv");
        let rows = [SweepRow {
            params: vec!["2".into(), "best-fit".into()],
            policy: "fcfs".into(),
            seed: "7".into(),
            stats: vec![(1.5, 0.25), (2.0, f64::NAN)],
        }];
        let keys = ["hosts.count", "cluster.placement"];
        write_sweep_csv(&path, &keys, 2, &["mean_wait_s", "vms"], &rows).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "hosts.count,cluster.placement,policy,seed,replications,\
             mean_wait_s,ci95_mean_wait_s,vms,ci95_vms\n\
             2,best-fit,fcfs,7,2,1.500000,0.250000,2.000000,\n"
        );
    }
}
