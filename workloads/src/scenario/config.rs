//! Conversion of a checked scenario to the engine's configuration ([`SimConfig`]).

use sim::{
    AdmissionSpec, ClusterSpec, CpuSpec, HostResources, HostSpec, HostSpecs, SimConfig, SimTime,
};

use super::Scenario;
use crate::datacenter;
use crate::error::Error;
use crate::limits::MAX_HOSTS;
use crate::resources;
use crate::trace::failures::read_failures;
use crate::trace::nodes::read_node_list;
use crate::trace::resolve;
use crate::units::{gib_to_mib, scaled_time, us};

impl Scenario {
    /// The engine's configuration: one group of `count` hosts per `[[hosts]]` entry (stored
    /// once, not expanded), GiB → MiB (× 1024, rounded), quantum and context-switch cost as
    /// [`SimTime`].
    pub fn sim_config(&self) -> Result<SimConfig, Error> {
        self.sim_config_for(0)
    }

    /// [`Scenario::sim_config`] for replication `replication`: the engine's own random
    /// streams (I/O bursts and sizes, page faults) differ between replications.
    pub fn sim_config_for(&self, replication: u64) -> Result<SimConfig, Error> {
        self.validate()?;
        if let Some(g) = self.hosts.iter().position(|h| h.profile.is_some()) {
            return Err(Error::invalid(
                format!("hosts.{g}.profile"),
                "a calibration profile is applied by `vmsched run`, `compare` and `validate` \
                 only; set the overheads it calibrates in the file instead",
            ));
        }
        let mut hosts = HostSpecs::new();
        for (group, h) in self.hosts.iter().enumerate() {
            let g = hosts.len();
            let (devices, swap_device) = resources::devices(g, &h.devices)?;
            let spec = HostSpec {
                pcpus: h.pcpus,
                memory_mib: gib_to_mib(h.memory_gib).unwrap_or(u64::MAX),
                overcommit: h.overcommit.ratio(),
                memory_overcommit: h.memory_overcommit.ratio(),
                resources: HostResources {
                    devices,
                    swap_device,
                    threads_per_core: h.threads_per_core,
                    smt_slowdown: h.smt_slowdown,
                    numa_nodes: h.numa_nodes,
                    numa_remote_slowdown: h.numa_remote_slowdown,
                    page_bytes: h.page_size.bytes(),
                    translation_overhead: h.translation_overhead,
                    first_touch: us(h.first_touch_us),
                    exit_cost: us(h.exit_cost_us),
                    resident_limit_mib: h.resident_gib.and_then(gib_to_mib),
                    balloon: h.balloon,
                    power: match &h.power {
                        Some(p) => Some(datacenter::host_power(group, p)?),
                        None => None,
                    },
                    boot: datacenter::boot_time(group, h.boot_s)?,
                },
            };
            hosts.push_n(spec, h.count as usize);
        }
        if let Some(list) = &self.cluster.node_list {
            let path = resolve(self.base_dir(), list);
            hosts.extend(read_node_list(
                &path,
                list,
                self.cluster.node_overcommit.ratio(),
                self.cluster.node_memory_overcommit.ratio(),
            )?);
            if hosts.len() as u64 > MAX_HOSTS {
                return Err(Error::invalid(
                    "cluster.node_list",
                    format!("more than {MAX_HOSTS} hosts in all"),
                ));
            }
        }
        let failures = match &self.cluster.failures {
            None => None,
            Some(f) => match (datacenter::random_failures(f)?, &f.path) {
                (Some(random), _) => Some(random),
                (None, Some(path)) => Some(sim::FailureSpec::Recorded(read_failures(
                    &resolve(self.base_dir(), path),
                    path,
                    hosts.len(),
                )?)),
                (None, None) => None,
            },
        };
        let datacenter = sim::DatacenterSpec {
            power_off_idle: datacenter::power_off_idle(self.cluster.power_off_idle_s)?,
            failures,
            on_failure: self.cluster.on_failure.to_sim(),
            migration: crate::migration::migration_spec(
                self.migration.as_ref(),
                self.host_without_nic().as_deref(),
            )?,
            consolidation: crate::migration::consolidation_spec(
                self.consolidation.as_ref(),
                self.migration.is_some(),
            )?,
        };
        self.check_migration(Some(hosts.len() as u64))?;
        Ok(SimConfig {
            cluster: ClusterSpec {
                hosts,
                placement: self.cluster.placement,
            },
            admission: AdmissionSpec {
                policy: self.admission.policy.clone(),
                aging_per_s: self.admission.aging_per_s,
                head_of_line: self.admission.head_of_line,
                backfill: self.admission.backfill,
            },
            cpu: CpuSpec {
                policy: self.cpu.policy.clone(),
                quantum: scaled_time(self.cpu.quantum_ms, 1e6).unwrap_or(SimTime::MAX),
                slice: self
                    .cpu
                    .slice_ms
                    .map(|s| scaled_time(s, 1e6).unwrap_or(SimTime::MAX)),
                cap_period: scaled_time(self.cpu.cap_period_ms.unwrap_or(100.0), 1e6)
                    .unwrap_or(SimTime::MAX),
                context_switch: scaled_time(self.cpu.context_switch_us, 1e3)
                    .unwrap_or(SimTime::MAX),
                mapping: self.cpu.mapping,
                migration: us(self.cpu.migration_us),
                gang: self.cpu.gang,
                mlfq: sim::MlfqSpec {
                    levels: self.cpu.levels,
                    quantum_growth: self.cpu.quantum_growth,
                    demote: self.cpu.demote,
                    boost: self
                        .cpu
                        .boost_s
                        .map(|b| scaled_time(b, 1e9).unwrap_or(SimTime::MAX)),
                },
            },
            warmup_vms: self.run.warmup_vms,
            seed: self.run.seed,
            replication,
            events: resources::lifecycle_events(&self.events)?,
            timeline_interval: self
                .run
                .timeline_s
                .and_then(SimTime::from_secs_f64)
                .filter(|t| *t > SimTime::ZERO),
            datacenter,
        })
    }
}
