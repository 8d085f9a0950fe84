"""A1 references: ``"H5"`` <-> (row, col) with 1-based numbers, ranges and sqref lists."""
from __future__ import annotations

import re
from .. import caching
from ..errors import InputError

MAX_ROW = 1_048_576
MAX_COL = 16_384

_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_COL_RE = re.compile(r"^\$?([A-Za-z]{1,3})$")


@caching.memo("cellref.col_to_num", 4096)
def col_to_num(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@caching.memo("cellref.num_to_col", 4096)
def num_to_col(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


#: a fill plan parses the same few hundred references several times (spec, render, charts)
_CELLS = caching.Cache("cellref.cells", 50_000)


def parse_cell(ref: str) -> tuple[int, int]:
    """``"H5"`` -> (5, 8). Raises InputError for anything else."""
    if isinstance(ref, str):
        found = _CELLS.get(ref)
        if found is not None:
            return found
    m = _CELL_RE.match(ref.strip()) if isinstance(ref, str) else None
    if not m:
        raise InputError("not a cell reference", value=ref, expected="an A1-style reference such as 'H5'")
    row, col = int(m.group(2)), col_to_num(m.group(1))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise InputError("cell reference outside the sheet", value=ref, expected="A1 .. XFD1048576")
    return _CELLS.put(ref, (row, col))


def parse_col(col: str | int) -> int:
    if isinstance(col, int):
        n = col
    else:
        m = _COL_RE.match(col.strip()) if isinstance(col, str) else None
        if not m:
            raise InputError("not a column", value=col, expected="column letters such as 'H' or a 1-based number")
        n = col_to_num(m.group(1))
    if not 1 <= n <= MAX_COL:
        raise InputError("column outside the sheet", value=col, expected="A .. XFD")
    return n


def cell_name(row: int, col: int) -> str:
    return f"{num_to_col(col)}{row}"


Box = tuple[int, int, int, int]  # (row1, col1, row2, col2), inclusive


_RANGES = caching.Cache("cellref.ranges", 50_000)


def parse_range(ref: str) -> Box:
    """``"H5:H200"`` or ``"H5"`` -> (5, 8, 200, 8); whole columns/rows ``"H:H"``, ``"5:5"`` too."""
    if not isinstance(ref, str):
        return _parse_range(ref)
    found = _RANGES.get(ref)
    return found if found is not None else _RANGES.put(ref, _parse_range(ref))


def _parse_range(ref: str) -> Box:
    text = ref.strip().split("!")[-1]
    a, _, b = text.partition(":")
    b = b or a
    if _COL_RE.match(a) and _COL_RE.match(b):
        c1, c2 = parse_col(a.replace("$", "")), parse_col(b.replace("$", ""))
        return 1, min(c1, c2), MAX_ROW, max(c1, c2)
    if a.replace("$", "").isdigit() and b.replace("$", "").isdigit():
        r1, r2 = int(a.replace("$", "")), int(b.replace("$", ""))
        return min(r1, r2), 1, max(r1, r2), MAX_COL
    r1, c1 = parse_cell(a)
    r2, c2 = parse_cell(b)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def parse_sqref(sqref: str) -> list[Box]:
    return [parse_range(part) for part in sqref.split()]


def box_inside(inner: Box, outer: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def sqref_inside(sqref: str, owned: list[Box]) -> bool:
    """True when every range of ``sqref`` lies inside one of the ``owned`` boxes."""
    try:
        boxes = parse_sqref(sqref)
    except InputError:
        return False  # something we do not understand is never ours
    return bool(boxes) and all(any(box_inside(b, o) for o in owned) for b in boxes)


def box_ref(box: Box) -> str:
    r1, c1, r2, c2 = box
    a, b = cell_name(r1, c1), cell_name(r2, c2)
    return a if a == b else f"{a}:{b}"
