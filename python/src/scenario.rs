//! `vmsched.Scenario`: a scenario (the TOML file of `vmsched run`), immutable from
//! Python: `set` returns a changed copy.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use workloads::scenario::Scenario as Inner;

use crate::err;

/// A vmsched scenario: hosts, workload, policies and run settings. Build one with
/// `Scenario.default()`, `Scenario.load(path)` or `Scenario.from_toml(text)`; change it
/// with `set(key, value)`, which returns a new scenario.
#[pyclass(module = "vmsched", frozen)]
#[derive(Clone)]
pub struct Scenario {
    pub(crate) inner: Inner,
}

/// The TOML text of a Python value given to `set`: booleans, integers, floats and
/// strings (a string is taken as the `--set` value text, so `"best-fit"` and `"4"` work).
fn value_text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.is_instance_of::<PyBool>() {
        Ok(if v.extract::<bool>()? {
            "true"
        } else {
            "false"
        }
        .to_string())
    } else if v.is_instance_of::<PyInt>() {
        Ok(v.str()?.to_string())
    } else if v.is_instance_of::<PyFloat>() {
        let x: f64 = v.extract()?;
        if !x.is_finite() {
            return Err(err(format!("must be a finite number, got {x}")));
        }
        // `repr` keeps a decimal point (`2.0`), so TOML reads a float.
        Ok(v.repr()?.to_string())
    } else if v.is_instance_of::<PyString>() {
        Ok(v.extract::<String>()?)
    } else {
        Err(PyTypeError::new_err(format!(
            "a scenario value must be a bool, int, float or str, got {}",
            v.get_type().name()?
        )))
    }
}

#[pymethods]
impl Scenario {
    /// The built-in default scenario (what `vmsched scenario` prints).
    #[staticmethod]
    fn default() -> Scenario {
        Scenario {
            inner: Inner::builtin_default(),
        }
    }

    /// Reads and checks a scenario file; relative paths in it are taken from its folder.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Scenario> {
        Ok(Scenario {
            inner: Inner::load(&path).map_err(err)?,
        })
    }

    /// A scenario from TOML text (`label` names it in error messages).
    #[staticmethod]
    #[pyo3(signature = (text, label = "<string>"))]
    fn from_toml(text: &str, label: &str) -> PyResult<Scenario> {
        let s = Inner::from_toml_str(text, label).map_err(err)?;
        s.validate().map_err(err)?;
        Ok(Scenario { inner: s })
    }

    /// A copy with the dotted `key` (as in `vmsched sweep --set`) set to `value`, checked
    /// like a scenario file: `hosts.count`, `workload.load_scale`, `run.seed`, …
    fn set(&self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<Scenario> {
        let text = value_text(value).map_err(|e| {
            Python::attach(|py| {
                if e.is_instance_of::<PyTypeError>(py) {
                    PyTypeError::new_err(format!("{key}: {}", e.value(py)))
                } else {
                    err(format!("{key}: {}", e.value(py)))
                }
            })
        })?;
        let canon = experiments::grid::canonical(&experiments::grid::parse_value(&text));
        let inner = experiments::grid::apply(&self.inner, &[(key, &canon)]).map_err(err)?;
        Ok(Scenario { inner })
    }

    /// The scenario as TOML text (what a run records in `run.toml`).
    fn to_toml(&self) -> String {
        self.inner.to_toml_string()
    }

    /// Offered CPU load (0–1 and beyond) of a synthetic workload, `None` for a trace.
    #[getter]
    fn offered_load(&self) -> Option<f64> {
        self.inner.offered_load()
    }

    /// The master seed (`run.seed`).
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.run.seed
    }

    /// Replications per policy (`run.replications`).
    #[getter]
    fn replications(&self) -> u64 {
        self.inner.run.replications
    }

    /// The workload in words.
    fn describe(&self) -> String {
        self.inner.describe_workload()
    }

    fn __repr__(&self) -> String {
        format!(
            "<vmsched.Scenario: {}, {} pCPUs, seed {}>",
            self.inner.describe_workload(),
            self.inner.total_pcpus(),
            self.inner.run.seed
        )
    }
}
