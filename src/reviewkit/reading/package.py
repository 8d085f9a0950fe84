"""Open a workbook safely and find its Excel Tables: workbook.xml → sheet rels → table parts.

Nothing here trusts the file. The bytes are read once; the zip directory is checked for bombs
(member count, total and per-member uncompressed size, compression ratio) and hostile names
before anything is inflated; XML parts are parsed with lxml without entity resolution, DTD
loading or network access, and a part declaring a DTD is refused. Files that are not an
editable .xlsx/.xlsm (a legacy .xls, an encrypted workbook, Strict Open XML, .xlsb, .ods, a
truncated download, an empty file, a folder) are refused with one clear ``WorkbookFormatError``.
"""
from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import UnsafeWorkbookError, WorkbookFormatError
from ..ooxml import _xml
from ..ooxml._xml import excel_unescape
from ..ooxml.package import XML_SUFFIXES, check_content_types, check_entries, check_file_size

MAX_ROWS = 1_048_576  # Excel's sheet size
MAX_COLS = 16_384

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_TABLE = NS_REL + "/table"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(.*?)</c>', re.S)
_ERROR_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_ERROR_VALUE = re.compile(rb"<v>([^<]*)</v>")
_BAD_STRING_CELL = re.compile(rb'<c\b([^>]*?\bt="s"[^>]*)>\s*<v>\s*(-[^<]*)</v>')
#: what error_cells gives for a cell pointing at a shared string that does not exist
MISSING_STRING = "no such shared string:"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's local file header layout
#: parts up to this size are inflated whole for the DTD check (one call instead of a stream)
_WHOLE_PART_MAX = 16 * 1024


def col_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    s = ""
    while index:
        index, r = divmod(index - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass(frozen=True)
class TableColumnInfo:
    name: str
    formula: bool  # a calculated column (the user's formula, or one of reviewkit's)


@dataclass(frozen=True)
class TableInfo:
    """One Excel Table as declared in its table part."""

    name: str  # displayName: what users see in Excel
    sheet: str
    ref: str
    first_col: int  # 1-based
    last_col: int
    first_row: int  # the header row when header_rows == 1
    last_row: int
    header_rows: int
    totals_rows: int
    columns: tuple[TableColumnInfo, ...]
    part: str


@dataclass
class Package:
    """A checked workbook package held in memory."""

    path: Path
    data: bytes
    zip: zipfile.ZipFile
    sheets: list[str] = field(default_factory=list)
    sheet_parts: dict[str, str] = field(default_factory=dict)
    tables: list[TableInfo] = field(default_factory=list)
    date1904: bool = False  # serial numbers count from 1904-01-01
    #: members (ZipInfo) whose head read_xml already checked for a DTD while opening
    _checked: set = field(default_factory=set, repr=False, compare=False)
    #: sheet parts inflated by the DTD check, kept for error_cells (taken on first use)
    _inflated: dict = field(default_factory=dict, repr=False, compare=False)
    #: sheet -> its merged ranges ('A5:A6'), noted when error_cells reads the part
    _merged: dict = field(default_factory=dict, repr=False, compare=False)

    def table(self, name: str) -> TableInfo | None:
        """The table named ``name`` (Excel names are case-insensitive)."""
        low = name.lower()
        for t in self.tables:
            if t.name.lower() == low:
                return t
        return None

    def error_cells(self, sheet: str) -> dict[str, str]:
        """Cells holding an Excel error value (#N/A, #DIV/0! …) on ``sheet``: ref → error text.

        Cell readers return such cells as blank; this finds them so a reader can refuse them.
        """
        part = self.sheet_parts.get(sheet)
        if not part:
            return {}
        raw = self._inflated.pop(part, None)
        if raw is None:
            try:
                raw = _read_part(self, part)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                raise WorkbookFormatError(f"part {part!r} is damaged ({exc})", file=self.path, sheet=sheet,
                                          expected="an undamaged .xlsx; save it again in Excel") from None
        self._merged[sheet] = ([m.decode() for m in _MERGE_CELL.findall(raw)]
                               if b"mergeCell" in raw else [])
        found: dict[str, str] = {}
        if b't="e"' in raw:
            for m in _ERROR_CELL.finditer(raw):
                ref = _ERROR_REF.search(m.group(1))
                val = _ERROR_VALUE.search(m.group(2))
                if ref:
                    found[ref.group(1).decode()] = val.group(1).decode() if val else "#ERROR"
        if b"<v>-" in raw and b't="s"' in raw:  # calamine reads shared string -1 as string 0
            for m in _BAD_STRING_CELL.finditer(raw):
                ref = _ERROR_REF.search(m.group(1))
                if ref:
                    found[ref.group(1).decode()] = f"{MISSING_STRING} {m.group(2).decode()}"
        return found

    def merged_cells(self, sheet: str) -> list[str]:
        """The merged ranges of ``sheet`` ('A5:A6'), read with ``error_cells``."""
        if sheet not in self._merged:
            self.error_cells(sheet)
        return self._merged.get(sheet, [])


_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+\d+:[A-Z]+\d+)"')


def parse_ref(ref: str) -> tuple[int, int, int, int]:
    """'C4:F10' → (first_col, first_row, last_col, last_row), 1-based."""
    m = _REF.match(ref.strip().upper())
    if not m:
        raise ValueError(ref)
    c1, r1 = col_index(m.group(1)), int(m.group(2))
    c2, r2 = (col_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    return c1, r1, c2, r2


def _fmt(path: Path, message: str, expected: str | None = None, *, unsafe: bool = False):
    cls = UnsafeWorkbookError if unsafe else WorkbookFormatError
    return cls(message, file=path, expected=expected)


def _sniff_not_zip(path: Path, data: bytes) -> WorkbookFormatError:
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data \
                or "EncryptedPackage".encode("utf-16-le") in data:
            return _fmt(path, "the workbook is password-protected (encrypted), so it cannot be read",
                        "an unencrypted .xlsx: in Excel, File > Info > Protect Workbook > "
                        "Encrypt with Password, clear the password and save")
        return _fmt(path, "this is a legacy Excel 97-2003 (.xls) or other OLE file, not .xlsx",
                    "an .xlsx/.xlsm: open it in Excel and Save As 'Excel Workbook (*.xlsx)'")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<html", b"<!doctype html", b"<?xml", b"<table")):
        return _fmt(path, "this is an HTML/XML file renamed to an Excel name, not an .xlsx",
                    "an .xlsx saved by Excel, WPS or LibreOffice")
    if data.startswith(b"PK"):
        return _fmt(path, "the zip container is truncated or damaged (an incomplete download?)",
                    "a complete .xlsx file; download or copy it again")
    return _fmt(path, "not an Excel workbook (the file is not a zip package)",
                "an .xlsx/.xlsm; CSV and text files must be pasted into the template")


def open_package(path: str | Path) -> Package:
    """Read and check ``path``; raise ``WorkbookFormatError``/``UnsafeWorkbookError`` if unusable."""
    path = Path(path)
    if not path.exists():
        raise _fmt(path, "file not found", "an existing .xlsx/.xlsm file")
    if path.is_dir():
        raise _fmt(path, "this is a folder, not a workbook", "an .xlsx/.xlsm file")
    size = path.stat().st_size
    if path.name.startswith("~$"):
        raise _fmt(path, "this is Excel's temporary lock file (the workbook is open in Excel), "
                   "not a workbook", f"the workbook itself, {path.name[2:]!r}")
    if size == 0:
        raise _fmt(path, "the file is empty (0 bytes)", "an .xlsx/.xlsm saved by Excel")
    check_file_size(size, str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fmt(path, f"cannot read the file: {exc.strerror or exc}", "a readable file") from None
    if not data.startswith(b"PK\x03\x04") and not data.startswith(b"PK\x05\x06"):
        raise _sniff_not_zip(path, data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _sniff_not_zip(path, data) from None
    _check_zip(path, infos)
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        kind = _what_zip(zf, names)
        raise _fmt(path, f"a zip file but not an Excel workbook ({kind})",
                   "an .xlsx/.xlsm saved by Excel, WPS or LibreOffice")
    check_content_types(names, str(path))  # as the editor behind fill does
    pkg = Package(path=path, data=data, zip=zf)
    _load_tables(pkg)  # workbook.xml, rels and table parts are parsed by read_xml, DTDs refused
    _refuse_dtds(pkg, infos)
    return pkg


def _refuse_dtds(pkg: Package, infos: list[zipfile.ZipInfo]) -> None:
    """No part of a workbook needs a DTD; one that declares entities is an attack on the reader
    that parses it (the cell reader parses sheets and shared strings itself)."""
    table_sheets = {pkg.sheet_parts.get(t.sheet) for t in pkg.tables}
    for info in infos:
        if not info.filename.lower().endswith(XML_SUFFIXES):
            continue
        if info in pkg._checked:  # read whole by read_xml, which checked the same head
            continue
        whole = None
        if info.file_size <= _WHOLE_PART_MAX or info.filename in table_sheets:
            whole = _inflate(pkg.data, info)
        if whole is not None:
            head = whole
            if info.filename in table_sheets:
                pkg._inflated[info.filename] = whole  # error_cells reads it next
        else:
            try:
                with pkg.zip.open(info) as fh:
                    head = _xml.read_prolog(fh)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                sheet = next((n for n, part in pkg.sheet_parts.items() if part == info.filename), None)
                raise WorkbookFormatError(f"part {info.filename!r} cannot be read: it is damaged ({exc})",
                                          file=pkg.path, sheet=sheet,
                                          expected="an undamaged .xlsx; save it again in Excel") from None
        _xml.check_no_dtd(head, str(pkg.path), info.filename)  # the editor's check (fill)


#: small deflated members already inflated and checked, keyed on (size, CRC, compressed bytes):
#: workbooks split from one master share most of their parts (styles, theme, rels, tables).
#: Worksheets are left out: they differ between workbooks, and would only fill the memory.
_INFLATED: dict[tuple[int, int, bytes], bytes] = {}
_INFLATED_MAX_BYTES = 64 * 1024


def _inflate(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """The bytes of one zip member read straight from the package bytes, or None.

    ``zipfile`` streams a member through several Python layers, which costs more than
    inflating a small part. This returns a member only when it is plainly sound: local
    header and name as zipfile checks them, stored or deflated, not encrypted, complete, with
    the declared size and CRC. Anything else returns None and the caller asks ``zipfile``,
    so a damaged part fails with exactly the error it always did.
    """
    if info.flag_bits & 0x61:  # encrypted, compressed patched data, strong encryption
        return None
    off = info.header_offset
    header = data[off:off + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        return None
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != zipfile.stringFileHeader:
        return None
    name_len, extra_len = fields[10], fields[11]
    start = off + _LOCAL_HEADER.size
    raw_name = data[start:start + name_len]
    try:  # ASCII reads the same in UTF-8 and cp437 (zipfile's two choices), and decodes fastest
        name = raw_name.decode("ascii" if raw_name.isascii() else "utf-8" if fields[3] & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if name != info.orig_filename:
        return None
    start += name_len + extra_len
    packed = data[start:start + info.compress_size]
    if len(packed) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        out = packed
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        key = ((info.file_size, info.CRC, packed) if info.file_size <= _INFLATED_MAX_BYTES
               and not info.filename.startswith("xl/worksheets/") else None)
        out = _INFLATED.get(key) if key else None
        if out is not None:  # these very bytes inflated and checked before
            return out
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(packed, info.file_size + 1)  # never more than declared
        except zlib.error:
            return None
        if not inflater.eof:
            return None
    else:
        return None
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        return None
    if info.compress_type == zipfile.ZIP_DEFLATED and key:
        if len(_INFLATED) >= 256:
            _INFLATED.clear()
        _INFLATED[key] = out
    return out


def _read_part(pkg: Package, part: str) -> bytes:
    """``pkg.zip.read(part)``, through ``_inflate`` when the member is sound."""
    info = pkg.zip.NameToInfo.get(part)
    if info is not None:
        out = _inflate(pkg.data, info)
        if out is not None:
            return out
    return pkg.zip.read(part)


def _what_zip(zf: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return "a binary .xlsb workbook; Save As .xlsx"
    if "mimetype" in names:
        try:
            mt = zf.read("mimetype")[:100].decode("ascii", "replace")
        except Exception:  # noqa: BLE001 - any failure just means "unknown"
            mt = "?"
        if "spreadsheet" in mt:
            return "an OpenDocument .ods spreadsheet; Save As .xlsx"
        return f"an OpenDocument file ({mt})"
    if "word/document.xml" in names:
        return "a Word document"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint file"
    return "no xl/workbook.xml inside"


def _check_zip(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """The zip directory check and limits the editor behind ``fill`` and ``safety`` apply too."""
    check_entries(infos, str(path))


def read_xml(pkg: Package, part: str):
    """Parse one XML part safely (no entities, no DTD, no network)."""
    return _parse(pkg, part, _xml_bytes(pkg, part))


def _xml_bytes(pkg: Package, part: str) -> bytes:
    """The bytes of XML part ``part``, refused if damaged or declaring a DTD."""
    try:
        raw = _read_part(pkg, part)
    except KeyError:
        raise _fmt(pkg.path, f"the package lacks part {part!r}", "a complete workbook package") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _fmt(pkg.path, f"part {part!r} cannot be decompressed ({exc})",
                   "an undamaged .xlsx; save it again in Excel") from None
    _xml.check_no_dtd(raw, str(pkg.path), part)
    pkg._checked.add(pkg.zip.NameToInfo[part])  # head checked: _refuse_dtds need not read it again
    return raw


def _parse(pkg: Package, part: str, raw: bytes):
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _fmt(pkg.path, f"part {part!r} is not well-formed XML ({exc.msg})",
                   "an undamaged .xlsx; save it again in Excel") from None


#: what the small structural parts (workbook, relationships, tables) were read as, keyed on
#: their exact bytes: workbooks split from one master repeat them, so each is parsed once
_PARSED: dict[tuple[str, str, bytes], tuple] = {}
_PARSED_MAX_BYTES = 64 * 1024
_PARSED_MAX_ENTRIES = 2048


def _remember(key: tuple[str, str, bytes], value: tuple) -> tuple:
    if len(key[2]) <= _PARSED_MAX_BYTES:
        if len(_PARSED) >= _PARSED_MAX_ENTRIES:
            _PARSED.clear()
        _PARSED[key] = value
    return value


def _rels(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of ``part``: id → (type, absolute target part)."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if rels_part not in pkg.zip.NameToInfo:
        return {}
    raw = _xml_bytes(pkg, rels_part)
    key = ("rels", rels_part, raw)
    found = _PARSED.get(key)
    if found is None:
        root = _parse(pkg, rels_part, raw)
        out = {}
        for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out[rel.get("Id", "")] = (rel.get("Type", ""), target)
        found = _remember(key, tuple(out.items()))
    return dict(found)


def _load_tables(pkg: Package) -> None:
    raw = _xml_bytes(pkg, "xl/workbook.xml")
    key = ("workbook", "xl/workbook.xml", raw)
    found = _PARSED.get(key)
    if found is None:
        wb = _parse(pkg, "xl/workbook.xml", raw)
        ns = etree.QName(wb).namespace
        if ns == NS_STRICT or wb.get("conformance") == "strict":
            raise _fmt(pkg.path, "the workbook is saved as 'Strict Open XML Spreadsheet'",
                       "an .xlsx: in Excel, Save As 'Excel Workbook (*.xlsx)'")
        if ns != NS_MAIN:
            raise _fmt(pkg.path, f"xl/workbook.xml has an unknown namespace {ns!r}",
                       "a SpreadsheetML workbook")
        pr = wb.find(f"{{{NS_MAIN}}}workbookPr")
        date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        sheets = tuple((sh.get("name", ""), sh.get(f"{{{NS_REL}}}id"))
                       for sh in wb.iter(f"{{{NS_MAIN}}}sheet"))
        found = _remember(key, (date1904, sheets))
    pkg.date1904, sheets = found
    wb_rels = _rels(pkg, "xl/workbook.xml")
    for name, rid in sheets:
        pkg.sheets.append(name)
        rel = wb_rels.get(rid or "")
        if not rel or rel[1] not in pkg.zip.NameToInfo:
            continue
        sheet_part = rel[1]
        pkg.sheet_parts[name] = sheet_part
        for rtype, target in _rels(pkg, sheet_part).values():
            if rtype == REL_TABLE and target in pkg.zip.NameToInfo:
                pkg.tables.append(_table_info(pkg, name, target))


def _table_info(pkg: Package, sheet: str, part: str) -> TableInfo:
    raw = _xml_bytes(pkg, part)
    key = ("table", part, raw)
    found = _PARSED.get(key)
    if found is None:
        root = _parse(pkg, part, raw)
        ref = root.get("ref", "")
        try:
            c1, r1, c2, r2 = parse_ref(ref)
        except ValueError:
            raise _fmt(pkg.path, f"table part {part!r} has an invalid range {ref!r}",
                       "a range such as B4:F20") from None
        if not (1 <= c1 <= c2 <= MAX_COLS and 1 <= r1 <= r2 <= MAX_ROWS):
            table = root.get("displayName") or root.get("name") or part
            raise WorkbookFormatError(
                f"table '{table}' has the range {ref!r}, which "
                + ("is reversed" if c1 > c2 or r1 > r2 else "goes past the sheet's last row or column"),
                file=pkg.path, sheet=sheet, value=ref,
                expected=f"a range from top-left to bottom-right within A1:XFD{MAX_ROWS} such as B4:F20 "
                         "(Excel: Table Design > Resize Table)")
        cols = []
        for tc in root.iter(f"{{{NS_MAIN}}}tableColumn"):
            formula = tc.find(f"{{{NS_MAIN}}}calculatedColumnFormula") is not None
            name = tc.get("name", "")
            name = excel_unescape(name)  # _x000a_ = "\n"
            cols.append(TableColumnInfo(name, formula))
        found = _remember(key, (
            root.get("displayName") or root.get("name") or "", ref.replace("$", ""), c1, c2, r1, r2,
            int(root.get("headerRowCount", "1") or 1), int(root.get("totalsRowCount", "0") or 0),
            tuple(cols)))
    name, ref, c1, c2, r1, r2, header_rows, totals_rows, cols = found
    return TableInfo(name=name, sheet=sheet, ref=ref, first_col=c1, last_col=c2, first_row=r1,
                     last_row=r2, header_rows=header_rows, totals_rows=totals_rows, columns=cols,
                     part=part)
