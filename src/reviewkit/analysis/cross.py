"""Cross-metric view: which KPIs moved together or in opposite directions.

"Fewer new members but a higher average order value" is the kind of pattern this surfaces.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import arrays_of, frame_of, kpi_table, safe_div, score_columns, text_array
from ._facts import value_spec
from .periods import by_period

#: the fewest units (or periods) a correlation is stated on in a review's text: with 4-6 points
#: a coefficient of 0.8 or -1.00 comes easily by chance (at n = 8, |r| >= 0.7 has p < 0.06)
MIN_CORR_POINTS = 8

COLUMNS = ["kpi_a", "kpi_b", "name_a", "name_b", "basis", "n", "corr", "strong", "relation",
           "change_a", "change_b", "moved", "pattern", "note"]


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 0 else np.nan


def describe(row, lang: str = "zh") -> str:
    """One row of ``cross_metric`` as words, with the number of points it rests on:
    "8 个单位中同向变动（相关系数 0.82）" / "moved together across 8 units (correlation 0.82)".
    """
    n, corr, basis = int(row["n"]), float(row["corr"]), str(row["basis"])
    together = str(row["relation"]) == "together"
    if lang == "zh":
        where = f"{n} 个{'单位' if basis == 'units' else '期间'}中"
        return f"{where}{'同向' if together else '反向'}变动（相关系数 {corr:.2f}）"
    where = f"across {n} {'units' if basis == 'units' else 'periods'}"
    return f"moved {'together' if together else 'oppositely'} {where} (correlation {corr:.2f})"


def _arrow(v: float) -> str:
    return "↑" if v > 0 else "↓" if v < 0 else "→" if v == 0 else "?"


def cross_metric(scorecard: pd.DataFrame, kpis: pd.DataFrame, *, threshold: float = 0.7,
                 facts: pd.DataFrame | None = None, freq: str = "M",
                 min_points: int = 3) -> pd.DataFrame:
    """For each pair of KPIs, the correlation of their changes and the company-level pattern.

    Without ``facts``: the points are units, each unit's change vs last year (relative change;
    for percent KPIs the change in points, since relative changes of rates mislead). With
    ``facts``: the points are periods (``freq`` "M" or "Q") of every KPI that can be computed from
    facts, and the change is period over period. ``strong`` when |corr| >= ``threshold``;
    ``relation`` "together" (corr > 0) or "opposite". ``change_a``/``change_b`` are company-level
    relative changes (percent KPIs: points / 100) and ``moved`` says whether they went the same
    way; ``pattern`` reads e.g. "新会员数↓ 客单价↑". Fewer than ``min_points`` points -> corr NaN.
    """
    if not 0 < threshold <= 1:
        raise InputError("threshold must be in (0, 1]", value=threshold, expected="e.g. 0.7")
    k = kpi_table(kpis)
    s = score_columns(scorecard, k)
    return _cross_metric(s, k, threshold, facts, freq, min_points)


def _cross_metric(s: dict[str, np.ndarray], k: pd.DataFrame, threshold: float, facts, freq: str,
                  min_points: int) -> pd.DataFrame:
    """``cross_metric`` of a validated scorecard ``s`` (``score_columns``) and KPI table ``k``."""
    kc, kpi_keys = arrays_of(k), k.index.tolist()
    pct_of = dict(zip(kpi_keys, kc["is_percent"].tolist()))
    aggregation = dict(zip(kpi_keys, kc["aggregation"].tolist()))
    name = dict(zip(kpi_keys, kc["name"].tolist()))
    # company-level change per KPI
    company = {}
    s_kpi = s["kpi"].astype(object, copy=False)
    s_a = s["actual"].astype("float64", copy=False)
    s_ly = s["last_year"].astype("float64", copy=False)
    both_ok = ~np.isnan(s_a) & ~np.isnan(s_ly)
    for key in pd.unique(s_kpi):
        m = (s_kpi == key) & both_ok
        if not m.any():
            company[key] = np.nan
            continue
        a, ly = (s_a[m].sum(), s_ly[m].sum()) if aggregation[key] == "sum" else \
            (s_a[m].mean(), s_ly[m].mean())
        company[key] = (a - ly) if pct_of[key] else (safe_div(a - ly, ly, positive_only=True).item())

    if facts is None:
        basis = "units"
        # the pivot (unit x KPI, units sorted) done with dicts: one vector per KPI
        chg = np.where([pct_of[key] for key in s_kpi], s_a - s_ly,
                       safe_div(s_a - s_ly, s_ly, positive_only=True))
        s_unit = s["unit"].tolist()
        unit_pos = {u: i for i, u in enumerate(sorted(set(s_unit)))}
        values = {}
        for u, key, v in zip(s_unit, s_kpi.tolist(), chg.tolist()):
            vec = values.get(key)
            if vec is None:
                vec = values[key] = np.full(len(unit_pos), np.nan)
            vec[unit_pos[u]] = v
        keys = [key for key in k.index if key in values]
    else:
        basis = "periods"
        cols = {}
        for key in k.index:
            try:
                cols_needed = value_spec(k.loc[key]).columns
            except InputError:
                continue
            if not set(cols_needed) <= set(facts.columns):
                continue
            bp = by_period(facts, key, k, freq=freq).set_index("period")["value"]
            prev = bp.shift()
            cols[key] = bp.diff() if pct_of[key] else pd.Series(
                safe_div(bp - prev, prev, positive_only=True), index=bp.index)
        wide = pd.DataFrame(cols)
        if wide.shape[1] < 2:
            raise InputError("fewer than two KPIs can be computed from table 'facts'",
                             value=list(wide.columns), expected="KPIs whose measure columns "
                             "are in facts")
        keys = [key for key in k.index if key in wide.columns]
        values = {key: wide[key].to_numpy(dtype="float64") for key in keys}
    finite = {key: np.isfinite(v) for key, v in values.items()}
    rows = []
    for ka, kb in itertools.combinations(keys, 2):
        both = finite[ka] & finite[kb]
        n = int(both.sum())
        note = ""
        corr = np.nan
        if n < min_points:
            note = f"only {n} {basis} with both changes; need {min_points}"
        else:
            corr = _pearson(values[ka][both], values[kb][both])
            if np.isnan(corr):
                note = "one of the KPIs did not vary"
        strong = bool(not np.isnan(corr) and abs(corr) >= threshold)
        ca, cb = company.get(ka, np.nan), company.get(kb, np.nan)
        moved = "" if np.isnan(ca) or np.isnan(cb) or ca == 0 or cb == 0 else \
            ("together" if np.sign(ca) == np.sign(cb) else "opposite")
        rows.append(dict(kpi_a=ka, kpi_b=kb, name_a=name[ka], name_b=name[kb],
                         basis=basis, n=n, corr=corr, strong=strong,
                         relation="" if np.isnan(corr) else ("together" if corr > 0
                                                             else "opposite"),
                         change_a=ca, change_b=cb, moved=moved,
                         pattern=f"{name[ka]}{_arrow(ca)} {name[kb]}"
                                 f"{_arrow(cb)}", note=note))
    if not rows:
        return pd.DataFrame(rows, columns=COLUMNS)
    # strong first, then by |corr| (NaN last), ties in pair order: sort_values(["strong",
    # "corr"], key=abs, ascending=False, kind="stable") on plain values
    rows.sort(key=lambda r: (not r["strong"], r["corr"] != r["corr"],
                             -abs(r["corr"]) if r["corr"] == r["corr"] else 0.0))
    cols = {c: [r[c] for r in rows] for c in COLUMNS}
    if all(isinstance(v, str) for c in _TEXT_COLUMNS for v in cols[c]) and \
            all(isinstance(v, float) for c in _FLOAT_COLUMNS for v in cols[c]):
        # the dtypes pandas infers for these lists (str, int64, float64, bool), built directly
        out = {c: text_array(v) for c, v in cols.items() if c in _TEXT_COLUMNS}
        out.update({c: np.array(cols[c], dtype="float64") for c in _FLOAT_COLUMNS})
        out["n"] = np.array(cols["n"], dtype="int64")
        out["strong"] = np.array(cols["strong"], dtype=bool)
        return frame_of({c: out[c] for c in COLUMNS}, len(rows))
    return pd.DataFrame(cols)


_TEXT_COLUMNS = ("kpi_a", "kpi_b", "name_a", "name_b", "basis", "relation", "moved", "pattern",
                 "note")
_FLOAT_COLUMNS = ("corr", "change_a", "change_b")
