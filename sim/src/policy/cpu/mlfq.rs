//! Multi-level feedback queue (Corbató's CTSS; Stallings §9.2 "feedback"; OSTEP ch. 8).
//!
//! There are `levels` run queues, level 0 on top. A vCPU enters at the top; the ready vCPU
//! of the highest non-empty level runs, first come first served within a level (a vCPU
//! that becomes ready at the instant another's quantum expires is queued ahead of it, as
//! under `rr`). Level `i` has the quantum `quantum × quantum_growth^i` (growth 1: equal
//! quanta, Stallings' "q = 1"; growth 2: doubling, "q = 2^i"). A vCPU that uses up its
//! quantum moves down one level (the bottom level is round robin):
//!
//! * `demote = "contended"` (default, the textbooks' feedback scheduling): only if another
//!   vCPU is waiting for the pCPU at the decision that follows; alone, it keeps its level
//!   and gets a fresh quantum. Each dispatch gets a full quantum of its level, so a vCPU
//!   that blocks for I/O before its quantum is used up keeps its level.
//! * `demote = "always"` (OSTEP's allotment rule): always; the quantum is an allotment of
//!   CPU time at the level, used up across blocking, so giving up the pCPU just before the
//!   quantum ends does not keep a vCPU on top.
//!
//! With `boost_s`, every vCPU goes back to the top level at every multiple of `boost_s`
//! (OSTEP's priority boost against starvation); a running vCPU finishes its slice first.
//! The policy does not preempt: a vCPU arriving on top waits for the running one's quantum
//! to end (Stallings' "preemption at time quantum").
//!
//! The level lives in the policy's per-vCPU state word: bits 0–35 the CPU work used at the
//! level (ns), 36–41 the level, bit 42 a demotion pending until the next decision, bits
//! 43–63 the boost period the level was set in (modulo 2²¹). So a level's quantum is at
//! most 2³⁶ − 1 ns ≈ 68.7 s (longer ones are cut to that).
use crate::error::SimError;
use crate::model::{Demote, MlfqSpec};
use crate::policy::{
    Charge, CpuEntry, CpuParams, CpuPolicy, KeyContext, Teaching, TraceQuantity, VcpuView,
};
use crate::time::SimTime;

const USED_BITS: u32 = 36;
const USED_MAX: u64 = (1 << USED_BITS) - 1;
const LEVEL_SHIFT: u32 = USED_BITS;
const LEVEL_MASK: u64 = 0x3f;
const PENDING: u64 = 1 << 42;
const EPOCH_SHIFT: u32 = 43;
const EPOCH_MASK: u64 = (1 << 21) - 1;

/// Multi-level feedback queue (time-sliced, options in [`MlfqSpec`]).
pub struct Mlfq {
    levels: u32,
    /// `quantum_growth^i` for each level.
    growth: [f64; MlfqSpec::MAX_LEVELS as usize],
    demote: Demote,
    /// Boost period in ns (0: no boost).
    boost: u64,
}

impl Default for Mlfq {
    fn default() -> Self {
        let mut m = Mlfq {
            levels: 1,
            growth: [1.0; MlfqSpec::MAX_LEVELS as usize],
            demote: Demote::Contended,
            boost: 0,
        };
        // The default options are valid.
        let _ = m.set(&MlfqSpec::default());
        m
    }
}

/// The level a state word records.
pub fn level_of(state: u64) -> u32 {
    ((state >> LEVEL_SHIFT) & LEVEL_MASK) as u32
}

fn used_of(state: u64) -> u64 {
    state & USED_MAX
}

fn with_level(state: u64, level: u32) -> u64 {
    (state & !(LEVEL_MASK << LEVEL_SHIFT)) | (u64::from(level) << LEVEL_SHIFT)
}

impl Mlfq {
    /// Checks and takes the options.
    pub fn set(&mut self, spec: &MlfqSpec) -> Result<(), SimError> {
        if !(1..=MlfqSpec::MAX_LEVELS).contains(&spec.levels) {
            return Err(SimError::InvalidConfig(format!(
                "cpu.levels: must be 1 ..= {}, got {}",
                MlfqSpec::MAX_LEVELS,
                spec.levels
            )));
        }
        let g = spec.quantum_growth;
        if !(g.is_finite() && g >= 1.0) {
            return Err(SimError::InvalidConfig(format!(
                "cpu.quantum_growth: must be a number ≥ 1, got {g}"
            )));
        }
        if spec.boost == Some(SimTime::ZERO) {
            return Err(SimError::InvalidConfig(
                "cpu.boost_s: must be > 0 (leave it out for no boost)".into(),
            ));
        }
        self.levels = spec.levels;
        let mut f = 1.0;
        for x in &mut self.growth {
            *x = f;
            f *= g;
        }
        self.demote = spec.demote;
        self.boost = spec.boost.map_or(0, SimTime::nanos);
        Ok(())
    }

    fn epoch(&self, now: SimTime) -> u64 {
        now.nanos().checked_div(self.boost).unwrap_or(0) & EPOCH_MASK
    }

    /// Whether a boost happened since the state's level was set.
    fn boosted(&self, state: u64, now: SimTime) -> bool {
        self.boost != 0 && (state >> EPOCH_SHIFT) != self.epoch(now)
    }

    fn top(&self, now: SimTime) -> u64 {
        self.epoch(now) << EPOCH_SHIFT
    }

    fn lower(&self, level: u32) -> u32 {
        (level + 1).min(self.levels - 1)
    }

    /// The level a vCPU with this state competes at, at `now`: a pending demotion counts
    /// (it is undone at dispatch if the vCPU turns out to be alone), a boost lifts it to 0.
    pub fn effective_level(&self, state: u64, now: SimTime) -> u32 {
        if self.boosted(state, now) {
            0
        } else if state & PENDING != 0 {
            self.lower(level_of(state))
        } else {
            level_of(state)
        }
    }

    /// The quantum of `level` for a base quantum `base` (ns), at most 2³⁶ − 1 ns.
    pub fn level_quantum(&self, level: u32, base: u64) -> u64 {
        let f = self.growth[level.min(MlfqSpec::MAX_LEVELS - 1) as usize];
        let q = (base as f64 * f).round();
        if q >= USED_MAX as f64 {
            USED_MAX
        } else {
            q as u64
        }
    }
}

impl CpuPolicy for Mlfq {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        self.ready_key_at(v, &KeyContext::at(v.ready_since))
    }
    fn ready_key_at(&self, v: &VcpuView, ctx: &KeyContext) -> u128 {
        let level = self.effective_level(v.state, ctx.now);
        (u128::from(level) << 65)
            | (u128::from(v.ready_since.nanos()) << 1)
            | u128::from(v.preempted)
    }
    fn key_depends_on_time(&self) -> bool {
        self.boost != 0
    }
    fn time_sliced(&self) -> bool {
        true
    }
    fn uses_state(&self) -> bool {
        true
    }
    fn configure(&mut self, params: &CpuParams) -> Result<(), SimError> {
        self.set(&params.cpu.mlfq)
    }
    fn on_charged(&self, state: &mut u64, c: &Charge) {
        let used = used_of(*state).saturating_add(c.ran.nanos()).min(USED_MAX);
        *state = (*state & !USED_MAX) | used;
    }
    fn on_dispatch(&self, state: &mut u64, contended: bool, now: SimTime) {
        if self.boosted(*state, now) {
            *state = self.top(now);
            return;
        }
        if *state & PENDING != 0 {
            *state &= !PENDING;
            if contended {
                *state = with_level(*state, self.lower(level_of(*state)));
            }
        }
        if self.demote == Demote::Contended {
            // A fresh quantum at every dispatch.
            *state &= !USED_MAX;
        }
    }
    fn quantum_for(&self, state: u64, base: SimTime) -> SimTime {
        let q = self.level_quantum(level_of(state), base.nanos());
        SimTime(q.saturating_sub(used_of(state)).max(1))
    }
    fn on_quantum_expired(&self, state: &mut u64, now: SimTime) {
        if self.boosted(*state, now) {
            // A boost during the slice wins over the quantum that ran out.
            *state = self.top(now);
            return;
        }
        match self.demote {
            Demote::Contended => *state |= PENDING,
            Demote::Always => {
                *state = with_level(*state & !USED_MAX, self.lower(level_of(*state)));
            }
        }
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "mlfq",
    description: "multi-level feedback queue: levels (cpu.levels), quantum x quantum_growth^level, demoted when a quantum is used up",
    admission_counterpart: "fcfs",
    time_sliced: true,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "multi-level feedback queue (demoted one level per quantum used up)",
        quantity: TraceQuantity::Remaining,
        reason: "first in the highest non-empty level (FIFO within a level)",
        ties_by_arrival: false,
    },
    build: || Box::new(Mlfq::default()),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn mlfq(levels: u32, growth: f64, demote: Demote, boost_s: Option<u64>) -> Mlfq {
        let mut m = Mlfq::default();
        m.set(&MlfqSpec {
            levels,
            quantum_growth: growth,
            demote,
            boost: boost_s.map(SimTime::from_secs),
        })
        .unwrap();
        m
    }

    #[test]
    fn contended_expiry_demotes_only_when_another_waits() {
        let m = mlfq(3, 2.0, Demote::Contended, None);
        let t = SimTime::from_secs(1);
        let mut s = 0;
        m.on_quantum_expired(&mut s, t);
        // Pending: competes one level down, but alone it keeps level 0.
        assert_eq!(m.effective_level(s, t), 1);
        m.on_dispatch(&mut s, false, t);
        assert_eq!((level_of(s), m.effective_level(s, t)), (0, 0));
        m.on_quantum_expired(&mut s, t);
        m.on_dispatch(&mut s, true, t);
        assert_eq!(level_of(s), 1);
        // Level 1's quantum is 2 × base; the bottom level stays the bottom.
        assert_eq!(
            m.quantum_for(s, SimTime::from_secs(1)),
            SimTime::from_secs(2)
        );
        for _ in 0..5 {
            m.on_quantum_expired(&mut s, t);
            m.on_dispatch(&mut s, true, t);
        }
        assert_eq!(level_of(s), 2);
        assert_eq!(
            m.quantum_for(s, SimTime::from_secs(1)),
            SimTime::from_secs(4)
        );
    }

    #[test]
    fn always_uses_an_allotment_across_blocking() {
        let m = mlfq(3, 1.0, Demote::Always, None);
        let q = SimTime::from_secs(10);
        let mut s = 0;
        m.on_dispatch(&mut s, false, SimTime::ZERO);
        let ran = |s: &mut u64, secs| {
            m.on_charged(
                s,
                &Charge {
                    ran: SimTime::from_secs(secs),
                    weight: 1024,
                    now: SimTime::ZERO,
                },
            )
        };
        // 4 s then it blocks: 6 s of its 10 s allotment are left at the next dispatch.
        ran(&mut s, 4);
        m.on_dispatch(&mut s, true, SimTime::ZERO);
        assert_eq!(m.quantum_for(s, q), SimTime::from_secs(6));
        ran(&mut s, 6);
        m.on_quantum_expired(&mut s, SimTime::ZERO);
        assert_eq!(level_of(s), 1);
        assert_eq!(m.quantum_for(s, q), q);
    }

    #[test]
    fn a_boost_lifts_every_level_to_the_top() {
        let m = mlfq(4, 1.0, Demote::Always, Some(5));
        let mut s = 0;
        for _ in 0..3 {
            m.on_quantum_expired(&mut s, SimTime::from_secs(1));
        }
        assert_eq!(m.effective_level(s, SimTime::from_secs(4)), 3);
        // At 5 s the boost period changes.
        assert_eq!(m.effective_level(s, SimTime::from_secs(5)), 0);
        m.on_dispatch(&mut s, true, SimTime::from_secs(6));
        assert_eq!(level_of(s), 0);
        assert!(m.key_depends_on_time());
    }

    #[test]
    fn bad_options_are_refused() {
        let mut m = Mlfq::default();
        let spec = |levels, g| MlfqSpec {
            levels,
            quantum_growth: g,
            ..MlfqSpec::default()
        };
        assert!(
            m.set(&spec(0, 1.0))
                .unwrap_err()
                .to_string()
                .contains("cpu.levels")
        );
        assert!(m.set(&spec(65, 1.0)).is_err());
        let e = m.set(&spec(3, 0.5)).unwrap_err().to_string();
        assert!(
            e.contains("cpu.quantum_growth: must be a number ≥ 1, got 0.5"),
            "{e}"
        );
        assert!(m.set(&spec(3, f64::NAN)).is_err());
        // Quanta are cut at 2^36 − 1 ns.
        m.set(&spec(64, 2.0)).unwrap();
        assert_eq!(m.level_quantum(63, 1_000_000_000), USED_MAX);
    }
}
