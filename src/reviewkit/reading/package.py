"""The Excel Tables of an opened workbook package: workbook.xml → sheet rels → table parts.

The package is ``reviewkit.ooxml.package.Package``, the one object every command opens (read
once, zip directory and entry names checked, no DTDs): this module only finds the sheets and
tables in it, and reads a sheet's error cells and merged ranges. XML parts are parsed with lxml
without entity resolution, DTD loading or network access.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .. import caching
from ..errors import WorkbookFormatError
from ..ooxml._xml import excel_unescape
from ..ooxml.package import Package

MAX_ROWS = 1_048_576  # Excel's sheet size
MAX_COLS = 16_384

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TABLE = NS_REL + "/table"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True)
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(.*?)</c>', re.S)
_ERROR_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_ERROR_VALUE = re.compile(rb"<v>([^<]*)</v>")
_BAD_STRING_CELL = re.compile(rb'<c\b([^>]*?\bt="s"[^>]*)>\s*<v>\s*(-[^<]*)</v>')
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+\d+:[A-Z]+\d+)"')
#: what error_cells gives for a cell pointing at a shared string that does not exist
MISSING_STRING = "no such shared string:"


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
class WorkbookTables:
    """The sheets and Excel Tables of one opened ``package``."""

    package: Package
    sheets: list[str] = field(default_factory=list)
    sheet_parts: dict[str, str] = field(default_factory=dict)
    tables: list[TableInfo] = field(default_factory=list)
    date1904: bool = False  # serial numbers count from 1904-01-01
    #: sheet -> its merged ranges ('A5:A6'), noted when error_cells reads the part
    _merged: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def path(self) -> Path:
        return self.package.path

    @property
    def data(self) -> bytes:
        return self.package.data

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
        raw = self.package.read(part)
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


def parse_ref(ref: str) -> tuple[int, int, int, int]:
    """'C4:F10' → (first_col, first_row, last_col, last_row), 1-based."""
    m = _REF.match(ref.strip().upper())
    if not m:
        raise ValueError(ref)
    c1, r1 = col_index(m.group(1)), int(m.group(2))
    c2, r2 = (col_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    return c1, r1, c2, r2


def find_tables(source: Package | str | os.PathLike) -> WorkbookTables:
    """The sheets and tables of ``source``: an opened ``Package``, or a path to open."""
    pkg = source if isinstance(source, Package) else Package.open(source)
    if not pkg.exists("xl/workbook.xml"):
        kind = _what_zip(pkg)
        raise _fmt(pkg.path, f"a zip file but not an Excel workbook ({kind})",
                   "an .xlsx/.xlsm saved by Excel, WPS or LibreOffice")
    found = WorkbookTables(pkg)
    _load_tables(found)
    return found


def _fmt(path: Path, message: str, expected: str | None = None) -> WorkbookFormatError:
    return WorkbookFormatError(message, file=path, expected=expected)


def _what_zip(pkg: Package) -> str:
    names = {n.lower() for n in pkg.names()}
    if "xl/workbook.bin" in names:
        return "a binary .xlsb workbook; Save As .xlsx"
    if "mimetype" in names:
        try:
            mt = pkg.read("mimetype")[:100].decode("ascii", "replace")
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


def _parse(pkg: Package, part: str, raw: bytes):
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _fmt(pkg.path, f"part {part!r} is not well-formed XML ({exc.msg})",
                   "an undamaged .xlsx; save it again in Excel") from None


#: what the workbook and table parts were read as, keyed on their exact bytes: workbooks split
#: from one master repeat them, so each is parsed once
_PARSED = caching.Cache("reading.parts", 2048)
_PARSED_MAX_BYTES = 64 * 1024


def _remember(key: tuple[str, str, bytes], value: tuple) -> tuple:
    return _PARSED.put(key, value) if len(key[2]) <= _PARSED_MAX_BYTES else value


def _rels(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of ``part``: id → (type, the actual name of the target part, or None)."""
    return {r.id: (r.type, pkg.resolve_name(pkg.resolve_target(part, r)))
            for r in pkg.rels(part) if not r.external}


def _load_tables(found: WorkbookTables) -> None:
    pkg = found.package
    raw = pkg.read("xl/workbook.xml")
    key = ("workbook", "xl/workbook.xml", raw)
    parsed = _PARSED.get(key)
    if parsed is None:
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
        parsed = _remember(key, (date1904, sheets))
    found.date1904, sheets = parsed
    wb_rels = _rels(pkg, "xl/workbook.xml")
    for name, rid in sheets:
        found.sheets.append(name)
        rel = wb_rels.get(rid or "")
        if not rel or rel[1] is None:
            continue
        sheet_part = rel[1]
        found.sheet_parts[name] = sheet_part
        for rtype, target in _rels(pkg, sheet_part).values():
            if rtype == REL_TABLE and target is not None:
                found.tables.append(_table_info(pkg, name, target))


def _table_info(pkg: Package, sheet: str, part: str) -> TableInfo:
    raw = pkg.read(part)
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
