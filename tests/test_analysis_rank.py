"""rank(): hand example, ties, overall score, and the permutation-with-ties property."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from reviewkit.analysis import OVERALL, rank

KPIS = pd.DataFrame([{"key": "sales", "unit": "万元", "weight": 2},
                     {"key": "days", "unit": "天", "direction": "lower", "weight": 1}])


def test_hand_ranked_with_ties_and_history():
    sc = pd.DataFrame({
        "unit": ["A", "B", "C", "D"] * 2,
        "kpi": ["sales"] * 4 + ["days"] * 4,
        "target": [100, 100, 100, 100, 10, 10, 10, 10],
        "actual": [120, 90, 120, 80, 8, 12, 8, np.nan],
        "last_year": [80, 110, 100, 90, 9, 7, 11, 10]})
    out = rank(sc, KPIS)
    s = out[out["kpi"] == "sales"].set_index("unit")
    assert list(s["rank"]) == [1, 3, 1, 4]           # A and C tie for first
    assert list(s["rank_ly"]) == [4, 1, 2, 3]
    assert list(s["rank_change"]) == [3, -2, 1, -1]  # positive = moved up
    d = out[out["kpi"] == "days"].set_index("unit")
    assert d.loc["A", "rank"] == 1 and d.loc["B", "rank"] == 3 and d.loc["D", "rank"] is pd.NA
    assert list(d["n_units"]) == [3, 3, 3, 3]
    assert list(d["rank_ly"]) == [2, 1, 4, 3]
    o = out[out["kpi"] == OVERALL].set_index("unit")
    # weighted achievement: A (2*1.2 + 1*1.2)/3; D only has sales -> 0.8
    assert o.loc["A", "score"] == pytest.approx(1.2)
    assert o.loc["B", "score"] == pytest.approx((2 * 0.9 + 1 * 0.8) / 3)
    assert o.loc["D", "score"] == pytest.approx(0.8)
    assert o.loc["A", "rank"] == 1 and o.loc["C", "rank"] == 1 and o.loc["D", "rank"] == 4
    # last year's actuals measured against this year's targets
    assert o.loc["A", "score_ly"] == pytest.approx((2 * 0.8 + 1 * 1.1) / 3)


def test_single_unit_and_empty():
    sc = pd.DataFrame({"unit": ["A"], "kpi": ["sales"], "target": [1], "actual": [2]})
    out = rank(sc, KPIS)
    assert list(out["rank"]) == [1, 1]
    assert out["rank_change"].isna().all()
    empty = rank(pd.DataFrame(columns=["unit", "kpi", "target", "actual"]), KPIS)
    assert empty.empty and "rank_change" in empty.columns


def _expected_min_rank(values, higher):
    """Independent rank: 1 + number of strictly better values."""
    v = np.asarray(values, dtype=float)
    better = (v[None, :] > v[:, None]) if higher else (v[None, :] < v[:, None])
    return 1 + better.sum(axis=1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=12), st.sampled_from(["sales", "days"]))
def test_property_ranks_are_permutation_with_ties(values, kpi):
    units = [f"u{i}" for i in range(len(values))]
    sc = pd.DataFrame({"unit": units, "kpi": kpi, "target": 5.0, "actual": values,
                       "last_year": values[::-1]})
    out = rank(sc, KPIS).query("kpi == @kpi")
    r = out["rank"].to_numpy(dtype=int)
    assert list(r) == list(_expected_min_rank(values, kpi == "sales"))
    # permutation with ties: sorted ranks are 1 then each value r repeated m times, next r + m
    srt = sorted(r)
    assert srt[0] == 1
    for a, b in zip(srt, srt[1:]):
        assert b == a or b == srt.index(b) + 1
    assert max(r) <= len(values)
    assert list(out["rank_ly"].to_numpy(dtype=int)) == list(
        _expected_min_rank(values[::-1], kpi == "sales"))
