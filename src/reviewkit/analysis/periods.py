"""The KPI over time: by month or quarter, and the share of the year won in campaign periods."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import api_frame, is_blank, require_frame, resolve_kpi, safe_div, text, to_float
from ._facts import period_spans, value_spec

FREQS = {"M": "M", "Q": "Q", "Y": "Y"}
PERIOD_COLUMNS = ["year", "period", "value", "num", "den", "share_of_year", "value_ly",
                  "change_ly", "change_ly_pct", "change_ly_pp"]
CAMPAIGN_COLUMNS = ["campaign", "start", "end", "days", "value", "num", "den", "share_of_year",
                    "exact", "overlaps"]
REST_LABEL = "其余时间/Rest of year"
_MONTH_DAY = re.compile(r"^\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def _period_table(facts: pd.DataFrame, kpi, kpis):
    row = resolve_kpi(kpi, kpis)
    spec = value_spec(row)
    facts = api_frame(facts, "facts")
    require_frame(facts, "facts", ["period"] + spec.columns)
    if facts.empty:
        raise InputError("table 'facts' is empty: no periods to show",
                         expected="detail rows with a period")
    codes, uniques = pd.factorize(facts["period"], use_na_sentinel=True)
    if (codes < 0).any():
        raise InputError("table 'facts' has a row without a period", expected="e.g. '2025-03'")
    starts, ends = period_spans(np.asarray(uniques, dtype=object))
    k = len(uniques)

    def summed(col):
        v = to_float(facts[col], "facts", col).to_numpy()
        return np.bincount(codes, weights=np.where(np.isnan(v), 0.0, v), minlength=k)

    if spec.kind == "sum":
        num, den = summed(spec.measure), None
    else:
        num = summed(spec.numerator)
        den = summed(spec.denominator) if spec.denominator else np.bincount(codes, minlength=k) \
            .astype("float64")
    return spec, starts, ends, num, den


def by_period(facts: pd.DataFrame, kpi, kpis: pd.DataFrame | None = None, *,
              freq: str = "M") -> pd.DataFrame:
    """The KPI per month ("M"), quarter ("Q") or year ("Y") over all years in ``facts``.

    For each period: the value (sum, or numerator / denominator), its share of its year
    (numerator share for ratios), and the change against the same period one year earlier
    (``change_ly_pct`` NaN when that base is <= 0; ``change_ly_pp`` for percent KPIs).
    """
    if freq not in FREQS:
        raise InputError("unknown freq", value=freq, expected="'M', 'Q' or 'Y'")
    spec, starts, ends, num, den = _period_table(facts, kpi, kpis)
    buckets = pd.PeriodIndex(pd.DatetimeIndex(starts), freq=freq)
    ends_b = pd.PeriodIndex(pd.DatetimeIndex(ends), freq=freq)
    if (buckets != ends_b).any():
        bad = int(np.flatnonzero(buckets != ends_b)[0])
        raise InputError(f"a period is longer than the requested freq '{freq}'",
                         value=str(pd.Period(starts[bad], freq="D")),
                         expected="a coarser freq (e.g. 'Q' for quarterly data)")
    g = pd.DataFrame({"bucket": buckets, "num": num,
                      "den": den if den is not None else np.nan}).groupby("bucket").sum(min_count=1)
    g = g.sort_index()
    out = pd.DataFrame({"year": g.index.year.astype("int64"),
                        "period": [str(b) for b in g.index], "num": g["num"].to_numpy()})
    out["den"] = g["den"].to_numpy() if den is not None else np.nan
    out["value"] = out["num"] if den is None else safe_div(out["num"], out["den"])
    year_total = out.groupby("year")["num"].transform("sum")
    out["share_of_year"] = safe_div(out["num"], year_total, positive_only=True)
    prev = {b: v for b, v in zip(g.index, out["value"])}
    out["value_ly"] = [prev.get(b - (12 if freq == "M" else 4 if freq == "Q" else 1), np.nan)
                       for b in g.index]
    out["change_ly"] = out["value"] - out["value_ly"]
    out["change_ly_pct"] = safe_div(out["change_ly"], out["value_ly"], positive_only=True)
    out["change_ly_pp"] = out["change_ly"] * 100 if spec.is_percent else np.nan
    out.attrs.update(kpi=spec.key, freq=freq)
    return out[PERIOD_COLUMNS]


def _day(value: object, year: int, what: str) -> np.datetime64:
    if isinstance(value, str):
        m = _MONTH_DAY.match(value)
        if m:
            value = f"{year}-{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if is_blank(value) or pd.isna(ts):
        raise InputError(f"campaign {what} is not a date", value=value,
                         expected="'2025-06-01', '06-01' or a Timestamp")
    return ts.to_datetime64().astype("datetime64[D]")


def campaign_share(facts: pd.DataFrame, kpi, campaigns: pd.DataFrame,
                   kpis: pd.DataFrame | None = None, *, year: int | None = None) -> pd.DataFrame:
    """Share of the year's result won in each named campaign period (618, 双11, year-end...).

    ``campaigns`` has columns name, start, end (inclusive dates; "06-01" means that day of
    ``year``). Facts with daily periods are counted exactly; monthly or quarterly periods that a
    campaign covers only in part are pro-rated by days (``exact`` is False then). A last row
    "其余时间/Rest of year" holds what no campaign covers; overlapping campaigns are listed in
    ``overlaps`` (their shares then add to more than the union).
    """
    require_frame(campaigns, "campaigns", ["name", "start", "end"])
    spec, starts, ends, num, den = _period_table(facts, kpi, kpis)
    years = starts.astype("datetime64[Y]").astype("int64") + 1970
    year = int(year) if year is not None else int(years.max())
    if year not in set(years.tolist()):
        raise InputError(f"year {year} has no rows in table 'facts'", value=year,
                         expected="one of " + ", ".join(map(str, sorted(set(years.tolist())))))
    inyear = years == year
    y0 = np.datetime64(f"{year}-01-01", "D")
    ndays = int((np.datetime64(f"{year + 1}-01-01", "D") - y0).astype(int))
    ps = (starts[inyear] - y0).astype(int)
    pe = np.minimum((ends[inyear] - y0).astype(int), ndays - 1)
    plen = (pe - ps + 1).astype("float64")
    n_y = num[inyear]
    d_y = den[inyear] if den is not None else None
    names, cs, ce = [], [], []
    for _, r in campaigns.iterrows():
        name = text(r["name"])
        if not name:
            raise InputError("table 'campaigns' has a row without a name",
                             expected="a campaign name such as '双11'")
        s, e = _day(r["start"], year, f"'{name}' start"), _day(r["end"], year, f"'{name}' end")
        if e < s:
            raise InputError(f"campaign '{name}' ends before it starts", value=(str(s), str(e)),
                             expected="start <= end")
        names.append(name)
        cs.append(int((s - y0).astype(int)))
        ce.append(int((e - y0).astype(int)))
    covered = np.zeros(ndays, dtype=bool)
    rows = []
    total_num = float(n_y.sum())
    for i, name in enumerate(names):
        lo, hi = max(cs[i], 0), min(ce[i], ndays - 1)
        if hi >= lo:
            covered[lo:hi + 1] = True
        overlap = np.clip(np.minimum(ce[i], pe) - np.maximum(cs[i], ps) + 1, 0, None)
        frac = overlap / plen
        cn = float((frac * n_y).sum())
        cd = float((frac * d_y).sum()) if d_y is not None else np.nan
        others = [names[j] for j in range(len(names))
                  if j != i and cs[j] <= ce[i] and cs[i] <= ce[j]]
        rows.append(dict(campaign=name, start=str(y0 + cs[i]), end=str(y0 + ce[i]),
                         days=ce[i] - cs[i] + 1, num=cn, den=cd,
                         exact=bool(np.all((frac == 0) | (frac == 1))),
                         overlaps=", ".join(others)))
    cum = np.concatenate([[0], np.cumsum(covered)])
    cov_frac = (cum[pe + 1] - cum[ps]) / plen
    rest = 1 - cov_frac
    rows.append(dict(campaign=REST_LABEL, start=str(y0), end=str(y0 + ndays - 1),
                     days=int(ndays - covered.sum()), num=float((rest * n_y).sum()),
                     den=float((rest * d_y).sum()) if d_y is not None else np.nan,
                     exact=bool(np.all((cov_frac == 0) | (cov_frac == 1))), overlaps=""))
    out = pd.DataFrame(rows)
    out["value"] = out["num"] if d_y is None else safe_div(out["num"], out["den"])
    out["share_of_year"] = safe_div(out["num"], total_num, positive_only=True)
    out.attrs.update(kpi=spec.key, year=year, year_total=total_num,
                     year_value=total_num if d_y is None else
                     (total_num / d_y.sum() if d_y.sum() else np.nan))
    return out[CAMPAIGN_COLUMNS]
