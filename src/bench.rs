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
    /// Draw the workload and keep the metrics on the engine's thread too (by default one
    /// more thread does both, overlapping with the engine).
    #[arg(long)]
    one_thread: bool,
    /// `mmc`: plain M/M/c FCFS. `full`: the resource model at work (see `FULL_MODEL`).
    #[arg(long, value_enum, default_value_t = Model::Mmc)]
    model: Model,
}

/// Which model `bench` runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// M/M/c FCFS, CPU only.
    Mmc,
    /// Mixed CPU / I/O / memory workload on an SMT host.
    Full,
}

/// The `--model full` scenario: 16 pCPUs as 8 SMT cores (20 % slowdown when both threads
/// run), vCPU overcommit 1.5 under round robin (50 ms), half the VMs doing virtio disk I/O
/// every 20 ms of CPU (64 KiB, a 4-channel disk), every VM (4 GiB) touching a 3.5 GiB
/// working set (1 touch/ms) on a host whose 48 GiB of memory is overcommitted 1.25× (so
/// working sets exceed memory when the host is full, and page to the disk), translation
/// overhead 3 %, first touch 1 µs per 2 MiB page, VM exits 5 µs. Poisson arrivals at
/// λ = ρ · 12 per second (mean service 1 s): SMT and overheads leave about 12 pCPUs' worth
/// of capacity.
const FULL_MODEL: &str = r#"
[[hosts]]
pcpus = 16
memory_gib = 48
overcommit = 1.5
memory_overcommit = 1.25
threads_per_core = 2
smt_slowdown = 0.2
page_size = "2m"
translation_overhead = 0.03
first_touch_us = 1
exit_cost_us = 5
[[hosts.devices]]
kind = "disk"
bandwidth_mbps = 2000
latency_us = 100
channels = 4
swap = true
[cpu]
policy = "rr"
quantum_ms = 50
[workload]
service = { dist = "exponential", mean_s = 1.0 }
memory_gib = 4
memory = { working_set_gib = 3.5, touches_per_ms = 1 }
io = { burst_ms = 20, size_kib = 64, device = "disk", virtual = "virtio", fraction = 0.5 }
"#;

pub fn bench(a: BenchArgs) -> Result<()> {
    if a.runs == 0 || a.vms == 0 || a.pcpus == 0 {
        bail!("--runs, --vms and --pcpus must be at least 1");
    }
    if !(a.rho > 0.0 && a.rho < 1.0) {
        bail!("--rho must be in (0, 1), got {}", a.rho);
    }
    let lambda = a.rho * f64::from(a.pcpus);
    let text = match a.model {
        Model::Mmc => format!(
            "[run]\nseed = {}\nvms = {}\n[[hosts]]\npcpus = {}\nmemory_gib = 1.0\n\
             [workload]\narrival = {{ process = \"poisson\", rate_per_s = {lambda} }}\n\
             service = {{ dist = \"exponential\", mean_s = 1.0 }}\nmemory_gib = 0.0\n",
            a.seed, a.vms, a.pcpus
        ),
        Model::Full => {
            if a.pcpus != 16 {
                bail!("--model full has its own host (16 pCPUs); leave --pcpus out");
            }
            let lambda = a.rho * 12.0;
            format!(
                "[run]\nseed = {}\nvms = {}\n{}\narrival = {{ process = \"poisson\", rate_per_s = {lambda} }}\n",
                a.seed,
                a.vms,
                FULL_MODEL.trim_end()
            )
        }
    };
    let scenario = Scenario::from_toml_str(&text, "bench")?;
    let config = scenario.sim_config()?;
    match a.model {
        Model::Mmc => println!(
            "M/M/{} FCFS, λ = {lambda} /s, E[S] = 1 s (ρ = {}), {} VMs, per-VM output off{}",
            a.pcpus,
            a.rho,
            a.vms,
            if a.one_thread {
                ", one thread"
            } else {
                ";\n  the workload is drawn and the metrics kept on one more thread (the engine is one)"
            }
        ),
        Model::Full => println!(
            "full model (SMT host, RR, disk I/O, paging), λ = {} /s, {} VMs, per-VM output off",
            a.rho * 12.0,
            a.vms
        ),
    }
    let mut last_stats = None;
    let mut rates = Vec::new();
    let mut mean_wait = f64::NAN;
    for run in 0..a.runs {
        let mut workload = scenario.workload(0)?;
        let mut metrics = Metrics::new();
        let t0 = Instant::now();
        let stats = if a.one_thread {
            sim::simulate(&config, &mut workload, &mut metrics)?
        } else {
            workloads::read_ahead::read_ahead_write_behind(
                &mut workload,
                &mut metrics,
                |vms, obs| sim::simulate_source(&config, vms, obs),
            )?
        };
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
        last_stats = Some(stats);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let expected = sim::queueing::mmc_mean_wait(a.pcpus, lambda, 1.0);
    match (a.model, last_stats) {
        (Model::Mmc, _) => {
            println!(
                "median: {:.2} M events/s (arrivals + departures)",
                median / 1e6
            );
            println!(
                "mean wait {mean_wait:.4} s; Erlang C {expected:.4} s ({:+.2} %)",
                100.0 * (mean_wait / expected - 1.0)
            );
        }
        (Model::Full, Some(s)) => {
            println!(
                "median: {:.2} M events/s (arrivals, slice ends, device completions)",
                median / 1e6
            );
            println!(
                "per run: {} I/O requests, {} major faults, {} quantum/preemption switches; mean wait {mean_wait:.4} s",
                s.io_requests, s.major_faults, s.preemptions
            );
        }
        (Model::Full, None) => {}
    }
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
