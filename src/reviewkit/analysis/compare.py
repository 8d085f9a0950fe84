"""Compare every KPI of every unit with its anchors: target, history, outside benchmarks.

``compare`` returns one row per unit x KPI. All rules that could divide by zero are spelled
out (see docs/analysis.md); instead of an error or an infinity they give NaN plus a ``note``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import BENCHMARKS, THRESHOLD_DIGITS, arrays_of, frame_of, kpi_table, safe_div, score_columns, text_array

LOWER_RULES = ("linear", "inverse")
#: upper bound of the "inverse" lower-is-better rule when no cap is set (target/actual explodes
#: as actual approaches 0)
INVERSE_BOUND = 2.0

COLUMNS = [
    "unit", "kpi", "name", "kpi_unit", "direction", "aggregation", "is_percent", "number_format",
    "weight", "target", "actual", "last_year", "year_before",
    "achievement", "achievement_uncapped", "gap", "gap_pct", "gap_pp",
    "change_ly", "change_ly_pct", "change_ly_pp", "change_ly_nm", "change_ly_favourable",
    "change_prev", "change_prev_pct", "change_prev_pp", "change_prev_nm",
    "change_2y", "change_2y_pct", "trend",
    "industry_avg", "competitor", "industry_top",
    "gap_industry_avg", "gap_competitor", "gap_industry_top",
    "beat_industry_avg", "beat_competitor", "beat_industry_top",
    "status", "note",
]


def achievement(actual, target, direction="higher", *, lower_rule: str = "linear",
                range_low=np.nan, range_high=np.nan, cap=np.nan):
    """Direction-aware achievement rate (1.0 = on target). Scalars or arrays.

    * higher: ``actual / target``; for a negative target ``1 + (actual - target) / |target|``
      (same value for positive targets, still increasing in actual).
    * lower, ``lower_rule="linear"``: ``2 - actual / target``; negative target
      ``1 - (actual - target) / |target|``. ``"inverse"``: ``target / actual``, bounded by ``cap``
      or 2.0 (it would explode as actual -> 0).
    * range: 1.0 inside ``[range_low, range_high]``, else ``max(0, 1 - distance / |bound|)``
      (distance to the nearest bound; the band width is used when that bound is 0).
    * target 0 (or missing, for higher/lower) gives NaN.
    """
    values, _ = _achievement(np.atleast_1d(np.asarray(actual, dtype="float64")),
                             np.atleast_1d(np.asarray(target, dtype="float64")),
                             np.atleast_1d(np.asarray(direction, dtype=object)), lower_rule,
                             np.atleast_1d(np.asarray(range_low, dtype="float64")),
                             np.atleast_1d(np.asarray(range_high, dtype="float64")),
                             np.atleast_1d(np.asarray(cap, dtype="float64")))
    return float(values[0]) if np.ndim(actual) == 0 and np.ndim(target) == 0 else values


def _achievement(a, t, direction, lower_rule, low, high, cap):
    """Vectorised core: returns (capped achievement, uncapped achievement)."""
    if lower_rule not in LOWER_RULES:
        raise InputError("unknown lower_rule", value=lower_rule, expected=" | ".join(LOWER_RULES))
    a, t, direction, low, high, cap = np.broadcast_arrays(a, t, direction, low, high, cap)
    out = np.full(a.shape, np.nan)
    absdiff = safe_div(a - t, np.abs(t))
    higher = direction == "higher"
    lower = direction == "lower"
    rng = direction == "range"
    out[higher] = 1.0 + absdiff[higher]
    if lower_rule == "linear":
        out[lower] = 1.0 - absdiff[lower]
    else:
        bound = np.where(np.isnan(cap), INVERSE_BOUND, cap)
        # a missing actual has no achievement (NaN), not the bound of an actual <= 0
        inv = np.where(np.isnan(a), np.nan, np.where(a > 0, safe_div(t, a), bound))
        inv = np.minimum(inv, bound)
        pos = lower & (t > 0)
        out[pos] = inv[pos]
        neg = lower & (t < 0)
        out[neg] = 1.0 - absdiff[neg]
    if rng.any():
        lo = np.where(np.isnan(low), -np.inf, low)
        hi = np.where(np.isnan(high), np.inf, high)
        width = np.where(np.isfinite(hi - lo) & (hi - lo > 0), hi - lo, 1.0)
        below = a < lo
        above = a > hi
        bound_v = np.where(below, lo, np.where(above, hi, 0.0))
        dist = np.where(below, lo - a, np.where(above, a - hi, 0.0))
        ref = np.where(np.isfinite(bound_v) & (bound_v != 0), np.abs(bound_v), width)
        val = np.where(below | above, np.maximum(0.0, 1.0 - dist / ref), 1.0)
        val = np.where(np.isnan(a), np.nan, val)
        out[rng] = val[rng]
    uncapped = out.copy()
    capped = np.where(~np.isnan(cap) & (out > cap), cap, out)
    return capped, uncapped


def _step(new, old):
    d = new - old
    tol = 1e-12 * np.maximum(np.abs(new), np.abs(old))
    return np.where(np.isnan(d), "n/a", np.where(d > tol, "up", np.where(d < -tol, "down", "flat")))


def _beats(a, b, direction, low, high):
    """Is actual better than benchmark b? nullable boolean."""
    lo = np.where(np.isnan(low), -np.inf, low)
    hi = np.where(np.isnan(high), np.inf, high)
    dist_a = np.maximum(lo - a, 0) + np.maximum(a - hi, 0)
    dist_b = np.maximum(lo - b, 0) + np.maximum(b - hi, 0)
    res = np.where(direction == "higher", a > b, np.where(direction == "lower", a < b,
                                                          dist_a < dist_b))
    return flags(res, np.isnan(a) | np.isnan(b))


def flags(values, missing) -> np.ndarray | pd.arrays.BooleanArray:
    """A yes/no result column: plain ``bool`` when every row has an answer, else pandas'
    nullable ``boolean`` (``pd.NA`` where one is missing; ``.fillna(False)`` before ``astype(bool)``)."""
    missing = np.asarray(missing, dtype=bool)
    if not missing.any():
        return np.asarray(values, dtype=bool)
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), missing)


def compare(scorecard: pd.DataFrame, kpis: pd.DataFrame, *, lower_rule: str = "linear",
            cap: float | None = None) -> pd.DataFrame:
    """One row per unit x KPI with achievement, gaps, history changes, benchmarks and RAG status.

    ``cap`` caps every achievement whose KPI row has no ``cap`` of its own (the KPI's cap wins).
    Output columns are listed in ``COLUMNS`` and documented in docs/analysis.md.
    """
    k = kpi_table(kpis)
    s = score_columns(scorecard, k)
    _check_options(lower_rule, cap)
    return _compare(s, k, lower_rule, cap)


def _check_options(lower_rule: str, cap) -> None:
    if cap is not None and not (isinstance(cap, (int, float)) and cap > 0):
        raise InputError("cap must be a positive number", value=cap, expected="e.g. 1.5 or None")
    if lower_rule not in LOWER_RULES:
        raise InputError("unknown lower_rule", value=lower_rule, expected=" | ".join(LOWER_RULES))


def _compare(score: dict[str, np.ndarray], k: pd.DataFrame, lower_rule: str, cap) -> pd.DataFrame:
    """``compare`` of a validated scorecard (``score_columns``) and KPI table ``k`` (options checked)."""
    n = len(score["unit"])
    if not n:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    # each scorecard row's KPI columns by position (k.loc on the keys copies the whole table)
    pos = k.index.get_indexer(score["kpi"])
    kc = arrays_of(k)

    def kcol(c):
        values = kc[c]
        return (values if isinstance(values, np.ndarray) else values.to_numpy())[pos]

    def kseries(c):  # a KPI column as an output column, with its dtype
        dtype = kc[c].dtype
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return pd.array(kcol(c), dtype=dtype)  # what pd.Series(values, dtype=dtype) holds
        return kcol(c).astype(dtype, copy=False)

    # the columns are collected in a dict and become one DataFrame at the end (one
    # construction instead of ~40 column inserts), each already in its output dtype
    out = {"unit": score["unit"], "kpi": score["kpi"], "name": kseries("name"),
           "kpi_unit": kseries("unit"), "direction": kseries("direction"),
           "aggregation": kseries("aggregation"), "is_percent": kseries("is_percent"),
           "number_format": kseries("number_format"), "weight": kseries("weight")}
    for col in ("target", "actual", "last_year", "year_before"):
        out[col] = score[col]
    a = score["actual"]
    t = score["target"]
    ly = score["last_year"]
    yb = score["year_before"]
    direction = kcol("direction").astype(object)
    low = kcol("range_low")
    high = kcol("range_high")
    cap_v = kcol("cap").copy()
    if cap is not None:
        cap_v = np.where(np.isnan(cap_v), float(cap), cap_v)
    pp = kcol("is_percent").astype(bool) | np.array(
        [g == "ratio" and u in ("", "%") for g, u in zip(kcol("aggregation"), kcol("unit"))], dtype=bool)
    notes: list[list[str]] = [[] for _ in range(n)]

    ach, raw = _achievement(a, t, direction, lower_rule, low, high, cap_v)
    out["achievement"] = ach
    out["achievement_uncapped"] = raw
    gap = a - t
    out["gap"] = gap
    out["gap_pct"] = safe_div(gap, np.abs(t))
    out["gap_pp"] = np.where(pp, gap * 100, np.nan)

    # history
    out["change_ly"] = a - ly
    out["change_ly_pct"] = safe_div(a - ly, ly, positive_only=True)
    out["change_ly_pp"] = np.where(pp, (a - ly) * 100, np.nan)
    out["change_ly_nm"] = ~np.isnan(a) & (ly <= 0)
    fav = np.where(direction == "lower", a < ly, a > ly)
    if (direction == "range").any():
        lo = np.where(np.isnan(low), -np.inf, low)
        hi = np.where(np.isnan(high), np.inf, high)
        da = np.maximum(lo - a, 0) + np.maximum(a - hi, 0)
        dl = np.maximum(lo - ly, 0) + np.maximum(ly - hi, 0)
        fav = np.where(direction == "range", da < dl, fav)
    out["change_ly_favourable"] = flags(fav, np.isnan(a) | np.isnan(ly) | (a == ly))
    out["change_prev"] = ly - yb
    out["change_prev_pct"] = safe_div(ly - yb, yb, positive_only=True)
    out["change_prev_pp"] = np.where(pp, (ly - yb) * 100, np.nan)
    out["change_prev_nm"] = ~np.isnan(ly) & (yb <= 0)
    out["change_2y"] = a - yb
    out["change_2y_pct"] = safe_div(a - yb, yb, positive_only=True)
    out["trend"] = np.array([f"{x}-{y}" for x, y in zip(_step(ly, yb).tolist(), _step(a, ly).tolist())],
                            dtype=object)

    # outside anchors
    for b in BENCHMARKS:
        out[b] = score[b]
    for b in BENCHMARKS:
        bv = score[b]
        out[f"gap_{b}"] = a - bv
        out[f"beat_{b}"] = _beats(a, bv, direction, low, high)

    # status
    r = np.round(ach, THRESHOLD_DIGITS)
    green = kcol("green")
    amber = kcol("amber")
    band = kcol("neutral_band")
    status = np.where(r >= green, "green", np.where(r >= amber, "amber", "red")).astype(object)
    neutral = ~np.isnan(band) & (np.abs(r - 1.0) <= band + 10.0 ** -THRESHOLD_DIGITS)
    status[neutral] = "neutral"
    for i in range(n):
        d = direction[i]
        if np.isnan(a[i]):
            status[i] = "grey"
            notes[i].append("no actual")
            continue
        if d != "range":
            if np.isnan(t[i]):
                status[i] = "grey"
                notes[i].append("no target")
            elif t[i] == 0:
                good = a[i] >= 0 if d == "higher" else a[i] <= 0
                status[i] = "green" if good else "red"
                notes[i].append("target is 0: achievement not defined, status from the sign of "
                                "the gap")
            elif t[i] < 0:
                notes[i].append("negative target: achievement = 1 "
                                f"{'+' if d == 'higher' else '-'} (actual - target) / |target|")
            elif d == "lower" and lower_rule == "inverse" and (a[i] <= 0 or raw[i] >=
                                                                (cap_v[i] if not np.isnan(cap_v[i])
                                                                 else INVERSE_BOUND)):
                notes[i].append("inverse rule bounded")
        if not np.isnan(raw[i]) and ach[i] < raw[i]:
            notes[i].append(f"achievement capped at {ach[i]:.0%}")
        if not np.isnan(ly[i]) and ly[i] <= 0:
            notes[i].append("n.m.: last year <= 0, no % change")
        if not np.isnan(yb[i]) and yb[i] <= 0 and not np.isnan(ly[i]):
            notes[i].append("n.m.: year before <= 0, no % change")
    out["status"] = text_array(status)
    out["note"] = text_array(["; ".join(n) for n in notes])
    return frame_of({c: out[c] for c in COLUMNS}, n)
