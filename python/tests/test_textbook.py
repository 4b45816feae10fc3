"""vmsched.textbook: the textbook numbers, worked out by hand."""
import pandas as pd
import pytest

import vmsched


def test_rr_quantum_4_by_hand():
    # P1 24, P2 3, P3 3 at 0, quantum 4: P1 0–4, P2 4–7, P3 7–10, P1 10–30.
    # Waits: P1 30 − 24 = 6, P2 4, P3 7 → 17/3.
    t = vmsched.textbook("rr")
    assert list(t["name"]) == ["P1", "P2", "P3"]
    assert list(t["waiting"]) == [6.0, 4.0, 7.0]
    assert list(t["finish"]) == [30.0, 7.0, 10.0]
    assert t["waiting"].mean() == pytest.approx(17 / 3)
    first = t.slices.head(3)
    assert list(first["name"]) == ["P1", "P2", "P3"]
    assert list(first["start"]) == [0.0, 4.0, 7.0]


def test_a_dataframe_table_and_another_policy():
    df = pd.DataFrame({"name": ["A", "B", "C", "D"], "arrival": [0, 0, 0, 0],
                       "burst": [6, 8, 7, 3], "priority": [0, 0, 0, 0]})
    # SJF by hand: D 0–3, A 3–9, C 9–16, B 16–24 → waits 3, 16, 9, 0 (mean 7).
    t = vmsched.textbook(df, policy="sjf")
    assert dict(zip(t["name"], t["waiting"])) == {"A": 3.0, "B": 16.0, "C": 9.0, "D": 0.0}
    # FCFS in table order: A 0–6, B 6–14, C 14–21, D 21–24 → waits 0, 6, 14, 21.
    t = vmsched.textbook(df, policy="fcfs")
    assert list(t["waiting"]) == [0.0, 6.0, 14.0, 21.0]


def test_gantt_draws_one_bar_per_slice():
    import matplotlib
    matplotlib.use("Agg")  # tests only: no display
    t = vmsched.textbook("srtf")
    ax = t.gantt()
    bars = sum(len(c.get_paths()) for c in ax.collections)
    assert bars == len(t.slices) > 4
    assert ax.get_title() == "srtf under srtf"


def test_textbook_errors():
    with pytest.raises(vmsched.VmschedError, match="unknown textbook case `nosuch`"):
        vmsched.textbook("nosuch")
    bad = pd.DataFrame({"name": ["A"], "arrival": [0], "burst": [-5]})
    with pytest.raises(vmsched.VmschedError, match=r"<DataFrame>:2: burst: must be a non-negative"):
        vmsched.textbook(bad)


def test_cpu_share_of_weights_2_to_1_is_processor_sharing():
    # Two processes of 2 s at weights 2 : 1 on one pCPU under fair, 10 ms slices: as the
    # slice goes to 0 this is generalized processor sharing, A at 2/3 of the pCPU and B
    # at 1/3 until A finishes at 2 / (2/3) = 3 s, then B alone (1 s left... 2 − 3 × 1/3
    # = 1 s) until 4 s.
    df = pd.DataFrame({"name": ["A", "B"], "arrival": [0, 0], "burst": [2, 2],
                       "priority": [0, 0], "weight": [2048, 1024]})
    t = vmsched.textbook(df, policy="fair", quantum=0.01)
    s = t.cpu_share(1.0)
    a = s[s["name"] == "A"]
    b = s[s["name"] == "B"]
    assert list(a["time"]) == [1.0, 2.0, 3.0]
    assert list(b["time"]) == [1.0, 2.0, 3.0, 4.0]
    # Within two slices (0.02 s) of the fluid shares in each 1 s interval.
    assert list(a["share"]) == pytest.approx([2 / 3] * 3, abs=0.02)
    assert list(b["share"]) == pytest.approx([1 / 3] * 3 + [1.0], abs=0.02)
    # Every second of work is somewhere: 2 s each.
    assert a["cpu"].sum() == pytest.approx(2.0) and b["cpu"].sum() == pytest.approx(2.0)
    with pytest.raises(ValueError):
        t.cpu_share(0)
