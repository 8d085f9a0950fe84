"""A plain-Python description of a sheet reviewkit owns; ``replace_sheet`` renders it from scratch.

    spec = SheetSpec(
        cells=[Cell("A1", "Region", CellStyle(bold=True)), Cell("B2", 0.12, CellStyle(num_format="0.0%")),
               Cell("C2", formula="B2*2", value=0.24)],
        col_widths={"A": 18}, merged=["A1:B1"], freeze="A2",
        conditional_formats=[DataBarRule("B2:B20")],
        charts=[Chart("column", title="Revenue", categories="A2:A5", series=[Series("B2:B5", name="2025")],
                      anchor="E2")],
        buttons=[Button("J2", "Refresh analysis", "Refresh")])   # .xlsm with a VBA project only

Everything here is a frozen value; nothing refers to openpyxl or to XML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InputError
from .cellref import parse_cell, parse_col, parse_range
from .styles import CellStyle, argb

CHART_KINDS = ("bar", "stacked_bar", "column", "stacked_column", "line", "waterfall")
_MACRO_RE = re.compile(r"^(?:\[0\]!)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Cell:
    """One cell: a value, or a ``formula`` whose cached result is ``value``."""

    ref: str
    value: object = None
    style: CellStyle | None = None
    formula: str | None = None

    def __post_init__(self):
        parse_cell(self.ref)
        if self.formula is not None and self.formula.startswith("="):
            object.__setattr__(self, "formula", self.formula[1:])

    @classmethod
    def _unchecked(cls, ref: str, value: object = None, style: CellStyle | None = None,
                   formula: str | None = None) -> Cell:
        """``Cell(ref, value, style, formula)`` without checking ``ref`` here: for builders that
        put their cells in a SheetSpec, which checks every reference anyway (once, not twice)."""
        if formula is not None and formula.startswith("="):
            formula = formula[1:]
        cell = object.__new__(cls)
        cell.__dict__.update(ref=ref, value=value, style=style, formula=formula)
        return cell


@dataclass(frozen=True)
class Series:
    """Values (a range on the same sheet, e.g. ``"B2:B10"``), an optional name and colour."""

    values: str
    name: str | None = None
    color: str | None = None
    invisible: bool = False  # the base series of a waterfall

    def __post_init__(self):
        parse_range(self.values)
        if self.color is not None:
            argb(self.color)


@dataclass(frozen=True)
class Chart:
    """A native Excel chart anchored at ``anchor`` (top-left cell) spanning ``size`` (cols, rows).

    ``kind``: ``bar`` (horizontal, clustered), ``stacked_bar`` (horizontal; the first category on
    top), ``column`` (clustered), ``stacked_column``,
    ``line``, or ``waterfall``: a stacked column whose first series is drawn invisible, so give
    the base (running total before each step) first and the visible steps after it; see
    ``waterfall_series`` to compute them.
    """

    kind: str
    series: tuple[Series, ...]
    categories: str | None = None
    title: str | None = None
    anchor: str = "A1"
    size: tuple[int, int] = (8, 15)
    y_num_format: str | None = None
    legend: bool = True
    y_min: float | None = None  # the value axis starts here (a waterfall of 44.8 → 45.1 starts near 44)
    y_max: float | None = None

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise InputError("unknown chart kind", value=self.kind, expected=" / ".join(CHART_KINDS))
        object.__setattr__(self, "series", tuple(self.series))
        if not self.series:
            raise InputError("a chart needs at least one series", value=self.title)
        if self.categories is not None:
            parse_range(self.categories)
        parse_cell(self.anchor)
        if self.kind == "waterfall":
            first, *rest = self.series
            object.__setattr__(self, "series", (Series(first.values, first.name, first.color, True), *rest))


@dataclass(frozen=True)
class Button:
    """A form-control button (Excel's Developer > Insert > Button) that runs a VBA macro.

    Its top-left corner is ``cell`` moved by ``x_offset``/``y_offset`` pixels; it is ``width`` x
    ``height`` pixels. ``macro`` is a public Sub without parameters in the workbook's VBA project:
    ``"Refresh"``, ``"Module.Refresh"`` or ``"[0]!Refresh"`` as Excel stores it. ``description``
    is the alternative text. Buttons are drawn in a legacy VML drawing, as Excel and XlsxWriter do,
    and need a workbook with a VBA project (.xlsm); ``replace_sheet`` refuses them otherwise.
    """

    cell: str
    caption: str
    macro: str
    width: int = 132
    height: int = 30
    description: str | None = None
    x_offset: int = 2
    y_offset: int = 2

    def __post_init__(self):
        parse_cell(self.cell)
        if not isinstance(self.caption, str) or not self.caption.strip():
            raise InputError("a button needs a caption", value=self.caption, expected="a non-empty text")
        if not isinstance(self.macro, str) or not _MACRO_RE.match(self.macro.strip()):
            raise InputError("not a macro name a button can run", value=self.macro,
                             expected="a VBA Sub name such as 'Refresh', 'Module.Refresh' or '[0]!Refresh'")
        object.__setattr__(self, "macro", self.macro.strip())
        for name, low, high in (("width", 1, 4000), ("height", 1, 4000), ("x_offset", 0, 4000),
                                ("y_offset", 0, 4000)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise InputError(f"button {name} out of range", value=v,
                                 expected=f"a whole number of pixels from {low} to {high}")

    @property
    def stored_macro(self) -> str:
        """The macro as Excel writes it in the drawing (``[0]!Refresh``)."""
        return self.macro if self.macro.startswith("[0]!") else "[0]!" + self.macro


@dataclass(frozen=True)
class PageSetup:
    """How an owned sheet prints: orientation, paper and fit-to-page.

    ``fit_width=1, fit_height=0`` is Excel's "fit all columns on one page": as many pages down as
    needed, never a column cut off onto a page of its own. ``scale`` (a percentage) prints at a
    fixed size instead of fitting; Excel ignores manual page breaks (``SheetSpec.row_breaks``)
    on a sheet fitted to pages, so a sheet that places its own breaks gives a scale.
    ``print_area`` (e.g. ``"A1:N40"``) prints only that range.
    """

    landscape: bool = True
    paper_size: int = 9  # 9 = A4, 1 = Letter (ECMA-376 ST_PaperSize)
    fit_width: int = 1
    fit_height: int = 0
    repeat_columns: str | None = None  # e.g. "A:H": printed on every page across (Print_Titles)
    scale: int | None = None  # 10-400 %: print at this size, not fitted to pages
    print_area: str | None = None

    def __post_init__(self):
        if self.scale is not None and (isinstance(self.scale, bool) or not isinstance(self.scale, int)
                                       or not 10 <= self.scale <= 400):
            raise InputError("page setup scale out of range", value=self.scale,
                             expected="a whole percentage from 10 to 400")
        if self.print_area is not None:
            parse_range(self.print_area)
        if self.repeat_columns is not None:
            first, _, last = self.repeat_columns.partition(":")
            parse_col(first), parse_col(last or first)
        for name in ("paper_size", "fit_width", "fit_height"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255:
                raise InputError(f"page setup {name} out of range", value=v,
                                 expected="a whole number from 0 to 255")


@dataclass(frozen=True)
class SheetSpec:
    """Everything in an owned sheet. Lists may be given as lists; they are stored as tuples."""

    cells: tuple[Cell, ...] = ()
    col_widths: dict = field(default_factory=dict)
    merged: tuple[str, ...] = ()
    freeze: str | None = None
    conditional_formats: tuple = ()
    data_validations: tuple = ()
    charts: tuple[Chart, ...] = ()
    tab_color: str | None = None
    show_grid_lines: bool = True
    buttons: tuple[Button, ...] = ()
    page_setup: PageSetup | None = None
    row_heights: dict = field(default_factory=dict)  # row number -> height in points (wrapped text)
    row_breaks: tuple[int, ...] = ()  # a manual page break above each of these rows
    hidden_columns: tuple[str, ...] = ()  # e.g. ("H", "I"): chart helper columns kept off screen and paper

    def __post_init__(self):
        for name in ("cells", "merged", "conditional_formats", "data_validations", "charts", "buttons",
                     "row_breaks", "hidden_columns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "col_widths", {parse_col(k): float(v) for k, v in dict(self.col_widths).items()})
        for m in self.merged:
            parse_range(m)
        if self.freeze is not None:
            parse_cell(self.freeze)
        if self.tab_color is not None:
            argb(self.tab_color)
        heights = {}
        for row, h in dict(self.row_heights).items():
            if isinstance(row, bool) or not isinstance(row, int) or row < 1 or not 0 < float(h) <= 409:
                raise InputError("row height out of range", value=(row, h),
                                 expected="a row number from 1 and a height in points up to 409")
            heights[row] = float(h)
        object.__setattr__(self, "row_heights", heights)
        for row in self.row_breaks:
            if isinstance(row, bool) or not isinstance(row, int) or not 1 < row <= 1_048_576:
                raise InputError("page break row out of range", value=row, expected="a row number from 2")
        object.__setattr__(self, "hidden_columns", tuple(sorted({parse_col(c) for c in self.hidden_columns})))
        if self.page_setup is not None and not isinstance(self.page_setup, PageSetup):
            raise InputError("SheetSpec.page_setup takes a PageSetup", value=type(self.page_setup).__name__,
                             expected="reviewkit.ooxml.PageSetup(landscape=True, fit_width=1, fit_height=0)")
        for b in self.buttons:
            if not isinstance(b, Button):
                raise InputError("SheetSpec.buttons takes Button values", value=type(b).__name__,
                                 expected="reviewkit.ooxml.Button(cell, caption, macro)")
        seen = set()
        for c in self.cells:
            key = parse_cell(c.ref)
            if key in seen:
                raise InputError("the same cell is given twice in a sheet spec", cell=c.ref)
            seen.add(key)


def waterfall_series(deltas: list[float]) -> tuple[list[float], list[float], list[float]]:
    """(base, up, down) columns for a waterfall of ``deltas`` (the first item is the start total)."""
    base, up, down = [], [], []
    total = 0.0
    for i, d in enumerate(deltas):
        if i == 0:
            base.append(0.0), up.append(d), down.append(0.0)
            total = d
            continue
        new = total + d
        base.append(min(total, new))
        up.append(d if d > 0 else 0.0)
        down.append(-d if d < 0 else 0.0)
        total = new
    return base, up, down
