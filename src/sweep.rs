//! `vmsched sweep` and `vmsched merge`: flags, the sweep ([`experiments::sweep`]), the
//! table.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use experiments::sweep::{self, Manifest, Shard, Sweep};
use reports::schema::SWEEP_CSV;
use workloads::scenario::Scenario;

use crate::progress::{Bar, provenance, say_plots};

/// `vmsched sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file (TOML). Without it, the built-in default (`vmsched scenario`).
    scenario: Option<PathBuf>,
    /// An axis of the grid: a dotted key of the scenario and its values, e.g.
    /// `--set hosts.count=2,4,8` or `--set cluster.placement=first-fit,best-fit`.
    /// `hosts.KEY` sets every `[[hosts]]` group, `hosts.0.KEY` only the first. Repeat for
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
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let plan = Sweep::plan(&base, &args.set, args.policies.as_deref())?;
    let bar = Bar::new("{bar:30} {pos}/{len} runs, {elapsed} elapsed, ETA {eta}");
    let pending = plan.prepare(&args.out, shard, &bar)?;
    let manifest = plan.manifest();
    let shard_note = shard
        .map(|s| format!(", shard {}/{}: {} of them", s.index, s.count, pending.mine))
        .unwrap_or_default();
    eprintln!(
        "{} cell(s) × {} policy slot(s) × {} replication(s) = {} runs{shard_note}; \
         {} already done, {} to run, {}",
        plan.cell_count(),
        manifest.policy_slots(),
        manifest.replications,
        pending.total,
        pending.mine - pending.to_run(),
        pending.to_run(),
        plan.workload(),
    );
    plan.run(&args.out, &pending, args.threads, &bar)?;
    if let Some(s) = shard
        && s.count > 1
    {
        eprintln!(
            "shard {}/{} done in {}; combine the shards with `vmsched merge DIR… --out DIR`",
            s.index,
            s.count,
            args.out.display()
        );
        return Ok(());
    }
    finish(&args.out, manifest)
}

pub fn merge(args: MergeArgs) -> Result<()> {
    let merged = sweep::merge(&args.dirs, &args.out)?;
    eprintln!(
        "merged {} folder(s): {} run file(s) copied",
        args.dirs.len(),
        merged.copied
    );
    finish(&args.out, &merged.manifest)
}

/// Writes `sweep.csv`, its plots and `run.toml`, and prints the table.
fn finish(out: &std::path::Path, manifest: &Manifest) -> Result<()> {
    let done = sweep::finish(out, manifest, &provenance())?;
    out!("{}", sweep::table(manifest, &done.rows));
    eprintln!(
        "{} row(s) in {}",
        done.rows.len(),
        out.join(SWEEP_CSV).display()
    );
    say_plots(&done.plots);
    Ok(())
}
