//! The files of a sweep folder that make it resumable: `sweep.toml` (what the sweep is)
//! and one `runs/CCCCCC-PPP-RRRRR.toml` per finished run.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Context, Result, bail, invalid};
use crate::grid::{Axis, METRICS};

/// The version of the `sweep.toml` and run-file layout.
pub const FORMAT: u32 = 1;
/// File name of the sweep description.
pub const MANIFEST: &str = "sweep.toml";
/// Folder of the per-run files.
pub const RUNS: &str = "runs";

/// What a sweep is: two folders with equal manifests hold runs of the same sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// Master seed (a string: TOML integers stop at 2^63 − 1).
    pub seed: String,
    /// Replications per cell and policy.
    pub replications: u64,
    /// Policy labels; empty when each cell runs its scenario's own policy.
    pub policies: Vec<String>,
    /// The axes, in the order given.
    pub axes: Vec<Axis>,
    /// The base scenario (overrides applied), as TOML.
    pub scenario: String,
}

impl Manifest {
    /// Policies per cell: the given ones, or the cell scenario's own (one).
    pub fn policy_slots(&self) -> usize {
        self.policies.len().max(1)
    }

    /// The cells in grid order (the first axis varies slowest): each a list of
    /// `(key, canonical value)`.
    pub fn cells(&self) -> Vec<Vec<(&str, &str)>> {
        let mut cells: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
        for axis in &self.axes {
            cells = cells
                .into_iter()
                .flat_map(|prefix| {
                    axis.values.iter().map(move |v| {
                        let mut c = prefix.clone();
                        c.push((axis.key.as_str(), v.as_str()));
                        c
                    })
                })
                .collect();
        }
        cells
    }

    /// The master seed.
    pub fn master_seed(&self) -> Result<u64> {
        self.seed
            .parse()
            .map_err(|_| invalid!("{MANIFEST}: seed `{}` is not a number", self.seed))
    }

    /// Every run of a sweep of `n_cells` cells in grid order (cell, then policy, then
    /// replication).
    pub fn runs(&self, n_cells: usize) -> Vec<RunKey> {
        let slots = self.policy_slots();
        let reps = self.replications;
        (0..n_cells)
            .flat_map(|c| {
                (0..slots).flat_map(move |p| {
                    (0..reps).map(move |r| RunKey {
                        cell: c,
                        policy: p,
                        rep: r,
                    })
                })
            })
            .collect()
    }
}

/// One run's place in the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunKey {
    /// Cell index in grid order.
    pub cell: usize,
    /// Policy slot.
    pub policy: usize,
    /// Replication.
    pub rep: u64,
}

impl RunKey {
    /// The name of the run's file in `runs/`.
    pub fn file_name(self) -> String {
        format!("{:06}-{:03}-{:05}.toml", self.cell, self.policy, self.rep)
    }
}

/// The content of one run file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The cell's seed text (`key=value; …`).
    pub cell: String,
    /// Policy label.
    pub policy: String,
    /// Replication.
    pub replication: u64,
    /// The cell's workload seed (a string: it may not fit a TOML integer).
    pub seed: String,
    /// The run's metrics ([`METRICS`]).
    pub metrics: BTreeMap<String, f64>,
}

impl RunRecord {
    /// The metrics in [`METRICS`] order; an error naming `path` when one is missing.
    pub fn values(&self, path: &Path) -> Result<Vec<f64>> {
        METRICS
            .iter()
            .map(|m| {
                self.metrics
                    .get(*m)
                    .copied()
                    .ok_or_else(|| invalid!("{}: no `{m}` metric", path.display()))
            })
            .collect()
    }
}

/// Writes `sweep.toml` into a new folder, or checks that the folder's own describes the
/// same sweep.
pub fn claim_folder(out: &Path, manifest: &Manifest) -> Result<()> {
    match read_manifest(out)? {
        Some(existing) if existing == *manifest => Ok(()),
        Some(_) => bail!(
            "{} holds another sweep (its {MANIFEST} differs from this command's); \
             use another --out, or remove the folder",
            out.display()
        ),
        None => {
            let text = toml::to_string(manifest)
                .map_err(|e| invalid!("cannot write the sweep description: {e}"))?;
            reports::write_atomic(out.join(MANIFEST), text.as_bytes())?;
            Ok(())
        }
    }
}

/// The `sweep.toml` of `dir`, or `None` when there is none.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let m: Manifest = toml::from_str(&text).map_err(|e| {
        invalid!(
            "{}: not a sweep description: {}",
            path.display(),
            e.message().trim_end()
        )
    })?;
    if m.format != FORMAT {
        bail!(
            "{}: written by another version of vmsched (format {}, this one reads {FORMAT})",
            path.display(),
            m.format
        );
    }
    Ok(Some(m))
}

/// Writes a run file: a temporary file in the same folder, renamed into place, so a
/// killed sweep never leaves half a file under a run's name.
///
/// Unlike the other outputs it is not synced to disk: with thousands of small runs the
/// syncs would cost more than the runs (measured: a third of the wall time of a 64-run
/// sweep of 100,000 VMs each). After a crash of the whole machine a file may be empty or
/// garbled; [`read_run`] then fails to parse it and the sweep runs it again, with a
/// warning.
pub fn write_run(path: &Path, rec: &RunRecord) -> Result<()> {
    let text = toml::to_string(rec)
        .map_err(|e| invalid!("cannot write the record of {}: {e}", path.display()))?;
    Ok(reports::write_atomic_unsynced(path, text.as_bytes())?)
}

/// A run file, or `None` when it does not exist.
pub fn read_run(path: &Path) -> Result<Option<RunRecord>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        invalid!(
            "{}: not a run record: {}",
            path.display(),
            e.message().trim_end()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_records_round_trip_exactly() {
        let values = [
            0.1,
            1.0 / 3.0,
            123_456_789.123_456_78,
            1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            0.0,
            2.0_f64.sqrt(),
        ];
        let rec = RunRecord {
            cell: "a=\"x\"; b=[1, 2]".into(),
            policy: "fcfs/rr".into(),
            replication: 3,
            seed: u64::MAX.to_string(),
            metrics: values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("m{i}"), *v))
                .collect(),
        };
        let text = toml::to_string(&rec).unwrap();
        let back: RunRecord = toml::from_str(&text).unwrap();
        for (k, v) in &rec.metrics {
            let b = back.metrics[k];
            assert!(
                b.to_bits() == v.to_bits() || (b.is_nan() && v.is_nan()),
                "{k}: {v} became {b}\n{text}"
            );
        }
        assert_eq!(back.cell, rec.cell);
    }

    #[test]
    fn cells_are_the_cartesian_product_first_axis_slowest() {
        let m = Manifest {
            format: FORMAT,
            seed: "1".into(),
            replications: 2,
            policies: vec!["fcfs".into(), "sjf".into()],
            axes: vec![
                Axis {
                    key: "a".into(),
                    values: vec!["1".into(), "2".into()],
                },
                Axis {
                    key: "b".into(),
                    values: vec!["x".into(), "y".into(), "z".into()],
                },
            ],
            scenario: String::new(),
        };
        let cells = m.cells();
        assert_eq!(cells.len(), 6);
        assert_eq!(cells[0], [("a", "1"), ("b", "x")]);
        assert_eq!(cells[1], [("a", "1"), ("b", "y")]);
        assert_eq!(cells[3], [("a", "2"), ("b", "x")]);
        // 6 cells × 2 policies × 2 replications, replication fastest.
        let runs = m.runs(cells.len());
        assert_eq!(runs.len(), 24);
        assert_eq!(
            runs[1],
            RunKey {
                cell: 0,
                policy: 0,
                rep: 1
            }
        );
        assert_eq!(
            runs[2],
            RunKey {
                cell: 0,
                policy: 1,
                rep: 0
            }
        );
    }
}
