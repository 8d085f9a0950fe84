"""Sources of an import as columns (``Source``): a CSV (UTF-8 or GBK, delimiter sniffed), an
.xlsx/.xlsm sheet or Excel Table, a 飞书 Bitable JSON response, or a DataFrame. Each data row
remembers where it came from, so every problem names the source's row and column.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError, UnsafeWorkbookError, WorkbookFormatError
from ..reading.engine import FileEngine
from ..reading.package import col_letter
from ..reading.values import is_blank


@dataclass
class Source:
    """One source as columns: ``headers[j]`` names ``columns[j]``; ``where[i]`` says where data row
    ``i`` is (``row 7`` of a CSV, a sheet row of an xlsx, ``record 3 (recXXX)`` of a JSON)."""

    name: str
    headers: list[str]
    columns: list[list]
    where: list[str]
    sheet: str | None = None
    cells: list[int] | None = None  # xlsx: the sheet row of each data row
    letters: list[str] | None = None  # xlsx: the column letter of each column
    typed: bool = False  # cells already carry numbers (xlsx, JSON, DataFrame), not only text

    def place(self, i: int, j: int) -> tuple[str | None, str]:
        """(cell or None, 'row 7, column '销售额'') for data row ``i``, column ``j``."""
        header = self.headers[j]
        if self.cells is not None and self.letters is not None:
            return f"{self.letters[j]}{self.cells[i]}", f"{self.where[i]}, column '{header}'"
        field_word = "field" if self.where[i].startswith("record") else "column"
        return None, f"{self.where[i]}, {field_word} '{header}'"


def read_source(path, *, sheet: str | None = None, table: str | None = None, encoding: str | None = None,
                delimiter: str | None = None) -> Source:
    """Read a CSV, an .xlsx/.xlsm (a sheet, or an Excel Table by name) or a 飞书 Bitable JSON file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("source file not found", file=path, expected="an existing CSV, .xlsx/.xlsm or .json file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet, table)
    if suffix == ".json":
        return _read_bitable_json(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path, encoding, delimiter)
    if suffix == ".xls":
        raise InputError("old .xls files are not read", file=path, expected="save it as .xlsx, or export CSV")
    raise InputError("unknown source type", file=path, value=path.suffix or "(none)",
                     expected="a .csv, .tsv, .xlsx, .xlsm or .json (飞书 Bitable records) file")


def _encoding(path: Path, data: bytes, encoding: str | None) -> str:
    """The encoding of ``data``: the one named, else a BOM's, UTF-8, or GB18030 (a superset of GBK
    and GB2312, what Chinese ERPs export); checked by decoding the data."""
    if encoding:
        try:
            data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"the file cannot be decoded as {encoding} ({exc})", file=path,
                             expected="the file's real encoding (utf-8, gbk, gb18030)") from None
        return encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise InputError("the file is neither UTF-8 nor GBK/GB18030 text", file=path,
                         value=f"byte {exc.start}", expected="a CSV saved as UTF-8 or GBK; "
                         "or name the encoding with --encoding") from None


def _read_csv(path: Path, encoding: str | None, delimiter: str | None) -> Source:
    data = path.read_bytes()
    encoding = _encoding(path, data, encoding)
    text = data[:65536].decode(encoding, errors="ignore")
    if not text.strip():
        raise InputError("the file is empty", file=path, expected="a header line and data lines")
    if delimiter in ("\\t", "tab", "TAB"):  # as typed on a command line
        delimiter = "\t"
    if delimiter is None:
        head = text[:20000]
        try:
            delimiter = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
        except csv.Error:
            first = head.splitlines()[0] if head else ""
            delimiter = max(",;\t", key=first.count)
    try:
        df = pd.read_csv(io.BytesIO(data), sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=True, engine="c", encoding=encoding)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"the CSV cannot be read ({str(exc).strip()})", file=path,
                         expected="one header line, then rows with as many fields") from None
    del data
    headers = [_header_text(h) for h in df.columns]
    columns = [df[c].to_numpy(dtype=object) for c in df.columns]
    # the line each row came from (header = line 1) when no field spans lines
    where = _row_words(len(df), 2)
    return Source(path.name, headers, columns, where)


def _row_words(n: int, first: int) -> list[str]:
    return [f"row {first + i}" for i in range(n)]


def _header_text(h) -> str:
    text = str(h).strip()
    return re.sub(r"\.\d+$", "", text) if re.match(r"^Unnamed: \d+", text) is None else ""


def _read_xlsx(path: Path, sheet: str | None, table: str | None) -> Source:
    try:
        engine = FileEngine.open(path)  # the reader's checked package and cell grids
    except UnsafeWorkbookError:
        raise
    except WorkbookFormatError as exc:  # said for a source, not for a review workbook
        raise InputError(f"the workbook cannot be read: {exc.detail}", file=path,
                         expected="an .xlsx saved by Excel, or the export as CSV") from None
    top = 1
    first_col, last_col = 1, None
    last_row = None
    if table is not None:
        info = engine.table(table)
        if info is None:
            raise InputError("the workbook has no Excel Table of that name", file=path, value=table,
                             expected="the name shown in Table Design > Table Name")
        sheet, top, first_col, last_col, last_row = (info.sheet, info.first_row, info.first_col, info.last_col,
                                                     info.last_row - info.totals_rows)
    names = engine.sheets
    name = sheet if sheet is not None else (names[0] if names else "")
    match = next((n for n in names if n.lower() == name.lower()), None)
    if match is None:
        raise InputError("no such sheet", file=path, value=sheet, expected="one of " + ", ".join(names))
    grid = engine.grid(match)
    if table is None:
        top = _header_row(grid)
        if top is None:
            raise InputError("the sheet is empty", file=path, sheet=match, expected="a header row and data rows")
    header = list(grid[top - 1]) if len(grid) >= top else []
    width = len(header) if last_col is None else last_col
    while table is None and width > first_col and is_blank(header[width - 1]):
        width -= 1
    rows = grid[top:last_row] if last_row is not None else grid[top:]
    headers = [_text_of(header[j]) if j < len(header) else "" for j in range(first_col - 1, width)]
    columns = [[row[j] if j < len(row) else "" for row in rows] for j in range(first_col - 1, width)]
    letters = [col_letter(j + 1) for j in range(first_col - 1, width)]
    cells = list(range(top + 1, top + 1 + len(rows)))
    return Source(path.name, headers, columns, [f"row {r}" for r in cells], sheet=match, cells=cells,
                  letters=letters, typed=True)


def _header_row(grid: list[list]) -> int | None:
    """The first row of a sheet that looks like a header: title rows above it are skipped."""
    counts = [sum(not is_blank(v) for v in row) for row in grid[:15]]
    if not counts or max(counts) == 0:
        return None
    need = max(2, (max(counts) + 1) // 2) if max(counts) > 1 else 1
    return next(i + 1 for i, n in enumerate(counts) if n >= need)


def _text_of(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v).strip()


def _read_bitable_json(path: Path) -> Source:
    try:
        data = path.read_bytes()
        doc = json.loads(data.decode(_encoding(path, data, None)))
    except json.JSONDecodeError as exc:
        raise InputError(f"the file is not valid JSON ({exc.msg} at line {exc.lineno})", file=path,
                         expected="the response of 飞书 Bitable's list-records API saved to a file") from None
    items = doc
    if isinstance(doc, dict):
        items = (doc.get("data") or {}).get("items") if isinstance(doc.get("data"), dict) else doc.get("items")
        if isinstance(doc.get("code"), int) and doc["code"] != 0:
            raise InputError("the saved response is an API error", file=path, value=doc.get("msg"),
                             expected="a successful response (code 0)")
    if not isinstance(items, list):
        raise InputError("no records in the file", file=path, expected='{"data": {"items": [{"fields": {...}}]}}')
    headers: list[str] = []
    seen: set[str] = set()
    for item in items:
        for k in (item.get("fields") or {}) if isinstance(item, dict) else ():
            if k not in seen:
                seen.add(k)
                headers.append(k)
    columns = [[_field_value((item.get("fields") or {}).get(h)) if isinstance(item, dict) else None
                for item in items] for h in headers]
    where = []
    for i, item in enumerate(items, start=1):
        rid = item.get("record_id") or item.get("id") if isinstance(item, dict) else None
        where.append(f"record {i}" + (f" ({rid})" if rid else ""))
    return Source(path.name, headers, columns, where, typed=True)


def _field_value(v):
    """A Bitable field value as a cell value: people and options by name, ms dates as numbers."""
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, dict):
        if "value" in v and "type" in v:  # formula / lookup fields
            return _field_value(v["value"])
        for k in ("text", "name", "full_address", "link"):
            if isinstance(v.get(k), str):
                return v[k]
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        if all(isinstance(x, dict) and x.get("type") in ("text", "mention", "url") and "text" in x for x in v):
            return "".join(str(x["text"]) for x in v)  # rich text: segments of one text
        parts = [_field_value(x) for x in v]
        if len(parts) == 1:
            return parts[0]
        return "、".join("" if p is None else str(p) for p in parts)
    return str(v)


def frame_source(df: pd.DataFrame, name: str) -> Source:
    """A DataFrame as a source: its columns by name, rows by index label."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"table '{name}' is not a DataFrame", value=type(df).__name__, expected="a pandas DataFrame")
    headers = [str(c) for c in df.columns]
    columns = [df.iloc[:, j].to_numpy(dtype=object) for j in range(df.shape[1])]
    where = [f"index {label!r}" for label in df.index]
    return Source(f"DataFrame {name}", headers, columns, where, typed=True)
