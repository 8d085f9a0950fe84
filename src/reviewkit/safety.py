"""Guards for workbooks that come from many hands.

Departmental files are untrusted input: before ``split``, ``batch`` or ``rollup`` read one,
``check_package`` refuses zip bombs (limits on entries, declared and *actual* uncompressed
size, compression ratio), unsafe part names and XML that declares a DTD or entities (billion
laughs, external entities), and lists external workbook links without following them.
``text_cell`` and ``is_formula_like`` keep text copied from one file into another from becoming
a formula; ``safe_filename`` / ``output_path`` keep a unit's name from choosing a path outside
the output folder.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UnsafeWorkbookError, WorkbookFormatError
from .ooxml.package import (DEFAULT_LIMITS, XML_SUFFIXES, Limits, check_content_types, check_entries,
                            check_file_size, check_size, local_payload)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class PackageInfo:
    """What ``check_package`` saw: sizes, and links it did *not* follow."""

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
_IN_MEMORY = 64 * 1024**2  # larger files are streamed from disk
_OVERLAP = max(len(m) for m in _DOCTYPE_MARKERS)
_XML_SUFFIXES = XML_SUFFIXES
_EXTERNAL_TARGET = re.compile(rb'Target="([^"]*)"[^>]*TargetMode="External"|'
                              rb'TargetMode="External"[^>]*Target="([^"]*)"')


def check_package(path: str | os.PathLike, limits: Limits | None = None) -> PackageInfo:
    """Refuse a workbook that is not safe to open; otherwise say what it contains.

    Raises ``WorkbookFormatError`` for files that are not an .xlsx/.xlsm package (legacy .xls,
    encrypted, damaged) and ``UnsafeWorkbookError`` for zip bombs, unsafe part names and XML
    with a DTD or entity declarations. Every XML part is decompressed in a stream with the
    limits enforced on the bytes actually produced, so headers that under-declare sizes do not
    help. External workbook links are listed in ``PackageInfo.external_links``, never opened.
    """
    return _check(path, limits, keep=False).info


@dataclass
class CheckedPackage:
    """``check_package``'s verdict plus what it read, for a caller that opens the workbook next.

    ``batch`` fills each file right after checking it: handing on the bytes, the parsed zip
    directory and the parts the check inflated anyway saves reading, parsing and inflating them
    again. ``data`` is None for a file too large to hold in memory (it was checked from disk).
    """

    info: PackageInfo
    data: bytes | None = None
    zip: zipfile.ZipFile | None = None  # open on ``data``; its directory parsed once
    #: small XML parts inflated whole, by zip name: only parts zipfile itself would read without
    #: complaint (plain local header with the same name, complete, size and CRC as declared)
    parts: dict[str, bytes] = field(default_factory=dict)


def load_checked(path: str | os.PathLike, limits: Limits | None = None) -> CheckedPackage:
    """``check_package(path)`` (same checks, same errors), keeping the bytes and parts it read."""
    return _check(path, limits, keep=True)


def _check(path: str | os.PathLike, limits: Limits | None, keep: bool) -> CheckedPackage:
    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    name = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise WorkbookFormatError("no such workbook", file=name, expected="an existing .xlsx/.xlsm file") from None
    except IsADirectoryError:
        raise WorkbookFormatError("this is a folder, not a workbook", file=name,
                                  expected="an .xlsx/.xlsm file") from None
    if head == OLE_MAGIC:
        raise WorkbookFormatError("this is an encrypted or legacy binary workbook (OLE compound file)",
                                  file=name, expected="an unencrypted .xlsx/.xlsm; save it from Excel as .xlsx")
    if not head.startswith(b"PK"):
        raise WorkbookFormatError("not a zip package", file=name, value=head,
                                  expected="an .xlsx/.xlsm (a zip starting with 'PK')")
    check_file_size(path.stat().st_size, name, limits)
    try:
        data = _source(path)
        zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WorkbookFormatError(f"the zip is damaged or truncated ({exc})", file=name,
                                  expected="a complete .xlsx/.xlsm; re-save or re-download it") from None
    parts: dict[str, bytes] | None = {} if keep and data is not None else None
    try:
        info = _inspect(zf, path, limits, data, parts)
    except BaseException:
        zf.close()
        raise
    if parts is not None:
        return CheckedPackage(info, data, zf, parts)
    zf.close()
    return CheckedPackage(info)


def _inspect(zf: zipfile.ZipFile, path: Path, limits: Limits, data: bytes | None,
             parts: dict[str, bytes] | None) -> PackageInfo:
    """The checks themselves, on the open zip ``data`` (None: on disk).

    XML parts inflated whole are put in ``parts`` (when given), up to ``_KEEP_BUDGET`` bytes."""
    name = str(path)
    infos = zf.infolist()
    check_entries(infos, name, limits)
    check_content_types([info.filename for info in infos], name)
    total = 0
    budget = _KEEP_BUDGET
    external: list[str] = []
    for info in infos:
        fn = info.filename
        low = fn.lower()
        if not low.endswith(_XML_SUFFIXES):
            continue  # images, vbaProject.bin …: copied, never parsed by us
        keep = low.startswith("xl/externallinks/_rels/")
        whole = _whole_part(data, info) if data is not None else None
        if whole is not None and _fits(len(whole), info, total, limits) and (not keep or len(whole) <= _KEPT_MAX):
            # the stream below would find the same bytes and nothing to refuse in them
            size = len(whole)
            kept = whole
            if parts is not None and size <= min(budget, _SEEN_PART_MAX):  # CRC checked: as zipfile reads it
                parts[fn] = whole
                budget -= size
        else:
            size, kept = _check_streamed(zf, info, name, limits, total, keep)
        total += size
        if keep:
            for m in _EXTERNAL_TARGET.finditer(bytes(kept)):
                target = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace")
                external.append(target)
    return PackageInfo(path=path, entries=len(infos), compressed=sum(i.compress_size for i in infos),
                       uncompressed=total + sum(i.file_size for i in infos
                                                if not i.filename.lower().endswith(_XML_SUFFIXES)),
                       external_links=external,
                       has_macros=any(i.filename.lower() == "xl/vbaproject.bin" for i in infos))


def _check_streamed(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits, total: int,
                    keep: bool) -> tuple[int, bytes | bytearray]:
    """Decompress one XML part chunk by chunk, refusing it as soon as a limit or a marker is hit.

    Returns the part's size and, when ``keep``, its first ~1 MB (external link targets)."""
    fn = info.filename
    data_tail = b""
    size = 0
    kept = bytearray()
    for chunk in _stream(zf, info, name, limits):
        size += len(chunk)
        check_size(name, fn, size, info.compress_size, limits)
        if total + size > limits.max_total_uncompressed:
            raise UnsafeWorkbookError("the package is too large when uncompressed (possible zip bomb)",
                                      file=name, value=total + size,
                                      expected=f"at most {limits.max_total_uncompressed} bytes")
        window = data_tail + chunk
        marker = _first_marker(window)
        if marker is not None:
            raise UnsafeWorkbookError(f"part {fn} declares a DTD or XML entities", file=name,
                                      value=marker.replace(b"\x00", b"").decode(),
                                      expected="plain Office XML without <!DOCTYPE>/<!ENTITY> "
                                               "(entity expansion or external entities)")
        data_tail = window[-_OVERLAP:]
        if keep and len(kept) < _KEPT_MAX:
            kept += chunk
    return size, kept


_KEPT_MAX = 1 << 20  # bytes of an external-link part searched for targets
#: parts up to this size are inflated in one call when the package is in memory (the stream's
#: per-chunk work costs more than the inflation of a small part); larger ones are streamed
_WHOLE_MAX = 16 * 1024**2
_KEEP_BUDGET = 64 * 1024**2  # inflated bytes a CheckedPackage holds at most (parts up to _SEEN_PART_MAX)


def _whole_part(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """One XML part inflated in one call and free of DTD markers, or None to stream it instead.

    Only a part that zipfile would read without complaint is returned (plain local header with
    the same name, complete, stored or deflated, exactly its declared size and, up to
    ``_SEEN_PART_MAX`` bytes, CRC), so the result is what ``_stream`` yields and, for those
    small parts, what an editor reading the part would get; a part larger than declared,
    damaged, declaring a DTD or odd in any way is left to ``_stream``, which then reports it
    exactly as before. (The stream does not check CRCs: a large part skips that cost too.)
    """
    size = info.file_size
    if size > _WHOLE_MAX:
        return None
    payload = local_payload(data, info)
    if payload is None:
        return None
    key = (info.compress_type, size, info.CRC, payload)
    out = _SEEN.get(key)
    if out is not None:
        return out
    if info.compress_type == zipfile.ZIP_STORED:
        out = payload
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        try:
            # one byte more than declared: a stream longer than its header says is left to _stream
            out = zlib.decompressobj(-15).decompress(payload, size + 1)
        except zlib.error:
            return None
    else:
        return None
    if len(out) != size or _first_marker(out) is not None:
        return None
    if size <= _SEEN_PART_MAX:
        if zlib.crc32(out) != info.CRC:
            return None
        _remember(key, out)
    return out


#: clean parts already inflated, by (compression, size, CRC, compressed bytes): workbooks split
#: from one master share most parts (styles, theme, rels, tables, unchanged sheets), and a part
#: with the same compressed bytes inflates to the same clean result. Bounded, oldest dropped first.
_SEEN: dict[tuple, bytes] = {}
_SEEN_PART_MAX = 256 * 1024
_SEEN_MAX = 16 * 1024**2
_seen_bytes = 0


def _remember(key: tuple, out: bytes) -> None:
    global _seen_bytes
    cost = len(out) + len(key[3])
    _SEEN[key] = out
    _seen_bytes += cost
    while _seen_bytes > _SEEN_MAX:
        old_key = next(iter(_SEEN))
        _seen_bytes -= len(_SEEN.pop(old_key)) + len(old_key[3])


def _fits(size: int, info: zipfile.ZipInfo, total: int, limits: Limits) -> bool:
    """True when streaming a part of ``size`` bytes would hit no limit: every size the stream
    checks on the way is at most ``size``."""
    if size > limits.max_part_uncompressed or total + size > limits.max_total_uncompressed:
        return False
    return not (size > limits.ratio_floor and size > limits.max_ratio * max(info.compress_size, 1))


def _source(path: Path) -> bytes | None:
    """The bytes of a workbook of ordinary size, read once (every part is then read from memory,
    without a seek and a read of the file per part); None for a larger file, read from disk."""
    if path.stat().st_size <= _IN_MEMORY:
        return path.read_bytes()
    return None


def _first_marker(window: bytes) -> bytes | None:
    """The first of ``_DOCTYPE_MARKERS`` found in ``window``, or None.

    The UTF-16 markers all contain NUL bytes, which UTF-8 XML never does: one fast search for a
    NUL rules out four of the six marker searches on ordinary parts.
    """
    for marker in (_DOCTYPE_MARKERS if b"\x00" in window else _UTF8_MARKERS):
        if marker in window:
            return marker
    return None





def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits, chunk: int = 1 << 16):
    """Decompress one entry chunk by chunk, never trusting its declared size."""
    # zipfile itself stops at the declared size; read the raw stream so a lie cannot hide bytes
    fp = zf.fp
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise WorkbookFormatError(f"zip entry {info.filename} is damaged", file=name,
                                  expected="a complete .xlsx/.xlsm; re-save or re-download it")
    n = int.from_bytes(header[26:28], "little")
    m = int.from_bytes(header[28:30], "little")
    fp.seek(info.header_offset + 30 + n + m)
    remaining = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while remaining > 0:
            data = fp.read(min(chunk, remaining))
            if not data:
                raise WorkbookFormatError(f"zip entry {info.filename} is truncated", file=name,
                                          expected="a complete .xlsx/.xlsm; re-save or re-download it")
            remaining -= len(data)
            yield data
        return
    d = zlib.decompressobj(-15)
    while remaining > 0 and not d.eof:
        data = fp.read(min(chunk, remaining))
        if not data:
            raise WorkbookFormatError(f"zip entry {info.filename} is truncated", file=name,
                                      expected="a complete .xlsx/.xlsm; re-save or re-download it")
        remaining -= len(data)
        try:
            out = d.decompress(data, chunk)
            while True:
                if out:
                    yield out
                if not d.unconsumed_tail:
                    break
                out = d.decompress(d.unconsumed_tail, chunk)
        except zlib.error as exc:
            raise WorkbookFormatError(f"zip entry {info.filename} is corrupt ({exc})", file=name,
                                      expected="a complete .xlsx/.xlsm; re-save or re-download it") from None
    try:
        tail = d.flush()
    except zlib.error as exc:  # pragma: no cover - flush rarely fails after eof
        raise WorkbookFormatError(f"zip entry {info.filename} is corrupt ({exc})", file=name) from None
    if tail:
        yield tail


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
