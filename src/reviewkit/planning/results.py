"""Results review (planned vs actual per goal) and budget / ROI by spending category."""
from __future__ import annotations

import numpy as np
import pandas as pd

from reviewkit.analysis import achievement as _achievement

from ._common import column, is_blank, require_frame, text, to_numbers
from .messages import say

RESULT_COLUMNS = ["goal", "kpi", "planned", "actual", "achievement", "direction", "source", "met",
                  "cause", "lesson", "missing_cause", "missing_lesson", "issues"]
BUDGET_COLUMNS = ["category", "budget", "spend", "variance", "variance_pct", "over_budget", "revenue",
                  "roi", "attributable", "saved_hours", "note"]
TOTAL_KEY = "total"
_DIGITS = 9


def _kpi_directions(compared: pd.DataFrame | None, kpis: pd.DataFrame | None) -> dict[str, dict]:
    info: dict[str, dict] = {}
    if compared is not None and "direction" in compared.columns:
        for _, r in compared.iterrows():
            info.setdefault(text(r["kpi"]), {"direction": text(r["direction"]) or "higher"})
    if kpis is not None:
        require_frame(kpis, "KPIs", ["key"])
        for _, r in kpis.iterrows():
            d = {"direction": text(r.get("direction")).lower() or "higher"}
            for b in ("range_low", "range_high"):
                v = r.get(b)
                d[b] = float(v) if not is_blank(v) else np.nan
            info[text(r["key"])] = d
    return info


def results_review(results: pd.DataFrame, compared: pd.DataFrame | None = None, *,
                   kpis: pd.DataFrame | None = None, lang: str = "en") -> pd.DataFrame:
    """Planned vs actual for every goal of table ``Results``, with achievement and missing words.

    Achievement, in order of preference (``source`` column):

    * ``compare`` – ``compared`` (``reviewkit.analysis.compare`` output) has a row with the same
      KPI and the same target and actual: its achievement is used as is (one number everywhere).
    * ``direction`` – the KPI is known (in ``kpis`` or ``compared``): the analysis engine's
      direction-aware rule (``reviewkit.analysis.achievement``; lower-is-better = 2 − actual/plan,
      ranges from the KPI's bounds).
    * ``ratio`` – otherwise actual ÷ planned (NaN when planned is blank or 0).

    ``met`` is achievement ≥ 100%. ``missing_cause`` flags a goal below 100% without a cause of
    deviation; ``missing_lesson`` flags any goal without a lesson (the method analyses met goals
    too, so success can be repeated). ``issues`` is in ``lang`` ("zh" or "en").
    """
    require_frame(results, "Results", ["goal"])
    planned = to_numbers(results, "planned", "Results", key="goal")
    actual = to_numbers(results, "actual", "Results", key="goal")
    kpi = column(results, "kpi").map(text)
    info = _kpi_directions(compared, kpis)
    lookup: dict[tuple, float] = {}
    if compared is not None:
        require_frame(compared, "compared", ["kpi", "target", "actual", "achievement"])
        for _, r in compared.iterrows():
            try:
                key = (text(r["kpi"]), round(float(r["target"]), _DIGITS), round(float(r["actual"]), _DIGITS))
            except (TypeError, ValueError):
                continue
            lookup.setdefault(key, float(r["achievement"]))
    rows = []
    for idx in results.index:
        p, a, k = planned[idx], actual[idx], kpi[idx]
        issues = []
        direction = info.get(k, {}).get("direction", "")
        key = (k, round(p, _DIGITS), round(a, _DIGITS)) if not (np.isnan(p) or np.isnan(a)) else None
        if k and key in lookup:
            ach, source = lookup[key], "compare"
        elif k and k in info:
            d = info[k]
            ach = _achievement(a, p, d["direction"], range_low=d.get("range_low", np.nan),
                               range_high=d.get("range_high", np.nan))
            source = "direction"
        else:
            ach = a / p if p and not np.isnan(p) else np.nan
            source = "ratio"
            direction = direction or ""
        ach = float(ach)
        if np.isnan(ach):
            issues.append(say("achievement_unknown", lang))
        met = bool(not np.isnan(ach) and round(ach, _DIGITS) >= 1)
        cause, lesson = text(column(results, "cause")[idx]), text(column(results, "lesson")[idx])
        missing_cause = bool(not np.isnan(ach) and not met and not cause)
        missing_lesson = not lesson
        if missing_cause:
            issues.append(say("below_plan_without_cause", lang, achievement=ach))
        if missing_lesson:
            issues.append(say("no_lesson", lang))
        rows.append({"goal": text(results.at[idx, "goal"]), "kpi": k or None, "planned": p, "actual": a,
                     "achievement": ach, "direction": direction or None, "source": source, "met": met,
                     "cause": cause or None, "lesson": lesson or None, "missing_cause": missing_cause,
                     "missing_lesson": missing_lesson, "issues": say("issue_separator", lang).join(issues)})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS, index=results.index)


def budget_roi(budget: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """Spend vs budget and ROI per category of table ``Budget``, plus a ``total`` row.

    * ``variance`` = spend − budget; ``variance_pct`` = variance ÷ budget (NaN without a budget);
      ``over_budget`` when spend > budget.
    * ``roi`` = (revenue − spend) ÷ spend, only where revenue is a positive number and spend > 0.
      Spend whose revenue is blank or 0 is ``attributable`` False: its ROI is NaN and the note
      says "not attributable", giving the hours saved as the alternative return when known.
    * The ``total`` row (category ``"total"``) adds budget, spend and revenue; its ROI counts
      attributable categories only: (their revenue − their spend) ÷ their spend. Its note gives the
      spend that could not be tied to revenue. Notes are in ``lang`` ("zh" or "en").
    """
    require_frame(budget, "Budget", ["category"])
    b = to_numbers(budget, "budget", "Budget", key="category")
    s = to_numbers(budget, "spend", "Budget", key="category")
    r = to_numbers(budget, "revenue", "Budget", key="category")
    h = to_numbers(budget, "saved_hours", "Budget", key="category")
    rows = []
    for idx in budget.index:
        var = s[idx] - b[idx]
        attributable = bool(r[idx] > 0 and s[idx] > 0)
        roi = (r[idx] - s[idx]) / s[idx] if attributable else np.nan
        note = ""
        if not attributable and s[idx] > 0:
            note = say("not_attributable", lang)
            if h[idx] > 0:
                note += say("saved_hours", lang, hours=h[idx])
        elif not attributable and not s[idx] > 0 and r[idx] > 0:
            note = say("revenue_without_spend", lang)
        rows.append({"category": text(budget.at[idx, "category"]), "budget": b[idx], "spend": s[idx],
                     "variance": var, "variance_pct": var / b[idx] if b[idx] else np.nan,
                     "over_budget": bool(s[idx] > b[idx]), "revenue": r[idx], "roi": roi,
                     "attributable": attributable, "saved_hours": h[idx], "note": note})
    out = pd.DataFrame(rows, columns=BUDGET_COLUMNS)
    att = out[out["attributable"]]
    tb, ts = out["budget"].sum(min_count=1), out["spend"].sum(min_count=1)
    a_spend, a_rev = att["spend"].sum(), att["revenue"].sum()
    loose = out.loc[~out["attributable"], "spend"].sum()
    tvar = ts - tb
    total = {"category": TOTAL_KEY, "budget": tb, "spend": ts, "variance": tvar,
             "variance_pct": tvar / tb if tb else np.nan, "over_budget": bool(ts > tb),
             "revenue": out["revenue"].sum(min_count=1),
             "roi": (a_rev - a_spend) / a_spend if a_spend > 0 else np.nan,
             "attributable": bool(loose == 0), "saved_hours": out["saved_hours"].sum(min_count=1),
             "note": say("roi_attributable_only", lang, spend=a_spend, loose=loose) if loose > 0 else ""}
    return pd.concat([out, pd.DataFrame([total], columns=BUDGET_COLUMNS)], ignore_index=True)
