//! `mlfq` through the engine with I/O: OSTEP's "gaming" job that gives up the pCPU just
//! before its quantum ends, under the two demotion rules, and the priority boost.

use sim::observer::Collect;
use sim::{
    Demote, DeviceKind, DeviceSpec, IoBursts, IoProfile, MlfqSpec, SimConfig, SimTime,
    VirtualDevice, VmProfile, VmRequest, simulate,
};

fn ms(x: u64) -> SimTime {
    SimTime::from_millis(x)
}

fn vm(id: u64, demand_ms: u64, io: Option<IoProfile>) -> VmRequest {
    VmRequest {
        id,
        arrival: SimTime::ZERO,
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: ms(demand_ms),
        estimate: ms(demand_ms),
        tenant: None,
        profile: VmProfile {
            io,
            ..VmProfile::default()
        },
    }
}

/// One pCPU, 10 ms quanta on 2 levels; A computes 100 ms; G computes 18 ms in two bursts
/// of 9 ms with one 2 ms disk request between them (passthrough: no exit cost). Returns
/// the finish times of A and G in ms.
fn gaming(demote: Demote, boost: Option<SimTime>) -> (u64, u64) {
    let mut cfg = SimConfig::textbook("mlfq", ms(10));
    cfg.cluster.hosts[0].resources.devices = vec![DeviceSpec {
        kind: DeviceKind::Disk,
        bandwidth_bytes_per_s: 1e9,
        latency: ms(2),
        channels: 1,
    }];
    cfg.cpu.mlfq = MlfqSpec {
        levels: 2,
        quantum_growth: 1.0,
        demote,
        boost,
    };
    let io = IoProfile {
        bursts: IoBursts::Count(1),
        size_mean_bytes: 0.0,
        device: DeviceKind::Disk,
        virtual_device: VirtualDevice::Passthrough,
    };
    let mut c = Collect::default();
    simulate(&cfg, vec![vm(0, 100, None), vm(1, 18, Some(io))], &mut c).unwrap();
    c.vms.sort_by_key(|r| r.id);
    let f = |i: usize| c.vms[i].finish.nanos() / 1_000_000;
    (f(0), f(1))
}

/// `demote = "contended"` (the textbooks' FB): A 0–10 (quantum used up, G waiting: A goes
/// down), G 10–19 (blocks after 9 ms: keeps level 0), A 19–29 (G woke at 21 but waits for
/// the quantum), G 29–38 (done), A 38–118 alone. G never leaves the top level.
#[test]
fn contended_demotion_lets_a_job_that_blocks_keep_its_level() {
    assert_eq!(gaming(Demote::Contended, None), (118, 38));
}

/// `demote = "always"` (OSTEP's allotment): G has used 9 ms of its 10 ms allotment at
/// level 0 when it blocks, so at 29 it gets 1 ms (29–30) and goes down; A (level 1 since
/// 10, ready since 29) runs 30–40, then G 40–48 (done), A 48–118.
#[test]
fn always_demotion_charges_the_allotment_across_blocking() {
    assert_eq!(gaming(Demote::Always, None), (118, 48));
}

/// A boost every 25 ms under `always`: at 29 G's level was set before the boost at 25,
/// so G competes on top and is reset to a fresh allotment when dispatched: G 29–38
/// (done), as without the allotment rule.
#[test]
fn a_boost_gives_back_the_top_level() {
    assert_eq!(gaming(Demote::Always, Some(ms(25))), (118, 38));
}
