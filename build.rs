//! Records the git revision the binary is built from (`VMSCHED_GIT_REVISION`, shown in
//! `run.toml` and `report.html`) when the source is a git checkout. A value already set
//! in the environment wins (a build from a source archive can pass one); without git the
//! revision stays unknown.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=VMSCHED_GIT_REVISION");
    if let Ok(rev) = std::env::var("VMSCHED_GIT_REVISION") {
        println!("cargo:rustc-env=VMSCHED_GIT_REVISION={rev}");
        return;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        if !out.status.success() {
            return None;
        }
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (!s.is_empty()).then_some(s)
    };
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it points to (a commit)
    // and packed-refs (where a fresh clone keeps its refs).
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        let common = git(&["rev-parse", "--git-common-dir"]).map_or(git_dir.clone(), PathBuf::from);
        watch(&git_dir.join("HEAD"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(&git_dir.join(&branch));
            watch(&common.join(&branch));
        }
        watch(&common.join("packed-refs"));
    }
    if let Some(rev) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=VMSCHED_GIT_REVISION={rev}");
    }
}

/// Asks cargo to rerun this script when `path` changes (only if it exists: a missing
/// path would make cargo rerun it on every build).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
