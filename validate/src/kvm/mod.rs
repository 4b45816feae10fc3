//! Everything that touches `/dev/kvm` (cargo feature `kvm`, Linux only).

pub mod calibrate;
pub mod cgroup;
pub mod host_load;
pub mod host_run;
pub mod host_slice;
pub mod host_validation;
pub mod replay;
pub mod validation;
pub mod vm;

use std::cell::Cell;
use std::sync::Once;

use kvm_ioctls::Kvm;

use crate::error::Error;

/// Opens `/dev/kvm`, telling apart a missing device from a missing permission.
pub fn open() -> Result<Kvm, Error> {
    match std::fs::metadata("/dev/kvm") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NoDevice),
        _ => {}
    }
    match Kvm::new() {
        Ok(k) => Ok(k),
        Err(e) if e.errno() == libc::EACCES || e.errno() == libc::EPERM => Err(Error::NoPermission),
        Err(e) if e.errno() == libc::ENOENT || e.errno() == libc::ENXIO => Err(Error::NoDevice),
        Err(e) => Err(Error::kvm("open /dev/kvm", e)),
    }
}

thread_local! {
    /// This thread's `kvm_run.immediate_exit`, while it runs a vCPU (null otherwise).
    /// Const-initialised and without destructor, so reading it in a signal handler is a
    /// plain thread-local load.
    static IMMEDIATE_EXIT: Cell<*mut u8> = const { Cell::new(std::ptr::null_mut()) };
}

/// The signal that kicks a thread running a vCPU out of `KVM_RUN`.
pub fn kick_signal() -> libc::c_int {
    libc::SIGRTMIN() + 2
}

extern "C" fn on_kick(_sig: libc::c_int) {
    let p = IMMEDIATE_EXIT.with(|c| c.get());
    if !p.is_null() {
        // SAFETY: the pointer is this thread's live `kvm_run.immediate_exit` byte, set by
        // `set_kick_target` and cleared before the vCPU is dropped; a volatile byte store
        // is async-signal-safe. If the thread is inside KVM_RUN, the signal itself makes it
        // return EINTR; if it is about to enter, `immediate_exit` makes it return at once,
        // so no kick is lost.
        unsafe { std::ptr::write_volatile(p, 1) };
    }
}

/// Installs the kick signal handler (once per process). Without `SA_RESTART`, so that
/// `KVM_RUN` returns `EINTR`.
pub fn install_kick_handler() -> Result<(), Error> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; we then set
        // the handler to an `extern "C" fn(c_int)`, which matches `sa_sigaction` without
        // SA_SIGINFO. sigaction is called with valid pointers.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_kick as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            libc::sigaction(kick_signal(), &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            result = Err(Error::Host(format!(
                "cannot install the kick signal handler: {}",
                std::io::Error::last_os_error()
            )));
        }
    });
    result
}

/// Makes kicks of this thread set `*p` (a vCPU's `immediate_exit`); null to stop.
pub fn set_kick_target(p: *mut u8) {
    IMMEDIATE_EXIT.with(|c| c.set(p));
}

/// A handle to kick one thread.
#[derive(Copy, Clone, Debug)]
pub struct Kicker(libc::pthread_t);

impl Kicker {
    /// The calling thread.
    pub fn current() -> Kicker {
        // SAFETY: pthread_self has no preconditions.
        Kicker(unsafe { libc::pthread_self() })
    }

    /// Sends the kick signal. The thread must still be alive (the replay joins vCPU
    /// threads only after it stopped kicking them).
    pub fn kick(&self) {
        // SAFETY: the pthread_t is of a thread that the caller keeps alive (it is joined
        // only after the last kick); pthread_kill with a valid signal number is sound.
        unsafe {
            libc::pthread_kill(self.0, kick_signal());
        }
    }
}

/// Pins the calling thread to `cpu`.
pub fn pin_current_thread(cpu: usize) -> Result<(), Error> {
    // SAFETY: cpu_set_t is plain data (zeroed = empty set); CPU_SET stays in bounds for
    // cpu < CPU_SETSIZE (checked); sched_setaffinity reads the set we pass.
    let rc = unsafe {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(Error::Host(format!("no such CPU {cpu}")));
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        return Err(Error::Host(format!(
            "cannot pin a thread to CPU {cpu}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// The CPUs this process may run on (its affinity mask), in order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: as in `pin_current_thread`; sched_getaffinity writes into our set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Runs the guest's compute loop natively: `loops` iterations of `dec; jnz`, the very
/// instructions of [`crate::codegen::Op::Compute`].
#[inline(never)]
pub fn native_loop(loops: u64) {
    if loops == 0 {
        return;
    }
    // SAFETY: the asm only decrements a register it owns until zero; it touches no memory
    // and no stack, and declares the register clobbered.
    unsafe {
        std::arch::asm!(
            "2:",
            "dec {c}",
            "jnz 2b",
            c = inout(reg) loops => _,
            options(nomem, nostack),
        );
    }
}

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no memory effects; every x86-64 CPU has it.
    unsafe { std::arch::x86_64::_rdtsc() }
}

/// The TSC frequency, measured against CLOCK_MONOTONIC over `window`.
pub fn tsc_hz(window: std::time::Duration) -> f64 {
    let t0 = std::time::Instant::now();
    let c0 = rdtsc();
    std::thread::sleep(window);
    let c1 = rdtsc();
    let dt = t0.elapsed().as_secs_f64();
    c1.wrapping_sub(c0) as f64 / dt.max(1e-9)
}

/// Raises the calling thread to nice −20 (Linux nice values are per thread), so that other
/// processes on its core get about 1 % of it (CFS weights 88761 : 1024) and it wakes up
/// promptly. Unlike SCHED_FIFO, it is not throttled for 50 ms every second.
pub fn boost_current_thread() -> Result<(), Error> {
    // SAFETY: gettid has no preconditions; setpriority takes plain integers.
    let rc = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, -20)
    };
    if rc != 0 {
        return Err(Error::Host(format!(
            "cannot raise a thread running vCPUs to nice -20 (--boost): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
