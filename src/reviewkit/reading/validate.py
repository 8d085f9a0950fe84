"""Checks across rows and tables of a ``Review``: every problem at once, each naming its cell.

Cell-level parsing problems (text in a number column, a date that is not a date, an unknown
drop-down value) are found while reading; this module checks what only makes sense once all
tables are read: KPI keys that the KPIs table does not define, duplicate rows, ratio KPIs whose
columns are missing from the facts, impossible ranges and date orders, and a few warnings that
follow the review method (a target of 0, a cause without evidence).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype

from .. import model
from .._pandas import block_arrays as _column_arrays
from .._pandas import box_native
from ..analysis._common import total_units, unit_stem
from ..errors import Problem
from ..numbers import is_blank as _blank, parse_unit
from ..ooxml import numfmt
from .messages import say, table_name

_KPI_TABLES = ("Scorecard", "Causes", "Actions", "NextYear", "Results", "Plan")


class _Checker:
    def __init__(self, review: model.Review):
        self.review = review
        self.file = str(review.source or "")
        self.lang = review.lang
        self.problems: list[Problem] = []
        self._columns: dict[tuple[str, str], list] = {}
        self._lists: dict[str, dict] = {}  # table -> its columns' tolist(), read block by block

    def values(self, table: str, df: pd.DataFrame, key: str) -> list:
        """``_values(df[key])`` of ``table``, read once per check (several checks share columns)."""
        found = self._columns.get((table, key))
        if found is None:
            array = self._arrays(table, df).get(key)
            found = self._columns[(table, key)] = (_boxed(array.dtype, array.tolist()) if array is not None
                                                   else _values(df[key]))
        return found

    def tolist(self, table: str, df: pd.DataFrame, key: str) -> list:
        """``df[key].tolist()`` (a fresh list)."""
        array = self._arrays(table, df).get(key)
        return array.tolist() if array is not None else df[key].tolist()

    def _arrays(self, table: str, df: pd.DataFrame) -> dict:
        arrays = self._lists.get(table)
        if arrays is None:
            arrays = self._lists[table] = _column_arrays(df)
        return arrays

    def records(self, table: str, df: pd.DataFrame, columns: list) -> list[dict]:
        """``df[columns].to_dict("records")`` from the shared column lists."""
        if not df.columns.is_unique:
            return df[columns].to_dict("records")
        lists = [self.values(table, df, c) for c in columns]
        return [dict(zip(columns, row)) for row in zip(*lists)] if lists else [{} for _ in range(len(df))]

    def where(self, table: str, key: str | None = None, pos: int | None = None):
        layout = self.review.layouts.get(table)
        if layout is None:
            return None, None
        cell = None
        if key is not None and key in layout.columns:
            try:
                cell = layout.cell(key, pos)
            except IndexError:
                cell = None
        return layout.sheet, cell

    def add(self, table, key, pos, message, value=None, expected=None, severity="error"):
        sheet, cell = self.where(table, key, pos)
        self.problems.append(Problem(self.file, sheet, cell, message, _plain(value), expected, severity))

    def header(self, table: str, key: str) -> str:
        spec = model.TABLES_BY_NAME[table]
        layout = self.review.layouts.get(table)
        if layout and key in layout.headers:
            return layout.headers[key]
        try:
            return spec.column(key).header(self.lang)
        except KeyError:
            return key


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return v


def _values(s: pd.Series) -> list:
    """A column as the Python values ``DataFrame.to_dict("records")`` gives for it.

    The tables are a few rows each: reading their columns as lists avoids pandas' per-row
    machinery (``to_dict``, ``iloc``), which cost more than the checks themselves.
    """
    return _boxed(s.dtype, s.tolist())


def _boxed(dtype, vals: list) -> list:
    """``_values`` of a column with ``dtype`` whose ``tolist()`` is ``vals``."""
    if dtype == object or isinstance(dtype, ExtensionDtype):
        vals = [v if v is None or type(v) is str else box_native(v) for v in vals]
    return vals


def _records(df: pd.DataFrame, columns: list | None = None) -> list[dict]:
    """``df[columns].to_dict("records")`` (all columns when None), built from column lists."""
    if columns is None:
        columns = list(df.columns)
    if not df.columns.is_unique:  # to_dict reads duplicate names by position: let it
        return (df[columns] if columns != list(df.columns) else df).to_dict("records")
    arrays = _column_arrays(df)
    lists = [_boxed(arrays[c].dtype, arrays[c].tolist()) if c in arrays else _values(df[c])
             for c in columns]
    return [dict(zip(columns, row)) for row in zip(*lists)] if lists else [{} for _ in range(len(df))]


def _isna(v) -> bool:
    """``pd.isna`` of one cell, quick for the common text and None."""
    if v is None:
        return True
    if type(v) is str:
        return False
    return bool(pd.isna(v))


def _who(unit, kpi) -> str:
    """"unit / KPI" in a finding; a row without a unit names the KPI alone."""
    return str(kpi) if _blank(unit) else f"{unit} / {kpi}"


def validate(review: model.Review) -> list[Problem]:
    """Every cross-row and cross-table problem of ``review`` (errors and warnings)."""
    ck = _Checker(review)
    _duplicates(ck)
    _kpi_references(ck)
    _kpi_definitions(ck)
    _scorecard(ck)
    _scorecard_structure(ck)
    _scorecard_scales(ck)
    _dates_in_order(ck)
    _progress_tasks(ck)
    _causes(ck)
    return ck.problems


def _frame(review: model.Review, name: str) -> pd.DataFrame | None:
    df = review.tables.get(name)
    return df if df is not None and 0 not in df.shape else None  # not df.empty


def _duplicates(ck: _Checker) -> None:
    for spec in model.TABLES:
        df = _frame(ck.review, spec.name)
        if df is None or not spec.key or not all(k in df.columns for k in spec.key):
            continue
        if not df.columns.is_unique:
            _duplicates_frame(ck, spec, df)
            continue
        raw_cols = [ck.values(spec.name, df, k) for k in spec.key]
        cols = raw_cols
        if spec.name == "Settings":  # "复盘年度" and "review_year" are the same setting
            cols = [[model.normalize_header(v) if isinstance(v, str) else v for v in c] for c in raw_cols]
        need = [j for j, k in enumerate(spec.key) if spec.column(k).required] or list(range(len(spec.key)))
        seen: dict[tuple, int] = {}
        for pos, raw in enumerate(zip(*cols)):
            if any(_isna(raw[j]) for j in need):
                continue
            key = tuple(None if _blank(x) else x for x in raw)
            if key not in seen:
                seen[key] = pos
                continue
            _report_duplicate(ck, spec, seen[key], pos, [c[pos] for c in raw_cols])


def _duplicates_frame(ck: _Checker, spec: model.TableSpec, df: pd.DataFrame) -> None:
    """The pandas version of ``_duplicates``, for a frame with repeated column names."""
    keys = df[list(spec.key)]
    if spec.name == "Settings":
        keys = keys.map(lambda v: model.normalize_header(v) if isinstance(v, str) else v)
    filled = ~keys[[k for k in spec.key if spec.column(k).required] or list(spec.key)].isna().any(axis=1)
    filled_arr = filled.to_numpy()
    seen: dict[tuple, int] = {}
    for pos, raw in enumerate(zip(*(keys.iloc[:, j].tolist() for j in range(keys.shape[1])))):
        if not filled_arr[pos]:
            continue
        key = tuple(None if _blank(x) else x for x in raw)
        if key not in seen:
            seen[key] = pos
            continue
        _report_duplicate(ck, spec, seen[key], pos, df[list(spec.key)].iloc[pos])


def _report_duplicate(ck: _Checker, spec: model.TableSpec, first: int, pos: int, values) -> None:
    """Row ``pos`` repeats the key of row ``first``: one problem on the row's last key cell."""
    _, first_cell = ck.where(spec.name, spec.key[-1], first)
    label = " + ".join(ck.header(spec.name, k) for k in spec.key)
    ck.add(spec.name, spec.key[-1], pos,
           say("duplicate_row", "en", table=table_name(spec.name, "en"), label=label,
               first=first_cell or say("an_earlier_row", "en")),
           value=" + ".join(str(_plain(x)) for x in values), expected=say("duplicate_row_expected", "en", label=label))


def _kpi_keys(review: model.Review) -> set[str] | None:
    kpis = review.tables.get("KPIs")
    if kpis is None or "key" not in kpis.columns:
        return None  # no KPIs table at all: reported once as a missing table
    return {str(k) for k in kpis["key"].tolist() if not _blank(k)}


def _kpi_references(ck: _Checker) -> None:
    keys = _kpi_keys(ck.review)
    if keys is None:
        return
    folded = {model.normalize_header(k): k for k in keys}
    listed = (", ".join(sorted(keys)[:12]) + (" …" if len(keys) > 12 else "")) or say("none_yet", "en")
    for table in _KPI_TABLES:
        df = _frame(ck.review, table)
        if df is None or "kpi" not in df.columns:
            continue
        for pos, v in enumerate(ck.tolist(table, df, "kpi")):
            if _blank(v) or str(v) in keys:
                continue
            near = folded.get(model.normalize_header(v))
            ck.add(table, "kpi", pos, say("unknown_kpi", "en", table=table_name(table, "en")), value=v,
                   expected=(say("unknown_kpi_near", "en", near=near) if near else
                             say("unknown_kpi_expected", "en", listed=listed)))


#: the KPIs columns _kpi_definitions reads (a missing one reads as None, as with row.get)
_DEFINITION_COLUMNS = ("key", "aggregation", "direction", "numerator", "denominator", "measure",
                       "range_low", "range_high", "green", "amber", "weight", "number_format")


def _kpi_definitions(ck: _Checker) -> None:
    kpis = _frame(ck.review, "KPIs")
    if kpis is None:
        return
    facts = ck.review.tables.get("Facts")
    fact_cols = set(ck.review.measures) if facts is not None else None
    fact_all = set(facts.columns) if facts is not None else set()
    for pos, row in enumerate(ck.records("KPIs", kpis, [c for c in _DEFINITION_COLUMNS if c in kpis.columns])):
        key = row.get("key")
        agg, direction = row.get("aggregation"), row.get("direction")
        if agg == "ratio":
            for part in ("numerator", "denominator"):
                if _blank(row.get(part)):
                    ck.add("KPIs", part, pos, say("ratio_no_part", "en", kpi=key, part=say(f"part_{part}", "en")),
                           value=None, expected=say("ratio_no_part_expected", "en", part=say(f"part_{part}", "en"),
                                                    example="renewed" if part == "numerator" else "due"))
        for part in ("measure", "numerator", "denominator"):
            name = row.get(part)
            if _blank(name) or fact_cols is None:
                continue
            if name not in fact_cols:
                ck.add("KPIs", part, pos,
                       say("part_text_column" if name in fact_all else "part_not_fact", "en", kpi=key,
                           part=say(f"part_{part}", "en"), name=name), value=name,
                       expected=say("part_expected", "en",
                                    columns=", ".join(ck.review.measures) or say("none", "en")))
        low, high = row.get("range_low"), row.get("range_high")
        if direction == "range":
            for part, v in (("range_low", low), ("range_high", high)):
                if _blank(v):
                    ck.add("KPIs", part, pos, say("range_missing", "en", kpi=key, part=say(f"part_{part}", "en")),
                           expected=say("a_number", "en"))
        if not _blank(low) and not _blank(high) and low > high:
            ck.add("KPIs", "range_high", pos, say("range_inverted", "en", kpi=key),
                   value=f"{_plain(low)} > {_plain(high)}", expected=say("range_inverted_expected", "en"))
        green, amber = row.get("green"), row.get("amber")
        if not _blank(green) and not _blank(amber) and amber > green:
            ck.add("KPIs", "amber", pos, say("amber_above_green", "en", kpi=key),
                   value=f"{_plain(amber)} > {_plain(green)}",
                   expected=say("amber_above_green_expected", "en"), severity="warning")
        weight = row.get("weight")
        if not _blank(weight) and weight < 0:
            ck.add("KPIs", "weight", pos, say("negative_weight", "en", kpi=key), value=weight,
                   expected=say("negative_weight_expected", "en"))
        fmt = row.get("number_format")
        if not _blank(fmt):
            why = numfmt.problem(str(fmt).strip())
            if why:  # fill would write it into styles.xml and the charts, and Excel would repair them
                ck.add("KPIs", "number_format", pos, say("bad_number_format", "en", kpi=key, why=why),
                       value=fmt, expected=say("bad_number_format_expected", "en"))


#: the smallest non-zero comparison base: figures are at most 10^15 (numbers.MAX_FIGURE), so a
#: ratio to a base this size stays far from float overflow even as a percentage
MIN_BASE = 1e-12
_SCALE_COLUMNS = ("target", "actual", "last_year", "year_before", "industry_avg", "competitor",
                  "industry_top")


def _percent_kpis(review: model.Review, ck: _Checker | None = None) -> set[str]:
    kpis = _frame(review, "KPIs")
    if kpis is None:
        return set()
    ck = ck or _Checker(review)
    out = set()
    for row in ck.records("KPIs", kpis, [c for c in ("unit", "aggregation", "key") if c in kpis.columns]):
        unit = str(row.get("unit") or "").strip()
        if unit in ("%", "％", "百分比", "percent") or row.get("aggregation") == "ratio":
            out.add(str(row.get("key")))
    return out


def _scorecard(ck: _Checker) -> None:
    sc = _frame(ck.review, "Scorecard")
    if sc is None or "target" not in sc.columns:
        return
    percent = _percent_kpis(ck.review, ck)
    cols = [c for c in _SCALE_COLUMNS if c in sc.columns]
    rows = ck.records("Scorecard", sc, ["kpi", *cols]) if "kpi" in sc.columns else sc[["kpi", *cols]].to_dict("records")
    for pos, row in enumerate(rows):
        if str(row["kpi"]) not in percent:
            continue
        vals = {c: row[c] for c in cols if not _blank(row[c]) and row[c] != 0}
        big = [c for c, v in vals.items() if abs(v) > 1.5]
        small = [c for c, v in vals.items() if abs(v) <= 1.5]
        if big and small:
            ck.add("Scorecard", big[0], pos,
                   say("mixed_scales", "en", kpi=row["kpi"], big=ck.header("Scorecard", big[0]),
                       big_value=f"{_plain(vals[big[0]]):g}", small=ck.header("Scorecard", small[0]),
                       small_value=f"{_plain(vals[small[0]]):g}"),
                   value=vals[big[0]], expected=say("mixed_scales_expected", "en", value=f"{_plain(vals[big[0]]):g}",
                                                    fraction=f"{_plain(vals[big[0]]) / 100:g}"),
                   severity="warning")
    for pos, (unit, kpi, target) in enumerate(zip(ck.tolist("Scorecard", sc, "unit"), ck.tolist("Scorecard", sc, "kpi"),
                                                  ck.tolist("Scorecard", sc, "target"))):  # not boxed, as before
        if not _blank(target) and target == 0:
            ck.add("Scorecard", "target", pos, say("zero_target", "en", who=_who(unit, kpi)),
                   value=0, expected=say("zero_target_expected", "en"), severity="warning")
    for col in cols:  # every comparison base divides something: a tiny one overflows the ratio
        for pos, v in enumerate(ck.tolist("Scorecard", sc, col)):
            if not _blank(v) and v != 0 and abs(v) < MIN_BASE:
                ck.add("Scorecard", col, pos, say("tiny_base", "en", column=ck.header("Scorecard", col)), value=v,
                       expected=say("tiny_base_expected", "en", least=f"{MIN_BASE:g}"))


def _kpi_info(review: model.Review) -> dict[str, dict]:
    """KPI key -> {name, unit (numbers.Unit or None), direction} from the KPIs table."""
    kpis = _frame(review, "KPIs")
    if kpis is None:
        return {}
    cols = [c for c in ("key", "name", "unit", "direction") if c in kpis.columns]
    return {str(r["key"]): {"name": r.get("name") if not _blank(r.get("name")) else r["key"],
                            "unit": parse_unit(r.get("unit")), "unit_text": r.get("unit"),
                            "direction": r.get("direction")}
            for r in _records(kpis, cols) if not _blank(r.get("key"))}


def _scorecard_structure(ck: _Checker) -> None:
    """The Scorecard a reviewer would question: no actual or target column, no rows, total rows,
    near-duplicate unit names, rows without a target."""
    layout = ck.review.layouts.get("Scorecard")
    if layout is None:
        return
    lang = ck.lang
    spec = model.SCORECARD
    for key, why in (("actual", "missing_actual_why"), ("target", "missing_target_why")):
        if key not in layout.columns:
            col = spec.column(key)
            first, last = _ref_cols(layout.ref)
            ck.problems.append(Problem(
                ck.file, layout.sheet, f"{first}{layout.header_row}:{last}{layout.header_row}",
                say("missing_measure_column", lang, table=spec.name, column=col.header(lang), why=say(why, lang)),
                None, say("missing_column_expected", lang, zh=col.zh, en=col.en)))
    sc = _frame(ck.review, "Scorecard")
    if sc is None:
        cells, message = empty_table_hint(layout, lang)
        ck.problems.append(Problem(ck.file, layout.sheet, cells, message, None,
                                   say("empty_table_expected", lang), "warning"))
        return
    if "unit" not in sc.columns:
        return
    units = ck.tolist("Scorecard", sc, "unit")
    totals = total_units(u for u in units if not _blank(u))
    reported: set = set()
    for pos, u in enumerate(units):
        if u in totals and u not in reported:
            reported.add(u)
            ck.add("Scorecard", "unit", pos, say("total_row", lang, unit=u), value=u,
                   expected=say("total_row_expected", lang), severity="warning")
    first_of: dict[str, tuple[int, str]] = {}
    seen_spelling: set = set()
    for pos, u in enumerate(units):
        if _blank(u) or u in totals:
            continue
        stem = unit_stem(u)
        if stem not in first_of:
            first_of[stem] = (pos, u)
            seen_spelling.add(u)
            continue
        pos0, u0 = first_of[stem]
        if u == u0 or u in seen_spelling:
            continue
        seen_spelling.add(u)
        _, cell0 = ck.where("Scorecard", "unit", pos0)
        ck.add("Scorecard", "unit", pos, say("near_duplicate", lang, name=u, other=u0, other_cell=cell0,
                                             why=say("near_duplicate_why", lang)),
               value=u, expected=say("near_duplicate_expected", lang, other=u0), severity="warning")
    if "target" in sc.columns and "kpi" in sc.columns:
        info = _kpi_info(ck.review)
        for pos, (u, k, t) in enumerate(zip(units, ck.tolist("Scorecard", sc, "kpi"),
                                            ck.tolist("Scorecard", sc, "target"))):
            kp = info.get(str(k))
            if kp is None or kp["direction"] == "range" or u in totals or not _blank(t):
                continue
            ck.add("Scorecard", "target", pos, say("missing_target", lang, who=_who(u, kp["name"])),
                   expected=say("missing_target_expected", lang), severity="warning")


def empty_table_hint(layout: model.TableLayout, lang: str) -> tuple[str, str]:
    """(the input cells, "计分卡 has no rows: type targets and actuals in A5:I9") for a table
    without rows: where to type."""
    spec = model.TABLES_BY_NAME[layout.table]
    inputs = [layout.columns[c.key] for c in spec.input_columns if c.key in layout.columns]
    end = max(layout.last_row, layout.first_row)
    cells = (f"{min(inputs, key=_col_key)}{layout.first_row}:{max(inputs, key=_col_key)}{end}"
             if inputs else layout.ref)
    return cells, say("empty_table", lang, sheet=layout.sheet, cells=cells)


def _col_key(letters: str) -> tuple[int, str]:
    return len(letters), letters


def _ref_cols(ref: str) -> tuple[str, str]:
    import re

    found = re.findall(r"([A-Z]+)\d+", ref.upper())
    return (found[0], found[-1]) if found else ("A", "A")


#: the scorecard columns a row's scale is judged on (the benchmarks may differ by far)
_OWN_ROW = ("target", "actual", "last_year", "year_before")


def _scorecard_scales(ck: _Checker) -> None:
    """Units as numbers: a bare number above 150% in a % KPI is a question, and a value 100× or
    more away from every other value of its row (target, actual, last year) is a warning."""
    sc = _frame(ck.review, "Scorecard")
    if sc is None or "kpi" not in sc.columns:
        return
    info = _kpi_info(ck.review)
    lang = ck.lang
    cols = [c for c in _SCALE_COLUMNS if c in sc.columns]
    percent_mixed = _percent_kpis(ck.review, ck)
    units = ck.tolist("Scorecard", sc, "unit") if "unit" in sc.columns else [None] * len(sc)
    for pos, row in enumerate(ck.records("Scorecard", sc, ["kpi", *cols])):
        kp = info.get(str(row["kpi"]))
        if kp is None:
            continue
        vals = {c: float(v) for c in cols if (v := row[c]) is not None and v == v and v != 0}
        unit = kp["unit"]
        if unit is not None and unit.kind == "percent":
            big = [c for c, v in vals.items() if abs(v) > 1.5]
            mixed = str(row["kpi"]) in percent_mixed and len(big) < len(vals)
            for c in big[1:] if mixed else big:  # _scorecard names the first of a mixed row
                v = vals[c]
                shown = f"{v:g}"
                ck.add("Scorecard", c, pos,
                       say("percent_bare", lang, name=kp["name"], column=ck.header("Scorecard", c),
                           value=shown, value_pct=f"{v:.0%}", fraction=f"{v / 100:g}"),
                       value=row[c], expected=say("percent_bare_expected", lang), severity="warning")
            continue
        own = {c: v for c, v in vals.items() if c in _OWN_ROW}
        if len(own) < 2:
            continue
        far = [c for c, v in own.items()
               if all(max(abs(v) / abs(o), abs(o) / abs(v)) >= 100 for c2, o in own.items() if c2 != c)]
        if len(far) == len(own):  # two values: the actual is the one to check
            far = ["actual"] if "actual" in far else far[-1:]
        for c in far:
            others = "、".join(f"{ck.header('Scorecard', o)} {_fmt(own[o])}" for o in own if o != c) \
                if lang == "zh" else ", ".join(f"{ck.header('Scorecard', o)} {_fmt(own[o])}" for o in own if o != c)
            unit_text = kp["unit_text"] if not _blank(kp["unit_text"]) else say("no_unit", lang)
            ck.add("Scorecard", c, pos,
                   say("scale_outlier", lang, who=_who(units[pos], kp["name"]), column=ck.header("Scorecard", c),
                       value=_fmt(own[c]), others=others, kpi_unit=unit_text),
                   value=row[c], expected=say("scale_outlier_expected", lang, kpi_unit=unit_text),
                   severity="warning")


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 and float(x).is_integer() else f"{x:,.4g}"


def _dates_in_order(ck: _Checker) -> None:
    for table, a, b in (("Plan", "start", "end"), ("Campaigns", "start", "end"),
                        ("Progress", "planned_start", "planned_date")):
        df = _frame(ck.review, table)
        if df is None or a not in df.columns or b not in df.columns:
            continue
        start, end = pd.to_datetime(df[a]), pd.to_datetime(df[b])
        for pos in np.flatnonzero((end < start).to_numpy()):
            ck.add(table, b, int(pos), say("date_order", "en", end=ck.header(table, b), start=ck.header(table, a)),
                   value=f"{start.iloc[pos].date()} → {end.iloc[pos].date()}",
                   expected=say("date_order_expected", "en", end=ck.header(table, b), start=ck.header(table, a)))


def _progress_tasks(ck: _Checker) -> None:
    plan, prog = _frame(ck.review, "Plan"), _frame(ck.review, "Progress")
    if plan is None or prog is None:
        return
    ids = {str(v) for v in plan["task_id"] if not _blank(v)}
    for pos, v in enumerate(prog["task_id"]):
        if not _blank(v) and str(v) not in ids:
            ck.add("Progress", "task_id", pos, say("unknown_task", "en"), value=v,
                   expected=say("unknown_task_expected", "en", ids=", ".join(sorted(ids)[:10])))


def _causes(ck: _Checker) -> None:
    df = _frame(ck.review, "Causes")
    if df is None or "evidence" not in df.columns:
        return
    for pos, (cause, evidence) in enumerate(zip(df["cause"], df["evidence"])):
        if _blank(cause):
            continue
        if _blank(evidence) or not any(ch.isdigit() for ch in str(evidence)):
            ck.add("Causes", "evidence", pos, say("cause_without_evidence", "en"), value=evidence,
                   expected=say("cause_without_evidence_expected", "en"), severity="warning")


def source_name(review: model.Review) -> str:
    return Path(review.source).name if review.source else ""
