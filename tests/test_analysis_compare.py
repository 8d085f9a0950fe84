"""compare(): METHOD.md worked examples, edge cases, and properties of the achievement rule."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from reviewkit.analysis import achievement, compare
from reviewkit.errors import InputError

# METHOD.md "Worked examples": (key, plan, actual, unit, expected achievement)
METHOD_EXAMPLES = [
    ("q3_east_sales", 1200, 1080, "万元", 0.90),
    ("new_customers", 500, 420, "个", 0.84),
    ("ka_repurchase", 0.15, 0.18, "%", 1.20),
    ("registered_users", 500, 550, "万", 1.10),
    ("mau", 200, 180, "万", 0.90),
    ("major_releases", 3, 3, "个", 1.00),
]


def _kpis(rows):
    return pd.DataFrame(rows)


@pytest.fixture
def method_case():
    kpis = _kpis([{"key": k, "name": k, "unit": u, "direction": "higher"}
                  for k, _, _, u, _ in METHOD_EXAMPLES])
    sc = pd.DataFrame([{"unit": "公司", "kpi": k, "target": p, "actual": a}
                       for k, p, a, _, _ in METHOD_EXAMPLES])
    return kpis, sc


def test_method_worked_examples(method_case):
    kpis, sc = method_case
    out = compare(sc, kpis).set_index("kpi")
    for key, plan, actual, _, expected in METHOD_EXAMPLES:
        assert out.loc[key, "achievement"] == pytest.approx(expected, abs=1e-12), key
        assert out.loc[key, "gap"] == pytest.approx(actual - plan)
    # thresholds: green >= 100%, amber >= 90% (90.0% exactly is amber, not red)
    assert out.loc["q3_east_sales", "status"] == "amber"
    assert out.loc["mau", "status"] == "amber"
    assert out.loc["new_customers", "status"] == "red"
    assert out.loc["ka_repurchase", "status"] == "green"
    assert out.loc["major_releases", "status"] == "green"
    assert out.loc["registered_users", "status"] == "green"
    # percent KPI gap shown in percentage points
    assert out.loc["ka_repurchase", "gap_pp"] == pytest.approx(3.0)
    assert math.isnan(out.loc["q3_east_sales", "gap_pp"])


def test_lower_is_better_linear_and_inverse():
    kpis = _kpis([{"key": "days", "unit": "天", "direction": "lower"}])
    sc = pd.DataFrame({"unit": ["A", "B", "C"], "kpi": "days", "target": [10, 10, 10],
                       "actual": [8, 12, 0]})
    lin = compare(sc, kpis)
    assert list(lin["achievement"]) == pytest.approx([1.2, 0.8, 2.0])
    inv = compare(sc, kpis, lower_rule="inverse")
    # 10/8 = 1.25; 10/12; actual 0 would explode -> bounded at 2.0
    assert list(inv["achievement"]) == pytest.approx([1.25, 10 / 12, 2.0])
    assert "bounded" in inv.loc[2, "note"]
    inv_cap = compare(sc, kpis, lower_rule="inverse", cap=1.5)
    assert inv_cap.loc[2, "achievement"] == pytest.approx(1.5)
    with pytest.raises(InputError, match="lower_rule"):
        compare(sc, kpis, lower_rule="log")


def test_range_kpi():
    kpis = _kpis([{"key": "stock_days", "unit": "天", "direction": "range", "range_low": 20,
                   "range_high": 30}])
    sc = pd.DataFrame({"unit": list("ABCD"), "kpi": "stock_days", "target": 25,
                       "actual": [25, 20, 15, 45]})
    out = compare(sc, kpis)
    # inside -> 1; 5 below the low bound of 20 -> 1 - 5/20; 15 above 30 -> 1 - 15/30
    assert list(out["achievement"]) == pytest.approx([1.0, 1.0, 0.75, 0.5])
    assert list(out["status"]) == ["green", "green", "red", "red"]
    with pytest.raises(InputError, match="range"):
        compare(sc, _kpis([{"key": "stock_days", "direction": "range"}]))


def test_target_zero_and_negative():
    kpis = _kpis([{"key": "profit", "unit": "万元"}, {"key": "complaints", "unit": "个",
                                                     "direction": "lower"}])
    sc = pd.DataFrame({"unit": ["A", "B", "C", "D", "E"],
                       "kpi": ["profit", "profit", "profit", "complaints", "complaints"],
                       "target": [0, -100, -100, 0, 0], "actual": [50, -80, -150, 0, 3]})
    out = compare(sc, kpis)
    assert math.isnan(out.loc[0, "achievement"]) and out.loc[0, "status"] == "green"
    assert "target is 0" in out.loc[0, "note"]
    assert math.isnan(out.loc[0, "gap_pct"])
    # loss target -100, loss of 80 is better: 1 + 20/100
    assert out.loc[1, "achievement"] == pytest.approx(1.2)
    assert out.loc[2, "achievement"] == pytest.approx(0.5)
    assert out.loc[2, "status"] == "red"
    assert "negative target" in out.loc[1, "note"]
    assert list(out.loc[3:, "status"]) == ["green", "red"]


def test_history_nm_trend_and_pp():
    kpis = _kpis([{"key": "sales", "unit": "万元"}, {"key": "renewal", "unit": "%",
                                                    "aggregation": "ratio"}])
    sc = pd.DataFrame({"unit": ["A", "B", "C", "A"], "kpi": ["sales", "sales", "sales", "renewal"],
                       "target": [100, 100, 100, 0.8], "actual": [120, 50, 30, 0.72],
                       "last_year": [100, 0, -20, 0.80], "year_before": [110, 10, 5, 0.75]})
    out = compare(sc, kpis)
    assert out.loc[0, "change_ly"] == 20 and out.loc[0, "change_ly_pct"] == pytest.approx(0.2)
    assert out.loc[0, "trend"] == "down-up"
    assert out.loc[0, "change_2y_pct"] == pytest.approx(120 / 110 - 1)
    for i in (1, 2):  # base <= 0 -> n.m.
        assert math.isnan(out.loc[i, "change_ly_pct"]) and out.loc[i, "change_ly_nm"]
        assert "n.m." in out.loc[i, "note"]
    assert out.loc[1, "trend"] == "down-up" and out.loc[2, "trend"] == "down-up"
    assert out.loc[3, "change_ly_pp"] == pytest.approx(-8.0)
    assert out.loc[3, "change_prev_pp"] == pytest.approx(5.0)
    assert out.loc[3, "trend"] == "up-down"
    assert not out.loc[3, "change_ly_favourable"]


def test_benchmarks_direction_aware():
    kpis = _kpis([{"key": "sales"}, {"key": "cost", "direction": "lower"}])
    sc = pd.DataFrame({"unit": ["A", "A"], "kpi": ["sales", "cost"], "target": [100, 10],
                       "actual": [100, 10], "industry_avg": [90, 12], "competitor": [110, 8],
                       "industry_top": [np.nan, 5]})
    out = compare(sc, kpis)
    assert list(out["gap_industry_avg"]) == [10, -2]
    assert list(out["beat_industry_avg"]) == [True, True]
    assert list(out["beat_competitor"]) == [False, False]
    assert out.loc[0, "beat_industry_top"] is pd.NA and not out.loc[1, "beat_industry_top"]


def test_missing_actual_is_grey_and_neutral_band_and_cap():
    kpis = _kpis([{"key": "x", "neutral_band": 0.02, "cap": 1.5}, {"key": "y"}])
    sc = pd.DataFrame({"unit": ["A", "B", "C", "D"], "kpi": ["x", "x", "x", "y"],
                       "target": [100, 100, 100, np.nan], "actual": [np.nan, 98.5, 300, 5]})
    out = compare(sc, kpis, cap=1.2)
    assert out.loc[0, "status"] == "grey" and "no actual" in out.loc[0, "note"]
    assert out.loc[1, "status"] == "neutral"
    # KPI's own cap (1.5) wins over the argument (1.2)
    assert out.loc[2, "achievement"] == 1.5 and out.loc[2, "achievement_uncapped"] == 3.0
    assert out.loc[3, "status"] == "grey" and "no target" in out.loc[3, "note"]


def test_custom_thresholds():
    kpis = _kpis([{"key": "x", "green": 0.95, "amber": 0.8}])
    sc = pd.DataFrame({"unit": list("ABC"), "kpi": "x", "target": 100, "actual": [95, 80, 79]})
    assert list(compare(sc, kpis)["status"]) == ["green", "amber", "red"]


def test_bad_inputs_raise_input_error():
    kpis = _kpis([{"key": "x"}])
    with pytest.raises(InputError, match="not in table 'kpis'") as e:
        compare(pd.DataFrame({"unit": ["A"], "kpi": ["nope"], "target": [1], "actual": [1]}), kpis)
    assert "nope" in str(e.value)
    with pytest.raises(InputError, match="non-numeric") as e:
        compare(pd.DataFrame({"unit": ["A"], "kpi": ["x"], "target": ["abc"], "actual": [1]}),
                kpis)
    assert "abc" in str(e.value)
    with pytest.raises(InputError, match="twice"):
        compare(pd.DataFrame({"unit": ["A", "A"], "kpi": ["x", "x"], "target": 1, "actual": 1}),
                kpis)
    with pytest.raises(InputError, match="lacks column"):
        compare(pd.DataFrame({"unit": ["A"]}), kpis)
    with pytest.raises(InputError, match="direction"):
        compare(pd.DataFrame({"unit": ["A"], "kpi": ["x"], "target": 1, "actual": 1}),
                _kpis([{"key": "x", "direction": "up"}]))
    with pytest.raises(InputError, match="DataFrame"):
        compare([1, 2], kpis)


def test_empty_scorecard_gives_empty_frame():
    out = compare(pd.DataFrame(columns=["unit", "kpi", "target", "actual"]),
                  _kpis([{"key": "x"}]))
    assert out.empty and "achievement" in out.columns


def test_numbers_as_text_with_thousands_separator():
    out = compare(pd.DataFrame({"unit": ["A"], "kpi": ["x"], "target": ["1,200"],
                                "actual": ["1,080"]}), _kpis([{"key": "x"}]))
    assert out.loc[0, "achievement"] == pytest.approx(0.9)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(t=finite.filter(lambda v: abs(v) > 1e-6), a1=finite, a2=finite)
def test_achievement_monotone_in_actual(t, a1, a2):
    lo, hi = min(a1, a2), max(a1, a2)
    assert achievement(hi, t, "higher") >= achievement(lo, t, "higher")
    assert achievement(hi, t, "lower") <= achievement(lo, t, "lower")
    if t > 0:
        assert achievement(hi, t, "lower", lower_rule="inverse") <= \
            achievement(lo, t, "lower", lower_rule="inverse") + 1e-12


@settings(max_examples=200, deadline=None)
@given(t=st.floats(1e-3, 1e6), a=st.floats(0, 1e6))
def test_achievement_matches_textbook_formula_for_positive_targets(t, a):
    assert achievement(a, t, "higher") == pytest.approx(a / t, rel=1e-9, abs=1e-9)
    assert achievement(a, t, "lower") == pytest.approx(2 - a / t, rel=1e-9, abs=1e-9)
    assert achievement(t, t, "higher") == pytest.approx(1.0)
    assert achievement(t, t, "lower") == pytest.approx(1.0)


def test_is_percent_flag_from_text_and_single_unit():
    kpis = _kpis([{"key": "x", "unit": "", "is_percent": "TRUE"},
                  {"key": "y", "unit": "%", "is_percent": "FALSE"}])
    sc = pd.DataFrame({"unit": ["A", "A"], "kpi": ["x", "y"], "target": [0.5, 0.5],
                       "actual": [0.6, 0.6], "last_year": [0.5, 0.5]})
    out = compare(sc, kpis)
    assert list(out["is_percent"]) == [True, False]
    assert out.loc[0, "change_ly_pp"] == pytest.approx(10.0)
    assert len(out) == 2 and list(out["status"]) == ["green", "green"]


def _reference(actual, target, direction, green, amber, band):
    """Scalar restatement of docs/analysis.md, written independently of the vectorised code."""
    if actual is None:
        return None, "grey"
    if target is None:
        return None, "grey"
    if target == 0:
        good = actual >= 0 if direction == "higher" else actual <= 0
        return None, "green" if good else "red"
    if direction == "higher":
        ach = actual / target if target > 0 else 1 + (actual - target) / abs(target)
    else:
        ach = 2 - actual / target if target > 0 else 1 - (actual - target) / abs(target)
    r = round(ach, 9)
    if band is not None and abs(r - 1) <= band + 1e-9:
        return ach, "neutral"
    return ach, "green" if r >= green else "amber" if r >= amber else "red"


maybe = st.one_of(st.none(), st.integers(-50, 200).map(float))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(maybe, maybe, st.sampled_from(["higher", "lower"])), min_size=1,
                max_size=8),
       st.sampled_from([(1.0, 0.9, None), (0.95, 0.8, 0.02), (1.1, 1.0, None)]))
def test_property_status_matches_reference(rows, thresholds):
    green, amber, band = thresholds
    kpis = _kpis([{"key": d, "direction": d, "green": green, "amber": amber,
                   "neutral_band": band if band is not None else np.nan}
                  for d in ("higher", "lower")])
    sc = pd.DataFrame({"unit": [f"u{i}" for i in range(len(rows))],
                       "kpi": [r[2] for r in rows],
                       "actual": [np.nan if r[0] is None else r[0] for r in rows],
                       "target": [np.nan if r[1] is None else r[1] for r in rows]})
    out = compare(sc, kpis)
    for (a, t, d), (_, got) in zip(rows, out.iterrows()):
        ach, status = _reference(a, t, d, green, amber, band)
        assert got["status"] == status, (a, t, d)
        if ach is None:
            assert math.isnan(got["achievement"])
        else:
            assert got["achievement"] == pytest.approx(ach, rel=1e-12, abs=1e-12)


def test_inverse_rule_with_a_missing_actual_is_not_assessable():
    # no actual: no achievement, whatever the rule (the inverse rule used to give its bound, 2.0)
    assert math.isnan(achievement(np.nan, 100, "lower", lower_rule="inverse"))
    assert math.isnan(achievement(np.nan, 100, "lower", lower_rule="inverse", cap=1.5))
    assert achievement(0, 100, "lower", lower_rule="inverse") == pytest.approx(2.0)  # actual 0: bounded
    kpis = _kpis([{"key": "days", "unit": "天", "direction": "lower"}])
    sc = pd.DataFrame({"unit": ["A", "B"], "kpi": "days", "target": [10, 10], "actual": [np.nan, 5]})
    out = compare(sc, kpis, lower_rule="inverse")
    assert math.isnan(out.loc[0, "achievement"]) and out.loc[0, "status"] == "grey"
    assert out.loc[1, "achievement"] == pytest.approx(2.0)
