//! Sweeps: a cartesian grid of scenario parameters × policies × replications, run in
//! parallel, resumable and shardable, summarised in `sweep.csv`.
//!
//! # The output folder
//! - `sweep.toml`: what the sweep is (format, master seed, replications, policies, axes and
//!   the base scenario). A rerun into the same folder must describe the same sweep; shards
//!   of one sweep all have the same `sweep.toml`. Threads and shards are not part of it.
//! - `runs/CCCCCC-PPP-RRRRR.toml`: one small file per finished run (cell, policy,
//!   replication), written under a temporary name and renamed, so a killed sweep leaves
//!   only whole files; a rerun skips the runs whose file is there.
//! - `sweep.csv`: one row per cell × policy (see [`reports::schema::write_sweep_csv`]),
//!   built only from the run files, in grid order. So it is the same bytes whatever the
//!   thread count, the shards, or the interruptions.
//! - `sweep_<metric>.svg/.png`: mean wait, p95 wait, mean turnaround and CPU utilisation
//!   against the first swept key, with 95 % confidence bands
//!   (`reports::plots::params`), drawn from `sweep.csv`.
//! - `run.toml`: the usual record of the command, written last.
//!
//! # Sharding
//! Runs are numbered in grid order (cell, then policy, then replication); shard `I/N`
//! (`I` from 0) runs those whose number is `I` modulo `N`, so every shard gets a mix of
//! cheap and costly cells. A shard writes `sweep.toml` and its run files but no
//! `sweep.csv`; [`merge`] checks that the folders hold the same sweep, copies their run
//! files into one folder, and [`finish`] writes `sweep.csv` there.

mod manifest;
mod table;

use std::fs;
use std::path::Path;

use rayon::prelude::*;
use reports::schema::{SWEEP_CSV, SweepRow, write_run_toml, write_sweep_csv};
use workloads::limits::{MAX_SWEEP_CELLS, MAX_SWEEP_RUNS};
use workloads::scenario::Scenario;

pub use manifest::{
    FORMAT, MANIFEST, Manifest, RUNS, RunKey, RunRecord, claim_folder, read_manifest, read_run,
    write_run,
};
pub use table::table;

use crate::error::{Context, Result, bail, invalid};
use crate::grid::{self, Axis, METRICS};
use crate::{Policy, Progress, Provenance};

/// Shard `index` of `count` (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// From 0.
    pub index: u64,
    /// At least 1.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` (`0 ≤ I < N`).
    pub fn parse(s: &str) -> Result<Shard> {
        let err = || invalid!("--shard {s}: expected I/N with 0 ≤ I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let (i, n): (u64, u64) = (
            i.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if n == 0 || i >= n {
            return Err(err());
        }
        Ok(Shard { index: i, count: n })
    }
}

/// A cell ready to run.
struct Cell {
    scenario: Scenario,
    seed_text: String,
    policies: Vec<Policy>,
}

/// A planned sweep: its manifest and every cell built and checked.
pub struct Sweep {
    manifest: Manifest,
    cells: Vec<Cell>,
    /// The base scenario's workload, in words.
    workload: String,
}

/// The runs a folder still needs (see [`Sweep::prepare`]).
#[derive(Clone, Debug)]
pub struct Pending {
    runs: Vec<RunKey>,
    /// Runs of the whole sweep.
    pub total: usize,
    /// Runs of this shard (all of them without a shard).
    pub mine: usize,
}

impl Pending {
    /// Runs still to do.
    pub fn to_run(&self) -> usize {
        self.runs.len()
    }
}

impl Sweep {
    /// Plans a sweep of `base` (its `[run]` section already overridden and checked) over
    /// the axes `set` (`KEY=V1,V2,…` each) and `policies` (names; `None`: each cell's own).
    /// Every cell is built and checked before anything runs.
    pub fn plan(base: &Scenario, set: &[String], policies: Option<&[String]>) -> Result<Sweep> {
        let mut axes: Vec<Axis> = Vec::new();
        for spec in set {
            let axis = grid::parse_axis(spec)?;
            if axis.key == "run.replications" {
                bail!("--set run.replications: replications cannot vary; use --replications");
            }
            if axes.iter().any(|a| a.key == axis.key) {
                bail!("--set {}: the key is given twice", axis.key);
            }
            axes.push(axis);
        }
        let policies = policies.map(grid::parse_policies).transpose()?;
        let manifest = Manifest {
            format: FORMAT,
            seed: base.run.seed.to_string(),
            replications: base.run.replications,
            policies: policies.iter().flatten().map(|p| p.label.clone()).collect(),
            axes,
            scenario: base.to_toml_string(),
        };
        let n_cells =
            (manifest.axes.iter()).fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64));
        let n_policies = policies.as_ref().map_or(1, |p| p.len() as u64);
        let n_runs = n_cells
            .saturating_mul(n_policies)
            .saturating_mul(manifest.replications);
        if n_cells > MAX_SWEEP_CELLS || n_runs > MAX_SWEEP_RUNS {
            bail!(
                "the grid has {n_cells} cells and {n_runs} runs; at most {MAX_SWEEP_CELLS} cells \
                 and {MAX_SWEEP_RUNS} runs are supported (split it into several sweeps)"
            );
        }
        let master = base.run.seed;
        let mut cells = Vec::new();
        for settings in manifest.cells() {
            let text = grid::seed_text(&settings);
            let mut scenario = grid::apply(base, &settings)
                .with_context(|| format!("sweep cell {}", cell_label(&settings)))?;
            scenario.run.seed = grid::cell_seed(master, &settings);
            let pols = match &policies {
                Some(p) => p.clone(),
                None => vec![Policy::of_scenario(&scenario)],
            };
            cells.push(Cell {
                scenario,
                seed_text: text,
                policies: pols,
            });
        }
        Ok(Sweep {
            manifest,
            cells,
            workload: base.describe_workload(),
        })
    }

    /// What the sweep is (as `sweep.toml` records it).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Cells of the grid.
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// The base scenario's workload, in words.
    pub fn workload(&self) -> &str {
        &self.workload
    }

    /// Claims the folder `out` for this sweep (writes `sweep.toml`, or checks that the one
    /// there is the same) and finds the runs of `shard` whose file is not there yet. A run
    /// file of another sweep or one that cannot be read is run again, with a warning.
    pub fn prepare(
        &self,
        out: &Path,
        shard: Option<Shard>,
        progress: &dyn Progress,
    ) -> Result<Pending> {
        let runs_dir = out.join(RUNS);
        fs::create_dir_all(&runs_dir)
            .with_context(|| format!("cannot create {}", runs_dir.display()))?;
        claim_folder(out, &self.manifest)?;
        let all = self.manifest.runs(self.cells.len());
        let mine: Vec<RunKey> = all
            .iter()
            .enumerate()
            .filter(|(k, _)| shard.is_none_or(|s| *k as u64 % s.count == s.index))
            .map(|(_, r)| *r)
            .collect();
        let mut pending = Vec::new();
        for &r in &mine {
            let path = runs_dir.join(r.file_name());
            let cell = &self.cells[r.cell];
            match read_run(&path) {
                Ok(Some(rec))
                    if rec.cell == cell.seed_text
                        && rec.policy == cell.policies[r.policy].label
                        && rec.replication == r.rep => {}
                Ok(Some(_)) => {
                    progress.warn(&format!(
                        "{} belongs to another sweep; running it again",
                        path.display()
                    ));
                    pending.push(r);
                }
                Ok(None) => pending.push(r),
                Err(e) => {
                    progress.warn(&format!("{}; running it again", error_chain(&e)));
                    pending.push(r);
                }
            }
        }
        Ok(Pending {
            runs: pending,
            total: all.len(),
            mine: mine.len(),
        })
    }

    /// Runs the `pending` runs on `threads` worker threads (`None`: one per core), writing
    /// a run file for each into `out/runs`.
    pub fn run(
        &self,
        out: &Path,
        pending: &Pending,
        threads: Option<usize>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let runs_dir = out.join(RUNS);
        let pool = crate::thread_pool(threads)?;
        progress.start(pending.runs.len() as u64);
        pool.install(|| {
            // One run per task: runs differ in cost (an overloaded cell is slow), and
            // stealing single runs keeps every thread busy to the end.
            pending
                .runs
                .par_iter()
                .with_max_len(1)
                .try_for_each(|&r| -> Result<()> {
                    let cell = &self.cells[r.cell];
                    let policy = &cell.policies[r.policy];
                    let values =
                        grid::run_metrics(&cell.scenario, policy, r.rep).with_context(|| {
                            format!(
                                "cell {}, policy {}, replication {}",
                                display_seed_text(&cell.seed_text),
                                policy.label,
                                r.rep
                            )
                        })?;
                    let rec = RunRecord {
                        cell: cell.seed_text.clone(),
                        policy: policy.label.clone(),
                        replication: r.rep,
                        seed: cell.scenario.run.seed.to_string(),
                        metrics: METRICS
                            .iter()
                            .map(|m| (*m).to_string())
                            .zip(values)
                            .collect(),
                    };
                    write_run(&runs_dir.join(r.file_name()), &rec)?;
                    progress.run_done();
                    Ok(())
                })
        })?;
        progress.finish();
        Ok(())
    }
}

/// `Display` of an error and its causes, joined by `: `.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// What [`merge`] did.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The sweep the folders hold.
    pub manifest: Manifest,
    /// Run files copied into the merged folder.
    pub copied: usize,
}

/// Checks that the folders `dirs` hold the same sweep and copies their run files into
/// `out` (keeping those already there). [`finish`] then writes `sweep.csv`.
pub fn merge(dirs: &[impl AsRef<Path>], out: &Path) -> Result<Merged> {
    let mut manifest: Option<(Manifest, &Path)> = None;
    for dir in dirs.iter().map(AsRef::as_ref) {
        let m = read_manifest(dir)?
            .ok_or_else(|| invalid!("{}: no {MANIFEST}: not a sweep folder", dir.display()))?;
        match &manifest {
            None => manifest = Some((m, dir)),
            Some((first, first_dir)) if *first != m => bail!(
                "{} and {} hold different sweeps (their {MANIFEST} differ)",
                first_dir.display(),
                dir.display()
            ),
            Some(_) => {}
        }
    }
    let Some((manifest, _)) = manifest else {
        bail!("no folders to merge");
    };
    let runs_dir = out.join(RUNS);
    fs::create_dir_all(&runs_dir)
        .with_context(|| format!("cannot create {}", runs_dir.display()))?;
    claim_folder(out, &manifest)?;
    let n_cells = manifest.cells().len();
    let mut copied = 0usize;
    for r in manifest.runs(n_cells) {
        let dest = runs_dir.join(r.file_name());
        if dest.exists() {
            continue;
        }
        for dir in dirs.iter().map(AsRef::as_ref) {
            let src = dir.join(RUNS).join(r.file_name());
            if src.exists() {
                let bytes =
                    fs::read(&src).with_context(|| format!("cannot read {}", src.display()))?;
                reports::write_atomic_unsynced(&dest, &bytes)?;
                copied += 1;
                break;
            }
        }
    }
    Ok(Merged { manifest, copied })
}

/// `k=v, k=v` for messages (string values without quotes).
fn cell_label(settings: &[(&str, &str)]) -> String {
    if settings.is_empty() {
        return "(the scenario as it is)".into();
    }
    settings
        .iter()
        .map(|(k, v)| format!("{k}={}", grid::display_value(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn display_seed_text(t: &str) -> &str {
    if t.is_empty() {
        "(the scenario as it is)"
    } else {
        t
    }
}

/// What [`finish`] wrote.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The rows of `sweep.csv`, in grid order.
    pub rows: Vec<SweepRow>,
    /// The plots drawn (file stems).
    pub plots: Vec<String>,
}

/// Reads every run file of the sweep from `out/runs` and writes `sweep.csv`, its plots,
/// then `run.toml`. Fails, listing a few, if runs are missing.
pub fn finish(out: &Path, manifest: &Manifest, provenance: &Provenance) -> Result<Finished> {
    let runs_dir = out.join(RUNS);
    let cells = manifest.cells();
    let master = manifest.master_seed()?;
    let reps = manifest.replications;
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    let total = manifest.runs(cells.len()).len();
    for (c, settings) in cells.iter().enumerate() {
        let text = grid::seed_text(settings);
        let seed = grid::cell_seed(master, settings).to_string();
        for p in 0..manifest.policy_slots() {
            let mut per_rep: Vec<Vec<f64>> = Vec::new();
            let mut label: Option<String> = manifest.policies.get(p).cloned();
            for rep in 0..reps {
                let key = RunKey {
                    cell: c,
                    policy: p,
                    rep,
                };
                let path = runs_dir.join(key.file_name());
                let Some(rec) = read_run(&path)? else {
                    missing.push((cell_label(settings), p, rep));
                    continue;
                };
                if rec.cell != text || rec.replication != rep || rec.seed != seed {
                    bail!(
                        "{}: records cell `{}` replication {} seed {}, expected `{text}` {rep} {seed}",
                        path.display(),
                        rec.cell,
                        rec.replication,
                        rec.seed
                    );
                }
                match &label {
                    Some(l) if *l != rec.policy => bail!(
                        "{}: records policy {}, expected {l}",
                        path.display(),
                        rec.policy
                    ),
                    Some(_) => {}
                    None => label = Some(rec.policy.clone()),
                }
                per_rep.push(rec.values(&path)?);
            }
            let stats = (0..METRICS.len())
                .map(|m| {
                    let xs: Vec<f64> = per_rep.iter().map(|v| v[m]).collect();
                    grid::mean_ci(&xs)
                })
                .collect();
            rows.push(SweepRow {
                params: settings
                    .iter()
                    .map(|(_, v)| grid::display_value(v))
                    .collect(),
                policy: label.unwrap_or_default(),
                seed: seed.clone(),
                stats,
            });
        }
    }
    if !missing.is_empty() {
        let examples: Vec<String> = missing
            .iter()
            .take(3)
            .map(|(cell, p, r)| format!("[{cell}] policy #{p} replication {r}"))
            .collect();
        bail!(
            "{} of {total} runs are missing from {} (e.g. {}); run the missing shards, or \
             rerun the sweep into this folder to complete it",
            missing.len(),
            runs_dir.display(),
            examples.join("; ")
        );
    }
    // Old run.toml first, run.toml last (see `reports::folder`).
    let mut outputs = vec![SWEEP_CSV.to_string()];
    for name in reports::plots::params::sweep_plot_names() {
        outputs.extend([format!("{name}.svg"), format!("{name}.png")]);
    }
    reports::folder::begin(out, &outputs)?;
    let keys: Vec<&str> = manifest.axes.iter().map(|a| a.key.as_str()).collect();
    write_sweep_csv(&out.join(SWEEP_CSV), &keys, reps, &METRICS, &rows)?;
    let plots = reports::plots::params::plot_sweep(out)
        .with_context(|| format!("cannot draw the plots of {}", out.display()))?;
    let mut policies: Vec<String> = Vec::new();
    for r in &rows {
        if !policies.contains(&r.policy) {
            policies.push(r.policy.clone());
        }
    }
    write_run_toml(
        out,
        &provenance.run_info(manifest.scenario.clone(), master, reps, policies),
    )?;
    Ok(Finished {
        rows,
        plots: plots.into_iter().map(|p| p.name).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!(Shard::parse("0/4").unwrap(), Shard { index: 0, count: 4 });
        assert_eq!(Shard::parse("3/4").unwrap(), Shard { index: 3, count: 4 });
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("x").is_err());
    }
}
