//! Scenario settings of the resource model: devices, SMT, NUMA, paging and VM-exit costs of
//! a host (`[[hosts]]` keys and `[[hosts.devices]]`), the VMs' I/O and memory behaviour
//! (`[workload] io`, `[workload] memory`) and lifecycle events (`[[events]]`).
//!
//! Every setting has a default that costs nothing, so a scenario without them simulates
//! exactly as before.

use serde::{Deserialize, Serialize};
use sim::{
    DeviceKind, DeviceSpec, IoBursts, IoProfile, LifecycleAction, LifecycleEvent, MemoryProfile,
    SimTime, VirtualDevice,
};

use crate::check::{finite_non_negative, finite_positive, fraction_below_one, micros, not_one_of};
use crate::error::Error;
pub use crate::units::{PageSize, us};

/// `[[hosts.devices]]`: a physical device of every host in the group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSettings {
    /// `"disk"` or `"nic"`.
    #[serde(with = "crate::names::named")]
    pub kind: DeviceKind,
    /// Bandwidth in MB/s (10⁶ bytes per second, > 0).
    pub bandwidth_mbps: f64,
    /// Fixed time per request, in microseconds (default 0).
    #[serde(default)]
    pub latency_us: f64,
    /// Requests served at once (default 1, ≥ 1).
    #[serde(default = "one")]
    pub channels: u32,
    /// Whether this device takes swap-ins (default: the first disk with `swap = true`,
    /// else an implicit SSD-like swap device: 100 µs, 500 MB/s, 1 channel).
    #[serde(default, skip_serializing_if = "is_false")]
    pub swap: bool,
}

fn one() -> u32 {
    1
}
fn is_false(b: &bool) -> bool {
    !*b
}

/// `[workload] io`: VMs alternate CPU bursts with I/O requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoSettings {
    /// Mean CPU burst between requests, in milliseconds (exponential bursts). Give this or
    /// `requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_ms: Option<f64>,
    /// Exactly this many requests per vCPU, the CPU work cut into equal bursts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// Mean request size in KiB (exponential sizes; default 0: latency only).
    #[serde(default)]
    pub size_kib: f64,
    /// Target device kind (default `"disk"`).
    #[serde(with = "crate::names::named", default = "disk")]
    pub device: DeviceKind,
    /// Virtual device type: `"emulated"`, `"virtio"` (default) or `"passthrough"`.
    #[serde(with = "crate::names::named", default = "virtio", rename = "virtual")]
    pub virtual_device: VirtualDevice,
    /// Share of VMs that do I/O (default 1: all; the others are CPU-bound).
    #[serde(default = "one_f64")]
    pub fraction: f64,
}

fn disk() -> DeviceKind {
    DeviceKind::Disk
}
fn virtio() -> VirtualDevice {
    VirtualDevice::Virtio
}
fn one_f64() -> f64 {
    1.0
}

/// `[workload] memory`: each VM touches a working set while it computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySettings {
    /// Working-set size in GiB (≥ 0).
    pub working_set_gib: f64,
    /// Memory touches per millisecond of CPU work (≥ 0), uniform over the working set.
    #[serde(default)]
    pub touches_per_ms: f64,
    /// MiB written per second while the VM runs (≥ 0, default 0), what a live migration
    /// sends again in its pre-copy rounds.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub dirty_mib_per_s: f64,
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// `[[events]]`: a lifecycle event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// When, in seconds.
    pub at_s: f64,
    /// VM id (ids count arrivals from 0).
    pub vm: u64,
    /// `"pause"`, `"resume"`, `"stop"` or `"migrate"`.
    #[serde(with = "crate::names::named")]
    pub action: LifecycleAction,
    /// Destination host of a `"migrate"` (host numbers count from 0 in file order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_host: Option<u32>,
}

/// Converts `[[hosts.devices]]` of group `g` into the engine's devices and the index of the
/// swap device.
pub fn devices(
    g: usize,
    list: &[DeviceSettings],
) -> Result<(Vec<DeviceSpec>, Option<usize>), Error> {
    let mut out = Vec::with_capacity(list.len());
    let mut swap = None;
    for (i, d) in list.iter().enumerate() {
        let key = |k: &str| format!("hosts.{g}.devices.{i}.{k}");
        let kind = d.kind;
        finite_positive(&key("bandwidth_mbps"), d.bandwidth_mbps)?;
        if d.channels == 0 {
            return Err(Error::invalid(key("channels"), "must be ≥ 1, got 0"));
        }
        if d.swap {
            if kind != DeviceKind::Disk {
                return Err(Error::invalid(key("swap"), "only a disk can take swap"));
            }
            if swap.is_some() {
                return Err(Error::invalid(
                    key("swap"),
                    "another device already takes swap",
                ));
            }
            swap = Some(i);
        }
        out.push(DeviceSpec {
            kind,
            bandwidth_bytes_per_s: d.bandwidth_mbps * 1e6,
            latency: micros(&key("latency_us"), d.latency_us)?,
            channels: d.channels,
        });
    }
    Ok((out, swap))
}

/// Checks the host-level resource numbers of group `g`.
#[allow(clippy::too_many_arguments)]
pub fn check_host(
    g: usize,
    threads_per_core: u32,
    smt_slowdown: f64,
    numa_nodes: u32,
    numa_remote_slowdown: f64,
    translation_overhead: f64,
    first_touch_us: f64,
    exit_cost_us: f64,
) -> Result<(), Error> {
    let key = |k: &str| format!("hosts.{g}.{k}");
    if threads_per_core == 0 {
        return Err(Error::invalid(
            key("threads_per_core"),
            "must be ≥ 1, got 0",
        ));
    }
    if numa_nodes == 0 {
        return Err(Error::invalid(key("numa_nodes"), "must be ≥ 1, got 0"));
    }
    fraction_below_one(&key("smt_slowdown"), smt_slowdown)?;
    fraction_below_one(&key("numa_remote_slowdown"), numa_remote_slowdown)?;
    finite_non_negative(&key("translation_overhead"), translation_overhead)?;
    micros(&key("first_touch_us"), first_touch_us)?;
    micros(&key("exit_cost_us"), exit_cost_us)?;
    Ok(())
}

/// `"4k"` → 4096, `"2m"` → 2 MiB, `"1g"` → 1 GiB (see [`PageSize::from_name`]).
pub fn page_bytes(key: &str, s: &str) -> Result<u64, Error> {
    PageSize::from_name(s)
        .map(PageSize::bytes)
        .ok_or_else(|| Error::invalid(key, not_one_of(&PageSize::NAMES, s)))
}

/// The engine's I/O profile for `[workload] io`.
pub fn io_profile(io: &IoSettings) -> Result<IoProfile, Error> {
    let bursts = match (io.burst_ms, io.requests) {
        (Some(ms), None) => {
            finite_positive("workload.io.burst_ms", ms)?;
            IoBursts::Exponential(
                SimTime::from_secs_f64(ms / 1e3)
                    .ok_or_else(|| Error::invalid("workload.io.burst_ms", "too large"))?,
            )
        }
        (None, Some(n)) => IoBursts::Count(n),
        _ => {
            return Err(Error::invalid(
                "workload.io",
                "give exactly one of burst_ms (exponential bursts) and requests (a fixed count)",
            ));
        }
    };
    finite_non_negative("workload.io.size_kib", io.size_kib)?;
    if !(0.0..=1.0).contains(&io.fraction) {
        return Err(Error::invalid(
            "workload.io.fraction",
            format!("must be in [0, 1], got {}", io.fraction),
        ));
    }
    Ok(IoProfile {
        bursts,
        size_mean_bytes: io.size_kib * 1024.0,
        device: io.device,
        virtual_device: io.virtual_device,
    })
}

/// The engine's memory profile for `[workload] memory`.
pub fn memory_profile(m: &MemorySettings) -> Result<MemoryProfile, Error> {
    finite_non_negative("workload.memory.working_set_gib", m.working_set_gib)?;
    finite_non_negative("workload.memory.touches_per_ms", m.touches_per_ms)?;
    finite_non_negative("workload.memory.dirty_mib_per_s", m.dirty_mib_per_s)?;
    if m.dirty_mib_per_s > 1e12 {
        return Err(Error::invalid(
            "workload.memory.dirty_mib_per_s",
            format!("too large (at most 10¹² MiB/s), got {}", m.dirty_mib_per_s),
        ));
    }
    let mib = (m.working_set_gib * 1024.0 + 0.5).floor();
    if mib >= u64::MAX as f64 {
        return Err(Error::invalid(
            "workload.memory.working_set_gib",
            "too large",
        ));
    }
    Ok(MemoryProfile {
        working_set_mib: mib as u64,
        touches_per_ms: m.touches_per_ms,
    })
}

/// The engine's lifecycle events for `[[events]]`.
pub fn lifecycle_events(list: &[EventSettings]) -> Result<Vec<LifecycleEvent>, Error> {
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let key = |k: &str| format!("events.{i}.{k}");
            finite_non_negative(&key("at_s"), e.at_s)?;
            Ok(LifecycleEvent {
                at: SimTime::from_secs_f64(e.at_s)
                    .ok_or_else(|| Error::invalid(key("at_s"), "too large"))?,
                vm: e.vm,
                action: match (e.action, e.to_host) {
                    (LifecycleAction::Migrate { .. }, Some(to_host)) => {
                        LifecycleAction::Migrate { to_host }
                    }
                    (action, _) => action,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_convert_and_check() {
        let d = |kind, swap| DeviceSettings {
            kind,
            bandwidth_mbps: 200.0,
            latency_us: 50.0,
            channels: 2,
            swap,
        };
        let (list, swap) =
            devices(0, &[d(DeviceKind::Nic, false), d(DeviceKind::Disk, true)]).unwrap();
        assert_eq!(swap, Some(1));
        assert_eq!(list[0].kind, DeviceKind::Nic);
        assert_eq!(list[1].bandwidth_bytes_per_s, 200e6);
        assert_eq!(list[1].latency, SimTime::from_micros(50));
        // 1 MB at 200 MB/s = 5 ms, plus 50 µs.
        assert_eq!(list[1].service_time(1e6), SimTime::from_micros(5050));
        // An unknown kind ("tape") is refused as the file is read: see the scenario tests.
        let e = devices(0, &[d(DeviceKind::Nic, true)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("swap"), "{e}");
        let e = devices(0, &[d(DeviceKind::Disk, true), d(DeviceKind::Disk, true)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("devices.1.swap"), "{e}");
    }

    #[test]
    fn io_needs_exactly_one_burst_rule() {
        let mut io = IoSettings {
            burst_ms: Some(20.0),
            requests: None,
            size_kib: 64.0,
            device: DeviceKind::Disk,
            virtual_device: VirtualDevice::Emulated,
            fraction: 1.0,
        };
        let p = io_profile(&io).unwrap();
        assert_eq!(p.bursts, IoBursts::Exponential(SimTime::from_millis(20)));
        assert_eq!(p.size_mean_bytes, 65536.0);
        assert_eq!(p.virtual_device, VirtualDevice::Emulated);
        io.requests = Some(3);
        assert!(io_profile(&io).is_err());
        io.burst_ms = None;
        assert_eq!(io_profile(&io).unwrap().bursts, IoBursts::Count(3));
        // An unknown virtual device ("sr-iov") is refused as the file is read: see the
        // scenario tests.
    }

    #[test]
    fn pages_memory_and_events() {
        assert_eq!(page_bytes("k", "2m").unwrap(), 2 << 20);
        assert!(page_bytes("k", "3k").is_err());
        let m = memory_profile(&MemorySettings {
            working_set_gib: 1.5,
            touches_per_ms: 10.0,
            dirty_mib_per_s: 0.0,
        })
        .unwrap();
        assert!(
            memory_profile(&MemorySettings {
                working_set_gib: 1.0,
                touches_per_ms: 0.0,
                dirty_mib_per_s: -1.0,
            })
            .is_err()
        );
        assert_eq!(m.working_set_mib, 1536);
        let ev = lifecycle_events(&[EventSettings {
            at_s: 2.5,
            vm: 7,
            action: LifecycleAction::Pause,
            to_host: None,
        }])
        .unwrap();
        assert_eq!(ev[0].at, SimTime::from_millis(2500));
        assert_eq!(ev[0].action, LifecycleAction::Pause);
        let bad = lifecycle_events(&[EventSettings {
            at_s: -1.0,
            vm: 0,
            action: LifecycleAction::Pause,
            to_host: None,
        }]);
        assert!(bad.unwrap_err().to_string().contains("events.0.at_s"));
        assert!(check_host(0, 0, 0.0, 1, 0.0, 0.0, 0.0, 0.0).is_err());
        assert!(check_host(0, 2, 1.0, 1, 0.0, 0.0, 0.0, 0.0).is_err());
        assert!(check_host(0, 2, 0.3, 2, 0.2, 0.01, 1.3, 16.0).is_ok());
    }
}
