//! The built-in default scenario.

use crate::dist::{Choice, ServiceDist};

use super::spec::{AdmissionSettings, ClusterSettings, CpuSettings, HostGroup, RunSettings};
use super::{BaseDir, Scenario};
use crate::workload_spec::{Arrival, Estimate, WorkloadSpec};

/// The arrival rate of the built-in default, chosen for an offered load of 0.85:
/// E\[vcpus\] = 1·0.5 + 2·0.3 + 4·0.2 = 1.9 and E\[service\] = 60 s on 16 pCPUs, so
/// λ = 0.85 · 16 / (1.9 · 60) = 13.6 / 114 = 0.119 298 245 6… VMs per second.
const DEFAULT_RATE_PER_S: f64 = 0.119_298_245_614_035_08;

impl Scenario {
    /// The built-in default scenario, the same as [`Scenario::builtin_default_toml`]: one
    /// host of 16 pCPUs and 256 GiB, Poisson arrivals at offered load 0.85, vCPUs {1, 2, 4}
    /// with weights {0.5, 0.3, 0.2}, memory {2, 4, 8} GiB with the same weights,
    /// log-normal service with mean 60 s and cv 1.5, priority classes {1, 2, 3} with weights
    /// {0.2, 0.5, 0.3}, estimates with noise cv 0.5; 20 000 VMs of which 2 000 warm-up,
    /// 5 replications, seed 1, FCFS at both levels.
    pub fn builtin_default() -> Scenario {
        Scenario {
            run: RunSettings {
                seed: 1,
                vms: 20_000,
                warmup_vms: 2_000,
                replications: 5,
                timeline_s: None,
                cpu_share_s: None,
                max_events: None,
            },
            hosts: vec![HostGroup::new(16, 256.0)],
            events: Vec::new(),
            migration: None,
            consolidation: None,
            cluster: ClusterSettings::default(),
            admission: AdmissionSettings::default(),
            cpu: CpuSettings::default(),
            base_dir: BaseDir::default(),
            workload: WorkloadSpec {
                weight: None,
                nice: None,
                cpu_cap: None,
                // Offered load λ·E[vcpus]·E[service]/pCPUs = 0.1193 · 1.9 · 60 / 16 = 0.85.
                arrival: Some(Arrival::Poisson {
                    rate_per_s: DEFAULT_RATE_PER_S,
                }),
                vcpus: Choice::Weighted {
                    values: vec![1, 2, 4],
                    weights: vec![0.5, 0.3, 0.2],
                },
                memory_gib: Choice::Weighted {
                    values: vec![2.0, 4.0, 8.0],
                    weights: vec![0.5, 0.3, 0.2],
                },
                service: Some(ServiceDist::Lognormal {
                    mean_s: 60.0,
                    cv: 1.5,
                }),
                priority: Choice::Weighted {
                    values: vec![1, 2, 3],
                    weights: vec![0.2, 0.5, 0.3],
                },
                estimate: Estimate::Noisy { noise_cv: 0.5 },
                load_scale: 1.0,
                trace: None,
                io: None,
                memory: None,
            },
        }
    }

    /// The built-in default scenario as TOML text (`examples/default.toml` of this crate):
    /// a commented starting point for new scenario files.
    pub fn builtin_default_toml() -> &'static str {
        include_str!("../../examples/default.toml")
    }
}
