"""``reviewkit check`` on bad inputs: one clear message each, nothing written, right exit code.

Every case builds one bad workbook (or bad file) in its own folder, runs ``check_files`` and
the CLI, and asserts that a problem names the file, the sheet, the cell and the value found,
and that the folder is byte-for-byte what it was before.
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from reviewkit.cli import main
from reviewkit.errors import ValidationError, WorkbookFormatError
from reviewkit.reader import check_files, read_review
from test_reader import HEADERS, sample_book, sample_rows, write_book

CORPUS_STRICT = Path(__file__).resolve().parent / "corpus" / "excel-made" / "SampleSS.strict.xlsx"


# --- helpers to damage a good workbook ------------------------------------------------------
def _rewrite_zip(path: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts = change(parts)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    path.write_bytes(buf.getvalue())


def _good(folder: Path, name: str = "review.xlsx", **overrides) -> Path:
    return sample_book(folder / name, "zh", **overrides)


def _rows(table: str, index: int, column: str, value) -> dict:
    """Override one cell of the sample (zh headers) data: ``{table: {"rows": ...}}``."""
    rows = [list(r) for r in sample_rows("zh")[table]]
    rows[index][HEADERS["zh"][table].index(column)] = value
    return {table: {"rows": rows}}


@dataclass
class Case:
    id: str
    build: Callable[[Path], Path]
    fragments: tuple[str, ...]  # all must appear in one problem's message
    sheet: str | None = None
    cell: str | None = None
    severity: str = "error"
    extra: dict = field(default_factory=dict)


def _missing(folder):
    return folder / "missing.xlsx"


def _directory(folder):
    d = folder / "looks_like.xlsx"
    d.mkdir()
    return d


def _empty(folder):
    p = folder / "empty.xlsx"
    p.write_bytes(b"")
    return p


def _csv(folder):
    p = folder / "export.xlsx"
    p.write_text("单位,目标\n华东,1200\n", encoding="utf-8")
    return p


def _truncated(folder):
    p = _good(folder, "cut.xlsx")
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return p


def _ole(folder, encrypted: bool, name: str):
    p = folder / name
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    body += ("EncryptionInfo" if encrypted else "Workbook").encode("utf-16-le") + b"\x00" * 1024
    p.write_bytes(body)
    return p


def _strict(folder):
    p = folder / "strict.xlsx"
    shutil.copyfile(CORPUS_STRICT, p)  # saved by Excel as Strict Open XML
    return p


def _docx(folder):
    p = folder / "report.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return p


def _html(folder):
    p = folder / "web_export.xls"
    p.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    return p


def _bomb(folder):
    p = _good(folder, "bomb.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, "xl/media/padding.bin": b"\x00" * (8 * 1024 * 1024)})
    return p


def _entities(folder):
    p = _good(folder, "laughs.xlsx")
    evil = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>')
    _rewrite_zip(p, lambda parts: {**parts, "xl/workbook.xml": evil + parts["xl/workbook.xml"].split(b"?>", 1)[1]})
    return p


def _entities_in_strings(folder):
    p = _good(folder, "strings.xlsx")
    evil = b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    _rewrite_zip(p, lambda parts: {**parts, "xl/sharedStrings.xml":
                                   evil + parts["xl/sharedStrings.xml"].split(b"?>", 1)[1]})
    return p


def _traversal(folder):
    p = _good(folder, "traversal.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, "../../evil.txt": b"x"})
    return p


def _broken_table_xml(folder):
    p = _good(folder, "broken_table.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, **{n: d[: len(d) // 2] for n, d in parts.items()
                                              if n.startswith("xl/tables/")}})
    return p


def _damaged_sheet(folder):
    """Bytes flipped inside the compressed cells of the 计分卡 sheet (a bad disk or download)."""
    p = _good(folder, "damaged.xlsx")
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet3.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 20, start + 60):
        data[k] ^= 0x5A
    p.write_bytes(bytes(data))
    return p


def _lock_file(folder):
    p = folder / "~$review.xlsx"  # what Excel leaves beside an open workbook
    p.write_bytes(b"\x06user  " + b"\x00" * 100)
    return p


def _plain_cells(folder):
    """The scorecard pasted as plain cells on its sheet: no Excel Table."""
    rows = sample_rows("zh")
    tables = {n: {"sheet": {"Settings": "设置", "KPIs": "KPI定义", "Facts": "明细", "Causes": "原因与经验",
                            "Actions": "改进行动"}[n], "headers": HEADERS["zh"][n], "rows": rows[n]}
              for n in rows if n != "Scorecard"}
    return write_book(folder / "plain.xlsx", tables,
                      extra_sheets={"计分卡": [HEADERS["zh"]["Scorecard"], *rows["Scorecard"]]})


def _renamed_table(folder):
    return _good(folder, "renamed.xlsx", Scorecard={"name": "Table1"})


def _missing_column(folder):
    return _good(folder, "nocol.xlsx", Scorecard={"headers": ["单位", "指标名", "目标", "实际", "去年", "前年", "行业平均"]})


def _facts_without_period(folder):
    headers = ["月度"] + HEADERS["zh"]["Facts"][1:]  # "月度" is not a period synonym
    return _good(folder, "noperiod.xlsx", Facts={"headers": headers})


def _no_header_row(folder):
    p = _good(folder, "noheader.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, **{n: d.replace(b'<table ', b'<table headerRowCount="0" ', 1)
                                              for n, d in parts.items()
                                              if n.startswith("xl/tables/") and b'name="Scorecard"' in d}})
    return p


def _excel_error(folder):
    p = _good(folder, "error_cell.xlsx")

    def change(parts):
        n = "xl/worksheets/sheet3.xml"  # 计分卡, the third sheet XlsxWriter wrote
        d = parts[n]
        start = d.index(b'<c r="D4"')
        end = d.index(b"</c>", start) + 4
        parts[n] = d[:start] + b'<c r="D4" t="e"><f>1/0</f><v>#DIV/0!</v></c>' + d[end:]
        return parts

    _rewrite_zip(p, change)
    return p


CASES = [
    # -- files that are not usable workbooks ---------------------------------------------
    Case("missing file", _missing, ("missing.xlsx", "file not found")),
    Case("directory", _directory, ("looks_like.xlsx", "folder")),
    Case("empty file", _empty, ("empty.xlsx", "empty (0 bytes)")),
    Case("csv renamed", _csv, ("export.xlsx", "not a zip")),
    Case("truncated download", _truncated, ("cut.xlsx", "truncated or damaged")),
    Case("encrypted", lambda f: _ole(f, True, "secret.xlsx"), ("secret.xlsx", "password-protected")),
    Case("legacy xls", lambda f: _ole(f, False, "old.xls"), ("old.xls", "97-2003 (.xls)", "Save As")),
    Case("strict ooxml", _strict, ("strict.xlsx", "Strict Open XML")),
    Case("word document", _docx, ("report.xlsx", "Word document")),
    Case("html as xls", _html, ("web_export.xls", "HTML")),
    Case("zip bomb", _bomb, ("bomb.xlsx", "zip bomb", "padding.bin")),
    Case("xml entities", _entities, ("laughs.xlsx", "DTD/entities")),
    Case("external entity in shared strings", _entities_in_strings,
         ("strings.xlsx", "xl/sharedStrings.xml", "DTD/entities")),
    Case("path traversal", _traversal, ("traversal.xlsx", "unsafe name", "../../evil.txt")),
    Case("damaged sheet data", _damaged_sheet, ("damaged.xlsx", "cannot be read", "save it again"), sheet="计分卡"),
    Case("broken table xml", _broken_table_xml, ("broken_table.xlsx", "not well-formed XML")),
    # -- tables and columns -------------------------------------------------------------
    Case("no table, plain cells", _plain_cells, ("plain.xlsx", "no Excel Table named 'Scorecard'", "Insert > Table"),
         sheet="计分卡"),
    Case("table with another name", _renamed_table, ("renamed.xlsx", "Table1", "rename it to 'Scorecard'"),
         sheet="计分卡", cell="A3:G6"),
    Case("missing required column", _missing_column, ("nocol.xlsx", "lacks the required column 'KPI代码'", "指标名"),
         sheet="计分卡", cell="A3:G3"),
    Case("detail facts without a period column", _facts_without_period,
         ("noperiod.xlsx", "lacks the required column '期间'", "月度"), sheet="明细", cell="A3:G3"),
    Case("no header row", _no_header_row, ("noheader.xlsx", "no header row"), sheet="计分卡"),
    # -- values ---------------------------------------------------------------------------
    Case("text where a number belongs", lambda f: _good(f, "text.xlsx", **_rows("Scorecard", 1, "目标", "很多")),
         ("text.xlsx", "not a number", "'很多'", "column '目标'"), sheet="计分卡", cell="C5"),
    Case("two decimal points", lambda f: _good(f, "dots.xlsx", **_rows("Scorecard", 0, "实际", "1.2.3")),
         ("dots.xlsx", "more than one decimal point", "'1.2.3'"), sheet="计分卡", cell="D4"),
    Case("double percent", lambda f: _good(f, "pct.xlsx", **_rows("Scorecard", 1, "去年", "12%%")),
         ("pct.xlsx", "more than one percent sign", "'12%%'"), sheet="计分卡", cell="E5"),
    Case("excel error value", _excel_error, ("error_cell.xlsx", "'#DIV/0!'"), sheet="计分卡", cell="D4"),
    Case("required value empty", lambda f: _good(f, "blankunit.xlsx", **_rows("Scorecard", 2, "单位", None)),
         ("blankunit.xlsx", "required '单位' is empty"), sheet="计分卡", cell="A6"),
    Case("unknown direction", lambda f: _good(f, "dir.xlsx", **_rows("KPIs", 0, "方向", "sideways")),
         ("dir.xlsx", "unknown value", "'sideways'", "越高越好 / Higher is better"), sheet="KPI定义", cell="D4"),
    Case("unknown cause kind", lambda f: _good(f, "kind.xlsx", **_rows("Causes", 0, "类型", "maybe")),
         ("kind.xlsx", "unknown value", "'maybe'", "问题 / Problem"), sheet="原因与经验", cell="C4"),
    Case("unknown action status", lambda f: _good(f, "status.xlsx", **_rows("Actions", 0, "状态", "half done")),
         ("status.xlsx", "unknown value", "'half done'"), sheet="改进行动", cell="E4"),
    Case("date that is not a date", lambda f: _good(f, "due.xlsx", **_rows("Causes", 0, "截止日期", "next week")),
         ("due.xlsx", "not a date", "'next week'", "column '截止日期'"), sheet="原因与经验", cell="H4"),
    Case("month 13", lambda f: _good(f, "m13.xlsx", **_rows("Actions", 0, "完成期限", "2025-13-01")),
         ("m13.xlsx", "month 13 does not exist", "'2025-13-01'"), sheet="改进行动", cell="D4"),
    Case("bad period in facts", lambda f: _good(f, "period.xlsx", **_rows("Facts", 1, "期间", "someday")),
         ("period.xlsx", "'someday'", "expected a period"), sheet="明细", cell="A5"),
    Case("text in a measure", lambda f: _good(f, "measure.xlsx", **_rows("Facts", 2, "销售额", "n/a")),
         ("measure.xlsx", "measure column '销售额'", "'n/a'"), sheet="明细", cell="E6"),
    Case("setting that is not a year", lambda f: _good(f, "year.xlsx", **_rows("Settings", 0, "值", "明年")),
         ("year.xlsx", "not a number", "'明年'", "setting '复盘年度'", "expected a year such as 2025"),
         sheet="设置", cell="B4"),
    Case("setting year out of range", lambda f: _good(f, "y3.xlsx", **_rows("Settings", 0, "值", 25)),
         ("y3.xlsx", "not a year", "setting '复盘年度'", "expected a year such as 2025"), sheet="设置", cell="B4"),
    # -- across rows and tables -----------------------------------------------------------
    Case("unknown KPI in scorecard", lambda f: _good(f, "kpi.xlsx", **_rows("Scorecard", 2, "KPI代码", "salez")),
         ("kpi.xlsx", "unknown KPI key in table 'Scorecard'", "'salez'", "renew"), sheet="计分卡", cell="B6"),
    Case("KPI key in the wrong case", lambda f: _good(f, "case.xlsx", **_rows("Scorecard", 2, "KPI代码", "Sales")),
         ("case.xlsx", "unknown KPI key", "'Sales'", "'sales' (keys are matched exactly)"), sheet="计分卡", cell="B6"),
    Case("KPIs table left empty", lambda f: _good(f, "nokpis.xlsx", KPIs={"rows": [[None] * 10]}),
         ("nokpis.xlsx", "unknown KPI key in table 'Scorecard'", "'sales'", "(none yet)"), sheet="计分卡", cell="B4"),
    Case("unknown KPI in causes", lambda f: _good(f, "ckpi.xlsx", **_rows("Causes", 0, "KPI代码", "profit")),
         ("ckpi.xlsx", "unknown KPI key in table 'Causes'", "'profit'"), sheet="原因与经验", cell="B4"),
    Case("unknown KPI in actions", lambda f: _good(f, "akpi.xlsx", **_rows("Actions", 0, "KPI代码", "nps")),
         ("akpi.xlsx", "unknown KPI key in table 'Actions'", "'nps'"), sheet="改进行动", cell="G4"),
    Case("duplicate unit and KPI", lambda f: _good(f, "dup.xlsx", **_rows("Scorecard", 2, "单位", "华东")),
         ("dup.xlsx", "duplicate row in table 'Scorecard'", "'华东 + sales'", "same 单位 + KPI代码 as B4"),
         sheet="计分卡", cell="B6"),
    Case("duplicate KPI key", lambda f: _good(f, "dupkpi.xlsx", **_rows("KPIs", 2, "KPI代码", "renew")),
         ("dupkpi.xlsx", "duplicate row in table 'KPIs'", "'renew'"), sheet="KPI定义", cell="A6"),
    Case("ratio numerator not in facts", lambda f: _good(f, "num.xlsx", **_rows("KPIs", 1, "分子", "续费数")),
         ("num.xlsx", "numerator '续费数' is not a column of table 'Facts'", "销售额, 到期数, 续约数"),
         sheet="KPI定义", cell="G5"),
    Case("ratio without denominator", lambda f: _good(f, "den.xlsx", **_rows("KPIs", 1, "分母", None)),
         ("den.xlsx", "ratio KPI 'renew' has no denominator"), sheet="KPI定义", cell="H5"),
    Case("measure is a text column", lambda f: _good(f, "dimmeasure.xlsx", **_rows("KPIs", 0, "明细度量", "行业")),
         ("dimmeasure.xlsx", "measure '行业' is a text column"), sheet="KPI定义", cell="F4"),
    Case("percent KPI with mixed scales", lambda f: _good(f, "scale.xlsx", **_rows("Scorecard", 1, "目标", 15)),
         ("scale.xlsx", "KPI 'renew' is a percentage but this row mixes scales: 目标 15 vs 实际 0.18", "15%"),
         sheet="计分卡", cell="C5", severity="warning"),
    Case("excel lock file", _lock_file,
         ("~$review.xlsx", "temporary lock file", "'review.xlsx'")),
    Case("target of zero", lambda f: _good(f, "zero.xlsx", **_rows("Scorecard", 2, "目标", 0)),
         ("zero.xlsx", "target of 华北 / sales is 0", "(found 0)"), sheet="计分卡", cell="C6", severity="warning"),
]


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
    paths = [_missing(tmp_path), _empty(tmp_path), _csv(tmp_path), _ole(tmp_path, True, "e.xlsx")]
    problems = check_files(paths)
    assert [Path(p.file).name for p in problems] == ["missing.xlsx", "empty.xlsx", "export.xlsx", "e.xlsx"]


def test_every_problem_is_reported_at_once(tmp_path):
    bad = {**_rows("Scorecard", 1, "目标", "很多"), **_rows("KPIs", 0, "方向", "sideways")}
    bad["Causes"] = {"rows": [["华东", "profit", "问题", "x", "2 of 3", None, None, "someday"]]}
    path = _good(tmp_path, "many.xlsx", **bad)
    problems = check_files([path])
    cells = {(p.sheet, p.cell) for p in problems if p.severity == "error"}
    assert {("计分卡", "C5"), ("KPI定义", "D4"), ("原因与经验", "B4"), ("原因与经验", "H4")} <= cells
    with pytest.raises(ValidationError) as info:
        read_review(path)
    assert len(info.value.problems) == len([p for p in problems if p.severity == "error"])


def test_read_review_raises_format_error_for_bad_files(tmp_path):
    with pytest.raises(WorkbookFormatError, match="empty"):
        read_review(_empty(tmp_path))


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
    path = _good(tmp_path)
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ok: 1 file(s) checked, no problems" in result.output


def test_cli_check_bad_workbook_exits_1_and_lists_problems(tmp_path):
    path = _good(tmp_path, "bad.xlsx", **_rows("Scorecard", 1, "目标", "很多"))
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    # a zh workbook's problems in Chinese (issue 12)
    assert "错误：bad.xlsx，工作表“计分卡”，单元格 C5：表格“计分卡”的“目标”列：不是数字（发现 '很多'）" in result.output
    assert "Traceback" not in result.output


def test_cli_check_warnings_only_exits_0(tmp_path):
    path = _good(tmp_path, "warn.xlsx", **_rows("Scorecard", 2, "目标", 0))
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "警告：warn.xlsx" in result.output


def test_cli_check_unreadable_files_exit_1_with_one_line_each(tmp_path):
    good = _good(tmp_path, "good.xlsx")
    result = CliRunner().invoke(main, ["check", str(good), str(_empty(tmp_path)), str(_missing(tmp_path))],
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
    path = _good(tmp_path, "dt.xlsx", **_rows("Actions", 0, "完成期限", dt.datetime(2026, 6, 30, 18, 0)))
    assert check_files([path]) == []
