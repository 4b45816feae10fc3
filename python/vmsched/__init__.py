"""vmsched from Python: scenarios in, pandas DataFrames out.

    >>> import vmsched
    >>> sc = vmsched.Scenario.default().set("hosts.count", 2)
    >>> res = vmsched.run(sc, policies=["fcfs", "sjf"], seed=1, replications=2, vms=2000)
    >>> res.summary[["policy", "replication", "mean_wait_s"]]   # doctest: +SKIP

The simulation runs in the compiled library (the same code as the ``vmsched`` command),
with Python's GIL released; results come back as columns and become DataFrames with the
column names of the command's CSV files (``summary.csv``, ``vms.csv``, ``sweep.csv``,
``capacity.csv``, ``textbook --format csv``). Bad input raises :class:`VmschedError`
with the message the command line prints (``file:line: key: …``).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import pandas as pd

from . import _vmsched
from ._vmsched import Scenario, VcpuView, VmschedError, VmView

__all__ = [
    "Scenario",
    "VcpuView",
    "VmView",
    "VmschedError",
    "RunResult",
    "Textbook",
    "run",
    "sweep",
    "capacity",
    "textbook",
    "textbook_cases",
    "policies",
    "__version__",
]

__version__: str = _vmsched.__version__


def _frame(cols: Any) -> pd.DataFrame:
    names, data = cols
    return pd.DataFrame(data, columns=names)


def _progress(progress: Union[bool, Callable[[int, int], Any], None]):
    """A ``(callback, close)`` pair: a tqdm bar when ``progress`` is True and tqdm is
    installed, the caller's own ``f(done, total)``, or nothing."""
    if callable(progress):
        return progress, lambda: None
    if not progress:
        return None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, lambda: None
    bar = tqdm(unit="run")

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


@dataclass
class RunResult:
    """What :func:`run` returns.

    Attributes:
        summary: the rows of ``summary.csv`` (per policy, replication and priority class,
            then the ``mean`` rows with ``ci95_mean_wait_s``); as in the file, it ends
            with ``energy_kwh``, ``mean_power_w`` and ``hosts_on_mean`` when the scenario
            configures power, power-off or failures, then with ``migrations`` and
            ``mean_migration_downtime_s`` when it configures live migration.
        vms: one row per VM (the columns of ``vms.csv``), or None unless ``vms=True``.
        timeline: utilisation and queue lengths over time (``timeline.csv``), or None when
            the scenario sets no ``run.timeline_s``.
        cpu_share: each VM's CPU time per interval (``cpu_share.csv``: policy,
            replication, time_s = the interval's end, vm, cpu_s, share in pCPUs) when the
            scenario sets ``run.cpu_share_s`` (the interval in seconds), or sets weights
            or a CPU cap (then the interval is chosen: 1, 2, 10, 20, 100 … ms, at most 400
            intervals); else None.
        rejected: VMs that no host could ever hold, over all runs.
        scenario: the scenario that ran (overrides applied), as TOML text.
    """

    summary: pd.DataFrame
    vms: Optional[pd.DataFrame]
    timeline: Optional[pd.DataFrame]
    rejected: int
    scenario: str
    cpu_share: Optional[pd.DataFrame] = None

    def means(self) -> pd.DataFrame:
        """The ``mean`` rows over all VMs (class ``all``), one per policy, indexed by policy."""
        s = self.summary
        return s[(s["replication"] == "mean") & (s["class"] == "all")].set_index("policy")


def run(
    scenario: Optional[Scenario] = None,
    policies: Sequence[str] = ("fcfs", "sjf", "priority"),
    *,
    seed: Optional[int] = None,
    replications: Optional[int] = None,
    vms: Union[bool, int] = False,
    n_vms: Optional[int] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[[int, int], Any]] = False,
    cpu_policy: Any = None,
    admission_policy: Any = None,
) -> RunResult:
    """Runs every policy × replication of ``scenario`` (``vmsched compare``).

    Args:
        scenario: the scenario (default: ``Scenario.default()``).
        policies: CPU policy names (a name sets both levels) or ``"ADMISSION/CPU"``.
        seed: master seed (default: the scenario's ``run.seed``).
        replications: replications per policy (default: the scenario's).
        vms: True to keep one row per VM in ``result.vms``. An integer is taken as
            ``n_vms`` (and per-VM rows are not kept), for the CLI's ``--vms N``.
        n_vms: VM arrivals per replication (the CLI's ``--vms``).
        threads: worker threads (default: one per core); results do not depend on it.
        progress: True for a tqdm bar (if tqdm is installed), or a function
            ``f(done, total)`` called after each run.
        cpu_policy: a CPU policy written in Python instead of ``policies``: an object with
            ``ready_key(view) -> float`` (smaller runs first; ``view`` is a
            :class:`VcpuView`: vm, priority, arrival, estimate, attained, ready_since,
            preempted, remaining_estimate, times in seconds) and optional ``preemptive``
            and ``time_sliced`` attributes. ``policies[0]`` labels the results; written
            ``"ADMISSION/NAME"`` (e.g. ``"fcfs/mine"``) it also picks the admission policy,
            else the scenario's admits; ``vms`` then has the columns
            policy, replication, id, priority, arrival_s, first_run_s, finish_s,
            service_s, wait_s, turnaround_s. Runs one replication after another, with
            the GIL held.
        admission_policy: an admission policy written in Python: an object with
            ``queue_key(vm) -> float`` (the smallest key is admitted first; it must not
            change while the VM waits; ``vm`` is a :class:`VmView`: id, arrival, vcpus,
            memory_mib, priority, estimate, tenant, times in seconds). The CPU level is
            then ``cpu_policy`` if given, else the one ``policies[0]`` names as
            ``"ADMISSION/CPU"`` (e.g. ``"mine/fcfs"``), else the scenario's. Results as
            with ``cpu_policy``.

    Ctrl-C (``KeyboardInterrupt``) stops a run within a fraction of a second: the
    runs under way end early, their results are dropped, and the exception is raised.

    Returns:
        A :class:`RunResult`; ``summary`` equals the ``summary.csv`` that
        ``vmsched compare`` writes for the same scenario, policies and seed.
    """
    if isinstance(vms, int) and not isinstance(vms, bool):
        n_vms, keep = vms, False
    else:
        keep = bool(vms)
    sc = scenario if scenario is not None else Scenario.default()
    if cpu_policy is not None or admission_policy is not None:
        own = cpu_policy if cpu_policy is not None else admission_policy
        label = list(policies)[0] if policies else type(own).__name__
        out = _vmsched.run_own_policy(sc, cpu_policy, label, seed=seed,
                                      replications=replications, vms=n_vms, keep_vms=keep,
                                      admission_policy=admission_policy)
        return RunResult(
            summary=_frame(out["summary"]),
            vms=_frame(out["vms"]) if out["vms"] is not None else None,
            timeline=None, rejected=0, scenario=sc.to_toml(),
        )
    callback, close = _progress(progress)
    try:
        out = _vmsched.compare(
            sc, list(policies), seed=seed, replications=replications, vms=n_vms,
            keep_vms=keep, threads=threads, progress=callback,
        )
    finally:
        close()
    return RunResult(
        summary=_frame(out["summary"]),
        vms=_frame(out["vms"]) if out["vms"] is not None else None,
        timeline=_frame(out["timeline"]) if out["timeline"] is not None else None,
        rejected=int(out["rejected"]),
        scenario=out["scenario"],
        cpu_share=_frame(out["cpu_share"]) if out["cpu_share"] is not None else None,
    )


def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def sweep(
    scenario: Optional[Scenario] = None,
    grid: Optional[Dict[str, Iterable[Any]]] = None,
    policies: Optional[Sequence[str]] = None,
    *,
    seed: Optional[int] = None,
    replications: Optional[int] = None,
    n_vms: Optional[int] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[[int, int], Any]] = False,
) -> pd.DataFrame:
    """A grid of scenario keys × policies × replications (``vmsched sweep``).

    Args:
        grid: ``{dotted key: values}``, e.g. ``{"hosts.count": [2, 3, 4]}``; several keys
            make their cartesian product (the first varies slowest).
        policies: policy names; None runs each cell's own scenario policy.

    Returns:
        The rows of ``sweep.csv``: the axes, ``policy``, ``seed``, ``replications``, and per
        run metric its mean and ``ci95_<metric>``.
    """
    sc = scenario if scenario is not None else Scenario.default()
    axes = [(k, [_value_text(v) for v in vs]) for k, vs in (grid or {}).items()]
    callback, close = _progress(progress)
    try:
        cols = _vmsched.sweep(
            sc, axes, None if policies is None else list(policies), seed=seed,
            replications=replications, vms=n_vms, threads=threads, progress=callback,
        )
    finally:
        close()
    return _frame(cols)


def capacity(
    scenario: Optional[Scenario] = None,
    slo: str = "p95_wait_s<=30",
    vary: str = "hosts.count",
    *,
    min: int = 1,
    max: int = 16,
    load_scale: Sequence[float] = (1.0,),
    policies: Optional[Sequence[str]] = None,
    replications: Optional[int] = None,
    max_replications: Optional[int] = None,
    seed: Optional[int] = None,
    n_vms: Optional[int] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[[int, int], Any]] = False,
) -> pd.DataFrame:
    """The smallest value of ``vary`` in ``[min, max]`` meeting ``slo``, per policy and
    load level (``vmsched capacity``).

    Returns:
        The rows of ``capacity.csv``: ``policy``, ``load_scale``, ``key``, ``needed`` (NaN
        when not met), ``slo``, the metric at ``needed`` and below it with their 95 %
        half-widths, ``replications``, ``status``, ``monotone``, ``runs``.
    """
    sc = scenario if scenario is not None else Scenario.default()
    callback, close = _progress(progress)
    try:
        cols = _vmsched.capacity(
            sc, slo, vary, min, max, [float(x) for x in load_scale],
            policies=None if policies is None else list(policies),
            replications=replications, max_replications=max_replications, seed=seed,
            vms=n_vms, threads=threads, progress=callback,
        )
    finally:
        close()
    return _frame(cols)


class Textbook(pd.DataFrame):
    """A solved textbook table (the columns of ``vmsched textbook --format csv``: name,
    arrival, burst, priority, start, finish, waiting, turnaround, response), with the
    schedule's slices in ``.slices`` and a ``.gantt()`` drawing."""

    _metadata = ["slices", "title"]

    @property
    def _constructor(self):
        return Textbook

    def gantt(self, ax=None):
        """Draws the Gantt chart with matplotlib (one bar per slice, one row per process)
        and returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.5 + 0.4 * len(self)))
        names = list(self["name"])
        row = {n: i for i, n in enumerate(names)}
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for _, s in self.slices.iterrows():
            i = row[s["name"]]
            ax.broken_barh([(s["start"], s["end"] - s["start"])], (i - 0.4, 0.8),
                           color=colors[i % len(colors)])
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_xlabel("time")
        ax.set_title(self.title)
        return ax

    def cpu_share(self, interval: float) -> pd.DataFrame:
        """Each process's CPU share per interval, from the schedule's slices (as
        ``cpu_share.csv`` gives it for a scenario run): one row per process and interval
        ``[time - interval, time)`` from the one holding its arrival to the one holding its
        finish, with columns ``time`` (the interval's end), ``name``, ``cpu`` (time run in
        the interval) and ``share`` (``cpu / interval``: 1 = the whole of one pCPU)."""
        import math

        if not interval > 0:
            raise ValueError(f"interval must be > 0, got {interval}")
        rows = []
        for _, p in self.iterrows():
            first = math.floor(p["arrival"] / interval)
            last = max(first, math.ceil(p["finish"] / interval) - 1)
            mine = self.slices[self.slices["name"] == p["name"]]
            for k in range(first, last + 1):
                a, b = k * interval, (k + 1) * interval
                cpu = float((mine["end"].clip(upper=b) - mine["start"].clip(lower=a))
                            .clip(lower=0).sum())
                rows.append((b, p["name"], cpu, cpu / interval))
        out = pd.DataFrame(rows, columns=["time", "name", "cpu", "share"])
        return out.sort_values(["time", "name"], kind="stable").reset_index(drop=True)


def textbook(
    table: Union[str, os.PathLike, pd.DataFrame],
    policy: Optional[str] = None,
    quantum: Optional[float] = None,
    context_switch: float = 0.0,
) -> Textbook:
    """Solves a process-scheduling exercise exactly (``vmsched textbook``).

    Args:
        table: a case name (see :func:`textbook_cases`), a CSV file, or a DataFrame, with
            the columns ``name, arrival, burst[, priority]``.
        policy: CPU policy (default: the case's own; ``fcfs`` for a table).
        quantum: the round-robin quantum in time units (default: the case's, else 4).
        context_switch: cost of a context switch in time units.
    """
    if isinstance(table, pd.DataFrame):
        buf = io.StringIO()
        table.to_csv(buf, index=False)
        out = _vmsched.textbook("<DataFrame>", buf.getvalue(), policy, quantum, context_switch)
    else:
        out = _vmsched.textbook(os.fspath(table), None, policy, quantum, context_switch)
    t = Textbook(_frame(out["table"]))
    t["priority"] = t["priority"].astype("int64")
    t.slices = _frame(out["slices"])
    t.title = out["title"]
    return t


def textbook_cases() -> pd.DataFrame:
    """The classic cases: name, description, policy and the textbook's average wait."""
    rows = _vmsched.textbook_cases()
    return pd.DataFrame(rows, columns=["name", "description", "policy", "avg_wait"])


def policies() -> Dict[str, List[str]]:
    """The policy names, ``{"admission": [...], "cpu": [...]}``."""
    a, c = _vmsched.policies()
    return {"admission": [n for n, _ in a], "cpu": [n for n, _ in c]}
