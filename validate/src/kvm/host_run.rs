//! `--host-scheduler`: one host thread per vCPU enters `KVM_RUN` and **Linux** shares the
//! pCPUs' cores among them (no user-space scheduler).
//!
//! Every VM and vCPU is created before the run. Each vCPU thread pins itself to the set of
//! the scenario's cores (Linux places and balances it among them), joins its VM's cgroup
//! (or takes the nice value of its weight when no cgroup is writable), sleeps until its
//! VM's arrival (`clock_nanosleep` on an absolute time, timer slack 1 ns) and then runs the
//! guest until its done exit. The guest program is the replay's: with `--work tsc` it
//! spins until it has run its demand, a TSC stall longer than the gap being time the
//! thread was not on the core.
//!
//! Measured per vCPU, from its wake-up at the arrival to its done exit: the thread's CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`), its run-queue wait (`run_delay` of
//! `/proc/thread-self/schedstat`), its involuntary context switches (`getrusage`); per VM,
//! its group's throttled time (`cpu.stat`). The calling thread watches the time limit and
//! interrupts (SIGINT/SIGTERM stop the run in order: the threads are kicked out of their
//! guests, joined, and the cgroups removed).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;
use sim::{SimTime, VmRecord};

use super::cgroup::HostGroups;
use super::replay::ReplayResult;
use super::vm::{GuestVm, Vcpu};
use super::{Kicker, set_kick_target};
use crate::error::Error;
use crate::exits::{Action, classify};
use crate::host_sched::{GroupSettings, nice_for_weight};
use crate::plan::VmPlan;

/// Settings of a host-scheduler run.
#[derive(Clone, Debug)]
pub struct HostRunConfig {
    /// Host cores of the pCPUs (every vCPU thread may run on any of them).
    pub cores: Vec<usize>,
    /// CPUs for the calling thread, which watches the run (empty: unpinned).
    pub housekeeping: Vec<usize>,
    /// A vCPU thread that used this much CPU time without finishing stops the run.
    pub timeout: Duration,
    /// The parent cgroup gets the largest weight (other processes get little of the
    /// cores); with nice values instead, ignored.
    pub boost: bool,
    /// Period of the caps, µs.
    pub cap_period_us: u64,
    /// Use nice values even when a cgroup is writable (tests, comparisons).
    pub force_nice: bool,
}

/// What a host-scheduler run measured.
#[derive(Clone, Debug, Default)]
pub struct HostRun {
    /// The VMs as the replay reports them (no slices: Linux does not tell).
    pub result: ReplayResult,
    /// How weights and caps were applied.
    pub weighting: String,
}

/// What one vCPU thread measured.
#[derive(Clone, Copy, Debug, Default)]
struct VcpuOut {
    woke: Option<Instant>,
    first_run: Option<Instant>,
    finish: Option<Instant>,
    cpu: Duration,
    run_delay: Duration,
    preemptions: u64,
    exits: u64,
    usage: crate::interference::Usage,
}

/// Set by SIGINT/SIGTERM during a run.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// SIGINT and SIGTERM set [`INTERRUPTED`] while this lives (the previous handlers are put
/// back when it is dropped).
struct InterruptGuard {
    old: [(libc::c_int, libc::sigaction); 2],
}

impl InterruptGuard {
    fn install() -> InterruptGuard {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let mut old: [(libc::c_int, libc::sigaction); 2] =
            // SAFETY: sigaction is plain data; zeroed is a valid "default" value.
            unsafe { [(libc::SIGINT, std::mem::zeroed()), (libc::SIGTERM, std::mem::zeroed())] };
        for (sig, prev) in &mut old {
            // SAFETY: as in `install_kick_handler`: a handler of the `sa_handler` form, valid
            // pointers; the old action is saved to be restored.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_interrupt as *const () as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(*sig, &sa, prev);
            }
        }
        InterruptGuard { old }
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        for (sig, prev) in &self.old {
            // SAFETY: restores the action saved by `install`.
            unsafe {
                libc::sigaction(*sig, prev, std::ptr::null_mut());
            }
        }
    }
}

/// How the weights are applied for a run.
enum Weighting {
    Groups(HostGroups),
    Nice(Vec<i32>),
}

/// Runs `plans` under Linux's scheduler on `cfg.cores`. Refuses caps when no cgroup is
/// writable.
pub fn host_replay(kvm: &Kvm, plans: &[VmPlan], cfg: &HostRunConfig) -> Result<HostRun, Error> {
    if cfg.cores.is_empty() {
        return Err(Error::Host(
            "--host-scheduler needs at least one core".into(),
        ));
    }
    super::install_kick_handler()?;
    if !cfg.housekeeping.is_empty() {
        pin_to_cores(&cfg.housekeeping)?;
    }
    let settings: Vec<GroupSettings> = plans
        .iter()
        .map(|p| GroupSettings::of(&p.request, cfg.cap_period_us))
        .collect();
    let groups = if cfg.force_nice {
        Err("nice values were asked for".to_string())
    } else {
        HostGroups::create(&settings, cfg.boost)
    };
    let (weighting, label) = match groups {
        Ok(g) => {
            let d = g.describe();
            (Weighting::Groups(g), d)
        }
        Err(why) => {
            if let Some(p) = plans.iter().find(|p| p.request.profile.cpu_cap_ppm > 0) {
                return Err(Error::Host(format!(
                    "workload.cpu_cap: VM {} is capped, which needs a writable cgroup `cpu` \
                     controller (CFS quota), and there is none here: {why}",
                    p.request.id
                )));
            }
            let nice: Vec<i32> = settings.iter().map(|s| nice_for_weight(s.weight)).collect();
            (
                Weighting::Nice(nice),
                format!("nice values nearest to the weights (no cgroup: {why})"),
            )
        }
    };
    // Every VM first, on this thread.
    let mut guests: Vec<GuestVm> = Vec::with_capacity(plans.len());
    let mut vcpus: Vec<(usize, Vcpu)> = Vec::new();
    let mut vm_of: Vec<usize> = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let programs: Vec<_> = p.vcpus.iter().map(|v| v.program.clone()).collect();
        let (g, vs) = GuestVm::new(kvm, &programs, p.ws_pages)?;
        guests.push(g);
        vm_of.extend(vs.iter().map(|_| i));
        vcpus.extend(vs.into_iter().map(|v| (i, v)));
    }
    let _interrupt = InterruptGuard::install();
    let stop = AtomicBool::new(false);
    let error: Mutex<Option<Error>> = Mutex::new(None);
    let outs: Vec<Mutex<VcpuOut>> = vcpus.iter().map(|_| Mutex::default()).collect();
    let kickers: Vec<Mutex<Option<(Kicker, libc::clockid_t)>>> =
        vcpus.iter().map(|_| Mutex::new(None)).collect();
    let lead = Duration::from_millis(50 + 2 * vcpus.len() as u64);
    let t0 = Instant::now() + lead;
    let fail = |e: Error| {
        let mut g = error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.is_none() {
            *g = Some(e);
        }
        stop.store(true, Ordering::SeqCst);
    };
    let n = vcpus.len();
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(n);
        for (k, (vm, vcpu)) in vcpus.into_iter().enumerate() {
            let arrival = t0 + Duration::from_nanos(plans[vm].request.arrival.nanos());
            let ctx = ThreadCtx {
                cores: &cfg.cores,
                weighting: &weighting,
                vm,
                arrival,
                stop: &stop,
                out: &outs[k],
                kicker: &kickers[k],
            };
            let fail = &fail;
            let h = std::thread::Builder::new()
                .name(format!("vmsched-vm{vm}"))
                .spawn_scoped(scope, move || {
                    if let Err(e) = vcpu_thread(ctx, vcpu) {
                        fail(e);
                    }
                });
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    fail(Error::Host(format!("cannot start a vCPU thread: {e}")));
                    break;
                }
            }
        }
        // Watch: interrupts, the time limit, the end.
        loop {
            std::thread::sleep(Duration::from_millis(5));
            if INTERRUPTED.load(Ordering::SeqCst) {
                fail(Error::Host("interrupted (the cgroups were removed)".into()));
            }
            let done = handles.iter().all(|h| h.is_finished());
            if done {
                break;
            }
            if !stop.load(Ordering::SeqCst) {
                for (k, slot) in kickers.iter().enumerate() {
                    let clock = lock(slot).map(|x| x.1);
                    if let Some(c) = clock
                        && lock(&outs[k]).finish.is_none()
                        && thread_cpu(c) > cfg.timeout
                    {
                        fail(Error::Timeout {
                            vm: plans[vm_of[k]].request.id,
                            seconds: cfg.timeout.as_secs_f64(),
                            detail: "a vCPU thread ran that long without finishing".into(),
                        });
                    }
                }
            }
            if stop.load(Ordering::SeqCst) {
                for (k, slot) in kickers.iter().enumerate() {
                    if lock(&outs[k]).finish.is_none()
                        && let Some((kick, _)) = *lock(slot)
                    {
                        kick.kick();
                    }
                }
            }
        }
        for h in handles {
            if h.join().is_err() {
                fail(Error::Host("a vCPU thread panicked".into()));
            }
        }
    });
    let wall = Instant::now().saturating_duration_since(t0);
    if let Some(e) = error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return Err(e);
    }
    let outs: Vec<VcpuOut> = outs
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect();
    let mut result = ReplayResult {
        wall,
        ..ReplayResult::default()
    };
    // vCPUs were numbered VM by VM.
    let mut k = 0;
    for (vm, p) in plans.iter().enumerate() {
        let mine = &outs[k..k + p.vcpus.len()];
        k += p.vcpus.len();
        let throttled = match &weighting {
            Weighting::Groups(g) => g.throttled(vm),
            Weighting::Nice(_) => Duration::ZERO,
        };
        result.vms.push(record(p, mine, t0, throttled)?);
        for o in mine {
            result.exits += o.exits;
            result.dispatches += o.preemptions + 1;
            let u = &mut result.executor_usage;
            u.cpu_s += o.usage.cpu_s;
            u.minor_faults += o.usage.minor_faults;
            u.major_faults += o.usage.major_faults;
            u.voluntary_switches += o.usage.voluntary_switches;
            u.involuntary_switches += o.usage.involuntary_switches;
        }
    }
    result.vms.sort_by_key(|r| (r.finish, r.id));
    // vCPUs before their VMs; the cgroups (in `weighting`) go last.
    drop(guests);
    drop(weighting);
    Ok(HostRun {
        result,
        weighting: label,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a vCPU thread needs.
struct ThreadCtx<'a> {
    cores: &'a [usize],
    weighting: &'a Weighting,
    vm: usize,
    arrival: Instant,
    stop: &'a AtomicBool,
    out: &'a Mutex<VcpuOut>,
    kicker: &'a Mutex<Option<(Kicker, libc::clockid_t)>>,
}

fn vcpu_thread(ctx: ThreadCtx<'_>, mut vcpu: Vcpu) -> Result<(), Error> {
    pin_to_cores(ctx.cores)?;
    // SAFETY: gettid has no preconditions; prctl(PR_SET_TIMERSLACK) takes an integer.
    let tid = unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
        libc::gettid()
    };
    match ctx.weighting {
        Weighting::Groups(g) => g.add_thread(ctx.vm, tid)?,
        Weighting::Nice(n) => {
            let nice = n.get(ctx.vm).copied().unwrap_or(0);
            // SAFETY: setpriority takes plain integers.
            if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } != 0 {
                return Err(Error::Host(format!(
                    "cannot set nice {nice} on a vCPU thread: {}",
                    std::io::Error::last_os_error()
                )));
            }
        }
    }
    let mut clock: libc::clockid_t = 0;
    // SAFETY: pthread_self is this live thread; the clock id is written into `clock`.
    unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    *lock(ctx.kicker) = Some((Kicker::current(), clock));
    set_kick_target(vcpu.immediate_exit_ptr());
    let result = run_vcpu(&ctx, &mut vcpu, clock);
    set_kick_target(std::ptr::null_mut());
    lock(ctx.out).usage = super::host_load::thread_usage();
    result
}

fn run_vcpu(ctx: &ThreadCtx<'_>, vcpu: &mut Vcpu, clock: libc::clockid_t) -> Result<(), Error> {
    // Until the arrival: an absolute sleep, interrupted by a kick when the run stops.
    while Instant::now() < ctx.arrival {
        if ctx.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        sleep_until(ctx.arrival);
    }
    let woke = Instant::now();
    let cpu0 = thread_cpu(clock);
    let delay0 = run_delay();
    let nivcsw0 = super::host_load::thread_usage().involuntary_switches;
    lock(ctx.out).woke = Some(woke);
    let mut exits = 0;
    let first = Instant::now();
    lock(ctx.out).first_run = Some(first);
    loop {
        if ctx.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let exit = vcpu.run()?;
        exits += 1;
        match classify(&exit) {
            Action::Done => break,
            Action::Mark(_) => {}
            Action::Kicked => vcpu.clear_immediate_exit(),
            Action::Io(i) => {
                return Err(Error::Guest(format!(
                    "VM index {}: I/O request {i} under --host-scheduler (CPU-bound VMs only)",
                    ctx.vm
                )));
            }
            Action::Fault(m) => return Err(Error::Guest(m)),
        }
    }
    let finish = Instant::now();
    let mut o = lock(ctx.out);
    o.finish = Some(finish);
    o.cpu = thread_cpu(clock).saturating_sub(cpu0);
    o.run_delay = run_delay().saturating_sub(delay0);
    o.preemptions = super::host_load::thread_usage()
        .involuntary_switches
        .saturating_sub(nivcsw0);
    o.exits = exits;
    Ok(())
}

/// The VM's record from its vCPUs' measurements (times from `t0`).
fn record(
    p: &VmPlan,
    outs: &[VcpuOut],
    t0: Instant,
    throttled: Duration,
) -> Result<VmRecord, Error> {
    let r = &p.request;
    let at = |i: Instant| SimTime::from_nanos(i.saturating_duration_since(t0).as_nanos() as u64);
    let ns = |d: Duration| SimTime::from_nanos(d.as_nanos() as u64);
    let missing = || Error::Host(format!("VM {}: a vCPU thread did not finish", r.id));
    let mut woke = None::<Instant>;
    let mut first = None::<Instant>;
    let mut finish = None::<Instant>;
    let (mut cpu, mut delay, mut pre) = (Duration::ZERO, Duration::ZERO, 0u64);
    for o in outs {
        let (w, f, e) = (
            o.woke.ok_or_else(missing)?,
            o.first_run.ok_or_else(missing)?,
            o.finish.ok_or_else(missing)?,
        );
        woke = Some(woke.map_or(w, |x| x.min(w)));
        first = Some(first.map_or(f, |x| x.min(f)));
        finish = Some(finish.map_or(e, |x| x.max(e)));
        cpu = cpu.max(o.cpu);
        delay += o.run_delay;
        pre += o.preemptions;
    }
    let (Some(woke), Some(first), Some(finish)) = (woke, first, finish) else {
        return Err(missing());
    };
    Ok(VmRecord {
        id: r.id,
        host: 0,
        vcpus: r.vcpus,
        memory_mib: r.memory_mib,
        priority: r.priority,
        tenant: r.tenant,
        arrival: r.arrival,
        admission: at(woke).max(r.arrival),
        first_run: at(first).max(r.arrival),
        finish: at(finish),
        service: ns(cpu),
        estimate: r.estimate,
        ready_wait: ns(delay),
        preemptions: u32::try_from(pre).unwrap_or(u32::MAX),
        throttled: ns(throttled),
        minor_faults: p.ws_pages,
        ..VmRecord::default()
    })
}

/// The CPU time of the thread whose CPU clock is `clock`.
fn thread_cpu(clock: libc::clockid_t) -> Duration {
    // SAFETY: a zeroed timespec is valid; clock_gettime writes into it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: as above; an invalid clock (a thread that exited) returns an error, left as 0.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The calling thread's time waiting on a run queue (`/proc/thread-self/schedstat`'s
/// second field, ns; 0 when unreadable).
fn run_delay() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Sleeps until `t` on CLOCK_MONOTONIC (which `Instant` uses on Linux); returns early on a
/// signal.
fn sleep_until(t: Instant) {
    let now = Instant::now();
    let d = t.saturating_duration_since(now);
    // SAFETY: zeroed timespecs are valid; clock_gettime and clock_nanosleep get valid
    // pointers.
    unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
        let total = ts.tv_nsec as u128 + d.as_nanos();
        ts.tv_sec += (total / 1_000_000_000) as libc::time_t;
        ts.tv_nsec = (total % 1_000_000_000) as libc::c_long;
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        );
    }
}

/// Pins the calling thread to the set `cores`.
fn pin_to_cores(cores: &[usize]) -> Result<(), Error> {
    // SAFETY: cpu_set_t is plain data; CPU_SET gets indices below CPU_SETSIZE (checked);
    // sched_setaffinity reads the set.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cores {
            if c >= libc::CPU_SETSIZE as usize {
                return Err(Error::Host(format!("no such CPU {c}")));
            }
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        return Err(Error::Host(format!(
            "cannot pin a vCPU thread to cores {cores:?}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
