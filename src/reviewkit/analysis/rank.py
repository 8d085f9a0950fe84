"""Rank units among their peers, this year and last year, per KPI and overall."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._pandas import inferred
from ..numbers import excel_value
from ._common import TEXT, frame_of, kpi_table, text_array, total_units
from .compare import _achievement, compare

#: ``kpi`` value of the overall (weighted achievement) rows in ``rank()``'s output
OVERALL = "_overall"

COLUMNS = ["unit", "kpi", "name", "value", "value_ly", "score", "score_ly", "rank", "rank_ly",
           "rank_change", "n_units", "n_units_ly"]


def _as_excel(values: np.ndarray) -> np.ndarray:
    """``values`` as Excel compares them: at 15 significant digits (``numbers.excel_value``), so
    0.108 and 0.1080000000000001 tie in the engine as in the spreadsheet's rank formulas."""
    return np.array([excel_value(v) for v in values.tolist()], dtype="float64")


def _min_rank(key: pd.Series, groups: pd.Series) -> pd.Series:
    """Rank by ``key`` descending within groups: ties share the best rank ("min"); NaN -> NA.
    Values equal at 15 significant digits tie."""
    values = _as_excel(key.to_numpy(dtype="float64"))
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
    Total rows (合计 / 小计 / Total …, ``_common.is_total_name``) are left out.
    """
    k = kpi_table(kpis)
    c = compare(scorecard, kpis, lower_rule=lower_rule, cap=cap)
    return _rank(k, c, lower_rule, cap)


def _min_ranks(keys: list[float], groups: list) -> list:
    """``_min_rank`` on plain lists: ranks (None for NaN) by key descending within groups."""
    keys = [excel_value(k) for k in keys]
    members: dict = {}
    for key, g in zip(keys, groups):
        if key == key:
            members.setdefault(g, []).append(key)
    return [None if key != key else 1 + sum(1 for v in members[g] if v > key)
            for key, g in zip(keys, groups)]


def _int_array(values: list) -> pd.arrays.IntegerArray:
    na = np.array([v is None for v in values], dtype=bool)
    return pd.arrays.IntegerArray(np.array([0 if v is None else v for v in values], dtype="int64"),
                                  na)


def _rank(k: pd.DataFrame, c: pd.DataFrame, lower_rule: str, cap) -> pd.DataFrame:
    """``rank`` from the validated KPI table ``k`` and ``compare``'s output ``c``.

    The rows are few (units x KPIs), so ranks, counts and the overall scores are computed on
    plain lists and the result is one DataFrame (pandas' per-call overhead dominated).
    """
    totals = total_units(c["unit"].tolist()) if not c.empty else ()
    if totals:  # 合计 / 小计 / Total rows are not peers: they are left out of every rank
        c = c[~c["unit"].isin(list(totals))].reset_index(drop=True)
    if c.empty:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in COLUMNS})
    if not c["kpi"].dtype == object or not c["unit"].dtype == object:
        return _rank_frames(k, c, lower_rule, cap)
    pos = k.index.get_indexer(c["kpi"])
    direction = c["direction"].to_numpy(dtype=object)
    a = c["actual"].to_numpy(dtype="float64")
    ly = c["last_year"].to_numpy(dtype="float64")
    cap_v = k["cap"].to_numpy()[pos]
    if cap is not None:
        cap_v = np.where(np.isnan(cap_v), float(cap), cap_v)
    ach_ly, raw_ly = _achievement(ly, c["target"].to_numpy(dtype="float64"), direction,
                                  lower_rule, k["range_low"].to_numpy()[pos],
                                  k["range_high"].to_numpy()[pos], cap_v)
    raw = c["achievement_uncapped"].to_numpy(dtype="float64")
    # the ranking key: bigger is better
    key = np.where(direction == "higher", a, np.where(direction == "lower", -a, raw))
    key_ly = np.where(direction == "higher", ly, np.where(direction == "lower", -ly, raw_ly))
    score = c["achievement"].to_numpy(dtype="float64")
    units = c["unit"].tolist()
    kpis = c["kpi"].tolist()
    rank_ = _min_ranks(key.tolist(), kpis)
    rank_ly = _min_ranks(key_ly.tolist(), kpis)
    n_of: dict = {}
    n_ly_of: dict = {}
    for kk, v, vly in zip(kpis, a.tolist(), ly.tolist()):
        n_of[kk] = n_of.get(kk, 0) + (v == v)
        n_ly_of[kk] = n_ly_of.get(kk, 0) + (vly == vly)

    w = k["weight"].to_numpy()[pos]
    # pandas' groupby sum (compensated, its own bits): kept as the one pandas step
    tmp = pd.DataFrame({"unit": c["unit"],
                        "ws": np.where(np.isnan(score), 0.0, score * w),
                        "w": np.where(np.isnan(score), 0.0, w),
                        "ws_ly": np.where(np.isnan(ach_ly), 0.0, ach_ly * w),
                        "w_ly": np.where(np.isnan(ach_ly), 0.0, w)})
    g = tmp.groupby("unit", sort=False).sum()
    overall_units = g.index.tolist()
    gw, gws, gw_ly, gws_ly = (g[col].tolist() for col in ("w", "ws", "w_ly", "ws_ly"))
    o_score = [s / t if t > 0 else np.nan for s, t in zip(gws, gw)]
    o_score_ly = [s / t if t > 0 else np.nan for s, t in zip(gws_ly, gw_ly)]
    o_rank = _min_ranks(o_score, [0] * len(o_score))
    o_rank_ly = _min_ranks(o_score_ly, [0] * len(o_score))
    n_o = sum(1 for v in o_score if v == v)
    n_o_ly = sum(1 for v in o_score_ly if v == v)
    no = len(overall_units)
    ranks = rank_ + o_rank
    ranks_ly = rank_ly + o_rank_ly
    names = c["name"]
    name_values = names.tolist() + ["综合得分 / overall score"] * no
    if names.dtype == object:
        name_column = np.array(name_values, dtype=object)
    elif names.dtype == TEXT:  # strings and NaN: pandas infers str again
        name_column = text_array(name_values)
    else:
        name_column = inferred(np.array(name_values, dtype=object))
    # the columns in their output dtypes, one DataFrame
    out = {
        "unit": np.array(units + overall_units, dtype=object),
        "kpi": np.array(kpis + [OVERALL] * no, dtype=object),
        "name": name_column,
        "value": np.concatenate([a, o_score]), "value_ly": np.concatenate([ly, o_score_ly]),
        "score": np.concatenate([score, o_score]),
        "score_ly": np.concatenate([ach_ly, o_score_ly]),
        "rank": _int_array(ranks), "rank_ly": _int_array(ranks_ly),
        "rank_change": _int_array([None if r is None or q is None else q - r
                                   for r, q in zip(ranks, ranks_ly)]),
        "n_units": _int_array([n_of[kk] for kk in kpis] + [n_o] * no),
        "n_units_ly": _int_array([n_ly_of[kk] for kk in kpis] + [n_o_ly] * no),
    }
    return frame_of(out, len(units) + no)


def _rank_frames(k: pd.DataFrame, c: pd.DataFrame, lower_rule: str, cap) -> pd.DataFrame:
    """``_rank`` with pandas operations (the reference, kept for unusual column dtypes)."""
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
