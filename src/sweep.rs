//! `vmsched sweep` and `vmsched merge`: a cartesian grid of scenario parameters × policies ×
//! replications, run in parallel, resumable and shardable, summarised in `sweep.csv`.
//!
//! # The output folder
//! - `sweep.toml`: what the sweep is (format, master seed, replications, policies, axes and
//!   the base scenario). A rerun into the same folder must describe the same sweep; shards
//!   of one sweep all have the same `sweep.toml`. Threads and shards are not part of it.
//! - `runs/CCCCCC-PPP-RRRRR.toml`: one small file per finished run (cell, policy,
//!   replication), written under a temporary name and renamed, so a killed sweep leaves
//!   only whole files; a rerun skips the runs whose file is there.
//! - `sweep.csv`: one row per cell × policy (see [`write_sweep_csv`]), built only from the
//!   run files, in grid order. So it is the same bytes whatever the thread count, the
//!   shards, or the interruptions.
//! - `sweep_<metric>.svg/.png`: mean wait, p95 wait, mean turnaround and CPU utilisation
//!   against the first swept key, with 95 % confidence bands
//!   (`reports::plots::params`), drawn from `sweep.csv`.
//! - `run.toml`: the usual record of the command, written last.
//!
//! # Sharding
//! Runs are numbered in grid order (cell, then policy, then replication); shard `I/N`
//! (`I` from 0) runs those whose number is `I` modulo `N`, so every shard gets a mix of
//! cheap and costly cells. A shard writes `sweep.toml` and its run files but no
//! `sweep.csv`; `vmsched merge DIR…` checks that the folders hold the same sweep, copies
//! their run files into one folder and writes `sweep.csv` there.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use reports::csv_out::{RunInfo, write_run_toml};
use reports::{AtomicFile, write_atomic};
use serde::{Deserialize, Serialize};
use workloads::limits::{MAX_SWEEP_CELLS, MAX_SWEEP_RUNS};
use workloads::scenario::Scenario;

use crate::grid::{self, Axis, METRICS, Policy};

/// The version of the `sweep.toml` and run-file layout.
const FORMAT: u32 = 1;
/// File name of the sweep description.
pub(crate) const MANIFEST: &str = "sweep.toml";
/// Folder of the per-run files.
const RUNS: &str = "runs";
/// File name of the summary.
pub(crate) const SWEEP_CSV: &str = "sweep.csv";

/// `vmsched sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file (TOML). Without it, the built-in default (`vmsched scenario`).
    scenario: Option<PathBuf>,
    /// An axis of the grid: a dotted key of the scenario and its values, e.g.
    /// `--set hosts.count=2,4,8` or `--set cluster.placement=first-fit,best-fit`.
    /// `hosts.KEY` sets every [[hosts]] group, `hosts.0.KEY` only the first. Repeat for
    /// more axes; the grid is their cartesian product (the first axis varies slowest).
    #[arg(long = "set", value_name = "KEY=V1,V2,…")]
    set: Vec<String>,
    /// Comma-separated policies (a CPU policy name sets both levels, or ADMISSION/CPU).
    /// Without it, each cell runs the policies its scenario sets (so `cpu.policy` can be
    /// an axis).
    #[arg(long, value_delimiter = ',')]
    policies: Option<Vec<String>>,
    /// Replications per cell and policy (overrides `[run] replications`).
    #[arg(long)]
    replications: Option<u64>,
    /// Master seed (overrides `[run] seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// VM arrivals per run (overrides `[run] vms`).
    #[arg(long)]
    vms: Option<u64>,
    /// Results folder (reuse it to resume an interrupted sweep).
    #[arg(long, default_value = "sweep")]
    out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Run only shard I of N (I from 0): the runs whose number in grid order is I modulo N.
    /// Combine the shards' folders with `vmsched merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
}

/// `vmsched merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Folders written by `vmsched sweep … --shard I/N` (or partial sweeps) of one sweep.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Folder of the merged sweep (its runs/, sweep.csv and run.toml).
    #[arg(long, default_value = "sweep")]
    out: PathBuf,
}

/// What a sweep is: two folders with equal manifests hold runs of the same sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Layout version ([`FORMAT`]).
    format: u32,
    /// Master seed (a string: TOML integers stop at 2^63 − 1).
    seed: String,
    /// Replications per cell and policy.
    replications: u64,
    /// Policy labels; empty when each cell runs its scenario's own policy.
    policies: Vec<String>,
    /// The axes, in the order given.
    axes: Vec<Axis>,
    /// The base scenario (overrides applied), as TOML.
    scenario: String,
}

impl Manifest {
    fn policy_slots(&self) -> usize {
        self.policies.len().max(1)
    }

    /// The cells in grid order: each a list of `(key, canonical value)`.
    fn cells(&self) -> Vec<Vec<(&str, &str)>> {
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

    fn master_seed(&self) -> Result<u64> {
        self.seed
            .parse()
            .map_err(|_| anyhow!("{MANIFEST}: seed `{}` is not a number", self.seed))
    }

    /// Every run of the sweep in grid order.
    fn runs(&self, n_cells: usize) -> Vec<RunKey> {
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
struct RunKey {
    cell: usize,
    policy: usize,
    rep: u64,
}

impl RunKey {
    fn file_name(self) -> String {
        format!("{:06}-{:03}-{:05}.toml", self.cell, self.policy, self.rep)
    }
}

/// The content of one run file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RunRecord {
    /// The cell's seed text (`key=value; …`).
    cell: String,
    /// Policy label.
    policy: String,
    /// Replication.
    replication: u64,
    /// The cell's workload seed (a string: it may not fit a TOML integer).
    seed: String,
    /// The run's metrics ([`METRICS`]).
    metrics: BTreeMap<String, f64>,
}

impl RunRecord {
    fn values(&self, path: &Path) -> Result<Vec<f64>> {
        METRICS
            .iter()
            .map(|m| {
                self.metrics
                    .get(*m)
                    .copied()
                    .ok_or_else(|| anyhow!("{}: no `{m}` metric", path.display()))
            })
            .collect()
    }
}

/// Parses `I/N`.
fn parse_shard(s: &str) -> Result<(u64, u64)> {
    let err = || anyhow!("--shard {s}: expected I/N with 0 ≤ I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| err())?,
        n.trim().parse().map_err(|_| err())?,
    );
    if n == 0 || i >= n {
        return Err(err());
    }
    Ok((i, n))
}

/// A cell ready to run.
struct Cell {
    scenario: Scenario,
    seed_text: String,
    policies: Vec<Policy>,
}

pub fn sweep(args: SweepArgs) -> Result<()> {
    let mut base = match &args.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::builtin_default(),
    };
    if let Some(s) = args.seed {
        base.run.seed = s;
    }
    if let Some(r) = args.replications {
        base.run.replications = r;
    }
    if let Some(v) = args.vms {
        base.set_vms(v);
    }
    base.validate()?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;

    let mut axes: Vec<Axis> = Vec::new();
    for spec in &args.set {
        let axis = grid::parse_axis(spec)?;
        if axis.key == "run.replications" {
            bail!("--set run.replications: replications cannot vary; use --replications");
        }
        if axes.iter().any(|a| a.key == axis.key) {
            bail!("--set {}: the key is given twice", axis.key);
        }
        axes.push(axis);
    }
    let policies = args
        .policies
        .as_deref()
        .map(grid::parse_policies)
        .transpose()?;
    let manifest = Manifest {
        format: FORMAT,
        seed: base.run.seed.to_string(),
        replications: base.run.replications,
        policies: policies.iter().flatten().map(|p| p.label.clone()).collect(),
        axes,
        scenario: base.to_toml_string(),
    };

    // Every cell is built (and checked) before anything runs, so the grid is bounded first.
    let n_cells = (manifest.axes.iter()).fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64));
    let n_policies = policies.as_ref().map_or(1, |p| p.len() as u64);
    let n_runs = n_cells
        .saturating_mul(n_policies)
        .saturating_mul(manifest.replications);
    if n_cells > MAX_SWEEP_CELLS || n_runs > MAX_SWEEP_RUNS {
        bail!(
            "the grid has {n_cells} cells and {n_runs} runs; at most {MAX_SWEEP_CELLS} cells and \
             {MAX_SWEEP_RUNS} runs are supported (split it into several sweeps)"
        );
    }
    let master = base.run.seed;
    let mut cells = Vec::new();
    for settings in manifest.cells() {
        let text = grid::seed_text(&settings);
        let mut scenario = grid::apply(&base, &settings)
            .with_context(|| format!("sweep cell {}", cell_label(&settings)))?;
        scenario.run.seed = grid::cell_seed(master, &settings);
        let pols = match &policies {
            Some(p) => p.clone(),
            None => vec![grid::own_policy(&scenario)],
        };
        cells.push(Cell {
            scenario,
            seed_text: text,
            policies: pols,
        });
    }

    let out = &args.out;
    let runs_dir = out.join(RUNS);
    fs::create_dir_all(&runs_dir)
        .with_context(|| format!("cannot create {}", runs_dir.display()))?;
    claim_folder(out, &manifest)?;

    let all = manifest.runs(cells.len());
    let total = all.len();
    let mine: Vec<RunKey> = all
        .iter()
        .enumerate()
        .filter(|(k, _)| shard.is_none_or(|(i, n)| *k as u64 % n == i))
        .map(|(_, r)| *r)
        .collect();
    let expected = |r: RunKey| -> (String, String, u64) {
        let cell = &cells[r.cell];
        (
            cell.seed_text.clone(),
            cell.policies[r.policy].label.clone(),
            r.rep,
        )
    };
    let mut pending = Vec::new();
    for &r in &mine {
        let path = runs_dir.join(r.file_name());
        match read_run(&path) {
            Ok(Some(rec))
                if (rec.cell.clone(), rec.policy.clone(), rec.replication) == expected(r) => {}
            Ok(Some(_)) => {
                eprintln!(
                    "warning: {} belongs to another sweep; running it again",
                    path.display()
                );
                pending.push(r);
            }
            Ok(None) => pending.push(r),
            Err(e) => {
                eprintln!("warning: {e:#}; running it again");
                pending.push(r);
            }
        }
    }
    let shard_note = shard
        .map(|(i, n)| format!(", shard {i}/{n}: {} of them", mine.len()))
        .unwrap_or_default();
    eprintln!(
        "{} cell(s) × {} policy slot(s) × {} replication(s) = {total} runs{shard_note}; \
         {} already done, {} to run, {}",
        cells.len(),
        manifest.policy_slots(),
        manifest.replications,
        mine.len() - pending.len(),
        pending.len(),
        base.describe_workload(),
    );

    let bar = ProgressBar::new(pending.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs, {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(crate::worker_threads(args.threads)?)
        .build()
        .context("cannot start worker threads")?;
    pool.install(|| {
        // One run per task: runs differ in cost (an overloaded cell is slow), and stealing
        // single runs keeps both threads busy to the end.
        pending
            .par_iter()
            .with_max_len(1)
            .try_for_each(|&r| -> Result<()> {
                let cell = &cells[r.cell];
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
                bar.inc(1);
                Ok(())
            })
    })?;
    bar.finish_and_clear();

    if let Some((i, n)) = shard
        && n > 1
    {
        eprintln!(
            "shard {i}/{n} done in {}; combine the shards with `vmsched merge DIR… --out DIR`",
            out.display()
        );
        return Ok(());
    }
    finish(out, &manifest, &command_line())
}

pub fn merge(args: MergeArgs) -> Result<()> {
    let mut manifest: Option<(Manifest, &Path)> = None;
    for dir in &args.dirs {
        let m = read_manifest(dir)?
            .ok_or_else(|| anyhow!("{}: no {MANIFEST}: not a sweep folder", dir.display()))?;
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
    let out = &args.out;
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
        for dir in &args.dirs {
            let src = dir.join(RUNS).join(r.file_name());
            if src.exists() {
                let bytes =
                    fs::read(&src).with_context(|| format!("cannot read {}", src.display()))?;
                write_unsynced(&dest, &bytes)?;
                copied += 1;
                break;
            }
        }
    }
    eprintln!(
        "merged {} folder(s): {copied} run file(s) copied",
        args.dirs.len()
    );
    finish(out, &manifest, &command_line())
}

fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
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

/// Writes `sweep.toml` into a new folder, or checks that the folder's own describes the
/// same sweep.
fn claim_folder(out: &Path, manifest: &Manifest) -> Result<()> {
    match read_manifest(out)? {
        Some(existing) if existing == *manifest => Ok(()),
        Some(_) => bail!(
            "{} holds another sweep (its {MANIFEST} differs from this command's); \
             use another --out, or remove the folder",
            out.display()
        ),
        None => {
            let text = toml::to_string(manifest).context("cannot write the sweep description")?;
            write_atomic(out.join(MANIFEST), text.as_bytes())?;
            Ok(())
        }
    }
}

fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let m: Manifest = toml::from_str(&text).map_err(|e| {
        anyhow!(
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
/// sweep of 100,000 VMs each on this machine). After a crash of the whole machine a file
/// may be empty or garbled; [`read_run`] then fails to parse it and the sweep runs it
/// again, with a warning.
fn write_run(path: &Path, rec: &RunRecord) -> Result<()> {
    let text = toml::to_string(rec)
        .with_context(|| format!("cannot write the record of {}", path.display()))?;
    write_unsynced(path, text.as_bytes())
}

/// Writes `bytes` to a temporary file beside `path` and renames it to `path` (no sync).
fn write_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(reports::write_atomic_unsynced(path, bytes)?)
}

/// A run file, or `None` when it does not exist.
fn read_run(path: &Path) -> Result<Option<RunRecord>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        anyhow!(
            "{}: not a run record: {}",
            path.display(),
            e.message().trim_end()
        )
    })
}

/// One row of `sweep.csv`.
struct SweepRow {
    /// Display values of the axes.
    params: Vec<String>,
    policy: String,
    seed: String,
    /// `(mean, 95 % half-width)` per metric.
    stats: Vec<(f64, f64)>,
}

/// Reads every run file of the sweep from `out/runs` and writes `sweep.csv`, then
/// `run.toml`. Fails, listing a few, if runs are missing.
fn finish(out: &Path, manifest: &Manifest, command: &str) -> Result<()> {
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
    write_sweep_csv(&out.join(SWEEP_CSV), manifest, &rows)?;
    let plots = reports::plots::params::plot_sweep(out)
        .with_context(|| format!("cannot draw the plots of {}", out.display()))?;
    write_run_toml(
        out,
        &RunInfo {
            scenario_toml: manifest.scenario.clone(),
            seed: master,
            replications: reps,
            policies: {
                let mut ps: Vec<String> = Vec::new();
                for r in &rows {
                    if !ps.contains(&r.policy) {
                        ps.push(r.policy.clone());
                    }
                }
                ps
            },
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_revision: option_env!("VMSCHED_GIT_REVISION").map(str::to_string),
            command: command.to_string(),
        },
    )?;
    print_table(manifest, &rows);
    eprintln!("{} row(s) in {}", rows.len(), out.join(SWEEP_CSV).display());
    if !plots.is_empty() {
        let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
        eprintln!("plots (SVG and PNG): {}", names.join(", "));
    }
    Ok(())
}

/// A float with six decimals; empty for NaN (as in `summary.csv`).
fn fixed6(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
    }
}

/// Writes `sweep.csv`: the axes' keys (one column each, values as given, strings without
/// quotes), `policy`, `seed` (the cell's workload seed), `replications`, then for every
/// metric of [`METRICS`] its mean over replications and `<metric>_ci95`, the half-width
/// of its Student-t 95 % confidence interval (empty with one replication).
fn write_sweep_csv(path: &Path, manifest: &Manifest, rows: &[SweepRow]) -> Result<()> {
    let file = AtomicFile::create(path)?;
    let mut w = csv::Writer::from_writer(file);
    let mut header: Vec<String> = manifest.axes.iter().map(|a| a.key.clone()).collect();
    header.extend(["policy", "seed", "replications"].map(String::from));
    for m in METRICS {
        header.push(m.to_string());
        header.push(format!("{m}_ci95"));
    }
    let err = |e: csv::Error| anyhow!("cannot write {}: {e}", path.display());
    w.write_record(&header).map_err(err)?;
    for r in rows {
        let mut rec: Vec<String> = r.params.clone();
        rec.push(r.policy.clone());
        rec.push(r.seed.clone());
        rec.push(manifest.replications.to_string());
        for &(mean, hw) in &r.stats {
            rec.push(fixed6(mean));
            rec.push(fixed6(hw));
        }
        w.write_record(&rec).map_err(err)?;
    }
    let file = w
        .into_inner()
        .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    file.commit()?;
    Ok(())
}

/// Prints the main columns of `sweep.csv` as a table (the first 40 rows).
fn print_table(manifest: &Manifest, rows: &[SweepRow]) {
    let idx = |name: &str| METRICS.iter().position(|m| *m == name).unwrap_or(0);
    let (mw, p95, util) = (
        idx("mean_wait_s"),
        idx("p95_wait_s"),
        idx("cpu_utilization"),
    );
    let mut head: Vec<String> = manifest.axes.iter().map(|a| a.key.clone()).collect();
    head.extend(
        [
            "policy",
            "mean wait ± 95% CI",
            "p95 wait ± 95% CI",
            "util %",
        ]
        .map(String::from),
    );
    let mut table: Vec<Vec<String>> = vec![head];
    let pm = |(m, h): (f64, f64)| {
        if h.is_nan() {
            format!("{m:.3}")
        } else {
            format!("{m:.3} ± {h:.3}")
        }
    };
    for r in rows.iter().take(40) {
        let mut line = r.params.clone();
        line.push(r.policy.clone());
        line.push(pm(r.stats[mw]));
        line.push(pm(r.stats[p95]));
        line.push(format!("{:.1}", 100.0 * r.stats[util].0));
        table.push(line);
    }
    let cols = table[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            table
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, line) in table.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if c < manifest.axes.len() + 1 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        println!("{}", cells.join("  ").trim_end());
        if i == 0 {
            println!(
                "{}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * (cols - 1))
            );
        }
    }
    if rows.len() > 40 {
        println!("… {} more rows in {SWEEP_CSV}", rows.len() - 40);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("0/4").unwrap(), (0, 4));
        assert_eq!(parse_shard("3/4").unwrap(), (3, 4));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1/0").is_err());
        assert!(parse_shard("x").is_err());
    }

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
