//! Consolidation policies: every `[consolidation] interval_s`, a policy looks at the
//! hosts' utilisation and the VMs on them and orders live migrations (see
//! [`crate::migration`]). One policy per file; [`CONSOLIDATION_POLICIES`] is the registry.
//!
//! A policy sees a read-only picture ([`HostLoad`], [`VmLoad`]) and returns orders
//! ([`MoveOrder`]); it never touches the engine. The engine starts each order as a
//! migration, refusing (and counting) one whose destination cannot hold the VM.

mod threshold;

pub use threshold::Threshold;

use crate::migration::MigrationReason;

/// One host as a consolidation policy sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostLoad {
    /// Switched on, booted and not failed: it may send and receive VMs.
    pub usable: bool,
    /// A migration from or to it is under way (policies leave such hosts alone).
    pub migrating: bool,
    /// Physical CPUs.
    pub pcpus: u32,
    /// Free vCPU slots (within the overcommit ratio).
    pub free_vcpus: u64,
    /// Free memory, MiB (within the memory overcommit ratio).
    pub free_mem: u64,
    /// The most vCPUs one VM may have on it (its pCPUs under gang scheduling).
    pub vcpu_limit: u64,
    /// VMs admitted to it.
    pub vms: u64,
    /// Mean share of its pCPUs busy since the previous decision, in \[0, 1\].
    pub utilization: f64,
}

/// One admitted VM as a consolidation policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmLoad {
    /// VM id.
    pub id: u64,
    /// Its host.
    pub host: u32,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// It may be moved (running, not already migrating).
    pub movable: bool,
}

/// An order: migrate `vms[vm]` to host `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoveOrder {
    /// Index into the VMs the policy was given.
    pub vm: usize,
    /// Destination host.
    pub to: u32,
    /// Why (written to `migrations.csv`).
    pub reason: MigrationReason,
}

/// A consolidation policy.
pub trait ConsolidationPolicy: Send + Sync {
    /// Orders migrations for `hosts` (in host order) and `vms` (grouped by host, in host
    /// order, then in slot order) into `out` (empty on entry).
    fn plan(&self, hosts: &[HostLoad], vms: &[VmLoad], out: &mut Vec<MoveOrder>);
}

/// A registry entry: name, description and constructor from `(low, high)`.
pub struct ConsolidationEntry {
    /// Scenario name.
    pub name: &'static str,
    /// One line for `vmsched policies`.
    pub description: &'static str,
    /// The policy for thresholds `low` and `high` (`None`: no consolidation at all).
    pub make: fn(f64, f64) -> Option<Box<dyn ConsolidationPolicy>>,
}

/// Every consolidation policy.
pub const CONSOLIDATION_POLICIES: &[ConsolidationEntry] = &[
    ConsolidationEntry {
        name: "none",
        description: "no consolidation (the default)",
        make: |_, _| None,
    },
    ConsolidationEntry {
        name: "threshold",
        description: "static thresholds (Beloglazov): empty hosts below `low`, a host above \
                      `high` sheds its smallest VM",
        make: |low, high| Some(Box::new(Threshold { low, high })),
    },
];

/// The registry entry named `name`.
pub fn consolidation_policy(name: &str) -> Option<&'static ConsolidationEntry> {
    CONSOLIDATION_POLICIES.iter().find(|e| e.name == name)
}

/// Names of the consolidation policies, comma-separated (for error messages).
pub fn consolidation_names() -> String {
    CONSOLIDATION_POLICIES
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}
