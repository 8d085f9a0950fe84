"""The xlwings engine and the Refresh entry point, without Excel.

A small stand-in for an xlwings ``Book`` (``FakeBook``, loaded from a real .xlsx through
openpyxl so tables sit where Excel would see them) implements the few calls the engine
makes and counts them. The same contract tests run against a live Excel through xlwings
where one is available (Windows/macOS with Excel), and are skipped elsewhere.
"""
from __future__ import annotations

import inspect
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from reviewkit import button
from reviewkit.engines.plan import CellWrite, group_formats, group_writes, parse_cell
from reviewkit.engines.xlwings_engine import STATUS_NAME, XlwingsEngine, parse_address, tables_in_book
from reviewkit.errors import InputError, ReviewkitError


# --- a stand-in for xlwings ---------------------------------------------------------------
def _rc(ref: str) -> tuple[int, int, int, int]:
    return parse_address(ref)


def _addr(r0, c0, r1, c1) -> str:
    from reviewkit.engines.plan import col_letter

    a = f"${col_letter(c0)}${r0}"
    return a if (r0, c0) == (r1, c1) else f"{a}:${col_letter(c1)}${r1}"


class FakeRange:
    def __init__(self, sheet: FakeSheet, ref: str):
        self.sheet = sheet
        self.r0, self.c0, self.r1, self.c1 = _rc(ref)

    @property
    def address(self) -> str:
        return _addr(self.r0, self.c0, self.r1, self.c1)

    def options(self, ndim=None, **_):
        assert ndim == 2
        return self

    def _cells(self):
        return [[(r, c) for c in range(self.c0, self.c1 + 1)] for r in range(self.r0, self.r1 + 1)]

    @property
    def value(self):
        self.sheet.book.calls.append(("read", self.sheet.name, self.address))
        return [[self.sheet.cells.get(rc) for rc in row] for row in self._cells()]

    def _set(self, data, store, kind):
        self.sheet.book.calls.append((kind, self.sheet.name, self.address))
        grid = self._cells()
        if not isinstance(data, list):
            assert len(grid) == 1 and len(grid[0]) == 1, "scalar written to a multi-cell range"
            data = [[data]]
        assert [len(r) for r in data] == [len(r) for r in grid], "shape mismatch"
        for rcs, vals in zip(grid, data):
            for rc, v in zip(rcs, vals):
                assert not isinstance(v, (np.generic,)), f"numpy value {v!r} sent to Excel"
                assert not (isinstance(v, float) and math.isnan(v)), "NaN sent to Excel"
                store(rc, v)

    @value.setter
    def value(self, data):
        def store(rc, v):
            self.sheet.cells[rc] = v
            self.sheet.formulas.pop(rc, None)
        self._set(data, store, "value")

    @property
    def formula(self):
        """Like xlwings: the formula-bar text of each cell (formula or value); one cell as a scalar."""
        self.sheet.book.calls.append(("read_formula", self.sheet.name, self.address))
        rows = [[self.sheet.formulas.get(rc, self.sheet.cells.get(rc)) for rc in row] for row in self._cells()]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows

    @formula.setter
    def formula(self, data):
        def store(rc, v):  # like Excel: "=..." is a formula, blank clears, anything else is a constant
            if isinstance(v, str) and v.startswith("="):
                self.sheet.formulas[rc] = v
                self.sheet.cells[rc] = None
            else:
                self.sheet.formulas.pop(rc, None)
                self.sheet.cells[rc] = None if v == "" else v
        self._set(data, store, "formula")

    @property
    def number_format(self):  # pragma: no cover
        raise NotImplementedError

    @property
    def column_width(self):  # pragma: no cover
        raise NotImplementedError

    @column_width.setter
    def column_width(self, width):
        self.sheet.book.calls.append(("column_width", self.sheet.name, self.address))
        for c in range(self.c0, self.c1 + 1):
            self.sheet.widths[c] = width

    def merge(self):
        self.sheet.book.calls.append(("merge", self.sheet.name, self.address))
        self.sheet.merged.append(self.address)

    @property
    def color(self):  # pragma: no cover
        raise NotImplementedError

    @color.setter
    def color(self, rgb):
        self.sheet.book.calls.append(("color", self.sheet.name, self.address))
        for row in self._cells():
            for rc in row:
                self.sheet.looks.setdefault(rc, {})["color"] = rgb

    @property
    def font(self):
        return FakeFont(self)

    @number_format.setter
    def number_format(self, fmt):
        self.sheet.book.calls.append(("number_format", self.sheet.name, self.address))
        for row in self._cells():
            for rc in row:
                self.sheet.formats[rc] = fmt


class FakeFont:
    def __init__(self, rng):
        object.__setattr__(self, "_rng", rng)

    def __setattr__(self, name, value):
        rng = self._rng
        rng.sheet.book.calls.append((f"font.{name}", rng.sheet.name, rng.address))
        for row in rng._cells():
            for rc in row:
                rng.sheet.looks.setdefault(rc, {})[f"font.{name}"] = value


class FakeTable:
    def __init__(self, sheet, name, ref, show_totals=False):
        self.name, self.show_headers, self.show_totals = name, True, show_totals
        self.range = FakeRange(sheet, ref)


class FakeSheet:
    def __init__(self, book, name):
        self.book, self.name = book, name
        self.cells, self.formulas, self.formats = {}, {}, {}
        self.widths, self.looks, self.merged = {}, {}, []
        self.tables: list[FakeTable] = []
        self.charts: list = []

    def range(self, ref):
        if re.fullmatch(r"[A-Z]{1,3}:[A-Z]{1,3}", ref):  # whole columns
            a, b = ref.split(":")
            return FakeRange(self, f"{a}1:{b}1048576")
        return FakeRange(self, ref)

    @property
    def used_range(self):
        filled = [rc for rc, v in self.cells.items() if v is not None] + list(self.formulas)
        if not filled:
            return FakeRange(self, "A1")
        r1, c1 = max(r for r, _ in filled), max(c for _, c in filled)
        return FakeRange(self, f"A1:{_addr(1, 1, r1, c1).split(':')[-1].replace('$', '')}")

    def delete(self):
        self.book.calls.append(("delete_sheet", self.name, ""))
        self.book.sheets.remove(self)

    def clear_contents(self):
        self.book.calls.append(("clear_contents", self.name, ""))
        self.cells, self.formulas = {}, {}


class FakeSheets(list):
    def __init__(self, book):
        super().__init__()
        self.book = book

    def add(self, name, before=None, after=None):
        self.book.calls.append(("add_sheet", name, ""))
        sheet = FakeSheet(self.book, name)
        if before is not None:
            self.insert(self.index(before), sheet)
        else:
            self.insert(self.index(after) + 1 if after is not None else len(self), sheet)
        return sheet


class FakeApp:
    def __init__(self):
        self.screen_updating, self.calculation, self.status_bar = True, "automatic", None
        self.alerts: list[tuple] = []
        self.during_writes: list[tuple] = []

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append((prompt, title, mode))


class FakeName:
    def __init__(self, name, rng):
        self.name, self.refers_to_range = name, rng


class FakeNames(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(n for n in self if n.name == key)
        return super().__getitem__(key)


class FakeBook:
    def __init__(self, name="review.xlsm"):
        self.name = self.fullname = name
        self.sheets = FakeSheets(self)
        self.app = FakeApp()
        self.names = FakeNames()
        self.calls: list[tuple] = []

    @classmethod
    def from_file(cls, path: Path) -> FakeBook:
        """Cells, tables and defined names of a real .xlsx, as Excel would show them."""
        import openpyxl

        wb = openpyxl.load_workbook(path)
        book = cls(str(path))
        for ws in wb.worksheets:
            sheet = FakeSheet(book, ws.title)
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        sheet.cells[(c.row, c.column)] = float(c.value) if isinstance(c.value, int) \
                            and not isinstance(c.value, bool) else c.value
            for t in ws.tables.values():
                sheet.tables.append(FakeTable(sheet, t.displayName, t.ref, show_totals=bool(t.totalsRowCount)))
            book.sheets.append(sheet)
        for name, dn in wb.defined_names.items():
            (sheet_name, ref), = list(dn.destinations)
            sheet = next(s for s in book.sheets if s.name == sheet_name)
            book.names.append(FakeName(name, FakeRange(sheet, ref.replace("$", ""))))
        return book

    def sheet(self, name) -> FakeSheet:
        return next(s for s in self.sheets if s.name == name)


# --- a small review workbook ----------------------------------------------------------------
SCORECARD_HEADERS = ["单位", "KPI代码", "目标", "实际", "去年", "前年", "达成率", "差额", "同比变化", "同比%", "较前年%"]
KPI_HEADERS = ["KPI代码", "KPI名称", "单位", "方向", "汇总方式"]
KPIS = [
    ["sales", "销售额", "万元", "越高越好", "求和"],
    ["new_customers", "新客户数", "个", "越高越好", "求和"],
    ["repurchase", "大客户复购率", "%", "越高越好", "期末值"],
    ["delivery_days", "交付天数", "天", "越低越好", "平均"],
]
# METHOD.md's worked examples: 1,200万 plan / 1,080万 actual = 90%; 500 / 420 = 84%; 15% / 18% = 120%
SCORECARD = [
    ["华东", "sales", 1200, 1080, 1000, 900],
    ["华东", "new_customers", 500, 420, 400, None],
    None,  # a blank row inside the table is skipped
    ["华东", "repurchase", 0.15, 0.18, 0.16, 0.14],
    ["华北", "delivery_days", 30, 24, 28, 35],
]


SETTINGS = [["公司", "示例公司"], ["复盘年度", "2025"], ["进度偏差阈值", "10%"]]
FACTS_HEADERS = ["期间", "单位", "行业", "客户规模", "销售额"]
FACTS = [["2025-01", "华东", "互联网", "<300人", 100], ["2025-02", "华东", "制造", ">=300人", "1.2万"],
         ["2024-12", "华北", "互联网", "<300人", 80.5]]


def write_review(path: Path, *, scorecard=SCORECARD, headers=SCORECARD_HEADERS, status_cell=True,
                 date_1904: bool = False, causes: list | None = None) -> Path:
    """Tables where a user might put them: KPIs at B3, the scorecard at C5 after a title."""
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    if causes:
        ws = wb.add_worksheet("原因与经验")
        ws.add_table(0, 0, len(causes), 7, {"name": "Causes", "data": causes, "columns": [{"header": h} for h in (
            "单位", "KPI代码", "类型", "原因", "数据证据", "改进措施", "负责人", "截止日期")]})
    guide = wb.add_worksheet("说明")
    guide.write("A1", "复盘说明")
    if status_cell:
        guide.write("A3", "")
        wb.define_name(STATUS_NAME, "=说明!$B$3")
    settings = wb.add_worksheet("设置")
    settings.add_table(0, 0, len(SETTINGS), 1, {"name": "Settings", "data": SETTINGS,
                                                "columns": [{"header": "项目"}, {"header": "值"}]})
    facts = wb.add_worksheet("明细")
    facts.add_table(1, 0, 1 + len(FACTS), len(FACTS_HEADERS) - 1,
                    {"name": "Facts", "data": FACTS, "columns": [{"header": h} for h in FACTS_HEADERS]})
    kpis = wb.add_worksheet("KPI定义")
    kpis.add_table(2, 1, 2 + len(KPIS), 1 + len(KPI_HEADERS) - 1,
                   {"name": "KPIs", "data": KPIS, "columns": [{"header": h} for h in KPI_HEADERS]})
    sc = wb.add_worksheet("计分卡")
    sc.write("A1", "计分卡")
    rows = [(r + [None] * (len(headers) - len(r))) if r else [None] * len(headers) for r in scorecard]
    sc.add_table(4, 2, 4 + len(rows), 2 + len(headers) - 1,
                 {"name": "Scorecard", "data": rows, "columns": [{"header": h} for h in headers]})
    wb.close()
    return path


@pytest.fixture
def review_file(tmp_path) -> Path:
    return write_review(tmp_path / "review.xlsx")


# --- engines: the stand-in always, Excel where there is one --------------------------------
@pytest.fixture(params=["stand-in", "excel"])
def open_book(request):
    """Open a review file as a book: the stand-in, or the real thing in Excel."""
    opened = []

    def open_(path: Path):
        if request.param == "stand-in":
            return FakeBook.from_file(path)
        if sys.platform not in ("win32", "darwin"):
            pytest.skip("needs Microsoft Excel (Windows or macOS) driven by xlwings; this is "
                        f"{sys.platform}, where the stand-in book runs the same tests")
        xw = pytest.importorskip("xlwings")
        try:
            app = xw.App(visible=False, add_book=False)
        except Exception as exc:  # noqa: BLE001 - no Excel, or Excel cannot be automated here
            pytest.skip(f"Microsoft Excel cannot be started by xlwings here ({exc})")
        opened.append(app)
        return app.books.open(str(path))

    yield open_
    for app in opened:
        app.kill()


def recalculated(book: FakeBook, source: Path, outdir: Path):
    """What Excel would show: the stand-in's cells and formulas written over ``source`` and
    recalculated by LibreOffice; an openpyxl workbook of the computed values."""
    import openpyxl

    from reviewkit.libreoffice import recalculate

    wb = openpyxl.load_workbook(source)
    for i, sheet in enumerate(book.sheets):
        ws = wb[sheet.name] if sheet.name in wb.sheetnames else wb.create_sheet(sheet.name, i)
        for (r, c), v in sheet.cells.items():
            ws.cell(r, c).value = v
        for (r, c), f in sheet.formulas.items():
            ws.cell(r, c).value = f
    path = outdir / "as_excel_shows.xlsx"
    wb.save(path)
    out = recalculate([path], outdir / "lo")[path.resolve()]
    assert out is not None, "LibreOffice could not recalculate"
    return openpyxl.load_workbook(out, data_only=True)


class _Shown:
    def __init__(self, wb):
        self.wb = wb


def _value(book, sheet: str, ref: str):
    if isinstance(book, _Shown):
        v = book.wb[sheet][ref].value
        return None if v == "" else v
    if isinstance(book, FakeBook):
        r, c = parse_cell(ref)
        return book.sheet(sheet).cells.get((r, c))
    return book.sheets[sheet].range(ref).value


def test_tables_map_to_their_ranges_and_headers(review_file, open_book):
    book = open_book(review_file)
    tables = {t.name: t for t in tables_in_book(book)}
    assert set(tables) == {"KPIs", "Scorecard", "Settings", "Facts"}
    sc = tables["Scorecard"]
    assert (sc.sheet, sc.ref, sc.first_row, sc.first_col) == ("计分卡", "C5:M10", 5, 3)
    assert sc.headers == SCORECARD_HEADERS
    assert tables["KPIs"].ref == "B3:F7"


def test_review_from_the_open_book(review_file, open_book):
    review = XlwingsEngine(open_book(review_file)).read_review()
    sc = review.scorecard
    assert list(sc["kpi"]) == ["sales", "new_customers", "repurchase", "delivery_days"]
    assert list(sc["target"]) == [1200, 500, 0.15, 30]
    assert math.isnan(sc["year_before"][1])
    assert list(review.kpis["direction"]) == ["higher", "higher", "higher", "lower"]
    layout = review.layouts["Scorecard"]
    assert layout.rows == (6, 7, 9, 10)  # row 8 is blank
    assert layout.cell("achievement", 0) == "I6" and layout.cell("gap", 3) == "J10"
    assert layout.columns["unit"] == "C" and layout.cell("unit") == "C5"
    assert review.lang == "zh"


def test_refresh_writes_the_analysis_into_the_book(review_file, open_book, request, tmp_path):
    """After a refresh the workbook shows the analysis (the stand-in cannot calculate, so its
    formulas are calculated by LibreOffice, as Excel would)."""
    book = open_book(review_file)
    result = button.refresh(book)
    assert result.ok, result.message
    if isinstance(book, FakeBook):
        request.getfixturevalue("soffice")
        shown = recalculated(book, review_file, tmp_path)
        book = _Shown(shown)
    # independent expectations from METHOD.md: 1080/1200, 420/500, 0.18/0.15
    assert _value(book, "计分卡", "I6") == pytest.approx(0.90)
    assert _value(book, "计分卡", "I7") == pytest.approx(0.84)
    assert _value(book, "计分卡", "I9") == pytest.approx(1.20)
    assert _value(book, "计分卡", "J6") == pytest.approx(-120)
    assert _value(book, "计分卡", "K6") == pytest.approx(80)  # 1080 - 1000
    assert _value(book, "计分卡", "L6") == pytest.approx(0.08)  # +8% vs last year
    assert _value(book, "计分卡", "M6") == pytest.approx(1080 / 900 - 1)
    assert _value(book, "计分卡", "M7") in (None, "")  # no year-before figure: left empty
    assert _value(book, "计分卡", "I10") > 1  # 24 days against 30, lower is better
    assert _value(book, "计分卡", "I8") is None  # the blank row stays blank
    assert _value(book, "计分卡", "E6") == 1200  # inputs untouched


def test_same_review_as_the_file_engine(review_file, open_book):
    """The contract: reading the open book gives what reviewkit.reading gives for the file."""
    import pandas.testing as pdt

    from reviewkit.reading import read_review

    from_file = read_review(review_file)
    from_book = XlwingsEngine(open_book(review_file)).read_review()
    assert set(from_book.tables) == set(from_file.tables) == {"Settings", "KPIs", "Scorecard", "Facts"}
    for name in from_file.tables:
        pdt.assert_frame_equal(from_book.tables[name], from_file.tables[name], check_dtype=False)
        assert from_book.layouts[name] == from_file.layouts[name]
    assert from_book.settings == from_file.settings
    assert (from_book.settings["company"], from_book.settings["review_year"]) == ("示例公司", 2025)
    assert from_book.lang == from_file.lang == "zh"
    assert (from_book.dimensions, from_book.measures) == (from_file.dimensions, from_file.measures)
    assert list(from_book.facts["销售额"]) == [100, 12000, 80.5]  # 1.2万 parsed like the CLI does


# --- the stand-in only: what Excel is asked to do ------------------------------------------
def test_refresh_writes_in_few_calls_with_formats_and_restores_the_app(review_file):
    book = FakeBook.from_file(review_file)
    book.calls.clear()
    result = button.refresh(book)
    assert result.ok
    writes = [c for c in book.calls if c[0] in ("value", "formula") and c[1] == "计分卡"]
    # five computed columns I:M over rows 6-7 and 9-10 (row 8 is blank): two rectangles of
    # live formulas, not 20 calls
    assert writes == [("formula", "计分卡", "$I$6:$M$7"), ("formula", "计分卡", "$I$9:$M$10")]
    sheet = book.sheet("计分卡")
    assert "F6/E6" in sheet.formulas[(6, 9)] and "%" in sheet.formats[(6, 9)]  # achievement, as a percent
    assert [c for c in book.calls if c[0] == "value" and c[1] == "说明"] == [("value", "说明", "$B$3")]
    assert (book.app.screen_updating, book.app.calculation) == (True, "automatic")
    assert book.app.alerts == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d reviewkit: refreshed, \d+ cells written.*",
                        book.sheet("说明").cells[(3, 2)])
    assert book.sheet("说明").cells[(3, 2)].endswith(result.message)


def test_bad_input_reaches_the_user_as_the_cli_line_not_a_traceback(tmp_path):
    bad = [list(r) if r else None for r in SCORECARD]
    bad[1][3] = "四百二十"  # text where a number belongs: new_customers actual, cell F7
    book = FakeBook.from_file(write_review(tmp_path / "bad.xlsx", scorecard=bad))
    before = dict(book.sheet("计分卡").cells)
    result = button.refresh(book)
    assert not result.ok
    assert result.message.startswith("reviewkit: ")
    assert "工作表“计分卡”" in result.message and "单元格 F7" in result.message  # a zh workbook: Chinese
    assert "'四百二十'" in result.message and "应为 数字" in result.message
    assert "Traceback" not in result.message and "\n" not in result.message
    assert book.app.alerts == [(result.message, "reviewkit", "critical")]
    assert book.sheet("计分卡").cells == before  # nothing written
    assert book.sheet("说明").cells[(3, 2)].endswith(result.message)


def test_cli_and_button_show_the_same_text_for_the_same_error(tmp_path, capsys):
    """The button's line is what the CLI prints for the same file: 'reviewkit: <error>'."""
    from reviewkit.cli import ReviewkitClickError, _run
    from reviewkit.reading import read_review

    bad = [list(r) if r else None for r in SCORECARD]
    bad[1][3] = "四百二十"
    path = write_review(tmp_path / "bad.xlsx", scorecard=bad)
    with pytest.raises(ReviewkitClickError) as info:
        _run(read_review, path)
    info.value.show()
    cli_line = capsys.readouterr().err.strip()
    assert cli_line.startswith("reviewkit: bad.xlsx，工作表“计分卡”，单元格 F7")  # a zh workbook: Chinese
    assert button.refresh(FakeBook.from_file(path)).message == cli_line


def test_missing_scorecard_table_is_named(tmp_path):
    path = tmp_path / "none.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("计分卡").write("A1", "目标")
    wb.close()
    result = button.refresh(FakeBook.from_file(path))
    assert not result.ok
    assert "没有名为“KPIs”的 Excel 表格" in result.message  # a zh workbook: Chinese
    assert "另有 1 个问题" in result.message  # Scorecard is missing too


def test_missing_required_column_is_named(tmp_path):
    headers = ["单位", "指标X", "目标", "实际"]
    path = write_review(tmp_path / "cols.xlsx", headers=headers, scorecard=[["华东", "sales", 1, 2]])
    result = button.refresh(FakeBook.from_file(path))
    assert not result.ok
    assert "缺少必需的列“KPI代码”" in result.message
    assert "工作表“计分卡”，单元格 C5:F5" in result.message


def test_unexpected_errors_become_one_line_and_a_log(tmp_path):
    class Broken(FakeBook):
        @property
        def sheets(self):
            raise RuntimeError("COM call failed")

        @sheets.setter
        def sheets(self, value):
            pass

    book = Broken()
    result = button.refresh(book)
    assert not result.ok
    assert result.message.startswith("reviewkit: unexpected error (RuntimeError: COM call failed)")
    assert "\n" not in result.message
    assert "Traceback" in Path(result.log).read_text(encoding="utf-8")
    assert book.app.alerts and book.app.alerts[0][2] == "critical"


def test_synonyms_and_numbers_stored_as_text(tmp_path):
    headers = ["部门", "指标代码", "计划", "完成", "上年"]
    rows = [["华东", "sales", "1,200", "1080", "(1,000)"], ["华东", "repurchase", "15%", "18%", None]]
    book = FakeBook.from_file(write_review(tmp_path / "syn.xlsx", headers=headers, scorecard=rows))
    review = XlwingsEngine(book).read_review()
    sc = review.scorecard
    assert list(sc["target"]) == [1200, 0.15]
    assert list(sc["actual"]) == [1080, 0.18]
    assert sc["last_year"][0] == -1000
    assert review.layouts["Scorecard"].headers["target"] == "计划"


def test_the_open_book_is_a_reader_engine_with_the_file_readers_problems(tmp_path):
    """``OpenBook`` implements the reader's ``Engine`` (tables and cells only): the shared loop
    finds the same problems, at the same cells, as for the file."""
    import reviewkit.engines.xlwings_engine as xe
    from reviewkit.reading import Engine, read_with_problems

    bad = [list(r) if r else None for r in SCORECARD]
    bad[1][3] = "四百二十"  # text where a number belongs
    bad[3][2] = "#N/A"  # an error typed where a number belongs
    path = write_review(tmp_path / "bad.xlsx", scorecard=bad)
    engine = xe.OpenBook(FakeBook.from_file(path), str(path))
    assert isinstance(engine, Engine)
    _, from_book = read_with_problems(engine)
    _, from_file = read_with_problems(path)
    assert [p.render() for p in from_book] == [p.render() for p in from_file]
    assert {p.cell for p in from_book if p.severity == "error"} >= {"F7", "E9"}


# --- write plans ----------------------------------------------------------------------------
def test_group_writes_makes_rectangles_per_sheet_and_kind():
    plan = [CellWrite("S", f"{c}{r}", r * 10 + i) for r in (2, 3, 4) for i, c in enumerate("BCD")]
    plan += [CellWrite("S", "B6", 1), CellWrite("S", "D6", 2)]  # a gap in row 6: two pieces
    plan += [CellWrite("S", "E2", 5, formula="=B2+C2"), CellWrite("S", "E3", 6, formula="=B3+C3")]
    plan += [CellWrite("T", "A1", "x")]
    got = {(w.sheet, w.ref, w.kind): w.values for w in group_writes(plan)}
    assert got == {
        ("S", "B2:D4", "value"): ((20, 21, 22), (30, 31, 32), (40, 41, 42)),
        ("S", "B6", "value"): ((1,),),
        ("S", "D6", "value"): ((2,),),
        ("S", "E2:E3", "formula"): (("=B2+C2",), ("=B3+C3",)),
        ("T", "A1", "value"): (("x",),),
    }


def test_group_writes_later_write_wins_and_values_become_plain():
    plan = [CellWrite("S", "A1", 1), CellWrite("S", "A1", 2, formula="=1+1"),
            CellWrite("S", "A2", np.float64(0.5)), CellWrite("S", "A3", float("nan")),
            CellWrite("S", "A4", np.int64(3))]
    got = {(w.ref, w.kind): w.values for w in group_writes(plan)}
    assert got == {("A1", "formula"): (("=1+1",),), ("A2:A4", "value"): ((0.5,), (None,), (3,))}
    assert type(got[("A2:A4", "value")][0][0]) is float and type(got[("A2:A4", "value")][2][0]) is int


def test_group_formats_one_call_per_rectangle_and_format():
    plan = [CellWrite("S", f"B{r}", 0.1, number_format="0.0%") for r in range(2, 12)]
    plan += [CellWrite("S", f"C{r}", 1, number_format="#,##0") for r in range(2, 12)]
    plan += [CellWrite("S", "D2", 1)]  # no format: not touched
    got = sorted((w.ref, w.values[0][0]) for w in group_formats(plan))
    assert got == [("B2:B11", "0.0%"), ("C2:C11", "#,##0")]


def test_staircase_shapes_are_covered_exactly():
    cells = {(r, c) for r in range(1, 8) for c in range(1, r + 1)} | {(10, 3)}
    plan = [CellWrite("S", f"{chr(64 + c)}{r}", r * 100 + c) for r, c in cells]
    covered = set()
    for w in group_writes(plan):
        r0, c0, r1, c1 = parse_address(w.ref)
        block = {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        assert not block & covered
        covered |= block
        for i, r in enumerate(range(r0, r1 + 1)):
            assert list(w.values[i]) == [r * 100 + c for c in range(c0, c1 + 1)]
    assert covered == cells


def test_apply_refuses_a_plan_for_a_missing_sheet_and_writes_nothing(review_file):
    book = FakeBook.from_file(review_file)
    book.calls.clear()
    with pytest.raises(InputError, match="sheet the workbook does not have.*'Nope'"):
        XlwingsEngine(book).apply([CellWrite("计分卡", "Z1", 1), CellWrite("Nope", "A1", 1)])
    assert [c for c in book.calls if c[0] != "read"] == []


def test_apply_writes_formulas_as_formulas(review_file):
    book = FakeBook.from_file(review_file)
    n = XlwingsEngine(book).apply([CellWrite("计分卡", "I6", 0.9, formula="=IFERROR(F6/E6,\"\")"),
                                   CellWrite("计分卡", "I7", 0.84, formula="=IFERROR(F7/E7,\"\")")])
    assert n == 2
    assert book.sheet("计分卡").formulas[(6, 9)] == '=IFERROR(F6/E6,"")'
    assert book.calls[-1] == ("formula", "计分卡", "$I$6:$I$7")


@pytest.mark.parametrize("bad", ["B", "1A", "A0", "XFE1", "A1048577", ""])
def test_bad_cell_references_are_refused(bad):
    with pytest.raises(InputError):
        parse_cell(bad)


# --- the entry point ------------------------------------------------------------------------
def test_entry_points_accept_what_xlwings_passes():
    params = inspect.signature(button.refresh).parameters
    assert list(params)[0] == "book" and params["book"].default is None
    assert inspect.signature(button.main).parameters == {}


def test_refresh_without_a_book_outside_excel_says_what_to_do(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest"])
    with pytest.raises(ReviewkitError, match=r"pass the book: refresh\(xlwings.Book"):
        button.refresh()


def test_write_sidecar_for_run_main(tmp_path, review_file):
    target = button.write_sidecar(review_file)
    assert target == review_file.with_suffix(".py")
    ns: dict = {}
    exec(compile(target.read_text(encoding="utf-8"), str(target), "exec"), ns)
    assert ns["main"] is button.main
    with pytest.raises(InputError, match="already exists"):
        button.write_sidecar(review_file)
    with pytest.raises(InputError, match="Python identifier"):
        button.write_sidecar(tmp_path / "2026 review.xlsx")


# --- the editor: WorkbookEditor's calls, applied to the open book -----------------------------
def _replay(editor, styles):
    """The same writing sequence, given to a file editor or to the open-book editor."""
    from reviewkit.ooxml import Cell, SheetSpec

    CellStyle = styles
    sc = editor.sheet("计分卡")
    sc.write("I6", 0.9, CellStyle(num_format="0.0%", fill="#D9EAD3", bold=True))
    sc.write("I7", 0.84, CellStyle(num_format="0.0%", fill="#D9EAD3", bold=True))
    sc.write_formula("J6", "F6-E6", cached=-120.0, style=CellStyle(num_format="#,##0"))
    sc.write_formula("J7", "=F7-E7", cached=-80.0)
    sc.write("S6", "华东销售额未达标")
    sc.set_column_width("S", 40)
    editor.replace_sheet("汇总", SheetSpec(
        cells=[Cell("A1", "汇总", CellStyle(bold=True)), Cell("A2", "达成率"), Cell("B2", 0.9, CellStyle(num_format="0%")),
               Cell("C2", 1.8, formula="B2*2")],
        col_widths={"A": 18}), position=0)


def test_editor_writes_what_the_file_editor_writes(review_file, tmp_path):
    import openpyxl

    from reviewkit.engines.xlwings_editor import XlwingsEditor
    from reviewkit.ooxml import CellStyle, WorkbookEditor

    with WorkbookEditor.open(review_file) as ed:  # the file engine
        _replay(ed, CellStyle)
        out = ed.save(tmp_path / "filled.xlsx")
    wb = openpyxl.load_workbook(out)

    book = FakeBook.from_file(review_file)  # the open-book engine
    editor = XlwingsEditor(book)
    _replay(editor, CellStyle)
    editor.save()

    assert [s.name for s in book.sheets] == wb.sheetnames  # 汇总 inserted first in both
    for name in ("计分卡", "汇总"):
        ws, sheet = wb[name], book.sheet(name)
        for row in ws.iter_rows():
            for c in row:
                rc = (c.row, c.column)
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert sheet.formulas.get(rc) == c.value, (name, c.coordinate)
                elif c.value is not None:
                    got = sheet.cells.get(rc)
                    assert (got == c.value) or (got == pytest.approx(c.value)), (name, c.coordinate, got, c.value)
                if rc in sheet.formats:
                    assert sheet.formats[rc] == c.number_format, (name, c.coordinate)
        assert set(sheet.formulas) | {rc for rc, v in sheet.cells.items() if v is not None} == {
            (c.row, c.column) for row in ws.iter_rows() for c in row if c.value is not None}
    sc = book.sheet("计分卡")
    assert sc.formats[(6, 9)] == "0.0%" and sc.formats[(6, 10)] == "#,##0"
    assert sc.looks[(6, 9)] == {"color": (0xD9, 0xEA, 0xD3), "font.bold": True}
    assert sc.widths[19] == 40 == wb["计分卡"].column_dimensions["S"].width
    assert book.sheet("汇总").widths[1] == 18
    # few calls: I6:I7 values in one, J6:J7 formulas in one
    assert ("value", "计分卡", "$I$6:$I$7") in book.calls and ("formula", "计分卡", "$J$6:$J$7") in book.calls


def test_editor_clears_an_owned_sheet_before_rebuilding_it(review_file):
    from reviewkit.engines.xlwings_editor import XlwingsEditor
    from reviewkit.ooxml import Cell, Chart, Series, SheetSpec

    book = FakeBook.from_file(review_file)
    old = book.sheet("说明")
    old.cells[(9, 9)] = "stale"
    old.formats[(9, 9)] = "0%"
    editor = XlwingsEditor(book)
    editor.replace_sheet("说明", SheetSpec(cells=[Cell("A1", "new")],
                                          charts=[Chart("column", [Series("A1:A2")])]))
    with pytest.raises(InputError, match="rebuilt by replace_sheet"):
        editor.sheet("说明")
    editor.save()
    assert book.sheet("说明").cells == {(1, 1): "new"}
    assert book.sheet("说明").formats == {(9, 9): "0%"}  # formats (and charts, rules) stay
    assert any("charts and conditional formats of sheet '说明'" in s for s in editor.skipped)


def test_refresh_reports_what_stayed_as_it_was(review_file):
    """Rules and charts are not redrawn live; the one-line message says so, the details are listed."""
    result = button.refresh(FakeBook.from_file(review_file))
    assert result.ok
    assert result.message.endswith("cells written; charts and conditional formats kept as they were")
    assert any("conditional formats of sheet '计分卡'" in s for s in result.skipped)


def _same_cells(wb, book, sheets):
    """Every non-empty cell of the openpyxl workbook equals the stand-in's (values, formulas,
    and number formats where the stand-in set one), and the stand-in has no others."""
    import datetime as dt

    for name in sheets:
        ws, sheet = wb[name], book.sheet(name)
        for row in ws.iter_rows():
            for c in row:
                rc = (c.row, c.column)
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert sheet.formulas.get(rc) == c.value, (name, c.coordinate)
                elif c.value is not None:
                    got = sheet.cells.get(rc)
                    if isinstance(c.value, dt.datetime) and isinstance(got, dt.date):
                        got = dt.datetime.combine(got, dt.time()) if not isinstance(got, dt.datetime) else got
                    assert got == c.value or got == pytest.approx(c.value), (name, c.coordinate, got, c.value)
                if rc in sheet.formats:
                    assert sheet.formats[rc] == c.number_format, (name, c.coordinate)
        assert set(sheet.formulas) | {rc for rc, v in sheet.cells.items() if v is not None} == {
            (c.row, c.column) for row in ws.iter_rows() for c in row if c.value is not None}, name


def test_refresh_writes_what_reviewkit_fill_writes(review_file, tmp_path):
    """The button and `reviewkit fill` write the same cells, formulas, formats and owned sheets."""
    import openpyxl

    fill = button._fill_module()
    source = write_review(tmp_path / "review.xlsx", status_cell=False)  # the status cell is the button's own
    filled = fill.fill_workbook(source, out=tmp_path / "filled.xlsx")
    wb = openpyxl.load_workbook(filled.path)
    book = FakeBook.from_file(source)
    result = button.refresh(book)
    assert result.ok, result.message
    assert [s.name for s in book.sheets] == wb.sheetnames
    _same_cells(wb, book, wb.sheetnames)
    assert result.cells >= len([c for c in book.sheet("计分卡").formulas])


def test_a_failed_refresh_puts_the_workbook_back(review_file, monkeypatch):
    """All or nothing: Excel failing half way leaves the cells and sheets as they were."""
    book = FakeBook.from_file(review_file)
    def state():
        return {s.name: ({rc: v for rc, v in s.cells.items() if v is not None}, dict(s.formulas))
                for s in book.sheets}

    before = state()
    calls = {"n": 0}
    real_setter = FakeRange.number_format.fset

    def flaky(self, fmt):
        calls["n"] += 1
        if calls["n"] == 3:  # after every value and formula is in: the worst moment
            raise RuntimeError("Excel is busy")
        real_setter(self, fmt)

    monkeypatch.setattr(FakeRange, "number_format", property(None, flaky))
    result = button.refresh(book)
    assert not result.ok and "RuntimeError: Excel is busy" in result.message
    assert any(c[0] == "formula" for c in book.calls)  # it had written formulas...
    after = state()
    status = after["说明"][0].pop((3, 2))  # ...the status cell says what happened...
    assert status.endswith(result.message)
    assert after == before  # ...and everything else is as it was, owned sheets removed again



def test_a_1904_book_reads_typed_date_serials_like_the_file_reader(tmp_path):
    """A number typed in a date column is a serial of the book's date system (1904 on old Macs)."""
    from reviewkit.reading import read_review

    path = write_review(tmp_path / "mac1904.xlsx", date_1904=True, causes=[
        ["华东", "sales", "问题", "价格战", "流失客户 40% 转向低价产品", "推出低价套餐", "张三", 44000]])
    want = read_review(path).causes["due"][0]
    assert want == pd.Timestamp("1904-01-01") + pd.Timedelta(days=44000)
    book = FakeBook.from_file(path)
    book.api = type("Api", (), {"Date1904": True})()
    assert XlwingsEngine(book).read_review().causes["due"][0] == want


def test_the_button_reads_a_split_workbooks_master_ranks_like_the_file_reader(tmp_path):
    """A department workbook refreshed from Excel states the same ranks as ``reviewkit fill``."""
    from reviewkit.reading import read_review
    from reviewkit.split import split_workbook
    from builders import write_master

    report = split_workbook(write_master(tmp_path / "master.xlsx"), tmp_path / "dept")
    path = next(f.path for f in report.files if f.unit == "华东区")
    from_file = read_review(path).peer_ranks
    from_book = XlwingsEngine(FakeBook.from_file(path)).read_review().peer_ranks
    assert from_file is not None and len(from_file) == 4  # three KPIs and the overall rank
    pd.testing.assert_frame_equal(from_book.reset_index(drop=True), from_file.reset_index(drop=True))
