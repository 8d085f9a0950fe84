"""Room to improve: what the overall KPI would be if one lagging segment recovered."""
from __future__ import annotations

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import as_list, frame_of, require_frame, resolve_kpi, text_array, to_float
from ._facts import aggregate, combine, prepare, value_spec

COLUMNS = ["dimension", "segment", "size", "base", "current", "company", "target", "kpi_now",
           "if_last_year", "gain_last_year", "units_last_year",
           "if_average", "gain_average", "units_average",
           "if_target", "gain_target", "units_target", "best_gain"]


def headroom(facts: pd.DataFrame, kpi, kpis: pd.DataFrame | None = None, *, by,
             base_year: int | None = None, current_year: int | None = None,
             targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each lagging segment, the overall KPI if it returned to last year's level, to the
    company average, or to its target, with everything else as it is this year.

    Ratio KPIs keep the segment's current denominator: ``if = (N - n_i + r_i' * d_i) / D``, and
    ``units_*`` is the numerator that would be won back (e.g. renewals). Additive KPIs replace
    the segment's value: last year's value, last year's value grown at the company rate, or its
    target. ``gain_*`` is always "better for the business" (positive = improvement; for lower-is-
    better KPIs a decrease); scenarios that would not improve anything are NaN, and segments
    with no positive gain are left out. ``targets`` has the ``by`` columns plus ``target``.
    Rows are sorted by ``best_gain``.
    """
    dims = as_list(by, "by")
    if not dims:
        raise InputError("headroom needs at least one dimension in 'by'", value=by,
                         expected="a column name such as 'industry'")
    row = resolve_kpi(kpi, kpis)
    spec = value_spec(row)
    p = prepare(facts, spec, dims, base_year, current_year)
    return _headroom(p, spec, dims, targets)


def _headroom(p, spec, dims: list[str], targets) -> pd.DataFrame:
    """``headroom`` of prepared facts."""
    codes, labels = combine(p, dims)
    n0, n1, d0, d1 = aggregate(p, codes, len(labels))
    sign = -1.0 if spec.direction == "lower" else 1.0

    tgt = np.full(len(labels), np.nan)
    if targets is not None:
        require_frame(targets, "targets", dims + ["target"])
        tv = to_float(targets["target"], "targets", "target").to_numpy()
        keys = [" / ".join(str(v) for v in vals) for vals in
                zip(*(targets[d].astype(str) for d in dims))]
        lookup = dict(zip(keys, tv))
        unknown = [k for k in keys if k not in set(labels)]
        if unknown:
            raise InputError("table 'targets' names a segment not found in the facts",
                             value=unknown[0], expected="one of " + ", ".join(labels[:20]))
        tgt = np.array([lookup.get(lab, np.nan) for lab in labels])

    def gain(new_overall, now):
        g = sign * (new_overall - now)
        return np.where(g > 1e-12 * max(1.0, abs(now)), g, np.nan)

    if d0 is None:
        B, C = float(n0.sum()), float(n1.sum())
        growth = (C - B) / B if B > 0 else np.nan
        size, base, cur = n1, n0, n1
        company = np.full(len(labels), C)
        scen = {"last_year": np.where(n0 != 0, n0, np.nan),
                "average": n0 * (1 + growth) if B > 0 else np.full(len(labels), np.nan),
                "target": tgt}
        out = {"kpi_now": np.full(len(labels), C)}
        for name, seg_value in scen.items():
            new = C - n1 + seg_value
            g = gain(new, C)
            out[f"if_{name}"] = np.where(np.isnan(g), np.nan, new)
            out[f"gain_{name}"] = g
            out[f"units_{name}"] = g
    else:
        D1 = float(d1.sum())
        if D1 <= 0:
            raise InputError("the ratio's denominator adds up to 0 in the current year",
                             value=D1, expected="a positive denominator")
        N1 = float(n1.sum())
        R = N1 / D1
        with np.errstate(divide="ignore", invalid="ignore"):
            r0 = np.where(d0 > 0, n0 / np.where(d0 > 0, d0, 1), np.nan)
            r1 = np.where(d1 > 0, n1 / np.where(d1 > 0, d1, 1), np.nan)
        size, base, cur = d1, r0, r1
        company = np.full(len(labels), R)
        scen = {"last_year": r0, "average": np.full(len(labels), R), "target": tgt}
        out = {"kpi_now": np.full(len(labels), R)}
        for name, rate in scen.items():
            new = (N1 - n1 + rate * d1) / D1
            g = gain(new, R)
            g = np.where(d1 > 0, g, np.nan)
            out[f"if_{name}"] = np.where(np.isnan(g), np.nan, new)
            out[f"gain_{name}"] = g
            out[f"units_{name}"] = np.where(np.isnan(g), np.nan, sign * (rate - r1) * d1)
    cols = {"size": size, "base": base, "current": cur, "company": company, "target": tgt, **out}
    best = np.fmax(np.fmax(out["gain_last_year"], out["gain_average"]), out["gain_target"])
    keep = np.flatnonzero(~np.isnan(best))
    if not len(keep):
        return _empty_result(dims, labels, cols, spec, p)
    # sorted by best_gain, largest first, ties in segment order (a stable descending sort)
    order = keep[np.argsort(-best[keep], kind="stable")]
    cols = dict(cols, dimension=" / ".join(dims), segment=labels, best_gain=best)
    segments = labels[order].tolist()
    if all(isinstance(v, str) for v in segments):
        # text as pandas infers it for the segments and the (broadcast) dimension name
        columns = {c: np.asarray(cols[c])[order] for c in COLUMNS
                   if c not in ("dimension", "segment")}
        columns["segment"] = text_array(segments)
        columns["dimension"] = text_array([cols["dimension"]] * len(order))
        res = frame_of({c: columns[c] for c in COLUMNS}, len(order))
    else:
        res = pd.DataFrame({c: (cols[c] if c == "dimension" else np.asarray(cols[c])[order])
                            for c in COLUMNS})
    res.attrs.update(kpi=spec.key, kind=spec.kind, base_year=p.base_year,
                     current_year=p.current_year)
    return res


def _empty_result(dims, labels, cols, spec, p) -> pd.DataFrame:
    """No segment with a gain: the frame steps of the general case, for the same dtypes."""
    res = pd.DataFrame({"dimension": " / ".join(dims), "segment": labels, **cols})
    gains = res[["gain_last_year", "gain_average", "gain_target"]]
    res["best_gain"] = gains.max(axis=1, skipna=True)
    res = res[res["best_gain"].notna()].sort_values("best_gain", ascending=False, kind="stable")
    res = res.reset_index(drop=True)
    res.attrs.update(kpi=spec.key, kind=spec.kind, base_year=p.base_year,
                     current_year=p.current_year)
    return res[COLUMNS]
