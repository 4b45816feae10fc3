//! Reading a results folder back for plotting: streamed, with memory bounded whatever the
//! size of the files.
//!
//! - Waits (`vms.csv`): a uniform random sample (reservoir sampling, at most
//!   [`WAIT_SAMPLE_CAP`] values per policy and class, with a fixed seed so the same file
//!   gives the same picture). Below the cap every value is kept and the plots are exact.
//! - Occupancy over time (`vms.csv`, first replication of each policy): step functions
//!   accumulated into [`TIMELINE_BINS`] time bins whose width doubles (merging pairs of
//!   bins, which is exact) whenever a VM finishes past the covered span.
//! - Gantt slices (`slices.csv`, first replication of each policy): the first
//!   [`GANTT_MAX_SLICES`] slices to end, plus the few (at most one per pCPU) still running
//!   at the end of that window, clipped to it.

use std::collections::BTreeMap;
use std::path::Path;

use sim::{SimTime, SliceRecord};

use crate::error::ReportError;

mod gantt;
mod samples;
mod share;

pub use gantt::{GanttBar, GanttData, gantt_from_slices, read_slices};
pub use samples::{
    DEVICE_MAX_PANELS, DeviceSeries, DeviceTimeline, DevicesData, MemoryTimeline, PowerTimeline,
    read_devices, read_memory_timeline, read_power,
};
pub use share::{SHARE_MAX_POINTS, SHARE_MAX_VMS, SharePanel, read_cpu_share};

/// Largest number of wait values kept per (policy, class).
pub const WAIT_SAMPLE_CAP: usize = 50_000;
/// Number of time bins of the occupancy plots.
pub const TIMELINE_BINS: usize = 512;
/// Largest number of slices drawn in one Gantt chart.
pub const GANTT_MAX_SLICES: usize = 300;

/// A uniform sample of a stream of values (Vitter's algorithm R) with a fixed-seed
/// generator (xorshift64*), so the sample is a pure function of the stream.
#[derive(Clone, Debug)]
pub struct Reservoir {
    cap: usize,
    values: Vec<f64>,
    seen: u64,
    state: u64,
}

impl Reservoir {
    /// An empty reservoir keeping at most `cap` values.
    pub fn new(cap: usize) -> Reservoir {
        Reservoir {
            cap,
            values: Vec::new(),
            seen: 0,
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Offers one value.
    pub fn push(&mut self, x: f64) {
        self.seen += 1;
        if self.values.len() < self.cap {
            self.values.push(x);
        } else {
            let j = self.next() % self.seen;
            if let Ok(j) = usize::try_from(j)
                && j < self.cap
            {
                self.values[j] = x;
            }
        }
    }

    /// Values offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample, sorted ascending.
    pub fn into_sorted(self) -> Vec<f64> {
        let mut v = self.values;
        v.sort_by(f64::total_cmp);
        v
    }
}

/// The waits of one policy (and one priority class, or all VMs).
#[derive(Clone, Debug, PartialEq)]
pub struct WaitGroup {
    /// Policy label.
    pub policy: String,
    /// Priority class, `None` for all VMs.
    pub class: Option<i32>,
    /// VMs counted (warm-up excluded).
    pub count: u64,
    /// The sample of waits in seconds (all of them when `count` ≤ [`WAIT_SAMPLE_CAP`]),
    /// sorted ascending.
    pub sorted: Vec<f64>,
}

/// A non-negative step function of time, as time averages over equal bins starting at 0.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSeries {
    width: f64,
    /// Integral of the function over each bin.
    area: Vec<f64>,
}

impl Default for StepSeries {
    fn default() -> Self {
        StepSeries::new(TIMELINE_BINS, 1.0)
    }
}

impl StepSeries {
    /// `bins` bins of `width` seconds (both at least 1 / positive; `bins` even).
    pub fn new(bins: usize, width: f64) -> StepSeries {
        StepSeries {
            width,
            area: vec![0.0; bins.max(2)],
        }
    }

    /// Bin width in seconds.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Adds `weight` on `[a, b)` (seconds), widening the bins as needed.
    pub fn add(&mut self, a: f64, b: f64, weight: f64) {
        if !(a.is_finite() && b.is_finite()) || b <= a || a < 0.0 {
            return;
        }
        let n = self.area.len();
        while b > self.width * n as f64 {
            for i in 0..n / 2 {
                self.area[i] = self.area[2 * i] + self.area[2 * i + 1];
            }
            for x in &mut self.area[n / 2..] {
                *x = 0.0;
            }
            self.width *= 2.0;
        }
        let first = ((a / self.width) as usize).min(n - 1);
        let last = ((b / self.width) as usize).min(n - 1);
        for i in first..=last {
            let lo = a.max(i as f64 * self.width);
            let hi = b.min((i + 1) as f64 * self.width);
            if hi > lo {
                self.area[i] += weight * (hi - lo);
            }
        }
    }

    /// `(bin centre, time average)` for every bin up to `end` seconds.
    pub fn points(&self, end: f64) -> Vec<(f64, f64)> {
        self.area
            .iter()
            .enumerate()
            .take_while(|(i, _)| (*i as f64) * self.width < end)
            .map(|(i, a)| {
                let lo = i as f64 * self.width;
                let hi = ((i + 1) as f64 * self.width).min(end);
                ((lo + hi) / 2.0, a / (hi - lo).max(f64::MIN_POSITIVE))
            })
            .collect()
    }
}

/// Occupancy over time of the first replication of one policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Policy label.
    pub policy: String,
    /// vCPUs of admitted VMs (admission → finish).
    pub admitted_vcpus: StepSeries,
    /// VMs waiting for admission (arrival → admission).
    pub queued: StepSeries,
    /// Last finish time (seconds).
    pub end: f64,
}

/// What the plots need from `vms.csv`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VmsData {
    /// Policies in order of first appearance.
    pub policies: Vec<String>,
    /// Waits of all (non-warm-up) VMs, one group per policy, in policy order.
    pub all: Vec<WaitGroup>,
    /// Waits per priority class: policy order, then class ascending.
    pub by_class: Vec<WaitGroup>,
    /// Occupancy of each policy's first replication, in policy order.
    pub timelines: Vec<Timeline>,
    /// Data rows read.
    pub rows: u64,
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, ReportError> {
    let file = std::fs::File::open(path).map_err(|e| ReportError::io(path, "cannot read", e))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file))
}

fn csv_err(path: &Path, e: csv::Error) -> ReportError {
    let line = e.position().map(|p| p.line());
    ReportError::input(path, line, e.to_string())
}

/// Column positions by name.
struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn read(path: &Path, rdr: &mut csv::Reader<std::fs::File>) -> Result<Columns, ReportError> {
        let h = rdr.headers().map_err(|e| csv_err(path, e))?;
        Ok(Columns {
            names: h.iter().map(str::to_string).collect(),
        })
    }
    fn get(&self, path: &Path, name: &str) -> Result<usize, ReportError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| ReportError::input(path, Some(1), format!("missing column `{name}`")))
    }
}

fn field(rec: &csv::ByteRecord, i: usize) -> &str {
    rec.get(i)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
}

fn number(path: &Path, rec: &csv::ByteRecord, i: usize, name: &str) -> Result<f64, ReportError> {
    let text = field(rec, i);
    text.parse::<f64>().map_err(|_| {
        ReportError::input(
            path,
            rec.position().map(|p| p.line()),
            format!("{name}: not a number: `{text}`"),
        )
    })
}

fn index_of(list: &mut Vec<String>, name: &str) -> usize {
    match list.iter().position(|p| p == name) {
        Some(i) => i,
        None => {
            list.push(name.to_string());
            list.len() - 1
        }
    }
}

/// Reads `vms.csv` (see the module documentation for what is kept).
pub fn read_vms(path: &Path) -> Result<VmsData, ReportError> {
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let c_policy = cols.get(path, "policy")?;
    let c_rep = cols.get(path, "replication")?;
    let c_vcpus = cols.get(path, "vcpus")?;
    let c_prio = cols.get(path, "priority")?;
    let c_arrival = cols.get(path, "arrival_s")?;
    let c_admission = cols.get(path, "admission_s")?;
    let c_finish = cols.get(path, "finish_s")?;
    let c_wait = cols.get(path, "wait_s")?;
    let c_warmup = cols.get(path, "warmup")?;

    let mut policies: Vec<String> = Vec::new();
    let mut all: Vec<Reservoir> = Vec::new();
    let mut by_class: BTreeMap<(usize, i32), Reservoir> = BTreeMap::new();
    let mut first_rep: Vec<String> = Vec::new();
    let mut timelines: Vec<Timeline> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    let mut rows = 0u64;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(path, e))?
    {
        rows += 1;
        let policy = field(&rec, c_policy);
        let p = index_of(&mut policies, policy);
        if p == all.len() {
            all.push(Reservoir::new(WAIT_SAMPLE_CAP));
            first_rep.push(field(&rec, c_rep).to_string());
            timelines.push(Timeline {
                policy: policy.to_string(),
                admitted_vcpus: StepSeries::default(),
                queued: StepSeries::default(),
                end: 0.0,
            });
        }
        let warmup = field(&rec, c_warmup) == "1";
        let wait = number(path, &rec, c_wait, "wait_s")?;
        let prio_text = field(&rec, c_prio);
        let prio: i32 = prio_text.parse().map_err(|_| {
            ReportError::input(
                path,
                rec.position().map(|p| p.line()),
                format!("priority: not an integer: `{prio_text}`"),
            )
        })?;
        if !warmup {
            all[p].push(wait);
            by_class
                .entry((p, prio))
                .or_insert_with(|| Reservoir::new(WAIT_SAMPLE_CAP))
                .push(wait);
        }
        if field(&rec, c_rep) == first_rep[p] {
            let arrival = number(path, &rec, c_arrival, "arrival_s")?;
            let admission = number(path, &rec, c_admission, "admission_s")?;
            let finish = number(path, &rec, c_finish, "finish_s")?;
            let vcpus = number(path, &rec, c_vcpus, "vcpus")?;
            let t = &mut timelines[p];
            t.queued.add(arrival, admission, 1.0);
            t.admitted_vcpus.add(admission, finish, vcpus);
            t.end = t.end.max(finish);
        }
    }
    let group = |policy: &str, class, r: Reservoir| WaitGroup {
        policy: policy.to_string(),
        class,
        count: r.seen(),
        sorted: r.into_sorted(),
    };
    Ok(VmsData {
        all: all
            .into_iter()
            .zip(&policies)
            .map(|(r, p)| group(p, None, r))
            .collect(),
        by_class: by_class
            .into_iter()
            .map(|((p, c), r)| group(&policies[p], Some(c), r))
            .collect(),
        timelines,
        policies,
        rows,
    })
}
/// A CSV file held as text cells (for `summary.csv`, which is small).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CsvTable {
    /// Column names.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

impl CsvTable {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Reads a whole (small) CSV file.
pub fn read_table(path: &Path) -> Result<CsvTable, ReportError> {
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let mut rows = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| csv_err(path, e))?;
        rows.push(r.iter().map(str::to_string).collect());
    }
    Ok(CsvTable {
        header: cols.names,
        rows,
    })
}

/// Mean wait with its 95 % confidence half-width, per policy, from `summary.csv`'s `mean`
/// rows of class `all` (or the first replication row when there is no `mean` row).
pub fn mean_waits(summary: &CsvTable) -> Vec<(String, f64, Option<f64>)> {
    let (Some(cp), Some(cr), Some(cc), Some(cw), Some(ci)) = (
        summary.column("policy"),
        summary.column("replication"),
        summary.column("class"),
        summary.column("mean_wait_s"),
        summary.column("ci95_mean_wait_s"),
    ) else {
        return Vec::new();
    };
    let mut out: Vec<(String, f64, Option<f64>, bool)> = Vec::new();
    for r in &summary.rows {
        let get = |i: usize| r.get(i).map(String::as_str).unwrap_or("");
        if get(cc) != "all" {
            continue;
        }
        let Ok(mean) = get(cw).parse::<f64>() else {
            continue;
        };
        let ci = get(ci).parse::<f64>().ok();
        let is_mean = get(cr) == "mean";
        match out.iter_mut().find(|o| o.0 == get(cp)) {
            Some(o) => {
                if is_mean && !o.3 {
                    *o = (get(cp).to_string(), mean, ci, true);
                }
            }
            None => out.push((get(cp).to_string(), mean, ci, is_mean)),
        }
    }
    out.into_iter().map(|(p, m, c, _)| (p, m, c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservoir_keeps_everything_below_the_cap_and_samples_above() {
        let mut r = Reservoir::new(5);
        for x in [3.0, 1.0, 2.0] {
            r.push(x);
        }
        assert_eq!(r.clone().into_sorted(), [1.0, 2.0, 3.0]);
        let mut r = Reservoir::new(100);
        for i in 0..10_000 {
            r.push(f64::from(i));
        }
        assert_eq!(r.seen(), 10_000);
        let s = r.into_sorted();
        assert_eq!(s.len(), 100);
        // A uniform sample of 0..10000: its mean is 4999.5 ± 2887/√100 ≈ ±289 (1 sd);
        // allow 4 sd.
        let mean = s.iter().sum::<f64>() / 100.0;
        assert!((mean - 4999.5).abs() < 1160.0, "{mean}");
    }

    #[test]
    fn step_series_hand_computed() {
        // 4 bins of 1 s. Weight 2 on [0.5, 2.5): bin 0 gets 2·0.5 = 1, bin 1 gets 2,
        // bin 2 gets 1 → averages 1, 2, 1, 0.
        let mut s = StepSeries::new(4, 1.0);
        s.add(0.5, 2.5, 2.0);
        assert_eq!(
            s.points(4.0),
            [(0.5, 1.0), (1.5, 2.0), (2.5, 1.0), (3.5, 0.0)]
        );
        // Weight 1 on [3, 6): the span grows to 8 s (bins of 2 s): areas 1+2, 1+0,
        // then [3,4) → bin 1 (+1), [4,6) → bin 2 (+2). Averages over 2 s: 1.5, 1, 1, 0.
        s.add(3.0, 6.0, 1.0);
        assert_eq!(s.width(), 2.0);
        assert_eq!(
            s.points(8.0),
            [(1.0, 1.5), (3.0, 1.0), (5.0, 1.0), (7.0, 0.0)]
        );
        // The last bin is cut at `end` = 5: bin 2 covers [4, 5), average 2 / 1 = 2.
        assert_eq!(s.points(5.0), [(1.0, 1.5), (3.0, 1.0), (4.5, 2.0)]);
    }

    const VMS: &str = "policy,replication,id,host,vcpus,memory_mib,priority,tenant,arrival_s,admission_s,first_run_s,finish_s,service_s,estimate_s,queue_wait_s,ready_wait_s,response_s,turnaround_s,wait_s,slowdown,preemptions,warmup
fcfs,0,0,0,2,512,1,,0,0,0,4,4,4,0,0,0,4,0,1,0,1
fcfs,0,1,0,1,512,2,,1,2,2,6,2,2,1,0,1,5,3,2.5,0,0
fcfs,1,0,0,1,512,2,,0,0,0,1,1,1,0,0,0,1,7,1,0,0
sjf,0,0,0,1,512,1,,0,0,0,3,3,3,0,0,0,3,1,1,0,0
";

    #[test]
    fn vms_groups_and_timelines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        std::fs::write(&path, VMS).unwrap();
        let d = read_vms(&path).unwrap();
        assert_eq!(d.rows, 4);
        assert_eq!(d.policies, ["fcfs", "sjf"]);
        // fcfs: the warm-up VM is left out: waits 3 (rep 0) and 7 (rep 1).
        assert_eq!(d.all[0].sorted, [3.0, 7.0]);
        assert_eq!(d.all[1].sorted, [1.0]);
        // Classes: fcfs 2 (3, 7); sjf 1 (1). fcfs class 1 held only the warm-up VM.
        let classes: Vec<(&str, Option<i32>, usize)> = d
            .by_class
            .iter()
            .map(|g| (g.policy.as_str(), g.class, g.sorted.len()))
            .collect();
        assert_eq!(classes, [("fcfs", Some(2), 2), ("sjf", Some(1), 1)]);
        // Timeline of fcfs replication 0 (warm-up included): 2 vCPUs on [0, 4), 1 on
        // [2, 6); queue 1 on [1, 2). Bins of 1 s up to 6.
        let t = &d.timelines[0];
        assert_eq!(t.end, 6.0);
        let v: Vec<f64> = t.admitted_vcpus.points(6.0).iter().map(|p| p.1).collect();
        assert_eq!(v, [2.0, 2.0, 3.0, 3.0, 1.0, 1.0]);
        let q: Vec<f64> = t.queued.points(6.0).iter().map(|p| p.1).collect();
        assert_eq!(q, [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn vms_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        std::fs::write(&path, "policy,replication\nfcfs,0\n").unwrap();
        let e = read_vms(&path).unwrap_err().to_string();
        assert!(e.ends_with("vms.csv:1: missing column `vcpus`"), "{e}");
        let bad = VMS.replacen(",3,2.5,0,0", ",x,2.5,0,0", 1);
        std::fs::write(&path, bad).unwrap();
        let e = read_vms(&path).unwrap_err().to_string();
        assert!(e.ends_with("vms.csv:3: wait_s: not a number: `x`"), "{e}");
        let e = read_vms(&dir.path().join("none.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cannot read"), "{e}");
    }

    #[test]
    fn slices_window_keeps_the_first_and_the_straddling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slices.csv");
        let mut text =
            String::from("policy,replication,host,pcpu,vm,vcpu,dispatch_s,start_s,end_s,reason\n");
        // pCPU 0: slices of 1 s, GANTT_MAX_SLICES + 10 of them; pCPU 1: one long slice
        // from 0 to 1000, ending (so written) last. Another replication is ignored.
        for i in 0..GANTT_MAX_SLICES + 10 {
            text.push_str(&format!("rr,0,0,0,{i},0,{i},{i},{},quantum\n", i + 1));
        }
        text.push_str("rr,1,0,0,7,0,0,0,1,finished\n");
        text.push_str("rr,0,0,1,999,0,0,0,1000,finished\n");
        std::fs::write(&path, text).unwrap();
        let g = read_slices(&path).unwrap();
        assert_eq!(g.len(), 1);
        let g = &g[0];
        assert_eq!(g.total, GANTT_MAX_SLICES as u64 + 11);
        // Window = end of the 300th slice = 300 s; slices starting before it: 300 on
        // pCPU 0 plus the long one, clipped to 300.
        assert_eq!(g.end, GANTT_MAX_SLICES as f64);
        assert_eq!(g.bars.len(), GANTT_MAX_SLICES + 1);
        assert_eq!(g.rows, ["pCPU0", "pCPU1"]);
        let long = g.bars.iter().find(|b| b.vm == 999).unwrap();
        assert_eq!((long.row, long.end), (1, GANTT_MAX_SLICES as f64));
        assert!(g.title.contains("first 301 of 311 slices"), "{}", g.title);
    }

    #[test]
    fn memory_and_devices_hand_computed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.csv");
        // Samples at 5 and 10 s of host 0 (host 1 and replication 1 ignored).
        std::fs::write(
            &path,
            "policy,replication,time_s,host,working_set_mib,resident_mib,swap_ins
fcfs,0,5,0,100,100,0
fcfs,0,5,1,900,900,90
fcfs,0,10,0,200,150,10
fcfs,1,5,0,999,999,99
",
        )
        .unwrap();
        let m = read_memory_timeline(&path).unwrap();
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(
            (m.end, m.interval, m.replication.as_str()),
            (10.0, 5.0, "0")
        );
        // Each sample covers the 5 s ending at it: 100 MiB on [0, 5), 200 on [5, 10);
        // 10 swap-ins over [5, 10) = 2 per second.
        let y = |s: &StepSeries| -> Vec<f64> { s.points(10.0).iter().map(|p| p.1).collect() };
        assert_eq!(y(&m.working_set), [[100.0; 5], [200.0; 5]].concat());
        assert_eq!(y(&m.resident), [[100.0; 5], [150.0; 5]].concat());
        assert_eq!(y(&m.swap_rate), [[0.0; 5], [2.0; 5]].concat());

        let path = dir.path().join("devices.csv");
        let mut text =
            String::from("policy,replication,time_s,host,device,kind,utilization,queue_length\n");
        // DEVICE_MAX_PANELS + 2 devices on host 0: only the first DEVICE_MAX_PANELS kept.
        for k in 0..DEVICE_MAX_PANELS + 2 {
            text.push_str(&format!("rr,0,2,0,{k},disk,0.5,4\n"));
        }
        text.push_str("rr,0,2,1,0,disk,1,9\n");
        std::fs::write(&path, text).unwrap();
        let d = read_devices(&path).unwrap();
        assert_eq!(d.policies, ["rr"]);
        assert_eq!(d.total_devices, DEVICE_MAX_PANELS + 2);
        assert_eq!(d.devices.len(), DEVICE_MAX_PANELS);
        let s = &d.devices[0].series[0];
        assert_eq!(s.utilization.points(2.0), [(0.5, 0.5), (1.5, 0.5)]);
        assert_eq!(s.queue.points(2.0), [(0.5, 4.0), (1.5, 4.0)]);

        std::fs::write(&path, "policy,replication\n").unwrap();
        let e = read_devices(&path).unwrap_err().to_string();
        assert!(e.ends_with("devices.csv:1: missing column `time_s`"), "{e}");
    }

    #[test]
    fn mean_waits_prefer_mean_rows() {
        let t = CsvTable {
            header: [
                "policy",
                "replication",
                "class",
                "mean_wait_s",
                "ci95_mean_wait_s",
            ]
            .map(String::from)
            .to_vec(),
            rows: vec![
                ["fcfs", "0", "all", "9", ""].map(String::from).to_vec(),
                ["fcfs", "mean", "1", "5", "1"].map(String::from).to_vec(),
                ["fcfs", "mean", "all", "17", "2.5"]
                    .map(String::from)
                    .to_vec(),
                ["sjf", "0", "all", "3", ""].map(String::from).to_vec(),
            ],
        };
        assert_eq!(
            mean_waits(&t),
            [
                ("fcfs".to_string(), 17.0, Some(2.5)),
                ("sjf".to_string(), 3.0, None)
            ]
        );
    }
}
