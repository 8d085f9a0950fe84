"""conclusions(): the sentence of the brief, number formatting, and edge cases."""
import numpy as np
import pandas as pd
import pytest

from reviewkit.analysis import compare, conclusions, format_value, rank
from reviewkit.errors import InputError

KPIS = pd.DataFrame([{"key": "sales", "name": "销售额", "unit": "万元"},
                     {"key": "rr", "name": "续费率", "unit": "%", "aggregation": "ratio"},
                     {"key": "profit", "name": "利润", "unit": "万元"}])
SC = pd.DataFrame({"unit": ["华东事业部", "华东事业部", "华东事业部"],
                   "kpi": ["sales", "rr", "profit"], "target": [1200, 0.80, 100],
                   "actual": [1080, 0.84, np.nan], "last_year": [960, 0.86, 0]})
RANKED = pd.DataFrame({"unit": ["华东事业部"], "kpi": ["sales"], "rank": [3], "rank_change": [2]})
DRIVERS = pd.DataFrame({"kpi": ["sales", "sales"], "segment": ["华东区域", "华南区域"],
                        "contribution": [-150.0, 270.0], "share_of_change": [-0.6, 1.08]})


def test_brief_sentence_zh():
    out = conclusions(compare(SC, KPIS), RANKED, DRIVERS, peer_word="部门")
    # the status word is the status column's; a share against the change's sign is left out
    assert out.loc[0, "text"] == ("销售额 1,080万，目标 1,200万，达成率 90.0%（预警），同比 +12.5%，"
                                  "部门排名第 3（较去年↑2）；主要拖累：华东区域 −150万。")
    assert list(out.columns) == ["unit", "kpi", "text"]


def test_brief_sentence_en():
    out = conclusions(compare(SC, KPIS), RANKED, DRIVERS, lang="en", peer_word="departments")
    assert out.loc[0, "text"] == ("销售额 CNY 10.8M, target CNY 12M, achievement 90.0% (Amber), "
                                  "YoY +12.5%, rank 3 among departments (up 2 vs last year); "
                                  "main drag: 华东区域 −CNY 1.5M.")


def test_percent_kpi_in_points_and_missing_actual():
    out = conclusions(compare(SC, KPIS))
    assert out.loc[1, "text"] == "续费率 84.0%，目标 80.0%，达成率 105.0%（达标），同比 −2.0个百分点。"
    assert out.loc[2, "text"] == "利润 无实际值，目标 100万。"


def test_met_kpi_names_main_contributor_and_nm():
    sc = pd.DataFrame({"unit": ["A"], "kpi": ["sales"], "target": [100], "actual": [120],
                       "last_year": [-5]})
    out = conclusions(compare(sc, KPIS), drivers={"sales": DRIVERS.drop(columns="kpi")})
    # a loss last year: the sign-change word instead of "n.m."; a share above 100% is left out
    assert out.loc[0, "text"] == ("销售额 120万，目标 100万，达成率 120.0%（达标），同比扭亏为盈（去年 −5万）；"
                                  "主要贡献：华南区域 +270万。")


def test_with_real_rank_output():
    sc = pd.DataFrame({"unit": ["A", "B", "C"], "kpi": "sales", "target": 100,
                       "actual": [90, 120, 100], "last_year": [100, 80, 90]})
    out = conclusions(compare(sc, KPIS), rank(sc, KPIS))
    assert "排名第 3（较去年↓2）" in out.loc[0, "text"]
    assert "排名第 1（较去年↑2）" in out.loc[1, "text"]
    assert "排名第 2（与去年持平）" in out.loc[2, "text"]


@pytest.mark.parametrize("value,unit,lang,signed,expected", [
    (1080, "万元", "zh", False, "1,080万"),
    (12000, "万元", "zh", False, "1.2亿"),
    (1.2e8, "元", "zh", False, "1.2亿"),
    (25_000_000, "元", "zh", False, "2,500万"),
    (8500, "元", "zh", False, "8,500元"),
    (0.18, "%", "zh", False, "18.0%"),
    (420, "个", "zh", False, "420个"),
    (-150, "万元", "zh", True, "−150万"),
    (30, "万元", "zh", True, "+30万"),
    (550, "万", "zh", False, "550万"),
    (1080, "万元", "en", False, "CNY 10.8M"),
    (550, "万", "en", False, "5.5M"),
    (12, "天", "en", False, "12 days"),
    (3.25, "次", "zh", False, "3.25次"),
    (float("nan"), "个", "zh", False, "n/a"),
])
def test_format_value(value, unit, lang, signed, expected):
    assert format_value(value, unit, lang=lang, signed=signed) == expected


def test_errors():
    with pytest.raises(InputError, match="language"):
        conclusions(compare(SC, KPIS), lang="fr")
    with pytest.raises(InputError, match="lacks column"):
        conclusions(pd.DataFrame({"unit": ["A"]}))


def test_a_share_of_hundreds_of_percent_is_left_out_but_the_amount_stays():
    # The total barely moved (+0.7万) while one region fell 300万: "占变化 −44,000%" misleads.
    drivers = pd.DataFrame({"kpi": ["sales", "sales"], "segment": ["华东区域", "华南区域"],
                            "contribution": [-300.0, 300.7], "share_of_change": [-300 / 0.7, 300.7 / 0.7]})
    text = conclusions(compare(SC, KPIS), RANKED, drivers).loc[0, "text"]
    assert text.endswith("主要拖累：华东区域 −300万。")
    assert "占变化" not in text
    ok = drivers.assign(contribution=[-300.0, 100.0], share_of_change=[1.5, -0.5])
    assert "占变化" not in conclusions(compare(SC, KPIS), RANKED, ok).loc[0, "text"]
    sc = SC.assign(last_year=[1380, 0.86, 0])  # sales fell 300万: the drag is 100% of it
    ok = drivers.assign(contribution=[-300.0, 0.0], share_of_change=[1.0, 0.0])
    assert "主要拖累：华东区域 −300万（占变化 100%）" in conclusions(compare(sc, KPIS), RANKED, ok).loc[0, "text"]
