//! A workload turned into guest programs: what each vCPU of each VM executes on KVM.
//!
//! A VM's CPU demand (per vCPU) becomes a calibrated loop count (`demand × loops_per_s`).
//! With I/O, the demand is split into `n + 1` equal compute bursts separated by n
//! port-write I/O requests that the VMM's device serves in `io_service`. With a working
//! set, each vCPU first touches its share of the working set, one write per 4 KiB page.
//!
//! The I/O count and the working set come from the request's own profile
//! (`[workload] io = { requests = n }` and `memory = { working_set_gib }`, as the simulator
//! sees them); [`PlanOptions::io_per_vcpu`] and [`PlanOptions::touch_pages`] apply to
//! requests without one. [`check`] refuses what the replay cannot reproduce.

use std::time::Duration;

use sim::{IoBursts, IoProfile, SimTime, VmRequest};

use crate::codegen::{Op, Program};
use crate::layout;

/// How CPU demand becomes guest work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Work {
    /// A calibrated loop count ([`Op::Compute`]): `demand × loops_per_s` iterations. Takes
    /// longer or shorter when the core's speed changes (turbo, a busy SMT sibling).
    Loops {
        /// Guest loop iterations per second of demand (from calibration, measured in the
        /// same window as the run).
        loops_per_s: f64,
    },
    /// Running time measured with the TSC ([`Op::Spin`]): `demand × ticks_per_s` ticks of
    /// running, whatever the core's speed.
    Tsc {
        /// TSC frequency.
        ticks_per_s: f64,
        /// Largest TSC increment counted as running.
        gap_ticks: u32,
    },
}

/// How to turn requests into programs.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOptions {
    /// How CPU demand becomes guest work.
    pub work: Work,
    /// Working set each VM without a memory profile touches once at its start, in 4 KiB
    /// pages (0 = none).
    pub touch_pages: u64,
    /// I/O requests per vCPU of a VM without an I/O profile (0 = CPU-bound).
    pub io_per_vcpu: u32,
    /// Device service time of one I/O request.
    pub io_service: Duration,
}

/// The program of one vCPU and its I/O requests' service times.
#[derive(Clone, Debug, PartialEq)]
pub struct VcpuPlan {
    /// The guest program.
    pub program: Program,
    /// Service time of I/O request `i` (the value the guest writes to the I/O port).
    pub io: Vec<Duration>,
}

/// One VM to replay.
#[derive(Clone, Debug, PartialEq)]
pub struct VmPlan {
    /// The request as the simulator sees it (arrival, demand, estimate, priority, …).
    pub request: VmRequest,
    /// One entry per vCPU.
    pub vcpus: Vec<VcpuPlan>,
    /// Working-set pages of 4 KiB the VM's memory must hold.
    pub ws_pages: u64,
}

/// Loop count for `demand` at `loops_per_s` (rounded to the nearest iteration).
pub fn loops_for(demand: SimTime, loops_per_s: f64) -> u64 {
    let l = (demand.as_secs_f64() * loops_per_s).round();
    if l.is_finite() && l > 0.0 {
        l.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// I/O requests per vCPU and working-set pages of `r`: from its profile, else the options.
fn io_and_pages(r: &VmRequest, opts: &PlanOptions) -> (u32, u64) {
    let io = match r.profile.io {
        Some(IoProfile {
            bursts: IoBursts::Count(n),
            ..
        }) => n,
        // Refused by `check`; nothing to replay.
        Some(_) => 0,
        None => opts.io_per_vcpu,
    };
    let pages = match r.profile.memory {
        Some(m) => m.working_set_mib.saturating_mul(256),
        None => opts.touch_pages,
    };
    (io, pages)
}

/// Checks that the replay can reproduce `requests`: I/O as a fixed count of requests per
/// vCPU (`io = { requests = n }`; exponential bursts would need the simulator's random
/// draws), of size 0 (the service time is the device's latency). The message names the
/// first offending VM.
pub fn check(requests: &[VmRequest]) -> Result<(), String> {
    for r in requests {
        if let Some(io) = r.profile.io {
            if !matches!(io.bursts, IoBursts::Count(_)) {
                return Err(format!(
                    "VM {}: the KVM replay needs a fixed number of I/O requests: use \
                     `[workload] io = {{ requests = n }}` instead of `burst_ms`",
                    r.id
                ));
            }
            if io.size_mean_bytes > 0.0 {
                return Err(format!(
                    "VM {}: the KVM replay serves every request in the same time: set \
                     `[workload] io` `size_kib = 0` and put the service time in the \
                     device's `latency_us`",
                    r.id
                ));
            }
        }
    }
    Ok(())
}

/// Builds the plans of `requests` (one per request, same order).
pub fn build(requests: &[VmRequest], opts: &PlanOptions) -> Vec<VmPlan> {
    requests.iter().map(|r| build_one(r, opts)).collect()
}

fn build_one(r: &VmRequest, opts: &PlanOptions) -> VmPlan {
    let n = r.vcpus.max(1);
    let total_loops = match opts.work {
        Work::Loops { loops_per_s } => loops_for(r.demand, loops_per_s),
        Work::Tsc { ticks_per_s, .. } => loops_for(r.demand, ticks_per_s),
    };
    let (io_per_vcpu, touch_pages) = io_and_pages(r, opts);
    let bursts = u64::from(io_per_vcpu) + 1;
    let per_vcpu_pages = touch_pages.div_ceil(u64::from(n));
    let vcpus = (0..n)
        .map(|i| {
            let mut program = Vec::new();
            if per_vcpu_pages > 0 {
                program.push(Op::Touch {
                    base: layout::WORKING_SET_BASE + u64::from(i) * per_vcpu_pages * 4096,
                    pages: per_vcpu_pages,
                });
            }
            let mut io = Vec::new();
            for b in 0..bursts {
                // Equal bursts; the first ones take the remainder.
                let loops = total_loops / bursts + u64::from(b < total_loops % bursts);
                program.push(match opts.work {
                    Work::Loops { .. } => Op::Compute { loops },
                    Work::Tsc { gap_ticks, .. } => Op::Spin {
                        ticks: loops,
                        gap: gap_ticks,
                    },
                });
                if b + 1 < bursts {
                    program.push(Op::Io { index: b as u32 });
                    io.push(opts.io_service);
                }
            }
            program.push(Op::Done);
            VcpuPlan { program, io }
        })
        .collect();
    VmPlan {
        request: r.clone(),
        vcpus,
        ws_pages: per_vcpu_pages * u64::from(n),
    }
}

/// Multiplies every time of `requests` (arrival, demand, estimate) by `factor`, so that a
/// scenario of minutes replays in seconds. Other fields are kept.
pub fn scale(requests: &[VmRequest], factor: f64) -> Vec<VmRequest> {
    let s = |t: SimTime| SimTime::from_secs_f64(t.as_secs_f64() * factor).unwrap_or(SimTime::MAX);
    requests
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.arrival = s(r.arrival);
            r.demand = s(r.demand);
            r.estimate = s(r.estimate);
            r
        })
        .collect()
}

/// The factor that makes the total CPU demand of `requests` (Σ demand × vCPUs) last
/// `target` on `pcpus` pCPUs, or 1 if it is already shorter.
pub fn auto_scale(requests: &[VmRequest], pcpus: u32, target: Duration) -> f64 {
    let work: f64 = requests
        .iter()
        .map(|r| r.demand.as_secs_f64() * f64::from(r.vcpus.max(1)))
        .sum::<f64>()
        / f64::from(pcpus.max(1));
    if work > target.as_secs_f64() && work > 0.0 {
        target.as_secs_f64() / work
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: u64, demand_ms: u64, vcpus: u32) -> VmRequest {
        let mut r = workloads::textbook::Process::to_vm_requests(&[workloads::textbook::Process {
            name: "P".into(),
            arrival: SimTime::from_millis(10 * id),
            burst: SimTime::from_millis(demand_ms),
            priority: 0,
            weight: None,
        }])
        .remove(0);
        r.id = id;
        r.vcpus = vcpus;
        r
    }

    #[test]
    fn cpu_bound_is_one_loop_and_done() {
        let opts = PlanOptions {
            work: Work::Loops { loops_per_s: 2e9 },
            touch_pages: 0,
            io_per_vcpu: 0,
            io_service: Duration::ZERO,
        };
        let p = build(&[req(0, 250, 1)], &opts);
        // 0.25 s × 2e9 loops/s = 5e8 loops.
        assert_eq!(
            p[0].vcpus[0].program,
            vec![Op::Compute { loops: 500_000_000 }, Op::Done]
        );
        assert!(p[0].vcpus[0].io.is_empty());
        assert_eq!(p[0].ws_pages, 0);
    }

    #[test]
    fn io_splits_the_demand_and_touches_come_first() {
        let opts = PlanOptions {
            work: Work::Loops {
                loops_per_s: 1000.0,
            },
            touch_pages: 10,
            io_per_vcpu: 2,
            io_service: Duration::from_millis(3),
        };
        // 10 ms at 1000 loops/s = 10 loops, in 3 bursts: 4, 3, 3; 10 pages over 2 vCPUs: 5 each.
        let p = build(&[req(1, 10, 2)], &opts);
        assert_eq!(p[0].ws_pages, 10);
        assert_eq!(
            p[0].vcpus[1].program,
            vec![
                Op::Touch {
                    base: layout::WORKING_SET_BASE + 5 * 4096,
                    pages: 5
                },
                Op::Compute { loops: 4 },
                Op::Io { index: 0 },
                Op::Compute { loops: 3 },
                Op::Io { index: 1 },
                Op::Compute { loops: 3 },
                Op::Done,
            ]
        );
        assert_eq!(p[0].vcpus[1].io, vec![Duration::from_millis(3); 2]);
    }

    #[test]
    fn tsc_work_spins() {
        let opts = PlanOptions {
            work: Work::Tsc {
                ticks_per_s: 1e9,
                gap_ticks: 20_000,
            },
            touch_pages: 0,
            io_per_vcpu: 0,
            io_service: Duration::ZERO,
        };
        // 250 ms at 1 GHz = 2.5e8 ticks.
        let p = build(&[req(0, 250, 1)], &opts);
        assert_eq!(
            p[0].vcpus[0].program,
            vec![
                Op::Spin {
                    ticks: 250_000_000,
                    gap: 20_000
                },
                Op::Done
            ]
        );
    }

    #[test]
    fn scaling() {
        let r = scale(&[req(2, 1000, 1)], 0.01);
        // arrival 20 ms → 0.2 ms; demand 1 s → 10 ms.
        assert_eq!(r[0].arrival, SimTime::from_micros(200));
        assert_eq!(r[0].demand, SimTime::from_millis(10));
        assert_eq!(r[0].estimate, SimTime::from_millis(10));
        // 3 VMs × 1 s on 1 pCPU into 1.5 s → 0.5.
        let v = vec![req(0, 1000, 1), req(1, 1000, 1), req(2, 1000, 1)];
        assert_eq!(auto_scale(&v, 1, Duration::from_millis(1500)), 0.5);
        assert_eq!(auto_scale(&v, 1, Duration::from_secs(10)), 1.0);
    }

    #[test]
    fn the_requests_profiles_set_io_and_touches() {
        let opts = PlanOptions {
            work: Work::Loops {
                loops_per_s: 1000.0,
            },
            touch_pages: 7,
            io_per_vcpu: 5,
            io_service: Duration::from_millis(2),
        };
        let mut r = req(3, 30, 1);
        r.profile.io = Some(IoProfile {
            bursts: IoBursts::Count(2),
            size_mean_bytes: 0.0,
            device: sim::DeviceKind::Disk,
            virtual_device: sim::VirtualDevice::Virtio,
        });
        r.profile.memory = Some(sim::MemoryProfile {
            working_set_mib: 1,
            touches_per_ms: 0.0,
        });
        // Its own profile wins over the options: 2 requests, 1 MiB = 256 pages; 30 ms at
        // 1000 loops/s = 30 loops in 3 bursts of 10.
        let p = build(std::slice::from_ref(&r), &opts);
        assert_eq!(p[0].ws_pages, 256);
        assert_eq!(
            p[0].vcpus[0].program,
            vec![
                Op::Touch {
                    base: layout::WORKING_SET_BASE,
                    pages: 256
                },
                Op::Compute { loops: 10 },
                Op::Io { index: 0 },
                Op::Compute { loops: 10 },
                Op::Io { index: 1 },
                Op::Compute { loops: 10 },
                Op::Done,
            ]
        );
        assert!(check(std::slice::from_ref(&r)).is_ok());
        // What the replay cannot reproduce is refused, naming the VM.
        let mut sized = r.clone();
        if let Some(io) = &mut sized.profile.io {
            io.size_mean_bytes = 4096.0;
        }
        let e = check(&[sized]).unwrap_err();
        assert!(e.starts_with("VM 3:") && e.contains("size_kib = 0"), "{e}");
        let mut exp = r.clone();
        if let Some(io) = &mut exp.profile.io {
            io.bursts = IoBursts::Exponential(SimTime::from_millis(5));
        }
        let e = check(&[exp]).unwrap_err();
        assert!(e.contains("requests = n"), "{e}");
    }
}
