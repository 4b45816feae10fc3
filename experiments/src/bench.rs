//! The engine's speed on a reference model: M/M/c FCFS (whose mean wait Erlang C gives),
//! or the full resource model at work. The timing and the report are the caller's; this
//! module builds the model and runs it once.

use std::time::Instant;

use sim::metrics::Metrics;
use sim::{RunStats, SimConfig};
use workloads::scenario::Scenario;

use crate::error::{Result, bail};

/// Which model to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// M/M/c FCFS, CPU only.
    Mmc,
    /// Mixed CPU / I/O / memory workload on an SMT host (see [`FULL_MODEL`]).
    Full,
    /// A datacenter: `hosts` hosts of 16 pCPUs and 128 GiB, VMs of 1, 2, 4 or 8 vCPUs and
    /// 2–16 GiB (see [`CLUSTER_MODEL`]).
    Cluster,
}

/// A benchmark: the model and its size.
#[derive(Clone, Debug)]
pub struct Bench {
    /// The model.
    pub model: Model,
    /// VMs per run.
    pub vms: u64,
    /// pCPUs (c of M/M/c; the full model has its own 16).
    pub pcpus: u32,
    /// Utilisation ρ (mean service 1 s).
    pub rho: f64,
    /// Seed.
    pub seed: u64,
    /// Hosts (the cluster model; the others have one).
    pub hosts: u32,
    /// Placement rule (the cluster model).
    pub placement: sim::Placement,
    /// Give the hosts a power model ([`BENCH_POWER`]), so that the engine integrates
    /// their energy (the full and cluster models).
    pub power: bool,
}

/// The power model `--power` gives the hosts of the full and cluster models: linear from
/// 100 W idle to 250 W with every pCPU busy.
pub const BENCH_POWER: &str = "power = { idle_w = 100, max_w = 250 }";

/// One timed run.
#[derive(Clone, Debug)]
pub struct BenchRun {
    /// What the engine counted.
    pub stats: RunStats,
    /// Wall time of the run, in seconds.
    pub secs: f64,
    /// Mean wait over all VMs, in seconds.
    pub mean_wait_s: f64,
}

impl Bench {
    /// The arrival rate λ per second: ρ · c for M/M/c, ρ · 12 for the full model (SMT and
    /// overheads leave about 12 pCPUs' worth of capacity), ρ · 16 · hosts / (E\[vCPUs\] ·
    /// E\[service\]) = ρ · 16 · hosts / (3.75 · 300 s) for the cluster model.
    pub fn lambda(&self) -> f64 {
        match self.model {
            Model::Mmc => self.rho * f64::from(self.pcpus),
            Model::Full => self.rho * 12.0,
            Model::Cluster => self.rho * 16.0 * f64::from(self.hosts) / (3.75 * 300.0),
        }
    }

    /// The model as a scenario, checked (at least one run, VM and pCPU; ρ in (0, 1)).
    pub fn scenario(&self) -> Result<Scenario> {
        if self.vms == 0 || self.pcpus == 0 {
            bail!("--runs, --vms and --pcpus must be at least 1");
        }
        if self.model != Model::Cluster && self.hosts != 1 {
            bail!("--hosts is for --model cluster (the other models have one host)");
        }
        if self.hosts == 0 {
            bail!("--hosts must be at least 1");
        }
        if !(self.rho > 0.0 && self.rho < 1.0) {
            bail!("--rho must be in (0, 1), got {}", self.rho);
        }
        let lambda = self.lambda();
        if self.power && self.model == Model::Mmc {
            bail!("--power is for --model full and --model cluster");
        }
        // (Right after `[[hosts]]`' first key, so that it belongs to the host.)
        let power = if self.power {
            format!("{BENCH_POWER}\n")
        } else {
            String::new()
        };
        let text = match self.model {
            Model::Mmc => format!(
                "[run]\nseed = {}\nvms = {}\n[[hosts]]\npcpus = {}\nmemory_gib = 1.0\n\
                 [workload]\narrival = {{ process = \"poisson\", rate_per_s = {lambda} }}\n\
                 service = {{ dist = \"exponential\", mean_s = 1.0 }}\nmemory_gib = 0.0\n",
                self.seed, self.vms, self.pcpus
            ),
            Model::Full => {
                if self.pcpus != 16 {
                    bail!("--model full has its own host (16 pCPUs); leave --pcpus out");
                }
                format!(
                    "[run]\nseed = {}\nvms = {}\n{}\narrival = {{ process = \"poisson\", rate_per_s = {lambda} }}\n",
                    self.seed,
                    self.vms,
                    FULL_MODEL.trim_end().replacen(
                        "[[hosts]]\n",
                        &format!("[[hosts]]\n{power}"),
                        1
                    )
                )
            }
            Model::Cluster => {
                if self.pcpus != 16 {
                    bail!("--model cluster has its own hosts (16 pCPUs); leave --pcpus out");
                }
                format!(
                    "[run]\nseed = {}\nvms = {}\nwarmup_vms = 0\nreplications = 1\n\
                     [cluster]\nplacement = \"{}\"\n[[hosts]]\ncount = {}\n{power}{}\n\
                     arrival = {{ process = \"poisson\", rate_per_s = {lambda} }}\n",
                    self.seed,
                    self.vms,
                    self.placement.name(),
                    self.hosts,
                    CLUSTER_MODEL.trim(),
                )
            }
        };
        Ok(Scenario::from_toml_str(&text, "bench")?)
    }
}

/// Runs replication 0 of `scenario` under `config` once and times it. With `one_thread`
/// the workload is drawn and the metrics kept on the engine's thread; otherwise one
/// helper thread does both, overlapping with the engine.
pub fn run_once(scenario: &Scenario, config: &SimConfig, one_thread: bool) -> Result<BenchRun> {
    let mut workload = scenario.workload(0)?;
    let mut metrics = Metrics::new();
    let t0 = Instant::now();
    let stats = if one_thread {
        sim::simulate(config, &mut workload, &mut metrics)?
    } else {
        crate::pipeline::read_ahead_write_behind(&mut workload, &mut metrics, |vms, obs| {
            sim::simulate_source(config, vms, obs)
        })?
    };
    let secs = t0.elapsed().as_secs_f64();
    let mean_wait_s = metrics.summary(&stats).all().mean_wait_s;
    Ok(BenchRun {
        stats,
        secs,
        mean_wait_s,
    })
}

/// Peak resident set of this process in MiB, from /proc/self/status (Linux; `None`
/// elsewhere).
pub fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The `--model cluster` scenario (after `[[hosts]] count = N`, and followed by Poisson
/// arrivals at λ = ρ · 16 · N / (3.75 · 300 s)): hosts of 16
/// pCPUs and 128 GiB without overcommit; VMs of 1, 2, 4 or 8 vCPUs (E = 3.75) and 2, 4, 8
/// or 16 GiB, equally likely; log-normal service, mean 300 s, cv 1; FCFS at both levels.
pub const CLUSTER_MODEL: &str = r#"
pcpus = 16
memory_gib = 128
[workload]
vcpus = { values = [1, 2, 4, 8], weights = [1, 1, 1, 1] }
memory_gib = { values = [2, 4, 8, 16], weights = [1, 1, 1, 1] }
service = { dist = "lognormal", mean_s = 300, cv = 1.0 }
"#;

/// The `--model full` scenario: 16 pCPUs as 8 SMT cores (20 % slowdown when both threads
/// run), vCPU overcommit 1.5 under round robin (50 ms), half the VMs doing virtio disk I/O
/// every 20 ms of CPU (64 KiB, a 4-channel disk), every VM (4 GiB) touching a 3.5 GiB
/// working set (1 touch/ms) on a host whose 48 GiB of memory is overcommitted 1.25× (so
/// working sets exceed memory when the host is full, and page to the disk), translation
/// overhead 3 %, first touch 1 µs per 2 MiB page, VM exits 5 µs. Poisson arrivals at
/// λ = ρ · 12 per second (mean service 1 s): SMT and overheads leave about 12 pCPUs' worth
/// of capacity.
pub const FULL_MODEL: &str = r#"
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
