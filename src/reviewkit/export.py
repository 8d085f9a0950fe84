"""``reviewkit export --pdf``: the meeting pack of a review workbook as a PDF, via LibreOffice.

By default the PDF holds the sheets a review meeting looks at, in this order: the summary, the
breakdown, the peer ranking, the timeline, the execution tracking (the sheets ``fill`` builds) and
the scorecard. ``sheets=[...]`` picks other sheets, ``all_sheets=True`` prints every visible sheet.

The user's workbook is never written: the selection is made on a copy in a scratch folder (the
lossless editor hides the other sheets there) and LibreOffice renders that copy. Each owned sheet
carries its own print set-up (landscape A4, fitted to the page width), written by ``fill``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
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
    from .reading.package import find_tables

    with WorkbookEditor.open(path) as book:
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
    table = find_tables(path).table("Scorecard")
    if table is not None and table.sheet in names and table.sheet not in out:
        out.append(table.sheet)
    return out


def _fit_conclusions(book, src: Path, chosen: list[str]) -> None:
    """In the copy to print: widen the Scorecard's conclusion column to its longest sentence, so
    no conclusion runs past the page margin (the page is fitted to its width)."""
    from python_calamine import CalamineWorkbook

    from . import model
    from .fill.grid import _display_width
    from .reading.package import col_letter, find_tables

    table = find_tables(src).table("Scorecard")
    if table is None or table.sheet.lower() not in {c.lower() for c in chosen}:
        return
    column = model.SCORECARD.column("conclusion")
    wanted = {model.normalize_header(h) for h in (column.zh, column.en, *column.synonyms)}
    index = next((k for k, c in enumerate(table.columns) if model.normalize_header(c.name) in wanted), None)
    if index is None:
        return
    rows = CalamineWorkbook.from_path(str(src)).get_sheet_by_name(table.sheet).to_python(skip_empty_area=False)
    col = table.first_col - 1 + index
    texts = [r[col] for r in rows[table.first_row:table.last_row] if col < len(r) and isinstance(r[col], str)]
    if texts:
        width = min(255.0, max(_display_width(t) for t in texts) * 1.1 + 2)
        book.sheet(table.sheet).set_column_width(col_letter(table.first_col + index), width)


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
                _fit_conclusions(book, src, chosen)
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
