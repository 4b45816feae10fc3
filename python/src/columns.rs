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

    /// Reads a CSV file written by the library (numbers where every non-empty cell of a
    /// column is one, empty cells as NaN; text otherwise).
    pub fn read_csv(path: &std::path::Path) -> Result<Columns, String> {
        let mut r = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header: Vec<String> = r
            .headers()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .iter()
            .map(String::from)
            .collect();
        let mut cells: Vec<Vec<String>> = vec![Vec::new(); header.len()];
        for rec in r.records() {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            for (i, c) in rec.iter().enumerate().take(header.len()) {
                cells[i].push(c.to_string());
            }
        }
        let mut out = Columns::default();
        for (name, col) in header.iter().zip(cells) {
            let nums: Option<Vec<f64>> = col
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        Some(f64::NAN)
                    } else {
                        c.parse::<f64>().ok()
                    }
                })
                .collect();
            match nums {
                Some(v) if !col.iter().all(String::is_empty) || col.is_empty() => {
                    out.float(name, v)
                }
                _ => out.text(name, col),
            }
        }
        Ok(out)
    }
}
