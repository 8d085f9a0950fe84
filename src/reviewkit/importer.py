"""``reviewkit import`` and ``write_tables``: exports and DataFrames into a review workbook's tables.

    read the source (CSV / xlsx / 飞书 Bitable JSON / DataFrame) → map its headers to the table's
    columns → convert every value with the reader (``reader.read_tables`` over the source, so
    numbers, dates, percentages and drop-downs are understood exactly as in a workbook) → match
    rows by the table's key → record the cells with the lossless editor → one atomic save

Nothing is written when a row is bad, unless ``skip_bad``: then the bad rows are left out and
reported. Every problem names the source file, its row and its column. See docs/import.md.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .errors import InputError, Problem, ReviewkitError, ValidationError
from .reading.package import TableColumnInfo, TableInfo, col_letter

__all__ = ["ImportResult", "import_sources", "write_tables", "new", "read_source", "TABLE_CHOICES", "Source"]

#: ``--table`` names (lower case) → Excel table names
TABLE_CHOICES = {spec.name.lower(): spec.name for spec in model.TABLES if spec.name != "Settings"}
MODES = ("append", "replace", "upsert")

#: the words 飞书 / 钉钉 / Teambition / ERP exports use for the tables' columns (beyond model synonyms)
TOOL_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Plan": {
        "task_id": ("任务编号", "任务ID", "编号", "序号", "任务id"),
        "task": ("任务名称", "任务标题", "标题", "任务", "事项", "名称"),
        "owner": ("负责人", "执行人", "执行者", "处理人", "经办人", "任务负责人"),
        "start": ("开始日期", "开始时间", "计划开始时间", "计划开始日期"),
        "end": ("截止日期", "截止时间", "到期时间", "到期日", "计划完成时间", "结束时间"),
        "goal": ("所属目标", "目标", "项目", "所属项目"),
        "acceptance": ("验收标准", "交付物", "完成标准"),
    },
    "Progress": {
        "task_id": ("任务编号", "任务ID", "编号", "序号", "任务id"),
        "milestone": ("任务名称", "任务标题", "标题", "任务", "节点名称"),
        "planned_start": ("开始日期", "开始时间", "计划开始时间"),
        "planned_date": ("截止日期", "截止时间", "到期时间", "到期日", "计划完成时间", "计划结束日期"),
        "actual_date": ("完成时间", "完成日期", "实际完成时间", "实际结束日期"),
        "pct_complete": ("进度", "完成进度", "完成百分比", "进度百分比"),
        "owner": ("负责人", "执行人", "执行者", "处理人", "经办人"),
        "problem": ("风险与问题", "问题描述", "阻塞原因"),
    },
    "Actions": {
        "item": ("任务名称", "任务标题", "标题", "事项", "改进项"),
        "measure": ("任务描述", "描述", "具体内容"),
        "owner": ("负责人", "执行人", "执行者", "处理人"),
        "due": ("截止日期", "截止时间", "到期时间", "到期日"),
        "status": ("状态", "任务状态", "完成状态"),
    },
    "Scorecard": {
        "unit": ("部门名称", "销售部门", "大区", "区域名称", "组织"),
        "kpi": ("指标编码", "KPI编码"),
        "target": ("目标额", "任务额", "指标值", "考核目标"),
        "actual": ("完成额", "实际完成", "实际额", "达成值"),
        "last_year": ("去年实际", "上年实际", "同期"),
    },
    "Facts": {
        "period": ("单据日期", "订单日期", "业务日期", "开票日期", "会计期间", "下单时间", "签约日期"),
        "unit": ("部门名称", "销售部门", "大区", "区域名称", "组织", "销售组织"),
    },
}
#: task states as the tools write them → ``model.ACTION_STATUS`` keys (a late task is still open:
#: the review flags it through its due date)
TOOL_STATES = {"未开始": "not_started", "待处理": "not_started", "待办": "not_started", "未完成": "in_progress",
               "进行中": "in_progress", "处理中": "in_progress", "已延期": "in_progress", "延期": "in_progress",
               "已逾期": "in_progress", "逾期": "in_progress", "已完成": "done", "已关闭": "done",
               "已暂停": "blocked", "挂起": "blocked"}
#: which columns identify a row in ``upsert`` mode, the first set the source has all of
UPSERT_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Scorecard": (("unit", "kpi"),), "NextYear": (("unit", "kpi"),), "KPIs": (("key",),),
    "Progress": (("task_id",), ("milestone", "owner")), "Plan": (("task_id",), ("task", "owner")),
    "Actions": (("item", "owner"), ("item",)), "Causes": (("unit", "kpi", "kind"),),
    "Results": (("goal",),), "KeepStopStart": (("decision", "item"),), "Risks": (("risk",),),
    "Budget": (("category",),), "Campaigns": (("name",),),
}
#: the Settings entry holding a table's saved header mapping: "导入映射:Facts" = "来源列=key; …"
MAP_SETTING = {"zh": "导入映射:{table}", "en": "Import map:{table}"}
_MAP_SETTING_RE = re.compile(r"^\s*(?:导入映射|import\s*map)\s*[:：]\s*(\w+)\s*$", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"^-?(?:0|[1-9]\d{0,14})(?:\.\d+)?$")  # what a spreadsheet types as a number
_SHEET = "\x00source"  # the source's pseudo sheet while the reader converts it


# --- sources ---------------------------------------------------------------------------------
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


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"the file cannot be decoded as {encoding} ({exc})", file=path,
                             expected="the file's real encoding (utf-8, gbk, gb18030)") from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK and GB2312, what Chinese ERPs export
    except UnicodeDecodeError as exc:
        raise InputError("the file is neither UTF-8 nor GBK/GB18030 text", file=path,
                         value=f"byte {exc.start}", expected="a CSV saved as UTF-8 or GBK; "
                         "or name the encoding with --encoding") from None


def _encoding(path: Path, data: bytes, encoding: str | None) -> str:
    """The encoding ``_decode`` would use for ``data``, checked by decoding it once."""
    if encoding:
        _decode(path, data, encoding)
        return encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        _decode(path, data, None)  # GB18030, or the one-line error
        return "gb18030"


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
    from python_calamine import CalamineWorkbook

    from .reading.package import find_tables

    top = 1
    first_col, last_col = 1, None
    last_row = None
    if table is not None:
        info = find_tables(path).table(table)
        if info is None:
            raise InputError("the workbook has no Excel Table of that name", file=path, value=table,
                             expected="the name shown in Table Design > Table Name")
        sheet, top, first_col, last_col, last_row = (info.sheet, info.first_row, info.first_col, info.last_col,
                                                     info.last_row - info.totals_rows)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        name = sheet if sheet is not None else names[0]
        match = next((n for n in names if n.lower() == name.lower()), None)
        if match is None:
            raise InputError("no such sheet", file=path, value=sheet, expected="one of " + ", ".join(names))
        grid = wb.get_sheet_by_name(match).to_python(skip_empty_area=False)
    except ReviewkitError:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine raises several unrelated types
        raise InputError(f"the workbook cannot be read ({exc})", file=path, expected="an .xlsx saved by Excel") from None
    if table is None:
        top = _header_row(grid)
        if top is None:
            raise InputError("the sheet is empty", file=path, sheet=match, expected="a header row and data rows")
    header = list(grid[top - 1]) if len(grid) >= top else []
    width = len(header) if last_col is None else last_col
    while table is None and width > first_col and _blank(header[width - 1]):
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
    counts = [sum(not _blank(v) for v in row) for row in grid[:15]]
    if not counts or max(counts) == 0:
        return None
    need = max(2, (max(counts) + 1) // 2) if max(counts) > 1 else 1
    return next(i + 1 for i, n in enumerate(counts) if n >= need)


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def _text_of(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v).strip()


def _read_bitable_json(path: Path) -> Source:
    try:
        doc = json.loads(_decode(path, path.read_bytes(), None))
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


# --- header mapping ----------------------------------------------------------------------------
@dataclass
class Mapping:
    columns: dict[int, str]  # source column → canonical key, or a Facts column name
    how: dict[int, str]  # source column → 'map' / 'saved' / 'header' / 'tool' / 'new' / 'existing'
    unmapped: list[tuple[str, str | None]]  # (source header, suggested key)
    ignored: list[str]


def parse_map(text: str | None) -> dict[str, str]:
    """``"来源列=key, 来源列2=key2"`` (``,``, ``;`` or ``，`` between pairs) → {source header: target}."""
    out: dict[str, str] = {}
    for pair in re.split(r"[;,，；\n]", text or ""):
        if not pair.strip():
            continue
        src, sep, dst = pair.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise InputError("a mapping pair is not 'source column=key'", value=pair.strip(),
                             expected="--map \"来源列=key,来源列2=key2\" (key '-' ignores a column)")
        out[src.strip()] = dst.strip()
    return out


def _spec_key(spec: model.TableSpec, name: str) -> str | None:
    """A canonical key of ``spec`` named by its key, header or synonym."""
    found, _ = model.match_headers(spec, [name])
    key = next(iter(found), None)
    if key is not None and not spec.column(key).computed:
        return key
    return None


def map_headers(spec: model.TableSpec, headers: list[str], user: dict[str, str], saved: dict[str, str],
                existing: list[str]) -> Mapping:
    """Each source column's target: ``user`` (--map), then the saved mapping, the model's headers and
    synonyms, the tools' words; for Facts any other column is a dimension or measure of its own."""
    norm = model.normalize_header
    user_n = {norm(k): v for k, v in user.items()}
    saved_n = {norm(k): v for k, v in saved.items()}
    unknown = [k for k in user if norm(k) not in {norm(h) for h in headers}]
    if unknown:
        raise InputError("--map names a column the source does not have", value=unknown[0],
                         expected="one of " + ", ".join(repr(h) for h in headers if h))
    columns: dict[int, str] = {}
    how: dict[int, str] = {}
    ignored: list[str] = []
    taken: set[str] = set()
    existing_n = {norm(e): e for e in existing}
    # explicit choices first, so they win over anything guessed
    for stage, table in (("map", user_n), ("saved", saved_n)):
        for j, h in enumerate(headers):
            if j in columns or h in ignored or norm(h) not in table:
                continue
            target = table[norm(h)]
            if target == "-":
                ignored.append(h)
                continue
            key = _spec_key(spec, target)
            if key is None and not spec.open_columns:
                raise InputError(f"--map names no column of table '{spec.name}'", value=f"{h}={target}",
                                 expected="one of " + ", ".join(c.key for c in spec.input_columns))
            target = key or existing_n.get(norm(target), target)
            if target in taken:
                raise InputError("two source columns are mapped to one column", value=target,
                                 expected="each column mapped once")
            columns[j], how[j] = target, stage
            taken.add(target)
    tools = {norm(w): k for k, words in TOOL_WORDS.get(spec.name, {}).items() for w in words}
    for j, h in enumerate(headers):
        if j in columns or h in ignored or not str(h).strip():
            continue
        key = _spec_key(spec, h)
        if key is None:
            bare = re.sub(r"[（(\[【].*?[）)\]】]", "", h)
            key = _spec_key(spec, bare) if bare.strip() and bare != h else None
        stage = "header"
        if key is None and norm(h) in tools:
            key, stage = tools[norm(h)], "tool"
        if key is not None and key not in taken:
            columns[j], how[j] = key, stage
            taken.add(key)
    unmapped: list[tuple[str, str | None]] = []
    for j, h in enumerate(headers):
        if j in columns or h in ignored or not str(h).strip():
            continue
        if spec.open_columns:
            name = existing_n.get(norm(h), h.strip())
            if name in taken or _spec_key(spec, h) is not None:
                unmapped.append((h, None))  # a second column for a key already filled
                continue
            columns[j], how[j] = name, "existing" if norm(h) in existing_n else "new"
            taken.add(name)
        else:
            unmapped.append((h, _suggest(spec, h, taken)))
    return Mapping(columns, how, unmapped, ignored)


def _suggest(spec: model.TableSpec, header: str, taken: set[str]) -> str | None:
    norm = model.normalize_header
    words: dict[str, str] = {}
    for c in spec.input_columns:
        if c.key in taken:
            continue
        for w in (c.key, c.zh, c.en, *c.synonyms, *TOOL_WORDS.get(spec.name, {}).get(c.key, ())):
            words.setdefault(norm(w), c.key)
    h = norm(header)
    for w, k in words.items():  # '计划完成日期(新)' contains '计划完成日期'
        if len(w) >= 2 and (w in h or (len(h) >= 2 and h in w)):
            return k
    close = difflib.get_close_matches(h, list(words), n=1, cutoff=0.6)
    return words[close[0]] if close else None


# --- conversion through the reader -----------------------------------------------------------------
class _OnePackage:
    """The reader's package interface over one source table (``reader.read_tables``)."""

    date1904 = False

    def __init__(self, info: TableInfo):
        self.tables = [info]
        self.sheets = [info.sheet]

    def table(self, name: str):
        return self.tables[0] if name.lower() == self.tables[0].name.lower() else None


class _OneGrid:
    def __init__(self, rows: list):
        self.rows = rows

    def grid(self, sheet: str) -> list:
        return self.rows

    def errors(self, sheet: str) -> dict:
        return {}


def _typed(values, kind: str | None):
    """CSV text as a spreadsheet would type it: plain decimal numbers become numbers (never for date
    columns, where ``20250301`` is a day, nor ``00123``, which keeps its zeros); the rest stays text
    for the reader to parse."""
    if kind in (model.DATE, "period"):
        return values
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    plain = _PLAIN_NUMBER.match
    conv = [float(u) if type(u) is str and plain(u) else u for u in uniques]
    out = np.empty(len(conv) + 1, dtype=object)
    out[:-1] = conv
    out[-1] = None
    return out[codes]


@dataclass
class _Converted:
    frame: pd.DataFrame
    keep: list[int]  # source data row of each frame row
    problems: list[Problem]
    targets: list[str]  # frame columns that came from the source (keys and Facts names)
    dimensions: list[str]
    measures: list[str]


def _convert(spec: model.TableSpec, source: Source, mapping: Mapping, lang: str,
             numeric: frozenset[str] = frozenset()) -> _Converted:
    order = sorted(mapping.columns)
    headers, cols = [], []
    for j in order:
        target = mapping.columns[j]
        col = spec.column(target) if target in {c.key for c in spec.columns} else None
        kind = "period" if spec is model.FACTS and target == "period" else (col.kind if col else None)
        values = source.columns[j]
        if not source.typed:
            values = _typed(values, kind)
        if col is not None and col.kind == model.CHOICE:
            values = _tool_states(col, values)
        headers.append(col.zh if col is not None else target)
        cols.append(values)
    n = len(source.where)
    width = len(headers)
    info = TableInfo(name=spec.name, sheet=_SHEET, ref=f"A1:{col_letter(max(width, 1))}{n + 1}", first_col=1,
                     last_col=max(width, 1), first_row=1, last_row=n + 1, header_rows=1, totals_rows=0,
                     columns=tuple(TableColumnInfo(h, False) for h in headers), part="")
    rows = [tuple(headers), *zip(*cols)] if cols else [()]
    from .reader import read_tables

    review, found = read_tables(_OnePackage(info), _OneGrid(rows), source=source.name, check=False)
    df = review.tables[spec.name]
    layout = review.layouts[spec.name]
    problems: list[Problem] = []
    for p in found:
        if p.sheet != _SHEET:
            continue
        problems.append(_place_problem(p, source, order, spec))
    keep = [r - 2 for r in layout.rows]
    targets = [mapping.columns[j] for j in order]
    conv = _Converted(df, keep, problems, targets, list(review.dimensions), list(review.measures))
    for j in order:  # a measure of the workbook must stay numbers, however few the source has
        if mapping.columns[j] in numeric and mapping.columns[j] in conv.dimensions:
            _as_measure(conv, source, j, mapping.columns[j])
    return conv


def _as_measure(conv: _Converted, source: Source, j: int, name: str) -> None:
    """Read Facts column ``name`` (source column ``j``) as numbers with ``parse_number``; every
    refused value is a problem at its source row."""
    from .numbers import NUMBER_EXPECTED, ParseError, parse_number

    raw = source.columns[j]
    values = []
    for pos, i in enumerate(conv.keep):
        v = raw[i]
        try:
            values.append(parse_number(v))
        except ParseError as exc:
            values.append(None)
            cell, where = source.place(i, j)
            conv.problems.append(Problem(source.name, source.sheet, cell, f"{where}: {exc.detail} (a measure "
                                         "column of the workbook)", v, NUMBER_EXPECTED))
    conv.frame[name] = np.array([np.nan if v is None else v for v in values], dtype="float64")
    conv.dimensions.remove(name)
    conv.measures.append(name)


def _tool_states(col: model.Column, values):
    """Task states the tools write (已延期, 未完成 …) as the drop-down's labels."""
    def fix(v):
        if isinstance(v, str) and model.choice_key(col, v) is None:
            key = TOOL_STATES.get(v.strip())
            if key is not None:
                return next(ch.zh for ch in col.choices if ch.key == key)
        return v
    return [fix(v) for v in values]


_CELL = re.compile(r"^([A-Z]+)(\d+)$")


def _place_problem(p: Problem, source: Source, order: list[int], spec: model.TableSpec) -> Problem:
    """A reader problem on the pseudo sheet, re-addressed to the source's row and column."""
    m = _CELL.match(p.cell or "")
    message = re.sub(r" (?:in|of) (?:column '[^']*' of )?table '\w+'", "", p.message)
    message = re.sub(r" in measure column '[^']*' of table '\w+'", "", message)
    if m:
        from .reading.package import col_index

        j = order[col_index(m.group(1)) - 1] if col_index(m.group(1)) - 1 < len(order) else None
        i = int(m.group(2)) - 2
        if j is not None and 0 <= i < len(source.where):
            cell, where = source.place(i, j)
            return Problem(source.name, source.sheet, cell, f"{where}: {message}", p.value, p.expected, p.severity)
    return Problem(source.name, source.sheet, None, message, p.value, p.expected, p.severity)


# --- the result ---------------------------------------------------------------------------------
@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do) to one table."""

    path: Path
    table: str
    mode: str
    sources: list[str]
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    cleared: int = 0
    skipped: int = 0
    mapped: list[tuple[str, str, str]] = field(default_factory=list)  # (source header, target, how)
    unmapped: list[tuple[str, str | None]] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    map_saved: bool = False

    def __str__(self) -> str:
        verb = "would change" if self.dry_run else ("imported into" if self.written else "no change to")
        lines = [f"{verb} table {self.table} of {self.path.name} ({self.mode}): {self.rows_read} source row(s); "
                 f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.kept} kept"
                 + (f", {self.cleared} cleared" if self.cleared else "")
                 + (f", {self.skipped} bad row(s) skipped" if self.skipped else "")]
        if self.mapped:
            lines.append("  columns: " + ", ".join(f"{s} → {t}" + ("" if how in ("header", "existing") else f" ({how})")
                                                   for s, t, how in self.mapped))
        if self.new_columns:
            lines.append("  new columns: " + ", ".join(self.new_columns))
        for h, key in self.unmapped:
            lines.append(f"  not imported: '{h}'" + (f" (perhaps --map \"{h}={key}\")" if key else
                                                     " (no matching column; --map \"列=key\" to import it)"))
        for p in self.problems:
            lines.append(f"  {p.severity}: {p}")
        if self.map_saved:
            lines.append("  mapping saved in the Settings table")
        return "\n".join(lines)


# --- writing ---------------------------------------------------------------------------------
def _cell_value(v):
    if v is None:
        return None
    if isinstance(v, float):
        return None if v != v else v
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).date()
    if isinstance(v, pd.Timestamp):
        return v.date()
    if v is pd.NaT:
        return None
    return v


def _column_cells(spec: model.TableSpec, name: str, series: pd.Series, lang: str, measures: set[str]):
    """What goes into the cells of one column: numbers (a float array, NaN blank), dates, text,
    drop-down labels (object arrays, None blank)."""
    col = spec.column(name) if name in {c.key for c in spec.columns} else None
    arr = series.to_numpy()
    if arr.dtype.kind == "f":
        return arr.astype("float64", copy=True)
    if arr.dtype.kind == "M":
        days = arr.astype("datetime64[D]")
        return [None if np.isnat(d) else d.item() for d in days]
    codes, uniques = pd.factorize(np.asarray(arr, dtype=object), use_na_sentinel=True)
    conv = []
    for u in uniques:
        if col is not None and col.kind == model.CHOICE:
            u = next((ch.label(lang) for ch in col.choices if ch.key == u), u)
        elif spec is model.FACTS and name == "period" and isinstance(u, str):
            try:
                p = pd.Period(u)
                u = p.to_timestamp().date() if p.freqstr == "D" else u
            except ValueError:
                pass
        conv.append(_cell_value(u))
    out = np.empty(len(conv) + 1, dtype=object)
    out[:-1] = conv
    out[-1] = None
    return out[codes]


def _key_text(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return ""
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.date().isoformat()
    if isinstance(v, np.datetime64):
        return "" if np.isnat(v) else str(v.astype("datetime64[D]"))
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return model.normalize_header(v) if isinstance(v, str) else str(v)


def _same(a, b) -> bool:
    a, b = _cell_value(a), _cell_value(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    return _key_text(a) == _key_text(b) if isinstance(a, (dt.date, float)) or isinstance(b, (dt.date, float)) \
        else str(a) == str(b)


class _Job:
    """One workbook open for importing: its review (read once) and its editor; ``save`` writes once."""

    def __init__(self, path: Path):
        from .files import Source
        from .ooxml import WorkbookEditor
        from .reader import _Grids, read_tables
        from .ooxml.package import Package
        from .reading.package import find_tables

        self.path = path
        self.source = Source.read(path)  # first: a save after this is caught before the rename
        opened = Package.open(path, data=self.source.data)  # one read: the reader's and the editor's
        package = find_tables(opened)
        self._grids = _Grids(package)  # the reader's cell grids, kept for the rows above a table
        self.review, _ = read_tables(package, self._grids, source=str(path), check=False)
        self.original = self.source.data
        self.editor = WorkbookEditor(opened)
        self.lang = self.review.lang

    def grid(self, sheet: str) -> list:
        return self._grids.grid(sheet)

    def saved_map(self, table: str) -> dict[str, str]:
        df = self.review.tables.get("Settings")
        if df is None or df.empty:
            return {}
        for name, value in zip(df["setting"], df["value"]):
            m = _MAP_SETTING_RE.match(str(name)) if isinstance(name, str) else None
            if m and m.group(1).lower() == table.lower() and isinstance(value, str):
                return parse_map(value)
        return {}

    def save(self) -> bool:
        data = self.editor.to_bytes()
        if data == self.original:  # an upsert of an unchanged export: the file is left alone
            return False
        from .files import write_file

        write_file(self.path, data, source=self.source)  # lock file, read-only, changed meanwhile: refused
        return True


def _import_table(job: _Job, spec: model.TableSpec, sources: list[Source], *, mode: str, user_map: dict[str, str],
                  skip_bad: bool, save_map: bool, dry_run: bool) -> ImportResult:
    if mode not in MODES:
        raise InputError("unknown import mode", value=mode, expected=" / ".join(MODES))
    review, lang = job.review, job.lang
    layout = review.layouts.get(spec.name)
    if layout is None:
        raise InputError(f"the workbook has no Excel Table named '{spec.name}'", file=job.path,
                         expected="a workbook made by `reviewkit new`")
    table = job.editor.table(spec.name)
    result = ImportResult(job.path, spec.name, mode, [s.name for s in sources], dry_run=dry_run)
    existing_names = list(table.columns)
    saved = job.saved_map(spec.name)
    frames, problems = [], []
    used_map: dict[str, str] = {}
    for source in sources:
        mapping = map_headers(spec, source.headers, user_map if len(sources) == 1 else
                              {k: v for k, v in user_map.items()
                               if model.normalize_header(k) in {model.normalize_header(h) for h in source.headers}},
                              saved, existing_names)
        for j, target in sorted(mapping.columns.items()):
            shown = spec.column(target).header(lang) if target in {c.key for c in spec.columns} else target
            entry = (source.headers[j], shown, mapping.how[j])
            if entry not in result.mapped:
                result.mapped.append(entry)
            if mapping.how[j] in ("map", "saved"):
                used_map[source.headers[j]] = target
        for h in mapping.ignored:
            used_map[h] = "-"
        result.unmapped += [u for u in mapping.unmapped if u not in result.unmapped]
        if not mapping.columns:
            raise InputError(f"no column of the source matches a column of table '{spec.name}'", file=source.name,
                             value=source.headers[:8], expected="headers such as " + ", ".join(
                                 c.header(lang) for c in spec.input_columns[:5]) + "; or --map \"来源列=key\"")
        conv = _convert(spec, source, mapping, lang, frozenset(review.measures) if spec is model.FACTS else frozenset())
        missing = [c for c in spec.input_columns if c.required and c.key not in conv.targets]
        if missing:
            hint = "; ".join(f"'{h}' → {k}?" for h, k in mapping.unmapped if k) or "none of its columns fits"
            raise InputError(f"the source has no column for the required '{missing[0].header(lang)}' of table "
                             f"'{spec.name}'", file=source.name, value=[h for h, _ in mapping.unmapped] or None,
                             expected=f"a column named '{missing[0].zh}' or '{missing[0].en}', or "
                                      f"--map \"来源列={missing[0].key}\" ({hint})")
        result.rows_read += len(source.where)
        errors = [p for p in conv.problems if p.severity == "error"]
        problems += conv.problems
        df = conv.frame
        if errors and skip_bad:
            bad_rows = {_row_of(p, source) for p in errors}
            if None in bad_rows:  # a summarized problem: find the rows by refusal, not by message
                bad_rows = _bad_rows_by_parse(conv, source, mapping, spec)
            mask = [i not in bad_rows for i in conv.keep]
            result.skipped += len(mask) - sum(mask)
            df = df[np.array(mask, dtype=bool)].reset_index(drop=True)
            conv.keep = [i for i, k in zip(conv.keep, mask) if k]
        frames.append((conv, df, source))
    result.problems = problems
    errors = [p for p in problems if p.severity == "error"]
    if errors and not skip_bad:
        raise ValidationError(errors)
    targets: list[str] = []
    for conv, _, _ in frames:
        targets += [t for t in conv.targets if t not in targets]
    measures = {m for conv, _, _ in frames for m in conv.measures}
    new_df = pd.concat([df.reindex(columns=targets) for _, df, _ in frames], ignore_index=True) \
        if len(frames) > 1 else frames[0][1].reindex(columns=targets)
    plan = _plan_rows(job, spec, layout, table, new_df, targets, mode, frames, result)
    _record(job, spec, layout, table, new_df, targets, plan, measures, result)
    if save_map and (used_map or result.unmapped):
        _save_map(job, spec, used_map)
        result.map_saved = True
    return result


def _row_of(p: Problem, source: Source) -> int | None:
    m = re.match(r"^(row \d+|record \d+(?: \([^)]*\))?|index .*?), (?:column|field) ", p.message)
    if not m:
        return None
    try:
        return source.where.index(m.group(1))
    except ValueError:
        return None


def _bad_rows_by_parse(conv: _Converted, source: Source, mapping: Mapping, conv_spec: model.TableSpec) -> set[int]:
    """Rows with any refused value when the reader summarized repeats: converted again row-wise."""
    bad: set[int] = set()
    for p in conv.problems:
        i = _row_of(p, source)
        if i is not None:
            bad.add(i)
    # a summarized remainder: every row whose converted value is missing where the source had one
    for j, target in mapping.columns.items():
        if target not in conv.frame.columns:
            continue
        values = conv.frame[target].tolist()
        for pos, v in enumerate(values):
            raw = source.columns[j][conv.keep[pos]]
            required = target in {c.key for c in conv_spec.input_columns if c.required}
            if _cell_value(v) is None and (required or not _blank(raw)):
                bad.add(conv.keep[pos])
    return bad


@dataclass
class _RowPlan:
    updates: list[tuple[int, int]]  # (frame row, sheet row)
    appends: list[int]  # frame rows to add
    clear: list[int]  # sheet rows to blank (replace mode)
    start: int  # first sheet row of the appended rows


def _plan_rows(job: _Job, spec, layout: model.TableLayout, table, new_df: pd.DataFrame, targets: list[str],
               mode: str, frames, result: ImportResult) -> _RowPlan:
    rows = list(layout.rows)
    n = len(new_df)
    if mode == "replace":
        start = layout.first_row
        updates = []
        result.added = n
        clear = [r for r in rows if r >= start + n]
        result.cleared = len(clear)
        return _RowPlan(updates, list(range(n)), clear, start)
    start = (max(rows) + 1) if rows else layout.first_row
    if mode == "append":
        result.added, result.kept = n, len(rows)
        return _RowPlan([], list(range(n)), [], start)
    key_cols = next((k for k in UPSERT_KEYS.get(spec.name, ()) if all(c in targets for c in k)), None)
    if spec is model.FACTS:
        dims = [t for t in targets if t not in {m for conv, _, _ in frames for m in conv.measures}]
        key_cols = tuple(dims) if {"period", "unit"} <= set(dims) else None
    if key_cols is None:
        options = " or ".join("+".join(k) for k in UPSERT_KEYS.get(spec.name, ())) or "period+unit+dimensions"
        raise InputError(f"upsert needs the key columns of table '{spec.name}' in the source", value=targets,
                         expected=f"columns {options} (or use --append / --replace)")
    old = job.review.tables[spec.name]
    old_keys = {}
    for pos, key in enumerate(zip(*[old[c].tolist() if c in old.columns else [None] * len(old) for c in key_cols])):
        old_keys.setdefault(tuple(_key_text(v) for v in key), pos)
    seen: dict[tuple, int] = {}
    dups = []
    updates, appends = [], []
    new_lists = [new_df[c].tolist() for c in key_cols]
    for i, key in enumerate(zip(*new_lists)):
        k = tuple(_key_text(v) for v in key)
        if k in seen:
            dups.append((seen[k], i, k))
            continue
        seen[k] = i
        if k in old_keys:
            updates.append((i, rows[old_keys[k]]))
        else:
            appends.append(i)
    if dups:
        first, second, k = dups[0]
        raise ValidationError([Problem(result.sources[0], None, None,
                                       f"rows {first + 1} and {second + 1} of the imported rows have the same key "
                                       f"({'+'.join(key_cols)} = {' / '.join(k)})", None,
                                       "one row per key in upsert mode")
                               for first, second, k in dups[:20]])
    matched = {old_keys[k] for k in seen if k in old_keys}
    result.kept = len(rows) - len(matched)
    result.added = len(appends)
    # which updates change something
    pos_of_row = {r: p for p, r in enumerate(rows)}
    changed = 0
    lists = {c: new_df[c].tolist() for c in targets}
    olds = {c: old[c].tolist() for c in targets if c in old.columns}
    for i, r in updates:
        p = pos_of_row[r]
        if any(c not in olds or not _same(lists[c][i], olds[c][p]) for c in targets):
            changed += 1
    result.updated, result.unchanged = changed, len(updates) - changed
    return _RowPlan(updates, appends, [], start)


def _record(job: _Job, spec, layout: model.TableLayout, table, new_df: pd.DataFrame, targets: list[str],
            plan: _RowPlan, measures: set[str], result: ImportResult) -> None:
    """Record the cells, the table's growth and the stretched validations with the editor."""
    from .ooxml.cellref import col_to_num, num_to_col

    ws = job.editor.sheet(layout.sheet)
    r1, c1, r2, c2 = table.box
    last_data = r2 - table.totals_rows
    letters = {k: v for k, v in layout.columns.items()}
    new_cols = [t for t in targets if t not in letters]
    result.new_columns = new_cols
    for k, name in enumerate(new_cols):
        letters[name] = num_to_col(c2 + 1 + k)
    lang = job.lang
    cells = {t: _column_cells(spec, t, new_df[t], lang, measures) for t in targets}
    n_append = len(plan.appends)
    new_last = max(last_data, plan.start + n_append - 1)
    # room below and beside the table
    if new_last > last_data or new_cols:
        _check_room(job, layout.sheet, table, last_data, new_last, len(new_cols))
    style_row = ws.cell_styles(last_data) if last_data >= layout.first_row else {}
    header_styles = ws.cell_styles(layout.header_row)
    last_style = style_row.get(c2)
    styles = {col_to_num(letters[t]): style_row.get(col_to_num(letters[t]), last_style) for t in targets}
    if new_cols:
        ws.write_rows(layout.header_row, {col_to_num(letters[t]): [t] for t in new_cols},
                      styles={col_to_num(letters[t]): header_styles.get(c2) for t in new_cols})
        above = job.grid(layout.sheet)[layout.header_row - 2] if layout.header_row > 1 else []
        role = above[c2 - 1] if len(above) >= c2 else None
        if isinstance(role, str) and role.strip() in ("输入", "input"):  # the template's column roles
            ws.write_rows(layout.header_row - 1, {col_to_num(letters[t]): [role] for t in new_cols},
                          styles={col_to_num(letters[t]): ws.cell_styles(layout.header_row - 1).get(c2)
                                  for t in new_cols})
        for t in new_cols:  # as wide as the template makes an open Facts column
            ws.set_column_width(letters[t], max(10.0, min(30.0, 2.0 * len(t) + 2)))
    all_letters = [num_to_col(c) for c in range(c1, c2 + 1)]
    if plan.clear or (result.mode == "replace"):
        blank_cols = [col_to_num(x) for x in all_letters if x not in {letters[t] for t in targets}]
        for r in plan.clear:
            for c in range(c1, c2 + 1):
                ws.write(f"{num_to_col(c)}{r}", None)
        if blank_cols and n_append:
            rows_with_data = [r for r in layout.rows if plan.start <= r < plan.start + n_append]
            for r in rows_with_data:
                for c in blank_cols:
                    ws.write(f"{num_to_col(c)}{r}", None)
    for i, r in plan.updates:
        for t in targets:
            ws.write(f"{letters[t]}{r}", _cell_value(cells[t][i]))
    if n_append:
        idx = plan.appends
        whole = idx == list(range(len(new_df)))
        columns = {col_to_num(letters[t]): (cells[t] if whole else [cells[t][i] for i in idx]) for t in targets}
        formulas = {}
        name_col = {name: c1 + k for k, name in enumerate(table.columns)}
        for name, formula in table.formulas.items():
            c = name_col.get(name)
            if c is not None and c not in columns:
                formulas[c] = formula
                styles.setdefault(c, style_row.get(c))
        blank = [None] * len(idx)
        # the table's other columns formatted like the rows above; not in Facts, where an export
        # brings many rows and the template keeps it plain too (no drop-downs there either)
        for c in range(c1, c2 + 1) if spec is not model.FACTS else ():
            if c not in columns and c not in formulas and style_row.get(c):
                columns[c] = blank
                styles[c] = style_row[c]
        ws.write_rows(plan.start, columns, styles=styles, formulas=formulas)
    if new_last > last_data or new_cols:
        table.grow(new_last, new_cols)
        ws.extend_ranges(c1, c2 + len(new_cols), layout.first_row, new_last)


def _check_room(job: _Job, sheet: str, table, last_data: int, new_last: int, n_new: int) -> None:
    r1, c1, r2, c2 = table.box
    grid = job.grid(sheet)
    def look(rows, cols):
        for r in rows:
            if r - 1 >= len(grid):
                return None
            row = grid[r - 1]
            for c in cols:
                if c - 1 < len(row) and not _blank(row[c - 1]):
                    return r, c, row[c - 1]
        return None
    hit = look(range(r2 + 1, new_last + 1), range(c1, c2 + 1))
    if hit is None and n_new:
        hit = look(range(r1, new_last + 1), range(c2 + 1, c2 + n_new + 1))
    if hit is not None:
        from .ooxml.cellref import cell_name

        r, c, v = hit
        raise InputError(f"table '{table.name}' cannot grow to hold the imported rows: a cell in the way is not "
                         "empty", file=job.path, sheet=sheet, cell=cell_name(r, c), value=v,
                         expected="empty cells below and right of the table (move what is there)")


def _save_map(job: _Job, spec: model.TableSpec, used: dict[str, str]) -> None:
    """Keep the mapping in the Settings table: one row per table, updated in place."""
    layout = job.review.layouts.get("Settings")
    if layout is None or "setting" not in layout.columns or "value" not in layout.columns:
        raise InputError("the workbook has no Settings table to keep the mapping in", file=job.path,
                         expected="a workbook made by `reviewkit new`")
    text = "; ".join(f"{k}={v}" for k, v in used.items())
    name = MAP_SETTING[job.lang].format(table=spec.name)
    df = job.review.tables["Settings"]
    ws = job.editor.sheet(layout.sheet)
    for pos, setting in enumerate(df["setting"].tolist()):
        m = _MAP_SETTING_RE.match(str(setting)) if isinstance(setting, str) else None
        if m and m.group(1).lower() == spec.name.lower():
            ws.write(layout.cell("value", pos), text)
            return
    settings_table = job.editor.table("Settings")
    sub = pd.DataFrame({"setting": [name], "value": [text]})
    result = ImportResult(job.path, "Settings", "append", [])
    plan = _plan_rows(job, model.SETTINGS, layout, settings_table, sub, ["setting", "value"], "append", [], result)
    _record(job, model.SETTINGS, layout, settings_table, sub, ["setting", "value"], plan, set(), result)


# --- public API -----------------------------------------------------------------------------------
def _spec_of(table: str) -> model.TableSpec:
    spec = model.TABLES_BY_NAME.get(TABLE_CHOICES.get(str(table).lower(), str(table)))
    if spec is None or spec is model.SETTINGS:
        raise InputError("unknown table", value=table, expected="one of " + ", ".join(TABLE_CHOICES))
    return spec


def _target(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError("the workbook does not exist", file=path, expected="a review workbook (reviewkit new FILE)")
    from .files import check_target

    check_target(path, replace=True)  # open in Excel (a ~$ lock file) or read-only: refused before the work
    return path


def import_sources(sources, into, *, table: str, mode: str = "append", mapping: str | dict | None = None,
                   sheet: str | None = None, source_table: str | None = None, encoding: str | None = None,
                   delimiter: str | None = None, save_map: bool = False, skip_bad: bool = False,
                   dry_run: bool = False) -> ImportResult:
    """Import the files ``sources`` into table ``table`` of the workbook ``into`` (``reviewkit import``).

    Raises ``ValidationError`` listing every bad value (source, row, column) and writes nothing,
    unless ``skip_bad``; ``dry_run`` computes the result without writing.
    """
    spec = _spec_of(table)
    path = _target(into)
    if isinstance(sources, (str, Path)):
        sources = [sources]
    read = [read_source(s, sheet=sheet, table=source_table, encoding=encoding, delimiter=delimiter) for s in sources]
    user = parse_map(mapping) if isinstance(mapping, str) or mapping is None else dict(mapping)
    job = _Job(path)
    try:
        result = _import_table(job, spec, read, mode=mode, user_map=user, skip_bad=skip_bad, save_map=save_map,
                               dry_run=dry_run)
        if not dry_run:
            result.written = job.save()
    finally:
        job.editor.close()
    return result


def write_tables(path, *, mode: str = "append", mapping: dict[str, str | dict] | None = None,
                 skip_bad: bool = False, dry_run: bool = False, **tables: pd.DataFrame) -> list[ImportResult]:
    """Put DataFrames into the tables of the workbook at ``path``: ``write_tables(p, facts=df, scorecard=df2)``.

    Columns are matched like a file's headers (canonical keys such as ``target``, the Chinese or
    English headers, synonyms); ``mapping={"facts": {"月份": "period"}}`` names the rest. Every
    table is written in one atomic save; nothing is written when a value is bad (``skip_bad``
    leaves those rows out). ``mode``: append, replace or upsert.
    """
    target = _target(path)
    job = _Job(target)
    results = []
    try:
        for name, df in tables.items():
            spec = _spec_of(name)
            user = (mapping or {}).get(name) or {}
            user = parse_map(user) if isinstance(user, str) else dict(user)
            results.append(_import_table(job, spec, [frame_source(df, spec.name)], mode=mode, user_map=user,
                                         skip_bad=skip_bad, save_map=False, dry_run=dry_run))
        if not dry_run:
            written = job.save()
            for r in results:
                r.written = written
    finally:
        job.editor.close()
    return results


def new(path, *, preset: str = "sales", lang: str = "zh", tables: dict[str, pd.DataFrame] | None = None,
        overwrite: bool = False, macro: bool = False) -> Path:
    """A new review workbook (``reviewkit new``), with ``tables`` (``{"facts": df, …}``) written in."""
    from .templates import build_template

    out = build_template(path, preset=preset, lang=lang, macro=macro, overwrite=overwrite)
    if tables:
        write_tables(out, mode="replace", **tables)
    return out
