"""Guards for workbooks that come from many hands.

Departmental files are untrusted input. Opening one (``ooxml.package.Package.open``, the one
opener every command uses) already refuses what breaks the limits on the zip directory, unsafe
part names and a DTD in any XML part's prolog. Before ``split``, ``batch`` or ``rollup`` read
one, ``check`` goes further on that same opened package: every XML part is inflated in full
with the limits enforced on the bytes actually produced (headers that under-declare sizes do
not help) and searched for DTD or entity declarations anywhere (billion laughs, external
entities, UTF-16 too); external workbook links are listed without following them.
``text_cell`` and ``is_formula_like`` keep text copied from one file into another from becoming
a formula; ``safe_filename`` / ``output_path`` keep a unit's name from choosing a path outside
the output folder.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UnsafeWorkbookError, WorkbookFormatError
from .ooxml._xml import dtd_error
from .ooxml.limits import XML_SUFFIXES, Limits, check_size, check_total
from .ooxml.package import Package

__all__ = ["Limits", "Package", "PackageInfo", "check", "check_package", "is_formula_like", "text_cell",
           "safe_filename", "unique_filenames", "output_path"]


@dataclass
class PackageInfo:
    """What ``check`` saw: sizes, and links it did *not* follow."""

    path: Path
    entries: int
    compressed: int
    uncompressed: int
    external_links: list[str] = field(default_factory=list)  # targets of xl/externalLinks parts
    has_macros: bool = False


_DOCTYPE_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"),
                    "<!ENTITY".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"),
                    "<!ENTITY".encode("utf-16-be"))
_UTF8_MARKERS = _DOCTYPE_MARKERS[:2]
_OVERLAP = max(len(m) for m in _DOCTYPE_MARKERS)
_EXTERNAL_TARGET = re.compile(rb'Target="([^"]*)"[^>]*TargetMode="External"|'
                              rb'TargetMode="External"[^>]*Target="([^"]*)"')
_KEPT_MAX = 1 << 20  # bytes of an external-link part searched for targets
#: parts up to this size are read whole through the package (kept there for the reader and the
#: editor); larger ones are streamed, chunk by chunk, and not kept
_WHOLE_MAX = 16 * 1024**2


def check_package(path: str | os.PathLike, limits: Limits | None = None) -> PackageInfo:
    """``check(Package.open(path, limits))``: refuse a workbook that is not safe to open."""
    return check(Package.open(path, limits))


def check(pkg: Package) -> PackageInfo:
    """Refuse an opened workbook that is not safe to read; otherwise say what it contains.

    Raises ``WorkbookFormatError`` for a damaged package and ``UnsafeWorkbookError`` for zip
    bombs and XML with a DTD or entity declarations anywhere. Every XML part is inflated with
    the package's limits enforced on the bytes actually produced. External workbook links are
    listed in ``PackageInfo.external_links``, never opened.
    """
    infos = list(pkg.infos.values())
    total = 0
    external: list[str] = []
    for info in infos:
        fn = info.filename
        low = fn.lower()
        if not low.endswith(XML_SUFFIXES):
            continue  # images, vbaProject.bin …: copied, never parsed by us
        keep = low.startswith("xl/externallinks/_rels/")
        whole = _whole_part(pkg, info, total)
        if whole is not None:
            size, kept = len(whole), whole
        else:
            size, kept = _check_streamed(pkg, info, total, keep)
        total += size
        if keep:
            for m in _EXTERNAL_TARGET.finditer(bytes(kept[:_KEPT_MAX])):
                target = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace")
                external.append(target)
    return PackageInfo(path=pkg.path, entries=len(infos), compressed=sum(i.compress_size for i in infos),
                       uncompressed=total + sum(i.file_size for i in infos
                                                if not i.filename.lower().endswith(XML_SUFFIXES)),
                       external_links=external,
                       has_macros=any(i.filename.lower() == "xl/vbaproject.bin" for i in infos))


def _whole_part(pkg: Package, info: zipfile.ZipInfo, total: int) -> bytes | None:
    """The part read whole by the package (what the reader and editor get next), when it is
    plainly sound: no larger than declared, CRC right, within the limits and free of DTD markers.
    Anything odd gives None, and ``_check_streamed`` reports it as it finds it."""
    size = info.file_size
    if size > _WHOLE_MAX or total + size > pkg.limits.max_total_uncompressed:
        return None
    try:
        out = pkg.read(info.filename)
    except WorkbookFormatError:  # larger than declared, or damaged: the stream below names the fault
        return None
    if len(out) != size or _first_marker(out) is not None:
        return None
    return out


def _check_streamed(pkg: Package, info: zipfile.ZipInfo, total: int, keep: bool) -> tuple[int, bytes | bytearray]:
    """Inflate one XML part chunk by chunk, refusing it as soon as a limit or a marker is hit.

    Returns the part's size and, when ``keep``, its first ~1 MB (external link targets)."""
    name, fn, limits = str(pkg.path), info.filename, pkg.limits
    data_tail = b""
    size = 0
    kept = bytearray()
    for chunk in pkg.stream(info):
        size += len(chunk)
        check_size(name, fn, size, info.compress_size, limits)
        check_total(name, total + size, limits)
        window = data_tail + chunk
        marker = _first_marker(window)
        if marker is not None:
            raise dtd_error(name, fn, marker.replace(b"\x00", b"").decode())
        data_tail = window[-_OVERLAP:]
        if keep and len(kept) < _KEPT_MAX:
            kept += chunk
    return size, kept


def _first_marker(window: bytes) -> bytes | None:
    """The first of ``_DOCTYPE_MARKERS`` found in ``window``, or None.

    The UTF-16 markers all contain NUL bytes, which UTF-8 XML never does: one fast search for a
    NUL rules out four of the six marker searches on ordinary parts.
    """
    for marker in (_DOCTYPE_MARKERS if b"\x00" in window else _UTF8_MARKERS):
        if marker in window:
            return marker
    return None


# --- text that must stay text ----------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def is_formula_like(value: object) -> bool:
    """True for text that a spreadsheet (or a careless writer) would take for a formula or DDE.

    The OWASP "CSV injection" set: text starting with ``=``, ``+``, ``-``, ``@``, tab or newline.
    Numbers are never formula-like (``-3`` is a number, ``"-3"`` as text is flagged).
    """
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def text_cell(value: object) -> object:
    """``value`` made safe to write as a text cell by a writer that guesses types.

    Writers we control call ``write_string`` (XlsxWriter) or write an ``s``/``inlineStr`` cell, so
    formula-like text is already stored as text and needs no change; this helper is for the
    places that cannot promise that (CSV, ``worksheet.write``): it prefixes formula-like text with
    an apostrophe, the same convention Excel shows for quote-prefixed text.
    """
    if is_formula_like(value):
        return "'" + value  # type: ignore[operator]
    return value


# --- file names from unit names --------------------------------------------------------
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                     *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10)),
                     "COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"}
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f]')
MAX_NAME_BYTES = 150  # room for a suffix, a dedupe tag and ~/.~tmp prefixes under the 255-byte limit


def safe_filename(name: object, *, max_bytes: int = MAX_NAME_BYTES, fallback: str = "unit") -> str:
    """A file name (without suffix) made from a unit's name, safe on Windows, macOS and Linux.

    Keeps Chinese and other letters readable; replaces path separators, ``:*?"<>|`` and control
    characters with ``_``; strips leading/trailing dots and spaces (so ``..`` cannot climb);
    prefixes Windows reserved device names (``CON``, ``nul.txt``, ``COM1``) with ``_``; cuts very
    long names on a character boundary and adds a short hash of the full name so two long names
    stay distinct. Never returns an empty string, ``.`` or ``..``.
    """
    text = unicodedata.normalize("NFC", "" if name is None else str(name))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    text = _BAD_CHARS.sub("_", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(?:(?<=_)|^)[ .]+(?=_|$)", "", text)  # dot-only path segments ("../", "./")
    text = re.sub(r"_{2,}", "_", text).strip(" ._")
    if not text or set(text) <= {"_", "."}:
        text = fallback + ("_" + _short_hash(str(name)) if name not in (None, "") else "")
    stem = text.split(".")[0].strip().upper()
    if stem in _WINDOWS_RESERVED:
        text = "_" + text
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        tag = "~" + _short_hash(str(name))
        cut = encoded[: max_bytes - len(tag)].decode("utf-8", "ignore").rstrip(" .")
        text = cut + tag
    return text


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def unique_filenames(names, *, suffix: str = ".xlsx", max_bytes: int = MAX_NAME_BYTES) -> dict[str, str]:
    """``{name: file name}`` for several units, distinct even on case-insensitive file systems.

    ``"A/B"`` and ``"A_B"`` both clean to ``A_B``; the second one gets a hash tag. Names are
    processed in the given order so the result is stable.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        key = str(name)
        if key in out:
            continue
        base = safe_filename(key, max_bytes=max_bytes)
        candidate = base + suffix
        if candidate.casefold() in used:
            candidate = f"{base}~{_short_hash(key)}{suffix}"
            n = 2
            while candidate.casefold() in used:
                candidate = f"{base}~{_short_hash(key)}-{n}{suffix}"
                n += 1
        used.add(candidate.casefold())
        out[key] = candidate
    return out


def output_path(directory: str | os.PathLike, filename: str) -> Path:
    """``directory / filename``, refusing anything that resolves outside ``directory``.

    A last line of defence behind ``safe_filename``: symlinked sub-folders, absolute names and
    ``..`` all raise ``UnsafeWorkbookError`` naming the file.
    """
    root = Path(directory).resolve()
    candidate = (root / filename).resolve()
    if candidate.parent != root or candidate.name in ("", ".", ".."):
        raise UnsafeWorkbookError("a unit's name would write outside the output folder", file=filename,
                                  value=str(candidate), expected=f"a file directly inside {root}")
    return candidate
