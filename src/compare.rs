//! `vmsched compare` and `vmsched run`: policies × replications in parallel, results to a
//! folder.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use reports::csv_out::{RunInfo, SummaryRow, summary_rows, write_run_toml, write_summary_csv};
use reports::{AtomicFile, SlicesCsv, TimelineCsv, VmsCsv};
use sim::metrics::{Metrics, RunSummary};
use sim::policy::{policy_label, split_policy_name};
use workloads::scenario::Scenario;

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

/// The most VMs `vmsched run --trace` accepts: the trace has a line per decision.
pub const MAX_TRACE_VMS: usize = 200;

/// One policy to run: its label and the two levels.
#[derive(Clone, Debug)]
struct PolicyPair {
    label: String,
    admission: String,
    cpu: String,
}

pub fn compare(args: CompareArgs) -> Result<()> {
    let scenario = load_scenario(args.scenario.as_deref())?;
    let mut pairs = Vec::new();
    for name in &args.policies {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        let (admission, cpu) = split_policy_name(name)?;
        pairs.push(PolicyPair {
            label: policy_label(&admission, &cpu),
            admission,
            cpu,
        });
    }
    if pairs.is_empty() {
        bail!("--policies is empty");
    }
    execute(scenario, pairs, &args.common, command_line())
}

pub fn run(args: RunArgs) -> Result<()> {
    let scenario = load_scenario(Some(&args.scenario))?;
    let (admission, cpu) = match &args.policy {
        Some(p) => split_policy_name(p)?,
        None => (
            scenario.admission.policy.clone(),
            scenario.cpu.policy.clone(),
        ),
    };
    let pair = PolicyPair {
        label: policy_label(&admission, &cpu),
        admission,
        cpu,
    };
    if !args.trace {
        return execute(scenario, vec![pair], &args.common, command_line());
    }
    // Replication 0 only, traced in memory; the usual run (and table) follows.
    let mut common = args.common.clone();
    common.replications = Some(1);
    let mut sc = scenario.clone();
    apply_overrides(&mut sc, &common)?;
    print!("{}", trace_run(&sc, &pair)?);
    println!();
    execute(scenario, vec![pair], &common, command_line())
}

/// Runs replication 0 of `scenario` under `pair` in memory and returns the plain-words
/// trace of its scheduling decisions (VMs named `VM<id>`, times in seconds). Refuses a
/// workload of more than [`MAX_TRACE_VMS`] VMs.
fn trace_run(scenario: &Scenario, pair: &PolicyPair) -> Result<String> {
    let mut sc = scenario.clone();
    sc.set_policy(&pair.admission, &pair.cpu);
    let config = sc.sim_config_for(0)?;
    let mut workload = sc.workload(0)?;
    let requests: Vec<sim::VmRequest> = workload.by_ref().take(MAX_TRACE_VMS + 1).collect();
    if requests.len() > MAX_TRACE_VMS {
        bail!(
            "--trace is for small runs: this workload has more than {MAX_TRACE_VMS} VMs; \
             use --vms {MAX_TRACE_VMS} (or fewer)"
        );
    }
    workload.finish()?;
    let procs: Vec<(u64, reports::trace::TraceProcess)> = requests
        .iter()
        .map(|r| {
            let p = reports::trace::TraceProcess {
                name: format!("VM{}", r.id),
                arrival: r.arrival,
                burst: r.estimate,
                priority: r.priority,
            };
            (r.id, p)
        })
        .collect();
    let mut collected = sim::observer::Collect {
        keep_decisions: true,
        ..Default::default()
    };
    sim::simulate(&config, requests, &mut collected)
        .with_context(|| format!("policy {}, replication 0", pair.label))?;
    Ok(reports::trace::trace_text_by_id(
        &pair.cpu,
        &procs,
        &collected.slices,
        &collected.decisions,
    ))
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

fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

fn load_scenario(path: Option<&Path>) -> Result<Scenario> {
    match path {
        Some(p) => Ok(Scenario::load(p)?),
        None => Ok(Scenario::builtin_default()),
    }
}

/// What one (policy, replication) run produced.
struct RunOutput {
    summary: RunSummary,
    rejected_examples: Vec<(u64, String)>,
    /// What a trace reader read and skipped (`None` for a synthetic workload).
    trace: Option<workloads::trace::TraceReport>,
}

/// Counts rejected VMs and keeps the first few reasons.
#[derive(Default)]
struct Rejections(Vec<(u64, String)>);
impl sim::Observer for Rejections {
    fn on_vm_rejected(&mut self, id: u64, reason: &str) {
        if self.0.len() < 3 {
            self.0.push((id, reason.to_string()));
        }
    }
}

fn execute(
    mut scenario: Scenario,
    pairs: Vec<PolicyPair>,
    c: &Common,
    command: String,
) -> Result<()> {
    apply_overrides(&mut scenario, c)?;
    fs::create_dir_all(&c.out).with_context(|| format!("cannot create {}", c.out.display()))?;
    // Parts are written in a private folder and merged in a fixed order, so the output does
    // not depend on which thread finished first. Killed runs may have left theirs.
    reports::folder::remove_stale_parts(&c.out);
    let parts = tempfile::Builder::new()
        .prefix(reports::folder::PARTS_PREFIX)
        .tempdir_in(&c.out)
        .with_context(|| format!("cannot create a temporary folder in {}", c.out.display()))?;
    let reps = scenario.run.replications;
    let jobs: Vec<(usize, u64)> = (0..pairs.len())
        .flat_map(|p| (0..reps).map(move |r| (p, r)))
        .collect();

    let load = scenario
        .offered_load()
        .map(|l| format!(", offered load {:.1} %", 100.0 * l))
        .unwrap_or_default();
    eprintln!(
        "{} × {} replication(s) × {} policies{load}, seed {}",
        scenario.describe_workload(),
        reps,
        pairs.len(),
        scenario.run.seed
    );
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(crate::worker_threads(c.threads)?)
        .build()
        .context("cannot start worker threads")?;
    let outputs: Vec<Result<RunOutput>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(p, r)| {
                let out = run_one(&scenario, &pairs[p], r, parts.path(), job_id(p, r), c);
                bar.inc(1);
                out
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut by_policy: Vec<Vec<RunSummary>> = vec![Vec::new(); pairs.len()];
    let mut rejected = 0;
    let mut rejected_examples = Vec::new();
    let mut trace_report = None;
    for ((p, _), out) in jobs.iter().zip(outputs) {
        let out = out?;
        if trace_report.is_none() {
            trace_report = out.trace;
        }
        rejected += out.summary.stats.rejected;
        if rejected_examples.is_empty() {
            rejected_examples = out.rejected_examples;
        }
        by_policy[*p].push(out.summary);
    }
    let rows: Vec<SummaryRow> = pairs
        .iter()
        .zip(&by_policy)
        .flat_map(|(pair, runs)| summary_rows(&pair.label, runs))
        .collect();

    // The old run.toml and files go first, then the data files and plots, run.toml last:
    // its presence marks a complete folder (see `reports::folder`).
    reports::folder::begin(&c.out, &reports::folder::results_files())?;
    write_summary_csv(c.out.join("summary.csv"), &rows)?;
    if !c.no_vms {
        merge_parts(parts.path(), "vms", &jobs, &c.out.join("vms.csv"))?;
    }
    if c.slices {
        merge_parts(parts.path(), "slices", &jobs, &c.out.join("slices.csv"))?;
    }
    if scenario.run.timeline_s.is_some() {
        merge_parts(parts.path(), "timeline", &jobs, &c.out.join("timeline.csv"))?;
        merge_parts(parts.path(), "devices", &jobs, &c.out.join("devices.csv"))?;
    }
    let scenario_toml = scenario.to_toml_string();
    if !c.no_plots {
        crate::report::plots(&c.out, reports::plots::scenario_pcpus(&scenario_toml))?;
    }
    write_run_toml(
        &c.out,
        &RunInfo {
            scenario_toml,
            seed: scenario.run.seed,
            replications: reps,
            policies: pairs.iter().map(|p| p.label.clone()).collect(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_revision: option_env!("VMSCHED_GIT_REVISION").map(str::to_string),
            command,
        },
    )?;

    println!("{}", reports::comparison_table(&rows));
    if pairs.len() == 1 || scenario_has_classes(&rows) {
        println!("{}", reports::per_class_table(&rows));
    }
    if let Some(t) = trace_report {
        eprintln!("trace {t}");
    }
    if rejected > 0 {
        eprintln!("warning: {rejected} VM(s) rejected (no host could ever hold them), e.g.:");
        for (id, why) in rejected_examples {
            eprintln!("  VM {id}: {why}");
        }
    }
    eprintln!("results in {}", c.out.display());
    Ok(())
}

fn scenario_has_classes(rows: &[SummaryRow]) -> bool {
    rows.iter().any(|r| r.class != sim::metrics::Class::All)
}

fn job_id(p: usize, r: u64) -> String {
    format!("{p:04}-{r:06}")
}

fn run_one(
    scenario: &Scenario,
    pair: &PolicyPair,
    replication: u64,
    parts: &Path,
    id: String,
    c: &Common,
) -> Result<RunOutput> {
    let mut sc = scenario.clone();
    sc.set_policy(&pair.admission, &pair.cpu);
    let config = sc.sim_config_for(replication)?;
    let mut workload = sc.workload(replication)?;
    let mut metrics = Metrics::new();
    let mut rejections = Rejections::default();
    let mut vms = if c.no_vms {
        None
    } else {
        let mut w = VmsCsv::create(parts.join(format!("vms-{id}.csv")))?;
        w.set_run(&pair.label, replication);
        Some(w)
    };
    let mut slices = if c.slices {
        let mut w = SlicesCsv::create(parts.join(format!("slices-{id}.csv")))?;
        w.set_run(&pair.label, replication);
        Some(w)
    } else {
        None
    };
    let mut timeline = if config.timeline_interval.is_some() {
        let mut w = TimelineCsv::create(
            parts.join(format!("timeline-{id}.csv")),
            parts.join(format!("devices-{id}.csv")),
        )?;
        w.set_run(&pair.label, replication);
        Some(w)
    } else {
        None
    };
    let stats = {
        let mut files = (
            (
                OptionObserver(vms.as_mut()),
                OptionObserver(timeline.as_mut()),
            ),
            OptionObserver(slices.as_mut()),
        );
        let mut obs = ((&mut metrics, &mut rejections), &mut files);
        // The workload is drawn (or the trace parsed) and the records kept and written on
        // two more threads, overlapping with the engine; the output is the same.
        workloads::read_ahead::read_ahead(&mut workload, |vms| {
            sim::write_behind::write_behind(&mut obs, |o| sim::simulate_source(&config, vms, o))
        })
        .with_context(|| format!("policy {}, replication {replication}", pair.label))?
    };
    let trace = workload.finish()?;
    if let Some(w) = vms {
        w.finish()?;
    }
    if let Some(w) = slices {
        w.finish()?;
    }
    if let Some(w) = timeline {
        w.finish()?;
    }
    Ok(RunOutput {
        summary: metrics.summary(&stats),
        rejected_examples: rejections.0,
        trace,
    })
}

/// An optional observer.
struct OptionObserver<'a, T: sim::Observer>(Option<&'a mut T>);
impl<T: sim::Observer> sim::Observer for OptionObserver<'_, T> {
    fn on_vm_finished(&mut self, r: &sim::VmRecord) {
        if let Some(o) = self.0.as_mut() {
            o.on_vm_finished(r);
        }
    }
    fn on_sample(&mut self, s: &sim::HostSample) {
        if let Some(o) = self.0.as_mut() {
            o.on_sample(s);
        }
    }
    fn wants_slices(&self) -> bool {
        self.0.as_ref().is_some_and(|o| o.wants_slices())
    }
    fn on_slice(&mut self, s: &sim::SliceRecord) {
        if let Some(o) = self.0.as_mut() {
            o.on_slice(s);
        }
    }
}

/// Concatenates the per-run part files (`{kind}-{job}.csv`) in job order into `dest`,
/// keeping the first header only.
fn merge_parts(parts: &Path, kind: &str, jobs: &[(usize, u64)], dest: &Path) -> Result<()> {
    let mut out = AtomicFile::create(dest)?;
    {
        let mut w = BufWriter::new(&mut out);
        for (i, &(p, r)) in jobs.iter().enumerate() {
            let part = parts.join(format!("{kind}-{}.csv", job_id(p, r)));
            let f =
                fs::File::open(&part).with_context(|| format!("cannot read {}", part.display()))?;
            let mut lines = BufReader::new(f);
            let mut header = String::new();
            lines.read_line(&mut header)?;
            if i == 0 {
                w.write_all(header.as_bytes())?;
            }
            std::io::copy(&mut lines, &mut w)?;
        }
        w.flush()
            .with_context(|| format!("cannot write {}", dest.display()))?;
    }
    out.commit()?;
    Ok(())
}
