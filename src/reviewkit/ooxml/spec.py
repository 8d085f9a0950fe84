"""A plain-Python description of a sheet reviewkit owns; ``replace_sheet`` renders it from scratch.

    spec = SheetSpec(
        cells=[Cell("A1", "Region", CellStyle(bold=True)), Cell("B2", 0.12, CellStyle(num_format="0.0%")),
               Cell("C2", formula="B2*2", value=0.24)],
        col_widths={"A": 18}, merged=["A1:B1"], freeze="A2",
        conditional_formats=[DataBarRule("B2:B20")],
        charts=[Chart("column", title="Revenue", categories="A2:A5", series=[Series("B2:B5", name="2025")],
                      anchor="E2")])

Everything here is a frozen value; nothing refers to openpyxl or to XML.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from .cellref import parse_cell, parse_col, parse_range
from .styles import CellStyle, argb

CHART_KINDS = ("bar", "column", "stacked_column", "line", "waterfall")


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

    ``kind``: ``bar`` (horizontal, clustered), ``column`` (clustered), ``stacked_column``,
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

    def __post_init__(self):
        for name in ("cells", "merged", "conditional_formats", "data_validations", "charts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "col_widths", {parse_col(k): float(v) for k, v in dict(self.col_widths).items()})
        for m in self.merged:
            parse_range(m)
        if self.freeze is not None:
            parse_cell(self.freeze)
        if self.tab_color is not None:
            argb(self.tab_color)
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
