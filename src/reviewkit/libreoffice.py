"""LibreOffice headless: recalculate workbooks and render them to PDF/PNG.

Used by ``reviewkit export --pdf`` and by the tests that check every formula against a
real spreadsheet engine. One ``soffice`` call converts many files (start-up costs ~1.5 s,
each file ~0.15 s after that), so callers pass batches. ``soffice`` exits 0 even when a
file fails to load, so every expected output is checked for existence.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import MissingDependencyError, ReviewkitError

_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

INSTALL_HINT = "install LibreOffice (Debian/Ubuntu: apt-get install libreoffice-calc-nogui python3-uno poppler-utils fonts-wqy-microhei)"


def find_soffice() -> str | None:
    """Path of the soffice binary, or None. ``REVIEWKIT_SOFFICE`` overrides the search."""
    env = os.environ.get("REVIEWKIT_SOFFICE")
    if env:
        return env if Path(env).exists() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice",
                      "/Applications/LibreOffice.app/Contents/MacOS/soffice",
                      r"C:\Program Files\LibreOffice\program\soffice.exe"):
        if Path(candidate).exists():
            return candidate
    return None


def require_soffice() -> str:
    path = find_soffice()
    if not path:
        raise MissingDependencyError(f"LibreOffice was not found; {INSTALL_HINT}")
    return path


def _profile_dir() -> Path:
    """A private LibreOffice profile that recalculates every formula on load."""
    # One profile per process: two soffice instances sharing a profile block each other.
    profile = Path(tempfile.gettempdir()) / f"reviewkit-lo-profile-{os.getpid()}"
    user = profile / "user"
    if not profile.exists():  # ours: removed when this process exits (tens of MB otherwise left in /tmp)
        atexit.register(shutil.rmtree, profile, ignore_errors=True)
    user.mkdir(parents=True, exist_ok=True)
    xcu = user / "registrymodifications.xcu"
    if not xcu.exists() or "OOXMLRecalcMode" not in xcu.read_text(encoding="utf-8", errors="ignore"):
        xcu.write_text(_RECALC_PROFILE, encoding="utf-8")
    return profile


def convert(files: list[str | Path], fmt: str, outdir: str | Path, *, timeout: float = 600) -> dict[Path, Path | None]:
    """Convert files with one soffice call; map each input to its output (None if it failed).

    ``fmt`` is a LibreOffice filter spec such as ``pdf``, ``csv`` or ``xlsx`` (``xlsx``
    re-saves after a full recalculation, which is how tests read LibreOffice's values).
    """
    soffice = require_soffice()
    files = [Path(f).resolve() for f in files]
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    if not files:
        return {}
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise ReviewkitError("files converted in one batch need distinct names", value=stems)
    ext = fmt.split(":", 1)[0]
    target = {"xlsx": 'xlsx:Calc MS Excel 2007 XML'}.get(fmt, fmt)
    for f in files:
        out = outdir / f"{f.stem}.{ext}"
        if out.exists() and out != f:
            out.unlink()
    cmd = [soffice, f"-env:UserInstallation={_profile_dir().as_uri()}", "--headless", "--norestore",
           "--nolockcheck", "--convert-to", target, "--outdir", str(outdir), *map(str, files)]
    try:
        subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ReviewkitError(f"LibreOffice did not finish converting {len(files)} file(s) within {timeout:.0f} s") from exc
    result: dict[Path, Path | None] = {}
    for f in files:
        out = outdir / f"{f.stem}.{ext}"
        result[f] = out if out.exists() and out.stat().st_size > 0 else None
    return result


def recalculate(files: list[str | Path], outdir: str | Path) -> dict[Path, Path | None]:
    """Recalculate every formula in LibreOffice and save as .xlsx into ``outdir``."""
    return convert(files, "xlsx", outdir)


def to_pdf(files: list[str | Path], outdir: str | Path) -> dict[Path, Path | None]:
    return convert(files, "pdf", outdir)


def pdf_to_png(pdf: str | Path, out_prefix: str | Path, *, dpi: int = 70, first: int | None = None,
               last: int | None = None) -> list[Path]:
    """Render PDF pages to PNG with pdftoppm (poppler-utils); return the page images."""
    exe = shutil.which("pdftoppm")
    if not exe:
        raise MissingDependencyError(f"pdftoppm was not found; {INSTALL_HINT}")
    cmd = [exe, "-png", "-r", str(dpi)]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    subprocess.run([*cmd, str(pdf), str(out_prefix)], check=True, timeout=300)
    prefix = Path(out_prefix)
    return sorted(prefix.parent.glob(prefix.name + "*.png"))
