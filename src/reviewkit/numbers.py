"""Numbers, percentages, dates and periods as Chinese finance users type them.

Workbooks arrive with numbers stored as text (``"1,200"``, ``"1.2万"``, ``"（500）"``), with
full-width digits typed through a Chinese input method, with currency marks and with a dash for
"nothing". Every reader goes through these functions so that a value is either understood
exactly (decimal arithmetic, so ``"1.2万"`` is exactly 12000.0) or refused with a
``ParseError`` that says what was found and what was expected.

Rules
-----
``parse_number``
    * blank, ``-``, ``--``, ``—``, ``——``, ``–`` → ``None`` (nothing entered);
    * full-width characters are folded first (``１２００``, ``１，２００``, ``１２％``, ``（５００）``);
    * thousands separators ``,`` / ``，`` must group three digits (``1,200``; ``1,2`` is refused);
      spaces between digit groups are dropped (``1 200``);
    * a sign ``+``, ``-``, ``−`` (U+2212), accounting parentheses ``(500)`` / ``（500）`` or a
      trailing minus as SAP exports write it (``1,200.00-``) make a negative;
    * currency marks ``¥``, ``￥``, ``$``, ``RMB``, ``CNY`` in front or ``元``, ``RMB``, ``CNY`` behind
      are ignored;
    * a trailing multiplier scales: ``百`` 1e2, ``千`` 1e3, ``万`` 1e4, ``百万`` 1e6, ``千万`` 1e7,
      ``亿`` 1e8, ``万亿`` 1e12, ``k``/``K`` 1e3, ``w``/``W`` 1e4 (``1.2万元`` = 12000);
    * a trailing ``%`` divides by 100, ``‰`` by 1000 (one sign only: ``12%%`` is refused);
    * scientific notation ``1.2e3`` is accepted;
    * anything else (``abc``, ``1.2.3``, Excel errors such as ``#N/A``, booleans, dates) is refused.

``parse_percent`` (KPI thresholds, % complete)
    ``"90%"`` → 0.9; a bare number whose absolute value is at most ``PERCENT_POINTS_ABOVE`` (1.5)
    is already a fraction (Excel stores a cell showing 90% as 0.9) → 0.9; a bare number above
    1.5 is read as percent points, ``90`` → 0.9. So 150% must be typed as ``150%`` or ``1.5``.

``parse_date``
    ``datetime``/``date``/``Timestamp``, Excel serial numbers (1900 date system), Unix times in
    milliseconds as 飞书 / 钉钉 APIs return them (11 to 14 digits, read in China Standard Time,
    UTC+8, so ``1740758400000`` is 2025-03-01), ``2025-03-15``,
    ``2025/3/15``, ``2025.3.15``, ``2025年3月15日``, ``20250315``, with an optional time part.
    Months and quarters are periods, not days: use ``parse_period`` for them.

``parse_period``
    Everything ``parse_date`` accepts (a day), plus ``2025-03`` / ``2025/3`` / ``2025年3月`` (a
    month), ``2025Q3`` / ``2025-Q3`` / ``2025年Q3`` / ``2025年第3季度`` (a quarter) and ``2025`` /
    ``2025年`` (a year). Returns a ``pandas.Period``.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from numbers import Number

import pandas as pd

from . import caching
from .errors import InputError

__all__ = ["ParseError", "parse_number", "parse_percent", "parse_date", "parse_period",
           "PERCENT_POINTS_ABOVE", "NUMBER_EXPECTED", "DATE_EXPECTED", "PERIOD_EXPECTED",
           "PERCENT_EXPECTED", "Unit", "parse_unit", "parse_in_unit", "excel_value", "excel_fixed"]

NUMBER_EXPECTED = "a number such as 1200, 1,200, 1.2万, 12% or (500)"
#: the largest figure a review holds (1,000万亿 = 10^15): beyond it sums, ratios and their
#: percentages would overflow to infinity, and Excel keeps only 15 significant digits anyway
MAX_FIGURE = 1e15
_TOO_LARGE = "the number is too large for a review figure (more than 10^15 = 1,000万亿)"
PERCENT_EXPECTED = "a percentage such as 90%, 0.9 or 90"
DATE_EXPECTED = "a date such as 2025-03-15, 2025/3/15 or 2025年3月15日"
PERIOD_EXPECTED = "a period such as 2025-03, 2025Q3, 2025 or a date like 2025-03-15"

#: bare numbers above this (in absolute value) are percent points in ``parse_percent``
PERCENT_POINTS_ABOVE = 1.5

_BLANKS = frozenset({"", "-", "--", "—", "——", "–", "––", "---"})
_MULTIPLIERS = (  # longest first
    ("万亿", 12), ("百万", 6), ("千万", 7), ("亿", 8), ("万", 4), ("千", 3), ("百", 2),
    ("k", 3), ("K", 3), ("w", 4), ("W", 4),
)
_PREFIX_CURRENCY = re.compile(r"^(?:¥|\$|RMB|CNY)", re.IGNORECASE)
_SUFFIX_CURRENCY = re.compile(r"(?:元|RMB|CNY|人民币)$", re.IGNORECASE)
_CORE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f\u3000]+")
_EXCEL_ERRORS = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                 "#CALC!", "#GETTING_DATA")

_EXCEL_EPOCH = _dt.date(1899, 12, 30)
_EPOCH_1904 = _dt.date(1904, 1, 1)  # workbooks saved with the 1904 date system (old Mac Excel)
_MAX_SERIAL = 2958465  # 9999-12-31
#: numbers in this range are Unix times in milliseconds (1973 .. 5138), not Excel serials
_MS_TIMESTAMPS = (1e11, 1e14)
_CST = _dt.timezone(_dt.timedelta(hours=8))  # 飞书 / 钉钉 store a day as its midnight in China


class ParseError(InputError, ValueError):
    """A value that is not a number, percentage, date or period. ``value`` is what was found."""

    def __init__(self, message: str, *, value: object, expected: str, **where):
        super().__init__(message, value=value, expected=expected, **where)


# --- numbers ---------------------------------------------------------------------------
def is_blank(value: object) -> bool:
    """True for None, NaN, NA, NaT and text that is empty after stripping: the one blank check."""
    t = type(value)
    if value is None or t is float:
        return value is None or value != value
    if t is int or t is bool:
        return False
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or another object pandas cannot judge
        return False


def parse_number(value: object) -> float | None:
    """A float from a cell value or typed text; ``None`` for blank or a dash. See module doc."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ParseError("a TRUE/FALSE value is not a number", value=value, expected=NUMBER_EXPECTED)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time, _dt.timedelta, pd.Timestamp)):
        raise ParseError("a date is not a number", value=_show(value), expected=NUMBER_EXPECTED)
    if isinstance(value, Number):
        try:
            f = float(value)
        except (TypeError, ValueError):  # pragma: no cover - complex numbers
            raise ParseError("not a real number", value=value, expected=NUMBER_EXPECTED) from None
        if math.isnan(f):
            return None
        if math.isinf(f):
            raise ParseError("an infinite number", value=value, expected=NUMBER_EXPECTED)
        if not -MAX_FIGURE <= f <= MAX_FIGURE:
            raise ParseError(_TOO_LARGE, value=value, expected=NUMBER_EXPECTED)
        return f
    if isinstance(value, str):
        return _parse_number_text(value)
    raise ParseError(f"a {type(value).__name__} is not a number", value=value,
                     expected=NUMBER_EXPECTED)


def _show(value: object) -> object:
    if isinstance(value, (_dt.date, _dt.datetime, pd.Timestamp)):
        return value.isoformat()
    return value


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = s.replace("\u2212", "-").replace("\ufe63", "-").replace("\u2012", "-")
    return _SPACES.sub("", s).strip()


@caching.memo("numbers.number_text", 65536)
def _parse_number_text(text: str) -> float | None:
    parts = _number_parts(text)
    if parts is None:
        return None
    d, power, mark = parts
    if mark == "%":
        power -= 2
    elif mark == "‰":
        power -= 3
    return _finite(d.scaleb(power), text)


def _finite(d: Decimal, text: str) -> float:
    f = float(d)
    if math.isinf(f):
        raise ParseError("the number is too large", value=text, expected=NUMBER_EXPECTED)
    if not -MAX_FIGURE <= f <= MAX_FIGURE:
        raise ParseError(_TOO_LARGE, value=text, expected=NUMBER_EXPECTED)
    return f


@caching.memo("numbers.number_parts", 65536)
def _number_parts(text: str) -> tuple[Decimal, int, str | None] | None:
    """(signed digits, power of ten of a 万/亿/k… multiplier, mark) of typed text; ``None`` for
    blank. ``mark`` is ``"%"``, ``"‰"``, ``"元"`` (the amount is in yuan) or ``None``."""
    s = _fold(text)
    if s in _BLANKS:
        return None
    if s.upper().startswith(tuple(_EXCEL_ERRORS)):
        raise ParseError("the cell holds an Excel error, not a number", value=text,
                         expected=NUMBER_EXPECTED)
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    for _ in range(2):  # "-¥500" and "¥-500" are both seen in exports
        s = _PREFIX_CURRENCY.sub("", s)
        if s[:1] in "+-":
            if s[:1] == "-":
                if negative:
                    raise ParseError("two minus signs", value=text, expected=NUMBER_EXPECTED)
                negative = True
            s = s[1:]
    if s.endswith("-") and len(s) > 1 and s[-2].isdigit():  # SAP exports: "1,200.00-"
        if negative:
            raise ParseError("two minus signs", value=text, expected=NUMBER_EXPECTED)
        negative, s = True, s[:-1]
    mark = None
    if _SUFFIX_CURRENCY.search(s):
        mark = "元"
    s = _SUFFIX_CURRENCY.sub("", s)
    exponent = 0
    for word, power in _MULTIPLIERS:
        if s.endswith(word) and len(s) > len(word):
            s, exponent = s[: -len(word)], power
            break
    s = _SUFFIX_CURRENCY.sub("", s)  # "1.2万元" had 元 behind the multiplier: handled above
    if s.endswith("%") or s.endswith("‰"):
        if exponent:
            raise ParseError("a percentage cannot also carry 万/亿/千", value=text,
                             expected=NUMBER_EXPECTED)
        mark = s[-1]
        s = s[:-1]
        if s.endswith(("%", "‰")):
            raise ParseError("more than one percent sign", value=text, expected=NUMBER_EXPECTED)
    if not s or not any(ch.isdigit() for ch in s) or not _CORE.match(s):
        raise ParseError(_why_not(s), value=text, expected=NUMBER_EXPECTED)
    try:
        d = Decimal(s.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - _CORE guards this
        raise ParseError("not a number", value=text, expected=NUMBER_EXPECTED) from None
    return (-d if negative else d), exponent, mark


# --- units ---------------------------------------------------------------------------------
_EN_SCALE = {"": 0, "k": 3, "thousand": 3, "10k": 4, "万": 4, "m": 6, "mn": 6, "million": 6,
             "100m": 8, "亿": 8, "bn": 9, "billion": 9}
_EN_SCALES = "10k|100m|thousand|million|billion|mn|bn|k|m|万|亿"
_EN_MONEY = re.compile(rf"^(?:(?:cny|rmb|yuan|¥)\s*({_EN_SCALES})?|({_EN_SCALES})\s*(?:cny|rmb|yuan))$")
_PERCENT_UNITS = frozenset({"%", "百分比", "percent", "pct", "百分点"})
_MONEY_WORDS = ("元", "块", "人民币", "rmb", "cny", "yuan")
_UNIT_MULTIPLIERS = (("万亿", 12), ("千万", 7), ("百万", 6), ("亿", 8), ("万", 4), ("千", 3))


@dataclass(frozen=True)
class Unit:
    """What a column's unit says about the numbers typed in it.

    ``kind``: ``"percent"`` (values are fractions: 12% is 0.12), ``"money"`` (元, 万元, 亿元 …)
    or ``"count"`` (家, 天, 万人 …). ``power``: the column counts in ``10 ** power`` (万元: 4).
    ``text``: the unit as written.
    """

    kind: str
    power: int
    text: str

    def label(self) -> str:
        return "%" if self.kind == "percent" else self.text


@caching.memo("numbers.unit", 1024)
def parse_unit(text: object) -> Unit | None:
    """The ``Unit`` of a KPI's or a header's unit text (``万元``, ``元``, ``%``, ``万人``, ``家``);
    ``None`` when blank or not a unit (a long phrase)."""
    if not isinstance(text, str):
        return None
    raw = text.strip()
    s = unicodedata.normalize("NFKC", raw).strip().lower()
    m = _EN_MONEY.match(s)
    if m:  # the English templates' "CNY 10k", "CNY", "10k CNY", "RMB million"
        return Unit("money", _EN_SCALE[m.group(1) or m.group(2) or ""], raw)
    if not s or len(s) > 6 or any(ch.isdigit() for ch in s):
        return None
    if s in _PERCENT_UNITS:
        return Unit("percent", -2, raw)
    power = 0
    for word, p in _UNIT_MULTIPLIERS:
        if s.startswith(word):
            power, s = p, s[len(word):]
            break
    if s in _MONEY_WORDS:
        return Unit("money", power, raw)
    if power and s in ("", "元人民币"):
        return Unit("money" if s else "count", power, raw)
    return Unit("count", power, raw)


def parse_in_unit(value: object, unit: Unit | None) -> float | None:
    """A number as the column with ``unit`` counts it (see the module doc, "Units").

    Numbers (not text) are already in the column's unit. Typed text keeps its meaning:
    ``1.15亿`` in a 万元 column is 11,500, ``1,012万`` is 1,012, ``3,000元`` is 0.3; ``12%`` in a %
    column is 0.12. A percentage in a money or count column, or 万/亿 in a % column, is refused.
    """
    if unit is None or not isinstance(value, str):
        return parse_number(value)
    parts = _number_parts(value)
    if parts is None:
        return None
    d, power, mark = parts
    if unit.kind == "percent":
        if power:
            raise ParseError("万/亿/千 in a % column", value=value,
                             expected="a percentage such as 12% or 0.12")
        if mark == "元":
            raise ParseError("an amount in 元 in a % column", value=value,
                             expected="a percentage such as 12% or 0.12")
        return _finite(d.scaleb(-2 if mark == "%" else -3 if mark == "‰" else 0), value)
    if mark in ("%", "‰"):
        raise ParseError(f"a percentage in a column counted in {unit.text}", value=value,
                         expected=f"a number in {unit.text}, e.g. 1,200 or 1.2万")
    if mark == "元" and unit.kind == "money":
        return _finite(d.scaleb(power - unit.power), value)
    if power:
        return _finite(d.scaleb(power - unit.power), value)
    return _finite(d, value)


def _why_not(core: str) -> str:
    if core.count(".") > 1:
        return "more than one decimal point"
    if "," in core and re.fullmatch(r"[\d,.]+", core):
        return "thousands separators must group three digits (1,200 or 1,200,000)"
    if re.search(r"\d", core) and re.search(r"[^\d.,eE+\-]", core):
        return "text mixed into a number"
    return "not a number"


def parse_percent(value: object) -> float | None:
    """A fraction from ``"90%"``, ``0.9`` or ``90`` (all → 0.9); ``None`` for blank.

    Text with ``%`` or ``‰`` is exact. A bare number with ``abs(x) <= 1.5`` is a fraction
    already; above that it is percent points and is divided by 100.
    """
    if isinstance(value, str):
        folded = _fold(value)
        if folded.endswith(("%", "‰")):
            return parse_number(value)
    try:
        x = parse_number(value)
    except ParseError as exc:
        raise ParseError(exc.detail, value=exc.value, expected=PERCENT_EXPECTED) from None
    if x is None:
        return None
    if abs(x) > PERCENT_POINTS_ABOVE:
        return float(Decimal(repr(x)).scaleb(-2))
    return x


# --- as Excel shows a number --------------------------------------------------------------
EXCEL_DIGITS = 15  #: significant digits Excel keeps of a number


def excel_value(x: float) -> float:
    """``x`` as Excel holds it: rounded to 15 significant digits (0.1080000000000001 is 0.108)."""
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{EXCEL_DIGITS}g}")


def excel_fixed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals as an Excel number format shows it: the 15-digit value
    rounded half away from zero (0.12649999999999995 as 0.0% is 12.7%, not Python's 12.6%)."""
    from decimal import ROUND_HALF_UP

    d = Decimal(f"{float(x):.{EXCEL_DIGITS}g}").quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return f"{d:f}"


# --- dates and periods ---------------------------------------------------------------------
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YM = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_YQ = re.compile(r"^(\d{4})\s*(?:年)?\s*[-/ ]?\s*(?:[Qq]\s*([1-4])|第\s*([1-4一二三四])\s*季度?)$")
_Y = re.compile(r"^(\d{4})\s*年?(?:度)?$")
_CN_DIGIT = {"一": "1", "二": "2", "三": "3", "四": "4"}


def _make_date(y: int, m: int, d: int, raw: object) -> _dt.date:
    if not 1 <= m <= 12:
        raise ParseError(f"month {m} does not exist", value=raw, expected=DATE_EXPECTED)
    try:
        return _dt.date(y, m, d)
    except ValueError:
        raise ParseError(f"day {d} does not exist in {y}-{m:02d}", value=raw,
                         expected=DATE_EXPECTED) from None


def _serial(x: float, raw: object, date1904: bool = False) -> _dt.date:
    if 1900 <= x <= 2200 and float(x).is_integer():
        raise ParseError("looks like a year, not a date", value=raw, expected=DATE_EXPECTED)
    if _MS_TIMESTAMPS[0] <= x < _MS_TIMESTAMPS[1]:
        return _dt.datetime.fromtimestamp(x / 1000, _CST).date()
    if not 1 <= x <= _MAX_SERIAL:
        raise ParseError("a number that is not an Excel date", value=raw, expected=DATE_EXPECTED)
    epoch = _EPOCH_1904 if date1904 else _EXCEL_EPOCH
    return epoch + _dt.timedelta(days=int(math.floor(x)))


#: cell value types whose parse results are remembered (exact types: equal values of one
#: type parse alike; subclasses such as numpy floats and Timestamps, and aware datetimes,
#: whose equal instants may fall on different days, are parsed every time)
_REMEMBERED = frozenset({str, float, int, _dt.datetime, _dt.date})


def parse_date(value: object, *, date1904: bool = False) -> _dt.date | None:
    """A ``datetime.date`` from a cell value or typed text; ``None`` for blank. See module doc.

    ``date1904``: serial numbers count from 1904-01-01 (the workbook's 1904 date system)."""
    return _remembered(_parse_date, _parse_date_remembered, value, date1904)


@caching.memo("numbers.dates", 16384)
def _parse_date_remembered(kind: type, value: object, date1904: bool) -> _dt.date | None:
    """``_parse_date`` per (type, value): the same dates recur in every row and workbook.
    A refusal raises each time (exceptions are not remembered)."""
    return _parse_date(value, date1904)


def _remembered(parse, remembered, value: object, date1904: bool):
    """``parse(value, date1904)``, through ``remembered`` for the types in ``_REMEMBERED``."""
    kind = type(value)
    if kind in _REMEMBERED and not (kind is _dt.datetime and value.tzinfo is not None):
        return remembered(kind, value, date1904)
    return parse(value, date1904)


def _parse_date(value: object, date1904: bool) -> _dt.date | None:
    if is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, bool):
        raise ParseError("a TRUE/FALSE value is not a date", value=value, expected=DATE_EXPECTED)
    if isinstance(value, Number):
        return _serial(float(value), value, date1904)
    if not isinstance(value, str):
        raise ParseError(f"a {type(value).__name__} is not a date", value=value,
                         expected=DATE_EXPECTED)
    s = unicodedata.normalize("NFKC", value).strip()
    if s in _BLANKS:
        return None
    m = _YMD.match(s) or _COMPACT.match(s)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), value)
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return _serial(float(s), value, date1904)
    if _YM.match(s) or _YQ.match(s) or _Y.match(s):
        raise ParseError("a month, quarter or year, not a day", value=value, expected=DATE_EXPECTED)
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", s):
        raise ParseError("day-month order is ambiguous; write the year first", value=value,
                         expected=DATE_EXPECTED)
    raise ParseError("not a date", value=value, expected=DATE_EXPECTED)


def parse_period(value: object, *, date1904: bool = False) -> pd.Period | None:
    """A ``pandas.Period`` (day, month, quarter or year) from a cell value; ``None`` for blank."""
    return _remembered(_parse_period, _parse_period_remembered, value, date1904)


@caching.memo("numbers.periods", 16384)
def _parse_period_remembered(kind: type, value: object, date1904: bool) -> pd.Period | None:
    """``_parse_period`` per (type, value); Periods are immutable, so sharing one is safe."""
    return _parse_period(value, date1904)


def _parse_period(value: object, date1904: bool) -> pd.Period | None:
    if is_blank(value):
        return None
    if isinstance(value, pd.Period):
        return value
    if isinstance(value, Number) and not isinstance(value, bool):
        x = float(value)
        if x.is_integer() and 1900 <= x <= 2200:
            return pd.Period(year=int(x), freq="Y")
    if isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip()
        m = _YM.match(s)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if not 1 <= mo <= 12:
                raise ParseError(f"month {mo} does not exist", value=value, expected=PERIOD_EXPECTED)
            return pd.Period(year=y, month=mo, freq="M")
        m = _YQ.match(s)
        if m:
            q = m.group(2) or _CN_DIGIT.get(m.group(3), m.group(3))
            return pd.Period(year=int(m.group(1)), quarter=int(q), freq="Q")
        m = _Y.match(s)
        if m:
            return pd.Period(year=int(m.group(1)), freq="Y")
    try:
        day = parse_date(value, date1904=date1904)
    except ParseError as exc:
        raise ParseError(exc.detail, value=exc.value, expected=PERIOD_EXPECTED) from None
    return None if day is None else pd.Period(day, freq="D")
