//! The reorder buffer over a format reader: VM requests in arrival order, scaled, with a
//! report of what was read and skipped.

use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use sim::{SimTime, VmRequest};

use super::format::TraceFormat;
use super::source::{Next, RecordSource};
use super::spec::TraceSpec;
use crate::error::Error;
use crate::limits::{MAX_SECONDS, too_long};
use crate::units::secs_to_time;

/// How many messages of skipped malformed lines a [`TraceReport`] keeps.
const KEPT_MESSAGES: usize = 5;

/// What a [`TraceReader`] did: records read, VMs emitted, records skipped by reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceReport {
    /// The file as the user named it.
    pub file: String,
    /// The format.
    pub format: Option<TraceFormat>,
    /// Records read (data lines; for Azure, VMs), including skipped ones.
    pub records: u64,
    /// VM requests emitted.
    pub emitted: u64,
    /// Skipped records by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Kept records worth knowing about (`censored`, `memory unknown`, …).
    pub notes: BTreeMap<String, u64>,
    /// The first messages of skipped malformed lines (with `lenient`).
    pub messages: Vec<String>,
    /// Header fields of the trace, in file order.
    pub header: Vec<(String, String)>,
    /// Records that came out of order and were put back in order by the reorder buffer.
    pub reordered: u64,
    /// True if reading stopped at `limit` before the end of the trace.
    pub stopped_at_limit: bool,
    /// The most records the reorder buffer held at once (≤ `reorder_window` + 1): what the
    /// reader keeps in memory, whatever the trace's length.
    pub peak_buffered: u64,
}

impl TraceReport {
    /// Total skipped records.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// The value of header field `key` (first occurrence).
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} records read, {} VMs",
            self.file, self.records, self.emitted
        )?;
        if self.stopped_at_limit {
            f.write_str(" (stopped at the limit)")?;
        }
        let total = self.skipped_total();
        if total > 0 {
            write!(f, "; skipped {total}:")?;
            for (i, (why, n)) in self.skipped.iter().enumerate() {
                write!(f, "{} {n} {why}", if i == 0 { "" } else { "," })?;
            }
        }
        if self.reordered > 0 {
            write!(f, "; {} put back in arrival order", self.reordered)?;
        }
        for (what, n) in &self.notes {
            write!(f, "; {n} {what}")?;
        }
        for m in &self.messages {
            write!(f, "\n  skipped: {m}")?;
        }
        Ok(())
    }
}

/// A record waiting in the reorder buffer, ordered by (arrival, file order).
struct Pending {
    arrival: SimTime,
    seq: u64,
    vm: VmRequest,
    /// The trace's own wait, seconds (NaN: none).
    recorded_wait_s: f64,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.arrival, self.seq).cmp(&(other.arrival, other.seq))
    }
}

/// Streams the VM requests of a trace in arrival order (see the [module](crate::trace) rules).
///
/// An iterator of `Result<VmRequest, Error>`: after an error it returns `None`. The
/// [`TraceReport`] ([`TraceReader::report`]) counts what was read and skipped.
pub struct TraceReader {
    source: Box<dyn RecordSource>,
    label: String,
    time_scale: f64,
    arrival_scale: f64,
    limit: u64,
    lenient: bool,
    window: usize,
    /// The reorder buffer, sorted by (arrival, file order): an in-order record is pushed
    /// at the back in O(1); a late one is inserted in place.
    heap: VecDeque<Pending>,
    seq: u64,
    last_emitted: SimTime,
    /// Largest arrival pushed so far (to count reordered records).
    max_pushed: SimTime,
    reading: bool,
    failed: bool,
    report: TraceReport,
    /// The recorded waits of the VMs emitted, when asked for
    /// ([`TraceReader::keep_recorded_waits`]).
    recorded_waits: Option<Vec<f64>>,
}

impl TraceReader {
    pub(super) fn new(source: Box<dyn RecordSource>, spec: &TraceSpec) -> TraceReader {
        TraceReader {
            source,
            label: spec.path.clone(),
            time_scale: spec.time_scale,
            arrival_scale: spec.time_scale / spec.load_scale,
            limit: spec.limit.unwrap_or(u64::MAX),
            lenient: spec.lenient,
            window: usize::try_from(spec.reorder_window).unwrap_or(usize::MAX),
            heap: VecDeque::new(),
            seq: 0,
            last_emitted: SimTime::ZERO,
            max_pushed: SimTime::ZERO,
            reading: true,
            failed: false,
            recorded_waits: None,
            report: TraceReport {
                file: spec.path.clone(),
                format: Some(spec.format),
                ..TraceReport::default()
            },
        }
    }

    /// What has been read so far (complete once the iterator has returned `None`).
    pub fn report(&self) -> TraceReport {
        let mut r = self.report.clone();
        r.header = self.source.header();
        for (what, n) in self.source.notes() {
            if n > 0 {
                r.notes.insert(what.to_string(), n);
            }
        }
        r
    }

    /// Keeps the wait the trace recorded for each VM emitted from now on (SWF field 3;
    /// NaN where the trace has none), for [`TraceReader::recorded_waits`].
    pub fn keep_recorded_waits(&mut self) {
        self.recorded_waits.get_or_insert_with(Vec::new);
    }

    /// The recorded waits kept, in emission order (VM id order), seconds scaled like the
    /// trace's times (`time_scale`).
    pub fn recorded_waits(&self) -> Option<&[f64]> {
        self.recorded_waits.as_deref()
    }

    fn skip(&mut self, why: &str) {
        *self.report.skipped.entry(why.to_string()).or_insert(0) += 1;
    }

    /// Reads one record into the buffer. `Ok(false)` at the end of the trace.
    fn fill_one(&mut self) -> Result<bool, Error> {
        let next = match self.source.next_record() {
            Ok(n) => n,
            Err(e @ Error::Invalid { .. }) if self.lenient => {
                self.report.records += 1;
                self.skip("malformed line");
                if self.report.messages.len() < KEPT_MESSAGES {
                    self.report.messages.push(e.to_string());
                }
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        match next {
            Next::End => Ok(false),
            Next::Skip(why) => {
                self.report.records += 1;
                self.skip(why);
                Ok(true)
            }
            Next::Vm(raw) => {
                self.report.records += 1;
                // Times beyond the limit on input times (scaled as they will be used).
                for (key, secs) in [
                    ("arrival", raw.arrival_s * self.arrival_scale),
                    ("runtime", raw.runtime_s * self.time_scale),
                    ("estimate", raw.estimate_s * self.time_scale),
                ] {
                    if secs > MAX_SECONDS {
                        if self.lenient {
                            self.skip("time beyond 5e9 s");
                            return Ok(true);
                        }
                        return Err(Error::Invalid {
                            file: Some(self.label.clone()),
                            line: Some(raw.line),
                            key: Some(key.into()),
                            message: too_long(secs),
                        });
                    }
                }
                let arrival = secs_to_time(raw.arrival_s * self.arrival_scale);
                if arrival < self.last_emitted {
                    if self.lenient {
                        self.skip("out of order");
                        return Ok(true);
                    }
                    return Err(Error::Invalid {
                        file: Some(self.label.clone()),
                        line: Some(raw.line),
                        key: Some("arrival".into()),
                        message: format!(
                            "out of order by more than the reorder window ({} records): \
                             arrives at {:.3} s, before {:.3} s already emitted; raise \
                             reorder_window or sort the trace",
                            self.window,
                            arrival.as_secs_f64(),
                            self.last_emitted.as_secs_f64()
                        ),
                    });
                }
                if arrival < self.max_pushed {
                    self.report.reordered += 1;
                }
                self.max_pushed = self.max_pushed.max(arrival);
                let runtime = secs_to_time(raw.runtime_s * self.time_scale);
                let estimate = secs_to_time(raw.estimate_s * self.time_scale);
                let pending = Pending {
                    arrival,
                    seq: self.seq,
                    recorded_wait_s: raw
                        .recorded_wait_s
                        .map_or(f64::NAN, |w| w * self.time_scale),
                    vm: VmRequest {
                        id: 0,
                        arrival,
                        vcpus: raw.vcpus,
                        memory_mib: raw.memory_mib,
                        priority: raw.priority,
                        demand: runtime,
                        estimate,
                        tenant: raw.tenant,
                        profile: Default::default(),
                    },
                };
                match self.heap.back() {
                    Some(last) if pending < *last => {
                        let at = self.heap.partition_point(|p| *p < pending);
                        self.heap.insert(at, pending);
                    }
                    _ => self.heap.push_back(pending),
                }
                self.seq += 1;
                self.report.peak_buffered = self.report.peak_buffered.max(self.heap.len() as u64);
                Ok(true)
            }
        }
    }
}

impl Iterator for TraceReader {
    type Item = Result<VmRequest, Error>;

    fn next(&mut self) -> Option<Result<VmRequest, Error>> {
        if self.failed {
            return None;
        }
        if self.report.emitted >= self.limit {
            if self.reading || !self.heap.is_empty() {
                self.reading = false;
                self.heap.clear();
                self.report.stopped_at_limit = true;
            }
            return None;
        }
        while self.reading && self.heap.len() <= self.window {
            match self.fill_one() {
                Ok(true) => {}
                Ok(false) => self.reading = false,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        let p = self.heap.pop_front()?;
        if let Some(w) = self.recorded_waits.as_mut() {
            w.push(p.recorded_wait_s);
        }
        let mut vm = p.vm;
        vm.id = self.report.emitted;
        self.report.emitted += 1;
        self.last_emitted = p.arrival;
        Some(Ok(vm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::input::bad;
    use crate::trace::source::RawVm;

    /// A source replaying a fixed list.
    struct Fixed(std::vec::IntoIter<Result<Next, Error>>);
    impl RecordSource for Fixed {
        fn next_record(&mut self) -> Result<Next, Error> {
            self.0.next().unwrap_or(Ok(Next::End))
        }
        fn header(&self) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    fn vm(line: u64, arrival_s: f64) -> Result<Next, Error> {
        Ok(Next::Vm(RawVm {
            line,
            arrival_s,
            runtime_s: 1.0,
            estimate_s: 1.0,
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            tenant: None,
            recorded_wait_s: None,
        }))
    }

    fn reader(items: Vec<Result<Next, Error>>, spec: &TraceSpec) -> TraceReader {
        TraceReader::new(Box::new(Fixed(items.into_iter())), spec)
    }

    fn arrivals(r: &mut TraceReader) -> Vec<f64> {
        r.by_ref()
            .map(|v| v.unwrap().arrival.as_secs_f64())
            .collect()
    }

    #[test]
    fn reorders_within_the_window_and_numbers_in_arrival_order() {
        let mut spec = TraceSpec::new(TraceFormat::Csv, "t.csv");
        spec.reorder_window = 2;
        // 5, 3, 4, 9, 9, 8: each late record is at most 2 records late.
        let items = [5.0, 3.0, 4.0, 9.0, 9.0, 8.0]
            .iter()
            .enumerate()
            .map(|(i, &a)| vm(i as u64 + 2, a))
            .collect();
        let mut r = reader(items, &spec);
        let vms: Vec<VmRequest> = r.by_ref().map(|v| v.unwrap()).collect();
        let got: Vec<f64> = vms.iter().map(|v| v.arrival.as_secs_f64()).collect();
        assert_eq!(got, [3.0, 4.0, 5.0, 8.0, 9.0, 9.0]);
        assert_eq!(
            vms.iter().map(|v| v.id).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
        let rep = r.report();
        // 3 (after 5), 4 (after 5) and 8 (after 9) came late.
        assert_eq!((rep.records, rep.emitted, rep.reordered), (6, 6, 3));
    }

    #[test]
    fn too_late_is_an_error_or_skipped_when_lenient() {
        let mut spec = TraceSpec::new(TraceFormat::Csv, "t.csv");
        spec.reorder_window = 0;
        let items = || vec![vm(2, 5.0), vm(3, 3.0), vm(4, 6.0)];
        let mut r = reader(items(), &spec);
        assert_eq!(r.next().unwrap().unwrap().arrival, SimTime::from_secs(5));
        let e = r.next().unwrap().unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3: arrival: out of order"), "{e}");
        assert!(r.next().is_none());

        spec.lenient = true;
        let mut r = reader(items(), &spec);
        assert_eq!(arrivals(&mut r), [5.0, 6.0]);
        assert_eq!(r.report().skipped.get("out of order"), Some(&1));
    }

    #[test]
    fn scaling_limit_and_lenient_malformed_lines() {
        let mut spec = TraceSpec::new(TraceFormat::Csv, "t.csv");
        spec.time_scale = 2.0;
        spec.load_scale = 4.0;
        spec.lenient = true;
        let items = vec![
            vm(2, 4.0),
            Err(bad("t.csv", 3, "runtime_s", "not a number: `x`")),
            Ok(Next::Skip("zero runtime")),
            vm(5, 8.0),
            vm(6, 12.0),
        ];
        let mut r = reader(items, &spec);
        let vms: Vec<VmRequest> = r.by_ref().map(|v| v.unwrap()).collect();
        // arrival × 2 / 4: 4 → 2 s, 8 → 4 s, 12 → 6 s; runtime 1 s × 2 = 2 s.
        let got: Vec<f64> = vms.iter().map(|v| v.arrival.as_secs_f64()).collect();
        assert_eq!(got, [2.0, 4.0, 6.0]);
        assert!(vms.iter().all(|v| v.demand == SimTime::from_secs(2)));
        let rep = r.report();
        assert_eq!((rep.records, rep.emitted, rep.skipped_total()), (5, 3, 2));
        assert_eq!(rep.messages, ["t.csv:3: runtime_s: not a number: `x`"]);

        spec.limit = Some(2);
        spec.lenient = false;
        let mut r = reader(vec![vm(2, 1.0), vm(3, 2.0), vm(4, 3.0)], &spec);
        assert_eq!(r.by_ref().count(), 2);
        assert!(r.report().stopped_at_limit);
    }
}
