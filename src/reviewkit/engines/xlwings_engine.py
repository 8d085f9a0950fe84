"""The xlwings engine: read a review from, and write results into, a workbook open in Excel.

Used by the Refresh button (:mod:`reviewkit.button`). Reading takes one range read per
Excel Table (ListObject): :class:`OpenBook` is the reader's ``Engine`` over the open book
(``reviewkit.reading.engine``), and the reader's one loop reads it as it reads a file, so
tables are found by name (``Scorecard``, ``KPIs`` …, wherever they sit), columns by header
text, values are parsed (``1.2万``, ``(500)``, dates) and validated exactly as for a file, and
the result is the same :class:`~reviewkit.model.Review`, ``layouts`` included, so ``fill``
builds its plan from it unchanged. Writing applies a plan of
:class:`~reviewkit.engines.plan.CellWrite` in as few Excel calls as possible: one per
rectangle of values, one per rectangle of formulas, one per rectangle sharing a number
format, with screen updating and automatic calculation off meanwhile.

Only a handful of xlwings calls are used, so a small stand-in object is enough for tests:
``book.sheets`` (iterable; items have ``.name``, ``.tables``, ``.range(ref)`` and ``.used_range``);
tables have ``.name``, ``.range`` (with ``.address``), ``.show_headers``, ``.show_totals``;
ranges have ``.options(ndim=2).value``, and settable ``.value``, ``.formula`` and
``.number_format``; optionally ``book.app`` (``screen_updating``, ``calculation``,
``status_bar``, ``alert``), ``book.names`` and ``book.fullname``.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import model
from ..errors import InputError
from ..reading.engine import Engine
from ..reading.package import TableColumnInfo, TableInfo
from ..reading.read import read_review
from .plan import CellWrite, RangeWrite, col_letter, group_formats, group_writes

_ADDRESS = re.compile(r"^(?:.*!)?\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
STATUS_NAME = "ReviewkitStatus"  # a defined name for the cell that shows the last refresh


@dataclass(frozen=True)
class ExcelTable:
    """One Excel Table (ListObject) of the open book, with its cells.

    Same geometry as the file reader's ``TableInfo``: 1-based rows and columns, ``first_row``
    is the header row when ``header_rows`` is 1. ``cells`` holds every row of ``ref``,
    header and totals included, as Excel returned them.
    """

    name: str
    sheet: str
    ref: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    header_rows: int
    totals_rows: int
    cells: tuple[tuple[object, ...], ...] = field(repr=False, default=())

    @property
    def headers(self) -> list[str]:
        if not self.header_rows or not self.cells:
            return []
        return ["" if h is None else str(h).strip() for h in self.cells[0]]


def parse_address(address: str) -> tuple[int, int, int, int]:
    """'$B$4:$F$20' (or 'Sheet!B4:F20', or one cell) → (first_row, first_col, last_row, last_col)."""
    m = _ADDRESS.match(str(address).replace("'", "").strip())
    if not m:
        raise InputError("not a range address", value=address, expected="an address like $B$4:$F$20")

    def col(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n

    c0, r0 = col(m.group(1)), int(m.group(2))
    c1, r1 = (col(m.group(3)), int(m.group(4))) if m.group(3) else (c0, r0)
    return r0, c0, r1, c1


def tables_in_book(book) -> list[ExcelTable]:
    """Every Excel Table of the book with its cells: one read per table."""
    out: list[ExcelTable] = []
    for sheet in book.sheets:
        for table in sheet.tables:
            rng = table.range
            r0, c0, r1, c1 = parse_address(rng.address)
            values = rng.options(ndim=2, err_to_str=True).value or []
            out.append(ExcelTable(
                name=str(table.name), sheet=str(sheet.name), ref=f"{col_letter(c0)}{r0}:{col_letter(c1)}{r1}",
                first_row=r0, first_col=c0, last_row=r1, last_col=c1,
                header_rows=1 if getattr(table, "show_headers", True) else 0,
                totals_rows=1 if getattr(table, "show_totals", False) else 0,
                cells=tuple(tuple(row) for row in values)))
    return out


# --- the reading engine -------------------------------------------------------------------
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!",
                          "#BUSY!", "#UNKNOWN!"})


class OpenBook(Engine):
    """The reader's ``Engine`` over a workbook open in Excel: ``reading.read_tables`` reads it
    with the same loop as a file (units, KPI names, text numbers, problems and ``validate``).

    The tables' cells are read once, one range read per Excel Table; a sheet's grid holds its
    tables' cells where they sit (other cells blank). A sheet without tables (the peer ranks of
    a split department workbook) is read through its used range.
    """

    def __init__(self, book, source: str = "", date1904: bool = False):
        self.book = book
        self.source = source
        self.date1904 = date1904
        self.sheets = [str(s.name) for s in book.sheets]
        self.excel_tables = tables_in_book(book)
        self.tables = [TableInfo(name=t.name, sheet=t.sheet, ref=t.ref, first_col=t.first_col,
                                 last_col=t.last_col, first_row=t.first_row, last_row=t.last_row,
                                 header_rows=t.header_rows, totals_rows=t.totals_rows,
                                 columns=tuple(TableColumnInfo(h, False) for h in t.headers), part="")
                       for t in self.excel_tables]
        self._grids: dict[str, list[list]] = {}

    def grid(self, sheet: str) -> list[list]:
        if sheet not in self._grids:
            mine = [t for t in self.excel_tables if t.sheet == sheet]
            if not mine:
                self._grids[sheet] = self._used_range(sheet)
                return self._grids[sheet]
            rows = max(t.last_row for t in mine)
            cols = max(t.last_col for t in mine)
            grid = [[""] * cols for _ in range(rows)]
            for t in mine:
                for i, line in enumerate(t.cells):
                    for j, v in enumerate(line):
                        grid[t.first_row - 1 + i][t.first_col - 1 + j] = _calamine_like(v)
            self._grids[sheet] = grid
        return self._grids[sheet]

    def _used_range(self, sheet: str) -> list[list]:
        """The sheet's used range as rows from A1."""
        found = next((s for s in self.book.sheets if s.name == sheet), None)
        if found is None:
            return []
        rng = found.used_range
        values = rng.options(ndim=2, err_to_str=True).value or []
        r0, c0, _, _ = parse_address(rng.address)
        pad = [""] * (c0 - 1)
        return [[] for _ in range(r0 - 1)] + [pad + [_calamine_like(v) for v in row] for row in values]

    def errors(self, sheet: str) -> dict[str, str]:
        out = {}
        for t in self.excel_tables:
            if t.sheet != sheet:
                continue
            for i, line in enumerate(t.cells):
                for j, v in enumerate(line):
                    if isinstance(v, str) and v in EXCEL_ERRORS:
                        out[f"{col_letter(t.first_col + j)}{t.first_row + i}"] = v
        return out


def _calamine_like(v: object) -> object:
    """A value as calamine gives it: blank as '', whole numbers as float."""
    if v is None:
        return ""
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


# --- the engine -------------------------------------------------------------------------
class XlwingsEngine:
    """Read a review from, and apply a write plan to, an xlwings ``Book`` (or a stand-in)."""

    def __init__(self, book):
        self.book = book
        self.calls = 0  # Excel range calls made by the last apply()

    @property
    def source(self) -> str:
        return str(getattr(self.book, "fullname", None) or getattr(self.book, "name", "") or "")

    @property
    def date1904(self) -> bool:
        """Whether the book uses the 1904 date system (Excel's ``Workbook.Date1904``)."""
        try:
            return bool(self.book.api.Date1904)
        except Exception:  # noqa: BLE001 - a stand-in book, or Excel for Mac without the property
            return False

    def read_review(self) -> model.Review:
        """The review in the open book, read by the file reader's own loop (``OpenBook``).

        Raises ``ValidationError`` with every error found (warnings are not errors)."""
        return read_review(OpenBook(self.book, self.source, self.date1904))

    def _sheet(self, name: str):
        for sheet in self.book.sheets:
            if sheet.name == name:
                return sheet
        raise InputError("the write plan names a sheet the workbook does not have", file=self.source or None,
                         value=name, expected="one of " + ", ".join(s.name for s in self.book.sheets))

    def apply(self, plan: Iterable[CellWrite]) -> int:
        """Write the plan; return the number of cells written. Sheets are checked first, so
        a plan naming a missing sheet writes nothing."""
        plan = list(plan)
        writes = group_writes(plan)
        formats = group_formats(plan)
        sheets = {name: self._sheet(name) for name in {w.sheet for w in writes + formats}}
        app = getattr(self.book, "app", None)
        saved = _pause(app)
        self.calls = 0
        try:
            for w in writes:
                self._write(sheets[w.sheet], w)
            for f in formats:
                sheets[f.sheet].range(f.ref).number_format = f.values[0][0]
                self.calls += 1
        finally:
            _resume(app, saved)
        return sum(w.cells for w in writes)

    def _write(self, sheet, w: RangeWrite) -> None:
        rng = sheet.range(w.ref)
        data = [list(r) for r in w.values]
        single = len(data) == 1 and len(data[0]) == 1
        payload = data[0][0] if single else data
        if w.kind == "formula":
            rng.formula = payload
        else:
            rng.value = payload
        self.calls += 1

    def report(self, message: str, *, ok: bool) -> None:
        """Show the outcome: the status cell (a defined name ``ReviewkitStatus``) if the book
        has one, the status bar, and a message box for errors. Never raises."""
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        line = f"{stamp} {message}"
        try:
            names = getattr(self.book, "names", None)
            if names is not None and STATUS_NAME in [n.name for n in names]:
                names[STATUS_NAME].refers_to_range.value = line
        except Exception:  # noqa: BLE001 - reporting must never fail the refresh
            pass
        app = getattr(self.book, "app", None)
        if app is None:
            return
        try:
            app.status_bar = f"reviewkit: {message}" if ok else False
        except Exception:  # noqa: BLE001
            pass
        if not ok:
            try:
                app.alert(message, title="reviewkit", mode="critical")
            except Exception:  # noqa: BLE001
                pass


def _pause(app) -> tuple | None:
    if app is None:
        return None
    try:
        saved = (app.screen_updating, app.calculation)
        app.screen_updating = False
        app.calculation = "manual"
        return saved
    except Exception:  # noqa: BLE001 - a stand-in or an Excel that refuses: write anyway
        return None


def _resume(app, saved) -> None:
    if app is None or saved is None:
        return
    try:
        app.calculation = saved[1]
        app.screen_updating = saved[0]
    except Exception:  # noqa: BLE001
        pass


__all__ = ["ExcelTable", "XlwingsEngine", "parse_address", "OpenBook", "tables_in_book", "STATUS_NAME"]
