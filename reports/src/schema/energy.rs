//! `energy.csv`: the datacenter figures of each run — energy, power, hosts on, boots,
//! availability, interruptions and lost work — for the cluster (`host` = `all`) and per
//! host. Written only when a scenario configures a power model, power-off or failures, so
//! that the files of every other scenario stay as they were.

use std::path::Path;

use sim::metrics::RunSummary;

use super::csv_file::write_rows_csv;
use super::fixed6;
use crate::error::ReportError;

/// Column names of `energy.csv`, in order.
pub const ENERGY_HEADER: [&str; 14] = [
    "policy",
    "replication",
    "host",
    "energy_kwh",
    "mean_power_w",
    "hosts_on_mean",
    "boots",
    "failures",
    "host_availability",
    "vm_interruptions",
    "vms_lost",
    "lost_core_hours",
    "makespan_s",
    "power",
];

/// Joules per kWh.
const J_PER_KWH: f64 = 3.6e6;

/// The cluster's energy (kWh), mean power (W) and mean hosts on over `s`'s makespan:
/// the first three figures of its `all` row (NaN for power and hosts on with a makespan
/// of 0).
pub(super) fn energy_columns(s: &RunSummary) -> super::summary::EnergyColumns {
    let d = &s.stats.datacenter;
    let span = s.stats.makespan.nanos() as f64;
    let per = |x: f64| if span > 0.0 { x / span } else { f64::NAN };
    super::summary::EnergyColumns {
        energy_kwh: d.energy_j() / J_PER_KWH,
        mean_power_w: per(d.energy_j() * 1e9),
        hosts_on_mean: per(d.on_ns() as f64),
    }
}

/// The rows of one run: `all` first, then each host. `hosts_on_mean` is the mean number
/// of hosts switched on over the makespan (for one host: the share of time it was on);
/// `host_availability` the mean share of time hosts were not failed; `power` is 1 when a
/// power model was configured (otherwise energy and power are 0).
pub fn energy_rows(policy: &str, replication: u64, s: &RunSummary) -> Vec<Vec<String>> {
    let d = &s.stats.datacenter;
    let span = s.stats.makespan.nanos() as f64;
    let per = |x: f64| if span > 0.0 { x / span } else { f64::NAN };
    let n = d.hosts.len().max(1) as f64;
    let power = if d.power { "1" } else { "0" }.to_string();
    let mut rows = vec![vec![
        policy.to_string(),
        replication.to_string(),
        "all".into(),
        fixed6(d.energy_j() / J_PER_KWH),
        fixed6(per(d.energy_j() * 1e9)),
        fixed6(per(d.on_ns() as f64)),
        d.boots().to_string(),
        d.failures().to_string(),
        fixed6(1.0 - per(d.down_ns() as f64) / n),
        d.vm_interruptions().to_string(),
        d.vms_lost.to_string(),
        fixed6(d.lost_work_ns as f64 / 3.6e12),
        fixed6(span / 1e9),
        power.clone(),
    ]];
    for (i, h) in d.hosts.iter().enumerate() {
        rows.push(vec![
            policy.to_string(),
            replication.to_string(),
            i.to_string(),
            fixed6(h.energy_j / J_PER_KWH),
            fixed6(per(h.energy_j * 1e9)),
            fixed6(per(h.on_ns as f64)),
            h.boots.to_string(),
            h.failures.to_string(),
            fixed6(1.0 - per(h.down_ns as f64)),
            h.vm_interruptions.to_string(),
            String::new(),
            String::new(),
            fixed6(span / 1e9),
            power.clone(),
        ]);
    }
    rows
}

/// Writes `energy.csv` (columns [`ENERGY_HEADER`]) with `rows`.
pub fn write_energy_csv(path: impl AsRef<Path>, rows: &[Vec<String>]) -> Result<(), ReportError> {
    write_rows_csv(path, ENERGY_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::{DatacenterStats, HostOpsStats, RunStats, SimTime};

    /// Two hosts over 10 s: 1010 J and 2000 J (3010 J = 0.000836 kWh, 301 W), on 9 s and
    /// 10 s (1.9 hosts on), host 1 failed 1 s (availability (1 + 0.9) / 2 = 0.95).
    #[test]
    fn rows_by_hand() {
        let stats = RunStats {
            makespan: SimTime::from_secs(10),
            datacenter: DatacenterStats {
                power: true,
                operations: true,
                hosts: vec![
                    HostOpsStats {
                        energy_j: 2000.0,
                        on_ns: 10_000_000_000,
                        ..Default::default()
                    },
                    HostOpsStats {
                        energy_j: 1010.0,
                        on_ns: 9_000_000_000,
                        down_ns: 1_000_000_000,
                        boots: 1,
                        failures: 1,
                        vm_interruptions: 2,
                    },
                ],
                vms_lost: 0,
                lost_work_ns: 7_200_000_000_000,
                ..Default::default()
            },
            ..Default::default()
        };
        let s = sim::metrics::Metrics::new().summary(&stats);
        let rows = energy_rows("fcfs", 0, &s);
        assert_eq!(
            rows[0].join(","),
            "fcfs,0,all,0.000836,301.000000,1.900000,1,1,0.950000,2,0,2.000000,10.000000,1"
        );
        assert_eq!(
            rows[2].join(","),
            "fcfs,0,1,0.000281,101.000000,0.900000,1,1,0.900000,2,,,10.000000,1"
        );
    }
}
