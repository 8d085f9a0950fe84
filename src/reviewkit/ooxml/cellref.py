"""A1 references: ``"H5"`` <-> (row, col) with 1-based numbers, ranges and sqref lists."""
from __future__ import annotations

import re
from functools import lru_cache

from ..errors import InputError

MAX_ROW = 1_048_576
MAX_COL = 16_384

_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_COL_RE = re.compile(r"^\$?([A-Za-z]{1,3})$")


@lru_cache(maxsize=4096)
def col_to_num(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@lru_cache(maxsize=4096)
def num_to_col(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_PARSED_CELLS: dict[str, tuple[int, int]] = {}


def parse_cell(ref: str) -> tuple[int, int]:
    """``"H5"`` -> (5, 8). Raises InputError for anything else."""
    if isinstance(ref, str):
        # a fill plan parses the same few hundred references several times (spec, render, charts)
        found = _PARSED_CELLS.get(ref)
        if found is not None:
            return found
    m = _CELL_RE.match(ref.strip()) if isinstance(ref, str) else None
    if not m:
        raise InputError("not a cell reference", value=ref, expected="an A1-style reference such as 'H5'")
    row, col = int(m.group(2)), col_to_num(m.group(1))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise InputError("cell reference outside the sheet", value=ref, expected="A1 .. XFD1048576")
    if len(_PARSED_CELLS) >= 50_000:
        _PARSED_CELLS.clear()
    _PARSED_CELLS[ref] = (row, col)
    return row, col


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


_PARSED_RANGES: dict[str, Box] = {}


def parse_range(ref: str) -> Box:
    """``"H5:H200"`` or ``"H5"`` -> (5, 8, 200, 8); whole columns/rows ``"H:H"``, ``"5:5"`` too."""
    found = _PARSED_RANGES.get(ref) if isinstance(ref, str) else None
    if found is None:
        found = _parse_range(ref)
        if len(_PARSED_RANGES) >= 50_000:
            _PARSED_RANGES.clear()
        _PARSED_RANGES[ref] = found
    return found


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
