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

/// The rows of a samples file (`timeline.csv`, `devices.csv`, `power.csv`) that belong to
/// the first replication of their policy, read one at a time; with the columns every such
/// file has (`policy`, `replication`, `time_s`, `host`).
struct FirstReplications<'a> {
    path: &'a Path,
    rdr: csv::Reader<std::fs::File>,
    cols: Columns,
    c_policy: usize,
    c_rep: usize,
    c_time: usize,
    c_host: usize,
    /// Policies in order of first appearance.
    policies: Vec<String>,
    /// The first replication of each policy.
    replications: Vec<String>,
    /// The current row.
    rec: csv::ByteRecord,
}

impl<'a> FirstReplications<'a> {
    fn open(path: &'a Path) -> Result<FirstReplications<'a>, ReportError> {
        let mut rdr = open(path)?;
        let cols = Columns::read(path, &mut rdr)?;
        let c = |n: &str| cols.get(path, n);
        let (c_policy, c_rep, c_time, c_host) =
            (c("policy")?, c("replication")?, c("time_s")?, c("host")?);
        Ok(FirstReplications {
            path,
            rdr,
            cols,
            c_policy,
            c_rep,
            c_time,
            c_host,
            policies: Vec::new(),
            replications: Vec::new(),
            rec: csv::ByteRecord::new(),
        })
    }

    /// The position of another column.
    fn column(&self, name: &str) -> Result<usize, ReportError> {
        self.cols.get(self.path, name)
    }

    /// Reads up to the next row of its policy's first replication: its policy's index in
    /// [`FirstReplications::policies`] (a new policy is pushed there); `None` at the end.
    fn next(&mut self) -> Result<Option<usize>, ReportError> {
        while self
            .rdr
            .read_byte_record(&mut self.rec)
            .map_err(|e| csv_err(self.path, e))?
        {
            let p = index_of(&mut self.policies, field(&self.rec, self.c_policy));
            let rep = field(&self.rec, self.c_rep);
            if p == self.replications.len() {
                self.replications.push(rep.to_string());
            }
            if rep == self.replications[p] {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// Field `i` of the current row.
    fn field(&self, i: usize) -> &str {
        field(&self.rec, i)
    }

    /// The current row's `host`.
    fn host(&self) -> &str {
        self.field(self.c_host)
    }

    /// Field `i` of the current row (column `name`) as a number.
    fn number(&self, i: usize, name: &str) -> Result<f64, ReportError> {
        number(self.path, &self.rec, i, name)
    }

    /// The current row's `time_s`.
    fn time(&self) -> Result<f64, ReportError> {
        self.number(self.c_time, "time_s")
    }

    /// An error if time `t` of the current row is before `previous`.
    fn check_after(&self, t: f64, previous: f64) -> Result<(), ReportError> {
        if t < previous {
            return Err(self.error(format!("time_s: goes back in time: {t} after {previous}")));
        }
        Ok(())
    }

    /// An error at the current row.
    fn error(&self, message: String) -> ReportError {
        ReportError::input(self.path, self.rec.position().map(|p| p.line()), message)
    }
}

/// Reads `timeline.csv`: the memory of host 0 over time, one [`MemoryTimeline`] per policy
/// (its first replication), in order of first appearance, binned into [`TIMELINE_BINS`]
/// bins whatever the length of the file.
pub fn read_memory_timeline(path: &Path) -> Result<Vec<MemoryTimeline>, ReportError> {
    let mut rows = FirstReplications::open(path)?;
    let c = |n: &str| rows.column(n);
    let (c_ws, c_res, c_swap) = (c("working_set_mib")?, c("resident_mib")?, c("swap_ins")?);
    let mut out: Vec<MemoryTimeline> = Vec::new();
    let mut prev: Vec<f64> = Vec::new();
    while let Some(p) = rows.next()? {
        if p == out.len() {
            out.push(MemoryTimeline {
                policy: rows.policies[p].clone(),
                replication: rows.replications[p].clone(),
                working_set: StepSeries::default(),
                resident: StepSeries::default(),
                swap_rate: StepSeries::default(),
                interval: 0.0,
                end: 0.0,
            });
            prev.push(0.0);
        }
        if rows.host() != "0" {
            continue;
        }
        let m = &mut out[p];
        let t = rows.time()?;
        let ws = rows.number(c_ws, "working_set_mib")?;
        let res = rows.number(c_res, "resident_mib")?;
        let swaps = rows.number(c_swap, "swap_ins")?;
        let t0 = prev[p];
        rows.check_after(t, t0)?;
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
    let mut rows = FirstReplications::open(path)?;
    let c = |n: &str| rows.column(n);
    let (c_dev, c_kind, c_util, c_queue) = (
        c("device")?,
        c("kind")?,
        c("utilization")?,
        c("queue_length")?,
    );
    let mut d = DevicesData::default();
    let mut names: Vec<String> = Vec::new();
    while let Some(p) = rows.next()? {
        if rows.host() != "0" {
            continue;
        }
        let name = rows.field(c_dev);
        let k = index_of(&mut names, name);
        if k >= DEVICE_MAX_PANELS {
            continue;
        }
        if k == d.devices.len() {
            d.devices.push(DeviceTimeline {
                device: name.to_string(),
                kind: rows.field(c_kind).to_string(),
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
        let t = rows.time()?;
        let util = rows.number(c_util, "utilization")?;
        let queue = rows.number(c_queue, "queue_length")?;
        rows.check_after(t, s.prev)?;
        s.utilization.add(s.prev, t, util);
        s.queue.add(s.prev, t, queue);
        s.prev = t;
        s.end = s.end.max(t);
    }
    d.policies = rows.policies;
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
    let mut rows = FirstReplications::open(path)?;
    let c = |n: &str| rows.column(n);
    let (c_state, c_power) = (c("state")?, c("power_w")?);
    let mut out: Vec<PowerTimeline> = Vec::new();
    while let Some(p) = rows.next()? {
        if p == out.len() {
            out.push(PowerTimeline {
                policy: rows.policies[p].clone(),
                replication: rows.replications[p].clone(),
                power: StepSeries::default(),
                hosts_on: StepSeries::default(),
                end: 0.0,
                prev: Vec::new(),
            });
        }
        let m = &mut out[p];
        let host: usize = rows
            .host()
            .parse()
            .map_err(|_| rows.error("host: not a host number".to_string()))?;
        if host >= 1 << 20 {
            return Err(rows.error(format!("host: {host} is too large")));
        }
        if host >= m.prev.len() {
            m.prev.resize(host + 1, 0.0);
        }
        let t = rows.time()?;
        let w = rows.number(c_power, "power_w")?;
        let t0 = m.prev[host];
        rows.check_after(t, t0)?;
        m.power.add(t0, t, w);
        if matches!(rows.field(c_state), "on" | "booting") {
            m.hosts_on.add(t0, t, 1.0);
        }
        m.prev[host] = t;
        m.end = m.end.max(t);
    }
    Ok(out)
}
