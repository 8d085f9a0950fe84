"""Cell values into typed columns: one table column as factor codes over its distinct values
(``CellColumn``), blank and text rules, and the DataFrame each table becomes (``build_frame``).

Parsing itself (numbers, units, dates, periods) is ``reviewkit.numbers``; this module spreads
what was parsed once per distinct value over the rows.
"""
from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from .. import caching, model
from .._pandas import frame_from_arrays, settled
from ..numbers import Unit, parse_unit


def cell_text(v: object) -> str | None:
    """A cell value as the text a text column holds (None for a blank cell)."""
    if v is None or v == "":
        return None
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if np.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ") if v.time() != _dt.time() else v.date().isoformat()
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return str(v)


def is_blank(v: object) -> bool:
    """A cell nothing was typed in: None, NaN, or text of white space only."""
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def all_blank(block: list[list], positions: list[int]) -> bool:
    """True when every cell at ``positions`` of every row is certainly blank for ``CellColumn``
    (None, NaN, empty or white-space text; a position past a short row reads as '')."""
    for row in block:
        width = len(row)
        for j in positions:
            if j >= width:
                continue
            v = row[j]
            if v is None or (type(v) is str and not v.strip()) or (type(v) is float and v != v):
                continue
            return False
    return True


#: cell value types whose equality and hashing match pandas' object factorization exactly
_PLAIN_TYPES = frozenset({str, float, int, bool, _dt.datetime, _dt.date, _dt.time, _dt.timedelta})
#: columns up to this many cells are factorized in plain Python (pandas' call overhead dominates)
_SMALL_COLUMN = 2000


def _factorize_small(values: list) -> tuple[np.ndarray, list] | None:
    """``pd.factorize(values, use_na_sentinel=True)`` as (codes, uniques) for plain cell values.

    First-seen order, None and NaN as -1, equal values (1.0 and True) share a code, as in
    pandas. None when a value is of another type: the caller uses pandas then.
    """
    index: dict = {}
    codes = []
    append = codes.append
    for v in values:
        t = type(v)
        if t is float and v != v or v is None:
            append(-1)
            continue
        if t is not str and t not in _PLAIN_TYPES:
            return None
        code = index.get(v)
        if code is None:
            code = index[v] = len(index)
        append(code)
    return np.array(codes, dtype=np.intp), list(index)


class CellColumn:
    """One table column as pandas factor codes over its distinct cell values.

    Every value is parsed once per distinct value, not once per row: a 100,000-row facts
    column has a handful of periods and units, and numbers arrive as floats already.
    """

    def __init__(self, values: list):
        small = _factorize_small(values) if len(values) <= _SMALL_COLUMN else None
        if small is not None:
            self.codes, self.uniques = small
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            self.codes, uniques = pd.factorize(arr, use_na_sentinel=True)
            self.uniques = list(uniques)
        # blank per distinct value, plus a trailing True for code -1 (None)
        self.blank_u = np.array([is_blank(u) for u in self.uniques] + [True], dtype=bool)

    def keep(self, mask: np.ndarray) -> None:
        self.codes = self.codes[mask]

    @property
    def blank(self) -> np.ndarray:
        return self.blank_u[self.codes]

    def take(self, converted: list, dtype=object, fill=None) -> np.ndarray:
        """``converted[i]`` is the value for ``uniques[i]``; spread it over the rows."""
        arr = np.empty(len(converted) + 1, dtype=dtype)
        arr[:-1] = converted
        arr[-1] = fill
        return arr[self.codes]

    def positions(self, bad_u: list[bool]) -> np.ndarray:
        """Row positions whose value is one of the flagged distinct values."""
        mask = np.array(list(bad_u) + [False], dtype=bool)
        return np.flatnonzero(mask[self.codes])



_EMPTY_DTYPES = {model.NUMBER: np.float64, model.PERCENT: np.float64, model.INTEGER: np.float64,
                 model.DATE: np.dtype("datetime64[ns]")}
#: one empty DataFrame per column layout, copied for every table without rows
_EMPTY_FRAMES = caching.Cache("reading.empty_frames", 256)
#: the column Index per column layout, copied for each frame (its ``name`` is mutable)
_COLUMN_INDEXES = caching.Cache("reading.column_indexes", 256)


def build_frame(data: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """``pd.DataFrame(data, index=pd.RangeIndex(n))``, built once (inserts cost more).

    Every value of ``data`` is a fresh 1-d ndarray of length ``n``, so the frame is built
    from the arrays pandas itself would settle them into (``_pandas.settled``), without the
    constructor's generic checks, which cost more than the data on tables of a few rows.
    A table without rows is a copy of a cached empty frame with the same columns and dtypes:
    copying is several times cheaper than constructing, and the copy is the caller's own.
    """
    if n:
        keys = tuple(data)
        columns = _COLUMN_INDEXES.get(keys)
        if columns is None:
            columns = _COLUMN_INDEXES.put(keys, pd.Index(list(keys)))
        return frame_from_arrays([settled(a) for a in data.values()], columns.copy(), pd.RangeIndex(n))
    layout = tuple((name, arr.dtype.str) for name, arr in data.items())
    template = _EMPTY_FRAMES.get(layout)
    if template is None:
        template = _EMPTY_FRAMES.put(layout, pd.DataFrame(data, index=pd.RangeIndex(0)))
    return template.copy()


def empty_column(kind: str, n: int):
    if not n:  # the same dtypes as below, without filling
        return np.empty(0, dtype=_EMPTY_DTYPES.get(kind, object))
    if kind in (model.NUMBER, model.PERCENT, model.INTEGER):
        return np.full(n, np.nan)
    if kind == model.DATE:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, None, dtype=object)


_UNIT_IN_BRACKETS = re.compile(r"[（(\[【]\s*([^（()\[\]【】）]+?)\s*[）)\]】]\s*$")


def header_unit(header: object) -> Unit | None:
    """The unit a header names in brackets at its end: '目标（万元）' → 万元, 'Target (%)' → %."""
    m = _UNIT_IN_BRACKETS.search(str(header or ""))
    return parse_unit(m.group(1)) if m else None
