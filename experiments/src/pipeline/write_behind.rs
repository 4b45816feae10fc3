//! Writing behind: an observer's work (metrics, CSV rows) done on a second thread while the
//! engine simulates. The engine's calls are recorded in order, in batches handed over
//! through bounded channels, and replayed on the real observer in the same order, so the
//! results are those of observing directly; memory stays bounded (a few batches in flight).
//!
//! [`write_behind`] runs the observer on a thread of its own. A caller that already has a
//! helper thread (the workload's read-ahead, say) can replay the batches there instead:
//! [`WriteBehind::new`] takes a [`BatchSink`], and the helper calls [`Batch::replay`].

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sim::observer::{
    AdmissionNote, Decision, HostSample, Observer, SliceRecord, VmRecord, VmTimes,
};

/// Calls per batch.
const BATCH: usize = 2048;
/// Full batches waiting for the observer.
const IN_FLIGHT: usize = 2;

/// One observer call.
enum Call {
    Finished(VmRecord),
    Rejected(u64, String),
    Slice(SliceRecord),
    Decision(Decision),
    Note(AdmissionNote),
    Sample(HostSample),
}

/// A batch of recorded observer calls, in the order the engine made them.
///
/// For an observer that [`Observer::wants_times_only`], finished VMs are kept apart as
/// [`VmTimes`] (80 bytes instead of a 176-byte call); each other call notes how many of
/// those came before it, so the order is kept.
pub struct Batch {
    calls: Vec<Call>,
    /// Per call in `calls`, the number of `times` before it (only with `times`).
    times_before: Vec<u32>,
    times: Vec<VmTimes>,
}

impl Batch {
    fn with_capacity(n: usize) -> Batch {
        Batch {
            calls: Vec::with_capacity(n),
            times_before: Vec::new(),
            times: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.times.is_empty()
    }

    /// Makes every call of the batch on `observer`, in order, and leaves the batch empty
    /// (its memory kept, for reuse).
    pub fn replay<O: Observer>(&mut self, observer: &mut O) {
        // Times replayed so far.
        let mut done = 0;
        // Read in place (a call is not moved out of the batch first).
        for (i, call) in self.calls.iter().enumerate() {
            if let Some(&before) = self.times_before.get(i) {
                for t in &self.times[done..before as usize] {
                    observer.on_vm_times(t);
                }
                done = before as usize;
            }
            match call {
                Call::Finished(r) => observer.on_vm_finished(r),
                Call::Rejected(id, reason) => observer.on_vm_rejected(*id, reason),
                Call::Slice(s) => observer.on_slice(s),
                Call::Decision(d) => observer.on_decision(d),
                Call::Note(n) => observer.on_admission_note(n),
                Call::Sample(s) => observer.on_sample(s),
            }
        }
        for t in &self.times[done..] {
            observer.on_vm_times(t);
        }
        self.calls.clear();
        self.times_before.clear();
        self.times.clear();
    }
}

/// Where a [`WriteBehind`] sends its full batches, and gets emptied ones back from.
pub trait BatchSink: Send {
    /// Hands a full batch over to be replayed. May block until there is room: that is what
    /// bounds the batches in flight.
    fn send(&mut self, batch: Batch);
    /// An emptied batch to fill again, if one has come back.
    fn recycled(&mut self) -> Option<Batch>;
}

/// The sink of [`write_behind`]: a channel to the observer's own thread.
struct ChannelSink {
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
}

impl BatchSink for ChannelSink {
    fn send(&mut self, batch: Batch) {
        // The observer thread only hangs up after this end is dropped.
        let _ = self.full.send(batch);
    }
    fn recycled(&mut self) -> Option<Batch> {
        self.empty.try_recv().ok()
    }
}

/// The engine's end of a write-behind observer (see [`write_behind`]). Dropping it hands
/// over the last, partly filled batch.
pub struct WriteBehind {
    wants_slices: bool,
    wants_decisions: bool,
    /// Finished VMs go over as [`VmTimes`] (see [`Observer::wants_times_only`]).
    times_only: bool,
    batch: Batch,
    sink: Box<dyn BatchSink>,
}

impl WriteBehind {
    /// Records calls for `observer` (whose wishes for slices and decisions it copies) and
    /// hands them to `sink` in batches; whoever receives them replays them on `observer`.
    pub fn new<O: Observer>(observer: &O, sink: Box<dyn BatchSink>) -> WriteBehind {
        WriteBehind {
            wants_slices: observer.wants_slices(),
            wants_decisions: observer.wants_decisions(),
            times_only: observer.wants_times_only(),
            batch: Batch::with_capacity(BATCH),
            sink,
        }
    }

    #[inline]
    fn push(&mut self, call: Call) {
        if self.times_only {
            self.batch.times_before.push(self.batch.times.len() as u32);
        }
        self.batch.calls.push(call);
        if self.batch.calls.len() >= BATCH {
            self.flush();
        }
    }

    #[inline]
    fn push_times(&mut self, times: VmTimes) {
        self.batch.times.push(times);
        if self.batch.times.len() >= BATCH {
            self.flush();
        }
    }

    #[cold]
    #[inline(never)]
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let fresh = self
            .sink
            .recycled()
            .unwrap_or_else(|| Batch::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, fresh);
        self.sink.send(full);
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Observer for WriteBehind {
    #[inline]
    fn on_vm_finished(&mut self, record: &VmRecord) {
        if self.times_only {
            self.push_times(record.times());
        } else {
            self.push(Call::Finished(record.clone()));
        }
    }
    #[inline]
    fn on_vm_finished_with(&mut self, build: impl FnOnce() -> VmRecord) {
        if self.times_only {
            self.push_times(build().times());
        } else {
            self.push(Call::Finished(build()));
        }
    }
    fn wants_times_only(&self) -> bool {
        self.times_only
    }
    fn on_vm_times(&mut self, times: &VmTimes) {
        self.push_times(*times);
    }
    fn on_vm_rejected(&mut self, id: u64, reason: &str) {
        self.push(Call::Rejected(id, reason.to_string()));
    }
    fn wants_slices(&self) -> bool {
        self.wants_slices
    }
    fn on_slice(&mut self, slice: &SliceRecord) {
        self.push(Call::Slice(slice.clone()));
    }
    fn wants_decisions(&self) -> bool {
        self.wants_decisions
    }
    fn on_decision(&mut self, decision: &Decision) {
        self.push(Call::Decision(decision.clone()));
    }
    fn on_admission_note(&mut self, note: &AdmissionNote) {
        self.push(Call::Note(note.clone()));
    }
    fn on_sample(&mut self, sample: &HostSample) {
        self.push(Call::Sample(sample.clone()));
    }
}

/// Runs `produce` with an observer that forwards every call to `observer` on a second
/// thread, in order; all calls have reached `observer` when this returns.
pub fn write_behind<O, R>(observer: &mut O, produce: impl FnOnce(&mut WriteBehind) -> R) -> R
where
    O: Observer + Send,
{
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT + 2);
    let mut front = WriteBehind::new(
        observer,
        Box::new(ChannelSink {
            full: full_tx,
            empty: empty_rx,
        }),
    );
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for mut batch in full_rx {
                batch.replay(observer);
                let _ = empty_tx.try_send(batch);
            }
        });
        let r = produce(&mut front);
        // Hand over the last batch and hang up: the observer thread ends after it.
        drop(front);
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::observer::Collect;
    use sim::{SimConfig, SimTime, VmRequest, simulate};

    /// `n` VMs every 70 ms, of 1–3 vCPUs (64 for the ids `too_big` picks, which no host
    /// holds), in `classes` priority classes.
    fn vms(n: u64, classes: u64, too_big: impl Fn(u64) -> bool) -> Vec<VmRequest> {
        (0..n)
            .map(|id| VmRequest {
                id,
                arrival: SimTime::from_millis(id * 70),
                vcpus: if too_big(id) { 64 } else { 1 + (id % 3) as u32 },
                memory_mib: 0,
                priority: (id % classes) as i32,
                demand: SimTime::from_millis(500 + (id * 7919) % 1000),
                estimate: SimTime::from_millis(800),
                tenant: None,
                profile: Default::default(),
            })
            .collect()
    }

    /// One 8-pCPU host, vCPU overcommit 2, round robin (100 ms), a sample every 10 s.
    fn rr_host() -> SimConfig {
        let mut cfg = SimConfig::single_host(8, 0);
        cfg.cpu.policy = "rr".into();
        cfg.cpu.quantum = SimTime::from_millis(100);
        cfg.cluster.hosts[0].overcommit = 2.0;
        cfg.timeline_interval = Some(SimTime::from_secs(10));
        cfg
    }

    /// Observing behind gives the same records, slices and samples, in the same order.
    #[test]
    fn same_calls_in_the_same_order() {
        let vms = vms(10_000, 2, |_| false);
        let cfg = rr_host();
        let mut direct = Collect::default();
        let a = simulate(&cfg, vms.clone(), &mut direct).unwrap();
        let mut behind = Collect::default();
        let b = write_behind(&mut behind, |o| simulate(&cfg, vms, o)).unwrap();
        assert_eq!(a, b);
        assert!(
            direct.slices.len() > 10_000,
            "{} slices",
            direct.slices.len()
        );
        assert_eq!(direct.vms, behind.vms);
        assert_eq!(direct.slices, behind.slices);
        assert_eq!(direct.samples, behind.samples);
    }

    /// An observer of times only (see [`Observer::wants_times_only`]) that logs what it is
    /// told, in order.
    #[derive(Default)]
    struct TimesLog(Vec<String>);

    impl Observer for TimesLog {
        fn on_vm_finished(&mut self, r: &VmRecord) {
            self.0.push(format!("{:?}", r.times()));
        }
        fn wants_times_only(&self) -> bool {
            true
        }
        fn on_vm_times(&mut self, t: &VmTimes) {
            self.0.push(format!("{t:?}"));
        }
        fn on_vm_rejected(&mut self, id: u64, _reason: &str) {
            self.0.push(format!("rejected {id}"));
        }
        fn on_sample(&mut self, s: &HostSample) {
            self.0.push(format!("sample {} {}", s.time, s.host));
        }
    }

    /// Times only, written behind: the same times, rejections and samples in the same order
    /// as observed directly (several batches; rejections and samples among the VMs), and
    /// the same metrics.
    #[test]
    fn times_only_keep_their_order_among_other_calls() {
        let vms = vms(6_000, 3, |id| id % 997 == 3);
        let mut cfg = rr_host();
        cfg.warmup_vms = 100;
        let mut direct = TimesLog::default();
        let a = simulate(&cfg, vms.clone(), &mut direct).unwrap();
        let mut behind = TimesLog::default();
        let b = write_behind(&mut behind, |o| simulate(&cfg, vms.clone(), o)).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            direct
                .0
                .iter()
                .filter(|l| l.starts_with("rejected"))
                .count(),
            7
        );
        assert!(direct.0.iter().filter(|l| l.starts_with("sample")).count() > 30);
        assert_eq!(direct.0, behind.0);

        let mut m_direct = sim::metrics::Metrics::new();
        simulate(&cfg, vms.clone(), &mut m_direct).unwrap();
        let mut m_behind = sim::metrics::Metrics::new();
        write_behind(&mut m_behind, |o| simulate(&cfg, vms, o)).unwrap();
        assert_eq!(
            format!("{:?}", m_direct.summary(&a)),
            format!("{:?}", m_behind.summary(&a))
        );
    }
}
