"""Rank units among their peers, this year and last year, per KPI and overall."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import kpi_table
from .compare import _achievement, compare

#: ``kpi`` value of the overall (weighted achievement) rows in ``rank()``'s output
OVERALL = "_overall"

COLUMNS = ["unit", "kpi", "name", "value", "value_ly", "score", "score_ly", "rank", "rank_ly",
           "rank_change", "n_units", "n_units_ly"]


def _min_rank(key: pd.Series, groups: pd.Series) -> pd.Series:
    """Rank by ``key`` descending within groups: ties share the best rank ("min"); NaN -> NA."""
    values = key.to_numpy(dtype="float64")
    codes, _ = pd.factorize(groups, sort=False)
    out = np.zeros(len(values), dtype="int64")
    na = np.isnan(values) | (codes < 0)
    for code in np.unique(codes[codes >= 0]):
        members = np.flatnonzero((codes == code) & ~na)
        v = values[members]
        ordered = np.sort(v)
        # 1 + how many peers are strictly bigger: ties share the best rank
        out[members] = 1 + len(v) - np.searchsorted(ordered, v, side="right")
    return pd.Series(pd.arrays.IntegerArray(out, na), index=key.index)


def rank(scorecard: pd.DataFrame, kpis: pd.DataFrame, *, lower_rule: str = "linear",
         cap: float | None = None) -> pd.DataFrame:
    """Per KPI, each unit's rank among peers this year and last year; plus overall rows.

    Direction-aware: "higher" ranks the largest actual first, "lower" the smallest, "range"
    the one closest to the band. Ties share the best rank (pandas ``method="min"``), so the
    ranks of n units are a permutation-with-ties of 1..n. ``rank_change = rank_ly - rank``
    (positive = moved up). Overall rows (``kpi == OVERALL``) rank the weighted mean
    achievement (weights from ``kpis``, over the KPIs a unit has); last year's overall score
    measures last year's actuals against this year's targets, the only targets we have.
    """
    k = kpi_table(kpis)
    c = compare(scorecard, kpis, lower_rule=lower_rule, cap=cap)
    return _rank(k, c, lower_rule, cap)


def _rank(k: pd.DataFrame, c: pd.DataFrame, lower_rule: str, cap) -> pd.DataFrame:
    """``rank`` from the validated KPI table ``k`` and ``compare``'s output ``c``."""
    if c.empty:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in COLUMNS})
    kk = k.loc[c["kpi"]].reset_index(drop=True)
    direction = c["direction"].to_numpy(dtype=object)
    a = c["actual"].to_numpy(dtype="float64")
    ly = c["last_year"].to_numpy(dtype="float64")
    cap_v = kk["cap"].to_numpy().copy()
    if cap is not None:
        cap_v = np.where(np.isnan(cap_v), float(cap), cap_v)
    ach_ly, raw_ly = _achievement(ly, c["target"].to_numpy(dtype="float64"), direction,
                                  lower_rule, kk["range_low"].to_numpy(),
                                  kk["range_high"].to_numpy(), cap_v)
    raw = c["achievement_uncapped"].to_numpy(dtype="float64")
    # the ranking key: bigger is better
    key = np.where(direction == "higher", a, np.where(direction == "lower", -a, raw))
    key_ly = np.where(direction == "higher", ly, np.where(direction == "lower", -ly, raw_ly))
    # columns collected in a dict, one DataFrame below (no per-column inserts)
    per = {"unit": c["unit"], "kpi": c["kpi"], "name": c["name"], "value": a,
           "value_ly": ly, "score": c["achievement"].to_numpy(dtype="float64"),
           "score_ly": ach_ly}
    per["rank"] = _min_rank(pd.Series(key), per["kpi"])
    per["rank_ly"] = _min_rank(pd.Series(key_ly), per["kpi"])
    # peers with a value, per KPI (the count of non-NaN values of the row's KPI group)
    codes, _ = pd.factorize(per["kpi"], sort=False)
    for col, vals in (("n_units", a), ("n_units_ly", ly)):
        counts = np.bincount(codes[codes >= 0], weights=~np.isnan(vals[codes >= 0]),
                             minlength=codes.max() + 1 if len(codes) else 0)
        per[col] = pd.array(np.where(codes >= 0, counts[codes] if len(codes) else 0, 0)
                            .astype("int64"), dtype="Int64")

    w = kk["weight"].to_numpy()
    tmp = pd.DataFrame({"unit": per["unit"],
                        "ws": np.where(np.isnan(per["score"]), 0.0, per["score"] * w),
                        "w": np.where(np.isnan(per["score"]), 0.0, w),
                        "ws_ly": np.where(np.isnan(ach_ly), 0.0, ach_ly * w),
                        "w_ly": np.where(np.isnan(ach_ly), 0.0, w)})
    g = tmp.groupby("unit", sort=False).sum()
    score = np.where(g["w"] > 0, g["ws"] / g["w"].where(g["w"] > 0, 1.0), np.nan)
    score_ly = np.where(g["w_ly"] > 0, g["ws_ly"] / g["w_ly"].where(g["w_ly"] > 0, 1.0), np.nan)
    one_group = pd.Series([OVERALL] * len(score))
    overall = pd.DataFrame({
        "unit": g.index.to_numpy(dtype=object), "kpi": OVERALL, "name": "综合得分 / overall score",
        "score": score, "score_ly": score_ly, "value": score, "value_ly": score_ly,
        "rank": _min_rank(pd.Series(score), one_group),
        "rank_ly": _min_rank(pd.Series(score_ly), one_group),
        "n_units": pd.array([int(np.count_nonzero(~np.isnan(score)))] * len(score), dtype="Int64"),
        "n_units_ly": pd.array([int(np.count_nonzero(~np.isnan(score_ly)))] * len(score),
                               dtype="Int64")})
    per = pd.DataFrame(per)
    out = pd.concat([per, overall[per.columns]], ignore_index=True)
    out["rank_change"] = (out["rank_ly"] - out["rank"]).astype("Int64")
    return out[COLUMNS]
