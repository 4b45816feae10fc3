//! `vmsched.run` and `vmsched.sweep` in memory: the runs of a comparison or a sweep on a
//! thread pool, each keeping its per-VM rows and timeline samples in column vectors
//! (observers of the engine), concatenated in (policy, replication) order. The columns
//! hold the values the command's CSV files hold (times exact to the nanosecond as `f64`
//! seconds, `slowdown` and `cpu_utilization` rounded to six decimals as the files print
//! them; NaN for an empty cell), so a DataFrame equals the file as `pandas.read_csv` reads
//! it, without writing one.

use std::sync::atomic::{AtomicBool, Ordering};

use experiments::{Policy, Progress, grid};
use rayon::prelude::*;
use reports::schema::{CPU_SHARE_HEADER, SummaryRow, TIMELINE_HEADER, VMS_HEADER, summary_rows};
use sim::metrics::{Metrics, RunSummary};
use sim::{CpuShare, HostSample, Observer, SimTime, VmRecord};
use workloads::scenario::Scenario as Inner;

use crate::columns::Columns;
use crate::interrupt::{STOPPED, StopAt};

/// `x` as the six-decimal text of the CSV files, read back.
fn six(x: f64, buf: &mut String) -> f64 {
    use std::fmt::Write;
    buf.clear();
    let _ = write!(buf, "{x:.6}");
    buf.parse().unwrap_or(f64::NAN)
}

fn secs(t: SimTime) -> f64 {
    t.nanos() as f64 / 1e9
}

/// Per-VM rows as columns (the numeric columns of `vms.csv`, after policy and replication;
/// with `throttled_s` last when the scenario caps VMs, as in the file).
#[derive(Default)]
pub(crate) struct VmColumns {
    cols: Vec<Vec<f64>>,
    buf: String,
    throttled: bool,
}

const VM_NUMBERS: usize = VMS_HEADER.len() - 2;

impl VmColumns {
    fn new(throttled: bool) -> VmColumns {
        VmColumns {
            cols: vec![Vec::new(); VM_NUMBERS + usize::from(throttled)],
            buf: String::new(),
            throttled,
        }
    }
    fn rows(&self) -> usize {
        self.cols.first().map_or(0, Vec::len)
    }
}

impl Observer for VmColumns {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        let slowdown = six(r.slowdown(), &mut self.buf);
        let v = [
            r.id as f64,
            f64::from(r.host),
            f64::from(r.vcpus),
            r.memory_mib as f64,
            f64::from(r.priority),
            r.tenant.map_or(f64::NAN, f64::from),
            secs(r.arrival),
            secs(r.admission),
            secs(r.first_run),
            secs(r.finish),
            secs(r.service),
            secs(r.estimate),
            secs(r.queue_wait()),
            secs(r.ready_wait),
            secs(r.response()),
            secs(r.turnaround()),
            secs(r.wait()),
            slowdown,
            f64::from(r.preemptions),
            f64::from(u8::from(r.warmup)),
            secs(r.io_wait),
            secs(r.io_service),
            r.io_requests as f64,
            secs(r.fault_stall),
            r.minor_faults as f64,
            r.major_faults as f64,
            f64::from(r.migrations),
            f64::from(u8::from(r.stopped)),
        ];
        for (c, x) in self.cols.iter_mut().zip(v) {
            c.push(x);
        }
        if self.throttled {
            self.cols[VM_NUMBERS].push(secs(r.throttled));
        }
    }
}

/// Timeline samples as columns (the numeric columns of `timeline.csv`).
#[derive(Default)]
pub(crate) struct TimelineColumns {
    cols: Vec<Vec<f64>>,
    buf: String,
}

const TIMELINE_NUMBERS: usize = TIMELINE_HEADER.len() - 2;

impl TimelineColumns {
    fn new() -> TimelineColumns {
        TimelineColumns {
            cols: vec![Vec::new(); TIMELINE_NUMBERS],
            buf: String::new(),
        }
    }
    fn rows(&self) -> usize {
        self.cols.first().map_or(0, Vec::len)
    }
}

impl Observer for TimelineColumns {
    fn on_sample(&mut self, r: &HostSample) {
        let util = six(r.cpu_utilization, &mut self.buf);
        let v = [
            secs(r.time),
            f64::from(r.host),
            f64::from(r.busy_pcpus),
            util,
            r.ready_vcpus as f64,
            r.blocked_vcpus as f64,
            r.admitted_vms as f64,
            r.queued_vms as f64,
            r.working_set_mib as f64,
            r.resident_mib as f64,
            r.swap_ins as f64,
        ];
        for (c, x) in self.cols.iter_mut().zip(v) {
            c.push(x);
        }
    }
}

/// The rows of `cpu_share.csv` of one run as columns (time_s, vm, cpu_s, share; the
/// share rounded to six decimals as the file prints it).
fn cpu_share_columns(c: &CpuShare) -> (usize, Vec<Vec<f64>>) {
    let rows = c.rows();
    let mut buf = String::new();
    let cols = vec![
        rows.iter().map(|r| secs(r.time)).collect(),
        rows.iter().map(|r| r.vm as f64).collect(),
        rows.iter().map(|r| secs(r.cpu)).collect(),
        rows.iter().map(|r| six(r.share, &mut buf)).collect(),
    ];
    (rows.len(), cols)
}

/// What one (policy, replication) run kept.
struct JobOut {
    summary: RunSummary,
    vms: Option<VmColumns>,
    timeline: Option<TimelineColumns>,
    cpu_share: Option<(usize, Vec<Vec<f64>>)>,
}

/// What a comparison returns.
pub(crate) struct Compared {
    pub rows: Vec<SummaryRow>,
    pub rejected: u64,
    pub vms: Option<Columns>,
    pub timeline: Option<Columns>,
    pub cpu_share: Option<Columns>,
}

fn run_job(
    sc: &Inner,
    policy: &Policy,
    rep: u64,
    keep_vms: bool,
    stop: &AtomicBool,
) -> Result<JobOut, String> {
    if stop.load(Ordering::Relaxed) {
        return Err(STOPPED.into());
    }
    let ctx =
        |e: &dyn std::fmt::Display| format!("policy {}, replication {rep}: {e}", policy.label);
    let mut sc = sc.clone();
    policy.apply(&mut sc);
    let config = sc.sim_config_for(rep).map_err(|e| ctx(&e))?;
    let mut workload = sc.workload(rep).map_err(|e| ctx(&e))?;
    let mut metrics = Metrics::new();
    let mut vms = keep_vms.then(|| VmColumns::new(sc.workload.cpu_cap.is_some()));
    let mut timeline = config.timeline_interval.map(|_| TimelineColumns::new());
    let mut share = experiments::compare::cpu_share_account(&sc);
    let stats = {
        let mut obs = (
            (
                &mut metrics,
                experiments::observers::OptionObserver(share.as_mut()),
            ),
            (
                experiments::observers::OptionObserver(vms.as_mut()),
                experiments::observers::OptionObserver(timeline.as_mut()),
            ),
        );
        let mut source = StopAt {
            inner: &mut workload,
            stop,
            n: 0,
        };
        experiments::pipeline::read_ahead_write_behind(&mut source, &mut obs, |v, o| {
            sim::simulate_source(&config, v, o)
        })
        .map_err(|e| ctx(&e))?
    };
    if stop.load(Ordering::Relaxed) {
        return Err(STOPPED.into());
    }
    workload.finish().map_err(|e| ctx(&e))?;
    Ok(JobOut {
        summary: metrics.summary(&stats),
        vms,
        timeline,
        cpu_share: share.as_ref().map(cpu_share_columns),
    })
}

/// A thread pool of the requested size (`None`: one thread per core).
fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    let n = experiments::worker_threads(threads).map_err(|e| e.to_string())?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))
}

/// Every policy × replication of `sc` (its `[run]` section already overridden and
/// checked), as `vmsched compare` runs them; stops early once `stop` is set.
pub(crate) fn compare(
    sc: &Inner,
    policies: &[Policy],
    keep_vms: bool,
    threads: Option<usize>,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<Compared, String> {
    let config = sc.sim_config_for(0).map_err(|e| e.to_string())?;
    experiments::memory::check_fits_in_memory(&config).map_err(|e| e.to_string())?;
    let reps = sc.run.replications;
    let jobs: Vec<(usize, u64)> = (0..policies.len())
        .flat_map(|p| (0..reps).map(move |r| (p, r)))
        .collect();
    let pool = pool(threads)?;
    progress.start(jobs.len() as u64);
    let outs: Vec<Result<JobOut, String>> = pool.install(|| {
        jobs.par_iter()
            .with_max_len(1)
            .map(|&(p, r)| {
                let o = run_job(sc, &policies[p], r, keep_vms, stop);
                progress.run_done();
                o
            })
            .collect()
    });
    progress.finish();
    let mut by_policy: Vec<Vec<RunSummary>> = vec![Vec::new(); policies.len()];
    let mut vm_parts = Vec::new();
    let mut tl_parts = Vec::new();
    let mut share_parts = Vec::new();
    let mut rejected = 0;
    // A stop wins over any other error (it is what the caller reports).
    if stop.load(Ordering::Relaxed) {
        return Err(STOPPED.into());
    }
    for (&(p, r), out) in jobs.iter().zip(outs) {
        let out = out?;
        rejected += out.summary.stats.rejected;
        by_policy[p].push(out.summary);
        let label = policies[p].label.as_str();
        if let Some(v) = out.vms {
            vm_parts.push((label, r, v));
        }
        if let Some(t) = out.timeline {
            tl_parts.push((label, r, t));
        }
        if let Some(c) = out.cpu_share {
            share_parts.push((label, r, c));
        }
    }
    let rows = policies
        .iter()
        .zip(&by_policy)
        .flat_map(|(policy, runs)| summary_rows(&policy.label, runs))
        .collect();
    let vms = keep_vms.then(|| {
        let n = vm_parts.iter().map(|(_, _, v)| v.rows()).sum();
        let mut header = VMS_HEADER.to_vec();
        if sc.workload.cpu_cap.is_some() {
            header.push(reports::schema::VMS_THROTTLED_COLUMN);
        }
        concat(
            &header,
            n,
            vm_parts.iter().map(|(l, r, v)| (*l, *r, v.rows(), &v.cols)),
        )
    });
    let timeline = sc.run.timeline_s.is_some().then(|| {
        let n = tl_parts.iter().map(|(_, _, t)| t.rows()).sum();
        concat(
            &TIMELINE_HEADER,
            n,
            tl_parts.iter().map(|(l, r, t)| (*l, *r, t.rows(), &t.cols)),
        )
    });
    let cpu_share = experiments::compare::cpu_share_account(sc)
        .is_some()
        .then(|| {
            let n = share_parts.iter().map(|(_, _, (rows, _))| rows).sum();
            concat(
                &CPU_SHARE_HEADER,
                n,
                share_parts
                    .iter()
                    .map(|(l, r, (rows, cols))| (*l, *r, *rows, cols)),
            )
        });
    Ok(Compared {
        rows,
        rejected,
        vms,
        timeline,
        cpu_share,
    })
}

/// The runs' columns one after another, labelled with policy and replication (header
/// `header`: policy, replication, then the numeric columns; NaN where the file has an
/// empty cell: `tenant` without a tenant).
fn concat<'a>(
    header: &[&str],
    n: usize,
    parts: impl Iterator<Item = (&'a str, u64, usize, &'a Vec<Vec<f64>>)> + Clone,
) -> Columns {
    let mut c = Columns::default();
    let mut policy = Vec::with_capacity(n);
    let mut rep = Vec::with_capacity(n);
    for (l, r, rows, _) in parts.clone() {
        policy.extend(std::iter::repeat_n(l.to_string(), rows));
        rep.extend(std::iter::repeat_n(r as f64, rows));
    }
    c.text(header[0], policy);
    c.float(header[1], rep);
    for (i, name) in header[2..].iter().enumerate() {
        let mut col = Vec::with_capacity(n);
        for (_, _, _, cols) in parts.clone() {
            col.extend_from_slice(&cols[i]);
        }
        c.float(name, col);
    }
    c
}

/// The metrics of one sweep run ([`experiments::grid::run_metrics`], stoppable).
fn run_metrics(
    sc: &Inner,
    policy: &Policy,
    rep: u64,
    stop: &AtomicBool,
) -> Result<Vec<f64>, String> {
    if stop.load(Ordering::Relaxed) {
        return Err(STOPPED.into());
    }
    let mut sc = sc.clone();
    policy.apply(&mut sc);
    let config = sc.sim_config_for(rep).map_err(|e| e.to_string())?;
    let mut workload = sc.workload(rep).map_err(|e| e.to_string())?;
    let mut metrics = Metrics::new();
    let stats = {
        let mut source = StopAt {
            inner: &mut workload,
            stop,
            n: 0,
        };
        experiments::pipeline::read_ahead_write_behind(&mut source, &mut metrics, |v, o| {
            sim::simulate_source(&config, v, o)
        })
        .map_err(|e| e.to_string())?
    };
    if stop.load(Ordering::Relaxed) {
        return Err(STOPPED.into());
    }
    workload.finish().map_err(|e| e.to_string())?;
    Ok(metrics.summary(&stats).metric_values().to_vec())
}

/// One row of a sweep: the axes' display values, the policy label, the cell's seed and
/// `(mean, 95 % half-width)` per metric.
pub(crate) type SweepRow = reports::schema::SweepRow;

/// Every cell × policy × replication of a planned sweep, in memory (the rows of
/// `sweep.csv`, in grid order); stops early once `stop` is set.
pub(crate) fn sweep(
    base: &Inner,
    manifest: &experiments::sweep::Manifest,
    policies: Option<&[Policy]>,
    threads: Option<usize>,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<Vec<SweepRow>, String> {
    let master = manifest.master_seed().map_err(|e| e.to_string())?;
    let settings = manifest.cells();
    let mut cells = Vec::with_capacity(settings.len());
    for s in &settings {
        let mut sc = grid::apply(base, s).map_err(|e| e.to_string())?;
        sc.run.seed = grid::cell_seed(master, s);
        let pols = match policies {
            Some(p) => p.to_vec(),
            None => vec![Policy::of_scenario(&sc)],
        };
        cells.push((sc, pols));
    }
    let reps = manifest.replications;
    let jobs: Vec<(usize, usize, u64)> = cells
        .iter()
        .enumerate()
        .flat_map(|(c, (_, pols))| {
            (0..pols.len()).flat_map(move |p| (0..reps).map(move |r| (c, p, r)))
        })
        .collect();
    let pool = pool(threads)?;
    progress.start(jobs.len() as u64);
    let outs: Vec<Result<Vec<f64>, String>> = pool.install(|| {
        jobs.par_iter()
            .with_max_len(1)
            .map(|&(c, p, r)| {
                let (sc, pols) = &cells[c];
                let o = run_metrics(sc, &pols[p], r, stop).map_err(|e| {
                    format!(
                        "cell {}, policy {}, replication {r}: {e}",
                        grid::seed_text(&settings[c]),
                        pols[p].label
                    )
                });
                progress.run_done();
                o
            })
            .collect()
    });
    progress.finish();
    if stop.load(Ordering::Relaxed) {
        return Err(STOPPED.into());
    }
    let mut outs = outs.into_iter();
    let mut rows = Vec::new();
    for (c, (sc, pols)) in cells.iter().enumerate() {
        for p in pols {
            let mut per_rep = Vec::with_capacity(reps as usize);
            for _ in 0..reps {
                per_rep.push(outs.next().ok_or("a sweep run is missing")??);
            }
            let stats = (0..grid::METRICS.len())
                .map(|m| grid::mean_ci(&per_rep.iter().map(|v| v[m]).collect::<Vec<f64>>()))
                .collect();
            rows.push(SweepRow {
                params: settings[c]
                    .iter()
                    .map(|(_, v)| grid::display_value(v))
                    .collect(),
                policy: p.label.clone(),
                seed: sc.run.seed.to_string(),
                stats,
            });
        }
    }
    Ok(rows)
}
