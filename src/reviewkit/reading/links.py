"""What the reading loop does once every table is read: the Settings table into settings, KPI
units for the tables' typed numbers, and the links between tables (KPIs named by name, fact
columns named loosely).
"""
from __future__ import annotations

import re

import pandas as pd

from .. import model
from .._pandas import block_arrays as _column_arrays
from ..numbers import ParseError, Unit, parse_date, parse_number, parse_percent, parse_unit
from .messages import say
from .validate import _isna, _records


#: Settings entries that keep an import's header mapping (reviewkit.importing.MAP_SETTING)
_IMPORT_MAP = re.compile(r"^\s*(?:导入映射|import\s*map)\s*[:：]", re.IGNORECASE)
_SETTING_KIND = {"review_year": "year", "as_of": "date", "plan_end": "date",
                 "deviation_threshold": "percent", "max_parallel_tasks": "int"}


def read_settings(review: model.Review, sink) -> dict[str, object]:
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
        if _isna(name):
            continue
        key = lookup.get(model.normalize_header(name))
        cell = layout.cell("setting", pos) if "setting" in layout.columns else None
        if key is None and _IMPORT_MAP.match(str(name)):
            continue  # a header mapping kept by `reviewkit import --save-map`
        if key is None:
            sink.add(say("unknown_setting", "en", name=name), sheet=layout.sheet, cell=cell, value=name,
                     severity="warning",
                     expected=say("one_of", "en", choices=", ".join(v[0] for v in model.SETTING_KEYS.values())))
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
                    raise ParseError(say("not_whole_number" if kind == "int" else "not_a_year", "en"),
                                     value=raw, expected=None)
                out[key] = None if x is None else int(x)
            else:
                out[key] = out[key] if _isna(value) else value
        except ParseError as exc:
            expected = (say({"year": "a_year", "int": "a_whole_number"}[kind], "en") if kind in ("year", "int")
                        else exc.expected)
            sink.add(say("bad_setting", "en", name=name, detail=exc.detail), sheet=layout.sheet,
                     cell=vcell, value=raw, expected=expected)
    return out



def kpi_units(review: model.Review) -> tuple[dict[str, Unit], dict[str, Unit]]:
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


def fact_columns_named_by_kpis(review: model.Review) -> set[str]:
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


def kpis_by_name(review: model.Review) -> None:
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


def link_fact_columns(review: model.Review) -> None:
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
