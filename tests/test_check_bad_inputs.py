"""``reviewkit check`` on bad inputs: one clear message each, nothing written, right exit code.

Every case of ``builders.CASES`` builds one bad workbook (or bad file) in its own folder, runs ``check_files`` and
the CLI, and asserts that a problem names the file, the sheet, the cell and the value found,
and that the folder is byte-for-byte what it was before.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewkit.cli import main
from reviewkit.errors import ValidationError, WorkbookFormatError
from reviewkit.reading import check_files, read_review

from builders import CASES, changed_cell, csv_file, empty_file, good_book, missing_file, ole_file, write_book


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_bad_input_gets_one_clear_problem_and_nothing_is_written(case, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = case.build(folder)
    before = _snapshot(folder)

    problems = check_files([path])

    matching = [p for p in problems if all(f in str(p) for f in case.fragments)]
    assert matching, "\n".join(map(str, problems)) or "no problems at all"
    p = matching[0]
    assert p.severity == case.severity
    assert str(p).startswith(path.name)  # the file comes first
    if case.sheet:
        assert p.sheet == case.sheet and f"sheet '{case.sheet}'" in str(p)
    if case.cell:
        assert p.cell == case.cell and f"cell {case.cell}" in str(p)
    assert "expected" in str(p)
    if case.severity == "warning":
        assert not [q for q in problems if q.severity == "error"], problems
    assert _snapshot(folder) == before  # same files, same bytes


def test_at_least_25_distinct_bad_inputs():
    assert len({c.id for c in CASES}) >= 25


def test_file_level_problems_are_one_problem_each(tmp_path):
    paths = [missing_file(tmp_path), empty_file(tmp_path), csv_file(tmp_path), ole_file(tmp_path, True, "e.xlsx")]
    problems = check_files(paths)
    assert [Path(p.file).name for p in problems] == ["missing.xlsx", "empty.xlsx", "export.xlsx", "e.xlsx"]


def test_every_problem_is_reported_at_once(tmp_path):
    bad = {**changed_cell("Scorecard", 1, "目标", "很多"), **changed_cell("KPIs", 0, "方向", "sideways")}
    bad["Causes"] = {"rows": [["华东", "profit", "问题", "x", "2 of 3", None, None, "someday"]]}
    path = good_book(tmp_path, "many.xlsx", **bad)
    problems = check_files([path])
    cells = {(p.sheet, p.cell) for p in problems if p.severity == "error"}
    assert {("计分卡", "C5"), ("KPI定义", "D4"), ("原因与经验", "B4"), ("原因与经验", "H4")} <= cells
    with pytest.raises(ValidationError) as info:
        read_review(path)
    assert len(info.value.problems) == len([p for p in problems if p.severity == "error"])


def test_read_review_raises_format_error_for_bad_files(tmp_path):
    with pytest.raises(WorkbookFormatError, match="empty"):
        read_review(empty_file(tmp_path))


def test_thousands_of_bad_cells_are_summarized(tmp_path):
    rows = [["2025-03", "华东", "x", 100.0] for _ in range(100)] + [["2025-03", "华东", "x", "bad"]] * 500
    path = write_book(tmp_path / "many_bad.xlsx", {
        "Facts": {"sheet": "明细", "headers": ["期间", "单位", "行业", "销售额"], "rows": rows},
        "KPIs": {"sheet": "KPI", "headers": ["KPI代码", "KPI名称", "方向", "明细度量"],
                 "rows": [["sales", "销售额", "越高越好", "销售额"]]}})
    problems = [p for p in check_files([path]) if "销售额" in str(p) and "明细" == p.sheet]
    assert len(problems) == 11  # ten named cells and one "490 more" line
    assert "490 more value(s)" in str(problems[-1])


# --- the CLI --------------------------------------------------------------------------------
def test_cli_check_clean_workbook_exits_0(tmp_path):
    path = good_book(tmp_path)
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ok: 1 file(s) checked, no problems" in result.output


def test_cli_check_bad_workbook_exits_1_and_lists_problems(tmp_path):
    path = good_book(tmp_path, "bad.xlsx", **changed_cell("Scorecard", 1, "目标", "很多"))
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    # a zh workbook's problems in Chinese (issue 12)
    assert "错误：bad.xlsx，工作表“计分卡”，单元格 C5：表格“计分卡”的“目标”列：不是数字（发现 '很多'）" in result.output
    assert "Traceback" not in result.output


def test_cli_check_warnings_only_exits_0(tmp_path):
    path = good_book(tmp_path, "warn.xlsx", **changed_cell("Scorecard", 2, "目标", 0))
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "警告：warn.xlsx" in result.output


def test_cli_check_unreadable_files_exit_1_with_one_line_each(tmp_path):
    good = good_book(tmp_path, "good.xlsx")
    result = CliRunner().invoke(main, ["check", str(good), str(empty_file(tmp_path)), str(missing_file(tmp_path))],
                                catch_exceptions=False)
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert lines == ["error: empty.xlsx: the file is empty (0 bytes); expected an .xlsx/.xlsm saved by Excel",
                     "error: missing.xlsx: file not found; expected an existing .xlsx/.xlsm file"]


def test_cli_check_usage_errors_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["check", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1  # a folder: its workbooks are checked (issue 14); here there are none
    assert "no .xlsx/.xlsm workbook" in result.output and "Traceback" not in result.output


def test_date_only_values_are_not_required_to_be_datetimes(tmp_path):
    # A due date typed as a datetime with a time of day is still a date (no problem reported).
    path = good_book(tmp_path, "dt.xlsx", **changed_cell("Actions", 0, "完成期限", dt.datetime(2026, 6, 30, 18, 0)))
    assert check_files([path]) == []
