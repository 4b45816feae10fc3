//! Running the built `vmsched` binary from integration tests.
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs `vmsched ARGS` and returns what it did.
pub fn vmsched(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmsched"))
        .args(args)
        .output()
        .expect("the vmsched binary runs")
}

/// Runs `vmsched ARGS`, asserts it succeeded, and returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = vmsched(args);
    assert!(
        out.status.success(),
        "vmsched {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `vmsched ARGS`, asserts it failed, and returns its standard error.
pub fn fails(args: &[&str]) -> String {
    let out = vmsched(args);
    assert!(!out.status.success(), "vmsched {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The bytes of a file the test expects to exist.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
