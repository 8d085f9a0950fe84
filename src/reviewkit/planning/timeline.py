"""Timeline logic in pandas: working days, the Gantt grid model, and schedule conflicts.

``gantt`` computes in Python exactly what the live timeline sheet (``reviewkit.fill.timeline``)
computes with formulas and conditional formats, so the two can be checked against each other.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ._common import column, folded, is_blank, is_flag, require_frame, text, to_dates, to_fraction, to_timestamp
from .messages import say

FREQS = ("D", "W", "M")
HOLIDAY_KINDS = {"holiday", "假期", "假日", "节假日", "法定假日", "休息日", "放假"}
CONFLICT_COLUMNS = ["kind", "task_id", "owner", "start", "end", "other", "message"]


def _day(value: object, name: str) -> np.datetime64:
    return np.datetime64(to_timestamp(value, name).date(), "D")


def _holiday_days(holidays: Iterable | None) -> np.ndarray:
    if holidays is None:
        return np.array([], dtype="datetime64[D]")
    return np.array(sorted({_day(h, "holiday") for h in holidays}), dtype="datetime64[D]")


def networkdays(start, end, holidays: Iterable | None = ()) -> int:
    """Working days from ``start`` to ``end``, both included, like Excel's NETWORKDAYS.

    Monday to Friday count, minus the dates in ``holidays``; negative when end is before start.
    """
    s, e = _day(start, "start"), _day(end, "end")
    hol = _holiday_days(holidays)
    if e >= s:
        return int(np.busday_count(s, e + 1, holidays=hol))
    return -int(np.busday_count(e, s + 1, holidays=hol))


def is_holiday_kind(kind: object) -> bool:
    return folded(kind).lower() in HOLIDAY_KINDS


def holiday_dates(campaigns: pd.DataFrame | None, holidays: Iterable | None = ()) -> list[pd.Timestamp]:
    """Every day of the holiday-kind rows of ``campaigns`` plus ``holidays``, sorted, unique."""
    days = {pd.Timestamp(_day(h, "holiday")) for h in (holidays or ())}
    if campaigns is not None and len(campaigns):
        c = _campaigns(campaigns)
        for _, r in c[c["holiday"]].iterrows():
            days.update(pd.date_range(r["start"], r["end"], freq="D"))
    return sorted(days)


def _campaigns(campaigns: pd.DataFrame) -> pd.DataFrame:
    require_frame(campaigns, "Campaigns", ["name", "start", "end"])
    c = pd.DataFrame({"name": campaigns["name"].map(text),
                      "start": to_dates(campaigns, "start", "Campaigns", key="name"),
                      "end": to_dates(campaigns, "end", "Campaigns", key="name"),
                      "holiday": column(campaigns, "kind").map(is_holiday_kind)},
                     index=campaigns.index)
    bad = c[c["start"].isna() | c["end"].isna() | (c["end"] < c["start"])]
    if len(bad):
        r = bad.iloc[0]
        raise InputError(f"table 'Campaigns' row {bad.index[0]} ({r['name']}) needs a start and an end on "
                         "or after it", value=f"{r['start']} – {r['end']}", expected="start <= end")
    return c


def _tasks(plan: pd.DataFrame) -> pd.DataFrame:
    require_frame(plan, "Plan", ["task_id"])
    return pd.DataFrame({"task_id": plan["task_id"].map(text),
                         "task": column(plan, "task").map(text),
                         "goal": column(plan, "goal").map(text),
                         "owner": column(plan, "owner").map(text),
                         "start": to_dates(plan, "start", "Plan", key="task_id"),
                         "end": to_dates(plan, "end", "Plan", key="task_id"),
                         "milestone": column(plan, "milestone").map(
                             lambda v: not is_blank(v) and is_flag(v))},
                        index=plan.index)


def period_starts(first, last, freq: str) -> pd.DatetimeIndex:
    """Grid columns: days, weeks starting Monday, or calendar months covering first..last."""
    if freq not in FREQS:
        raise InputError("unknown timeline frequency", value=freq, expected=" | ".join(FREQS))
    first, last = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    if freq == "D":
        return pd.date_range(first, last, freq="D")
    if freq == "W":
        return pd.date_range(first - pd.Timedelta(days=first.weekday()), last, freq="W-MON")
    return pd.date_range(first.replace(day=1), last, freq="MS")


def period_end(start: pd.Timestamp, freq: str) -> pd.Timestamp:
    if freq == "D":
        return start
    if freq == "W":
        return start + pd.Timedelta(days=6)
    return start + pd.offsets.MonthEnd(0)


def done_until(start, end, pct) -> pd.Timestamp | None:
    """Last day of a task counted as done: start + round((end − start + 1) × pct) − 1 (half up).

    The day before the start when nothing is done; None without dates.
    """
    if pd.isna(start) or pd.isna(end):
        return None
    pct = 0.0 if pct is None or (isinstance(pct, float) and math.isnan(pct)) else float(pct)
    days = (end - start).days + 1
    return start + pd.Timedelta(days=math.floor(days * pct + 0.5 + 1e-9) - 1)


@dataclass(frozen=True)
class GanttGrid:
    """The timeline as data.

    ``periods``: one row per grid column (start, end, working_days, campaign, today).
    ``tasks``: one row per plan task (task_id, task, owner, start, end, pct_complete,
    done_until, working_days, milestone).
    ``cells``: tasks × periods, "done", "bar" or "" (what the conditional formats paint).
    ``marks``: tasks × periods, True where a milestone ◆ falls (a Progress planned date of the
    task, or the end of a task marked as a milestone in the plan).
    """

    freq: str
    as_of: pd.Timestamp
    periods: pd.DataFrame
    tasks: pd.DataFrame
    cells: pd.DataFrame
    marks: pd.DataFrame
    holidays: tuple[pd.Timestamp, ...]


def task_progress(progress: pd.DataFrame | None) -> dict[str, float]:
    """% complete per task: the highest % reported on any of its Progress rows."""
    if progress is None or not len(progress):
        return {}
    require_frame(progress, "Progress", ["task_id"])
    pct = to_fraction(progress, "pct_complete", "Progress", key="task_id").fillna(0.0)
    return pct.groupby(progress["task_id"].map(text)).max().to_dict()


def gantt(plan: pd.DataFrame, progress: pd.DataFrame | None = None, campaigns: pd.DataFrame | None = None, *,
          freq: str = "W", holidays: Iterable | None = (), as_of=None, start=None, end=None) -> GanttGrid:
    """The Gantt grid for ``plan``: which grid column each task's bar and done part cover.

    Columns are days, weeks (Monday to Sunday) or calendar months from ``start`` to ``end``
    (default: the earliest task start to the latest task end). A task's bar covers every column
    that overlaps [start, end]; a column is "done" when the task's part in it is all done, i.e.
    ``done_until`` ≥ min(column end, task end). Working days are Monday–Friday minus
    ``holidays`` and the days of holiday-kind rows in ``campaigns``. ``as_of`` None is today.
    """
    t = _tasks(plan)
    if freq not in FREQS:
        raise InputError("unknown timeline frequency", value=freq, expected=" | ".join(FREQS))
    as_of = to_timestamp(as_of, "as_of")
    camp = _campaigns(campaigns) if campaigns is not None and len(campaigns) else None
    hol = holiday_dates(campaigns, holidays)
    hol_np = np.array([np.datetime64(h.date(), "D") for h in hol], dtype="datetime64[D]")
    first = to_timestamp(start, "start") if start is not None else t["start"].min()
    last = to_timestamp(end, "end") if end is not None else t["end"].max()
    if pd.isna(first) or pd.isna(last):
        first = last = as_of
    starts = period_starts(first, max(first, last), freq)
    ends = [period_end(s, freq) for s in starts]
    campaign_names = []
    for s, e in zip(starts, ends):
        name = ""
        if camp is not None:
            hit = camp[(~camp["holiday"]) & (camp["start"] <= e) & (camp["end"] >= s)]
            name = hit["name"].iloc[-1] if len(hit) else ""  # the last one, like LOOKUP(2, 1/…)
        campaign_names.append(name)
    periods = pd.DataFrame({
        "start": starts, "end": ends,
        "working_days": [int(np.busday_count(np.datetime64(s.date()), np.datetime64(e.date()) + 1,
                                             holidays=hol_np)) for s, e in zip(starts, ends)],
        "campaign": campaign_names,
        "today": [bool(s <= as_of <= e) for s, e in zip(starts, ends)]})
    pct = task_progress(progress)
    t["pct_complete"] = t["task_id"].map(pct).fillna(0.0).astype(float)
    t["done_until"] = [done_until(s, e, p) for s, e, p in zip(t["start"], t["end"], t["pct_complete"])]
    t["done_until"] = pd.to_datetime(t["done_until"])
    t["working_days"] = [networkdays(s, e, hol) if pd.notna(s) and pd.notna(e) else np.nan
                         for s, e in zip(t["start"], t["end"])]
    ms_dates: dict[str, list[pd.Timestamp]] = {}
    if progress is not None and len(progress) and "planned_date" in progress.columns:
        pdates = to_dates(progress, "planned_date", "Progress", key="task_id")
        for tid, d in zip(progress["task_id"].map(text), pdates):
            if pd.notna(d):
                ms_dates.setdefault(tid, []).append(d)
    cells = pd.DataFrame("", index=t.index, columns=range(len(starts)), dtype=object)
    marks = pd.DataFrame(False, index=t.index, columns=range(len(starts)))
    for i, r in t.iterrows():
        dates = list(ms_dates.get(r["task_id"], []))
        if r["milestone"] and pd.notna(r["end"]):
            dates.append(r["end"])
        for j, (s, e) in enumerate(zip(starts, ends)):
            if pd.notna(r["start"]) and pd.notna(r["end"]) and s <= r["end"] and e >= r["start"]:
                cells.at[i, j] = "done" if r["done_until"] >= min(e, r["end"]) else "bar"
            marks.at[i, j] = any(s <= d <= e for d in dates)
    return GanttGrid(freq, as_of, periods, t.reset_index(drop=True), cells.reset_index(drop=True),
                     marks.reset_index(drop=True), tuple(hol))


def for_campaign(task, campaign: str) -> bool:
    """True when ``task`` (a row with task and goal texts) is work for ``campaign``: its task or
    goal names it ("双11联合促销", "双11大促获客" for 双11; case and spaces ignored)."""
    name = "".join(str(campaign).split()).lower()
    if not name:
        return False
    return any(name in "".join(str(task.get(k) or "").split()).lower() for k in ("task", "goal"))


def conflicts(plan: pd.DataFrame, campaigns: pd.DataFrame | None = None, *, max_parallel: int = 3,
              plan_end=None, lang: str = "en") -> pd.DataFrame:
    """Schedule conflicts, one row each (``kind`` column):

    * ``campaign`` – a task's [start, end] overlaps a campaign period (holiday-kind rows of
      ``campaigns`` are not campaigns); ``other`` names the campaign. A task for the campaign
      (its task or goal names it, e.g. "双11联合促销" for 双11) is not in conflict with it.
    * ``owner_load`` – an owner has more than ``max_parallel`` tasks on the same days; one row per
      owner and continuous stretch, ``start``/``end`` the stretch, ``other`` the task ids.
    * ``after_plan_end`` – a task ends after ``plan_end`` (skipped when plan_end is None).

    Tasks without both dates are left out (``check_plan`` reports them). ``message`` is in ``lang``.
    """
    if not isinstance(max_parallel, (int, np.integer)) or max_parallel < 1:
        raise InputError("max_parallel must be a whole number of at least 1", value=max_parallel,
                         expected="e.g. 3")
    t = _tasks(plan)
    t = t[t["start"].notna() & t["end"].notna() & (t["end"] >= t["start"])]
    rows = []
    if campaigns is not None and len(campaigns):
        camp = _campaigns(campaigns)
        camp = camp[~camp["holiday"]]
        for _, r in t.iterrows():
            for _, c in camp.iterrows():
                if for_campaign(r, c["name"]):
                    continue
                if r["start"] <= c["end"] and r["end"] >= c["start"]:
                    s, e = max(r["start"], c["start"]), min(r["end"], c["end"])
                    rows.append({"kind": "campaign", "task_id": r["task_id"], "owner": r["owner"] or None,
                                 "start": r["start"], "end": r["end"], "other": c["name"],
                                 "message": say("during_campaign", lang, task_id=r["task_id"], name=c["name"],
                                                start=s, end=e)})
    for owner, group in t[t["owner"] != ""].groupby("owner", sort=False):
        if len(group) <= max_parallel:
            continue
        days = pd.date_range(group["start"].min(), group["end"].max(), freq="D")
        load = pd.Series(0, index=days)
        for _, r in group.iterrows():
            load[r["start"]:r["end"]] += 1
        over = load > max_parallel
        run_id = (over != over.shift()).cumsum()
        for _, run in load[over].groupby(run_id[over]):
            s, e = run.index[0], run.index[-1]
            ids = group[(group["start"] <= e) & (group["end"] >= s)]["task_id"].tolist()
            rows.append({"kind": "owner_load", "task_id": None, "owner": owner, "start": s, "end": e,
                         "other": ", ".join(ids),
                         "message": say("owner_overloaded", lang, owner=owner, n=int(run.max()), start=s, end=e,
                                        limit=max_parallel, ids=say("list_separator", lang).join(ids))})
    if plan_end is not None:
        pe = to_timestamp(plan_end, "plan_end")
        for _, r in t[t["end"] > pe].iterrows():
            rows.append({"kind": "after_plan_end", "task_id": r["task_id"], "owner": r["owner"] or None,
                         "start": r["start"], "end": r["end"], "other": f"{pe:%Y-%m-%d}",
                         "message": say("after_plan_end", lang, task_id=r["task_id"], end=r["end"], plan_end=pe)})
    return pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
