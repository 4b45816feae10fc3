//! Every file vmsched writes into a results folder, in one place: the file names, the
//! column names of each CSV file, and their writers. Every file is written through
//! [`AtomicFile`](crate::AtomicFile), so an interrupted run leaves no half file.
//!
//! # Number formats (stable: notebooks parse them)
//! - Times (`*_s` columns of `vms.csv` and `slices.csv`): seconds with exactly nine
//!   decimals, the exact nanosecond value ([`sim::SimTime`]'s `Display`).
//! - Other floats: fixed six decimals ([`fixed6`]), so equal inputs give byte-identical
//!   files. An undefined value (no VMs in a class, a confidence interval from one
//!   replication) is an empty cell, never `NaN`; an infinite one is `inf`.
//! - Counts: integers; in `summary.csv` `mean` rows, a count averaged over replications
//!   that is not whole has six decimals.
//!
//! # Files and columns
//! - `vms.csv` ([`VMS_HEADER`]): the run label (`policy`, `replication`), the VM's
//!   [`VmRecord`](sim::VmRecord) fields, then the derived metrics of DESIGN §3:
//!   `queue_wait_s` = admission − arrival, `response_s` = first run − arrival,
//!   `turnaround_s` = finish − arrival, `wait_s` = turnaround − service, `slowdown` =
//!   turnaround / service. Written by [`VmsCsv`]; with CPU caps configured, one more column
//!   at the end, `throttled_s` ([`VMS_THROTTLED_COLUMN`], [`VmsCsv::create_with_throttled`]);
//!   with live migration configured, `downtime_s` after it ([`VMS_DOWNTIME_COLUMN`],
//!   [`VmsCsv::create_with`]).
//! - `slices.csv` ([`SLICES_HEADER`]): one [`SliceRecord`](sim::SliceRecord) per row
//!   ([`SlicesCsv`]).
//! - `timeline.csv` and `devices.csv` ([`TIMELINE_HEADER`], [`DEVICES_HEADER`]): host and
//!   device samples ([`TimelineCsv`]); with `power.csv`, `timeline.csv` ends with
//!   [`TIMELINE_POWER_COLUMNS`].
//! - `summary.csv` ([`SUMMARY_HEADER`]): see [`SummaryRow`] and [`summary_rows`]; with
//!   power, power-off or failures it ends with [`SUMMARY_ENERGY_COLUMNS`], with live
//!   migration with [`SUMMARY_MIGRATION_COLUMNS`].
//! - `cpu_share.csv` ([`CPU_SHARE_HEADER`]): each VM's CPU time per interval
//!   ([`CpuShareCsv`]); only when `[run] cpu_share_s` is set.
//! - `sweep.csv` ([`sweep_header`]): see [`write_sweep_csv`].
//! - `capacity.csv` ([`CAPACITY_HEADER`]): see [`write_capacity_csv`].
//! - `energy.csv` ([`ENERGY_HEADER`]): see [`energy_rows`]; only when power, power-off or
//!   failures are configured.
//! - `power.csv` ([`POWER_HEADER`]): per host and timeline sample, its state and mean
//!   power since the previous sample ([`TimelineCsv::with_power`]); only with a timeline
//!   and a power model or failures.
//! - `migrations.csv` ([`MIGRATIONS_HEADER`]) and `migration_summary.csv`
//!   ([`MIGRATION_SUMMARY_HEADER`]): see [`migration_rows`] and [`migration_summary_row`];
//!   only when live migration is configured.
//! - `run.toml`: see [`write_run_toml`].
//!
//! # Confidence intervals
//! The half-width of a Student-t 95 % confidence interval of a metric's mean is the column
//! `ci95_<metric>` ([`ci95_column`]), in every file. `sweep.csv` files written before this
//! rule named it `<metric>_ci95`; readers accept both ([`find_ci95_column`]).

mod capacity;
mod cpu_share;
mod csv_file;
mod energy;
mod migrations;
mod records;
mod run_toml;
mod summary;
mod sweep;

pub use capacity::{CapacityRow, write_capacity_csv};
pub use cpu_share::CpuShareCsv;
pub use csv_file::write_rows_csv;
pub use energy::{ENERGY_HEADER, energy_rows, write_energy_csv};
pub use migrations::{
    MIGRATION_SUMMARY_HEADER, MIGRATIONS_HEADER, migration_rows, migration_summary_row,
};
pub use records::{SlicesCsv, TimelineCsv, VmsCsv};
pub use run_toml::{RunInfo, read_run_toml, write_run_toml};
pub use summary::{
    EnergyColumns, MigrationColumns, Replication, SummaryRow, summary_rows, write_summary_csv,
};
pub use sweep::{SweepRow, sweep_header, write_sweep_csv};

/// File name of the per-VM rows.
pub const VMS_CSV: &str = "vms.csv";
/// File name of the per-slice rows.
pub const SLICES_CSV: &str = "slices.csv";
/// File name of the host samples.
pub const TIMELINE_CSV: &str = "timeline.csv";
/// File name of the device samples.
pub const DEVICES_CSV: &str = "devices.csv";
/// File name of the per-policy summary.
pub const SUMMARY_CSV: &str = "summary.csv";
/// File name of a sweep's summary.
pub const SWEEP_CSV: &str = "sweep.csv";
/// File name of the datacenter figures (power, power-off or failures configured).
pub const ENERGY_CSV: &str = "energy.csv";
/// File name of the per-host power samples (a timeline with a power model).
pub const POWER_CSV: &str = "power.csv";
/// File name of the completed live migrations (migration configured).
pub const MIGRATIONS_CSV: &str = "migrations.csv";
/// File name of the per-run migration figures (migration configured).
pub const MIGRATION_SUMMARY_CSV: &str = "migration_summary.csv";
/// File name of a capacity search's answers.
pub const CAPACITY_CSV: &str = "capacity.csv";

/// Column names of `vms.csv`, in order.
pub const VMS_HEADER: [&str; 30] = [
    "policy",
    "replication",
    "id",
    "host",
    "vcpus",
    "memory_mib",
    "priority",
    "tenant",
    "arrival_s",
    "admission_s",
    "first_run_s",
    "finish_s",
    "service_s",
    "estimate_s",
    "queue_wait_s",
    "ready_wait_s",
    "response_s",
    "turnaround_s",
    "wait_s",
    "slowdown",
    "preemptions",
    "warmup",
    "io_wait_s",
    "io_service_s",
    "io_requests",
    "fault_stall_s",
    "minor_faults",
    "major_faults",
    "migrations",
    "stopped",
];

/// The column added at the end of `vms.csv` when CPU caps are configured: the time the VM
/// was throttled by its cap, waiting for the next period (s).
pub const VMS_THROTTLED_COLUMN: &str = "throttled_s";

/// The column added at the end of `vms.csv` (after `throttled_s` if present) when live
/// migration is configured: the time the VM was paused by its migrations (s).
pub const VMS_DOWNTIME_COLUMN: &str = "downtime_s";

/// The columns added at the end of `timeline.csv` when `power.csv` is written (a power
/// model or datacenter operations): the host's mean power since the previous sample (W)
/// and whether it is on (1, booting included) or not (0).
pub const TIMELINE_POWER_COLUMNS: [&str; 2] = ["power_w", "hosts_on"];

/// The columns added at the end of `summary.csv` when power, power-off or failures are
/// configured (the run's energy, mean power and mean hosts on over its makespan).
pub const SUMMARY_ENERGY_COLUMNS: [&str; 3] = ["energy_kwh", "mean_power_w", "hosts_on_mean"];

/// The columns added at the end of `summary.csv` (after the energy columns if present)
/// when live migration is configured: completed migrations and their mean downtime.
pub const SUMMARY_MIGRATION_COLUMNS: [&str; 2] = ["migrations", "mean_migration_downtime_s"];

/// Column names of `slices.csv`, in order.
pub const SLICES_HEADER: [&str; 10] = [
    "policy",
    "replication",
    "host",
    "pcpu",
    "vm",
    "vcpu",
    "dispatch_s",
    "start_s",
    "end_s",
    "reason",
];

/// File name of the per-VM CPU share over time (`[run] cpu_share_s`).
pub const CPU_SHARE_CSV: &str = "cpu_share.csv";

/// Column names of `cpu_share.csv`, in order.
pub const CPU_SHARE_HEADER: [&str; 6] = ["policy", "replication", "time_s", "vm", "cpu_s", "share"];

/// Column names of `timeline.csv`, in order.
pub const TIMELINE_HEADER: [&str; 13] = [
    "policy",
    "replication",
    "time_s",
    "host",
    "busy_pcpus",
    "cpu_utilization",
    "ready_vcpus",
    "blocked_vcpus",
    "admitted_vms",
    "queued_vms",
    "working_set_mib",
    "resident_mib",
    "swap_ins",
];

/// Column names of `power.csv`, in order.
pub const POWER_HEADER: [&str; 6] = [
    "policy",
    "replication",
    "time_s",
    "host",
    "state",
    "power_w",
];

/// Column names of `devices.csv`, in order.
pub const DEVICES_HEADER: [&str; 10] = [
    "policy",
    "replication",
    "time_s",
    "host",
    "device",
    "kind",
    "utilization",
    "busy_channels",
    "queue_length",
    "completed",
];

/// Column names of `summary.csv`, in order.
pub const SUMMARY_HEADER: [&str; 22] = [
    "policy",
    "replication",
    "class",
    "vms",
    "mean_wait_s",
    "ci95_mean_wait_s",
    "p50_wait_s",
    "p95_wait_s",
    "p99_wait_s",
    "max_wait_s",
    "mean_queue_wait_s",
    "mean_ready_wait_s",
    "mean_response_s",
    "mean_turnaround_s",
    "p95_turnaround_s",
    "mean_slowdown",
    "jain_fairness",
    "cpu_utilization",
    "throughput_per_s",
    "mean_in_system",
    "events",
    "rejected",
];

/// File name of the run description in an output folder.
pub const RUN_TOML: &str = "run.toml";

/// Column names of `capacity.csv`, in order (see [`write_capacity_csv`]).
pub const CAPACITY_HEADER: [&str; 13] = [
    "policy",
    "load_scale",
    "key",
    "needed",
    "slo",
    "value_at_needed",
    "ci95_at_needed",
    "value_below",
    "ci95_below",
    "replications",
    "status",
    "monotone",
    "runs",
];

/// The prefix of a confidence-interval column: `ci95_<metric>` is the half-width of the
/// Student-t 95 % confidence interval of `<metric>`'s mean.
pub const CI95_PREFIX: &str = "ci95_";

/// The suffix of a confidence-interval column in `sweep.csv` files written before the
/// `ci95_<metric>` rule (`<metric>_ci95`). Still read; no longer written.
pub const LEGACY_CI95_SUFFIX: &str = "_ci95";

/// The name of the confidence-interval column of `metric`: `ci95_<metric>`.
pub fn ci95_column(metric: &str) -> String {
    format!("{CI95_PREFIX}{metric}")
}

/// The index of `metric`'s confidence-interval column in `header`: `ci95_<metric>`, or
/// the older `<metric>_ci95`.
pub fn find_ci95_column<S: AsRef<str>>(header: &[S], metric: &str) -> Option<usize> {
    let find = |name: &str| header.iter().position(|h| h.as_ref() == name);
    find(&ci95_column(metric)).or_else(|| find(&format!("{metric}{LEGACY_CI95_SUFFIX}")))
}

/// A float with six decimals; empty for NaN (an undefined value).
pub fn fixed6(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci95_columns_new_and_old() {
        assert_eq!(ci95_column("mean_wait_s"), "ci95_mean_wait_s");
        let new = ["policy", "mean_wait_s", "ci95_mean_wait_s"];
        let old = ["policy", "mean_wait_s", "mean_wait_s_ci95"];
        assert_eq!(find_ci95_column(&new, "mean_wait_s"), Some(2));
        assert_eq!(find_ci95_column(&old, "mean_wait_s"), Some(2));
        assert_eq!(find_ci95_column(&old, "p95_wait_s"), None);
    }

    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(csv_field("fcfs"), "fcfs");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(fixed6(f64::NAN), "");
        assert_eq!(fixed6(1.0 / 3.0), "0.333333");
    }
}
