"""Plan and execution: plan checks, progress tracking, results review, next-year split, timeline.

Pure pandas functions over the model's plan tables (canonical column keys, dates as
Timestamps); ``reviewkit.planning.sheet`` turns the timeline into live Excel content.
"""
from .checks import check_actions, check_plan
from .progress import track_progress
from .quarters import decimals_of, seasonality, split_quarters
from .results import budget_roi, results_review
from .sheet import TimelineLayout, review_timeline, timeline_sheet, write_timeline
from .timeline import GanttGrid, conflicts, gantt, holiday_dates, networkdays

__all__ = ["GanttGrid", "TimelineLayout", "review_timeline", "timeline_sheet", "write_timeline", "budget_roi", "check_actions", "check_plan", "conflicts", "decimals_of", "gantt",
           "holiday_dates", "networkdays", "results_review", "seasonality", "split_quarters",
           "track_progress"]
