"""cross_metric() and analyse(): cross-KPI patterns and the one-call run."""
import numpy as np
import pandas as pd
import pytest

from reviewkit.analysis import analyse, cross_metric
from reviewkit.errors import InputError

KPIS = pd.DataFrame([
    {"key": "members", "name": "新会员", "unit": "个", "measure": "members"},
    {"key": "aov", "name": "客单价", "unit": "元", "aggregation": "average", "measure": "order"},
    {"key": "rr", "name": "复购率", "unit": "%", "aggregation": "ratio", "numerator": "rep",
     "denominator": "buyers"},
])


def _scorecard():
    units = list("ABCDE")
    ly_m = np.array([100, 200, 150, 120, 80.0])
    ly_a = np.array([50, 60, 55, 40, 45.0])
    d = np.array([-0.1, -0.2, -0.3, -0.05, -0.15])
    rows = []
    for i, u in enumerate(units):
        rows.append({"unit": u, "kpi": "members", "target": 100, "actual": ly_m[i] * (1 + d[i]),
                     "last_year": ly_m[i]})
        rows.append({"unit": u, "kpi": "aov", "target": 50, "actual": ly_a[i] * (1 - 2 * d[i]),
                     "last_year": ly_a[i]})
        rows.append({"unit": u, "kpi": "rr", "target": 0.3, "actual": 0.3 + [0.01, -0.02, 0.0,
                                                                              0.03, -0.01][i],
                     "last_year": 0.3})
    return pd.DataFrame(rows)


def test_fewer_members_higher_order_value():
    out = cross_metric(_scorecard(), KPIS)
    top = out.iloc[0]
    assert (top["kpi_a"], top["kpi_b"]) == ("members", "aov")
    assert top["corr"] == pytest.approx(-1.0) and top["strong"]
    assert top["relation"] == "opposite" and top["moved"] == "opposite"
    assert top["pattern"] == "新会员↓ 客单价↑" and top["n"] == 5
    # independent check of one correlation with numpy
    sc = _scorecard()
    m = sc[sc.kpi == "members"].set_index("unit")
    r = sc[sc.kpi == "rr"].set_index("unit")
    expected = np.corrcoef(m["actual"] / m["last_year"] - 1, r["actual"] - r["last_year"])[0, 1]
    row = out[(out.kpi_a == "members") & (out.kpi_b == "rr")].iloc[0]
    assert row["corr"] == pytest.approx(expected)
    assert row["strong"] == (abs(expected) >= 0.7)


def test_too_few_units_gives_nan_and_note():
    sc = _scorecard()
    out = cross_metric(sc[sc.unit.isin(["A", "B"])], KPIS)
    assert out["corr"].isna().all() and out["note"].str.contains("need 3").all()
    with pytest.raises(InputError, match="threshold"):
        cross_metric(sc, KPIS, threshold=0)


def test_over_periods_from_facts():
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    members = np.linspace(200, 90, 12)
    f = pd.DataFrame({"period": months, "members": members, "order": 10000 / members,
                      "rep": 30.0, "buyers": 100.0})
    out = cross_metric(_scorecard(), KPIS, facts=f)
    row = out[(out.kpi_a == "members") & (out.kpi_b == "aov")].iloc[0]
    assert row["basis"] == "periods" and row["n"] == 11 and row["corr"] < -0.9


def test_analyse_runs_everything():
    rows = []
    for year in (2024, 2025):
        for unit in ("A", "B"):
            for region in ("华东", "华北", "华南"):
                members = 100.0 if (year == 2024 or region != "华东") else 60.0
                rows.append({"period": f"{year}-06", "unit": unit, "region": region,
                             "members": members, "order": 50.0, "rep": 30.0, "buyers": 100.0})
    facts = pd.DataFrame(rows)
    review = {"kpis": KPIS, "scorecard": _scorecard(), "facts": facts,
              "causes": pd.DataFrame(columns=["unit", "kpi", "kind", "cause"]), "actions": None}
    out = analyse(review, dims=["unit", "region"])
    assert {"compared", "ranked", "cross", "drilldown", "drivers", "conclusions", "loop",
            "skipped"} <= set(out)
    assert len(out["conclusions"]) == len(out["compared"]) == 15
    tree = out["drilldown"]
    members = tree[(tree.kpi == "members") & (tree.level == 1)]
    assert members.iloc[0]["segment"] == "华东"
    a_sentence = out["conclusions"].query("unit == 'A' and kpi == 'members'")["text"].iloc[0]
    assert "主要拖累：华东" in a_sentence
    with pytest.raises(InputError, match="scorecard"):
        analyse({"kpis": KPIS})


def test_analyse_without_facts_and_with_an_object():
    from types import SimpleNamespace
    kpis = pd.concat([KPIS, pd.DataFrame([{"key": "stock", "aggregation": "last",
                                           "measure": "stock"}])], ignore_index=True)
    review = SimpleNamespace(kpis=kpis, scorecard=_scorecard(), facts=None, causes=None,
                             actions=None)
    out = analyse(review, lang="en")
    assert out["drilldown"].empty and out["drivers"].empty
    assert out["conclusions"]["text"].str.endswith(".").all()
    facts = pd.DataFrame({"year": [2024, 2025], "region": ["a", "a"], "members": [1.0, 2.0],
                          "order": [1.0, 1.0], "rep": [1.0, 1.0], "buyers": [2.0, 2.0],
                          "stock": [5.0, 6.0]})
    out = analyse(SimpleNamespace(kpis=kpis, scorecard=_scorecard(), facts=facts, causes=None,
                                  actions=None))
    assert list(out["skipped"]["kpi"]) == ["stock"]
    assert "last" in out["skipped"]["reason"].iloc[0]
