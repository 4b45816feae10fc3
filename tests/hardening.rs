//! Absurd inputs give a clear error at once, never a run of hours or an out-of-memory kill
//! (the limits are in `workloads::limits`; the guide's "Limits and errors" chapter and
//! docs/src/hardening.md have the full table). The cases are the rows of
//! `tests/data/hardening-cases.tsv`, which `scripts/hardening.sh` reads too: each row's
//! setup (shell commands, after `tests/data/hardening-setup.sh`) prepares its input in a
//! fresh folder, then the binary runs with a deadline, so a limit that stops working shows
//! up as a killed run, not as a test that hangs. Needs bash, coreutils, sed, awk and
//! python3, as the script does.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One row of the case table.
struct Case {
    /// Line of the row in the table file (for messages).
    line: usize,
    what: String,
    setup: String,
    command: String,
    exit: i32,
    /// Texts standard error must contain (none for cases checked by status alone).
    stderr: Vec<String>,
}

fn cases() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hardening-cases.tsv");
    let text = std::fs::read_to_string(&path).expect("the hardening case table");
    let mut cases = Vec::new();
    for (i, row) in text.lines().enumerate() {
        if row.is_empty() || row.starts_with('#') || row.starts_with("parser\t") {
            continue;
        }
        let cells: Vec<&str> = row.split('\t').collect();
        assert_eq!(
            cells.len(),
            6,
            "line {}: 6 tab-separated cells: {row}",
            i + 1
        );
        let cell = |c: &str| {
            if c == "-" {
                String::new()
            } else {
                c.to_string()
            }
        };
        cases.push(Case {
            line: i + 1,
            what: cells[1].to_string(),
            setup: cell(cells[2]),
            command: cells[3].to_string(),
            exit: cells[4].parse().expect("exit status"),
            stderr: cells[5]
                .split(" && ")
                .filter(|s| *s != "-")
                .map(str::to_string)
                .collect(),
        });
    }
    cases
}

/// Runs one case in a fresh folder holding `tests/data`; returns its exit status and
/// standard error, or panics if it still runs after 60 s.
fn run(case: &Case, dir: &Path) -> (Option<i32>, String) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let setup = if case.setup.is_empty() {
        ":"
    } else {
        &case.setup
    };
    let script = format!(
        "set -e\nsource ./hardening-setup.sh\n{setup}\nexec \"$VMSCHED\" {}\n",
        case.command
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("VMSCHED", env!("CARGO_BIN_EXE_vmsched"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for vmsched") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!(
                "case on line {} ({}): vmsched {} still running after 60 s: the limit did not apply",
                case.line, case.what, case.command
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("vmsched's output");
    (
        status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_absurd_input_of_the_table_gets_the_answer_it_lists() {
    let cases = cases();
    // 91 cases from the first hardening round, 7 more that were in this test alone.
    assert_eq!(cases.len(), 98);
    assert!(cases.iter().filter(|c| !c.stderr.is_empty()).count() >= 20);
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let (code, err) = run(case, dir.path());
        let at = format!(
            "case on line {} ({}): vmsched {}",
            case.line, case.what, case.command
        );
        assert_eq!(code, Some(case.exit), "{at}: {err}");
        assert!(!err.contains("panicked"), "{at}: {err}");
        for text in &case.stderr {
            assert!(
                err.contains(text.as_str()),
                "{at}: expected `{text}` in: {err}"
            );
        }
        if case.exit != 0 {
            assert!(err.lines().any(|l| l.starts_with("error: ")), "{at}: {err}");
            // A 10 MB cell is quoted in 200 bytes, not 10 MB.
            assert!(err.len() < 1000, "{at}: {} bytes of message", err.len());
            // A refused run leaves no results folder that looks complete.
            let words: Vec<&str> = case.command.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "--out") {
                let out = dir.path().join(words[i + 1]);
                assert!(
                    !out.join("run.toml").exists(),
                    "{at}: wrote {}",
                    out.display()
                );
            }
        }
    }
}
