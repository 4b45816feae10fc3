//! `vmsched capacity`: flags, the search ([`experiments::capacity`]), the table.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use experiments::capacity::CapacitySearch;
use workloads::scenario::Scenario;

use crate::progress::{Bar, provenance};

/// `vmsched capacity`.
#[derive(Args, Debug)]
pub struct CapacityArgs {
    /// Scenario file (TOML). Without it, the built-in default (`vmsched scenario`).
    scenario: Option<PathBuf>,
    /// The objective, `METRIC<=X` (or `<`, `>=`, `>`), e.g. `p95_wait_s<=30`; METRIC is a
    /// column of sweep.csv, over all VMs.
    #[arg(long)]
    slo: String,
    /// The integer key to search (a dotted key, as for `sweep --set`).
    #[arg(long, default_value = "hosts.count")]
    vary: String,
    /// Smallest value tried.
    #[arg(long, default_value_t = 1)]
    min: u64,
    /// Largest value tried.
    #[arg(long)]
    max: u64,
    /// Comma-separated load levels: factors of `workload.load_scale` (the arrival rate).
    #[arg(long, value_delimiter = ',', default_value = "1.0")]
    load_scale: Vec<f64>,
    /// Comma-separated policies (default: the scenario's own).
    #[arg(long, value_delimiter = ',')]
    policies: Option<Vec<String>>,
    /// Replications per value tried, at first (default: the scenario's, at least 3).
    #[arg(long)]
    replications: Option<u64>,
    /// Replications are doubled up to this many while the answer is not decisive
    /// (default: 4 × the first).
    #[arg(long)]
    max_replications: Option<u64>,
    /// Master seed (overrides `[run] seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// VM arrivals per run (overrides `[run] vms`).
    #[arg(long)]
    vms: Option<u64>,
    /// Results folder (capacity.csv, capacity.svg/.png, run.toml).
    #[arg(long, default_value = "capacity")]
    out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Do not draw the capacity curve.
    #[arg(long)]
    no_plots: bool,
}

pub fn capacity(args: CapacityArgs) -> Result<()> {
    let mut base = match &args.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::builtin_default(),
    };
    if let Some(s) = args.seed {
        base.run.seed = s;
    }
    if let Some(v) = args.vms {
        base.set_vms(v);
    }
    base.validate()?;
    let search = CapacitySearch::new(
        base,
        &args.slo,
        &args.vary,
        (args.min, args.max),
        &args.load_scale,
        args.policies.as_deref(),
        args.replications,
        args.max_replications,
    )?;
    eprintln!("{}", search.describe());
    let bar = Bar::new("{bar:30} {pos}/~{len} runs, {elapsed} elapsed, ETA ~{eta}");
    let answers = search.run(args.threads, &bar)?;
    search.write(&args.out, &answers, !args.no_plots, &provenance())?;
    out!("{}", search.table(&answers));
    for a in &answers {
        for n in &a.notes {
            eprintln!("warning: {} at load ×{}: {n}", a.policy, a.load_scale);
        }
    }
    eprintln!("results in {}", args.out.display());
    Ok(())
}
