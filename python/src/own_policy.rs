//! CPU policies written in Python: an object with `ready_key(view) -> float` (smaller runs
//! first) and optional `preemptive` / `time_sliced` attributes, run by the engine exactly
//! as a built-in policy (`sim::simulate_with_policies`).
//!
//! The engine calls back into Python for every key, with the GIL held (a Python policy
//! cannot run in parallel anyway). A key that raises, is not a number or is NaN is
//! remembered; the run then ends and the call raises `VmschedError` naming the problem.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use reports::schema::summary_rows;
use sim::SimTime;
use sim::metrics::Metrics;
use sim::observer::Collect;
use sim::policy::{AdmissionParams, CpuPolicy, VcpuView};

use crate::columns::Columns;
use crate::err;
use crate::scenario::Scenario;

/// What a Python CPU policy sees about a runnable or running vCPU (times in seconds).
#[pyclass(module = "vmsched", frozen, name = "VcpuView")]
pub struct View {
    /// VM id.
    #[pyo3(get)]
    vm: u64,
    /// Priority class (lower = more urgent).
    #[pyo3(get)]
    priority: i32,
    /// Arrival time.
    #[pyo3(get)]
    arrival: f64,
    /// The user's estimate of the vCPU's total work.
    #[pyo3(get)]
    estimate: f64,
    /// Work done so far.
    #[pyo3(get)]
    attained: f64,
    /// When it last became ready.
    #[pyo3(get)]
    ready_since: f64,
    /// Whether it became ready by a quantum expiry or a preemption.
    #[pyo3(get)]
    preempted: bool,
    /// `estimate − attained`, at least 0.
    #[pyo3(get)]
    remaining_estimate: f64,
}

/// A Python object as a [`CpuPolicy`].
struct PyCpu {
    obj: Py<PyAny>,
    preemptive: bool,
    time_sliced: bool,
    /// The first problem a `ready_key` call had.
    error: Mutex<Option<String>>,
    /// Ctrl-C, seen between calls.
    signals: Arc<Signals>,
}

/// Python's signal handlers, run every 1024 policy calls (the run holds the GIL between
/// them): the exception of one that raised (Ctrl-C's `KeyboardInterrupt`, whether seen
/// here or raised inside the policy's own code) is kept, the policy then answers 0
/// without calling Python, the workload ends (`stop`), and the run's caller raises it.
#[derive(Default)]
pub(crate) struct Signals {
    calls: std::sync::atomic::AtomicU64,
    raised: Mutex<Option<PyErr>>,
    /// Set on a signal or a policy error: the run's workload ends early.
    pub(crate) stop: std::sync::atomic::AtomicBool,
}

impl Signals {
    /// Whether a signal handler raised (now or before).
    pub(crate) fn poll(&self, py: Python<'_>) -> bool {
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 1024 == 1023
            && let Err(e) = py.check_signals()
        {
            *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
            self.stop();
            return true;
        }
        false
    }

    /// Ends the run's workload early.
    pub(crate) fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Keeps `e` if it is not an `Exception` (a `KeyboardInterrupt` raised inside the
    /// policy's code, say) and returns whether it did.
    pub(crate) fn keep_base(&self, py: Python<'_>, e: &PyErr) -> bool {
        if e.is_instance_of::<pyo3::exceptions::PyException>(py) {
            return false;
        }
        *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.clone_ref(py));
        self.stop();
        true
    }

    /// The exception a handler raised, if any.
    pub(crate) fn take(&self) -> Option<PyErr> {
        self.raised.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// An order-preserving map of a finite `f64` onto `u128` (−x below +x, −0 = +0).
pub(crate) fn order_key(x: f64) -> u128 {
    let x = if x == 0.0 { 0.0 } else { x };
    let b = x.to_bits();
    let k = if b >> 63 == 1 { !b } else { b | (1 << 63) };
    u128::from(k)
}

impl PyCpu {
    fn key(&self, py: Python<'_>, v: &VcpuView) -> Result<f64, String> {
        let s = |t: SimTime| t.as_secs_f64();
        let view = View {
            vm: v.vm,
            priority: v.priority,
            arrival: s(v.arrival),
            estimate: s(v.estimate),
            attained: s(v.attained),
            ready_since: s(v.ready_since),
            preempted: v.preempted,
            remaining_estimate: s(v.remaining_estimate()),
        };
        let r = self
            .obj
            .call_method1(py, "ready_key", (view,))
            .map_err(|e| {
                if self.signals.keep_base(py, &e) {
                    "interrupted".to_string()
                } else {
                    format!("cpu_policy.ready_key raised {e}")
                }
            })?;
        let x: f64 = r
            .extract(py)
            .map_err(|_| "cpu_policy.ready_key must return a number".to_string())?;
        if x.is_nan() {
            return Err(format!("cpu_policy.ready_key returned NaN for VM {}", v.vm));
        }
        Ok(x)
    }
}

impl CpuPolicy for PyCpu {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if error.is_some() {
            return 0;
        }
        let key = Python::attach(|py| {
            if self.signals.poll(py) {
                Err("interrupted".to_string())
            } else {
                self.key(py, v)
            }
        });
        match key {
            Ok(x) => order_key(x),
            Err(e) => {
                *error = Some(e);
                self.signals.stop();
                0
            }
        }
    }
    fn preemptive(&self) -> bool {
        self.preemptive
    }
    fn time_sliced(&self) -> bool {
        self.time_sliced
    }
}

fn flag(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    if obj.hasattr(name)? {
        obj.getattr(name)?
            .is_truthy()
            .map_err(|_| err(format!("cpu_policy.{name} must be true or false")))
    } else {
        Ok(false)
    }
}

/// Runs the scenario's replications with the Python object `cpu_policy` ordering the run
/// queues and/or the Python object `admission_policy` ordering the admission queue; a
/// level without an object runs the built-in policy `label` names for it (`ADMISSION/CPU`;
/// a plain label keeps the scenario's). Returns `summary` (summary.csv columns, labelled
/// `label`) and, with `keep_vms`, `vms` (per VM: policy, replication, id, priority,
/// arrival_s, first_run_s, finish_s, service_s, wait_s, turnaround_s).
#[pyfunction]
#[pyo3(signature = (scenario, cpu_policy, label, seed=None, replications=None, vms=None, keep_vms=false, admission_policy=None))]
#[allow(clippy::too_many_arguments)]
pub fn run_own_policy(
    py: Python<'_>,
    scenario: &Scenario,
    cpu_policy: Option<&Bound<'_, PyAny>>,
    label: &str,
    seed: Option<u64>,
    replications: Option<u64>,
    vms: Option<u64>,
    keep_vms: bool,
    admission_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    if let Some(c) = cpu_policy {
        let has_key = c.hasattr("ready_key")? && c.getattr("ready_key")?.is_callable();
        if !has_key {
            return Err(err(format!(
                "cpu_policy: {} has no method ready_key(view) -> float",
                c.get_type().name()?
            )));
        }
    }
    let signals = Arc::new(Signals::default());
    let own_admission = admission_policy
        .map(|a| crate::own_admission::PyAdmission::new(a, Arc::clone(&signals)))
        .transpose()?;
    if cpu_policy.is_none() && own_admission.is_none() {
        return Err(err("give cpu_policy or admission_policy (or both)"));
    }
    let sc = &crate::experiments_py::with_overrides(scenario, seed, replications, vms)?;
    let (preemptive, time_sliced) = match cpu_policy {
        Some(c) => (flag(c, "preemptive")?, flag(c, "time_sliced")?),
        None => (false, false),
    };
    let mut runs = Vec::new();
    let mut kept: Vec<(u64, sim::VmRecord)> = Vec::new();
    for rep in 0..sc.run.replications {
        let config = sc.sim_config_for(rep).map_err(err)?;
        // `ADMISSION/CPU` names the built-in levels; a plain label keeps the scenario's.
        let (admission_name, cpu_name) = match label.split_once('/') {
            Some((a, c)) => (a.trim().to_string(), c.trim().to_string()),
            None => (config.admission.policy.clone(), config.cpu.policy.clone()),
        };
        let admission: Box<dyn sim::policy::AdmissionPolicy> = match &own_admission {
            Some(a) => Box::new(crate::own_admission::PyAdmissionRef(Arc::clone(a))),
            None => sim::policy::admission_policy(
                &admission_name,
                &AdmissionParams {
                    aging_per_s: config.admission.aging_per_s,
                },
            )
            .map_err(err)?,
        };
        let cpu = cpu_policy.map(|c| {
            Arc::new(PyCpu {
                obj: c.clone().unbind(),
                preemptive,
                time_sliced,
                error: Mutex::new(None),
                signals: Arc::clone(&signals),
            })
        });
        let cpu_box: Box<dyn CpuPolicy> = match &cpu {
            Some(c) => Box::new(PyCpuRef(Arc::clone(c))),
            None => sim::policy::cpu_policy(&cpu_name).map_err(err)?,
        };
        let mut workload = sc.workload(rep).map_err(err)?;
        let mut metrics = Metrics::new();
        let mut collect = Collect::default();
        let result = {
            let mut obs = (&mut metrics, &mut collect);
            let source = crate::interrupt::StopAt {
                inner: &mut workload,
                stop: &signals.stop,
                n: 0,
            };
            sim::simulate_with_policies(&config, admission, cpu_box, source, &mut obs)
        };
        if let Some(e) = signals.take() {
            return Err(e);
        }
        if let Some(c) = &cpu
            && let Some(e) = c.error.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            return Err(err(e));
        }
        if let Some(a) = &own_admission
            && let Some(e) = a.error.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            return Err(err(e));
        }
        let stats = result.map_err(err)?;
        workload.finish().map_err(err)?;
        runs.push(metrics.summary(&stats));
        if keep_vms {
            let mut rs = collect.vms;
            rs.sort_by_key(|r| r.id);
            kept.extend(rs.into_iter().map(|r| (rep, r)));
        }
        py.check_signals()?;
    }
    let rows = summary_rows(label, &runs);
    let out = PyDict::new(py);
    out.set_item(
        "summary",
        crate::experiments_py::summary_columns(&rows).into_py(py)?,
    )?;
    if keep_vms {
        let s = |t: SimTime| t.as_secs_f64();
        let mut c = Columns::default();
        c.text("policy", vec![label.to_string(); kept.len()]);
        c.float("replication", kept.iter().map(|v| v.0 as f64).collect());
        c.float("id", kept.iter().map(|v| v.1.id as f64).collect());
        c.float(
            "priority",
            kept.iter().map(|v| f64::from(v.1.priority)).collect(),
        );
        c.float("arrival_s", kept.iter().map(|v| s(v.1.arrival)).collect());
        c.float(
            "first_run_s",
            kept.iter().map(|v| s(v.1.first_run)).collect(),
        );
        c.float("finish_s", kept.iter().map(|v| s(v.1.finish)).collect());
        c.float("service_s", kept.iter().map(|v| s(v.1.service)).collect());
        c.float("wait_s", kept.iter().map(|v| s(v.1.wait())).collect());
        c.float(
            "turnaround_s",
            kept.iter().map(|v| s(v.1.turnaround())).collect(),
        );
        out.set_item("vms", c.into_py(py)?)?;
    } else {
        out.set_item("vms", py.None())?;
    }
    Ok(out.into_any().unbind())
}

/// Lends a [`PyCpu`] to the engine (which takes a box) while the caller keeps it to read
/// its error afterwards.
struct PyCpuRef(Arc<PyCpu>);

impl CpuPolicy for PyCpuRef {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        self.0.ready_key(v)
    }
    fn preemptive(&self) -> bool {
        self.0.preemptive
    }
    fn time_sliced(&self) -> bool {
        self.0.time_sliced
    }
}
