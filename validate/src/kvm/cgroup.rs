//! The cgroups of `--host-scheduler`: one parent group per run and one group per VM under
//! the `cpu` controller, removed again when the guard is dropped (also on errors and after
//! an interrupt, which the host replay turns into an orderly stop).
//!
//! The file contents come from [`crate::host_sched::GroupSettings::files`].

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::host_sched::{CgroupKind, GroupSettings, find_cpu_controller};

/// The per-VM groups of one host replay (RAII: dropping removes them).
#[derive(Debug)]
pub struct HostGroups {
    kind: CgroupKind,
    /// The controller's mount point.
    root: PathBuf,
    /// `<root>/vmsched-<pid>-<n>`.
    parent: PathBuf,
    /// One per VM.
    vms: Vec<PathBuf>,
    /// Cgroup v2: the cgroup the process was in before it moved to `parent`.
    home: Option<PathBuf>,
    /// Cgroup v2: the root's `cgroup.subtree_control` lacked `cpu` and this guard added
    /// it (taken back on drop, so the host is left as it was found).
    enabled_at_root: bool,
}

/// A unique suffix per guard in this process.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write {text:?} to {}: {e}", path.display()))
}

impl HostGroups {
    /// Creates the groups: a parent (with the largest weight when `boost`, so that other
    /// processes on the cores get little of them) and one group per VM with its weight and
    /// cap. Fails with the reason when no `cpu` controller is writable here (nothing is
    /// left behind).
    pub fn create(settings: &[GroupSettings], boost: bool) -> Result<HostGroups, String> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let (kind, root) = find_cpu_controller(&mountinfo)
            .ok_or_else(|| "no cgroup hierarchy with the cpu controller is mounted".to_string())?;
        let root = PathBuf::from(root);
        if kind == CgroupKind::V2 {
            let c = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
            if !c.split_whitespace().any(|x| x == "cpu") {
                return Err(format!(
                    "the cgroup v2 hierarchy at {} does not offer the cpu controller",
                    root.display()
                ));
            }
        }
        let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let parent = root.join(format!("vmsched-{}-{n}", std::process::id()));
        std::fs::create_dir(&parent)
            .map_err(|e| format!("cannot create the cgroup {}: {e}", parent.display()))?;
        let mut g = HostGroups {
            kind,
            root,
            parent,
            vms: Vec::new(),
            home: None,
            enabled_at_root: false,
        };
        // From here on `g`'s Drop removes what exists.
        g.populate(settings, boost)?;
        Ok(g)
    }

    fn populate(&mut self, settings: &[GroupSettings], boost: bool) -> Result<(), String> {
        match self.kind {
            CgroupKind::V1 => {
                if boost {
                    write(&self.parent.join("cpu.shares"), "262144")?;
                }
            }
            CgroupKind::V2 => {
                // The root usually has +cpu already (systemd enables it); when it has not,
                // it is enabled here and disabled again on drop. A failure shows at the
                // next write.
                let control = self.root.join("cgroup.subtree_control");
                let before = std::fs::read_to_string(&control).unwrap_or_default();
                if !before.split_whitespace().any(|c| c == "cpu") {
                    self.enabled_at_root = std::fs::write(&control, "+cpu").is_ok();
                }
                write(&self.parent.join("cgroup.subtree_control"), "+cpu")?;
                if boost {
                    write(&self.parent.join("cpu.weight"), "10000")?;
                }
            }
        }
        for (i, s) in settings.iter().enumerate() {
            let dir = self.parent.join(format!("vm{i}"));
            std::fs::create_dir(&dir)
                .map_err(|e| format!("cannot create the cgroup {}: {e}", dir.display()))?;
            self.vms.push(dir.clone());
            if self.kind == CgroupKind::V2 {
                write(&dir.join("cgroup.type"), "threaded")?;
            }
            for (file, text) in s.files(&self.kind) {
                write(&dir.join(file), &text)?;
            }
        }
        if self.kind == CgroupKind::V2 {
            // Threads of one process can only be split among threaded groups of the
            // domain the process is in: move the process to the parent.
            let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
            let rel = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            self.home = Some(self.root.join(rel));
            write(
                &self.parent.join("cgroup.procs"),
                &std::process::id().to_string(),
            )?;
        }
        Ok(())
    }

    /// Which hierarchy, and where (for the report).
    pub fn describe(&self) -> String {
        match self.kind {
            CgroupKind::V1 => format!(
                "cgroup v1 cpu.shares / cpu.cfs_quota_us under {}",
                self.root.display()
            ),
            CgroupKind::V2 => format!(
                "cgroup v2 cpu.weight / cpu.max under {}",
                self.root.display()
            ),
        }
    }

    /// Moves thread `tid` into VM `vm`'s group.
    pub fn add_thread(&self, vm: usize, tid: libc::pid_t) -> Result<(), Error> {
        let file = match self.kind {
            CgroupKind::V1 => "tasks",
            CgroupKind::V2 => "cgroup.threads",
        };
        let dir = self
            .vms
            .get(vm)
            .ok_or_else(|| Error::Host(format!("no cgroup for VM index {vm}")))?;
        write(&dir.join(file), &tid.to_string()).map_err(Error::Host)
    }

    /// Time VM `vm`'s group was throttled by its quota so far (`throttled_time` in v1's
    /// `cpu.stat`, ns; `throttled_usec` in v2's).
    pub fn throttled(&self, vm: usize) -> std::time::Duration {
        let Some(dir) = self.vms.get(vm) else {
            return std::time::Duration::ZERO;
        };
        let text = std::fs::read_to_string(dir.join("cpu.stat")).unwrap_or_default();
        parse_throttled(&text)
    }
}

/// The throttled time in a `cpu.stat` text (v1 `throttled_time` ns, v2 `throttled_usec`).
pub fn parse_throttled(text: &str) -> std::time::Duration {
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(k), Some(v)) = (it.next(), it.next()) else {
            continue;
        };
        let Ok(v) = v.parse::<u64>() else { continue };
        match k {
            "throttled_time" => return std::time::Duration::from_nanos(v),
            "throttled_usec" => return std::time::Duration::from_micros(v),
            _ => {}
        }
    }
    std::time::Duration::ZERO
}

impl Drop for HostGroups {
    fn drop(&mut self) {
        // v2: the process goes home first (a group with members cannot be removed).
        if let Some(home) = &self.home {
            let _ = std::fs::write(home.join("cgroup.procs"), std::process::id().to_string());
        }
        for dir in self.vms.iter().rev() {
            if self.kind == CgroupKind::V1 {
                // Threads still inside (none once the replay joined them) go to the root.
                let tasks = std::fs::read_to_string(dir.join("tasks")).unwrap_or_default();
                for t in tasks.split_whitespace() {
                    let _ = std::fs::write(self.root.join("tasks"), t);
                }
            }
            let _ = std::fs::remove_dir(dir);
        }
        let _ = std::fs::remove_dir(&self.parent);
        if self.enabled_at_root {
            let _ = std::fs::write(self.root.join("cgroup.subtree_control"), "-cpu");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_from_cpu_stat() {
        let v1 = "nr_periods 12\nnr_throttled 5\nthrottled_time 250000000\n";
        assert_eq!(parse_throttled(v1), std::time::Duration::from_millis(250));
        let v2 = "usage_usec 100\nnr_throttled 2\nthrottled_usec 1500\n";
        assert_eq!(parse_throttled(v2), std::time::Duration::from_micros(1500));
        assert_eq!(parse_throttled(""), std::time::Duration::ZERO);
    }
}
