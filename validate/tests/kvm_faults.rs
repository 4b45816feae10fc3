//! Guests that never finish or fault are stopped with a clear error, and a replay leaves no
//! thread or file descriptor behind. One test per process state, so it runs alone in its
//! own test binary (the counts are per process).
#![cfg(all(feature = "kvm", target_os = "linux"))]

mod common;

use std::time::{Duration, Instant};

use common::{config, kvm_or_skip, plans, requests};
use validate::codegen::Op;
use validate::kvm::replay::replay;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn timeouts_faults_and_no_leaks() {
    let Some(kvm) = kvm_or_skip("timeouts_faults_and_no_leaks") else {
        return;
    };
    // Warm up once (lazy statics, the signal handler), then count.
    let reqs = requests(&[(0, 10, 0), (0, 10, 0)]);
    let mut cfg = config("fcfs");
    cfg.capacity = u64::MAX;
    replay(&kvm, &plans(&reqs, 1), &cfg).expect("replay");
    let (t0, f0) = (threads(), fds());

    // A normal replay with I/O.
    replay(&kvm, &plans(&reqs, 2), &cfg).expect("replay");
    assert_eq!((threads(), fds()), (t0, f0), "after a normal replay");

    // A guest that never finishes: stopped after the timeout, with a message naming it.
    let mut p = plans(&reqs, 0);
    p[1].vcpus[0].program = vec![Op::Compute { loops: u64::MAX }, Op::Done];
    let mut short = cfg.clone();
    short.timeout = Duration::from_millis(300);
    let t = Instant::now();
    let e = replay(&kvm, &p, &short).expect_err("must time out");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("VM 1: guest did not finish within 0.3 s"),
        "{msg}"
    );
    assert_eq!((threads(), fds()), (t0, f0), "after a timeout");

    // A guest that touches memory it does not have: a fault, reported.
    let mut p = plans(&reqs, 0);
    p[0].vcpus[0].program = vec![
        Op::Touch {
            base: 0x8000_0000,
            pages: 1,
        },
        Op::Done,
    ];
    let e = replay(&kvm, &p, &cfg).expect_err("must fault");
    let msg = e.to_string();
    assert!(msg.starts_with("VM 0 vCPU 0: "), "{msg}");
    eprintln!("fault reported as: {msg}");
    assert_eq!((threads(), fds()), (t0, f0), "after a fault");
}
