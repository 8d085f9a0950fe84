"""``reviewkit export --pdf``: the meeting pack of a review workbook as a PDF, via LibreOffice.

By default the PDF holds the sheets a review meeting looks at, in this order: the summary, the
breakdown, the peer ranking, the timeline, the execution tracking (the sheets ``fill`` builds) and
the scorecard. ``sheets=[...]`` picks other sheets, ``all_sheets=True`` prints every visible sheet.

The user's workbook is never written: the selection is made on a copy in a scratch folder (the
lossless editor hides the other sheets there) and LibreOffice renders that copy. Each owned sheet
carries its own print set-up (landscape A4, fitted to the page width), written by ``fill``; the
Scorecard is laid out for the meeting in the copy only (its key columns, wrapped conclusions, one
page wide, the header on every page), so the user's table keeps every column as it is.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from . import libreoffice
from .errors import InputError, ReviewkitError

#: the owned sheets of a meeting pack, in print order (the scorecard follows them)
MEETING_PACK = ("summary", "breakdown", "peers", "timeline", "execution")


def cjk_font_missing() -> bool:
    """True when fontconfig lists no font covering Chinese (every character would print as a box).
    False when fontconfig cannot be asked (no ``fc-list``): nothing is known then."""
    exe = shutil.which("fc-list")
    if not exe:
        return False
    try:
        out = subprocess.run([exe, ":lang=zh"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return not out.strip()


def meeting_sheets(path: str | Path) -> list[str]:
    """The sheets of the meeting pack that ``path`` has, in print order (empty for a workbook
    ``fill`` never filled and without a Scorecard table)."""
    from .fill import OWNED_PROPERTY
    from .model import OWNED_SHEETS
    from .ooxml import WorkbookEditor
    from .ooxml.package import Package
    from .reading.package import find_tables

    pkg = Package.open(path)  # one read for the sheet names, the property and the tables
    book = WorkbookEditor(pkg)
    names = book.sheet_names
    try:
        owned = json.loads(book.get_custom_property(OWNED_PROPERTY, "[]") or "[]")
    except (TypeError, ValueError):
        owned = []
    owned = [n for n in owned if isinstance(n, str) and n in names]
    by_key = {}
    for n in owned:  # the names fill used: the standard name, or "<name> (reviewkit)" beside a user's sheet
        for key in MEETING_PACK:
            if any(n == std or n.startswith(f"{std} (reviewkit") for std in OWNED_SHEETS[key]):
                by_key.setdefault(key, n)
    out = [by_key[k] for k in MEETING_PACK if k in by_key]
    table = find_tables(pkg).table("Scorecard")
    if table is not None and table.sheet in names and table.sheet not in out:
        out.append(table.sheet)
    return out


#: the Scorecard columns a review meeting reads; the printed copy hides the table's other columns
#: (the inputs and comparisons behind them), so the rest prints at a readable size
SCORECARD_PRINT = ("unit", "kpi", "target", "actual", "last_year", "achievement", "change_ly", "status", "rank",
                   "conclusion")
#: the print scale (percent) the Scorecard's page is laid out for: the conclusion column gets the
#: width the kept columns leave on a landscape page at this scale, and its sentences wrap in it
SCORECARD_SCALE = 62
#: the narrowest conclusion column (characters) the layout gives, however wide the other columns
CONCLUSION_MIN = 30


def _print_scorecard(book, src: Path, chosen: list[str]) -> None:
    """In the copy to print: lay the Scorecard out for a meeting. Only the columns of
    ``SCORECARD_PRINT`` show (the table's other known columns are hidden; columns the user
    added stay), the conclusion column is as wide as the page leaves at ``SCORECARD_SCALE``
    percent and its sentences wrap in rows of their height, and the page is landscape,
    fitted to one page wide and as many tall as needed, with the table's header on every page."""
    from . import model
    from .fill.grid import PAGE_WIDTH_PT, ROW_PT, _column_pt, _display_width, _text_lines
    from .fill.styles import _computed_style
    from .ooxml import PageSetup
    from .reading import FileEngine
    from .reading.package import col_letter

    engine = FileEngine.open(src)  # the table and its cells from one read
    table = engine.table("Scorecard")
    if table is None or table.sheet.lower() not in {c.lower() for c in chosen}:
        return
    found, _ = model.match_headers(model.SCORECARD, [c.name for c in table.columns])
    keys = {table.first_col + k: key for key, k in found.items()}  # column number -> model key
    sheet = book.sheet(table.sheet)
    hidden = [n for n, key in keys.items() if key not in SCORECARD_PRINT]
    sheet.hide_columns(hidden)
    sheet.set_page_setup(PageSetup(landscape=True, fit_width=1, fit_height=0))
    book.set_print_title_rows(table.sheet, table.first_row, table.first_row)
    concl = next((n for n, key in keys.items() if key == "conclusion"), None)
    if concl is None:
        return
    rows = engine.grid(table.sheet)
    texts = {r: row[concl - 1] for r, row in enumerate(rows[table.first_row:table.last_row], table.first_row + 1)
             if concl - 1 < len(row) and isinstance(row[concl - 1], str) and row[concl - 1]}
    if not texts:
        return
    widths = sheet.column_widths()
    shown = [n for n in range(table.first_col, table.last_col + 1) if n not in hidden and n != concl]
    for n in shown:  # a header printed whole, not broken inside a word ("Achieveme / nt")
        need = _display_width(str(table.columns[n - table.first_col].name)) + 3
        if widths.get(n, 8.43) < need:
            widths[n] = float(need)
            sheet.set_column_width(col_letter(n), widths[n])
    room = PAGE_WIDTH_PT * 100 / SCORECARD_SCALE - sum(_column_pt(widths.get(n, 8.43)) for n in shown)
    longest = max(_display_width(t) for t in texts.values()) * 1.1 + 2
    width = min(255.0, longest, max(float(CONCLUSION_MIN), (room - 5) / 6.9))  # _column_pt inverted
    sheet.set_column_width(col_letter(concl), width)
    wrap = replace(_computed_style("@", None), wrap=True)
    for r, text in texts.items():
        sheet.write(f"{col_letter(concl)}{r}", text, wrap)
        sheet.set_row_height(r, ROW_PT * _text_lines(text, width))


def export_pdf(path: str | Path, outdir: str | Path | None = None, *, sheets: list[str] | None = None,
               all_sheets: bool = False) -> Path:
    """Render the meeting pack of ``path`` (or ``sheets``, or every sheet) to ``<outdir>/<name>.pdf``
    (default: beside the workbook).

    LibreOffice recalculates on load, so the PDF shows live formula results. The PDF is
    rendered in a scratch folder and moved into place, so a failed run leaves nothing behind;
    the workbook itself is only read.
    """
    from .ooxml import WorkbookEditor

    src = Path(path)
    if not src.is_file():
        raise ReviewkitError("workbook not found", file=src, expected="an existing .xlsx or .xlsm file")
    if sheets is not None and all_sheets:
        raise InputError("choose either some sheets or all of them", file=src, value="--sheets with --all",
                         expected="--sheets NAME,… or --all")
    dest_dir = Path(outdir) if outdir else src.parent
    libreoffice.require_soffice()
    chosen = None if all_sheets else (list(sheets) if sheets else meeting_sheets(src))
    with tempfile.TemporaryDirectory(prefix="reviewkit-pdf-") as tmp:
        copy = Path(tmp) / "in" / src.name
        copy.parent.mkdir()
        if chosen:
            with WorkbookEditor.open(src) as book:
                book.show_only(chosen)
                _print_scorecard(book, src, chosen)
                book.save(copy)
        else:  # every sheet, or a workbook without a meeting pack: print it as it is
            shutil.copyfile(src, copy)
        out = libreoffice.to_pdf([copy], tmp)[copy.resolve()]
        if out is None:
            raise ReviewkitError("LibreOffice could not open the workbook to render it", file=src,
                                 expected="a workbook that opens in a spreadsheet program")
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / f"{src.stem}.pdf"
        shutil.move(str(out), target)
    return target
