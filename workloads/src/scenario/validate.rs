//! [`Scenario::validate`]: every value of a scenario checked, errors naming the key.

use sim::SimTime;
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
        let migration = crate::migration::migration_spec(
            self.migration.as_ref(),
            self.host_without_nic().as_deref(),
        )?
        .is_some();
        crate::migration::consolidation_spec(self.consolidation.as_ref(), migration)?;
        crate::migration::check_migrate_events(&self.events, hosts, migration)
    }

    /// A host group without a `kind = "nic"` device, named for errors (`hosts.G`, or
    /// the node-list hosts); `None` when every host has one.
    pub(super) fn host_without_nic(&self) -> Option<String> {
        if let Some(g) = self
            .hosts
            .iter()
            .position(|h| !h.devices.iter().any(|d| d.kind == sim::DeviceKind::Nic))
        {
            return Some(format!("hosts.{g}"));
        }
        self.cluster
            .node_list
            .as_ref()
            .map(|_| "the node-list hosts".to_string())
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
        if let Some(t) = run.cpu_share_s
            && !(t.is_finite() && t >= 1e-9)
        {
            return Err(Error::invalid(
                "run.cpu_share_s",
                format!("must be ≥ 1e-9 (one nanosecond), got {t}"),
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
        self.check_backfill()?;
        policy::cpu_policy(&self.cpu.policy)
            .map_err(|e| Error::invalid("cpu.policy", e.to_string()))?;
        check_positive("cpu.quantum_ms", self.cpu.quantum_ms)?;
        if let Some(s) = self.cpu.slice_ms {
            check_positive("cpu.slice_ms", s)?;
            // (At least 1 ns: a smaller slice would round to none.)
            if scaled_time(s, 1e6).is_some_and(|t| t == SimTime::ZERO) {
                return Err(Error::invalid(
                    "cpu.slice_ms",
                    format!("must be at least 1 ns (1e-6 ms), got {s}"),
                ));
            }
        }
        if let Some(p) = self.cpu.cap_period_ms {
            check_positive("cpu.cap_period_ms", p)?;
            if scaled_time(p, 1e6).is_none_or(|t| t < SimTime::from_millis(1)) {
                return Err(Error::invalid(
                    "cpu.cap_period_ms",
                    format!("must be from 1 ms to 1e12 ms, got {p}"),
                ));
            }
        }
        if let Some(c) = &self.workload.cpu_cap {
            // (A node list's hosts are not known before it is read.)
            let most = match &self.cluster.node_list {
                Some(_) => 4294,
                None => self.hosts.iter().map(|h| h.pcpus).max().unwrap_or(0),
            };
            let check = |c: f64| {
                if c > 0.0 && c <= f64::from(most) {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        "workload.cpu_cap",
                        format!("must be in (0, {most}] (pCPUs of the largest host), got {c}"),
                    ))
                }
            };
            match c {
                crate::dist::Choice::Fixed(v) => check(*v)?,
                // In a choice, 0 is "no cap".
                crate::dist::Choice::Weighted { values, .. } => {
                    for &v in values.iter().filter(|&&v| v != 0.0) {
                        check(v)?;
                    }
                }
            }
            if self.workload.trace.is_some() {
                return Err(Error::invalid(
                    "workload.cpu_cap",
                    "applies to generated workloads only, not to a trace",
                ));
            }
        }
        let levels = self.cpu.levels;
        if !(1..=sim::MlfqSpec::MAX_LEVELS).contains(&levels) {
            return Err(Error::invalid(
                "cpu.levels",
                format!("must be 1 ..= {}, got {levels}", sim::MlfqSpec::MAX_LEVELS),
            ));
        }
        let growth = self.cpu.quantum_growth;
        if !(growth.is_finite() && growth >= 1.0) {
            return Err(Error::invalid(
                "cpu.quantum_growth",
                format!("must be a number ≥ 1 (1 equal quanta, 2 doubling), got {growth}"),
            ));
        }
        if let Some(b) = self.cpu.boost_s {
            check_positive("cpu.boost_s", b)?;
            if scaled_time(b, 1e9).is_none() {
                return Err(Error::invalid("cpu.boost_s", format!("too large, got {b}")));
            }
        }
        check_non_negative("cpu.context_switch_us", self.cpu.context_switch_us)?;
        for (key, value, ns_per_unit) in [
            ("cpu.slice_ms", self.cpu.slice_ms.unwrap_or(1.0), 1e6),
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

impl Scenario {
    /// `[admission] backfill`: it plans with estimates, so a trace without any must say
    /// that the true runtimes stand in for them; hosts that switch off or fail are not
    /// supported with it yet.
    fn check_backfill(&self) -> Result<(), Error> {
        let b = self.admission.backfill;
        if b == sim::Backfill::None {
            return Ok(());
        }
        if let Some(t) = &self.workload.trace
            && !t.format.has_estimates()
            && t.estimate == crate::trace::TraceEstimate::Trace
        {
            return Err(Error::invalid(
                "admission.backfill",
                format!(
                    "\"{}\" plans with runtime estimates, but {} traces carry none; set \
                     estimate = \"exact\" in [workload] trace to plan with the true runtimes",
                    b.name(),
                    t.format.name()
                ),
            ));
        }
        if self.cluster.power_off_idle_s.is_some() || self.cluster.failures.is_some() {
            return Err(Error::invalid(
                "admission.backfill",
                format!(
                    "\"{}\" does not work with hosts switched off (cluster.power_off_idle_s) \
                     or failing (cluster.failures) yet",
                    b.name()
                ),
            ));
        }
        Ok(())
    }
}
