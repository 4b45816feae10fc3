//! `vmsched compare` and `vmsched run`: flags, the comparison
//! ([`experiments::compare`]), the tables.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use experiments::Policy;
use experiments::compare::{CompareOptions, trace_decisions};
use workloads::scenario::Scenario;

use crate::progress::{Bar, provenance, say_plots};

/// Options shared by `compare` and `run`.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Master seed (overrides `[run] seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Replications per policy (overrides `[run] replications`).
    #[arg(long)]
    replications: Option<u64>,
    /// VM arrivals per replication (overrides `[run] vms`).
    #[arg(long)]
    vms: Option<u64>,
    /// Calibration profile from `vmsched calibrate`: sets every host's context-switch,
    /// VM-exit and first-touch costs and guest speed (overrides `[[hosts]] profile`).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Results folder.
    #[arg(long, default_value_os_t = crate::default_out())]
    out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Do not write vms.csv (one row per VM).
    #[arg(long)]
    no_vms: bool,
    /// Also write slices.csv (one row per CPU slice; for small runs).
    #[arg(long)]
    slices: bool,
    /// Do not draw plots next to the CSV files.
    #[arg(long)]
    pub no_plots: bool,
}

/// `vmsched compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario file (TOML). Without it, the built-in default (`vmsched scenario` prints it).
    scenario: Option<PathBuf>,
    /// Comma-separated policies: a CPU policy name (sets both levels) or ADMISSION/CPU.
    #[arg(long, default_value = "fcfs,sjf,priority", value_delimiter = ',')]
    policies: Vec<String>,
    #[command(flatten)]
    common: Common,
}

/// `vmsched run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Policy (overrides the file's `[admission]` and `[cpu]` policies).
    #[arg(long)]
    policy: Option<String>,
    /// Print every scheduling decision in plain words before the table (small runs: at
    /// most 200 VMs; runs replication 0 only).
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    common: Common,
}

pub fn compare(args: CompareArgs) -> Result<()> {
    let scenario = load_scenario(args.scenario.as_deref())?;
    let mut policies = Vec::new();
    for name in &args.policies {
        let name = name.trim();
        if !name.is_empty() {
            policies.push(Policy::parse(name)?);
        }
    }
    if policies.is_empty() {
        bail!("--policies is empty");
    }
    execute(scenario, policies, &args.common)
}

pub fn run(args: RunArgs) -> Result<()> {
    let scenario = load_scenario(Some(&args.scenario))?;
    let policy = match &args.policy {
        Some(p) => Policy::parse(p)?,
        None => Policy::of_scenario(&scenario),
    };
    if !args.trace {
        return execute(scenario, vec![policy], &args.common);
    }
    // Replication 0 only, traced in memory; the usual run (and table) follows.
    let mut common = args.common.clone();
    common.replications = Some(1);
    let mut sc = scenario.clone();
    apply_overrides(&mut sc, &common)?;
    out!("{}", trace_decisions(&sc, &policy)?);
    outln!();
    execute(scenario, vec![policy], &common)
}

/// Applies the calibration profile (`--profile` or `[[hosts]] profile`) and the
/// command-line overrides (`--seed`, `--replications`, `--vms`) to `scenario` and checks
/// the result.
fn apply_overrides(scenario: &mut Scenario, c: &Common) -> Result<()> {
    validate::profile::apply_scenario_profile(scenario, c.profile.as_deref())?;
    if let Some(s) = c.seed {
        scenario.run.seed = s;
    }
    if let Some(r) = c.replications {
        scenario.run.replications = r;
    }
    if let Some(v) = c.vms {
        scenario.set_vms(v);
    }
    scenario.validate()?;
    Ok(())
}

fn load_scenario(path: Option<&Path>) -> Result<Scenario> {
    match path {
        Some(p) => Ok(Scenario::load(p)?),
        None => Ok(Scenario::builtin_default()),
    }
}

fn execute(mut scenario: Scenario, policies: Vec<Policy>, c: &Common) -> Result<()> {
    apply_overrides(&mut scenario, c)?;
    let load = scenario
        .offered_load()
        .map(|l| format!(", offered load {:.1} %", 100.0 * l))
        .unwrap_or_default();
    eprintln!(
        "{} × {} replication(s) × {} policies{load}, seed {}",
        scenario.describe_workload(),
        scenario.run.replications,
        policies.len(),
        scenario.run.seed
    );
    let options = CompareOptions {
        out: c.out.clone(),
        threads: c.threads,
        vms_csv: !c.no_vms,
        slices_csv: c.slices,
        plots: !c.no_plots,
        provenance: provenance(),
    };
    let bar = Bar::new("{bar:30} {pos}/{len} runs, ETA {eta}");
    let outcome = experiments::compare::compare(&scenario, &policies, &options, &bar)?;
    say_plots(&outcome.plots);
    // On an SWF trace, the cluster's own waits as one more row (table only).
    let recorded = experiments::recorded::recorded_summary(&scenario)?;
    let mut table_rows = outcome.rows.clone();
    if let Some(r) = &recorded {
        table_rows.extend(reports::schema::summary_rows(
            experiments::recorded::RECORDED,
            std::slice::from_ref(r),
        ));
    }
    outln!("{}", reports::comparison_table(&table_rows));
    if recorded.is_some() {
        outln!("recorded: the waits the trace itself recorded (SWF field 3), for the same jobs\n");
    }
    if policies.len() == 1 || outcome.has_classes() {
        outln!("{}", reports::per_class_table(&outcome.rows));
    }
    if let Some(t) = &outcome.trace {
        eprintln!("trace {t}");
    }
    if outcome.rejected > 0 {
        eprintln!(
            "warning: {} VM(s) rejected (no host could ever hold them), e.g.:",
            outcome.rejected
        );
        for (id, why) in &outcome.rejected_examples {
            eprintln!("  VM {id}: {why}");
        }
    }
    eprintln!("results in {}", c.out.display());
    Ok(())
}
