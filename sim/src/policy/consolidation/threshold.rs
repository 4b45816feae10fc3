//! `threshold`: Beloglazov and Buyya's static-threshold consolidation.
//!
//! At each decision, with `u` a host's mean share of busy pCPUs since the previous one and
//! a VM's share on host `t` taken as its vCPUs / `t`'s pCPUs:
//!
//! 1. **Overload.** Each usable host with `u > high` sheds its smallest movable VM (fewest
//!    vCPUs, then least memory, then lowest id) to a destination.
//! 2. **Underload.** Hosts holding VMs with `u < low`, least used first, are emptied: all
//!    their VMs (largest first) move to destinations, or none does. An emptied host can
//!    then switch off (`[cluster] power_off_idle_s`).
//!
//! A destination is another usable host, not in a migration already, not being emptied,
//! with room for the VM (vCPU slots and memory) and whose projected utilisation stays at
//! most `high`; among those the most used one (best fit, lowest number on ties), so that
//! VMs gather on few hosts.

use super::{ConsolidationPolicy, HostLoad, MoveOrder, VmLoad};
use crate::migration::MigrationReason;

/// Static thresholds `low` < `high` on the share of busy pCPUs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    /// Hosts below this are emptied.
    pub low: f64,
    /// Hosts above this shed their smallest VM.
    pub high: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Free,
    Receiving,
    Sending,
}

/// The projected state of the hosts while orders are planned.
#[derive(Clone)]
struct Projection {
    free: Vec<(u64, u64)>,
    util: Vec<f64>,
    role: Vec<Role>,
}

impl Threshold {
    /// The destination of `vm` under `p`: see the module's rule.
    fn destination(&self, hosts: &[HostLoad], p: &Projection, vm: &VmLoad) -> Option<usize> {
        let (v, m) = (u64::from(vm.vcpus), vm.memory_mib);
        let mut best: Option<(usize, f64)> = None;
        for (t, h) in hosts.iter().enumerate() {
            if t == vm.host as usize
                || !h.usable
                || h.migrating
                || p.role[t] == Role::Sending
                || v > p.free[t].0
                || m > p.free[t].1
                || v > h.vcpu_limit
            {
                continue;
            }
            let after = p.util[t] + share(vm, h);
            if after > self.high {
                continue;
            }
            if best.is_none_or(|(_, u)| p.util[t] > u) {
                best = Some((t, p.util[t]));
            }
        }
        best.map(|(t, _)| t)
    }

    /// Books `vm` from its host onto `t` in `p`.
    fn book(hosts: &[HostLoad], p: &mut Projection, vm: &VmLoad, t: usize) {
        let h = vm.host as usize;
        p.free[t].0 -= u64::from(vm.vcpus);
        p.free[t].1 -= vm.memory_mib;
        p.util[t] += share(vm, &hosts[t]);
        p.util[h] = (p.util[h] - share(vm, &hosts[h])).max(0.0);
        p.role[t] = Role::Receiving;
    }
}

/// The share of host `h`'s pCPUs that `vm`'s vCPUs would keep busy.
fn share(vm: &VmLoad, h: &HostLoad) -> f64 {
    f64::from(vm.vcpus) / f64::from(h.pcpus.max(1))
}

impl ConsolidationPolicy for Threshold {
    fn plan(&self, hosts: &[HostLoad], vms: &[VmLoad], out: &mut Vec<MoveOrder>) {
        let mut p = Projection {
            free: hosts.iter().map(|h| (h.free_vcpus, h.free_mem)).collect(),
            util: hosts.iter().map(|h| h.utilization).collect(),
            role: vec![Role::Free; hosts.len()],
        };
        let on = |h: usize| (vms.iter().enumerate()).filter(move |(_, v)| v.host as usize == h);
        let candidate = |h: &HostLoad| h.usable && !h.migrating && h.vms > 0;
        // 1. Overloaded hosts shed their smallest movable VM.
        for (h, host) in hosts.iter().enumerate() {
            if !candidate(host) || p.util[h] <= self.high || p.role[h] != Role::Free {
                continue;
            }
            let smallest = on(h)
                .filter(|(_, v)| v.movable)
                .min_by_key(|(_, v)| (v.vcpus, v.memory_mib, v.id));
            if let Some((i, vm)) = smallest
                && let Some(t) = self.destination(hosts, &p, vm)
            {
                Self::book(hosts, &mut p, vm, t);
                p.role[h] = Role::Sending;
                out.push(MoveOrder {
                    vm: i,
                    to: t as u32,
                    reason: MigrationReason::Overload,
                });
            }
        }
        // 2. Underloaded hosts are emptied, least used first, all or nothing.
        let mut under: Vec<usize> = (0..hosts.len())
            .filter(|&h| candidate(&hosts[h]) && hosts[h].utilization < self.low)
            .collect();
        under.sort_by(|&a, &b| p.util[a].total_cmp(&p.util[b]).then(a.cmp(&b)));
        let mut list: Vec<(usize, &VmLoad)> = Vec::new();
        for h in under {
            if p.role[h] != Role::Free {
                continue;
            }
            list.clear();
            list.extend(on(h));
            if list.iter().any(|(_, v)| !v.movable) {
                continue;
            }
            list.sort_by_key(|(_, v)| (std::cmp::Reverse((v.vcpus, v.memory_mib)), v.id));
            let mut trial = p.clone();
            trial.role[h] = Role::Sending;
            let start = out.len();
            let mut ok = true;
            for &(i, vm) in &list {
                match self.destination(hosts, &trial, vm) {
                    Some(t) => {
                        Self::book(hosts, &mut trial, vm, t);
                        out.push(MoveOrder {
                            vm: i,
                            to: t as u32,
                            reason: MigrationReason::Underload,
                        });
                    }
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                p = trial;
            } else {
                out.truncate(start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(pcpus: u32, used: u64, util: f64) -> HostLoad {
        HostLoad {
            usable: true,
            migrating: false,
            pcpus,
            free_vcpus: u64::from(pcpus) - used,
            free_mem: 1 << 20,
            vcpu_limit: u64::MAX,
            vms: used,
            utilization: util,
        }
    }

    fn vm(id: u64, host: u32) -> VmLoad {
        VmLoad {
            id,
            host,
            vcpus: 1,
            memory_mib: 0,
            movable: true,
        }
    }

    /// Three 4-pCPU hosts with 1-vCPU VMs, low = 0.3, high = 0.8. Host 0 holds one VM at
    /// u = 0.25 (< low): emptied. Host 1 holds 3 VMs at 0.75 (+ 0.25 = 1.0 > high: no
    /// room); host 2 holds 2 at 0.5 (+ 0.25 = 0.75 ≤ high): VM 0 goes to host 2. Host 1
    /// is neither over `high` nor under `low`: untouched.
    #[test]
    fn empties_an_underloaded_host_onto_the_fullest_that_stays_under_high() {
        let hosts = [host(4, 1, 0.25), host(4, 3, 0.75), host(4, 2, 0.5)];
        let vms = [vm(0, 0), vm(1, 1), vm(2, 1), vm(3, 1), vm(4, 2), vm(5, 2)];
        let mut out = Vec::new();
        Threshold {
            low: 0.3,
            high: 0.8,
        }
        .plan(&hosts, &vms, &mut out);
        assert_eq!(
            out,
            vec![MoveOrder {
                vm: 0,
                to: 2,
                reason: MigrationReason::Underload
            }]
        );
    }

    /// Host 0 at u = 1.0 > high = 0.8 sheds its smallest VM (VM 1: 1 vCPU, less than VM
    /// 0's 2) to host 1 (u = 0 + 0.25). Host 1 is empty, so it is not emptied itself. A
    /// host whose VMs cannot all move is left as it is (all or nothing).
    #[test]
    fn sheds_the_smallest_vm_of_an_overloaded_host() {
        let hosts = [host(4, 3, 1.0), host(4, 0, 0.0)];
        let mut big = vm(0, 0);
        big.vcpus = 2;
        let vms = [big, vm(1, 0)];
        let mut out = Vec::new();
        let policy = Threshold {
            low: 0.3,
            high: 0.8,
        };
        policy.plan(&hosts, &vms, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].vm, out[0].to), (1, 1));
        assert_eq!(out[0].reason, MigrationReason::Overload);
        // Two hosts at 0.25 each with one VM: the first (lowest number on ties) empties
        // onto the second; the second, now receiving, stays.
        let hosts = [host(4, 1, 0.25), host(4, 1, 0.25)];
        let mut out = Vec::new();
        policy.plan(&hosts, &[vm(0, 0), vm(1, 1)], &mut out);
        assert_eq!((out.len(), out[0].vm, out[0].to), (1, 0, 1));
        // An unmovable VM keeps its host.
        let mut pinned = vm(0, 0);
        pinned.movable = false;
        let mut out = Vec::new();
        policy.plan(&hosts, &[pinned, vm(1, 1)], &mut out);
        assert_eq!((out.len(), out[0].vm, out[0].to), (1, 1, 0));
    }
}
