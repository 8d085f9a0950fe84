"""The grid owned sheets are written on: text widths and wrapping, :class:`_Grid` (cells row by
row, rules, charts, blocks kept on one page) and the page setup of a printed sheet."""
from __future__ import annotations

import math
import re
import unicodedata

from .. import caching
from ..ooxml import Cell, CellStyle, Chart, PageSetup, SheetSpec
from ..ooxml.cellref import num_to_col, parse_cell, parse_col
from .records import _cached, _plain
from .styles import SECTION


#: display width of one printed line of wrapped text on owned sheets (CJK characters count 2)
LINE_WIDTH = 72


def _display_width(text: str) -> int:
    """Display columns of ``text``: CJK (wide and full-width) characters count 2."""
    if text.isascii():  # no ASCII character is wide
        return len(text)
    return _wide_width(text)


@caching.memo("grid.display_width", 10_000)
def _wide_width(text: str) -> int:
    """``_display_width`` of non-ASCII text (_wrap measures CJK text one character at a time)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _text_lines(text: str, width: float) -> int:
    """Lines ``text`` takes when wrapped in a column ``width`` characters wide (CJK counts double),
    for the row height of a wrapped cell (a spreadsheet does not grow the row on load)."""
    return max(1, math.ceil(_display_width(text) / max(width - 1, 1)))


def _wrap(text: str, width: int = LINE_WIDTH) -> list[str]:
    """Break ``text`` into lines of at most ``width`` display columns (CJK = 2), at spaces when
    there are any. Owned sheets cannot rely on row auto-height, so long text gets its own rows."""
    lines, cur, cw = [], "", 0
    for word in _tokens(text):
        ww = _display_width(word)
        if cw + ww > width and cur.strip():
            lines.append(cur.rstrip())
            cur, cw = word.lstrip(), _display_width(word.lstrip())
        else:
            cur, cw = cur + word, cw + ww
    if cur.strip():
        lines.append(cur.rstrip())
    return lines or [""]


_TOKEN_RE = re.compile(r"\s*[A-Za-z0-9.,%+\-−:/()'’]+|\s*\S")


def _tokens(text: str) -> list[str]:
    """Words with their leading space for Latin text; single characters for CJK."""
    return _TOKEN_RE.findall(str(text))


class _Grid:
    """Cells of an owned sheet, written row by row.

    Cells are made with ``Cell._unchecked``: the SheetSpec that ``spec`` builds checks every
    reference, so checking each one here as well would only double the work."""

    def __init__(self):
        self.cells: dict[str, Cell] = {}
        self.row = 1
        self.merged: list[str] = []
        self.rules: list = []
        self.charts: list[Chart] = []
        self.columns: set[int] = set()  # the column numbers cells were put in
        self.blocks: list[tuple[int, int]] = []  # row spans printed on one page (tables, charts)

    def put(self, col: int, value=None, style: CellStyle | None = None, formula: str | None = None,
            row: int | None = None) -> str:
        ref = f"{num_to_col(col)}{row or self.row}"
        self.columns.add(col)
        if formula is not None:
            self.cells[ref] = Cell._unchecked(ref, _cached(value), style, formula)
        else:
            self.cells[ref] = Cell._unchecked(ref, _plain(value), style)
        return ref

    def line(self, values: list, styles: list | CellStyle | None = None, start: int = 1) -> int:
        per_cell = isinstance(styles, list)
        for j, v in enumerate(values):
            st = styles[j] if per_cell else styles
            if isinstance(v, tuple):  # (formula, cached)
                self.put(start + j, v[1], st, formula=v[0])
            else:
                self.put(start + j, v, st)
        self.row += 1
        return self.row - 1

    def skip(self, n: int = 1) -> None:
        self.row += n

    def keep(self, first: int, last: int) -> None:
        """Print rows ``first``..``last`` on one page (when they fit on one)."""
        if last >= first:
            self.blocks.append((first, last))

    def chart(self, chart: Chart) -> None:
        """Add ``chart``; the rows it covers are kept on one page."""
        self.charts.append(chart)
        row = parse_cell(chart.anchor)[0]
        self.keep(row, row + chart.size[1] - 1)

    def fit_widths(self, limits: dict[str, tuple[float, float]], first_row: int = 1,
                   skip: tuple[CellStyle, ...] = ()) -> dict[str, float]:
        """Column letter -> width of each column in ``limits``: its widest text from ``first_row``
        on (display columns, CJK counting 2, plus a margin), kept within ``(least, most)``.
        Cells styled as one of ``skip`` (titles, section bands that run across) are not measured."""
        need: dict[int, int] = {}
        for ref, cell in self.cells.items():
            if type(cell.value) is not str or cell.style in skip:
                continue
            row, col = parse_cell(ref)
            if row >= first_row:
                need[col] = max(need.get(col, 0), _display_width(cell.value))
        return {letter: float(min(most, max(least, need.get(parse_col(letter), 0) + 2)))
                for letter, (least, most) in limits.items()}

    def spec(self, widths: dict, freeze: str | None = None, tab: str | None = None, *,
             paginate: bool = False, hidden: tuple[str, ...] = (), setup: PageSetup | None = None,
             fit_rows: bool = False, grid_lines: bool = False) -> SheetSpec:
        """The sheet. ``paginate``: print at a fixed scale with a page break before every kept block
        that would straddle one (charts are never cut); else fit all columns to the page width.
        ``hidden``: helper columns (chart data) hidden on screen and paper. ``fit_rows``: rows whose
        wrapped text needs several lines get that height (a spreadsheet does not grow them on load).
        ``grid_lines``: show the grid lines (a Gantt's period columns read better with them)."""
        # the page setup is given here: adding it later rebuilds (and re-checks) the whole spec
        cells = list(self.cells.values())
        by_col = {parse_col(k): float(v) for k, v in widths.items()}
        breaks: list[int] = []
        if setup is None and paginate:
            hidden_cols = {parse_col(h) for h in hidden}
            scale = _print_scale({c: w for c, w in by_col.items() if c not in hidden_cols},
                                 self.columns - hidden_cols)
            breaks = _page_breaks(self.blocks, _rows_per_page(scale))
            setup = PageSetup(landscape=True, fit_width=0, fit_height=0, scale=scale)
        elif setup is None:
            setup = _fit_columns(self.columns, by_col, freeze)
        heights = _wrapped_heights(cells, by_col) if fit_rows else {}
        return SheetSpec(cells=cells, col_widths=widths, row_heights=heights, merged=self.merged,
                         conditional_formats=self.rules, charts=self.charts, freeze=freeze, tab_color=tab,
                         show_grid_lines=grid_lines, page_setup=setup, row_breaks=breaks, hidden_columns=hidden)


def _wrapped_heights(cells: list[Cell], widths: dict[int, float]) -> dict[int, float]:
    """Row -> height in points of the rows holding wrapped text longer than its column's line."""
    heights: dict[int, float] = {}
    for c in cells:
        if type(c.value) is str and c.style is not None and c.style.wrap:
            row, col = parse_cell(c.ref)
            lines = _text_lines(c.value, widths.get(col, 8.43))
            if lines > 1:
                heights[row] = max(heights.get(row, 0), ROW_PT * lines)
    return heights


# --- printing: landscape A4 with the margins owned sheets are written with ------------------
#: the printable body of a landscape A4 page in points (0.7" side and 0.75" top/bottom margins,
#: less room for LibreOffice's page header and footer)
PAGE_WIDTH_PT, PAGE_HEIGHT_PT = 741.0, 460.0
ROW_PT = 15.0  # default row height


def _column_pt(width: float) -> float:
    """Printed width in points of a column ``width`` characters wide. Excel's Calibri 11 gives 5.25 pt
    a character; LibreOffice without Calibri measures with a wider substitute (DejaVu Sans, about
    6.9 pt), so the wider measure is used: the page then fits in both."""
    return width * 6.9 + 5


def _print_scale(widths: dict[int, float], used: set[int]) -> int:
    """The print scale (percent) at which the used columns fill at most the page width."""
    total = sum(_column_pt(widths.get(c, 8.43)) for c in (used | set(widths)))
    return max(10, min(100, int(PAGE_WIDTH_PT / total * 100))) if total else 100


def _rows_per_page(scale: int) -> int:
    return int(PAGE_HEIGHT_PT / (ROW_PT * scale / 100))


def _page_breaks(blocks: list[tuple[int, int]], per_page: int) -> list[int]:
    """Rows to break the page above so that no block straddles a page (a block longer than a page
    starts a page of its own). Between manual breaks the printer breaks every ``per_page`` rows."""
    breaks: list[int] = []
    top = 1
    for first, last in sorted(blocks):
        while first >= top + per_page:  # the printer's own breaks before this block
            top += per_page
        if last >= top + per_page and first > top:
            breaks.append(first)
            top = first
    return breaks


def _section(g: _Grid, text: str, ncols: int) -> None:
    g.put(1, text, SECTION)
    for c in range(2, ncols + 1):
        g.put(c, None, SECTION)
    g.skip()


#: rows a chart on an owned sheet covers
CHART_ROWS = 14


def _page_setup(spec: SheetSpec) -> PageSetup:
    """Landscape, all columns across as few pages as stay readable (about 200 characters a page).

    Most owned sheets fit one page wide; a long weekly timeline gets two or three pages across
    rather than one page too small to read.
    """
    return _fit_page_setup(spec.cells, spec.col_widths, spec.freeze)


def _fit_page_setup(cells, col_widths: dict, freeze: str | None) -> PageSetup:
    """:func:`_page_setup` from a sheet's cells, widths by column number and frozen cell."""
    # the column letters of each distinct head (ref without its row), in the order the cells come
    heads = dict.fromkeys(c.ref.rstrip("0123456789") for c in cells)
    return _fit_columns({parse_col(re.match(r"[A-Z]+", h).group()) for h in heads}, col_widths, freeze)


def _fit_columns(used: set[int], col_widths: dict, freeze: str | None) -> PageSetup:
    """:func:`_fit_page_setup` from the column numbers the cells use."""
    width = sum(col_widths.get(col, 8.43) for col in used)
    pages = max(1, math.ceil(width / 200))
    # On a sheet several pages wide, the frozen columns (a timeline's task names) print on each page.
    frozen = parse_col(re.match(r"[A-Z]+", freeze).group()) if freeze else 1
    repeat = f"A:{num_to_col(frozen - 1)}" if pages > 1 and frozen > 1 else None
    return PageSetup(landscape=True, fit_width=pages, fit_height=0, repeat_columns=repeat)
