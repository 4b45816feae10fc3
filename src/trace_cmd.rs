//! `vmsched trace stats` and `vmsched trace fit`: what a real trace looks like, and a
//! synthetic model of it as a scenario file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use reports::schema::csv_field;
use workloads::fit::{ArrivalModel, FitOptions, dist_inline, fit_trace, scenario_toml};
use workloads::trace::stats::{DEFAULT_RESERVOIR, TraceStats};
use workloads::trace::{TraceFormat, TraceReport, TraceSpec};

/// `vmsched trace`.
#[derive(Args, Debug)]
pub struct TraceArgs {
    #[command(subcommand)]
    command: TraceCommand,
}

#[derive(Subcommand, Debug)]
enum TraceCommand {
    /// Count, time span, arrival rate by hour, runtime and size distributions, priority mix.
    Stats(StatsArgs),
    /// Fit arrival and service models (exponential, log-normal, Weibull, Pareto,
    /// hyper-exponential), report the Kolmogorov–Smirnov distances, write a scenario.
    Fit(FitArgs),
}

/// The trace formats, for `--format`.
#[derive(Copy, Clone, Debug, ValueEnum)]
enum Format {
    Swf,
    Alibaba,
    Azure,
    Csv,
}

impl From<Format> for TraceFormat {
    fn from(f: Format) -> TraceFormat {
        match f {
            Format::Swf => TraceFormat::Swf,
            Format::Alibaba => TraceFormat::Alibaba,
            Format::Azure => TraceFormat::Azure,
            Format::Csv => TraceFormat::Csv,
        }
    }
}

/// How to read the trace (the same options as `[workload] trace = { … }`).
#[derive(Args, Debug)]
struct Input {
    /// The trace file (plain or gzip). For azure, the flavour file (`v1.test.txt`).
    file: PathBuf,
    /// Its format (default: guessed from the name: *.swf[.gz], *pod_list*, v1.*.txt,
    /// *.csv).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Skip malformed lines (counted) instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Multiply every time of the trace by this (e.g. 0.001 for milliseconds).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Read at most this many VMs.
    #[arg(long)]
    limit: Option<u64>,
    /// Reorder buffer, in records (0: any out-of-order record is an error).
    #[arg(long, default_value_t = workloads::trace::DEFAULT_REORDER_WINDOW)]
    reorder_window: u64,
    /// Priority class of a trace field value, FIELD:VALUE=CLASS (repeatable), e.g.
    /// queue:2=3 (swf: user, group, queue, partition; alibaba: qos; azure: flavour; csv:
    /// tenant, priority).
    #[arg(long = "priority-map", value_name = "FIELD:VALUE=CLASS")]
    priority_map: Vec<String>,
    /// alibaba: skip pods that request GPUs.
    #[arg(long)]
    cpu_only: bool,
    /// azure: the duration twin (default: the only `<stem>.c<horizon>.txt` beside FILE).
    #[arg(long)]
    durations: Option<PathBuf>,
    /// azure: the flavour map (default: flav_map.txt beside FILE).
    #[arg(long)]
    flavours: Option<PathBuf>,
    /// azure: the duration-bin map (default: the only *interval_map.txt beside FILE).
    #[arg(long)]
    intervals: Option<PathBuf>,
    /// Seed of the random positions inside Azure bins.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `vmsched trace stats`.
#[derive(Args, Debug)]
struct StatsArgs {
    #[command(flatten)]
    input: Input,
    /// Also write the statistics as CSV (`section,name,value` rows).
    #[arg(long, value_name = "OUT")]
    csv: Option<PathBuf>,
}

/// Arrival model of the written scenario.
#[derive(Copy, Clone, Debug, ValueEnum)]
enum Arrivals {
    /// The inter-arrival candidate with the smallest KS distance.
    Best,
    /// Diurnal Poisson from the hourly profile.
    Diurnal,
    /// The empirical inter-arrival distribution.
    Empirical,
}

/// `vmsched trace fit`.
#[derive(Args, Debug)]
struct FitArgs {
    #[command(flatten)]
    input: Input,
    /// Write the fitted scenario here (TOML).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Arrival model of the scenario.
    #[arg(long, value_enum, default_value_t = Arrivals::Best)]
    arrivals: Arrivals,
    /// Use the trace's empirical runtime distribution instead of the best fit.
    #[arg(long)]
    empirical_service: bool,
    /// Quantiles in an empirical table.
    #[arg(long, default_value_t = 201)]
    points: usize,
    /// Hosts in the scenario.
    #[arg(long, default_value_t = 1)]
    hosts: u32,
    /// pCPUs per host (default: the trace's MaxProcs header, else its largest VM).
    #[arg(long)]
    pcpus: Option<u32>,
    /// GiB per host (default: enough for the largest VM and for every pCPU at the trace's
    /// mean memory per vCPU).
    #[arg(long)]
    memory_gib: Option<f64>,
    /// Replications in the scenario.
    #[arg(long, default_value_t = 5)]
    replications: u64,
}

pub fn trace(a: TraceArgs) -> Result<()> {
    match a.command {
        TraceCommand::Stats(s) => stats(s),
        TraceCommand::Fit(f) => fit(f),
    }
}

impl Input {
    fn spec(&self) -> Result<TraceSpec> {
        let format = match self.format {
            Some(f) => f.into(),
            None => TraceFormat::guess(&self.file).with_context(|| {
                format!(
                    "cannot tell the format of {} from its name; give --format ({})",
                    self.file.display(),
                    TraceFormat::NAMES.join(", ")
                )
            })?,
        };
        let mut s = TraceSpec::new(format, self.file.display().to_string());
        s.lenient = self.lenient;
        s.time_scale = self.time_scale;
        s.limit = self.limit;
        s.reorder_window = self.reorder_window;
        s.cpu_only = self.cpu_only;
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        s.durations = path(&self.durations);
        s.flavours = path(&self.flavours);
        s.intervals = path(&self.intervals);
        for m in &self.priority_map {
            let Some((k, v)) = m.rsplit_once('=') else {
                bail!("--priority-map {m}: expected FIELD:VALUE=CLASS, e.g. queue:2=3");
            };
            let class: i32 = v
                .trim()
                .parse()
                .with_context(|| format!("--priority-map {m}: `{v}` is not an integer class"))?;
            s.priority_map.insert(k.trim().to_string(), class);
        }
        s.validate("trace")?;
        Ok(s)
    }
}

/// Reads the whole trace into statistics; returns them, the report and the seconds it
/// took. With `utc`, hours of day are UTC when the header gives `UnixStartTime` (the
/// header is read before the first record); otherwise they count from time 0.
fn read(input: &Input, utc: bool) -> Result<(TraceStats, TraceReport, f64)> {
    let spec = input.spec()?;
    let t0 = Instant::now();
    let mut reader = spec.open(None, input.seed, 0)?;
    let mut stats: Option<TraceStats> = None;
    while let Some(vm) = reader.next() {
        let vm = vm?;
        let st = match &mut stats {
            Some(s) => s,
            None => {
                let offset = if utc {
                    start_offset(&reader.report())
                } else {
                    None
                };
                stats.insert(TraceStats::new(DEFAULT_RESERVOIR, offset.unwrap_or(0.0)))
            }
        };
        st.push(&vm);
    }
    let secs = t0.elapsed().as_secs_f64();
    let stats = stats.unwrap_or_else(|| TraceStats::new(DEFAULT_RESERVOIR, 0.0));
    Ok((stats, reader.report(), secs))
}

/// `UnixStartTime` mod 86 400 from a report's header (UTC seconds of day at time 0).
fn start_offset(report: &TraceReport) -> Option<f64> {
    let t: f64 = report.header_value("UnixStartTime")?.parse().ok()?;
    Some(t.rem_euclid(86_400.0))
}

fn stats(a: StatsArgs) -> Result<()> {
    let (st, report, secs) = read(&a.input, true)?;
    let utc = start_offset(&report).is_some();
    out!("{}", stats_text(&st, &report, utc));
    outln!(
        "read {} records in {:.3} s = {:.2} M records/s",
        report.records,
        secs,
        report.records as f64 / secs / 1e6
    );
    if let Some(out) = &a.csv {
        write_atomic(out, &stats_csv(&st, &report, utc))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x.abs() >= 1e6 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

fn stats_text(st: &TraceStats, r: &TraceReport, utc: bool) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "trace {r}");
    for key in [
        "Version",
        "Installation",
        "MaxJobs",
        "MaxRecords",
        "MaxNodes",
        "MaxProcs",
        "UnixStartTime",
        "TimeZoneString",
        "StartTime",
        "EndTime",
        "MaxQueues",
        "Horizon",
        "Durations",
    ] {
        if let Some(v) = r.header_value(key) {
            let _ = writeln!(t, "  {key}: {v}");
        }
    }
    for (k, v) in &r.header {
        if k == "Queue" {
            let _ = writeln!(t, "  Queue: {v}");
        }
    }
    if st.count == 0 {
        let _ = writeln!(t, "no VMs");
        return t;
    }
    let span = st.span_s();
    let _ = writeln!(
        t,
        "\n{} VMs, first arrival {} s, last {} s: a span of {:.2} days",
        st.count,
        fmt_num(st.first_arrival_s),
        fmt_num(st.last_arrival_s),
        span / 86_400.0
    );
    let _ = writeln!(
        t,
        "arrival rate {} /s ({} per hour); inter-arrival cv {}; busiest hour: {} arrivals (hour {} of the trace)",
        fmt_num(st.rate_per_s()),
        fmt_num(st.rate_per_s() * 3600.0),
        fmt_num(st.interarrival.moments.cv()),
        st.peak_hour.1,
        st.peak_hour.0
    );
    let _ = writeln!(
        t,
        "offered load: {} vCPUs busy on average (Σ vCPUs × runtime / span)\n",
        fmt_num(st.mean_busy_vcpus())
    );
    let _ = writeln!(
        t,
        "{:<18}{:>12}{:>12}{:>12}{:>12}{:>8}",
        "", "mean", "median", "p99", "max", "cv"
    );
    for (name, q) in [
        ("inter-arrival (s)", &st.interarrival),
        ("runtime (s)", &st.runtime),
        ("vCPUs", &st.vcpus),
        ("memory (MiB)", &st.memory_mib),
    ] {
        let (mean, med, p99, max) = q.summary();
        let _ = writeln!(
            t,
            "{:<18}{:>12}{:>12}{:>12}{:>12}{:>8}",
            name,
            fmt_num(mean),
            fmt_num(med),
            fmt_num(p99),
            fmt_num(max),
            fmt_num(q.moments.cv())
        );
    }
    if !st.runtime.sample.is_complete() {
        let _ = writeln!(
            t,
            "(medians and p99 from a uniform sample of {} VMs)",
            DEFAULT_RESERVOIR
        );
    }
    let _ = writeln!(
        t,
        "estimate / runtime: mean {}",
        fmt_num(st.estimate_ratio.mean())
    );
    let _ = writeln!(
        t,
        "\narrivals by hour of day ({}):",
        if utc {
            "UTC, from UnixStartTime"
        } else {
            "hours since the trace start, mod 24"
        }
    );
    let rates = st.hourly_rate();
    let peak = rates.iter().copied().fold(0.0, f64::max);
    for (h, (n, rate)) in st.by_hour.iter().zip(rates).enumerate() {
        let bar = if peak > 0.0 {
            "#".repeat((40.0 * rate / peak).round() as usize)
        } else {
            String::new()
        };
        let _ = writeln!(t, "  {h:02}h {n:>9} VMs {:>10}/h  {bar}", fmt_num(rate));
    }
    let _ = writeln!(t, "\npriority mix:");
    for (p, n) in &st.priorities {
        let _ = writeln!(
            t,
            "  class {p:>4}: {n:>9} VMs ({:.1} %)",
            100.0 * *n as f64 / st.count as f64
        );
    }
    let _ = writeln!(t, "vCPU mix (most frequent):");
    let mut mix: Vec<(&u32, &u64)> = st.vcpu_counts.iter().collect();
    mix.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (v, n) in mix.iter().take(10) {
        let _ = writeln!(
            t,
            "  {v:>5} vCPUs: {n:>9} VMs ({:.1} %)",
            100.0 * **n as f64 / st.count as f64
        );
    }
    if mix.len() > 10 {
        let _ = writeln!(t, "  … {} other sizes", mix.len() - 10);
    }
    t
}

fn stats_csv(st: &TraceStats, r: &TraceReport, utc: bool) -> String {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut add = |s: &str, n: String, v: String| rows.push((s.to_string(), n, v));
    add("read", "records".into(), r.records.to_string());
    add("read", "vms".into(), r.emitted.to_string());
    for (why, n) in &r.skipped {
        add("skipped", why.clone(), n.to_string());
    }
    for (what, n) in &r.notes {
        add("notes", what.clone(), n.to_string());
    }
    for (k, v) in &r.header {
        add("header", k.clone(), v.clone());
    }
    add("summary", "count".into(), st.count.to_string());
    add(
        "summary",
        "first_arrival_s".into(),
        st.first_arrival_s.to_string(),
    );
    add(
        "summary",
        "last_arrival_s".into(),
        st.last_arrival_s.to_string(),
    );
    add("summary", "span_s".into(), st.span_s().to_string());
    add("summary", "rate_per_s".into(), st.rate_per_s().to_string());
    add(
        "summary",
        "mean_busy_vcpus".into(),
        st.mean_busy_vcpus().to_string(),
    );
    add(
        "summary",
        "estimate_over_runtime_mean".into(),
        st.estimate_ratio.mean().to_string(),
    );
    for (name, q) in [
        ("interarrival_s", &st.interarrival),
        ("runtime_s", &st.runtime),
        ("vcpus", &st.vcpus),
        ("memory_mib", &st.memory_mib),
    ] {
        let (mean, med, p99, max) = q.summary();
        for (k, v) in [
            ("mean", mean),
            ("median", med),
            ("p99", p99),
            ("max", max),
            ("cv", q.moments.cv()),
        ] {
            add(name, k.into(), v.to_string());
        }
    }
    let hour_section = if utc {
        "hour_of_day_utc"
    } else {
        "hour_of_trace_day"
    };
    for (h, n) in st.by_hour.iter().enumerate() {
        add(hour_section, format!("{h:02}"), n.to_string());
    }
    for (p, n) in &st.priorities {
        add("priority", p.to_string(), n.to_string());
    }
    for (v, n) in &st.vcpu_counts {
        add("vcpus_count", v.to_string(), n.to_string());
    }
    let mut out = String::from("section,name,value\n");
    for (s, n, v) in rows {
        let _ = writeln!(out, "{},{},{}", csv_field(&s), csv_field(&n), csv_field(&v));
    }
    out
}

/// Writes `text` to `path` through a temporary file in the same folder, renamed at the end.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    Ok(reports::write_atomic(path, text.as_bytes())?)
}

fn fit(a: FitArgs) -> Result<()> {
    // The fitted scenario must load again: its empirical lists obey the same limit.
    if !(2..=workloads::limits::MAX_LIST_LEN).contains(&a.points) {
        bail!(
            "--points must be between 2 and {}, got {}",
            workloads::limits::MAX_LIST_LEN,
            a.points
        );
    }
    // Hours of day in trace time (so a diurnal model's peak is relative to time 0).
    let (st, report, _) = read(&a.input, false)?;
    if st.count < 3 {
        bail!(
            "{}: {} VMs are too few to fit",
            a.input.file.display(),
            st.count
        );
    }
    let f = fit_trace(&st);
    outln!("trace {report}");
    outln!(
        "{} VMs over {:.2} days: {} arrivals/s, mean runtime {} s\n",
        st.count,
        st.span_s() / 86_400.0,
        fmt_num(st.rate_per_s()),
        fmt_num(st.runtime.moments.mean())
    );
    for (what, fits, mean, cv) in [
        (
            "inter-arrival times",
            &f.arrivals,
            st.span_s() / (st.count as f64 - 1.0),
            st.interarrival.moments.cv(),
        ),
        (
            "runtimes",
            &f.service,
            st.runtime.moments.mean(),
            st.runtime.moments.cv(),
        ),
    ] {
        outln!(
            "{what}: mean {} s, cv {} — candidates by Kolmogorov–Smirnov distance:",
            fmt_num(mean),
            fmt_num(cv)
        );
        for (i, c) in fits.iter().enumerate() {
            outln!(
                "  {} KS {:.4}  {}",
                if i == 0 { "*" } else { " " },
                c.ks,
                dist_inline(&c.dist)
            );
        }
    }
    outln!(
        "diurnal profile (first harmonic): amplitude {:.3}, peak at {:.1} h of the trace day",
        f.diurnal.0,
        f.diurnal.1 / 3600.0
    );
    let max_vcpus = st.vcpu_counts.keys().next_back().copied().unwrap_or(1);
    let header_procs: Option<u32> = report
        .header_value("MaxProcs")
        .and_then(|v| v.parse().ok())
        .filter(|p| *p > 0);
    let pcpus = a
        .pcpus
        .unwrap_or_else(|| header_procs.unwrap_or(max_vcpus).max(max_vcpus));
    let memory_gib = a.memory_gib.unwrap_or_else(|| {
        let per_vcpu = st.memory_mib.moments.sum() / st.vcpus.moments.sum().max(1.0);
        let need = st.memory_mib.moments.max().max(per_vcpu * f64::from(pcpus));
        (need / 1024.0).ceil().max(1.0)
    });
    let opts = FitOptions {
        source: a.input.file.display().to_string(),
        arrivals: match a.arrivals {
            Arrivals::Best => ArrivalModel::Best,
            Arrivals::Diurnal => ArrivalModel::Diurnal,
            Arrivals::Empirical => ArrivalModel::Empirical,
        },
        empirical_service: a.empirical_service,
        points: a.points,
        hosts: (a.hosts.max(1), pcpus.max(1), memory_gib),
        seed: 1,
        replications: a.replications,
    };
    let toml = scenario_toml(&st, &f, &opts);
    // The scenario must be valid: parse it before writing.
    workloads::Scenario::from_toml_str(&toml, "fitted scenario")
        .context("the fitted scenario does not parse (a bug: please report it)")?;
    match &a.out {
        Some(out) => {
            write_atomic(out, &toml)?;
            eprintln!("wrote {}", out.display());
        }
        None => out!("\n{toml}"),
    }
    Ok(())
}
