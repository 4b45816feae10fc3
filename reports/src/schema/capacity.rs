//! `capacity.csv`: one row per policy × load level of a capacity search.

use std::path::Path;

use super::csv_file::write_rows_csv;
use super::{CAPACITY_HEADER, fixed6};
use crate::error::ReportError;

/// One row of `capacity.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityRow {
    /// Policy label.
    pub policy: String,
    /// Load level (factor of `workload.load_scale`).
    pub load_scale: f64,
    /// The key searched (`hosts.count`).
    pub key: String,
    /// The smallest value meeting the SLO; `None` when even the largest misses it.
    pub needed: Option<u64>,
    /// The SLO (`p95_wait_s<=30`).
    pub slo: String,
    /// Metric mean and 95 % half-width at `needed`.
    pub at: (f64, f64),
    /// The same at `needed − 1`, if tried.
    pub below: Option<(f64, f64)>,
    /// Replications behind the answer.
    pub replications: u64,
    /// `ok`, `uncertain` or `not-met`.
    pub status: String,
    /// Whether meeting the SLO looked monotone in the key.
    pub monotone: bool,
    /// Simulation runs made.
    pub runs: u64,
}

/// Writes `capacity.csv` ([`CAPACITY_HEADER`]).
pub fn write_capacity_csv(path: &Path, rows: &[CapacityRow]) -> Result<(), ReportError> {
    let fields = rows.iter().map(|a| {
        [
            a.policy.clone(),
            a.load_scale.to_string(),
            a.key.clone(),
            a.needed.map(|n| n.to_string()).unwrap_or_default(),
            a.slo.clone(),
            fixed6(a.at.0),
            fixed6(a.at.1),
            a.below.map(|b| fixed6(b.0)).unwrap_or_default(),
            a.below.map(|b| fixed6(b.1)).unwrap_or_default(),
            a.replications.to_string(),
            a.status.clone(),
            if a.monotone { "yes" } else { "no" }.to_string(),
            a.runs.to_string(),
        ]
    });
    write_rows_csv(path, CAPACITY_HEADER, fields)
}
