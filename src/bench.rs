//! `vmsched bench`: events per second of the engine on the M/M/c model, with the mean wait
//! next to Erlang C and the peak memory of the process.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use sim::metrics::Metrics;
use workloads::scenario::Scenario;

/// `vmsched bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// VMs per run.
    #[arg(long, default_value_t = 1_000_000)]
    vms: u64,
    /// Timed runs (the median is reported; the machine may be noisy).
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// pCPUs (c of M/M/c).
    #[arg(long, default_value_t = 16)]
    pcpus: u32,
    /// Utilisation ρ = λ / c (mean service 1 s).
    #[arg(long, default_value_t = 0.9)]
    rho: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn bench(a: BenchArgs) -> Result<()> {
    if a.runs == 0 || a.vms == 0 || a.pcpus == 0 {
        bail!("--runs, --vms and --pcpus must be at least 1");
    }
    if !(a.rho > 0.0 && a.rho < 1.0) {
        bail!("--rho must be in (0, 1), got {}", a.rho);
    }
    let lambda = a.rho * f64::from(a.pcpus);
    let text = format!(
        "[run]\nseed = {}\nvms = {}\n[[hosts]]\npcpus = {}\nmemory_gib = 1.0\n\
         [workload]\narrival = {{ process = \"poisson\", rate_per_s = {lambda} }}\n\
         service = {{ dist = \"exponential\", mean_s = 1.0 }}\nmemory_gib = 0.0\n",
        a.seed, a.vms, a.pcpus
    );
    let scenario = Scenario::from_toml_str(&text, "bench")?;
    let config = scenario.sim_config()?;
    println!(
        "M/M/{} FCFS, λ = {lambda} /s, E[S] = 1 s (ρ = {}), {} VMs, per-VM output off",
        a.pcpus, a.rho, a.vms
    );
    let mut rates = Vec::new();
    let mut mean_wait = f64::NAN;
    for run in 0..a.runs {
        let workload = scenario.workload(0)?;
        let mut metrics = Metrics::new();
        let t0 = Instant::now();
        let stats = sim::simulate(&config, workload, &mut metrics)?;
        let secs = t0.elapsed().as_secs_f64();
        let rate = stats.events as f64 / secs;
        mean_wait = metrics.summary(&stats).all().mean_wait_s;
        println!(
            "run {}: {} events in {:.3} s = {:.2} M events/s",
            run + 1,
            stats.events,
            secs,
            rate / 1e6
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let expected = sim::queueing::mmc_mean_wait(a.pcpus, lambda, 1.0);
    println!(
        "median: {:.2} M events/s (arrivals + departures)",
        median / 1e6
    );
    println!(
        "mean wait {mean_wait:.4} s; Erlang C {expected:.4} s ({:+.2} %)",
        100.0 * (mean_wait / expected - 1.0)
    );
    match peak_rss_mib() {
        Some(m) => println!("peak memory (VmHWM): {m:.1} MiB"),
        None => println!("peak memory: not available on this platform"),
    }
    Ok(())
}

/// Peak resident set of this process, from /proc/self/status (Linux).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
