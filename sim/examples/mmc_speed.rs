//! Times the M/M/16 FCFS model (ρ = 0.9) with per-VM output off: `cargo run --release -p sim --example mmc_speed`.
use rand_distr::{Distribution, Exp};
use sim::metrics::Metrics;
use sim::rng::{purpose, stream};
use sim::{SimConfig, SimTime, VmRequest, simulate};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut arr = stream(1, 0, purpose::ARRIVALS);
    let mut svc = stream(1, 0, purpose::SERVICE);
    let gap = Exp::new(14.4).unwrap();
    let s = Exp::new(1.0).unwrap();
    let mut t = 0.0;
    let w = (0..n).map(move |id| {
        t += gap.sample(&mut arr);
        let d = SimTime::from_secs_f64(s.sample(&mut svc)).unwrap();
        VmRequest {
            id,
            arrival: SimTime::from_secs_f64(t).unwrap(),
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            demand: d,
            estimate: d,
            tenant: None,
            profile: Default::default(),
        }
    });
    let cfg = SimConfig::single_host(16, 0);
    let mut m = Metrics::new();
    let t0 = std::time::Instant::now();
    let st = simulate(&cfg, w, &mut m).unwrap();
    let el = t0.elapsed().as_secs_f64();
    println!(
        "{} events in {:.3} s = {:.1} M events/s; mean wait {:.4}",
        st.events,
        el,
        st.events as f64 / el / 1e6,
        m.summary(&st).all().mean_wait_s
    );
}
