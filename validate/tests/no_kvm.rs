//! Built without the `kvm` feature, the KVM tests are compiled out: say so.

#[cfg(not(all(feature = "kvm", target_os = "linux")))]
#[test]
fn kvm_tests_skipped() {
    assert!(
        std::env::var("VMSCHED_REQUIRE_KVM").map_or(true, |v| v != "1"),
        "VMSCHED_REQUIRE_KVM=1 but the KVM tests were built without the `kvm` feature"
    );
    eprintln!("SKIPPED: the KVM tests: built without the `kvm` feature (or not on Linux)");
    assert!(validate::kvm_available().is_err_and(|e| e.is_unavailable()));
}

#[test]
fn unavailability_messages_say_which() {
    use validate::Error;
    assert_eq!(
        Error::NoDevice.to_string(),
        "/dev/kvm does not exist: this machine (or container) offers no KVM"
    );
    assert!(
        Error::NoPermission
            .to_string()
            .starts_with("no permission to open /dev/kvm")
    );
    assert!(
        Error::FeatureDisabled
            .to_string()
            .contains("without the `kvm` feature")
    );
    assert!(Error::NoDevice.is_unavailable() && Error::FeatureDisabled.is_unavailable());
    assert!(!Error::Guest("x".into()).is_unavailable());
}
