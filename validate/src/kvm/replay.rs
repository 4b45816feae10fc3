//! The replay: one KVM VM per workload VM, one executor thread per pCPU that runs whichever
//! vCPU the policy picks, a scheduler that enforces the admission and CPU policies, and a
//! device thread that serves I/O requests.
//!
//! # Threads
//! - One **executor** per pCPU, pinned to the pCPU's core (`sched_setaffinity`). It enters
//!   the vCPU the scheduler gave its pCPU (`KVM_RUN` on that vCPU's file descriptor) and
//!   runs the guest until the guest finishes, asks for I/O, or is kicked; then, still on its
//!   core, it records the slice (CLOCK_MONOTONIC timestamps, `Instant`), takes the
//!   scheduling decisions that follow (admission, dispatch) and enters the next vCPU.
//!   Switching vCPUs is a call on another vCPU's file descriptor: no thread blocks or wakes
//!   up on the pCPU's core. With nothing to run (every admitted vCPU waiting for I/O) the
//!   executor spins, so that its core is not handed to another process in between (when
//!   the coordinator and device threads have cores of their own; otherwise it sleeps until
//!   a dispatch wakes it). A ready vCPU goes back to the pCPU it ran on last if that one is
//!   idle.
//! - The **coordinator** is the calling thread. It creates the VMs, and makes the decisions
//!   that fall while the executors are inside guests: arrivals and admissions, `rr`
//!   quantum ends, preemptions, timeouts. It preempts a running vCPU by kicking its
//!   executor out of `KVM_RUN` (the kick signal, whose handler sets the running vCPU's
//!   `immediate_exit`, so a kick that lands just before `KVM_RUN` is not lost).
//! - Finished VMs are destroyed after the replay (up to 4 GiB of guest memory; beyond, by
//!   a **reaper** thread as they finish): unmapping a working set takes milliseconds that
//!   an executor would otherwise spend before entering the next vCPU, and slows down the
//!   first touches of the VMs still running.
//! - One **device thread** serves I/O requests in FIFO order, one at a time (a calibrated
//!   sleep, or a real write + `fdatasync` on a temporary file), and completes each by
//!   making its vCPU ready (which may dispatch it to an idle pCPU, or preempt a less
//!   urgent running vCPU).
//!
//! The scheduler's state is shared under one mutex, which no thread holds while a guest
//! runs. The coordinator and device threads run on the other allowed CPUs when there are
//! any. With one pCPU every vCPU is always entered by the same thread; with several, a
//! vCPU may be entered by another executor than last time, and KVM then pays the cost of a
//! vCPU changing threads.
//!
//! # Policies
//! The queues are ordered by `sim`'s own policies ([`crate::keys`]): the admission queue
//! by the admission policy's `queue_key` (aging included), with strict head of line or
//! skip-ahead, into `floor(pcpus × overcommit)` vCPU slots; the run queue by the CPU
//! policy's `ready_key`, on a view of each vCPU filled from the replay's state (CPU time
//! had, when it became ready, whether it was kicked out). A policy that says it is
//! `preemptive` kicks the least urgent running vCPU out when a ready one has a strictly
//! smaller key; a `time_sliced` one kicks a vCPU whose quantum expired when another one is
//! ready. Ties: earlier arrival, then lower id, then lower vCPU index (as in the simulator).
//! A vCPU's readiness is the instant it became ready on the replay's clock (a slice's end,
//! an I/O completion, an admission).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;
use sim::policy::{AdmissionPolicy, CpuPolicy};
use sim::{HeadOfLine, SimTime, SliceEnd, SliceRecord, VmRecord};

use super::vm::{GuestVm, Vcpu};
use super::{Kicker, pin_current_thread, set_kick_target};
use crate::error::Error;
use crate::exits::{Action, classify};
use crate::keys::{self, Key, VcpuState};
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
    /// Admission policy (a name of `sim`'s registry).
    pub admission: String,
    /// Priority levels gained per second of waiting, for the admission policy.
    pub aging_per_s: f64,
    /// CPU policy (a name of `sim`'s registry).
    pub cpu: String,
    /// Head-of-line rule of the admission queue.
    pub head_of_line: HeadOfLine,
    /// Time slice of `rr`.
    pub quantum: Duration,
    /// Host CPU of each pCPU (pCPU `i` runs on core `cores[i]`).
    pub cores: Vec<usize>,
    /// CPUs for the coordinator and device threads (empty: unpinned, and the executors
    /// sleep while they have nothing to run instead of spinning, leaving the cores to
    /// those threads).
    pub housekeeping: Vec<usize>,
    /// vCPU slots of the host (`floor(pcpus × overcommit)`; `u64::MAX` = unlimited).
    pub capacity: u64,
    /// A vCPU that has run this long (guest time) without finishing is stopped and the
    /// replay fails with [`Error::Timeout`].
    pub timeout: Duration,
    /// How I/O requests are served.
    pub device: DeviceMode,
    /// Create every VM and vCPU before the replay starts (they then wait until admission),
    /// so that VM creation (≈ 0.5 ms, tail to 8 ms on PVM) does not delay scheduling
    /// decisions. Otherwise a VM is created when admitted.
    pub precreate: bool,
    /// Run the executor threads at nice −20 (needs the permission; shields the measurement
    /// from other processes on the same core, without the real-time throttling that takes
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
    /// Guest exits seen by the executors.
    pub exits: u64,
    /// Wall time of the replay.
    pub wall: Duration,
    /// Sum over slices of `start − dispatch` (the real cost of switching vCPUs).
    pub switch_time: Duration,
    /// Number of slices.
    pub dispatches: u64,
    /// CPU time, faults and context switches of the executor threads (summed).
    pub executor_usage: crate::interference::Usage,
}

/// Why a slice ended, as the executor saw it.
#[derive(Debug)]
enum SliceStop {
    Done,
    Io(u32),
    Kicked,
    Failed(String),
    /// The replay is being stopped (another thread failed).
    Stopped,
}

/// A request to the device thread.
struct IoReq {
    vcpu: usize,
    service: Duration,
}

/// Flags shared with the executor that runs a vCPU.
#[derive(Default)]
struct Flags {
    /// The scheduler wants the pCPU back.
    preempt: AtomicBool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Status {
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
    /// The vCPU itself; `None` while an executor runs it, and once it is done.
    vcpu: Option<Vcpu>,
    flags: Arc<Flags>,
    status: Status,
    /// When it became ready (or blocked, while blocked).
    ready_since: Instant,
    /// It became ready because it was kicked out (quantum end or preemption).
    preempted: bool,
    /// pCPU while running.
    pcpu: usize,
    dispatch: Instant,
    quantum_end: Option<Instant>,
    kick_reason: Option<SliceEnd>,
    cpu_time: Duration,
    io_queue: VecDeque<Duration>,
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

/// What every thread of a replay shares besides the scheduler's state.
struct Signals {
    /// pCPU → (vCPU + 1) the scheduler gave its executor (0: nothing new).
    assigned: Vec<AtomicUsize>,
    /// Every thread stops (the replay finished or failed).
    stop: AtomicBool,
}

/// Guest memory of finished VMs kept until the end of a replay (see `Sched::vcpu_done`).
const GRAVEYARD_BYTES: u64 = 4 << 30;

/// How long an idle executor spins between two looks at the scheduler (arrivals).
const IDLE_POLL: Duration = Duration::from_micros(20);

/// Replays `plans` (in arrival order) under `cfg`, returning what was measured. On a
/// guest fault or timeout every thread is stopped and joined before the error returns.
pub fn replay(kvm: &Kvm, plans: &[VmPlan], cfg: &ReplayConfig) -> Result<ReplayResult, Error> {
    let policies = build_policies(cfg)?;
    super::install_kick_handler()?;
    if !cfg.housekeeping.is_empty() {
        pin_to_set(&cfg.housekeeping);
    }
    let needs_device = plans
        .iter()
        .any(|p| p.vcpus.iter().any(|v| !v.io.is_empty()));
    let mut file = match (&cfg.device, needs_device) {
        (DeviceMode::File { dir, .. }, true) => Some(
            tempfile_in(dir)
                .map_err(|e| Error::Host(format!("cannot create the device file: {e}")))?,
        ),
        _ => None,
    };
    let (dev_tx, dev_rx) = mpsc::channel::<IoReq>();
    let (wake_tx, wake_rx) = mpsc::channel::<()>();
    let (reap_tx, reap_rx) = mpsc::channel::<GuestVm>();
    let sig = Signals {
        assigned: cfg.cores.iter().map(|_| AtomicUsize::new(0)).collect(),
        stop: AtomicBool::new(false),
    };
    let sched = Mutex::new(Sched::new(plans, cfg, policies, dev_tx, wake_tx, reap_tx));
    let res = std::thread::scope(|scope| -> Result<(), Error> {
        let (sig, sched) = (&sig, &sched);
        let mut threads = Vec::new();
        if needs_device {
            let mode = cfg.device.clone();
            let file = file.as_mut();
            threads.push(
                std::thread::Builder::new()
                    .name("vmsched-device".into())
                    .spawn_scoped(scope, move || {
                        if !cfg.housekeeping.is_empty() {
                            pin_to_set(&cfg.housekeeping);
                        }
                        device_thread(kvm, sched, sig, dev_rx, mode, file)
                    })
                    .map_err(|e| Error::Host(format!("cannot start the device thread: {e}")))?,
            );
        }
        let started = || {
            threads.push(
                std::thread::Builder::new()
                    .name("vmsched-reaper".into())
                    .spawn_scoped(scope, move || {
                        if !cfg.housekeeping.is_empty() {
                            pin_to_set(&cfg.housekeeping);
                        }
                        reaper(sig, reap_rx)
                    })
                    .map_err(|e| Error::Host(format!("cannot start the reaper thread: {e}")))?,
            );
            for p in 0..cfg.cores.len() {
                threads.push(
                    std::thread::Builder::new()
                        .name(format!("vmsched-pcpu-{p}"))
                        .spawn_scoped(scope, move || executor(kvm, sched, sig, p))
                        .map_err(|e| {
                            Error::Host(format!("cannot start an executor thread: {e}"))
                        })?,
                );
            }
            coordinate(kvm, sched, sig, &wake_rx)
        };
        if let Err(e) = started() {
            fail(sched, sig, e);
        }
        // Joined one by one (the scope alone waits for the threads' functions, not for
        // the threads to exit), so that none is left when the replay returns.
        for t in threads {
            if t.join().is_err() {
                fail(sched, sig, Error::Host("a replay thread panicked".into()));
            }
        }
        Ok(())
    });
    let mut s = lock(&sched);
    // Every thread has been joined: the vCPUs go before their VMs.
    for v in &mut s.vcpus {
        v.vcpu = None;
    }
    for vm in &mut s.vms {
        vm.guest = None;
    }
    s.graveyard.clear();
    res?;
    match s.error.take() {
        Some(e) => Err(e),
        None => Ok(std::mem::take(&mut s.out)),
    }
}

/// The scheduler's state, even if a thread panicked while holding it.
fn lock<'m, 'a>(m: &'m Mutex<Sched<'a>>) -> MutexGuard<'m, Sched<'a>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Stops the replay with `e` (the first error wins): every thread stops, executors are
/// kicked out of their guests.
fn fail(sched: &Mutex<Sched<'_>>, sig: &Signals, e: Error) {
    let mut s = lock(sched);
    if s.error.is_none() {
        s.error = Some(e);
    }
    s.stop_all(sig);
}

/// The coordinator: creates the VMs, waits for the executors, then takes the decisions
/// that fall due while the executors are in guests, until the last VM finishes.
fn coordinate(
    kvm: &Kvm,
    sched: &Mutex<Sched<'_>>,
    sig: &Signals,
    wake: &Receiver<()>,
) -> Result<(), Error> {
    let n = {
        let mut s = lock(sched);
        if s.cfg.precreate {
            for vm in 0..s.plans.len() {
                s.create_vm(kvm, vm)?;
            }
        }
        s.plans.len()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if sig.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut s = lock(sched);
        if s.executors.iter().all(Option::is_some) {
            // A short lead so that the first arrivals are not late.
            s.t0 = Instant::now() + Duration::from_millis(5);
            s.started = true;
            break;
        }
        drop(s);
        if Instant::now() > deadline {
            return Err(Error::Host("the executor threads did not start".into()));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    loop {
        let next = {
            let mut s = lock(sched);
            if sig.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let now = Instant::now();
            s.tick(kvm, sig, now)?;
            if s.finished >= n {
                s.out.wall = now.saturating_duration_since(s.t0);
                s.stop_all(sig);
                return Ok(());
            }
            s.next_deadline(now)
        };
        // Woken early when the replay finishes or fails.
        match wake.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

/// An executor: runs the vCPUs the scheduler gives pCPU `p`, on its core.
fn executor(kvm: &Kvm, sched: &Mutex<Sched<'_>>, sig: &Signals, p: usize) {
    let (core, boost, spin) = {
        let s = lock(sched);
        (s.cfg.cores[p], s.cfg.boost, !s.cfg.housekeeping.is_empty())
    };
    if let Err(e) = pin_current_thread(core) {
        fail(sched, sig, e);
        return;
    }
    if boost && let Err(e) = super::boost_current_thread() {
        fail(sched, sig, e);
        return;
    }
    lock(sched).executors[p] = Some((Kicker::current(), std::thread::current()));
    let mut next_look = Instant::now();
    while !sig.stop.load(Ordering::SeqCst) {
        let a = sig.assigned[p].swap(0, Ordering::SeqCst);
        let Some(v) = a.checked_sub(1) else {
            // Nothing to run: look at the scheduler now and then (arrivals) and spin.
            let now = Instant::now();
            if now >= next_look {
                next_look = now + IDLE_POLL;
                let r = lock(sched).tick(kvm, sig, now);
                if let Err(e) = r {
                    fail(sched, sig, e);
                    break;
                }
            }
            if spin {
                std::hint::spin_loop();
            } else {
                // Woken up by a dispatch to this pCPU.
                std::thread::park_timeout(Duration::from_millis(1));
            }
            continue;
        };
        let Some((mut vcpu, flags)) = lock(sched).take_vcpu(v) else {
            continue;
        };
        set_kick_target(vcpu.immediate_exit_ptr());
        // A kick sent before the target was set must still end the slice.
        if flags.preempt.load(Ordering::SeqCst) {
            vcpu.request_exit();
        }
        let (start, stop, exits) = run_slice(&mut vcpu, &flags, sig);
        let end = Instant::now();
        set_kick_target(std::ptr::null_mut());
        let mut s = lock(sched);
        let r = s
            .slice_ended(v, vcpu, start, end, stop, exits)
            .and_then(|()| s.tick(kvm, sig, Instant::now()));
        if let Err(e) = r {
            if s.error.is_none() {
                s.error = Some(e);
            }
            s.stop_all(sig);
        }
    }
    let used = super::host_load::thread_usage();
    let mut s = lock(sched);
    s.executors[p] = None;
    let u = &mut s.out.executor_usage;
    u.cpu_s += used.cpu_s;
    u.minor_faults += used.minor_faults;
    u.major_faults += used.major_faults;
    u.voluntary_switches += used.voluntary_switches;
    u.involuntary_switches += used.involuntary_switches;
    drop(s);
    set_kick_target(std::ptr::null_mut());
}

/// Runs `vcpu` until its guest finishes, asks for I/O, faults, or is kicked for a reason
/// (a stale kick, meant for an earlier slice, is ignored). Returns when the slice started.
fn run_slice(vcpu: &mut Vcpu, flags: &Flags, sig: &Signals) -> (Instant, SliceStop, u64) {
    let start = Instant::now();
    let mut exits = 0u64;
    loop {
        let exit = match vcpu.run() {
            Ok(e) => e,
            Err(e) => return (start, SliceStop::Failed(e.to_string()), exits),
        };
        exits += 1;
        let stop = match classify(&exit) {
            Action::Done => SliceStop::Done,
            Action::Io(i) => SliceStop::Io(i),
            Action::Mark(_) => continue,
            Action::Kicked => {
                vcpu.clear_immediate_exit();
                if sig.stop.load(Ordering::SeqCst) {
                    SliceStop::Stopped
                } else if flags.preempt.swap(false, Ordering::SeqCst) {
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
        return (start, stop, exits);
    }
}

/// The replay's policies, from `sim`'s registry.
fn build_policies(cfg: &ReplayConfig) -> Result<Policies, Error> {
    let admission = sim::policy::admission_policy(
        &cfg.admission,
        &sim::policy::AdmissionParams {
            aging_per_s: cfg.aging_per_s,
        },
    )
    .map_err(|e| Error::Host(format!("the KVM replay: {e}")))?;
    let cpu = sim::policy::cpu_policy(&cfg.cpu)
        .map_err(|e| Error::Host(format!("the KVM replay: {e}")))?;
    if cfg.cores.is_empty() {
        return Err(Error::Host("the replay needs at least one pCPU".into()));
    }
    if cpu.time_sliced() && cfg.quantum.is_zero() {
        return Err(Error::Host(format!("{} needs a quantum > 0", cfg.cpu)));
    }
    Ok(Policies { admission, cpu })
}

/// The admission and CPU policies of a replay.
struct Policies {
    admission: Box<dyn AdmissionPolicy>,
    cpu: Box<dyn CpuPolicy>,
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
    policies: Policies,
    /// The replay has started (`t0` set): arrivals count from now on.
    started: bool,
    t0: Instant,
    vms: Vec<VmSt>,
    vcpus: Vec<VcpuSt>,
    /// Admission queue (VM indices), in arrival order.
    queue: Vec<usize>,
    next_arrival: usize,
    used_slots: u64,
    /// pCPU → running vCPU.
    pcpus: Vec<Option<usize>>,
    /// pCPU → how to kick its executor, and the executor's thread (while it runs).
    executors: Vec<Option<(Kicker, std::thread::Thread)>>,
    dev_tx: Sender<IoReq>,
    /// Tells the coordinator that the replay finished or failed.
    wake: Sender<()>,
    /// Finished VMs, to be destroyed off the pCPUs.
    reap: Sender<GuestVm>,
    /// Finished VMs kept until the replay ends (destroyed after it, so that their memory
    /// is not unmapped while other VMs touch theirs), oldest first, and their guest bytes.
    graveyard: VecDeque<GuestVm>,
    graveyard_bytes: u64,
    out: ReplayResult,
    finished: usize,
    /// The first error of any thread.
    error: Option<Error>,
}

impl<'a> Sched<'a> {
    fn new(
        plans: &'a [VmPlan],
        cfg: &'a ReplayConfig,
        policies: Policies,
        dev_tx: Sender<IoReq>,
        wake: Sender<()>,
        reap: Sender<GuestVm>,
    ) -> Sched<'a> {
        let now = Instant::now();
        Sched {
            plans,
            cfg,
            policies,
            started: false,
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
            executors: vec![None; cfg.cores.len()],
            dev_tx,
            wake,
            reap,
            graveyard: VecDeque::new(),
            graveyard_bytes: 0,
            out: ReplayResult::default(),
            finished: 0,
            error: None,
        }
    }

    fn at(&self, t: SimTime) -> Instant {
        self.t0 + Duration::from_nanos(t.nanos())
    }

    fn sim_time(&self, t: Instant) -> SimTime {
        SimTime::from_nanos(t.saturating_duration_since(self.t0).as_nanos() as u64)
    }

    /// Stops every thread: executors are kicked out of their guests, the coordinator is
    /// woken up.
    fn stop_all(&mut self, sig: &Signals) {
        sig.stop.store(true, Ordering::SeqCst);
        for (k, t) in self.executors.iter().flatten() {
            k.kick();
            t.unpark();
        }
        let _ = self.wake.send(());
    }

    /// Admits the VMs that have arrived by `now`, dispatches ready vCPUs to idle pCPUs,
    /// preempts where the policy says so, and checks the time limit.
    fn tick(&mut self, kvm: &Kvm, sig: &Signals, now: Instant) -> Result<(), Error> {
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
        self.dispatch(sig);
        self.check_timeouts(now)
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

    /// The vCPU `v`, for the executor it was dispatched to.
    fn take_vcpu(&mut self, v: usize) -> Option<(Vcpu, Arc<Flags>)> {
        let st = self.vcpus.get_mut(v)?;
        if st.status != Status::Running {
            return None;
        }
        Some((st.vcpu.take()?, st.flags.clone()))
    }

    fn admission_key(&self, vm: usize) -> Key {
        keys::admission_key(&*self.policies.admission, &self.plans[vm].request)
    }

    /// The run-queue key of vCPU `v` at `now` (a running vCPU's CPU time includes its
    /// current slice, and its readiness is its dispatch).
    fn cpu_key(&self, v: usize, now: Instant) -> Key {
        let st = &self.vcpus[v];
        let running = st.status == Status::Running;
        let mut attained = st.cpu_time;
        if running {
            attained += now.saturating_duration_since(st.dispatch);
        }
        let state = VcpuState {
            index: st.index,
            attained: SimTime::from_nanos(attained.as_nanos() as u64),
            ready_since: self.sim_time(if running { st.dispatch } else { st.ready_since }),
            preempted: st.preempted,
        };
        keys::cpu_key(&*self.policies.cpu, &self.plans[st.vm].request, &state)
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

    /// Admits `vm`: creates it unless it was created in advance, and makes its vCPUs ready.
    fn start_vm(&mut self, kvm: &Kvm, vm: usize) -> Result<(), Error> {
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

    /// Creates the KVM VM of `vm` and its vCPUs (idle until admission).
    fn create_vm(&mut self, kvm: &Kvm, vm: usize) -> Result<(), Error> {
        let plan = &self.plans[vm];
        let programs: Vec<_> = plan.vcpus.iter().map(|v| v.program.clone()).collect();
        let (guest, vcpus) = GuestVm::new(kvm, &programs, plan.ws_pages)?;
        self.vms[vm].guest = Some(guest);
        for (i, vcpu) in vcpus.into_iter().enumerate() {
            let id = self.vcpus.len();
            let now = Instant::now();
            self.vcpus.push(VcpuSt {
                vm,
                index: i as u32,
                vcpu: Some(vcpu),
                flags: Arc::new(Flags::default()),
                status: Status::Idle,
                ready_since: now,
                preempted: false,
                pcpu: 0,
                dispatch: now,
                quantum_end: None,
                kick_reason: None,
                cpu_time: Duration::ZERO,
                io_queue: plan.vcpus[i].io.iter().copied().collect(),
            });
            self.vms[vm].vcpu_ids.push(id);
        }
        Ok(())
    }

    fn make_ready(&mut self, v: usize, at: Instant, preempted: bool) {
        let st = &mut self.vcpus[v];
        st.status = Status::Ready;
        st.ready_since = at;
        st.preempted = preempted;
    }

    fn dispatch(&mut self, sig: &Signals) {
        let now = Instant::now();
        while let Some(idle) = self.pcpus.iter().position(Option::is_none) {
            let Some(v) = self.best_ready(now) else { break };
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

    fn best_ready(&self, now: Instant) -> Option<usize> {
        (0..self.vcpus.len())
            .filter(|&v| self.vcpus[v].status == Status::Ready)
            .min_by_key(|&v| self.cpu_key(v, now))
    }

    fn run_on(&mut self, v: usize, pcpu: usize, now: Instant, sig: &Signals) {
        let sliced = self.policies.cpu.time_sliced();
        let quantum = self.cfg.quantum;
        let st = &mut self.vcpus[v];
        let waited = now.saturating_duration_since(st.ready_since);
        st.status = Status::Running;
        st.pcpu = pcpu;
        st.dispatch = now;
        st.quantum_end = sliced.then(|| now + quantum);
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

    fn kick(&mut self, v: usize, why: SliceEnd) {
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
    fn maybe_preempt(&mut self, now: Instant) {
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
                        // Nobody waits: a new quantum without a switch.
                        self.vcpus[v].quantum_end = Some(q + self.cfg.quantum);
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

    /// The device finished an I/O request of `vcpu` at `at` after serving it for `service`.
    fn io_done(&mut self, vcpu: usize, at: Instant, service: Duration) {
        let blocked = at.saturating_duration_since(self.vcpus[vcpu].ready_since);
        let vm = &mut self.vms[self.vcpus[vcpu].vm];
        vm.io_service += service;
        vm.io_wait += blocked;
        vm.io_requests += 1;
        self.make_ready(vcpu, at, false);
    }

    /// A slice of `vcpu` ended: records it and gives the vCPU back (or drops it when its
    /// guest is done).
    fn slice_ended(
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
            SliceStop::Done => self.vcpu_done(vcpu, end),
            SliceStop::Io(i) => {
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
                self.vms[vm].preemptions += 1;
                self.make_ready(vcpu, end, true);
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

    fn vcpu_done(&mut self, v: usize, end: Instant) {
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

/// Destroys finished VMs (their KVM VM and guest memory) until the replay stops.
fn reaper(sig: &Signals, rx: Receiver<GuestVm>) {
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(g) => drop(g),
            Err(RecvTimeoutError::Timeout) if !sig.stop.load(Ordering::SeqCst) => {}
            Err(_) => break,
        }
    }
    while let Ok(g) = rx.try_recv() {
        drop(g);
    }
}

fn device_thread(
    kvm: &Kvm,
    sched: &Mutex<Sched<'_>>,
    sig: &Signals,
    rx: Receiver<IoReq>,
    mode: DeviceMode,
    mut file: Option<&mut File>,
) {
    let buf = match &mode {
        DeviceMode::File { bytes, .. } => vec![0x5au8; *bytes],
        DeviceMode::Sleep => Vec::new(),
    };
    while !sig.stop.load(Ordering::SeqCst) {
        let req = match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let start = Instant::now();
        match (&mode, file.as_deref_mut()) {
            (DeviceMode::File { .. }, Some(f)) => {
                let _ = f.write_all(&buf).and_then(|()| f.sync_data());
            }
            _ => std::thread::sleep(req.service),
        }
        let at = Instant::now();
        let mut s = lock(sched);
        s.io_done(req.vcpu, at, at.saturating_duration_since(start));
        if let Err(e) = s.tick(kvm, sig, Instant::now()) {
            if s.error.is_none() {
                s.error = Some(e);
            }
            s.stop_all(sig);
        }
    }
}
