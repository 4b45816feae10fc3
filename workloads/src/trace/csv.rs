//! CSV helpers shared by the CSV trace readers (Alibaba pod lists, plain CSV, node lists):
//! a trimming reader, header columns, cells as numbers, and errors naming the line.

use std::io::Read;
use std::path::Path;

use super::input::{Input, bad};
use crate::error::Error;

/// A CSV reader over a (possibly gzip) file, with trimmed fields.
pub(crate) fn csv_reader(input: Input) -> Result<csv::Reader<Box<dyn Read + Send>>, Error> {
    let input: Box<dyn Read + Send> = Box::new(input.open()?);
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input))
}

/// Index of column `name` in `headers`, or an error at line 1.
pub(crate) fn column(headers: &csv::ByteRecord, name: &str, file: &str) -> Result<usize, Error> {
    optional_column(headers, name).ok_or_else(|| {
        bad(
            file,
            1,
            name,
            format!("missing column `{name}` in the header"),
        )
    })
}

/// Index of column `name` in `headers`, if present.
pub(crate) fn optional_column(headers: &csv::ByteRecord, name: &str) -> Option<usize> {
    headers.iter().position(|h| h == name.as_bytes())
}

/// The header of a CSV file, or an error naming it.
pub(crate) fn csv_headers(
    reader: &mut csv::Reader<Box<dyn std::io::Read + Send>>,
    path: &Path,
    file: &str,
) -> Result<csv::ByteRecord, Error> {
    reader
        .byte_headers()
        .cloned()
        .map_err(|e| csv_error(e, path, file))
}

/// A csv error as an [`Error`] (I/O errors stay I/O errors).
pub(crate) fn csv_error(e: csv::Error, path: &Path, file: &str) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    if e.is_io_error() {
        if let csv::ErrorKind::Io(io) = e.into_kind() {
            return Error::Io {
                path: path.to_path_buf(),
                source: io,
            };
        }
        return bad(file, line, "line", "I/O error");
    }
    bad(file, line, "line", e.to_string())
}

/// Reads the next record of `reader` into `record`: `Ok(false)` at the end of the file, a
/// `file:line:` error for a malformed record.
pub(crate) fn next_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    path: &Path,
    file: &str,
) -> Result<bool, Error> {
    reader
        .read_byte_record(record)
        .map_err(|e| csv_error(e, path, file))
}

/// Cell `i` of `record` as text (empty if absent).
pub(crate) fn cell(record: &csv::ByteRecord, i: usize) -> &[u8] {
    record.get(i).unwrap_or(b"")
}

/// Parses cell `i` as a number; `Ok(None)` when empty.
pub(crate) fn num_cell(
    record: &csv::ByteRecord,
    i: usize,
    name: &str,
    file: &str,
    line: u64,
) -> Result<Option<f64>, Error> {
    let raw = cell(record, i);
    if raw.is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| {
            bad(
                file,
                line,
                name,
                format!("not a number: `{}`", String::from_utf8_lossy(raw)),
            )
        })
}
