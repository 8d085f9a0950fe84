"""Numbers, percentages, dates and periods as Chinese finance users type them."""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewkit.errors import InputError
from reviewkit.numbers import ParseError, parse_date, parse_number, parse_percent, parse_period

NUMBERS = [
    # (typed, expected)
    ("1200", 1200.0),
    ("1,200", 1200.0),
    ("1，200", 1200.0),  # full-width comma
    ("1,200,000.50", 1200000.5),
    ("12%", 0.12),
    ("12％", 0.12),  # full-width percent
    ("-12%", -0.12),
    ("5‰", 0.005),
    ("1.2万", 12000.0),
    ("1.2万元", 12000.0),
    ("3亿", 300000000.0),
    ("1.5千", 1500.0),
    ("2百万", 2000000.0),
    ("3千万", 30000000.0),
    ("2万亿", 2e12),
    ("8百", 800.0),
    ("1.5k", 1500.0),
    ("3w", 30000.0),
    ("(500)", -500.0),
    ("（500）", -500.0),  # full-width parentheses
    ("(1,234.5)", -1234.5),
    ("−500", -500.0),  # U+2212 minus sign
    ("－500", -500.0),  # full-width hyphen-minus
    ("-500", -500.0),
    ("+500", 500.0),
    ("1,200.00-", -1200.0),  # SAP's trailing minus
    ("500-", -500.0),
    ("１２００", 1200.0),  # full-width digits
    ("１，２００．５", 1200.5),
    ("  1200  ", 1200.0),
    ("1 200", 1200.0),
    ("1\u00a0200", 1200.0),  # no-break space as a group separator
    ("\u30001200\u3000", 1200.0),  # ideographic spaces
    ("¥1,200", 1200.0),
    ("￥1,200", 1200.0),
    ("1200元", 1200.0),
    ("RMB 1,200", 1200.0),
    ("rmb1200", 1200.0),
    ("CNY 50", 50.0),
    ("1200 RMB", 1200.0),
    ("-¥500", -500.0),
    ("¥-500", -500.0),
    ("(¥500)", -500.0),
    ("$30", 30.0),
    ("1.2e3", 1200.0),
    ("1.2E-3", 0.0012),
    ("0.1", 0.1),
    (".5", 0.5),
    ("0", 0.0),
    (1200, 1200.0),
    (1200.5, 1200.5),
    (Decimal("1.25"), 1.25),
]
BLANKS = [None, "", "   ", "-", "—", "——", "–", "--", float("nan"), pd.NA]
BAD_NUMBERS = [
    ("abc", "not a number"),
    ("1.2.3", "more than one decimal point"),
    ("12%%", "more than one percent sign"),
    ("1,2", "three digits"),
    ("12,34,567", "three digits"),
    ("#N/A", "Excel error"),
    ("#DIV/0!", "Excel error"),
    ("12abc", "text mixed"),
    ("1.2万%", ""),
    ("--5", ""),
    ("(-5)", "two minus signs"),
    ("-5-", "two minus signs"),
    ("万", ""),
    ("%", ""),
    ("e5", ""),
    (True, "TRUE/FALSE"),
    (dt.date(2025, 3, 1), "a date"),
    (float("inf"), "infinite"),
    ("1e999", "too large"),
]


@pytest.mark.parametrize("typed,expected", NUMBERS)
def test_parse_number_accepts_how_finance_users_write(typed, expected):
    got = parse_number(typed)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("typed", BLANKS)
def test_blank_and_dash_mean_nothing_entered(typed):
    assert parse_number(typed) is None


@pytest.mark.parametrize("typed,why", BAD_NUMBERS)
def test_garbage_is_refused_with_what_was_found(typed, why):
    with pytest.raises(ParseError) as info:
        parse_number(typed)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, InputError)
    assert why in str(err)
    assert "expected a number" in str(err)
    if isinstance(typed, str):
        assert repr(typed) in str(err)  # the message quotes what was typed


def test_multipliers_are_exact_decimal_arithmetic():
    # 0.1 * 3 is 0.30000000000000004 in floats; "0.3万" must be exactly 3000
    assert parse_number("0.3万") == 3000.0
    assert parse_number("1.1万") == 11000.0
    assert parse_number("33%") == 0.33
    assert parse_number("0.07亿") == 7000000.0


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_thousands_grouping_round_trips(n):
    assert parse_number(f"{n:,}") == float(n)
    assert parse_number(f"({abs(n):,})") == -float(abs(n)) or n == 0


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_wan_is_ten_thousand(d):
    assert parse_number(f"{d}万") == float(d * 10000)


PERCENTS = [
    ("90%", 0.9), ("90％", 0.9), (0.9, 0.9), (90, 0.9), ("90", 0.9), ("0.9", 0.9),
    (1.2, 1.2), (1.5, 1.5), ("150%", 1.5), (2, 0.02), (100, 1.0), (1, 1.0), ("5", 0.05),
    (-0.1, -0.1), (-10, -0.1), ("", None), (None, None), ("-", None),
]


@pytest.mark.parametrize("typed,expected", PERCENTS)
def test_parse_percent_rule(typed, expected):
    got = parse_percent(typed)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-15)


def test_parse_percent_refuses_text():
    with pytest.raises(ParseError, match="expected a percentage"):
        parse_percent("high")


DATES = [
    (45731, dt.date(2025, 3, 15)),  # Excel serial
    (45731.75, dt.date(2025, 3, 15)),  # serial with a time of day
    ("45731", dt.date(2025, 3, 15)),
    (dt.datetime(2025, 3, 15, 9, 30), dt.date(2025, 3, 15)),
    (dt.date(2025, 3, 15), dt.date(2025, 3, 15)),
    (pd.Timestamp("2025-03-15"), dt.date(2025, 3, 15)),
    ("2025-03-15", dt.date(2025, 3, 15)),
    ("2025/3/15", dt.date(2025, 3, 15)),
    ("2025.3.15", dt.date(2025, 3, 15)),
    ("2025年3月15日", dt.date(2025, 3, 15)),
    ("２０２５年３月１５日", dt.date(2025, 3, 15)),
    ("20250315", dt.date(2025, 3, 15)),
    ("2025-03-15 10:30:00", dt.date(2025, 3, 15)),
    ("2024-02-29", dt.date(2024, 2, 29)),
    (61, dt.date(1900, 3, 1)),  # first serial after Excel's phantom 1900-02-29
]
BAD_DATES = [
    ("2025-13-01", "month 13"),
    ("2025-02-29", "day 29"),
    ("2025-04-31", "day 31"),
    ("3/15/2025", "year first"),
    ("2025-03", "not a day"),
    ("2025Q3", "not a day"),
    ("soon", "not a date"),
    (2025, "looks like a year"),
    (-5, "not an Excel date"),
    (3_000_000, "not an Excel date"),
    (True, "TRUE/FALSE"),
]


@pytest.mark.parametrize("typed,expected", DATES)
def test_parse_date(typed, expected):
    assert parse_date(typed) == expected


@pytest.mark.parametrize("typed", [None, "", "-", float("nan"), pd.NaT])
def test_blank_date(typed):
    assert parse_date(typed) is None


@pytest.mark.parametrize("typed,why", BAD_DATES)
def test_bad_dates_are_refused(typed, why):
    with pytest.raises(ParseError) as info:
        parse_date(typed)
    assert why in str(info.value)
    assert "expected a date" in str(info.value)


PERIODS = [
    ("2025-03", "M", 2025, "2025-03-01", "2025-03-31"),
    ("2025/3", "M", 2025, "2025-03-01", "2025-03-31"),
    ("2025年3月", "M", 2025, "2025-03-01", "2025-03-31"),
    ("2025Q3", "Q", 2025, "2025-07-01", "2025-09-30"),
    ("2025-Q3", "Q", 2025, "2025-07-01", "2025-09-30"),
    ("2025 q4", "Q", 2025, "2025-10-01", "2025-12-31"),
    ("2025年第三季度", "Q", 2025, "2025-07-01", "2025-09-30"),
    ("2025年第1季", "Q", 2025, "2025-01-01", "2025-03-31"),
    ("2024", "Y", 2024, "2024-01-01", "2024-12-31"),
    ("2024年", "Y", 2024, "2024-01-01", "2024-12-31"),
    (2024, "Y", 2024, "2024-01-01", "2024-12-31"),
    ("2025-03-15", "D", 2025, "2025-03-15", "2025-03-15"),
    (dt.date(2024, 12, 31), "D", 2024, "2024-12-31", "2024-12-31"),
    (45731, "D", 2025, "2025-03-15", "2025-03-15"),
]


@pytest.mark.parametrize("typed,freq,year,first,last", PERIODS)
def test_parse_period(typed, freq, year, first, last):
    p = parse_period(typed)
    assert p.freqstr.startswith(freq)
    assert p.year == year
    assert p.start_time.date() == dt.date.fromisoformat(first)
    assert p.end_time.date() == dt.date.fromisoformat(last)


@pytest.mark.parametrize("typed", ["2025-13", "2025Q5", "next year", "2025-02-30"])
def test_bad_periods(typed):
    with pytest.raises(ParseError, match="expected a period"):
        parse_period(typed)


def test_nan_is_not_a_number_but_blank():
    assert parse_number(math.nan) is None


@given(st.one_of(st.text(max_size=30), st.text(alphabet="0123456789,.，。%％万亿千百()（）-−+ ¥￥元eE", max_size=15)))
def test_any_text_is_a_number_a_blank_or_a_parse_error(s):
    """Fuzz: nothing but ParseError ever escapes, and every result is a finite float or None."""
    for fn in (parse_number, parse_percent, parse_date, parse_period):
        try:
            got = fn(s)
        except ParseError as exc:
            assert exc.value == s
            continue
        if fn in (parse_number, parse_percent):
            assert got is None or (isinstance(got, float) and math.isfinite(got))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99),
       st.sampled_from(["{}", "¥{}", "{}元", "({})", "RMB {}", "-{}"]), st.booleans())
def test_written_forms_round_trip(whole, cents, form, wide):
    typed = form.format(f"{whole:,}.{cents:02d}")
    if wide:
        typed = _fullwidth(typed)
    sign = -1 if form in ("({})", "-{}") else 1
    assert parse_number(typed) == sign * float(Decimal(f"{whole}.{cents:02d}"))


def test_1904_date_system_serials():
    assert parse_date(44269, date1904=True) == dt.date(2025, 3, 15)
    assert parse_date(44269) == dt.date(2025, 3, 15) - dt.timedelta(days=1462)  # the 1900 system
    assert str(parse_period(44269, date1904=True)) == "2025-03-15"
