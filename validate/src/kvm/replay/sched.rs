//! The scheduling decisions of a replay, as methods of `Sched`: arrivals and admission
//! (the admission policy's keys), dispatch to idle pCPUs and preemption (the CPU policy's
//! keys), I/O completion, the end of a slice and of a vCPU, and the time limit.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;
use sim::policy::KeyContext;
use sim::{HeadOfLine, SimTime, SliceEnd, SliceRecord, VmRecord};

use super::super::vm::Vcpu;
use super::state::{Sched, Status};
use super::{Flags, GRAVEYARD_BYTES, IoReq, Signals, SliceStop};
use crate::error::Error;
use crate::keys::{self, Key, VcpuState};

impl Sched<'_> {
    /// Admits the VMs that have arrived by `now`, dispatches ready vCPUs to idle pCPUs,
    /// preempts where the policy says so, and checks the time limit.
    pub(super) fn tick(&mut self, kvm: &Kvm, sig: &Signals, now: Instant) -> Result<(), Error> {
        if !self.started || sig.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let n = self.plans.len();
        while self.next_arrival < n && self.at(self.plans[self.next_arrival].request.arrival) <= now
        {
            self.queue.push(self.next_arrival);
            self.next_arrival += 1;
        }
        self.admit(kvm)?;
        self.account(now);
        self.dispatch(sig);
        self.check_timeouts(now)
    }

    pub(super) fn next_deadline(&self, now: Instant) -> Instant {
        let mut d = now + Duration::from_millis(100); // timeout checks
        if let Some(p) = self.plans.get(self.next_arrival) {
            d = d.min(self.at(p.request.arrival));
        }
        if let Some(a) = self.next_accounting(now) {
            d = d.min(a);
        }
        for v in &self.vcpus {
            // (A vCPU already kicked out needs no wake-up: its executor ends the slice and
            // dispatches, which wakes the coordinator if the next quantum ends earlier.
            // Waking for it would spin on the lock the executor needs.)
            if v.status == Status::Running
                && v.kick_reason.is_none()
                && let Some(q) = v.quantum_end
            {
                d = d.min(q);
            }
        }
        d
    }

    /// The vCPU `v`, for the executor it was dispatched to.
    pub(super) fn take_vcpu(&mut self, v: usize) -> Option<(Vcpu, Arc<Flags>)> {
        let st = self.vcpus.get_mut(v)?;
        if st.status != Status::Running {
            return None;
        }
        Some((st.vcpu.take()?, st.flags.clone()))
    }

    /// Guest work of vCPU `v` at `now` (see [`Sched::cpu_key`]).
    fn attained(&self, v: usize, now: Instant) -> Duration {
        let st = &self.vcpus[v];
        st.work_done + self.in_burst(v, now).min(st.burst_work)
    }

    /// CPU time of vCPU `v` in its current burst at `now` (the current slice included).
    pub(super) fn in_burst(&self, v: usize, now: Instant) -> Duration {
        let st = &self.vcpus[v];
        let mut in_burst = st.burst_cpu;
        if st.status == Status::Running {
            in_burst += now.saturating_duration_since(st.dispatch);
        }
        in_burst
    }

    /// Charges the CPU policy's state word of `v` with the guest work it did since its
    /// last charge, as the engine does at the end of each stretch of running (only for
    /// policies that keep one).
    ///
    /// The work is counted as for [`Sched::cpu_key`], except that the CPU time of the
    /// current burst is not capped at the burst's work: when the host takes time from the
    /// core during a slice (another process), the guest needs more CPU time than its
    /// work, and a vCPU no longer charged for it would get more than its share.
    pub(super) fn charge(&mut self, v: usize, now: Instant) {
        if !self.policies.cpu.uses_state() {
            return;
        }
        let used = self.vcpus[v].work_done + self.in_burst(v, now);
        let ran = used.saturating_sub(self.vcpus[v].charged);
        let charge = sim::policy::Charge {
            ran: SimTime::from_nanos(ran.as_nanos() as u64),
            weight: self.plans[self.vcpus[v].vm].request.profile.weight,
            now: self.sim_time(now),
        };
        let st = &mut self.vcpus[v];
        st.charged = st.charged.max(used);
        if ran > Duration::ZERO {
            let old = st.policy_state;
            self.policies.cpu.on_charged(&mut st.policy_state, &charge);
            if st.in_run_queue
                && let Some(sums) = &mut self.queue_sums
            {
                sums.charged(charge.weight, old, st.policy_state);
            }
        }
    }

    /// Tells the CPU policy that `v` is dispatched at `now` and returns its quantum (the
    /// configured one for policies without a state word).
    fn dispatch_quantum(&mut self, v: usize, contended: bool, now: Instant) -> Duration {
        let cpu = &self.policies.cpu;
        if !cpu.uses_state() {
            return self.cfg.quantum;
        }
        let at = self.sim_time(now);
        let st = &mut self.vcpus[v];
        cpu.on_dispatch(&mut st.policy_state, contended, at);
        let base = SimTime::from_nanos(self.cfg.quantum.as_nanos() as u64);
        Duration::from_nanos(cpu.quantum_for(st.policy_state, base).nanos().max(1))
    }

    pub(super) fn admission_key(&self, vm: usize) -> Key {
        keys::admission_key(&*self.policies.admission, &self.plans[vm].request)
    }

    /// The run-queue key of vCPU `v` at `now` (a running vCPU's work includes its current
    /// slice, and its readiness is its dispatch).
    ///
    /// `attained` is guest work as the simulator counts it: the planned work of the bursts
    /// the vCPU completed, plus its CPU time in the current burst (capped at the burst's
    /// work). Its CPU time alone would also count first touch and exits, which the
    /// simulator does not: with a 64 MiB working set a short VM's first burst alone would
    /// use up its estimate, and SJF would fall back to arrival order.
    ///
    /// `ctx` is the decision's context ([`Sched::key_context`]).
    pub(super) fn cpu_key(&self, v: usize, now: Instant, ctx: &KeyContext) -> Key {
        let st = &self.vcpus[v];
        let running = st.status == Status::Running;
        let state = VcpuState {
            index: st.index,
            attained: SimTime::from_nanos(self.attained(v, now).as_nanos() as u64),
            ready_since: self.sim_time(if running { st.dispatch } else { st.ready_since }),
            preempted: st.preempted,
            state: st.policy_state,
        };
        keys::cpu_key_in(&*self.policies.cpu, &self.plans[st.vm].request, &state, ctx)
    }

    /// The context of a decision at `now`: the run queue's average state (with the running
    /// vCPUs charged up to `now`) for a policy that uses it, and the slice.
    pub(super) fn key_context(&self, now: Instant) -> KeyContext {
        KeyContext {
            now: self.sim_time(now),
            queue_average: self.queue_average(now).0,
            slice: self.slice(),
        }
    }

    /// The host's time slice (0 without time slicing).
    pub(super) fn slice(&self) -> SimTime {
        if self.policies.cpu.time_sliced() {
            SimTime::from_nanos(self.cfg.quantum.as_nanos() as u64)
        } else {
            SimTime::ZERO
        }
    }

    pub(super) fn admit(&mut self, kvm: &Kvm) -> Result<(), Error> {
        loop {
            if self.queue.is_empty() {
                return Ok(());
            }
            let mut order: Vec<usize> = self.queue.clone();
            order.sort_by_key(|&vm| self.admission_key(vm));
            let mut admitted = None;
            for &vm in &order {
                let need = self.plans[vm].vcpus.len() as u64;
                let cap = self.cfg.capacity;
                if need > cap {
                    return Err(Error::Host(format!(
                        "VM {} needs {need} vCPUs but the host admits {cap}",
                        self.plans[vm].request.id
                    )));
                }
                if self.used_slots + need <= cap {
                    admitted = Some(vm);
                    break;
                }
                if self.cfg.head_of_line == HeadOfLine::Strict {
                    break;
                }
            }
            let Some(vm) = admitted else { return Ok(()) };
            self.queue.retain(|&q| q != vm);
            self.used_slots += self.plans[vm].vcpus.len() as u64;
            self.start_vm(kvm, vm)?;
        }
    }

    /// Admits `vm`: creates it unless it was created in advance, and makes its vCPUs ready.
    pub(super) fn start_vm(&mut self, kvm: &Kvm, vm: usize) -> Result<(), Error> {
        let now = Instant::now();
        self.vms[vm].admitted = Some(now);
        if self.vms[vm].guest.is_none() {
            self.create_vm(kvm, vm)?;
        }
        for i in self.vms[vm].vcpu_ids.clone() {
            if self.vcpus[i].status == Status::Idle {
                self.make_ready(i, now, false);
            }
        }
        Ok(())
    }

    pub(super) fn make_ready(&mut self, v: usize, at: Instant, preempted: bool) {
        self.join_run_queue(v, at);
        let all_busy = self.pcpus.iter().all(Option::is_some);
        let st = &mut self.vcpus[v];
        st.waited = all_busy;
        st.status = Status::Ready;
        st.ready_since = at;
        st.preempted = preempted;
    }

    pub(super) fn dispatch(&mut self, sig: &Signals) {
        let now = Instant::now();
        while let Some(idle) = self.pcpus.iter().position(Option::is_none) {
            let Some(v) = self.best_ready(now) else { break };
            if self.is_parked(v) {
                // Parked by the policy (Xen Credit's cap): it waits for an accounting.
                self.park(v, now);
                continue;
            }
            // The pCPU it ran on last if that one is idle too (its executor entered it
            // last: no thread change for KVM, warm caches).
            let last = self.vcpus[v].pcpu;
            let pcpu = if self.pcpus[last].is_none() {
                last
            } else {
                idle
            };
            self.run_on(v, pcpu, now, sig);
        }
        self.maybe_preempt(now);
    }

    pub(super) fn best_ready(&self, now: Instant) -> Option<usize> {
        let ctx = self.key_context(now);
        (0..self.vcpus.len())
            .filter(|&v| self.vcpus[v].status == Status::Ready)
            .min_by_key(|&v| self.cpu_key(v, now, &ctx))
    }

    pub(super) fn run_on(&mut self, v: usize, pcpu: usize, now: Instant, sig: &Signals) {
        let sliced = self.policies.cpu.time_sliced();
        // Another vCPU wanted a pCPU: this one waited, or one is still ready (and has now
        // waited).
        let mut contended = self.vcpus[v].waited;
        for (i, o) in self.vcpus.iter_mut().enumerate() {
            if i != v && o.status == Status::Ready {
                o.waited = true;
                contended = true;
            }
        }
        let quantum = self.dispatch_quantum(v, contended, now);
        let st = &mut self.vcpus[v];
        let waited = now.saturating_duration_since(st.ready_since);
        st.status = Status::Running;
        st.pcpu = pcpu;
        st.dispatch = now;
        st.quantum_end = sliced.then(|| now + quantum);
        if let (Some(q), Some(w)) = (st.quantum_end, self.coordinator_wakes)
            && q < w
        {
            // Dispatched by another thread (an executor, the device thread) while the
            // coordinator sleeps past this quantum's end: wake it up to end the quantum.
            self.coordinator_wakes = Some(q);
            let _ = self.wake.send(());
        }
        st.kick_reason = None;
        // A kick meant for an earlier slice must not end this one.
        st.flags.preempt.store(false, Ordering::SeqCst);
        self.vms[st.vm].ready_wait += waited;
        self.pcpus[pcpu] = Some(v);
        sig.assigned[pcpu].store(v + 1, Ordering::SeqCst);
        if self.cfg.housekeeping.is_empty()
            && let Some((_, t)) = &self.executors[pcpu]
        {
            t.unpark();
        }
    }

    pub(super) fn kick(&mut self, v: usize, why: SliceEnd) {
        let st = &mut self.vcpus[v];
        if st.kick_reason.is_some() {
            return;
        }
        st.kick_reason = Some(why);
        st.flags.preempt.store(true, Ordering::SeqCst);
        if let Some((k, _)) = &self.executors[st.pcpu] {
            k.kick();
            self.out.kicks += 1;
        }
    }

    /// Kicks out a vCPU whose quantum expired while another one is ready (time-sliced
    /// policies), or the least urgent running vCPU when a ready one has a strictly smaller
    /// key (preemptive policies).
    pub(super) fn maybe_preempt(&mut self, now: Instant) {
        if self.policies.cpu.time_sliced() {
            let ready = self.vcpus.iter().any(|v| v.status == Status::Ready);
            for p in 0..self.pcpus.len() {
                let Some(v) = self.pcpus[p] else { continue };
                let Some(q) = self.vcpus[v].quantum_end else {
                    continue;
                };
                if q <= now {
                    if ready {
                        self.kick(v, SliceEnd::Quantum);
                    } else {
                        // Nobody waits: a new quantum without a switch (the engine ends
                        // the slice and dispatches the vCPU again, uncontended).
                        let quantum = if self.policies.cpu.uses_state() {
                            self.charge(v, now);
                            let at = self.sim_time(now);
                            let cpu = &self.policies.cpu;
                            cpu.on_quantum_expired(&mut self.vcpus[v].policy_state, at);
                            self.dispatch_quantum(v, false, now)
                        } else {
                            self.cfg.quantum
                        };
                        self.vcpus[v].quantum_end = Some(q + quantum);
                    }
                }
            }
        }
        if !self.policies.cpu.preemptive() {
            return;
        }
        let Some(best) = self.best_ready(now) else {
            return;
        };
        let ctx = self.key_context(now);
        let best_key = self.cpu_key(best, now, &ctx).0;
        let worst = self
            .pcpus
            .iter()
            .flatten()
            .copied()
            .filter(|&v| self.vcpus[v].kick_reason.is_none())
            .max_by_key(|&v| self.cpu_key(v, now, &ctx));
        if let Some(w) = worst
            && best_key < self.cpu_key(w, now, &ctx).0
        {
            self.kick(w, SliceEnd::Preempted);
        }
    }

    /// The device finished an I/O request of `vcpu` at `at` after serving it for `service`.
    pub(super) fn io_done(&mut self, vcpu: usize, at: Instant, service: Duration) {
        let blocked = at.saturating_duration_since(self.vcpus[vcpu].ready_since);
        let vm = &mut self.vms[self.vcpus[vcpu].vm];
        vm.io_service += service;
        vm.io_wait += blocked;
        vm.io_requests += 1;
        self.make_ready(vcpu, at, false);
    }

    /// A slice of `vcpu` ended: records it and gives the vCPU back (or drops it when its
    /// guest is done).
    pub(super) fn slice_ended(
        &mut self,
        vcpu: usize,
        object: Vcpu,
        start: Instant,
        end: Instant,
        stop: SliceStop,
        exits: u64,
    ) -> Result<(), Error> {
        self.out.exits += exits;
        let (vm, pcpu, dispatch, kick_reason) = {
            let st = &self.vcpus[vcpu];
            (st.vm, st.pcpu, st.dispatch, st.kick_reason)
        };
        if matches!(stop, SliceStop::Done | SliceStop::Failed(_)) {
            drop(object);
        } else {
            self.vcpus[vcpu].vcpu = Some(object);
        }
        if matches!(stop, SliceStop::Stopped) {
            return Ok(());
        }
        self.pcpus[pcpu] = None;
        let start = start.max(dispatch);
        self.vcpus[vcpu].cpu_time += end.saturating_duration_since(start);
        self.out.switch_time += start.saturating_duration_since(dispatch);
        self.out.dispatches += 1;
        let vst = &mut self.vms[vm];
        if vst.first_run.is_none() {
            vst.first_run = Some(start);
        }
        let reason = match &stop {
            SliceStop::Done | SliceStop::Failed(_) | SliceStop::Stopped => SliceEnd::Finished,
            SliceStop::Io(_) => io_slice_end(),
            SliceStop::Kicked => kick_reason.unwrap_or(SliceEnd::Preempted),
        };
        let slice = SliceRecord {
            host: 0,
            pcpu: pcpu as u32,
            vm: self.plans[vm].request.id,
            vcpu: self.vcpus[vcpu].index,
            dispatch: self.sim_time(dispatch),
            start: self.sim_time(start),
            end: self.sim_time(end),
            reason,
        };
        self.out.slices.push(slice);
        match stop {
            SliceStop::Done => {
                // Charged up to its end, as the engine charges every slice.
                self.charge(vcpu, end);
                self.vcpu_done(vcpu, end);
            }
            SliceStop::Io(i) => {
                let st = &mut self.vcpus[vcpu];
                st.work_done += st.burst_work;
                st.burst_cpu = Duration::ZERO;
                st.status = Status::Blocked;
                self.charge(vcpu, end);
                self.leave_run_queue(vcpu, end, false);
                let service = self.vcpus[vcpu].io_queue.pop_front().ok_or_else(|| {
                    Error::Guest(format!(
                        "VM {}: guest made I/O request {i} beyond its plan",
                        self.plans[vm].request.id
                    ))
                })?;
                self.vcpus[vcpu].status = Status::Blocked;
                // Blocked from the end of the slice (`ready_since` is reused as the time
                // the vCPU blocked).
                self.vcpus[vcpu].ready_since = end;
                self.dev_tx
                    .send(IoReq { vcpu, service })
                    .map_err(|_| Error::Host("the device thread stopped".into()))?;
            }
            SliceStop::Kicked => {
                let st = &mut self.vcpus[vcpu];
                st.burst_cpu += end.saturating_duration_since(start);
                st.status = Status::Ready;
                self.charge(vcpu, end);
                if kick_reason == Some(SliceEnd::Quantum) {
                    let at = self.sim_time(end);
                    let cpu = &self.policies.cpu;
                    cpu.on_quantum_expired(&mut self.vcpus[vcpu].policy_state, at);
                }
                if kick_reason == Some(SliceEnd::Throttled) {
                    // Parked by an accounting (the engine counts no VM preemption).
                    self.park(vcpu, end);
                } else {
                    self.vms[vm].preemptions += 1;
                    self.make_ready(vcpu, end, true);
                }
            }
            SliceStop::Failed(m) => {
                self.vcpus[vcpu].status = Status::Done;
                return Err(Error::Guest(format!(
                    "VM {} vCPU {}: {m}",
                    self.plans[vm].request.id, self.vcpus[vcpu].index
                )));
            }
            SliceStop::Stopped => {}
        }
        Ok(())
    }

    pub(super) fn vcpu_done(&mut self, v: usize, end: Instant) {
        self.leave_run_queue(v, end, true);
        self.vcpus[v].status = Status::Done;
        self.vcpus[v].vcpu = None;
        let vm = self.vcpus[v].vm;
        let vst = &mut self.vms[vm];
        vst.vcpus_left -= 1;
        if vst.vcpus_left > 0 {
            return;
        }
        vst.finish = Some(end);
        // Every vCPU of the VM has been dropped: its memory can go. Not here: unmapping a
        // working set of 64 MiB takes milliseconds that the executor would spend before
        // entering the next vCPU, and, on another core, slows down the first touches of
        // the running VMs. Kept until the replay ends, up to `GRAVEYARD_BYTES`; beyond, the
        // oldest are destroyed by the reaper thread. (A failed send hands the VM back,
        // and it is dropped here.)
        if let Some(g) = vst.guest.take() {
            self.graveyard_bytes += crate::layout::memory_size(g.ws_pages);
            self.graveyard.push_back(g);
            while self.graveyard_bytes > GRAVEYARD_BYTES {
                let Some(old) = self.graveyard.pop_front() else {
                    break;
                };
                self.graveyard_bytes -= crate::layout::memory_size(old.ws_pages);
                let _ = self.reap.send(old);
            }
        }
        self.used_slots -= self.plans[vm].vcpus.len() as u64;
        self.finished += 1;
        let service = self.vms[vm]
            .vcpu_ids
            .iter()
            .map(|&i| self.vcpus[i].cpu_time)
            .max()
            .unwrap_or_default();
        let record = self.record(vm, service);
        self.out.vms.push(record);
        if self.finished >= self.plans.len() {
            // The coordinator ends the replay.
            let _ = self.wake.send(());
        }
    }

    pub(super) fn record(&self, vm: usize, service: Duration) -> VmRecord {
        let r = &self.plans[vm].request;
        let st = &self.vms[vm];
        let t = |i: Option<Instant>| i.map(|i| self.sim_time(i)).unwrap_or_default();
        let ns = |d: Duration| SimTime::from_nanos(d.as_nanos() as u64);
        let mut rec = measured_record(
            r,
            t(st.admitted),
            t(st.first_run),
            t(st.finish),
            ns(service),
            ns(st.ready_wait),
            st.preemptions,
        );
        rec.io_service = ns(st.io_service);
        rec.io_wait = ns(st.io_wait);
        rec.io_requests = st.io_requests;
        rec.throttled = ns(st.throttled);
        rec.minor_faults = self.plans[vm].ws_pages;
        rec
    }

    pub(super) fn check_timeouts(&mut self, now: Instant) -> Result<(), Error> {
        for st in &self.vcpus {
            if st.status != Status::Running {
                continue;
            }
            let used = st.cpu_time + now.saturating_duration_since(st.dispatch);
            if used > self.cfg.timeout {
                return Err(Error::Timeout {
                    vm: self.plans[st.vm].request.id,
                    seconds: self.cfg.timeout.as_secs_f64(),
                    detail: format!(
                        "vCPU {} ran {:.1} s of guest time without finishing (its plan: {:.3} s)",
                        st.index,
                        used.as_secs_f64(),
                        self.plans[st.vm].request.demand.as_secs_f64()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The slice end reported for a vCPU that stopped to wait for I/O.
fn io_slice_end() -> SliceEnd {
    SliceEnd::Blocked
}

/// A measured VM in the simulator's record format.
fn measured_record(
    r: &sim::VmRequest,
    admission: SimTime,
    first_run: SimTime,
    finish: SimTime,
    service: SimTime,
    ready_wait: SimTime,
    preemptions: u32,
) -> VmRecord {
    VmRecord {
        id: r.id,
        host: 0,
        vcpus: r.vcpus,
        memory_mib: r.memory_mib,
        priority: r.priority,
        tenant: r.tenant,
        arrival: r.arrival,
        admission,
        first_run,
        finish,
        service,
        estimate: r.estimate,
        ready_wait,
        preemptions,
        ..VmRecord::default()
    }
}
