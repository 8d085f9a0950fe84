"""Read a review workbook into a ``model.Review``, and check workbooks (``reviewkit check``).

Tables are found by their Excel Table name (``Scorecard``, ``KPIs`` …), never by sheet
position; columns are found by header text with ``model.match_headers``, so users may reorder,
translate or move them. Where the sheets, tables and cells come from is an ``Engine``
(``reading.engine``: a file, or a workbook open in Excel); ``read_tables`` is the one loop that
reads every engine alike.

Every value goes through ``reviewkit.numbers``. Problems are collected, never raised one by one:
``read_with_problems`` returns the review and every problem found; ``read_review`` raises one
``ValidationError`` carrying them all; ``check_files`` reports several files at once.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import model
from ..errors import Problem, ReviewkitError, ValidationError
from .engine import Engine, FileEngine
from .messages import say
from .links import fact_columns_named_by_kpis, kpi_units, kpis_by_name, link_fact_columns, read_settings
from .table import TableReader
from .validate import validate

if TYPE_CHECKING:
    from ..ooxml.package import Package

__all__ = ["read_review", "read_with_problems", "read_tables", "check_files", "REQUIRED_TABLES",
           "MAX_PROBLEMS_PER_COLUMN"]

#: tables a review workbook cannot do without
REQUIRED_TABLES = ("KPIs", "Scorecard")
#: after this many bad values in one column, the rest are summarized in one problem
MAX_PROBLEMS_PER_COLUMN = 10


class Problems:
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
                                      say("more_values", "en", n=n, where=group[0]),
                                      None, None, severity))
        return self.items


def read_review(source: str | Path | Package | Engine, *, strict: bool = True) -> model.Review:
    """Read every reviewkit table of ``source`` (a workbook file, an opened ``Package``, or an
    ``Engine``) into a ``Review``.

    With ``strict`` (the default) any error found while reading or by ``validate`` raises one
    ``ValidationError`` listing them all; warnings never raise. A file that is not a usable
    workbook raises ``WorkbookFormatError`` (or ``UnsafeWorkbookError``).
    """
    review, problems = read_with_problems(source)
    if strict:
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise ValidationError(errors)
    return review


def read_with_problems(source: str | Path | Package | Engine, *, check: bool = True
                       ) -> tuple[model.Review, list[Problem]]:
    """Read ``source`` (a file, an opened ``Package``, or an ``Engine``) and return the review plus every problem found
    (``validate``'s too if ``check``).

    Raises only ``WorkbookFormatError`` (the file cannot be opened as a workbook at all).
    """
    engine = source if isinstance(source, Engine) else FileEngine.open(source)
    return read_tables(engine, check=check)


def read_tables(engine: Engine, *, check: bool = True) -> tuple[model.Review, list[Problem]]:
    """The reading loop, the same for every engine; returns (review, problems).

    Each table of ``model.TABLES`` the engine has is read by a ``TableReader`` (KPIs before
    the tables whose numbers take a KPI's unit); then settings, peer ranks and the links
    between tables; then ``validate`` when ``check``.
    """
    sink = Problems(engine.source)
    review = model.Review(source=engine.source or None)
    langs: Counter = Counter()
    units = None
    for spec in model.TABLES:
        info = engine.table(spec.name)
        if info is None:
            _missing_table(engine, spec, sink)
            continue
        read = TableReader(spec, info, engine, sink, langs)
        if spec is model.FACTS:
            read.numeric_names = fact_columns_named_by_kpis(review)
        if units is None and "KPIs" in review.tables:  # once, after the KPIs table is read
            units = kpi_units(review)
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
    kpis_by_name(review)
    review.settings = read_settings(review, sink)
    review.peer_ranks = _peer_ranks(engine)
    link_fact_columns(review)
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
                             say("unreadable", "en", error=f"{type(exc).__name__}: {exc}"),
                             None, say("unreadable_expected", "en"))]
        problems.extend(found)
    return problems


def _peer_ranks(engine: Engine):
    """The ranks a split department workbook carries from its master (None in other workbooks)."""
    from ..split import PEER_SHEET, read_peer_ranks

    sheet = next((s for s in engine.sheets if s in PEER_SHEET), None)
    if sheet is None:
        return None
    try:
        return read_peer_ranks(engine.grid(sheet))
    except ReviewkitError:
        return None  # an unreadable benchmark sheet: the workbook's own ranks are used


def _missing_table(pkg: Engine, spec: model.TableSpec, sink: Problems) -> None:
    if spec.name not in REQUIRED_TABLES:
        sheet = next((s for s in pkg.sheets if s in (spec.sheet_zh, spec.sheet_en)), None)
        if sheet is not None:
            sink.add(say("table_not_read", "en", sheet=sheet, name=spec.name),
                     sheet=sheet, severity="warning", expected=say("insert_table_expected", "en", name=spec.name))
        return
    for t in pkg.tables:  # a table with the right columns but another name?
        found, _ = model.match_headers(spec, [c.name for c in t.columns])
        need = [c.key for c in spec.columns if c.required]
        if need and all(k in found for k in need) and model.TABLES_BY_NAME.get(t.name) is None:
            sink.add(say("renamed_table", "en", name=spec.name, other=t.name, sheet=t.sheet), sheet=t.sheet, cell=t.ref,
                     value=t.name, expected=say("renamed_table_expected", "en", name=spec.name))
            return
    sheet = next((s for s in pkg.sheets if s in (spec.sheet_zh, spec.sheet_en)), None)
    if sheet is not None:
        sink.add(say("plain_cells", "en", sheet=sheet, name=spec.name),
                 sheet=sheet, expected=say("insert_table_expected", "en", name=spec.name))
    else:
        sink.add(say("no_table", "en", name=spec.name),
                 value=", ".join(t.name for t in pkg.tables) or None,
                 expected=say("no_table_expected", "en", name=spec.name, sheet_zh=spec.sheet_zh,
                              sheet_en=spec.sheet_en))
