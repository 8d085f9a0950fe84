"""breakdown() and drilldown(): hand-worked figures, the renewal case of METHOD.md, identities."""
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from reviewkit.analysis import breakdown, drilldown
from reviewkit.errors import InputError

KPIS = pd.DataFrame([
    {"key": "sales", "name": "销售额", "unit": "万元", "measure": "sales"},
    {"key": "renewal", "name": "续费率", "unit": "%", "aggregation": "ratio",
     "numerator": "renewed", "denominator": "due"},
    {"key": "churn", "name": "流失率", "unit": "%", "aggregation": "ratio", "direction": "lower",
     "numerator": "lost", "denominator": "due"},
    {"key": "aov", "name": "客单价", "unit": "元", "aggregation": "average", "measure": "order"},
    {"key": "stock", "name": "库存", "aggregation": "last", "measure": "stock"},
])


def renewal_case():
    """METHOD.md question 2: renewals fell in small internet companies and in the cohort signed
    in 2023Q3 (delivery overloaded). Small internet firms also grew as a share of renewals due."""
    rows = []
    for year, ind, size, cohort, region in itertools.product(
            (2024, 2025), ("互联网", "制造", "零售"), ("<300", "300-999", "1000+"),
            ("2023Q1", "2023Q2", "2023Q3", "2023Q4"), ("华东", "华北")):
        small_net = ind == "互联网" and size == "<300"
        due = 150.0 if (year == 2025 and small_net) else 100.0
        rate = 0.80
        if year == 2025:
            if small_net:
                rate = 0.50
            if cohort == "2023Q3":
                rate -= 0.20
        rows.append({"period": f"{year}-12", "year": year, "industry": ind,
                     "company_size": size, "cohort": cohort, "region": region,
                     "due": due, "renewed": due * rate})
    return pd.DataFrame(rows)


def test_additive_hand_worked():
    facts = pd.DataFrame({"year": [2024] * 3 + [2025] * 3, "region": ["华东", "华北", "华南"] * 2,
                          "sales": [1000, 500, 300, 850, 700, 330]})
    out = breakdown(facts, "sales", KPIS, by="region").set_index("segment")
    assert out.attrs["total_change"] == 80
    east = out.loc["华东"]
    assert east["change"] == -150
    assert east["contribution_pp"] == pytest.approx(-150 / 1800 * 100)
    assert east["share_of_change"] == pytest.approx(-150 / 80)
    assert east["change_pct"] == pytest.approx(-0.15)
    assert east["driver"] == "down" and out.loc["华北", "driver"] == "up"
    assert out["contribution"].sum() == pytest.approx(80)
    assert out["share_of_change"].sum() == pytest.approx(1.0)
    # sorted by |contribution|
    assert list(out.index) == ["华北", "华东", "华南"]


def test_kitagawa_hand_worked():
    facts = pd.DataFrame({"year": [2024, 2024, 2025, 2025], "seg": ["A", "B", "A", "B"],
                          "due": [50, 50, 30, 70], "renewed": [40, 30, 24, 35]})
    out = breakdown(facts, "renewal", KPIS, by="seg").set_index("segment")
    # R0 = 0.70, R1 = 0.59; mean rates A .8 B .55, overall .645
    assert out.attrs["total_change"] == pytest.approx(-0.11)
    assert out.loc["A", "mix_effect"] == pytest.approx(-0.2 * (0.8 - 0.645))
    assert out.loc["B", "mix_effect"] == pytest.approx(0.2 * (0.55 - 0.645))
    assert out.loc["A", "rate_effect"] == pytest.approx(0.0)
    assert out.loc["B", "rate_effect"] == pytest.approx(0.6 * -0.1)
    assert out.loc["B", "contribution_pp"] == pytest.approx((0.2 * -0.095 - 0.06) * 100)
    assert out.loc["B", "base"] == pytest.approx(0.6) and out.loc["B", "current"] == 0.5
    assert abs(out.attrs["residual"]) < 1e-15


def test_segment_in_one_year_only_is_pure_mix():
    facts = pd.DataFrame({"year": [2024, 2025, 2025], "seg": ["A", "A", "New"],
                          "due": [10, 10, 10], "renewed": [8, 8, 2]})
    out = breakdown(facts, "renewal", KPIS, by="seg").set_index("segment")
    assert out.loc["New", "rate_effect"] == 0
    assert out["contribution"].sum() == pytest.approx(0.5 - 0.8)


def test_average_kpi_is_measure_per_row():
    facts = pd.DataFrame({"year": [2024, 2024, 2025, 2025, 2025], "ch": ["web", "app", "web",
                                                                       "app", "app"],
                          "order": [100, 200, 100, 260, 260]})
    out = breakdown(facts, "aov", KPIS, by="ch")
    assert out.attrs["total_base"] == pytest.approx(150)
    assert out.attrs["total_current"] == pytest.approx(620 / 3)
    assert out["contribution"].sum() == pytest.approx(620 / 3 - 150)
    assert out["contribution_pp"].isna().all()  # 元, not a percentage


def test_multi_dimension_and_other_grouping():
    f = renewal_case()
    out = breakdown(f, "renewal", KPIS, by=["industry", "company_size"])
    assert len(out) == 9 and out.loc[0, "segment"] == "互联网 / <300"
    assert out.loc[0, "driver"] == "down"
    assert out.loc[0, "mix_effect"] < 0 and out.loc[0, "rate_effect"] < 0
    grouped = breakdown(f, "renewal", KPIS, by=["industry", "company_size"], min_share=0.12)
    assert "其他/Other" in set(grouped["segment"])
    assert grouped["contribution"].sum() == pytest.approx(grouped.attrs["total_change"])


def test_renewal_case_breakdown_by_cohort_finds_weak_cohort():
    out = breakdown(renewal_case(), "renewal", KPIS, by="cohort")
    down = out[out["driver"] == "down"]
    assert down.iloc[0]["segment"] == "2023Q3"
    assert out.set_index("segment").loc["2023Q3", "rate_effect"] < -0.04


def test_drilldown_finds_small_internet_firms_and_weak_cohort():
    f = renewal_case()
    tree = drilldown(f, "renewal", KPIS, dims=["region", "cohort", "industry", "company_size"],
                     depth=3, min_share=0.05)
    path = tree[tree["drilled"] & (tree["level"] > 0)]
    lvl3 = tree[tree["level"] == 3]
    found = list(path["segment"]) + [lvl3.iloc[0]["segment"]]
    # the weak signing cohort, then small internet-industry companies inside it
    assert found == ["2023Q3", "互联网", "<300"]
    assert list(tree.attrs["dims_used"]) == ["cohort", "industry", "company_size"]
    # region (no effect in the data) is never chosen
    assert "region" not in set(tree["dimension"])
    for level in (1, 2, 3):
        worst = tree[tree["level"] == level].iloc[0]
        assert worst["rate_effect"] < 0 and worst["contribution"] < 0
    # small internet firms grew as a share of renewals due at a below-average rate: mix < 0
    small = lvl3.iloc[0]
    assert small["share_current"] > small["share_base"] and small["mix_effect"] < 0
    assert tree[tree["level"] == 1].iloc[0]["share_of_change"] > 0.5
    lvl1 = tree[tree["level"] == 1]
    # identities: level 1 adds up to the total change; children add up to the parent's rate part
    root = tree.iloc[0]
    assert lvl1["contribution"].sum() == pytest.approx(root["contribution"], abs=1e-12)
    for level in (1, 2):
        parent = tree[(tree["level"] == level) & tree["drilled"]].iloc[0]
        kids = tree[tree["level"] == level + 1]
        assert (kids["parent"] == parent["path"]).all()
        scale = parent["contribution"] / (parent["mix_effect"] + parent["rate_effect"])
        assert kids["contribution"].sum() == pytest.approx(scale * parent["rate_effect"],
                                                           abs=1e-12)
    assert tree.iloc[0]["path"] == "全部/All"
    assert lvl3.iloc[0]["path"].count(">") == 3


def test_drilldown_additive_and_lower_is_better():
    f = renewal_case()
    f["lost"] = f["due"] - f["renewed"]
    tree = drilldown(f, "churn", KPIS, dims=["cohort", "industry", "company_size"], depth=2)
    lvl1 = tree[tree["level"] == 1]
    # for a lower-is-better KPI the worst segment is the one that pushed churn up most
    assert lvl1.iloc[0]["contribution"] == lvl1["contribution"].max()
    f["sales"] = f["renewed"] * 10
    t2 = drilldown(f, "sales", KPIS, dims=["region", "industry"], depth=2)
    lvl1 = t2[t2["level"] == 1]
    assert lvl1["contribution"].sum() == pytest.approx(t2.iloc[0]["change"])
    kids = t2[t2["level"] == 2]
    parent = lvl1[lvl1["drilled"]].iloc[0]
    assert kids["change"].sum() == pytest.approx(parent["change"])


def test_drilldown_stops_without_dimensions_left():
    tree = drilldown(renewal_case(), "renewal", KPIS, dims=["industry"], depth=3)
    assert tree["level"].max() == 1


def test_input_errors():
    f = renewal_case()
    with pytest.raises(InputError, match="empty"):
        breakdown(f.iloc[0:0], "renewal", KPIS, by="industry")
    with pytest.raises(InputError, match="lacks column"):
        breakdown(f, "renewal", KPIS, by="owner")
    with pytest.raises(InputError, match="2019"):
        breakdown(f, "renewal", KPIS, by="industry", base_year=2019)
    with pytest.raises(InputError, match="last"):
        breakdown(f.assign(stock=1), "stock", KPIS, by="industry")
    with pytest.raises(InputError, match="unknown KPI"):
        breakdown(f, "nope", KPIS, by="industry")
    with pytest.raises(InputError, match="denominator"):
        breakdown(f.assign(due=0.0), "renewal", KPIS, by="industry")
    with pytest.raises(InputError, match="dimension"):
        drilldown(f, "renewal", KPIS, dims=[])
    with pytest.raises(InputError, match="follow"):
        drilldown(f, "renewal", KPIS, dims=["industry"], follow="best")
    with pytest.raises(InputError, match="non-numeric"):
        breakdown(f.assign(due="x"), "renewal", KPIS, by="industry")


def test_years_from_period_and_kpi_row():
    facts = pd.DataFrame({"period": ["2024-03", "2025-03", pd.Timestamp("2025-04-02")],
                          "r": ["a", "a", "b"], "sales": [10.0, 12.0, 1.0]})
    row = {"key": "sales", "unit": "万元"}
    out = breakdown(facts, row, by="r")
    assert out.attrs["base_year"] == 2024 and out.attrs["total_change"] == 3


segments = st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("xyz"),
                              st.integers(2024, 2025), st.integers(0, 500), st.integers(0, 500)),
                    min_size=2, max_size=40)


def _facts(rows):
    f = pd.DataFrame(rows, columns=["d1", "d2", "year", "due", "renewed"])
    f["renewed"] = np.minimum(f["renewed"], f["due"]).astype(float)
    f["sales"] = f["renewed"] * 3 - 100
    return f


@settings(max_examples=80, deadline=None)
@given(segments)
def test_property_contributions_sum_to_total_change(rows):
    f = _facts(rows)
    if set(f["year"]) != {2024, 2025}:
        return
    out = breakdown(f, "sales", KPIS, by=["d1", "d2"])
    g = f.groupby("year")["sales"].sum()
    assert out["contribution"].sum() == pytest.approx(g[2025] - g[2024], abs=1e-6)
    # independent per-segment change
    seg = f.groupby(["d1", "d2", "year"])["sales"].sum().unstack(fill_value=0)
    for _, r in out.iterrows():
        a, b = r["segment"].split(" / ")
        assert r["change"] == pytest.approx(seg.loc[(a, b), 2025] - seg.loc[(a, b), 2024])


@settings(max_examples=80, deadline=None)
@given(segments)
def test_property_kitagawa_zero_residual(rows):
    f = _facts(rows)
    g = f.groupby("year")[["renewed", "due"]].sum()
    if set(f["year"]) != {2024, 2025} or (g["due"] <= 0).any():
        return
    out = breakdown(f, "renewal", KPIS, by="d1")
    rate = g["renewed"] / g["due"]
    delta = rate[2025] - rate[2024]
    assert (out["mix_effect"] + out["rate_effect"]).sum() == pytest.approx(delta, abs=1e-12)
    assert out["contribution"].to_numpy() == pytest.approx(
        (out["mix_effect"] + out["rate_effect"]).to_numpy())
    assert abs(out.attrs["residual"]) < 1e-12
    tree = drilldown(f, "renewal", KPIS, dims=["d1", "d2"], depth=2, min_share=0.1)
    lvl1 = tree[tree["level"] == 1]
    if len(lvl1):  # a dimension with a single segment explains nothing and is not listed
        assert lvl1["contribution"].sum() == pytest.approx(delta, abs=1e-12)


def test_follow_driver_goes_with_the_change():
    f = renewal_case()
    # make the company improve overall: 2025 rates up everywhere except the weak cohort
    f.loc[(f["year"] == 2025), "renewed"] = f.loc[(f["year"] == 2025), "due"] * 0.9
    f.loc[(f["year"] == 2025) & (f["region"] == "华北"), "renewed"] *= 1.05
    tree = drilldown(f, "renewal", KPIS, dims=["region", "industry"], depth=2, follow="driver")
    lvl1 = tree[tree["level"] == 1]
    assert tree.iloc[0]["change"] > 0
    picked = lvl1[lvl1["drilled"]].iloc[0]
    assert picked["contribution"] == lvl1["contribution"].max()


@settings(max_examples=60, deadline=None)
@given(segments)
def test_property_drilldown_children_add_up_to_parent(rows):
    f = _facts(rows)
    g = f.groupby("year")[["due"]].sum()
    if set(f["year"]) != {2024, 2025} or (g["due"] <= 0).any():
        return
    for kpi in ("renewal", "sales"):
        tree = drilldown(f, kpi, KPIS, dims=["d1", "d2"], depth=2, min_share=0.0)
        root = tree.iloc[0]
        lvl1 = tree[tree["level"] == 1]
        if lvl1.empty:
            continue
        assert lvl1["contribution"].sum() == pytest.approx(root["contribution"], abs=1e-9)
        parent = lvl1[lvl1["drilled"]]
        kids = tree[tree["level"] == 2]
        if parent.empty or kids.empty:
            continue
        parent = parent.iloc[0]
        if kpi == "sales":
            expected = parent["change"]
        else:
            scale = 1.0  # level-1 rows are in top-level units already
            expected = scale * parent["rate_effect"]
        assert kids["contribution"].sum() == pytest.approx(expected, abs=1e-9)


def test_blank_dimension_values_and_categorical_columns_give_same_result():
    f = renewal_case()
    f.loc[f.index % 7 == 0, "region"] = None
    out = breakdown(f, "renewal", KPIS, by="region").set_index("segment")
    assert "(空)/(blank)" in out.index
    cat = f.astype({"region": "category", "industry": "category", "cohort": "category"})
    out_cat = breakdown(cat, "renewal", KPIS, by="region").set_index("segment")
    pd.testing.assert_series_equal(out["contribution"], out_cat.loc[out.index, "contribution"])
    t1 = drilldown(f, "renewal", KPIS, dims=["region", "industry", "cohort"])
    t2 = drilldown(cat, "renewal", KPIS, dims=["region", "industry", "cohort"])
    assert list(t1["path"]) == list(t2["path"])
    assert t1["contribution"].to_numpy() == pytest.approx(t2["contribution"].to_numpy())


def test_drilldown_passes_over_a_cohort_split_of_revenue_when_a_like_for_like_dimension_exists():
    # Revenue by signing cohort: each year's customers sit in that year's cohorts, so every
    # cohort segment "changes" by its whole size. Region carries the real driver (华东 fell).
    rows = []
    for year, region in itertools.product((2024, 2025), ("华东", "华北", "华南")):
        for q in range(1, 5):
            sales = 100.0 if not (year == 2025 and region == "华东") else 60.0
            rows.append({"period": f"{year}-12", "year": year, "region": region,
                         "cohort": f"{year}Q{q}", "sales": sales})
    f = pd.DataFrame(rows)
    tree = drilldown(f, "sales", KPIS, dims=["cohort", "region"], depth=1)
    lvl1 = tree[tree["level"] == 1]
    assert set(lvl1["dimension"]) == {"region"}
    worst = lvl1[lvl1["drilled"] | (lvl1["contribution"] == lvl1["contribution"].min())].iloc[0]
    assert worst["segment"] == "华东" and worst["contribution"] == pytest.approx(-160.0)
    # with only the cohort left, it is still used rather than giving no answer
    only = drilldown(f, "sales", KPIS, dims=["cohort"], depth=1)
    assert set(only[only["level"] == 1]["dimension"]) == {"cohort"}
