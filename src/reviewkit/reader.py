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

import datetime as _dt
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .errors import Problem, ReviewkitError, ValidationError, WorkbookFormatError
from .numbers import (DATE_EXPECTED, NUMBER_EXPECTED, PERCENT_EXPECTED, PERIOD_EXPECTED,
                      ParseError, parse_date, parse_number, parse_percent, parse_period)
from .reading.package import Package, TableInfo, col_letter, open_package
from .reading.validate import validate

__all__ = ["read_review", "read_with_problems", "check_files", "validate", "REQUIRED_TABLES",
           "MAX_PROBLEMS_PER_COLUMN"]

#: tables a review workbook cannot do without
REQUIRED_TABLES = ("KPIs", "Scorecard")
#: after this many bad values in one column, the rest are summarized in one problem
MAX_PROBLEMS_PER_COLUMN = 10

_BRACKETS = re.compile(r"[（(\[【].*?[）)\]】]")


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
def read_review(path: str | Path, *, strict: bool = True) -> model.Review:
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


def read_with_problems(path: str | Path, *, check: bool = True) -> tuple[model.Review, list[Problem]]:
    """Read ``path`` and return the review plus every problem found (``validate`` too if ``check``).

    Raises only ``WorkbookFormatError`` (the file cannot be opened as a workbook at all).
    """
    pkg = open_package(path)
    sink = _Problems(str(path))
    review = model.Review(source=str(path))
    grids = _Grids(pkg)
    langs = Counter()
    for spec in model.TABLES:
        info = pkg.table(spec.name)
        if info is None:
            _missing_table(pkg, spec, sink)
            continue
        read = _TableReader(spec, info, grids, sink, langs)
        if spec is model.FACTS:
            read.numeric_names = _fact_columns_named_by_kpis(review)
        df, layout = read.run()
        review.tables[spec.name] = df
        review.layouts[spec.name] = layout
        if spec is model.FACTS:
            review.dimensions, review.measures = read.dimensions, read.measures
    review.lang = "en" if langs["en"] > langs["zh"] else "zh"
    review.settings = _settings(review, sink)
    _link_fact_columns(review)
    problems = sink.finish()
    if check:
        problems += validate(review)
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

    def errors(self, sheet: str) -> dict[str, str]:
        if sheet not in self._errors:
            self._errors[sheet] = self.pkg.error_cells(sheet)
        return self._errors[sheet]


def _missing_table(pkg: Package, spec: model.TableSpec, sink: _Problems) -> None:
    required = spec.name in REQUIRED_TABLES
    if not required:
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


class _TableReader:
    """Turns one Excel Table into a DataFrame with canonical keys, plus its ``TableLayout``."""

    def __init__(self, spec: model.TableSpec, info: TableInfo, grids: _Grids, sink: _Problems,
                 langs: Counter):
        self.spec, self.info, self.grids, self.sink, self.langs = spec, info, grids, sink, langs
        self.dimensions: list[str] = []
        self.measures: list[str] = []
        self.numeric_names: set[str] = set()  # normalized fact headers the KPIs use as numbers

    def _add(self, message, cell=None, value=None, expected=None, severity="error", group=None):
        self.sink.add(message, sheet=self.info.sheet, cell=cell, value=value, expected=expected,
                      severity=severity, group=group)

    def run(self) -> tuple[pd.DataFrame, model.TableLayout]:
        spec, info = self.spec, self.info
        header_row = info.first_row
        letters = [col_letter(info.first_col + i) for i in range(info.last_col - info.first_col + 1)]
        headers = [c.name for c in info.columns]
        if len(headers) != len(letters):  # a broken part: trust the range, name columns by cell
            headers = (headers + [""] * len(letters))[: len(letters)]
        if info.header_rows == 0:
            self._add(f"table '{info.name}' has no header row, so its columns cannot be found",
                      cell=info.ref, expected="Table Design > Header Row turned on")
            return self._empty(), model.TableLayout(info.name, info.sheet, info.ref, header_row,
                                                    header_row, header_row - 1)
        found, unmatched = _match(spec, headers)
        self._count_lang(found, headers)
        by_key = {c.key: c for c in spec.columns}
        for c in spec.columns:
            if c.required and c.key not in found:
                self._add(f"table '{info.name}' lacks the required column '{c.header(self._lang())}'",
                          cell=f"{letters[0]}{header_row}:{letters[-1]}{header_row}",
                          value=[h for h in headers],
                          expected=f"a header '{c.zh}' or '{c.en}'"
                                   + (f" (or {', '.join(c.synonyms[:4])})" if c.synonyms else ""))
        extras: list[tuple[int, str]] = []
        for i, h in unmatched:
            cell = f"{letters[i]}{header_row}"
            norm = model.normalize_header(h)
            dup = next((k for k in found if norm in model.header_aliases(by_key[k])), None)
            if dup is not None:
                self._add(f"column '{h}' is a second '{by_key[dup].header(self._lang())}' column and is "
                          "ignored", cell=cell, value=h, severity="warning",
                          expected=f"one column per field (the first, {letters[found[dup]]}, is used)")
            elif spec.open_columns and str(h).strip():
                extras.append((i, str(h).strip()))
            elif not spec.open_columns:
                self._add(f"column '{h}' is not a column of table '{spec.name}' and is ignored",
                          cell=cell, value=h, severity="warning",
                          expected="one of " + ", ".join(c.header(self._lang())
                                                         for c in spec.input_columns))
        first = header_row + 1
        last = info.last_row - info.totals_rows
        grid = self.grids.grid(info.sheet)
        errors = self.grids.errors(info.sheet)
        c0, c1 = info.first_col - 1, info.last_col
        width = c1 - c0
        input_pos = sorted({found[c.key] for c in spec.input_columns if c.key in found}
                           | {i for i, _ in extras})
        rows: list[int] = []
        cells: list[list] = []
        for r in range(first, last + 1):
            line = grid[r - 1][c0:c1] if r - 1 < len(grid) else []
            if len(line) < width:
                line = list(line) + [""] * (width - len(line))
            if errors:
                for i in range(width):
                    err = errors.get(f"{letters[i]}{r}")
                    if err is not None:
                        line = list(line)
                        line[i] = err
            if all(_is_blank(line[i]) for i in input_pos):
                continue
            rows.append(r)
            cells.append(line)
        self.rows, self.letters = rows, letters
        data: dict[str, object] = {}
        columns = [c for c in spec.input_columns if c.key in found]
        for c in columns:
            col_vals = [line[found[c.key]] for line in cells]
            data[c.key] = self._convert(c, col_vals, letters[found[c.key]], errors)
        for i, name in extras:
            if name in data:
                self._add(f"column '{name}' appears twice; the second is ignored",
                          cell=f"{letters[i]}{header_row}", value=name, severity="warning",
                          expected="unique column headers")
                continue
            data[name] = self._extra(name, [line[i] for line in cells], letters[i])
        df = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
        for c in spec.input_columns:  # absent optional columns exist, empty, with the right dtype
            if c.key not in df.columns:
                df[c.key] = _empty_column(c.kind, len(rows))
        if spec is model.FACTS and "period" in df.columns:
            df["year"] = self._years(df["period"])
        col_letters = {k: letters[i] for k, i in found.items()}
        col_letters.update({name: letters[i] for i, name in extras})
        header_text = {k: headers[i] for k, i in found.items()}
        header_text.update({name: headers[i] for i, name in extras})
        layout = model.TableLayout(table=spec.name, sheet=info.sheet, ref=info.ref,
                                   header_row=header_row, first_row=first, last_row=last,
                                   columns=col_letters, headers=header_text, rows=tuple(rows))
        self._check_required_values(df, columns, col_letters)
        return df, layout

    # -- helpers ---------------------------------------------------------------------
    def _lang(self) -> str:
        return "en" if self.langs["en"] > self.langs["zh"] else "zh"

    def _count_lang(self, found: dict[str, int], headers: list[str]) -> None:
        for key, i in found.items():
            col = self.spec.column(key)
            h = model.normalize_header(headers[i])
            if h == model.normalize_header(col.zh):
                self.langs["zh"] += 1
            elif h == model.normalize_header(col.en):
                self.langs["en"] += 1

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c.key: _empty_column(c.kind, 0) for c in self.spec.input_columns})

    def _cell(self, letter: str, pos: int) -> str:
        return f"{letter}{self.rows[pos]}"

    def _convert(self, col: model.Column, values: list, letter: str, errors) -> object:
        spec, kind = self.spec, col.kind
        name = f"column '{col.header(self._lang())}' of table '{spec.name}'"
        if spec is model.FACTS and col.key == "period":
            return self._periods(values, letter, name)
        if kind in (model.NUMBER, model.PERCENT, model.INTEGER):
            parse = parse_percent if kind == model.PERCENT else parse_number
            expected = PERCENT_EXPECTED if kind == model.PERCENT else NUMBER_EXPECTED
            out = np.full(len(values), np.nan)
            for pos, v in enumerate(values):
                if type(v) is float:  # the common case: a number cell
                    out[pos] = v if kind != model.PERCENT else parse(v)
                    continue
                try:
                    x = parse(v)
                except ParseError as exc:
                    self._add(f"{exc.detail} in {name}", cell=self._cell(letter, pos), value=v,
                              expected=expected, group=(name, "number"))
                    continue
                if x is not None:
                    out[pos] = x
            return out
        if kind == model.DATE:
            out = []
            for pos, v in enumerate(values):
                try:
                    d = parse_date(v)
                except ParseError as exc:
                    self._add(f"{exc.detail} in {name}", cell=self._cell(letter, pos), value=v,
                              expected=DATE_EXPECTED, group=(name, "date"))
                    d = None
                out.append(d)
            return pd.to_datetime(pd.Series(out, dtype=object), errors="coerce").to_numpy()
        if kind == model.CHOICE:
            labels = ", ".join(f"{ch.zh} / {ch.en}" for ch in col.choices)
            out = []
            for pos, v in enumerate(values):
                t = _text(v)
                if t is None:
                    out.append(None)
                    continue
                k = model.choice_key(col, t)
                if k is None:
                    self._add(f"unknown value in {name}", cell=self._cell(letter, pos), value=v,
                              expected=f"one of {labels}", group=(name, "choice"))
                out.append(k)
            return np.array(out, dtype=object)
        out = []
        for pos, v in enumerate(values):
            if isinstance(v, str) and v.startswith("#") and v in errors.values():
                self._add(f"the cell holds an Excel error in {name}", cell=self._cell(letter, pos),
                          value=v, expected="text", group=(name, "error"))
                v = None
            out.append(_text(v))
        return np.array(out, dtype=object)

    def _periods(self, values: list, letter: str, name: str) -> np.ndarray:
        cache: dict = {}
        out = np.empty(len(values), dtype=object)
        for pos, v in enumerate(values):
            try:
                key = v if not isinstance(v, list) else tuple(v)
                if key in cache:
                    p = cache[key]
                else:
                    p = parse_period(v if v != "" else None)
                    cache[key] = p
            except ParseError as exc:
                self._add(f"{exc.detail} in {name}", cell=self._cell(letter, pos), value=v,
                          expected=PERIOD_EXPECTED, group=(name, "period"))
                p = None
            except TypeError:  # unhashable: never from calamine
                p = parse_period(v)
            out[pos] = None if p is None else str(p)
        return out

    def _years(self, periods: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(periods, use_na_sentinel=True)
        years = np.array([int(str(u)[:4]) for u in uniques] + [0], dtype="int64")
        out = years[codes]  # code -1 → the trailing 0
        return pd.Series(np.where(codes < 0, 0, out), dtype="int64")

    def _extra(self, name: str, values: list, letter: str) -> np.ndarray:
        """A fact column that is not in the model: numeric → measure, otherwise dimension."""
        numbers = np.full(len(values), np.nan)
        bad: list[int] = []
        filled = 0
        for pos, v in enumerate(values):
            if type(v) is float:
                numbers[pos] = v
                filled += 1
                continue
            if _is_blank(v):
                continue
            filled += 1
            try:
                x = parse_number(v)
            except ParseError as exc:
                bad.append((pos, exc.detail))
                continue
            if x is not None:
                numbers[pos] = x
        named = model.normalize_header(name) in self.numeric_names
        if named or (filled and len(bad) * 2 < filled):  # a measure, maybe with some bad cells
            self.measures.append(name)
            for pos, why in bad:
                self._add(f"text where a number belongs in measure column '{name}' of table "
                          f"'{self.spec.name}' ({why})", cell=self._cell(letter, pos), value=values[pos],
                          expected=NUMBER_EXPECTED, group=(f"column '{name}'", "measure"))
            return numbers
        self.dimensions.append(name)
        return np.array([_text(v) for v in values], dtype=object)

    def _check_required_values(self, df: pd.DataFrame, columns: list[model.Column],
                               letters: dict[str, str]) -> None:
        for c in columns:
            if not c.required:
                continue
            header = c.header(self._lang())
            for pos in np.flatnonzero(df[c.key].isna().to_numpy()):
                self._add(f"the required '{header}' is empty in table '{self.spec.name}'",
                          cell=self._cell(letters[c.key], int(pos)), expected=f"a value for '{header}'",
                          group=(f"column '{header}'", "required"))


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


def _empty_column(kind: str, n: int):
    if kind in (model.NUMBER, model.PERCENT, model.INTEGER):
        return np.full(n, np.nan)
    if kind == model.DATE:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, None, dtype=object)


# --- settings and links between tables -----------------------------------------------------
_SETTING_KIND = {"review_year": "year", "as_of": "date", "plan_end": "date",
                 "deviation_threshold": "percent", "max_parallel_tasks": "int"}


def _settings(review: model.Review, sink: _Problems) -> dict[str, object]:
    out: dict[str, object] = {k: v[2] for k, v in model.SETTING_KEYS.items()}
    df = review.tables.get("Settings")
    if df is None or df.empty:
        return out
    layout = review.layouts["Settings"]
    lookup = {}
    for key, (zh, en, _) in model.SETTING_KEYS.items():
        for alias in (key, zh, en):
            lookup[model.normalize_header(alias)] = key
    for pos, (name, value) in enumerate(zip(df["setting"], df["value"])):
        if name is None:
            continue
        key = lookup.get(model.normalize_header(name))
        cell = layout.cell("setting", pos) if "setting" in layout.columns else None
        if key is None:
            sink.add(f"unknown setting '{name}' is ignored", sheet=layout.sheet, cell=cell, value=name,
                     severity="warning",
                     expected="one of " + ", ".join(v[0] for v in model.SETTING_KEYS.values()))
            continue
        raw = _raw_setting(review, pos)
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
                out[key] = value if value is not None else out[key]
        except ParseError as exc:
            sink.add(f"{exc.detail} in setting '{name}'", sheet=layout.sheet, cell=vcell, value=raw,
                     expected=exc.expected)
    return out


def _fact_columns_named_by_kpis(review: model.Review) -> set[str]:
    """Fact columns a KPI reads as numbers: its measure, numerator, denominator (or its key)."""
    kpis = review.tables.get("KPIs")
    if kpis is None:
        return set()
    names = set()
    for row in kpis.to_dict("records"):
        for part in ("measure", "numerator", "denominator"):
            if isinstance(row.get(part), str):
                names.add(model.normalize_header(row[part]))
        if isinstance(row.get("key"), str) and row.get("aggregation") in (None, "sum", "average"):
            names.add(model.normalize_header(row["key"]))
    return names


def _raw_setting(review: model.Review, pos: int):
    """The Settings value as typed (the DataFrame holds it as text)."""
    return review.tables["Settings"]["value"].iloc[pos]


def _link_fact_columns(review: model.Review) -> None:
    """Let KPIs name fact columns loosely ('Revenue' finds 'revenue'): rewrite to the exact name."""
    kpis = review.tables.get("KPIs")
    facts = review.tables.get("Facts")
    if kpis is None or facts is None or kpis.empty:
        return
    exact = {model.normalize_header(c): c for c in facts.columns}
    for col in ("measure", "numerator", "denominator"):
        if col in kpis.columns:
            kpis[col] = [exact.get(model.normalize_header(v), v) if isinstance(v, str) else v
                         for v in kpis[col]]
