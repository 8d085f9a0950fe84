"""In-place edits of one existing worksheet, merged into its XML as a byte stream.

Public calls only record what to change. ``render`` then walks the sheet XML once: rows that
are not written pass through as byte slices; a written row is split into its ``<c>`` elements
with a regular expression and only the written cells are replaced or inserted. Nothing but the
rows' byte offsets is held per row, so a 100,000-row sheet never becomes Python objects. The
small remainder of the sheet (everything outside ``<sheetData>``) is parsed with lxml only when
columns, conditional formats or validations change, and its element order is kept.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from ..errors import InputError, WorkbookFormatError
from . import _xml
from .cellref import Box, box_ref, cell_name, col_to_num, num_to_col, parse_cell, parse_col, parse_range
from .cells import CellWrite, cell_xml, number_text
from .rowblock import RowBlock, XfIndex, plain, prefixed, with_height
from .skeleton import (WORKSHEET_ORDER, apply_cf, apply_dv, apply_hidden, apply_page_setup, apply_widths,
                       column_widths, stretch_ranges)
from .styles import CellStyle, StylesPart

__all__ = ["WORKSHEET_ORDER", "WorksheetEditor"]

_P = rb"(?:[A-Za-z_][\w.\-]*:)?"
SHEETDATA_OPEN = re.compile(rb"<(" + _P + rb"sheetData)\b[^>]*?(/?)>")
ROW_RE = re.compile(rb"<" + _P + rb"row\b(?:[^>]*?/>|[^>]*>.*?</" + _P + rb"row>)", re.S)
CELL_RE = re.compile(rb"<" + _P + rb"c\b(?:[^>]*?/>|[^>]*>.*?</" + _P + rb"c>)", re.S)
_ROW_NUM = re.compile(rb'\sr="(\d+)"')
_CELL_REF = re.compile(rb'\sr="\$?([A-Za-z]{1,3})\$?(\d+)"')
_SPANS = re.compile(rb'\sspans="(\d+):(\d+)"')
_STYLE = re.compile(rb'\ss="(\d+)"')
_DIMENSION = re.compile(rb'(<' + _P + rb'dimension\b[^>]*?\sref=")([^"]*)(")')
_SHARED_F = re.compile(rb'<(' + _P + rb')f\b([^>]*\bt="shared"[^>]*?)(/>|>(.*?)</' + _P + rb'f>)', re.S)
_SI = re.compile(rb'\ssi="(\d+)"')
_CUSTOM_FORMAT = re.compile(rb'\scustomFormat="(?:1|true)"')
_COL_EL = re.compile(rb"<" + _P + rb"col\b([^>]*)/?>")
_ATTR = re.compile(rb'\s(min|max|style)="(\d+)"')
_REF_ATTR = re.compile(rb'\sref="([^"]+)"')


class WorksheetEditor:
    """Records writes to one worksheet; ``WorkbookEditor.save`` merges them into the part."""

    def __init__(self, book, name: str, part: str):
        self._book = book
        self.name = name
        self.part = part
        self._writes: dict[int, dict[int, CellWrite]] = {}
        self._widths: dict[int, float] = {}
        self._hidden: set[int] = set()
        self._heights: dict[int, float] = {}  # row -> height in points
        self._page = None  # a spec.PageSetup to print with
        self._cf: tuple[list[Box], list] | None = None
        self._dv: tuple[list[Box], list] | None = None
        self._col_styles: list[tuple[int, int, int]] = []
        self._blocks: list[RowBlock] = []
        self._stretch: list[tuple[int, int, int, int]] = []
        self._box: tuple[int, int, int, int] | None = None  # rows rendered from blocks, for <dimension>
        #: (row, col) of table header cells -> (table, column name, table part, column index)
        self._headers: dict[tuple[int, int], tuple[str, str, str, int]] | None = None
        self.has_formula = False

    def __repr__(self) -> str:
        return f"<WorksheetEditor {self.name!r} ({self.part})>"

    # -- recording -----------------------------------------------------------------------
    def _put(self, ref: str, write: CellWrite) -> None:
        try:
            row, col = parse_cell(ref)
        except InputError as exc:
            raise InputError(exc.detail, file=self._book.path, sheet=self.name, value=ref,
                             expected=exc.expected) from None
        if write.style is not None and not isinstance(write.style, CellStyle):
            raise InputError("style must be a CellStyle", sheet=self.name, cell=ref, value=type(write.style).__name__)
        # render once now so a bad value fails at the call that passed it, not at save
        try:
            cell_xml(ref, write, None)
        except InputError as exc:
            raise InputError(exc.detail, file=self._book.path, sheet=self.name, cell=ref, value=exc.value,
                             expected=exc.expected) from None
        if self._headers is None:
            self._headers = self._book.table_headers(self.part)
        if (row, col) in self._headers:
            write = self._header_write(ref, row, col, write)
        self._writes.setdefault(row, {})[col] = write

    def _header_write(self, ref: str, row: int, col: int, write: CellWrite) -> CellWrite:
        """A write into a table's header cell: Excel keeps the header text and the table part's
        column name equal, so the column is renamed with it (the write becomes that text, as
        Excel stores header cells; a formula becomes its cached value, as Excel does). Refused
        when the name cannot follow: a blank or a date, a name another column has, or a name
        the table's own formulas use."""
        table, name, part, index = self._headers[(row, col)]
        v = write.value  # a formula's cached result: Excel turns a formula typed in a header into its value
        text = None
        if isinstance(v, str):
            text = v
        elif isinstance(v, bool):
            text = "TRUE" if v else "FALSE"
        elif isinstance(v, (int, float)):
            text = number_text(v)
        if text == name:
            return write if isinstance(v, str) and write.formula is None else CellWrite(value=text, style=write.style)
        why = None
        if text is None or not text.strip():
            why = "a table header holds a non-blank text or number"
        elif any(n.casefold() == text.casefold() for (t, n, _p, i) in self._headers.values()
                 if t == table and i != index):
            why = f"table '{table}' has another column named '{text}' (Excel needs unique column names)"
        elif self._book.table_formulas_use(part, name):
            why = f"formulas of table '{table}' refer to column '{name}' by name"
        if why:
            raise InputError(f"the cell is the header of column '{name}' of table '{table}'; {why}",
                             file=self._book.path, sheet=self.name, cell=ref,
                             value=v if write.formula is None else "=" + write.formula,
                             expected=f"the text '{name}', or a new unique column name (or rename the column "
                                      "in Excel, which updates the formulas that use it)")
        self._book.rename_table_column(part, index, text)
        self._headers[(row, col)] = (table, text, part, index)
        return CellWrite(value=text, style=write.style)

    def write(self, ref: str, value: object, style: CellStyle | None = None) -> None:
        """Store a number, text, bool, date/datetime, ErrorValue or None (clears the value).

        Without ``style`` the cell keeps its current format (a template's number format stays).
        """
        self._put(ref, CellWrite(value=value, style=style))

    def write_formula(self, ref: str, formula: str, cached: object = None, style: CellStyle | None = None) -> None:
        """Store ``formula`` (with or without '=') and its ``cached`` result for readers that do not recalc."""
        if not isinstance(formula, str) or not formula.strip("= "):
            raise InputError("empty or non-text formula", sheet=self.name, cell=ref, value=formula)
        if len(formula) > 8192:
            raise InputError("formula is longer than Excel's limit", sheet=self.name, cell=ref, value=len(formula),
                             expected="at most 8192 characters")
        self._put(ref, CellWrite(value=cached, formula=formula[1:] if formula.startswith("=") else formula,
                                 style=style))
        self.has_formula = True

    def write_rows(self, first_row: int, columns: dict[int, Sequence], styles: dict[int, int | None] | None = None,
                   formulas: dict[int, str] | None = None) -> None:
        """Write a block of rows from ``first_row`` down: ``columns`` maps a 1-based column number
        to its values (all of one length; values as for ``write``), ``formulas`` a column number
        to a formula written (without a cached value) in every row of the block.

        Cells that exist keep their format; new cells take the raw style index ``styles[col]``
        (an ``xf`` index of the workbook, e.g. read with ``cell_styles``). Made for many rows:
        rows below the sheet's last row are rendered in one pass, without a record per cell."""
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InputError("the columns of a row block differ in length", sheet=self.name, value=sorted(lengths))
        n = lengths.pop() if lengths else 0
        if not n or first_row < 1:
            return
        for ref_col in (*columns, *(formulas or {})):
            if not 1 <= ref_col <= 16384:
                raise InputError("column number out of range", sheet=self.name, value=ref_col, expected="1 .. 16384")
        if first_row + n - 1 > 1_048_576:
            raise InputError("the rows do not fit in a worksheet", sheet=self.name, value=first_row + n - 1,
                             expected="at most 1,048,576 rows")
        self._blocks.append(RowBlock(first_row, n, dict(columns), dict(styles or {}), dict(formulas or {})))
        if formulas:
            self.has_formula = True

    def cell_styles(self, row: int) -> dict[int, int]:
        """{column number: xf style index} of the cells of ``row`` as saved (pending writes aside)."""
        data = self._book._pkg.read(self.part)
        m = re.search(rb'<(?:[A-Za-z_][\w.\-]*:)?row\b[^>]*?\sr="%d"[^>]*?(/?)>' % row, data)
        if not m or m.group(1):
            return {}
        end = data.find(b"</", m.end())
        close = re.compile(rb"</(?:[A-Za-z_][\w.\-]*:)?row>").search(data, m.end())
        body = data[m.end():close.start() if close else end]
        out = {}
        for cm in CELL_RE.finditer(body):
            tag = cm.group(0)[:cm.group(0).find(b">") + 1]
            ref, st = _CELL_REF.search(tag), _STYLE.search(tag)
            if ref and st:
                out[col_to_num(ref.group(1).decode())] = int(st.group(1))
        return out

    def column_widths(self) -> dict[int, float]:
        """{column number: width} of the columns the sheet as saved gives a width (pending widths aside)."""
        return column_widths(self._book._pkg.read_xml(self.part))

    def extend_ranges(self, first_col: int, last_col: int, first_row: int, last_row: int) -> None:
        """Stretch the data validations and conditional formats that cover rows from ``first_row``
        in columns ``first_col``..``last_col`` (a table's data rows) down to ``last_row``, so they
        follow rows added to the table; ranges already reaching further, or elsewhere, stay."""
        self._stretch.append((first_col, last_col, first_row, last_row))

    def set_column_width(self, col: str | int, width: float) -> None:
        if not isinstance(width, (int, float)) or not 0 <= width <= 255:
            raise InputError("column width out of range", sheet=self.name, value=width, expected="0 .. 255")
        self._widths[parse_col(col)] = float(width)

    def hide_columns(self, cols: Iterable[str | int]) -> None:
        """Hide the columns (on screen and paper); their widths stay."""
        self._hidden.update(parse_col(c) for c in cols)

    def set_row_height(self, row: int, height: float) -> None:
        """Give ``row`` a fixed height in points (a spreadsheet does not grow a row for wrapped text on load)."""
        if not isinstance(height, (int, float)) or not 0 <= height <= 409:
            raise InputError("row height out of range", sheet=self.name, value=height, expected="0 .. 409 points")
        self._heights[row] = float(height)
        self._writes.setdefault(row, {})  # the row is rewritten when the sheet is saved

    def set_page_setup(self, setup) -> None:
        """Print with ``setup`` (a :class:`.spec.PageSetup`): its orientation and fit to pages or
        scale; the sheet's paper size, margins, header and footer stay."""
        self._page = setup

    def set_conditional_formats(self, owned: Sequence[str], rules: Iterable) -> None:
        """Replace the rules whose ranges lie inside ``owned``; other rules (incl. x14 ones) stay."""
        self._cf = ([parse_range(r) for r in owned], list(rules))

    def set_data_validations(self, owned: Sequence[str], validations: Iterable) -> None:
        """Replace the validations whose ranges lie inside ``owned``; other validations stay."""
        self._dv = ([parse_range(r) for r in owned], list(validations))

    def _reset(self) -> None:
        """Forget what was recorded once it is in the package (after a save)."""
        self._writes.clear()
        self._widths.clear()
        self._hidden.clear()
        self._heights.clear()
        self._page = None
        self._cf = self._dv = None
        self._blocks.clear()
        self._stretch.clear()
        self.has_formula = False

    @property
    def dirty(self) -> bool:
        return bool(self._writes or self._widths or self._hidden or self._page or self._cf is not None
                    or self._dv is not None or self._blocks or self._stretch)

    # -- rendering -----------------------------------------------------------------------
    def render(self, data: bytes, styles: StylesPart, date1904: bool = False) -> bytes:
        file = str(self._book.path)
        _xml.check_no_dtd(data, file, self.part)
        m = SHEETDATA_OPEN.search(data)
        if not m:
            raise WorkbookFormatError(f"worksheet part {self.part} has no <sheetData>", file=file, sheet=self.name,
                                      expected="a SpreadsheetML worksheet")
        tag = m.group(1)
        prefix = tag[:-len(b"sheetData")]
        close = b"</" + tag + b">"
        head = data[:m.start()]
        if m.group(2):  # <sheetData/>
            lo = hi = m.end()
            tail = data[m.end():]
        else:
            hi = data.rfind(close)
            if hi < m.end():
                raise WorkbookFormatError(f"worksheet part {self.part} has an unclosed <sheetData>", file=file,
                                          sheet=self.name, expected="well-formed XML")
            lo = m.end()
            tail = data[hi + len(close):]
        open_tag = m.group(0) if not m.group(2) else m.group(0)[:-2].rstrip() + b">"
        # the rows stay in ``data``; unchanged stretches are emitted as memoryview slices (no copies)
        rows: list = [memoryview(data)[lo:hi]]
        tail_rows: list = []
        if self._blocks:
            tail_rows = self._place_blocks(data, lo, hi, styles, prefix, date1904)
        if self._writes or tail_rows:
            self._col_styles = []
            for cm in _COL_EL.finditer(head):
                attrs = {k.decode(): int(v) for k, v in _ATTR.findall(cm.group(1))}
                if "min" in attrs and "max" in attrs and attrs.get("style"):
                    self._col_styles.append((attrs["min"], attrs["max"], attrs["style"]))
            if self._writes:
                rows = self._merge_rows(data, lo, hi, styles, prefix, date1904)
            head = self._update_dimension(head)
        if self._stretch:
            head, tail = stretch_ranges(head, self._stretch), stretch_ranges(tail, self._stretch)
        if self._widths or self._hidden or self._page or self._cf is not None or self._dv is not None:
            head, tail = self._edit_skeleton(head, tail, tag, styles)
        if lo == hi and not self._writes and not tail_rows:
            return b"".join((head, m.group(0), tail))
        return b"".join((head, open_tag, *rows, *tail_rows, close, tail))

    def _place_blocks(self, data: bytes, lo: int, hi: int, styles: StylesPart, prefix: bytes,
                      date1904: bool) -> list:
        """Turn the row blocks into cell writes for rows at or above the sheet's last row, and
        render the rows below it directly; returns those rendered rows (to follow the others)."""
        opener = b"<" + prefix + b"row"
        last_existing = 0
        at = data.rfind(opener, lo, hi)
        while at != -1:
            m = re.compile(re.escape(opener) + rb'\b[^>]*?\sr="(\d+)"').match(data, at)
            if m:
                last_existing = int(m.group(1))
                break
            at = data.rfind(opener, lo, at)
        if at == -1 and data.count(opener, lo, hi):  # rows without numbers: every block row is merged
            last_existing = 1_048_576
        out: list = []
        for block in sorted(self._blocks, key=lambda b: b.first):
            split = max(0, min(block.n, last_existing - block.first + 1))
            for i in range(split):  # rows that may exist: merged cell by cell
                r = block.first + i
                cells = self._writes.setdefault(r, {})
                for col, values in block.columns.items():
                    cells[col] = CellWrite(value=plain(values[i]), style=XfIndex.of(block.styles.get(col)))
                for col, formula in block.formulas.items():
                    cells[col] = CellWrite(formula=formula, style=XfIndex.of(block.styles.get(col)))
            if split < block.n:
                out.append(block.render(split, styles, prefix, date1904))
                self._box = _union(self._box, block.box)
        return out


    def _cell_bytes(self, row: int, col: int, w: CellWrite, old: bytes | None, styles: StylesPart,
                    prefix: bytes, date1904: bool, row_style: int | None = None) -> bytes:
        style = None
        if type(w.style) is XfIndex:  # a raw index from write_rows: only for a cell that is new
            style = int(w.style) if old is None else None
            if old is not None:
                sm = _STYLE.search(old[:old.find(b">") + 1])
                style = int(sm.group(1)) if sm else None
        elif w.style is not None:
            style = styles.xf_index(w.style)
        elif old is not None:
            sm = _STYLE.search(old[:old.find(b">") + 1])
            style = int(sm.group(1)) if sm else None
        else:  # a new cell shows the row's format, else its column's, as Excel does when you type
            style = row_style if row_style is not None else self._col_style(col)
        if w.value is not None and isinstance(w.value, (dt.date, dt.datetime)) and w.style is None and not style:
            style = styles.xf_index(CellStyle(num_format="yyyy-mm-dd"))
        text = cell_xml(cell_name(row, col), w, style, date1904).encode("utf-8")
        return prefixed(text, prefix)

    def _merge_rows(self, data: bytes, lo: int, hi: int, styles: StylesPart, prefix: bytes,
                    date1904: bool) -> list:
        """Merge the pending rows into the rows in ``data[lo:hi]``; returns chunks to join.

        When every row carries its number as the first attribute (Excel, XlsxWriter, openpyxl
        all write ``<row r="..."``) each written row is found by binary search over byte
        offsets, so the cost grows with the rows written, not the rows in the sheet. Anything
        else falls back to one linear pass.
        """
        opener = b"<" + prefix + b"row"
        if data.count(opener, lo, hi) != data.count(opener + b' r="', lo, hi):
            return self._merge_rows_linear(data, lo, hi, styles, prefix, date1904)
        mv = memoryview(data)
        row_start = re.compile(re.escape(opener) + rb' r="(\d+)"[^>]*?(/?)>')
        close = b"</" + prefix + b"row>"
        out: list = []
        pos = lo
        shared: dict[bytes, tuple[str, str, Box]] = {}
        for rownum in sorted(self._writes):
            m = _first_row_at_least(row_start, data, pos, hi, rownum)
            if m is None:
                out.append(mv[pos:hi])
                pos = hi
                out.append(self._new_row(rownum, styles, prefix, date1904))
                continue
            out.append(mv[pos:m.start()])
            if int(m.group(1)) != rownum:
                out.append(self._new_row(rownum, styles, prefix, date1904))
                pos = m.start()
                continue
            end = m.end() if m.group(2) else data.index(close, m.end(), hi) + len(close)
            out.append(self._merge_row(rownum, data[m.start():end], styles, prefix, date1904, shared))
            pos = end
            if shared:  # dependants of an overwritten shared-formula anchor, up to the end of its range
                last = max(box[2] for _f, _o, box in shared.values())
                stop = _first_row_at_least(row_start, data, pos, hi, last + 1)
                stop_at = stop.start() if stop is not None else hi
                nxt = min([r for r in self._writes if r > rownum], default=None)
                if nxt is not None:
                    m2 = _first_row_at_least(row_start, data, pos, hi, nxt)
                    stop_at = min(stop_at, m2.start() if m2 is not None else hi)
                out.append(_unshare(data[pos:stop_at], 0, shared))
                pos = stop_at
        out.append(mv[pos:hi])
        return out

    def _merge_rows_linear(self, data: bytes, lo: int, hi: int, styles: StylesPart, prefix: bytes,
                           date1904: bool) -> list:
        inner = data[lo:hi]
        pending = sorted(self._writes)
        out: list[bytes] = []
        pos = 0
        last_row = 0
        i = 0
        shared: dict[bytes, tuple[str, str, Box]] = {}   # si -> (formula, origin cell, ref box)
        shared_end = 0
        for m in ROW_RE.finditer(inner):
            row_bytes = m.group(0)
            start_tag_end = row_bytes.find(b">") + 1
            start_tag = row_bytes[:start_tag_end]
            rm = _ROW_NUM.search(start_tag)
            rownum = int(rm.group(1)) if rm else last_row + 1
            if not rm:  # give implicit rows an explicit number so inserted rows cannot shift them
                row_bytes = _add_attr(row_bytes, b'r="%d"' % rownum)
            last_row = rownum
            out.append(inner[pos:m.start()])
            pos = m.end()
            while i < len(pending) and pending[i] < rownum:
                out.append(self._new_row(pending[i], styles, prefix, date1904))
                i += 1
            if i < len(pending) and pending[i] == rownum:
                row_bytes = self._merge_row(rownum, row_bytes, styles, prefix, date1904, shared)
                for _si, (_f, _o, box) in shared.items():
                    shared_end = max(shared_end, box[2])
                i += 1
            elif shared and rownum <= shared_end:
                row_bytes = _unshare(row_bytes, rownum, shared)
            out.append(row_bytes)
            if i >= len(pending) and (not shared or rownum >= shared_end) and rm:
                break
        out.append(inner[pos:])
        while i < len(pending):
            out.append(self._new_row(pending[i], styles, prefix, date1904))
            i += 1
        return out

    def _col_style(self, col: int) -> int | None:
        for lo, hi, style in self._col_styles:
            if lo <= col <= hi:
                return style
        return None

    def _new_row(self, rownum: int, styles, prefix, date1904) -> bytes:
        cells = self._writes[rownum]
        body = b"".join(self._cell_bytes(rownum, c, cells[c], None, styles, prefix, date1904) for c in sorted(cells))
        start = with_height(b"<%srow r=\"%d\">" % (prefix, rownum), self._heights.get(rownum))
        return start + body + b"</%srow>" % prefix

    def _merge_row(self, rownum: int, row_bytes: bytes, styles, prefix, date1904, shared) -> bytes:
        writes = self._writes[rownum]
        start_end = row_bytes.find(b">") + 1
        start_tag = row_bytes[:start_end]
        if start_tag.endswith(b"/>"):
            start_tag = start_tag[:-2].rstrip() + b">"
            body, close = b"", b"</%srow>" % prefix
        else:
            close_at = row_bytes.rfind(b"</")
            body, close = row_bytes[start_end:close_at], row_bytes[close_at:]
        row_style = None
        if _CUSTOM_FORMAT.search(start_tag):
            sm = _STYLE.search(start_tag)
            row_style = int(sm.group(1)) if sm else None
        cells: list[tuple[int, bytes]] = []
        pos = 0
        last_col = 0
        for m in CELL_RE.finditer(body):
            pos = m.end()
            cb = m.group(0)
            cm = _CELL_REF.search(cb[:cb.find(b">") + 1])
            col = col_to_num(cm.group(1).decode()) if cm else last_col + 1
            if not cm:
                cb = _add_attr(cb, b'r="%s%d"' % (num_to_col(col).encode(), rownum))
            last_col = col
            cells.append((col, cb))
        trailing = body[pos:]  # e.g. a row-level extLst
        existing = dict(cells)
        for col, w in writes.items():
            old = existing.get(col)
            if old is not None:
                self._note_shared_master(old, rownum, col, shared)
            existing[col] = self._cell_bytes(rownum, col, w, old, styles, prefix, date1904, row_style)
        merged = b"".join(existing[c] for c in sorted(existing))
        if shared:
            merged = _unshare(merged, rownum, shared)
        start_tag = with_height(start_tag, self._heights.get(rownum))
        sp = _SPANS.search(start_tag)
        if sp and writes:
            lo = min(int(sp.group(1)), *writes)
            hi = max(int(sp.group(2)), *writes)
            start_tag = start_tag[:sp.start()] + b' spans="%d:%d"' % (lo, hi) + start_tag[sp.end():]
        return start_tag + merged + trailing + close

    def _note_shared_master(self, old: bytes, row: int, col: int, shared: dict) -> None:
        """Overwriting the anchor of a shared formula: its dependants get their own formula."""
        fm = _SHARED_F.search(old)
        if not fm or fm.group(4) is None or not fm.group(4).strip():
            return
        attrs = fm.group(2)
        si, ref = _SI.search(attrs), _REF_ATTR.search(attrs)
        if not si or not ref:
            return
        formula = _xml_unescape(fm.group(4).decode("utf-8"))
        shared[si.group(1)] = (formula, cell_name(row, col), parse_range(ref.group(1).decode()))

    def _update_dimension(self, head: bytes) -> bytes:
        rows = list(self._writes)
        cols = [c for cells in self._writes.values() for c in cells]
        box = (min(rows), min(cols), max(rows), max(cols)) if rows and cols else None
        box = _union(box, self._box)
        self._box = None
        if box is None:
            return head
        m = _DIMENSION.search(head)
        if not m:
            return head
        try:
            old = parse_range(m.group(2).decode())
            box = (min(old[0], box[0]), min(old[1], box[1]), max(old[2], box[2]), max(old[3], box[3]))
        except InputError:
            pass
        return head[:m.start(2)] + box_ref(box).encode() + head[m.end(2):]

    def _edit_skeleton(self, head: bytes, tail: bytes, tag: bytes, styles: StylesPart) -> tuple[bytes, bytes]:
        """Parse everything but the rows, apply cols/CF/validation changes, split again.

        Top-level elements that were not changed are copied as their original bytes (extLst,
        drawing, controls, ... stay byte-identical); only new or changed elements are
        serialized by lxml.
        """
        root_at = _xml._first_element_start(head)
        skeleton = head + b"<" + tag + b"/>" + tail
        doc = _xml.PreservingXml(skeleton, str(self._book.path), self.part)
        root = doc.root
        changed: set = set()  # the top-level children edited in place (the others are copied)
        replace: dict = {}
        if self._widths:
            changed.add(apply_widths(root, self._widths))
        if self._hidden:
            changed.add(apply_hidden(root, self._hidden))
        if self._page is not None:
            changed.update(apply_page_setup(root, self._page))
        if self._cf is not None:
            # new rules as text in place of a placeholder, where lxml would write them the same way
            as_text = doc.spliceable() and [p for p, uri in root.nsmap.items() if uri == _xml.MAIN] == [None]
            changed.update(apply_cf(root, *self._cf, styles, replace if as_text else None))
        if self._dv is not None:
            changed.add(apply_dv(root, *self._dv))
        text = doc.to_bytes(changed=changed, replace=replace or None)
        m = re.compile(rb"<" + _P + rb"sheetData\s*/>").search(text, root_at)
        return text[:m.start()], text[m.end():]


def _union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _first_row_at_least(row_start: re.Pattern, data: bytes, lo: int, limit: int, target: int) -> re.Match | None:
    """The first row start in ``data[lo:limit]`` whose number is >= ``target`` (rows ascend)."""
    hi = limit
    while lo < hi:
        mid = (lo + hi) // 2
        m = row_start.search(data, mid, limit)
        if m is None or m.start() >= hi:  # no row starts in [mid, hi)
            hi = mid
        elif int(m.group(1)) < target:
            lo = m.end()
        else:
            hi = mid
    return row_start.search(data, lo, limit)


def _add_attr(element: bytes, attr: bytes) -> bytes:
    """Insert ``attr`` right after the element's name."""
    m = re.match(rb"<[\w.:\-]+", element)
    return element[:m.end()] + b" " + attr + element[m.end():]


def _xml_unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _unshare(row_bytes: bytes, rownum: int, shared: dict) -> bytes:
    """Give cells that followed a removed shared-formula anchor their own translated formula."""
    from openpyxl.formula.translate import Translator

    def fix(cm: re.Match) -> bytes:
        cb = cm.group(0)
        fm = _SHARED_F.search(cb)
        if not fm:
            return cb
        si = _SI.search(fm.group(2))
        if not si or si.group(1) not in shared:
            return cb
        formula, origin, _box = shared[si.group(1)]
        ref = _CELL_REF.search(cb[:cb.find(b">") + 1])
        if not ref:
            return cb
        here = ref.group(1).decode() + ref.group(2).decode()
        if fm.group(4) and fm.group(4).strip():  # another anchor for the same si: leave it
            return cb
        new = Translator("=" + formula, origin=origin).translate_formula(here)[1:]
        return cb[:fm.start()] + b"<%sf>%s</%sf>" % (fm.group(1), _xml.esc(new).encode(), fm.group(1)) + cb[fm.end():]

    return CELL_RE.sub(fix, row_bytes)
