//! The checks of a [`SimConfig`], in one place: the engine runs only a configuration that
//! passed them, and a scenario loader or a replay on real hardware can call
//! [`SimConfig::validate`] to refuse the same configurations with the same messages.
//!
//! The checks are about the configuration alone. A workload is checked as it is read: a VM
//! with no vCPUs, one out of arrival order, or one that sends I/O to a device kind some
//! host lacks is an error of the run ([`crate::simulate`]).

use crate::error::SimError;
use crate::model::{Mapping, SimConfig};
use crate::policy::{self, AdmissionParams, AdmissionPolicy, CpuPolicy};
use crate::time::SimTime;

/// A configuration that passed [`SimConfig::check`], with its policies resolved from their
/// names (once: the engine takes them from here).
pub struct CheckedConfig<'a> {
    config: &'a SimConfig,
    admission_policy: Box<dyn AdmissionPolicy>,
    cpu_policy: Box<dyn CpuPolicy>,
}

impl<'a> CheckedConfig<'a> {
    /// The configuration that was checked.
    pub fn config(&self) -> &'a SimConfig {
        self.config
    }

    /// The admission policy `config.admission` names, with its parameters.
    pub fn admission_policy(&self) -> &dyn AdmissionPolicy {
        self.admission_policy.as_ref()
    }

    /// The CPU policy `config.cpu` names.
    pub fn cpu_policy(&self) -> &dyn CpuPolicy {
        self.cpu_policy.as_ref()
    }

    /// The configuration and its resolved policies (admission, CPU), taken apart.
    #[allow(clippy::type_complexity)]
    pub fn into_parts(self) -> (&'a SimConfig, Box<dyn AdmissionPolicy>, Box<dyn CpuPolicy>) {
        (self.config, self.admission_policy, self.cpu_policy)
    }
}

impl std::fmt::Debug for CheckedConfig<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedConfig")
            .field("config", self.config)
            .finish_non_exhaustive()
    }
}

/// `Ok` if a slowdown named `what` lies in [0, 1).
fn check_slowdown(slowdown: f64, what: &str) -> Result<(), SimError> {
    if !(0.0..1.0).contains(&slowdown) {
        return Err(SimError::InvalidConfig(format!(
            "{what} must be in [0, 1), got {slowdown}"
        )));
    }
    Ok(())
}

/// Live migration: a link > 0 for hosts without a NIC, chunks > 0 and at least one round; a known consolidation policy with
/// 0 ≤ `low` < `high` ≤ 1 and an interval > 0, only with migration; `migrate` events to
/// an existing host, only with migration.
/// The number of the first host for which `f` holds (evaluated once per group).
fn first_host_where(
    hosts: &crate::model::HostSpecs,
    f: impl Fn(&crate::model::HostSpec) -> bool,
) -> Option<usize> {
    let mut start = 0;
    for (h, count) in hosts.groups() {
        if f(h) {
            return Some(start);
        }
        start += count;
    }
    None
}

fn check_migration(c: &SimConfig) -> Result<(), SimError> {
    let bad = |m: String| Err(SimError::InvalidConfig(m));
    let d = &c.datacenter;
    if let Some(m) = &d.migration {
        if m.bandwidth_bytes_per_s == 0
            && let Some(h) = first_host_where(&c.cluster.hosts, |h| {
                !h.resources
                    .devices
                    .iter()
                    .any(|d| d.kind == crate::model::DeviceKind::Nic)
            })
        {
            return bad(format!(
                "migration bandwidth must be > 0: host {h} has no NIC to migrate through"
            ));
        }
        if m.chunk_bytes == 0 {
            return bad("migration chunk size must be > 0".into());
        }
        if m.max_rounds == 0 {
            return bad("migration max_rounds must be ≥ 1".into());
        }
    }
    if let Some(k) = &d.consolidation {
        if policy::consolidation::consolidation_policy(&k.policy).is_none() {
            return bad(format!(
                "unknown consolidation policy `{}`; known: {}",
                k.policy,
                policy::consolidation::consolidation_names()
            ));
        }
        if !(k.low >= 0.0 && k.high <= 1.0 && k.low < k.high) {
            return bad(format!(
                "consolidation thresholds need 0 ≤ low < high ≤ 1, got low {} and high {}",
                k.low, k.high
            ));
        }
        if k.interval == SimTime::ZERO {
            return bad("consolidation interval must be > 0".into());
        }
        if d.migration.is_none() {
            return bad("consolidation needs live migration settings".into());
        }
    }
    for e in &c.events {
        if let crate::model::LifecycleAction::Migrate { to_host } = e.action {
            if to_host as usize >= c.cluster.hosts.len() {
                return bad(format!(
                    "migrate event of VM {}: to_host {to_host} does not exist (the cluster has {} hosts)",
                    e.vm,
                    c.cluster.hosts.len()
                ));
            }
            if d.migration.is_none() {
                return bad(format!(
                    "migrate event of VM {}: needs live migration settings",
                    e.vm
                ));
            }
        }
    }
    Ok(())
}

impl SimConfig {
    /// Checks every value the engine relies on, in this order, and returns the first
    /// problem: the policy names (and the priority policy's `aging_per_s`, finite and
    /// ≥ 0), at least one host, a quantum > 0 for a time-sliced CPU policy, gang
    /// scheduling only with floating vCPUs and a non-preemptive policy, then per host: at
    /// least one pCPU, a translation overhead that is finite and ≥ 0, a swap device that
    /// exists, SMT and NUMA-remote slowdowns in [0, 1); last, a timeline interval > 0.
    pub fn validate(&self) -> Result<(), SimError> {
        self.check().map(|_| ())
    }

    /// [`SimConfig::validate`], keeping the resolved policies for the engine.
    pub fn check(&self) -> Result<CheckedConfig<'_>, SimError> {
        let admission_policy = policy::admission_policy(
            &self.admission.policy,
            &AdmissionParams {
                aging_per_s: self.admission.aging_per_s,
            },
        )?;
        let cpu_policy = policy::configured_cpu_policy(
            &self.cpu.policy,
            &policy::CpuParams {
                cpu: &self.cpu,
                seed: self.seed,
                replication: self.replication,
            },
        )?;
        self.check_with_policies(admission_policy, cpu_policy)
    }

    /// [`SimConfig::check`] with policy objects of the caller's own instead of the ones
    /// `admission.policy` and `cpu.policy` name (those names are then only labels and are
    /// not looked up). Every other check is the same, applied to these policies'
    /// capabilities (a time-sliced `cpu` needs a quantum > 0, …).
    pub fn check_with_policies(
        &self,
        admission_policy: Box<dyn AdmissionPolicy>,
        cpu_policy: Box<dyn CpuPolicy>,
    ) -> Result<CheckedConfig<'_>, SimError> {
        if self.cluster.hosts.is_empty() {
            return Err(SimError::InvalidConfig("the cluster has no hosts".into()));
        }
        if self.admission.backfill != crate::model::Backfill::None
            && (self.datacenter.power_off_idle.is_some() || self.datacenter.failures.is_some())
        {
            return Err(SimError::InvalidConfig(format!(
                "admission backfill \"{}\" does not work with hosts switched off or failing yet",
                self.admission.backfill.name()
            )));
        }
        if self.cpu.cap_period == SimTime::ZERO {
            return Err(SimError::InvalidConfig("the cap period must be > 0".into()));
        }
        if cpu_policy.time_sliced()
            && (self.cpu.quantum == SimTime::ZERO || self.cpu.slice == Some(SimTime::ZERO))
        {
            return Err(SimError::InvalidConfig(format!(
                "cpu policy `{}` needs a quantum > 0",
                self.cpu.policy
            )));
        }
        if self.cpu.gang {
            if self.cpu.mapping != Mapping::Floating {
                return Err(SimError::InvalidConfig(
                    "gang scheduling needs floating vCPUs (cpu.mapping = \"floating\")".into(),
                ));
            }
            if cpu_policy.preemptive() {
                return Err(SimError::InvalidConfig(format!(
                    "gang scheduling works with non-preemptive policies and rr, not `{}`",
                    self.cpu.policy
                )));
            }
        }
        // (Per group of identical hosts, naming its first host.)
        let mut next = 0;
        for (h, count) in self.cluster.hosts.groups() {
            let i = next;
            next += count;
            if h.pcpus == 0 {
                return Err(SimError::InvalidConfig(format!("host {i} has no pCPUs")));
            }
            let r = &h.resources;
            if !(r.translation_overhead >= 0.0 && r.translation_overhead.is_finite()) {
                return Err(SimError::InvalidConfig(format!(
                    "host {i}: translation overhead must be ≥ 0, got {}",
                    r.translation_overhead
                )));
            }
            if let Some(s) = r.swap_device
                && s >= r.devices.len()
            {
                return Err(SimError::InvalidConfig(format!(
                    "host {i}: swap device {s} does not exist"
                )));
            }
            check_slowdown(r.smt_slowdown, "smt_slowdown")?;
            check_slowdown(r.numa_remote_slowdown, "numa_remote_slowdown")?;
        }
        if self.timeline_interval == Some(SimTime::ZERO) {
            return Err(SimError::InvalidConfig(
                "timeline interval must be > 0".into(),
            ));
        }
        check_migration(self)?;
        Ok(CheckedConfig {
            config: self,
            admission_policy,
            cpu_policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{DeviceKind, DeviceSpec, Mapping, SimConfig};
    use crate::time::SimTime;

    fn err(c: &SimConfig) -> String {
        match c.validate() {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    /// Each check refuses its value with a message naming it; the first failing check in
    /// the documented order wins.
    #[test]
    fn each_check_names_its_value() {
        let base = SimConfig::single_host(2, 1024);
        assert_eq!(err(&base), "ok");

        let mut c = base.clone();
        c.cpu.policy = "nope".into();
        assert!(
            err(&c).starts_with("unknown cpu policy `nope`"),
            "{}",
            err(&c)
        );

        let mut c = base.clone();
        c.cluster.hosts.clear();
        assert_eq!(err(&c), "invalid configuration: the cluster has no hosts");

        let mut c = SimConfig::textbook("rr", SimTime::ZERO);
        assert_eq!(
            err(&c),
            "invalid configuration: cpu policy `rr` needs a quantum > 0"
        );
        // A zero quantum is fine for a policy that does not slice time.
        c.cpu.policy = "fcfs".into();
        assert_eq!(err(&c), "ok");

        let mut c = base.clone();
        c.cpu.gang = true;
        c.cpu.mapping = Mapping::Pinned;
        assert!(err(&c).contains("gang scheduling needs floating vCPUs"));
        c.cpu.mapping = Mapping::Floating;
        c.cpu.policy = "srtf".into();
        assert!(err(&c).contains("not `srtf`"), "{}", err(&c));

        let mut c = base.clone();
        c.cluster.hosts[0].pcpus = 0;
        assert_eq!(err(&c), "invalid configuration: host 0 has no pCPUs");

        // Checked once per group of identical hosts, naming the group's first host: 3
        // good hosts, then 2 without pCPUs (hosts 3 and 4), then 1 good.
        let mut c = base.clone();
        let good = c.cluster.hosts[0].clone();
        let bad = crate::model::HostSpec {
            pcpus: 0,
            ..good.clone()
        };
        c.cluster.hosts = crate::model::HostSpecs::repeated(good.clone(), 3);
        c.cluster.hosts.push_n(bad, 2);
        c.cluster.hosts.push(good);
        assert_eq!(err(&c), "invalid configuration: host 3 has no pCPUs");

        let mut c = base.clone();
        c.cluster.hosts[0].resources.translation_overhead = f64::NAN;
        assert!(err(&c).contains("host 0: translation overhead must be ≥ 0, got NaN"));

        let mut c = base.clone();
        c.cluster.hosts[0].resources.swap_device = Some(0);
        assert_eq!(
            err(&c),
            "invalid configuration: host 0: swap device 0 does not exist"
        );
        c.cluster.hosts[0].resources.devices.push(DeviceSpec {
            kind: DeviceKind::Disk,
            bandwidth_bytes_per_s: 1e9,
            latency: SimTime::ZERO,
            channels: 1,
        });
        assert_eq!(err(&c), "ok");

        let mut c = base.clone();
        c.cluster.hosts[0].resources.smt_slowdown = 1.0;
        assert_eq!(
            err(&c),
            "invalid configuration: smt_slowdown must be in [0, 1), got 1"
        );
        // Both slowdowns wrong: the SMT one is reported first.
        c.cluster.hosts[0].resources.numa_remote_slowdown = -0.5;
        assert!(err(&c).contains("smt_slowdown"));
        c.cluster.hosts[0].resources.smt_slowdown = 0.0;
        assert_eq!(
            err(&c),
            "invalid configuration: numa_remote_slowdown must be in [0, 1), got -0.5"
        );

        let mut c = base.clone();
        c.timeline_interval = Some(SimTime::ZERO);
        assert_eq!(
            err(&c),
            "invalid configuration: timeline interval must be > 0"
        );

        // An unknown policy comes before every other problem.
        c.admission.policy = "nope".into();
        c.cluster.hosts.clear();
        assert!(err(&c).starts_with("unknown admission policy `nope`"));
    }
}
