//! Comparing policies on a scenario: every policy × replication run in parallel, the
//! results written to a folder (`summary.csv`, `vms.csv`, `slices.csv`, `timeline.csv`,
//! `devices.csv`, `cpu_share.csv`, plots, `run.toml`) and summarised in [`SummaryRow`]s.
//!
//! Each run writes its per-VM rows into a part file of its own in a private folder; the
//! parts are then concatenated in (policy, replication) order, so the files are the same
//! bytes whatever the number of threads and whichever run finished first.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use reports::schema::{
    CPU_SHARE_CSV, CpuShareCsv, DEVICES_CSV, ENERGY_CSV, MIGRATION_SUMMARY_CSV,
    MIGRATION_SUMMARY_HEADER, MIGRATIONS_CSV, MIGRATIONS_HEADER, POWER_CSV, RunInfo, SLICES_CSV,
    SUMMARY_CSV, SummaryRow, TIMELINE_CSV, VMS_CSV, energy_rows, migration_rows,
    migration_summary_row, summary_rows, write_energy_csv, write_rows_csv, write_run_toml,
    write_summary_csv,
};
use reports::{AtomicFile, SlicesCsv, TimelineCsv, VmsCsv};
use sim::metrics::{Metrics, RunSummary};
use workloads::scenario::Scenario;

use crate::error::{Context, Result, bail};
use crate::observers::{OptionObserver, Rejections};
use crate::{Policy, Progress, Provenance};

/// The most VMs [`trace_decisions`] accepts: the trace has a line per decision.
pub const MAX_TRACE_VMS: usize = 200;

/// Where and what a comparison writes.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// The results folder (created if needed).
    pub out: PathBuf,
    /// Worker threads (`None`: one per core). The results do not depend on it.
    pub threads: Option<usize>,
    /// Write `vms.csv` (one row per VM).
    pub vms_csv: bool,
    /// Write `slices.csv` (one row per CPU slice; for small runs).
    pub slices_csv: bool,
    /// Draw the plots next to the CSV files.
    pub plots: bool,
    /// What `run.toml` records about the program and the command.
    pub provenance: Provenance,
}

/// What a comparison found.
#[derive(Clone, Debug)]
pub struct CompareOutcome {
    /// The rows of `summary.csv`: per policy, replication and class, then the means.
    pub rows: Vec<SummaryRow>,
    /// VMs rejected over all runs (no host could ever hold them).
    pub rejected: u64,
    /// The first few rejected VMs of one run: `(VM id, reason)`.
    pub rejected_examples: Vec<(u64, String)>,
    /// What the trace reader read and skipped (`None` for a synthetic workload).
    pub trace: Option<workloads::trace::TraceReport>,
    /// The plots drawn (file stems), if any.
    pub plots: Vec<String>,
}

impl CompareOutcome {
    /// Whether the rows have classes besides "all" (a per-class table is worth printing).
    pub fn has_classes(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.class != sim::metrics::Class::All)
    }
}

/// What one (policy, replication) run produced.
struct RunOutput {
    summary: RunSummary,
    rejected_examples: Vec<(u64, String)>,
    trace: Option<workloads::trace::TraceReport>,
}

/// Runs every policy of `policies` for the scenario's replications (its `[run]` section:
/// seed, replications, VMs; already checked) and writes the results folder
/// `options.out`. Replication `r` of every policy sees the same VMs.
pub fn compare(
    scenario: &Scenario,
    policies: &[Policy],
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<CompareOutcome> {
    if policies.is_empty() {
        bail!("--policies is empty");
    }
    crate::memory::check_fits_in_memory(&scenario.sim_config_for(0)?)?;
    let out = &options.out;
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // Parts are written in a private folder and merged in a fixed order, so the output does
    // not depend on which thread finished first. Killed runs may have left theirs.
    reports::folder::remove_stale_parts(out);
    let parts = tempfile::Builder::new()
        .prefix(reports::folder::PARTS_PREFIX)
        .tempdir_in(out)
        .with_context(|| format!("cannot create a temporary folder in {}", out.display()))?;
    let reps = scenario.run.replications;
    let jobs: Vec<(usize, u64)> = (0..policies.len())
        .flat_map(|p| (0..reps).map(move |r| (p, r)))
        .collect();

    let pool = crate::thread_pool(options.threads)?;
    progress.start(jobs.len() as u64);
    let outputs: Vec<Result<RunOutput>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(p, r)| {
                let id = job_id(p, r);
                let out = run_one(scenario, &policies[p], r, parts.path(), &id, options);
                progress.run_done();
                out
            })
            .collect()
    });
    progress.finish();
    let mut by_policy: Vec<Vec<RunSummary>> = vec![Vec::new(); policies.len()];
    let mut rejected = 0;
    let mut rejected_examples = Vec::new();
    let mut trace = None;
    for ((p, _), out) in jobs.iter().zip(outputs) {
        let out = out?;
        if trace.is_none() {
            trace = out.trace;
        }
        rejected += out.summary.stats.rejected;
        if rejected_examples.is_empty() {
            rejected_examples = out.rejected_examples;
        }
        by_policy[*p].push(out.summary);
    }
    let rows: Vec<SummaryRow> = policies
        .iter()
        .zip(&by_policy)
        .flat_map(|(policy, runs)| summary_rows(&policy.label, runs))
        .collect();

    // The old run.toml and files go first, then the data files and plots, run.toml last:
    // its presence marks a complete folder (see `reports::folder`).
    reports::folder::begin(out, &reports::folder::results_files())?;
    write_summary_csv(out.join(SUMMARY_CSV), &rows)?;
    if options.vms_csv {
        merge_parts(parts.path(), "vms", &jobs, &out.join(VMS_CSV))?;
    }
    if options.slices_csv {
        merge_parts(parts.path(), "slices", &jobs, &out.join(SLICES_CSV))?;
    }
    if cpu_share_account(scenario).is_some() {
        merge_parts(parts.path(), "cpu_share", &jobs, &out.join(CPU_SHARE_CSV))?;
    }
    if scenario.run.timeline_s.is_some() {
        merge_parts(parts.path(), "timeline", &jobs, &out.join(TIMELINE_CSV))?;
        merge_parts(parts.path(), "devices", &jobs, &out.join(DEVICES_CSV))?;
        if wants_power_csv(&scenario.sim_config_for(0)?) {
            merge_parts(parts.path(), "power", &jobs, &out.join(POWER_CSV))?;
        }
    }
    // Only a scenario with datacenter operations gets `energy.csv` (the files of every
    // other scenario stay as they were).
    if by_policy
        .iter()
        .flatten()
        .any(|r| r.stats.datacenter.tracked())
    {
        let mut energy = Vec::new();
        for ((p, r), _) in jobs.iter().zip(0..) {
            let run = &by_policy[*p][*r as usize];
            energy.extend(energy_rows(&policies[*p].label, *r, run));
        }
        write_energy_csv(out.join(ENERGY_CSV), &energy)?;
    }
    // Only a scenario with live migration gets `migrations.csv` and
    // `migration_summary.csv`.
    if by_policy
        .iter()
        .flatten()
        .any(|r| r.stats.datacenter.migration.configured)
    {
        let (mut rows, mut summary) = (Vec::new(), Vec::new());
        for ((p, r), _) in jobs.iter().zip(0..) {
            let run = &by_policy[*p][*r as usize];
            rows.extend(migration_rows(&policies[*p].label, *r, run));
            summary.push(migration_summary_row(&policies[*p].label, *r, run));
        }
        write_rows_csv(out.join(MIGRATIONS_CSV), &MIGRATIONS_HEADER, &rows)?;
        write_rows_csv(
            out.join(MIGRATION_SUMMARY_CSV),
            &MIGRATION_SUMMARY_HEADER,
            &summary,
        )?;
    }
    let scenario_toml = scenario.to_toml_string();
    let plots = if options.plots {
        let pcpus = reports::plots::scenario_pcpus(&scenario_toml);
        reports::plots::plot_results_dir_with(out, pcpus)
            .with_context(|| format!("cannot draw the plots of {}", out.display()))?
            .into_iter()
            .map(|p| p.name)
            .collect()
    } else {
        Vec::new()
    };
    write_run_toml(
        out,
        &options.provenance.run_info(
            scenario_toml,
            scenario.run.seed,
            reps,
            policies.iter().map(|p| p.label.clone()).collect(),
        ),
    )?;
    Ok(CompareOutcome {
        rows,
        rejected,
        rejected_examples,
        trace,
        plots,
    })
}

impl Provenance {
    /// The `run.toml` record of an experiment with these parameters.
    pub fn run_info(
        &self,
        scenario_toml: String,
        seed: u64,
        replications: u64,
        policies: Vec<String>,
    ) -> RunInfo {
        RunInfo {
            scenario_toml,
            seed,
            replications,
            policies,
            version: self.version.clone(),
            git_revision: self.git_revision.clone(),
            command: self.command.clone(),
        }
    }
}

/// Runs replication 0 of `scenario` under `policy` in memory and returns the plain-words
/// trace of its scheduling decisions (VMs named `VM<id>`, times in seconds). Refuses a
/// workload of more than [`MAX_TRACE_VMS`] VMs.
pub fn trace_decisions(scenario: &Scenario, policy: &Policy) -> Result<String> {
    let mut sc = scenario.clone();
    policy.apply(&mut sc);
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
        .with_context(|| format!("policy {}, replication 0", policy.label))?;
    let mut text = reports::trace::trace_text_by_id(
        &policy.cpu,
        &procs,
        &collected.slices,
        &collected.decisions,
    );
    if !collected.admission_notes.is_empty() {
        text.push_str("\nBackfilling (admission):\n");
        text.push_str(&reports::backfill_trace::backfill_text(
            &collected.admission_notes,
        ));
    }
    Ok(text)
}

/// Whether a run of `config` writes `power.csv` beside its timeline: with a power model
/// or any datacenter operation.
fn wants_power_csv(config: &sim::SimConfig) -> bool {
    config.datacenter.any()
        || config
            .cluster
            .hosts
            .groups()
            .any(|(h, _)| h.resources.power.is_some())
}

/// The account behind `cpu_share.csv`, if a run of `scenario` writes one: with the
/// interval `[run] cpu_share_s` when set, else with an interval of its own choosing
/// ([`sim::CpuShare::auto`]) when the scenario sets weights (`weight`, `nice`) or a CPU
/// cap, else none.
pub fn cpu_share_account(scenario: &Scenario) -> Option<sim::CpuShare> {
    let w = &scenario.workload;
    match scenario.run.cpu_share_s {
        Some(t) => Some(sim::CpuShare::new(
            sim::SimTime::from_secs_f64(t).unwrap_or(sim::SimTime(1)),
        )),
        None if w.weight.is_some() || w.nice.is_some() || w.cpu_cap.is_some() => {
            Some(sim::CpuShare::auto())
        }
        None => None,
    }
}

fn job_id(p: usize, r: u64) -> String {
    format!("{p:04}-{r:06}")
}

fn run_one(
    scenario: &Scenario,
    policy: &Policy,
    replication: u64,
    parts: &Path,
    id: &str,
    options: &CompareOptions,
) -> Result<RunOutput> {
    let mut sc = scenario.clone();
    policy.apply(&mut sc);
    let config = sc.sim_config_for(replication)?;
    let mut workload = sc.workload(replication)?;
    let mut metrics = Metrics::new();
    let mut rejections = Rejections::default();
    let mut vms = if options.vms_csv {
        let path = parts.join(format!("vms-{id}.csv"));
        // (`throttled_s` only when caps are configured, `downtime_s` only when VMs can
        // migrate: other files keep their columns.)
        let mut w = VmsCsv::create_with(
            path,
            sc.workload.cpu_cap.is_some(),
            config.datacenter.migration.is_some(),
        )?;
        w.set_run(&policy.label, replication);
        Some(w)
    } else {
        None
    };
    let mut slices = if options.slices_csv {
        let mut w = SlicesCsv::create(parts.join(format!("slices-{id}.csv")))?;
        w.set_run(&policy.label, replication);
        Some(w)
    } else {
        None
    };
    let mut timeline = if config.timeline_interval.is_some() {
        let mut w = TimelineCsv::create(
            parts.join(format!("timeline-{id}.csv")),
            parts.join(format!("devices-{id}.csv")),
        )?;
        if wants_power_csv(&config) {
            w = w.with_power(parts.join(format!("power-{id}.csv")))?;
        }
        w.set_run(&policy.label, replication);
        Some(w)
    } else {
        None
    };
    let mut share = match cpu_share_account(&sc) {
        Some(account) => {
            let mut w = CpuShareCsv::create(parts.join(format!("cpu_share-{id}.csv")), account)?;
            w.set_run(&policy.label, replication);
            Some(w)
        }
        None => None,
    };
    let stats = {
        let mut files = (
            (
                OptionObserver(vms.as_mut()),
                OptionObserver(timeline.as_mut()),
            ),
            (
                OptionObserver(slices.as_mut()),
                OptionObserver(share.as_mut()),
            ),
        );
        let mut obs = ((&mut metrics, &mut rejections), &mut files);
        // The workload is drawn (or the trace parsed) and the records kept and written on
        // two more threads, overlapping with the engine; the output is the same.
        crate::pipeline::read_ahead(&mut workload, |vms| {
            crate::pipeline::write_behind(&mut obs, |o| sim::simulate_source(&config, vms, o))
        })
        .with_context(|| format!("policy {}, replication {replication}", policy.label))?
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
    if let Some(w) = share {
        w.finish()?;
    }
    Ok(RunOutput {
        summary: metrics.summary(&stats),
        rejected_examples: rejections.examples,
        trace,
    })
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
