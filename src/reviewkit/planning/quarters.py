"""Next year's annual targets split into quarterly targets by past years' seasonality."""
from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import column, require_frame, text, texts, to_dates, to_numbers

QUARTERS = ("q1", "q2", "q3", "q4")
SHARES = tuple(f"share_{q}" for q in QUARTERS)
COLUMNS = ["unit", "kpi", "annual_target", *QUARTERS, *SHARES, "method", "years", "note"]
NOT_SPLIT = ("average", "ratio", "last")
MAX_DECIMALS = 6


def decimals_of(number_format: object, target: float) -> int:
    """Rounding precision for a KPI's quarterly targets.

    From the KPI's number format: the digits after the decimal point ("#,##0.0" → 1), plus 2
    for a percent format ("0.0%" → 3, since 12.5% is 0.125). Without a format: the decimals the
    annual target itself has (1500 → 0, 12.5 → 1, at most 6).
    """
    fmt = text(number_format)
    if fmt and fmt.lower() != "general":
        section = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", fmt.split(";")[0])
        m = re.search(r"\.([0#?]+)", section)
        d = len(m.group(1)) if m else 0
        return d + (2 if "%" in section else 0)
    if not np.isfinite(target):
        return 0
    s = f"{Decimal(repr(float(target))).normalize():f}"
    return min(len(s.split(".")[1]) if "." in s else 0, MAX_DECIMALS)


def seasonality(facts: pd.DataFrame, measure: str, unit: str = "") -> tuple[list[float] | None, list[int], str]:
    """Average share of each quarter in the year for ``measure`` (of ``unit``, or all units).

    Each past year with data in all four quarters, a positive total and no negative quarter gives
    its four shares; the shares are averaged over those years (each year weighs the same).
    Returns (shares or None, years used, note on years left out).
    """
    f = facts
    if unit:
        f = f[np.array([t == unit for t in texts(f["unit"].tolist())], dtype=bool)]
    if f.empty:
        return None, [], f"no facts for unit {unit}" if unit else "no facts"
    periods = to_dates(f, "period", "Facts")
    values = to_numbers(f, measure, "Facts")
    frame = pd.DataFrame({"year": periods.dt.year, "q": periods.dt.quarter, "v": values}).dropna()
    table = frame.groupby(["year", "q"])["v"].sum().unstack("q")
    shares, years, skipped = [], [], []
    for year, row in table.iterrows():
        row = row.reindex([1, 2, 3, 4])
        total = row.sum()
        if row.isna().any() or total <= 0 or (row < 0).any():
            skipped.append(str(int(year)))
            continue
        shares.append((row / total).to_numpy(dtype=float))
        years.append(int(year))
    note = f"left out incomplete or non-positive years {', '.join(skipped)}" if skipped else ""
    if not shares:
        return None, [], note or "no complete past year"
    mean = np.mean(np.vstack(shares), axis=0)
    return exact_shares(mean), years, note


def exact_shares(weights) -> list[float]:
    """Four non-negative floats proportional to ``weights`` whose float sum (left to right) is 1.0.

    Q4 = 1 − (Q1 + Q2 + Q3); when rounding made Q1 + Q2 + Q3 exceed 1 by an ulp, the largest of
    them is nudged down first, so Q4 is never negative.
    """
    w = np.asarray(weights, dtype=float)
    q = [float(x) for x in w[:3] / w.sum()]
    first3 = q[0] + q[1] + q[2]
    while first3 > 1.0:
        k = q.index(max(q))
        q[k] = math.nextafter(q[k], 0.0)
        first3 = q[0] + q[1] + q[2]
    return [*q, 1.0 - first3]


def _split(target: float, shares: list[float], decimals: int) -> list[float]:
    """Quarter targets at ``decimals`` precision that add up to ``target``, Q4 taking the remainder.

    Cumulative rounding (half up): Q1..Qk together are the rounded running share of the target,
    so no quarter turns negative when the shares are not, and Q4 = target − rounded(Q1..Q3).
    """
    exact = Decimal(repr(float(target)))
    step = Decimal(1).scaleb(-decimals)
    cum = Decimal(0)
    bounds = []
    for s in shares[:3]:
        cum += Decimal(repr(s))
        bounds.append((exact * cum).quantize(step, rounding=ROUND_HALF_UP))
    bounds.append(exact)
    q = [bounds[0]] + [bounds[i] - bounds[i - 1] for i in range(1, 4)]
    return [float(v) for v in q]


def split_quarters(next_year: pd.DataFrame, facts: pd.DataFrame | None, kpis: pd.DataFrame) -> pd.DataFrame:
    """Quarterly targets for every row of table ``NextYear`` (unit, kpi, annual_target).

    * Additive KPIs (aggregation ``sum``, with a ``measure`` column in the facts): each quarter's
      share of the year, averaged over the past years in ``facts`` (see ``seasonality``; the
      unit's own facts when the row names a unit, else all units). Shares add up to exactly 1
      (Q4 = 1 − Q1 − Q2 − Q3). Quarter targets are rounded to the KPI's precision (see
      ``decimals_of``) and Q4 takes the remainder, so Q1 + Q2 + Q3 + Q4 = the annual target.
      ``method`` "seasonality".
    * No usable history (no measure, no facts, no complete year): an equal split, 25% each,
      ``method`` "equal" with the reason in ``note``.
    * Ratio, average and period-end KPIs are not split by share: a rate or an average for the
      year is the same in every quarter, so each quarterly target equals the annual one;
      ``method`` "not split", shares NaN.
    """
    require_frame(next_year, "NextYear", ["kpi", "annual_target"])
    require_frame(kpis, "KPIs", ["key"])
    kinfo = {text(r["key"]): r for _, r in kpis.iterrows()}
    target = to_numbers(next_year, "annual_target", "NextYear", key="kpi")
    units = column(next_year, "unit").map(text)
    if facts is not None:
        require_frame(facts, "Facts", ["period", "unit"])
    rows = []
    for idx in next_year.index:
        kpi = text(next_year.at[idx, "kpi"])
        if kpi not in kinfo:
            raise InputError(f"table 'NextYear' row {idx} names a KPI that is not in table 'KPIs'",
                             value=kpi, expected="one of " + ", ".join(list(kinfo)[:20]))
        t = target[idx]
        if np.isnan(t):
            raise InputError(f"table 'NextYear' row {idx} (kpi {kpi}) has no annual target",
                             expected="a number")
        k = kinfo[kpi]
        agg = text(k.get("aggregation")).lower() or "sum"
        dec = decimals_of(k.get("number_format"), t)
        years: list[int] = []
        if agg in NOT_SPLIT:
            q, shares, method, note = [t] * 4, [np.nan] * 4, "not split", f"{agg} KPI: each quarter = annual"
        else:
            measure = text(k.get("measure"))
            shares, note = None, ""
            if not measure:
                note = "KPI has no fact measure"
            elif facts is None or measure not in facts.columns:
                note = f"facts have no column {measure}"
            else:
                shares, years, note = seasonality(facts, measure, units[idx])
            method = "seasonality" if shares else "equal"
            if not shares:
                shares = [0.25] * 4
            q = _split(t, shares, dec)
        rows.append({"unit": units[idx] or None, "kpi": kpi, "annual_target": t,
                     **dict(zip(QUARTERS, q)), **dict(zip(SHARES, shares)), "method": method,
                     "years": years, "note": note})
    return pd.DataFrame(rows, columns=COLUMNS, index=next_year.index)
