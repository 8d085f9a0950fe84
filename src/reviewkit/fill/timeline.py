"""The Timeline sheet: the live Gantt chart of :mod:`reviewkit.planning` when the Plan table has
tasks with dates, one page wide."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from .. import model
from ..errors import InputError
from ..ooxml import PageSetup, SheetSpec


def _timeline_sheet(review: model.Review, lang: str, as_of, warnings: list[str]) -> SheetSpec | None:
    """The live Gantt sheet of ``reviewkit.planning`` when the Plan table has tasks with dates."""
    plan = review.tables.get("Plan")
    if plan is None or plan.empty or "Plan" not in review.layouts:
        return None
    if not {"start", "end"} <= set(plan.columns) or plan[["start", "end"]].dropna().empty:
        return None
    try:
        from ..planning import gantt
        from ..planning.sheet import timeline_sheet
    except ImportError:  # pragma: no cover - planning is part of reviewkit
        return None
    try:
        grid = gantt(plan, review.tables.get("Progress"), review.tables.get("Campaigns"),
                     as_of=as_of or dt.date.today(), freq=_timeline_freq(plan))
        spec, _ = timeline_sheet(grid, review.layouts, lang=lang)
    except InputError as exc:
        warnings.append(f"no timeline: {exc}")
        return None
    # one page wide, whatever the plan's length: weeks for a short plan, months for a long one
    return dataclasses.replace(spec, page_setup=PageSetup(landscape=True, fit_width=1, fit_height=0))


#: a plan longer than this many weeks is drawn by month (a week grid would not fit a page)
TIMELINE_MAX_WEEKS = 20


def _timeline_freq(plan: pd.DataFrame) -> str:
    start = pd.to_datetime(plan["start"], errors="coerce").min()
    end = pd.to_datetime(plan["end"], errors="coerce").max()
    if pd.isna(start) or pd.isna(end):
        return "W"
    return "W" if (end - start).days / 7 <= TIMELINE_MAX_WEEKS else "M"
