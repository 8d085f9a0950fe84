"""Write plans: what ``fill`` writes, as neutral cell records any engine can apply.

A plan is a list of :class:`CellWrite`. Engines that write cell by cell (the package
editor) use it as is; engines that pay per call (xlwings: one COM/AppleScript round trip per
call) first group it into rectangles with :func:`group_writes` and :func:`group_formats`.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InputError
from ..ooxml.cellref import num_to_col as col_letter

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9]\d*)$")
MAX_ROW, MAX_COL = 1_048_576, 16_384


@dataclass(frozen=True)
class CellWrite:
    """One cell of a write plan.

    ``formula`` (text starting with ``=``) wins over ``value``; with a formula, ``value`` is
    the cached result a file engine stores beside it (Excel recalculates it anyway).
    ``number_format`` None leaves the cell's format alone (``style.num_format`` is used when
    ``style``, a :class:`reviewkit.ooxml.CellStyle`, is given). ``value`` None clears the cell.
    """

    sheet: str
    cell: str
    value: object = None
    formula: str | None = None
    number_format: str | None = None
    style: object = None

    @property
    def kind(self) -> str:
        return "formula" if self.formula else "value"

    @property
    def format(self) -> str | None:
        if self.number_format is not None:
            return self.number_format
        return getattr(self.style, "num_format", None)


@dataclass(frozen=True)
class RangeWrite:
    """A rectangle of writes of one kind: ``values`` is a list of rows."""

    sheet: str
    ref: str  # "B4:D9" or "B4"
    kind: str  # "value", "formula" or "number_format"
    values: tuple[tuple[object, ...], ...]

    @property
    def cells(self) -> int:
        return sum(len(r) for r in self.values)


def parse_cell(ref: str) -> tuple[int, int]:
    """'B4' → (4, 2): 1-based row and column."""
    m = _CELL.match(str(ref).strip())
    if not m:
        raise InputError("not a cell reference", value=ref, expected="a reference like B4")
    letters, row = m.group(1).upper(), int(m.group(2))
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    if row > MAX_ROW or col > MAX_COL:
        raise InputError("cell reference beyond the last row or column", value=ref, expected="at most XFD1048576")
    return row, col


def cell_ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


def range_ref(r0: int, c0: int, r1: int, c1: int) -> str:
    a = cell_ref(r0, c0)
    return a if (r0, c0) == (r1, c1) else f"{a}:{cell_ref(r1, c1)}"


def plain(value: object) -> object:
    """A value Excel can take: numpy scalars become Python ones, NaN/NA/NaT become None."""
    if value is None:
        return None
    item = getattr(value, "item", None)  # numpy scalars
    if item is not None and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 1) == 0:
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value


def _rectangles(cells: dict[tuple[int, int], object]) -> list[tuple[int, int, int, int]]:
    """Cover the cells with rectangles: runs along rows, then equal runs stacked downwards."""
    by_row: dict[int, list[int]] = defaultdict(list)
    for r, c in cells:
        by_row[r].append(c)
    runs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in sorted(by_row):
        cols = sorted(by_row[row])
        start = prev = cols[0]
        for c in cols[1:]:
            if c != prev + 1:
                runs[row].append((start, prev))
                start = c
            prev = c
        runs[row].append((start, prev))
    open_rects: dict[tuple[int, int], list[int]] = {}  # (c0, c1) -> [r0, r1]
    done: list[tuple[int, int, int, int]] = []
    for row in sorted(runs):
        spans = set(runs[row])
        for span, (r0, r1) in list(open_rects.items()):
            if span in spans and r1 == row - 1:
                open_rects[span] = [r0, row]
                spans.discard(span)
            else:
                done.append((r0, span[0], r1, span[1]))
                del open_rects[span]
        for span in spans:
            open_rects[span] = [row, row]
    done.extend((r0, c0, r1, c1) for (c0, c1), (r0, r1) in open_rects.items())
    return sorted(done, key=lambda t: (t[0], t[1]))


def _group(items: dict[tuple[str, str], dict[tuple[int, int], object]]) -> list[RangeWrite]:
    out: list[RangeWrite] = []
    for (sheet, kind), cells in items.items():
        for r0, c0, r1, c1 in _rectangles(cells):
            values = tuple(tuple(cells[(r, c)] for c in range(c0, c1 + 1)) for r in range(r0, r1 + 1))
            out.append(RangeWrite(sheet, range_ref(r0, c0, r1, c1), kind, values))
    return out


def group_writes(plan: Iterable[CellWrite]) -> list[RangeWrite]:
    """Values and formulas grouped into rectangles per sheet and kind; a later write to the
    same cell replaces an earlier one (whatever its kind)."""
    latest: dict[tuple[str, int, int], CellWrite] = {}
    for w in plan:
        row, col = parse_cell(w.cell)
        latest[(w.sheet, row, col)] = w
    items: dict[tuple[str, str], dict[tuple[int, int], object]] = defaultdict(dict)
    for (sheet, row, col), w in latest.items():
        items[(sheet, w.kind)][(row, col)] = w.formula if w.formula else plain(w.value)
    return _group(items)


def group_formats(plan: Iterable[CellWrite]) -> list[RangeWrite]:
    """Number formats grouped into rectangles per sheet and format (one value per rectangle)."""
    latest: dict[tuple[str, int, int], str] = {}
    for w in plan:
        if w.format is not None:
            row, col = parse_cell(w.cell)
            latest[(w.sheet, row, col)] = w.format
    by_format: dict[tuple[str, str], dict[tuple[int, int], object]] = defaultdict(dict)
    for (sheet, row, col), fmt in latest.items():
        by_format[(sheet, fmt)][(row, col)] = fmt
    out = []
    for (sheet, fmt), cells in by_format.items():
        for r0, c0, r1, c1 in _rectangles(cells):
            out.append(RangeWrite(sheet, range_ref(r0, c0, r1, c1), "number_format", ((fmt,),)))
    return out
