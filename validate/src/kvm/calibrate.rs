//! Calibration micro-benchmarks on real KVM, each repeated and summarised as a [`Stat`].
//!
//! The machine's speed drifts (10–20 % over tens of seconds on a shared host), so the loop
//! rate is measured as interleaved native/guest pairs, and [`same_window_rate`] measures the
//! native rate again right before each replay.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;
use sim::{HeadOfLine, SimTime};

use super::replay::{DeviceMode, ReplayConfig, replay};
use super::vm::{GuestVm, Vcpu};
use super::{Kicker, native_loop, pin_current_thread, set_kick_target};
use crate::codegen::Op;
use crate::error::Error;
use crate::exits::{Action, classify};
use crate::plan::{VcpuPlan, VmPlan};
use crate::profile::{HostInfo, Profile, Stat};

/// Settings of a calibration.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// Host CPU the vCPU (and native loops) run on.
    pub core: usize,
    /// CPUs for the helper threads (empty: unpinned).
    pub housekeeping: Vec<usize>,
    /// Repetitions of each measurement.
    pub reps: usize,
    /// Length of one loop-rate measurement.
    pub rate_window: Duration,
    /// Run the measuring threads under nice −20.
    pub boost: bool,
    /// Folder for the device file benchmark.
    pub tmp_dir: std::path::PathBuf,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            core: 0,
            housekeeping: Vec::new(),
            reps: 11,
            rate_window: Duration::from_millis(50),
            boost: false,
            tmp_dir: std::env::temp_dir(),
        }
    }
}

/// Runs `f` on a fresh thread pinned to `core` (nice −20 if `boost`) and returns its
/// result. The thread is joined before returning.
fn on_core<T: Send + 'static>(
    core: usize,
    boost: bool,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let h = std::thread::Builder::new()
        .name("vmsched-calibrate".into())
        .spawn(move || {
            pin_current_thread(core)?;
            if boost {
                super::boost_current_thread()?;
            }
            f()
        })
        .map_err(|e| Error::Host(format!("cannot start a calibration thread: {e}")))?;
    h.join()
        .map_err(|_| Error::Host("a calibration thread panicked".into()))?
}

/// Loop iterations that take about `window` at `rate`.
fn loops_in(window: Duration, rate: f64) -> u64 {
    (window.as_secs_f64() * rate).max(1000.0) as u64
}

/// Times the native loop: iterations per second over about `window`, median of 3.
fn native_rate(window: Duration) -> f64 {
    // A first guess from a short run, then the measurement.
    let t = Instant::now();
    native_loop(1_000_000);
    let guess = 1e6 / t.elapsed().as_secs_f64().max(1e-9);
    let n = loops_in(window / 3, guess);
    let mut v: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            native_loop(n);
            n as f64 / t.elapsed().as_secs_f64().max(1e-9)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[1]
}

/// Runs a single-vCPU guest to its `done` port write, counting marks; returns the time
/// spent in `KVM_RUN` calls and the number of marks.
fn run_to_done(vcpu: &mut Vcpu) -> Result<(Duration, u64), Error> {
    let t = Instant::now();
    let mut marks = 0;
    loop {
        match classify(&vcpu.run()?) {
            Action::Done => return Ok((t.elapsed(), marks)),
            Action::Mark(_) => marks += 1,
            Action::Kicked => {
                vcpu.clear_immediate_exit();
            }
            Action::Io(_) => {}
            Action::Fault(m) => return Err(Error::Guest(m)),
        }
    }
}

/// The native loop rate measured now on `core` (iterations per second): what
/// [`crate::plan::Work::Loops`] should be derived from right before a replay.
pub fn same_window_rate(core: usize, boost: bool, window: Duration) -> Result<f64, Error> {
    on_core(core, boost, move || Ok(native_rate(window)))
}

/// Measures everything; `progress` is told the name of each step as it starts.
pub fn calibrate(
    kvm: &Kvm,
    opts: &CalibrateOptions,
    mut progress: impl FnMut(&str),
) -> Result<Profile, Error> {
    super::install_kick_handler()?;
    let reps = opts.reps.max(3);
    let mut p = Profile::default();

    progress("loop rate (native and guest, interleaved)");
    let window = opts.rate_window;
    let kvm_fd = kvm_dup(kvm)?;
    let (native, guest) = on_core(opts.core, opts.boost, move || {
        let kvm = kvm_fd;
        let mut native = Vec::new();
        let mut guest = Vec::new();
        let mut rate = native_rate(window);
        for _ in 0..reps {
            let n = loops_in(window, rate);
            let (_g, mut vcpus) =
                GuestVm::new(&kvm, &[vec![Op::Compute { loops: n }, Op::Done]], 0)?;
            let (d, _) = run_to_done(&mut vcpus[0])?;
            guest.push(n as f64 / d.as_secs_f64().max(1e-9));
            rate = native_rate(window);
            native.push(rate);
        }
        Ok((native, guest))
    })?;
    p.native_loop_rate = Stat::of(&native);
    p.guest_loop_rate = Stat::of(&guest);
    let ratios: Vec<f64> = guest.iter().zip(&native).map(|(g, n)| g / n).collect();
    p.cpu_speed = Stat::of(&ratios);

    progress("exit round trip");
    let kvm_fd = kvm_dup(kvm)?;
    p.exit_round_trip_us = Stat::of(&on_core(opts.core, opts.boost, move || {
        let kvm = kvm_fd;
        let count = 2000u64;
        let mut v = Vec::new();
        for _ in 0..reps {
            // One entry and one done exit amortised over `count` marks.
            let (_g, mut vcpus) = GuestVm::new(&kvm, &[vec![Op::Mark { value: 0, count }]], 0)?;
            let (d, marks) = run_to_done(&mut vcpus[0])?;
            v.push(d.as_secs_f64() * 1e6 / (marks.max(1) as f64));
        }
        Ok(v)
    })?);

    progress("first touch");
    let kvm_fd = kvm_dup(kvm)?;
    let (fresh, pre, first) = on_core(opts.core, opts.boost, move || {
        let kvm = kvm_fd;
        let mut fresh = Vec::new();
        let mut pre = Vec::new();
        let mut first = Vec::new();
        for _ in 0..reps {
            let (f, d0) = first_touch_once(&kvm, 2048, false)?;
            fresh.push(f);
            first.push(d0);
            pre.push(first_touch_once(&kvm, 2048, true)?.0);
        }
        Ok((fresh, pre, first))
    })?;
    p.first_touch_us = Stat::of(&fresh);
    p.first_touch_prefaulted_us = Stat::of(&pre);
    p.vm_first_run_us = Stat::of(&first);

    progress("VM create and destroy");
    let mut create = Vec::new();
    let mut destroy = Vec::new();
    for _ in 0..reps * 3 {
        let t = Instant::now();
        let (g, vcpus) = GuestVm::new(kvm, &[vec![Op::Done]], 0)?;
        create.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        drop(vcpus);
        drop(g);
        destroy.push(t.elapsed().as_secs_f64() * 1e6);
    }
    p.vm_create_us = Stat::of(&create);
    p.vm_destroy_us = Stat::of(&destroy);

    progress("kick latency");
    p.kick_latency_us = Stat::of(&kick_latency(kvm, opts, reps * 3)?);

    progress("vCPU switch (two VMs, rr, 2 ms quantum)");
    p.vcpu_switch_us = Stat::of(&switch_cost(kvm, opts, p.native_loop_rate.median)?);
    progress("vCPU switch at I/O (two VMs, fcfs, 0.5 ms bursts)");
    p.vcpu_switch_io_us = Stat::of(&io_switch_cost(kvm, opts, p.native_loop_rate.median)?);

    progress("host scheduler slice and switch (two spinning threads on one core)");
    let (mut slices, mut switches) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let (s, w) =
            super::host_slice::measure_once(opts.core, opts.boost, Duration::from_millis(200))?;
        slices.extend(s);
        switches.extend(w);
    }
    p.host_slice_us = Stat::of(&slices);
    p.host_switch_us = Stat::of(&switches);

    progress("device service time");
    let nominal = Duration::from_micros(500);
    p.device_nominal_us = nominal.as_secs_f64() * 1e6;
    let mut sleep = Vec::new();
    for _ in 0..reps * 3 {
        let t = Instant::now();
        std::thread::sleep(nominal);
        sleep.push(t.elapsed().as_secs_f64() * 1e6);
    }
    p.device_sleep_us = Stat::of(&sleep);
    p.device_file_us = Stat::of(&file_service(&opts.tmp_dir, reps * 3)?);

    p.host = host_info(opts);
    Ok(p)
}

/// One first-touch measurement, µs per page: a VM touching `pages` 4 KiB pages of its
/// working set (fresh host memory, or pre-populated with `prefault`) against the same VM
/// without the touches; and that baseline, the first run of a fresh VM (entry + done
/// exit), µs.
fn first_touch_once(kvm: &Kvm, pages: u64, prefault: bool) -> Result<(f64, f64), Error> {
    let prog = vec![
        Op::Touch {
            base: crate::layout::WORKING_SET_BASE,
            pages,
        },
        Op::Done,
    ];
    let empty = vec![Op::Done];
    let (_b, mut base) = GuestVm::new(kvm, std::slice::from_ref(&empty), pages)?;
    let (d0, _) = run_to_done(&mut base[0])?;
    let (g, mut vc) = GuestVm::new(kvm, std::slice::from_ref(&prog), pages)?;
    if prefault {
        g.prefault()?;
    }
    let (d, _) = run_to_done(&mut vc[0])?;
    Ok((
        (d.saturating_sub(d0)).as_secs_f64() * 1e6 / pages.max(1) as f64,
        d0.as_secs_f64() * 1e6,
    ))
}

/// The first-touch cost of fresh guest pages measured now on `core`, µs per page, over
/// `reps` VMs of `pages` pages each (for a replay: at its working-set size and in its time
/// window; the cost per page varies with both on a paravirtualised host), and the first
/// run of a fresh VM, µs.
pub fn same_window_first_touch(
    core: usize,
    boost: bool,
    pages: u64,
    reps: usize,
) -> Result<(Stat, Stat), Error> {
    let kvm = super::open()?;
    let v = on_core(core, boost, move || {
        (0..reps.max(1))
            .map(|_| first_touch_once(&kvm, pages.max(1), false))
            .collect::<Result<Vec<(f64, f64)>, Error>>()
    })?;
    let touch: Vec<f64> = v.iter().map(|x| x.0).collect();
    let first: Vec<f64> = v.iter().map(|x| x.1).collect();
    Ok((Stat::of(&touch), Stat::of(&first)))
}

/// The vCPU switch cost with a kick measured now (two VMs under rr with a 2 ms quantum for
/// 0.3 s, as in [`calibrate`]), µs per switch.
pub fn same_window_switch(kvm: &Kvm, opts: &CalibrateOptions) -> Result<Stat, Error> {
    let rate = same_window_rate(opts.core, opts.boost, Duration::from_millis(50))?;
    Ok(Stat::of(&switch_cost(kvm, opts, rate)?))
}

/// The switch cost without a kick (at I/O), measured now as in [`calibrate`], µs.
pub fn same_window_io_switch(kvm: &Kvm, opts: &CalibrateOptions) -> Result<Stat, Error> {
    let rate = same_window_rate(opts.core, opts.boost, Duration::from_millis(50))?;
    Ok(Stat::of(&io_switch_cost(kvm, opts, rate)?))
}

/// A second handle on `/dev/kvm` that can move to another thread.
fn kvm_dup(_kvm: &Kvm) -> Result<Kvm, Error> {
    super::open()
}

/// Kicks a vCPU running a long loop, `n` times, and times signal → `KVM_RUN` return.
fn kick_latency(kvm: &Kvm, opts: &CalibrateOptions, n: usize) -> Result<Vec<f64>, Error> {
    let (_g, mut vcpus) = GuestVm::new(kvm, &[vec![Op::Compute { loops: u64::MAX }]], 0)?;
    let Some(mut vcpu) = vcpus.pop() else {
        return Err(Error::Host("no vCPU".into()));
    };
    let (ktx, krx) = mpsc::channel::<Kicker>();
    let (etx, erx) = mpsc::channel::<Instant>();
    let (gotx, gorx) = mpsc::channel::<bool>();
    let core = opts.core;
    let boost_it = opts.boost;
    let h = std::thread::Builder::new()
        .name("vmsched-kick".into())
        .spawn(move || -> Result<(), Error> {
            pin_current_thread(core)?;
            if boost_it {
                super::boost_current_thread()?;
            }
            set_kick_target(vcpu.immediate_exit_ptr());
            let _ = ktx.send(Kicker::current());
            while let Ok(true) = gorx.recv() {
                loop {
                    match classify(&vcpu.run()?) {
                        Action::Kicked => {
                            let _ = etx.send(Instant::now());
                            vcpu.clear_immediate_exit();
                            break;
                        }
                        Action::Fault(m) => {
                            set_kick_target(std::ptr::null_mut());
                            return Err(Error::Guest(m));
                        }
                        _ => {}
                    }
                }
            }
            set_kick_target(std::ptr::null_mut());
            Ok(())
        })
        .map_err(|e| Error::Host(format!("cannot start a thread: {e}")))?;
    let kicker = krx
        .recv()
        .map_err(|_| Error::Host("the kick thread died".into()))?;
    let mut v = Vec::new();
    for _ in 0..n {
        let _ = gotx.send(true);
        // Let the guest get well into its loop.
        std::thread::sleep(Duration::from_millis(3));
        let t = Instant::now();
        kicker.kick();
        match erx.recv_timeout(Duration::from_secs(2)) {
            Ok(at) => v.push(at.saturating_duration_since(t).as_secs_f64() * 1e6),
            Err(_) => break,
        }
    }
    let _ = gotx.send(false);
    drop(gotx);
    h.join()
        .map_err(|_| Error::Host("the kick thread panicked".into()))??;
    Ok(v)
}

/// Two CPU-bound VMs under rr with a 2 ms quantum on one pCPU; the gaps between
/// consecutive slices are the switch cost.
fn switch_cost(kvm: &Kvm, opts: &CalibrateOptions, rate: f64) -> Result<Vec<f64>, Error> {
    let rate = if rate > 0.0 { rate } else { 2e9 };
    let loops = (0.15 * rate) as u64;
    let mk = |id: u64| {
        let mut r = workloads::textbook::Process::to_vm_requests(&[workloads::textbook::Process {
            name: format!("S{id}"),
            arrival: SimTime::ZERO,
            burst: SimTime::from_millis(150),
            priority: 0,
            weight: None,
        }])
        .remove(0);
        r.id = id;
        VmPlan {
            request: r,
            vcpus: vec![VcpuPlan {
                program: vec![Op::Compute { loops }, Op::Done],
                io: Vec::new(),
            }],
            ws_pages: 0,
        }
    };
    switch_gaps_us(kvm, opts, &[mk(0), mk(1)], "rr", Duration::from_millis(2))
}

/// Two VMs under fcfs on one pCPU, each alternating 0.5 ms of work with 100 I/O requests
/// served at once: the other VM is ready whenever one stops, so the gaps between
/// consecutive slices of different VMs are the cost of a switch without a kick.
fn io_switch_cost(kvm: &Kvm, opts: &CalibrateOptions, rate: f64) -> Result<Vec<f64>, Error> {
    let rate = if rate > 0.0 { rate } else { 2e9 };
    let loops = (0.0005 * rate) as u64;
    let requests = 100u32;
    let mk = |id: u64| {
        let mut r = workloads::textbook::Process::to_vm_requests(&[workloads::textbook::Process {
            name: format!("S{id}"),
            arrival: SimTime::ZERO,
            burst: SimTime::from_millis(50),
            priority: 0,
            weight: None,
        }])
        .remove(0);
        r.id = id;
        let mut program = Vec::new();
        for i in 0..requests {
            program.push(Op::Compute { loops });
            program.push(Op::Io { index: i });
        }
        program.push(Op::Done);
        VmPlan {
            request: r,
            vcpus: vec![VcpuPlan {
                program,
                io: vec![Duration::ZERO; requests as usize],
            }],
            ws_pages: 0,
        }
    };
    switch_gaps_us(
        kvm,
        opts,
        &[mk(0), mk(1)],
        "fcfs",
        Duration::from_millis(100),
    )
}

/// Replays `plans` on one core under `cpu` and returns the gaps (µs) between a slice of
/// one VM and the next slice of another: the cost of switching between their vCPUs.
fn switch_gaps_us(
    kvm: &Kvm,
    opts: &CalibrateOptions,
    plans: &[VmPlan],
    cpu: &str,
    quantum: Duration,
) -> Result<Vec<f64>, Error> {
    let cfg = ReplayConfig {
        cpu_params: None,
        aging_per_s: 0.0,
        admission: "fcfs".into(),
        cpu: cpu.into(),
        head_of_line: HeadOfLine::Strict,
        quantum,
        cores: vec![opts.core],
        housekeeping: opts.housekeeping.clone(),
        capacity: u64::MAX,
        timeout: Duration::from_secs(10),
        device: DeviceMode::Sleep,
        precreate: true,
        boost: opts.boost,
    };
    let r = replay(kvm, plans, &cfg)?;
    let mut slices = r.slices;
    slices.sort_by_key(|s| s.start);
    Ok(slices
        .windows(2)
        .filter(|w| w[0].vm != w[1].vm)
        .map(|w| w[1].start.saturating_sub(w[0].end).as_secs_f64() * 1e6)
        .collect())
}

/// Times `n` 4 KiB writes + fdatasync to an unlinked temporary file in `dir`.
fn file_service(dir: &std::path::Path, n: usize) -> Result<Vec<f64>, Error> {
    use std::io::Write;
    let path = dir.join(format!(".vmsched-calibrate-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::Host(format!("{}: {e}", path.display())))?;
    let _ = std::fs::remove_file(&path);
    let buf = [0x5au8; 4096];
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&buf)
            .and_then(|()| f.sync_data())
            .map_err(|e| Error::Host(format!("device file write: {e}")))?;
        v.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Ok(v)
}

fn host_info(opts: &CalibrateOptions) -> HostInfo {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu_model = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    HostInfo {
        hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
        cpu_model,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        core: opts.core as u64,
        boost: opts.boost,
        measured_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}
