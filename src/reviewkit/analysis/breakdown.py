"""Which part moved: segment contributions, Kitagawa mix/rate effects, drill-down, periods.

Additive KPIs (aggregation "sum") split exactly: segment changes add up to the total change.
Ratio KPIs (numerator / denominator, e.g. renewal rate = renewed / due; "average" KPIs are
measure / row count) use the symmetric Kitagawa decomposition, per segment i with denominator
share w and rate r, bars meaning the mean of the two years:

    mix_effect_i  = (w1_i - w0_i) * (mean(r0_i, r1_i) - mean(R0, R1))
    rate_effect_i = mean(w0_i, w1_i) * (r1_i - r0_i)

and ``sum(mix_effect + rate_effect) == R1 - R0`` with no residual (centering the mix term on the
overall mean rate changes no sum, because the shares' changes add to 0, but makes each
segment's mix effect readable: growing a better-than-average segment helps).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import as_list, frame_of, resolve_kpi, safe_div, text_array
from ._facts import (ALL_LABEL, OTHER_LABEL, Prepared, aggregate, combine, node_values, prepare,
                     value_spec)

SEGMENT_COLUMNS = [
    "kpi", "dimension", "segment", "base", "current", "change", "change_pct",
    "num_base", "den_base", "num_current", "den_current", "share_base", "share_current",
    "mix_effect", "rate_effect", "contribution", "contribution_pp", "share_of_change", "driver",
]
TREE_COLUMNS = [
    "level", "dimension", "segment", "path", "parent", "drilled", "is_other", "dim_score",
    "base", "current", "change", "change_pct", "num_base", "den_base", "num_current",
    "den_current", "share_base", "share_current", "mix_effect", "rate_effect", "contribution",
    "contribution_pp", "share_of_change", "share_of_parent",
]
FOLLOW = ("worst", "driver")


# --------------------------------------------------------------------------- decomposition
def _decompose(n0, n1, d0, d1) -> dict[str, np.ndarray | float]:
    """Per-segment figures for aggregated arrays. d0/d1 None means additive."""
    if d0 is None:
        b, c = n0, n1
        B, C = float(b.sum()), float(c.sum())
        return {"base": b, "current": c, "change": c - b,
                "change_pct": safe_div(c - b, b, positive_only=True),
                "num_base": np.full(len(b), np.nan), "den_base": np.full(len(b), np.nan),
                "num_current": np.full(len(b), np.nan), "den_current": np.full(len(b), np.nan),
                "share_base": safe_div(b, B, positive_only=True),
                "share_current": safe_div(c, C, positive_only=True),
                "mix_effect": np.full(len(b), np.nan), "rate_effect": np.full(len(b), np.nan),
                "effect": c - b, "total_base": B, "total_current": C, "total_change": C - B,
                "size": np.abs(b) + np.abs(c), "expected": b * ((C - B) / B if B != 0 else 0.0)}
    D0, D1 = float(d0.sum()), float(d1.sum())
    if D0 <= 0 or D1 <= 0:
        raise InputError("the ratio's denominator adds up to 0 in one year, so the rate is not "
                         "defined", value=(D0, D1), expected="a positive denominator in both years")
    w0, w1 = d0 / D0, d1 / D1
    r0, r1 = safe_div(n0, d0), safe_div(n1, d1)
    # a segment present in one year only keeps that year's rate: its change is all mix
    r0 = np.where(d0 > 0, r0, np.where(d1 > 0, r1, 0.0))
    r1 = np.where(d1 > 0, r1, r0)
    R0, R1 = float((w0 * r0).sum()), float((w1 * r1).sum())
    rbar, wbar, Rbar = (r0 + r1) / 2, (w0 + w1) / 2, (R0 + R1) / 2
    mix = (w1 - w0) * (rbar - Rbar)
    rate = wbar * (r1 - r0)
    return {"base": np.where(d0 > 0, r0, np.nan), "current": np.where(d1 > 0, r1, np.nan),
            "change": np.where((d0 > 0) & (d1 > 0), r1 - r0, np.nan),
            "change_pct": np.where((d0 > 0) & (d1 > 0), safe_div(r1 - r0, r0, positive_only=True),
                                   np.nan),
            "num_base": n0, "den_base": d0, "num_current": n1, "den_current": d1,
            "share_base": w0, "share_current": w1, "mix_effect": mix, "rate_effect": rate,
            "effect": mix + rate, "total_base": R0, "total_current": R1, "total_change": R1 - R0,
            "size": w0 + w1, "expected": wbar * (R1 - R0), "wbar": wbar}


def _time_bound(base, current) -> bool:
    """True when most of an additive dimension's size sits in segments found in one year only.

    A signing cohort splits revenue that way: this year's cohorts have no base and last year's
    new customers are no longer new, so the "change" of each segment is a relabelling, not a
    driver. Such a dimension is chosen for an additive KPI only when no other one is left.
    """
    base, current = np.abs(base), np.abs(current)
    size = base + current
    total = size.sum()
    if total <= 0:
        return False
    one_year = (base == 0) | (current == 0)
    return bool(size[one_year].sum() / total > 0.5)


def _group_small(aggs, labels: np.ndarray, min_share: float):
    """Merge segments whose size share is below ``min_share`` into one "Other" segment.

    Returns (aggs, labels, origin) where origin[i] is the original code or -1 for Other.
    """
    n0, n1, d0, d1 = aggs
    size = (np.abs(n0) + np.abs(n1)) if d0 is None else (d0 + d1)
    total = size.sum()
    present = size > 0 if d0 is not None else (n0 != 0) | (n1 != 0) | (size > 0)
    if d0 is None:
        present = np.ones(len(n0), dtype=bool) if total == 0 else present
    codes = np.flatnonzero(present)
    small = np.zeros(len(size), dtype=bool)
    if min_share and total > 0:
        small = present & (size / total < min_share)
        if small.sum() < 2:
            small[:] = False
    keep = codes[~small[codes]]
    arrays = [a for a in (n0, n1, d0, d1)]
    out = []
    for a in arrays:
        if a is None:
            out.append(None)
            continue
        v = a[keep]
        if small.any():
            v = np.append(v, a[small].sum())
        out.append(v)
    lab = labels[keep]
    origin = keep.astype(np.int64)
    if small.any():
        lab = np.append(lab, OTHER_LABEL)
        origin = np.append(origin, -1)
    return tuple(out), lab, origin


def _spec_and_prepare(facts, kpi, kpis, dims, base_year, current_year):
    row = resolve_kpi(kpi, kpis)
    spec = value_spec(row)
    return prepare(facts, spec, dims, base_year, current_year)


def _frame(parts: dict, columns: list[str], n: int) -> pd.DataFrame:
    return pd.DataFrame({c: parts.get(c, np.full(n, np.nan)) for c in columns})


# --------------------------------------------------------------------------- breakdown
def breakdown(facts: pd.DataFrame, kpi, kpis: pd.DataFrame | None = None, *, by,
              base_year: int | None = None, current_year: int | None = None, top: int = 3,
              min_share: float = 0.0) -> pd.DataFrame:
    """Per-segment change of one KPI between two years, with each segment's contribution.

    ``kpi`` is a key of ``kpis`` or a KPI row; ``by`` one dimension column or a list (the
    segments are then their combinations). Years default to the latest year in ``facts`` and
    the one before. Segments smaller than ``min_share`` (of both years' size) are merged into
    "其他/Other". Rows are sorted by |contribution|; ``driver`` marks the ``top`` largest
    positive ("up") and negative ("down") contributions. Totals are in ``.attrs``.
    """
    dims = as_list(by, "by")
    if not dims:
        raise InputError("breakdown needs at least one dimension in 'by'", value=by,
                         expected="a column name such as 'region'")
    p = _spec_and_prepare(facts, kpi, kpis, dims, base_year, current_year)
    codes, labels = combine(p, dims)
    aggs = aggregate(p, codes, len(labels))
    aggs, labels, _ = _group_small(aggs, labels, min_share)
    return _segments_frame(p, _decompose(*aggs), labels, dims, top)


def _segments_frame(p: Prepared, dec: dict, labels: np.ndarray, dims: list[str],
                    top: int) -> pd.DataFrame:
    n = len(labels)
    parts = dict(dec)
    parts["kpi"] = np.full(n, p.spec.key, dtype=object)
    parts["dimension"] = np.full(n, " / ".join(dims), dtype=object)
    parts["segment"] = labels
    parts["contribution"] = dec["effect"]
    parts["contribution_pp"] = _pp(p, dec["effect"], dec["total_base"])
    parts["share_of_change"] = safe_div(dec["effect"], dec["total_change"]) if n else dec["effect"]
    out = _frame(parts, SEGMENT_COLUMNS, n)
    out["driver"] = ""
    order = np.argsort(out["contribution"].to_numpy())
    for i in order[:top]:
        if out.loc[i, "contribution"] < 0:
            out.loc[i, "driver"] = "down"
    for i in order[::-1][:top]:
        if out.loc[i, "contribution"] > 0:
            out.loc[i, "driver"] = "up"
    out = out.iloc[np.argsort(-np.abs(out["contribution"].to_numpy()), kind="stable")]
    out = out.reset_index(drop=True)
    out.attrs.update(kpi=p.spec.key, kind=p.spec.kind, base_year=p.base_year,
                     current_year=p.current_year, total_base=dec["total_base"],
                     total_current=dec["total_current"], total_change=dec["total_change"],
                     residual=float(dec["total_change"] - np.sum(dec["effect"])))
    return out


def _pp(p: Prepared, effect, total_base):
    """Contribution in percentage points: of last year's total (additive) or of the rate."""
    effect = np.asarray(effect, dtype="float64")
    if p.spec.kind == "sum":
        return safe_div(effect * 100, total_base, positive_only=True)
    if p.spec.is_percent:
        return effect * 100
    return np.full(effect.shape, np.nan)


# --------------------------------------------------------------------------- drilldown
def drilldown(facts: pd.DataFrame, kpi, kpis: pd.DataFrame | None = None, *, dims,
              depth: int = 3, min_share: float = 0.05, base_year: int | None = None,
              current_year: int | None = None, follow: str = "worst") -> pd.DataFrame:
    """Find where a KPI's change comes from, one dimension at a time.

    At each level every unused dimension is split (segments under ``min_share`` of the node's
    size grouped into "其他/Other") and scored by its most deviating segment: the largest
    |contribution - contribution if the change were spread evenly| (additive: in proportion to
    last year's value; ratio: every segment's rate moving like the node's). The maximum, not the
    sum, so that a dimension with hundreds of small noisy segments (owners) does not win by
    accumulating noise. ``dim_score`` is that deviation as a share of the node's change. The
    best-scoring dimension's segments are listed, and the drill continues into the segment that
    hurt most (``follow="worst"``, direction-aware) or that moved most in the node's direction
    (``follow="driver"``), until ``depth`` levels.

    ``contribution`` is in the KPI's units of the top-level change. For ratio KPIs a node's
    children add up to the node's rate part of its contribution: ``mix_effect`` and
    ``rate_effect`` are within the parent (in its rate units) and contributions are scaled by
    the parents' mean denominator shares.
    """
    dims = _check_drill(dims, depth, min_share, follow)
    p = _spec_and_prepare(facts, kpi, kpis, dims, base_year, current_year)
    rows, used = _drill(p, dims, depth, min_share, follow)
    out = tree_frame(rows)
    out.attrs.update(kpi=p.spec.key, kind=p.spec.kind, base_year=p.base_year,
                     current_year=p.current_year, dims_used=list(used))
    return out


def _check_drill(dims, depth, min_share, follow) -> list[str]:
    """``drilldown``'s argument checks (InputError), in its order; returns dims as a list."""
    dims = as_list(dims, "dims")
    if not dims:
        raise InputError("drilldown needs at least one dimension in 'dims'", value=dims,
                         expected="e.g. ['industry', 'company_size', 'cohort']")
    if follow not in FOLLOW:
        raise InputError("unknown follow rule", value=follow, expected=" | ".join(FOLLOW))
    if not isinstance(depth, int) or depth < 1:
        raise InputError("depth must be a positive integer", value=depth, expected="e.g. 3")
    if not 0 <= min_share < 1:
        raise InputError("min_share must be a fraction", value=min_share, expected="0 <= x < 1")
    return dims


#: dtype of each TREE_COLUMNS column (what pandas infers from the rows; needed for no rows)
_STR = pd.Series(["x"]).dtype
TREE_DTYPES = {c: ("int64" if c == "level" else _STR if c in ("dimension", "segment", "path", "parent")
                   else "bool" if c in ("drilled", "is_other") else "float64") for c in TREE_COLUMNS}


def tree_frame(rows: list[dict], columns: list[str] = TREE_COLUMNS, dtypes=TREE_DTYPES) -> pd.DataFrame:
    """Drill-down rows (dicts) as one DataFrame, built column by column."""
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=dtypes[c]) for c in columns})
    # each column converted straight to its dtype (inferring it from Python objects is slow)
    return frame_of({c: (text_array([r[c] for r in rows]) if dtypes[c] is _STR
                         else np.array([r[c] for r in rows], dtype=dtypes[c]))
                     for c in columns}, len(rows))


def _drill(p: Prepared, dims: list[str], depth: int, min_share: float, follow: str):
    """The drill-down of prepared facts: (rows as dicts in TREE_COLUMNS order, dims used)."""
    ratio = p.den is not None
    lower = p.spec.direction == "lower"

    one = (np.zeros(len(p.num[0]), dtype=np.intp), np.zeros(len(p.num[1]), dtype=np.intp))
    root = _decompose(*aggregate(p, one, 1))
    total_change = root["total_change"]
    root_base = root["total_base"]
    rows = [dict(level=0, dimension="", segment=ALL_LABEL, path=ALL_LABEL, parent="",
                 drilled=True, is_other=False, dim_score=np.nan,
                 base=root["total_base"], current=root["total_current"], change=total_change,
                 change_pct=safe_div(total_change, root_base, positive_only=True).item(),
                 num_base=root["num_base"][0], den_base=root["den_base"][0],
                 num_current=root["num_current"][0], den_current=root["den_current"][0],
                 share_base=1.0, share_current=1.0, mix_effect=np.nan, rate_effect=np.nan,
                 contribution=total_change,
                 contribution_pp=_pp(p, total_change, root_base).item(),
                 share_of_change=1.0 if total_change != 0 else np.nan, share_of_parent=np.nan)]
    rows_idx = None  # the current node's rows per year (None = all rows)
    used: list[str] = []
    scale, path, node_change = 1.0, ALL_LABEL, total_change
    for level in range(1, depth + 1):
        best = None
        values = node_values(p, rows_idx)
        for d in dims:
            if d in used:
                continue
            aggs = aggregate(p, p.codes[d], len(p.labels[d]), rows_idx, values)
            like_for_like = ratio or not _time_bound(aggs[0], aggs[1])
            aggs, labels, origin = _group_small(aggs, p.labels[d], min_share)
            if len(labels) < 2:
                continue
            try:
                dec = _decompose(*aggs)
            except InputError:
                continue
            score = float(np.abs(dec["effect"] - dec["expected"]).max())
            if (best is None or like_for_like > best[0]
                    or (like_for_like == best[0] and score > best[1] + 1e-12 * max(1.0, abs(best[1])))):
                best = (like_for_like, score, d, dec, labels, origin)
        if best is None:
            break
        _, score, d, dec, labels, origin = best
        effect = dec["effect"]
        contribution = scale * effect
        bad_first = -effect if lower else effect
        order = np.argsort(bad_first, kind="stable")
        if follow == "worst":
            candidates = order
        else:
            candidates = np.argsort(-np.sign(node_change) * effect, kind="stable")
        pick = None
        for i in candidates:
            if origin[i] < 0:
                continue
            if ratio and not (dec["den_base"][i] > 0 and dec["den_current"][i] > 0):
                continue
            pick = int(i)
            break
        dim_score = score / abs(node_change) if node_change else np.nan
        contribution_pp = _pp(p, contribution, root_base)  # elementwise, once per level
        for i in order:
            seg = str(labels[i])
            rows.append(dict(
                level=level, dimension=d, segment=seg, path=f"{path} > {d}={seg}", parent=path,
                drilled=(i == pick and level < depth), is_other=bool(origin[i] < 0),
                dim_score=dim_score, base=dec["base"][i], current=dec["current"][i],
                change=dec["change"][i], change_pct=dec["change_pct"][i],
                num_base=dec["num_base"][i], den_base=dec["den_base"][i],
                num_current=dec["num_current"][i], den_current=dec["den_current"][i],
                share_base=dec["share_base"][i], share_current=dec["share_current"][i],
                mix_effect=dec["mix_effect"][i], rate_effect=dec["rate_effect"][i],
                contribution=contribution[i],
                contribution_pp=contribution_pp[i],
                share_of_change=contribution[i] / total_change if total_change else np.nan,
                share_of_parent=effect[i] / dec["total_change"] if dec["total_change"]
                else np.nan))
        used.append(d)
        if pick is None or level == depth:
            break
        code = origin[pick]
        rows_idx = tuple(
            np.flatnonzero(p.codes[d][i] == code) if rows_idx is None else
            rows_idx[i][p.codes[d][i].take(rows_idx[i]) == code] for i in (0, 1))
        if ratio:
            scale *= dec["wbar"][pick]
            node_change = dec["change"][pick]
        else:
            node_change = dec["change"][pick]
        path = f"{path} > {d}={labels[pick]}"
    return rows, used
