"""The Execution sheet shows what the plan checks found, with METHOD.md's worked example."""
import datetime as dt
import re

import pandas as pd

from reviewkit import model
from reviewkit.fill.execution import execution_sheet
from reviewkit.sample import make_sample_review


def _cells(spec):
    return {c.ref: c.value for c in spec.cells if c.value is not None}


def _row_of(cells, value):
    return next(ref[1:] for ref, v in cells.items() if ref.startswith("A") and v == value)


def test_execution_sheet_flags_the_method_example_and_the_contradicting_row():
    review = make_sample_review("en")
    cells = _cells(execution_sheet(review, as_of="2025-12-31", lang="en"))
    row = _row_of(cells, "T02")
    # planned 1st -> 15th (15 days inclusive), done on the 18th: 3 days late = +20%
    assert cells[f"F{row}"] == 15 and cells[f"G{row}"] == 3
    assert cells[f"H{row}"] == 3 / 15
    assert "deviation +20.0% is beyond ±10%" in cells[f"J{row}"]
    texts = [v for v in cells.values() if isinstance(v, str)]
    assert any("2 days late" in t and "3 days early" in t for t in texts)
    assert any("not measurable" in t for t in texts)
    assert any(t == "Execution" for t in texts)


def test_a_chinese_workbook_gets_its_findings_in_chinese():
    review = make_sample_review("zh")
    cells = _cells(execution_sheet(review, as_of="2025-12-31", lang="zh"))
    row = _row_of(cells, "T02")
    assert cells[f"H{row}"] == 3 / 15
    assert cells[f"J{row}"] == "偏差率 +20.0% 超出 ±10%"
    late = cells[f"J{_row_of(cells, 'T04')}"]  # 20 days late on 61, no problem or countermeasure written
    assert late == "偏差率 +32.8% 超出 ±10%：需补写主要问题和对策"
    texts = [v for v in cells.values() if isinstance(v, str)]
    assert any("文字写的是延迟 2 天，日期却是提前 3 天" in t for t in texts)
    assert any("无法衡量" in t for t in texts)
    assert "执行跟踪" in texts and "验收可衡量" in texts and "大促重叠" in texts and "合计" in texts
    # rules (column C) and messages (column J) carry no English words ("ROI" aside)
    ours = [v for ref, v in cells.items() if ref[0] in "CJ" and isinstance(v, str)]
    english = [t for t in ours if re.search(r"[A-Za-z]{3,}", t.replace("ROI", ""))]
    assert english == []
    # a risk's finding names the risk in the task/item column
    risk_row = next(ref[1:] for ref, v in cells.items() if isinstance(v, str) and "没有应对措施" in v)
    assert cells[f"B{risk_row}"] == "轻量版蚕食专业版"


def test_english_headers_and_a_review_without_plan_tables_gets_no_sheet():
    review = make_sample_review("en")
    cells = _cells(execution_sheet(review, as_of="2025-12-31", lang="en"))
    assert "Deviation" in cells.values() and "Budget and ROI" in cells.values()
    empty = model.Review(tables={"Scorecard": review.scorecard, "KPIs": review.kpis}, lang="en")
    assert execution_sheet(empty, as_of="2025-12-31", lang="en") is None


def test_over_budget_category_is_marked_and_roi_matches_hand_calculation():
    review = make_sample_review("zh")
    review.tables["Budget"] = pd.DataFrame([{"category": "沙龙", "budget": 40.0, "spend": 46.0, "revenue": 210.0}])
    spec = execution_sheet(review, as_of="2025-12-31", lang="zh")
    cells = _cells(spec)
    row = next(ref[1:] for ref, v in cells.items() if v == "沙龙")
    assert cells[f"D{row}"] == 6.0 and cells[f"G{row}"] == (210 - 46) / 46
    red = next(c for c in spec.cells if c.ref == f"D{row}").style
    assert red.fill == "#F8CBAD"


def test_wrapped_notes_get_a_row_tall_enough_to_show_them():
    spec = execution_sheet(make_sample_review("en"), as_of="2025-12-31", lang="en")
    cells = _cells(spec)
    long_rows = [int(ref[1:]) for ref, v in cells.items() if ref.startswith("J") and isinstance(v, str)
                 and len(v) > 140]
    assert long_rows, "the sample's contradicting progress row has a long explanation"
    assert all(spec.row_heights.get(r, 0) >= 30 for r in long_rows)
    short = [int(ref[1:]) for ref, v in cells.items() if ref.startswith("J") and isinstance(v, str) and len(v) < 40]
    assert all(r not in spec.row_heights for r in short)


def test_a_blank_text_is_a_blank_cell_with_its_border_and_dates_are_days():
    """The Execution sheet is built on the owned sheets' grid: a text of spaces is written as a blank
    (bordered) cell, not as a text cell, and a planned date with a time of day shows the day."""
    review = make_sample_review("en")
    progress = review.tables["Progress"].copy()
    t02 = progress["task_id"] == "T02"
    progress.loc[t02, "milestone"] = "   "
    progress.loc[t02, "planned_date"] += pd.Timedelta(hours=15)
    review.tables["Progress"] = progress
    spec = execution_sheet(review, as_of="2025-12-31", lang="en")
    row = _row_of(_cells(spec), "T02")
    by_ref = {c.ref: c for c in spec.cells}
    assert by_ref["B" + row].value is None and by_ref["B" + row].style.border
    assert by_ref["D" + row].value == dt.date(2025, 9, 15) and type(by_ref["D" + row].value) is dt.date


def test_every_execution_word_has_both_languages_and_the_same_fields():
    from reviewkit.messages import Messages, pairs
    words = Messages.load("execution")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for key in words.keys():
        zh, en = words.fields(key)
        assert zh == en, key
        assert cjk.search(words.say(key, "zh", t=0.1)) and not cjk.search(words.say(key, "en", t=0.1)), key
    for section in ("progress", "findings", "conflicts", "budget"):
        headers = pairs("execution", f"{section}_columns").values()
        assert all(cjk.search(zh) or zh == en == "ROI" for zh, en in headers), section
        assert not any(cjk.search(en) for _, en in headers), section
