"""The words of the review (issue 12): drivers a person would say, words that agree with the
status column and with the numbers shown, sign changes, correlations on enough units, campaign
tasks, messages and help in the workbook's language."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from reviewkit import formulas as F
from reviewkit.analysis import analyse, compare, conclusions
from reviewkit.analysis.conclusions import MIN_DRIVER_SHARE, format_value
from reviewkit.analysis.cross import MIN_CORR_POINTS, describe

KPIS = pd.DataFrame([{"key": "sales", "name": "销售额", "unit": "万元"},
                     {"key": "rr", "name": "续约率", "unit": "%", "aggregation": "ratio"},
                     {"key": "days", "name": "交付周期", "unit": "天", "direction": "lower",
                      "aggregation": "ratio"},
                     {"key": "profit", "name": "利润", "unit": "万元"}])
CJK = re.compile(r"[\u3400-\u9fff]")


def _one(kpi, target, actual, last_year, drivers=None, lang="zh", unit="华东"):
    sc = pd.DataFrame([{"unit": unit, "kpi": kpi, "target": target, "actual": actual,
                        "last_year": last_year}])
    return conclusions(compare(sc, KPIS), drivers=drivers, lang=lang).loc[0, "text"]


def _drivers(rows, kpi="sales", dimension="签约批次", dim_score=0.9):
    return pd.DataFrame([{"kpi": kpi, "dimension": dimension, "segment": s, "contribution": c,
                          "is_other": s == "其他/Other", "dim_score": dim_score} for s, c in rows])


# --- drivers ---------------------------------------------------------------------------------
def test_the_driver_is_named_with_its_dimension():
    d = _drivers([("2024Q3", -120.0), ("2024Q1", 20.0), ("2023Q4", -20.0)])
    text = _one("sales", 1200, 1080, 1200, d)
    assert "主要拖累：2024Q3（签约批次）−120万（占变化 100%）" in text
    en = _one("sales", 1200, 1080, 1200, d.assign(dimension="Signing cohort"), lang="en")
    assert "main drag: 2024Q3 (signing cohort) −CNY 1.2M (100% of the change)" in en


def test_other_is_never_the_driver():
    # the grouped small segments moved most: said as such, the biggest real segment named too
    d = _drivers([("其他/Other", -90.0), ("2024Q3", -30.0), ("2024Q1", 0.0)])
    text = _one("sales", 1200, 1080, 1200, d)
    assert "其他" not in text and "Other" not in text
    assert "主要拖累：2024Q3（签约批次）−30万（占变化 25%），其余分散在众多较小的签约批次（合计 −90万）" in text
    # no real segment big enough: only the many small ones
    d = _drivers([("其他/Other", -115.0), ("2024Q3", -5.0), ("2024Q1", 0.0)])
    text = _one("sales", 1200, 1080, 1200, d)
    assert "变化主要来自众多较小的签约批次（合计 −115万），没有单一部分能解释" in text
    en = _one("sales", 1200, 1080, 1200, d.assign(dimension="Signing cohort"), lang="en")
    tail = en.split("; ", 1)[1]  # the driver part (the KPI's own name is the test's, in Chinese)
    assert "Other" not in tail and not CJK.search(tail)
    assert "many small signing cohort segments" in en


@pytest.mark.parametrize("seed", range(40))
def test_shares_are_shown_only_with_the_change_sign_and_up_to_100(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    contrib = rng.normal(0, 100, n)
    total = float(contrib.sum())
    d = pd.DataFrame({"kpi": "sales", "segment": [f"S{i}" for i in range(n)], "contribution": contrib,
                      "share_of_change": contrib / total})
    for target in (1000.0, 1.0):  # missed (names the drag) and met (names the driver)
        text = _one("sales", target, 500.0, 500.0 - total, d)
        for share in re.findall(r"占变化 ([−+]?\d+)%", text):
            assert not share.startswith("−") and 0 < int(share) <= 100, text
        m = re.search(r"主要(?:拖累|贡献)：(S\d) ", text)
        if m:  # a named segment moved at least MIN_DRIVER_SHARE of the change
            c = contrib[int(m.group(1)[1:])]
            assert abs(c / total) >= MIN_DRIVER_SHARE


def test_a_change_spread_evenly_is_said_so():
    d = _drivers([("2024Q3", -40.0), ("2024Q1", -40.0), ("2023Q4", -40.0)], dim_score=0.05)
    assert "变化在各签约批次间分布较均匀，没有单一签约批次能解释" in _one("sales", 1200, 1080, 1200, d)
    en = _one("sales", 1200, 1080, 1200, d.assign(dimension="Signing cohort"), lang="en")
    assert "the change is spread evenly across signing cohort segments; no single one explains it" in en


# --- words that agree ------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("actual,status", [(1250, "green"), (1150, "amber"), (900, "red")])
def test_the_sentence_says_the_status_columns_word(lang, actual, status):
    sc = pd.DataFrame([{"unit": "华东", "kpi": "sales", "target": 1200, "actual": actual, "last_year": 1000}])
    c = compare(sc, KPIS)
    assert c.loc[0, "status"] == status
    word = F.STATUS_LABELS[lang][status]
    text = conclusions(c, lang=lang).loc[0, "text"]
    assert ("（" + word + "）" if lang == "zh" else f"({word})") in text
    others = [w for k, w in F.STATUS_LABELS[lang].items() if k != status and w not in word]
    assert not any(f"（{w}）" in text or f"({w})" in text for w in others)


def test_a_filled_workbook_says_the_chip_in_its_sentences(tmp_path):
    """The status cell (a formula, cached) and the conclusion of the same row say the same word."""
    import openpyxl

    from reviewkit.fill import fill_workbook
    from reviewkit.reading import read_review
    from reviewkit.templates import build_workbook
    from builders import master_review

    path = build_workbook(tmp_path / "m.xlsx", master_review(), lang="zh", overwrite=True)
    fill_workbook(path)
    lay = read_review(path).layouts["Scorecard"]
    ws = openpyxl.load_workbook(path, data_only=True)[lay.sheet]
    statuses = set()
    for n in lay.rows:
        chip = ws[f"{lay.columns['status']}{n}"].value
        text = ws[f"{lay.columns['conclusion']}{n}"].value
        assert f"（{chip}）" in text, (chip, text)
        statuses.add(chip)
    assert len(statuses) >= 2


@pytest.mark.parametrize("kpi,target,actual,unit", [
    ("days", 20.0, 20.04, "天"), ("days", 20.0, 20.004, "天"), ("sales", 1200.0, 1199.96, "万元"),
    ("rr", 0.88, 0.87996, "%")])
def test_a_miss_is_shown_with_the_decimals_that_make_it_visible(kpi, target, actual, unit):
    sc = pd.DataFrame([{"unit": "华东", "kpi": kpi, "target": target, "actual": actual, "last_year": actual}])
    c = compare(sc, KPIS)
    assert c.loc[0, "status"] != "green"
    text = conclusions(c).loc[0, "text"]
    m = re.match(r"\S+ (\S+?)，目标 (\S+?)，", text)
    assert m and m.group(1) != m.group(2), text  # not "20天，目标 20天…（预警）"
    # the short form is kept when it already tells them apart
    assert format_value(20.5, "天") in _one("days", 20.0, 20.5, 21)


def test_a_missed_achievement_is_not_shown_as_100_percent():
    text = _one("sales", 12000, 11999.5, 11000)  # 99.996%: amber
    assert "达成率 99.996%（预警）" in text and "100.0%" not in text
    assert "达成率 100.0%（达标）" in _one("sales", 12000, 12000.4, 11000)


@pytest.mark.parametrize("ly,actual,zh,en", [
    (-50, 30, "同比扭亏为盈（去年 −50万）", "turned profitable (last year −CNY 500K)"),
    (50, -30, "同比由盈转亏（去年 +50万）", "turned to a loss (last year +CNY 500K)"),
    (-50, -30, "同比减亏（去年 −50万）", "loss narrowed (last year −CNY 500K)"),
    (-30, -50, "同比亏损扩大（去年 −30万）", "loss widened (last year −CNY 300K)"),
])
def test_sign_changes_are_said_in_words(ly, actual, zh, en):
    text = _one("profit", 40, actual, ly)
    assert zh in text and "n.m." not in text
    assert en in _one("profit", 40, actual, ly, lang="en")


# --- correlations ------------------------------------------------------------------------------
def _cross_review(n_units):
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n_units):
        g = float(rng.normal(0.1, 0.05))
        rows += [{"unit": f"U{i}", "kpi": "sales", "target": 100, "actual": 100 * (1 + g), "last_year": 100},
                 {"unit": f"U{i}", "kpi": "profit", "target": 10, "actual": 10 * (1 + 2 * g), "last_year": 10}]
    return {"kpis": KPIS, "scorecard": pd.DataFrame(rows)}


def test_a_correlation_needs_enough_units_and_states_them():
    few = analyse(_cross_review(MIN_CORR_POINTS - 2))["cross"]
    assert not few["strong"].any() and few["corr"].isna().all()
    enough = analyse(_cross_review(MIN_CORR_POINTS))["cross"]
    row = enough[(enough.kpi_a == "sales") & (enough.kpi_b == "profit")].iloc[0]
    assert row["strong"] and row["n"] == MIN_CORR_POINTS >= 8
    assert describe(row, "zh") == f"{MIN_CORR_POINTS} 个单位中同向变动（相关系数 {row['corr']:.2f}）"
    assert f"across {MIN_CORR_POINTS} units" in describe(row, "en")
    # never a headline: no conclusion mentions a correlation
    texts = analyse(_cross_review(MIN_CORR_POINTS))["conclusions"]["text"]
    assert not texts.str.contains("相关").any()


# --- campaigns ------------------------------------------------------------------------------
def test_a_campaign_task_does_not_conflict_with_its_own_campaign():
    from reviewkit.planning import conflicts

    plan = pd.DataFrame([
        {"task_id": "T1", "goal": "双11大促获客", "task": "联合促销", "owner": "郑浩",
         "start": "2026-10-15", "end": "2026-11-15"},
        {"task_id": "T2", "goal": "获客", "task": "双11联合促销", "owner": "郑浩",
         "start": "2026-05-20", "end": "2026-11-15"},
        {"task_id": "T3", "goal": "交付", "task": "交付手册", "owner": "王芳",
         "start": "2026-10-15", "end": "2026-11-15"}])
    campaigns = pd.DataFrame([{"name": "双11", "start": "2026-10-20", "end": "2026-11-11", "kind": "大促"},
                              {"name": "618", "start": "2026-06-01", "end": "2026-06-18", "kind": "大促"}])
    found = conflicts(plan, campaigns, lang="zh")
    pairs = {(t, o) for t, o in zip(found["task_id"], found["other"])}
    assert pairs == {("T2", "618"), ("T3", "双11")}


# --- one language per workbook ------------------------------------------------------------------
def test_messages_render_in_the_workbooks_language():
    from reviewkit.errors import InputError, ValidationError, Problem

    e = InputError("unknown KPI key in table 'Actions'", file="/x/复盘.xlsx", sheet="改进行动", cell="C7",
                   value="renewal", expected="'renewal_rate' (keys are matched exactly)")
    assert str(e) == ("复盘.xlsx, sheet '改进行动', cell C7: unknown KPI key in table 'Actions' "
                      "(found 'renewal'); expected 'renewal_rate' (keys are matched exactly)")
    assert e.render("zh") == ("复盘.xlsx，工作表“改进行动”，单元格 C7：表格“改进行动”中有未定义的 KPI 代码"
                              "（发现 'renewal'）；应为 “renewal_rate”（代码须完全一致）")
    assert e.render() == str(e)  # no language known: English
    p = Problem("f.xlsx", "计分卡", "D5", "not a number in column '实际' of table 'Scorecard'", "x", None, lang="zh")
    v = ValidationError([p, p])
    assert v.render() == "f.xlsx，工作表“计分卡”，单元格 D5：表格“计分卡”的“实际”列：不是数字（另有 1 个问题）（发现 'x'）"
    assert p.render("en") == str(p)


def test_help_is_readable_in_chinese():
    from reviewkit.cli import main

    runner = CliRunner()
    top = runner.invoke(main, ["--help"], catch_exceptions=False).output
    assert CJK.search(top)
    for name in main.commands:
        out = runner.invoke(main, [name, "--help"], catch_exceptions=False).output
        lines = [ln for ln in out.splitlines() if ln.strip().startswith("-")]
        assert all(CJK.search(ln) for ln in lines if not ln.strip().startswith("--version")), (name, out)
        assert CJK.search(out.split("Options:")[0]), name


def test_why_a_kpi_was_not_broken_down_is_said_in_chinese():
    from reviewkit.errors import translate

    assert translate("measure columns not in facts (found ['stock'])") == "明细表中没有它的度量列（['stock']）"
    assert translate("KPI 'stock' uses aggregation 'last', which cannot be broken down into segments "
                     "(found 'last'); expected sum | ratio | average") == "KPI“stock”按期末值（last）汇总，无法按细分拆解"
    assert translate("measure columns not in facts (found ['stock'])", "en") == "measure columns not in facts (found ['stock'])"


def test_fills_report_on_a_zh_workbook_is_said_in_chinese_too():
    from pathlib import Path

    from reviewkit.fill import FillResult

    warn = ("sheet '计分卡': 2 computed cell(s) hold values typed by hand and were left as they are "
            "(J5, J6); clear them to get the formulas back")
    args = (Path("a.xlsx"), Path("a.xlsx"), True, 99, 92, ("汇总", "拆解"), "471673447b3e12", None, (warn,))
    zh = str(FillResult(*args, lang="zh")).splitlines()
    assert zh[0].startswith("filled a.xlsx: 99 computed cells")  # the first line is the batch report's
    assert zh[1] == "已填写：99 个计算单元格（其中 92 个公式），重建了 汇总、拆解"
    assert zh[2] == "警告：工作表“计分卡”：2 个计算单元格是手工填写的值，已保留（J5, J6）；清空它们即可恢复公式"
    en = str(FillResult(*args)).splitlines()
    assert len(en) == 2 and en[1] == f"warning: {warn}" and not CJK.search(en[1].replace("计分卡", ""))
