//! The kill test: `vmsched compare` killed (SIGKILL) at 20 seeded moments spread over its
//! run leaves its results folder with either the previous complete results, the new
//! complete results, or an incomplete folder that `vmsched report` refuses — never a
//! truncated file.
//!
//! Each round starts from a folder holding the complete results of run A (seed 1, no
//! plots), starts run B (seed 2, with plots) into it and kills it: in even rounds after a
//! delay drawn in the round's tenth of 1.2 × B's measured duration, in odd rounds at a
//! moment drawn in B's writing phase (timed from when B removes A's `run.toml`). After the kill, every visible file must
//! be byte-identical to A's or B's file of that name; with a `run.toml`, the folder must be
//! exactly A's or exactly B's; without one, `vmsched report` must exit 1 saying the folder
//! is incomplete. Hidden temporaries (`.name.*.tmp`, `.vmsched-parts-*`) may be left and
//! must be cleaned up by the next run.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Visible files of `dir` (names not starting with `.`) and their bytes.
type Snapshot = BTreeMap<String, Vec<u8>>;

fn snapshot(dir: &Path) -> Snapshot {
    let mut m = Snapshot::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            m.insert(name, common::read(&e.path()));
        }
    }
    m
}

fn hidden(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn restore(dir: &Path, snap: &Snapshot) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir(dir).unwrap();
    for (name, bytes) in snap {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn compare_args(out: &Path, seed: &str, plots: bool) -> Vec<String> {
    let mut a: Vec<String> = [
        "compare",
        "--vms",
        "20000",
        "--replications",
        "2",
        "--seed",
        seed,
        "--out",
    ]
    .map(String::from)
    .to_vec();
    a.push(out.to_str().unwrap().to_string());
    if !plots {
        a.push("--no-plots".into());
    }
    a
}

fn command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vmsched"));
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn run_to_end(args: &[String]) -> Duration {
    let t = Instant::now();
    let st = command(args).status().unwrap();
    assert!(st.success(), "vmsched {args:?} failed");
    t.elapsed()
}

/// Polls (every 0.5 ms) until `dir/run.toml` is gone or `child` has ended; returns the
/// time since `start`.
fn wait_for_writing(dir: &Path, child: &mut std::process::Child, start: Instant) -> Duration {
    while dir.join("run.toml").exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_micros(500));
    }
    start.elapsed()
}

/// splitmix64: a seeded stream of uniform numbers in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Previous,
    Incomplete,
    New,
}

#[test]
fn killed_compare_leaves_old_new_or_refused_folder() {
    const KILLS: usize = 20;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let a = compare_args(&out, "1", false);
    let b = compare_args(&out, "2", true);

    // The two reference folders, written to the same path (run.toml records the command).
    run_to_end(&a);
    let ref_a = snapshot(&out);
    // B over A's folder, watched: when its run.toml goes (writing starts) and B ends.
    let (duration, writing) = {
        let t = Instant::now();
        let mut child = command(&b).spawn().unwrap();
        let gone = wait_for_writing(&out, &mut child, t);
        let st = child.wait().unwrap();
        assert!(st.success(), "vmsched {b:?} failed");
        let end = t.elapsed();
        (end, end.saturating_sub(gone))
    };
    let ref_b = snapshot(&out);
    for name in ["run.toml", "summary.csv", "vms.csv"] {
        assert!(
            ref_a.contains_key(name) && ref_b.contains_key(name),
            "{name}"
        );
        assert_ne!(ref_a[name], ref_b[name], "{name} must tell the runs apart");
    }
    assert!(ref_b.contains_key("wait_cdf.png") && !ref_a.contains_key("wait_cdf.png"));
    eprintln!(
        "run B takes {:.2} s, the last {:.2} s writing; A has {} files, B {}",
        duration.as_secs_f64(),
        writing.as_secs_f64(),
        ref_a.len(),
        ref_b.len()
    );

    let mut rng = Rng(20_261_126);
    let mut states = Vec::new();
    for k in 0..KILLS {
        restore(&out, &ref_a);
        // Even rounds kill within the (k/2)-th tenth of 1.2 × B's duration (so the last
        // may find B finished); odd rounds at a uniform moment of B's writing phase, timed
        // from when its run.toml goes, so that load on the machine cannot make every kill
        // miss it.
        let t = Instant::now();
        let mut child = command(&b).spawn().unwrap();
        let at = if k % 2 == 0 {
            let at = duration.mul_f64(1.2 * ((k / 2) as f64 + rng.next()) / (KILLS / 2) as f64);
            std::thread::sleep(at);
            at
        } else {
            wait_for_writing(&out, &mut child, t);
            std::thread::sleep(writing.mul_f64(rng.next()));
            t.elapsed()
        };
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap_or_default();
        child.wait().unwrap();

        let snap = snapshot(&out);
        for (name, bytes) in &snap {
            assert!(
                ref_a.get(name) == Some(bytes) || ref_b.get(name) == Some(bytes),
                "kill {k} at {at:?}: {name} ({} bytes) is neither A's nor B's",
                bytes.len()
            );
        }
        let state = match snap.get("run.toml") {
            Some(r) if *r == ref_a["run.toml"] => {
                assert_eq!(
                    snap.keys().collect::<Vec<_>>(),
                    ref_a.keys().collect::<Vec<_>>(),
                    "kill {k}: A's run.toml with other files"
                );
                State::Previous
            }
            Some(_) => {
                assert_eq!(
                    snap.keys().collect::<Vec<_>>(),
                    ref_b.keys().collect::<Vec<_>>(),
                    "kill {k}: B's run.toml with other files"
                );
                State::New
            }
            None => {
                let r = common::vmsched(&["report", out.to_str().unwrap()]);
                let err = String::from_utf8_lossy(&r.stderr);
                assert_eq!(r.status.code(), Some(1), "kill {k}: report said {err}");
                assert!(
                    err.contains("holds incomplete results: it has no run.toml"),
                    "kill {k}: {err}"
                );
                assert!(!out.join("report.html").exists());
                State::Incomplete
            }
        };
        if finished {
            assert_eq!(state, State::New, "kill {k}: B had finished");
        }
        eprintln!(
            "kill {k:2} at {:6.3} s: {state:?}{}, leftovers {:?}",
            at.as_secs_f64(),
            if finished { " (already finished)" } else { "" },
            hidden(&out)
        );
        states.push(state);
    }
    let count = |s: State| states.iter().filter(|x| **x == s).count();
    eprintln!(
        "previous {}, incomplete {}, new {}",
        count(State::Previous),
        count(State::Incomplete),
        count(State::New)
    );
    // The kills must have hit the writing phase, or the test proved little.
    assert!(
        count(State::Incomplete) >= 1,
        "no kill landed while writing"
    );

    // A run into the last killed folder completes it and cleans the leftovers; a run of A
    // then removes B's plots.
    run_to_end(&b);
    assert!(snapshot(&out) == ref_b, "B rerun differs from B");
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
    run_to_end(&a);
    assert!(snapshot(&out) == ref_a, "A rerun differs from A");
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
}
