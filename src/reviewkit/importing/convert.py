"""Every source value through the reader: the mapped columns become one Excel Table on a pseudo
sheet that ``reading.read_tables`` reads, so values are understood exactly as in a workbook;
its problems are re-addressed to the source's rows and columns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import model
from ..errors import Problem
from ..reading.engine import Engine
from ..reading.package import TableColumnInfo, TableInfo, col_letter
from ..reading.read import read_tables
from ..reading.values import CellColumn, is_blank
from .mapping import Mapping
from .sources import Source
from .write import cell_value


#: task states as the tools write them → ``model.ACTION_STATUS`` keys (a late task is still open:
#: the review flags it through its due date)
TOOL_STATES = {"未开始": "not_started", "待处理": "not_started", "待办": "not_started", "未完成": "in_progress",
               "进行中": "in_progress", "处理中": "in_progress", "已延期": "in_progress", "延期": "in_progress",
               "已逾期": "in_progress", "逾期": "in_progress", "已完成": "done", "已关闭": "done",
               "已暂停": "blocked", "挂起": "blocked"}


_PLAIN_NUMBER = re.compile(r"^-?(?:0|[1-9]\d{0,14})(?:\.\d+)?$")  # what a spreadsheet types as a number
_SHEET = "\x00source"  # the source's pseudo sheet while the reader converts it


class _SourceEngine(Engine):
    """The reader's ``Engine`` over one source table on a pseudo sheet (``reading.read_tables``)."""

    def __init__(self, info: TableInfo, rows: list, source: str):
        self.source, self.sheets, self.tables, self._rows = source, [info.sheet], [info], rows

    def grid(self, sheet: str) -> list:
        return self._rows


def _typed(values, kind: str | None):
    """CSV text as a spreadsheet would type it: plain decimal numbers become numbers (never for date
    columns, where ``20250301`` is a day, nor ``00123``, which keeps its zeros); the rest stays text
    for the reader to parse."""
    if kind in (model.DATE, "period"):
        return values
    col = CellColumn(list(values))  # each distinct text looked at once
    plain = _PLAIN_NUMBER.match
    return col.take([float(u) if type(u) is str and plain(u) else u for u in col.uniques])


@dataclass
class Converted:
    frame: pd.DataFrame
    keep: list[int]  # source data row of each frame row
    problems: list[Problem]
    targets: list[str]  # frame columns that came from the source (keys and Facts names)
    dimensions: list[str]
    measures: list[str]


def convert(spec: model.TableSpec, source: Source, mapping: Mapping, lang: str,
             numeric: frozenset[str] = frozenset()) -> Converted:
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
    review, found = read_tables(_SourceEngine(info, rows, source.name), check=False)
    df = review.tables[spec.name]
    layout = review.layouts[spec.name]
    problems: list[Problem] = []
    for p in found:
        if p.sheet != _SHEET:
            continue
        problems.append(_place_problem(p, source, order, spec))
    keep = [r - 2 for r in layout.rows]
    targets = [mapping.columns[j] for j in order]
    conv = Converted(df, keep, problems, targets, list(review.dimensions), list(review.measures))
    for j in order:  # a measure of the workbook must stay numbers, however few the source has
        if mapping.columns[j] in numeric and mapping.columns[j] in conv.dimensions:
            _as_measure(conv, source, j, mapping.columns[j])
    return conv


def _as_measure(conv: Converted, source: Source, j: int, name: str) -> None:
    """Read Facts column ``name`` (source column ``j``) as numbers with ``parse_number``; every
    refused value is a problem at its source row."""
    from ..numbers import NUMBER_EXPECTED, ParseError, parse_number

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
        from ..reading.package import col_index

        j = order[col_index(m.group(1)) - 1] if col_index(m.group(1)) - 1 < len(order) else None
        i = int(m.group(2)) - 2
        if j is not None and 0 <= i < len(source.where):
            cell, where = source.place(i, j)
            return Problem(source.name, source.sheet, cell, f"{where}: {message}", p.value, p.expected, p.severity)
    return Problem(source.name, source.sheet, None, message, p.value, p.expected, p.severity)


def row_of(p: Problem, source: Source) -> int | None:
    m = re.match(r"^(row \d+|record \d+(?: \([^)]*\))?|index .*?), (?:column|field) ", p.message)
    if not m:
        return None
    try:
        return source.where.index(m.group(1))
    except ValueError:
        return None


def bad_rows_by_parse(conv: Converted, source: Source, mapping: Mapping, conv_spec: model.TableSpec) -> set[int]:
    """Rows with any refused value when the reader summarized repeats: converted again row-wise."""
    bad: set[int] = set()
    for p in conv.problems:
        i = row_of(p, source)
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
            if cell_value(v) is None and (required or not is_blank(raw)):
                bad.add(conv.keep[pos])
    return bad
