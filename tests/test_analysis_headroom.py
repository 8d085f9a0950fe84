"""headroom(): what the overall KPI would be if one lagging segment recovered."""
import numpy as np
import pandas as pd
import pytest

from reviewkit.analysis import headroom
from reviewkit.errors import InputError

KPIS = pd.DataFrame([
    {"key": "renewal", "unit": "%", "aggregation": "ratio", "numerator": "renewed",
     "denominator": "due"},
    {"key": "sales", "unit": "万元"},
    {"key": "cost", "unit": "万元", "direction": "lower"}])

FACTS = pd.DataFrame({"year": [2024] * 3 + [2025] * 3, "seg": ["小型", "中型", "大型"] * 2,
                      "due": [100, 100, 100, 200, 100, 100],
                      "renewed": [80, 80, 90, 100, 85, 90],
                      "sales": [500, 300, 200, 400, 360, 200],
                      "cost": [50, 50, 50, 70, 40, 50]})


def test_ratio_recovery_hand_worked():
    out = headroom(FACTS, "renewal", KPIS, by="seg").set_index("segment")
    # now: 275/400 = 0.6875; 小型 at last year's 80% on its 200 due -> (275-100+160)/400
    assert out.loc["小型", "kpi_now"] == pytest.approx(0.6875)
    assert out.loc["小型", "if_last_year"] == pytest.approx(335 / 400)
    assert out.loc["小型", "gain_last_year"] == pytest.approx(335 / 400 - 0.6875)
    assert out.loc["小型", "units_last_year"] == pytest.approx(60)  # renewals won back
    # to the company average 0.6875 on 200 due -> 137.5 renewals
    assert out.loc["小型", "if_average"] == pytest.approx(0.6875 + 37.5 / 400)
    assert out.loc["小型", "units_average"] == pytest.approx(37.5)
    # 中型 improved and is above average: no headroom; 大型 unchanged and above average
    assert "中型" not in out.index and "大型" not in out.index
    assert out.index[0] == "小型"


def test_additive_recovery_and_targets():
    targets = pd.DataFrame({"seg": ["小型", "中型"], "target": [450, 400]})
    out = headroom(FACTS, "sales", KPIS, by="seg", targets=targets).set_index("segment")
    assert out.loc["小型", "if_last_year"] == 960 - 400 + 500
    assert out.loc["小型", "gain_last_year"] == 100
    # company grew 960/1000 - 1 = -4%: 小型 at that rate would be 480
    assert out.loc["小型", "gain_average"] == pytest.approx(80)
    assert out.loc["小型", "gain_target"] == 50
    assert out.loc["中型", "gain_target"] == 40
    assert np.isnan(out.loc["中型", "gain_last_year"])


def test_lower_is_better_gain_is_a_decrease():
    out = headroom(FACTS, "cost", KPIS, by="seg").set_index("segment")
    assert out.loc["小型", "gain_last_year"] == 20
    assert out.loc["小型", "if_last_year"] == 160 - 20


def test_errors():
    with pytest.raises(InputError, match="not found"):
        headroom(FACTS, "sales", KPIS, by="seg",
                 targets=pd.DataFrame({"seg": ["巨型"], "target": [1]}))
    with pytest.raises(InputError, match="dimension"):
        headroom(FACTS, "sales", KPIS, by=[])
    with pytest.raises(InputError, match="empty"):
        headroom(FACTS.iloc[0:0], "sales", KPIS, by="seg")
