//! The streaming writers of per-VM, per-slice and timeline rows: [`sim::Observer`]s that
//! write as the engine runs.

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};

use sim::{Observer, SliceRecord, VmRecord};

use super::csv_file::commit_csv;
use super::{
    DEVICES_HEADER, POWER_HEADER, SLICES_HEADER, TIMELINE_HEADER, TIMELINE_POWER_COLUMNS,
    VMS_DOWNTIME_COLUMN, VMS_HEADER, VMS_THROTTLED_COLUMN,
};
use crate::atomic::AtomicFile;
use crate::error::ReportError;

/// A CSV file being streamed, labelled with the current run. Shared by the observers.
#[derive(Debug)]
pub(super) struct Sink {
    path: PathBuf,
    wtr: csv::Writer<AtomicFile>,
    /// The first error met by an observer hook (which cannot return one).
    error: Option<ReportError>,
    /// Scratch buffer for formatting numbers, reused for every field.
    scratch: Vec<u8>,
    policy: String,
    replication: String,
    rows: u64,
}

impl Sink {
    pub(super) fn create(path: &Path, header: &[&str]) -> Result<Sink, ReportError> {
        let file = AtomicFile::create(path)?;
        let mut wtr = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(file);
        wtr.write_record(header)
            .map_err(|e| ReportError::csv(path, e))?;
        Ok(Sink {
            path: path.to_path_buf(),
            wtr,
            error: None,
            scratch: Vec::with_capacity(32),
            policy: String::new(),
            replication: String::from("0"),
            rows: 0,
        })
    }

    pub(super) fn set_run(&mut self, policy: &str, replication: u64) {
        self.policy.clear();
        self.policy.push_str(policy);
        self.replication.clear();
        // Writing to a String cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut self.replication, format_args!("{replication}"));
    }

    /// Writes the run label fields.
    pub(super) fn label(&mut self) -> csv::Result<()> {
        self.wtr.write_field(self.policy.as_bytes())?;
        self.wtr.write_field(self.replication.as_bytes())
    }

    /// Writes one field formatted with `Display`, through the scratch buffer.
    #[inline]
    pub(super) fn num(&mut self, v: impl Display) -> csv::Result<()> {
        self.scratch.clear();
        write!(self.scratch, "{v}")?;
        self.wtr.write_field(&self.scratch)
    }

    /// Ends the record.
    pub(super) fn end(&mut self) -> csv::Result<()> {
        self.wtr.write_record(None::<&[u8]>)?;
        self.rows += 1;
        Ok(())
    }

    /// Remembers the first error of an observer hook.
    pub(super) fn keep(&mut self, r: csv::Result<()>) {
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(ReportError::csv(&self.path, e));
        }
    }

    pub(super) fn finish(self) -> Result<u64, ReportError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        commit_csv(self.wtr, &self.path)?;
        Ok(self.rows)
    }
}

/// Streams `vms.csv`: one row per finished VM (warm-up VMs included, flagged by `warmup`).
///
/// An [`Observer`]: pass `&mut VmsCsv` (or a tuple with other observers) to
/// [`sim::simulate`]. Several runs can go to one file: call [`VmsCsv::set_run`] before each
/// run to label its rows. The file is written under a temporary name and only appears at
/// [`VmsCsv::finish`]; dropping the writer without finishing leaves no file.
///
/// Observer hooks cannot return errors: the first write error is kept, later records are
/// ignored, and [`VmsCsv::finish`] returns that error.
///
/// Columns: see [`VMS_HEADER`]. `tenant` is empty when the workload gave none; `warmup` is
/// `0` or `1`; `slowdown` has six decimals (`inf` for a zero-length VM that waited).
#[derive(Debug)]
pub struct VmsCsv {
    sink: Sink,
    /// The extra column `throttled_s` ([`VMS_THROTTLED_COLUMN`]).
    throttled: bool,
    /// The extra last column `downtime_s` ([`VMS_DOWNTIME_COLUMN`]).
    downtime: bool,
}

impl VmsCsv {
    /// Starts `path` (its folder must exist) and writes the header. Rows are labelled
    /// policy `""`, replication `0` until [`VmsCsv::set_run`] is called.
    pub fn create(path: impl AsRef<Path>) -> Result<VmsCsv, ReportError> {
        VmsCsv::create_with(path, false, false)
    }

    /// [`VmsCsv::create`] with one more column at the end, `throttled_s` (the time each VM
    /// was throttled by its CPU cap): for runs where caps are configured, so that the
    /// files of every other run keep their columns.
    pub fn create_with_throttled(path: impl AsRef<Path>) -> Result<VmsCsv, ReportError> {
        VmsCsv::create_with(path, true, false)
    }

    /// [`VmsCsv::create`] with the optional columns at the end, in this order:
    /// `throttled_s` when `throttled` (runs with CPU caps) and `downtime_s` when
    /// `downtime` (runs that can migrate VMs: the time each VM was paused by its live
    /// migrations). The files of other runs keep their columns.
    pub fn create_with(
        path: impl AsRef<Path>,
        throttled: bool,
        downtime: bool,
    ) -> Result<VmsCsv, ReportError> {
        let mut header = VMS_HEADER.to_vec();
        if throttled {
            header.push(VMS_THROTTLED_COLUMN);
        }
        if downtime {
            header.push(VMS_DOWNTIME_COLUMN);
        }
        Ok(VmsCsv {
            sink: Sink::create(path.as_ref(), &header)?,
            throttled,
            downtime,
        })
    }

    /// Labels the rows that follow with `policy` and `replication`. Number replications
    /// from 0 in the order their [`sim::metrics::RunSummary`]s are given to
    /// [`summary_rows`](super::summary_rows), so that `vms.csv` and `summary.csv` agree.
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.sink.set_run(policy, replication);
    }

    /// Writes one row now, returning any error (the [`Observer`] hook calls this and keeps
    /// the error for [`VmsCsv::finish`]).
    pub fn write_record(&mut self, r: &VmRecord) -> Result<(), ReportError> {
        let res = self.write_row(r);
        res.map_err(|e| ReportError::csv(&self.sink.path, e))
    }

    fn write_row(&mut self, r: &VmRecord) -> csv::Result<()> {
        let s = &mut self.sink;
        s.label()?;
        s.num(r.id)?;
        s.num(r.host)?;
        s.num(r.vcpus)?;
        s.num(r.memory_mib)?;
        s.num(r.priority)?;
        match r.tenant {
            Some(t) => s.num(t)?,
            None => s.wtr.write_field(b"")?,
        }
        s.num(r.arrival)?;
        s.num(r.admission)?;
        s.num(r.first_run)?;
        s.num(r.finish)?;
        s.num(r.service)?;
        s.num(r.estimate)?;
        s.num(r.queue_wait())?;
        s.num(r.ready_wait)?;
        s.num(r.response())?;
        s.num(r.turnaround())?;
        s.num(r.wait())?;
        s.num(format_args!("{:.6}", r.slowdown()))?;
        s.num(r.preemptions)?;
        s.num(u8::from(r.warmup))?;
        s.num(r.io_wait)?;
        s.num(r.io_service)?;
        s.num(r.io_requests)?;
        s.num(r.fault_stall)?;
        s.num(r.minor_faults)?;
        s.num(r.major_faults)?;
        s.num(r.migrations)?;
        s.num(u8::from(r.stopped))?;
        if self.throttled {
            s.num(r.throttled)?;
        }
        if self.downtime {
            s.num(r.downtime)?;
        }
        s.end()
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.sink.rows
    }

    /// Flushes, syncs and renames the file into place. Returns the number of data rows,
    /// or the first error met while writing.
    pub fn finish(self) -> Result<u64, ReportError> {
        self.sink.finish()
    }
}

impl Observer for VmsCsv {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        if self.sink.error.is_none() {
            let res = self.write_row(r);
            self.sink.keep(res);
        }
    }
}

/// Streams `slices.csv`: one row per slice of CPU time (a Gantt bar). `reason` is
/// `finished`, `quantum` or `preempted`. Asks the engine for slices
/// ([`Observer::wants_slices`]); otherwise behaves like [`VmsCsv`] (labels, errors,
/// [`SlicesCsv::finish`]).
#[derive(Debug)]
pub struct SlicesCsv {
    sink: Sink,
}

impl SlicesCsv {
    /// Starts `path` (its folder must exist) and writes the header.
    pub fn create(path: impl AsRef<Path>) -> Result<SlicesCsv, ReportError> {
        Ok(SlicesCsv {
            sink: Sink::create(path.as_ref(), &SLICES_HEADER)?,
        })
    }

    /// Labels the rows that follow with `policy` and `replication`.
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.sink.set_run(policy, replication);
    }

    /// Writes one row now, returning any error.
    pub fn write_record(&mut self, s: &SliceRecord) -> Result<(), ReportError> {
        let res = self.write_row(s);
        res.map_err(|e| ReportError::csv(&self.sink.path, e))
    }

    fn write_row(&mut self, r: &SliceRecord) -> csv::Result<()> {
        let s = &mut self.sink;
        s.label()?;
        s.num(r.host)?;
        s.num(r.pcpu)?;
        s.num(r.vm)?;
        s.num(r.vcpu)?;
        s.num(r.dispatch)?;
        s.num(r.start)?;
        s.num(r.end)?;
        s.wtr.write_field(r.reason.name())?;
        s.end()
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.sink.rows
    }

    /// Flushes, syncs and renames the file into place. Returns the number of data rows,
    /// or the first error met while writing.
    pub fn finish(self) -> Result<u64, ReportError> {
        self.sink.finish()
    }
}

impl Observer for SlicesCsv {
    fn wants_slices(&self) -> bool {
        true
    }
    fn on_slice(&mut self, r: &SliceRecord) {
        if self.sink.error.is_none() {
            let res = self.write_row(r);
            self.sink.keep(res);
        }
    }
}

/// Streams the timeline samples of a run (`[run] timeline_s`): `timeline.csv`, one row per
/// host and sample (CPU, run queue, admission queue, memory, swap-ins since the previous
/// sample), and `devices.csv`, one row per device, host and sample (utilisation and
/// completions since the previous sample, channels busy and queue length at the sample).
/// Utilisations are over the interval that ends at the sample.
#[derive(Debug)]
pub struct TimelineCsv {
    hosts: Sink,
    devices: Sink,
    power: Option<Sink>,
}

impl TimelineCsv {
    /// Starts both files (their folder must exist).
    pub fn create(
        timeline: impl AsRef<Path>,
        devices: impl AsRef<Path>,
    ) -> Result<TimelineCsv, ReportError> {
        Ok(TimelineCsv {
            hosts: Sink::create(timeline.as_ref(), &TIMELINE_HEADER)?,
            devices: Sink::create(devices.as_ref(), &DEVICES_HEADER)?,
            power: None,
        })
    }

    /// Also writes `power.csv` at `path`: per host and sample, its state (`on`, `off`,
    /// `booting`, `failed`) and its mean power since the previous sample; and gives
    /// `timeline.csv` two more columns at the end ([`TIMELINE_POWER_COLUMNS`]): `power_w`
    /// (the same mean power) and `hosts_on` (1 when the host is on or booting, else 0, so
    /// that the rows of one sample add up to the cluster's).
    pub fn with_power(mut self, path: impl AsRef<Path>) -> Result<TimelineCsv, ReportError> {
        self.power = Some(Sink::create(path.as_ref(), &POWER_HEADER)?);
        let mut header = TIMELINE_HEADER.to_vec();
        header.extend(TIMELINE_POWER_COLUMNS);
        let with_columns = Sink::create(&self.hosts.path, &header)?;
        let old = std::mem::replace(&mut self.hosts, with_columns);
        // (The file without the columns is dropped unwritten: it leaves nothing.)
        drop(old);
        Ok(self)
    }

    /// Labels the rows that follow.
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.hosts.set_run(policy, replication);
        self.devices.set_run(policy, replication);
        if let Some(p) = &mut self.power {
            p.set_run(policy, replication);
        }
    }

    fn write_rows(&mut self, r: &sim::HostSample) -> csv::Result<()> {
        let s = &mut self.hosts;
        s.label()?;
        s.num(r.time)?;
        s.num(r.host)?;
        s.num(r.busy_pcpus)?;
        s.num(format_args!("{:.6}", r.cpu_utilization))?;
        s.num(r.ready_vcpus)?;
        s.num(r.blocked_vcpus)?;
        s.num(r.admitted_vms)?;
        s.num(r.queued_vms)?;
        s.num(r.working_set_mib)?;
        s.num(r.resident_mib)?;
        s.num(r.swap_ins)?;
        if self.power.is_some() {
            s.num(format_args!("{:.6}", r.power_w))?;
            s.num(u8::from(matches!(r.state, "on" | "booting")))?;
        }
        s.end()?;
        let d = &mut self.devices;
        for dev in &r.devices {
            d.label()?;
            d.num(r.time)?;
            d.num(r.host)?;
            d.num(dev.device)?;
            d.wtr.write_field(dev.kind)?;
            d.num(format_args!("{:.6}", dev.utilization))?;
            d.num(dev.busy_channels)?;
            d.num(dev.queue_length)?;
            d.num(dev.completed)?;
            d.end()?;
        }
        if let Some(p) = &mut self.power {
            p.label()?;
            p.num(r.time)?;
            p.num(r.host)?;
            p.wtr.write_field(r.state)?;
            p.num(format_args!("{:.6}", r.power_w))?;
            p.end()?;
        }
        Ok(())
    }

    /// Commits both files; returns the number of timeline rows.
    pub fn finish(self) -> Result<u64, ReportError> {
        self.devices.finish()?;
        if let Some(p) = self.power {
            p.finish()?;
        }
        self.hosts.finish()
    }
}

impl Observer for TimelineCsv {
    fn on_sample(&mut self, r: &sim::HostSample) {
        if self.hosts.error.is_none() {
            let res = self.write_rows(r);
            self.hosts.keep(res);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::{SimTime, SliceEnd};

    fn s(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    fn vm(id: u64, arrival: u64, first_run: u64, finish: u64, service: u64) -> VmRecord {
        VmRecord {
            id,
            host: 0,
            vcpus: 1,
            memory_mib: 512,
            priority: 0,
            tenant: None,
            arrival: s(arrival),
            admission: s(arrival),
            first_run: s(first_run),
            finish: s(finish),
            service: s(service),
            estimate: s(service),
            ready_wait: s(first_run - arrival),
            preemptions: 0,
            warmup: false,
            ..Default::default()
        }
    }

    #[test]
    fn vms_csv_rows_and_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        let mut w = VmsCsv::create(&path).unwrap();
        w.set_run("fcfs", 0);
        // P2 of the FCFS 24/3/3 case: arrival 0, runs 24..27, service 3.
        // queue_wait 0, ready_wait 24, response 24, turnaround 27, wait 27 − 3 = 24,
        // slowdown 27 / 3 = 9.
        w.on_vm_finished(&vm(2, 0, 24, 27, 3));
        w.set_run("rr,q=4", 1);
        let mut r = vm(7, 1, 1, 1, 0);
        // A zero-length VM admitted half a second after it arrived.
        r.tenant = Some(3);
        r.warmup = true;
        r.admission = SimTime(1_500_000_000);
        r.first_run = SimTime(1_500_000_000);
        r.finish = SimTime(1_500_000_000);
        r.service = SimTime::ZERO;
        r.estimate = SimTime(250);
        r.ready_wait = SimTime::ZERO;
        r.preemptions = 2;
        // queue_wait = response = turnaround = 0.5 s, wait 0.5 − 0 = 0.5 s,
        // slowdown 0.5 / 0 = inf (see VmRecord::slowdown).
        w.on_vm_finished(&r);
        assert_eq!(w.rows(), 2);
        // Not there until finish.
        assert!(!path.exists());
        assert_eq!(w.finish().unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = "\
policy,replication,id,host,vcpus,memory_mib,priority,tenant,arrival_s,admission_s,first_run_s,finish_s,service_s,estimate_s,queue_wait_s,ready_wait_s,response_s,turnaround_s,wait_s,slowdown,preemptions,warmup,io_wait_s,io_service_s,io_requests,fault_stall_s,minor_faults,major_faults,migrations,stopped
fcfs,0,2,0,1,512,0,,0.000000000,0.000000000,24.000000000,27.000000000,3.000000000,3.000000000,0.000000000,24.000000000,24.000000000,27.000000000,24.000000000,9.000000,0,0,0.000000000,0.000000000,0,0.000000000,0,0,0,0
\"rr,q=4\",1,7,0,1,512,0,3,1.000000000,1.500000000,1.500000000,1.500000000,0.000000000,0.000000250,0.500000000,0.000000000,0.500000000,0.500000000,0.500000000,inf,2,1,0.000000000,0.000000000,0,0.000000000,0,0,0,0
";
        assert_eq!(text, expected);
    }

    /// With caps configured the file has one more column, `throttled_s`, at the end.
    #[test]
    fn vms_csv_with_throttled_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        let mut w = VmsCsv::create_with_throttled(&path).unwrap();
        w.set_run("fair", 0);
        let mut r = vm(1, 0, 0, 2, 1);
        r.throttled = SimTime(950_000_000);
        w.on_vm_finished(&r);
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with(",migrations,stopped,throttled_s")
        );
        assert!(lines.next().unwrap().ends_with(",0,0,0.950000000"));
    }

    #[test]
    fn vms_csv_dropped_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        let mut w = VmsCsv::create(&path).unwrap();
        w.on_vm_finished(&vm(1, 0, 0, 24, 24));
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn slices_csv_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slices.csv");
        let mut w = SlicesCsv::create(&path).unwrap();
        assert!(w.wants_slices());
        w.set_run("rr", 2);
        w.on_slice(&SliceRecord {
            host: 1,
            pcpu: 3,
            vm: 9,
            vcpu: 0,
            dispatch: s(4),
            start: SimTime(4_000_001_000),
            end: s(8),
            reason: SliceEnd::Quantum,
        });
        assert_eq!(w.finish().unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "policy,replication,host,pcpu,vm,vcpu,dispatch_s,start_s,end_s,reason\n\
             rr,2,1,3,9,0,4.000000000,4.000001000,8.000000000,quantum\n"
        );
    }

    /// With migration configured (and caps), `throttled_s` then `downtime_s` at the end;
    /// 39 614 081 ns of downtime is 0.039614081 s.
    #[test]
    fn vms_csv_with_downtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        let mut w = VmsCsv::create_with(&path, true, true).unwrap();
        let mut r = vm(1, 0, 0, 2, 1);
        r.downtime = SimTime(39_614_081);
        w.on_vm_finished(&r);
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with(",migrations,stopped,throttled_s,downtime_s")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with(",0,0,0.000000000,0.039614081")
        );
        // Downtime alone.
        let mut w = VmsCsv::create_with(&path, false, true).unwrap();
        w.on_vm_finished(&r);
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .ends_with(",stopped,downtime_s")
        );
    }

    /// With `power.csv`, `timeline.csv` ends with `power_w` and `hosts_on`: a booting
    /// host counts as on (1), a failed one not (0).
    #[test]
    fn timeline_with_power_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        let mut w = TimelineCsv::create(p("timeline.csv"), p("devices.csv"))
            .unwrap()
            .with_power(p("power.csv"))
            .unwrap();
        w.set_run("fcfs", 0);
        for (host, state, power_w) in [(0, "booting", 95.0), (1, "failed", 8.0)] {
            w.on_sample(&sim::HostSample {
                time: s(600),
                host,
                state,
                power_w,
                ..Default::default()
            });
        }
        assert_eq!(w.finish().unwrap(), 2);
        let text = std::fs::read_to_string(p("timeline.csv")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with(",swap_ins,power_w,hosts_on"),
            "{}",
            lines[0]
        );
        assert!(lines[1].ends_with(",95.000000,1"), "{}", lines[1]);
        assert!(lines[2].ends_with(",8.000000,0"), "{}", lines[2]);
        // Without power, the plain header.
        let w = TimelineCsv::create(p("t2.csv"), p("d2.csv")).unwrap();
        w.finish().unwrap();
        let text = std::fs::read_to_string(p("t2.csv")).unwrap();
        assert_eq!(text.trim_end(), TIMELINE_HEADER.join(","));
    }
}
