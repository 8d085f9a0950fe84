"""One Excel Table into a DataFrame: headers matched to the model's columns, the cells read
column by column from the engine's grid, every value parsed once per distinct value, and each
refused value a problem naming its cell (``TableReader``).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import partial
from operator import itemgetter

import numpy as np
import pandas as pd

from .. import caching, model
from ..numbers import (DATE_EXPECTED, MAX_FIGURE, NUMBER_EXPECTED, PERCENT_EXPECTED, PERIOD_EXPECTED,
                       ParseError, Unit, parse_date, parse_in_unit, parse_number, parse_percent,
                       parse_period)
from ..ooxml.cells import MAX_TEXT
from .engine import Engine
from .messages import say, table_name
from .package import MISSING_STRING, TableInfo, col_letter, parse_ref
from .values import (CellColumn, all_blank, build_frame, cell_text, empty_column, header_unit,
                     is_blank)

#: numeric fact columns whose header says they are labels (codes, IDs, years) stay dimensions
_DIMENSION_HINT = re.compile(r"(?:代码|编码|编号|号码|年份|年度|月份|季度|批次|"
                             r"(?:^|[\s_\-.])(?:id|code|no\.?|year|month|quarter|cohort))$", re.IGNORECASE)
_BRACKETS = re.compile(r"[（(\[【].*?[）)\]】]")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)$")
#: columns whose cells are matched by the live formulas (fill trims spaces around them)
_KEY_COLUMNS = {"Scorecard": ("unit", "kpi"), "Plan": ("task_id",), "Progress": ("task_id",)}


class TableReader:
    """Turns one Excel Table into a DataFrame with canonical keys, plus its ``TableLayout``."""

    def __init__(self, spec: model.TableSpec, info: TableInfo, engine: Engine, sink, langs: Counter):
        self.spec, self.info, self.engine, self.sink, self.langs = spec, info, engine, sink, langs
        self.dimensions: list[str] = []
        self.measures: list[str] = []
        self.numeric_names: set[str] = set()  # normalized fact headers the KPIs use as numbers
        self.date1904 = bool(engine.date1904)  # the date system, for serial numbers typed as dates
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
        letters = [col_letter(info.first_col + i) for i in range(width)]
        headers = [c.name for c in info.columns]
        if len(headers) != width:  # a broken part: trust the range
            headers = (headers + [""] * width)[:width]
        if info.header_rows == 0:
            self._add(say("no_header_row", "en", table=info.name),
                      cell=info.ref, expected=say("no_header_row_expected", "en"))
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
        grid = self.engine.grid(info.sheet)
        errors: dict[str, dict[int, str]] = {}  # column letters -> {row: '#N/A'}
        for ref, err in self.engine.errors(info.sheet).items():
            m = _CELL_REF.match(ref)
            if m:
                errors.setdefault(m.group(1), {})[int(m.group(2))] = err
        n = max(last - first + 1, 0)
        block = grid[first - 1:last]
        wanted = {found[c.key]: c for c in spec.input_columns if c.key in found}
        wanted_extra = dict(extras)
        cols: dict[int, CellColumn] = {}
        self.error_values: set[str] = set()
        full_width = all(len(row) >= info.last_col for row in block)  # calamine: rectangular
        read = sorted(set(wanted) | set(wanted_extra))
        if n and not any(first <= r <= last for i in read for r in errors.get(letters[i], ())) \
                and all_blank(block, [info.first_col - 1 + i for i in read]):
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
            cols[i] = CellColumn(values)
        if cols:
            keep = ~np.logical_and.reduce([c.blank for c in cols.values()])
        else:
            keep = np.zeros(n, dtype=bool)
        for c in cols.values():
            c.keep(keep)
        rows = tuple(np.arange(first, last + 1)[keep].tolist()) if n else ()
        self.rows, self.letters = rows, letters
        self.header_units = {i: u for i in read if (u := header_unit(headers[i])) is not None}
        self.row_units = None
        if rows and self.kpi_units and "kpi" in found and found["kpi"] in cols:
            kcol = cols[found["kpi"]]
            units = [self.kpi_units.get(model.normalize_header(t)) if t is not None else None
                     for t in (cell_text(u) for u in kcol.uniques)]
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
                self._add(say("column_twice", "en", name=name),
                          cell=f"{letters[i]}{header_row}", value=name, severity="warning",
                          expected=say("column_twice_expected", "en"))
                continue
            self._index = i
            data[name] = self._extra(name, cols[i] if rows else CellColumn([]), letters[i])
        for c in spec.input_columns:  # absent optional columns exist, empty, with the right dtype
            if c.key not in data:
                data[c.key] = empty_column(c.kind, len(rows))
        if spec is model.FACTS and "period" in found:  # a missing period column is a problem, reported below
            data["year"] = self._year_column
        df = build_frame(data, len(rows))
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
                lang = self._lang()
                self._report(blank & ~inside, lambda pos: None, letters[i],
                             say("required_empty", "en", column=col.header(lang), table=table_name(spec.name, "en")),
                             say("required_empty_expected", "en", column=col.header(lang)), "required",
                             with_value=False)
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
        out: dict[str, tuple[str, str]] = {}
        lo, hi = self.info.first_col, self.info.last_col
        for ref in self.engine.merged(self.info.sheet):
            try:
                c1, r1, c2, r2 = parse_ref(ref)
            except ValueError:
                continue
            if r2 < first or r1 > last or c2 < lo or c1 > hi:
                continue
            top = f"{col_letter(c1)}{r1}"
            self._add(say("merged", self._lang(), cells=ref, table=self.spec.name, first=top), cell=ref,
                      expected=say("merged_expected", self._lang()), severity="warning")
            for r in range(max(r1, first), min(r2, last) + 1):
                for c in range(max(c1, lo), min(c2, hi) + 1):
                    if (r, c) != (r1, c1):
                        out[f"{col_letter(c)}{r}"] = (ref, top)
        return out

    # -- headers ---------------------------------------------------------------------------
    def _check_headers(self, found, unmatched, headers, letters, header_row) -> None:
        spec, info = self.spec, self.info
        by_key = {c.key: c for c in spec.columns}
        for c in spec.columns:
            if c.required and c.key not in found:
                lang = self._lang()
                self._add(say("missing_required_column", "en", table=table_name(info.name, "en"),
                              column=c.header(lang)),
                          cell=f"{letters[0]}{header_row}:{letters[-1]}{header_row}",
                          value=list(headers),
                          expected=say("missing_required_column_expected", "en", zh=c.zh, en=c.en)
                          + (say("missing_required_column_synonyms", "en", synonyms=", ".join(c.synonyms[:4]))
                             if c.synonyms else ""))
        self._extras: list[tuple[int, str]] = []
        for i, h in unmatched:
            cell = f"{letters[i]}{header_row}"
            norm = model.normalize_header(h)
            dup = next((k for k in found if norm and norm in model.header_aliases(by_key[k])), None)
            if dup is not None:
                self._add(say("second_column", "en", name=h, column=by_key[dup].header(self._lang())),
                          cell=cell, value=h, severity="warning",
                          expected=say("second_column_expected", "en", letter=letters[found[dup]]))
            elif spec.open_columns and str(h).strip():
                self._extras.append((i, str(h).strip()))
            elif not spec.open_columns:
                lang = self._lang()
                self._add(say("not_a_column", "en", name=h, table=table_name(spec.name, "en")),
                          cell=cell, value=h, severity="warning",
                          expected=say("one_of", "en", choices=", ".join(c.header(lang)
                                                                           for c in spec.input_columns)))

    def _lang(self) -> str:
        return "en" if self.langs["en"] > self.langs["zh"] else "zh"

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c.key: empty_column(c.kind, 0) for c in self.spec.input_columns})

    # -- values ----------------------------------------------------------------------------
    def _report(self, mask: np.ndarray, why, letter: str, message: str, expected: str, kind: str,
                *, col: CellColumn | None = None, severity: str = "error", with_value: bool = True) -> None:
        """One problem per flagged row (capped per column; the rest are counted)."""
        group = (say("in_column_letter", "en", where=message, letter=letter), kind)
        for pos in np.flatnonzero(mask):
            value = col.uniques[col.codes[pos]] if (with_value and col is not None) else None
            detail = why(pos)
            text = say("bad_value", "en", detail=detail, where=message) \
                if detail else message
            self._add(text, cell=f"{letter}{self.rows[pos]}", value=value, expected=expected,
                      severity=severity, group=group)

    def _parse_uniques(self, col: CellColumn, parse) -> tuple[list, list]:
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

    def _flag(self, col: CellColumn, why: list, letter: str, name: str, expected: str, kind: str) -> None:
        bad_u = [w is not None for w in why]
        if not any(bad_u):
            return
        mask = np.array(bad_u + [False], dtype=bool)[col.codes]
        self._report(mask, lambda pos: why[col.codes[pos]], letter, name, expected, kind, col=col)

    def _convert(self, c: model.Column, col: CellColumn, letter: str) -> np.ndarray:
        spec, kind = self.spec, c.kind
        lang = self._lang()
        name = say("in_column", "en", column=c.header(lang), table=table_name(spec.name, "en"))
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
        texts = [cell_text(u) for u in col.uniques]
        errs = [u if isinstance(u, str) and u in self.error_values else None for u in col.uniques]
        self._flag(col, [None if not e else say("missing_string", "en")
                         if e.startswith(MISSING_STRING) else say("excel_error", "en") for e in errs],
                   letter, name, say("excel_error_expected", "en"), "error")
        texts = [None if e else t for t, e in zip(texts, errs)]
        if c.key in _KEY_COLUMNS.get(spec.name, ()):
            self._note_trimmed(col, letter)
        if any(t is not None and len(t) > MAX_TEXT for t in texts):  # a hand-made file; fill could not write it
            self._flag(col, [say("text_too_long", "en", n=len(t)) if t is not None and len(t) > MAX_TEXT
                             else None for t in texts], letter, name,
                       say("text_too_long_expected", "en", most=MAX_TEXT), "length")
        if kind == model.CHOICE:
            keys = [None if t is None else model.choice_key(c, t) for t in texts]
            labels = ", ".join(f"{ch.zh} / {ch.en}" for ch in c.choices)
            self._flag(col, [say("unknown_choice", "en") if (t is not None and k is None) else None
                             for t, k in zip(texts, keys)], letter, name, say("one_of", "en", choices=labels),
                       "choice")
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

    def _in_units(self, col: CellColumn, vals: list, why: list, units, letter: str, name: str,
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

    def _note_trimmed(self, col: CellColumn, letter: str) -> None:
        """Remember key cells (units, KPI codes, task IDs) typed with spaces around them: the
        engine reads them trimmed, Excel's formulas compare them as they are, so fill trims them."""
        padded = [k for k, u in enumerate(col.uniques) if type(u) is str and u.strip() and u != u.strip()]
        for pos in np.flatnonzero(np.isin(col.codes, padded)).tolist() if padded else ():
            self.trimmed[f"{letter}{self.rows[pos]}"] = col.uniques[col.codes[pos]].strip()

    def _note_text_numbers(self, col: CellColumn, why: list, values: np.ndarray, letter: str,
                           per_row: bool = False) -> None:
        """Remember the cells holding a number typed as text (``fill`` stores them as numbers)."""
        texts = [k for k, u in enumerate(col.uniques) if type(u) is str and not is_blank(u)]
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
        return empty_column(c.kind, 0)

    def _extra(self, name: str, col: CellColumn, letter: str) -> np.ndarray:
        """A fact column that is not in the model: numeric → measure, otherwise dimension."""
        vals, why = self._parse_uniques(col, parse_number)
        counts = np.bincount(col.codes[col.codes >= 0], minlength=len(col.uniques))
        filled = int(sum(n for n, b in zip(counts, col.blank_u) if not b))
        bad = int(sum(n for n, w in zip(counts, why) if w is not None))
        named = model.normalize_header(name) in self.numeric_names
        if not named and _DIMENSION_HINT.search(name.strip()):  # 区域代码 101: a label, not a sum
            self.dimensions.append(name)
            return col.take([cell_text(u) for u in col.uniques])
        # A measure, maybe with a few bad cells: mostly numbers, or named by a KPI and holding
        # at least one number. A column of text stays a dimension (validate names the KPI cell).
        if (filled and bad * 2 < filled) or (named and bad < filled) or (named and not filled):
            self.measures.append(name)
            message = say("in_measure_column", "en", name=name, table=table_name(self.spec.name, "en"))
            unit = self.header_units.get(self._index) or self.measure_units.get(
                model.normalize_header(_BRACKETS.sub("", name)))
            if unit is not None and any(type(u) is str for u in col.uniques):
                return self._in_units(col, vals, why, [unit] * len(col.codes), letter, message,
                                      NUMBER_EXPECTED)
            self._flag(col, why, letter, message, NUMBER_EXPECTED, "measure")
            return col.take([np.nan if v is None else v for v in vals], dtype="float64", fill=np.nan)
        self.dimensions.append(name)
        return col.take([cell_text(u) for u in col.uniques])


#: (table name, headers) → (spec, found, unmatched, zh headers, en headers): every workbook
#: made from one template has the same header rows, so each is matched once per process
_MATCHED = caching.Cache("reading.matched_headers", 1024)


def _matched(spec: model.TableSpec, headers: list) -> tuple[dict[str, int], list, int, int]:
    """``_match`` plus how many found headers are the Chinese and the English header."""
    # Only text headers are remembered: 1, 1.0 and True are equal keys but read differently.
    key = (spec.name, tuple(headers)) if all(type(h) is str for h in headers) else None
    hit = _MATCHED.get(key) if key is not None else None
    if hit is None or hit[0] is not spec:  # another spec of the same name: matched afresh
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
            _MATCHED.put(key, hit)
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
