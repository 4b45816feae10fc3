//! Lottery scheduling (Waldspurger and Weihl, 1994; OSTEP ch. 9): randomized proportional
//! share. Each vCPU holds as many tickets as its VM's weight (`[workload] weight`, default
//! 1024). Whenever a pCPU is to be given (a quantum expired, a vCPU blocked or finished, a
//! VM arrived on an idle pCPU), a lottery among the ready vCPUs picks the winner, with
//! probability tickets / total tickets; the winner runs for one quantum. Over many quanta a
//! vCPU that stays ready gets a share of the pCPU close to its share of the tickets.
//!
//! The lottery is held as an exponential race: at each decision every ready vCPU draws
//! `E = −ln U` (U uniform in (0, 1)) and the smallest `E / tickets` wins, which happens
//! with probability exactly tickets / total (the minimum of independent exponentials of
//! rates `tᵢ` is the `i`-th with probability `tᵢ / Σ t`). With several free pCPUs at once
//! the next smallest win them, which is drawing without replacement.
//!
//! The draws come from the run's named random stream `lottery`
//! ([`crate::rng::purpose::LOTTERY`]), counter-based: the uniform of a vCPU at a decision
//! is SplitMix64 of the stream's seed, the VM id, the instant and the vCPU's work done so
//! far. So a run is the same for the same seed and replication, and a draw does not depend
//! on how many draws came before. (Two vCPUs of one VM that are ready at the same instant
//! with the same work done draw the same number; the lower vCPU index wins that tie.)
use crate::error::SimError;
use crate::policy::{
    CpuEntry, CpuParams, CpuPolicy, KeyContext, Teaching, TraceQuantity, VcpuView,
};
use crate::rng::{derive_seed, purpose, stream_seed};

/// Lottery scheduling (time-sliced, tickets = weight).
pub struct Lottery {
    seed: u64,
}

impl Default for Lottery {
    fn default() -> Self {
        Lottery {
            seed: stream_seed(1, 0, purpose::LOTTERY),
        }
    }
}

impl Lottery {
    /// The draw `E / tickets` of `v` at `now` (smaller wins).
    pub fn draw(&self, v: &VcpuView, now: crate::SimTime) -> f64 {
        let bits = derive_seed(self.seed, &[v.vm, now.nanos(), v.attained.nanos()]);
        // 53 random bits, centred in their interval: U in (0, 1), never 0.
        let u = ((bits >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
        -u.ln() / f64::from(v.weight.max(1))
    }
}

impl CpuPolicy for Lottery {
    fn uses_weight(&self) -> bool {
        true
    }
    fn ready_key(&self, v: &VcpuView) -> u128 {
        self.ready_key_at(v, &KeyContext::at(v.ready_since))
    }
    fn ready_key_at(&self, v: &VcpuView, ctx: &KeyContext) -> u128 {
        // A positive finite f64 orders as its bits.
        u128::from(self.draw(v, ctx.now).to_bits())
    }
    fn key_depends_on_time(&self) -> bool {
        true
    }
    fn time_sliced(&self) -> bool {
        true
    }
    fn configure(&mut self, params: &CpuParams) -> Result<(), SimError> {
        self.seed = stream_seed(params.seed, params.replication, purpose::LOTTERY);
        Ok(())
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "lottery",
    description: "lottery scheduling: a random draw each quantum, win chance proportional to tickets = weight",
    admission_counterpart: "fcfs",
    time_sliced: true,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: true,
    teaching: Teaching {
        long_name: "lottery scheduling (tickets = weight, a new draw each quantum)",
        quantity: TraceQuantity::Remaining,
        reason: "won the lottery draw (chance proportional to tickets)",
        ties_by_arrival: false,
    },
    build: || Box::new(Lottery::default()),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimTime;

    fn view(vm: u64, weight: u32) -> VcpuView {
        VcpuView {
            vm,
            priority: 0,
            arrival: SimTime::ZERO,
            estimate: SimTime::ZERO,
            attained: SimTime::ZERO,
            ready_since: SimTime::ZERO,
            preempted: false,
            weight,
            state: 0,
        }
    }

    /// One draw per decision instant: over 40,000 instants, VM 0 with 3 of the 4 tickets
    /// wins a fraction within 3σ of 3/4 (σ = √(0.75 × 0.25 / 40000) = 0.00217).
    #[test]
    fn the_win_rate_is_the_ticket_share() {
        let l = Lottery::default();
        let n = 40_000u64;
        let wins = (0..n)
            .filter(|&t| {
                let ctx = KeyContext::at(SimTime(t));
                l.ready_key_at(&view(0, 3), &ctx) < l.ready_key_at(&view(1, 1), &ctx)
            })
            .count();
        let share = wins as f64 / n as f64;
        assert!((share - 0.75).abs() < 3.0 * 0.00217, "share {share}");
    }

    #[test]
    fn draws_depend_on_the_seed_only_through_the_stream() {
        let cpu = crate::SimConfig::single_host(1, 0).cpu;
        let params = |seed| CpuParams {
            cpu: &cpu,
            seed,
            replication: 0,
        };
        let mut a = Lottery::default();
        let mut b = Lottery::default();
        a.configure(&params(7)).unwrap();
        b.configure(&params(7)).unwrap();
        let now = SimTime(5);
        assert_eq!(a.draw(&view(0, 1), now), b.draw(&view(0, 1), now));
        b.configure(&params(8)).unwrap();
        assert_ne!(a.draw(&view(0, 1), now), b.draw(&view(0, 1), now));
    }
}
