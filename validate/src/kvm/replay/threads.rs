//! The threads of a replay: the coordinator (the calling thread), one executor per pCPU
//! and the vCPU slice it runs, the device thread and the reaper.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use kvm_ioctls::Kvm;

use super::super::vm::{GuestVm, Vcpu};
use super::super::{Kicker, pin_current_thread, set_kick_target};
use super::state::Sched;
use super::{DeviceMode, Flags, IDLE_POLL, IoReq, Signals, SliceStop, fail, lock};
use crate::error::Error;
use crate::exits::{Action, classify};

/// The coordinator: creates the VMs, waits for the executors, then takes the decisions
/// that fall due while the executors are in guests, until the last VM finishes.
pub(super) fn coordinate(
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
            let next = s.next_deadline(now);
            s.coordinator_wakes = Some(next);
            next
        };
        // Woken early when the replay finishes or fails.
        match wake.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

/// An executor: runs the vCPUs the scheduler gives pCPU `p`, on its core.
pub(super) fn executor(kvm: &Kvm, sched: &Mutex<Sched<'_>>, sig: &Signals, p: usize) {
    let (core, boost, spin) = {
        let s = lock(sched);
        (s.cfg.cores[p], s.cfg.boost, !s.cfg.housekeeping.is_empty())
    };
    if let Err(e) = pin_current_thread(core) {
        fail(sched, sig, e);
        return;
    }
    if boost && let Err(e) = super::super::boost_current_thread() {
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
    let used = super::super::host_load::thread_usage();
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
pub(super) fn run_slice(
    vcpu: &mut Vcpu,
    flags: &Flags,
    sig: &Signals,
) -> (Instant, SliceStop, u64) {
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

/// Pins the calling thread to any CPU of `set` (best effort).
pub(super) fn pin_to_set(set: &[usize]) {
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

pub(super) fn tempfile_in(dir: &std::path::Path) -> std::io::Result<File> {
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
pub(super) fn reaper(sig: &Signals, rx: Receiver<GuestVm>) {
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

pub(super) fn device_thread(
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
