//! Periodic accounting of a CPU policy over the runnable vCPUs of a host (Xen Credit's
//! credit refill): see [`crate::policy::CpuPolicy::accounting_period`].

use crate::error::SimError;
use crate::observer::Observer;
use crate::policy::{Account, CpuPolicy, accounting_periods};

use super::ids::{HostId, VcpuSlot, VmSlot};
use super::slab::Slab;
use super::state::{Engine, Vcpu, VcpuState, Vm};

impl<'a, O: Observer> Engine<'a, O> {
    /// At the first decision on host `h` in a new multiple of `period` (ns), calls the
    /// policy's `on_account` for each ready or running vCPU of the host, and returns true
    /// (the caller then re-evaluates the run queue's keys). Linear in the run queue;
    /// allocates nothing. With a policy that parks capped vCPUs, parked vCPUs are accounted
    /// too, and then parked or unparked (`park.rs`).
    pub(super) fn account(&mut self, h: HostId, period: u64) -> Result<bool, SimError> {
        let periods = accounting_periods(&mut self.account_epochs[h.0 as usize], self.now, period);
        if periods == 0 {
            return Ok(false);
        }
        let host = &self.hosts[h];
        let mut a = Account {
            weight: 0,
            total_weight: 0,
            pcpus: host.pcpus.len() as u32,
            periods,
            cap: 0,
        };
        let cap_period = if self.parks { period } else { 0 };
        // Pass 0 sums the weights; pass 1 accounts.
        for pass in 0..2 {
            for e in host.ready.iter().flat_map(|q| q.iter()) {
                let e = e.0;
                let live = self.vcpus.try_get(e.slot).is_some_and(|v| {
                    v.uid == e.uid && v.epoch == e.epoch && v.state == VcpuState::Ready
                });
                if live {
                    visit(
                        &mut self.vcpus,
                        &self.vms,
                        &*self.cpu_policy,
                        e.slot,
                        (pass, cap_period),
                        &mut a,
                    );
                }
            }
            for p in &host.pcpus {
                if let Some(slot) = p.running.slot() {
                    visit(
                        &mut self.vcpus,
                        &self.vms,
                        &*self.cpu_policy,
                        slot,
                        (pass, cap_period),
                        &mut a,
                    );
                }
            }
            for i in 0..self.parked_entries(h).len() {
                let e = self.parked_entries(h)[i];
                if let Some(slot) = self.parked_live(h, e) {
                    visit(
                        &mut self.vcpus,
                        &self.vms,
                        &*self.cpu_policy,
                        slot,
                        (pass, cap_period),
                        &mut a,
                    );
                }
            }
        }
        if self.parks {
            self.settle_parking(h)?;
        }
        Ok(true)
    }
}

/// Pass 0: adds the weight of vCPU `slot` to `a.total_weight`; pass 1: accounts it, with
/// its share of its VM's cap per `cap_period` (0: caps are not the policy's).
fn visit(
    vcpus: &mut Slab<VcpuSlot, Vcpu>,
    vms: &Slab<VmSlot, Vm>,
    policy: &dyn CpuPolicy,
    slot: VcpuSlot,
    (pass, cap_period): (u32, u64),
    a: &mut Account,
) {
    let v = vcpus.get_mut(slot);
    let req = &vms.get(v.vm).req;
    let weight = req.profile.weight;
    if pass == 0 {
        a.total_weight += u64::from(weight);
    } else {
        a.weight = weight;
        a.cap = Account::cap_share(req.profile.cpu_cap_ppm, req.vcpus, cap_period);
        policy.on_account(&mut v.policy_state, a);
    }
}
