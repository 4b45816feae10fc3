"""CPU policies written in Python run exactly like the built-in ones."""
import time

import numpy as np
import pytest

import vmsched


class Sjf:
    """Shortest job first, as the built-in `sjf`: the smallest remaining estimate."""

    calls = 0

    def ready_key(self, view):
        self.calls += 1
        return view.remaining_estimate


class Srtf(Sjf):
    preemptive = True


def scenario():
    # Three vCPUs per pCPU may be admitted, so the run queues are contended and the CPU
    # policy decides (with overcommit 1 every admitted vCPU has a pCPU of its own).
    return vmsched.Scenario.default().set("run.warmup_vms", 100).set("hosts.overcommit", 3.0)


@pytest.mark.parametrize("name, policy", [("sjf", Sjf()), ("srtf", Srtf())])
def test_python_policy_equals_the_built_in_vm_by_vm(name, policy):
    builtin = vmsched.run(scenario(), [name], seed=5, replications=2, n_vms=1500, vms=True)
    own = vmsched.run(scenario(), ["sjf/" + name], seed=5, replications=2, n_vms=1500,
                      vms=True, cpu_policy=policy)
    assert policy.calls > 1000
    b = builtin.vms.sort_values(["replication", "id"]).reset_index(drop=True)
    o = own.vms
    assert len(o) == len(b) == 2 * 1500
    np.testing.assert_array_equal(o["id"], b["id"])
    np.testing.assert_allclose(o["finish_s"], b["finish_s"], rtol=0, atol=5e-7)
    np.testing.assert_allclose(o["wait_s"], b["wait_s"], rtol=0, atol=5e-7)
    cols = ["mean_wait_s", "p95_wait_s", "events"]
    np.testing.assert_allclose(own.summary[cols], builtin.summary[cols], rtol=1e-12)


def test_longest_first_changes_the_order():
    class Longest:
        def ready_key(self, view):
            return -view.estimate
    sjf = vmsched.run(scenario(), ["fcfs/sjf"], seed=5, replications=1, n_vms=1500).means()
    lj = vmsched.run(scenario(), ["fcfs/longest"], seed=5, replications=1, n_vms=1500,
                     cpu_policy=Longest()).means()
    assert lj.iloc[0]["mean_wait_s"] > sjf.iloc[0]["mean_wait_s"]


def test_bad_policy_objects():
    with pytest.raises(vmsched.VmschedError, match="has no method ready_key"):
        vmsched.run(scenario(), n_vms=200, replications=1, cpu_policy=object())

    class Raises:
        def ready_key(self, view):
            raise RuntimeError("boom")
    with pytest.raises(vmsched.VmschedError, match="ready_key raised RuntimeError: boom"):
        vmsched.run(scenario(), n_vms=200, replications=1, cpu_policy=Raises())

    class Nan:
        def ready_key(self, view):
            return float("nan")
    with pytest.raises(vmsched.VmschedError, match="returned NaN"):
        vmsched.run(scenario(), n_vms=200, replications=1, cpu_policy=Nan())

    class Text:
        def ready_key(self, view):
            return "soon"
    with pytest.raises(vmsched.VmschedError, match="must return a number"):
        vmsched.run(scenario(), n_vms=200, replications=1, cpu_policy=Text())


class AdmitSjf:
    """Shortest job first at admission, as the built-in `sjf` admission policy."""

    calls = 0

    def queue_key(self, vm):
        self.calls += 1
        return vm.estimate


def admission_scenario():
    # One host at overcommit 1: a VM waits in the admission queue until the vCPUs and
    # memory of VMs that finished make room, so the admission order decides.
    return vmsched.Scenario.default().set("run.warmup_vms", 100)


def test_python_admission_equals_the_built_in_vm_by_vm():
    sc = admission_scenario()
    builtin = vmsched.run(sc, ["sjf/fcfs"], seed=5, replications=2, n_vms=1500, vms=True)
    policy = AdmitSjf()
    own = vmsched.run(sc, ["sjf/fcfs"], seed=5, replications=2, n_vms=1500, vms=True,
                      admission_policy=policy)
    fcfs = vmsched.run(sc, ["fcfs/fcfs"], seed=5, replications=2, n_vms=1500, vms=True)
    assert policy.calls > 100
    b = builtin.vms.sort_values(["replication", "id"]).reset_index(drop=True)
    f = fcfs.vms.sort_values(["replication", "id"]).reset_index(drop=True)
    o = own.vms
    assert len(o) == len(b) == 2 * 1500
    np.testing.assert_array_equal(o["id"], b["id"])
    np.testing.assert_allclose(o["first_run_s"], b["first_run_s"], rtol=0, atol=5e-7)
    np.testing.assert_allclose(o["finish_s"], b["finish_s"], rtol=0, atol=5e-7)
    # The admission order matters here: FCFS admission gives other start times.
    assert (np.abs(f["first_run_s"] - b["first_run_s"]) > 1e-6).any()
    cols = ["mean_wait_s", "p95_wait_s", "events"]
    np.testing.assert_allclose(own.summary[cols], builtin.summary[cols], rtol=1e-12)


def test_python_admission_and_cpu_together():
    class Cpu:
        def ready_key(self, view):
            return view.remaining_estimate
    sc = admission_scenario().set("hosts.overcommit", 3.0)
    builtin = vmsched.run(sc, ["sjf/sjf"], seed=2, replications=1, n_vms=800)
    own = vmsched.run(sc, ["sjf/sjf"], seed=2, replications=1, n_vms=800,
                      cpu_policy=Cpu(), admission_policy=AdmitSjf())
    cols = ["mean_wait_s", "p95_wait_s", "events"]
    np.testing.assert_allclose(own.summary[cols], builtin.summary[cols], rtol=1e-12)


def test_bad_admission_objects():
    with pytest.raises(vmsched.VmschedError, match="has no method queue_key"):
        vmsched.run(admission_scenario(), n_vms=200, replications=1, admission_policy=object())

    class Nan:
        def queue_key(self, vm):
            return float("nan")
    with pytest.raises(vmsched.VmschedError, match="queue_key returned NaN"):
        vmsched.run(admission_scenario(), n_vms=2000, replications=1, admission_policy=Nan())
