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
//! an I/O completion, an admission). Keys are computed at each decision in the engine's
//! context (`KeyContext`: the instant, the run queue's average state, the slice).
//!
//! A policy's own bookkeeping is the engine's, through the helpers both share
//! ([`sim::policy::bookkeeping`]): the per-vCPU state word (charged with each slice's
//! guest work, told of dispatches and expired quanta), the run queue's average state
//! (`fair`: `queue_avg.rs`), accounting at the multiples of the policy's period from the
//! replay's start and the parking of capped vCPUs (`credit`: `account.rs`).
//!
//! # Files
//! - this file: the settings and result of a replay, what the threads share, and
//!   [`replay`], which starts the threads and joins them;
//! - `threads.rs`: what each thread does (coordinator, executor, device, reaper);
//! - `state.rs`: the scheduler's state (`Sched`, one `VmSt` per VM, one `VcpuSt` per
//!   vCPU), its creation and the creation of a KVM VM;
//! - `sched.rs`: the scheduling decisions on that state (arrivals, admission, dispatch,
//!   preemption, I/O completion, slice ends, finished VMs, timeouts);
//! - `account.rs`: the accounting instants of a policy with an accounting period and the
//!   parking of capped vCPUs (`credit`);
//! - `queue_avg.rs`: the run queue's average state (`fair`'s average virtual runtime).

mod account;
mod queue_avg;
mod sched;
mod state;
mod threads;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use kvm_ioctls::Kvm;
use sim::{HeadOfLine, SliceRecord, VmRecord};

use super::vm::GuestVm;
use crate::error::Error;
use crate::plan::VmPlan;
use state::{Sched, build_policies};
use threads::{coordinate, device_thread, executor, pin_to_set, reaper, tempfile_in};

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
    /// The CPU level's settings and the run's seed and replication, for a policy with
    /// options or a random stream (`mlfq`'s levels, `lottery`'s draws): as the simulator
    /// configures it. `None`: the policy's defaults.
    pub cpu_params: Option<(sim::CpuSpec, u64, u64)>,
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

/// Whether the replay can reproduce CPU policy `name` (an error saying why not), so that
/// `vmsched validate` refuses it before replaying anything. Every policy of `sim`'s
/// registry replays: those with a per-vCPU state word, a run queue's average (`fair`) or
/// accounting periods and parking (`credit`) included. With `capped` (some VM has a CPU
/// cap) only a policy that parks capped vCPUs itself does (`credit`): the engine's
/// bandwidth control (cgroup `cpu.max`) the replay does not enforce.
pub fn check_cpu_policy(name: &str, capped: bool) -> Result<(), Error> {
    let cpu =
        sim::policy::cpu_policy(name).map_err(|e| Error::Host(format!("the KVM replay: {e}")))?;
    if capped && !(cpu.accounting_period().is_some() && cpu.parks_capped()) {
        return Err(Error::Host(format!(
            "workload.cpu_cap: the user-space replay enforces CPU caps only under a policy \
             that parks capped vCPUs itself (`credit`), not under `{name}`: replay `fair` \
             with --host-scheduler, which caps through the cgroup's CFS quota"
        )));
    }
    Ok(())
}

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
