"""Shared argument handling for the analysis functions.

Every public function validates its inputs here once, so error messages look the same
everywhere: they name the table, the column, the value found and what was expected.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from reviewkit import caching
from reviewkit._pandas import column_arrays, frame_from_arrays, inferred
from reviewkit.errors import InputError
from reviewkit.numbers import ParseError, is_blank, parse_in_unit, parse_unit

DIRECTIONS = ("higher", "lower", "range")
AGGREGATIONS = ("sum", "average", "last", "ratio")
STATUSES = ("green", "amber", "red", "grey", "neutral")

#: numeric columns of the scorecard, in order
SCORE_NUMBERS = ("target", "actual", "last_year", "year_before", "industry_avg", "competitor",
                 "industry_top")
BENCHMARKS = ("industry_avg", "competitor", "industry_top")

_KPI_DEFAULTS: dict[str, object] = {
    "name": None, "unit": "", "direction": "higher", "aggregation": "sum", "measure": "",
    "numerator": "", "denominator": "", "green": 1.0, "amber": 0.9, "neutral_band": np.nan,
    "range_low": np.nan, "range_high": np.nan, "number_format": "", "weight": 1.0,
    "is_percent": None, "cap": np.nan,
}
_KPI_FLOATS = ("green", "amber", "neutral_band", "range_low", "range_high", "weight", "cap")
_KPI_TEXTS = ("name", "unit", "direction", "aggregation", "measure", "numerator", "denominator",
              "number_format")

#: rounding applied before comparing an achievement with a threshold, so 1080/1200 counts as 0.9
THRESHOLD_DIGITS = 9


def require_frame(df: object, table: str, required: Iterable[str]) -> pd.DataFrame:
    """Check ``df`` is a DataFrame holding ``required`` columns; return a copy-safe reference."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"table '{table}' must be a pandas DataFrame", value=type(df).__name__,
                         expected="a DataFrame")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"table '{table}' lacks column(s) {', '.join(missing)}",
                         value=list(map(str, df.columns)),
                         expected=f"columns {', '.join(required)}")
    return df


def text(value: object) -> str:
    """Plain stripped text; blank values become ''."""
    return "" if is_blank(value) else str(value).strip()


def to_float(series: pd.Series, table: str, column: str, units=None) -> pd.Series:
    """Coerce a column to float64, raising InputError naming the first bad value.

    Text is read as the workbook reads it (``numbers.parse_number``: '1,200', '1.2万', '15%',
    '(500)'); with ``units`` (one ``numbers.Unit`` or None per row) in the row's unit, so
    '1,200万' of a KPI counted in 万元 is 1,200 (``numbers.parse_in_unit``)."""
    if series.dtype.kind in "fiu":
        return series.astype("float64")
    values = series.tolist()
    if all(v is None or type(v) is float or type(v) is int for v in values):
        # plain Python numbers and blanks (what the reader gives): nothing to parse or reject
        return pd.Series([np.nan if v is None else v for v in values], index=series.index,
                         dtype="float64", name=series.name)
    if series.dtype == bool or any(isinstance(v, (bool, np.bool_)) for v in values):
        raise InputError(f"table '{table}' column '{column}' holds booleans",
                         value=series.iloc[0], expected="numbers")
    out = []
    for i, v in enumerate(values):
        if is_blank(v):
            out.append(np.nan)
            continue
        try:
            x = parse_in_unit(v, units[i] if units is not None else None)
        except (ParseError, TypeError, ValueError):
            raise InputError(f"table '{table}' column '{column}' holds a non-numeric value",
                             value=v, expected="a number or a blank cell") from None
        out.append(np.nan if x is None else x)
    return pd.Series(out, index=series.index, dtype="float64", name=series.name)


def float_values(series: pd.Series, table: str, column: str, units=None) -> np.ndarray:
    """``to_float(series, table, column, units).to_numpy()``; plain numpy numbers skip the Series."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiu":
        return series.to_numpy().astype("float64")
    return to_float(series, table, column, units).to_numpy()


# --- frames passed to the API: read as the workbook reads its tables ---------------------------
#: per API table: the model's table and the canonical columns a header may be renamed to
_API_TABLES = {"kpis": ("KPIs", None), "scorecard": ("Scorecard", None),
               "facts": ("Facts", ("period",))}


def api_frame(df: object, table: str) -> object:
    """``df`` with its columns named as the workbook names them: any header or synonym the
    workbook accepts ('目标', 'Target', 'plan'; 'kpi' for the KPI table's 'key'; 'date' or '月份'
    for the facts' 'period') becomes the canonical key. The one input preparation every API
    function passes through (``kpi_table``, ``score_columns``, the facts)."""
    if not isinstance(df, pd.DataFrame) or not df.columns.is_unique:
        return df
    from reviewkit import model

    name, only = _API_TABLES[table]
    spec = model.TABLES_BY_NAME[name]
    cols = column_names(df)
    wanted = [c.key for c in spec.input_columns] if only is None else list(only)
    if all(k in cols for k in wanted) or not all(isinstance(c, str) for c in cols):
        return df
    found, _ = model.match_headers(spec, cols)
    rename = {cols[i]: key for key, i in found.items()
              if cols[i] != key and key not in cols and key in wanted}
    if not rename and "key" not in cols and "kpi" in cols and table == "kpis":
        rename = {"kpi": "key"}
    return df.rename(columns=rename) if rename else df


def choice(kind: str, value: str) -> str:
    """A direction or aggregation as the workbook's drop-down shows it, in either language
    ('越低越好', 'Lower is better', '求和', 'Sum'), as its key ('lower', 'sum'); other text is
    returned unchanged (the caller checks it against the keys)."""
    return _choice_labels(kind).get(model_fold(value), value) if isinstance(value, str) and value else value


@caching.memo("analysis.choice_labels", 8)
def _choice_labels(kind: str) -> dict[str, str]:
    """{folded label: key} of a KPI column's drop-down (both languages). Callers only read it."""
    from reviewkit import model

    return {model.normalize_header(x): ch.key for ch in model.KPIS.column(kind).choices for x in (ch.zh, ch.en)}


def model_fold(value: str) -> str:
    from reviewkit.model import normalize_header

    return normalize_header(value)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "是", "x", "✓")
    return bool(value)


def kpi_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """Validate the KPI table, fill the documented defaults; index is the KPI key."""
    kpis = api_frame(kpis, "kpis")
    require_frame(kpis, "kpis", ["key"])
    if kpis.columns.has_duplicates:
        raise InputError("table 'kpis' has the same column twice",
                         value=str(kpis.columns[kpis.columns.duplicated()][0]),
                         expected="each column once")
    # column by column as Python lists, one DataFrame at the end: a KPI table has a few rows,
    # so pandas' per-operation overhead is what costs (tests/oracles.py holds the same checks
    # written with pandas operations; the tests compare the two). A table without rows gets
    # the dtypes a table with rows gets.
    n = len(kpis)
    # each column's values taken once (kpis[c] builds a Series each time)
    arrays = dict(zip(column_names(kpis), column_arrays(kpis)))
    key_list = [text(v) for v in arrays["key"].tolist()]
    if "" in key_list:
        raise InputError("table 'kpis' has a row without a key",
                         expected="a unique KPI key per row")
    seen: set = set()
    for key in key_list:
        if key in seen:
            raise InputError("table 'kpis' has a duplicate key", value=key,
                             expected="each KPI key once")
        seen.add(key)
    raw = {c: (arrays[c].tolist() if c in arrays else [default] * n)
           for c, default in _KPI_DEFAULTS.items()}
    texts = {c: [text(v) for v in raw[c]] for c in _KPI_TEXTS}
    texts["name"] = [v if v else key for v, key in zip(texts["name"], key_list)]
    texts["direction"] = [choice("direction", v).lower() or "higher" for v in texts["direction"]]
    texts["aggregation"] = [choice("aggregation", v).lower() or "sum" for v in texts["aggregation"]]
    for col, allowed in (("direction", DIRECTIONS), ("aggregation", AGGREGATIONS)):
        for key, v in zip(key_list, texts[col]):
            if v not in allowed:
                raise InputError(f"KPI '{key}' has an unknown {col}", value=v,
                                 expected=" | ".join(allowed))
    index = kpis.index
    floats = {}
    for col in _KPI_FLOATS:
        values = raw[col]
        if col in arrays and arrays[col].dtype.kind in "fiu":
            arr = arrays[col].astype("float64") if isinstance(arrays[col], np.ndarray) else \
                kpis[col].to_numpy(dtype="float64")
        elif all(v is None or type(v) is float or type(v) is int for v in values):
            arr = np.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            arr = to_float(kpis[col] if col in arrays else
                           pd.Series(values, index=index, dtype=object, name=col), "kpis", col).to_numpy()
        floats[col] = arr
    for col, default in (("green", 1.0), ("amber", 0.9), ("weight", 1.0)):
        floats[col] = np.where(np.isnan(floats[col]), default, floats[col])
    for key, w in zip(key_list, floats["weight"]):
        if w < 0:
            raise InputError(f"KPI '{key}' has a negative weight", value=float(w),
                             expected="a weight >= 0")
    for key, a, g in zip(key_list, floats["amber"], floats["green"]):
        if a > g:
            raise InputError(f"KPI '{key}' has an amber threshold above green",
                             value=float(a), expected=f"amber <= green ({float(g)})")
    pct = [(_truthy(p) if not is_blank(p) else u == "%")
           for p, u in zip(raw["is_percent"], texts["unit"])]
    for key, d, lo, hi in zip(key_list, texts["direction"], floats["range_low"],
                              floats["range_high"]):
        if d == "range" and np.isnan(lo) and np.isnan(hi):
            raise InputError(f"KPI '{key}' has direction 'range' but no range_low "
                             "or range_high", expected="at least one bound of the target band")
    # the columns in their output dtypes: the input's (key and defaults replaced), then the
    # missing defaults in this order
    cols: dict[str, object] = {}
    for c, values in arrays.items():
        if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
            cols[c] = values  # copied into the frame's block
        elif isinstance(values, pd.api.extensions.ExtensionArray) and \
                not isinstance(values, pd.arrays.NumpyExtensionArray):
            cols[c] = values.copy()
        elif c in _KPI_DEFAULTS or c == "key":
            cols[c] = None  # replaced below
        else:  # an object column: pandas would infer its dtype
            cols[c] = inferred(values)
    cols["key"] = text_array(key_list)  # what .map(text) gives: strings
    for c in _KPI_DEFAULTS:
        if c == "name":  # text: str where pandas infers str for strings
            cols[c] = text_array(texts[c])
        elif c in texts:
            arr = np.empty(n, dtype=object)
            arr[:] = texts[c]
            cols[c] = arr  # stays object (no str inference)
        elif c in floats:
            cols[c] = floats[c]
        else:
            cols[c] = np.array(pct, dtype=bool)
    # set_index("key", drop=False) of that frame, in one step
    return frame_from_arrays(list(cols.values()), list(cols), pd.Index(text_array(key_list), name="key"))


def resolve_kpi(kpi: object, kpis: pd.DataFrame | None) -> pd.Series:
    """Accept a KPI key (with the kpis table) or a KPI row (Series/Mapping); return a full row."""
    if isinstance(kpi, (pd.Series, Mapping)):
        row = pd.DataFrame([dict(kpi)])
        if "key" not in row.columns:
            row["key"] = row.get("name", pd.Series(["kpi"]))
        return kpi_table(row).iloc[0]
    if kpis is None:
        raise InputError("a KPI key needs the kpis table to look it up", value=kpi,
                         expected="kpis=<DataFrame> or a KPI row")
    table = kpis if kpis.index.name == "key" and "cap" in kpis.columns else kpi_table(kpis)
    key = kpi_keys([kpi], table)[0][0]  # its key or its name
    if key not in table.index:
        raise InputError("unknown KPI key", value=kpi,
                         expected="one of " + ", ".join(map(str, table.index[:20])))
    return table.loc[key]


def kpi_keys(values: list, kpis: pd.DataFrame) -> tuple[list[str], list]:
    """(the KPI key of each value, its KPI's unit): a KPI is named by its key or its name
    ('revenue' or '销售额'); an unknown one stays as typed (the caller refuses it)."""
    keys = [text(v) for v in values]
    known = kpis.index
    if "name" in kpis.columns and not all(k in known for k in keys):
        names = {str(n): k for k, n in zip(known.tolist(), kpis["name"].tolist())
                 if isinstance(n, str) and n not in known}
        keys = [k if k in known else names.get(k, k) for k in keys]
    units = None
    if "unit" in kpis.columns:
        unit_of = {k: parse_unit(u) for k, u in zip(known.tolist(), kpis["unit"].tolist())}
        units = [unit_of.get(k) for k in keys]
    return keys, units


def score_columns(scorecard: pd.DataFrame, kpis: pd.DataFrame) -> dict[str, np.ndarray]:
    """Validate the scorecard against the (validated) KPI table: its columns the analysis reads,
    as arrays — ``unit`` and ``kpi`` (the KPI's key) as object arrays of text, ``SCORE_NUMBERS``
    as float64 (NaN where blank or missing). Worked on plain lists: a scorecard has a few rows,
    and copying and converting it with pandas was most of the cost (tests/oracles.py holds the
    pandas version the tests compare with)."""
    scorecard = api_frame(scorecard, "scorecard")
    require_frame(scorecard, "scorecard", ["unit", "kpi", "target", "actual"])
    names = column_names(scorecard)
    twice = [c for c in ("unit", "kpi") + SCORE_NUMBERS if names.count(c) > 1]
    if twice:
        raise InputError("table 'scorecard' has the same column twice", value=twice[0],
                         expected="each column once")
    n = len(scorecard)
    keys, row_units = kpi_keys(scorecard["kpi"].tolist(), kpis)
    cols: dict[str, object] = {}
    for col in SCORE_NUMBERS:
        cols[col] = float_values(scorecard[col], "scorecard", col, row_units) if col in scorecard.columns \
            else np.full(n, np.nan)
    units = [text(v) for v in scorecard["unit"].tolist()]
    if "" in units:
        raise InputError("table 'scorecard' has a row without a unit",
                         expected="a department, region or person in column 'unit'")
    known = kpis.index
    for key in keys:
        if key not in known:
            raise InputError("table 'scorecard' names a KPI that is not in table 'kpis'",
                             value=key, expected="one of " + ", ".join(kpis.index[:20]))
    seen: set = set()
    for u, key in zip(units, keys):
        if (u, key) in seen:
            raise InputError("table 'scorecard' has the same unit and KPI twice",
                             value=f"{u} / {key}", expected="one row per unit and KPI")
        seen.add((u, key))
    out = {"unit": np.array(units, dtype=object), "kpi": np.array(keys, dtype=object)}
    for col, values in cols.items():
        out[col] = np.asarray(values, dtype="float64")
    return out


def arrays_of(df: pd.DataFrame) -> dict:
    """{name: the array of the first column of that name (``df[name]``'s, not a copy)}.

    ``df[name]`` builds a Series on every call; the analysis reads its own small frames column
    by column, where that costs more than the data."""
    out: dict = {}
    for name, values in zip(column_names(df), column_arrays(df)):
        out.setdefault(name, values)
    return out


def column_names(df: pd.DataFrame) -> list:
    """``list(df.columns)`` in one conversion (iterating a text Index reads it element by element)."""
    return df.columns.to_numpy(dtype=object).tolist()


def frame_of(columns: dict[str, object], n: int) -> pd.DataFrame:
    """``pd.DataFrame(columns)`` for columns that are already what that constructor makes of them.

    Each value is a 1-d numpy array (copied into the frame's blocks) or a pandas
    ExtensionArray that no one else holds (kept as it is) of length ``n``. No dtype is
    inferred: an object array stays object, so text that pandas would store as ``str`` must
    come as ``text_array``. A small table with dozens of columns spends most of
    ``pd.DataFrame``'s time checking and inferring column by column.
    """
    return frame_from_arrays(list(columns.values()), list(columns), pd.RangeIndex(n))


#: the dtype pandas gives a column of Python strings ("str", or object before pandas 3)
TEXT = pd.Series(["x"]).dtype
_TEXT_ARRAY = TEXT.construct_array_type() if isinstance(TEXT, pd.api.extensions.ExtensionDtype) else None


def text_array(values) -> object:
    """Strings as the column ``pd.DataFrame`` infers for them (for ``frame_of``)."""
    if TEXT == np.dtype(object):
        return np.array(values, dtype=object)
    return _TEXT_ARRAY._from_sequence(values, dtype=TEXT)  # what pd.array(values, dtype=TEXT) calls


def as_list(value: str | Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    out = list(value)
    if not all(isinstance(v, str) for v in out):
        raise InputError(f"{what} must be column names", value=out, expected="a list of strings")
    return out


def safe_div(num: np.ndarray | pd.Series, den: np.ndarray | pd.Series,
             *, positive_only: bool = False) -> np.ndarray:
    """num/den with NaN where den is 0 or NaN (or <= 0 when positive_only); never warns."""
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    ok = (den > 0) if positive_only else (den != 0)
    ok &= ~np.isnan(den)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    with np.errstate(all="ignore"):  # overflow of a huge quotient is a legitimate inf
        np.divide(num, den, out=out, where=ok)
    return out


# --- total rows and unit spellings -----------------------------------------------------------
_TOTAL_NAME = re.compile(r"(?:合计|小计|总计|总和|汇总|^(?:grand)?(?:sub)?total|total$|^sum$|^all$)")
_NATIONAL = frozenset({"全国", "全国合计", "全公司", "公司整体", "national", "nationwide", "country"})
_REGION_NAME = re.compile(r"(?:[东南西北中]部|^华[东南西北中]|^[东西]南|^[东西]北|大区|地区|区域|区|省|市|州|盟"
                          r"|^(?:east|west|north|south|central)\b|\bregion$)")
_UNIT_SUFFIX = re.compile(r"(?:大区|地区|区域|片区|区|分公司|事业部|region|area)$")


def fold_name(value: object) -> str:
    """A name folded for matching: full-width to half-width, case, all white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).lower()


def is_total_name(name: object, others=()) -> bool:
    """True for a total row's label: 合计 / 小计 / 总计 / Total / Subtotal …, or 全国 (national)
    when the other units are regions (华东, 华北区, 广东省 …)."""
    s = fold_name(name)
    if not s:
        return False
    if _TOTAL_NAME.search(s):
        return True
    if s in _NATIONAL:
        rest = [fold_name(o) for o in others if fold_name(o) != s]
        return bool(rest) and all(_REGION_NAME.search(o) for o in rest)
    return False


def total_units(units) -> set:
    """The units of ``units`` (any iterable of labels) that are total rows (``is_total_name``)."""
    names = list(dict.fromkeys(units))
    plain = {u for u in names if is_total_name(u)}
    rest = [u for u in names if u not in plain]
    return plain | {u for u in rest if is_total_name(u, rest)}


def unit_stem(value: object) -> str:
    """A unit name folded for spotting near-duplicates: 华东 / 华东区 / 华东大区 / ＨＱ → one stem."""
    s = fold_name(value)
    stem = _UNIT_SUFFIX.sub("", s)
    return stem or s
