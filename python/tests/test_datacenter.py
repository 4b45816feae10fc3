"""The summary's energy and migration columns: there only when the scenario configures
power (or power-off, or failures) and live migration, as in summary.csv."""
import subprocess

import numpy as np
import pandas as pd
import pytest

import vmsched


def power_scenario(hosts=1, vms=1, extra=""):
    """`hosts` hosts of 4 pCPUs drawing 100 W idle and 300 W with every pCPU busy; `vms`
    VMs of 2 vCPUs with 60 s of work per vCPU, arriving every 5 s from 5 s on (the first
    deterministic arrival is one interval in); then `extra`."""
    return f"""
[run]
vms = {vms}

[[hosts]]
count = {hosts}
pcpus = 4
memory_gib = 16
power = {{ idle_w = 100, max_w = 300 }}

[workload]
arrival = {{ process = "deterministic", interval_s = 5 }}
vcpus = 2
memory_gib = 2
service = {{ dist = "deterministic", mean_s = 60 }}
{extra}"""


# Two hosts, two VMs; VM 0 is moved to host 1 at 20 s.
POWER_AND_MIGRATION = power_scenario(hosts=2, vms=2, extra="""
[migration]
bandwidth_mbps = 1000

[[events]]
at_s = 20
vm = 0
action = "migrate"
to_host = 1
""")

ENERGY = ["energy_kwh", "mean_power_w", "hosts_on_mean"]
MIGRATION = ["migrations", "mean_migration_downtime_s"]


def test_energy_of_one_host_at_constant_utilisation():
    s = vmsched.run(vmsched.Scenario.from_toml(power_scenario()), ["fcfs"]).summary
    assert list(s.columns[-3:]) == ENERGY
    assert not set(MIGRATION) & set(s.columns)
    row = s[(s["replication"] == "0") & (s["class"] == "all")].iloc[0]
    # Idle (u = 0) from 0 to the arrival at 5 s, then u = 2 busy / 4 pCPUs = 0.5 for the
    # 60 s of the VM: P = P_idle + (P_max − P_idle)·u = 100 + 200·0.5 = 200 W.
    # E = 100 W · 5 s + 200 W · 60 s = 12,500 J = 12,500 / 3.6e6 kWh over a 65 s makespan.
    joules = 100.0 * 5.0 + (100.0 + (300.0 - 100.0) * 0.5) * 60.0
    assert row["energy_kwh"] == pytest.approx(joules / 3.6e6, rel=1e-12)
    assert row["mean_power_w"] == pytest.approx(joules / 65.0, rel=1e-12)
    assert row["hosts_on_mean"] == pytest.approx(1.0, rel=1e-12)


def test_no_energy_or_migration_columns_without_them():
    sc = vmsched.Scenario.default().set("run.warmup_vms", 0).set("run.vms", 200)
    s = vmsched.run(sc, ["fcfs"]).summary
    assert not (set(ENERGY) | set(MIGRATION)) & set(s.columns)


def test_energy_and_migration_columns_equal_the_cli_summary_csv(vmsched_bin, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(POWER_AND_MIGRATION)
    out = tmp_path / "out"
    subprocess.run(
        [vmsched_bin, "compare", str(scenario), "--policies", "fcfs,sjf", "--no-plots",
         "--out", str(out)],
        check=True, capture_output=True,
    )
    cli = pd.read_csv(out / "summary.csv", dtype={"replication": str, "class": str})
    py = vmsched.run(vmsched.Scenario.from_toml(POWER_AND_MIGRATION), ["fcfs", "sjf"]).summary
    assert list(py.columns) == list(cli.columns)
    assert list(py.columns[-5:]) == ENERGY + MIGRATION
    # VM 0's migration, in every row of each policy.
    assert (py["migrations"] == 1).all()
    for col in ENERGY + MIGRATION:
        np.testing.assert_allclose(py[col], cli[col], rtol=0, atol=5e-7, equal_nan=True,
                                   err_msg=col)
