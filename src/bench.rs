//! `vmsched bench`: events per second of the engine on the M/M/c model, with the mean wait
//! next to Erlang C and the peak memory of the process.

use anyhow::{Result, bail};
use clap::Args;
use experiments::bench::{self, Bench};

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
    /// `mmc`: plain M/M/c FCFS. `full`: the resource model at work (see `experiments::bench::FULL_MODEL`).
    /// `cluster`: a datacenter of `--hosts` hosts of 16 pCPUs (see `experiments::bench::CLUSTER_MODEL`).
    #[arg(long, value_enum, default_value_t = Model::Mmc)]
    model: Model,
    /// Hosts (`--model cluster`).
    #[arg(long, default_value_t = 1)]
    hosts: u32,
    /// Give the hosts a power model (linear, 100 W idle to 250 W busy), so that the engine
    /// integrates their energy (`--model full` or `cluster`).
    #[arg(long)]
    power: bool,
    /// Placement rule (`--model cluster`).
    #[arg(long, value_enum, default_value_t = PlacementArg::FirstFit)]
    placement: PlacementArg,
}

/// Placement rules on the command line.
// (The names are the scenario's: first-fit, best-fit, worst-fit.)
#[allow(clippy::enum_variant_names)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlacementArg {
    /// The lowest-numbered host that fits.
    FirstFit,
    /// The host left with the fewest free vCPU slots, then least memory.
    BestFit,
    /// The host left with the most free vCPU slots, then most memory.
    WorstFit,
}

/// Which model `bench` runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// M/M/c FCFS, CPU only.
    Mmc,
    /// Mixed CPU / I/O / memory workload on an SMT host.
    Full,
    /// A datacenter of `--hosts` hosts.
    Cluster,
}

pub fn bench(a: BenchArgs) -> Result<()> {
    if a.runs == 0 {
        bail!("--runs, --vms and --pcpus must be at least 1");
    }
    let spec = Bench {
        model: match a.model {
            Model::Mmc => bench::Model::Mmc,
            Model::Full => bench::Model::Full,
            Model::Cluster => bench::Model::Cluster,
        },
        vms: a.vms,
        pcpus: a.pcpus,
        rho: a.rho,
        seed: a.seed,
        hosts: a.hosts,
        placement: match a.placement {
            PlacementArg::FirstFit => sim::Placement::FirstFit,
            PlacementArg::BestFit => sim::Placement::BestFit,
            PlacementArg::WorstFit => sim::Placement::WorstFit,
        },
        power: a.power,
    };
    let scenario = spec.scenario()?;
    let config = scenario.sim_config()?;
    experiments::memory::check_fits_in_memory(&config)?;
    let lambda = spec.lambda();
    match a.model {
        Model::Mmc => outln!(
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
        Model::Full => outln!(
            "full model (SMT host, RR, disk I/O, paging{}), λ = {lambda} /s, {} VMs, per-VM output off",
            if a.power { ", power model" } else { "" },
            a.vms
        ),
        Model::Cluster => outln!(
            "cluster: {} hosts of 16 pCPUs / 128 GiB, {}, λ = {lambda:.3} /s (ρ = {}), {} VMs of 1–8 vCPUs, per-VM output off",
            a.hosts,
            spec.placement.name(),
            a.rho,
            a.vms
        ),
    }
    let mut last_stats = None;
    let mut rates = Vec::new();
    let mut vm_rates = Vec::new();
    let mut mean_wait = f64::NAN;
    for run in 0..a.runs {
        let r = bench::run_once(&scenario, &config, a.one_thread)?;
        let rate = r.stats.events as f64 / r.secs;
        mean_wait = r.mean_wait_s;
        outln!(
            "run {}: {} events in {:.3} s = {:.2} M events/s, {:.0} VMs/s",
            run + 1,
            r.stats.events,
            r.secs,
            rate / 1e6,
            r.stats.arrivals as f64 / r.secs
        );
        rates.push(rate);
        vm_rates.push(r.stats.arrivals as f64 / r.secs);
        last_stats = Some(r.stats);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let expected = sim::queueing::mmc_mean_wait(a.pcpus, lambda, 1.0);
    match (a.model, last_stats) {
        (Model::Mmc, _) => {
            outln!(
                "median: {:.2} M events/s (arrivals + departures)",
                median / 1e6
            );
            outln!(
                "mean wait {mean_wait:.4} s; Erlang C {expected:.4} s ({:+.2} %)",
                100.0 * (mean_wait / expected - 1.0)
            );
        }
        (Model::Full, Some(s)) => {
            outln!(
                "median: {:.2} M events/s (arrivals, slice ends, device completions)",
                median / 1e6
            );
            outln!(
                "per run: {} I/O requests, {} major faults, {} quantum/preemption switches; mean wait {mean_wait:.4} s",
                s.io_requests,
                s.major_faults,
                s.preemptions
            );
        }
        (Model::Full, None) => {}
        (Model::Cluster, _) => {
            vm_rates.sort_by(f64::total_cmp);
            outln!(
                "median: {:.2} M events/s, {:.0} VMs/s; mean wait {mean_wait:.4} s",
                median / 1e6,
                vm_rates[vm_rates.len() / 2]
            );
        }
    }
    match bench::peak_rss_mib() {
        Some(m) => outln!("peak memory (VmHWM): {m:.1} MiB"),
        None => outln!("peak memory: not available on this platform"),
    }
    Ok(())
}
