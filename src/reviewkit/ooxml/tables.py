"""Excel Tables (``xl/tables/tableN.xml``) of an open workbook: find one by name, grow it.

A table part is edited as bytes: only its ``ref``, the ``ref`` of its ``autoFilter`` (and a
``sortState`` inside it) and, when columns are added, ``<tableColumns>`` change; every other byte
of the part stays as it was. The cells of new rows and columns are written through the
worksheet editor, which also stretches the data validations and conditional formats that
covered the table's rows (``WorksheetEditor.extend_ranges``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from . import _xml
from .cellref import box_ref, parse_range
from .package import resolve_target

RT_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"

_TABLE_OPEN = re.compile(rb"<(?:\w+:)?table\b[^>]*>")
_REF = re.compile(rb'(\sref=")([^"]*)(")')
_AUTOFILTER = re.compile(rb"<(?:\w+:)?autoFilter\b[^>]*?/?>")
_SORTSTATE = re.compile(rb"<(?:\w+:)?sortState\b[^>]*?/?>")
_COLUMNS = re.compile(rb"<((?:\w+:)?)tableColumns\b([^>]*)>(.*?)</(?:\w+:)?tableColumns>", re.S)
_COUNT = re.compile(rb'(\scount=")(\d+)(")')
_COLUMN = re.compile(rb"<(?:\w+:)?tableColumn\b([^>]*?)(/>|>(.*?)</(?:\w+:)?tableColumn>)", re.S)
_ID = re.compile(rb'\sid="(\d+)"')
_NAME = re.compile(rb'\sname="([^"]*)"')
_CALC = re.compile(rb"<(?:\w+:)?calculatedColumnFormula\b[^>]*>(.*?)</(?:\w+:)?calculatedColumnFormula>", re.S)
_ATTR = {name: re.compile(rb'\s' + name.encode() + rb'="([^"]*)"')
         for name in ("name", "displayName", "headerRowCount", "totalsRowCount")}


@dataclass
class TableEditor:
    """One Excel Table of an open workbook. ``ref`` is its range now (header row included);
    ``grow`` records a new last row and added columns, applied when the workbook is saved."""

    book: object
    part: str
    sheet: str
    name: str
    ref: str
    header_rows: int
    totals_rows: int
    columns: list[str]
    formulas: dict[str, str]  # column name -> its calculatedColumnFormula (Excel fills new rows with it)
    _last_row: int | None = None
    _new_columns: tuple[str, ...] = ()

    @property
    def box(self) -> tuple[int, int, int, int]:
        return parse_range(self.ref)

    def grow(self, last_row: int | None = None, new_columns: tuple[str, ...] | list[str] = ()) -> None:
        """Let the table reach down to ``last_row`` and add ``new_columns`` at its right.

        A table never shrinks here. A totals row would have to move: such tables are refused."""
        r1, c1, r2, c2 = self.box
        want = max(r2, last_row or r2)
        if self.totals_rows and (want > r2 or new_columns):
            raise InputError("the table has a totals row, so it cannot grow", file=str(self.book.path),
                             sheet=self.sheet, cell=self.ref, value=self.name,
                             expected="the totals row turned off (Table Design > Total Row) while importing")
        self._last_row = want
        self._new_columns = (*self._new_columns, *new_columns)

    def render(self, data: bytes) -> bytes:
        r1, c1, r2, c2 = self.box
        last = max(r2, self._last_row or r2)
        new_ref = box_ref((r1, c1, last, c2 + len(self._new_columns))).encode()
        m = _TABLE_OPEN.search(data)
        head = _REF.sub(lambda x: x.group(1) + new_ref + x.group(3), m.group(0), count=1)
        out = data[:m.start()] + head + data[m.end():]
        filter_end = last - self.totals_rows
        out = _stretch_element(out, _AUTOFILTER, filter_end, len(self._new_columns))
        out = _stretch_element(out, _SORTSTATE, filter_end, 0)
        if self._new_columns:
            cm = _COLUMNS.search(out)
            prefix, attrs, body = cm.group(1), cm.group(2), cm.group(3)
            ids = [int(i) for i in _ID.findall(body)]
            extra = b"".join(b'<%stableColumn id="%d" name="%s"/>' % (prefix, max(ids, default=0) + k + 1,
                                                                     _xml.esc(_xml.excel_text(n)).encode())
                             for k, n in enumerate(self._new_columns))
            n = len(_COLUMN.findall(body)) + len(self._new_columns)
            attrs = _COUNT.sub(lambda x: x.group(1) + str(n).encode() + x.group(3), attrs)
            new = b"<%stableColumns%s>%s%s</%stableColumns>" % (prefix, attrs, body, extra, prefix)
            out = out[:cm.start()] + new + out[cm.end():]
        return out

    @property
    def dirty(self) -> bool:
        return (self._last_row is not None and self._last_row > self.box[2]) or bool(self._new_columns)

    def _reset(self) -> None:
        r1, c1, r2, c2 = self.box
        self.ref = box_ref((r1, c1, max(r2, self._last_row or r2), c2 + len(self._new_columns)))
        self.columns = [*self.columns, *self._new_columns]
        self._last_row, self._new_columns = None, ()


def find_table(book, name: str) -> TableEditor | None:
    """The table called ``name`` (Excel names are case-insensitive) on any worksheet of ``book``."""
    pkg = book._pkg
    wanted = name.lower()
    for el, part in book._sheets():
        if part is None or not pkg.exists(part):
            continue
        for r in pkg.rels(part):
            if r.type != RT_TABLE or r.external:
                continue
            tpart = resolve_target(part, r.target)
            if not pkg.exists(tpart):
                continue
            data = pkg.read(tpart)
            m = _TABLE_OPEN.search(data)
            if not m:
                continue
            attrs = {k: (rx.search(m.group(0)).group(1).decode("utf-8") if rx.search(m.group(0)) else None)
                     for k, rx in _ATTR.items()}
            shown = attrs["displayName"] or attrs["name"] or ""
            if shown.lower() != wanted:
                continue
            ref = _REF.search(m.group(0))
            cm = _COLUMNS.search(data)
            columns, formulas = [], {}
            for c in _COLUMN.finditer(cm.group(3) if cm else b""):
                nm = _NAME.search(c.group(1))
                col = _unescape(nm.group(1).decode("utf-8")) if nm else ""
                columns.append(col)
                f = _CALC.search(c.group(3) or b"")
                if f:
                    formulas[col] = _unescape(f.group(1).decode("utf-8"))
            return TableEditor(book, tpart, el.get("name"), shown, ref.group(2).decode().replace("$", ""),
                               int(attrs["headerRowCount"] or 1), int(attrs["totalsRowCount"] or 0),
                               columns, formulas)
    return None


def _unescape(text: str) -> str:
    text = (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


__all__ = ["TableEditor", "find_table", "RT_TABLE"]


def _stretch_element(data: bytes, pattern, last_row: int, extra_columns: int) -> bytes:
    """The first element ``pattern`` finds in ``data`` with its ``ref`` running to ``last_row`` and
    ``extra_columns`` further right; unchanged when it has no readable ref."""
    m = pattern.search(data)
    ref = _REF.search(m.group(0)) if m else None
    if ref is None:
        return data
    try:
        r1, c1, _r2, c2 = parse_range(ref.group(2).decode())
    except InputError:
        return data
    text = box_ref((r1, c1, last_row, c2 + extra_columns)).encode()
    tag = m.group(0)[:ref.start(2)] + text + m.group(0)[ref.end(2):]
    return data[:m.start()] + tag + data[m.end():]
