//! Admission policies written in Python: an object with `queue_key(vm) -> float` (smaller
//! is admitted first; the key of a waiting VM must not change while it waits), run by the
//! engine exactly as a built-in admission policy. The engine asks once per VM that has to
//! wait for room, with the GIL held. A key that raises, is not a number or is NaN is
//! remembered; the run then ends and the call raises `VmschedError` naming the problem.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use sim::VmRequest;
use sim::policy::AdmissionPolicy;

use crate::err;

/// What a Python admission policy sees about a waiting VM (times in seconds).
#[pyclass(module = "vmsched", frozen, name = "VmView")]
pub struct VmView {
    /// VM id.
    #[pyo3(get)]
    id: u64,
    /// Arrival time.
    #[pyo3(get)]
    arrival: f64,
    /// vCPUs.
    #[pyo3(get)]
    vcpus: u32,
    /// Memory in MiB.
    #[pyo3(get)]
    memory_mib: u64,
    /// Priority class (lower = more urgent).
    #[pyo3(get)]
    priority: i32,
    /// The user's runtime estimate.
    #[pyo3(get)]
    estimate: f64,
    /// Tenant, or None.
    #[pyo3(get)]
    tenant: Option<u32>,
}

/// A Python object as an [`AdmissionPolicy`].
pub(crate) struct PyAdmission {
    obj: Py<PyAny>,
    /// The first problem a `queue_key` call had.
    pub(crate) error: Mutex<Option<String>>,
    /// Ctrl-C, seen between calls.
    signals: Arc<crate::own_policy::Signals>,
}

impl PyAdmission {
    /// Checks that `obj` has a `queue_key` method.
    pub(crate) fn new(
        obj: &Bound<'_, PyAny>,
        signals: Arc<crate::own_policy::Signals>,
    ) -> PyResult<Arc<PyAdmission>> {
        let ok = obj.hasattr("queue_key")? && obj.getattr("queue_key")?.is_callable();
        if !ok {
            return Err(err(format!(
                "admission_policy: {} has no method queue_key(vm) -> float",
                obj.get_type().name()?
            )));
        }
        Ok(Arc::new(PyAdmission {
            obj: obj.clone().unbind(),
            error: Mutex::new(None),
            signals,
        }))
    }

    fn key(&self, py: Python<'_>, v: &VmRequest) -> Result<f64, String> {
        let view = VmView {
            id: v.id,
            arrival: v.arrival.as_secs_f64(),
            vcpus: v.vcpus,
            memory_mib: v.memory_mib,
            priority: v.priority,
            estimate: v.estimate.as_secs_f64(),
            tenant: v.tenant,
        };
        let r = self
            .obj
            .call_method1(py, "queue_key", (view,))
            .map_err(|e| {
                if self.signals.keep_base(py, &e) {
                    "interrupted".to_string()
                } else {
                    format!("admission_policy.queue_key raised {e}")
                }
            })?;
        let x: f64 = r
            .extract(py)
            .map_err(|_| "admission_policy.queue_key must return a number".to_string())?;
        if x.is_nan() {
            return Err(format!(
                "admission_policy.queue_key returned NaN for VM {}",
                v.id
            ));
        }
        Ok(x)
    }
}

/// Lends a [`PyAdmission`] to the engine (which takes a box) while the caller keeps it to
/// read its error afterwards.
pub(crate) struct PyAdmissionRef(pub Arc<PyAdmission>);

impl AdmissionPolicy for PyAdmissionRef {
    fn queue_key(&self, v: &VmRequest) -> u128 {
        let mut error = self.0.error.lock().unwrap_or_else(|e| e.into_inner());
        if error.is_some() {
            return 0;
        }
        let key = Python::attach(|py| {
            if self.0.signals.poll(py) {
                Err("interrupted".to_string())
            } else {
                self.0.key(py, v)
            }
        });
        match key {
            Ok(x) => crate::own_policy::order_key(x),
            Err(e) => {
                *error = Some(e);
                self.0.signals.stop();
                0
            }
        }
    }
}
