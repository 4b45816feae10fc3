"""Scenario: set returns a new, checked scenario; bad input is a VmschedError with the
command line's message, and the scenario it was called on is unchanged."""
import pytest

import vmsched


def test_set_returns_a_new_scenario():
    a = vmsched.Scenario.default()
    b = a.set("hosts.count", 4).set("workload.load_scale", 1.5)
    assert "count = 4" in b.to_toml() and "count = 4" not in a.to_toml()
    # The default offers 16 pCPUs about 85 % load; ×1.5 the rate over 4× the hosts:
    # 1.5 / 4 of it.
    assert b.offered_load == pytest.approx(a.offered_load * 1.5 / 4, rel=1e-9)
    assert vmsched.Scenario.from_toml(b.to_toml()).to_toml() == b.to_toml()


def test_bad_keys_values_and_types():
    sc = vmsched.Scenario.default()
    with pytest.raises(vmsched.VmschedError, match="hosts.nokey: unknown field `nokey`"):
        sc.set("hosts.nokey", 1)
    with pytest.raises(vmsched.VmschedError, match=r"hosts.count: invalid type: string \"abc\""):
        sc.set("hosts.count", "abc")
    with pytest.raises(vmsched.VmschedError, match="must be > 0"):
        sc.set("workload.arrival.rate_per_s", -3.0)
    with pytest.raises(TypeError, match="hosts.count: a scenario value must be"):
        sc.set("hosts.count", [1, 2])
    assert "count = 1" in sc.to_toml()


def test_file_errors_carry_file_line_and_key(tmp_path):
    with pytest.raises(vmsched.VmschedError, match="missing.toml: cannot read"):
        vmsched.Scenario.load(tmp_path / "missing.toml")
    p = tmp_path / "unknown.toml"
    p.write_text(vmsched.Scenario.default().to_toml().replace("[run]", "[run]\nbogus = 1", 1))
    with pytest.raises(vmsched.VmschedError, match=r"unknown.toml:\d+: run.bogus: unknown field"):
        vmsched.Scenario.load(p)


def test_unknown_policy_lists_the_known_ones():
    with pytest.raises(vmsched.VmschedError, match="unknown cpu policy `fifo`; known: fcfs"):
        vmsched.run(policies=["fifo"], n_vms=100, replications=1)
    assert "srtf" in vmsched.policies()["cpu"]
