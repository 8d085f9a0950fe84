"""by_period() and campaign_share(): monthly/quarterly views and campaign shares."""
import numpy as np
import pandas as pd
import pytest

from reviewkit.analysis import by_period, campaign_share
from reviewkit.errors import InputError

KPIS = pd.DataFrame([{"key": "sales", "unit": "万元"},
                     {"key": "rr", "unit": "%", "aggregation": "ratio", "numerator": "renewed",
                      "denominator": "due"}])
MONTHLY = pd.DataFrame({"period": [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)],
                        "sales": np.arange(24.0) + 1, "renewed": 8.0, "due": 10.0})
CAMPAIGNS = pd.DataFrame({"name": ["618", "双11", "年货节"],
                          "start": ["06-01", "11-01", "2025-12-20"],
                          "end": ["06-18", "11-11", "12-31"]})


def test_quarters_and_year_over_year():
    out = by_period(MONTHLY, "sales", KPIS, freq="Q").set_index("period")
    assert out.loc["2024Q1", "value"] == 6 and out.loc["2025Q1", "value"] == 13 + 14 + 15
    assert out.loc["2025Q1", "change_ly"] == 36
    assert out.loc["2025Q1", "change_ly_pct"] == pytest.approx(6.0)
    assert out.loc["2025Q1", "share_of_year"] == pytest.approx(42 / sum(range(13, 25)))
    assert out.groupby("year")["share_of_year"].sum().to_list() == pytest.approx([1, 1])


def test_ratio_by_month_in_points():
    f = MONTHLY.copy()
    f.loc[f["period"] == "2025-03", "renewed"] = 9.0
    out = by_period(f, "rr", KPIS).set_index("period")
    assert out.loc["2025-03", "value"] == pytest.approx(0.9)
    assert out.loc["2025-03", "change_ly_pp"] == pytest.approx(10.0)


def test_freq_errors():
    with pytest.raises(InputError, match="freq"):
        by_period(MONTHLY, "sales", KPIS, freq="W")
    q = pd.DataFrame({"period": ["2025-Q1", "2025Q2"], "sales": [1.0, 2.0]})
    assert list(by_period(q, "sales", KPIS, freq="Q")["period"]) == ["2025Q1", "2025Q2"]
    with pytest.raises(InputError, match="longer"):
        by_period(q, "sales", KPIS, freq="M")
    with pytest.raises(InputError, match="not a period"):
        by_period(pd.DataFrame({"period": ["soon"], "sales": [1.0]}), "sales", KPIS)
    with pytest.raises(InputError, match="empty"):
        by_period(MONTHLY.iloc[0:0], "sales", KPIS)


def test_campaign_share_daily_is_exact():
    days = pd.DataFrame({"period": pd.date_range("2025-01-01", "2025-12-31"), "sales": 1.0})
    out = campaign_share(days, "sales", CAMPAIGNS, KPIS).set_index("campaign")
    assert out.loc["618", "value"] == 18 and out.loc["双11", "value"] == 11
    assert out.loc["年货节", "days"] == 12
    assert out.loc["618", "share_of_year"] == pytest.approx(18 / 365)
    assert out["exact"].all()
    assert out["value"].sum() == pytest.approx(365)  # no overlaps: shares add up to the year


def test_campaign_share_monthly_is_pro_rated():
    out = campaign_share(MONTHLY, "sales", CAMPAIGNS, KPIS).set_index("campaign")
    june = 18.0  # 2025-06 is the 18th value
    assert out.loc["618", "value"] == pytest.approx(june * 18 / 30)
    assert not out.loc["618", "exact"]
    assert out["value"].sum() == pytest.approx(sum(range(13, 25)))
    rr = campaign_share(MONTHLY, "rr", CAMPAIGNS, KPIS).set_index("campaign")
    assert rr.loc["双11", "value"] == pytest.approx(0.8)


def test_campaign_overlaps_and_errors():
    camp = pd.DataFrame({"name": ["A", "B"], "start": ["06-01", "06-10"],
                         "end": ["06-15", "06-20"]})
    days = pd.DataFrame({"period": pd.date_range("2025-01-01", "2025-12-31"), "sales": 1.0})
    out = campaign_share(days, "sales", camp, KPIS).set_index("campaign")
    assert out.loc["A", "overlaps"] == "B"
    assert out.loc["其余时间/Rest of year", "value"] == 365 - 20
    with pytest.raises(InputError, match="ends before"):
        campaign_share(days, "sales", pd.DataFrame({"name": ["X"], "start": ["07-01"],
                                                    "end": ["06-01"]}), KPIS)
    with pytest.raises(InputError, match="not a date"):
        campaign_share(days, "sales", pd.DataFrame({"name": ["X"], "start": ["someday"],
                                                    "end": ["06-01"]}), KPIS)
    with pytest.raises(InputError, match="2030"):
        campaign_share(days, "sales", camp, KPIS, year=2030)
