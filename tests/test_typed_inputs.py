"""Numbers and text exactly as people type them, in a fresh ``reviewkit new`` workbook.

A script types every case of issue 13 into the zh sales template — 万/亿 in 万元 and 元
columns, numbers stored as text, percentages, a 合计 row, 华东区 beside 华东, a missing target,
a value 100× off its row, task IDs holding wildcard characters and spaces, full-width brackets
in a task name; then a deleted 实际 column and a merged cell in copies. ``check`` must give
exactly the messages docs/typing.md lists, and after ``fill`` and a LibreOffice recalculation
every formula cell equals the value the engine cached and every conclusion's numbers equal
the cells beside it.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from reviewkit.cli import main
from reviewkit.fill import fill_workbook
from reviewkit.numbers import parse_in_unit, parse_unit
from reviewkit.reading import check_files, read_review

SCORECARD = [  # unit, KPI, 目标, 实际, 去年 as typed (text where quoted)
    ("华东", "revenue", 12000, "1.15亿", "10,000"),
    ("华北", "revenue", "8,000", "1,012万", 7600),
    ("华南", "revenue", "9000", "7,600", "7,000"),
    ("华东区", "revenue", 5000, 4800, 4500),
    ("合计", "revenue", 34000, 35000, 29100),
    ("华东", "repurchase_rate", "15%", "18%", 0.12),
    ("华北", "repurchase_rate", "15%", 12, "10%"),
    ("华南", "repurchase_rate", None, "32%", "30%"),
    ("华东", "new_customers", 500, "420", "400"),
    ("华北", "new_customers", 300, "1.2万", 280),
    ("华南", "新客户数", 400, 42000, 350),                     # a KPI by its name

    ("华东", "churn_rate", "10%", 0.108, 0.2),                 # equal at 15 significant digits:
    ("华北", "churn_rate", "10%", 0.1080000000000001, 0.1),    # a tie in Excel, so in the engine
    ("华南", "churn_rate", "10%", 0.2, 0.15),
]
PLAN = [  # task ID, task, owner, start, end, acceptance
    ("T1", "行业沙龙（华中、西南）", "张三", dt.date(2025, 7, 1), dt.date(2025, 7, 31), "3 场，报名 ≥ 100 人"),
    ("T*", "渠道优化", "李四", dt.date(2025, 8, 1), dt.date(2025, 8, 31), "点击率 ≥ 3%"),
    ("A?1", "大客户回访", "王五", dt.date(2025, 9, 1), dt.date(2025, 9, 30), "回访 50 家"),
    (4, "新品发布会", "赵六", dt.date(2025, 10, 1), dt.date(2025, 10, 31), "到场 200 人"),   # a number
]
PROGRESS = [  # task ID, planned date, % complete
    ("T1 ", dt.date(2025, 7, 15), "50%"),
    ("T*", dt.date(2025, 8, 20), 0.3),
    ("4", dt.date(2025, 10, 20), 0.8),                                                    # as text
]


def typed_workbook(path: Path, *, drop_actual: bool = False, merged: bool = False) -> Path:
    """A fresh zh sales template with the cases typed in (openpyxl stands in for the keyboard)."""
    result = CliRunner().invoke(main, ["new", str(path), "--preset", "sales", "--lang", "zh"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(path)
    ws = wb["计分卡"]
    rows = list(SCORECARD) + ([("华东", "churn_rate", "5%", "4%", None)] if merged else [])
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                ws.cell(5 + i, 1 + j, v)
    table = ws.tables["Scorecard"]
    table.ref = f"A4:V{4 + len(rows)}"
    table.autoFilter.ref = table.ref
    if merged:  # 华东's churn row: the unit typed once over two rows
        ws.cell(4 + len(rows), 1).value = None
        ws.merge_cells(f"A{3 + len(rows)}:A{4 + len(rows)}")
    if drop_actual:  # the 实际 column deleted: the table has no such column any more
        ws.cell(4, 4, "备注")
        table.tableColumns[3].name = "备注"
    plan, prog = wb["执行计划"], wb["进度跟踪"]
    for i, (tid, task, owner, start, end, acc) in enumerate(PLAN):
        for col, v in zip((1, 3, 4, 5, 6, 9), (tid, task, owner, start, end, acc)):
            plan.cell(5 + i, col, v)
    for i, (tid, planned, pct) in enumerate(PROGRESS):
        for col, v in zip((1, 4, 6), (tid, planned, pct)):
            prog.cell(5 + i, col, v)
    wb.save(path)
    return path


# --- units: each form ---------------------------------------------------------------------
@pytest.mark.parametrize("typed, unit, value", [
    ("1.15亿", "万元", 11_500), ("1,012万", "万元", 1_012), ("1,200", "万元", 1_200),
    ("3,000元", "万元", 0.3), ("1.2万元", "万元", 1.2), ("0.5亿元", "万元", 5_000),
    ("1.15亿", "元", 115_000_000), ("1,012万", "元", 10_120_000), ("3,000元", "元", 3_000),
    ("2亿", "亿元", 2), ("5,000万", "亿元", 0.5),
    ("12%", "%", 0.12), ("0.12", "%", 0.12), ("12", "%", 12), ("150%", "%", 1.5), ("5‰", "%", 0.005),
    ("1.2万", "家", 12_000), ("550万", "万人", 550), ("420", "家", 420),
    ("（500）", "万元", -500), ("-", "万元", None),
    ("1.15亿", "CNY 10k", 11_500), ("1,012万", "CNY 10k", 1_012), ("3,000元", "CNY", 3_000),
    ("2亿", "RMB million", 200),
])
def test_typed_text_in_a_unit(typed, unit, value):
    got = parse_in_unit(typed, parse_unit(unit))
    assert got == value if value is None else got == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("typed, unit, why", [
    ("12%", "万元", "a percentage in a column counted in 万元"),
    ("12%", "家", "a percentage in a column counted in 家"),
    ("1.2万", "%", "万/亿/千 in a % column"),
    ("3,000元", "%", "an amount in 元 in a % column"),
])
def test_typed_text_that_contradicts_its_unit_is_refused(typed, unit, why):
    from reviewkit.numbers import ParseError

    with pytest.raises(ParseError, match=re.escape(why)):
        parse_in_unit(typed, parse_unit(unit))


def test_numbers_typed_as_numbers_are_in_the_column_unit_already():
    assert parse_in_unit(11500.0, parse_unit("万元")) == 11500.0
    assert parse_in_unit(12.0, parse_unit("%")) == 12.0  # a question for check, not a guess


# --- reading and checking -----------------------------------------------------------------
@pytest.fixture(scope="module")
def typed(tmp_path_factory) -> Path:
    return typed_workbook(tmp_path_factory.mktemp("typed") / "typed.xlsx")


def test_reader_reads_every_typed_value_in_its_column_unit(typed):
    sc = read_review(typed, strict=False).scorecard
    got = {(u, k): (t, a, ly) for u, k, t, a, ly in
           zip(sc["unit"], sc["kpi"], sc["target"], sc["actual"], sc["last_year"])}
    assert got[("华东", "revenue")] == (12000, 11500, 10000)        # 1.15亿 in 万元
    assert got[("华北", "revenue")] == (8000, 1012, 7600)           # 1,012万 in 万元
    assert got[("华南", "revenue")] == (9000, 7600, 7000)
    assert got[("华东", "repurchase_rate")] == (0.15, 0.18, 0.12)
    assert got[("华北", "repurchase_rate")] == (0.15, 12, 0.10)     # 12 stays 12: a question
    assert got[("华北", "new_customers")] == (300, 12000, 280)      # 1.2万 customers
    assert got[("华南", "new_customers")] == (400, 42000, 350)      # typed as 新客户数


#: what check says about the typed workbook: (cell, severity, message); docs/typing.md lists them
EXPECTED = [
    ("D11", "warning", "KPI 'repurchase_rate' is a percentage but this row mixes scales: 实际 12 vs 目标 0.15"),
    ("A9", "warning", "“合计”是合计行：不参与排名，也不算作一个单位"),
    ("A8", "warning", "单位“华东区”与 A5 的“华东”像是同一个单位：它们会被当作两个单位排名"),
    ("C12", "warning", "华南 / 复购率 没有目标：无法计算达成率和状态"),
    ("D15", "warning", "华南 / 新客户数：实际 42,000 与本行的 目标 400、去年 350 相差 100 倍以上，请检查单位（家）"),
]


def _said(problems):
    return [(p.cell, p.severity, p.message) for p in problems]


def test_check_gives_exactly_the_documented_messages(typed):
    assert _said(check_files([typed])) == EXPECTED


def test_a_deleted_actual_column_is_an_error(tmp_path):
    path = typed_workbook(tmp_path / "noactual.xlsx", drop_actual=True)
    said = _said(check_files([path]))
    assert ("A4:V4", "error", "表格“Scorecard”没有“实际”列：没有实际值就无法计算达成率、同比和排名") in said
    from reviewkit.errors import ValidationError

    with pytest.raises(ValidationError):
        fill_workbook(path)


def test_a_merged_cell_is_named_as_merged(tmp_path):
    path = typed_workbook(tmp_path / "merged.xlsx", merged=True)
    said = _said(check_files([path]))
    a, b = f"A{4 + len(SCORECARD)}", f"A{5 + len(SCORECARD)}"
    assert (f"{a}:{b}", "warning", f"{a}:{b} 是合并单元格，位于表格“Scorecard”中：只有 {a} 有值，其他行读作空白") in said
    assert (b, "error", f"“单位”为空：此单元格与 {a} 合并（{a}:{b}），合并单元格只有第一格有值") in said
    assert not any("the required '单位' is empty" in m for _, _, m in said)


def test_an_empty_scorecard_says_where_to_type(tmp_path):
    path = tmp_path / "empty.xlsx"
    CliRunner().invoke(main, ["new", str(path), "--preset", "sales", "--lang", "zh"], catch_exceptions=False)
    said = _said(check_files([path]))
    assert ("A5:I9", "warning", "计分卡 没有数据行：请在 A5:I9 填写目标和实际值") in said
    assert "警告：计分卡 没有数据行：请在 A5:I9 填写目标和实际值" in str(fill_workbook(path))  # a zh workbook's report


# --- fill, then LibreOffice ---------------------------------------------------------------
@pytest.fixture(scope="module")
def filled(tmp_path_factory, typed):
    from conftest import require_libreoffice
    from reviewkit.libreoffice import recalculate

    require_libreoffice()
    folder = tmp_path_factory.mktemp("filled")
    path = folder / "typed.xlsx"
    path.write_bytes(typed.read_bytes())
    result = fill_workbook(path)
    live = recalculate([path], folder / "recalc")[path]
    assert live is not None
    return result, path, live


def _formula_cells(path: Path):
    book = openpyxl.load_workbook(path)
    for ws in book:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    yield ws.title, c.coordinate


def _same(a, b) -> bool:
    if a in ("", None) and b in ("", None):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_fill_converts_text_numbers_and_says_which(filled):
    result, path, _ = filled
    converted = [n for n in result.notes if n.startswith("已将")]
    # 19 typed in the scorecard, "50%" in the progress table
    assert converted and converted[0].startswith("已将 20 个文本数字转为数值：计分卡!D5, 计分卡!E5, 计分卡!C6")
    assert openpyxl.load_workbook(path)["进度跟踪"]["F5"].value == 0.5
    assert any(n.startswith("已去掉 1 个") and "进度跟踪!A5" in n for n in result.notes)
    ws = openpyxl.load_workbook(path)["计分卡"]
    assert ws["D5"].value == 11500 and ws["D6"].value == 1012 and ws["C10"].value == 0.15
    assert ws["D11"].value == 12  # typed as a number: left alone
    assert openpyxl.load_workbook(path)["进度跟踪"]["A5"].value == "T1"
    again = fill_workbook(path)
    assert not again.changed and again.notes == ()  # the numbers are numbers now: nothing to convert


def test_every_formula_cell_equals_the_engine_after_recalculation(filled):
    _, path, live = filled
    cached = openpyxl.load_workbook(path, data_only=True)
    recalc = openpyxl.load_workbook(live, data_only=True)
    cells = list(_formula_cells(path))
    assert len(cells) > 300
    differ = [(s, c, cached[s][c].value, recalc[s][c].value) for s, c in cells
              if not _same(cached[s][c].value, recalc[s][c].value)]
    assert differ == []
    sc = recalc["计分卡"]
    assert sc["S9"].value in ("", None)  # 合计 has no rank
    assert [sc[f"S{r}"].value for r in (5, 6, 7, 8)] == [1, 4, 2, 3]  # 合计 left out of the ranks
    assert [sc[f"S{r}"].value for r in (16, 17, 18)] == [1, 1, 3]  # lower is better; a tie
    assert [sc[f"S{r}"].value for r in (13, 14, 15)] == [3, 2, 1]  # 新客户数 ranks with new_customers
    gantt = recalc["甘特图"]
    names = [gantt[f"B{r}"].value for r in range(8, 12)]
    assert names == ["行业沙龙（华中、西南）", "渠道优化", "大客户回访", "新品发布会"]
    # 'T1 ' is T1; 'A?1' is no wildcard (nothing matches it); 4 and '4' are one ID
    assert [gantt[f"F{r}"].value for r in range(8, 12)] == [0.5, 0.3, 0, 0.8]


_AMOUNT = r"([−\-+]?[\d,]+(?:\.\d+)?(?:万|亿)?%?)"


def test_every_conclusion_number_equals_the_cells_beside_it(filled):
    _, path, live = filled
    sc = openpyxl.load_workbook(live, data_only=True)["计分卡"]
    units = {"revenue": "万元", "repurchase_rate": "%", "new_customers": "家", "新客户数": "家",
             "churn_rate": "%"}
    checked = 0
    for r in range(5, 5 + len(SCORECARD)):
        text, kpi = sc[f"V{r}"].value, sc[f"B{r}"].value
        unit = parse_unit(units[kpi])
        m = re.match(r"\S+ " + _AMOUNT, text)
        assert parse_in_unit(m.group(1).replace("−", "-"), unit) == pytest.approx(sc[f"D{r}"].value, rel=5e-3)
        m = re.search("目标 " + _AMOUNT, text)
        if m:
            assert parse_in_unit(m.group(1), unit) == pytest.approx(sc[f"C{r}"].value, rel=5e-3)
        m = re.search(r"达成率 ([\d.]+)%", text)
        if m:  # as the cell shows it (0.0%): Excel rounds the 15-digit value half away from zero
            shown = Decimal(repr(float(f"{sc[f'J{r}'].value * 100:.15g}"))).quantize(Decimal("0.1"), ROUND_HALF_UP)
            assert m.group(1) == str(shown)
        m = re.search(r"排名第 (\d+)", text)
        assert (int(m.group(1)) if m else None) == (sc[f"S{r}"].value or None)
        checked += 1
    assert checked == len(SCORECARD)


def test_percentages_in_sentences_round_as_excel_shows_them():
    from reviewkit.analysis.conclusions import format_value
    from reviewkit.numbers import excel_fixed, excel_value

    # 1 + (1012 - 8000) / 8000 in binary is 0.12649999999999995; Excel shows 12.7%
    ach = 1 + (1012 - 8000) / 8000
    assert f"{ach * 100:.1f}" == "12.6" and excel_fixed(ach * 100, 1) == "12.7"
    assert format_value(ach, "%") == "12.7%"
    assert excel_value(0.1080000000000001) == 0.108 and excel_fixed(-2.25, 1) == "-2.3"


# --- the Python API takes what the workbook takes --------------------------------------------
def test_compare_takes_typed_values_labels_and_workbook_headers():
    import pandas as pd

    import reviewkit

    kpis = pd.DataFrame({"kpi": ["revenue", "churn", "repurchase"],            # 'kpi', not 'key'
                         "name": ["销售额", "流失率", "复购率"], "unit": ["万元", "%", "%"],
                         "direction": ["越高越好", "越低越好", "Higher is better"]})
    sc = pd.DataFrame({"单位": ["华东", "华东", "华北", "华北"],                    # workbook headers
                       "kpi": ["revenue", "流失率", "销售额", "repurchase"],    # code or name
                       "目标": ["1,200万", "10%", "1.2亿", "15%"],
                       "实际": ["1,080万", "12%", "9,000", 0.18],
                       "去年": ["1,000万", "11%", None, "12%"]})
    out = reviewkit.compare(sc, kpis).set_index(["unit", "kpi"])
    assert out.loc[("华东", "revenue"), "target"] == 1200 and out.loc[("华东", "revenue"), "actual"] == 1080
    assert out.loc[("华东", "revenue"), "achievement"] == pytest.approx(1080 / 1200)
    assert out.loc[("华北", "revenue"), "target"] == 12000                 # 1.2亿 in 万元
    assert out.loc[("华北", "revenue"), "achievement"] == pytest.approx(9000 / 12000)
    assert out.loc[("华东", "churn"), "achievement"] == pytest.approx(2 - 0.12 / 0.10)  # lower is better
    assert out.loc[("华北", "repurchase"), "achievement"] == pytest.approx(0.18 / 0.15)
    # yes/no columns: plain bool where every row has an answer, nullable boolean where not
    assert out["beat_industry_avg"].dtype == "boolean" and out["beat_industry_avg"].isna().all()
    full = reviewkit.compare(sc[sc["去年"].notna()], kpis)
    assert full["change_ly_favourable"].dtype == bool
    assert full["change_ly_favourable"].astype(bool).tolist() == [True, False, True]


def test_breakdown_takes_a_date_column_typed_numbers_and_a_kpi_name():
    import pandas as pd

    import reviewkit

    kpis = pd.DataFrame({"key": ["revenue"], "name": ["销售额"], "unit": ["万元"],
                         "direction": ["越高越好"], "aggregation": ["求和"], "measure": ["销售额"]})
    facts = pd.DataFrame({"date": ["2024-03", "2024-05", "2025-03", "2025-05"],     # not 'period'
                          "region": ["华东", "华北", "华东", "华北"],
                          "销售额": ["1,200万", "800", "1,500", "0.1亿"]})          # in 万元
    out = reviewkit.breakdown(facts, "销售额", kpis, by="region").set_index("segment")
    assert out.loc["华东", "base"] == 1200 and out.loc["华东", "current"] == 1500
    assert out.loc["华北", "base"] == 800 and out.loc["华北", "current"] == 1000   # 0.1亿 = 1,000万
    assert out.attrs["total_change"] == pytest.approx((1500 + 1000) - (1200 + 800))


def test_messages_have_the_same_fields_in_both_languages():
    from reviewkit.reading import messages

    for key in messages.keys():
        zh, en = messages.fields(key)
        assert zh == en, key


def test_a_header_unit_rules_its_column_and_bare_percent_points_are_questions(tmp_path):
    from builders import HEADERS, sample_book, sample_rows

    rows = [list(r) for r in sample_rows("zh")["Scorecard"]]
    rows[0][2:5] = ["1.2亿", "1,080万", 9_000_000]      # 目标（元）: in yuan
    rows[1][2:7] = ["15", 18, 12, None, None]          # a % KPI typed in percent points
    headers = list(HEADERS["zh"]["Scorecard"])
    headers[2] = "目标（元）"
    path = sample_book(tmp_path / "units.xlsx", "zh", Scorecard={"headers": headers, "rows": rows})
    review = read_review(path, strict=False)
    sc = review.scorecard
    assert sc["target"].tolist()[0] == 120_000_000      # 1.2亿 in a 元 column
    assert sc["actual"].tolist()[0] == 1_080            # 1,080万 in the KPI's 万元
    assert sc["target"].tolist()[1] == 15               # a % KPI keeps its unit under 目标（元）
    said = {(p.cell, p.message) for p in check_files([path]) if p.severity == "warning"}
    for cell, column, v in (("C5", "目标（元）", "15"), ("D5", "实际", "18"), ("E5", "去年", "12")):
        assert (cell, f"“续约率”是百分比指标，{column} 填的是 {v}：按 {v}00% 计算；若是 {v}%，"
                      f"请输入“{v}%”或 0.{v}") in said
