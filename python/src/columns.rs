//! Columns for DataFrames: a name and either a float64 numpy array or a list of strings,
//! kept in header order.

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// One column of a table.
pub(crate) enum Column {
    /// Numbers (NaN where a value is undefined).
    Float(Vec<f64>),
    /// Text.
    Text(Vec<String>),
}

/// A table as named columns in order.
#[derive(Default)]
pub(crate) struct Columns {
    /// `(name, values)` in header order.
    pub cols: Vec<(String, Column)>,
}

impl Columns {
    /// Adds a numeric column.
    pub fn float(&mut self, name: &str, v: Vec<f64>) {
        self.cols.push((name.to_string(), Column::Float(v)));
    }

    /// Adds a text column.
    pub fn text(&mut self, name: &str, v: Vec<String>) {
        self.cols.push((name.to_string(), Column::Text(v)));
    }

    /// A `(names, {name: array or list})` pair for `pandas.DataFrame(data, columns=names)`.
    pub fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let names = PyList::empty(py);
        let data = PyDict::new(py);
        for (name, col) in self.cols {
            names.append(&name)?;
            match col {
                Column::Float(v) => data.set_item(&name, PyArray1::from_vec(py, v))?,
                Column::Text(v) => data.set_item(&name, PyList::new(py, v)?)?,
            }
        }
        Ok((names, data).into_pyobject(py)?.into_any().unbind())
    }
}
