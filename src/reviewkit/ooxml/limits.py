"""What a workbook package may be: one set of limits and one check of each kind, applied by
``Package.open`` for every command (``check``'s reader, the editor behind ``fill``, and
``safety.check`` before ``split``/``batch``/``rollup``), so they accept the same files and say
the same words about the ones they refuse."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnsafeWorkbookError, WorkbookFormatError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: parts checked for a DTD when a package is opened (``safety.check`` searches them whole)
XML_SUFFIXES = (".xml", ".rels", ".vml")
_CONTROL_CHAR = re.compile("[\x00-\x1f]")
_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), b"EncryptedPackage",
                       "EncryptedPackage".encode("utf-16-le"))


@dataclass(frozen=True)
class Limits:
    """What a workbook may contain before it is refused: ONE set for every reader of a package.

    A departmental review is a few hundred KB; the defaults leave a wide margin (a 100,000-row
    fact sheet is ~30 MB of XML) while refusing the classic zip bombs (42.zip expands 4.5 PB,
    ratio > 10^6; a single deflate stream cannot exceed a ratio of ~1032).
    """

    max_file_bytes: int = 512 * 1024**2         # the .xlsx file itself
    max_entries: int = 10_000
    max_part_uncompressed: int = 512 * 1024**2  # any one part
    max_total_uncompressed: int = 1024**3       # all parts together
    max_ratio: float = 200.0                    # uncompressed/compressed for parts above ratio_floor
    ratio_floor: int = 4 * 1024**2


DEFAULT_LIMITS = Limits()


def _refused(path, message: str, expected: str) -> WorkbookFormatError:
    return WorkbookFormatError(message, file=str(path), expected=expected)


def check_path(path: Path) -> int:
    """The size of the file at ``path``, refusing what cannot be a workbook before reading it."""
    if not path.exists():
        raise _refused(path, "file not found", "an existing .xlsx/.xlsm file")
    if path.is_dir():
        raise _refused(path, "this is a folder, not a workbook", "an .xlsx/.xlsm file")
    _check_name(path)
    return path.stat().st_size


def _check_name(path: Path) -> None:
    if path.name.startswith("~$"):
        raise _refused(path, "this is Excel's temporary lock file (the workbook is open in Excel), not a workbook",
                       f"the workbook itself, {path.name[2:]!r}")


def check_head(path: Path, data: bytes, limits: Limits) -> None:
    """Refuse, from its name and bytes, a file that is not a zip package; one set of words."""
    _check_name(path)
    if not data:
        raise _refused(path, "the file is empty (0 bytes)", "an .xlsx/.xlsm saved by Excel")
    check_file_size(len(data), str(path), limits)
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise not_a_zip(path, data)


def not_a_zip(path: Path, data: bytes) -> WorkbookFormatError:
    """What a file that zipfile cannot open is: an .xls, an encrypted workbook, HTML, a cut zip."""
    if data.startswith(OLE_MAGIC):
        if any(marker in data for marker in _ENCRYPTION_MARKERS):
            return _refused(path, "the workbook is password-protected (encrypted), so it cannot be read",
                            "an unencrypted .xlsx: in Excel, File > Info > Protect Workbook > "
                            "Encrypt with Password, clear the password and save")
        return _refused(path, "this is a legacy binary Excel 97-2003 (.xls) or other OLE file, not .xlsx",
                        "an .xlsx/.xlsm: open it in Excel and Save As 'Excel Workbook (*.xlsx)'")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<html", b"<!doctype html", b"<?xml", b"<table")):
        return _refused(path, "this is an HTML/XML file renamed to an Excel name, not an .xlsx",
                        "an .xlsx saved by Excel, WPS or LibreOffice")
    if data.startswith(b"PK"):
        return _refused(path, "the zip container is truncated or damaged (an incomplete download?)",
                        "a complete .xlsx file, not damaged or truncated; download or copy it again")
    return _refused(path, "not an Excel workbook (the file is not a zip package)",
                    "an .xlsx/.xlsm; CSV and text files must be pasted into the template")


def check_entry(info: zipfile.ZipInfo, file: str) -> None:
    """Refuse a zip entry whose name could escape the package, or that is encrypted or oddly packed."""
    fn = info.filename
    if fn.startswith(("/", "\\")) or ".." in fn.split("/") or ":" in fn or "\\" in fn \
            or _CONTROL_CHAR.search(fn):
        raise UnsafeWorkbookError("unsafe part name in the zip (a part with an unsafe name could point "
                                  "outside the package)", file=file, value=fn,
                                  expected="relative names inside the package")
    if info.flag_bits & 0x1:
        raise WorkbookFormatError("a zip entry is encrypted", file=file, value=fn,
                                  expected="an unencrypted package")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise WorkbookFormatError("unsupported zip compression", file=file, value=info.compress_type,
                                  expected="stored or deflated entries")


def check_size(file: str, part: str, size: int, compressed: int, limits: Limits) -> None:
    """Refuse a part of ``size`` uncompressed bytes (declared, or inflated so far) over the limits."""
    if size > limits.max_part_uncompressed:
        raise UnsafeWorkbookError(f"part {part} is too large when uncompressed (possible zip bomb)", file=file,
                                  value=size, expected=f"at most {limits.max_part_uncompressed} bytes")
    if size > limits.ratio_floor and size > limits.max_ratio * max(compressed, 1):
        raise UnsafeWorkbookError(f"part {part} expands suspiciously (possible zip bomb)", file=file,
                                  value=f"{compressed} -> {size}+ bytes",
                                  expected=f"a compression ratio below {limits.max_ratio:g}")


def check_total(file: str, total: int, limits: Limits) -> None:
    if total > limits.max_total_uncompressed:
        raise UnsafeWorkbookError("the package is too large when uncompressed (possible zip bomb)",
                                  file=file, value=total,
                                  expected=f"at most {limits.max_total_uncompressed} bytes")


def check_file_size(size: int, file: str, limits: Limits = DEFAULT_LIMITS) -> None:
    if size > limits.max_file_bytes:
        raise UnsafeWorkbookError(f"the file is too large ({size:,} bytes)", file=file, value=size,
                                  expected=f"at most {limits.max_file_bytes:,} bytes")


def check_content_types(names, file: str) -> None:
    """Refuse a package without ``[Content_Types].xml`` (``names``: its part names)."""
    if not any(n.lower() == "[content_types].xml" for n in names):
        raise WorkbookFormatError("[Content_Types].xml is missing", file=file,
                                  expected="an Office Open XML package (.xlsx/.xlsm)")


def check_entries(infos: list[zipfile.ZipInfo], data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """The one check of a package's zip directory, before any part is inflated: entry count,
    duplicate names (also ones differing only in case, which OPC treats as the same part),
    unsafe or encrypted entries, declared part and total sizes, compression ratio, and each
    entry's local header and data inside the file ``data`` (truncation, overlap)."""
    if len(infos) > limits.max_entries:
        raise UnsafeWorkbookError("too many zip entries", file=file, value=len(infos),
                                  expected=f"at most {limits.max_entries}")
    seen: set[str] = set()
    declared = 0
    for info in infos:
        fn = info.filename
        low = fn.lower()
        if low in seen:
            raise UnsafeWorkbookError("duplicate part names in the zip", file=file, value=fn,
                                      expected="each part stored once (part names ignore case)")
        seen.add(low)
        check_entry(info, file)
        check_size(file, fn, info.file_size, info.compress_size, limits)
        declared += info.file_size
        check_total(file, declared, limits)
        off = info.header_offset
        if off + 30 > len(data) or data[off:off + 4] != b"PK\x03\x04" or \
                off + 30 + int.from_bytes(data[off + 26:off + 28], "little") \
                + int.from_bytes(data[off + 28:off + 30], "little") + info.compress_size > len(data):
            raise WorkbookFormatError(f"zip entry {fn} is damaged or truncated", file=file,
                                      expected="a complete .xlsx/.xlsm; re-save or re-download it")
    check_content_types(seen, file)
