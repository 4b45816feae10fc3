//! Refusing up front a scenario whose hosts would not fit in this machine's memory, with
//! the figure, rather than being killed by the kernel half-way through building them.

use sim::SimConfig;

use crate::error::{Result, bail};

/// `Ok` when the engine state of `config`'s hosts ([`sim::engine::estimated_host_bytes`])
/// fits in the memory this machine has available (`MemAvailable` of `/proc/meminfo`; on
/// systems without it, nothing is checked).
pub fn check_fits_in_memory(config: &SimConfig) -> Result<()> {
    let need = sim::engine::estimated_host_bytes(config);
    match available_bytes() {
        Some(have) => check(need, have, config),
        None => Ok(()),
    }
}

/// The check itself, for a given amount of available memory.
fn check(need: u64, have: u64, config: &SimConfig) -> Result<()> {
    if need > have {
        let pcpus: u64 = config
            .cluster
            .hosts
            .groups()
            .map(|(h, count)| u64::from(h.pcpus) * count as u64)
            .sum();
        bail!(
            "{} hosts with {pcpus} pCPUs need about {} MB of engine state, more than the {} MB \
             this machine has available: use fewer hosts or pCPUs",
            config.cluster.hosts.len(),
            need.div_ceil(1_000_000),
            have / 1_000_000
        );
    }
    Ok(())
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1,000 hosts of 16 pCPUs need more than 1,000 × 16 × 64 B (a host's state is over
    /// 1 KiB: its struct with 16 pCPUs of 32 B, its swap device, its datacenter state):
    /// refused with 1 MB available, accepted with 1 GB.
    #[test]
    fn refuses_more_than_available() {
        let mut config = SimConfig::single_host(16, 1024);
        let host = config.cluster.hosts[0].clone();
        config.cluster.hosts = sim::HostSpecs::repeated(host, 1000);
        let need = sim::engine::estimated_host_bytes(&config);
        assert!(need > 1000 * 16 * 64, "{need}");
        let e = check(need, 1_000_000, &config).unwrap_err().to_string();
        assert!(e.contains("1000 hosts with 16000 pCPUs"), "{e}");
        assert!(e.contains("than the 1 MB"), "{e}");
        assert!(check(need, 1_000_000_000, &config).is_ok());
    }
}
