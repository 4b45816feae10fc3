//! Small observers the experiments combine with the engine's and the CSV writers'.

use sim::observer::{AdmissionNote, Decision};
use sim::{HostSample, Observer, SliceRecord, VmRecord, VmTimes};

/// An observer that may be absent: `None` observes nothing (and so needs no more than the
/// times of finished VMs); `Some` forwards every call of [`Observer`] to its target.
pub struct OptionObserver<'a, T: Observer>(pub Option<&'a mut T>);

impl<T: Observer> Observer for OptionObserver<'_, T> {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        if let Some(o) = self.0.as_mut() {
            o.on_vm_finished(r);
        }
    }
    fn on_vm_finished_with(&mut self, build: impl FnOnce() -> VmRecord) {
        if let Some(o) = self.0.as_mut() {
            o.on_vm_finished_with(build);
        }
    }
    fn wants_times_only(&self) -> bool {
        self.0.as_ref().is_none_or(|o| o.wants_times_only())
    }
    fn on_vm_times(&mut self, t: &VmTimes) {
        if let Some(o) = self.0.as_mut() {
            o.on_vm_times(t);
        }
    }
    fn on_vm_rejected(&mut self, id: u64, reason: &str) {
        if let Some(o) = self.0.as_mut() {
            o.on_vm_rejected(id, reason);
        }
    }
    fn wants_slices(&self) -> bool {
        self.0.as_ref().is_some_and(|o| o.wants_slices())
    }
    fn on_slice(&mut self, s: &SliceRecord) {
        if let Some(o) = self.0.as_mut() {
            o.on_slice(s);
        }
    }
    fn wants_decisions(&self) -> bool {
        self.0.as_ref().is_some_and(|o| o.wants_decisions())
    }
    fn on_decision(&mut self, d: &Decision) {
        if let Some(o) = self.0.as_mut() {
            o.on_decision(d);
        }
    }
    fn on_admission_note(&mut self, n: &AdmissionNote) {
        if let Some(o) = self.0.as_mut() {
            o.on_admission_note(n);
        }
    }
    fn on_sample(&mut self, s: &HostSample) {
        if let Some(o) = self.0.as_mut() {
            o.on_sample(s);
        }
    }
}

/// Keeps the first three rejected VMs and why they were rejected (the count is in the
/// run's statistics).
#[derive(Debug, Default)]
pub struct Rejections {
    /// `(VM id, reason)` of the first three rejected VMs.
    pub examples: Vec<(u64, String)>,
}

impl Observer for Rejections {
    fn wants_times_only(&self) -> bool {
        true
    }
    fn on_vm_rejected(&mut self, id: u64, reason: &str) {
        if self.examples.len() < 3 {
            self.examples.push((id, reason.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::observer::Collect;
    use sim::{SimConfig, SimTime};
    use workloads::textbook::Process;

    /// Three one-vCPU VMs of 2 s arriving together on a one-pCPU host under round robin
    /// (quantum 1 s): every call kind happens (finishes, slices, decisions).
    fn run(observer: &mut impl Observer) {
        let config = SimConfig::textbook("rr", SimTime::from_secs(1));
        let table: Vec<Process> = (1..=3)
            .map(|i| Process {
                name: format!("P{i}"),
                arrival: SimTime::ZERO,
                burst: SimTime::from_secs(2),
                priority: 1,
                weight: None,
            })
            .collect();
        sim::simulate(&config, Process::to_vm_requests(&table), observer).unwrap();
    }

    #[test]
    fn some_forwards_every_call_and_none_observes_nothing() {
        let mut direct = Collect {
            keep_decisions: true,
            ..Collect::default()
        };
        run(&mut direct);
        let mut inner = Collect {
            keep_decisions: true,
            ..Collect::default()
        };
        run(&mut OptionObserver(Some(&mut inner)));
        // 3 VMs × 2 s in 1 s quanta: 6 slices; every one is a decision too.
        assert_eq!(inner.vms.len(), 3);
        assert_eq!(inner.slices.len(), 6);
        assert_eq!(inner.vms, direct.vms);
        assert_eq!(inner.slices, direct.slices);
        assert_eq!(inner.decisions.len(), direct.decisions.len());
        assert!(!inner.decisions.is_empty());
        let none: OptionObserver<'_, Collect> = OptionObserver(None);
        assert!(!none.wants_slices() && !none.wants_decisions() && none.wants_times_only());
    }
}
