"""Shared argument handling for the planning functions (pure pandas, nothing about Excel).

Every public function validates its tables here once, so messages look the same everywhere:
they name the table, the column, the row (task id where there is one), the value found and
what was expected.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from reviewkit.analysis._common import is_blank, require_frame  # shared with the analysis engine
from reviewkit.errors import InputError

#: columns of every findings table returned by the checks
FINDING_COLUMNS = ["row", "task_id", "column", "rule", "message", "severity"]

# Owner separators: 、 , ， / ／ ; ； & ＆ + 和 及 与, and the English word "and".
_OWNER_SPLIT = re.compile(r"\s*(?:[、,，/／;；&＆+＋|]|和|及|与|\band\b)\s*", re.IGNORECASE)

# A Chinese numeral followed by a counter or unit ("三个平台", "两家", "十万") counts as a number.
_CN_NUMBER = re.compile(r"[零一二两三四五六七八九十百千万亿半]+\s*(?:个|项|家|次|人|名|位|天|日|周|月|季|年|万|千|百|亿|"
                        r"倍|条|款|场|单|笔|套|篇|期|台|份|成|点|元|%)")
_DIGIT = re.compile(r"\d")

_FALSE_FLAGS = {"", "否", "n", "no", "0", "false", "×", "x", "不是", "非"}


def text(value: object) -> str:
    """Plain stripped text, kept as typed (task names and IDs come back as the user wrote
    them: 行业沙龙（华中、西南） keeps its full-width brackets); blanks become ''."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def folded(value: object) -> str:
    """``text`` folded for reading numbers and flags (full-width digits, ％ and letters become
    ASCII); never for display."""
    return unicodedata.normalize("NFKC", text(value))


def texts(values) -> list[str]:
    """``[text(v) for v in values]``, each distinct string normalised once (columns such as a fact
    table's units repeat a handful of names thousands of times)."""
    seen: dict[str, str] = {}
    out = []
    for v in values:
        if type(v) is str:
            t = seen.get(v)
            if t is None:
                t = seen[v] = text(v)
            out.append(t)
        else:
            out.append(text(v))
    return out


def owners(value: object) -> list[str]:
    """The names in an owner cell: '张三、李四' -> ['张三', '李四']; blank -> []."""
    return [p for p in _OWNER_SPLIT.split(text(value)) if p.strip()]


def is_measurable(value: object) -> bool:
    """An acceptance criterion is measurable when it holds a number or a date.

    Arabic digits (full-width ones too) count, and so does a Chinese numeral followed by a
    counter or unit ("三个平台上线"); "尽快完成" or "明显提升" do not.
    """
    s = folded(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "year"):
        return True
    return bool(_DIGIT.search(s) or _CN_NUMBER.search(s))


def is_flag(value: object) -> bool:
    """A yes/no cell (milestone?): anything but blank, 否, N, No, 0, False counts as yes."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return folded(value).lower() not in _FALSE_FLAGS


def column(df: pd.DataFrame, name: str, default: object = None) -> pd.Series:
    """``df[name]``, or a column of ``default`` when the table does not have it."""
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def _where(table: str, df: pd.DataFrame, pos: int, key: str | None) -> str:
    label = df.index[pos]
    if key and key in df.columns and not is_blank(df[key].iloc[pos]):
        return f"table '{table}' row {label} ({key} {text(df[key].iloc[pos])})"
    return f"table '{table}' row {label}"


_MEMO_TYPES = (str, int, float)


def to_dates(df: pd.DataFrame, name: str, table: str, *, key: str | None = None) -> pd.Series:
    """Column ``name`` as datetime64 (time of day dropped); blanks become NaT.

    Accepts Timestamps, datetimes, dates, ISO strings ("2026-07-01", "2026/7/1") and Excel
    serial numbers; anything else raises InputError naming the row and the value.
    """
    src = column(df, name)
    if src.dtype.kind == "M":
        s = src.dt.tz_localize(None) if getattr(src.dt, "tz", None) is not None else src
        return s.dt.normalize().astype("datetime64[ns]")
    values = []
    # text and serial numbers parsed once each: a fact table repeats a few dozen periods thousands of
    # times (other values, such as datetimes, compare equal across time zones and are not memoised)
    done: dict = {}
    for pos, v in enumerate(src.tolist()):
        memo = type(v) in _MEMO_TYPES
        if memo and (type(v), v) in done:
            values.append(done[(type(v), v)])
            continue
        if is_blank(v):
            values.append(pd.NaT)
            continue
        try:
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                ts = pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(v))
            elif isinstance(v, str):
                ts = pd.Timestamp(unicodedata.normalize("NFKC", v).strip().replace("/", "-").replace(".", "-"))
            else:
                ts = pd.Timestamp(v)
        except (ValueError, TypeError, OverflowError):
            ts = pd.NaT
        if ts is pd.NaT or pd.isna(ts):
            raise InputError(f"{_where(table, df, pos, key)} column '{name}' is not a date", value=v,
                             expected="a date such as 2026-07-01")
        ts = ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()
        if memo:
            done[(type(v), v)] = ts
        values.append(ts)
    return pd.Series(pd.to_datetime(values), index=df.index, dtype="datetime64[ns]")


def to_numbers(df: pd.DataFrame, name: str, table: str, *, key: str | None = None) -> pd.Series:
    """Column ``name`` as float64; blanks become NaN, '1,200' is 1200; other text raises."""
    src = column(df, name)
    if src.dtype.kind in "fiu":
        out = src.astype("float64")
        if np.isinf(out).any():
            pos = int(np.flatnonzero(np.isinf(out.to_numpy()))[0])
            raise InputError(f"{_where(table, df, pos, key)} column '{name}' is not a finite number",
                             value=src.iloc[pos], expected="a number or a blank cell")
        return out
    values = []
    for pos, v in enumerate(src.tolist()):
        if is_blank(v):
            values.append(np.nan)
            continue
        x = np.nan
        if not isinstance(v, (bool, np.bool_)):
            try:
                x = float(folded(v).replace(",", "")) if isinstance(v, str) else float(v)
            except (TypeError, ValueError):
                x = np.nan
        if not np.isfinite(x):
            raise InputError(f"{_where(table, df, pos, key)} column '{name}' is not a number", value=v,
                             expected="a number or a blank cell")
        values.append(x)
    return pd.Series(values, index=df.index, dtype="float64")


def to_fraction(df: pd.DataFrame, name: str, table: str, *, key: str | None = None) -> pd.Series:
    """A percent column as a fraction in [0, 1] (60% is 0.6); '60%' text is accepted."""
    src = column(df, name)
    fixed = src.map(lambda v: (float(folded(v)[:-1].replace(",", "")) / 100
                               if isinstance(v, str) and folded(v).endswith("%") and
                               _is_float(folded(v)[:-1]) else v))
    tmp = df.assign(**{name: fixed}) if name in df.columns else df
    out = to_numbers(tmp, name, table, key=key)
    bad = np.flatnonzero(((out < 0) | (out > 1)).to_numpy())
    if len(bad):
        pos = int(bad[0])
        raise InputError(f"{_where(table, df, pos, key)} column '{name}' is outside 0%..100%",
                         value=src.iloc[pos], expected="a fraction between 0 and 1 (60% is 0.6)")
    return out


def _is_float(s: str) -> bool:
    try:
        float(s.replace(",", ""))
        return True
    except ValueError:
        return False


def to_timestamp(value: object, name: str) -> pd.Timestamp:
    """A single date argument (as_of, plan_end); None means today."""
    if value is None:
        return pd.Timestamp.today().normalize()
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name} is not a date", value=value, expected="a date such as 2026-12-31") from exc
    if pd.isna(ts):
        raise InputError(f"{name} is not a date", value=value, expected="a date such as 2026-12-31")
    return ts.normalize()


def findings(rows: list[dict]) -> pd.DataFrame:
    """A findings DataFrame with the standard columns first (empty but typed when no rows)."""
    df = pd.DataFrame(rows)
    for c in FINDING_COLUMNS:
        if c not in df.columns:
            df[c] = pd.Series(dtype=object)
    extra = [c for c in df.columns if c not in FINDING_COLUMNS]
    return df[FINDING_COLUMNS + extra].reset_index(drop=True)
