//! Results folders and the rule that makes them safe to interrupt.
//!
//! A command that writes a results folder (`compare`, `run`, `capacity`, the end of a
//! `sweep` or `merge`, `validate`):
//!
//! 1. computes everything it can before touching the folder;
//! 2. calls [`begin`]: removes `run.toml` first (from then on the folder is *incomplete*),
//!    then the files a previous run may have left there (so the finished folder never
//!    mixes old and new files), then temporary files of killed runs;
//! 3. writes each file under a temporary name and renames it ([`crate::atomic`]);
//! 4. writes `run.toml` last ([`crate::schema::write_run_toml`]).
//!
//! Whenever the command is killed, the folder holds either the previous complete results
//! (killed before step 2), the new complete results (after step 4), or no `run.toml` at
//! all — never a half-written file. Readers call [`require_complete`], which refuses a
//! folder without `run.toml` with a message saying what happened and what to do.

use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::schema::{RUN_TOML, RunInfo, read_run_toml};

/// Stems of the plots [`crate::plots::plot_results_dir`] may draw (each as `.svg` and
/// `.png`).
pub const PLOT_STEMS: &[&str] = &[
    "wait_cdf",
    "wait_box",
    "timeline",
    "mean_wait",
    "gantt",
    "memory",
    "devices",
    "power",
    "cpu_share",
];

/// Every file `vmsched compare` or `vmsched run` (and `vmsched report`) may write in its
/// folder, besides `run.toml`.
pub fn results_files() -> Vec<String> {
    let mut v: Vec<String> = [
        "summary.csv",
        "vms.csv",
        "slices.csv",
        "timeline.csv",
        "cpu_share.csv",
        "devices.csv",
        "energy.csv",
        "power.csv",
        "migrations.csv",
        "migration_summary.csv",
        crate::html::REPORT_HTML,
    ]
    .map(String::from)
    .to_vec();
    for s in PLOT_STEMS {
        v.push(format!("{s}.svg"));
        v.push(format!("{s}.png"));
    }
    v
}

/// Prefix of the private folders in which `compare` writes its per-run part files.
pub const PARTS_PREFIX: &str = ".vmsched-parts-";

fn remove_if_there(path: &Path, what: &'static str) -> Result<(), ReportError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ReportError::io(path, what, e)),
    }
}

/// Whether `name` is a temporary file of [`crate::atomic`] for one of `outputs` or
/// `run.toml` (`.<name>.<random>.tmp`).
fn is_temporary_of(name: &str, outputs: &[String]) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    if !rest.ends_with(".tmp") {
        return false;
    }
    std::iter::once(RUN_TOML)
        .chain(outputs.iter().map(String::as_str))
        .any(|o| rest.strip_prefix(o).is_some_and(|r| r.starts_with('.')))
}

/// Step 2 of the rule in the module documentation: creates `dir` if needed, removes
/// `dir/run.toml` (an error if it is there and cannot be removed: the folder would look
/// complete), then every file named in `outputs` and the temporary files a killed run left
/// for them. Other files are left alone.
pub fn begin(dir: &Path, outputs: &[String]) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, "cannot create", e))?;
    remove_if_there(
        &dir.join(RUN_TOML),
        "cannot remove the old run description (the folder would look complete)",
    )?;
    for name in outputs {
        remove_if_there(&dir.join(name), "cannot remove the old")?;
    }
    let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, "cannot list", e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_temporary_of(&name, outputs) {
            remove_if_there(&entry.path(), "cannot remove the stale temporary file")?;
        }
    }
    Ok(())
}

/// Removes the part folders (`.vmsched-parts-*`) that killed `compare` runs left in `dir`.
/// Best effort: a folder that cannot be removed is left.
pub fn remove_stale_parts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(PARTS_PREFIX)
            && entry.path().is_dir()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Checks that `dir` is a complete results folder and reads its `run.toml`.
///
/// - not a folder → [`ReportError::NotResults`] ("no such folder");
/// - no `run.toml` but some output file or temporary file of a run →
///   [`ReportError::Incomplete`];
/// - no `run.toml` and nothing of a run → [`ReportError::NotResults`].
pub fn require_complete(dir: &Path) -> Result<RunInfo, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::NotResults {
            dir: dir.to_path_buf(),
            message: "no such folder".to_string(),
        });
    }
    if !dir.join(RUN_TOML).is_file() {
        let outputs = results_files();
        let found: Option<PathBuf> = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries.flatten().map(|e| e.path()).find(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                outputs.contains(&name)
                    || is_temporary_of(&name, &outputs)
                    || name.starts_with(PARTS_PREFIX)
            })
        });
        return Err(match found {
            Some(_) => ReportError::Incomplete {
                dir: dir.to_path_buf(),
            },
            None => ReportError::NotResults {
                dir: dir.to_path_buf(),
                message: format!(
                    "it has no {RUN_TOML} (write one with `vmsched compare --out DIR` or \
                     `vmsched run SCENARIO --out DIR`)"
                ),
            },
        });
    }
    read_run_toml(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn begin_removes_marker_outputs_and_temporaries_only() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "run.toml",
            "vms.csv",
            "gantt.png",
            ".vms.csv.abc123.tmp",
            ".run.toml.x.tmp",
            "notes.txt",
            ".vmsx.csv.a.tmp",
        ] {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        begin(dir.path(), &results_files()).unwrap();
        // notes.txt is not ours; `.vmsx.csv.a.tmp` is not a temporary of a known output.
        assert_eq!(names(dir.path()), [".vmsx.csv.a.tmp", "notes.txt"]);
    }

    #[test]
    fn begin_creates_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a").join("b");
        begin(&sub, &results_files()).unwrap();
        assert!(sub.is_dir());
    }

    #[test]
    fn incomplete_and_foreign_folders_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let e = require_complete(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is not a vmsched results folder"), "{e}");
        std::fs::write(dir.path().join("summary.csv"), "policy\n").unwrap();
        let e = require_complete(dir.path()).unwrap_err().to_string();
        assert!(e.contains("holds incomplete results"), "{e}");
        let e = require_complete(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("no such folder"), "{e}");
    }

    #[test]
    fn stale_parts_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".vmsched-parts-abc")).unwrap();
        std::fs::write(dir.path().join(".vmsched-parts-abc").join("vms-0.csv"), "x").unwrap();
        std::fs::create_dir(dir.path().join("keep")).unwrap();
        remove_stale_parts(dir.path());
        assert_eq!(names(dir.path()), ["keep"]);
    }
}
