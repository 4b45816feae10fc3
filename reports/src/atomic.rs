//! Atomic file writes: write to a temporary file beside the destination, then rename.
//!
//! An interrupted run (error, panic, Ctrl-C before [`AtomicFile::commit`]) leaves the
//! destination as it was — absent or with its old content — never half written.
//! The temporary file is named `.<file name>.<random>.tmp` in the destination's folder
//! (same file system, so the final rename is atomic) and is removed when the writer is
//! dropped without a commit.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::ReportError;

/// A file being written under a temporary name; [`AtomicFile::commit`] gives it its final
/// name. Buffered: writes go through a [`BufWriter`].
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    inner: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path`: creates the temporary file in `path`'s folder (which must
    /// exist). `path` itself is not touched until [`AtomicFile::commit`].
    pub fn create(path: impl AsRef<Path>) -> Result<AtomicFile, ReportError> {
        let path = path.as_ref();
        let tmp = temp_beside(path)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            inner: BufWriter::new(tmp),
        })
    }
    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs the data to disk and renames the temporary file to the final path
    /// (replacing any file there). On error the temporary file is removed and the
    /// destination is left as it was.
    pub fn commit(self) -> Result<(), ReportError> {
        let path = self.path;
        let tmp = self
            .inner
            .into_inner()
            .map_err(|e| ReportError::io(&path, "cannot write", e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| ReportError::io(&path, "cannot sync to disk", e))?;
        tmp.persist(&path)
            .map_err(|e| ReportError::io(&path, "cannot rename the temporary file to", e.error))?;
        sync_parent(&path);
        Ok(())
    }
}

/// Makes the rename durable by syncing the folder (Unix). Best effort: the data itself is
/// already synced and the rename is done, so a failure here (some file systems refuse to
/// sync a folder) is not worth failing the run for.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)
    }

    /// Flushes the buffer to the temporary file (no sync, no rename).
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Creates the temporary file `.<file name>.<random>.tmp` in `path`'s folder.
fn temp_beside(path: &Path) -> Result<NamedTempFile, ReportError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = match path.file_name() {
        Some(name) => {
            let mut p = std::ffi::OsString::from(".");
            p.push(name);
            p.push(".");
            p
        }
        None => std::ffi::OsString::from(".tmp."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // NamedTempFile defaults to mode 0600; output files should get the usual mode
    // (0666 less the umask), like any file a program creates.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| ReportError::io(path, "cannot create a temporary file for", e))
}

/// Writes `bytes` to `path` through a temporary file renamed into place, like
/// [`write_atomic`] but without syncing to disk: a killed process never leaves a half file
/// under `path`, but after a crash of the whole machine the file may be empty or garbled.
/// For many small files whose readers detect and redo a garbled one (sweep run files).
pub fn write_atomic_unsynced(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), ReportError> {
    let path = path.as_ref();
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .map_err(|e| ReportError::io(path, "cannot write", e))?;
    tmp.persist(path)
        .map_err(|e| ReportError::io(path, "cannot rename the temporary file to", e.error))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (temporary file, sync, rename).
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), ReportError> {
    let path = path.as_ref();
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)
        .map_err(|e| ReportError::io(path, "cannot write", e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn existing_file_untouched_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old\n").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new\n").unwrap();
        f.flush().unwrap();
        // Still the old content, and a temporary file beside it.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        let names = entries(dir.path());
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(".out.csv.") && n.ends_with(".tmp"))
        );
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(entries(dir.path()), vec!["out.csv".to_string()]);
    }

    #[test]
    fn dropped_writer_leaves_old_content_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old\n").unwrap();
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half a fi").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(entries(dir.path()), vec!["out.csv".to_string()]);
    }

    #[test]
    fn dropped_writer_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.csv");
        drop(AtomicFile::create(&path).unwrap());
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn write_atomic_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(entries(dir.path()), vec!["a.txt".to_string()]);
    }

    #[test]
    fn missing_folder_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("x.csv");
        let err = AtomicFile::create(&path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x.csv"), "{msg}");
        assert!(
            msg.starts_with("cannot create a temporary file for"),
            "{msg}"
        );
    }
}
