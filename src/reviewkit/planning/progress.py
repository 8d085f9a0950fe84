"""Progress tracking: deviation rate, flags, overdue tasks, rows whose text contradicts their dates."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._common import (column, is_blank, require_frame, text, to_dates, to_fraction, to_timestamp)
from .messages import say

COLUMNS = ["task_id", "milestone", "owner", "planned_start", "planned_date", "actual_date",
           "pct_complete", "planned_days", "delay_days", "deviation", "basis", "flagged",
           "needs_cause", "overdue", "inconsistent", "issues"]

#: digits kept before comparing a deviation with the threshold, so 1.5/15 counts as exactly 10%
_DIGITS = 9
#: a stated deviation % may differ from the computed one by this much (rounding in the text)
STATED_PCT_TOLERANCE = 0.005

_NUM = r"(\d+(?:\.\d+)?)"
_LATE = [re.compile(p, re.I) for p in (
    _NUM + r"\s*(?:days?|d)\s*(?:late|overdue|behind|delay(?:ed)?)",
    r"(?:late|overdue|behind|delayed)\s*(?:by\s*)?" + _NUM + r"\s*(?:days?|d)\b",
    r"(?:延迟|延期|推迟|滞后|拖期|逾期|晚了?|落后)\s*(?:了\s*)?" + _NUM + r"\s*(?:个\s*)?(?:天|日|工作日)",
    _NUM + r"\s*(?:个\s*)?(?:天|日)\s*(?:延迟|延期|滞后|逾期)")]
_EARLY = [re.compile(p, re.I) for p in (
    _NUM + r"\s*(?:days?|d)\s*(?:early|ahead)",
    r"(?:early|ahead)\s*(?:by\s*)?" + _NUM + r"\s*(?:days?|d)\b",
    r"(?:提前|早了?)\s*(?:了\s*)?" + _NUM + r"\s*(?:个\s*)?(?:天|日|工作日)")]
_ON_TIME = re.compile(r"on\s*time|按时|准时|如期", re.I)
_PCT = re.compile(r"([+\-−–﹣－]?)\s*" + _NUM + r"\s*[%％]")
_DEVIATION_WORD = re.compile(r"偏差|偏离|deviation|variance|off plan", re.I)


def _stated(texts: list[str]) -> tuple[float | None, float | None]:
    """(stated delay in days, stated deviation as a fraction) found in a row's text, or None."""
    days = pct = None
    for s in texts:
        for sign, pats in ((1, _LATE), (-1, _EARLY)):
            for p in pats:
                m = p.search(s)
                if m and days is None:
                    days = sign * float(m.group(1))
        if days is None and _ON_TIME.search(s):
            days = 0.0
        m = _PCT.search(s)
        # a percent counts as a stated deviation only beside a delay statement or the word
        # "deviation" (an acceptance text like "click rate 3%" is not a deviation)
        if m and pct is None and (days is not None or _DEVIATION_WORD.search(s)):
            sign = -1.0 if m.group(1) and m.group(1) != "+" else 1.0
            pct = sign * float(m.group(2)) / 100
    return days, pct


def _days(value: float, lang: str = "en") -> str:
    v = int(value) if float(value).is_integer() else value
    if value > 0:
        return say("days_late", lang, days=v)
    if value < 0:
        return say("days_early", lang, days=-v)
    return say("on_time", lang)


def track_progress(progress: pd.DataFrame, plan: pd.DataFrame | None = None, *,
                   as_of=None, threshold: float = 0.10, lang: str = "en") -> pd.DataFrame:
    """Deviation of every milestone in ``progress`` (table ``Progress``), one output row per input row.

    * ``planned_days`` = planned_date − planned_start + 1: both ends count (1st → 15th is a
      15-day plan). ``planned_start`` falls back to the task's ``start`` in ``plan``.
    * ``delay_days`` = actual_date − planned_date (negative = early); ``deviation`` =
      delay_days ÷ planned_days, so 15th → 18th on a plan from the 1st is 3/15 = +20%.
      ``basis`` says which date was used: "actual"; "as_of" for an unfinished milestone past its
      date (delay so far = as_of − planned_date); "" when not due yet or dates are missing.
    * ``flagged``: |deviation| > ``threshold`` (beyond ±10% by default; exactly 10% is not).
    * ``needs_cause``: flagged and the main problem or the countermeasure is blank.
    * ``overdue``: not done (no actual date and below 100%) and planned_date < ``as_of``
      (``as_of`` None means today).
    * ``inconsistent``: the row's own text states a delay ("2 days late", "延迟2天", "提前3天")
      or a deviation % ("−6.5%" beside a delay statement or the word 偏差/deviation) that the
      dates contradict (days must match exactly, % within 0.5 points). ``issues`` explains it
      (in ``lang``: "zh" or "en").
    """
    require_frame(progress, "Progress", ["task_id"])
    if not isinstance(threshold, (int, float)) or not 0 <= threshold < 10:
        from reviewkit.errors import InputError
        raise InputError("threshold must be a fraction", value=threshold, expected="e.g. 0.10 for ±10%")
    as_of = to_timestamp(as_of, "as_of")
    p_start = to_dates(progress, "planned_start", "Progress", key="task_id")
    p_date = to_dates(progress, "planned_date", "Progress", key="task_id")
    a_date = to_dates(progress, "actual_date", "Progress", key="task_id")
    pct = to_fraction(progress, "pct_complete", "Progress", key="task_id")
    task_ids = progress["task_id"].map(text)
    if plan is not None:
        require_frame(plan, "Plan", ["task_id"])
        starts = to_dates(plan, "start", "Plan", key="task_id")
        by_task = dict(zip(plan["task_id"].map(text), starts))
        p_start = p_start.where(p_start.notna(), task_ids.map(by_task)).astype("datetime64[ns]")
    plan_owner = {}
    if plan is not None and "owner" in plan.columns:
        plan_owner = dict(zip(plan["task_id"].map(text), plan["owner"].map(text)))
    out_rows = []
    for idx in progress.index:
        tid = task_ids[idx]
        ps, pd_, ad, pc = p_start[idx], p_date[idx], a_date[idx], pct[idx]
        issues: list[str] = []
        planned_days = float((pd_ - ps).days + 1) if pd.notna(ps) and pd.notna(pd_) else np.nan
        if pd.notna(ps) and pd.notna(pd_) and planned_days < 1:
            issues.append(say("planned_before_start", lang, planned=pd_, start=ps))
            planned_days = np.nan
        done = pd.notna(ad) or (pd.notna(pc) and pc >= 1)
        delay = np.nan
        basis = ""
        if pd.notna(ad) and pd.notna(pd_):
            delay, basis = float((ad - pd_).days), "actual"
        elif not done and pd.notna(pd_) and pd_ < as_of:
            delay, basis = float((as_of - pd_).days), "as_of"
        elif done and pd.isna(ad):
            issues.append(say("done_without_date", lang))
        if pd.isna(pd_):
            issues.append(say("no_planned_date", lang))
        elif pd.isna(ps):
            issues.append(say("no_planned_start", lang))
        deviation = delay / planned_days if not (np.isnan(delay) or np.isnan(planned_days)) else np.nan
        flagged = bool(not np.isnan(deviation) and round(abs(deviation), _DIGITS) > threshold)
        overdue = bool(not done and pd.notna(pd_) and pd_ < as_of)
        problem = column(progress, "problem")[idx]
        counter = column(progress, "countermeasure")[idx]
        missing = [say(n, lang) for n, v in (("main_problem", problem), ("countermeasure", counter))
                   if is_blank(v)]
        needs_cause = flagged and bool(missing)
        if flagged:
            key = "deviation_so_far_beyond" if basis == "as_of" else "deviation_beyond"
            msg = say(key, lang, deviation=deviation, threshold=threshold)
            if missing:
                msg += say("needs", lang, what=say("needs_and", lang).join(missing))
            issues.append(msg)
        if overdue:
            issues.append(say("overdue", lang, planned=pd_, as_of=as_of))
        # what the row's own words say
        texts = [text(v) for k, v in progress.loc[idx].items()
                 if isinstance(v, str) and k not in ("task_id", "owner")]
        s_days, s_pct = _stated(texts)
        if "stated_deviation" in progress.columns and not is_blank(progress.at[idx, "stated_deviation"]):
            s_pct = float(progress.at[idx, "stated_deviation"])
        inconsistent = False
        if basis == "actual":
            if s_days is not None and s_days != delay:
                inconsistent = True
                issues.append(say("text_days_disagree", lang, said=_days(s_days, lang), dates=_days(delay, lang),
                                  planned=pd_, done=ad))
            if s_pct is not None and not np.isnan(deviation) and abs(s_pct - deviation) > STATED_PCT_TOLERANCE:
                inconsistent = True
                issues.append(say("text_pct_disagrees", lang, said=s_pct, delay=delay, days=planned_days,
                                  deviation=deviation))
            if s_days is not None and s_pct is not None and s_days * s_pct < 0:
                inconsistent = True
                issues.append(say("text_contradicts_itself", lang, said=_days(s_days, lang), pct=s_pct))
        out_rows.append({
            "task_id": tid or None, "milestone": text(column(progress, "milestone")[idx]) or None,
            "owner": text(column(progress, "owner")[idx]) or plan_owner.get(tid) or None,
            "planned_start": ps, "planned_date": pd_, "actual_date": ad, "pct_complete": pc,
            "planned_days": planned_days, "delay_days": delay, "deviation": deviation, "basis": basis,
            "flagged": flagged, "needs_cause": needs_cause, "overdue": overdue,
            "inconsistent": inconsistent, "issues": say("issue_separator", lang).join(issues)})
    out = pd.DataFrame(out_rows, columns=COLUMNS, index=progress.index)
    for c in ("planned_start", "planned_date", "actual_date"):
        out[c] = pd.to_datetime(out[c])
    return out
