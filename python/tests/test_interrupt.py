"""Ctrl-C stops a long run promptly, raises KeyboardInterrupt, and leaves the process
usable."""
import _thread
import threading
import time

import pytest

import vmsched

# Long enough that finishing would take far more than the allowed stop time (each run
# simulates millions of VMs; 4 policies × 4 replications of them).
BIG = dict(replications=4, n_vms=3_000_000, threads=2)


def interrupt_after(seconds):
    t = threading.Timer(seconds, _thread.interrupt_main)
    t.start()
    return t


@pytest.mark.parametrize("call", ["run", "sweep"])
def test_ctrl_c_stops_a_long_call(call):
    sc = vmsched.Scenario.default()
    timer = interrupt_after(0.5)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        if call == "run":
            vmsched.run(sc, ["fcfs", "sjf", "srtf", "priority"], **BIG)
        else:
            vmsched.sweep(sc, {"hosts.count": [1, 2]}, ["fcfs", "sjf"], **BIG)
    elapsed = time.monotonic() - start
    timer.join()
    # The signal came at 0.5 s; the runs under way end at their next 256 VMs and finish
    # the VMs already admitted. The 16 runs of 3,000,000 VMs take about half a minute on
    # two cores (0.3 s per 300,000 VMs and run on the development machine).
    assert elapsed < 5.0, elapsed
    # The process is intact: the next call runs normally.
    r = vmsched.run(sc, ["fcfs"], replications=1, n_vms=500)
    assert len(r.summary) > 0


def test_ctrl_c_stops_a_run_with_a_python_policy():
    class Sjf:
        def ready_key(self, view):
            return view.remaining_estimate

    # A Python policy runs with the GIL held; its calls look for Ctrl-C every 1,024 keys.
    # 2 replications of 2,000,000 VMs take tens of seconds with a key call per decision.
    sc = vmsched.Scenario.default().set("hosts.overcommit", 3.0)
    timer = interrupt_after(0.5)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        vmsched.run(sc, ["fcfs/sjf"], replications=2, n_vms=2_000_000, cpu_policy=Sjf())
    elapsed = time.monotonic() - start
    timer.join()
    # After the signal the replication under way ends without calling Python.
    assert elapsed < 5.0, elapsed
