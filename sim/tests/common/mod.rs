//! Test workloads built directly on rand_distr (independent of the `workloads` crate).
#![allow(dead_code)]

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use sim::observer::Collect;
use sim::rng::{SimRng, purpose, stream};
use sim::{SimConfig, SimTime, VmProfile, VmRecord, VmRequest, simulate};

pub mod random;

/// A service-time sampler in seconds.
pub enum Service {
    Exp(f64),
    LogNormal { mean: f64, cv: f64 },
}

impl Service {
    fn sample(&self, rng: &mut SimRng) -> f64 {
        match *self {
            Service::Exp(mean) => Exp::new(1.0 / mean).unwrap().sample(rng),
            Service::LogNormal { mean, cv } => {
                let s2 = (1.0 + cv * cv).ln();
                LogNormal::new(mean.ln() - s2 / 2.0, s2.sqrt())
                    .unwrap()
                    .sample(rng)
            }
        }
    }
}

/// `n` single-vCPU VMs with Poisson arrivals at `rate` per second; priority class drawn
/// from `classes` with the given probabilities.
pub fn poisson(
    seed: u64,
    n: u64,
    rate: f64,
    service: Service,
    classes: &'static [(i32, f64)],
) -> impl Iterator<Item = VmRequest> {
    let mut arr = stream(seed, 0, purpose::ARRIVALS);
    let mut svc = stream(seed, 0, purpose::SERVICE);
    let mut pri = stream(seed, 0, purpose::PRIORITY);
    let gap = Exp::new(rate).unwrap();
    let mut t = 0.0f64;
    (0..n).map(move |id| {
        t += gap.sample(&mut arr);
        let s = SimTime::from_secs_f64(service.sample(&mut svc)).unwrap();
        let u: f64 = pri.random();
        let mut acc = 0.0;
        let mut priority = classes.last().map_or(0, |c| c.0);
        for &(p, w) in classes {
            acc += w;
            if u < acc {
                priority = p;
                break;
            }
        }
        VmRequest {
            id,
            arrival: SimTime::from_secs_f64(t).unwrap(),
            vcpus: 1,
            memory_mib: 0,
            priority,
            demand: s,
            estimate: s,
            tenant: None,
            profile: Default::default(),
        }
    })
}

/// `s` seconds as simulated time.
pub fn secs(s: f64) -> SimTime {
    SimTime::from_secs_f64(s).unwrap()
}

/// A one-vCPU VM without memory of CPU weight `weight`, arriving at `arrival` s with
/// `demand` s of work (its estimate exact).
pub fn weighted_vm(id: u64, arrival: f64, demand: f64, weight: u32) -> VmRequest {
    VmRequest {
        id,
        arrival: secs(arrival),
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: secs(demand),
        estimate: secs(demand),
        tenant: None,
        profile: VmProfile {
            weight,
            ..VmProfile::default()
        },
    }
}

/// Runs `vms` on one pCPU under CPU policy `policy` with time slice `slice` (the textbook
/// configuration); the records in id order.
pub fn run_textbook(policy: &str, slice: SimTime, vms: Vec<VmRequest>) -> Vec<VmRecord> {
    let mut c = Collect::default();
    simulate(&SimConfig::textbook(policy, slice), vms, &mut c).unwrap();
    c.vms.sort_by_key(|r| r.id);
    c.vms
}
