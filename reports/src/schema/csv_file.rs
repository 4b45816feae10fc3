//! The one writer of every CSV file written at once (`summary.csv`, `energy.csv`,
//! `migrations.csv`, `sweep.csv`, ...): header, rows, then the temporary file renamed into
//! place, every error naming the file. The streaming writers end the same way
//! ([`commit_csv`]).

use std::path::Path;

use crate::atomic::AtomicFile;
use crate::error::ReportError;

/// Writes `header` then `rows` to `path`, atomically ([`AtomicFile`]).
pub fn write_rows_csv<H, R>(
    path: impl AsRef<Path>,
    header: H,
    rows: impl IntoIterator<Item = R>,
) -> Result<(), ReportError>
where
    H: IntoIterator,
    H::Item: AsRef<[u8]>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let path = path.as_ref();
    let mut wtr = csv::Writer::from_writer(AtomicFile::create(path)?);
    let err = |e| ReportError::csv(path, e);
    wtr.write_record(header).map_err(err)?;
    for r in rows {
        wtr.write_record(r).map_err(err)?;
    }
    commit_csv(wtr, path)
}

/// Flushes `wtr`, syncs its file and renames it into place at `path`.
pub(super) fn commit_csv(wtr: csv::Writer<AtomicFile>, path: &Path) -> Result<(), ReportError> {
    let file = wtr
        .into_inner()
        .map_err(|e| ReportError::io(path, "cannot write", e.into_error()))?;
    file.commit()
}
