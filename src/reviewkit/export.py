"""``reviewkit export --pdf``: a PDF of the workbook for the review meeting, via LibreOffice."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import libreoffice
from .errors import ReviewkitError


def export_pdf(path: str | Path, outdir: str | Path | None = None) -> Path:
    """Render every sheet of ``path`` to ``<outdir>/<name>.pdf`` (default: beside the workbook).

    LibreOffice recalculates on load, so the PDF shows live formula results. The PDF is
    rendered in a scratch folder and moved into place, so a failed run leaves nothing behind.
    """
    src = Path(path)
    if not src.is_file():
        raise ReviewkitError("workbook not found", file=src, expected="an existing .xlsx or .xlsm file")
    dest_dir = Path(outdir) if outdir else src.parent
    dest_dir.mkdir(parents=True, exist_ok=True)
    libreoffice.require_soffice()
    with tempfile.TemporaryDirectory(prefix="reviewkit-pdf-") as tmp:
        out = libreoffice.to_pdf([src], tmp)[src.resolve()]
        if out is None:
            raise ReviewkitError("LibreOffice could not open the workbook to render it", file=src,
                                 expected="a workbook that opens in a spreadsheet program")
        target = dest_dir / f"{src.stem}.pdf"
        shutil.move(str(out), target)
    return target
