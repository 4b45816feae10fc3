"""vmsched.run, sweep and capacity against the command line and against themselves."""
import subprocess

import numpy as np
import pandas as pd
import pytest

import vmsched


def small():
    # 2,000 VMs per replication (and 200 of warm-up) keep each run well under a second.
    return vmsched.Scenario.default().set("run.warmup_vms", 200).set("run.vms", 2000)


def test_summary_equals_the_cli_summary_csv(vmsched_bin, tmp_path):
    """Same scenario, policies and seed: the DataFrame is summary.csv cell for cell
    (the CSV rounds to 6 decimals, so numbers agree to 5e-7)."""
    subprocess.run(
        [vmsched_bin, "compare", "--policies", "fcfs,sjf", "--replications", "2",
         "--vms", "2000", "--seed", "7", "--no-plots", "--no-vms", "--out", str(tmp_path)],
        check=True, capture_output=True,
    )
    cli = pd.read_csv(tmp_path / "summary.csv", dtype={"replication": str, "class": str})
    py = vmsched.run(policies=["fcfs", "sjf"], seed=7, replications=2, n_vms=2000).summary
    assert list(py.columns) == list(cli.columns)
    assert len(py) == len(cli) and len(py) > 4
    for col in cli.columns:
        if not pd.api.types.is_numeric_dtype(cli[col]):
            assert list(py[col].astype(str)) == list(cli[col].astype(str)), col
        else:
            np.testing.assert_allclose(py[col], cli[col], rtol=0, atol=5e-7,
                                       equal_nan=True, err_msg=col)


def test_same_seed_same_result_any_thread_count():
    a = vmsched.run(small(), ["srtf"], seed=3, replications=2, vms=True, threads=1)
    b = vmsched.run(small(), ["srtf"], seed=3, replications=2, vms=True, threads=2)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.vms, b.vms)
    c = vmsched.run(small(), ["srtf"], seed=4, replications=2)
    assert not np.allclose(a.summary["mean_wait_s"], c.summary["mean_wait_s"])


def test_vms_rows_and_mean_rows():
    r = vmsched.run(small(), ["fcfs", "sjf"], seed=1, replications=3, vms=True)
    # 2 policies × 3 replications × 2,000 VMs.
    assert len(r.vms) == 2 * 3 * 2000
    m = r.means()
    assert list(m.index) == ["fcfs", "sjf"]
    # With 3 replications the mean row carries a confidence interval.
    assert (m["ci95_mean_wait_s"] > 0).all()
    # SJF (by estimate) waits less than FCFS on the default workload.
    assert m.loc["sjf", "mean_wait_s"] < m.loc["fcfs", "mean_wait_s"]
    # The mean row is the mean of the replication rows.
    reps = r.summary[(r.summary["policy"] == "fcfs") & (r.summary["class"] == "all")
                     & (r.summary["replication"] != "mean")]
    assert m.loc["fcfs", "mean_wait_s"] == pytest.approx(reps["mean_wait_s"].mean(), rel=1e-12)


def test_timeline_when_the_scenario_asks_for_one():
    r = vmsched.run(small().set("run.timeline_s", 60.0), ["fcfs"], replications=1)
    assert r.timeline is not None and len(r.timeline) > 10
    assert list(r.timeline.columns[:4]) == ["policy", "replication", "time_s", "host"]
    # One sample every 60 s on the one host.
    t = r.timeline["time_s"].to_numpy()
    assert (t[1:6] - t[0:5] == 60.0).all()


def test_progress_callback_sees_every_run():
    seen = []
    vmsched.run(small(), ["fcfs", "sjf"], replications=2, progress=lambda d, t: seen.append((d, t)))
    # 2 policies × 2 replications: start (0 of 4), then one call per run.
    assert seen[0] == (0, 4) and seen[-1] == (4, 4) and len(seen) == 5


def test_sweep_matches_the_cli(vmsched_bin, tmp_path):
    subprocess.run(
        [vmsched_bin, "sweep", "--set", "hosts.count=1,2", "--policies", "fcfs,sjf",
         "--replications", "2", "--vms", "2000", "--out", str(tmp_path)],
        check=True, capture_output=True,
    )
    cli = pd.read_csv(tmp_path / "sweep.csv", dtype=str)
    py = vmsched.sweep(vmsched.Scenario.default(), {"hosts.count": [1, 2]}, ["fcfs", "sjf"],
                       replications=2, n_vms=2000)
    assert list(py.columns) == list(cli.columns)
    assert len(py) == 4
    assert list(py["seed"]) == list(cli["seed"])
    np.testing.assert_allclose(py["mean_wait_s"], cli["mean_wait_s"].astype(float), atol=5e-7)
    # Two hosts wait less than one.
    fcfs = py[py["policy"] == "fcfs"].set_index("hosts.count")["mean_wait_s"]
    assert fcfs["2"] < fcfs["1"]


def test_capacity_matches_the_cli(vmsched_bin, tmp_path):
    args = ["--slo", "p95_wait_s<=30", "--vary", "hosts.count", "--max", "6",
            "--replications", "2", "--vms", "2000", "--policies", "fcfs"]
    subprocess.run([vmsched_bin, "capacity", *args, "--no-plots", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    cli = pd.read_csv(tmp_path / "capacity.csv")
    py = vmsched.capacity(vmsched.Scenario.default(), "p95_wait_s<=30", "hosts.count",
                          max=6, replications=2, n_vms=2000, policies=["fcfs"])
    assert list(py.columns) == list(cli.columns)
    assert py["needed"].iloc[0] == cli["needed"].iloc[0]
    assert py["status"].iloc[0] == cli["status"].iloc[0]
    assert py["value_at_needed"].iloc[0] == pytest.approx(cli["value_at_needed"].iloc[0], abs=5e-7)


def test_vms_and_timeline_equal_the_cli_files(vmsched_bin, tmp_path):
    """Built in memory, `vms` and `timeline` are vms.csv and timeline.csv as pandas reads
    them: same columns, same rows in the same order; times exact (the file prints the
    nanoseconds), slowdown and cpu_utilization to the file's six decimals."""
    sc = small().set("run.timeline_s", 120.0)
    scenario = tmp_path / "s.toml"
    scenario.write_text(sc.to_toml())
    out = tmp_path / "out"
    subprocess.run(
        [vmsched_bin, "compare", str(scenario), "--policies", "fcfs,srtf", "--replications",
         "2", "--seed", "9", "--no-plots", "--out", str(out)],
        check=True, capture_output=True,
    )
    py = vmsched.run(sc, ["fcfs", "srtf"], seed=9, replications=2, vms=True)
    for name, frame in [("vms.csv", py.vms), ("timeline.csv", py.timeline)]:
        cli = pd.read_csv(out / name)
        assert list(frame.columns) == list(cli.columns), name
        assert len(frame) == len(cli) and len(cli) > 0, name
        pd.testing.assert_frame_equal(frame, cli, check_dtype=False, rtol=0, atol=0,
                                      obj=name)


def test_cpu_share_is_off_by_default():
    assert vmsched.run(small(), ["fcfs"], replications=1).cpu_share is None


def test_cpu_share_equals_the_cli_file(vmsched_bin, tmp_path):
    sc = small().set("run.vms", 300).set("run.warmup_vms", 0).set("run.cpu_share_s", 60.0)
    scenario = tmp_path / "s.toml"
    scenario.write_text(sc.to_toml())
    out = tmp_path / "out"
    subprocess.run(
        [vmsched_bin, "compare", str(scenario), "--policies", "fcfs,rr", "--replications",
         "2", "--seed", "9", "--no-plots", "--out", str(out)],
        check=True, capture_output=True,
    )
    py = vmsched.run(sc, ["fcfs", "rr"], seed=9, replications=2)
    cli = pd.read_csv(out / "cpu_share.csv")
    assert list(py.cpu_share.columns) == ["policy", "replication", "time_s", "vm", "cpu_s",
                                          "share"]
    assert len(cli) > 100
    pd.testing.assert_frame_equal(py.cpu_share, cli, check_dtype=False, rtol=0, atol=0)
    # Busy pCPU time adds up: no interval holds more than the 16 pCPUs of the default host.
    per_interval = cli.groupby(["policy", "replication", "time_s"])["share"].sum()
    assert per_interval.max() <= 16 + 1e-6


def test_a_cap_adds_throttled_s_and_cpu_share_as_the_cli_does(vmsched_bin, tmp_path):
    """With `workload.cpu_cap` the per-VM rows end in `throttled_s` (as vms.csv does) and
    the CPU share is kept without asking (interval chosen by the run)."""
    sc = (small().set("run.warmup_vms", 0).set("run.vms", 100).set("workload.cpu_cap", 0.5)
          .set("cpu.slice_ms", 30.0))
    scenario = tmp_path / "s.toml"
    scenario.write_text(sc.to_toml())
    out = tmp_path / "out"
    subprocess.run(
        [vmsched_bin, "compare", str(scenario), "--policies", "fair,credit", "--seed", "5",
         "--no-plots", "--out", str(out)],
        check=True, capture_output=True,
    )
    py = vmsched.run(sc, ["fair", "credit"], seed=5, vms=True)
    for name, frame in [("vms.csv", py.vms), ("cpu_share.csv", py.cpu_share)]:
        cli = pd.read_csv(out / name)
        assert len(cli) > 0, name
        pd.testing.assert_frame_equal(frame, cli, check_dtype=False, rtol=0, atol=0,
                                      obj=name)
    assert py.vms.columns[-1] == "throttled_s" and (py.vms["throttled_s"] > 0).any()
