//! Scenario settings of live migration and consolidation: `[migration]` (the link and the
//! pre-copy thresholds), `[consolidation]` (a policy run every interval) and the
//! `migrate` action of `[[events]]` (`to_host`). Without them nothing migrates, and a
//! scenario simulates exactly as before.

use serde::{Deserialize, Serialize};
use sim::policy::consolidation::{consolidation_names, consolidation_policy};
use sim::{ConsolidationSpec, LifecycleAction, MigrationSpec, SimTime};

use crate::error::Error;
use crate::resources::EventSettings;

/// `[migration]`: the link live migrations use and when the pre-copy stops.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationSettings {
    /// Bandwidth of the migration link of hosts without a NIC, in MB/s (10⁶ bytes per
    /// second, > 0): a dedicated migration network. Needed only when some host has no
    /// `kind = "nic"` device; a host with one migrates through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<f64>,
    /// Size of the requests migration data is sent in through a NIC, MiB (default 64, > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_mib: Option<f64>,
    /// The VM is paused once at most this many MiB are left to send (default 64, ≥ 0).
    #[serde(default = "default_stop_copy")]
    pub stop_copy_mib: f64,
    /// The most pre-copy rounds, round 0 included (default 30, ≥ 1).
    #[serde(default = "default_max_rounds")]
    pub max_rounds: u32,
    /// Time to resume the VM on the destination, ms (default 0, ≥ 0).
    #[serde(default)]
    pub resume_ms: f64,
}

fn default_stop_copy() -> f64 {
    64.0
}
fn default_max_rounds() -> u32 {
    30
}

/// `[consolidation]`: a policy that migrates VMs every `interval_s`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationSettings {
    /// `"none"` (default) or `"threshold"` (see `sim::policy::consolidation`).
    #[serde(default = "default_policy")]
    pub policy: String,
    /// Seconds between decisions (default 300, > 0).
    #[serde(default = "default_interval")]
    pub interval_s: f64,
    /// Hosts whose share of busy pCPUs is below this are emptied (default 0.2).
    #[serde(default = "default_low")]
    pub low: f64,
    /// Hosts above this shed their smallest VM (default 0.8, > `low`, ≤ 1).
    #[serde(default = "default_high")]
    pub high: f64,
}

fn default_policy() -> String {
    "none".into()
}
fn default_interval() -> f64 {
    300.0
}
fn default_low() -> f64 {
    0.2
}
fn default_high() -> f64 {
    0.8
}

/// A time in seconds × `scale` (ms: 1e-3) that is finite and ≥ 0, or an error on `key`.
fn time(key: &str, value: f64, scale: f64) -> Result<SimTime, Error> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(Error::invalid(key, format!("must be ≥ 0, got {value}")));
    }
    SimTime::from_secs_f64(value * scale).ok_or_else(|| Error::invalid(key, "too large"))
}

/// The engine's migration settings for `[migration]`; `without_nic` names a host (group)
/// that has no NIC, which then needs `bandwidth_mbps`.
pub fn migration_spec(
    m: Option<&MigrationSettings>,
    without_nic: Option<&str>,
) -> Result<Option<MigrationSpec>, Error> {
    let Some(m) = m else {
        return Ok(None);
    };
    let bandwidth = match (m.bandwidth_mbps, without_nic) {
        (Some(bw), _) => {
            if !(bw.is_finite() && bw > 0.0 && bw * 1e6 < u64::MAX as f64) {
                return Err(Error::invalid(
                    "migration.bandwidth_mbps",
                    format!("must be > 0, got {bw}"),
                ));
            }
            ((bw * 1e6).round() as u64).max(1)
        }
        (None, Some(host)) => {
            return Err(Error::invalid(
                "migration.bandwidth_mbps",
                format!("needed: {host} has no kind = \"nic\" device to migrate through"),
            ));
        }
        (None, None) => 0,
    };
    let chunk = m.chunk_mib.unwrap_or(64.0);
    if !(chunk.is_finite() && chunk > 0.0 && chunk * 1048576.0 < u64::MAX as f64) {
        return Err(Error::invalid(
            "migration.chunk_mib",
            format!("must be > 0, got {chunk}"),
        ));
    }
    let stop = m.stop_copy_mib;
    if !(stop.is_finite() && stop >= 0.0 && stop * 1048576.0 < u64::MAX as f64) {
        return Err(Error::invalid(
            "migration.stop_copy_mib",
            format!("must be ≥ 0, got {stop}"),
        ));
    }
    if m.max_rounds == 0 {
        return Err(Error::invalid("migration.max_rounds", "must be ≥ 1, got 0"));
    }
    Ok(Some(MigrationSpec {
        bandwidth_bytes_per_s: bandwidth,
        chunk_bytes: ((chunk * 1048576.0).round() as u64).max(1),
        stop_copy_bytes: (stop * 1048576.0).round() as u64,
        max_rounds: m.max_rounds,
        resume: time("migration.resume_ms", m.resume_ms, 1e-3)?,
    }))
}

/// The engine's consolidation settings for `[consolidation]` (`None` for policy
/// `"none"`); a policy other than `"none"` needs `[migration]`.
pub fn consolidation_spec(
    c: Option<&ConsolidationSettings>,
    migration: bool,
) -> Result<Option<ConsolidationSpec>, Error> {
    let Some(c) = c else {
        return Ok(None);
    };
    let Some(entry) = consolidation_policy(&c.policy) else {
        return Err(Error::invalid(
            "consolidation.policy",
            format!(
                "unknown consolidation policy `{}`; known: {}",
                c.policy,
                consolidation_names()
            ),
        ));
    };
    for (key, v) in [("consolidation.low", c.low), ("consolidation.high", c.high)] {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            return Err(Error::invalid(key, format!("must be in [0, 1], got {v}")));
        }
    }
    if c.low >= c.high {
        return Err(Error::invalid(
            "consolidation.low",
            format!("must be < consolidation.high ({}), got {}", c.high, c.low),
        ));
    }
    if !(c.interval_s.is_finite() && c.interval_s > 0.0) {
        return Err(Error::invalid(
            "consolidation.interval_s",
            format!("must be > 0, got {}", c.interval_s),
        ));
    }
    let interval = time("consolidation.interval_s", c.interval_s, 1.0)?;
    if (entry.make)(c.low, c.high).is_none() {
        return Ok(None);
    }
    if !migration {
        return Err(Error::invalid(
            "consolidation.policy",
            "consolidation migrates VMs: it needs a [migration] table (bandwidth_mbps)",
        ));
    }
    Ok(Some(ConsolidationSpec {
        policy: c.policy.clone(),
        interval,
        low: c.low,
        high: c.high,
    }))
}

/// Checks the `migrate` events: each names a `to_host` below `hosts` (when the number of
/// hosts is known) and needs `[migration]`; other actions take no `to_host`.
pub fn check_migrate_events(
    events: &[EventSettings],
    hosts: Option<u64>,
    migration: bool,
) -> Result<(), Error> {
    for (i, e) in events.iter().enumerate() {
        let key = format!("events.{i}.to_host");
        match (e.action, e.to_host) {
            (LifecycleAction::Migrate { .. }, None) => {
                return Err(Error::invalid(key, "a migrate event needs to_host"));
            }
            (LifecycleAction::Migrate { .. }, Some(to)) => {
                if let Some(n) = hosts
                    && u64::from(to) >= n
                {
                    return Err(Error::invalid(
                        key,
                        format!(
                            "host {to} does not exist: the cluster has {n} hosts (0 to {})",
                            n.saturating_sub(1)
                        ),
                    ));
                }
                if !migration {
                    return Err(Error::invalid(
                        format!("events.{i}.action"),
                        "migrate needs a [migration] table (bandwidth_mbps)",
                    ));
                }
            }
            (_, Some(_)) => {
                return Err(Error::invalid(key, "only a migrate event takes to_host"));
            }
            (_, None) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_convert_and_check() {
        let mut m = MigrationSettings {
            bandwidth_mbps: Some(1000.0),
            chunk_mib: None,
            stop_copy_mib: 64.0,
            max_rounds: 30,
            resume_ms: 2.0,
        };
        let spec = migration_spec(Some(&m), None).unwrap().unwrap();
        assert_eq!(spec.bandwidth_bytes_per_s, 1_000_000_000);
        // 64 MiB = 67 108 864 B by default.
        assert_eq!(spec.chunk_bytes, 64 << 20);
        assert_eq!(spec.stop_copy_bytes, 64 << 20);
        assert_eq!(spec.resume, SimTime::from_millis(2));
        m.bandwidth_mbps = Some(f64::NAN);
        let e = migration_spec(Some(&m), None).unwrap_err().to_string();
        assert!(e.contains("migration.bandwidth_mbps"), "{e}");
        m.bandwidth_mbps = Some(10.0);
        m.max_rounds = 0;
        assert!(migration_spec(Some(&m), None).is_err());
        // Without a dedicated link: fine when every host has a NIC (bandwidth 0 = none),
        // an error naming the host without one otherwise.
        m.max_rounds = 30;
        m.bandwidth_mbps = None;
        m.chunk_mib = Some(0.5);
        let spec = migration_spec(Some(&m), None).unwrap().unwrap();
        // 0.5 MiB = 524 288 B.
        assert_eq!((spec.bandwidth_bytes_per_s, spec.chunk_bytes), (0, 524_288));
        let e = migration_spec(Some(&m), Some("hosts.1"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("migration.bandwidth_mbps") && e.contains("hosts.1 has no"),
            "{e}"
        );
        m.chunk_mib = Some(0.0);
        let e = migration_spec(Some(&m), None).unwrap_err().to_string();
        assert!(e.contains("migration.chunk_mib: must be > 0"), "{e}");

        let mut c = ConsolidationSettings {
            policy: "threshold".into(),
            interval_s: 60.0,
            low: 0.5,
            high: 0.5,
        };
        let e = consolidation_spec(Some(&c), true).unwrap_err().to_string();
        assert!(
            e.contains("consolidation.low") && e.contains("< consolidation.high"),
            "{e}"
        );
        c.low = 0.2;
        assert!(consolidation_spec(Some(&c), true).unwrap().is_some());
        let e = consolidation_spec(Some(&c), false).unwrap_err().to_string();
        assert!(e.contains("[migration]"), "{e}");
        c.policy = "none".into();
        assert_eq!(consolidation_spec(Some(&c), false).unwrap(), None);
        c.policy = "magic".into();
        let e = consolidation_spec(Some(&c), true).unwrap_err().to_string();
        assert!(e.contains("known: none, threshold"), "{e}");
    }
}
