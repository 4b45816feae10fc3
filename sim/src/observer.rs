//! What the engine reports while it runs.

use crate::time::SimTime;

/// Everything known about a VM when it finishes.
#[derive(Clone, Debug, PartialEq)]
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
}

impl VmRecord {
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
    /// Turnaround − service: the textbook waiting time.
    pub fn wait(&self) -> SimTime {
        self.turnaround().saturating_sub(self.service)
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
}

impl SliceEnd {
    /// Lower-case name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            SliceEnd::Finished => "finished",
            SliceEnd::Quantum => "quantum",
            SliceEnd::Preempted => "preempted",
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

/// Receives what happens during a run. All methods have empty defaults; the engine is
/// generic over the observer, so unused hooks cost nothing.
pub trait Observer {
    /// A VM finished.
    fn on_vm_finished(&mut self, _record: &VmRecord) {}
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
}

/// A mutable reference observes as its target does (so `(&mut a, &mut b)` works).
impl<T: Observer + ?Sized> Observer for &mut T {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        (**self).on_vm_finished(r);
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
    /// Whether to keep decisions.
    pub keep_decisions: bool,
}

impl Observer for Collect {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        self.vms.push(r.clone());
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
}
