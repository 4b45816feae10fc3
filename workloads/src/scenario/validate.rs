//! [`Scenario::validate`]: every value of a scenario checked, errors naming the key.

use sim::policy::{self, AdmissionParams};

use super::Scenario;
use crate::check::{check_non_negative, check_positive};
use crate::datacenter;
use crate::error::Error;
use crate::generator::Generator;
use crate::limits::{MAX_DEVICES, MAX_HOSTS};
use crate::resources;
use crate::units::{gib_to_mib, scaled_time};

/// The number of hosts of the `[[hosts]]` groups.
fn total_hosts_of(s: &Scenario) -> u64 {
    s.hosts.iter().map(|h| u64::from(h.count)).sum()
}

impl Scenario {
    /// Checks `[migration]`, `[consolidation]` and the `migrate` events (their `to_host`
    /// against `hosts` hosts, when known).
    pub(super) fn check_migration(&self, hosts: Option<u64>) -> Result<(), Error> {
        let migration = crate::migration::migration_spec(self.migration.as_ref())?.is_some();
        crate::migration::consolidation_spec(self.consolidation.as_ref(), migration)?;
        crate::migration::check_migrate_events(&self.events, hosts, migration)
    }

    /// Checks every value (ranges, weights, policy names). Errors name the key but no file
    /// or line (those are added when the scenario comes from a file).
    pub fn validate(&self) -> Result<(), Error> {
        let run = &self.run;
        if let Some(t) = run.timeline_s
            && !(t.is_finite() && t > 0.0)
        {
            return Err(Error::invalid(
                "run.timeline_s",
                format!("must be > 0, got {t}"),
            ));
        }
        for (g, h) in self.hosts.iter().enumerate() {
            resources::check_host(
                g,
                h.threads_per_core,
                h.smt_slowdown,
                h.numa_nodes,
                h.numa_remote_slowdown,
                h.translation_overhead,
                h.first_touch_us,
                h.exit_cost_us,
            )?;
            resources::devices(g, &h.devices)?;
            if let Some(r) = h.resident_gib
                && !(r.is_finite() && r >= 0.0)
            {
                return Err(Error::invalid(
                    format!("hosts.{g}.resident_gib"),
                    format!("must be ≥ 0, got {r}"),
                ));
            }
        }
        for (g, h) in self.hosts.iter().enumerate() {
            if let Some(p) = &h.power {
                datacenter::host_power(g, p)?;
            }
            datacenter::boot_time(g, h.boot_s)?;
        }
        datacenter::power_off_idle(self.cluster.power_off_idle_s)?;
        if let Some(f) = &self.cluster.failures {
            datacenter::random_failures(f)?;
        }
        if !(self.cpu.migration_us.is_finite() && self.cpu.migration_us >= 0.0) {
            return Err(Error::invalid(
                "cpu.migration_us",
                format!("must be ≥ 0, got {}", self.cpu.migration_us),
            ));
        }
        if let Some(io) = &self.workload.io {
            let profile = resources::io_profile(io)?;
            if !self
                .hosts
                .iter()
                .all(|h| h.devices.iter().any(|d| d.kind == profile.device))
            {
                return Err(Error::invalid(
                    "workload.io.device",
                    format!(
                        "every host needs a {} in [[hosts.devices]] for this workload",
                        profile.device.name()
                    ),
                ));
            }
        }
        if let Some(m) = &self.workload.memory {
            resources::memory_profile(m)?;
        }
        resources::lifecycle_events(&self.events)?;
        self.check_migration(
            self.cluster
                .node_list
                .is_none()
                .then_some(total_hosts_of(self)),
        )?;
        if run.vms == 0 {
            return Err(Error::invalid("run.vms", "must be ≥ 1, got 0"));
        }
        if run.replications == 0 {
            return Err(Error::invalid("run.replications", "must be ≥ 1, got 0"));
        }
        if run.warmup_vms >= run.vms {
            return Err(Error::invalid(
                "run.warmup_vms",
                format!(
                    "must be less than run.vms ({}), got {}",
                    run.vms, run.warmup_vms
                ),
            ));
        }

        if self.hosts.is_empty() && self.cluster.node_list.is_none() {
            return Err(Error::invalid(
                "hosts",
                "at least one [[hosts]] table is needed",
            ));
        }
        if self.cluster.node_list.as_deref() == Some("") {
            return Err(Error::invalid("cluster.node_list", "must not be empty"));
        }
        self.cluster
            .node_overcommit
            .validate("cluster.node_overcommit")?;
        self.cluster
            .node_memory_overcommit
            .validate("cluster.node_memory_overcommit")?;
        let mut total_hosts: u64 = 0;
        let mut total_devices: u64 = 0;
        for (i, h) in self.hosts.iter().enumerate() {
            let key = |name: &str| format!("hosts[{i}].{name}");
            if h.count == 0 {
                return Err(Error::invalid(key("count"), "must be ≥ 1, got 0"));
            }
            total_hosts += u64::from(h.count);
            if total_hosts > MAX_HOSTS {
                return Err(Error::invalid(
                    key("count"),
                    format!(
                        "the scenario would have {total_hosts} hosts; at most {MAX_HOSTS} are supported"
                    ),
                ));
            }
            total_devices = total_devices
                .saturating_add(u64::from(h.count).saturating_mul(h.devices.len() as u64));
            if total_devices > MAX_DEVICES {
                return Err(Error::invalid(
                    key("devices"),
                    format!(
                        "the scenario would have {total_devices} devices over all hosts \
                         (count × devices per host); at most {MAX_DEVICES} are supported"
                    ),
                ));
            }
            if h.pcpus == 0 {
                return Err(Error::invalid(key("pcpus"), "must be ≥ 1, got 0"));
            }
            check_non_negative(&key("memory_gib"), h.memory_gib)?;
            if gib_to_mib(h.memory_gib).is_none() {
                return Err(Error::invalid(
                    key("memory_gib"),
                    format!("too large, got {}", h.memory_gib),
                ));
            }
            h.overcommit.validate(&key("overcommit"))?;
            h.memory_overcommit.validate(&key("memory_overcommit"))?;
        }

        check_non_negative("admission.aging_per_s", self.admission.aging_per_s)?;
        policy::admission_policy(
            &self.admission.policy,
            &AdmissionParams {
                aging_per_s: self.admission.aging_per_s,
            },
        )
        .map_err(|e| Error::invalid("admission.policy", e.to_string()))?;
        policy::cpu_policy(&self.cpu.policy)
            .map_err(|e| Error::invalid("cpu.policy", e.to_string()))?;
        check_positive("cpu.quantum_ms", self.cpu.quantum_ms)?;
        check_non_negative("cpu.context_switch_us", self.cpu.context_switch_us)?;
        for (key, value, ns_per_unit) in [
            ("cpu.quantum_ms", self.cpu.quantum_ms, 1e6),
            ("cpu.context_switch_us", self.cpu.context_switch_us, 1e3),
        ] {
            if scaled_time(value, ns_per_unit).is_none() {
                return Err(Error::invalid(key, format!("too large, got {value}")));
            }
        }

        check_positive("workload.load_scale", self.workload.load_scale)?;
        match &self.workload.trace {
            Some(t) => {
                for (name, set) in [
                    ("arrival", self.workload.arrival.is_some()),
                    ("service", self.workload.service.is_some()),
                ] {
                    if set {
                        return Err(Error::invalid(
                            format!("workload.{name}"),
                            "not used with a trace workload: remove it, or remove the trace",
                        ));
                    }
                }
                t.validate("workload.trace")?;
                if let Some(limit) = t.limit
                    && run.warmup_vms >= limit
                {
                    return Err(Error::invalid(
                        "run.warmup_vms",
                        format!(
                            "must be less than workload.trace.limit ({limit}), got {}",
                            run.warmup_vms
                        ),
                    ));
                }
            }
            // Building the generator checks the workload (and allocates only its samplers).
            None => {
                Generator::new(&self.workload, run.seed, 0, run.vms)?;
            }
        }
        super::cost::check_scenario(self)
    }
}
