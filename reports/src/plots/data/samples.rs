//! Host, device and power samples read back from `timeline.csv`, `devices.csv` and
//! `power.csv`.

use super::*;

/// Largest number of devices drawn in the device chart (the first ones by host-0 index).
pub const DEVICE_MAX_PANELS: usize = 6;

/// Memory over time of host 0 in the first replication of one policy (`timeline.csv`).
/// Each sample stands for the interval that ends at it.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryTimeline {
    /// Policy label.
    pub policy: String,
    /// The replication drawn.
    pub replication: String,
    /// Working sets of the VMs on the host (MiB).
    pub working_set: StepSeries,
    /// Guest memory resident in host memory (MiB).
    pub resident: StepSeries,
    /// Swap-ins per second.
    pub swap_rate: StepSeries,
    /// Sampling interval (the spacing of the first two samples; seconds, 0 if unknown).
    pub interval: f64,
    /// Last sample time (seconds).
    pub end: f64,
}

/// One device's utilisation and queue length over time, one policy.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSeries {
    /// Index of the policy in [`DevicesData::policies`].
    pub policy: usize,
    /// Busy channel time / (channels × time).
    pub utilization: StepSeries,
    /// Requests waiting (not in service).
    pub queue: StepSeries,
    /// Last sample time (seconds).
    pub end: f64,
    prev: f64,
}

/// One device of host 0.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceTimeline {
    /// Device index in the host's list.
    pub device: String,
    /// `disk`, `nic` or `swap`.
    pub kind: String,
    /// One per policy that has samples of it, in policy order.
    pub series: Vec<DeviceSeries>,
}

/// What the device chart needs from `devices.csv` (host 0, first replication of each policy).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DevicesData {
    /// Policies in order of first appearance.
    pub policies: Vec<String>,
    /// The devices drawn (at most [`DEVICE_MAX_PANELS`]), in order of first appearance.
    pub devices: Vec<DeviceTimeline>,
    /// Devices of host 0 in the file (drawn or not).
    pub total_devices: usize,
}

fn row_line(rec: &csv::ByteRecord) -> Option<u64> {
    rec.position().map(|p| p.line())
}

/// Reads `timeline.csv`: the memory of host 0 over time, one [`MemoryTimeline`] per policy
/// (its first replication), in order of first appearance, binned into [`TIMELINE_BINS`]
/// bins whatever the length of the file.
pub fn read_memory_timeline(path: &Path) -> Result<Vec<MemoryTimeline>, ReportError> {
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let c = |n: &str| cols.get(path, n);
    let (c_policy, c_rep, c_time, c_host) =
        (c("policy")?, c("replication")?, c("time_s")?, c("host")?);
    let (c_ws, c_res, c_swap) = (c("working_set_mib")?, c("resident_mib")?, c("swap_ins")?);
    let mut policies: Vec<String> = Vec::new();
    let mut out: Vec<MemoryTimeline> = Vec::new();
    let mut prev: Vec<f64> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(path, e))?
    {
        let policy = field(&rec, c_policy);
        let p = index_of(&mut policies, policy);
        if p == out.len() {
            out.push(MemoryTimeline {
                policy: policy.to_string(),
                replication: field(&rec, c_rep).to_string(),
                working_set: StepSeries::default(),
                resident: StepSeries::default(),
                swap_rate: StepSeries::default(),
                interval: 0.0,
                end: 0.0,
            });
            prev.push(0.0);
        }
        let m = &mut out[p];
        if field(&rec, c_rep) != m.replication || field(&rec, c_host) != "0" {
            continue;
        }
        let t = number(path, &rec, c_time, "time_s")?;
        let ws = number(path, &rec, c_ws, "working_set_mib")?;
        let res = number(path, &rec, c_res, "resident_mib")?;
        let swaps = number(path, &rec, c_swap, "swap_ins")?;
        let t0 = prev[p];
        if t < t0 {
            return Err(ReportError::input(
                path,
                row_line(&rec),
                format!("time_s: goes back in time: {t} after {t0}"),
            ));
        }
        if t > t0 {
            m.working_set.add(t0, t, ws);
            m.resident.add(t0, t, res);
            m.swap_rate.add(t0, t, swaps / (t - t0));
            if m.interval == 0.0 {
                m.interval = t - t0;
            }
        }
        prev[p] = t;
        m.end = m.end.max(t);
    }
    Ok(out)
}

/// Reads `devices.csv`: utilisation and queue length over time of the devices of host 0,
/// per policy (its first replication), binned into [`TIMELINE_BINS`] bins; at most
/// [`DEVICE_MAX_PANELS`] devices are kept.
pub fn read_devices(path: &Path) -> Result<DevicesData, ReportError> {
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let c = |n: &str| cols.get(path, n);
    let (c_policy, c_rep, c_time, c_host) =
        (c("policy")?, c("replication")?, c("time_s")?, c("host")?);
    let (c_dev, c_kind, c_util, c_queue) = (
        c("device")?,
        c("kind")?,
        c("utilization")?,
        c("queue_length")?,
    );
    let mut d = DevicesData::default();
    let mut first_rep: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(path, e))?
    {
        let p = index_of(&mut d.policies, field(&rec, c_policy));
        if p == first_rep.len() {
            first_rep.push(field(&rec, c_rep).to_string());
        }
        if field(&rec, c_rep) != first_rep[p] || field(&rec, c_host) != "0" {
            continue;
        }
        let name = field(&rec, c_dev);
        let k = index_of(&mut names, name);
        if k >= DEVICE_MAX_PANELS {
            continue;
        }
        if k == d.devices.len() {
            d.devices.push(DeviceTimeline {
                device: name.to_string(),
                kind: field(&rec, c_kind).to_string(),
                series: Vec::new(),
            });
        }
        let dev = &mut d.devices[k];
        let i = match dev.series.iter().position(|s| s.policy == p) {
            Some(i) => i,
            None => {
                dev.series.push(DeviceSeries {
                    policy: p,
                    utilization: StepSeries::default(),
                    queue: StepSeries::default(),
                    end: 0.0,
                    prev: 0.0,
                });
                dev.series.len() - 1
            }
        };
        let s = &mut dev.series[i];
        let t = number(path, &rec, c_time, "time_s")?;
        let util = number(path, &rec, c_util, "utilization")?;
        let queue = number(path, &rec, c_queue, "queue_length")?;
        if t < s.prev {
            return Err(ReportError::input(
                path,
                row_line(&rec),
                format!("time_s: goes back in time: {t} after {}", s.prev),
            ));
        }
        s.utilization.add(s.prev, t, util);
        s.queue.add(s.prev, t, queue);
        s.prev = t;
        s.end = s.end.max(t);
    }
    d.total_devices = names.len();
    Ok(d)
}

/// The cluster's power and hosts on over time in the first replication of one policy
/// (`power.csv`). Each host's sample stands for the interval since its previous one.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerTimeline {
    /// Policy label.
    pub policy: String,
    /// The replication drawn.
    pub replication: String,
    /// Sum over hosts of their mean power (W).
    pub power: StepSeries,
    /// Hosts on or booting at the samples.
    pub hosts_on: StepSeries,
    /// Last sample time (seconds).
    pub end: f64,
    /// Per host, the time of its previous sample.
    prev: Vec<f64>,
}

/// Reads `power.csv`: the cluster's power and hosts on over time, one [`PowerTimeline`]
/// per policy (its first replication), in order of first appearance, binned into
/// [`TIMELINE_BINS`] bins.
pub fn read_power(path: &Path) -> Result<Vec<PowerTimeline>, ReportError> {
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let c = |n: &str| cols.get(path, n);
    let (c_policy, c_rep, c_time, c_host) =
        (c("policy")?, c("replication")?, c("time_s")?, c("host")?);
    let (c_state, c_power) = (c("state")?, c("power_w")?);
    let mut policies: Vec<String> = Vec::new();
    let mut out: Vec<PowerTimeline> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(path, e))?
    {
        let policy = field(&rec, c_policy);
        let p = index_of(&mut policies, policy);
        if p == out.len() {
            out.push(PowerTimeline {
                policy: policy.to_string(),
                replication: field(&rec, c_rep).to_string(),
                power: StepSeries::default(),
                hosts_on: StepSeries::default(),
                end: 0.0,
                prev: Vec::new(),
            });
        }
        let m = &mut out[p];
        if field(&rec, c_rep) != m.replication {
            continue;
        }
        let host: usize = field(&rec, c_host).parse().map_err(|_| {
            ReportError::input(path, row_line(&rec), "host: not a host number".to_string())
        })?;
        if host >= 1 << 20 {
            return Err(ReportError::input(
                path,
                row_line(&rec),
                format!("host: {host} is too large"),
            ));
        }
        if host >= m.prev.len() {
            m.prev.resize(host + 1, 0.0);
        }
        let t = number(path, &rec, c_time, "time_s")?;
        let w = number(path, &rec, c_power, "power_w")?;
        let t0 = m.prev[host];
        if t < t0 {
            return Err(ReportError::input(
                path,
                row_line(&rec),
                format!("time_s: goes back in time: {t} after {t0}"),
            ));
        }
        m.power.add(t0, t, w);
        if matches!(field(&rec, c_state), "on" | "booting") {
            m.hosts_on.add(t0, t, 1.0);
        }
        m.prev[host] = t;
        m.end = m.end.max(t);
    }
    Ok(out)
}
