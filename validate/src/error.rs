//! The error type of the `validate` crate.

/// Everything that can go wrong in a replay, a calibration or a comparison.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `/dev/kvm` does not exist.
    #[error("/dev/kvm does not exist: this machine (or container) offers no KVM")]
    NoDevice,
    /// `/dev/kvm` exists but cannot be opened.
    #[error("no permission to open /dev/kvm (run as a member of its group, usually `kvm`)")]
    NoPermission,
    /// Built without the `kvm` cargo feature (or not on Linux).
    #[error(
        "this vmsched was built without the `kvm` feature (KVM replay needs Linux and --features kvm)"
    )]
    FeatureDisabled,
    /// A KVM ioctl failed.
    #[error("{op} failed: {message}")]
    Kvm {
        /// The ioctl.
        op: &'static str,
        /// The OS error.
        message: String,
    },
    /// The guest misbehaved (fault, unexpected exit) or could not be built.
    #[error("{0}")]
    Guest(String),
    /// A guest did not finish in time.
    #[error("VM {vm}: guest did not finish within {seconds:.1} s (stopped); {detail}")]
    Timeout {
        /// VM id.
        vm: u64,
        /// The limit.
        seconds: f64,
        /// What it was doing.
        detail: String,
    },
    /// A host-side operation (thread, signal, affinity, file) failed.
    #[error("{0}")]
    Host(String),
    /// A profile file is unreadable or invalid.
    #[error("{0}")]
    Profile(String),
    /// The simulator refused the scenario.
    #[error(transparent)]
    Sim(#[from] sim::SimError),
    /// The scenario is invalid.
    #[error(transparent)]
    Workload(#[from] workloads::Error),
}

impl Error {
    /// Whether KVM is simply not available here (no device, no permission, no feature):
    /// the CLI exits with status 2 for these.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::NoDevice | Error::NoPermission | Error::FeatureDisabled
        )
    }

    #[cfg(all(feature = "kvm", target_os = "linux"))]
    pub(crate) fn kvm(op: &'static str, e: kvm_ioctls::Error) -> Error {
        Error::Kvm {
            op,
            message: std::io::Error::from_raw_os_error(e.errno()).to_string(),
        }
    }
}
