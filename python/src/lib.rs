//! `vmsched._vmsched`: the compiled half of the `vmsched` Python package. It wraps the
//! library crates (`workloads` for scenarios, `experiments` for comparisons, sweeps and
//! capacity searches, `sim` for textbook runs) and hands results back as columns, which
//! the pure-Python half (`vmsched/__init__.py`) turns into pandas DataFrames.
//!
//! Every long call releases the GIL while it simulates. Errors become
//! `vmsched.VmschedError` (a `ValueError`) carrying the library's own message, e.g.
//! `x.toml:5: hosts[0].overcomit: unknown field …`.
#![forbid(unsafe_code)]

mod columns;
mod experiments_py;
mod inmem;
mod interrupt;
mod own_admission;
mod own_policy;
mod scenario;
mod textbook;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    _vmsched,
    VmschedError,
    PyValueError,
    "A vmsched error: bad input (a scenario key, a value, a policy name, a file) or a run \
     that failed. The message is the one the command line prints."
);

/// Turns any displayable library error into a [`VmschedError`].
pub(crate) fn err(e: impl std::fmt::Display) -> PyErr {
    VmschedError::new_err(e.to_string())
}

#[pymodule]
fn _vmsched(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VmschedError", m.py().get_type::<VmschedError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<scenario::Scenario>()?;
    m.add_class::<own_policy::View>()?;
    m.add_class::<own_admission::VmView>()?;
    m.add_function(wrap_pyfunction!(own_policy::run_own_policy, m)?)?;
    m.add_function(wrap_pyfunction!(experiments_py::compare, m)?)?;
    m.add_function(wrap_pyfunction!(experiments_py::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(experiments_py::capacity, m)?)?;
    m.add_function(wrap_pyfunction!(experiments_py::policies, m)?)?;
    m.add_function(wrap_pyfunction!(textbook::textbook, m)?)?;
    m.add_function(wrap_pyfunction!(textbook::textbook_cases, m)?)?;
    Ok(())
}
