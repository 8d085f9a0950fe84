"""Rank units among their peers, this year and last year, per KPI and overall."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._pandas import inferred
from ..numbers import excel_value
from ._common import TEXT, arrays_of, frame_of, kpi_table, text_array, total_units
from .compare import _achievement, compare

#: ``kpi`` value of the overall (weighted achievement) rows in ``rank()``'s output
OVERALL = "_overall"

COLUMNS = ["unit", "kpi", "name", "value", "value_ly", "score", "score_ly", "rank", "rank_ly",
           "rank_change", "n_units", "n_units_ly"]


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
    """Ranks (None for NaN) by key descending within groups: ties share the best rank ("min");
    values equal at 15 significant digits (as Excel compares them) tie."""
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


def _rank(k: pd.DataFrame, c: pd.DataFrame, lower_rule: str, cap,
          peer_ranks: pd.DataFrame | None = None) -> pd.DataFrame:
    """``rank`` from the validated KPI table ``k`` and ``compare``'s output ``c``.

    The rows are few (units x KPIs), so ranks, counts and the overall scores are computed on
    plain lists and the result is one DataFrame (pandas' per-call overhead dominated).

    ``peer_ranks`` (kpi, rank, n, rank_ly, rank_change; ``split.read_peer_ranks``): the ranks of
    a single-unit review's unit among a larger set of units (a department workbook's master);
    they replace the ranks computed here, and ``attrs["peer_ranks"]`` says so (a rank formula
    would say 1 of 1). A review of several units ranks them among themselves.
    """
    totals = total_units(c["unit"].tolist()) if not c.empty else ()
    if totals:  # 合计 / 小计 / Total rows are not peers: they are left out of every rank
        c = c[~c["unit"].isin(list(totals))].reset_index(drop=True)
    if c.empty:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in COLUMNS})
    cc, kc = arrays_of(c), arrays_of(k)
    pos = k.index.get_indexer(cc["kpi"])
    direction = np.asarray(cc["direction"], dtype=object)
    a = np.asarray(cc["actual"], dtype="float64")
    ly = np.asarray(cc["last_year"], dtype="float64")
    cap_v = kc["cap"][pos]
    if cap is not None:
        cap_v = np.where(np.isnan(cap_v), float(cap), cap_v)
    ach_ly, raw_ly = _achievement(ly, np.asarray(cc["target"], dtype="float64"), direction,
                                  lower_rule, kc["range_low"][pos], kc["range_high"][pos], cap_v)
    raw = np.asarray(cc["achievement_uncapped"], dtype="float64")
    # the ranking key: bigger is better
    key = np.where(direction == "higher", a, np.where(direction == "lower", -a, raw))
    key_ly = np.where(direction == "higher", ly, np.where(direction == "lower", -ly, raw_ly))
    score = np.asarray(cc["achievement"], dtype="float64")
    units = cc["unit"].tolist()
    kpis = cc["kpi"].tolist()
    rank_ = _min_ranks(key.tolist(), kpis)
    rank_ly = _min_ranks(key_ly.tolist(), kpis)
    n_of: dict = {}
    n_ly_of: dict = {}
    for kk, v, vly in zip(kpis, a.tolist(), ly.tolist()):
        n_of[kk] = n_of.get(kk, 0) + (v == v)
        n_ly_of[kk] = n_ly_of.get(kk, 0) + (vly == vly)

    w = kc["weight"][pos]
    # pandas' groupby sum (its own summation, its own bits): kept as the one pandas step
    g = pd.DataFrame(np.column_stack([np.where(np.isnan(score), 0.0, score * w),
                                      np.where(np.isnan(score), 0.0, w),
                                      np.where(np.isnan(ach_ly), 0.0, ach_ly * w),
                                      np.where(np.isnan(ach_ly), 0.0, w)])
                     ).groupby(cc["unit"], sort=False).sum()
    overall_units = g.index.tolist()
    gws, gw, gws_ly, gw_ly = g.to_numpy().T.tolist()
    o_score = [s / t if t > 0 else np.nan for s, t in zip(gws, gw)]
    o_score_ly = [s / t if t > 0 else np.nan for s, t in zip(gws_ly, gw_ly)]
    o_rank = _min_ranks(o_score, [0] * len(o_score))
    o_rank_ly = _min_ranks(o_score_ly, [0] * len(o_score))
    n_o = sum(1 for v in o_score if v == v)
    n_o_ly = sum(1 for v in o_score_ly if v == v)
    no = len(overall_units)
    columns = {"rank": rank_ + o_rank, "rank_ly": rank_ly + o_rank_ly}
    columns["rank_change"] = [None if r is None or q is None else q - r
                              for r, q in zip(columns["rank"], columns["rank_ly"])]
    columns["n_units"] = [n_of[kk] for kk in kpis] + [n_o] * no
    columns["n_units_ly"] = [n_ly_of[kk] for kk in kpis] + [n_o_ly] * no
    peers = peer_ranks is not None and not peer_ranks.empty and len(set(units + overall_units)) == 1
    if peers:
        pr = arrays_of(peer_ranks)
        all_kpis = kpis + [OVERALL] * no
        for col, src in (("rank", "rank"), ("rank_ly", "rank_ly"), ("rank_change", "rank_change"),
                         ("n_units", "n"), ("n_units_ly", "n")):
            peer = dict(zip(pr["kpi"].tolist(), pr[src].tolist()))
            columns[col] = [_whole(peer[kk]) if kk in peer else v
                            for kk, v in zip(all_kpis, columns[col])]
    names = cc["name"]
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
        **{col: _int_array(values) for col, values in columns.items()},
    }
    ranked = frame_of(out, len(units) + no)
    if peers:
        ranked.attrs["peer_ranks"] = True
    return ranked


def _whole(value) -> int | None:
    """A peer rank or count as an int (None when blank)."""
    return None if value is None or value != value else int(value)
