//! `compare` (what `vmsched.run` calls), `sweep` and `capacity`: the `experiments` crate
//! run with the GIL released (Ctrl-C stops them: see `interrupt`), results returned as
//! columns built in memory (see `inmem`).

use experiments::capacity::CapacitySearch;
use experiments::sweep::Sweep;
use experiments::{Policy, Progress};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use reports::schema::{
    CAPACITY_HEADER, EnergyColumns, MigrationColumns, SUMMARY_ENERGY_COLUMNS, SUMMARY_HEADER,
    SUMMARY_MIGRATION_COLUMNS, SummaryRow, sweep_header,
};
use workloads::scenario::Scenario as Inner;

use crate::columns::Columns;
use crate::err;
use crate::interrupt::interruptible;
use crate::scenario::Scenario;

/// Progress reported to a Python callable `f(done, total)` (a tqdm bar's updater, say),
/// called with the GIL taken back for the call only.
pub(crate) struct PyProgress {
    callback: Option<Py<PyAny>>,
    total: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
}

impl PyProgress {
    pub(crate) fn new(callback: Option<Py<PyAny>>) -> PyProgress {
        PyProgress {
            callback,
            total: 0.into(),
            done: 0.into(),
        }
    }

    fn tell(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(cb) = &self.callback {
            let (d, t) = (self.done.load(Relaxed), self.total.load(Relaxed));
            Python::attach(|py| {
                // A failing progress callback must not stop the simulation.
                let _ = cb.call1(py, (d, t));
            });
        }
    }
}

impl Progress for PyProgress {
    fn start(&self, runs: u64) {
        self.total.store(runs, std::sync::atomic::Ordering::Relaxed);
        self.tell();
    }
    fn run_done(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tell();
    }
}

/// The scenario with the keyword overrides applied (as the CLI's `--seed`,
/// `--replications`, `--vms`, and its calibration profile), checked.
pub(crate) fn with_overrides(
    sc: &Scenario,
    seed: Option<u64>,
    replications: Option<u64>,
    vms: Option<u64>,
) -> PyResult<Inner> {
    let mut s = sc.inner.clone();
    validate::profile::apply_scenario_profile(&mut s, None).map_err(err)?;
    if let Some(x) = seed {
        s.run.seed = x;
    }
    if let Some(x) = replications {
        s.run.replications = x;
    }
    if let Some(x) = vms {
        s.set_vms(x);
    }
    s.validate().map_err(err)?;
    Ok(s)
}

fn parse_policies(names: &[String]) -> PyResult<Vec<Policy>> {
    let ps = experiments::grid::parse_policies(names).map_err(err)?;
    if ps.is_empty() {
        return Err(err("policies is empty"));
    }
    Ok(ps)
}

fn nan(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

/// The columns of `summary.csv` (header order) from the rows: as in the file, the energy
/// columns ([`SUMMARY_ENERGY_COLUMNS`]) when a row has energy figures (power, power-off or
/// failures configured) and then the migration columns ([`SUMMARY_MIGRATION_COLUMNS`])
/// when a row has migration figures; NaN where the file has an empty cell.
pub(crate) fn summary_columns(rows: &[SummaryRow]) -> Columns {
    let mut c = Columns::default();
    let h = SUMMARY_HEADER;
    let f = |g: fn(&SummaryRow) -> f64| rows.iter().map(g).collect::<Vec<f64>>();
    c.text(h[0], rows.iter().map(|r| r.policy.clone()).collect());
    c.text(
        h[1],
        rows.iter().map(|r| r.replication.to_string()).collect(),
    );
    c.text(h[2], rows.iter().map(|r| r.class.to_string()).collect());
    c.float(h[3], f(|r| r.vms));
    c.float(h[4], f(|r| r.mean_wait_s));
    c.float(h[5], f(|r| nan(r.ci95_mean_wait_s)));
    c.float(h[6], f(|r| r.p50_wait_s));
    c.float(h[7], f(|r| r.p95_wait_s));
    c.float(h[8], f(|r| r.p99_wait_s));
    c.float(h[9], f(|r| r.max_wait_s));
    c.float(h[10], f(|r| r.mean_queue_wait_s));
    c.float(h[11], f(|r| r.mean_ready_wait_s));
    c.float(h[12], f(|r| r.mean_response_s));
    c.float(h[13], f(|r| r.mean_turnaround_s));
    c.float(h[14], f(|r| r.p95_turnaround_s));
    c.float(h[15], f(|r| r.mean_slowdown));
    c.float(h[16], f(|r| r.jain_fairness));
    c.float(h[17], f(|r| r.cpu_utilization));
    c.float(h[18], f(|r| r.throughput_per_s));
    c.float(h[19], f(|r| r.mean_in_system));
    c.float(h[20], f(|r| r.events));
    c.float(h[21], f(|r| r.rejected));
    if rows.iter().any(|r| r.energy.is_some()) {
        let e = |g: fn(&EnergyColumns) -> f64| {
            let v = rows.iter().map(|r| r.energy.as_ref().map_or(f64::NAN, g));
            v.collect::<Vec<f64>>()
        };
        let [kwh, power, hosts_on] = SUMMARY_ENERGY_COLUMNS;
        c.float(kwh, e(|e| e.energy_kwh));
        c.float(power, e(|e| e.mean_power_w));
        c.float(hosts_on, e(|e| e.hosts_on_mean));
    }
    if rows.iter().any(|r| r.migration.is_some()) {
        let m = |g: fn(&MigrationColumns) -> f64| {
            let v = rows
                .iter()
                .map(|r| r.migration.as_ref().map_or(f64::NAN, g));
            v.collect::<Vec<f64>>()
        };
        let [migrations, downtime] = SUMMARY_MIGRATION_COLUMNS;
        c.float(migrations, m(|m| m.migrations));
        c.float(downtime, m(|m| m.mean_migration_downtime_s));
    }
    c
}

/// Runs every policy × replication of `scenario` (as `vmsched compare`) and returns a
/// dict: `summary` (columns of summary.csv), `vms` and `timeline` (when kept and the
/// scenario has a timeline), `cpu_share` (when the scenario sets `run.cpu_share_s`),
/// `rejected` (VMs no host could hold), `scenario` (TOML).
#[pyfunction]
#[pyo3(signature = (scenario, policies, seed=None, replications=None, vms=None, keep_vms=false, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn compare(
    py: Python<'_>,
    scenario: &Scenario,
    policies: Vec<String>,
    seed: Option<u64>,
    replications: Option<u64>,
    vms: Option<u64>,
    keep_vms: bool,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let s = with_overrides(scenario, seed, replications, vms)?;
    let policies = parse_policies(&policies)?;
    let bar = PyProgress::new(progress);
    let outcome = interruptible(py, |stop| {
        crate::inmem::compare(&s, &policies, keep_vms, threads, &bar, stop)
    })?
    .map_err(err)?;
    let out = PyDict::new(py);
    out.set_item("summary", summary_columns(&outcome.rows).into_py(py)?)?;
    out.set_item("vms", outcome.vms.map(|c| c.into_py(py)).transpose()?)?;
    out.set_item(
        "timeline",
        outcome.timeline.map(|c| c.into_py(py)).transpose()?,
    )?;
    out.set_item(
        "cpu_share",
        outcome.cpu_share.map(|c| c.into_py(py)).transpose()?,
    )?;
    out.set_item("rejected", outcome.rejected)?;
    out.set_item("scenario", s.to_toml_string())?;
    Ok(out.into_any().unbind())
}

/// A sweep of `grid` (`[(key, [value texts])]`, the first axis varying slowest) ×
/// policies × replications, as `vmsched sweep`; returns the columns of sweep.csv.
#[pyfunction]
#[pyo3(signature = (scenario, grid, policies=None, seed=None, replications=None, vms=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn sweep(
    py: Python<'_>,
    scenario: &Scenario,
    grid: Vec<(String, Vec<String>)>,
    policies: Option<Vec<String>>,
    seed: Option<u64>,
    replications: Option<u64>,
    vms: Option<u64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let s = with_overrides(scenario, seed, replications, vms)?;
    let set: Vec<String> = grid
        .iter()
        .map(|(k, vs)| format!("{k}={}", vs.join(",")))
        .collect();
    let plan = Sweep::plan(&s, &set, policies.as_deref()).map_err(err)?;
    let parsed = policies.as_deref().map(parse_policies).transpose()?;
    let bar = PyProgress::new(progress);
    let rows = interruptible(py, |stop| {
        crate::inmem::sweep(&s, plan.manifest(), parsed.as_deref(), threads, &bar, stop)
    })?
    .map_err(err)?;
    let manifest = plan.manifest();
    let keys: Vec<&str> = manifest.axes.iter().map(|a| a.key.as_str()).collect();
    let header = sweep_header(&keys, &experiments::grid::METRICS);
    let rows = &rows;
    let mut c = Columns::default();
    for (i, k) in keys.iter().enumerate() {
        c.text(k, rows.iter().map(|r| r.params[i].clone()).collect());
    }
    c.text("policy", rows.iter().map(|r| r.policy.clone()).collect());
    c.text("seed", rows.iter().map(|r| r.seed.clone()).collect());
    c.float(
        "replications",
        vec![manifest.replications as f64; rows.len()],
    );
    for (m, name) in experiments::grid::METRICS.iter().enumerate() {
        c.float(name, rows.iter().map(|r| r.stats[m].0).collect());
        c.float(
            &header[keys.len() + 3 + 2 * m + 1],
            rows.iter().map(|r| r.stats[m].1).collect(),
        );
    }
    c.into_py(py)
}

/// The smallest value of the integer key `vary` meeting `slo`, per policy and load
/// level, as `vmsched capacity`; returns the columns of capacity.csv.
#[pyfunction]
#[pyo3(signature = (scenario, slo, vary, min, max, load_scale, policies=None, replications=None, max_replications=None, seed=None, vms=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn capacity(
    py: Python<'_>,
    scenario: &Scenario,
    slo: &str,
    vary: &str,
    min: u64,
    max: u64,
    load_scale: Vec<f64>,
    policies: Option<Vec<String>>,
    replications: Option<u64>,
    max_replications: Option<u64>,
    seed: Option<u64>,
    vms: Option<u64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let s = with_overrides(scenario, seed, None, vms)?;
    let search = CapacitySearch::new(
        s,
        slo,
        vary,
        (min, max),
        &load_scale,
        policies.as_deref(),
        replications,
        max_replications,
    )
    .map_err(err)?;
    let bar = PyProgress::new(progress);
    // A capacity search cannot stop part-way: Ctrl-C is raised when it ends.
    let answers = interruptible(py, |_| search.run(threads, &bar))?.map_err(err)?;
    let h = CAPACITY_HEADER;
    let mut c = Columns::default();
    c.text(h[0], answers.iter().map(|a| a.policy.clone()).collect());
    c.float(h[1], answers.iter().map(|a| a.load_scale).collect());
    c.text(h[2], vec![vary.to_string(); answers.len()]);
    c.float(
        h[3],
        answers
            .iter()
            .map(|a| nan(a.needed.map(|n| n as f64)))
            .collect(),
    );
    let slo_text = experiments::capacity::Slo::parse(slo)
        .map_err(err)?
        .to_string();
    c.text(h[4], vec![slo_text; answers.len()]);
    c.float(h[5], answers.iter().map(|a| a.at.0).collect());
    c.float(h[6], answers.iter().map(|a| a.at.1).collect());
    c.float(
        h[7],
        answers.iter().map(|a| nan(a.below.map(|b| b.0))).collect(),
    );
    c.float(
        h[8],
        answers.iter().map(|a| nan(a.below.map(|b| b.1))).collect(),
    );
    c.float(
        h[9],
        answers.iter().map(|a| a.replications as f64).collect(),
    );
    c.text(
        h[10],
        answers
            .iter()
            .map(|a| a.status.name().to_string())
            .collect(),
    );
    c.text(
        h[11],
        answers
            .iter()
            .map(|a| if a.monotone { "yes" } else { "no" }.to_string())
            .collect(),
    );
    c.float(h[12], answers.iter().map(|a| a.runs as f64).collect());
    c.into_py(py)
}

/// `(name, description)` of each policy of one level.
type Named = Vec<(String, String)>;

/// The policy names: `(admission [(name, description)], cpu [(name, description)])`.
#[pyfunction]
pub fn policies() -> (Named, Named) {
    let a = sim::policy::ADMISSION_POLICIES
        .iter()
        .map(|e| (e.name.to_string(), e.description.to_string()))
        .collect();
    let c = sim::policy::CPU_POLICIES
        .iter()
        .map(|e| (e.name.to_string(), e.description.to_string()))
        .collect();
    (a, c)
}
