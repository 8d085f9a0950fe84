"""Read a review workbook into a ``model.Review``, and check workbooks (``reviewkit check``).

Tables are found by their Excel Table name (``Scorecard``, ``KPIs`` …) through the package
parts (workbook.xml → sheet relationships → table parts), never by sheet position; columns are
found by header text with ``model.match_headers``, so users may reorder, translate or move them.
Cell values (including the cached results of formula cells) come from python-calamine, which
measured fastest (see ``benchmarks/bench_read.py``); the table XML is parsed with lxml safely.

Every value goes through ``reviewkit.numbers``. Problems are collected, never raised one by one:
``read_with_problems`` returns the review and every problem found; ``read_review`` raises one
``ValidationError`` carrying them all; ``check_files`` reports several files at once.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache, partial
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .errors import Problem, ReviewkitError, ValidationError, WorkbookFormatError
from .numbers import (DATE_EXPECTED, MAX_FIGURE, NUMBER_EXPECTED, PERCENT_EXPECTED, PERIOD_EXPECTED,
                      ParseError, Unit, parse_date, parse_in_unit, parse_number, parse_percent,
                      parse_period, parse_unit)
from ._pandas import block_arrays as _column_arrays
from ._pandas import frame_from_arrays, settled
from .ooxml.cells import MAX_TEXT
from .reading.messages import say
from .reading.package import MISSING_STRING, Package, TableInfo, col_letter, find_tables, parse_ref
from .reading.validate import _records, validate


__all__ = ["read_review", "read_with_problems", "read_tables", "check_files", "validate", "REQUIRED_TABLES",
           "MAX_PROBLEMS_PER_COLUMN"]

#: tables a review workbook cannot do without
REQUIRED_TABLES = ("KPIs", "Scorecard")
#: after this many bad values in one column, the rest are summarized in one problem
MAX_PROBLEMS_PER_COLUMN = 10

#: numeric fact columns whose header says they are labels (codes, IDs, years) stay dimensions
_DIMENSION_HINT = re.compile(r"(?:代码|编码|编号|号码|年份|年度|月份|季度|批次|"
                             r"(?:^|[\s_\-.])(?:id|code|no\.?|year|month|quarter|cohort))$", re.IGNORECASE)
_BRACKETS = re.compile(r"[（(\[【].*?[）)\]】]")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)$")
_col_letter = lru_cache(maxsize=1024)(col_letter)  # the same few dozen letters for every table


class _Problems:
    """Collects problems for one file, capping repeats per (table, column, message kind)."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []
        self._seen: Counter = Counter()
        self._hidden: Counter = Counter()
        self._where: dict = {}

    def add(self, message: str, *, sheet=None, cell=None, value=None, expected=None,
            severity: str = "error", group=None) -> None:
        if group is not None:
            self._seen[group] += 1
            if self._seen[group] > MAX_PROBLEMS_PER_COLUMN:
                self._hidden[group] += 1
                self._where[group] = (sheet, severity)
                return
        self.items.append(Problem(self.file, sheet, cell, message, value, expected, severity))

    def finish(self) -> list[Problem]:
        for group, n in self._hidden.items():
            sheet, severity = self._where[group]
            self.items.append(Problem(self.file, sheet, None,
                                      f"{n} more value(s) like the above in {group[0]}",
                                      None, None, severity))
        return self.items


# --- public API -------------------------------------------------------------------------
def read_review(path: str | Path | Package, *, strict: bool = True) -> model.Review:
    """Read every reviewkit table of ``path`` into a ``Review``.

    With ``strict`` (the default) any error found while reading or by ``validate`` raises one
    ``ValidationError`` listing them all; warnings never raise. A file that is not a usable
    workbook raises ``WorkbookFormatError`` (or ``UnsafeWorkbookError``).
    """
    review, problems = read_with_problems(path)
    if strict:
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise ValidationError(errors)
    return review


def read_with_problems(path: str | Path | Package, *, check: bool = True) -> tuple[model.Review, list[Problem]]:
    """Read ``path`` (or an opened ``Package``) and return the review plus every problem found
    (``validate`` too if ``check``).

    Raises only ``WorkbookFormatError`` (the file cannot be opened as a workbook at all).
    """
    pkg = find_tables(path)
    return read_tables(pkg, _Grids(pkg), source=str(getattr(path, "path", path)), check=check)


def read_tables(package, grids, *, source: str = "", check: bool = True
                ) -> tuple[model.Review, list[Problem]]:
    """The reading loop over any source of tables and cells; returns (review, problems).

    ``package`` answers ``.table(name) -> TableInfo | None``, ``.tables`` (every TableInfo) and
    ``.sheets`` (sheet names); ``grids`` answers ``.grid(sheet)`` (rows from A1 as lists, blank
    cells as '', numbers as float, dates as ``datetime``) and ``.errors(sheet)`` ({'D4': '#N/A'}).
    The file reader passes the zip package and calamine; the xlwings engine passes the open book.
    """
    sink = _Problems(source)
    review = model.Review(source=source or None)
    langs: Counter = Counter()
    units = None
    for spec in model.TABLES:
        info = package.table(spec.name)
        if info is None:
            _missing_table(package, spec, sink)
            continue
        read = _TableReader(spec, info, grids, sink, langs)
        read.date1904 = bool(getattr(package, "date1904", False))
        if spec is model.FACTS:
            read.numeric_names = _fact_columns_named_by_kpis(review)
        if units is None and "KPIs" in review.tables:  # once, after the KPIs table is read
            units = _kpi_units(review)
        read.kpi_units, read.measure_units = units or ({}, {})
        df, layout = read.run()
        review.tables[spec.name] = df
        review.layouts[spec.name] = layout
        if read.text_numbers:
            review.text_numbers.setdefault(layout.sheet, {}).update(read.text_numbers)
        if read.trimmed:
            review.trimmed_keys.setdefault(layout.sheet, {}).update(read.trimmed)
        if spec is model.FACTS:
            review.dimensions, review.measures = read.dimensions, read.measures
    review.lang = "en" if langs["en"] > langs["zh"] else "zh"
    _kpis_by_name(review)
    review.settings = _settings(review, sink)
    review.peer_ranks = _peer_ranks(package, grids)
    _link_fact_columns(review)
    problems = sink.finish()
    if check:
        problems += validate(review)
    # each problem is said in the workbook's language (Problem.render)
    problems = [dataclasses.replace(p, lang=review.lang) for p in problems]
    return review, problems


def check_files(paths: Iterable[str | Path]) -> list[Problem]:
    """Read and validate each workbook; return every problem of every file (never raises for
    a bad file: an unreadable file becomes one problem)."""
    problems: list[Problem] = []
    for path in paths:
        try:
            _, found = read_with_problems(path)
        except ReviewkitError as exc:
            found = [Problem(str(path), exc.sheet, exc.cell, exc.detail, exc.value, exc.expected)]
        except Exception as exc:  # noqa: BLE001 - one odd file must not hide the others' report
            found = [Problem(str(path), None, None,
                             f"the workbook could not be read ({type(exc).__name__}: {exc})",
                             None, "a workbook saved by Excel; if it opens in Excel, please report "
                             "this as a reviewkit bug")]
        problems.extend(found)
    return problems


# --- cells ---------------------------------------------------------------------------------
class _Grids:
    """Cell values per sheet from python-calamine (cached values of formula cells included)."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self._wb = None
        self._cache: dict[str, list[list]] = {}
        self._errors: dict[str, dict[str, str]] = {}

    def grid(self, sheet: str) -> list[list]:
        if sheet not in self._cache:
            import io

            from python_calamine import CalamineWorkbook

            try:
                if self._wb is None:
                    self._wb = CalamineWorkbook.from_filelike(io.BytesIO(self.pkg.data))
                self._cache[sheet] = self._wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception as exc:  # noqa: BLE001 - calamine raises several unrelated types
                raise WorkbookFormatError(f"the cells of the sheet cannot be read ({exc})",
                                          file=self.pkg.path, sheet=sheet,
                                          expected="an undamaged .xlsx; save it again in Excel") from None
        return self._cache[sheet]

    def merged(self, sheet: str) -> list[str]:
        """Merged ranges of ``sheet`` ('A5:A6')."""
        return self.pkg.merged_cells(sheet)

    def errors(self, sheet: str) -> dict[str, str]:
        """Excel error cells of ``sheet``: {'D4': '#DIV/0!'} (calamine returns them blank)."""
        if sheet not in self._errors:
            self._errors[sheet] = self.pkg.error_cells(sheet)
        return self._errors[sheet]


def _peer_ranks(package, grids):
    """The ranks a split department workbook carries from its master (None in other workbooks)."""
    from .split import PEER_SHEET, read_peer_ranks

    sheet = next((s for s in getattr(package, "sheets", ()) if s in PEER_SHEET), None)
    if sheet is None:
        return None
    try:
        return read_peer_ranks(grids.grid(sheet))
    except ReviewkitError:
        return None  # an unreadable benchmark sheet: the workbook's own ranks are used


def _missing_table(pkg: Package, spec: model.TableSpec, sink: _Problems) -> None:
    if spec.name not in REQUIRED_TABLES:
        sheet = next((s for s in pkg.sheets if s in (spec.sheet_zh, spec.sheet_en)), None)
        if sheet is not None:
            sink.add(f"sheet '{sheet}' has no Excel Table named '{spec.name}', so its cells are not read",
                     sheet=sheet, severity="warning",
                     expected=f"select the data, Insert > Table, and name it '{spec.name}'")
        return
    hint = ""
    for t in pkg.tables:  # a table with the right columns but another name?
        found, _ = model.match_headers(spec, [c.name for c in t.columns])
        need = [c.key for c in spec.columns if c.required]
        if need and all(k in found for k in need) and model.TABLES_BY_NAME.get(t.name) is None:
            hint = f"; table '{t.name}' on sheet '{t.sheet}' has its columns: rename it to '{spec.name}'"
            sink.add(f"no Excel Table named '{spec.name}'{hint}", sheet=t.sheet, cell=t.ref,
                     value=t.name, expected=f"a table named '{spec.name}' (Table Design > Table Name)")
            return
    sheet = next((s for s in pkg.sheets if s in (spec.sheet_zh, spec.sheet_en)), None)
    if sheet is not None:
        sink.add(f"sheet '{sheet}' has no Excel Table named '{spec.name}' (plain cells are not read)",
                 sheet=sheet, expected=f"select the data, Insert > Table, and name it '{spec.name}'")
    else:
        sink.add(f"the workbook has no Excel Table named '{spec.name}'",
                 value=", ".join(t.name for t in pkg.tables) or None,
                 expected=f"a table named '{spec.name}' (sheet '{spec.sheet_zh}' / '{spec.sheet_en}'); "
                          "start from `reviewkit new`")


def _text(v: object) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if np.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ") if v.time() != _dt.time() else v.date().isoformat()
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return str(v)


def _is_blank(v: object) -> bool:
    return v is None or v == "" or (isinstance(v, str) and not v.strip())


def _all_blank(block: list[list], positions: list[int]) -> bool:
    """True when every cell at ``positions`` of every row is certainly blank for ``_Column``
    (None, NaN, empty or white-space text; a position past a short row reads as '')."""
    for row in block:
        width = len(row)
        for j in positions:
            if j >= width:
                continue
            v = row[j]
            if v is None or (type(v) is str and not v.strip()) or (type(v) is float and v != v):
                continue
            return False
    return True


#: cell value types whose equality and hashing match pandas' object factorization exactly
_PLAIN_TYPES = frozenset({str, float, int, bool, _dt.datetime, _dt.date, _dt.time, _dt.timedelta})
#: columns up to this many cells are factorized in plain Python (pandas' call overhead dominates)
_SMALL_COLUMN = 2000


def _factorize_small(values: list) -> tuple[np.ndarray, list] | None:
    """``pd.factorize(values, use_na_sentinel=True)`` as (codes, uniques) for plain cell values.

    First-seen order, None and NaN as -1, equal values (1.0 and True) share a code, as in
    pandas. None when a value is of another type: the caller uses pandas then.
    """
    index: dict = {}
    codes = []
    append = codes.append
    for v in values:
        t = type(v)
        if t is float and v != v or v is None:
            append(-1)
            continue
        if t is not str and t not in _PLAIN_TYPES:
            return None
        code = index.get(v)
        if code is None:
            code = index[v] = len(index)
        append(code)
    return np.array(codes, dtype=np.intp), list(index)


class _Column:
    """One table column as pandas factor codes over its distinct cell values.

    Every value is parsed once per distinct value, not once per row: a 100,000-row facts
    column has a handful of periods and units, and numbers arrive as floats already.
    """

    def __init__(self, values: list):
        small = _factorize_small(values) if len(values) <= _SMALL_COLUMN else None
        if small is not None:
            self.codes, self.uniques = small
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            self.codes, uniques = pd.factorize(arr, use_na_sentinel=True)
            self.uniques = list(uniques)
        # blank per distinct value, plus a trailing True for code -1 (None)
        self.blank_u = np.array([_is_blank(u) for u in self.uniques] + [True], dtype=bool)

    def keep(self, mask: np.ndarray) -> None:
        self.codes = self.codes[mask]

    @property
    def blank(self) -> np.ndarray:
        return self.blank_u[self.codes]

    def take(self, converted: list, dtype=object, fill=None) -> np.ndarray:
        """``converted[i]`` is the value for ``uniques[i]``; spread it over the rows."""
        arr = np.empty(len(converted) + 1, dtype=dtype)
        arr[:-1] = converted
        arr[-1] = fill
        return arr[self.codes]

    def positions(self, bad_u: list[bool]) -> np.ndarray:
        """Row positions whose value is one of the flagged distinct values."""
        mask = np.array(list(bad_u) + [False], dtype=bool)
        return np.flatnonzero(mask[self.codes])


class _TableReader:
    """Turns one Excel Table into a DataFrame with canonical keys, plus its ``TableLayout``."""

    def __init__(self, spec: model.TableSpec, info: TableInfo, grids: _Grids, sink: _Problems,
                 langs: Counter):
        self.spec, self.info, self.grids, self.sink, self.langs = spec, info, grids, sink, langs
        self.dimensions: list[str] = []
        self.measures: list[str] = []
        self.numeric_names: set[str] = set()  # normalized fact headers the KPIs use as numbers
        self.date1904 = False  # the workbook's date system, for serial numbers typed as dates
        #: normalized KPI key or name -> its unit; normalized fact measure -> its KPI's unit
        self.kpi_units: dict[str, Unit] = {}
        self.measure_units: dict[str, Unit] = {}
        #: worksheet cell -> number, for text cells of number columns read as numbers
        self.text_numbers: dict[str, float] = {}
        self.trimmed: dict[str, str] = {}  # key cell -> its text without surrounding spaces
        self.header_units: dict[int, Unit] = {}
        self.row_units = None
        self._index = -1

    def _add(self, message, cell=None, value=None, expected=None, severity="error", group=None):
        self.sink.add(message, sheet=self.info.sheet, cell=cell, value=value, expected=expected,
                      severity=severity, group=group)

    def run(self) -> tuple[pd.DataFrame, model.TableLayout]:
        spec, info = self.spec, self.info
        header_row = info.first_row
        width = info.last_col - info.first_col + 1
        letters = [_col_letter(info.first_col + i) for i in range(width)]
        headers = [c.name for c in info.columns]
        if len(headers) != width:  # a broken part: trust the range
            headers = (headers + [""] * width)[:width]
        if info.header_rows == 0:
            self._add(f"table '{info.name}' has no header row, so its columns cannot be found",
                      cell=info.ref, expected="Table Design > Header Row turned on")
            return self._empty(), model.TableLayout(spec.name, info.sheet, info.ref, header_row,
                                                    header_row, header_row - 1)
        found, unmatched, zh, en = _matched(spec, headers)
        if zh:
            self.langs["zh"] += zh
        if en:
            self.langs["en"] += en
        self._check_headers(found, unmatched, headers, letters, header_row)
        extras = self._extras
        first = header_row + 1
        last = info.last_row - info.totals_rows
        # -- cells, column by column --------------------------------------------------------
        grid = self.grids.grid(info.sheet)
        errors: dict[str, dict[int, str]] = {}  # column letters -> {row: '#N/A'}
        for ref, err in self.grids.errors(info.sheet).items():
            m = _CELL_REF.match(ref)
            if m:
                errors.setdefault(m.group(1), {})[int(m.group(2))] = err
        n = max(last - first + 1, 0)
        block = grid[first - 1:last]
        wanted = {found[c.key]: c for c in spec.input_columns if c.key in found}
        wanted_extra = dict(extras)
        cols: dict[int, _Column] = {}
        self.error_values: set[str] = set()
        full_width = all(len(row) >= info.last_col for row in block)  # calamine: rectangular
        read = sorted(set(wanted) | set(wanted_extra))
        if n and not any(first <= r <= last for i in read for r in errors.get(letters[i], ())) \
                and _all_blank(block, [info.first_col - 1 + i for i in read]):
            n = 0  # only blank rows (a template's empty lines): nothing to read
        for i in read if n else ():
            j = info.first_col - 1 + i
            if full_width:
                values = list(map(itemgetter(j), block))
            else:
                values = [row[j] if j < len(row) else "" for row in block]
            values += [""] * (n - len(values))
            for r, err in errors.get(letters[i], {}).items():  # read back blank: put the text in
                if first <= r <= last:
                    values[r - first] = err
                    self.error_values.add(err)
            cols[i] = _Column(values)
        if cols:
            keep = ~np.logical_and.reduce([c.blank for c in cols.values()])
        else:
            keep = np.zeros(n, dtype=bool)
        for c in cols.values():
            c.keep(keep)
        rows = tuple(np.arange(first, last + 1)[keep].tolist()) if n else ()
        self.rows, self.letters = rows, letters
        self.header_units = {i: u for i in read if (u := _header_unit(headers[i])) is not None}
        self.row_units = None
        if rows and self.kpi_units and "kpi" in found and found["kpi"] in cols:
            kcol = cols[found["kpi"]]
            units = [self.kpi_units.get(model.normalize_header(t)) if t is not None else None
                     for t in (_text(u) for u in kcol.uniques)]
            if any(u is not None for u in units):
                self.row_units = kcol.take(units)
        # -- conversion ---------------------------------------------------------------------
        # Most tables of a departmental workbook have no rows: their (empty) columns need no
        # parsing, only the right dtypes, and nothing in them can be a problem.
        data: dict[str, object] = {}
        for i, col in sorted(wanted.items()):
            self._index = i
            data[col.key] = self._convert(col, cols[i], letters[i]) if rows else self._convert_empty(col)
        for i, name in extras:
            if name in data:
                self._add(f"column '{name}' appears twice; the second is ignored",
                          cell=f"{letters[i]}{header_row}", value=name, severity="warning",
                          expected="unique column headers")
                continue
            self._index = i
            data[name] = self._extra(name, cols[i] if rows else _Column([]), letters[i])
        for c in spec.input_columns:  # absent optional columns exist, empty, with the right dtype
            if c.key not in data:
                data[c.key] = _empty_column(c.kind, len(rows))
        if spec is model.FACTS and "period" in found:  # a missing period column is a problem, reported below
            data["year"] = self._year_column
        df = _frame(data, len(rows))
        col_letters = {k: letters[i] for k, i in found.items()}
        col_letters.update({name: letters[i] for i, name in extras})
        header_text = {k: headers[i] for k, i in found.items()}
        header_text.update({name: headers[i] for i, name in extras})
        layout = model.TableLayout(table=spec.name, sheet=info.sheet, ref=info.ref,
                                   header_row=header_row, first_row=first, last_row=last,
                                   columns=col_letters, headers=header_text, rows=rows)
        merged = self._merged_cells(first, last, letters) if rows else {}
        for i, col in wanted.items() if rows else ():
            # A setting left blank keeps its default: a fresh template is not an error.
            if col.required and not (spec is model.SETTINGS and col.key == "value"):
                blank = cols[i].blank
                inside = np.array([f"{letters[i]}{r}" in merged for r in rows], dtype=bool)
                self._report(blank & ~inside, lambda pos: None, letters[i],
                             f"the required '{col.header(self._lang())}' is empty in table '{spec.name}'",
                             f"a value for '{col.header(self._lang())}'", "required", with_value=False)
                for pos in np.flatnonzero(blank & inside).tolist():
                    cell = f"{letters[i]}{rows[pos]}"
                    whole, top = merged[cell]
                    self._add(say("required_merged", self._lang(), column=col.header(self._lang()),
                                  first=top, cells=whole), cell=cell,
                              expected=say("merged_expected", self._lang()))
        return df, layout

    def _merged_cells(self, first: int, last: int, letters: list[str]) -> dict[str, tuple[str, str]]:
        """Cells of the table's data rows inside merged ranges, other than a range's first cell:
        cell -> (the range, its first cell); each range is reported once as a warning."""
        merged_of = getattr(self.grids, "merged", None)
        if merged_of is None:
            return {}
        out: dict[str, tuple[str, str]] = {}
        lo, hi = self.info.first_col, self.info.last_col
        for ref in merged_of(self.info.sheet):
            try:
                c1, r1, c2, r2 = parse_ref(ref)
            except ValueError:
                continue
            if r2 < first or r1 > last or c2 < lo or c1 > hi:
                continue
            top = f"{_col_letter(c1)}{r1}"
            self._add(say("merged", self._lang(), cells=ref, table=self.spec.name, first=top), cell=ref,
                      expected=say("merged_expected", self._lang()), severity="warning")
            for r in range(max(r1, first), min(r2, last) + 1):
                for c in range(max(c1, lo), min(c2, hi) + 1):
                    if (r, c) != (r1, c1):
                        out[f"{_col_letter(c)}{r}"] = (ref, top)
        return out

    # -- headers ---------------------------------------------------------------------------
    def _check_headers(self, found, unmatched, headers, letters, header_row) -> None:
        spec, info = self.spec, self.info
        by_key = {c.key: c for c in spec.columns}
        for c in spec.columns:
            if c.required and c.key not in found:
                self._add(f"table '{info.name}' lacks the required column '{c.header(self._lang())}'",
                          cell=f"{letters[0]}{header_row}:{letters[-1]}{header_row}",
                          value=list(headers),
                          expected=f"a header '{c.zh}' or '{c.en}'"
                                   + (f" (or {', '.join(c.synonyms[:4])})" if c.synonyms else ""))
        self._extras: list[tuple[int, str]] = []
        for i, h in unmatched:
            cell = f"{letters[i]}{header_row}"
            norm = model.normalize_header(h)
            dup = next((k for k in found if norm and norm in model.header_aliases(by_key[k])), None)
            if dup is not None:
                self._add(f"column '{h}' is a second '{by_key[dup].header(self._lang())}' column and is "
                          "ignored", cell=cell, value=h, severity="warning",
                          expected=f"one column per field (the first, {letters[found[dup]]}, is used)")
            elif spec.open_columns and str(h).strip():
                self._extras.append((i, str(h).strip()))
            elif not spec.open_columns:
                self._add(f"column '{h}' is not a column of table '{spec.name}' and is ignored",
                          cell=cell, value=h, severity="warning",
                          expected="one of " + ", ".join(c.header(self._lang())
                                                         for c in spec.input_columns))

    def _lang(self) -> str:
        return "en" if self.langs["en"] > self.langs["zh"] else "zh"

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c.key: _empty_column(c.kind, 0) for c in self.spec.input_columns})

    # -- values ----------------------------------------------------------------------------
    def _report(self, mask: np.ndarray, why, letter: str, message: str, expected: str, kind: str,
                *, col: _Column | None = None, severity: str = "error", with_value: bool = True) -> None:
        """One problem per flagged row (capped per column; the rest are counted)."""
        group = (f"{message} (column {letter})", kind)
        for pos in np.flatnonzero(mask):
            value = col.uniques[col.codes[pos]] if (with_value and col is not None) else None
            detail = why(pos)
            text = f"{detail} in {message}" if detail else message
            self._add(text, cell=f"{letter}{self.rows[pos]}", value=value, expected=expected,
                      severity=severity, group=group)

    def _parse_uniques(self, col: _Column, parse) -> tuple[list, list]:
        """(converted, refusal detail or None) per distinct value."""
        out, why = [], []
        for u in col.uniques:
            if type(u) is float and parse is parse_number and -MAX_FIGURE <= u <= MAX_FIGURE:  # not inf/NaN
                out.append(u)
                why.append(None)
                continue
            try:
                out.append(parse(u))
                why.append(None)
            except ParseError as exc:
                out.append(None)
                why.append(exc.detail)
        return out, why

    def _flag(self, col: _Column, why: list, letter: str, name: str, expected: str, kind: str) -> None:
        bad_u = [w is not None for w in why]
        if not any(bad_u):
            return
        mask = np.array(bad_u + [False], dtype=bool)[col.codes]
        self._report(mask, lambda pos: why[col.codes[pos]], letter, name, expected, kind, col=col)

    def _convert(self, c: model.Column, col: _Column, letter: str) -> np.ndarray:
        spec, kind = self.spec, c.kind
        name = f"column '{c.header(self._lang())}' of table '{spec.name}'"
        if spec is model.FACTS and c.key == "period":
            periods, why = self._parse_uniques(col, partial(parse_period, date1904=self.date1904))
            self._flag(col, why, letter, name, PERIOD_EXPECTED, "period")
            years = [p.year if p is not None else 0 for p in periods]
            self._year_column = col.take(years, dtype="int64", fill=0)
            return col.take([None if p is None else str(p) for p in periods])
        if kind in (model.NUMBER, model.PERCENT, model.INTEGER):
            parse = parse_percent if kind == model.PERCENT else parse_number
            vals, why = self._parse_uniques(col, parse)
            expected = PERCENT_EXPECTED if kind == model.PERCENT else NUMBER_EXPECTED
            typed = any(type(u) is str for u in col.uniques)  # numbers need no unit: they are in it
            units = self._units(len(col.codes)) if typed and kind != model.PERCENT else None
            if units is not None:
                return self._in_units(col, vals, why, units, letter, name, expected)
            self._flag(col, why, letter, name, expected, "number")
            out = col.take([np.nan if v is None else v for v in vals], dtype="float64", fill=np.nan)
            self._note_text_numbers(col, why, out, letter)
            return out
        if kind == model.DATE:
            vals, why = self._parse_uniques(col, partial(parse_date, date1904=self.date1904))
            self._flag(col, why, letter, name, DATE_EXPECTED, "date")
            stamps = [np.datetime64("NaT") if v is None else np.datetime64(v, "ns") for v in vals]
            return col.take(stamps, dtype="datetime64[ns]", fill=np.datetime64("NaT"))
        texts = [_text(u) for u in col.uniques]
        errs = [u if isinstance(u, str) and u in self.error_values else None for u in col.uniques]
        self._flag(col, [None if not e else "the cell refers to a shared string that does not exist"
                         if e.startswith(MISSING_STRING) else "the cell holds an Excel error" for e in errs],
                   letter, name, "a value, not an Excel error", "error")
        texts = [None if e else t for t, e in zip(texts, errs)]
        if c.key in _KEY_COLUMNS.get(spec.name, ()):
            self._note_trimmed(col, letter)
        if any(t is not None and len(t) > MAX_TEXT for t in texts):  # a hand-made file; fill could not write it
            self._flag(col, [f"the text is {len(t):,} characters long" if t is not None and len(t) > MAX_TEXT
                             else None for t in texts], letter, name,
                       f"at most {MAX_TEXT:,} characters (Excel's cell limit)", "length")
        if kind == model.CHOICE:
            keys = [None if t is None else model.choice_key(c, t) for t in texts]
            labels = ", ".join(f"{ch.zh} / {ch.en}" for ch in c.choices)
            self._flag(col, ["unknown value" if (t is not None and k is None) else None
                             for t, k in zip(texts, keys)], letter, name, f"one of {labels}", "choice")
            return col.take(keys)
        return col.take(texts)

    def _units(self, n: int) -> list | np.ndarray | None:
        """The unit of each row of the column being read: its header's ('目标（元）') unless the
        row's KPI counts in another kind of unit (a % KPI under an amount header), else the
        row's KPI's; None when neither says."""
        unit = self.header_units.get(self._index)
        if unit is None:
            return self.row_units
        if self.row_units is None:
            return [unit] * n
        return [unit if k is None or k.kind == unit.kind else k for k in self.row_units]

    def _in_units(self, col: _Column, vals: list, why: list, units, letter: str, name: str,
                  expected: str) -> np.ndarray:
        """Numbers of a column whose rows have units: typed text is read in its row's unit
        (``numbers.parse_in_unit``); numbers are in the column's unit already."""
        out = col.take([np.nan if v is None else v for v in vals], dtype="float64", fill=np.nan)
        why_rows = [why[c] if c >= 0 else None for c in col.codes.tolist()]
        texts = [k for k, u in enumerate(col.uniques) if type(u) is str]
        for pos in np.flatnonzero(np.isin(col.codes, texts)).tolist() if texts else ():
            unit = units[pos]
            if unit is None:
                continue
            try:
                x = parse_in_unit(col.uniques[col.codes[pos]], unit)
            except ParseError as exc:
                out[pos], why_rows[pos] = np.nan, exc.detail
                continue
            out[pos], why_rows[pos] = (np.nan if x is None else x), None
        mask = np.array([w is not None for w in why_rows], dtype=bool)
        if mask.any():
            self._report(mask, lambda pos: why_rows[pos], letter, name, expected, "number", col=col)
        self._note_text_numbers(col, why_rows, out, letter, per_row=True)
        return out

    def _note_trimmed(self, col: _Column, letter: str) -> None:
        """Remember key cells (units, KPI codes, task IDs) typed with spaces around them: the
        engine reads them trimmed, Excel's formulas compare them as they are, so fill trims them."""
        padded = [k for k, u in enumerate(col.uniques) if type(u) is str and u.strip() and u != u.strip()]
        for pos in np.flatnonzero(np.isin(col.codes, padded)).tolist() if padded else ():
            self.trimmed[f"{letter}{self.rows[pos]}"] = col.uniques[col.codes[pos]].strip()

    def _note_text_numbers(self, col: _Column, why: list, values: np.ndarray, letter: str,
                           per_row: bool = False) -> None:
        """Remember the cells holding a number typed as text (``fill`` stores them as numbers)."""
        texts = [k for k, u in enumerate(col.uniques) if type(u) is str and not _is_blank(u)]
        if not texts or self.spec is model.FACTS:
            return
        for pos in np.flatnonzero(np.isin(col.codes, texts)).tolist():
            bad = why[pos] if per_row else why[col.codes[pos]]
            if bad is None and values[pos] == values[pos]:
                self.text_numbers[f"{letter}{self.rows[pos]}"] = float(values[pos])

    def _convert_empty(self, c: model.Column) -> np.ndarray:
        """What ``_convert`` returns for a table without rows."""
        if self.spec is model.FACTS and c.key == "period":
            self._year_column = np.zeros(0, dtype="int64")
            return np.empty(0, dtype=object)
        return _empty_column(c.kind, 0)

    def _extra(self, name: str, col: _Column, letter: str) -> np.ndarray:
        """A fact column that is not in the model: numeric → measure, otherwise dimension."""
        vals, why = self._parse_uniques(col, parse_number)
        counts = np.bincount(col.codes[col.codes >= 0], minlength=len(col.uniques))
        filled = int(sum(n for n, b in zip(counts, col.blank_u) if not b))
        bad = int(sum(n for n, w in zip(counts, why) if w is not None))
        named = model.normalize_header(name) in self.numeric_names
        if not named and _DIMENSION_HINT.search(name.strip()):  # 区域代码 101: a label, not a sum
            self.dimensions.append(name)
            return col.take([_text(u) for u in col.uniques])
        # A measure, maybe with a few bad cells: mostly numbers, or named by a KPI and holding
        # at least one number. A column of text stays a dimension (validate names the KPI cell).
        if (filled and bad * 2 < filled) or (named and bad < filled) or (named and not filled):
            self.measures.append(name)
            message = (f"measure column '{name}' of table '{self.spec.name}' (text where a number belongs)")
            unit = self.header_units.get(self._index) or self.measure_units.get(
                model.normalize_header(_BRACKETS.sub("", name)))
            if unit is not None and any(type(u) is str for u in col.uniques):
                return self._in_units(col, vals, why, [unit] * len(col.codes), letter, message,
                                      NUMBER_EXPECTED)
            self._flag(col, why, letter, message, NUMBER_EXPECTED, "measure")
            return col.take([np.nan if v is None else v for v in vals], dtype="float64", fill=np.nan)
        self.dimensions.append(name)
        return col.take([_text(u) for u in col.uniques])


#: (spec, headers) → (found, unmatched, zh headers, en headers): every workbook made from
#: one template has the same header rows, so each is matched once per process
_MATCHED: dict[tuple, tuple] = {}


def _matched(spec: model.TableSpec, headers: list) -> tuple[dict[str, int], list, int, int]:
    """``_match`` plus how many found headers are the Chinese and the English header."""
    # Only text headers are remembered: 1, 1.0 and True are equal keys but read differently.
    key = (id(spec), tuple(headers)) if all(type(h) is str for h in headers) else None
    hit = _MATCHED.get(key) if key is not None else None
    if hit is None or hit[0] is not spec:
        found, unmatched = _match(spec, headers)
        zh = en = 0
        for k, i in found.items():
            col = spec.column(k)
            h = model.normalize_header(headers[i])
            if h == model.normalize_header(col.zh):
                zh += 1
            elif h == model.normalize_header(col.en):
                en += 1
        hit = (spec, found, unmatched, zh, en)
        if key is not None:
            if len(_MATCHED) > 1024:
                _MATCHED.clear()
            _MATCHED[key] = hit
    _, found, unmatched, zh, en = hit
    return dict(found), list(unmatched), zh, en


def _match(spec: model.TableSpec, headers: list[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """``model.match_headers``, then a second try without bracketed units: '目标（万元）' → 目标."""
    found, unmatched = model.match_headers(spec, headers)
    still = []
    for i, h in unmatched:
        bare = _BRACKETS.sub("", str(h))
        if bare != h and bare.strip():
            got, _ = model.match_headers(spec, [bare])
            key = next(iter(got), None)
            if key is not None and key not in found:
                found[key] = i
                continue
        still.append((i, h))
    return found, still


_EMPTY_DTYPES = {model.NUMBER: np.float64, model.PERCENT: np.float64, model.INTEGER: np.float64,
                 model.DATE: np.dtype("datetime64[ns]")}
#: one empty DataFrame per column layout, copied for every table without rows
_EMPTY_FRAMES: dict[tuple, pd.DataFrame] = {}


#: the column Index per column layout, copied for each frame (its ``name`` is mutable)
_COLUMN_INDEXES: dict[tuple, pd.Index] = {}


def _frame(data: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """``pd.DataFrame(data, index=pd.RangeIndex(n))``, built once (inserts cost more).

    Every value of ``data`` is a fresh 1-d ndarray of length ``n``, so the frame is built
    from the arrays pandas itself would settle them into (``_pandas.settled``), without the
    constructor's generic checks, which cost more than the data on tables of a few rows.
    A table without rows is a copy of a cached empty frame with the same columns and dtypes:
    copying is several times cheaper than constructing, and the copy is the caller's own.
    """
    if n:
        keys = tuple(data)
        columns = _COLUMN_INDEXES.get(keys)
        if columns is None:
            if len(_COLUMN_INDEXES) > 256:
                _COLUMN_INDEXES.clear()
            columns = _COLUMN_INDEXES[keys] = pd.Index(list(keys))
        return frame_from_arrays([settled(a) for a in data.values()], columns.copy(), pd.RangeIndex(n))
    layout = tuple((name, arr.dtype.str) for name, arr in data.items())
    template = _EMPTY_FRAMES.get(layout)
    if template is None:
        if len(_EMPTY_FRAMES) > 256:
            _EMPTY_FRAMES.clear()
        template = _EMPTY_FRAMES[layout] = pd.DataFrame(data, index=pd.RangeIndex(0))
    return template.copy()


def _empty_column(kind: str, n: int):
    if not n:  # the same dtypes as below, without filling
        return np.empty(0, dtype=_EMPTY_DTYPES.get(kind, object))
    if kind in (model.NUMBER, model.PERCENT, model.INTEGER):
        return np.full(n, np.nan)
    if kind == model.DATE:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, None, dtype=object)


# --- settings and links between tables -----------------------------------------------------
#: Settings entries that keep an import's header mapping (reviewkit.importer.MAP_SETTING)
_IMPORT_MAP = re.compile(r"^\s*(?:导入映射|import\s*map)\s*[:：]", re.IGNORECASE)
_SETTING_KIND = {"review_year": "year", "as_of": "date", "plan_end": "date",
                 "deviation_threshold": "percent", "max_parallel_tasks": "int"}


def _settings(review: model.Review, sink: _Problems) -> dict[str, object]:
    out: dict[str, object] = {k: v[2] for k, v in model.SETTING_KEYS.items()}
    df = review.tables.get("Settings")
    if df is None or 0 in df.shape:  # df.empty
        return out
    layout = review.layouts["Settings"]
    lookup = {}
    for key, (zh, en, _) in model.SETTING_KEYS.items():
        for alias in (key, zh, en):
            lookup[model.normalize_header(alias)] = key
    arrays = _column_arrays(df)
    raws = (arrays["value"] if "value" in arrays else df["value"]).tolist()  # as typed: text
    names = (arrays["setting"] if "setting" in arrays else df["setting"]).tolist()
    for pos, (name, value) in enumerate(zip(names, raws)):
        if _is_na(name):
            continue
        key = lookup.get(model.normalize_header(name))
        cell = layout.cell("setting", pos) if "setting" in layout.columns else None
        if key is None and _IMPORT_MAP.match(str(name)):
            continue  # a header mapping kept by `reviewkit import --save-map`
        if key is None:
            sink.add(f"unknown setting '{name}' is ignored", sheet=layout.sheet, cell=cell, value=name,
                     severity="warning",
                     expected="one of " + ", ".join(v[0] for v in model.SETTING_KEYS.values()))
            continue
        raw = raws[pos]
        kind = _SETTING_KIND.get(key)
        vcell = layout.cell("value", pos) if "value" in layout.columns else None
        try:
            if kind == "date":
                out[key] = parse_date(raw)
            elif kind == "percent":
                out[key] = parse_percent(raw)
            elif kind in ("year", "int"):
                x = parse_number(raw)
                if x is not None and (not float(x).is_integer()
                                      or (kind == "year" and not 1900 <= x <= 2200)):
                    raise ParseError("not a whole number" if kind == "int" else "not a year",
                                     value=raw, expected="a year such as 2025" if kind == "year"
                                     else "a whole number")
                out[key] = None if x is None else int(x)
            else:
                out[key] = out[key] if _is_na(value) else value
        except ParseError as exc:
            expected = {"year": "a year such as 2025", "int": "a whole number such as 3"}.get(kind, exc.expected)
            sink.add(f"{exc.detail} in setting '{name}'", sheet=layout.sheet, cell=vcell, value=raw,
                     expected=expected)
    return out


#: columns whose cells are matched by the live formulas (fill trims spaces around them)
_KEY_COLUMNS = {"Scorecard": ("unit", "kpi"), "Plan": ("task_id",), "Progress": ("task_id",)}
_UNIT_IN_BRACKETS = re.compile(r"[（(\[【]\s*([^（()\[\]【】）]+?)\s*[）)\]】]\s*$")


def _header_unit(header: object) -> Unit | None:
    """The unit a header names in brackets at its end: '目标（万元）' → 万元, 'Target (%)' → %."""
    m = _UNIT_IN_BRACKETS.search(str(header or ""))
    return parse_unit(m.group(1)) if m else None


def _kpi_units(review: model.Review) -> tuple[dict[str, Unit], dict[str, Unit]]:
    """(KPI key or name → unit, fact measure → its KPI's unit), keys folded by normalize_header."""
    kpis = review.tables.get("KPIs")
    if kpis is None or "unit" not in kpis.columns or 0 in kpis.shape:
        return {}, {}
    by_kpi: dict[str, Unit] = {}
    by_measure: dict[str, Unit] = {}
    cols = [c for c in ("key", "name", "unit", "measure") if c in kpis.columns]
    for row in _records(kpis, cols):
        unit = parse_unit(row.get("unit"))
        if unit is None:
            continue
        for part in ("key", "name"):
            if isinstance(row.get(part), str):
                by_kpi.setdefault(model.normalize_header(row[part]), unit)
        if isinstance(row.get("measure"), str):
            by_measure.setdefault(model.normalize_header(row["measure"]), unit)
    return by_kpi, by_measure


#: the KPIs columns that name fact columns (a missing one reads as None, as with row.get)
_NAMING_COLUMNS = ("measure", "numerator", "denominator", "key", "aggregation")


def _fact_columns_named_by_kpis(review: model.Review) -> set[str]:
    """Fact columns a KPI reads as numbers: its measure, numerator, denominator (or its key)."""
    kpis = review.tables.get("KPIs")
    if kpis is None:
        return set()
    names = set()
    for row in _records(kpis, [c for c in _NAMING_COLUMNS if c in kpis.columns]):
        for part in ("measure", "numerator", "denominator"):
            if isinstance(row.get(part), str):
                names.add(model.normalize_header(row[part]))
        if isinstance(row.get("key"), str) and row.get("aggregation") in (None, "sum", "average"):
            names.add(model.normalize_header(row["key"]))
    return names


#: tables whose 'kpi' column names a KPI
_KPI_COLUMN_TABLES = ("Scorecard", "Causes", "Actions", "NextYear", "Results", "Plan")


def _kpis_by_name(review: model.Review) -> None:
    """A KPI may be named by its code or its name ('revenue' or '销售额') in every table: names
    become codes in the frames (matching), the cells keep what was typed. The Scorecard's
    spellings per KPI are kept for the live formulas (``Review.kpi_spellings``)."""
    kpis = review.tables.get("KPIs")
    if kpis is None or 0 in kpis.shape or "name" not in kpis.columns:
        return
    arrays = _column_arrays(kpis)  # the columns' arrays: cheaper than a Series each
    key_list = (arrays["key"] if "key" in arrays else kpis["key"]).tolist()
    keys = {k for k in key_list if isinstance(k, str)}
    by_name = {n: k for k, n in zip(key_list, (arrays["name"] if "name" in arrays else kpis["name"]).tolist())
               if isinstance(k, str) and isinstance(n, str) and n not in keys}
    if not by_name:
        return
    for table in _KPI_COLUMN_TABLES:
        df = review.tables.get(table)
        if df is None or "kpi" not in df.columns or 0 in df.shape:
            continue
        column = _column_arrays(df).get("kpi")
        typed = (column if column is not None else df["kpi"]).tolist()
        if not any(isinstance(v, str) and v in by_name for v in typed):
            continue
        df["kpi"] = [by_name.get(v, v) if isinstance(v, str) else v for v in typed]
        if table == "Scorecard":
            for v in typed:
                if isinstance(v, str):
                    key = by_name.get(v, v)
                    spellings = review.kpi_spellings.setdefault(key, ())
                    if v not in spellings:
                        review.kpi_spellings[key] = spellings + (v,)


def _is_na(v: object) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _link_fact_columns(review: model.Review) -> None:
    """Let KPIs name fact columns loosely ('Revenue' finds 'revenue'): rewrite to the exact name."""
    kpis = review.tables.get("KPIs")
    facts = review.tables.get("Facts")
    if kpis is None or facts is None or 0 in kpis.shape:  # kpis.empty
        return
    exact = {model.normalize_header(c): c for c in facts.columns}
    arrays = _column_arrays(kpis)
    for col in ("measure", "numerator", "denominator"):
        if col in kpis.columns:
            old = arrays.get(col)
            if old is None:
                old = kpis[col]
            values = old.tolist()
            new = [exact.get(model.normalize_header(v), v) if isinstance(v, str) else v for v in values]
            if not _same_column(old.dtype, values, new):
                kpis[col] = new


def _same_value(a, b) -> bool:
    if a is b:
        return True
    if type(a) is str and type(b) is str:
        return a == b
    return type(a) is float and type(b) is float and a != a and b != b  # NaN, NaN


#: the dtype pandas gives a column of text (and NaN) built from a list
_TEXT_DTYPE = pd.Series(["a", None]).dtype


def _same_column(dtype, values: list, new: list) -> bool:
    """Would ``df[col] = new`` leave the column (``dtype``, ``tolist()`` = ``values``) as it
    is (same values, same dtype)?

    Assigning a list re-infers the dtype; when nothing was renamed and the column already
    has the dtype inference gives (text, or all None), the assignment is skipped.
    """
    if len(values) != len(new) or not all(_same_value(a, b) for a, b in zip(values, new)):
        return False
    if dtype == _TEXT_DTYPE:
        return any(type(v) is str for v in new) and all(type(v) is str or v != v for v in new)
    return dtype == object and all(v is None for v in new)
