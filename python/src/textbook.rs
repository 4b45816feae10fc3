//! `textbook`: a classic case or a teacher's process table solved exactly (as
//! `vmsched textbook`), returned as the columns of `--format csv` and the Gantt slices.

use std::path::Path;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sim::observer::Collect;
use sim::{SimConfig, SimTime};
use workloads::textbook::{self as tb, CASES, Process};

use crate::columns::Columns;
use crate::err;

fn units(x: f64, what: &str) -> PyResult<SimTime> {
    SimTime::from_secs_f64(x)
        .ok_or_else(|| err(format!("{what} must be a finite number ≥ 0, got {x}")))
}

/// Solves `source` (a case name or a CSV file; or, with `table_csv`, that CSV text labelled
/// `source`) under `policy` (default: the case's own, `fcfs` for a table). Returns a dict:
/// `table` (columns name, arrival, burst, priority, start, finish, waiting, turnaround,
/// response), `slices` (columns name, pcpu, start, end), `policy`, `quantum`, `title`.
#[pyfunction]
#[pyo3(signature = (source, table_csv=None, policy=None, quantum=None, context_switch=0.0))]
pub fn textbook(
    py: Python<'_>,
    source: &str,
    table_csv: Option<&str>,
    policy: Option<String>,
    quantum: Option<f64>,
    context_switch: f64,
) -> PyResult<Py<PyAny>> {
    // (A case's `mlfq` options, e.g. the doubling quanta of `mlfq-doubling`.)
    let mut mlfq = sim::MlfqSpec::default();
    let (table, default_policy, default_quantum) = if let Some(text) = table_csv {
        let t = tb::read_table(text.as_bytes(), source).map_err(err)?;
        (t, "fcfs".to_string(), None)
    } else {
        match tb::case(source) {
            Ok(c) => {
                mlfq = c.mlfq();
                (c.processes(), c.policy.to_string(), c.quantum)
            }
            Err(case_error) => {
                let path = Path::new(source);
                if !path.exists() {
                    return Err(err(format!(
                        "{case_error} (and no file called {source} exists)"
                    )));
                }
                (tb::load_table(path).map_err(err)?, "fcfs".to_string(), None)
            }
        }
    };
    if table.is_empty() {
        return Err(err(format!("{source}: the process table is empty")));
    }
    let policy = policy.unwrap_or(default_policy);
    let quantum = match quantum {
        Some(q) => units(q, "quantum")?,
        None => default_quantum.unwrap_or(SimTime::from_secs(4)),
    };
    tb::check_weights(&table, &policy, source).map_err(err)?;
    tb::check_slices(&table, &policy, quantum).map_err(err)?;
    let mut config = SimConfig::textbook(&policy, quantum);
    config.cpu.context_switch = units(context_switch, "context_switch")?;
    config.cpu.mlfq = mlfq;
    let mut collected = Collect::default();
    sim::simulate(&config, Process::to_vm_requests(&table), &mut collected).map_err(err)?;
    let name = |id: u64| {
        table
            .get(id as usize)
            .map_or_else(|| format!("VM{id}"), |p| p.name.clone())
    };
    let mut records = collected.vms;
    records.sort_by_key(|r| r.id);
    let secs = |t: SimTime| t.as_secs_f64();
    let mut t = Columns::default();
    t.text("name", records.iter().map(|r| name(r.id)).collect());
    t.float("arrival", records.iter().map(|r| secs(r.arrival)).collect());
    t.float("burst", records.iter().map(|r| secs(r.service)).collect());
    t.float(
        "priority",
        records.iter().map(|r| f64::from(r.priority)).collect(),
    );
    t.float("start", records.iter().map(|r| secs(r.first_run)).collect());
    t.float("finish", records.iter().map(|r| secs(r.finish)).collect());
    t.float("waiting", records.iter().map(|r| secs(r.wait())).collect());
    t.float(
        "turnaround",
        records.iter().map(|r| secs(r.turnaround())).collect(),
    );
    t.float(
        "response",
        records.iter().map(|r| secs(r.response())).collect(),
    );
    let sl = &collected.slices;
    let mut s = Columns::default();
    s.text("name", sl.iter().map(|x| name(x.vm)).collect());
    s.float("pcpu", sl.iter().map(|x| f64::from(x.pcpu)).collect());
    s.float("start", sl.iter().map(|x| secs(x.start)).collect());
    s.float("end", sl.iter().map(|x| secs(x.end)).collect());
    let out = PyDict::new(py);
    out.set_item("table", t.into_py(py)?)?;
    out.set_item("slices", s.into_py(py)?)?;
    out.set_item("title", format!("{source} under {policy}"))?;
    out.set_item("policy", policy)?;
    out.set_item("quantum", quantum.as_secs_f64())?;
    Ok(out.into_any().unbind())
}

/// The classic cases: `[(name, description, policy, textbook average wait)]`.
#[pyfunction]
pub fn textbook_cases() -> Vec<(String, String, String, f64)> {
    CASES
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                c.description.to_string(),
                c.policy.to_string(),
                c.avg_wait,
            )
        })
        .collect()
}
