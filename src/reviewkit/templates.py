"""Write new review workbooks with XlsxWriter: one named Excel Table per ``model.TABLES`` entry.

XlsxWriter only creates files, which is all this module does: ``build_template`` for
``reviewkit new`` (a preset's KPIs and empty, styled input tables) and ``build_workbook``
for a complete ``Review`` (the demo). Existing workbooks are edited by ``reviewkit.ooxml``.

Layout of every table sheet (1-based rows)::

    1  title (sheet name and table name)
    2  one-line hint (``spec.guide(lang)``)
    3  role of each column: input (yellow) or computed (grey)
    4  table header        <- the named Excel Table starts here, column A
    5… data rows

Input cells are light yellow and unlocked; computed columns have a grey header, grey cells
and stay locked. Sheets are not protected: Excel refuses to grow a table on a protected
sheet, and users add rows all the time. Output is deterministic (fixed document dates),
so the committed templates in ``xlsx_templates/`` can be compared part by part.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from . import model
from .errors import InputError, MissingDependencyError, ReviewkitError
from .files import check_target, write_file
from .messages import Messages, pairs, pick
from .analysis._common import is_blank as _is_blank
from .model import CHOICE, DATE, INTEGER, NUMBER, PERCENT
from .ooxml._xml import storable_text

#: document created/modified date written into every workbook (deterministic output)
FIXED_DATE = dt.datetime(2025, 1, 1, 0, 0, 0)

TITLE_ROW, HINT_ROW, ROLE_ROW, HEADER_ROW = 0, 1, 2, 3  # 0-based worksheet rows
FIRST_DATA_ROW = HEADER_ROW + 1
BLANK_ROWS = 5  # empty styled rows in a table that has no data yet
VALIDATION_EXTRA_ROWS = 500  # drop-downs reach this far below the last row, for rows users add
LIST_EXTRA_ROWS = 200  # KPI-key and task-id lists reach this far below their table
EXCEL_MAX_ROWS = 1_048_576

INPUT_FILL = "#FFF8D6"  # light yellow
COMPUTED_FILL = "#EDEDED"  # light grey
COMPUTED_HEADER = "#7F7F7F"
INPUT_HEADER = "#1F4E79"
BORDER = "#BFBFBF"

KIND_FORMATS = {NUMBER: "#,##0.0#", PERCENT: "0.0%", DATE: "yyyy-mm-dd", INTEGER: "0"}
COLUMN_FORMATS = {("KPIs", "green"): "0%", ("KPIs", "amber"): "0%", ("KPIs", "neutral_band"): "0%",
                  ("Plan", "people"): "0.0", ("Budget", "saved_hours"): "#,##0"}
#: number columns shown in the number format of the row's KPI
KPI_FORMATTED = {
    "Scorecard": ("target", "actual", "last_year", "year_before", "industry_avg", "competitor",
                  "industry_top", "gap", "change_ly", "vs_industry_avg", "vs_competitor",
                  "vs_industry_top"),
    "Results": ("planned", "actual"),
    "NextYear": ("annual_target", "q1", "q2", "q3", "q4"),
}
#: settings shown as dates / percents / whole numbers
SETTING_FORMATS = {"as_of": "yyyy-mm-dd", "plan_end": "yyyy-mm-dd", "deviation_threshold": "0%",
                   "review_year": "0", "max_parallel_tasks": "0"}

_WORDS = Messages.load("templates")
_t = _WORDS.say
_SETTING_NOTES = pairs("templates", "setting_notes")
_LOCALIZED_DEFAULTS = {"部门": "Department", "万元": "CNY 10k"}


# --- small helpers ------------------------------------------------------------------


def _as_datetime(value: object) -> dt.datetime | None:
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    return None


class _Formats:
    """XlsxWriter formats made once per distinct set of properties (state of one workbook, not a cache)."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self._wb = workbook
        self._made: dict[tuple, object] = {}

    def get(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._made:
            self._made[key] = self._wb.add_format(dict(props))
        return self._made[key]

    def cell(self, num_format: str | None, computed: bool):
        props = dict(border=1, border_color=BORDER, valign="top",
                     bg_color=COMPUTED_FILL if computed else INPUT_FILL, locked=computed)
        if num_format:
            props["num_format"] = num_format
        return self.get(**props)

    def header(self, computed: bool):
        return self.get(bold=True, font_color="#FFFFFF", bg_color=COMPUTED_HEADER if computed else INPUT_HEADER,
                        border=1, border_color=BORDER, text_wrap=True, valign="vcenter", locked=True)


def _kind_format(table: str, column: model.Column) -> str | None:
    return COLUMN_FORMATS.get((table, column.key)) or KIND_FORMATS.get(column.kind)


def _choice_label(column: model.Column, value: object, lang: str) -> object:
    key = model.choice_key(column, value)
    if key is None:
        return value
    return next(ch.label(lang) for ch in column.choices if ch.key == key)


# --- public API ---------------------------------------------------------------------
def build_template(path: str | Path, *, preset: str = "sales", lang: str = "zh", macro: bool = False,
                   overwrite: bool = False) -> Path:
    """Write an empty review workbook with ``preset``'s KPIs to ``path`` (``reviewkit new``)."""
    return build_workbook(path, template_review(preset, lang), lang=lang, macro=macro, overwrite=overwrite)


def template_review(preset: str = "sales", lang: str = "zh") -> model.Review:
    """The Review a new template holds: the preset's KPIs, default settings, empty tables.

    The Facts table gets ``period``, ``unit`` and the fact columns the preset's KPIs read.
    """
    from .presets import get_preset, preset_fact_columns

    _check_lang(lang)
    kpis = get_preset(preset, lang)
    facts = pd.DataFrame(columns=["period", "unit", *preset_fact_columns(preset, lang)])
    return model.Review(tables={"KPIs": kpis, "Facts": facts}, settings={}, lang=lang,
                        measures=preset_fact_columns(preset, lang))


def build_workbook(path: str | Path, review: model.Review, *, lang: str = "zh", macro: bool = False,
                   overwrite: bool = False) -> Path:
    """Write ``review`` as a new workbook at ``path``: guide sheet plus one sheet per table.

    Refuses to replace an existing file unless ``overwrite``; writes to a temporary file in
    the same folder and renames it, so a failure never leaves a half-written workbook.
    ``macro=True`` writes an .xlsm with a Refresh button (``reviewkit.vba``).
    """
    _check_lang(lang)
    path = Path(path)
    suffix = path.suffix.lower()
    want = ".xlsm" if macro else ".xlsx"
    if suffix != want:
        raise ReviewkitError("wrong file extension for a new workbook", file=path, value=path.suffix or "(none)",
                             expected=f"a name ending in {want}" + (" (macro workbooks are .xlsm)" if macro else
                                                                      " (use --macro for an .xlsm)"))
    if os.path.lexists(path) and not overwrite and not path.is_dir():
        raise ReviewkitError("the file already exists", file=path,
                             expected="a new file name, or overwrite=True (reviewkit new --force)")
    check_target(path, replace=overwrite)  # refuse before the work, not after it
    add_button = _refresh_button_hook() if macro else None
    return write_file(path, workbook_bytes(review, lang, add_button), replace=overwrite)


def workbook_bytes(review: model.Review, lang: str = "zh", add_button=None) -> bytes:
    """The bytes of the new workbook ``build_workbook`` writes (``add_button``: the Refresh button
    hook of a macro workbook)."""
    _check_lang(lang)
    out = io.BytesIO()
    _write(out, review, lang, add_button)
    return out.getvalue()


def _check_lang(lang: str) -> None:
    if lang not in model.LANGS:
        raise InputError("unknown language", value=lang, expected=" or ".join(model.LANGS))


def _refresh_button_hook():
    try:
        from .vba import add_refresh_button
    except ImportError as exc:
        raise MissingDependencyError("macro workbooks need reviewkit.vba, which is not available in this "
                                     "installation", expected="reinstall reviewkit, or build without --macro") from exc
    return add_refresh_button


# --- writing ------------------------------------------------------------------------
def _write(target: Path | io.BytesIO, review: model.Review, lang: str, add_button) -> None:
    from .guide import write_guide

    wb = xlsxwriter.Workbook(target if isinstance(target, io.BytesIO) else str(target), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    fmts = _Formats(wb)
    settings = _settings_rows(review, lang)
    company = next((str(v) for k, _, v, _ in settings if k == "company" and not _is_blank(v)), "")
    year = next((v for k, _, v, _ in settings if k == "review_year" and not _is_blank(v)), None)
    wb.set_properties({"title": _title(company, year, lang), "author": "reviewkit", "company": company,
                       "created": FIXED_DATE})
    wb.set_custom_property("reviewkit_lang", lang)

    guide = wb.add_worksheet(model.owned_sheet_name("guide", lang))
    sheets = {}
    for spec in model.TABLES:
        sheets[spec.name] = wb.add_worksheet(spec.sheet(lang))
    frames = {spec.name: _frame(review, spec, settings) for spec in model.TABLES}
    extents = {name: FIRST_DATA_ROW + max(len(df), 1 if name == "Settings" else BLANK_ROWS) - 1
               for name, df in frames.items()}
    kpi_formats = _kpi_formats(frames["KPIs"])
    lists = {
        "kpi": _column_range("KPIs", "key", lang, extents["KPIs"] + LIST_EXTRA_ROWS),
        "task_id": _column_range("Plan", "task_id", lang, extents["Plan"] + LIST_EXTRA_ROWS),
    }
    for spec in model.TABLES:
        _write_table(sheets[spec.name], fmts, spec, frames[spec.name], lang, kpi_formats, lists,
                     settings if spec.name == "Settings" else None)
    write_guide(guide, fmts, lang, company, year)
    guide.activate()
    if add_button is not None:
        add_button(wb, guide, lang, cell="H2")
    wb.close()


def _title(company: str, year: object, lang: str) -> str:
    year_text = "" if _is_blank(year) else (f"{int(year)}年度" if lang == "zh" else f"{int(year)} ")
    company_text = company + (" " if company and lang == "en" else "")
    title = _t("title", lang, company=company_text, year=year_text)
    return title[:1].upper() + title[1:]


def _frame(review: model.Review, spec: model.TableSpec, settings) -> pd.DataFrame:
    if spec.name == "Settings":
        return pd.DataFrame([{"setting": label, "value": value, "note": note}
                             for _, label, value, note in settings])
    df = review.tables.get(spec.name)
    if df is None:
        df = pd.DataFrame(columns=[c.key for c in spec.input_columns])
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"table '{spec.name}' of the review is not a DataFrame", value=type(df).__name__,
                         expected="a pandas DataFrame")
    if FIRST_DATA_ROW + len(df) > EXCEL_MAX_ROWS:
        raise InputError(f"table '{spec.name}' has too many rows for one worksheet", value=len(df),
                         expected=f"at most {EXCEL_MAX_ROWS - FIRST_DATA_ROW:,} rows")
    return df.reset_index(drop=True)


def _settings_rows(review: model.Review, lang: str) -> list[tuple[str, str, object, str]]:
    """(key, label, value, note) for every setting: SETTING_KEYS first, then any extra ones."""
    values: dict[str, object] = {}
    table = review.tables.get("Settings")
    if isinstance(table, pd.DataFrame) and {"setting", "value"} <= set(table.columns):
        labels = {model.normalize_header(x): k for k, (zh, en, _) in model.SETTING_KEYS.items()
                  for x in (k, zh, en)}
        for s, v in zip(table["setting"], table["value"]):
            if not _is_blank(s):
                values[labels.get(model.normalize_header(s), str(s))] = v
    values.update({k: v for k, v in (review.settings or {}).items()})
    rows = []
    for key, (zh, en, default) in model.SETTING_KEYS.items():
        value = values.pop(key, default)
        if lang == "en" and isinstance(value, str):
            value = _LOCALIZED_DEFAULTS.get(value, value)
        note = _SETTING_NOTES.get(key, ("", ""))
        rows.append((key, pick(lang, zh, en), value, pick(lang, *note)))
    rows.extend((key, key, value, "") for key, value in values.items())
    return rows


def _kpi_formats(kpis: pd.DataFrame) -> dict[str, str]:
    if "key" not in kpis.columns or "number_format" not in kpis.columns:
        return {}
    return {str(k).strip(): str(f).strip() for k, f in zip(kpis["key"], kpis["number_format"])
            if not _is_blank(k) and not _is_blank(f)}


def _column_range(table: str, key: str, lang: str, last_row: int) -> str:
    spec = model.TABLES_BY_NAME[table]
    col = xl_col_to_name([c.key for c in spec.columns].index(key))
    return f"='{spec.sheet(lang)}'!${col}${FIRST_DATA_ROW + 1}:${col}${last_row + 1}"


def _table_columns(spec: model.TableSpec, df: pd.DataFrame) -> list[tuple[str, model.Column | None]]:
    """(DataFrame column, model column or None for an open Facts column) in sheet order."""
    cols: list[tuple[str, model.Column | None]] = [(c.key, c) for c in spec.columns]
    if spec.open_columns:
        known = {c.key for c in spec.columns}
        cols += [(str(name), None) for name in df.columns if name not in known]
    return cols


def _write_table(ws, fmts: _Formats, spec: model.TableSpec, df: pd.DataFrame, lang: str,
                 kpi_formats: dict[str, str], lists: dict[str, str], settings) -> None:
    cols = _table_columns(spec, df)
    headers = [col.header(lang) if col is not None else name for name, col in cols]
    seen = {}
    for h in headers:
        norm = model.normalize_header(h)
        if norm in seen:
            raise InputError(f"table '{spec.name}' would have two columns with the header {h!r}",
                             value=[seen[norm], h], expected="distinct column names")
        seen[norm] = h
    n_rows = max(len(df), 1 if spec.name == "Settings" else BLANK_ROWS)
    last_row = FIRST_DATA_ROW + n_rows - 1
    last_col = len(cols) - 1

    # title, hint, column roles
    ws.write_rich_string(TITLE_ROW, 0, fmts.get(bold=True, font_size=15, font_color=INPUT_HEADER),
                         spec.sheet(lang), fmts.get(font_size=10, font_color="#808080"),
                         f"    {_t('table', lang)} {spec.name}")
    ws.write_string(HINT_ROW, 0, spec.guide(lang) or "", fmts.get(italic=True, font_color="#595959"))
    for j, (_, col) in enumerate(cols):
        computed = col is not None and col.computed
        ws.write_string(ROLE_ROW, j, _t("computed" if computed else "input", lang),
                        fmts.get(font_size=8, align="center", font_color="#FFFFFF" if computed else "#7F6000",
                                 bg_color=COMPUTED_HEADER if computed else INPUT_FILL))
    ws.set_row(HEADER_ROW, 30)

    ws.add_table(HEADER_ROW, 0, last_row, last_col, {
        "name": spec.name, "style": "Table Style Light 1",
        "columns": [{"header": storable_text(h), "header_format": fmts.header(col is not None and col.computed)}
                    for h, (_, col) in zip(headers, cols)],
    })

    # cells
    per_kpi = set(KPI_FORMATTED.get(spec.name, ()))
    kpi_values = df["kpi"].tolist() if "kpi" in df.columns and per_kpi else None
    for j, (name, col) in enumerate(cols):
        computed = col is not None and col.computed
        kind = col.kind if col is not None else None
        base = _kind_format(spec.name, col) if col is not None else None
        if col is None:  # an open Facts column: numbers get thousands separators
            dtype = df[name].dtype
            base = ("#,##0" if pd.api.types.is_integer_dtype(dtype) else
                    "#,##0.00" if pd.api.types.is_float_dtype(dtype) else None)
        if _write_fast(ws, j, df[name] if name in df.columns else None, n_rows,
                       fmts.cell(base, computed), name in per_kpi or spec.name == "Settings" or kind == CHOICE):
            ws.set_column(j, j, col.width if col is not None else max(10.0, min(30.0, 2.0 * len(name) + 2)))
            continue
        values = df[name].tolist() if name in df.columns else [None] * len(df)
        formats = {}
        for i in range(n_rows):
            v = values[i] if i < len(values) else None
            fmt_code = base
            if kpi_values is not None and name in per_kpi and i < len(kpi_values):
                fmt_code = kpi_formats.get(str(kpi_values[i]).strip(), base)
            if spec.name == "Settings" and name == "value" and settings:
                fmt_code = SETTING_FORMATS.get(settings[i][0], base)
            if fmt_code not in formats:
                formats[fmt_code] = fmts.cell(fmt_code, computed)
            _write_value(ws, FIRST_DATA_ROW + i, j, v, formats[fmt_code], kind, col, lang)
        width = col.width if col is not None else max(10.0, min(30.0, 2.0 * len(name) + 2))
        ws.set_column(j, j, width)

    _add_validations(ws, spec, cols, lang, last_row, lists)
    ws.freeze_panes(FIRST_DATA_ROW, 2 if spec.name == "Scorecard" else 0)
    _print_setup(ws, lang, landscape=True)
    ws.repeat_rows(HEADER_ROW)


def _write_fast(ws, j: int, series: pd.Series | None, n_rows: int, fmt, varies: bool) -> bool:
    """Write a whole column of plain numbers or plain text in one loop; False if it needs care."""
    if varies or series is None or len(series) < 100:
        return False
    first = FIRST_DATA_ROW
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64")
        if np.isinf(values).any():
            return False
        for i, v in enumerate(values.tolist()):
            if v != v:  # NaN
                ws.write_blank(first + i, j, None, fmt)
            else:
                ws.write_number(first + i, j, v, fmt)
        return True
    values = series.tolist()
    if all(type(v) is str for v in values):
        joined = "".join(values)
        if storable_text(joined) is not joined:  # one search for the column, not one per cell
            values = [storable_text(v) for v in values]
        for i, v in enumerate(values):
            if v.strip():
                ws.write_string(first + i, j, v, fmt)
            else:
                ws.write_blank(first + i, j, None, fmt)
        return True
    return False


def _write_value(ws, row: int, col_idx: int, value: object, fmt, kind: str | None, col, lang: str) -> None:
    if _is_blank(value):
        ws.write_blank(row, col_idx, None, fmt)
        return
    if kind == CHOICE and col is not None:
        value = _choice_label(col, value, lang)
    if isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col_idx, bool(value), fmt)
        return
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isinf(number):
            raise InputError("a table holds an infinite number", value=value, expected="a finite number")
        ws.write_number(row, col_idx, number, fmt)
        return
    when = _as_datetime(value)
    if when is not None:
        ws.write_datetime(row, col_idx, when, fmt)
        return
    ws.write_string(row, col_idx, storable_text(str(value)), fmt)


def _add_validations(ws, spec: model.TableSpec, cols, lang: str, last_row: int, lists: dict[str, str]) -> None:
    if spec.name == "Facts":
        return  # pasted exports: drop-downs on tens of thousands of rows only slow Excel down
    first = FIRST_DATA_ROW
    last = max(last_row, first + VALIDATION_EXTRA_ROWS - 1)
    for j, (name, col) in enumerate(cols):
        if col is None or col.computed:
            continue
        opts: dict[str, object] | None = None
        if col.kind == CHOICE:
            opts = {"validate": "list", "source": [ch.label(lang) for ch in col.choices],
                    "error_message": _t("bad_choice", lang)}
        elif col.key == "kpi" and spec.name != "KPIs":
            opts = {"validate": "list", "source": lists["kpi"], "error_message": _t("bad_kpi", lang)}
        elif spec.name == "Progress" and col.key == "task_id":
            opts = {"validate": "list", "source": lists["task_id"], "error_message": _t("bad_task", lang)}
        elif spec.name == "Plan" and col.key == "milestone":
            opts = {"validate": "list", "source": [_t("yes", lang), _t("no", lang)],
                    "error_message": _t("bad_choice", lang)}
        elif spec.name == "Campaigns" and col.key == "kind":
            opts = {"validate": "list", "source": [_t("campaign", lang), _t("holiday", lang)],
                    "error_message": _t("bad_choice", lang)}
        elif col.kind in (NUMBER, PERCENT, INTEGER):
            opts = {"validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15,
                    "error_message": _t("bad_number", lang)}
        elif col.kind == DATE:
            opts = {"validate": "date", "criteria": "between", "minimum": dt.date(1990, 1, 1),
                    "maximum": dt.date(2100, 12, 31), "error_message": _t("bad_date", lang)}
        if opts is None and not col.help(lang):
            continue
        if opts is None:
            opts = {"validate": "any"}
        opts["error_type"] = "warning"
        opts["ignore_blank"] = True
        if col.help(lang):
            opts["input_title"] = col.header(lang)[:32]
            opts["input_message"] = col.help(lang)[:255]
        ws.data_validation(first, j, last, j, opts)


def _print_setup(ws, lang: str, *, landscape: bool) -> None:
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&R" + _t("footer", lang))


__all__ = ["build_template", "build_workbook", "template_review", "FIXED_DATE"]
