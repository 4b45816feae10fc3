//! The replay: one KVM VM per workload VM, one thread per vCPU, a user-space scheduler that
//! enforces the admission and CPU policies, and a device thread that serves I/O requests.
//!
//! # Threads
//! - The **scheduler** is the calling thread. It admits VMs (creating their KVM VM and vCPU
//!   threads), dispatches ready vCPUs to idle pCPUs (`Cmd::Run`), and preempts running ones
//!   by kicking them out of `KVM_RUN` (the kick signal, whose handler sets the vCPU's
//!   `immediate_exit`, so a kick that lands just before `KVM_RUN` is not lost).
//! - One **vCPU thread** per vCPU. It waits for `Cmd::Run`, pins itself to the pCPU's core
//!   (`sched_setaffinity`), runs the guest until the guest finishes, asks for I/O, or is
//!   kicked, and reports the slice with its CLOCK_MONOTONIC timestamps (`Instant`).
//!   Between slices it is blocked, so it takes no CPU time.
//! - One **device thread** serves I/O requests in FIFO order, one at a time (a calibrated
//!   sleep, or a real write + `fdatasync` on a temporary file), and reports completions.
//!
//! Only one vCPU thread is runnable per pCPU at a time, so the host's scheduler has no
//! choice to make on those cores: the policy is ours. The scheduler and device threads run
//! on the other allowed CPUs when there are any.
//!
//! # Policies
//! Admission: `fcfs` (arrival), `sjf` (estimate), `priority` (lower first), with strict
//! head of line or skip-ahead, into `floor(pcpus × overcommit)` vCPU slots. CPU: `fcfs`
//! (in order of readiness), `sjf`, `priority` run to completion (or I/O); `srtf` and `priority-preemptive` preempt
//! the least urgent running vCPU when a strictly more urgent one is ready; `rr` gives FIFO
//! slices of `quantum`. Ties: earlier arrival, then lower id, then lower vCPU index (as in
//! the simulator).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;
use sim::{HeadOfLine, SimTime, SliceEnd, SliceRecord, VmRecord};

use super::vm::{GuestVm, Vcpu};
use super::{Kicker, pin_current_thread, set_kick_target};
use crate::error::Error;
use crate::exits::{Action, classify};
use crate::plan::VmPlan;

/// How the device serves an I/O request.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceMode {
    /// Sleep for the request's service time.
    Sleep,
    /// Write `bytes` to a temporary file in this folder and `fdatasync` it (the service
    /// time is whatever that takes).
    File {
        /// Folder of the temporary file.
        dir: std::path::PathBuf,
        /// Bytes per request.
        bytes: usize,
    },
}

/// Settings of one replay.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// Admission policy: `fcfs`, `sjf` or `priority`.
    pub admission: String,
    /// CPU policy: `fcfs`, `sjf`, `priority`, `srtf`, `priority-preemptive` or `rr`.
    pub cpu: String,
    /// Head-of-line rule of the admission queue.
    pub head_of_line: HeadOfLine,
    /// Time slice of `rr`.
    pub quantum: Duration,
    /// Host CPU of each pCPU (pCPU `i` runs on core `cores[i]`).
    pub cores: Vec<usize>,
    /// CPUs for the scheduler and device threads (empty: unpinned).
    pub housekeeping: Vec<usize>,
    /// vCPU slots of the host (`floor(pcpus × overcommit)`; `u64::MAX` = unlimited).
    pub capacity: u64,
    /// A vCPU that has run this long (guest time) without finishing is stopped and the
    /// replay fails with [`Error::Timeout`].
    pub timeout: Duration,
    /// How I/O requests are served.
    pub device: DeviceMode,
    /// Create every VM and vCPU thread before the replay starts (their threads then wait,
    /// blocked, until admission), so that VM creation (≈ 0.5 ms, tail to 8 ms on PVM) does
    /// not delay scheduling decisions. Otherwise a VM is created when admitted.
    pub precreate: bool,
    /// Run vCPU threads at nice −20 (needs the permission; shields the measurement from
    /// other processes on the same core, without the real-time throttling that takes
    /// 50 ms of every second from a busy nice −20 thread).
    pub boost: bool,
}

/// What a replay measured.
#[derive(Clone, Debug, Default)]
pub struct ReplayResult {
    /// One record per VM, in finishing order, in the simulator's format (times from the
    /// start of the replay; `service` = the VM's measured CPU time per vCPU).
    pub vms: Vec<VmRecord>,
    /// Every slice, in the order they ended.
    pub slices: Vec<SliceRecord>,
    /// Kicks sent.
    pub kicks: u64,
    /// Guest exits seen by the vCPU threads.
    pub exits: u64,
    /// Wall time of the replay.
    pub wall: Duration,
    /// Sum over slices of `start − dispatch` (the real cost of switching vCPUs).
    pub switch_time: Duration,
    /// Number of slices.
    pub dispatches: u64,
}

/// Commands to a vCPU thread.
enum Cmd {
    Run { core: usize },
    Stop,
}

/// Why a slice ended, as the vCPU thread saw it.
#[derive(Debug)]
enum SliceStop {
    Done,
    Io(u32),
    Kicked,
    Failed(String),
}

/// Messages to the scheduler.
enum Msg {
    /// A vCPU thread is ready to run (and how to kick it).
    Hello { vcpu: usize, kicker: Kicker },
    /// A slice ended.
    Slice {
        vcpu: usize,
        start: Instant,
        end: Instant,
        stop: SliceStop,
        exits: u64,
    },
    /// The device finished an I/O request after serving it for `service`.
    IoDone {
        vcpu: usize,
        at: Instant,
        service: Duration,
    },
}

/// A request to the device thread.
struct IoReq {
    vcpu: usize,
    service: Duration,
}

/// Flags shared with a vCPU thread.
#[derive(Default)]
struct Flags {
    /// The scheduler wants the pCPU back.
    preempt: AtomicBool,
    /// The scheduler stops the vCPU for good.
    stop: AtomicBool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Status {
    /// Thread starting.
    Starting,
    /// Created, its VM not admitted yet.
    Idle,
    Ready,
    Running,
    Blocked,
    Done,
}

struct VcpuSt {
    vm: usize,
    index: u32,
    cmd: Sender<Cmd>,
    flags: Arc<Flags>,
    kicker: Option<Kicker>,
    status: Status,
    /// FIFO order for rr (and for ties on becoming ready).
    ready_seq: u64,
    ready_since: Instant,
    /// pCPU while running.
    pcpu: usize,
    dispatch: Instant,
    quantum_end: Option<Instant>,
    kick_reason: Option<SliceEnd>,
    cpu_time: Duration,
    io_queue: VecDeque<Duration>,
    thread: Option<JoinHandle<()>>,
}

struct VmSt {
    admitted: Option<Instant>,
    first_run: Option<Instant>,
    finish: Option<Instant>,
    vcpus_left: u32,
    vcpu_ids: Vec<usize>,
    guest: Option<GuestVm>,
    ready_wait: Duration,
    preemptions: u32,
    /// Device service of its I/O requests (without queueing).
    io_service: Duration,
    /// Time its vCPUs were blocked on I/O (queueing + service).
    io_wait: Duration,
    io_requests: u64,
}

/// Ordering key of a policy: smaller first.
type Key = (i128, u64, u64, u32);

/// Replays `plans` (in arrival order) under `cfg`, returning what was measured. On a
/// guest fault or timeout every vCPU thread is stopped and joined before the error returns.
pub fn replay(kvm: &Kvm, plans: &[VmPlan], cfg: &ReplayConfig) -> Result<ReplayResult, Error> {
    check_policies(cfg)?;
    super::install_kick_handler()?;
    if !cfg.housekeeping.is_empty() {
        pin_to_set(&cfg.housekeeping);
    }
    let mut s = Sched::new(plans, cfg)?;
    let res = s.run(kvm);
    s.shutdown();
    res
}

fn check_policies(cfg: &ReplayConfig) -> Result<(), Error> {
    const ADM: [&str; 3] = ["fcfs", "sjf", "priority"];
    const CPU: [&str; 6] = [
        "fcfs",
        "sjf",
        "priority",
        "srtf",
        "priority-preemptive",
        "rr",
    ];
    if !ADM.contains(&cfg.admission.as_str()) {
        return Err(Error::Host(format!(
            "the KVM replay has no admission policy `{}`; it knows: {}",
            cfg.admission,
            ADM.join(", ")
        )));
    }
    if !CPU.contains(&cfg.cpu.as_str()) {
        return Err(Error::Host(format!(
            "the KVM replay has no CPU policy `{}`; it knows: {}",
            cfg.cpu,
            CPU.join(", ")
        )));
    }
    if cfg.cores.is_empty() {
        return Err(Error::Host("the replay needs at least one pCPU".into()));
    }
    if cfg.cpu == "rr" && cfg.quantum.is_zero() {
        return Err(Error::Host("rr needs a quantum > 0".into()));
    }
    Ok(())
}

/// Pins the calling thread to any CPU of `set` (best effort).
fn pin_to_set(set: &[usize]) {
    // SAFETY: cpu_set_t is plain data; CPU_SET is given indices below CPU_SETSIZE;
    // sched_setaffinity only reads the set.
    unsafe {
        let mut cs: libc::cpu_set_t = std::mem::zeroed();
        for &c in set {
            if c < libc::CPU_SETSIZE as usize {
                libc::CPU_SET(c, &mut cs);
            }
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &cs);
    }
}

struct Sched<'a> {
    plans: &'a [VmPlan],
    cfg: &'a ReplayConfig,
    t0: Instant,
    vms: Vec<VmSt>,
    vcpus: Vec<VcpuSt>,
    /// Admission queue (VM indices), in arrival order.
    queue: Vec<usize>,
    next_arrival: usize,
    used_slots: u64,
    /// pCPU → running vCPU.
    pcpus: Vec<Option<usize>>,
    seq: u64,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    dev_tx: Option<Sender<IoReq>>,
    dev_thread: Option<JoinHandle<()>>,
    out: ReplayResult,
    finished: usize,
}

impl<'a> Sched<'a> {
    fn new(plans: &'a [VmPlan], cfg: &'a ReplayConfig) -> Result<Sched<'a>, Error> {
        let (tx, rx) = mpsc::channel();
        let (dev_tx, dev_rx) = mpsc::channel::<IoReq>();
        let needs_device = plans
            .iter()
            .any(|p| p.vcpus.iter().any(|v| !v.io.is_empty()));
        let dev_thread = if needs_device {
            let tx = tx.clone();
            let mode = cfg.device.clone();
            let mut file = match &mode {
                DeviceMode::Sleep => None,
                DeviceMode::File { dir, .. } => Some(
                    tempfile_in(dir)
                        .map_err(|e| Error::Host(format!("cannot create the device file: {e}")))?,
                ),
            };
            let hk = cfg.housekeeping.clone();
            Some(
                std::thread::Builder::new()
                    .name("vmsched-device".into())
                    .spawn(move || {
                        if !hk.is_empty() {
                            pin_to_set(&hk);
                        }
                        device_thread(dev_rx, tx, mode, file.as_mut())
                    })
                    .map_err(|e| Error::Host(format!("cannot start the device thread: {e}")))?,
            )
        } else {
            None
        };
        let now = Instant::now();
        Ok(Sched {
            plans,
            cfg,
            t0: now,
            vms: plans
                .iter()
                .map(|p| VmSt {
                    admitted: None,
                    first_run: None,
                    finish: None,
                    vcpus_left: p.vcpus.len() as u32,
                    vcpu_ids: Vec::new(),
                    guest: None,
                    ready_wait: Duration::ZERO,
                    preemptions: 0,
                    io_service: Duration::ZERO,
                    io_wait: Duration::ZERO,
                    io_requests: 0,
                })
                .collect(),
            vcpus: Vec::new(),
            queue: Vec::new(),
            next_arrival: 0,
            used_slots: 0,
            pcpus: vec![None; cfg.cores.len()],
            seq: 0,
            tx,
            rx,
            dev_tx: needs_device.then_some(dev_tx),
            dev_thread,
            out: ReplayResult::default(),
            finished: 0,
        })
    }

    fn at(&self, t: SimTime) -> Instant {
        self.t0 + Duration::from_nanos(t.nanos())
    }

    fn sim_time(&self, t: Instant) -> SimTime {
        SimTime::from_nanos(t.saturating_duration_since(self.t0).as_nanos() as u64)
    }

    fn run(&mut self, kvm: &Kvm) -> Result<ReplayResult, Error> {
        if self.cfg.precreate {
            for vm in 0..self.plans.len() {
                self.create_vm(kvm, vm)?;
            }
            let mut hello = 0;
            while hello < self.vcpus.len() {
                match self.rx.recv_timeout(Duration::from_secs(10)) {
                    Ok(msg @ Msg::Hello { .. }) => {
                        self.handle(msg)?;
                        hello += 1;
                    }
                    Ok(msg) => self.handle(msg)?,
                    Err(_) => return Err(Error::Host("vCPU threads did not start".into())),
                }
            }
        }
        // A short lead so that the first arrivals are not late.
        self.t0 = Instant::now() + Duration::from_millis(5);
        let n = self.plans.len();
        while self.finished < n {
            let now = Instant::now();
            while self.next_arrival < n
                && self.at(self.plans[self.next_arrival].request.arrival) <= now
            {
                self.queue.push(self.next_arrival);
                self.next_arrival += 1;
            }
            self.admit(kvm)?;
            self.dispatch();
            self.check_timeouts(now)?;
            let deadline = self.next_deadline(now);
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(msg) => self.handle(msg)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Host("all vCPU threads vanished".into()));
                }
            }
            // Drain whatever else arrived, so that decisions see every change at once.
            while let Ok(msg) = self.rx.try_recv() {
                self.handle(msg)?;
            }
        }
        self.out.wall = Instant::now().saturating_duration_since(self.t0);
        Ok(std::mem::take(&mut self.out))
    }

    fn next_deadline(&self, now: Instant) -> Instant {
        let mut d = now + Duration::from_millis(100); // timeout checks
        if let Some(p) = self.plans.get(self.next_arrival) {
            d = d.min(self.at(p.request.arrival));
        }
        for v in &self.vcpus {
            if v.status == Status::Running
                && let Some(q) = v.quantum_end
            {
                d = d.min(q);
            }
        }
        d
    }

    fn admission_key(&self, vm: usize) -> Key {
        let r = &self.plans[vm].request;
        let primary = match self.cfg.admission.as_str() {
            "sjf" => i128::from(r.estimate.nanos()),
            "priority" => i128::from(r.priority),
            _ => 0,
        };
        (primary, r.arrival.nanos(), r.id, 0)
    }

    fn cpu_key(&self, v: usize, now: Instant) -> Key {
        let st = &self.vcpus[v];
        let r = &self.plans[st.vm].request;
        let primary = match self.cfg.cpu.as_str() {
            "sjf" | "srtf" => {
                let mut used = st.cpu_time;
                if st.status == Status::Running {
                    used += now.saturating_duration_since(st.dispatch);
                }
                i128::from(r.estimate.nanos()) - used.as_nanos() as i128
            }
            "priority" | "priority-preemptive" => i128::from(r.priority),
            "rr" => i128::from(st.ready_seq),
            // In order of readiness, as the simulator's `fcfs`: a vCPU back from I/O queues
            // behind the ones that were ready before it (not by its VM's arrival).
            _ => st.ready_since.saturating_duration_since(self.t0).as_nanos() as i128,
        };
        if self.cfg.cpu == "rr" {
            (primary, 0, 0, 0)
        } else {
            (primary, r.arrival.nanos(), r.id, st.index)
        }
    }

    fn admit(&mut self, kvm: &Kvm) -> Result<(), Error> {
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

    /// Admits `vm`: creates it unless it was created in advance, and makes its vCPUs ready
    /// (those whose threads are up; the others become ready when they say hello).
    fn start_vm(&mut self, kvm: &Kvm, vm: usize) -> Result<(), Error> {
        let now = Instant::now();
        self.vms[vm].admitted = Some(now);
        if self.vms[vm].guest.is_none() {
            self.create_vm(kvm, vm)?;
        }
        for i in self.vms[vm].vcpu_ids.clone() {
            if self.vcpus[i].status == Status::Idle {
                self.make_ready(i, now);
            }
        }
        Ok(())
    }

    /// Creates the KVM VM of `vm` and starts its vCPU threads.
    fn create_vm(&mut self, kvm: &Kvm, vm: usize) -> Result<(), Error> {
        let plan = &self.plans[vm];
        let programs: Vec<_> = plan.vcpus.iter().map(|v| v.program.clone()).collect();
        let (guest, vcpus) = GuestVm::new(kvm, &programs, plan.ws_pages)?;
        self.vms[vm].guest = Some(guest);
        for (i, vcpu) in vcpus.into_iter().enumerate() {
            let id = self.vcpus.len();
            let (cmd_tx, cmd_rx) = mpsc::channel();
            let flags = Arc::new(Flags::default());
            let tx = self.tx.clone();
            let f = flags.clone();
            let hk = self.cfg.housekeeping.clone();
            let boost_it = self.cfg.boost;
            let thread = std::thread::Builder::new()
                .name(format!("vmsched-vcpu-{}-{i}", plan.request.id))
                .spawn(move || vcpu_thread(id, vcpu, cmd_rx, tx, f, hk, boost_it))
                .map_err(|e| Error::Host(format!("cannot start a vCPU thread: {e}")))?;
            self.vcpus.push(VcpuSt {
                vm,
                index: i as u32,
                cmd: cmd_tx,
                flags,
                kicker: None,
                status: Status::Starting,
                ready_seq: 0,
                ready_since: Instant::now(),
                pcpu: 0,
                dispatch: Instant::now(),
                quantum_end: None,
                kick_reason: None,
                cpu_time: Duration::ZERO,
                io_queue: plan.vcpus[i].io.iter().copied().collect(),
                thread: Some(thread),
            });
            self.vms[vm].vcpu_ids.push(id);
        }
        Ok(())
    }

    fn make_ready(&mut self, v: usize, at: Instant) {
        self.seq += 1;
        let st = &mut self.vcpus[v];
        st.status = Status::Ready;
        st.ready_seq = self.seq;
        st.ready_since = at;
    }

    fn dispatch(&mut self) {
        let now = Instant::now();
        while let Some(pcpu) = self.pcpus.iter().position(Option::is_none) {
            let Some(v) = self.best_ready(now) else { break };
            self.run_on(v, pcpu, now);
        }
        self.maybe_preempt(now);
    }

    fn best_ready(&self, now: Instant) -> Option<usize> {
        (0..self.vcpus.len())
            .filter(|&v| self.vcpus[v].status == Status::Ready)
            .min_by_key(|&v| self.cpu_key(v, now))
    }

    fn run_on(&mut self, v: usize, pcpu: usize, now: Instant) {
        let core = self.cfg.cores[pcpu];
        let rr = self.cfg.cpu == "rr";
        let quantum = self.cfg.quantum;
        let st = &mut self.vcpus[v];
        let waited = now.saturating_duration_since(st.ready_since);
        st.status = Status::Running;
        st.pcpu = pcpu;
        st.dispatch = now;
        st.quantum_end = rr.then(|| now + quantum);
        st.kick_reason = None;
        // A kick meant for an earlier slice must not end this one.
        st.flags.preempt.store(false, Ordering::SeqCst);
        self.vms[st.vm].ready_wait += waited;
        self.pcpus[pcpu] = Some(v);
        // A send fails only if the thread died; its exit message tells why.
        let _ = st.cmd.send(Cmd::Run { core });
    }

    fn kick(&mut self, v: usize, why: SliceEnd) {
        let st = &mut self.vcpus[v];
        if st.kick_reason.is_some() {
            return;
        }
        st.kick_reason = Some(why);
        st.flags.preempt.store(true, Ordering::SeqCst);
        if let Some(k) = st.kicker {
            k.kick();
            self.out.kicks += 1;
        }
    }

    fn maybe_preempt(&mut self, now: Instant) {
        match self.cfg.cpu.as_str() {
            "rr" => {
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
                            // Nobody waits: a new quantum without a switch.
                            self.vcpus[v].quantum_end = Some(q + self.cfg.quantum);
                        }
                    }
                }
            }
            "srtf" | "priority-preemptive" => {
                let Some(best) = self.best_ready(now) else {
                    return;
                };
                let best_key = self.cpu_key(best, now).0;
                let worst = self
                    .pcpus
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|&v| self.vcpus[v].kick_reason.is_none())
                    .max_by_key(|&v| self.cpu_key(v, now));
                if let Some(w) = worst
                    && best_key < self.cpu_key(w, now).0
                {
                    self.kick(w, SliceEnd::Preempted);
                }
            }
            _ => {}
        }
    }

    fn handle(&mut self, msg: Msg) -> Result<(), Error> {
        match msg {
            Msg::Hello { vcpu, kicker } => {
                self.vcpus[vcpu].kicker = Some(kicker);
                if self.vms[self.vcpus[vcpu].vm].admitted.is_some() {
                    self.make_ready(vcpu, Instant::now());
                } else {
                    self.vcpus[vcpu].status = Status::Idle;
                }
            }
            Msg::IoDone { vcpu, at, service } => {
                let blocked = at.saturating_duration_since(self.vcpus[vcpu].ready_since);
                let vm = &mut self.vms[self.vcpus[vcpu].vm];
                vm.io_service += service;
                vm.io_wait += blocked;
                vm.io_requests += 1;
                self.make_ready(vcpu, at);
            }
            Msg::Slice {
                vcpu,
                start,
                end,
                stop,
                exits,
            } => {
                self.out.exits += exits;
                let (vm, pcpu, dispatch, kick_reason) = {
                    let st = &self.vcpus[vcpu];
                    (st.vm, st.pcpu, st.dispatch, st.kick_reason)
                };
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
                    SliceStop::Done => SliceEnd::Finished,
                    SliceStop::Io(_) => io_slice_end(),
                    SliceStop::Kicked => kick_reason.unwrap_or(SliceEnd::Preempted),
                    SliceStop::Failed(_) => SliceEnd::Finished,
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
                    SliceStop::Done => self.vcpu_done(vcpu, end),
                    SliceStop::Io(i) => {
                        let service = self.vcpus[vcpu].io_queue.pop_front().ok_or_else(|| {
                            Error::Guest(format!(
                                "VM {}: guest made I/O request {i} beyond its plan",
                                self.plans[vm].request.id
                            ))
                        })?;
                        self.vcpus[vcpu].status = Status::Blocked;
                        // Blocked from the end of the slice (`ready_since` is reused as
                        // the time the vCPU blocked).
                        self.vcpus[vcpu].ready_since = end;
                        if let Some(d) = &self.dev_tx {
                            let _ = d.send(IoReq { vcpu, service });
                        }
                    }
                    SliceStop::Kicked => {
                        self.vms[vm].preemptions += 1;
                        self.make_ready(vcpu, end);
                    }
                    SliceStop::Failed(m) => {
                        self.vcpus[vcpu].status = Status::Done;
                        return Err(Error::Guest(format!(
                            "VM {} vCPU {}: {m}",
                            self.plans[vm].request.id, self.vcpus[vcpu].index
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn vcpu_done(&mut self, v: usize, end: Instant) {
        self.vcpus[v].status = Status::Done;
        if let Some(t) = self.vcpus[v].thread.take() {
            let _ = t.join();
        }
        let vm = self.vcpus[v].vm;
        let vst = &mut self.vms[vm];
        vst.vcpus_left -= 1;
        if vst.vcpus_left > 0 {
            return;
        }
        vst.finish = Some(end);
        // Every vCPU thread of the VM has been joined: its memory can go.
        vst.guest = None;
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
    }

    fn record(&self, vm: usize, service: Duration) -> VmRecord {
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
        rec.minor_faults = self.plans[vm].ws_pages;
        rec
    }

    fn check_timeouts(&mut self, now: Instant) -> Result<(), Error> {
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

    /// Stops and joins every thread (after success or failure).
    fn shutdown(&mut self) {
        for v in 0..self.vcpus.len() {
            if self.vcpus[v].thread.is_none() {
                continue;
            }
            let st = &self.vcpus[v];
            st.flags.stop.store(true, Ordering::SeqCst);
            let _ = st.cmd.send(Cmd::Stop);
            if let Some(k) = st.kicker {
                k.kick();
            }
        }
        // A vCPU thread that has not said hello yet cannot be kicked: keep kicking until
        // every thread is gone.
        for v in 0..self.vcpus.len() {
            let Some(t) = self.vcpus[v].thread.take() else {
                continue;
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            while !t.is_finished() && Instant::now() < deadline {
                while let Ok(msg) = self.rx.try_recv() {
                    if let Msg::Hello { kicker, .. } = msg {
                        kicker.kick();
                    }
                }
                if let Some(k) = self.vcpus[v].kicker {
                    k.kick();
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            }
            // else: a thread stuck outside KVM_RUN for 5 s; leave it rather than hang.
        }
        for vm in &mut self.vms {
            vm.guest = None;
        }
        self.dev_tx = None;
        if let Some(t) = self.dev_thread.take() {
            let _ = t.join();
        }
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

fn tempfile_in(dir: &std::path::Path) -> std::io::Result<File> {
    let path = dir.join(format!(".vmsched-device-{}", std::process::id()));
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .read(true)
        .open(&path)?;
    // Unlinked at once: the file goes away with its descriptor.
    std::fs::remove_file(&path)?;
    Ok(f)
}

fn device_thread(
    rx: Receiver<IoReq>,
    tx: Sender<Msg>,
    mode: DeviceMode,
    mut file: Option<&mut File>,
) {
    let buf = match &mode {
        DeviceMode::File { bytes, .. } => vec![0x5au8; *bytes],
        DeviceMode::Sleep => Vec::new(),
    };
    while let Ok(req) = rx.recv() {
        let start = Instant::now();
        match (&mode, file.as_deref_mut()) {
            (DeviceMode::File { .. }, Some(f)) => {
                let _ = f.write_all(&buf).and_then(|()| f.sync_data());
            }
            _ => std::thread::sleep(req.service),
        }
        if tx
            .send({
                let at = Instant::now();
                Msg::IoDone {
                    vcpu: req.vcpu,
                    at,
                    service: at.saturating_duration_since(start),
                }
            })
            .is_err()
        {
            return;
        }
    }
}

fn vcpu_thread(
    id: usize,
    mut vcpu: Vcpu,
    cmds: Receiver<Cmd>,
    tx: Sender<Msg>,
    flags: Arc<Flags>,
    housekeeping: Vec<usize>,
    boost: bool,
) {
    if !housekeeping.is_empty() {
        pin_to_set(&housekeeping);
    }
    set_kick_target(vcpu.immediate_exit_ptr());
    let fail = |tx: &Sender<Msg>, m: String| {
        let now = Instant::now();
        let _ = tx.send(Msg::Slice {
            vcpu: id,
            start: now,
            end: now,
            stop: SliceStop::Failed(m),
            exits: 0,
        });
    };
    if tx
        .send(Msg::Hello {
            vcpu: id,
            kicker: Kicker::current(),
        })
        .is_err()
    {
        set_kick_target(std::ptr::null_mut());
        return;
    }
    let mut pinned = None;
    let mut boosted = false;
    'cmds: while let Ok(Cmd::Run { core }) = cmds.recv() {
        if flags.stop.load(Ordering::SeqCst) {
            break;
        }
        if pinned != Some(core) {
            if let Err(e) = pin_current_thread(core) {
                fail(&tx, e.to_string());
                break;
            }
            pinned = Some(core);
        }
        if boost && !boosted {
            if let Err(e) = super::boost_current_thread() {
                fail(&tx, e.to_string());
                break;
            }
            boosted = true;
        }
        let start = Instant::now();
        let mut exits = 0u64;
        loop {
            let exit = match vcpu.run() {
                Ok(e) => e,
                Err(e) => {
                    fail(&tx, e.to_string());
                    break 'cmds;
                }
            };
            exits += 1;
            let action = classify(&exit);
            let stop = match action {
                Action::Done => SliceStop::Done,
                Action::Io(i) => SliceStop::Io(i),
                Action::Mark(_) => continue,
                Action::Kicked => {
                    vcpu.clear_immediate_exit();
                    if flags.stop.load(Ordering::SeqCst) {
                        break 'cmds;
                    }
                    if flags.preempt.swap(false, Ordering::SeqCst) {
                        SliceStop::Kicked
                    } else {
                        continue; // a stale kick
                    }
                }
                Action::Fault(m) => {
                    let rip = vcpu
                        .rip()
                        .map(|r| format!(" at rip {r:#x}"))
                        .unwrap_or_default();
                    SliceStop::Failed(format!("{m}{rip}"))
                }
            };
            let end = Instant::now();
            let last = matches!(stop, SliceStop::Done | SliceStop::Failed(_));
            let _ = tx.send(Msg::Slice {
                vcpu: id,
                start,
                end,
                stop,
                exits,
            });
            if last {
                break 'cmds;
            }
            break;
        }
    }
    set_kick_target(std::ptr::null_mut());
    drop(vcpu);
}
