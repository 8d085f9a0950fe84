"""Rows recorded by :meth:`.worksheet.WorksheetEditor.write_rows` and rendered below a sheet's
last row in one pass: column arrays factorized, each distinct value rendered once."""
from __future__ import annotations

import datetime as dt
import re

from .cellref import num_to_col
from .cells import number_text, value_xml
from .styles import CellStyle, StylesPart


class XfIndex(int):
    """A cell format given as the workbook's raw ``xf`` index (``write_rows``)."""

    @classmethod
    def of(cls, index):
        return None if index is None else cls(index)


def plain(v):
    """A numpy scalar as the Python value ``value_xml`` expects; NaN/NaT as blank."""
    if v is None or type(v) in (str, float, int):
        return None if type(v) is float and v != v else v
    item = getattr(v, "item", None)
    if callable(item) and type(v).__module__ == "numpy":
        v = item()
    if isinstance(v, float) and v != v:
        return None
    if v is not None and type(v).__name__ in ("NaTType", "NAType"):
        return None
    return v


class RowBlock:
    """Rows recorded by ``write_rows``: column arrays, raw styles, per-column formulas."""

    def __init__(self, first: int, n: int, columns: dict, styles: dict, formulas: dict):
        self.first, self.n, self.columns, self.styles, self.formulas = first, n, columns, styles, formulas
        cols = [*columns, *formulas]
        self.box = (first, min(cols), first + n - 1, max(cols))

    def render(self, start: int, styles: StylesPart, prefix: bytes, date1904: bool) -> bytes:
        """Rows ``start``.. of the block as ``<row>`` elements (none of them exist yet).

        A cell is ``<c r="B7"`` plus what follows the reference, which depends only on the value:
        ``value_xml`` renders that once per distinct value of a column, and the rows are joined
        from arrays of pieces (row number, reference, rendered value) without a loop per cell."""
        import numpy as np

        order = sorted({*self.columns, *self.formulas})
        n = self.n - start
        date_style: list = []
        numbers = np.array([str(self.first + i) for i in range(start, self.n)], dtype=object)
        pieces = np.empty((n, 3 + 3 * len(order)), dtype=object)
        pieces[:, 0] = '<row r="'
        pieces[:, 1] = numbers
        pieces[:, 2] = '">'
        for k, col in enumerate(order):
            style = self.styles.get(col)
            if col in self.formulas:
                tails = _tail(None, self.formulas[col], style, styles, date1904, date_style)
            else:
                codes, uniques = _factorize(self.columns[col], start)
                rendered = np.empty(len(uniques) + 1, dtype=object)
                rendered[:-1] = [_tail(u, None, style, styles, date1904, date_style) for u in uniques]
                rendered[-1] = _tail(None, None, style, styles, date1904, date_style)
                tails = rendered[codes]
            pieces[:, 3 + 3 * k] = f'<c r="{num_to_col(col)}'
            pieces[:, 4 + 3 * k] = numbers
            pieces[:, 5 + 3 * k] = tails
        pieces[:, -1] = pieces[:, -1] + "</row>"
        text = "".join(pieces.ravel().tolist())
        return prefixed(text.encode("utf-8"), prefix)


def _factorize(values, start: int):
    """(codes, distinct values) of ``values[start:]``; blanks (None, NaN, NaT) get code -1.

    pandas factorizes a column of one kind (text, numbers, dates) in C; a column mixing kinds
    (where pandas would take True for 1) is factorized by type and value in Python."""
    import numpy as np
    import pandas as pd

    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        codes, uniques = pd.factorize(values[start:], use_na_sentinel=True)
        return codes, uniques.tolist()  # Python numbers, as value_xml expects
    arr = np.empty(len(values) - start, dtype=object)
    arr[:] = values[start:] if start else values
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind in ("string", "floating", "integer", "date", "datetime", "empty"):
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        return codes, list(uniques)
    seen: dict = {}
    codes = np.empty(len(arr), dtype=np.intp)
    for i, v in enumerate(arr.tolist()):
        key = (type(v), v)
        codes[i] = seen.setdefault(key, len(seen))
    return codes, [k[1] for k in seen]


def _tail(v, formula, style, styles: StylesPart, date1904: bool, date_style: list) -> str:
    """What follows ``<c r="REF`` in the cell ``value_xml`` writes for ``v`` (from the quote
    closing the reference on); a blank cell without a format is an empty ``<c/>``."""
    v = plain(v)
    s = style
    if not s and isinstance(v, (dt.date, dt.datetime)):
        if not date_style:
            date_style.append(styles.xf_index(CellStyle(num_format="yyyy-mm-dd")))
        s = date_style[0]
    return value_xml("R", v, formula, s, date1904)[len('<c r="R'):]


def prefixed(text: bytes, prefix: bytes) -> bytes:
    if not prefix:
        return text
    return re.sub(rb"<(/?)(c|v|f|is|t|row)\b", rb"<\1" + prefix + rb"\2", text)


_ROW_HT = re.compile(rb'\s(?:ht|customHeight)="[^"]*"')


def with_height(start_tag: bytes, height: float | None) -> bytes:
    """A row's start tag with a fixed ``height`` in points (None: as it is)."""
    if height is None:
        return start_tag
    tag = _ROW_HT.sub(b"", start_tag)
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:end] + b' ht="%s" customHeight="1"' % number_text(height).encode() + tag[end:]
