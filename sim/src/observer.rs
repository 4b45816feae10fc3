//! What the engine reports while it runs.

use crate::time::SimTime;

/// Everything known about a VM when it finishes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VmRecord {
    /// VM id (from the workload).
    pub id: u64,
    /// Host it ran on.
    pub host: u32,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory reserved (MiB).
    pub memory_mib: u64,
    /// Priority class.
    pub priority: i32,
    /// Tenant, if the workload gave one.
    pub tenant: Option<u32>,
    /// Submission time.
    pub arrival: SimTime,
    /// When a host admitted it.
    pub admission: SimTime,
    /// When guest code of its first vCPU began to run.
    pub first_run: SimTime,
    /// When its last vCPU finished.
    pub finish: SimTime,
    /// CPU work per vCPU (the service time: how long it takes alone).
    pub service: SimTime,
    /// The user's estimate of the service time.
    pub estimate: SimTime,
    /// Time its vCPUs were runnable but not running, summed over vCPUs (steal time).
    pub ready_wait: SimTime,
    /// Number of times one of its vCPUs was taken off a pCPU before finishing.
    pub preemptions: u32,
    /// Whether it is one of the run's warm-up VMs (left out of statistics).
    pub warmup: bool,
    /// Time its vCPUs were blocked on I/O (queueing + service), summed over vCPUs.
    pub io_wait: SimTime,
    /// Device service time of its I/O requests (without queueing).
    pub io_service: SimTime,
    /// I/O requests issued.
    pub io_requests: u64,
    /// Time its vCPUs were stalled by page faults: swap-ins (queueing + service) and
    /// first-touch mapping.
    pub fault_stall: SimTime,
    /// Service part of `fault_stall` (swap device service and first-touch cost).
    pub fault_service: SimTime,
    /// First-touch (minor) faults.
    pub minor_faults: u64,
    /// Major faults (each one a swap-in).
    pub major_faults: u64,
    /// Times one of its vCPUs ran on a different pCPU than the time before.
    pub migrations: u32,
    /// Whether a lifecycle `stop` ended it before its work was done.
    pub stopped: bool,
    /// Wall time during which it was throttled by its CPU cap, waiting for the next period
    /// (0 without a cap).
    pub throttled: SimTime,
    /// Time it was paused by live migrations (stop-copy and resume), summed: it finishes
    /// that much later, but it is not counted as wait (see [`VmTimes::wait`]).
    pub downtime: SimTime,
}

impl VmRecord {
    /// The times and class of the VM (what summaries read).
    #[inline]
    pub fn times(&self) -> VmTimes {
        VmTimes {
            arrival: self.arrival,
            admission: self.admission,
            first_run: self.first_run,
            finish: self.finish,
            service: self.service,
            io_service: self.io_service,
            fault_service: self.fault_service,
            ready_wait: self.ready_wait,
            downtime: self.downtime,
            priority: self.priority,
            warmup: self.warmup,
        }
    }
    /// Admission − arrival.
    pub fn queue_wait(&self) -> SimTime {
        self.times().queue_wait()
    }
    /// First run − arrival.
    pub fn response(&self) -> SimTime {
        self.times().response()
    }
    /// Finish − arrival.
    pub fn turnaround(&self) -> SimTime {
        self.times().turnaround()
    }
    /// See [`VmTimes::wait`].
    pub fn wait(&self) -> SimTime {
        self.times().wait()
    }
    /// See [`VmTimes::slowdown`].
    pub fn slowdown(&self) -> f64 {
        self.times().slowdown()
    }
}

/// The times and class of a finished VM: the part of its [`VmRecord`] that summaries
/// ([`crate::metrics::Metrics`]) read. An observer that reads no more says so
/// ([`Observer::wants_times_only`]); a write-behind then hands over only these 80 bytes
/// instead of the 168-byte record.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct VmTimes {
    /// Submission.
    pub arrival: SimTime,
    /// Admission (= finish for a VM stopped while queued).
    pub admission: SimTime,
    /// First run of guest code.
    pub first_run: SimTime,
    /// Finish.
    pub finish: SimTime,
    /// CPU work per vCPU.
    pub service: SimTime,
    /// Device service of its I/O requests.
    pub io_service: SimTime,
    /// Swap-in service of its major faults.
    pub fault_service: SimTime,
    /// Time its vCPUs were runnable but not running.
    pub ready_wait: SimTime,
    /// Time it was paused by live migrations.
    pub downtime: SimTime,
    /// Priority class.
    pub priority: i32,
    /// Left out of statistics (warm-up).
    pub warmup: bool,
}

impl VmTimes {
    /// Admission − arrival.
    pub fn queue_wait(&self) -> SimTime {
        self.admission.saturating_sub(self.arrival)
    }
    /// First run − arrival.
    pub fn response(&self) -> SimTime {
        self.first_run.saturating_sub(self.arrival)
    }
    /// Finish − arrival.
    pub fn turnaround(&self) -> SimTime {
        self.finish.saturating_sub(self.arrival)
    }
    /// Turnaround − CPU service − I/O service − fault service − live-migration downtime:
    /// the textbook waiting time when there is no I/O. It includes queueing at devices and
    /// slowdowns (SMT, NUMA, translation, context switches, pCPU migrations). For a
    /// multi-vCPU VM the I/O and fault service are summed over vCPUs, so this can
    /// undercount; it never goes below 0.
    pub fn wait(&self) -> SimTime {
        self.turnaround()
            .saturating_sub(self.service)
            .saturating_sub(self.io_service)
            .saturating_sub(self.fault_service)
            .saturating_sub(self.downtime)
    }
    /// Turnaround / service (1 for a VM that never waited; `inf` for a zero-length VM that
    /// waited, 1 for one that did not).
    pub fn slowdown(&self) -> f64 {
        let t = self.turnaround().nanos() as f64;
        let s = self.service.nanos() as f64;
        if s == 0.0 {
            if t == 0.0 { 1.0 } else { f64::INFINITY }
        } else {
            t / s
        }
    }
}

/// Why a slice of CPU time ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SliceEnd {
    /// The vCPU finished its work.
    Finished,
    /// Its quantum expired.
    Quantum,
    /// A more urgent vCPU took the pCPU.
    Preempted,
    /// The vCPU blocked on I/O or a page fault.
    Blocked,
    /// Its VM was paused.
    Paused,
    /// Its VM was stopped.
    Stopped,
    /// Its host failed.
    HostFailed,
    /// Its VM used up its CPU cap for the period.
    Throttled,
    /// Its VM was paused for the stop-copy phase of a live migration.
    Migrated,
}

impl SliceEnd {
    /// Lower-case name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            SliceEnd::Finished => "finished",
            SliceEnd::Quantum => "quantum",
            SliceEnd::Preempted => "preempted",
            SliceEnd::Blocked => "blocked",
            SliceEnd::Paused => "paused",
            SliceEnd::Stopped => "stopped",
            SliceEnd::HostFailed => "host-failed",
            SliceEnd::Throttled => "throttled",
            SliceEnd::Migrated => "migrated",
        }
    }
}

/// A vCPU's stay on a pCPU (one bar of a Gantt chart).
#[derive(Clone, Debug, PartialEq)]
pub struct SliceRecord {
    /// Host.
    pub host: u32,
    /// pCPU within the host.
    pub pcpu: u32,
    /// VM id.
    pub vm: u64,
    /// vCPU index within the VM.
    pub vcpu: u32,
    /// When the pCPU was given to the vCPU (the context switch, if any, starts here).
    pub dispatch: SimTime,
    /// When guest code started (dispatch + context-switch cost).
    pub start: SimTime,
    /// When the slice ended.
    pub end: SimTime,
    /// Why it ended.
    pub reason: SliceEnd,
}

/// The state of one physical device at a timeline sample.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DeviceSample {
    /// Index of the device in the host's list (the implicit swap device comes last).
    pub device: u32,
    /// `disk`, `nic` or `swap`.
    pub kind: &'static str,
    /// Channels serving a request now.
    pub busy_channels: u32,
    /// Requests waiting (not in service).
    pub queue_length: u64,
    /// Busy channel-time since the previous sample / (channels × interval).
    pub utilization: f64,
    /// Requests completed since the previous sample.
    pub completed: u64,
}

/// One host's state at a timeline sample.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HostSample {
    /// Sample time.
    pub time: SimTime,
    /// Host.
    pub host: u32,
    /// pCPUs busy at the sample instant.
    pub busy_pcpus: u32,
    /// Busy pCPU time since the previous sample / (pCPUs × interval).
    pub cpu_utilization: f64,
    /// vCPUs runnable but not running.
    pub ready_vcpus: u64,
    /// vCPUs blocked on I/O or a page fault.
    pub blocked_vcpus: u64,
    /// VMs admitted and not finished.
    pub admitted_vms: u64,
    /// VMs waiting for admission (cluster-wide).
    pub queued_vms: u64,
    /// Sum of the admitted VMs' working sets (MiB).
    pub working_set_mib: u64,
    /// Memory resident (MiB): working sets, scaled down when they exceed the host.
    pub resident_mib: u64,
    /// Swap-ins since the previous sample.
    pub swap_ins: u64,
    /// Devices, in order.
    pub devices: Vec<DeviceSample>,
    /// Mean power drawn since the previous sample, W (0 without a power model).
    pub power_w: f64,
    /// The host's state at the sample: `on`, `off`, `booting` or `failed`.
    pub state: &'static str,
}

/// A step-by-step account of one scheduling decision (for teaching traces).
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// When.
    pub time: SimTime,
    /// Host.
    pub host: u32,
    /// pCPU given.
    pub pcpu: u32,
    /// VM chosen.
    pub chosen: u64,
    /// vCPU index chosen.
    pub vcpu: u32,
    /// The other VMs that were ready (id), in the policy's order.
    pub passed_over: Vec<u64>,
    /// VM preempted to make room, if any.
    pub preempted: Option<u64>,
}

/// A step of backfilling (see [`crate::Backfill`]), for step-by-step traces and checks.
#[derive(Clone, Debug, PartialEq)]
pub enum AdmissionNote {
    /// VM `vm` holds a reservation: it will start on `host` at `start` at the latest (while
    /// estimates hold). EASY gives one to the head of the queue (at the shadow time, with
    /// `spare_vcpus` and `spare_mib` the head will not need then); conservative backfilling
    /// to every waiting VM (spare is 0). Reported when made or moved.
    Reservation {
        /// When it was made.
        time: SimTime,
        /// The VM.
        vm: u64,
        /// Host reserved.
        host: u32,
        /// Reserved start.
        start: SimTime,
        /// vCPU slots free at `start` beyond the VM's own (EASY; 0 for conservative).
        spare_vcpus: u64,
        /// MiB free at `start` beyond the VM's own (EASY; 0 for conservative).
        spare_mib: u64,
    },
    /// VM `vm` starts now on `host` ahead of a VM waiting before it in the queue.
    Backfill {
        /// When.
        time: SimTime,
        /// The VM.
        vm: u64,
        /// Host.
        host: u32,
        /// Its end by its estimate.
        end_by_estimate: SimTime,
        /// Why it may.
        why: BackfillWhy,
    },
}

/// Why a VM may start ahead of the head of the queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BackfillWhy {
    /// EASY: it ends, by its estimate, before the head's reservation `at` (on `host`).
    EndsBefore {
        /// The head.
        head: u64,
        /// The head's reserved start.
        at: SimTime,
    },
    /// EASY: it only uses capacity the head will not need at its reservation: `spare_vcpus`
    /// and `spare_mib` were left before it took its share.
    SpareCapacity {
        /// The head.
        head: u64,
        /// The head's reserved start.
        at: SimTime,
        /// Spare vCPU slots before this VM.
        spare_vcpus: u64,
        /// Spare MiB before this VM.
        spare_mib: u64,
    },
    /// EASY: the head's reservation is on another host.
    OtherHost {
        /// The head.
        head: u64,
        /// The head's host.
        head_host: u32,
    },
    /// Conservative: its own reservation is now, made after those of the `ahead` VMs still
    /// waiting before it in the queue (the earliest at `next`), so it delays none.
    DelaysNone {
        /// VMs waiting ahead of it.
        ahead: u64,
        /// The earliest reservation among them.
        next: SimTime,
    },
}

/// Receives what happens during a run. All methods have empty defaults; the engine is
/// generic over the observer, so unused hooks cost nothing.
pub trait Observer {
    /// A VM finished.
    fn on_vm_finished(&mut self, _record: &VmRecord) {}
    /// A VM finished, its record built by `build` (what the engine calls): observers that
    /// keep records build it where they keep it, without a copy; the default builds it and
    /// lends it to [`Self::on_vm_finished`].
    #[inline]
    fn on_vm_finished_with(&mut self, build: impl FnOnce() -> VmRecord)
    where
        Self: Sized,
    {
        self.on_vm_finished(&build());
    }
    /// Whether this observer reads only the [`VmTimes`] of finished VMs, nothing else of
    /// their records. Then [`Self::on_vm_times`] may be called instead of
    /// [`Self::on_vm_finished`] (a write-behind does: it moves less data between threads).
    fn wants_times_only(&self) -> bool {
        false
    }
    /// A VM finished: its times, for an observer that [`Self::wants_times_only`] (the
    /// default ignores them).
    fn on_vm_times(&mut self, _times: &VmTimes) {}
    /// A VM was turned away because no host could ever hold it.
    fn on_vm_rejected(&mut self, _id: u64, _reason: &str) {}
    /// Whether the engine should build [`SliceRecord`]s (off by default: they cost time).
    fn wants_slices(&self) -> bool {
        false
    }
    /// A slice ended (only called when [`Observer::wants_slices`] is true).
    fn on_slice(&mut self, _slice: &SliceRecord) {}
    /// Whether the engine should build [`Decision`]s (allocates; for small teaching runs).
    fn wants_decisions(&self) -> bool {
        false
    }
    /// A dispatch decision (only called when [`Observer::wants_decisions`] is true).
    fn on_decision(&mut self, _decision: &Decision) {}
    /// A backfilling step (only called when [`Observer::wants_decisions`] is true).
    fn on_admission_note(&mut self, _note: &AdmissionNote) {}
    /// A timeline sample of one host (only when the configuration asks for samples).
    fn on_sample(&mut self, _sample: &HostSample) {}
}

/// A mutable reference observes as its target does (so `(&mut a, &mut b)` works).
impl<T: Observer + ?Sized> Observer for &mut T {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        (**self).on_vm_finished(r);
    }
    fn wants_times_only(&self) -> bool {
        (**self).wants_times_only()
    }
    fn on_vm_times(&mut self, t: &VmTimes) {
        (**self).on_vm_times(t);
    }
    fn on_vm_rejected(&mut self, id: u64, reason: &str) {
        (**self).on_vm_rejected(id, reason);
    }
    fn wants_slices(&self) -> bool {
        (**self).wants_slices()
    }
    fn on_slice(&mut self, s: &SliceRecord) {
        (**self).on_slice(s);
    }
    fn wants_decisions(&self) -> bool {
        (**self).wants_decisions()
    }
    fn on_decision(&mut self, d: &Decision) {
        (**self).on_decision(d);
    }
    fn on_admission_note(&mut self, n: &AdmissionNote) {
        (**self).on_admission_note(n);
    }
    fn on_sample(&mut self, s: &HostSample) {
        (**self).on_sample(s);
    }
}

/// An observer that ignores everything.
#[derive(Default, Debug, Clone, Copy)]
pub struct NullObserver;
impl Observer for NullObserver {}

/// Forwards to two observers in turn.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        self.0.on_vm_finished(r);
        self.1.on_vm_finished(r);
    }
    fn wants_times_only(&self) -> bool {
        self.0.wants_times_only() && self.1.wants_times_only()
    }
    fn on_vm_times(&mut self, t: &VmTimes) {
        self.0.on_vm_times(t);
        self.1.on_vm_times(t);
    }
    fn on_vm_rejected(&mut self, id: u64, reason: &str) {
        self.0.on_vm_rejected(id, reason);
        self.1.on_vm_rejected(id, reason);
    }
    fn wants_slices(&self) -> bool {
        self.0.wants_slices() || self.1.wants_slices()
    }
    fn on_slice(&mut self, s: &SliceRecord) {
        self.0.on_slice(s);
        self.1.on_slice(s);
    }
    fn wants_decisions(&self) -> bool {
        self.0.wants_decisions() || self.1.wants_decisions()
    }
    fn on_decision(&mut self, d: &Decision) {
        self.0.on_decision(d);
        self.1.on_decision(d);
    }
    fn on_admission_note(&mut self, n: &AdmissionNote) {
        self.0.on_admission_note(n);
        self.1.on_admission_note(n);
    }
    fn on_sample(&mut self, s: &HostSample) {
        self.0.on_sample(s);
        self.1.on_sample(s);
    }
}

/// Collects everything in memory (for tests and small runs).
#[derive(Default, Debug, Clone)]
pub struct Collect {
    /// Finished VMs in finishing order.
    pub vms: Vec<VmRecord>,
    /// Slices in the order they ended.
    pub slices: Vec<SliceRecord>,
    /// Decisions in order.
    pub decisions: Vec<Decision>,
    /// Rejected VM ids.
    pub rejected: Vec<u64>,
    /// Whether to keep decisions (and admission notes).
    pub keep_decisions: bool,
    /// Backfilling steps in order (with `keep_decisions`).
    pub admission_notes: Vec<AdmissionNote>,
    /// Timeline samples in order.
    pub samples: Vec<HostSample>,
}

impl Observer for Collect {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        self.vms.push(r.clone());
    }
    fn on_vm_finished_with(&mut self, build: impl FnOnce() -> VmRecord) {
        self.vms.push(build());
    }
    fn on_vm_rejected(&mut self, id: u64, _reason: &str) {
        self.rejected.push(id);
    }
    fn wants_slices(&self) -> bool {
        true
    }
    fn on_slice(&mut self, s: &SliceRecord) {
        self.slices.push(s.clone());
    }
    fn wants_decisions(&self) -> bool {
        self.keep_decisions
    }
    fn on_decision(&mut self, d: &Decision) {
        self.decisions.push(d.clone());
    }
    fn on_admission_note(&mut self, n: &AdmissionNote) {
        self.admission_notes.push(n.clone());
    }
    fn on_sample(&mut self, s: &HostSample) {
        self.samples.push(s.clone());
    }
}
